"""Out-of-sample check: leave-one-out AUC and Brier score of a penalized logistic model.

Next to the base rate, this shows a reader how much the predictors add beyond
guessing the share of successes.
"""

from __future__ import annotations

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import LeaveOneOut, cross_val_predict

from casemeta.stats.logistic_models import design


def loo_check(data: pd.DataFrame, formula: str, C: float = 1.0, source: str = "data") -> dict:
    """Leave-one-out predicted probabilities of an L2-penalized logistic model, scored."""
    y, X, names, outcome = design(data, formula, source)
    X = X[:, [n != "Intercept" for n in names]]
    model = LogisticRegression(C=C, solver="lbfgs", max_iter=1000)
    predicted = cross_val_predict(model, X, y, cv=LeaveOneOut(), method="predict_proba")[:, 1]
    # the base rate, also left-one-out: the share of events among the other cases
    base = (y.sum() - y) / (len(y) - 1)
    return {
        "formula": formula,
        "n": len(y),
        "base_rate": float(y.mean()),
        "loo_auc": float(roc_auc_score(y, predicted)),
        "loo_brier": float(brier_score_loss(y, predicted)),
        "base_rate_brier": float(brier_score_loss(y, base)),
        "penalty": f"L2, C={C}",
    }


