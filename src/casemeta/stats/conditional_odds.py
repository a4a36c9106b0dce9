"""Exact conditional inference on the common odds ratio of 2×2×K tables, as R's
`mantelhaen.test(exact = TRUE)` computes it (and, for one table, `fisher.test`).

No maintained Python library has it: statsmodels' StratifiedTable gives the
asymptotic Mantel–Haenszel estimate and test only, and SciPy's conditional odds
ratio (`scipy.stats.contingency.odds_ratio(kind="conditional")`) takes one 2×2
table. So it is written here, following R's definition (src/library/stats/R/
mantelhaen.test.R): given every table's margins, S = the sum of the `a` cells
has the distribution P(S = s) ∝ d(s) ψ^s on lo..hi, d the convolution of the
strata's central hypergeometric densities and ψ the common odds ratio.
- two-sided p-value: the total probability under ψ = 1 of every s no more
  probable than the observed one (relative fuzz 1e-7, as R);
- estimate: the conditional maximum-likelihood ψ, solving E_ψ(S) = s (0 at lo,
  infinite at hi);
- interval: ψ where P_ψ(S ≥ s) = α/2 (lower; 0 at lo) and P_ψ(S ≤ s) = α/2
  (upper; infinite at hi).
R solves these with uniroot at its default tolerance; here they are solved in
log ψ to near machine precision, so R's printed values agree to its tolerance.

Bounded work: each stratum's density comes from the ratios of successive terms
(linear in its length) and is kept only where float64 holds any of it; past
MAX_DENSITY points or MAX_WORK multiply-adds of convolution, the normal limit
(NormalLimit) is used and the caller is told (`normal_limit`), so that 10^6 or
5·10^9 cases per cell take a second, not 75 GiB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

LOG_PSI_RANGE = (-700.0, 700.0)  # exp() stays finite; beyond it the root is 0 or ∞ for any count data
# The exact distribution is a convolution of the strata's densities: work (products of their lengths) and
# memory grow with the counts. Each stratum's density is kept only where it is above TAIL of its largest
# value (below, float64 holds no digit of it), and past these sizes the normal limit is used instead
# (a caveat says so): 10^6 cases per cell give densities 40,000 long, and np.convolve of three such 5·10^9
# products, minutes; 5·10^9 per cell would need 75 GiB for one density.
TAIL = 1e-300
MAX_DENSITY = 10_000_000  # points of one stratum's density evaluated
MAX_WORK = 200_000_000  # multiply-adds of the convolutions (about a second)


def hypergeometric_shape(n: int, successes: int, draws: int, low: int, high: int) -> np.ndarray:
    """The hypergeometric density on low..high divided by its largest value, from the ratios of successive
    terms, P(x+1)/P(x) = (K − x)(m − x) / ((x + 1)(n − K − m + x + 1)), summed as logs from the low end
    (each point to within a few ulps times its distance from there); linear in the length, where
    SciPy's hypergeom.pmf took 10 s for 10,000 points."""
    x = np.arange(low, high, dtype=float)  # ratio from x to x + 1
    with np.errstate(divide="ignore"):
        log_ratio = (np.log(successes - x) + np.log(draws - x)) - (np.log(x + 1) + np.log(n - successes - draws + x + 1))
    log_p = np.concatenate([[0.0], np.cumsum(log_ratio)])
    return np.exp(log_p - log_p.max())


class TooLarge(Exception):
    """The exact distribution is past MAX_DENSITY or MAX_WORK: use the normal limit."""


@dataclass(frozen=True)
class ConditionalDistribution:
    """The null (ψ = 1) distribution of S on its support lo..hi."""
    support: np.ndarray
    density: np.ndarray
    observed: int

    low_end: int | None = None  # the support's ends where the density is kept on part of it only
    high_end: int | None = None

    @classmethod
    def of(cls, tables: np.ndarray) -> "ConditionalDistribution":
        """`tables`: K×4 counts a, b, c, d (a = condition 1 & outcome 1). TooLarge past MAX_DENSITY or MAX_WORK."""
        density = np.ones(1)
        lo = lo_end = hi_end = work = 0
        for a, b, c, d in np.asarray(tables, dtype=np.int64):
            row1, col1, n = a + b, a + c, a + b + c + d
            if n == 0:  # no cases: S gains 0 for sure (SciPy's hypergeom of 0 draws from 0 is undefined)
                continue
            low, high = max(0, row1 - (b + d)), min(col1, row1)
            lo_end, hi_end = lo_end + low, hi_end + high
            if high - low + 1 > MAX_DENSITY:
                raise TooLarge
            # a ~ hypergeometric: `row1` draws from `n` tables' cases of which `col1` have outcome 1
            pmf = hypergeometric_shape(int(n), int(col1), int(row1), int(low), int(high))
            kept = np.flatnonzero(pmf >= TAIL)  # one run: the density is unimodal
            pmf = pmf[kept[0]:kept[-1] + 1]
            work += len(density) * len(pmf)
            if work > MAX_WORK:
                raise TooLarge
            density = np.convolve(density, pmf)
            lo += low + int(kept[0])
        return cls(np.arange(lo, lo + len(density)), density / density.sum(), int(np.asarray(tables)[:, 0].sum()),
                   lo_end, hi_end)

    @property
    def lo(self) -> int:
        return int(self.support[0]) if self.low_end is None else self.low_end

    @property
    def hi(self) -> int:
        return int(self.support[-1]) if self.high_end is None else self.high_end

    def at(self, log_psi: float) -> np.ndarray:
        """The density under common odds ratio exp(log_psi)."""
        with np.errstate(divide="ignore"):  # a density that underflowed to 0 stays 0
            log_d = np.log(self.density) + log_psi * (self.support - self.support[0])
        d = np.exp(log_d - log_d.max())
        return d / d.sum()

    def p_value(self) -> float:
        d = self.density
        i = self.observed - int(self.support[0])
        if not 0 <= i < len(d):  # where the density is below TAIL of its largest value
            return float(min(1.0, d[d <= d.max() * TAIL].sum()))
        return float(min(1.0, d[d <= d[i] * (1 + 1e-7)].sum()))

    def _solve(self, f) -> float:
        """log ψ where the increasing function f crosses 0; ±inf where it never does in range."""
        low, high = LOG_PSI_RANGE
        if f(low) >= 0:
            return -np.inf
        if f(high) <= 0:
            return np.inf
        return optimize.brentq(f, low, high, xtol=1e-12, rtol=1e-14)

    def estimate(self) -> float:
        s = self.observed
        if s == self.lo:
            return 0.0
        if s == self.hi:
            return np.inf
        return float(np.exp(self._solve(lambda t: (self.support * self.at(t)).sum() - s)))

    def interval(self, level: float) -> tuple[float, float]:
        alpha, s = (1 - level) / 2, self.observed
        upper_tail = self.support >= s
        lower_tail = self.support <= s
        low = 0.0 if s == self.lo else float(np.exp(self._solve(lambda t: self.at(t)[upper_tail].sum() - alpha)))
        high = np.inf if s == self.hi else float(np.exp(self._solve(lambda t: alpha - self.at(t)[lower_tail].sum())))
        return low, high


@dataclass(frozen=True)
class NormalLimit:
    """The large-sample limit of the conditional distribution of S, for counts past MAX_DENSITY or MAX_WORK:
    each stratum's `a` under ψ is normal with the mean of Cornfield's (1956) approximation, the root x of
    x(n − r − c + x) = ψ(r − x)(c − x) in its range, and variance 1/(1/x + 1/(r − x) + 1/(c − x) + 1/(n − r − c + x));
    S is their sum. Estimate: E_ψ(S) = s; interval and p-value from the normal tails with a continuity
    correction of 1/2, as the exact tails include s itself."""
    rows: np.ndarray  # r = a + b, c = a + c, n per stratum (floats)
    cols: np.ndarray
    totals: np.ndarray
    observed: int
    lo: int
    hi: int

    @classmethod
    def of(cls, tables: np.ndarray) -> "NormalLimit":
        t = np.asarray(tables, dtype=np.int64)
        t = t[t.sum(axis=1) > 0]
        a, b, c, d = t.T
        lo = int(np.maximum(0, (a + b) - (b + d)).sum())
        hi = int(np.minimum(a + c, a + b).sum())
        return cls((a + b).astype(float), (a + c).astype(float), (a + b + c + d).astype(float), int(a.sum()), lo, hi)

    def moments(self, log_psi: float) -> tuple[float, float]:
        r, c, n = self.rows, self.cols, self.totals
        # (1 − ψ)x² + (n − r − c + ψ(r + c))x − ψrc = 0, divided through by ψ where ψ > 1 (q = 1/ψ); its two
        # roots taken without cancellation (Press et al., Numerical Recipes §5.6) and the one in range kept
        if log_psi <= 0:
            psi = np.exp(log_psi)
            qa, qb, qc = 1 - psi, n - r - c + psi * (r + c), -psi * r * c
        else:
            q = np.exp(-log_psi)
            qa, qb, qc = q - 1, q * (n - r - c) + (r + c), -r * c
        half = -(qb + np.copysign(np.sqrt(np.maximum(qb**2 - 4 * qa * qc, 0)), qb)) / 2
        low, high = np.maximum(0, r + c - n), np.minimum(r, c)
        with np.errstate(divide="ignore", invalid="ignore"):
            first, second = half / qa, qc / half
        inside = (first >= low - 1e-9 * n) & (first <= high + 1e-9 * n)
        x = np.clip(np.where(inside, first, second), low, high)
        with np.errstate(divide="ignore"):
            var = 1 / (1 / x + 1 / (r - x) + 1 / (c - x) + 1 / (n - r - c + x))
        return float(x.sum()), float(np.nan_to_num(var).sum())

    def _tail(self, log_psi: float, upper: bool) -> float:
        mean, var = self.moments(log_psi)
        z = (self.observed - 0.5 - mean) if upper else (self.observed + 0.5 - mean)
        if var <= 0:
            return float((z < 0) if upper else (z > 0))
        return float(stats.norm.sf(z / np.sqrt(var)) if upper else stats.norm.cdf(z / np.sqrt(var)))

    def p_value(self) -> float:
        mean, var = self.moments(0.0)
        return float(min(1.0, 2 * stats.norm.sf(max(0.0, abs(self.observed - mean) - 0.5) / np.sqrt(var))))

    _solve = ConditionalDistribution._solve

    def estimate(self) -> float:
        if self.observed == self.lo:
            return 0.0
        if self.observed == self.hi:
            return np.inf
        return float(np.exp(self._solve(lambda t: self.moments(t)[0] - self.observed)))

    def interval(self, level: float) -> tuple[float, float]:
        alpha, s = (1 - level) / 2, self.observed
        low = 0.0 if s == self.lo else float(np.exp(self._solve(lambda t: self._tail(t, True) - alpha)))
        high = np.inf if s == self.hi else float(np.exp(self._solve(lambda t: alpha - self._tail(t, False))))
        return low, high


def exact_conditional(tables: np.ndarray, level: float = 0.95) -> dict:
    """Exact conditional common odds ratio, interval, S and two-sided p-value of K×4 counts a, b, c, d;
    `normal_limit` True where the counts are past the exact computation's sizes and its normal limit is used."""
    try:
        dist = ConditionalDistribution.of(tables)
        limit = False
    except TooLarge:
        dist, limit = NormalLimit.of(tables), True
    low, high = dist.interval(level)
    return {"odds_ratio": dist.estimate(), "or_ci_low": low, "or_ci_high": high,
            "statistic": float(dist.observed), "p_value": dist.p_value(), "support": (dist.lo, dist.hi),
            "normal_limit": limit}
