"""Coders' files in, agreement tables out: the file side of casemeta.stats.reliability.

Within a study each coder's file is validated against the codebook exactly as
`casemeta validate` validates the coded cases (same messages), and only coded
variables (binary, category, integer) are scored; outside a study the files are
read as text and every column they share except the identifier is scored.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from casemeta.coded.case_table import load_cases, read_csv_strict
from casemeta.coded.codebook import Codebook
from casemeta.errors import CasemetaError
from casemeta.plan import CONDITION_TYPES
from casemeta.stats.reliability import reliability

log = logging.getLogger("casemeta")


def read_coder_file(path: str | Path, id_column: str, codebook: Codebook | None = None) -> pd.DataFrame:
    """One coder's codes indexed by case: validated against the codebook if given, else as text."""
    if codebook is not None:
        return load_cases(path, codebook).set_index(codebook.id_column)
    frame = read_csv_strict(path, [id_column])
    if id_column not in frame.columns:
        raise CasemetaError(f"{path}: no {id_column!r} column; expected the coded-case columns with {id_column} (or give --id COLUMN)")
    dup = frame[id_column][frame[id_column].duplicated()].tolist()
    if dup:
        raise CasemetaError(f"{path}: case(s) coded twice in one coder's file: {', '.join(dup)}")
    return frame.replace({"": np.nan}).set_index(id_column)


def coder_names(paths: list[Path]) -> list[str]:
    """Each coder's name for the disagreements' columns: the file's stem, its path where two stems are the
    same, numbered where a file is given twice."""
    for names in ([Path(p).stem for p in paths], [str(p) for p in paths]):
        if len(set(names)) == len(names):
            return names
    return [f"{p} ({i})" for i, p in enumerate(paths, 1)]


def coder_reliability(paths: list[str | Path], id_column: str | None, codebook: Codebook | None):
    """(agreement per variable, disagreements, cases one coder only coded) of the coders' files.

    The cases' column is the codebook's identifier where there is a codebook (`id_column` None or the same),
    else `id_column`, which is then required.
    """
    if len(paths) < 2:
        raise CasemetaError("reliability needs at least two coders' files")
    if codebook is not None and id_column not in (None, codebook.id_column):
        raise CasemetaError(f"--id {id_column}: the study's identifier is {codebook.id_column!r}; leave --id out")
    if codebook is None and not id_column:
        raise CasemetaError("outside a study, name the column identifying a case (--id COLUMN)")
    id_column = codebook.id_column if codebook is not None else id_column
    frames = {name: read_coder_file(p, id_column, codebook) for name, p in zip(coder_names(paths), paths)}
    if codebook is not None:
        variables = [v.name for v in codebook.variables if v.type in CONDITION_TYPES]
    else:
        first, *rest = frames.values()
        variables = [c for c in first.columns if all(c in f.columns for f in rest)]
    table, disagreements, single = reliability(frames, variables, id_column)
    if single:
        log.warning("%d case(s) coded by one coder only, not scored: %s", len(single), ", ".join(map(str, single)))
    return table, disagreements, single
