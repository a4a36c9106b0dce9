"""Validation happens once: later steps read validate's copy with its types, and get exactly the validated cases."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings

from casemeta.coded.case_table import load_cases, read_typed
from casemeta.errors import CasemetaError
from casemeta.steps import pipeline
from study_strategies import any_study


def _same(read: pd.DataFrame, validated: pd.DataFrame, codebook) -> None:
    assert list(read.columns) == list(validated.columns)
    for var in codebook.variables:
        if var.type in ("binary", "integer"):
            assert str(read[var.name].dtype) == "Int64", var.name
    # cell for cell, a missing cell as missing (the text dtypes differ only in how pandas stores them)
    left = read.astype(object).where(read.notna(), None).to_dict("list")
    right = validated.astype(object).where(validated.notna(), None).to_dict("list")
    assert left == right


@settings(max_examples=60)
@given(any_study())
def test_validates_copy_reads_back_as_the_validated_cases(generated):
    with tempfile.TemporaryDirectory(prefix="casemeta_synthetic_") as folder:
        study = generated.write(Path(folder))
        copy = Path(folder) / "results" / study.name / "validated_cases.csv"
        validated = pipeline.validate_study(study, copy)
        codebook = study.codebook()
        _same(read_typed(copy, codebook), validated, codebook)
        _same(read_typed(copy, codebook), load_cases(study.cases_path, codebook), codebook)


def test_a_copy_not_as_validate_wrote_it_is_refused_with_the_step_to_run(clusters, tmp_path):
    codebook = clusters.codebook()
    copy = tmp_path / "validated_cases.csv"
    pipeline.validate_study(clusters, copy)
    text = copy.read_text(encoding="utf-8")
    (tmp_path / "edited.csv").write_text(text.replace(",1,", ",yes,", 1), encoding="utf-8")
    with pytest.raises(CasemetaError, match=r"edited.csv: not as `casemeta validate` writes it .*run that step again"):
        read_typed(tmp_path / "edited.csv", codebook)
    header, rest = text.split("\n", 1)
    (tmp_path / "columns.csv").write_text(header.replace("growth", "grow") + "\n" + rest, encoding="utf-8")
    with pytest.raises(CasemetaError, match=r"columns.csv: columns .*grow.*; expected those of the codebook"):
        read_typed(tmp_path / "columns.csv", codebook)
    with pytest.raises(CasemetaError, match=r"gone.csv: file not found; it is written by `casemeta validate`"):
        read_typed(tmp_path / "gone.csv", codebook)
