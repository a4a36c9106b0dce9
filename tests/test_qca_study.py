"""QCA as a step: the `casemeta qca` command, the plan's `qca:` section, and studies of every size.

The small frames are SYNTHETIC, made up to put the analysis in a corner; what they must give is
worked out by hand in the comments.
"""

from __future__ import annotations

import warnings

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from casemeta.cli import main
from casemeta.errors import CasemetaError
from casemeta.plan import load_plan
from casemeta.stats.qca import QcaSpec, run_qca
from casemeta.steps.qca_runs import publish
from casemeta.study import Study, qca_files
from conftest import REFERENCE
from test_plan_check import _edit


def synthetic(y, a, b) -> pd.DataFrame:
    return pd.DataFrame({"y": y, "A": a, "B": b}, index=[f"case_{i}" for i in range(len(y))], dtype=float)


SPEC = QcaSpec("y", ["A", "B"], expectations={"A": 1, "B": 1})


@pytest.fixture(autouse=True)
def warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("frame, expected_note", [
    (synthetic([], [], []), "no cases yet"),
    # one case, outcome absent: its configuration A*B has inclusion 0, so nothing is sufficient
    (synthetic([0], [1], [1]), "no solution: no configuration has y with inclusion ≥ 1"),
    # one outcome class: the outcome is absent in every case
    (synthetic([0, 0], [1, 0], [0, 1]), "no solution: no configuration has y with inclusion ≥ 1"),
])
def test_a_study_too_small_for_a_solution_says_why(frame, expected_note, tmp_path):
    result = run_qca(frame, SPEC)
    assert result.solutions.empty
    said = [c.message() for c in result.caveats]
    assert any(n.startswith(expected_note) for n in said), said
    assert len(result.truth_table) == len(set(map(tuple, frame[["A", "B"]].to_numpy())))
    files = {k: tmp_path / Path(v).relative_to("results/{study}/qca/small") for k, v in qca_files("small").items()}
    publish(result, SPEC, "small", files, list(frame.index))  # tables and plots are written all the same
    assert (tmp_path / "tables" / "solutions.md").is_file() and (tmp_path / "figures" / "xy_plots.png").is_file()


def test_two_cases_one_each_way():
    """case_0 (A, ~B) has y, case_1 (~A, B) has not. Conservative: A*~B; parsimonious with the remainders
    A*B and ~A*~B free: A alone or ~B alone both cover case_0 without case_1 -> two models of one term each."""
    result = run_qca(synthetic([1, 0], [1, 0], [0, 1]), SPEC)
    got = result.solutions[result.solutions["term"] != "(model)"]
    assert got[got["solution"] == "conservative"]["term"].tolist() == ["A*~B"]
    assert sorted(got[got["solution"] == "parsimonious"]["term"]) == ["A", "~B"]
    assert sorted(got[got["solution"] == "parsimonious"]["model"]) == [1, 2]
    # necessity of A for y: the one case with y has A -> inclN 1; A covers 1 of its 1 case -> covN 1;
    # RoN = Σ(1−A) / Σ(1−min(A,y)) = 1 / 1
    assert result.necessity.set_index("condition").loc["A"].tolist() == [1.0, 1.0, 1.0]


def test_a_half_membership_is_refused_naming_the_case():
    with pytest.raises(CasemetaError, match="case case_1: A = 0.5"):
        run_qca(synthetic([1, 0], [1, 0.5], [0, 1]), SPEC)


def test_cli_writes_the_three_csvs_with_the_issue_columns(tmp_path, capsys):
    code = main(["qca", str(REFERENCE / "qca_lipset_lc.csv"), "--outcome", "SURV", "--conditions", "DEV,URB,LIT,IND,STB",
                 "--dir-exp", "DEV=1,URB=1,LIT=1,IND=1,STB=1", "--out", str(tmp_path)])
    assert code == 0
    assert list(pd.read_csv(tmp_path / "truth_table.csv").columns) == ["DEV", "URB", "LIT", "IND", "STB", "OUT", "n", "incl", "PRI", "cases"]
    solutions = pd.read_csv(tmp_path / "solutions.csv")
    assert list(solutions.columns) == ["solution", "model", "term", "inclS", "PRI", "covS", "covU", "cases"]
    assert solutions.loc[solutions["solution"] == "parsimonious", "term"].tolist() == ["DEV*STB", "(model)"]
    assert list(pd.read_csv(tmp_path / "necessity.csv").columns) == ["condition", "inclN", "RoN", "covN"]
    assert "18 case(s): 9 configuration(s) observed, 23 remainder(s)" in capsys.readouterr().out


def test_cli_refuses_a_value_that_is_no_membership(tmp_path, capsys):
    data = tmp_path / "bad.csv"
    data.write_text("case,A,y\nx1,2,1\nx2,0,0\n")
    assert main(["qca", str(data), "--outcome", "y", "--conditions", "A", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert f"{data}: 1 value(s) are not set memberships" in err and "case x1: A = 2\n" in err


@pytest.mark.parametrize("old, new, expected", [
    ("conditions: [sells_internationally, n_external_economies, ja_learning,", "conditions: [sells_internationally, n_external_economies, ja_learnin,",
     "at qca/0/conditions/2: unknown variable 'ja_learnin'; did you mean ja_learning"),
    ("    calibrate: {n_external_economies: [0, 1.5, 4]}\n    incl_cut: 0.8\n    n_cut", "    incl_cut: 0.8\n    n_cut",
     "at qca/0/conditions/1: set (uncalibrated) 'n_external_economies' has type integer; a set (uncalibrated) must be binary"),
    ("dir_exp: {sells_internationally: 1,", "dir_exp: {sells_internationaly: 1,",
     "at qca/0/dir_exp/sells_internationaly: unknown condition of this QCA 'sells_internationaly'; did you mean sells_internationally"),
    ("calibrate: {n_external_economies: [0, 1.5, 4]}", "calibrate: {n_external_economies: [0, 5, 4]}",
     "at qca/0/calibrate/n_external_economies: anchors 0, 5, 4"),
    ("  - name: no_dynamism", "  - name: dynamism", "at qca: two QCAs are named 'dynamism'"),
])
def test_the_qca_plan_section_is_checked(project, old, new, expected):
    path = _edit(project, old, new)
    with pytest.raises(CasemetaError) as err:
        load_plan(path, Study(project, "african_clusters").codebook())
    assert expected in str(err.value)


def test_a_study_with_no_cases_yet_says_so(project, capsys):
    study = Study(project, "pipkin_fuentes")
    derived = project / "derived.csv"
    assert main(["--root", str(project), "validate", "--study", study.name, "--out", str(project / "valid.csv")]) == 0
    assert main(["--root", str(project), "derive", "--study", study.name, "--cases", str(project / "valid.csv"), "--out", str(derived)]) == 0
    assert main(["--root", str(project), "qca-study", "--study", study.name, "--derived", str(derived)]) == 0
    assert "No cases yet" in study.result("qca", "summary").read_text()
    plan = load_plan(study.plan_path, study.codebook())
    assert pd.read_csv(study.files("qca", plan)["beyond_treadmilling/data/solutions"]).empty


def test_clusters_qca_reads_the_calibrated_external_economies(clusters):
    """n_external_economies 4 is fully in at log odds log(0.95/0.05): membership 0.95; 0 -> 0.05;
    2 lies 0.5/2.5 of the way to full membership: 1/(1+exp(−0.2·log 19))."""
    from casemeta.steps.qca_runs import calibrated
    got = calibrated(pd.DataFrame({"e": [0, 2, 4]}), {"e": [0, 1.5, 4]})["e"].to_numpy()
    assert got == pytest.approx([0.05, 1 / (1 + np.exp(-0.2 * np.log(19))), 0.95])


def test_tables_and_xy_plots_show_codebook_labels_and_no_label_overlaps(tmp_path, monkeypatch):
    """Issue 20, item 6: QCA tables and XY plots name conditions by their codebook labels; in the plot grid no
    two texts overlap (axis labels of neighbouring panels, labels of close points)."""
    from matplotlib.text import Annotation

    from casemeta.coded.codebook import Codebook, Variable
    from casemeta.publish import qca_figures

    codebook = Codebook("synthetic", "Synthetic", (
        Variable("case_id", "Case", "identifier"), Variable("y", "Outcome with a long label (growth or upgrading)", "binary"),
        Variable("A", "First condition with a rather long codebook label", "binary"),
        Variable("B", "Second condition, also labelled at length", "binary")))
    # case_0 (A, ~B) has y, case_1 (~A, B) has not: conservative A*~B, parsimonious A or ~B (see above)
    frame = synthetic([1, 0, 1, 1], [1, 0, 1, 1], [0, 1, 0, 0])
    result = run_qca(frame, SPEC)
    figures = []
    monkeypatch.setattr(qca_figures, "_save", lambda fig, stem: figures.append(fig) or [])
    files = {k: tmp_path / Path(v).relative_to("results/{study}/qca/small") for k, v in qca_files("small").items()}
    publish(result, SPEC, "small", files, list(frame.index), codebook)
    truth = (tmp_path / "tables" / "truth_table.md").read_text()
    assert "| First condition with a rather long codebook label | Second condition, also labelled at length |" in truth
    assert "Truth table: Outcome with a long label (growth or upgrading)" in truth
    solutions = (tmp_path / "tables" / "solutions.md").read_text()
    assert "| First condition with a rather long codebook label \\* \\~Second condition, also labelled at length |" in solutions
    assert "\\* joins conditions (and)" in solutions and "| A\\*\\~B |" not in solutions
    necessity = (tmp_path / "tables" / "necessity.md").read_text()
    assert "| \\~First condition with a rather long codebook label |" in necessity
    assert result.solutions["term"].iloc[0] == "A*~B"  # the results data keep the names

    fig, = figures
    renderer = fig.canvas.get_renderer()
    axes = [ax for ax in fig.axes if ax.axison]
    assert [ax.get_ylabel() for ax in axes][0].replace("\n", " ") == "Outcome with a long label (growth or upgrading)"
    assert "First condition with a rather long codebook label * ~Second" in axes[0].get_xlabel().replace("\n", " ")
    texts = [t.get_window_extent(renderer) for ax in axes for t in (ax.xaxis.label, ax.title)]
    points = [(ax, t.get_window_extent(renderer)) for ax in axes for t in ax.texts if isinstance(t, Annotation)]
    assert len(points) == 2 * len(axes)  # (1, 1): case_0 and its twins, (0, 0): case_1
    boxes = texts + [box for _, box in points]
    assert not [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:] if a.overlaps(b)]
    for ax, box in points:
        inside = ax.get_window_extent(renderer)
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1


def test_point_labels_of_neighbouring_points_do_not_overlap():
    """Two stacks of crisp cases 0.09 apart at the top right (as in african_clusters' dynamism): their labels
    "3 cases" and "7 cases" would overlap where both sit above right of their points."""
    from matplotlib.text import Annotation

    from casemeta.publish import qca_figures

    x = np.array([0.857] * 3 + [0.95] * 7 + [0.0] * 9)
    y = np.array([1.0] * 10 + [0.0] * 9)
    figures = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(qca_figures, "_save", lambda fig, stem: figures.append(fig) or [])
        qca_figures.xy_grid([(x, "A * B", "M1")], y, [f"c{i}" for i in range(19)], "Y", Path("unused"))
    fig, = figures
    renderer = fig.canvas.get_renderer()
    boxes = {t.get_text(): t.get_window_extent(renderer) for t in fig.axes[0].texts if isinstance(t, Annotation)}
    assert sorted(boxes) == ["3 cases", "7 cases", "9 cases"]
    assert not boxes["3 cases"].overlaps(boxes["7 cases"])
    assert boxes["7 cases"].x1 <= fig.axes[0].get_window_extent(renderer).x1  # not off the plot at x = 0.95
