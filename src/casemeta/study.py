"""Where a study's files live; a study is a codebook, its data and an analysis plan.

This module is the one owner of the results layout: the workflow rules, the steps, the command line
and the tests take every result path from here (`RESULTS` and `Study.result` for the files every
study has; `Study.files(step, plan)` for the files whose names follow the plan: one table per
condition, one figure per cross-tab, one folder per QCA), never spell them out again.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from casemeta.coded.codebook import Codebook, load_codebook
from casemeta.errors import CasemetaError

log = logging.getLogger("casemeta")

# Every result of a study, relative to the project root, by the step that writes it.
# "{study}" is the study's name (a Snakemake wildcard in the rules).
RESULTS: dict[str, dict[str, str]] = {
    # never written: the target of a study whose codebook or plan is broken, whose job fails
    "check": {"problem": "results/{study}/.problem"},
    "validate": {"validated": "results/{study}/validated_cases.csv"},
    "check_coding": {"confirmation": "results/{study}/coding_check.txt"},
    "derive": {"derived": "results/{study}/derived_cases.csv"},
    "reproduce": {
        "reproduction": "results/{study}/reproduction.csv",
        "consistency": "results/{study}/consistency.csv",
        "report": "results/{study}/reproduction.md",
    },
    "models": {
        "crosstabs": "results/{study}/models/crosstabs.csv",
        "tests": "results/{study}/models/crosstab_tests.csv",
        "models": "results/{study}/models/logistic_models.csv",
        "cross_validation": "results/{study}/models/cross_validation.csv",
    },
    "export": {
        "latex": "results/{study}/tables.tex",
        "summary": "results/{study}/summary.md",
        "docx": "results/{study}/{study}_tables.docx",
        "xlsx": "results/{study}/{study}_tables.xlsx",
    },
    "figures": {},  # every file follows the plan: Study.files("figures", plan)
    "qca": {
        "summary": "results/{study}/qca.md",
    },
    # when the plan's robustness section asks for it: each model and cross-tab test without each case in turn
    "case_influence": {
        "changes": "results/{study}/robustness/case_influence.csv",  # a row per case that changes a finding
        "findings": "results/{study}/robustness/case_influence_findings.csv",  # a row per finding, its verdict
        "report": "results/{study}/robustness/case_influence.md",  # a sentence per finding
        "docx": "results/{study}/robustness/case_influence/case_influence.docx",
        "xlsx": "results/{study}/robustness/case_influence/case_influence.xlsx",
    },  # and the publication table's own files: Study.templates
    # the multiverse of the plan's `robustness:` decisions: each chunk job's files (Study.files("robustness_chunk",
    # plan), under robustness/chunks/), merged by the gather job into these and the summary tables
    "robustness_chunk": {},
    "robustness": {
        "universes": "results/{study}/robustness/universes.csv",
        "specifications": "results/{study}/robustness/specifications.csv",
        "crosstab_specifications": "results/{study}/robustness/crosstab_specifications.csv",
        "summary": "results/{study}/robustness/summary.csv",
        "crosstab_summary": "results/{study}/robustness/crosstab_summary.csv",
        "inference": "results/{study}/robustness/inference.csv",
        "report": "results/{study}/robustness/robustness.md",
        "curves": "results/{study}/robustness/specification_curves.pdf",  # a page per model term
        "latex": "results/{study}/robustness/tables.tex",
        "docx": "results/{study}/robustness/{study}_robustness.docx",
        "xlsx": "results/{study}/robustness/{study}_robustness.xlsx",
    },
    "reliability": {
        "reliability": "results/{study}/reliability.csv",
        "disagreements": "results/{study}/reliability_disagreements.csv",
    },
    # the (temporary) mark of a run that removed agreement results whose coders' files are gone
    "forget_reliability": {"forget": "results/{study}/.reliability_removed"},
    # across studies (no {study}): written when analysis/synthesis.yaml exists
    "synthesis": {
        "studies": "results/synthesis/study_tables.csv",
        "pooled": "results/synthesis/pooled.csv",
        "leave1out": "results/synthesis/leave1out.csv",  # each pooled pair without each study in turn
        "influence": "results/synthesis/influence.csv",  # each study's influence on each pooled pair
        "summary": "results/synthesis/summary.md",
        "docx": "results/synthesis/synthesis_tables.docx",
        "xlsx": "results/synthesis/synthesis_tables.xlsx",
        "latex": "results/synthesis/tables.tex",
        "forest": "results/synthesis/forest_plot.png",
        "forest_pdf": "results/synthesis/forest_plot.pdf",
    },
}

# Folders whose every file one step writes, named after the plan (Study.files): cleared whole when the
# step's results are removed, so that a file an older plan named does not outlive it.
FOLDERS: dict[str, tuple[str, ...]] = {
    "export": ("results/{study}/tables",),
    "figures": ("results/{study}/figures",),
    "qca": ("results/{study}/qca",),
    "case_influence": ("results/{study}/robustness/case_influence",),
    "robustness_chunk": ("results/{study}/robustness/chunks",),
    "robustness": ("results/{study}/robustness/tables",),
    "synthesis": ("results/synthesis/tables",),
}
TABLE_EXTENSIONS = ("csv", "md", "tex", "html")  # each table's own files (casemeta.publish.formats.RENDERERS)
FIGURE_EXTENSIONS = ("png", "pdf")
QCA_TABLES = ("truth_table", "solutions", "necessity")
INFLUENCE_TABLE = "influential_cases"  # the publication table of case influence


def table_files(folder: str, names) -> dict[str, str]:
    """<folder>/<name>.<ext> of each table in each of its own formats, keyed "<name>.<ext>"."""
    return {f"{name}.{ext}": f"{folder}/{name}.{ext}" for name in names for ext in TABLE_EXTENSIONS}


def figure_files(folder: str, names) -> dict[str, str]:
    return {f"{name}.{ext}": f"{folder}/{name}.{ext}" for name in names for ext in FIGURE_EXTENSIONS}


def study_table_names(plan) -> list[str]:
    """The publication tables of a study, in reading order, as the plan determines them."""
    names = ["cases"]
    if plan.reproduce is not None:
        names += [spec["table"].lower().replace(" ", "_") for spec in plan.reproduce.tables
                  if spec["table"] != plan.reproduce.case_listing]
    if plan.crosstabs.outcomes:
        names += [f"crosstab_{c}" for c in plan.crosstabs.conditions]
    names.append("crosstab_tests")
    names += [f"models_{o}" for o in dict.fromkeys(m.outcome for m in plan.models)]
    names.append("cross_validation")
    return names


def study_figure_names(plan) -> list[str]:
    names = [f"crosstab_{c}" for c in plan.crosstabs.conditions] if plan.crosstabs.outcomes else []
    return [*names, "forest_odds_ratios"]


def qca_files(name: str) -> dict[str, str]:
    """The files of one QCA of a study's plan, under results/{study}/qca/<name>/."""
    folder = f"results/{{study}}/qca/{name}"
    return {**{f"data/{t}": f"{folder}/{t}.csv" for t in QCA_TABLES},
            **table_files(f"{folder}/tables", QCA_TABLES),
            "docx": f"{folder}/{name}.docx", "xlsx": f"{folder}/{name}.xlsx",
            **figure_files(f"{folder}/figures", ["xy_plots"])}


QCA_ROBUSTNESS_TABLES = ("robustness_ranges", "robustness_test_sets", "robustness_fit", "robustness_cases", "leave_one_out")


def qca_robustness_files(name: str) -> dict[str, str]:
    """The robustness files of one QCA whose plan entry has `robustness:`, beside its other files (its tables
    go into the same tables/, Word and Excel files)."""
    folder = f"results/{{study}}/qca/{name}"
    return {**{f"data/{t}": f"{folder}/{t}.csv" for t in QCA_ROBUSTNESS_TABLES},
            **table_files(f"{folder}/tables", QCA_ROBUSTNESS_TABLES),
            **figure_files(f"{folder}/figures", ["robustness_xy"])}
ROBUSTNESS_TABLES = ("robustness_models", "robustness_inference", "robustness_crosstabs")
CHUNK_FILES = ("universes", "specifications", "crosstab_specifications", "null_draws")


def robustness_chunk_files(index: int, chunks: int) -> dict[str, str]:
    """The files of chunk `index` of `chunks` of a study's multiverse, keyed "<index>/<name>"."""
    return {f"{index}/{name}": f"results/{{study}}/robustness/chunks/{index}_of_{chunks}/{name}.csv" for name in CHUNK_FILES}


def synthesis_table_names(pairs) -> list[str]:
    return ["synthesis_overview", *(f"pooled_{c}__{o}" for c, o in pairs)]


def synthesis_files(pairs) -> dict[str, str]:
    """Every result of the synthesis across studies, given its plan's (condition, outcome) pairs."""
    return {**RESULTS["synthesis"], **table_files("results/synthesis/tables", synthesis_table_names(pairs))}


# analysis/synthesis.yaml is the plan of the synthesis across studies, and results/synthesis/ its
# results: never a study, even with a data/coded/synthesis/ folder.
SYNTHESIS = "synthesis"

# Which steps read (directly or not) what each step writes. When a step starts,
# everything downstream of it is removed, so a run that fails part-way leaves
# no table that describes older inputs (reliability reads only the coders' files).
# The synthesis across studies reads every study's derived cases: a study's
# validation, coding check and derive remove it too (a run of some studies then
# leaves none rather than one of older data), and so does a broken study's `check`
# (a run with a broken study makes no synthesis: common.smk, synthesis_runs).
DOWNSTREAM: dict[str, tuple[str, ...]] = {
    "check": ("validate", "check_coding", "derive", "reproduce", "models", "export", "figures", "qca", "case_influence",
              "reliability", "robustness_chunk", "robustness", "synthesis"),
    # not the coding check, which runs beside validation (both read the coded cases): it would remove its result
    "validate": ("derive", "reproduce", "models", "export", "figures", "qca", "case_influence",
                 "robustness_chunk", "robustness", "synthesis"),
    "check_coding": ("derive", "reproduce", "models", "export", "figures", "qca", "case_influence", "robustness_chunk",
                     "robustness", "synthesis"),
    "derive": ("reproduce", "models", "export", "figures", "qca", "case_influence", "synthesis"),
    # a chunk job clears only the merged results: never the other chunks, which run beside it
    "robustness_chunk": ("robustness",),
    "robustness": (),
    "reproduce": ("export",),
    "models": ("export", "figures"),
    "export": (),
    "figures": (),
    "qca": (),
    "case_influence": (),
    "reliability": (),
    "forget_reliability": (),
    "synthesis": (),
}


def find_project_root(start: str | Path = ".") -> Path:
    """The nearest folder at or above `start` that holds `Snakefile` and `analysis/`."""
    start = Path(start).resolve()
    for folder in (start, *start.parents):
        if (folder / "Snakefile").is_file() and (folder / "analysis").is_dir():
            return folder
    raise CasemetaError(
        f"{start}: not inside a casemeta project (no folder at or above it holds Snakefile and analysis/); "
        "cd into the project or pass --root PROJECT"
    )


@dataclass(frozen=True)
class Study:
    root: Path
    name: str
    results: Path | None = None  # where its results go: the project's results/ unless a program puts them elsewhere

    @property
    def results_root(self) -> Path:
        return Path(self.results) if self.results is not None else self.root / "results"

    def at(self, results: str | Path | None) -> "Study":
        """The same study with its results under another folder (None: the project's results/)."""
        return self if results is None else replace(self, results=Path(results))

    def _path(self, template: str) -> Path:
        """A result template ("results/{study}/...", as RESULTS holds them) under this study's results folder."""
        return self.results_root / Path(template.format(study=self.name)).relative_to("results")

    @property
    def coded_dir(self) -> Path:
        return self.root / "data" / "coded" / self.name

    @property
    def codebook_path(self) -> Path:
        return self.coded_dir / "codebook.yaml"

    @property
    def cases_path(self) -> Path:
        return self.coded_dir / "cases.csv"

    @property
    def coders_dir(self) -> Path:
        return self.coded_dir / "coders"

    @property
    def raw_dir(self) -> Path:
        return self.root / "data" / "raw" / self.name

    @property
    def plan_path(self) -> Path:
        return self.root / "analysis" / f"{self.name}.yaml"

    @property
    def results_dir(self) -> Path:
        return self.results_root / self.name

    def relative(self, path: Path) -> Path:
        """`path` as seen from the project folder, for text a reader sees (no machine-specific prefix)."""
        try:
            return Path(path).resolve().relative_to(self.root.resolve())
        except ValueError:  # outside the project: shown as it is
            return Path(path)

    def result(self, step: str, key: str) -> Path:
        """The path of one result, e.g. study.result("models", "tests")."""
        return self._path(RESULTS[step][key])

    def templates(self, step: str, plan) -> dict[str, str]:
        """Every file a step writes for this study under this plan, relative to the project (key -> path)."""
        fixed = dict(RESULTS[step])
        if step == "export":
            return {**fixed, **table_files("results/{study}/tables", study_table_names(plan))}
        if step == "figures":
            return figure_files("results/{study}/figures", study_figure_names(plan))
        if step == "case_influence":
            return {**fixed, **table_files("results/{study}/robustness/case_influence", [INFLUENCE_TABLE])}
        if step == "qca":
            return {**fixed, **{f"{q.name}/{k}": v for q in plan.qca
                                for k, v in {**qca_files(q.name),
                                             **(qca_robustness_files(q.name) if q.robustness else {})}.items()}}
        if step == "robustness_chunk":  # every chunk's files; one chunk's: robustness_chunk_files
            chunks = plan.robustness.chunks if plan.robustness.multiverse else 0
            return {k: v for i in range(1, chunks + 1) for k, v in robustness_chunk_files(i, chunks).items()}
        if step == "robustness":
            return {**fixed, **table_files("results/{study}/robustness/tables", ROBUSTNESS_TABLES)} \
                if plan.robustness.multiverse else {}
        return fixed

    def files(self, step: str, plan) -> dict[str, Path]:
        """Every file a step writes for this study under this plan (key -> path): the one list the
        workflow rule declares as its outputs and the step writes."""
        return {k: self._path(v) for k, v in self.templates(step, plan).items()}

    def chunk_files(self, plan, index: int) -> dict[str, Path]:
        """The files of one chunk job of the study's multiverse (key -> path)."""
        return {k: self._path(v) for k, v in robustness_chunk_files(index, plan.robustness.chunks).items()}

    def codebook(self) -> Codebook:
        return load_codebook(self.codebook_path)

    def clear_downstream(self, step: str) -> list[Path]:
        """Remove every result that a later step makes from this step's output; return what went."""
        return self.clear(DOWNSTREAM[step], why="that described older inputs")

    def clear(self, steps, why: str = "as asked") -> list[Path]:
        """Remove the results of these steps; return what went (logged with `why`)."""
        from casemeta.paths import check_study_name

        check_study_name(self.name)
        paths = [self.result(later, key) for later in steps for key in RESULTS[later]]
        paths += [self._path(f) for later in steps for f in FOLDERS.get(later, ())]
        return _clear(paths, self.results_root, self.results_dir, self.name, why)


def clear_synthesis(root: str | Path, why: str) -> list[Path]:
    """Remove what the synthesis across studies wrote under the project's results/ (its files and its tables'
    folder, whatever pairs an earlier plan named); return what went."""
    results = Path(root) / "results"
    paths = [results / Path(p).relative_to("results") for p in [*RESULTS[SYNTHESIS].values(), *FOLDERS[SYNTHESIS]]]
    return _clear(paths, results, results / SYNTHESIS, SYNTHESIS, why)


def _clear(paths: list[Path], results_root: Path, own: Path, name: str, why: str) -> list[Path]:
    """Remove `paths` (files or folders under `results_root`, each checked before any goes), and the folders they
    leave empty but `own`; log what went, under `name`."""
    from casemeta.paths import check_removable

    for path in paths:  # all checked before any is removed
        check_removable(path, results_root)
    removed = []
    # jobs that run side by side (a multiverse's chunks; validation and the coding check) may clear the same
    # results at once: what the other job removed first is gone, as asked
    for path in paths:
        try:
            if path.is_dir() and not path.is_symlink():
                _remove_tree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()  # a link goes, never what it points to
            else:
                continue
        except FileNotFoundError:
            continue
        removed.append(path)
    for folder in {p.parent for p in removed}:  # e.g. models/, once its tables are gone
        try:
            if folder != own and not any(folder.iterdir()):
                folder.rmdir()
        except FileNotFoundError:
            pass
    if removed:  # a file beside the folder of its own (the synthesis beside a study's): named from results/ on
        shown = [p.relative_to(own) if p.is_relative_to(own) else Path(results_root.name) / p.relative_to(results_root)
                 for p in removed]
        log.info("%s: removed %d result(s) %s: %s", name, len(removed), why, ", ".join(map(str, shown)))
    return removed


def _remove_tree(path: Path) -> None:
    """shutil.rmtree, going on past what another process removed meanwhile (rmtree stops at the first entry gone)."""
    def gone_already(function, name, error):  # error: the exception (onexc), or sys.exc_info() (onerror)
        exc = error if isinstance(error, BaseException) else error[1]
        if not isinstance(exc, FileNotFoundError):
            raise exc

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=gone_already)
    else:
        shutil.rmtree(path, onerror=gone_already)


def half_studies(root: str | Path = ".") -> list[str]:
    """What looks meant as a study but is none (discover_studies passes it over without a word), and results of no
    study: a sentence each, for the workflow to say when it is read. A run of "every study" would otherwise go on
    without it, the synthesis pooling the others."""
    root = Path(root)
    plans = {p.stem for p in (root / "analysis").glob("*.yaml")} - {SYNTHESIS}
    studies = set(discover_studies(root))
    said = [f"analysis/{p.name}: not read (a plan's name ends in .yaml: analysis/{p.stem}.yaml)"
            for p in sorted((root / "analysis").glob("[!.]*")) if p.is_file() and p.suffix.lower() in (".yml", ".yaml")
            and p.suffix != ".yaml" and p.stem not in plans]
    said += [f"analysis/{name}.yaml: no codebook data/coded/{name}/codebook.yaml, so {name} is no study yet"
             for name in sorted(plans - studies) if not Study(root, name).codebook_path.is_file()]
    # folders whose names start with a dot are a tool's, not a study's (.ipynb_checkpoints, say)
    said += [f"data/coded/{d.name}/: " + (f"'{SYNTHESIS}' names the synthesis across studies (analysis/{SYNTHESIS}"
                                          ".yaml), never a study" if d.name == SYNTHESIS else
                                          f"no plan analysis/{d.name}.yaml, so {d.name} is no study yet")
             for d in sorted((root / "data" / "coded").glob("[!.]*")) if d.is_dir() and d.name not in plans]
    kept = studies | ({SYNTHESIS} if (root / "analysis" / f"{SYNTHESIS}.yaml").is_file() else set())
    said += [f"results/{d.name}/: " + ("no synthesis plan analysis/synthesis.yaml" if d.name == SYNTHESIS else
                                       "of no study of this project") + " (results of an earlier run, left as they are)"
             for d in sorted((root / "results").glob("[!.]*")) if d.is_dir() and d.name not in kept
             and d.name != "lost+found"]  # a file system's own, where results/ is a link to a volume's root
    return said


def workflow_target(path: str | Path) -> tuple[Path, str] | None:
    """(the project, `path` relative to it) where `path` lies in the results folder of a study of a project (or of
    its synthesis across studies), the project being the nearest folder above it with a Snakefile: a target
    `snakemake` makes there; None otherwise (a results folder elsewhere, or nested in another). Links are not
    followed: a results/ that is a link to scratch storage is the project's results/ all the same."""
    absolute = Path(os.path.abspath(path))
    for project in absolute.parents:
        if (project / "Snakefile").is_file():
            relative = absolute.relative_to(project)
            owner = relative.parts[1] if len(relative.parts) > 2 and relative.parts[0] == "results" else None
            if owner is not None and (owner == SYNTHESIS or owner in discover_studies(project)):
                return project, relative.as_posix()
            return None
    return None


def discover_studies(root: str | Path = ".") -> list[str]:
    """Studies with both an analysis plan and a codebook; no registration needed (the synthesis plan is no study)."""
    root = Path(root)
    from casemeta.paths import STUDY_NAME

    names = sorted(p.stem for p in (root / "analysis").glob("*.yaml") if p.stem != SYNTHESIS)
    studies = [n for n in names if Study(root, n).codebook_path.is_file()]
    odd = [n for n in studies if not STUDY_NAME.match(n)]
    if odd:  # results/<study>/ is named after it: only plain names are studies
        log.warning("not studies (a study's name is lower-case letters, digits and _, starting with a letter): %s; "
                    "rename analysis/<name>.yaml and data/coded/<name>/", ", ".join(odd))
    return [n for n in studies if n not in odd]


def get_study(root: str | Path, name: str) -> Study:
    if name == SYNTHESIS:
        raise CasemetaError(f"{name!r} is not a study: analysis/{SYNTHESIS}.yaml is the plan of the synthesis "
                            f"across studies (casemeta synthesize); studies: {', '.join(discover_studies(root)) or 'none'}")
    from casemeta.paths import check_study_name

    check_study_name(name)
    study = Study(Path(root), name)
    if not study.codebook_path.is_file():
        known = ", ".join(discover_studies(root)) or "none"
        raise CasemetaError(f"unknown study {name!r}: {study.codebook_path} does not exist (studies: {known})")
    return study


def keep_studies(root: str | Path = ".") -> None:
    """Read every study's codebook and plan under `root` once, in a warm process (casemeta.forkserver), so that the
    jobs forked from it find them made (casemeta.coded.yaml_files.kept); a study that fails is left to its jobs,
    which report why."""
    from casemeta.coded.yaml_files import keeping
    from casemeta.plan import load_plan

    try:
        root = find_project_root(root)  # as a job finds it, so that its paths are the jobs' own
    except CasemetaError:
        return
    with keeping():
        for name in discover_studies(root):
            study = Study(root, name)
            try:
                load_plan(study.plan_path, study.codebook())
            except CasemetaError:
                continue
