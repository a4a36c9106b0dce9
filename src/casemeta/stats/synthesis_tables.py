"""The synthesis across studies as frames: each study's 2×2 table per pair of concepts, and the pooled odds ratios.

Frames in, frames out: the studies' derived cases (already read) and which variable codes each concept in
each study; casemeta.steps.synthesis reads and writes the files.
"""

from __future__ import annotations

import pandas as pd

from casemeta.stats.caveats import Caveat, attach, left_out_caveat, merge
from casemeta.stats.pooling import COLUMNS, EXTRA, METHODS, pool, study_odds_ratio
from casemeta.stats.sensitivity import INFLUENCE_COLUMNS, LEAVE1OUT_COLUMNS, influence, leave1out
from casemeta.stats.strata_tables import COUNTS, tables_from_cases

PAIR = ["condition", "outcome"]
STUDY_COLUMNS = [*PAIR, "study", "condition_variable", "outcome_variable", "n", *COUNTS,
                 "odds_ratio", "or_ci_low", "or_ci_high", "interval", "note", "caveats"]
POOLED_COLUMNS = [*PAIR, "studies", *COLUMNS, *EXTRA]
LEAVE1OUT_RESULT_COLUMNS = [*PAIR, *LEAVE1OUT_COLUMNS, "caveats"]
INFLUENCE_RESULT_COLUMNS = [*PAIR, *INFLUENCE_COLUMNS, "caveats"]


def _study_row(coded: dict[str, str], cases: pd.DataFrame, condition: str, outcome: str, name: str, level: float,
               source: str) -> dict:
    row = {"condition": condition, "outcome": outcome, "study": name}
    missing = [c for c in (condition, outcome) if c not in coded]
    if missing:
        return {**row, "caveats": (Caveat.of("concept_not_coded", concepts=missing),)}
    x, y = coded[condition], coded[outcome]
    table = tables_from_cases(cases.assign(_study=name), "_study", x, y, source)
    counts = {c: int(table[c].sum()) for c in COUNTS}
    left_out = left_out_caveat(cases, [x, y])
    row.update(condition_variable=x, outcome_variable=y, n=sum(counts.values()), **counts)
    if not len(cases):
        return {**row, "caveats": (Caveat.of("no_cases_yet"),)}
    found = study_odds_ratio(*counts.values(), level=level)
    return {**row, **found, "caveats": merge(left_out, found["caveats"])}


def study_tables(pairs, coded: dict[str, dict[str, str]], frames: dict[str, pd.DataFrame], level: float,
                 sources: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per pair and study: the study's 2×2 table and odds ratio, or why it has none. `coded`: for each
    study, the variable coding each concept it codes; `frames`: each study's derived cases; `sources`: what an
    error calls each study's cases (its file)."""
    sources = sources or {}
    rows = [_study_row(coded[name], frames[name], c, o, name, level, sources.get(name, name))
            for c, o in pairs for name in frames]
    caveats = [r.pop("caveats", ()) for r in rows]
    return attach(pd.DataFrame(rows), caveats).reindex(columns=STUDY_COLUMNS).astype({c: "Int64" for c in ("n", *COUNTS)})


def not_pooled_reason(part: pd.DataFrame) -> Caveat:
    """Why a pair is not pooled: which studies hold cases, which have none yet, which lack a concept."""
    coding, cases = part["condition_variable"].notna(), part["n"].fillna(0) > 0
    groups = {"cases in": part.loc[coding & cases, "study"],
              "no cases yet in": part.loc[coding & ~cases, "study"],
              "not coding both concepts": part.loc[~coding, "study"]}
    said = "; ".join(f"{what}: {', '.join(names)}" for what, names in groups.items() if len(names))
    return Caveat.of("not_pooled", held=said or "no study")


def pooled_results(studies: pd.DataFrame, level: float) -> pd.DataFrame:
    """One row per pair and method; a pair with fewer than 2 studies holding cases says so in every row."""
    frames = []
    for (condition, outcome), part in studies.groupby(PAIR, sort=False):
        held = part[part["condition_variable"].notna() & (part["n"].fillna(0) > 0)]
        if len(held) >= 2:
            found = pool(held.assign(stratum=held["study"])[["stratum", *COUNTS]], level)
        else:
            found = attach(pd.DataFrame({"method": METHODS, "k": len(held)}), [(not_pooled_reason(part),)] * len(METHODS))
        frames.append(found.assign(condition=condition, outcome=outcome, studies=", ".join(held["study"])))
    return pd.concat(frames, ignore_index=True).reindex(columns=POOLED_COLUMNS).astype({"df": "Int64", "k": "Int64"})


def _pooled_pairs(studies: pd.DataFrame):
    """Each pair pooled (at least 2 studies hold cases) with its studies' tables, as pool() takes them."""
    for (condition, outcome), part in studies.groupby(PAIR, sort=False):
        held = part[part["condition_variable"].notna() & (part["n"].fillna(0) > 0)]
        if len(held) >= 2:
            yield condition, outcome, held.assign(stratum=held["study"])[["stratum", *COUNTS]]


def sensitivity_results(studies: pd.DataFrame, level: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Leave-one-out and influence (casemeta.stats.sensitivity) of every pooled pair, the pair in its first
    columns; a pair not pooled has no rows (pooled_results says why)."""
    loo, inf = [], []
    for condition, outcome, tables in _pooled_pairs(studies):
        loo.append(leave1out(tables, level).assign(condition=condition, outcome=outcome))
        inf.append(influence(tables, level).assign(condition=condition, outcome=outcome))
    return (pd.concat(loo, ignore_index=True).reindex(columns=LEAVE1OUT_RESULT_COLUMNS) if loo
            else pd.DataFrame(columns=LEAVE1OUT_RESULT_COLUMNS),
            pd.concat(inf, ignore_index=True).reindex(columns=INFLUENCE_RESULT_COLUMNS) if inf
            else pd.DataFrame(columns=INFLUENCE_RESULT_COLUMNS))
