"""Write a study's publication tables and figures in every format, on demand or from the workflow."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pandas as pd

from casemeta import atomic_io
from casemeta.coded.codebook import Codebook
from casemeta.errors import CasemetaError
from casemeta.steps.pipeline import load_derived
from casemeta.plan import Plan, load_plan
from casemeta.publish.tables import PubTable, study_tables, typeset_rows
from casemeta.study import RESULTS, Study, table_files, workflow_target
from casemeta.publish import formats as writers  # its Word/Excel writers load on first use
from casemeta.publish.formats import RENDERERS, latex_document

log = logging.getLogger("casemeta")


def require_results(paths) -> None:
    """Results the workflow makes, or one clear error naming those missing and how to make them."""
    missing = [Path(p) for p in paths if not Path(p).is_file()]
    if missing:
        folders = {p.parent for p in missing}
        where = missing[0] if len(missing) == 1 else (f"{missing[0].parent}: {', '.join(p.name for p in missing)}"
                                                      if len(folders) == 1 else ", ".join(map(str, missing)))
        found = workflow_target(missing[0])
        if found is None:  # a folder the workflow does not write (a --results elsewhere): running it would not fill it
            raise CasemetaError(f"{where} not found, and {missing[0].parent} is outside the results/ of the project's "
                                "studies, where the workflow writes: run `snakemake --cores 2` in the project and read "
                                "its results/, or copy them there")
        project, target = found
        elsewhere = "" if os.path.abspath(project) == os.path.abspath(".") else f", in {project}"
        raise CasemetaError(f"{where} not found: run `snakemake --cores 2` first (or `snakemake --cores 2 {target}`"
                            f"{elsewhere})")


def read_results(paths: dict[str, Path]) -> dict[str, pd.DataFrame]:
    """The results files a publication step reads (crosstabs, tests, models, cross_validation, reproduction),
    as the steps wrote them."""
    require_results(paths.values())
    dtypes = {"crosstabs": {"condition_value": str}, "reproduction": {"published": str}}
    return {key: atomic_io.read_caveats(pd.read_csv(path, dtype=dtypes.get(key))) for key, path in paths.items()}


def model_inputs(study: Study, plan: Plan) -> dict[str, Path]:
    """The results the tables are built from: the models step's files and, where the plan reproduces, the comparison."""
    paths = {key: study.result("models", key) for key in RESULTS["models"]}
    if plan.reproduce is not None:
        paths["reproduction"] = study.result("reproduce", "reproduction")
    return paths


def chosen_files(expected: dict[str, Path], given: list[Path] | None, command: str) -> dict[str, Path]:
    """The files a step writes: `expected` (casemeta.study's list for the plan), checked against the files the
    workflow rule declared (`given`, its {output}) where it passes them; each must name the same files."""
    if given is None:
        return expected
    given_set = {Path(p).resolve() for p in given}
    wanted = {p.resolve() for p in expected.values()}
    if given_set != wanted:
        extra = sorted(str(p) for p in given_set - wanted)
        lacking = sorted(str(p) for p in wanted - given_set)
        raise CasemetaError(f"casemeta {command}: the files to write (--out) are not the ones the plan gives"
                            + (f"; not written by this step: {', '.join(extra)}" if extra else "")
                            + (f"; missing from --out: {', '.join(lacking)}" if lacking else ""))
    return expected


def export_tables(study: Study, results: Path | None, formats: list[str], derived: Path | None = None,
                  inputs: dict[str, Path] | None = None, out: list[Path] | None = None) -> list[Path]:
    """Every table of the study in every format: results/<study>/tables/<table>.<ext>, tables.tex, the Word and
    Excel files and summary.md (casemeta.study lists them; `out`, where given, must name the same files).
    `results`: the results folder to read and write (None: the project's results/)."""
    study = study.at(results)
    codebook = study.codebook()
    plan = load_plan(study.plan_path, codebook)
    derived = derived or study.result("derive", "derived")
    require_results([derived])
    frame = load_derived(derived, codebook)
    results = read_results(inputs or model_inputs(study, plan))
    files = chosen_files(format_files(study.files("export", plan), formats), out, "export")
    tables = study_tables(frame, results, codebook, plan)
    if not len(frame):
        log.warning("%s", no_cases_message(study))
    written = write_formats(tables, files, codebook.title, formats)  # checks the tables before writing any file
    return written + [atomic_io.write_text(files["summary"], summary(study, codebook, frame, tables))]


def format_files(files: dict[str, Path], formats: list[str]) -> dict[str, Path]:
    """The files of the chosen formats among a step's files (per table "<name>.<ext>"; "latex", "docx", "xlsx";
    and "summary", written whatever the formats)."""
    exts = {RENDERERS[f][1] for f in formats if f in RENDERERS}
    keep = {"summary"} | {k for k in ("latex", "docx", "xlsx") if k in formats}
    return {k: p for k, p in files.items() if k in keep or k.rsplit(".", 1)[-1] in exts}


def files_in_folder(folder: Path, name: str, table_names) -> dict[str, Path]:
    """A study export's layout in any folder (a program's or a test's): tables/<table>.<ext>, tables.tex,
    <name>_tables.docx and .xlsx, as write_formats takes them."""
    folder = Path(folder)
    return {**{k: folder / v for k, v in table_files("tables", table_names).items()},
            "latex": folder / "tables.tex", "docx": folder / f"{name}_tables.docx", "xlsx": folder / f"{name}_tables.xlsx"}


def write_formats(tables: list[PubTable], files: dict[str, Path], title: str, formats: list[str]) -> list[Path]:
    """Every table in every format, each to the file `files` names for it: "<table>.<ext>" for a table's own
    files, "latex" (the standalone document holding them), "docx" and "xlsx" (all tables). The one writer of
    publication tables: studies, QCA and the synthesis write through it. Files of those formats in a
    table folder that this call did not write are removed."""
    names = [t.name for t in tables]
    declared = sorted({k.rsplit(".", 1)[0] for k in files if "." in k and k.rsplit(".", 1)[1] in TABLE_EXTS})
    if any(f in RENDERERS for f in formats) and sorted(names) != declared:
        raise CasemetaError(f"the tables built ({', '.join(names)}) are not the tables casemeta.study lists "
                            f"({', '.join(declared)}): a bug, please report it")
    if "xlsx" in formats:
        writers.check_excel(tables)  # before any file is written, so a refused export leaves every file as it was
    written = []
    full = [str(Path(files[k]).name) for k in ("xlsx",) if "xlsx" in formats and k in files]
    typeset = [typeset_rows(t, [f"tables/{t.name}.csv"] * ("csv" in formats) + full) for t in tables]
    for fmt in formats:
        log.info("writing %d table(s) as %s", len(tables), fmt)
        if fmt in RENDERERS:
            render, ext = RENDERERS[fmt]
            for table, printed in zip(tables, typeset):
                shown = printed if fmt == "latex" else table
                written.append(atomic_io.write_text(files[f"{table.name}.{ext}"], render(shown)))
        if fmt == "latex" and "latex" in files:  # the standalone document holding them all (a QCA has none)
            written.append(atomic_io.write_text(files["latex"], latex_document(typeset, title)))
        if fmt == "docx":
            writers.write_docx(typeset, files["docx"], title)
            written.append(files["docx"])
        if fmt == "xlsx":
            writers.write_xlsx(tables, files["xlsx"])
            written.append(files["xlsx"])
    exts = {f".{RENDERERS[f][1]}" for f in formats if f in RENDERERS}
    for folder in {Path(files[f"{t.name}.{ext[1:]}"]).parent for t in tables for ext in exts}:
        remove_stale(folder, written, exts)
    return written


TABLE_EXTS = {ext for _, ext in RENDERERS.values()}


def export_figures(study: Study, results: Path | None = None, inputs: dict[str, Path] | None = None,
                   out: list[Path] | None = None) -> list[Path]:
    """A heat map of every cross-tab and a forest plot of the models, PNG and PDF (casemeta.study lists
    them): for a study with no cases, each says so. `results`: as for export_tables."""
    study = study.at(results)
    codebook = study.codebook()
    plan = load_plan(study.plan_path, codebook)
    found = read_results(inputs or {key: study.result("models", key) for key in ("crosstabs", "models")})
    files = chosen_files(study.files("figures", plan), out, "figures")
    from casemeta.publish.figures import crosstab_heatmap, forest_plot  # matplotlib loads only when drawing

    written = []
    crosstabs = found["crosstabs"]
    for condition in (plan.crosstabs.conditions if plan.crosstabs.outcomes else ()):
        part = crosstabs[crosstabs["condition"] == condition]
        written += crosstab_heatmap(part, codebook, files[f"crosstab_{condition}.png"].with_suffix(""), condition)
    labels = {(m.outcome, m.predictor_set): f"{codebook.label(m.outcome)} — {m.label}" for m in plan.models}
    written += forest_plot(found["models"], codebook, files["forest_odds_ratios.png"].with_suffix(""), labels)
    for folder in {p.parent for p in files.values()}:
        remove_stale(folder, written, {".png", ".pdf"})
    return written


TABLE_SUFFIXES = {".tex": "latex", ".md": "markdown", ".html": "html", ".csv": "csv", ".docx": "docx", ".xlsx": "xlsx"}


def check_table_path(path: Path) -> None:
    if Path(path).suffix.lower() not in TABLE_SUFFIXES:
        raise CasemetaError(f"{path}: a table file must end in one of {', '.join(TABLE_SUFFIXES)}; "
                            f"its ending {Path(path).suffix or '(none)'!r} names no format")


def write_table(table: PubTable, path: Path) -> Path:
    """One publication table in the format its file name ends with (LaTeX: the table to \\input)."""
    check_table_path(path)
    fmt = TABLE_SUFFIXES[Path(path).suffix.lower()]
    if fmt == "docx":
        writers.write_docx([table], path, table.title)
    elif fmt == "xlsx":
        writers.write_xlsx([table], path)
    else:
        atomic_io.write_text(path, RENDERERS[fmt][0](table))
    return Path(path)


def remove_stale(folder: Path, written: list[Path], suffixes: set[str]) -> None:
    """Files of the formats just written that this export did not write (a table or figure the results no
    longer support, e.g. a model no longer estimable) go, so that nothing left in the folder looks current."""
    for path in folder.iterdir():
        if path.is_file() and path.suffix in suffixes and path not in written:
            log.info("removed %s: the current results no longer give it", path)
            path.unlink()


def no_cases_message(study: Study) -> str:
    return (f"No coded cases yet in {study.relative(study.cases_path)}: the study's tables and models will appear here once "
            f"cases are added (casemeta new-case --study {study.name}, then casemeta add-case).")


def summary(study: Study, codebook: Codebook, derived: pd.DataFrame, tables: list[PubTable]) -> str:
    """A short account of what the run produced for the study, or why it produced nothing."""
    lines = [f"# {codebook.title}", "", f"Study `{study.name}`: {len(derived)} coded case(s) in `{study.relative(study.cases_path)}`.", ""]
    if not len(derived):
        return "\n".join([*lines, no_cases_message(study), ""])
    lines += ["Tables (under `tables/`, and in the Word and Excel files):", ""]
    lines += [f"- `{t.name}`: {t.title}" for t in tables]
    return "\n".join([*lines, ""])
