"""The separation check collapses repeated cases: the same answer as on the distinct patterns, at any size."""

import numpy as np

from casemeta.stats.separation import distinct_patterns, find_separation


def _design(rows):
    X = np.array([[1.0, *r[:-1]] for r in rows])
    return X, np.array([r[-1] for r in rows], dtype=float)


# worked out by hand: (x, y) patterns of one binary predictor
QUASI = [(0, 0), (0, 1), (1, 1)]  # every case with x = 1 has y = 1, x = 0 has both: quasi-complete, +x infinite
COMPLETE = [(0, 0), (1, 1)]  # x tells y exactly: complete separation
NONE = [(0, 0), (0, 1), (1, 0), (1, 1)]


def test_distinct_patterns_keep_first_appearance_order():
    X, y = _design([(1, 1), (0, 0), (1, 1), (0, 0), (0, 1)])
    Xd, yd = distinct_patterns(X, y)
    assert Xd.tolist() == [[1.0, 1.0], [1.0, 0.0], [1.0, 0.0]] and yd.tolist() == [1.0, 0.0, 1.0]


def test_repeating_every_case_a_hundred_thousand_times_changes_nothing():
    for rows, kind in [(QUASI, "quasi-complete"), (COMPLETE, "complete"), (NONE, "none")]:
        X, y = _design(rows)
        big_X, big_y = np.repeat(X, 100_000, axis=0), np.repeat(y, 100_000)
        found = find_separation(big_X, big_y, ["Intercept", "x"])
        assert found.kind == kind, rows
        assert ("+x" in found.infinite_terms) == (kind != "none")  # x's ML estimate diverges upwards
        assert found == find_separation(X, y, ["Intercept", "x"])
