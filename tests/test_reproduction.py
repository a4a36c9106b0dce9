"""The comparison with the published tables: findings are reported, never patched."""

import pandas as pd
import pytest

from casemeta.errors import CasemetaError
from casemeta.steps import pipeline
from casemeta.coded.raw_coding import load_published
from casemeta.stats.reproduction import check_table, compare_tables


@pytest.fixture
def reproduced(clusters, tmp_path):
    derived = tmp_path / "derived.csv"
    pipeline.derive_study(clusters, clusters.cases_path, derived)
    out = {k: tmp_path / f"{k}" for k in ("rep.csv", "checks.csv", "rep.md")}
    pipeline.reproduce_study(clusters, derived, out["rep.csv"], out["checks.csv"], out["rep.md"])
    return {k: (pd.read_csv(v) if k.endswith(".csv") else v.read_text()) for k, v in out.items()}


def test_one_row_per_published_number(reproduced, clusters):
    rep = reproduced["rep.csv"]
    assert list(rep.columns) == ["table", "row", "column", "published", "reproduced", "match"]
    published = load_published(clusters.raw_dir / "published_tables.csv")
    assert len(published) == 58
    assert len(rep) == 58 + 25 * 5  # Tables 2-5, plus Table 1's five coded columns for 25 clusters


def test_table_1_round_trips_cell_by_cell(reproduced):
    table1 = reproduced["rep.csv"].query("table == 'Table 1'")
    assert table1["match"].all()


def test_the_six_published_numbers_that_do_not_reproduce(reproduced):
    bad = reproduced["rep.csv"].query("not match")[["table", "row", "column", "published", "reproduced"]]
    assert bad.values.tolist() == [
        # the CSV holds Table 1's printed text in the same columns, so numbers read back as text
        ["Table 2", "Domestic and Regional", "Growth", "1", "3"],
        ["Table 2", "Domestic and Regional", "Upgrading", "0", "1"],
        ["Table 4", "Logistics", "Number of Clusters", "11", "12"],
        ["Table 4", "1 Collective Activity", "Growth", "0", "1"],
        ["Table 4", "1 Collective Activity", "Upgrading", "3", "2"],
        ["Table 4", "1 Collective Activity", "Growth & Upgrading", "2", "1"],
    ]


def test_published_tables_that_contradict_themselves(reproduced):
    failed = reproduced["checks.csv"].query("not holds")
    assert failed[["table", "check", "where", "numbers"]].values.tolist()[:2] == [
        ["Table 2", "Growth & Upgrading ≤ Upgrading", "Domestic and Regional", "1 ≤ 0"],
        ["Table 4", "Growth & Upgrading ≤ Growth", "1 Collective Activity", "2 ≤ 0"],
    ]
    # 16 + 10 + 11 = 37 joint actions by kind, but 1×5 + 2×9 + 3×5 = 38 by number of kinds
    assert failed.iloc[2]["check"] == "counts by kind equal counts by number of kinds"  # the plan's label
    assert failed.iloc[2]["numbers"].endswith("= 37; 5 (1 Collective Activity) + 2×9 (2 Collective Activities) + 3×5 (All 3 Collective Activities) = 38")
    assert len(failed) == 3


def test_the_report_lists_every_mismatch(reproduced):
    report = reproduced["rep.md"]
    assert "183 published numbers compared: **177 reproduce, 6 do not.**" in report
    assert "| Domestic and Regional         | **3** (published 1) | **1** (published 0) |" in report
    # the report says how it shows a mismatch, the way it shows it
    assert "ours is in bold and the published one follows in parentheses: **ours** (published N)" in report
    assert "No institutional support _(not printed)_" in report


def test_compare_flags_a_number_we_cannot_find():
    published = pd.DataFrame({"table": ["T"], "row": ["r"], "column": ["c"], "published": [4]})
    ours = {"T": pd.DataFrame({"c": [4]}, index=["other row"])}
    out = compare_tables(published, ours)
    assert out.loc[0, "match"] == False  # noqa: E712 (numpy bool)
    assert pd.isna(out.loc[0, "reproduced"])


def test_row_le_check_by_hand():
    table = pd.DataFrame({"Both": [1, 2], "Either": [2, 1]}, index=["a", "b"])
    results = check_table(table, "T", [{"kind": "row_le", "left": "Both", "right": "Either"}], n_cases=3)
    assert [r[-1] for r in results] == [True, False]


def test_sums_equal_check_by_hand_named_by_the_plan_or_generically():
    table = pd.DataFrame({"N": [2, 3, 1]}, index=["a", "b", "c"])
    check = {"kind": "sums_equal", "column": "N", "left": {"a": 1, "b": 1}, "right": {"c": 5}}
    # 2 + 3 = 5 on the left, 5 × 1 = 5 on the right
    assert check_table(table, "T", [check], n_cases=3) == [
        ("T", "weighted sums of rows equal", "N", "2 (a) + 3 (b) = 5; 5×1 (c) = 5", True)]
    named = check_table(table, "T", [{**check, "right": {"c": 4}, "label": "parts equal the whole"}], n_cases=3)
    assert named == [("T", "parts equal the whole", "N", "2 (a) + 3 (b) = 5; 4×1 (c) = 4", False)]


def test_case_listing_matches_rows_by_case_id_even_when_names_repeat(clusters, tmp_path):
    """SYNTHETIC edit: two clusters renamed 'Furniture', in Egypt and in Kenya."""
    from casemeta.coded.case_table import validate_cases
    from casemeta.coded.raw_coding import code_raw, read_raw_table
    from casemeta.stats.reproduction import compare_case_listing

    codebook = clusters.codebook()
    raw_text = (clusters.raw_dir / "table1_clusters.tsv").read_text(encoding="utf-8")
    raw_text = raw_text.replace("Dormiatt Furniture (Domestic)", "Furniture").replace("Gikomba Furniture", "Furniture")
    (tmp_path / "table1_clusters.tsv").write_text(raw_text, encoding="utf-8")
    coded = code_raw(codebook, tmp_path)
    assert {"egypt_furniture", "kenya_furniture"} <= set(coded["case_id"])
    cases = validate_cases(coded, codebook, "synthetic")
    listing = compare_case_listing(read_raw_table(codebook, tmp_path), coded["case_id"], cases, codebook, "Table 1")
    assert listing["match"].all()
    assert (listing["row"] == "Furniture").sum() == 10  # two clusters × five coded columns


def test_a_published_number_that_is_not_whole_is_named_by_its_line_in_the_file(tmp_path):
    path = tmp_path / "published_tables.csv"
    # line 1 header, 2 a number, 3 blank, 4 a multi-line row label, 6 the bad number
    path.write_text('table,row,column,published\nTable 2,Local,Growth,3\n\nTable 2,"Two\nlines",Growth,4\n'
                    "Table 2,National,Growth,2.5\n", encoding="utf-8")
    with pytest.raises(CasemetaError) as err:
        load_published(path)
    assert err.value.problems == ["line 6 (Table 2, National, Growth): '2.5'"]
