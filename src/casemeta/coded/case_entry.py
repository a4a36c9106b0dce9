"""Adding coded cases: a blank template from the codebook, and a safe append to data/coded/.

An add either lands whole or not at all: every row is validated together with
the cases already there, the file is replaced atomically, and a lock keeps two
coders adding at the same moment from overwriting each other.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import yaml
from filelock import FileLock, Timeout

from casemeta import atomic_io
from casemeta.coded.case_table import parse_csv, read_csv_strict, read_text, validate_cases
from casemeta.coded.codebook import Codebook
from casemeta.errors import CasemetaError
from casemeta.study import Study

LOCK_TIMEOUT_SECONDS = 60


def case_template(codebook: Codebook) -> str:
    """A YAML form with one blank field per coded variable, each explained by its codebook entry."""
    lines = [
        f"# New case for the study `{codebook.study}`: {codebook.title}.",
        "# Fill in every field, then: casemeta add-case --study "
        f"{codebook.study} THIS_FILE",
        "# Generated from the codebook; every field's allowed values are in the comment above it.",
        "",
    ]
    for var in codebook.variables:
        lines.append(f"# {var.label}: {var.description}".rstrip(": ").replace("\n", " "))
        if var.values:
            lines += [f"#   {c.value} = {c.label}" for c in var.values]
        lines.append(f"# Expected: {var.expected()}.")
        lines.append(f"{var.name}: \"\"")
        lines.append("")
    return "\n".join(lines)


def _yaml_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):  # YAML reads yes/no/true/false as booleans; keep what was typed
        return "true" if value else "false"
    return str(value)


def read_new_cases(path: str | Path, codebook: Codebook) -> pd.DataFrame:
    """A filled template (.yaml/.yml) or a CSV of coded cases, every cell as text."""
    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(read_text(path))
        except yaml.YAMLError as exc:
            raise CasemetaError(f"{path}: not a readable case template: {exc}") from exc
        if not isinstance(data, dict):
            raise CasemetaError(f"{path}: expected a filled case template (field: value lines); see `casemeta new-case`")
        return pd.DataFrame([{k: _yaml_value(v) for k, v in data.items()}], dtype=str)
    return read_csv_strict(path, codebook.coded_columns)


def _csv_rows(frame: pd.DataFrame, columns: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(frame[columns].fillna("").astype(str).itertuples(index=False))
    return buffer.getvalue()


def add_cases(study: Study, new_file: str | Path) -> int:
    """Validate the new rows with the existing ones and append them atomically; return how many."""
    codebook = study.codebook()
    new = read_new_cases(new_file, codebook)
    if new.empty:
        raise CasemetaError(f"{new_file}: no cases to add")
    validate_cases(new, codebook, new_file)  # problems reported against the coder's own file first
    lock = FileLock(str(study.coded_dir / f".{study.cases_path.name}.lock"), timeout=LOCK_TIMEOUT_SECONDS)
    try:
        with lock:
            existing_text = read_text(study.cases_path)
            existing = parse_csv(existing_text, study.cases_path, codebook.coded_columns)
            id_col = codebook.id_column
            clash = sorted(set(new[id_col]) & set(existing[id_col]))
            if clash:
                raise CasemetaError(
                    f"{new_file}: {len(clash)} case_id(s) already in {study.cases_path}; nothing was added",
                    [f"case {c!r}: already coded; choose a new {id_col}, or edit the existing row" for c in clash],
                )
            validate_cases(pd.concat([existing, new[codebook.coded_columns]], ignore_index=True), codebook, study.cases_path)
            if existing_text and not existing_text.endswith("\n"):
                existing_text += "\n"
            atomic_io.write_text(study.cases_path, existing_text + _csv_rows(new, codebook.coded_columns))
    except Timeout:
        raise CasemetaError(f"{study.cases_path}: another add has held the lock for {LOCK_TIMEOUT_SECONDS} s; try again") from None
    return len(new)
