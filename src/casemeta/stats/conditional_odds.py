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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

LOG_PSI_RANGE = (-700.0, 700.0)  # exp() stays finite; beyond it the root is 0 or ∞ for any count data


@dataclass(frozen=True)
class ConditionalDistribution:
    """The null (ψ = 1) distribution of S on its support lo..hi."""
    support: np.ndarray
    density: np.ndarray
    observed: int

    @classmethod
    def of(cls, tables: np.ndarray) -> "ConditionalDistribution":
        """`tables`: K×4 counts a, b, c, d (a = condition 1 & outcome 1)."""
        density = np.ones(1)
        lo = 0
        for a, b, c, d in np.asarray(tables, dtype=np.int64):
            row1, col1, n = a + b, a + c, a + b + c + d
            if n == 0:  # no cases: S gains 0 for sure (SciPy's hypergeom of 0 draws from 0 is undefined)
                continue
            low, high = max(0, row1 - (b + d)), min(col1, row1)
            # a ~ hypergeometric: `row1` draws from `n` tables' cases of which `col1` have outcome 1
            density = np.convolve(density, stats.hypergeom(n, col1, row1).pmf(np.arange(low, high + 1)))
            lo += low
        return cls(np.arange(lo, lo + len(density)), density / density.sum(), int(np.asarray(tables)[:, 0].sum()))

    @property
    def lo(self) -> int:
        return int(self.support[0])

    @property
    def hi(self) -> int:
        return int(self.support[-1])

    def at(self, log_psi: float) -> np.ndarray:
        """The density under common odds ratio exp(log_psi)."""
        with np.errstate(divide="ignore"):  # a density that underflowed to 0 stays 0
            log_d = np.log(self.density) + log_psi * (self.support - self.lo)
        d = np.exp(log_d - log_d.max())
        return d / d.sum()

    def p_value(self) -> float:
        d = self.density
        return float(min(1.0, d[d <= d[self.observed - self.lo] * (1 + 1e-7)].sum()))

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


def exact_conditional(tables: np.ndarray, level: float = 0.95) -> dict:
    """Exact conditional common odds ratio, interval, S and two-sided p-value of K×4 counts a, b, c, d."""
    dist = ConditionalDistribution.of(tables)
    low, high = dist.interval(level)
    return {"odds_ratio": dist.estimate(), "or_ci_low": low, "or_ci_high": high,
            "statistic": float(dist.observed), "p_value": dist.p_value(), "support": (dist.lo, dist.hi)}
