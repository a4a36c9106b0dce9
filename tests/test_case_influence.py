"""Case influence lists exactly the cases whose removal flips a sign or the 5% significance of a finding.

Every expectation comes from a refit by hand: each case dropped in turn and the model refitted with the fitting
function itself (fit_logistic, profile intervals as the main run), or, for a cross-tab test, Fisher's exact p
worked out from the hypergeometric formula (math.comb, below) and the sign of ad - bc (a 2×2 table's odds
ratio, sample or conditional ML, exceeds 1 exactly when ad > bc, since ad - bc = a·n - row₁·column₁).

The first study is SYNTHETIC: 9 made-up cases, identified by a column named `cluster_code` (not case_id):

    case  y  x  w  v      y by x:   x=1: y=1 cases 1-3 (a=3), y=0 case 4 (b=1); x=0: y=1 none (c=0), y=0 cases 5-9 (d=5)
    c1    1  1  1  0      y by w:   a = case 1, b = case 4, c = cases 2, 3, d = cases 5-9: ad - bc = 5 - 2 = 3 > 0
    c2    1  1  0  0      y by v:   v = 1 only for case 9
    c3    1  1  0  0
    c4    0  1  1  0
    c5    0  0  0  0
    c6    0  0  0  0
    c7    0  0  0  0
    c8    0  0  0  0
    c9    0  0  0  1

Fisher's p of y by x, worked out (row sums r₁ = a + b, r₂ = c + d, first column k₁ = a + c; P(a = k) =
C(r₁, k) C(r₂, k₁ - k) / C(n, k₁); p = the sum of P over tables no more probable than the observed one):
    all 9:           r = (4, 5), k₁ = 3: C(4,k)C(5,3-k) = 10, 40, 30, 4 (k = 0..3) of 84; observed k = 3: p = 4/84 = 0.0476
    without c1..c3:  (2,1,0,5): C(3,k)C(5,2-k) = 10, 15, 3 of 28; p = 3/28 = 0.107        -> significance flips
    without c4:      (3,0,0,5): C(3,k)C(5,3-k) = 10, 30, 15, 1 of 56; p = 1/56 = 0.018   -> stays significant
    without c5..c9:  (3,1,0,4): C(4,k)C(4,3-k) = 4, 24, 24, 4 of 56; p = 8/56 = 0.143     -> significance flips
y by w: ad - bc = 3 with every case; without c1 (a = 0): 0·5 - 1·2 = -2, the sign reverses; without any other
case it stays positive (c4: 5, c2/c3: 4, c5..c9: 2). Without c9, v is 0 in every case: neither the model
y ~ v nor the test of y by v can be computed (not_estimable).
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from casemeta.coded.codebook import Codebook, Variable
from casemeta.errors import CasemetaError
from casemeta.plan import plan_from_dict
from casemeta.stats.case_influence import ALPHA, case_influence, sentence
from casemeta.stats.logistic_models import fit_logistic

ROOT = Path(__file__).resolve().parents[1]

CODEBOOK = Codebook(
    study="synthetic_influence",
    title="Synthetic study of case influence",
    variables=(
        Variable("cluster_code", "Cluster", "identifier"),
        Variable("y", "Outcome Y", "binary"),
        Variable("x", "Condition X", "binary"),
        Variable("w", "Condition W", "binary"),
        Variable("v", "Condition V", "binary"),
    ),
)
Y = (1, 1, 1, 0, 0, 0, 0, 0, 0)
X = (1, 1, 1, 1, 0, 0, 0, 0, 0)
W = (1, 0, 0, 1, 0, 0, 0, 0, 0)
V = (0, 0, 0, 0, 0, 0, 0, 0, 1)


def synthetic() -> pd.DataFrame:
    return pd.DataFrame({"cluster_code": [f"c{i}" for i in range(1, 10)],
                         **{name: pd.array(values, dtype="Int64") for name, values in zip("yxwv", (Y, X, W, V))}})


def fisher_by_hand(a: int, b: int, c: int, d: int) -> float:
    """Fisher's exact two-sided p from the hypergeometric formula (tables no more probable than the observed)."""
    r1, r2, k1 = a + b, c + d, a + c
    weights = {k: math.comb(r1, k) * math.comb(r2, k1 - k) for k in range(max(0, k1 - r2), min(r1, k1) + 1)}
    return sum(w for w in weights.values() if w <= weights[a]) / math.comb(r1 + r2, k1)


def freeman_halton_by_hand(table: np.ndarray) -> float:
    """The exact r×2 test by listing every first column with the observed margins: P = Π C(rᵢ, kᵢ) / C(n, k₁)."""
    table = table[table.sum(axis=1) > 0]
    rows, k1 = table.sum(axis=1), int(table[:, 0].sum())
    weight = lambda col: math.prod(math.comb(int(r), int(k)) for r, k in zip(rows, col))  # noqa: E731
    observed = weight(table[:, 0])
    total = sum(w for col in itertools.product(*(range(int(r) + 1) for r in rows)) if sum(col) == k1
                for w in [weight(col)] if w <= observed * (1 + 1e-7))
    return total / math.comb(int(rows.sum()), k1)


def direction(value: float) -> int:
    return 0 if np.isnan(value) or abs(value) <= 1e-8 else int(np.sign(value))


def expected_change(est_all, est_wo, p_all, p_wo) -> str | None:
    """The module's definition, restated: blank where the main run had a number -> not_estimable; else a sign
    reversal and/or p on the other side of 0.05."""
    if (not np.isnan(est_all) and np.isnan(est_wo)) or (not np.isnan(p_all) and np.isnan(p_wo)):
        return "not_estimable"
    sign = direction(est_all) * direction(est_wo) < 0
    sig = not np.isnan(p_all) and (p_all < ALPHA) != (p_wo < ALPHA)
    return "both" if sign and sig else "sign" if sign else "significance" if sig else None


def two_by_two(frame: pd.DataFrame, outcome: str, condition: str) -> tuple[int, int, int, int]:
    y, x = frame[outcome].astype(int), frame[condition].astype(int)
    return (int(((x == 1) & (y == 1)).sum()), int(((x == 1) & (y == 0)).sum()),
            int(((x == 0) & (y == 1)).sum()), int(((x == 0) & (y == 0)).sum()))


def test_fisher_by_hand_matches_the_worked_numbers():
    assert fisher_by_hand(3, 1, 0, 5) == pytest.approx(4 / 84)
    assert fisher_by_hand(2, 1, 0, 5) == pytest.approx(3 / 28)
    assert fisher_by_hand(3, 0, 0, 5) == pytest.approx(1 / 56)
    assert fisher_by_hand(3, 1, 0, 4) == pytest.approx(8 / 56)


def test_crosstab_tests_list_exactly_the_cases_worked_out_by_hand():
    plan = plan_from_dict({"crosstabs": {"outcomes": ["y"], "conditions": ["x", "w", "v"]}}, CODEBOOK)
    changes, findings = case_influence(synthetic(), plan, CODEBOOK, draws=1000, seed=1)
    listed = {(r.term, r.case): r.change for r in changes.itertuples()}
    # y by x: the worked numbers above
    assert {c: w for (t, c), w in listed.items() if t == "x"} == {
        **{f"c{i}": "significance" for i in (1, 2, 3, 5, 6, 7, 8, 9)}}
    row = changes[(changes["term"] == "x") & (changes["case"] == "c1")].iloc[0]
    assert row["p_all"] == pytest.approx(4 / 84) and row["p_without"] == pytest.approx(3 / 28)
    assert row["estimate_all"] == np.inf  # a zero cell (c = 0): the odds ratio is infinite
    # y by w: only c1 reverses the sign; y by v: without c9 there is nothing to test
    assert {c: w for (t, c), w in listed.items() if t == "w"} == {"c1": "sign"}
    assert {c: w for (t, c), w in listed.items() if t == "v"} == {"c9": "not_estimable"}
    # and the same from the hand formulas, case by case, for every test
    frame = synthetic()
    for condition in ("x", "w"):
        a, b, c, d = two_by_two(frame, "y", condition)
        p_all, sign_all = fisher_by_hand(a, b, c, d), np.sign(a * d - b * c)
        expected = {}
        for i in range(len(frame)):
            cells = two_by_two(frame.drop(index=i), "y", condition)
            p_wo = fisher_by_hand(*cells)
            what = expected_change(float(sign_all), float(np.sign(cells[0] * cells[3] - cells[1] * cells[2])), p_all, p_wo)
            if what:
                expected[frame["cluster_code"][i]] = what
        assert {c: w for (t, c), w in listed.items() if t == condition} == expected, condition
    verdicts = dict(zip(findings["term"], findings["verdict"]))
    assert verdicts == {"x": "rests_on", "w": "rests_on", "v": "rests_on"}


def hand_loop_models(frame: pd.DataFrame, id_column: str, plan) -> dict[tuple[str, str, str], str]:
    """(model, term, case) -> change, by dropping each case and calling fit_logistic on what is left."""
    out = {}
    for m in plan.models:
        full = fit_logistic(frame, m.formula, m.method, interval="wald").terms.set_index("term")
        for i in range(len(frame)):
            rest = frame.drop(index=frame.index[i])
            try:
                refit = fit_logistic(rest, m.formula, m.method, interval="wald").terms.set_index("term")
            except CasemetaError:  # not estimable without this case (here: a constant predictor)
                refit = None
            for term in full.index.drop("Intercept"):
                est_wo, p_wo = (np.nan, np.nan) if refit is None else (refit.at[term, "estimate"], refit.at[term, "p_value"])
                what = expected_change(full.at[term, "estimate"], est_wo, full.at[term, "p_value"], p_wo)
                if what:
                    out[(m.name, term, str(frame[id_column].iloc[i]))] = what
    return out


def test_models_list_exactly_the_cases_a_hand_refit_finds():
    plan = plan_from_dict({"models": {"outcomes": ["y"], "predictor_sets": {"w": ["w"], "v": ["v"]}}}, CODEBOOK)
    frame = synthetic()
    changes, findings = case_influence(frame, plan, CODEBOOK, draws=1000, seed=1)
    got = {(r.model, r.term, r.case): r.change for r in changes.itertuples()}
    assert got == hand_loop_models(frame, "cluster_code", plan)
    assert got[("y ~ v", "v", "c9")] == "not_estimable"  # v constant without c9
    note = changes.loc[changes["case"] == "c9", "note"].iloc[0]
    assert "predictor v is 0 in every case" in note
    # the refit's method: the main run's rule (auto -> Firth where the cases separate)
    assert set(findings["method_all"]) == {"ml", "firth"}


def clusters_frame():
    from casemeta.coded.case_table import read_typed
    from casemeta.coded.derive import derive
    from casemeta.study import Study

    study = Study(ROOT, "african_clusters")
    codebook = study.codebook()
    # read with the codebook's types, not validated again (the validation tests do that): 0.1 s instead of 4
    return derive(read_typed(study.cases_path, codebook), codebook), codebook


def test_african_clusters_against_a_hand_loop():
    """One model (growth ~ any joint action: p = 0.047 with every case) and two tests (dynamic by ja_logistics,
    2×2; dynamic by market orientation, 5×2), each case dropped by hand."""
    frame, codebook = clusters_frame()
    plan = plan_from_dict({"crosstabs": {"outcomes": ["dynamic"], "conditions": ["ja_logistics", "market_orientation"]},
                           "models": {"outcomes": ["growth"], "predictor_sets": {"joint_action": ["any_joint_action"]}}},
                          codebook)
    changes, findings = case_influence(frame, plan, codebook, draws=1000, seed=1)
    ids = frame[codebook.id_column].tolist()
    got = {(r.model or r.outcome, r.term, r.case): r.change for r in changes.itertuples()}
    expected = hand_loop_models(frame, codebook.id_column, plan)
    # the tests by hand: Fisher from the hypergeometric formula, Freeman–Halton by listing the tables
    a, b, c, d = two_by_two(frame, "dynamic", "ja_logistics")
    p_all = fisher_by_hand(a, b, c, d)
    groups = list(codebook.variable("market_orientation").allowed_values)

    def market_table(data):
        return np.array([[int(((data["market_orientation"] == g) & (data["dynamic"] == o)).sum()) for o in (0, 1)]
                         for g in groups])
    p_market = freeman_halton_by_hand(market_table(frame))
    for i, case in enumerate(ids):
        rest = frame.drop(index=frame.index[i])
        cells = two_by_two(rest, "dynamic", "ja_logistics")
        what = expected_change(float(np.sign(a * d - b * c)), float(np.sign(cells[0] * cells[3] - cells[1] * cells[2])),
                               p_all, fisher_by_hand(*cells))
        if what:
            expected[("dynamic", "ja_logistics", case)] = what
        what = expected_change(np.nan, np.nan, p_market, freeman_halton_by_hand(market_table(rest)))
        if what:
            expected[("dynamic", "market_orientation", case)] = what
    assert got == expected
    # what the main run reports (Kaplinsky's 25 clusters): p = 0.047 for any joint action on growth; 18 of the 25
    # clusters each carry it across 0.05
    model = findings[findings["kind"] == "model"].iloc[0]
    assert model["p_all"] == pytest.approx(0.0474, abs=5e-5) and len(model["changes"]) == 18
    # the hand refits' numbers are the table's
    row = changes[changes["kind"] == "model"].iloc[0]
    refit = fit_logistic(frame[frame[codebook.id_column] != row["case"]], "growth ~ any_joint_action").terms.set_index("term")
    assert row["estimate_without"] == pytest.approx(refit.at["any_joint_action", "estimate"], abs=1e-6)
    assert row["p_without"] == pytest.approx(refit.at["any_joint_action", "p_value"], abs=1e-6)


def test_sentences_say_holds_or_rests_on_from_the_records():
    holds = {"verdict": "holds", "cases_left_out": 9, "p_all": 0.3, "changes": ()}
    assert sentence(holds, "Y by W") == ("Y by W: holds without any single case (9 case(s) left out in turn: "
                                         "no sign reverses, no p-value crosses 0.05).")
    rests = {"verdict": "rests_on", "cases_left_out": 9, "p_all": 0.0476,
             "changes": (("c1", "significance"), ("c2", "significance"), ("c9", "not_estimable"))}
    assert sentence(rests, "Y by X", case=str.upper) == (
        "Y by X: rests on cases C1, C2 (without any one of them, p rises to 0.05 or above); "
        "C9 (without it, it cannot be estimated).")
    one = {"verdict": "rests_on", "cases_left_out": 9, "p_all": 0.2, "changes": (("c1", "both"),)}
    assert sentence(one, "S") == "S: rests on case c1 (without it, the sign reverses and p falls below 0.05)."


def synthetic_project(root: Path) -> Path:
    """The SYNTHETIC 9 cases above as a project: codebook, cases, a plan with case influence."""
    import yaml

    coded = root / "data" / "coded" / "synthetic_influence"
    coded.mkdir(parents=True)
    (root / "analysis").mkdir()
    (root / "Snakefile").write_text("", encoding="utf-8")
    book = {"study": "synthetic_influence", "title": "SYNTHETIC study of case influence", "variables": [
        {"name": "cluster_code", "label": "Cluster", "type": "identifier"},
        *({"name": n, "label": f"Condition {n.upper()}" if n != "y" else "Outcome Y", "type": "binary"} for n in "yxwv")]}
    (coded / "codebook.yaml").write_text("# SYNTHETIC: made-up cases\n" + yaml.safe_dump(book, sort_keys=False), encoding="utf-8")
    synthetic().to_csv(coded / "cases.csv", index=False)
    plan = {"study": "synthetic_influence", "crosstabs": {"outcomes": ["y"], "conditions": ["x", "w"]},
            "models": {"outcomes": ["y"], "predictor_sets": {"v": ["v"]}}, "robustness": {"case_influence": True}}
    (root / "analysis" / "synthetic_influence.yaml").write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return root


def test_the_command_writes_the_files_the_study_lists_and_refuses_others(tmp_path, capsys):
    from casemeta.cli import main
    from casemeta.plan import load_plan
    from casemeta.study import Study

    root = synthetic_project(tmp_path)
    study = Study(root, "synthetic_influence")
    derived = tmp_path / "derived.csv"
    from casemeta import atomic_io
    from casemeta.coded.derive import derive

    atomic_io.write_csv(derived, derive(synthetic(), study.codebook()))  # what `casemeta derive` writes, unvalidated
    files = study.files("case_influence", load_plan(study.plan_path, study.codebook()))
    wrong = [*list(files.values())[:-1], tmp_path / "other.csv"]
    assert main(["--root", str(root), "case-influence", "--study", study.name, "--derived", str(derived), "--out",
                 *map(str, wrong)]) == 1
    assert "not the ones the plan gives" in capsys.readouterr().err
    assert not any(p.exists() for p in files.values())
    assert main(["--root", str(root), "case-influence", "--study", study.name, "--derived", str(derived), "--draws", "100",
                 "--out", *map(str, files.values())]) == 0
    assert all(p.is_file() for p in files.values())
    changes = pd.read_csv(files["changes"])
    assert set(zip(changes["term"], changes["case"], changes["change"])) >= {("w", "c1", "sign"), ("v", "c9", "not_estimable")}
    report = files["report"].read_text(encoding="utf-8")
    # the sentences, with the codebook's labels
    assert "- Outcome Y by Condition W: rests on case c1 (without it, the sign reverses)." in report
    table = files["influential_cases.md"].read_text(encoding="utf-8")
    assert "Outcome Y by Condition X" in table and "significance at 0.05" in table
