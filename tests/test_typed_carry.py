"""Validation happens once: later steps read validate's copy with its types, and get exactly the validated cases."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given

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


@given(any_study())  # the profile's examples (tests/conftest.py: 15 by default, 1,500 with HYPOTHESIS_PROFILE=long)
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


@pytest.mark.parametrize("edit, why", [
    (lambda rows: [r + "," for r in rows], "its rows have more cells than its header has columns"),
    (lambda rows: [rows[0].replace(",1,", ",2,", 1), *rows[1:]], "column 'market_local': value 2; expected one of 0, 1"),
    (lambda rows: [*rows, rows[0]], "column 'case_id': value 'egypt_dormiatt_furniture_domestic'; expected a unique identifier"),
    (lambda rows: [*rows, "," * (rows[0].count(","))], "an empty cell; expected a unique identifier"),
    (lambda rows: [rows[0][: len(rows[0]) // 2]], "an empty cell; expected"),
    (lambda rows: [rows[0].replace(",1,", ",99999999999999999999999,", 1)], "int too large"),
])
def test_a_hand_edited_copy_is_refused(clusters, tmp_path, edit, why):
    """What validation refuses, the typed reading refuses too, naming the first case and column concerned."""
    codebook = clusters.codebook()
    copy = tmp_path / "validated_cases.csv"
    pipeline.validate_study(clusters, copy)
    header, *rows = copy.read_text(encoding="utf-8").rstrip("\n").split("\n")
    assert rows[0].startswith("egypt_dormiatt_furniture_domestic,") and ",1," in rows[0]
    copy.write_text("\n".join([header, *edit(rows)]) + "\n", encoding="utf-8")
    with pytest.raises(CasemetaError) as err:
        read_typed(copy, codebook)
    assert str(err.value).startswith(f"{copy}: not as `casemeta validate` writes it (")
    assert why in str(err.value) and str(err.value).endswith("run that step again")


def test_derive_validates_the_coded_file_by_any_path(clusters, tmp_path):
    """The study's own data (here through a hard link) is validated, never taken for validate's copy."""
    import os

    from casemeta.study import Study

    root = tmp_path / "project"
    (root / "data" / "coded").mkdir(parents=True)
    for name in ("Snakefile",):
        (root / name).write_text("")
    (root / "analysis").mkdir()
    folder = root / "data" / "coded" / clusters.name
    folder.mkdir()
    (folder / "codebook.yaml").write_text(clusters.codebook_path.read_text(encoding="utf-8"), encoding="utf-8")
    text = clusters.cases_path.read_text(encoding="utf-8").replace(",1,", ",2,", 1)  # a binary code of 2
    (folder / "cases.csv").write_text(text, encoding="utf-8")
    os.link(folder / "cases.csv", tmp_path / "linked.csv")
    with pytest.raises(CasemetaError, match=r"problem\(s\) against the codebook"):
        pipeline.derive_study(Study(root, clusters.name), tmp_path / "linked.csv", tmp_path / "derived.csv")
    assert not (tmp_path / "derived.csv").exists()


def test_the_models_step_keeps_the_variables_it_analyses_and_gives_what_the_whole_frame_gives(clusters, tmp_path):
    from casemeta.plan import load_plan
    from casemeta.steps.model_runs import run_models

    codebook = clusters.codebook()
    plan = load_plan(clusters.plan_path, codebook)
    derived = tmp_path / "derived_cases.csv"
    pipeline.derive_study(clusters, clusters.cases_path, derived)
    assert plan.model_variables >= {"dynamic", "sells_internationally", "market_orientation"}
    assert codebook.id_column not in plan.model_variables
    pipeline.models_study(clusters, derived, tmp_path / "part", 2000, 1)
    run_models(pipeline.load_derived(derived, codebook), plan, codebook,
               {key: tmp_path / "whole" / f"{key}.csv" for key in ("crosstabs", "tests", "models", "cross_validation")}, 2000, 1)
    written = sorted(p.name for p in (tmp_path / "part").iterdir())
    assert len(written) == 4
    for name in written:
        stem = {"crosstabs.csv": "crosstabs", "crosstab_tests.csv": "tests", "logistic_models.csv": "models",
                "cross_validation.csv": "cross_validation"}[name]
        assert (tmp_path / "part" / name).read_bytes() == (tmp_path / "whole" / f"{stem}.csv").read_bytes(), name
