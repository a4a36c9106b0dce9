"""Sensitivity of pooled odds ratios to each stratum (study): frames in, frames out.

Two frames, as R metafor computes them (tests/data/reference/meta_bcg_leave1out_metafor.csv and
meta_bcg_influence_metafor.csv), with metafor's column names:

- `leave1out`: every pooled method refitted without each informative stratum in turn
  (metafor's `leave1out`): the pooled log odds ratio (`estimate`), `se`, `zval`, `pval`, `ci.lb`,
  `ci.ub`, `Q`, `Qp`, `tau2` (random effects only), `I2` (in percent, as metafor) and `H2`, for
  Mantel–Haenszel, Peto, fixed and random effects (DerSimonian–Laird, REML). Each refit is the one
  pooling.py makes of the remaining strata (the same continuity correction, the same Q).
- `influence`: the case diagnostics of the inverse-variance models (metafor's influence.rma.uni;
  Viechtbauer and Cheung 2010, Research Synthesis Methods 1:112-125). With ŷ, v_ŷ the pooled
  estimate and its variance, w_i = 1/(v_i + τ²) the weights of the full fit and (−i) the refit
  without stratum i (τ² re-estimated by the same method):
    hat_i      = w_i / Σw,  weight_i = 100 hat_i
    rstudent_i = (y_i − ŷ₍₋ᵢ₎) / sqrt(v_i + τ²₍₋ᵢ₎ + v_ŷ₍₋ᵢ₎)
    dffits_i   = (ŷ − ŷ₍₋ᵢ₎) / sqrt(hat_i (τ²₍₋ᵢ₎ + v_i))
    cook.d_i   = (ŷ − ŷ₍₋ᵢ₎)² / v_ŷ,   cov.r_i = v_ŷ₍₋ᵢ₎ / v_ŷ,   DFBETAS_i = (ŷ − ŷ₍₋ᵢ₎) / sqrt(v_ŷ₍₋ᵢ₎)
    tau2.del, QE.del: τ² and Q of the refit
  and `inf` = "*" where |dffits| > 3 sqrt(p/(k − p)), or P(χ²_p ≤ cook.d) > 0.5, or hat > 3p/k,
  or |DFBETAS| > 1 (p = 1 coefficient, k informative strata).
  Mantel–Haenszel and Peto have no such diagnostics (metafor's influence is for rma.uni models
  only): the influence frame holds the fixed and random-effects models alone.

Strata that say nothing about the odds ratio (a zero margin) are never left out in turn; every row
names them in its caveats, as pool() does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from casemeta.stats.caveats import Caveat, attach, merge
from casemeta.stats.pooling import check_counts, estimate_caveats, informative, inverse_variance, log_odds_ratios, mantel_haenszel, peto
from casemeta.stats.strata_tables import COUNTS

LEAVE1OUT_METHODS = ("mantel_haenszel", "peto", "fixed", "random_dl", "random_reml")
INFLUENCE_METHODS = ("fixed", "random_dl", "random_reml")
RANDOM = ("random_dl", "random_reml")
# metafor's names for the same statistics, and where pooling.py's rows hold them
LEAVE1OUT_STATISTICS = {"estimate": "log_or", "se": "std_error", "zval": "statistic", "pval": "p_value",
                        "ci.lb": "ci_low", "ci.ub": "ci_high", "Q": "q", "Qp": "q_p_value", "tau2": "tau2",
                        "I2": "i2", "H2": "h2"}
LEAVE1OUT_COLUMNS = ("method", "left_out", *LEAVE1OUT_STATISTICS, "note")
INFLUENCE_STATISTICS = ("rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del", "hat", "weight", "inf")
INFLUENCE_COLUMNS = ("method", "stratum", *INFLUENCE_STATISTICS, "note")
INFLUENTIAL = "*"
METHOD_NAMES = {"mantel_haenszel": "Mantel–Haenszel", "peto": "Peto", "fixed": "fixed effect",
                "random_dl": "random effects DL", "random_reml": "random effects REML"}  # short, for a sentence


def fits(counts: np.ndarray, strata, level: float) -> dict[str, dict]:
    """Each method's pooled row (as pool() makes it, without the exact and the test rows) of these informative tables."""
    y, v, zero = log_odds_ratios(counts)
    rows = {r["method"]: r for r in [*mantel_haenszel(counts, y, v, level), peto(counts, level),
                                     *inverse_variance(y, v, level)] if r["method"] in LEAVE1OUT_METHODS}
    more = estimate_caveats(zero, strata)  # as pool() says them
    for m, row in rows.items():
        row["caveats"] = merge(row.get("caveats"), more.get(m))
    return rows


def _leave_each_out(tables: pd.DataFrame, level: float):
    """The informative strata, the caveat naming the others, and each method's refit without each informative stratum."""
    tables = check_counts(tables)
    kept, left_out = informative(tables)
    counts = kept[list(COUNTS)].to_numpy(dtype=np.int64)
    strata = [str(s) for s in kept["stratum"]]
    refits = [fits(np.delete(counts, i, axis=0), strata[:i] + strata[i + 1:], level) for i in range(len(kept))] \
        if len(kept) >= 2 else []
    return kept, counts, strata, left_out, refits


def _too_few(methods, left_out: Caveat | None, k: int, what: str, key: str) -> pd.DataFrame:
    why = Caveat.of("too_few_strata", blank="pooled",
                    reason=f"{what} needs at least 2 informative strata ({k} here)")
    return attach(pd.DataFrame({"method": list(methods), key: ""}), [merge(why, left_out)] * len(methods))


def leave1out(tables: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """One row per method and informative stratum left out: the pooled result of the others (LEAVE1OUT_COLUMNS, + caveats)."""
    kept, _, strata, left_out, refits = _leave_each_out(tables, level)
    if not refits:
        frame = _too_few(LEAVE1OUT_METHODS, left_out, len(kept), "leaving one stratum out", "left_out")
        return frame.reindex(columns=[*LEAVE1OUT_COLUMNS, "caveats"])
    rows, caveats = [], []
    for method in LEAVE1OUT_METHODS:
        for stratum, refit in zip(strata, refits):
            row = refit[method]
            out = {"method": method, "left_out": stratum,
                   **{name: row.get(ours, np.nan) for name, ours in LEAVE1OUT_STATISTICS.items()}}
            out["I2"] = 100 * out["I2"]  # metafor's I² is in percent
            if method not in RANDOM:
                out["tau2"] = np.nan  # metafor: no τ² in a fixed-effect, Mantel–Haenszel or Peto model
            rows.append(out)
            caveats.append(merge(row.get("caveats"), left_out))
    return attach(pd.DataFrame(rows), caveats).reindex(columns=[*LEAVE1OUT_COLUMNS, "caveats"])


def _diagnostics(y: np.ndarray, v: np.ndarray, full: dict, refits: list[dict]) -> list[dict]:
    """metafor's influence.rma.uni of one inverse-variance model (see the module's docstring)."""
    k = len(y)
    tau2 = 0.0 if pd.isna(full.get("tau2", np.nan)) else float(full["tau2"])
    w = 1 / (v + tau2)
    hat = w / w.sum()
    mu, vb = float(full["log_or"]), float(full["std_error"]) ** 2
    out = []
    for i, refit in enumerate(refits):
        mu_del, vb_del = float(refit["log_or"]), float(refit["std_error"]) ** 2
        tau2_del = float(refit.get("tau2", 0.0)) if full["method"] in RANDOM else 0.0
        change = mu - mu_del
        row = {"rstudent": (y[i] - mu_del) / np.sqrt(v[i] + tau2_del + vb_del),
               "dffits": change / np.sqrt(hat[i] * (tau2_del + v[i])),
               "cook.d": change**2 / vb, "cov.r": vb_del / vb, "tau2.del": tau2_del,
               "QE.del": refit["q"] if k > 2 else 0.0,  # one estimate left: Q about itself is 0 (pool() leaves it blank)
               "hat": hat[i], "weight": 100 * hat[i]}
        dfbetas = change / np.sqrt(vb_del)
        flagged = (abs(row["dffits"]) > 3 * np.sqrt(1 / (k - 1)) or stats.chi2.cdf(row["cook.d"], 1) > 0.5
                   or row["hat"] > 3 / k or abs(dfbetas) > 1)
        out.append({**row, "inf": INFLUENTIAL if flagged else ""})
    return out


def influence(tables: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """One row per inverse-variance method and informative stratum: its influence diagnostics (INFLUENCE_COLUMNS, + caveats)."""
    kept, counts, strata, left_out, refits = _leave_each_out(tables, level)
    if not refits:
        frame = _too_few(INFLUENCE_METHODS, left_out, len(kept), "influence", "stratum")
        return frame.reindex(columns=[*INFLUENCE_COLUMNS, "caveats"])
    full = fits(counts, strata, level)
    y, v, _ = log_odds_ratios(counts)
    rows, caveats = [], []
    for method in INFLUENCE_METHODS:
        each = [r[method] for r in refits]
        unusable = [r for r in [full[method], *each] if pd.isna(r.get("log_or", np.nan))]
        if unusable:  # a random-effects model of 1 stratum: no τ², no refit to compare with
            found = [{}] * len(strata)
            why = merge(*(r.get("caveats") for r in unusable))
        else:
            found, why = _diagnostics(y, v, full[method], each), ()
        for stratum, row in zip(strata, found):
            rows.append({"method": method, "stratum": stratum, **row})
            caveats.append(merge(why, full[method].get("caveats"), left_out))
    return attach(pd.DataFrame(rows), caveats).reindex(columns=[*INFLUENCE_COLUMNS, "caveats"])


def influential(frame: pd.DataFrame) -> dict[str, list[str]]:
    """Each stratum an influence frame flags, with the methods that flag it (in the frame's order)."""
    flagged = frame[frame["inf"] == INFLUENTIAL]
    return {str(s): list(part["method"]) for s, part in flagged.groupby("stratum", sort=False)}
