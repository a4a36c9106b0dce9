"""Leave-one-out check of the predictors against the base rate."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from casemeta.stats.cross_validation import auc, brier, loo_check


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


def _count_fits(monkeypatch):
    """Counts the logistic fits the check makes (each refit of the model is one)."""
    import sklearn.linear_model

    fits = []

    class Counting(sklearn.linear_model.LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            fits.append(len(y) if sample_weight is None else int(sample_weight.sum()))  # cases, however grouped
            return super().fit(X, y, sample_weight=sample_weight)

    # the check imports scikit-learn's class where it fits (casemeta.stats.cross_validation): replaced at its source
    monkeypatch.setattr(sklearn.linear_model, "LogisticRegression", Counting)
    return fits


def test_above_the_threshold_ten_stratified_folds_replace_leave_one_out(monkeypatch):
    # synthetic: 30 cases, 15 events, x a noisy predictor
    data = pd.DataFrame({"x": [i % 7 + (i >= 15) * 3 for i in range(30)], "y": [int(i >= 15) for i in range(30)]})
    fits = _count_fits(monkeypatch)
    out = loo_check(data, "y ~ x", loo_max_cases=29, seed=3)
    assert out["scheme"] == "10-fold stratified, seed 3"
    assert len(fits) == 10 and set(fits) == {27}  # 10 refits, each on 9 of 10 folds (27 of 30 cases), not 30 refits
    # stratified: each training set holds 27 cases with 13 or 14 events, so the base-rate guess is 13/27 or 14/27
    assert out["base_rate_brier"] > 0.25
    fits.clear()
    assert loo_check(data, "y ~ x", loo_max_cases=30)["scheme"] == "leave-one-out"
    assert fits == []  # leave-one-out fits every fold at once, by its own Newton steps (below)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(4, 30), st.integers(1, 3), st.sampled_from([0.1, 1.0, 10.0]),
       st.booleans())
def test_leave_one_out_fitted_at_once_predicts_as_scikit_learn_fold_by_fold(seed, n, p, C, coded):
    """Synthetic cases (coded 0/1/2, with repeated rows, or continuous): each case's left-out probability equals
    scikit-learn's LogisticRegression(C) fitted on the other cases, to 1e-8; a fold whose other cases share one
    outcome predicts it, and is counted."""
    from sklearn.linear_model import LogisticRegression

    from casemeta.stats.cross_validation import _loo_predictions

    rng = np.random.default_rng(seed)
    X = rng.integers(0, 3, (n, p)).astype(float) if coded else rng.normal(size=(n, p))
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * (X @ rng.normal(size=p))))).astype(float)
    assume(0 < y.sum() < n)
    predicted, one_class, not_converged = _loo_predictions(X, y, C)
    expected, folds_of_one = np.empty(n), 0
    for i in range(n):
        rest = np.arange(n) != i
        if y[rest].min() == y[rest].max():
            expected[i], folds_of_one = y[rest][0], folds_of_one + 1
            continue
        model = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-10, max_iter=1000).fit(X[rest], y[rest])
        expected[i] = model.predict_proba(X[i:i + 1])[0, 1]
    assert np.abs(predicted - expected).max() < 1e-8
    assert (one_class, not_converged) == (folds_of_one, 0)


def test_cases_with_the_same_row_get_exactly_the_same_left_out_probability():
    """Leaving out either of two equal cases leaves the same training cases: an exact tie, which the AUC counts as
    half a pair. Synthetic: x 0/1, with repeated (x, y) rows."""
    from casemeta.stats.cross_validation import _loo_predictions

    X = np.array([[0.0], [0.0], [0.0], [1.0], [1.0], [1.0], [0.0], [1.0]])
    y = np.array([0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0])
    predicted, _, _ = _loo_predictions(X, y, 1.0)
    assert predicted[0] == predicted[1] == predicted[6] and predicted[3] == predicted[4] == predicted[7]


def test_k_fold_fits_on_distinct_rows_predict_as_fits_on_every_case():
    """Above the leave-one-out threshold each fold is fitted once per distinct (x, y) row, weighted by its count:
    the same penalized likelihood as a fit on every case, so the same left-out probabilities."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from casemeta.stats.cross_validation import _folds, _loo_predictions

    rng = np.random.default_rng(5)  # synthetic: 600 cases, two binary predictors and a three-valued one
    X = np.column_stack([rng.integers(0, 2, 600), rng.integers(0, 2, 600), rng.integers(0, 3, 600)]).astype(float)
    y = (rng.random(600) < 1 / (1 + np.exp(-(X @ [1.0, -0.5, 0.4] - 0.3)))).astype(float)
    folds, _ = _folds(y, 200, 1)
    grouped, one_class, not_converged = _loo_predictions(X, y, 1.0, folds)
    each = np.empty(600)
    for test in folds:
        train = np.setdiff1d(np.arange(600), test)
        each[test] = LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-10).fit(X[train], y[train]).predict_proba(X[test])[:, 1]
    assert np.abs(grouped - each).max() < 1e-8 and (one_class, not_converged) == (0, 0)


def test_k_is_the_rarer_outcomes_count_when_below_ten():
    # synthetic: 40 cases, 4 events: each of the 4 folds holds one event
    data = pd.DataFrame({"x": list(range(40)), "y": [0] * 36 + [1] * 4})
    assert loo_check(data, "y ~ x", loo_max_cases=10)["scheme"] == "4-fold stratified, seed 1"


def test_the_plan_threshold_reaches_the_csv_and_the_publication_note(tmp_path):
    from casemeta.coded.case_table import load_cases
    from casemeta.coded.derive import derive
    from casemeta.plan import plan_from_dict, read_plan
    from casemeta.publish.tables import cross_validation_table
    from casemeta.steps.model_runs import run_models
    from casemeta import atomic_io
    from casemeta.study import Study
    from conftest import ROOT

    study = Study(ROOT, "african_clusters")
    codebook = study.codebook()
    raw = read_plan(study.plan_path)
    plan = plan_from_dict({**raw, "models": {**raw["models"], "loo_max_cases": 20}}, codebook)  # the study has 25 cases
    run_models(derive(load_cases(study.cases_path, codebook), codebook), plan, codebook, tmp_path, 1000, 1)
    cv = atomic_io.read_caveats(pd.read_csv(tmp_path / "cross_validation.csv", keep_default_na=False))
    assert all(s.endswith("-fold stratified, seed 1") for s in cv["scheme"] if s)
    assert any(cv["scheme"])
    table = cross_validation_table(cv, codebook, plan)
    assert table.title == "Out-of-sample check (leave-one-out or K-fold)"
    assert any("cross-validation instead of leave-one-out" in note for note in table.notes)


@pytest.mark.parametrize("y, fewer", [([0, 0, 0, 1, 1, 1], 3), ([0] * 21 + [1] * 9, 9)])
def test_an_auc_from_few_cases_of_the_rarer_outcome_gets_a_caveat(y, fewer):
    """Issue 20: a leave-one-out AUC of 0.00 on 6 cases came without a word. Counted by hand: 3 of each outcome
    (x carries no information, so leave-one-out scores it 0, see AUC_MIN_PER_OUTCOME), or 9 events in 30."""
    data = pd.DataFrame({"y": y, "x": [i % 3 for i in range(len(y))]})
    out = loo_check(data, "y ~ x")
    tiny = [c for c in out["caveats"] if c.code == "loo_auc_tiny_sample"]
    assert [(c.variables, c.value["fewer"], c.value["minimum"], c.scope, c.blank) for c in tiny] == \
        [(("y",), fewer, 10, "row", "")]
    assert tiny[0].message().startswith(f"AUC from only {fewer} case(s) of the rarer value of y (fewer than 10)")
    assert "a model with no information scores near 0, not 0.5" in tiny[0].message()
    assert tiny[0].message(lambda name: "Growth").startswith(f"AUC from only {fewer} case(s) of the rarer value of Growth")


def test_ten_cases_of_each_outcome_get_no_tiny_sample_caveat():
    x = list(range(20))  # 10 events, 10 non-events: at the threshold
    out = loo_check(pd.DataFrame({"x": x, "y": [int(v >= 10) for v in x]}), "y ~ x")
    assert not [c for c in out["caveats"] if c.code == "loo_auc_tiny_sample"]


def test_auc_and_brier_by_hand():
    # the textbook case: of the 4 event/non-event pairs, 3 are ranked the right way round
    assert auc(np.array([0, 0, 1, 1.0]), np.array([0.1, 0.4, 0.35, 0.8])) == 0.75
    # a tie counts half: pairs (0.5, 0.5) = 1/2, (0.5, 0.2), (0.9, 0.5), (0.9, 0.2) = 1 each; 3.5 / 4
    assert auc(np.array([0, 1, 0, 1.0]), np.array([0.5, 0.5, 0.2, 0.9])) == 0.875
    assert brier(np.array([0, 1.0]), np.array([0.2, 0.6])) == pytest.approx((0.2**2 + 0.4**2) / 2)


@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 6)), min_size=2, max_size=40)
       .filter(lambda pairs: len({y for y, _ in pairs}) == 2))
def test_auc_is_the_share_of_event_non_event_pairs_ranked_right(pairs):
    """Against the definition, pair by pair (few distinct scores, so many ties), and against scikit-learn's
    roc_auc_score, the area under the ROC curve it draws."""
    from sklearn.metrics import roc_auc_score

    y = np.array([p[0] for p in pairs], dtype=float)
    scores = np.array([p[1] for p in pairs]) / 7
    events, non_events = scores[y == 1], scores[y == 0]
    by_pairs = np.mean([1.0 if e > n else 0.5 if e == n else 0.0 for e in events for n in non_events])
    assert auc(y, scores) == pytest.approx(by_pairs, abs=1e-12)
    assert auc(y, scores) == pytest.approx(roc_auc_score(y, scores), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 400), st.integers(1, 4), st.sampled_from(["coded", "mixed", "continuous"]))
def test_distinct_rows_are_numpys_distinct_rows(seed, n, p, kind):
    """_distinct_rows (codes by hashing, one integer per row) gives what np.unique(axis=0, return_inverse=True)
    gives: the same distinct rows in the same (lexicographic) order, and each row's index among them. Synthetic
    rows: small integer codes (many repeats), negative and fractional values, or continuous values (few repeats)."""
    from casemeta.stats.cross_validation import _distinct_rows

    rng = np.random.default_rng(seed)
    if kind == "coded":
        data = rng.integers(0, 3, (n, p)).astype(float)
    elif kind == "mixed":
        data = rng.choice([-2.5, -1.0, 0.0, 0.5, 3.0], (n, p))
    else:
        data = rng.normal(size=(n, p))
    rows, which = _distinct_rows(data)
    expected_rows, expected_which = np.unique(data, axis=0, return_inverse=True)
    assert np.array_equal(rows, expected_rows) and np.array_equal(which, expected_which.ravel())


def test_k_fold_left_out_and_base_rate_scores_at_scale_equal_fold_by_fold_fits():
    """20,000 synthetic cases (two binary predictors): the K-fold check's predictions and its base-rate Brier score
    are those of scikit-learn fitted on each fold's training cases and of the training cases' mean outcome, computed
    here fold by fold on every case."""
    from sklearn.linear_model import LogisticRegression

    from casemeta.stats.cross_validation import _base_rate_brier, _folds, _loo_predictions

    rng = np.random.default_rng(11)
    X = rng.integers(0, 2, (20_000, 2)).astype(float)
    y = (rng.random(20_000) < 1 / (1 + np.exp(-(X @ [0.8, -0.6] + 0.2)))).astype(float)
    folds, scheme = _folds(y, 200, 1)
    assert scheme == "10-fold stratified, seed 1"
    predicted, one_class, not_converged = _loo_predictions(X, y, 1.0, folds)
    each, base = np.empty(len(y)), np.empty(len(y))
    for test in folds:
        train = np.setdiff1d(np.arange(len(y)), test)
        model = LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-10).fit(X[train], y[train])
        each[test] = model.predict_proba(X[test])[:, 1]
        base[test] = y[train].mean()
    assert np.abs(predicted - each).max() < 1e-8 and (one_class, not_converged) == (0, 0)
    assert _base_rate_brier(y, folds) == float(np.mean((y - base) ** 2))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 1), min_size=30, max_size=400), st.integers(0, 3))
def test_k_folds_partition_the_cases_stratified_and_are_remembered_per_outcome(outcomes, seed):
    """Synthetic outcomes: the K folds are a partition of the cases, each fold holds its share of each outcome
    (within one case), the same outcome gets the very same folds again (remembered), another outcome its own."""
    from casemeta.stats.cross_validation import _folds

    y = np.array(outcomes, dtype=float)
    assume(min(y.sum(), len(y) - y.sum()) >= 2)
    folds, scheme = _folds(y, 20, seed)
    k = len(folds)
    assert scheme == f"{k}-fold stratified, seed {seed}" and k == min(10, int(min(y.sum(), len(y) - y.sum())))
    assert np.array_equal(np.sort(np.concatenate(folds)), np.arange(len(y)))
    for value in (0.0, 1.0):
        held = [int(np.sum(y[test] == value)) for test in folds]
        assert max(held) - min(held) <= 1
    again, _ = _folds(y.copy(), 20, seed)
    assert all(a is b for a, b in zip(folds, again))
    flipped, _ = _folds(1 - y, 20, seed)
    assert any(a is not b for a, b in zip(folds, flipped))


def test_every_model_of_an_outcome_says_what_its_folds_warned():
    """Synthetic: 300 cases, one event. K is 2 and scikit-learn warns that a class has fewer cases than folds; the
    folds are made once for the outcome, and every model of it (not only the first) carries the warning's caveat."""
    from types import SimpleNamespace

    from casemeta.stats.study_analysis import model_rows

    rng = np.random.default_rng(0)
    data = pd.DataFrame({"y": pd.array([1] + [0] * 299, dtype="Int64"),
                         "a": pd.array(rng.integers(0, 2, 300), dtype="Int64"),
                         "b": pd.array(rng.integers(0, 2, 300), dtype="Int64")})
    codes = []
    for term in ("a", "b", "a"):
        model = SimpleNamespace(outcome="y", variables=(term,), formula=f"y ~ {term}", name=f"y ~ {term}",
                                predictor_set=term, terms=(term,), method="auto", correction="none", tests=())
        _, check = model_rows(data, model, "synthetic", 200, 1)
        assert check["scheme"] == "2-fold stratified, seed 1"
        codes.append([c.code for c in check["caveats"]])
    assert all("warning" in found for found in codes), codes
    assert codes[0] == codes[1] == codes[2]
