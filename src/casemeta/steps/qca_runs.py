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
from casemeta.publish.qca_robustness_tables import parameter_label, robustness_tables
from casemeta.publish.tables import CASE_LISTING_LIMIT, caveat_texts, labeller
from casemeta.publish.qca_tables import (NOTATION_NOTE, literal_label, model_expression, necessity_table, solutions_table,
                                         truth_table_table)
from casemeta.stats.caveats import complete_cases, merge
from casemeta.stats.qca import Cuts, QcaResult, QcaSpec, run_qca
from casemeta.stats.qca.robustness import RobustnessResult, qca_robustness
from casemeta.stats.qca.sets import calibrated_frame
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
    return calibrated_frame(frame, calibrations)


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
            codebook: Codebook | None = None, case_limit: int | None = CASE_LISTING_LIMIT,
            more_tables: list | None = None) -> list[Path]:
    """Tables in every format and the XY plots of one QCA, to the files casemeta.study lists for it;
    a table cell lists at most case_limit cases (the CSVs beside them list all). `more_tables` (its robustness
    tables) go into the same files."""
    said = caveat_texts(result.caveats, codebook)
    label = labeller(codebook)  # conditions and outcome as readers know them
    outcome = label_of(spec, codebook)
    tables = [
        truth_table_table("truth_table", f"Truth table: {outcome}", result.truth_table, spec.conditions,
                          cut_notes(spec, result) + said, case_limit, label),
        solutions_table("solutions", f"Solutions: {outcome}", result.solutions, outcome, said, case_limit, label),
        necessity_table("necessity", f"Necessity: {outcome}", result.necessity, [NOTATION_NOTE], label),
        *(more_tables or []),
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
    frame, missing = raw_study_frame(derived, codebook, entry)
    return calibrated(frame, entry.calibrate), missing


def raw_study_frame(derived: pd.DataFrame, codebook: Codebook, entry: QcaPlan):
    """The analysis's columns as coded (the calibrated sets' raw values), one row per case with every one of them."""
    columns = [entry.outcome, *entry.conditions]
    cases, missing = complete_cases(derived, columns)
    return cases.set_index(codebook.id_column)[columns].astype(float), missing


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
    raw, missing = raw_study_frame(derived, codebook, entry)
    frame = calibrated(raw, entry.calibrate)
    try:
        result = run_qca(frame, spec)
        rob = None if entry.robustness is None else robustness_of(raw, spec, entry)
    except CasemetaError as exc:
        raise CasemetaError(f"{study.plan_path}: qca {entry.name!r}: {exc}") from exc
    result.caveats = merge(missing, result.caveats)
    written = write_csvs(result, files)
    more = [] if rob is None else robustness_tables(rob, label_of(spec, codebook), codebook,
                                                    caveat_texts(rob.caveats, codebook), entry.robustness.leave_one_out,
                                                    case_limit)
    written += publish(result, spec, entry.name, files, [str(c) for c in frame.index], codebook, case_limit, more)
    if rob is not None:
        written += write_robustness(rob, spec, files, codebook)
    for caveat in (*result.caveats, *(rob.caveats if rob else ())):
        log.info("%s: qca %s: %s", study.name, entry.name, caveat.message())
    lines = summary_lines(entry.name, spec, result, len(frame), codebook)
    if rob is not None and len(frame):
        lines[-2:-2] = robustness_lines(rob, entry.robustness.leave_one_out, codebook)
    return lines, written


def label_of(spec: QcaSpec, codebook: Codebook | None) -> str:
    """The outcome as the codebook labels it (~ for its negation)."""
    return ("~" if spec.negate else "") + labeller(codebook)(spec.outcome)


def robustness_of(raw: pd.DataFrame, spec: QcaSpec, entry: QcaPlan) -> RobustnessResult:
    rob = entry.robustness
    return qca_robustness(raw, spec, dict(entry.calibrate), rob.solution, dict(rob.sweeps), list(rob.test_sets),
                          rob.leave_one_out)


def write_robustness(rob: RobustnessResult, spec: QcaSpec, files: dict[str, Path], codebook: Codebook | None) -> list[Path]:
    """The robustness CSVs (case names neutralised as in the other QCA CSVs) and the robustness plot."""
    from casemeta.publish.qca_figures import robustness_xy  # matplotlib loads only here

    frames = {"robustness_ranges": rob.ranges_frame, "robustness_test_sets": rob.test_sets,
              "robustness_fit": rob.fit_frame, "robustness_cases": rob.cases, "leave_one_out": rob.leave_one_out}
    written = [atomic_io.write_csv(files[f"data/{name}"], spreadsheet_safe_frame(frame)) for name, frame in frames.items()]
    fit = rob.fit
    subtitle = "" if fit is None else fit_text(fit, "\n")
    cases = rob.cases
    return written + robustness_xy(cases["IS"].to_numpy(float), cases["TS"].to_numpy(float),
                                   cases["outcome"].to_numpy(float), cases["case"].astype(str).tolist(),
                                   " + ".join(rob.terms), label_of(spec, codebook), subtitle,
                                   files["robustness_xy.png"].with_suffix(""))


def fit_text(fit, between: str) -> str:
    """The robustness parameters as rob.xyplot prints them (three decimals; "undefined" for a ratio of 0/0)."""
    def shown(x) -> str:
        return "undefined" if pd.isna(x) else f"{x:.3f}"

    return (f"RF_cons {shown(fit.RF_cons)}; RF_cov {shown(fit.RF_cov)}; RF_SC_minTS {shown(fit.RF_SC_minTS)}; "
            f"RF_SC_maxTS {shown(fit.RF_SC_maxTS)}{between}RCR_typ {shown(fit.RCR_typ)}; RCR_dev {shown(fit.RCR_dev)}; "
            f"RCC_Rank {fit.RCC_Rank}")


def robustness_lines(rob: RobustnessResult, leave_one_out: bool, codebook: Codebook | None) -> list[str]:
    """What qca.md says of a QCA's robustness: the ranges, the fit, the cases whose removal changes the solution."""
    lines = [f"Robustness of the {rob.solution} solution's M1 ({' + '.join(rob.terms) or 'none'}):"]
    lines += [f"- {text}" for text in caveat_texts(rob.caveats, codebook)]
    for r in rob.ranges:
        name = parameter_label(r.parameter, r.set, r.anchor, codebook)
        shown = [f"{b.value:g}" + ("" if b.status == "changed" else f" ({b.status.replace('_', ' ')})") for b in (r.lower, r.upper)]
        lines.append(f"- {name} {r.threshold:g}: the same terms from {shown[0]} to {shown[1]}")
    if rob.fit is not None:
        fit = rob.fit
        lines.append(f"- test sets {', '.join(rob.test_sets['test_set'][1:])}: {fit_text(fit, '; ')}")
    if leave_one_out and rob.terms:
        changed = rob.leave_one_out.loc[rob.leave_one_out["changed"].astype(bool), "case"].astype(str).tolist()
        lines.append("- holds without any single case" if not changed else f"- rests on case(s) {', '.join(changed)}: "
                     "without any one of them the solution changes")
    return [*lines, ""]


def summary_lines(name: str, spec: QcaSpec, result: QcaResult, n: int, codebook: Codebook | None = None) -> list[str]:
    lines = [f"## {name}: {spec.outcome_label} from {', '.join(spec.conditions)}", "",
             f"{n} case(s); " + cut_notes(spec, result)[0], ""]
    if n == 0:
        return [*lines, "No cases yet: the truth table and solutions will appear here once cases are coded.", ""]
    lines += [f"- {text}" for text in caveat_texts(result.caveats, codebook)]
    for (solution, model) in result.models:
        lines.append(f"- {solution} M{model}: {model_expression(result.solutions, solution, model)} → {spec.outcome_label}")
    return [*lines, "", f"Tables and XY plots: `qca/{name}/`.", ""]
