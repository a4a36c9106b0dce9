"""QCA stays bounded on dense tables (issue: bounded work): each model's fit is computed from terms
computed once, and past what an exact minimisation can do the run stops with an error naming the limit.

Speed is measured by benchmarks/bounded_benchmark.py, not here. The large tables are SYNTHETIC: random
0/1 memberships with a fixed seed. Expected values are worked by hand or by the definitions written out
in plain Python below (not by the functions under test).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from casemeta.errors import CasemetaError
from casemeta.stats.qca import QcaSpec, run_qca
from casemeta.stats.qca import minimize
from casemeta.stats.qca.analysis import MODEL_ROW
from casemeta.stats.qca.sets import covers, unique_coverages

SEED = 20261206


def synthetic(k: int, n: int, seed: int = SEED) -> pd.DataFrame:
    """SYNTHETIC: n cases, k random 0/1 conditions C0.. and a random 0/1 outcome Y."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.integers(0, 2, (n, k)), columns=[f"C{i}" for i in range(k)], dtype=float)
    frame["Y"] = rng.integers(0, 2, n).astype(float)
    frame.index = [f"c{i}" for i in range(n)]
    return frame


def test_unique_coverage_worked_by_hand():
    # terms A = (1, .2, .6), B = (.3, .7, .6), C = A; outcome y = (1, 1, .5), Σy = 2.5
    # union of all: (1, .7, .6), with y: (1, .7, .5) = 2.2
    # without A: max(B, C) = (1, .7, .6): 2.2, covU 0; without C likewise 0 (A and C cover each other)
    # without B: A = (1, .2, .6), with y: (1, .2, .5) = 1.7, covU (2.2 − 1.7)/2.5 = 0.2
    a, b = [1, 0.2, 0.6], [0.3, 0.7, 0.6]
    assert unique_coverages(np.array([a, b, a]), np.array([1, 1, 0.5])) == pytest.approx([0.0, 0.2, 0.0])
    # A and B alone: without A, B with y: (.3, .7, .5) = 1.5, covU (2.2 − 1.5)/2.5 = 0.28
    assert unique_coverages(np.array([a, b]), np.array([1, 1, 0.5])) == pytest.approx([0.28, 0.2])
    # one term: without it nothing is covered, covU = its covS = (1 + .2 + .5)/2.5
    assert unique_coverages(np.array([a]), np.array([1, 1, 0.5])) == pytest.approx([0.68])


def _membership(frame: pd.DataFrame, conditions: list[str], term) -> np.ndarray:
    """A term's membership written out: the minimum, over its literals, of the condition or its negation."""
    k = len(conditions)
    mask, value = term
    out = np.ones(len(frame))
    for i, c in enumerate(conditions):
        b = 1 << (k - 1 - i)
        if mask & b:
            out = np.minimum(out, frame[c].to_numpy() if value & b else 1 - frame[c].to_numpy())
    return out


def test_ten_conditions_and_a_thousand_cases_give_models_with_their_fits_by_the_definitions():
    # SYNTHETIC 10 × 1,000: 648 configurations observed, 376 remainders; both solutions are ambiguous
    # (more than 100 models), so the listing is cut and says so
    frame = synthetic(10, 1000)
    conditions = [f"C{i}" for i in range(10)]
    result = run_qca(frame, QcaSpec("Y", conditions))
    assert len(result.truth_table) == 648 and result.remainders == 376
    assert "qca_listing_cut" in [c.code for c in result.caveats]
    tt = result.truth_table
    config = (tt[conditions].to_numpy() * (1 << np.arange(9, -1, -1))).sum(axis=1)
    positive, negative = set(config[tt["OUT"] == "1"]), set(config[tt["OUT"] == "0"])
    y = frame["Y"].to_numpy()
    for (solution, number), model in list(result.models.items())[::40]:  # every 40th model: 5 of the 200
        # every positive configuration covered; the conservative models cover nothing negative
        assert all(any(covers(t, m) for t in model) for m in positive)
        if solution == "conservative":
            assert not any(covers(t, m) for t in model for m in negative)
        rows = result.solutions[(result.solutions["solution"] == solution) & (result.solutions["model"] == number)]
        assert list(rows["term"])[-1] == MODEL_ROW and len(rows) == len(model) + 1
        both = [_membership(frame, conditions, t) for t in model]
        total = np.minimum(np.max(both, axis=0), y).sum()
        for j, (covu, incl) in enumerate(zip(rows["covU"].iloc[:-1], rows["inclS"].iloc[:-1])):
            without = np.max([m for i, m in enumerate(both) if i != j] or [np.zeros(len(y))], axis=0)
            assert covu == pytest.approx((total - np.minimum(without, y).sum()) / y.sum(), abs=1e-12)
            assert incl == pytest.approx(np.minimum(both[j], y).sum() / both[j].sum(), abs=1e-12)
        assert rows["covS"].iloc[-1] == pytest.approx(total / y.sum(), abs=1e-12)


def test_a_minimisation_past_its_time_limit_stops_with_an_error_naming_the_limit(monkeypatch):
    # SYNTHETIC 12 × 1,000: the fewest prime implicants of this chart need the integer programme, which ran
    # for minutes; with the limit set to a quarter second the run stops and says which limit and what to do
    monkeypatch.setattr(minimize, "MINIMISE_SECONDS", 0.25)
    frame = synthetic(12, 1000)
    with pytest.raises(CasemetaError) as err:
        run_qca(frame, QcaSpec("Y", [f"C{i}" for i in range(12)]))
    message = str(err.value)
    assert message.startswith("QCA minimisation stopped at its time limit (0.25 s, "
                              "casemeta.stats.qca.minimize.MINIMISE_SECONDS): ")
    assert "Use fewer conditions, or a higher frequency cut (--n-cut)" in message


def test_a_deadline_already_past_stops_an_intermediate_solution():
    # 3 conditions: positives 011 and 111, remainder 001; conservative B*C, parsimonious C
    conservative, parsimonious = [[(0b011, 0b011)]], [[(0b001, 0b001)]]
    with pytest.raises(CasemetaError, match=r"time limit .*: the intermediate solution of 2 positive configuration\(s\) was not found"):
        minimize.intermediate({0b011, 0b111}, conservative, parsimonious, {0b001}, {0: 1}, 3, deadline=0.0)
