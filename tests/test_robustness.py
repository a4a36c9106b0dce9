"""The multiverse of the 25 clusters' robustness decisions (issue 21, items 1, 2 and 6): each universe's
specifications equal a fit of that universe's data built by hand; the summary's shares are counts of the
specifications; chunks merged equal one chunk byte for byte; bad robustness sections are refused when the plan
is read. Library functions only (the workflow's jobs call the same ones)."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from casemeta.coded.case_table import load_cases
from casemeta.coded.derive import derive
from casemeta.errors import CasemetaError
from casemeta.plan import load_plan, plan_from_dict, read_plan
from casemeta.stats.logistic_models import fit_logistic
from casemeta.steps import pipeline
from casemeta.steps.robustness import gather, robustness_chunk
from casemeta.study import Study

from conftest import copy_project

STUDY = "african_clusters"
OWN_DOMESTIC = "egypt_dormiatt_furniture_domestic"
DRAWS = 3


def _plan_text(project, old: str, new: str) -> None:
    path = project / "analysis" / f"{STUDY}.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _run(project, chunks: int) -> Study:
    """The shipped example (8 universes) with DRAWS null draws (the shipped plan asks for none), split into `chunks` chunk jobs, then gathered."""
    _plan_text(project, "  chunks: 1\n", f"  chunks: {chunks}\n  inference: {{draws: {DRAWS}, seed: 20200101}}\n")
    study = Study(project, STUDY)
    pipeline.validate_study(study, study.result("validate", "validated"))
    for i in range(1, chunks + 1):
        robustness_chunk(study, None, i, chunks, None, 100_000, 20150827)
    gather(study, None, None)
    return study


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The shipped example run in 3 chunks (module-wide: the computation is the cost)."""
    return (_run(copy_project(tmp_path_factory.mktemp("three_chunks")), 3),)


def _estimator_only(project):
    """The example cut to its last decision (2 universes, on the same data) and to the models of one outcome (4
    models, 6 terms: 6 pages of specification curves instead of 18): cheap to run twice."""
    text = (project / "analysis" / f"{STUDY}.yaml").read_text()
    start, end = text.index("    - name: dynamism\n"), text.index("    - name: estimator\n")
    (project / "analysis" / f"{STUDY}.yaml").write_text(text[:start] + text[end:])
    _plan_text(project, "models:\n  outcomes: [dynamic, growth, upgrading]\n", "models:\n  outcomes: [dynamic]\n")
    return project


def _read(study: Study, key: str) -> pd.DataFrame:
    return pd.read_csv(study.result("robustness", key), keep_default_na=False, na_values=[""])


def test_eight_universes_one_per_combination(runs):
    universes = _read(runs[0], "universes")
    assert list(universes["universe"]) == list(range(1, 9))
    assert list(universes.columns) == ["universe", "dynamism", "split_clusters", "estimator", "n_cases"]
    # the domestic half of Dormiatt furniture is left out exactly where that option is taken
    expected = [24 if s == "one_case_each" else 25 for s in universes["split_clusters"]]
    assert list(universes["n_cases"]) == expected
    assert universes.iloc[0, 1:4].tolist() == ["growth_or_upgrading", "as_coded", "auto"]


def test_every_specification_equals_a_fit_of_the_universe_built_by_hand(runs, root):
    study = runs[0]
    specs = _read(study, "specifications")
    assert list(specs.columns) == ["universe", "dynamism", "split_clusters", "estimator", "model", "outcome", "term",
                                   "estimate", "std_error", "ci_low", "ci_high", "p_value", "method", "n", "notes"]
    codebook = Study(root, STUDY).codebook()
    plan = load_plan(Study(root, STUDY).plan_path, codebook)
    derived = derive(load_cases(Study(root, STUDY).cases_path, codebook), codebook)
    assert len(specs) == 8 * sum(len(m.variables) for m in plan.models)  # every predictor is binary: one term each
    for (universe, dynamism, split, estimator), rows in specs.groupby(["universe", "dynamism", "split_clusters", "estimator"]):
        data = derived.copy()
        if dynamism == "growth_and_upgrading":  # both, not either
            data["dynamic"] = ((data["growth"] == 1) & (data["upgrading"] == 1)).astype(int)
        if split == "one_case_each":
            data = data[data["case_id"] != OWN_DOMESTIC]
        method = "firth" if estimator == "firth" else "auto"
        for m in plan.models:
            fit = fit_logistic(data[[m.outcome, *m.variables]].astype(int), m.formula, method, "by hand")
            mine = rows[rows["model"] == m.name].set_index("term")
            terms = fit.terms.set_index("term").drop(index="Intercept")
            assert sorted(mine.index) == sorted(terms.index)
            for column in ("estimate", "std_error", "ci_low", "ci_high", "p_value"):
                np.testing.assert_allclose(mine[column].to_numpy(float), terms.loc[mine.index, column].to_numpy(float),
                                           atol=1e-6, err_msg=f"universe {universe}, {m.name}, {column}")
            assert set(mine["method"]) == {fit.method} and set(mine["n"]) == {len(data)}
            assert all(("separation_firth" in note) == (fit.method == "firth" and method == "auto")
                       for note in mine["notes"].fillna(""))


def test_a_crosstab_specification_equals_fishers_test_by_hand(runs, root):
    tests = _read(runs[0], "crosstab_specifications")
    codebook = Study(root, STUDY).codebook()
    derived = derive(load_cases(Study(root, STUDY).cases_path, codebook), codebook)
    # universe 7: dynamic is growth and upgrading, without Dormiatt's domestic half
    data = derived[derived["case_id"] != OWN_DOMESTIC]
    dynamic = (data["growth"] == 1) & (data["upgrading"] == 1)
    learning = data["ja_learning"] == 1
    table = [[int((learning & dynamic).sum()), int((learning & ~dynamic).sum())],
             [int((~learning & dynamic).sum()), int((~learning & ~dynamic).sum())]]
    row = tests[(tests["universe"] == 7) & (tests["outcome"] == "dynamic") & (tests["condition"] == "ja_learning")].iloc[0]
    assert row["test"] == "Fisher exact" and row["n"] == 24
    assert row["p_value"] == pytest.approx(_fisher_two_sided(table), abs=1e-9)


def _fisher_two_sided(table) -> float:
    """Fisher's two-sided p written out: the hypergeometric probability of every table with the observed
    margins (math.comb), summed over those no more probable than the observed one (R's relative tolerance 1e-7)."""
    (a, b), (c, d) = table
    row, col, n = a + b, a + c, a + b + c + d
    prob = {k: math.comb(col, k) * math.comb(n - col, row - k) / math.comb(n, row)
            for k in range(max(0, row + col - n), min(row, col) + 1)}
    return min(1.0, sum(q for q in prob.values() if q <= prob[a] * (1 + 1e-7)))


def test_the_summary_shares_are_counts_of_the_specifications(runs):
    study = runs[0]
    specs, summary = _read(study, "specifications"), _read(study, "summary")
    assert len(summary) == specs.groupby(["model", "term"]).ngroups
    for _, row in summary.iterrows():
        rows = specs[(specs["model"] == row["model"]) & (specs["term"] == row["term"])]
        own = rows[rows["universe"] == 1]["estimate"].iloc[0]
        assert row["universes"] == len(rows) == 8
        significant = sum(p < 0.05 for p in rows["p_value"])
        assert row["share_significant"] == pytest.approx(significant / 8)
        if abs(own) < 1e-8:  # a Firth estimate of exactly 0, up to rounding: no sign to keep
            assert pd.isna(row["share_same_sign"])
        else:
            same = sum((e > 0) == (own > 0) and abs(e) >= 1e-8 for e in rows["estimate"])
            assert row["share_same_sign"] == pytest.approx(same / 8)
        odds = np.exp(rows["estimate"])
        assert (row["odds_ratio_median"], row["odds_ratio_min"], row["odds_ratio_max"]) == pytest.approx(
            (np.median(odds), odds.min(), odds.max()), rel=1e-9)
        # moves most: the decision whose options' median estimates lie furthest apart
        spread = {d: rows.groupby(d)["estimate"].median().agg(lambda s: s.max() - s.min())
                  for d in ("dynamism", "split_clusters", "estimator")}
        top = max(spread.values())
        if top <= 1e-8:  # the same estimate in every universe, up to rounding: nothing moves it
            assert pd.isna(row["moves_most"]) and row["moved_by"] == 0
        else:
            assert row["moves_most"] == next(d for d, s in spread.items() if s >= top - 1e-8)
            assert row["moved_by"] == pytest.approx(spread[row["moves_most"]], abs=1e-9)
    tests, crosstabs = _read(study, "crosstab_specifications"), _read(study, "crosstab_summary")
    for _, row in crosstabs.iterrows():
        rows = tests[(tests["outcome"] == row["outcome"]) & (tests["condition"] == row["condition"])]
        assert row["share_significant"] == pytest.approx(np.mean(rows["p_value"] < 0.05))


def test_curve_inference_counts_the_observed_curve(runs):
    study = runs[0]
    specs, inference = _read(study, "specifications"), _read(study, "inference")
    for _, row in inference.iterrows():
        rows = specs[(specs["model"] == row["model"]) & (specs["term"] == row["term"])]
        significant = rows["p_value"] < 0.05
        assert row["median"] == pytest.approx(rows["estimate"].median())
        assert row["n_positive_significant"] == int((significant & (rows["estimate"] > 0)).sum())
        assert row["n_negative_significant"] == int((significant & (rows["estimate"] < 0)).sum())
        assert row["draws"] == DRAWS
        # shares of DRAWS curves: multiples of 1/DRAWS
        for column in ("share_median", "share_positive", "share_negative"):
            assert row[column] * DRAWS == pytest.approx(round(row[column] * DRAWS))
        if row["n_negative_significant"] == 0:
            assert row["share_negative"] == 1  # every curve has at least none


def test_chunks_gathered_equal_one_chunk_byte_for_byte(tmp_path):
    """2 universes in 3 chunks (one chunk holds none: its empty files must not change the merged numbers' types
    or format) against 1 chunk."""
    (tmp_path / "two").mkdir()
    (tmp_path / "one").mkdir()
    three = _run(_estimator_only(copy_project(tmp_path / "two")), 3)
    one = _run(_estimator_only(copy_project(tmp_path / "one")), 1)
    assert len(_read(three, "universes")) == 2
    paths3 = three.files("robustness", load_plan(three.plan_path, three.codebook()))
    paths1 = one.files("robustness", load_plan(one.plan_path, one.codebook()))
    assert set(paths3) == set(paths1)
    for key in paths3:
        if key.endswith((".docx", ".xlsx")) or key in ("docx", "xlsx"):
            continue  # their zip containers carry write times (byte-identical office files: issue 21 item 8)
        assert paths3[key].read_bytes() == paths1[key].read_bytes(), key


def test_the_tables_are_written_in_every_format(runs):
    study = runs[0]
    plan = load_plan(study.plan_path, study.codebook())
    for key, path in study.files("robustness", plan).items():
        assert path.is_file() and path.stat().st_size > 0, key
    table = (study.results_dir / "robustness" / "tables" / "robustness_models.md").read_text()
    assert "Sells internationally" in table and "What counts as dynamic" in table  # codebook and plan labels
    report = study.result("robustness", "report").read_text()
    assert "robustness across 8 universes" in report
    # the specification curves: a page per (model, term) of specifications.csv (12 models: 4 with 3 terms, 8 with 1)
    pages = study.result("robustness", "curves").read_bytes()
    assert len(re.findall(rb"/Type\s*/Page\b", pages)) == 3 * 6 == len(_read(study, "specifications")[["model", "term"]].drop_duplicates())
    assert b"/CreationDate" not in pages  # no date: the same inputs give the same bytes


@pytest.mark.parametrize("section, expected", [
    ({"decisions": [{"name": "d", "options": [{"name": "a"}, {"name": "b", "derived": {"dynamik": {"kind": "any_of", "of": ["growth"]}}}]}]},
     "at robustness/decisions/0/options/1/derived/dynamik: unknown derived variable 'dynamik'; did you mean dynamic"),
    ({"decisions": [{"name": "d", "options": [{"name": "a"}, {"name": "b", "derived": {"dynamic": {"kind": "any_of", "of": ["growht"]}}}]}]},
     "at robustness/decisions/0/options/1/derived/dynamic: dynamic: rule refers to unknown variable 'growht'"),
    ({"decisions": [{"name": "d", "options": [{"name": "a"}, {"name": "b", "exclude": "case == 'x'"}]}]},
     "at robustness/decisions/0/options/1/exclude: robustness/decisions/0/options/1/exclude: expression \"case == 'x'\": 'case' is not a column; closest: case_id"),
    ({"decisions": [{"name": "d", "options": [{"name": "a"}, {"name": "b", "exclude": "__import__('os')"}]}]},
     "is not allowed"),
    ({"decisions": [{"name": "d", "options": [{"name": "a", "models": {"method": "ml", "correction": "flic"}}]}]},
     "at robustness/decisions/0/options/0/models: correction flic corrects Firth fits"),
    ({"decisions": [{"name": "d", "options": [{"name": "a", "derived": {"dynamic": {"kind": "all_of", "of": ["growth", "upgrading"]}}}]},
                    {"name": "e", "options": [{"name": "a", "derived": {"dynamic": {"kind": "any_of", "of": ["growth"]}}}]}]},
     "decisions 'd' and 'e' both replace the rule of 'dynamic'"),
    ({"decisions": [{"name": "d", "options": [{"name": "a"}, {"name": "a"}]}]},
     "at robustness/decisions/0/options: two options are named 'a'"),
    ({"decisions": [{"name": "term", "options": [{"name": "a"}]}]},
     "at robustness/decisions/0/name: 'term' names a column of the robustness results"),
    ({"decisions": [{"name": "d", "options": [{"name": "a", "derived": {"dynamic": {"kind": "mean_of", "of": ["growth"]}}}]}]},
     "at robustness/decisions/0/options/0/derived/dynamic"),
    ({"decisions": [{"name": "d", "options": [{"name": "a", "coded": {"market_regional": {"kind": "any_of", "of": ["dynamic"]}}}]}]},
     "at robustness/decisions/0/options/0/coded/market_regional: market_regional: rule refers to unknown variable 'dynamic'"),
    ({"decisions": [{"name": "d", "options": [{"name": "a"}]}], "chunks": 0}, "at robustness/chunks: 0 is less than the minimum of 1"),
])
def test_a_bad_robustness_section_is_refused_naming_the_key_path(root, section, expected):
    study = Study(root, STUDY)
    codebook = study.codebook()
    raw = {k: v for k, v in read_plan(study.plan_path).items() if k != "robustness"}
    with pytest.raises(CasemetaError) as err:
        plan_from_dict({**raw, "robustness": section}, codebook, "analysis/african_clusters.yaml")
    text = str(err.value)
    assert "analysis/african_clusters.yaml" in text and expected in text, text


def test_a_plan_without_the_section_has_no_multiverse(root):
    study = Study(root, "pipkin_fuentes")
    plan = load_plan(study.plan_path, study.codebook())
    assert not plan.robustness.multiverse and study.files("robustness", plan) == {} and study.files("robustness_chunk", plan) == {}


def test_a_coded_rule_recodes_before_deriving_and_exclusions_drop_cases(root):
    from casemeta.coded.universes import universe_frame

    study = Study(root, STUDY)
    codebook = study.codebook()
    cases = load_cases(study.cases_path, codebook)
    frame = universe_frame(cases, codebook, {"dynamic": {"kind": "all_of", "of": ["growth", "upgrading"]}},
                           {"market_international": {"kind": "any_of", "of": ["market_international", "market_regional"]}},
                           ("country == 'Kenya'",), "test")
    kept = cases[cases["country"] != "Kenya"]
    assert list(frame["case_id"]) == list(kept["case_id"])
    # a regional market now counts as international, and the derived variable built on it follows
    by_hand = ((kept["market_international"] == 1) | (kept["market_regional"] == 1)).astype(int)
    assert list(frame["sells_internationally"]) == list(by_hand)
    assert list(frame["dynamic"]) == list(((kept["growth"] == 1) & (kept["upgrading"] == 1)).astype(int))
    assert (frame["market_regional"] == kept["market_regional"]).all()  # the source itself is as coded


def test_chunks_split_on_the_decision_that_changes_the_most_fits(root):
    """The shipped decisions: leaving Dormiatt's domestic case out changes the data of all 12 models and 27
    tests; what counts as dynamic only those reading `dynamic`; the estimator only the 12 models. So the
    chunks split on the Dormiatt decision (universes numbered with the estimator varying fastest, then
    Dormiatt, then dynamism: as_coded are 1, 2, 5, 6), and no universe is in two chunks."""
    from casemeta.stats.multiverse import chunk, chunk_order

    study = Study(root, STUDY)
    codebook = study.codebook()
    plan = load_plan(study.plan_path, codebook)
    order = chunk_order(plan, codebook)
    assert sorted(u.number for u in chunk(order, 1, 2)) == [1, 2, 5, 6]
    assert sorted(u.number for u in chunk(order, 2, 2)) == [3, 4, 7, 8]
    assert {u.choices[1] for u in chunk(order, 1, 2)} == {"as_coded"}
    thirds = [u.number for i in (1, 2, 3) for u in chunk(order, i, 3)]
    assert sorted(thirds) == list(range(1, 9))


def test_a_changed_variable_reaches_every_derived_variable_built_on_it():
    """dependents(): through `of`, `variable` and the names in a first_match's `when`, however indirectly."""
    from types import SimpleNamespace

    from casemeta.coded.codebook import Variable, dependents

    def derived(name, rule):
        return Variable(name, name, "binary", rule=rule)

    book = SimpleNamespace(derived=[
        derived("a", {"kind": "any_of", "of": ["x", "y"]}),
        derived("b", {"kind": "is_in", "variable": "a", "values": [1]}),
        derived("c", {"kind": "first_match", "cases": [{"when": "b == 1 and z > 2", "value": "1"}]}),
        derived("d", {"kind": "count_of", "of": ["z"]}),
    ])
    assert dependents(book, {"x"}) == {"x", "a", "b", "c"}
    assert dependents(book, {"z"}) == {"z", "c", "d"}
    assert dependents(book, {"w"}) == {"w"}
