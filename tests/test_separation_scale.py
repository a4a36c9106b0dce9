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


def test_uneven_repeats_give_the_answer_of_every_case():
    """Five cases (x=0, y=0) and two (x=1, y=1): complete separation; by hand, x's estimate goes to +inf and
    the intercept's to -inf (y=0 wherever x=0). Collapsing the repeats must not lose the intercept."""
    X, y = _design([(0, 0)] * 5 + [(1, 1)] * 2)
    found = find_separation(X, y, ["Intercept", "x"])
    assert (found.kind, found.infinite_terms) == ("complete", ("+x", "-Intercept"))


def test_how_often_cases_repeat_changes_nothing():
    """Random small designs, each pattern once and then repeated 1 to 1000 times: the same answer."""
    rng = np.random.default_rng(7)
    for _ in range(150):
        patterns = np.unique(rng.integers(0, 2, size=(rng.integers(2, 6), 3)), axis=0)  # x1, x2, y
        X = np.column_stack([np.ones(len(patterns)), patterns[:, :2]]).astype(float)
        y = patterns[:, 2].astype(float)
        repeats = rng.integers(1, 1000, size=len(patterns))
        names = ["Intercept", "x1", "x2"]
        once = find_separation(X, y, names)
        assert find_separation(np.repeat(X, repeats, axis=0), np.repeat(y, repeats), names) == once, patterns.tolist()


def test_every_diverging_coefficient_is_named_where_the_optimum_is_not_unique():
    """No intercept; c1, c2 the two levels of a category, b a binary. Every cell is pure: (c1, b=1) all 0,
    (c2, b=1) all 1, (c1, b=0) all 1. By hand, a direction d must keep d_c1 + d_b <= 0, d_c2 + d_b >= 0 and
    d_c1 >= 0: so c1 only goes up, b only down, c2 only up (d = (1, 1, -1) moves all three), and
    d = (1, 2, -1.5) makes every inequality strict: complete. Konis's single program named only +c[2]."""
    rows = [((1, 0, 1), 0)] * 2 + [((0, 1, 1), 1)] * 2 + [((1, 0, 0), 1)]
    X = np.array([r for r, _ in rows], dtype=float)
    y = np.array([o for _, o in rows], dtype=float)
    found = find_separation(X, y, ["c1", "c2", "b"])
    assert found.kind == "complete"
    assert found.infinite_terms == ("+c1", "+c2", "-b")
