"""Adding coded cases: a blank template from the codebook, and a safe append to data/coded/.

An add either lands whole or not at all: every row is validated together with
the cases already there, the file is replaced atomically, and a lock keeps two
coders adding at the same moment from overwriting each other.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from casemeta import atomic_io
from casemeta.coded.case_table import Origin, csv_text, read_cases, read_rows, read_text, validate_cases
from casemeta.coded.codebook import Codebook
from casemeta.coded.coding_forms import CONSENSUS_FIELD, PROVENANCE_NAMES, is_workbook, provenance_problems, read_cases_sheet
from casemeta.coded.provenance import new_rows as provenance_rows, provenance_path, updated_text as updated_provenance
from casemeta.errors import CasemetaError


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


def _yaml_problem(exc: yaml.YAMLError, path: Path, text: str) -> str:
    """One line for a YAML syntax error, at the line and column the parser stopped."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = text[: exc.position].count("\n") + 1
        return f"{path}: line {line}: character U+{exc.character:04X} is not allowed in a YAML file; retype that value"
    mark = getattr(exc, "problem_mark", None)
    where = f"{path}: line {mark.line + 1}, column {mark.column + 1}" if mark else f"{path}"
    context = f" ({exc.context})" if getattr(exc, "context", None) else ""
    return (f"{where}: not a readable case template: {getattr(exc, 'problem', None) or exc}{context}; "
            "expected one `field: value` per line, as `casemeta new-case` writes")


def _kind(node: yaml.Node) -> str:
    return {yaml.SequenceNode: "a list", yaml.MappingNode: "nested fields"}.get(type(node), "a value")


def read_template(path: Path) -> tuple[dict[str, str], dict[str, int]]:
    """A filled template's fields exactly as typed, and the line of each.

    YAML 1.1 typing would store `country: NO` as false, `0777` as 511 and
    `1.10` as 1.1: the document is composed into nodes (no constructor runs,
    so no tag can build an object) and every value is kept as the text of its
    scalar. A field given twice is refused instead of keeping the last one.
    """
    text = read_text(path)
    try:
        loader = yaml.BaseLoader(text)  # checks every character at once
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise CasemetaError(_yaml_problem(exc, path, text)) from None
    if not isinstance(node, yaml.MappingNode):
        raise CasemetaError(f"{path}: expected a filled case template (field: value lines); see `casemeta new-case`")
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    problems = []
    for key, value in node.value:
        line = key.start_mark.line + 1
        name = key.value if isinstance(key, yaml.ScalarNode) else None
        if name is None:
            problems.append(f"{path}: line {line}: a field name must be a single word, found {_kind(key)}")
        elif name in lines:
            problems.append(f"{path}: line {line}, field {name!r}: given twice (first on line {lines[name]}); keep one")
        elif not isinstance(value, yaml.ScalarNode):
            problems.append(f"{path}: line {line}, field {name!r}: expected a single value, found {_kind(value)}")
        else:
            values[name] = value.value
            lines[name] = line
    if problems:
        raise CasemetaError(f"{path}: {len(problems)} problem(s) in the case template", problems)
    return values, lines


def read_new_cases(path: str | Path, codebook: Codebook) -> tuple[pd.DataFrame, list[Origin]]:
    """A filled template (.yaml/.yml), a coding form (.xlsx) or a CSV of coded cases, every cell as text, and
    where each row is."""
    frame, origins, _, _ = read_new_cases_with_provenance(path, codebook)
    return frame, origins


def read_new_cases_with_provenance(path: str | Path, codebook: Codebook):
    """(cases as text, where each row is, their provenance columns or None, problems with those).

    A coding form's empty template rows are left out; its provenance (source, coder: required) is checked
    cell by cell. A CSV may carry the provenance columns a reconciled file has (`_source`, ..., `_consensus`)."""
    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        values, lines = read_template(path)
        return pd.DataFrame([values], columns=list(values), dtype=str), [Origin(path, field_lines=lines)], None, []
    if is_workbook(path):
        sheet = read_cases_sheet(path, codebook)
        problems = provenance_problems(sheet.provenance, sheet.origins, sheet.frame[codebook.id_column])
        return sheet.frame, sheet.origins, sheet.provenance, problems
    frame, origins = read_cases(path, codebook)
    extra = [c for c in frame.columns if c in (*PROVENANCE_NAMES, CONSENSUS_FIELD)]
    if not extra:
        return frame, origins, None, []
    provenance = frame[extra].reset_index(drop=True)
    ids = frame[codebook.id_column] if codebook.id_column in frame.columns else pd.Series([""] * len(frame))
    problems = provenance_problems(provenance, origins, ids.reset_index(drop=True), required=False)
    return frame.drop(columns=extra), origins, provenance, problems


def _clashes(new: pd.DataFrame, origins: list[Origin], existing: pd.DataFrame, id_col: str, target: Path) -> list[str]:
    """New rows whose case_id (spaces aside, as validation compares them) is already coded."""
    coded = set(existing[id_col].str.strip())
    return [f"{origin.where(id_col, case.strip())}: case {case.strip()!r} is already coded in {target}; "
            f"choose a new {id_col}, or edit the existing row"
            for case, origin in zip(new[id_col], origins) if case.strip() in coded]


def _known_clashes(new: pd.DataFrame, origins: list[Origin], codebook: Codebook, target: Path) -> list[str]:
    """The new rows already coded in the study's file as it is now, read without the lock: only to report them
    beside other problems (the add itself checks again under the lock); none if the file cannot be read."""
    if codebook.id_column not in new.columns or not Path(target).is_file():
        return []
    try:
        existing = read_rows(read_text(target), target, codebook.coded_columns)[0]
    except CasemetaError:
        return []
    if codebook.id_column not in existing.columns:
        return []
    return _clashes(new, origins, existing, codebook.id_column, target)


def add_cases(codebook: Codebook, cases_path: Path, new_file: str | Path) -> int:
    """Validate the new rows with the existing ones and append them to `cases_path` (the study's coded cases)
    atomically under the lock; return how many."""
    new, new_origins, provenance, prov_problems = read_new_cases_with_provenance(new_file, codebook)
    if new.empty:
        raise CasemetaError(f"{new_file}: no cases to add" + (" (every row of the form is empty)" if is_workbook(new_file) else ""))
    try:
        validate_cases(new, codebook, new_file, new_origins)  # problems reported against the coder's own file first
        if prov_problems:
            raise CasemetaError(f"{new_file}: {len(prov_problems)} problem(s)", [])
    except CasemetaError as exc:  # with any already-coded id, so that the coder can mend everything at once
        clashes = _known_clashes(new, new_origins, codebook, cases_path)
        if not clashes and not prov_problems:
            raise
        problems = [*exc.problems, *prov_problems, *clashes]
        raise CasemetaError(f"{new_file}: {len(problems)} problem(s), against the codebook {codebook.path} and the "
                            f"cases already in {cases_path}; nothing was added", problems) from None
    record = provenance_rows(new[codebook.id_column], provenance, new_file)
    record_path = provenance_path(cases_path)

    def append(target: Path) -> str:
        existing_text = read_text(target)
        existing, origins = read_rows(existing_text, target, codebook.coded_columns)
        clash = _clashes(new, new_origins, existing, codebook.id_column, target)
        if clash:
            raise CasemetaError(f"{new_file}: {len(clash)} case(s) already in {target}; nothing was added", clash)
        both = pd.concat([existing, new[codebook.coded_columns]], ignore_index=True)
        validate_cases(both, codebook, target, origins + new_origins)
        if existing_text and not existing_text.endswith("\n"):
            existing_text += "\n"
        # in the file's own column order, should a coder have reordered its columns
        return existing_text + csv_text(new, list(existing.columns), target, header=False)

    with atomic_io.locked(cases_path, companions=(record_path.name,)) as target:
        text = append(target)  # every check passed: provenance first, so that no added case is without it
        atomic_io.write_text(record_path, updated_provenance(record_path, record))
        atomic_io.write_text(target, text)
    return len(new)
