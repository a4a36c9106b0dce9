"""Where each added case came from: data/coded/<study>/provenance.csv, beside cases.csv.

One row per case added by `casemeta add-case`: the source and pages it was
coded from, its coders, the day it was coded, whether it is the consensus of
several coders, and when and from which file it was added. The file is written
under the lock of cases.csv, before cases.csv itself: a command killed between
the two leaves at most a row for a case that is not in cases.csv, which the
listing ignores and the next add of that case replaces. The workflow never
reads it: it is a record for people, not an input of the analysis.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from casemeta.coded.case_table import csv_text, read_rows, read_text
from casemeta.coded.coding_forms import CONSENSUS_FIELD

FILE_NAME = "provenance.csv"
COLUMNS = ["case_id", "source", "pages", "coders", "coded_on", "consensus", "added_on", "added_from"]
FROM_FORM = {"_source": "source", "_pages": "pages", "_coder": "coders", "_coded_on": "coded_on", CONSENSUS_FIELD: "consensus"}


def provenance_path(cases_path: str | Path) -> Path:
    """The sidecar of a study's cases.csv (beside the path as given, a symlinked cases.csv included)."""
    return Path(cases_path).with_name(FILE_NAME)


def new_rows(case_ids: pd.Series, provenance: pd.DataFrame | None, source_file: str | Path,
             today: dt.date | None = None) -> pd.DataFrame:
    """The provenance of the cases being added: what their file says (a coding form's or a reconciled file's
    `_` columns), blank where it says nothing (a YAML template or a plain CSV)."""
    rows = pd.DataFrame({"case_id": case_ids.str.strip().to_numpy()})
    for column in COLUMNS[1:]:
        rows[column] = ""
    if provenance is not None:
        for name, column in FROM_FORM.items():
            if name in provenance.columns:
                rows[column] = provenance[name].fillna("").astype(str).str.strip().to_numpy()
    rows["consensus"] = ["yes" if v.lower() in ("yes", "1", "true") else "no" for v in rows["consensus"]]
    rows["coders"] = ["; ".join(p.strip() for p in v.split(";") if p.strip()) for v in rows["coders"]]
    rows["added_on"] = (today or dt.date.today()).isoformat()
    rows["added_from"] = Path(source_file).name
    return rows[COLUMNS]


def read_provenance(path: str | Path) -> pd.DataFrame:
    """The provenance records (empty, with the columns, where there is no file yet)."""
    path = Path(path)
    if not path.is_file():
        return pd.DataFrame(columns=COLUMNS, dtype=str)
    frame = read_rows(read_text(path), path, COLUMNS)[0]
    return frame.reindex(columns=COLUMNS).fillna("")


def updated_text(path: Path, rows: pd.DataFrame) -> str:
    """The provenance file with `rows` added, replacing any older record of the same cases (a record left by
    an add that was killed before cases.csv was written)."""
    old = read_provenance(path)
    keep = old[~old["case_id"].isin(set(rows["case_id"]))]
    return csv_text(pd.concat([keep, rows], ignore_index=True), COLUMNS, path)
