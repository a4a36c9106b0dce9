"""Run QCAs and write their results: the three CSVs, publication tables in every format, XY plots.

`write_qca` serves `casemeta qca DATA.csv ...`; `qca_study` runs every QCA of a study's plan on its
derived cases into results/<study>/qca/<name>/ and writes results/<study>/qca.md, which says for each
analysis what was found, or why nothing could be (no cases yet, no configuration passing the cuts).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from casemeta import atomic_io
from casemeta.coded.codebook import Codebook
from casemeta.errors import CasemetaError
from casemeta.plan import QcaPlan, load_plan
from casemeta.publish.formats import RENDERERS, spreadsheet_safe_frame
from casemeta.publish.tables import CASE_LISTING_LIMIT, caveat_texts
from casemeta.publish.qca_tables import (NOTATION_NOTE, literal_label, model_expression, necessity_table, solutions_table,
                                         truth_table_table)
from casemeta.stats.caveats import complete_cases, merge
from casemeta.stats.qca import Cuts, QcaResult, QcaSpec, calibrate_direct, run_qca
from casemeta.steps.exports import chosen_files, write_formats
from casemeta.steps.pipeline import load_derived
from casemeta.study import Study

log = logging.getLogger("casemeta")
FIGURES_PER_SOLUTION = 3  # XY plots of the first models of an ambiguous solution
TABLE_FORMATS = [f for f in RENDERERS] + ["docx", "xlsx"]


def spec_from_plan(entry: QcaPlan) -> QcaSpec:
    """A plan's QCA as a QcaSpec (the plan check has vetted its names)."""
    return QcaSpec(entry.outcome, list(entry.conditions),
                   Cuts(incl=entry.incl_cut, n=entry.n_cut, pri=entry.pri_cut, excl=entry.excl_cut),
                   dict(entry.dir_exp), negate=entry.negate, superset=entry.superset)


def calibrated(frame: pd.DataFrame, calibrations) -> pd.DataFrame:
    """The frame with each calibrated column replaced by its fuzzy membership (direct method)."""
    out = frame.copy()
    for column, (full_out, crossover, full_in) in calibrations.items():
        values = pd.to_numeric(out[column], errors="coerce").astype(float)
        out[column] = calibrate_direct(values.to_numpy(), full_out, crossover, full_in)
    return out


def write_csvs(result: QcaResult, files: dict[str, Path]) -> list[Path]:
    """The truth table, solutions and necessity as CSVs (files: data/truth_table, data/solutions, data/necessity).
    They list the cases by name, as the data file gave them: a name a spreadsheet would run as a formula
    (=HYPERLINK(...)) is neutralised as the publication tables are (spreadsheet_safe)."""
    return [atomic_io.write_csv(files["data/truth_table"], spreadsheet_safe_frame(result.truth_table)),
            atomic_io.write_csv(files["data/solutions"], spreadsheet_safe_frame(result.solutions)),
            atomic_io.write_csv(files["data/necessity"], spreadsheet_safe_frame(result.necessity))]


def folder_files(out_dir: Path) -> dict[str, Path]:
    """The CSV files of `casemeta qca DATA --out DIR`: DIR/truth_table.csv, solutions.csv, necessity.csv."""
    return {f"data/{name}": Path(out_dir) / f"{name}.csv" for name in ("truth_table", "solutions", "necessity")}


def write_qca(frame: pd.DataFrame, spec: QcaSpec, out_dir: Path) -> QcaResult:
    result = run_qca(frame, spec)
    write_csvs(result, folder_files(out_dir))
    return result


def cut_notes(spec: QcaSpec, result: QcaResult) -> list[str]:
    cuts = spec.cuts
    contradictions = "" if cuts.excl is None else f", contradiction (C) from {cuts.excl:g}"
    return [f"Inclusion cut {cuts.incl:g}{contradictions}, frequency cut {cuts.n}, PRI cut {cuts.pri:g}; "
            f"{result.remainders} of {2 ** len(spec.conditions)} configurations are remainders (too few cases)."]


def publish(result: QcaResult, spec: QcaSpec, name: str, files: dict[str, Path], cases: list[str],
            codebook: Codebook | None = None, case_limit: int | None = CASE_LISTING_LIMIT) -> list[Path]:
    """Tables in every format and the XY plots of one QCA, to the files casemeta.study lists for it;
    a table cell lists at most case_limit cases (the CSVs beside them list all)."""
    said = caveat_texts(result.caveats, codebook)
    label = codebook.label if codebook is not None else (lambda n: n)  # conditions and outcome as readers know them
    outcome = literal_label(spec.outcome_label, label)
    tables = [
        truth_table_table("truth_table", f"Truth table: {outcome}", result.truth_table, spec.conditions,
                          cut_notes(spec, result) + said, case_limit, label),
        solutions_table("solutions", f"Solutions: {outcome}", result.solutions, outcome, said, case_limit, label),
        necessity_table("necessity", f"Necessity: {outcome}", result.necessity, [NOTATION_NOTE], label),
    ]
    written = write_formats(tables, files, f"QCA {name}", TABLE_FORMATS)
    return written + xy_plots(result, spec, files["xy_plots.png"].with_suffix(""), cases, label)


def xy_plots(result: QcaResult, spec: QcaSpec, stem: Path, cases: list[str], label=lambda n: n) -> list[Path]:
    """One figure (PNG and PDF) with the XY plot of each of the first models of every solution, conditions and
    outcome by their labels; with no solution, the figure says so."""
    from casemeta.publish.qca_figures import xy_grid  # matplotlib loads only here

    panels = []
    for (solution, model) in result.models:
        if model > FIGURES_PER_SOLUTION:
            continue
        fit = result.solutions[(result.solutions["solution"] == solution) & (result.solutions["model"] == model)].iloc[-1]
        panels.append((result.model_membership(solution, model), model_expression(result.solutions, solution, model, label),
                       f"{solution} M{model}: inclS {fit['inclS']:.3f}, covS {fit['covS']:.3f}"))
    return xy_grid(panels, result.outcome, cases, literal_label(spec.outcome_label, label), stem)


def study_frame(derived: pd.DataFrame, codebook: Codebook, entry: QcaPlan):
    """The analysis's columns, one row per case (indexed by the case's id), calibrated; and a caveat on left-out cases."""
    columns = [entry.outcome, *entry.conditions]
    cases, missing = complete_cases(derived, columns)
    frame = cases.set_index(codebook.id_column)[columns].astype(float)
    return calibrated(frame, entry.calibrate), missing


def qca_study(study: Study, derived_path: Path | None = None, out: list[Path] | None = None) -> list[Path]:
    """Every QCA of the study's plan into the files casemeta.study lists (`out`, where given, must name the
    same files), and qca.md: what each QCA found, or why nothing could be."""
    codebook = study.codebook()
    plan = load_plan(study.plan_path, codebook)
    derived = load_derived(derived_path or study.result("derive", "derived"), codebook)
    files = chosen_files(study.files("qca", plan), out, "qca-study")
    lines = [f"# {codebook.title}: configurational analysis (QCA)", ""]
    written = []
    for entry in plan.qca:
        own = {k.split("/", 1)[1]: p for k, p in files.items() if k.startswith(f"{entry.name}/")}
        part, paths = run_entry(study, codebook, derived, entry, own, plan.publication.case_listing_limit)
        lines += part
        written += paths
    if not plan.qca:
        lines.append("The analysis plan has no `qca:` section.")
    written.append(atomic_io.write_text(files["summary"], "\n".join(lines) + "\n"))
    return written


def run_entry(study: Study, codebook: Codebook, derived: pd.DataFrame, entry: QcaPlan, files: dict[str, Path],
              case_limit: int | None = CASE_LISTING_LIMIT) -> tuple[list[str], list[Path]]:
    """One plan QCA into its files; its part of qca.md."""
    spec = spec_from_plan(entry)
    frame, missing = study_frame(derived, codebook, entry)
    try:
        result = run_qca(frame, spec)
    except CasemetaError as exc:
        raise CasemetaError(f"{study.plan_path}: qca {entry.name!r}: {exc}") from exc
    result.caveats = merge(missing, result.caveats)
    written = write_csvs(result, files)
    written += publish(result, spec, entry.name, files, [str(c) for c in frame.index], codebook, case_limit)
    for caveat in result.caveats:
        log.info("%s: qca %s: %s", study.name, entry.name, caveat.message())
    return summary_lines(entry.name, spec, result, len(frame), codebook), written


def summary_lines(name: str, spec: QcaSpec, result: QcaResult, n: int, codebook: Codebook | None = None) -> list[str]:
    lines = [f"## {name}: {spec.outcome_label} from {', '.join(spec.conditions)}", "",
             f"{n} case(s); " + cut_notes(spec, result)[0], ""]
    if n == 0:
        return [*lines, "No cases yet: the truth table and solutions will appear here once cases are coded.", ""]
    lines += [f"- {text}" for text in caveat_texts(result.caveats, codebook)]
    for (solution, model) in result.models:
        lines.append(f"- {solution} M{model}: {model_expression(result.solutions, solution, model)} → {spec.outcome_label}")
    return [*lines, "", f"Tables and XY plots: `qca/{name}/`.", ""]
