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
    Xd, yd, counts = distinct_patterns(X, y)
    assert Xd.tolist() == [[1.0, 1.0], [1.0, 0.0], [1.0, 0.0]] and yd.tolist() == [1.0, 0.0, 1.0]
    assert counts.tolist() == [2, 2, 1]


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


def test_collapsed_patterns_give_konis_program_on_every_case():
    """Random small designs with uneven repeats: the directions found on the patterns (rows scaled by their
    counts) equal those of Konis's program run on every case."""
    from firthmodels import detect_separation

    rng = np.random.default_rng(7)
    for _ in range(200):
        patterns = rng.integers(0, 2, size=(rng.integers(2, 6), 3))  # x1, x2, y
        rows = np.repeat(patterns, rng.integers(1, 6, size=len(patterns)), axis=0)
        X = np.column_stack([np.ones(len(rows)), rows[:, :2]]).astype(float)
        y = rows[:, 2].astype(float)
        if np.linalg.matrix_rank(X) < 3 or len(set(y)) < 2:
            continue
        names = ["Intercept", "x1", "x2"]
        every_case = detect_separation(X, y, fit_intercept=False)
        expected = tuple(f"{'+' if d > 0 else '-'}{n}" for n, d in sorted(zip(names, every_case.directions),
                                                                          key=lambda t: t[0] == "Intercept") if d)
        assert find_separation(X, y, names).infinite_terms == expected, rows.tolist()
