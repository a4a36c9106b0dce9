"""The `note` of a result row: empty where every statistic of the row was computed; otherwise
short clauses joined by "; ", each saying which statistic is missing and why, or which fallback
computed it. The clauses, in the order they appear in a row:

- "<k> of <n> case(s) left out: <variables> missing" — complete cases only, for this row
- "not estimable: <reason>" — a model with no estimates (one row, no term)
- "LOO AUC and Brier score not computed: <reason>" — a leave-one-out check with no scores
- "p-value, odds ratio and Cramér's V not computed: <reason>" — a cross-tab that cannot be tested
- "odds ratio infinite: a zero cell", "odds ratio 0: a zero cell",
  "odds ratio defined for 2×2 tables only (this one is r×c)"
- "p-value by Monte Carlo (<draws> draws, seed <seed>): too many tables to enumerate"
- "separation found (...): Firth's penalized likelihood used instead of ML", "WARNING: ..." (ML
  forced on separated data) — about the whole model, on each of its terms
- "Firth estimate by casemeta's own fit (firthmodels' fit did not converge)" — a fallback, on the term
  concerned (PLR p-values and profile limits are always casemeta's own: casemeta.stats.firth_profile)
- "FLIC intercept: re-estimated by ML ..." — how a FLIC fit's intercept and its interval were computed
- "joint [penalized] likelihood-ratio test of <k> coefficient(s) = 0: chi-square <x> on <k> df" — the
  row of a joint test (its term is JOINT_TEST followed by the term set), or "... test not computed: <reason>"
- "no separation, so ML was used: correction <c> (for Firth fits) not applied" — `auto` with FLIC/FLAC
- "<statistic> not computed: <reason>" — what no method could compute
- "in <k> fold(s) the other cases all had one outcome: those folds predict that outcome with probability 1"
- "warning <Category>: <message>" — a library warning nothing above explains (should not occur)

Pooled odds ratios (results/synthesis/*.csv, `casemeta pool`; casemeta.stats.pooling):
- "<k> stratum(s) left out, no information on the odds ratio (<stratum>: <why>; ...)"
- "not computed: <reason>" — e.g. no informative stratum, fewer than 2 for heterogeneity or tau²,
  a Mantel–Haenszel odds ratio of 0 or infinity for Tarone's test
- "odds ratio infinite: b·c = 0 in every stratum", "odds ratio 0: a·d = 0 in every stratum",
  "estimate 0|infinite: S = <s> is at the end of its range <lo>..<hi>" (exact conditional)
- "1/2 added to every cell of <k> table(s) with a zero cell (<strata>)", "no continuity correction (zero cells kept)"
- "Q, I² and H² not computed: 1 informative stratum"
- per study: "a zero cell: conditional maximum-likelihood odds ratio with its exact interval",
  "odds ratio not computed: <why>", "no cases yet", "not in this pair: the codebook codes no <concept>"
- per pair: "not pooled: fewer than 2 studies hold cases for this pair (cases in: ...; no cases yet in: ...;
  not coding both concepts: ...)"
"""

from __future__ import annotations

import pandas as pd

JOINT_TEST = "joint test: "  # the `term` of a joint test's row: this, then the term set ("joint test: a + b")


def join_notes(*notes: str) -> str:
    """Notes of one row, in order, without empty ones."""
    return "; ".join(n for n in notes if n)


def reason(exc: Exception, source: str) -> str:
    """An error's first line without the leading source name (the row already says which study)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[len(source) + 2:] if text.startswith(f"{source}: ") else text


def complete_cases(frame: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, str]:
    """The cases with every one of `columns`, and a note saying how many were left out and why."""
    missing = frame[columns].isna()
    left_out = missing.any(axis=1)
    if not left_out.any():
        return frame, ""
    names = ", ".join(c for c in columns if missing[c].any())
    return frame[~left_out], f"{int(left_out.sum())} of {len(frame)} case(s) left out: {names} missing"
