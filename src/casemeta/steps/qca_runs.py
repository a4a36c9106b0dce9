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
from casemeta.plan import load_plan
from casemeta.publish import formats as writers  # its Word/Excel writers load on first use
from casemeta.publish.formats import RENDERERS
from casemeta.publish.tables import CASE_LISTING_LIMIT, case_listing_limit
from casemeta.publish.qca_tables import model_expression, necessity_table, solutions_table, truth_table_table
from casemeta.stats.notes import complete_cases
from casemeta.stats.qca import Cuts, QcaResult, QcaSpec, calibrate_direct, run_qca
from casemeta.steps.exports import remove_stale
from casemeta.steps.pipeline import load_derived
from casemeta.study import Study

log = logging.getLogger("casemeta")
FIGURES_PER_SOLUTION = 3  # XY plots of the first models of an ambiguous solution


def spec_from_plan(entry: dict) -> QcaSpec:
    """A plan's `qca:` entry as a QcaSpec (the plan check has vetted its names)."""
    incl = entry.get("incl_cut", 1)
    incl, excl = (incl[0], incl[1]) if isinstance(incl, list) else (incl, None)
    return QcaSpec(entry["outcome"], list(entry["conditions"]),
                   Cuts(incl=float(incl), n=int(entry.get("n_cut", 1)), pri=float(entry.get("pri_cut", 0)),
                        excl=None if excl is None else float(excl)),
                   {c: int(v) for c, v in (entry.get("dir_exp") or {}).items()},
                   negate=bool(entry.get("negate", False)), superset=bool(entry.get("superset", False)))


def calibrated(frame: pd.DataFrame, calibrations: dict[str, list[float]]) -> pd.DataFrame:
    """The frame with each calibrated column replaced by its fuzzy membership (direct method)."""
    out = frame.copy()
    for column, (full_out, crossover, full_in) in calibrations.items():
        values = pd.to_numeric(out[column], errors="coerce").astype(float)
        out[column] = calibrate_direct(values.to_numpy(), full_out, crossover, full_in)
    return out


def write_csvs(result: QcaResult, out_dir: Path) -> list[Path]:
    """DIR/truth_table.csv, DIR/solutions.csv, DIR/necessity.csv."""
    return [atomic_io.write_csv(out_dir / "truth_table.csv", result.truth_table),
            atomic_io.write_csv(out_dir / "solutions.csv", result.solutions),
            atomic_io.write_csv(out_dir / "necessity.csv", result.necessity)]


def write_qca(frame: pd.DataFrame, spec: QcaSpec, out_dir: Path) -> QcaResult:
    result = run_qca(frame, spec)
    write_csvs(result, out_dir)
    return result


def cut_notes(spec: QcaSpec, result: QcaResult) -> list[str]:
    cuts = spec.cuts
    contradictions = "" if cuts.excl is None else f", contradiction (C) from {cuts.excl:g}"
    return [f"Inclusion cut {cuts.incl:g}{contradictions}, frequency cut {cuts.n}, PRI cut {cuts.pri:g}; "
            f"{result.remainders} of {2 ** len(spec.conditions)} configurations are remainders (too few cases)."]


def publish(result: QcaResult, spec: QcaSpec, name: str, out_dir: Path, cases: list[str],
            case_limit: int | None = CASE_LISTING_LIMIT) -> list[Path]:
    """Tables in every format under DIR/tables/ (+ DIR/<name>.docx and .xlsx) and XY plots under DIR/figures/;
    a table cell lists at most case_limit cases (the CSVs beside them list all)."""
    notes = cut_notes(spec, result) + result.notes
    tables = [
        truth_table_table("truth_table", f"Truth table: {spec.outcome_label}", result.truth_table, spec.conditions, notes,
                          case_limit),
        solutions_table("solutions", f"Solutions: {spec.outcome_label}", result.solutions, spec.outcome_label, result.notes,
                        case_limit),
        necessity_table("necessity", f"Necessity: {spec.outcome_label}", result.necessity, []),
    ]
    writers.check_excel(tables)
    (out_dir / "tables").mkdir(parents=True, exist_ok=True)
    written = [atomic_io.write_text(out_dir / "tables" / f"{t.name}.{ext}", render(t))
               for render, ext in RENDERERS.values() for t in tables]
    writers.write_docx(tables, out_dir / f"{name}.docx", f"QCA {name}")
    writers.write_xlsx(tables, out_dir / f"{name}.xlsx")
    return written + [out_dir / f"{name}.docx", out_dir / f"{name}.xlsx"] + xy_plots(result, spec, out_dir / "figures", cases)


def xy_plots(result: QcaResult, spec: QcaSpec, folder: Path, cases: list[str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for (solution, model) in result.models:
        if model > FIGURES_PER_SOLUTION:
            continue
        from casemeta.publish.qca_figures import xy_plot  # matplotlib loads only for a plot to draw (none without cases)

        fit = result.solutions[(result.solutions["solution"] == solution) & (result.solutions["model"] == model)].iloc[-1]
        expression = model_expression(result.solutions, solution, model)
        written += xy_plot(result.model_membership(solution, model), result.outcome, cases, expression, spec.outcome_label,
                           f"{solution} M{model}: inclS {fit['inclS']:.3f}, covS {fit['covS']:.3f}",
                           folder / f"xy_{solution}_M{model}")
    remove_stale(folder, written, {".png", ".pdf"})
    return written


def study_frame(derived: pd.DataFrame, codebook: Codebook, entry: dict) -> tuple[pd.DataFrame, str]:
    """The analysis's columns, one row per case (indexed by the case's id), calibrated; and a note on left-out cases."""
    columns = [entry["outcome"], *entry["conditions"]]
    cases, missing = complete_cases(derived, columns)
    frame = cases.set_index(codebook.id_column)[columns].astype(float)
    return calibrated(frame, entry.get("calibrate") or {}), missing


def qca_study(study: Study, derived_path: Path, out_dir: Path, summary_path: Path) -> None:
    codebook = study.codebook()
    plan = load_plan(study.plan_path, codebook)
    derived = load_derived(derived_path, codebook)
    lines = [f"# {codebook.title}: configurational analysis (QCA)", ""]
    out_dir.mkdir(parents=True, exist_ok=True)
    for entry in plan.get("qca", []):
        lines += run_entry(study, codebook, derived, entry, out_dir / entry["name"], case_listing_limit(plan))
    if not plan.get("qca"):
        lines.append("The analysis plan has no `qca:` section.")
    atomic_io.write_text(summary_path, "\n".join(lines) + "\n")


def run_entry(study: Study, codebook: Codebook, derived: pd.DataFrame, entry: dict, folder: Path,
              case_limit: int | None = CASE_LISTING_LIMIT) -> list[str]:
    """One plan QCA into its folder; its part of qca.md."""
    spec = spec_from_plan(entry)
    frame, missing = study_frame(derived, codebook, entry)
    try:
        result = run_qca(frame, spec)
    except CasemetaError as exc:
        raise CasemetaError(f"{study.plan_path}: qca {entry['name']!r}: {exc}") from exc
    result.notes = [n for n in (missing, *result.notes) if n]
    folder.mkdir(parents=True, exist_ok=True)
    write_csvs(result, folder)
    publish(result, spec, entry["name"], folder, [str(c) for c in frame.index], case_limit)
    for note in result.notes:
        log.info("%s: qca %s: %s", study.name, entry["name"], note)
    return summary_lines(entry["name"], spec, result, len(frame))


def summary_lines(name: str, spec: QcaSpec, result: QcaResult, n: int) -> list[str]:
    lines = [f"## {name}: {spec.outcome_label} from {', '.join(spec.conditions)}", "",
             f"{n} case(s); " + cut_notes(spec, result)[0], ""]
    if n == 0:
        return [*lines, "No cases yet: the truth table and solutions will appear here once cases are coded.", ""]
    lines += [f"- {note}" for note in result.notes]
    for (solution, model) in result.models:
        lines.append(f"- {solution} M{model}: {model_expression(result.solutions, solution, model)} → {spec.outcome_label}")
    return [*lines, "", f"Tables and XY plots: `qca/{name}/`.", ""]
