"""Leave-one-out check of the predictors against the base rate."""

import pandas as pd
import pytest

from casemeta.stats.cross_validation import loo_check


def test_base_rate_brier_by_hand():
    # synthetic: 4 cases, 2 events; leaving one out, the base rate of the rest is 1/3 or 2/3,
    # always 1/3 away from the wrong side: Brier = (1/3)^2 + ... = 4/9
    data = pd.DataFrame({"y": [0, 0, 1, 1], "x": [0.1, 0.3, 0.2, 0.4]})
    out = loo_check(data, "y ~ x")
    assert out["base_rate"] == 0.5
    assert out["base_rate_brier"] == pytest.approx(4 / 9)
    assert out["n"] == 4


def test_a_strong_predictor_beats_the_base_rate():
    # synthetic: y follows x closely
    x = list(range(20))
    data = pd.DataFrame({"x": x, "y": [int(v >= 10) for v in x]})
    out = loo_check(data, "y ~ x")
    # leaving out a case next to the boundary moves the boundary, so one pair of the 100 ranks wrong
    assert out["loo_auc"] == pytest.approx(0.99)
    assert out["loo_brier"] < out["base_rate_brier"] / 5
