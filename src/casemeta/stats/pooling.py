"""Pooled odds ratios of 2×2 tables across strata (studies): frames in, frames out.

One row per method (METHODS), columns COLUMNS (+ EXTRA), following metafor's
defaults so that its output can be reproduced (tests/data/reference/meta_bcg*):
- Mantel–Haenszel estimate with the Robins–Breslow–Greenland variance, the
  Cochran–Mantel–Haenszel test (continuity-corrected, as R and metafor) and
  Tarone's homogeneity test: statsmodels' StratifiedTable, on the tables as
  they are (no continuity correction);
- inverse-variance fixed effect and DerSimonian–Laird random effects:
  statsmodels' combine_effects, on log odds ratios with 1/2 added to every cell
  of a table that has a zero cell (metafor's escalc default, add = 1/2, to = "only0");
- what those two lack, written here or beside: Peto's odds ratio, REML tau²
  (random_effects.py), exact conditional inference (conditional_odds.py), and
  the Q, I² and H² metafor prints with each method.

A stratum with a zero row or column total says nothing about the odds ratio (its
every term in every method is 0 or undefined): it is left out, and each row says so.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from casemeta.stats import random_effects as re
from casemeta.stats.conditional_odds import exact_conditional
from casemeta.stats.caveats import Caveat, attach, merge, row_fields
from casemeta.stats.strata_tables import COUNTS, not_counts, too_large

METHODS = ("mantel_haenszel", "peto", "fixed", "random_dl", "random_reml", "exact_conditional", "cmh_test", "tarone_test")
METHOD_LABELS = {"mantel_haenszel": "Mantel–Haenszel", "peto": "Peto", "fixed": "Fixed effect (inverse variance)",
                 "random_dl": "Random effects (DerSimonian–Laird)", "random_reml": "Random effects (REML)",
                 "exact_conditional": "Exact conditional", "cmh_test": "Cochran–Mantel–Haenszel test",
                 "tarone_test": "Tarone's homogeneity test"}
COLUMNS = ("method", "log_or", "std_error", "ci_low", "ci_high", "odds_ratio", "or_ci_low", "or_ci_high",
           "statistic", "df", "p_value", "tau2", "i2", "q", "q_p_value", "note")
EXTRA = ("h2", "tau2_se", "k", "caveats")  # in the synthesis results, not in `casemeta pool`'s fixed columns
INVERSE_VARIANCE = ("fixed", "random_dl", "random_reml")


def _margin_reason(a: int, b: int, c: int, d: int) -> str:
    if a + b + c + d == 0:
        return "no cases"
    for total, what in ((a + b, "no case with the condition"), (c + d, "every case has the condition"),
                        (a + c, "no case with the outcome"), (b + d, "every case has the outcome")):
        if total == 0:
            return what
    return ""


def informative(tables: pd.DataFrame) -> tuple[pd.DataFrame, Caveat | None]:
    """The strata with every margin above 0, and a caveat naming those left out and why."""
    reasons = [_margin_reason(*map(int, row)) for row in tables[list(COUNTS)].itertuples(index=False)]
    keep = [not r for r in reasons]
    left = [(str(s), r) for s, r in zip(tables["stratum"], reasons) if r]
    caveat = Caveat.of("strata_left_out", strata=[s for s, _ in left], reasons=[r for _, r in left]) if left else None
    return tables[keep].reset_index(drop=True), caveat


def log_odds_ratios(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each table's log odds ratio and sampling variance, 1/2 added to every cell of a table with a zero."""
    zero = (counts == 0).any(axis=1)
    x = counts + 0.5 * zero[:, None]
    a, b, c, d = x.T
    return np.log(a * d / (b * c)), (1 / x).sum(axis=1), zero


def _estimate(method: str, log_or: float, se: float, level: float, **more) -> dict:
    z = stats.norm.ppf(0.5 + level / 2)
    row = {"method": method, "log_or": log_or, "std_error": se, **more}
    if np.isfinite(se) and se > 0:
        row.update(ci_low=log_or - z * se, ci_high=log_or + z * se, statistic=log_or / se,
                   p_value=2 * stats.norm.sf(abs(log_or / se)))
        row.update(or_ci_low=np.exp(row["ci_low"]), or_ci_high=np.exp(row["ci_high"]))
    row["odds_ratio"] = np.exp(log_or)
    return row


def _heterogeneity(q: float, k: int) -> dict:
    """Q with k − 1 df, and I² = (Q − df)/Q, H² = Q/df as metafor prints them for fixed-effect models."""
    df = k - 1
    return {"q": q, "q_p_value": stats.chi2.sf(q, df), "i2": max(0.0, (q - df) / q) if q > 0 else 0.0, "h2": q / df}


def _q(y: np.ndarray, v: np.ndarray, theta: float) -> float:
    return float(((y - theta) ** 2 / v).sum())


def mantel_haenszel(counts: np.ndarray, y, v, level: float) -> list[dict]:
    from statsmodels.stats.contingency_tables import StratifiedTable

    a, b, c, d = counts.T.astype(float)
    n = a + b + c + d
    rows = []
    diag, offd = (a * d / n).sum(), (b * c / n).sum()
    if diag == 0 or offd == 0:
        log_or = -np.inf if diag == 0 else np.inf
        rows.append({"method": "mantel_haenszel", "log_or": log_or, "odds_ratio": np.exp(log_or),
                     "caveats": (Caveat.of("or_all_strata", which="0", product="a·d") if diag == 0
                                 else Caveat.of("or_all_strata", which="infinite", product="b·c"),)})
        table = None
    else:
        table = StratifiedTable(np.stack([[a, b], [c, d]]))
        log_or = float(table.logodds_pooled)
        rows.append(_estimate("mantel_haenszel", log_or, float(table.logodds_pooled_se), level,
                              **(_heterogeneity(_q(y, v, log_or), len(y)) if len(y) > 1 else {})))
    rows.append(cmh_test(a, b, c, d))
    rows.append(tarone_test(table, len(y)))
    return rows


def cmh_test(a, b, c, d) -> dict:
    """Cochran–Mantel–Haenszel test with R's continuity correction.

    statsmodels' test_null_odds(correction=True) subtracts 1/2 from |Σ(a − E a)| always;
    R's mantelhaen.test (and metafor) only when it is at least 1/2, so that the
    statistic never grows by the correction. That rule is applied here.
    """
    from statsmodels.stats.contingency_tables import StratifiedTable

    n = a + b + c + d
    delta = abs((a - (a + b) * (a + c) / n).sum())
    result = StratifiedTable(np.stack([[a, b], [c, d]])).test_null_odds(correction=bool(delta >= 0.5))
    return {"method": "cmh_test", "statistic": float(result.statistic), "df": 1, "p_value": float(result.pvalue)}


def tarone_test(table, k: int) -> dict:
    row = {"method": "tarone_test"}
    if k < 2:
        return {**row, "caveats": (Caveat.of("homogeneity_too_few", blank="pooled"),)}
    if table is None:
        return {**row, "caveats": (Caveat.of("mh_degenerate", blank="pooled"),)}
    result = table.test_equal_odds(adjust=True)  # Breslow–Day with Tarone's correction, as metafor
    return {**row, "statistic": float(result.statistic), "df": k - 1, "p_value": float(result.pvalue)}


def peto(counts: np.ndarray, level: float) -> dict:
    """Peto's one-step odds ratio: Σ(O − E)/ΣV, SE 1/√ΣV (statsmodels has no Peto method)."""
    a, b, c, d = counts.T.astype(float)
    n = a + b + c + d
    o_e = a - (a + b) * (a + c) / n
    var = (a + b) * (c + d) * (a + c) * (b + d) / (n**2 * (n - 1))
    log_or = o_e.sum() / var.sum()
    more = _heterogeneity(float((o_e**2 / var).sum() - o_e.sum() ** 2 / var.sum()), len(n)) if len(n) > 1 else {}
    return _estimate("peto", log_or, 1 / np.sqrt(var.sum()), level, **more)


def inverse_variance(y: np.ndarray, v: np.ndarray, level: float) -> list[dict]:
    from statsmodels.stats.meta_analysis import combine_effects

    if len(y) < 2:
        one = (Caveat.of("too_few_strata", blank="pooled", reason="between-strata variance needs at least 2 informative strata"),)
        return [_estimate("fixed", float(y[0]), float(np.sqrt(v[0])), level),
                {"method": "random_dl", "caveats": one}, {"method": "random_reml", "caveats": one}]
    with warnings.catch_warnings():  # its random-effects part warns when Q < k - 1; only Q and tau² are used
        warnings.simplefilter("ignore", RuntimeWarning)
        fit = combine_effects(y, v, method_re="dl")
    het = {"q": float(fit.q), "q_p_value": stats.chi2.sf(fit.q, len(y) - 1)}
    fixed = _estimate("fixed", float(fit.mean_effect_fe), float(fit.sd_eff_w_fe), level, **_heterogeneity(fit.q, len(y)))
    # combine_effects' DL tau² is (Q − df)/c, not truncated at 0 (statsmodels 0.15): with Q < df its
    # weights and mean are wrong. DerSimonian and Laird (and metafor) take max(0, ·), so the mean is redone here.
    tau2 = max(0.0, float(fit.tau2))
    i2, h2 = re.heterogeneity(v, tau2)
    dl = _estimate("random_dl", *re.random_effects_mean(y, v, tau2), level, tau2=tau2,
                   tau2_se=re.dl_tau2_se(v, tau2), i2=i2, h2=h2, **het)
    tau2 = re.reml_tau2(y, v)
    i2, h2 = re.heterogeneity(v, tau2)
    reml = _estimate("random_reml", *re.random_effects_mean(y, v, tau2), level, tau2=tau2,
                     tau2_se=re.reml_tau2_se(v, tau2), i2=i2, h2=h2, **het)
    return [fixed, dl, reml]


def exact_row(counts: np.ndarray, level: float) -> dict:
    found = exact_conditional(counts, level)
    lo, hi = found.pop("support")
    caveats = (Caveat.of("exact_normal_limit"),) if found.pop("normal_limit") else ()
    if found["statistic"] in (lo, hi):
        caveats += (Caveat.of("exact_at_end", which="0" if found["statistic"] == lo else "infinite",
                             s=int(found["statistic"]), low=int(lo), high=int(hi)),)
    with np.errstate(divide="ignore"):
        logs = {k: float(np.log(found[o])) for k, o in (("log_or", "odds_ratio"), ("ci_low", "or_ci_low"), ("ci_high", "or_ci_high"))}
    return {"method": "exact_conditional", **found, **logs, "caveats": caveats}


def estimate_caveats(zero: np.ndarray, strata) -> dict[str, tuple]:
    """What the estimates of these informative tables say of how they were computed, by method: the tables with
    a zero cell (1/2 added for the inverse-variance methods, none for Mantel–Haenszel and Peto), and no Q, I², H²
    from a single stratum. Shared by pool() and the leave-one-out refits (casemeta.stats.sensitivity)."""
    caveats: dict[str, tuple] = {}
    if zero.any():
        added = Caveat.of("continuity", strata=[str(s) for s, z in zip(strata, zero) if z])
        kept = Caveat.of("no_continuity")
        caveats = {**{m: (added,) for m in INVERSE_VARIANCE},
                   "mantel_haenszel": (kept, added.with_(code="continuity_q")), "peto": (kept,)}
    if len(zero) < 2:
        for m in ("mantel_haenszel", "peto", "fixed"):
            caveats[m] = merge(caveats.get(m), Caveat.of("one_stratum_heterogeneity"))
    return caveats


def check_counts(tables: pd.DataFrame) -> pd.DataFrame:
    """The counts as non-negative whole numbers; a ValueError names the first bad one, a CasemetaError the first
    too large to hold exactly."""
    out = tables.copy()
    for column in COUNTS:
        values = pd.to_numeric(out[column], errors="coerce")
        bad = not_counts(values)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"stratum {out['stratum'].iloc[i]!r}, column {column}: {tables[column].iloc[i]} "
                             "is not a count (a whole number 0 or more)")
        out[column] = values
    too_large(out, out["stratum"], "")  # before int64: 1e20 would wrap around
    return out.astype({column: np.int64 for column in COUNTS})


def pool(tables: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Every method's pooled odds ratio or test over the strata of `tables` (columns stratum, a, b, c, d)."""
    tables = check_counts(tables)
    kept, left_out = informative(tables)
    if kept.empty:
        why = Caveat.of("too_few_strata", blank="pooled",
                        reason="no stratum has cases both with and without the condition and with and without the outcome")
        rows = [{"method": m} for m in METHODS]
        return _frame(rows, {m: merge(why, left_out) for m in METHODS}, 0)
    counts = kept[list(COUNTS)].to_numpy(dtype=np.int64)
    y, v, zero = log_odds_ratios(counts)
    rows = {r["method"]: r for r in [*mantel_haenszel(counts, y, v, level), peto(counts, level),
                                     *inverse_variance(y, v, level),
                                     # every stratum: one left out has one possible table, but its `a` is part of S, as in R
                                     exact_row(tables[list(COUNTS)].to_numpy(dtype=np.int64), level)]}
    caveats = estimate_caveats(zero, kept["stratum"])
    caveats = {m: merge(rows[m].get("caveats"), caveats.get(m), left_out) for m in METHODS}
    return _frame([rows[m] for m in METHODS], caveats, len(kept))


def _frame(rows: list[dict], caveats: dict[str, tuple], k: int) -> pd.DataFrame:
    frame = pd.DataFrame([{k_: v for k_, v in r.items() if k_ != "caveats"} for r in rows])
    frame = attach(frame, [caveats[r["method"]] for r in rows]).reindex(columns=[*COLUMNS, *EXTRA])
    frame["k"] = k
    return frame


def study_odds_ratio(a: int, b: int, c: int, d: int, level: float = 0.95) -> dict:
    """One study's odds ratio: the sample OR with Woolf's interval, or where a cell is zero the
    conditional maximum-likelihood estimate with the exact (Fisher) interval, as R's fisher.test."""
    reason = _margin_reason(a, b, c, d)
    if reason:
        return {"odds_ratio": np.nan, "or_ci_low": np.nan, "or_ci_high": np.nan, "interval": "",
                **row_fields([Caveat.of("margin", blank="odds_ratio", reason=reason)])}
    if min(a, b, c, d) == 0:
        found = exact_conditional(np.array([[a, b, c, d]]), level)
        limit = (Caveat.of("exact_normal_limit"),) if found["normal_limit"] else ()
        return {"odds_ratio": found["odds_ratio"], "or_ci_low": found["or_ci_low"], "or_ci_high": found["or_ci_high"],
                "interval": "exact conditional", **row_fields([Caveat.of("study_zero_cell"), *limit])}
    y, v, _ = log_odds_ratios(np.array([[a, b, c, d]]))
    row = _estimate("", float(y[0]), float(np.sqrt(v[0])), level)
    return {"odds_ratio": row["odds_ratio"], "or_ci_low": row["or_ci_low"], "or_ci_high": row["or_ci_high"],
            "interval": "Woolf (log-normal)", **row_fields([])}
