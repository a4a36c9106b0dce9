"""The codebook is the single source of truth: the schema is generated from it."""

import pandera.pandas as pa
import pytest

from casemeta.coded.codebook import load_codebook
from casemeta.errors import CasemetaError
from casemeta.coded.schema import cases_schema


def test_schema_has_exactly_the_codebooks_coded_variables(clusters):
    codebook = clusters.codebook()
    schema = cases_schema(codebook)
    assert list(schema.columns) == codebook.coded_columns
    assert len(codebook.coded_columns) == 19
    assert schema.strict is True


def test_binary_columns_allow_only_0_and_1(clusters):
    schema = cases_schema(clusters.codebook())
    check = schema.columns["growth"].checks[0]
    assert check.statistics["allowed_values"] == ["0", "1"]


def test_case_id_must_be_unique_and_present(clusters):
    column = cases_schema(clusters.codebook()).columns["case_id"]
    assert column.unique and not column.nullable


def test_labels_come_from_the_codebook(clusters):
    codebook = clusters.codebook()
    assert codebook.label("ee_specialisation") == "Inter-firm specialization"
    assert codebook.variable("market_orientation").value_label("domestic") == "Domestic (Local and National)"


def test_a_codebook_that_contradicts_itself_is_refused_with_every_problem(tmp_path):
    bad = tmp_path / "codebook.yaml"
    bad.write_text(
        "study: s\ntitle: t\nvariables:\n"
        "  - {name: x, label: X, type: binary}\n  - {name: x, label: X again, type: binary}\n"
        "derived:\n  - {name: d, label: D, type: binary, rule: {kind: any_of, of: [nope]}}\n"
    )
    with pytest.raises(CasemetaError) as err:
        load_codebook(bad)
    text = str(err.value)
    assert "'x' is defined more than once" in text
    assert "exactly one variable must have type identifier, found 0" in text
    assert "unknown variable 'nope'" in text


def test_a_codebook_with_an_unknown_type_names_the_place(tmp_path):
    bad = tmp_path / "codebook.yaml"
    bad.write_text("study: s\ntitle: t\nvariables:\n  - {name: x, label: X, type: boolean}\n")
    with pytest.raises(CasemetaError, match=r"at variables/0/type: 'boolean' is not one of"):
        load_codebook(bad)


def test_pandera_is_the_validator(clusters):
    assert isinstance(cases_schema(clusters.codebook()), pa.DataFrameSchema)


def test_a_reference_level_must_be_one_of_the_categorys_values(tmp_path):
    bad = tmp_path / "codebook.yaml"
    bad.write_text(
        "study: s\ntitle: t\nvariables:\n  - {name: id, label: Case, type: identifier}\n"
        "  - {name: m, label: M, type: category, reference: abroad, values: [{value: local, label: Local}, {value: export, label: Export}]}\n"
        "  - {name: b, label: B, type: binary, reference: '1'}\n"
    )
    with pytest.raises(CasemetaError) as err:
        load_codebook(bad)
    assert "m: reference 'abroad' is not one of its values local, export" in str(err.value)
    assert "b: reference '1' is not a category variable" in str(err.value)


def test_the_clusters_codebook_declares_local_only_as_the_reference_market(clusters):
    assert clusters.codebook().variable("market_orientation").reference == "local_only"
