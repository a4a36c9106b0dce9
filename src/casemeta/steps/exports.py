"""Write a study's publication tables and figures in every format, on demand or from the workflow."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from casemeta import atomic_io
from casemeta.coded.codebook import Codebook
from casemeta.errors import CasemetaError
from casemeta.steps.pipeline import load_derived
from casemeta.plan import load_plan, model_specs
from casemeta.publish.tables import PubTable, model_results, plotted_terms, require_results, study_tables, typeset_rows
from casemeta.study import Study
from casemeta.publish import formats as writers  # its Word/Excel writers load on first use
from casemeta.publish.formats import RENDERERS, latex_document

log = logging.getLogger("casemeta")


def export_tables(study: Study, results: Path, formats: list[str]) -> list[Path]:
    """Tables of the study under results/<study>/tables/ (+ tables.tex, .docx, .xlsx)."""
    results = Path(results) / study.name
    codebook = study.codebook()
    require_results(results, ["derived_cases.csv"])
    derived = load_derived(results / "derived_cases.csv", codebook)
    tables = study_tables(results, derived, codebook, load_plan(study.plan_path, codebook))
    if not len(derived):
        message = no_cases_message(study)
        log.warning("%s", message)
        tables = [PubTable("no_cases", f"{codebook.title}: no cases yet", pd.DataFrame({"Status": [message]}))]
    if "xlsx" in formats:
        writers.check_excel(tables)  # before any file is written, so a refused export leaves every file as it was
    written = [atomic_io.write_text(results / "summary.md", summary(study, codebook, derived, tables))]
    return written + write_formats(tables, results, study.name, codebook.title, formats)


def write_formats(tables: list[PubTable], folder: Path, name: str, title: str, formats: list[str]) -> list[Path]:
    """Every table in every format: folder/tables/<table>.<ext>, folder/tables.tex, folder/<name>_tables.docx and .xlsx;
    files of those formats in tables/ that this export did not write are removed."""
    if "xlsx" in formats:
        writers.check_excel(tables)  # before any file is written, so a refused export leaves every file as it was
    written = []
    (folder / "tables").mkdir(parents=True, exist_ok=True)  # exists even when there is no table
    typeset = [typeset_rows(t, [f for f, fmt in ((f"tables/{t.name}.csv", "csv"), (f"{name}_tables.xlsx", "xlsx"))
                                if fmt in formats]) for t in tables]
    for fmt in formats:
        log.info("%s: writing %d table(s) as %s", folder.name, len(tables), fmt)
        if fmt in RENDERERS:
            render, ext = RENDERERS[fmt]
            for table, printed in zip(tables, typeset):
                shown = printed if fmt == "latex" else table
                written.append(atomic_io.write_text(folder / "tables" / f"{table.name}.{ext}", render(shown)))
        if fmt == "latex":
            written.append(atomic_io.write_text(folder / "tables.tex", latex_document(typeset, title)))
        if fmt == "docx":
            writers.write_docx(typeset, folder / f"{name}_tables.docx", title)
            written.append(folder / f"{name}_tables.docx")
        if fmt == "xlsx":
            writers.write_xlsx(tables, folder / f"{name}_tables.xlsx")
            written.append(folder / f"{name}_tables.xlsx")
    remove_stale(folder / "tables", written, {f".{RENDERERS[f][1]}" for f in formats if f in RENDERERS})
    return written


def has_rows(path: Path) -> bool:
    """Whether a CSV casemeta wrote holds a row under its header: its first lines only, not the whole file
    (a derived file of 10^6 cases takes seconds to read)."""
    with open(path, encoding="utf-8") as lines:
        next(lines, None)
        return any(line.strip() for line in lines)


def export_figures(study: Study, results: Path) -> list[Path]:
    """Heat maps of every cross-tab and a forest plot of the models, PNG and PDF; none for a study with no cases."""
    results = Path(results) / study.name
    codebook = study.codebook()
    found = model_results(results / "models")
    written = []
    (results / "figures").mkdir(parents=True, exist_ok=True)  # exists even for a study with no cases
    require_results(results, ["derived_cases.csv"])
    if not has_rows(results / "derived_cases.csv"):
        log.info("%s: no cases yet, so no figure", study.name)  # and matplotlib is not even loaded
        remove_stale(results / "figures", [], {".png", ".pdf"})
        return []
    from casemeta.publish.figures import crosstab_heatmap, forest_plot  # matplotlib loads only when drawing

    for condition, part in found["crosstabs.csv"].groupby("condition", sort=False):
        written += crosstab_heatmap(part, codebook, results / "figures" / f"crosstab_{condition}")
    if len(plotted_terms(found["logistic_models.csv"])):
        labels = {spec["model"]: f"{codebook.label(spec['outcome'])} — {spec['label']}"
                  for spec in model_specs(load_plan(study.plan_path, codebook), codebook)}
        written += forest_plot(found["logistic_models.csv"], codebook, results / "figures" / "forest_odds_ratios", labels)
    remove_stale(results / "figures", written, {".png", ".pdf"})
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
