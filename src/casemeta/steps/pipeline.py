"""The workflow's steps as plain functions: paths in, files out, nothing hidden.

Snakemake rules call these through the command line; tests call them directly.
Every output is written atomically, so a failed step leaves no file that looks valid.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from casemeta import atomic_io
from casemeta.coded.case_table import csv_text, load_cases, read_cases, read_typed, validate_cases
from casemeta.coded.codebook import Codebook
from casemeta.stats.count_tables import count_table
from casemeta.coded.derive import derive
from casemeta.errors import CasemetaError, file_error
from casemeta.plan import load_plan
from casemeta.coded.raw_coding import code_raw, coding_differences, load_published, read_raw_table
from casemeta.stats.reproduction import compare_case_listing, compare_tables, consistency
from casemeta.publish.reproduction_report import render_report
from casemeta.study import RESULTS, Study

log = logging.getLogger("casemeta")


def validate_study(study: Study, out: Path | None = None) -> pd.DataFrame:
    """Validate the coded cases; on success optionally write the validated copy to `out`.

    On failure an older copy at `out` is removed, so that it cannot be taken
    for a validation of the current data.
    """
    try:
        codebook = study.codebook()
        frame, origins = read_cases(study.cases_path, codebook)
        log.info("%s: %s row(s) read; checking them against %s", study.relative(study.cases_path), f"{len(frame):,}",
                 study.relative(codebook.path))
        cases = validate_cases(frame, codebook, study.cases_path, origins)
    except CasemetaError as exc:
        if out is not None and Path(out).is_file():
            try:
                Path(out).unlink()
            except OSError as failed:  # say so, without hiding the problems found
                gone = f"{file_error(failed, 'remove', out)} (it no longer describes the data)"
                raise CasemetaError(exc.summary, [*exc.problems, gone]) from None
            log.error("removed %s: it no longer describes the data", out)
        raise
    log.info("%s: %d valid case(s)", study.relative(study.cases_path), len(cases))
    if out is not None:
        atomic_io.write_csv(out, cases)
    return cases


def code_study(study: Study) -> Path:
    """Rewrite data/coded/<study>/cases.csv from the transcription, keeping added cases as they were typed.

    Under the same lock as `add-case`, so that a case added meanwhile is never overwritten.
    """
    codebook = study.codebook()
    coded = code_raw(codebook, study.raw_dir)
    columns, id_col = codebook.coded_columns, codebook.id_column

    def recode(target: Path) -> str:
        if not target.exists():
            return csv_text(coded, columns, target)
        existing, origins = read_cases(target, codebook)
        validate_cases(existing, codebook, target, origins)  # never rewrite from a file that does not validate
        added = existing[~existing[id_col].str.strip().isin(coded[id_col])]
        return csv_text(pd.concat([coded, added[columns]], ignore_index=True), columns, target)

    return atomic_io.locked_update(study.cases_path, recode)


def check_coding(study: Study, out: Path) -> None:
    """Fail if the committed coded file departs from what the codebook rules give from data/raw."""
    codebook = study.codebook()
    problems = coding_differences(load_cases(study.cases_path, codebook), code_raw(codebook, study.raw_dir), codebook)
    if problems:
        raise CasemetaError(
            f"{study.cases_path}: differs from what the codebook rules give from {study.raw_dir} "
            f"(run `casemeta code --study {study.name}` after changing the rules)", problems)
    atomic_io.write_text(out, f"{study.relative(study.cases_path)}: every transcribed case equals what the codebook rules give.\n")


def derive_study(study: Study, cases_path: Path, out: Path) -> None:
    """Derived variables of validated cases (validate's copy: read with its types, not validated twice);
    the study's own data/coded file, which nothing has validated, is validated first."""
    codebook = study.codebook()
    if _same_file(Path(cases_path), study.cases_path):
        cases = load_cases(cases_path, codebook)
    else:
        cases = read_typed(cases_path, codebook)
    log.info("%s: %d case(s); deriving %d variable(s)", cases_path, len(cases), len(codebook.derived))
    atomic_io.write_csv(out, derive(cases, codebook))


def _same_file(a: Path, b: Path) -> bool:
    """The same file, by any path, link or hard link."""
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def load_derived(path: Path, codebook: Codebook) -> pd.DataFrame:
    """Derived cases as written by derive_study, with the codebook's types."""
    return read_typed(path, codebook, derived=True)


def reproduce_study(study: Study, derived_path: Path, out_csv: Path, out_checks: Path, out_report: Path) -> None:
    """reproduction.csv (one row per published number), consistency.csv and reproduction.md."""
    codebook = study.codebook()
    plan = load_plan(study.plan_path, codebook).reproduce
    if plan is None:
        raise CasemetaError(f"{study.plan_path}: no `reproduce` section; nothing to compare")
    frame = load_derived(derived_path, codebook)
    published = load_published(study.raw_dir / plan.published_numbers)
    tables = {spec["table"]: count_table(frame, spec, codebook, str(study.plan_path)) for spec in plan.tables}
    raw = read_raw_table(codebook, study.raw_dir) if codebook.raw else None
    published_cases = len(raw) if raw is not None else len(frame)
    if raw is not None and len(frame) != published_cases:
        log.warning("%d coded cases against %d published: the tables include added cases", len(frame), published_cases)
    parts = []
    if plan.case_listing and raw is not None:
        raw_ids = code_raw(codebook, study.raw_dir, raw)[codebook.id_column]
        parts.append(compare_case_listing(raw, raw_ids, frame, codebook, plan.case_listing))
    parts.append(compare_tables(published, tables))
    reproduction = pd.concat(parts, ignore_index=True)
    checks = consistency(published, plan.tables, published_cases)
    report = render_report(codebook.title, codebook.source, reproduction, checks, tables, plan.titles, published, len(frame))
    atomic_io.write_csv(out_csv, reproduction)
    atomic_io.write_csv(out_checks, checks)
    atomic_io.write_text(out_report, report)
    log.info("%d of %d published numbers reproduce", int(reproduction["match"].sum()), len(reproduction))


def models_study(study: Study, derived_path: Path | None, outputs: dict[str, Path] | Path | None, draws: int, seed: int) -> None:
    """Every cross-tab test, logistic model and leave-one-out check of the study's plan, into `outputs`
    (crosstabs, tests, models, cross_validation; default: the study's result paths; a folder: the four
    files under their usual names in it)."""
    from casemeta.steps.model_runs import run_models

    codebook = study.codebook()
    derived_path = derived_path or study.result("derive", "derived")
    if outputs is None or isinstance(outputs, (str, Path)):
        usual = {key: study.result("models", key) for key in RESULTS["models"]}
        outputs = usual if outputs is None else {key: Path(outputs) / path.name for key, path in usual.items()}
    plan = load_plan(study.plan_path, codebook)
    # the whole file is read and checked (a damaged row is refused, not half read), then only the variables the
    # cross-tabs and models analyse are kept: at 10⁶ cases the case names and other text columns are 60% of the
    # frame (340 of 578 MiB), freed before the first model
    frame, analysed = load_derived(derived_path, codebook), plan.model_variables  # a property: built once here
    frame = frame[[name for name in frame.columns if name in analysed]]
    run_models(frame, plan, codebook, outputs, draws, seed)
