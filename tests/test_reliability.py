"""Agreement between coders. Coder files here are SYNTHETIC, made up for the test."""

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from casemeta.cli import main
from casemeta.errors import CasemetaError
from casemeta.stats.reliability import reliability


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
    # kappa: p_o = 3/4, p_e = 3/4·2/4 + 1/4·2/4 = 1/2, so (3/4 - 1/2) / (1/2) = 0.5
    assert growth["cohen_kappa"] == pytest.approx(0.5)
    # alpha (nominal): D_o = 2/8, D_e = 2·5·3/(8·7) = 30/56, alpha = 1 - (2/8)/(30/56) = 8/15
    assert growth["krippendorff_alpha"] == pytest.approx(8 / 15)


def test_equals_scikit_learn_and_krippendorff_with_missing_values(two_coders):
    table, _ = reliability(list(two_coders))
    a, b = [np.array([1, 0, 1, 1, np.nan]), np.array([1, 0, 0, 1, 1])]
    both = ~np.isnan(a)
    assert table.set_index("variable").at["growth", "cohen_kappa"] == pytest.approx(cohen_kappa_score(a[both], b[both]))
    assert table.set_index("variable").at["growth", "krippendorff_alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=np.vstack([a, b]), level_of_measurement="nominal"))


def test_three_coders_get_alpha_but_no_kappa(tmp_path, two_coders):
    c = write(tmp_path, "coder_c", [["c1", "0", "X"], ["c2", "0", "X"], ["c3", "", "Y"], ["c4", "1", "Y"], ["c5", "1", "Z"]])
    table, disagreements = reliability([*two_coders, c])
    growth = table.set_index("variable").loc["growth"]
    assert np.isnan(growth["cohen_kappa"])
    data = np.array([[1, 0, 1, 1, np.nan], [1, 0, 0, 1, 1], [0, 0, np.nan, 1, 1]])
    assert growth["krippendorff_alpha"] == pytest.approx(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
    # c1 (1, 1, 0) and c3 (1, 0, -) disagree; c5 (-, 1, 1) agrees
    assert growth["n"] == 5 and growth["percent_agreement"] == pytest.approx(60.0)
    assert disagreements[["case_id", "variable"]].values.tolist() == [["c1", "growth"], ["c3", "growth"]]
    assert disagreements.iloc[1][["coder_a", "coder_b", "coder_c"]].tolist() == ["1", "0", ""]


def test_perfect_agreement_on_a_single_value_leaves_alpha_undefined(two_coders):
    table, _ = reliability(list(two_coders))
    country = table.set_index("variable").loc["country"]
    assert country["percent_agreement"] == 100.0
    assert country["n"] == 5


def test_command_writes_agreement_and_disagreements(two_coders, tmp_path, capsys):
    out = tmp_path / "rel.csv"
    assert main(["reliability", *map(str, two_coders), "--out", str(out)]) == 0
    assert list(pd.read_csv(out).columns) == ["variable", "n", "percent_agreement", "cohen_kappa", "krippendorff_alpha"]
    disagreements = pd.read_csv(tmp_path / "rel_disagreements.csv", dtype=str, keep_default_na=False)
    assert disagreements.values.tolist() == [["c3", "growth", "1", "0"]]


def test_one_coder_is_not_enough(two_coders):
    with pytest.raises(CasemetaError, match="at least two coders"):
        reliability([two_coders[0]])
