"""What statsmodels' `combine_effects` lacks for a random-effects meta-analysis as metafor reports it.

combine_effects (statsmodels 0.15) estimates tau² by DerSimonian–Laird or
Paule–Mandel ("iterated") only, and gives no standard error of tau²; metafor's
default is REML, and it prints the standard error of every tau² and, for a
random-effects model, I² and H² from tau² and the "typical" within-study
variance. These few formulas are written here, after metafor's rma.uni
(Viechtbauer 2010, J Stat Softw 36(3); metafor's R/rma.uni.R):
- P = W − W 1 (1ᵀ W 1)⁻¹ 1ᵀ W with W = diag(1/(v + tau²));
- vt = (k − 1) / tr(P₀), P₀ the P of the fixed-effect weights 1/v;
  I² = tau² / (vt + tau²), H² = (vt + tau²) / vt;
- SE(tau²): DL sqrt((2(k−1) + 4 tau² tr P₀ + 2 tau⁴ ΣP₀²) / (tr P₀)²); REML sqrt(2 / ΣP²);
- REML tau² maximises the restricted log-likelihood
  −½ [Σ log(v + tau²) + log Σ 1/(v + tau²) + Σ (y − μ̂)²/(v + tau²)], tau² ≥ 0.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize


def p_matrix(v: np.ndarray, tau2: float) -> np.ndarray:
    w = 1.0 / (v + tau2)
    return np.diag(w) - np.outer(w, w) / w.sum()


def typical_variance(v: np.ndarray) -> float:
    return (len(v) - 1) / np.trace(p_matrix(v, 0.0))


def heterogeneity(v: np.ndarray, tau2: float) -> tuple[float, float]:
    """I² (a fraction) and H² of a random-effects model, as metafor prints them."""
    vt = typical_variance(v)
    return tau2 / (vt + tau2), (vt + tau2) / vt


def dl_tau2_se(v: np.ndarray, tau2: float) -> float:
    p0 = p_matrix(v, 0.0)
    tr = np.trace(p0)
    return float(np.sqrt((2 * (len(v) - 1) + 4 * tau2 * tr + 2 * tau2**2 * (p0 * p0).sum()) / tr**2))


def reml_tau2(y: np.ndarray, v: np.ndarray) -> float:
    """The REML estimate of tau² (≥ 0)."""
    def minus_restricted_loglik(tau2: float) -> float:
        w = 1.0 / (v + tau2)
        mu = (w * y).sum() / w.sum()
        return 0.5 * (np.log(v + tau2).sum() + np.log(w.sum()) + (w * (y - mu) ** 2).sum())

    upper = 10 * (np.var(y) + v.max())  # the likelihood decreases beyond the spread of the estimates
    best = optimize.minimize_scalar(minus_restricted_loglik, bounds=(0.0, upper), method="bounded",
                                    options={"xatol": 1e-12})
    return float(best.x) if minus_restricted_loglik(best.x) < minus_restricted_loglik(0.0) else 0.0


def reml_tau2_se(v: np.ndarray, tau2: float) -> float:
    p = p_matrix(v, tau2)
    return float(np.sqrt(2 / (p * p).sum()))


def random_effects_mean(y: np.ndarray, v: np.ndarray, tau2: float) -> tuple[float, float]:
    """Inverse-variance weighted mean and its standard error with between-study variance tau²."""
    w = 1.0 / (v + tau2)
    return float((w * y).sum() / w.sum()), float(np.sqrt(1 / w.sum()))
