"""Coding Table 1 from its verbatim transcription with the codebook's rules."""

import pytest

from casemeta.coded.case_table import load_cases
from casemeta.errors import CasemetaError
from casemeta.coded.raw_coding import code_raw, coding_differences


@pytest.fixture
def coded(clusters):
    return code_raw(clusters.codebook(), clusters.raw_dir).set_index("case_id")


def test_twenty_five_clusters_in_nine_countries(coded):
    assert len(coded) == 25
    # "These span 9 economies" (Kaplinsky 2015, p. 9)
    assert coded["country"].nunique() == 9


def test_country_is_filled_down_from_the_block_it_is_printed_in(coded):
    assert coded.at["kenya_lake_naivasha_cut_flower", "country"] == "Kenya"
    assert coded.at["south_africa_durban_automotive", "country"] == "South Africa"


def test_terms_become_indicators(coded):
    keko = coded.loc["tanzania_keko_furniture"]  # Local, Regional | Growth | Learning, Marketing
    assert (keko["market_local"], keko["market_national"], keko["market_regional"], keko["market_international"]) == ("1", "0", "1", "0")
    assert (keko["growth"], keko["upgrading"]) == ("1", "0")
    assert (keko["ja_learning"], keko["ja_marketing"], keko["ja_logistics"]) == ("1", "1", "0")


def test_none_means_no_term(coded):
    gikomba = coded.loc["kenya_gikomba_furniture"]  # dynamism None, collective action None, support None
    assert gikomba[["growth", "upgrading", "ja_learning", "support_government", "support_external"]].tolist() == ["0"] * 5


def test_terms_match_regardless_of_capitals(coded):
    # Mwenge prints "customer attraction" in lower case at the start of the cell
    assert coded.at["tanzania_mwenge_handcrafts", "ee_customers"] == "1"
    assert coded.at["tanzania_mwenge_handcrafts", "ee_labour"] == "0"


def test_committed_coded_file_equals_what_the_rules_give(clusters):
    codebook = clusters.codebook()
    committed = load_cases(clusters.cases_path, codebook)
    assert coding_differences(committed, code_raw(codebook, clusters.raw_dir), codebook) == []


def test_a_changed_code_is_caught(clusters):
    codebook = clusters.codebook()
    committed = load_cases(clusters.cases_path, codebook)
    committed.loc[committed["case_id"] == "kenya_ngong_furniture", "growth"] = 0
    problems = coding_differences(committed, code_raw(codebook, clusters.raw_dir), codebook)
    assert problems == ["case 'kenya_ngong_furniture', column 'growth': coded file has '0', the codebook rules give '1'"]


def test_a_printed_term_no_rule_claims_is_an_error(clusters, tmp_path):
    raw = (clusters.raw_dir / "table1_clusters.tsv").read_text(encoding="utf-8")
    (tmp_path / "table1_clusters.tsv").write_text(raw.replace("Local, Regional", "Local, Continental", 1), encoding="utf-8")
    with pytest.raises(CasemetaError) as err:
        code_raw(clusters.codebook(), tmp_path)
    assert "line 7, column 'End Market': term 'Continental' is not coded by any variable" in str(err.value)
    assert "expected terms: Local, National, Regional, International or None" in str(err.value)


def test_the_line_named_is_the_files_own_after_blank_lines(clusters, tmp_path):
    """Blank lines above the row (an editor counts them) move the line the error names: 7 + 2."""
    raw = (clusters.raw_dir / "table1_clusters.tsv").read_text(encoding="utf-8")
    header, rest = raw.split("\n", 1)
    edited = header + "\n\n\n" + rest.replace("Local, Regional", "Local, Continental", 1)
    (tmp_path / "table1_clusters.tsv").write_text(edited, encoding="utf-8")
    with pytest.raises(CasemetaError) as err:
        code_raw(clusters.codebook(), tmp_path)
    assert "line 9, column 'End Market': term 'Continental'" in str(err.value)
    assert edited.split("\n")[8].count("Continental") == 1  # line 9 of the file, counted from 1
