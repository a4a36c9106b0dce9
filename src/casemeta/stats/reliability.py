"""Agreement between coders who coded the same cases: the evidence that the codes mean something."""

from __future__ import annotations

import logging
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

from casemeta.coded.case_table import read_csv_strict
from casemeta.errors import CasemetaError

log = logging.getLogger("casemeta")
RELIABILITY_COLUMNS = ["variable", "n", "percent_agreement", "cohen_kappa", "krippendorff_alpha"]


def read_coder_file(path: str | Path, id_column: str) -> pd.DataFrame:
    frame = read_csv_strict(path, [id_column])
    if id_column not in frame.columns:
        raise CasemetaError(f"{path}: no {id_column!r} column; expected the coded-case columns with {id_column}")
    dup = frame[id_column][frame[id_column].duplicated()].tolist()
    if dup:
        raise CasemetaError(f"{path}: case(s) coded twice in one coder's file: {', '.join(dup)}")
    return frame.replace({"": np.nan}).set_index(id_column)


def agreement(values: pd.DataFrame) -> dict:
    """Agreement of the coders (columns) over cases (rows) for one variable; NaN = not coded.

    n and percent agreement count the cases with at least two codes; percent
    agreement is the share of those where every code is the same. Cohen's kappa
    is for exactly two coders (cases both coded); Krippendorff's alpha
    (nominal) takes any number of coders and missing codes.
    """
    paired = values[values.notna().sum(axis=1) >= 2]
    n = len(paired)
    out = {"n": n, "percent_agreement": np.nan, "cohen_kappa": np.nan, "krippendorff_alpha": np.nan}
    if n == 0:
        return out
    out["percent_agreement"] = 100.0 * float((paired.nunique(axis=1) == 1).mean())
    if values.shape[1] == 2:
        both = values.dropna()
        if len(both) and both.stack().nunique() > 1:
            out["cohen_kappa"] = float(cohen_kappa_score(both.iloc[:, 0], both.iloc[:, 1]))
    categories = {v: i for i, v in enumerate(sorted(pd.unique(values.stack().dropna())))}
    if len(categories) > 1:  # alpha is undefined when every code is the same value
        data = values.T.apply(lambda col: col.map(categories)).to_numpy(dtype=float)
        out["krippendorff_alpha"] = float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
    return out


def reliability(paths: list[str | Path], id_column: str = "case_id") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-variable agreement and the list of disagreements (case, variable, each coder's value)."""
    if len(paths) < 2:
        raise CasemetaError("reliability needs at least two coders' files")
    coders = [Path(p).stem for p in paths]
    if len(set(coders)) != len(coders):
        coders = [str(p) for p in paths]
    frames = [read_coder_file(p, id_column) for p in paths]
    variables = [c for c in frames[0].columns if all(c in f.columns for f in frames[1:])]
    cases = sorted(set().union(*(f.index for f in frames)))
    rows, disagreements = [], []
    for var in variables:
        values = pd.DataFrame({coder: f[var].reindex(cases) for coder, f in zip(coders, frames)})
        rows.append({"variable": var, **agreement(values)})
        for case, row in values.iterrows():
            if row.dropna().nunique() > 1:
                disagreements.append({"case_id": case, "variable": var, **{c: ("" if pd.isna(v) else v) for c, v in row.items()}})
    table = pd.DataFrame(rows, columns=RELIABILITY_COLUMNS)
    return table, pd.DataFrame(disagreements, columns=["case_id", "variable", *coders])
