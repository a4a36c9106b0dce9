"""Agreement between coders who coded the same cases: the evidence that the codes mean something.

Frames in, frames out: each coder's codes as a frame indexed by case; reading
and validating the files is the caller's (casemeta.steps.reliability_files).

Four coefficients, each with its standard error and 95% interval, as Gwet's
R package irrCAC 1.0 computes them (Gwet 2014, Handbook of Inter-Rater
Reliability, 4th ed.; Gwet 2008, British Journal of Mathematical and
Statistical Psychology 61:29): percent agreement, Cohen's kappa (Conger's
kappa, which equals Cohen's for two coders and, like irrCAC, uses every code
of a case one coder left blank for that coder's marginal), Gwet's AC1 (which
stays meaningful when one code dominates, where kappa and alpha collapse: the
"kappa paradox") and Krippendorff's alpha (nominal). Written here because no
maintained Python library gives these standard errors (the PyPI port of
irrCAC pins scipy to 1.12.0); the formulas are irrCAC's linearised variances
with Student t intervals on n - 1 df, the upper limit capped at 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from casemeta.errors import CasemetaError
from casemeta.stats.caveats import Caveat, attach, merge

COEFFICIENTS = ["percent_agreement", "cohen_kappa", "gwet_ac1", "krippendorff_alpha"]
RELIABILITY_COLUMNS = ["variable", "n", *(f"{c}{s}" for c in COEFFICIENTS for s in ("", "_se", "_ci_low", "_ci_high")), "note", "caveats"]
LEVEL = 0.95


@dataclass
class Counts:
    """Codes of one variable as counts: cases (rows) by categories (columns), and by coder."""
    codes: pd.DataFrame  # cases x coders; NaN = not coded
    agree: np.ndarray  # n x q: how many coders gave case i category k
    delta: np.ndarray  # n x r x q: coder g gave case i category k

    @classmethod
    def of(cls, codes: pd.DataFrame) -> "Counts":
        categories = sorted(pd.unique(codes.stack().dropna()), key=str)
        delta = np.stack([codes.eq(c).fillna(False).to_numpy(dtype=bool) for c in categories], axis=2).astype(float)
        return cls(codes, delta.sum(axis=1), delta)

    @property
    def per_case(self) -> np.ndarray:
        return self.agree.sum(axis=1)

    @property
    def q(self) -> int:
        return self.agree.shape[1]


def _interval(value: float, variance_terms: np.ndarray, centre: float, n: int, df: int) -> tuple[float, float, float, float]:
    """(value, se, low, high) from irrCAC's linearised variance: sum of squared deviations / (n (n - 1))."""
    se = float(np.sqrt(np.sum((variance_terms - centre) ** 2) / (n * (n - 1)))) if n >= 2 else np.nan
    t = stats.t.ppf(1 - (1 - LEVEL) / 2, df) if df >= 1 else np.nan
    return value, se, value - se * t, min(1.0, value + se * t)


def _agreement_terms(c: Counts) -> tuple[float, np.ndarray, np.ndarray, int]:
    """Percent agreement pa, each case's agreement (0 for a case with one code) and who has two codes."""
    r_i = c.per_case
    pairs = (c.agree * (c.agree - 1)).sum(axis=1)
    two = r_i >= 2
    pa_i = np.where(two, pairs / np.where(two, r_i * (r_i - 1), 1), 0.0)
    return float(pa_i[two].mean()), pa_i, two, int(two.sum())


def percent_agreement(c: Counts):
    pa, pa_i, _, n2 = _agreement_terms(c)
    n = len(pa_i)
    return _interval(pa, (n / n2) * pa_i, pa, n, n - 1)


def _chance_corrected(c: Counts, pe: float, pe_i: np.ndarray):
    """irrCAC's shared step for kappa and AC1: coefficient and its linearised per-case terms."""
    pa, pa_i, two, n2 = _agreement_terms(c)
    n = len(pa_i)
    value = (pa - pe) / (1 - pe)
    terms = (n / n2) * (pa_i - pe * two) / (1 - pe) - 2 * (1 - value) * (pe_i - pe) / (1 - pe)
    return _interval(value, terms, value, n, n - 1)


def gwet_ac1(c: Counts):
    r_i = c.per_case
    pi = (c.agree / r_i[:, None]).mean(axis=0)
    pe = float(np.sum(pi * (1 - pi)) / (c.q - 1))
    pe_i = (c.agree @ (1 - pi)) / r_i / (c.q - 1)
    return _chance_corrected(c, pe, pe_i)


def conger_kappa(c: Counts):
    n, r, _ = c.delta.shape
    classified = c.delta.sum(axis=0)  # r x q
    per_coder = classified.sum(axis=1)  # codes each coder gave
    p = classified / per_coder[:, None]  # r x q
    p_mean = p.mean(axis=0)
    s2 = (np.sum(p * p, axis=0) - r * p_mean**2) / (r - 1)
    pe = float(np.sum(p_mean**2 - s2 / r))
    coded = c.delta.sum(axis=2)  # n x r: coder g coded case i
    # lambda_ig: Conger's linearisation of pe, unweighted (irrCAC's conger.kappa.raw)
    centred = c.delta - (coded - per_coder / n)[:, :, None] * p[None, :, :]
    lam = np.sum(centred * (n / per_coder)[None, :, None] * (r * p_mean[None, None, :] - p[None, :, :]), axis=2)
    pe_i = lam.sum(axis=1) / (r * (r - 1))
    return _chance_corrected(c, pe, pe_i)


def krippendorff_alpha(c: Counts):
    keep = c.per_case >= 2
    agree, r_i = c.agree[keep], c.per_case[keep]
    n, r_mean = len(r_i), r_i.mean()
    eps = 1 / r_i.sum()
    pairs = (agree * (agree - 1)).sum(axis=1)
    pa_prime = float(np.mean(pairs / (r_mean * (r_i - 1))))
    pa = (1 - eps) * pa_prime + eps
    pi = agree.mean(axis=0) / r_mean
    pe = float(np.sum(pi**2))
    alpha, alpha_prime = (pa - pe) / (1 - pe), (pa_prime - pe) / (1 - pe)
    pa_i = pairs / (r_mean * (r_i - 1)) - pa_prime * (r_i - r_mean) / r_mean
    pe_i = (agree @ pi) / r_mean - pe * (r_i - r_mean) / r_mean
    terms = (pa_i - pe) / (1 - pe) - 2 * (1 - alpha_prime) * (pe_i - pe) / (1 - pe)
    _, se, _, _ = _interval(alpha_prime, terms, alpha_prime, n, n - 1)
    # irrCAC 1.0 centres the interval on alpha, with n - 1 df (n: cases with two codes or more)
    t = stats.t.ppf(1 - (1 - LEVEL) / 2, n - 1) if n >= 2 else np.nan
    return alpha, se, alpha - se * t, min(1.0, alpha + se * t)


def agreement(codes: pd.DataFrame) -> tuple[dict, Caveat | None]:
    """Agreement of the coders (columns) over cases (rows) for one variable; NaN = not coded.

    Cases nobody coded are left out; n counts the cases with at least two codes. Percent
    agreement is in percent (its SE and limits too). Kappa is for exactly two coders.
    Returns the row's values and a caveat saying what was not computed and why.
    """
    codes = codes[codes.notna().any(axis=1)]
    out = {"n": int((codes.notna().sum(axis=1) >= 2).sum())}
    out.update({f"{c}{s}": np.nan for c in COEFFICIENTS for s in ("", "_se", "_ci_low", "_ci_high")})
    if out["n"] == 0:
        return out, Caveat.of("no_two_codes")
    c = Counts.of(codes)
    _put(out, "percent_agreement", [100 * v for v in percent_agreement(c)])
    if c.q < 2:
        return out, Caveat.of("one_code_value")
    _put(out, "gwet_ac1", gwet_ac1(c))
    _put(out, "krippendorff_alpha", krippendorff_alpha(c))
    if codes.shape[1] == 2:
        _put(out, "cohen_kappa", conger_kappa(c))
        return out, None
    return out, Caveat.of("kappa_two_coders")


def _put(out: dict, name: str, values) -> None:
    for suffix, value in zip(("", "_se", "_ci_low", "_ci_high"), values):
        out[f"{name}{suffix}"] = float(value)


def reliability(frames: dict[str, pd.DataFrame], variables: list[str], id_column: str) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Per-variable agreement, the disagreements to reconcile and the cases only one coder coded.

    `frames`: each coder's codes, indexed by case; `id_column` names the cases' column of the disagreements. Only cases at least two coders coded are scored;
    a blank beside another coder's code is a disagreement.
    """
    if len(frames) < 2:
        raise CasemetaError("reliability needs at least two coders' files")
    coders = list(frames)
    seen = pd.Series([case for f in frames.values() for case in f.index]).value_counts()
    cases = sorted(seen.index[seen >= 2], key=str)
    single = sorted(seen.index[seen < 2], key=str)
    single_caveat = Caveat.of("one_coder_only", cases=[str(c) for c in single]) if single else None
    rows, disagreements = [], []
    for var in variables:
        codes = pd.DataFrame({coder: f[var].reindex(cases) for coder, f in frames.items()}, index=cases)
        values, caveat = agreement(codes)
        rows.append({"variable": var, **values, "caveats": merge(single_caveat, caveat)})
        for case, row in codes.iterrows():
            present = [v for coder, v in row.items() if case in frames[coder].index]
            if len({"" if pd.isna(v) else str(v) for v in present}) > 1:
                disagreements.append({id_column: case, "variable": var, **{c: ("" if pd.isna(v) else v) for c, v in row.items()}})
    caveats = [r.pop("caveats") for r in rows]
    table = attach(pd.DataFrame(rows), caveats).reindex(columns=RELIABILITY_COLUMNS)
    return table, pd.DataFrame(disagreements, columns=[id_column, "variable", *coders]), single
