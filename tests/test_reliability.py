"""Agreement between coders. Coder files here are SYNTHETIC, made up for the test, except the
irrCAC reference (Gwet's cac.ben.gerry) in tests/data/reference/."""

import re
import warnings

import krippendorff
import numpy as np
import pandas as pd
import pytest

from casemeta.cli import main
from casemeta.errors import CasemetaError
from casemeta.stats.reliability import agreement
from casemeta.steps.reliability_files import coder_reliability
from conftest import REFERENCE


def reliability(paths, id_column="case_id", codebook=None):  # the synthetic files below name their cases case_id
    table, disagreements, _ = coder_reliability(paths, id_column, codebook)
    return table, disagreements


def write(tmp_path, name, rows):
    path = tmp_path / f"{name}.csv"
    pd.DataFrame(rows, columns=["case_id", "growth", "country"]).to_csv(path, index=False)
    return path


@pytest.fixture
def two_coders(tmp_path):
    a = write(tmp_path, "coder_a", [["c1", "1", "X"], ["c2", "0", "X"], ["c3", "1", "Y"], ["c4", "1", "Y"], ["c5", "", "Z"]])
    b = write(tmp_path, "coder_b", [["c1", "1", "X"], ["c2", "0", "X"], ["c3", "0", "Y"], ["c4", "1", "Y"], ["c5", "1", "Z"]])
    return a, b


def test_two_coders_by_hand(two_coders):
    table, _ = reliability(list(two_coders))
    growth = table.set_index("variable").loc["growth"]
    # c5 has one code only: 4 cases coded twice, 3 of them agree
    assert growth["n"] == 4
    assert growth["percent_agreement"] == pytest.approx(75.0)
    # kappa as irrCAC (Conger) computes it: each coder's marginal from all that coder's codes,
    # a: 1 in 3 of 4, b: 1 in 3 of 5; p_e = 3/4·3/5 + 1/4·2/5 = 11/20, (3/4 - 11/20) / (9/20) = 4/9
    assert growth["cohen_kappa"] == pytest.approx(4 / 9)
    # alpha (nominal): D_o = 2/8, D_e = 2·5·3/(8·7) = 30/56, alpha = 1 - (2/8)/(30/56) = 8/15
    assert growth["krippendorff_alpha"] == pytest.approx(8 / 15)


def test_equals_scikit_learn_and_krippendorff_with_missing_values(two_coders, tmp_path):
    table, _ = reliability(list(two_coders))
    a, b = [np.array([1, 0, 1, 1, np.nan]), np.array([1, 0, 0, 1, 1])]
    assert table.set_index("variable").at["growth", "krippendorff_alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=np.vstack([a, b]), level_of_measurement="nominal"))


def test_three_coders_get_alpha_but_no_kappa(tmp_path, two_coders):
    c = write(tmp_path, "coder_c", [["c1", "0", "X"], ["c2", "0", "X"], ["c3", "", "Y"], ["c4", "1", "Y"], ["c5", "1", "Z"]])
    table, disagreements = reliability([*two_coders, c])
    growth = table.set_index("variable").loc["growth"]
    assert np.isnan(growth["cohen_kappa"])
    data = np.array([[1, 0, 1, 1, np.nan], [1, 0, 0, 1, 1], [0, 0, np.nan, 1, 1]])
    assert growth["krippendorff_alpha"] == pytest.approx(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
    # percent agreement is the mean share of agreeing pairs of codes (Gwet, irrCAC): c1 (1, 1, 0) 1 of 3
    # pairs, c2 (0, 0, 0) 1, c3 (1, 0, -) 0, c4 1, c5 (-, 1, 1) 1: (1/3 + 3) / 5 = 2/3
    assert growth["n"] == 5 and growth["percent_agreement"] == pytest.approx(200 / 3)
    # c1 and c3 disagree; so does c5, where coder a left a blank beside the others' 1
    assert disagreements[["case_id", "variable"]].values.tolist() == [["c1", "growth"], ["c3", "growth"], ["c5", "growth"]]
    assert disagreements.iloc[1][["coder_a", "coder_b", "coder_c"]].tolist() == ["1", "0", ""]


def test_perfect_agreement_on_a_single_value_leaves_alpha_undefined(two_coders):
    table, _ = reliability(list(two_coders))
    country = table.set_index("variable").loc["country"]
    assert country["percent_agreement"] == 100.0
    assert country["n"] == 5


def test_command_writes_agreement_and_disagreements(two_coders, tmp_path, capsys):
    out = tmp_path / "rel.csv"
    assert main(["reliability", *map(str, two_coders), "--out", str(out)]) == 0
    columns = list(pd.read_csv(out).columns)
    for name in ("percent_agreement", "cohen_kappa", "gwet_ac1", "krippendorff_alpha"):
        assert [name, f"{name}_se", f"{name}_ci_low", f"{name}_ci_high"] == columns[columns.index(name):columns.index(name) + 4]
    disagreements = pd.read_csv(tmp_path / "rel_disagreements.csv", dtype=str, keep_default_na=False)
    # c5: coder a left growth blank where coder b coded 1, a disagreement to reconcile too
    assert disagreements.values.tolist() == [["c3", "growth", "1", "0"], ["c5", "growth", "", "1"]]


def test_one_coder_is_not_enough(two_coders):
    with pytest.raises(CasemetaError, match="at least two coders"):
        reliability([two_coders[0]])


def _irrcac_reference() -> dict[str, tuple[float, float, float, float]]:
    """coefficient -> (value, se, ci low, ci high) from irrCAC 1.0's printed output."""
    text = (REFERENCE / "agreement_ben_gerry_irrCAC.txt").read_text()
    names = {"Percent Agreement": "percent_agreement", "Conger's Kappa": "cohen_kappa", "AC1": "gwet_ac1",
             "Krippendorff's Alpha": "krippendorff_alpha"}
    found = {}
    for label, name in names.items():
        match = re.search(rf"1\s+{re.escape(label)}\s+\S+\s+\S+\s+(\S+)\s+(\S+)\s+\((\S+),(\S+)\)", text)
        found[name] = tuple(map(float, match.groups()))
    return found


def test_every_coefficient_with_its_se_and_interval_equals_irrcac():
    codes = pd.read_csv(REFERENCE / "agreement_ben_gerry.csv", dtype=str, keep_default_na=False).set_index("unit")
    values, caveat = agreement(codes.replace({"NA": np.nan}))
    assert caveat is None  # every coefficient computed
    for name, (value, se, low, high) in _irrcac_reference().items():
        scale = 100 if name == "percent_agreement" else 1  # casemeta gives percent agreement in percent
        assert values[name] / scale == pytest.approx(value, abs=1e-4), name
        assert values[f"{name}_se"] / scale == pytest.approx(se, abs=1e-3), name
        # irrCAC prints the limits to 3 decimals
        assert values[f"{name}_ci_low"] / scale == pytest.approx(low, abs=6e-4), name
        assert values[f"{name}_ci_high"] / scale == pytest.approx(high, abs=6e-4), name


def test_ac1_stays_high_where_kappa_collapses_on_a_dominant_code():
    # SYNTHETIC: 20 cases, both coders say 1 in 18, disagree in 2 (the "kappa paradox").
    # p_a = 18/20 = 0.9; kappa: each coder's marginal is 19/20 for 1, p_e = (19/20)^2 + (1/20)^2 = 0.905,
    # kappa = (0.9 - 0.905) / 0.095 = -1/19; AC1: pi_1 = 0.95, p_e = 2·0.95·0.05 = 0.095, AC1 = 0.805/0.905
    codes = pd.DataFrame({"a": ["1"] * 18 + ["1", "0"], "b": ["1"] * 18 + ["0", "1"]})
    values, _ = agreement(codes)
    assert values["cohen_kappa"] == pytest.approx(-1 / 19)
    assert values["gwet_ac1"] == pytest.approx(0.805 / 0.905)


def _study_files(tmp_path, clusters, second_rows):
    """Two coders' files of the African clusters study: coder A all 25 cases, coder B `second_rows`."""
    cases = pd.read_csv(clusters.cases_path, dtype=str, keep_default_na=False)
    a, b = tmp_path / "coder_a.csv", tmp_path / "coder_b.csv"
    cases.to_csv(a, index=False)
    second_rows(cases.copy()).to_csv(b, index=False)
    return a, b


def test_a_value_the_codebook_does_not_allow_gets_validates_message(tmp_path, clusters, capsys):
    from casemeta.coded.case_table import load_cases

    def with_yes(frame):
        frame.loc[2, "growth"] = "yes"
        return frame
    a, b = _study_files(tmp_path, clusters, with_yes)
    with pytest.raises(CasemetaError) as validate:
        load_cases(b, clusters.codebook())
    assert main(["--root", str(clusters.root), "reliability", str(a), str(b), "--study", clusters.name,
                 "--out", str(tmp_path / "rel.csv")]) == 1
    err = capsys.readouterr().err
    assert "value 'yes' is not allowed" in err and validate.value.problems[0] in err
    assert not (tmp_path / "rel.csv").exists()


def test_cases_one_coder_only_coded_are_reported_and_only_coded_variables_scored(tmp_path, clusters, caplog):
    a, b = _study_files(tmp_path, clusters, lambda frame: frame.iloc[:15])
    table, disagreements, single = coder_reliability([a, b], None, clusters.codebook())
    assert len(single) == 10
    assert "10 case(s) coded by one coder only" in caplog.text
    assert table["note"].str.startswith("10 case(s) coded by one coder only, not scored").all()
    # identifier and text columns (country, cluster) are not codes; every binary one is
    assert not {"case_id", "country", "cluster"} & set(table["variable"])
    assert "growth" in set(table["variable"]) and (table["n"] == 15).all()
    assert disagreements.empty


def test_id_column_outside_a_study_and_no_raw_warning(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    pd.DataFrame({"unit": ["u1", "u2", "u3"], "x": ["1", "1", "1"]}).to_csv(a, index=False)
    pd.DataFrame({"unit": ["u1", "u2", "u3"], "x": ["1", "1", "1"]}).to_csv(b, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # krippendorff's RuntimeWarning on a single value used to print
        table, _ = reliability([a, b], "unit")
    row = table.iloc[0]
    assert row["percent_agreement"] == 100.0 and np.isnan(row["gwet_ac1"])
    assert row["note"] == "every code is the same value: kappa, AC1 and alpha are undefined"
    with pytest.raises(CasemetaError, match="name the column identifying a case"):
        coder_reliability([a, b], None, None)


def test_the_command_without_study_takes_case_id_unless_told(tmp_path, capsys):
    # the documented default (README, "casemeta reliability ... --id unit"): case_id
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    pd.DataFrame({"unit": ["u1", "u2"], "x": ["1", "0"]}).to_csv(a, index=False)
    pd.DataFrame({"unit": ["u1", "u2"], "x": ["1", "1"]}).to_csv(b, index=False)
    out = tmp_path / "rel.csv"
    assert main(["reliability", str(a), str(b), "--out", str(out)]) == 1
    assert f"{a}: no 'case_id' column" in capsys.readouterr().err
    assert main(["reliability", str(a), str(b), "--id", "unit", "--out", str(out)]) == 0
    disagreements = pd.read_csv(tmp_path / "rel_disagreements.csv", dtype=str, keep_default_na=False)
    assert disagreements.values.tolist() == [["u2", "x", "0", "1"]]  # coder a coded u2 0, coder b 1
    assert list(disagreements.columns) == ["unit", "variable", "a", "b"]


def test_a_blank_in_a_study_file_is_a_disagreement(tmp_path, project):
    from casemeta.study import Study

    codebook = project / "data" / "coded" / "african_clusters" / "codebook.yaml"
    text = codebook.read_text()
    old = "    description: Evidence of sustained growth of the cluster.\n"
    codebook.write_text(text.replace(old, old + "    missing: allowed\n", 1))  # growth may be left blank
    study = Study(project, "african_clusters")

    def blank_third(frame):
        frame.loc[2, "growth"] = ""
        return frame
    a, b = _study_files(tmp_path, study, blank_third)
    case = pd.read_csv(a, dtype=str, keep_default_na=False).iloc[2]
    table, disagreements, single = coder_reliability([a, b], None, study.codebook())
    assert single == []
    assert disagreements[["case_id", "variable", "coder_a", "coder_b"]].values.tolist() == [
        [case["case_id"], "growth", int(case["growth"]), ""]]
    row = table.set_index("variable").loc["growth"]
    # every case both coded agrees: the blank is a disagreement to reconcile, not a scored pair
    assert row["percent_agreement"] == 100.0 and row["n"] == 24
