"""Apply the codebook's coding rules to the verbatim transcription in data/raw/<study>/."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from casemeta.coded.case_table import physical_line, read_csv_strict
from casemeta.coded.codebook import Codebook
from casemeta.errors import CasemetaError


def split_terms(cell: str, separator: str, none_terms: list[str]) -> list[str]:
    """The terms printed in a cell; a cell reading e.g. 'None' holds no term."""
    cell = cell.strip()
    if cell.lower() in {t.lower() for t in none_terms}:
        return []
    return [t.strip() for t in cell.split(separator) if t.strip()]


def _slug(*parts: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", " ".join(parts).lower()).strip("_")


def raw_table_path(codebook: Codebook, raw_dir: Path) -> Path:
    if not codebook.raw:
        raise CasemetaError(f"{codebook.path}: the codebook has no `raw` section; this study is not coded from a transcription")
    return raw_dir / codebook.raw["file"]


def read_raw_table(codebook: Codebook, raw_dir: Path) -> pd.DataFrame:
    sources = {src for v in codebook.variables if v.rule for src in _sources(v.rule)}
    return read_csv_strict(raw_table_path(codebook, raw_dir), sorted(sources), codebook.raw.get("delimiter", ","))


def _sources(rule: dict) -> list[str]:
    src = rule["from"]
    return list(src) if isinstance(src, list) else [src]


def term_variables(codebook: Codebook) -> dict[str, list]:
    """For each raw column coded term by term, the variables that claim its terms."""
    out: dict[str, list] = {}
    for v in codebook.variables:
        if v.rule and v.rule["kind"] == "has_term":
            out.setdefault(v.rule["from"], []).append(v)
    return out


def code_raw(codebook: Codebook, raw_dir: str | Path, raw: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per raw row, coded columns as text ('0'/'1' for indicators).

    `raw` is the transcription if the caller has read it already.
    """
    path = raw_table_path(codebook, Path(raw_dir))
    raw = read_raw_table(codebook, Path(raw_dir)) if raw is None else raw
    sep = codebook.raw.get("term_separator", ",")
    none_terms = codebook.raw.get("none_terms", [])
    problems = []
    missing = sorted({s for v in codebook.variables if v.rule for s in _sources(v.rule)} - set(raw.columns))
    if missing:
        raise CasemetaError(f"{path}: columns named by the codebook rules are missing: {', '.join(missing)}")
    filled = {c: raw[c].replace("", pd.NA).ffill().fillna("") for c in raw.columns}
    fill_cols = {v.rule["from"] for v in codebook.variables if v.rule and v.rule["kind"] == "fill_down"}
    resolved = {c: (filled[c] if c in fill_cols else raw[c]) for c in raw.columns}
    coded = pd.DataFrame(index=raw.index)
    for var in codebook.variables:
        rule = var.rule
        if rule is None:
            coded[var.name] = ""
        elif rule["kind"] == "copy":
            coded[var.name] = raw[rule["from"]].str.strip()
        elif rule["kind"] == "fill_down":
            coded[var.name] = filled[rule["from"]].str.strip()
        elif rule["kind"] == "slug":
            coded[var.name] = [_slug(*vals) for vals in zip(*(resolved[c] for c in _sources(rule)))]
    for column, variables in term_variables(codebook).items():
        claimed = {v.rule["term"].lower(): v.name for v in variables}
        for name in claimed.values():
            coded[name] = "0"
        for index, cell in raw[column].items():
            for term in split_terms(cell, sep, none_terms):
                if term.lower() in claimed:
                    coded.at[index, claimed[term.lower()]] = "1"
                else:
                    problems.append(
                        f"{path}: line {physical_line(raw, index)}, column {column!r}: term {term!r} is not coded by any "
                        f"variable; expected terms: {', '.join(v.rule['term'] for v in variables)}"
                        f" or {', '.join(none_terms)}"
                    )
    if problems:
        raise CasemetaError(f"{path}: the codebook rules do not cover every printed term", problems)
    return coded[codebook.coded_columns]


def coding_differences(committed: pd.DataFrame, from_rules: pd.DataFrame, codebook: Codebook) -> list[str]:
    """Where the committed coded file departs from what the rules give from data/raw.

    Cases that are not in the transcription (added later by coders) are not compared.
    """
    id_col = codebook.id_column
    mine = committed.astype("string").fillna("").set_index(id_col)
    ruled = from_rules.astype("string").fillna("").set_index(id_col)
    problems = []
    for case_id, row in ruled.iterrows():
        if case_id not in mine.index:
            problems.append(f"case {case_id!r}: in data/raw but missing from the coded file")
            continue
        for column in ruled.columns:
            if mine.at[case_id, column] != row[column]:
                problems.append(
                    f"case {case_id!r}, column {column!r}: coded file has {mine.at[case_id, column]!r}, "
                    f"the codebook rules give {row[column]!r}"
                )
    return problems


PUBLISHED_COLUMNS = ["table", "row", "column", "published"]


def load_published(path: str | Path) -> pd.DataFrame:
    """The published numbers a study's plan compares with (data/raw/<study>/, one row per cell): whole numbers only."""
    frame = read_csv_strict(path, PUBLISHED_COLUMNS)
    missing = [c for c in PUBLISHED_COLUMNS if c not in frame.columns]
    if missing:
        raise CasemetaError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(PUBLISHED_COLUMNS)}")
    bad = frame[~frame["published"].str.fullmatch(r"-?\d+")]
    if len(bad):
        raise CasemetaError(
            f"{path}: published numbers must be whole numbers",
            [f"line {physical_line(frame, i)} ({r.table}, {r.row}, {r.column}): {r.published!r}" for i, r in bad.iterrows()],
        )
    frame["published"] = frame["published"].astype(int)
    return frame
