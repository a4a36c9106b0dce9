"""The whole Snakemake workflow, run in a temporary copy of the project."""

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from docx import Document
from openpyxl import load_workbook

from casemeta.study import QCA_ROBUSTNESS_TABLES

from conftest import checksums, latex_missing, snakemake, snapshot

pytestmark = pytest.mark.workflow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def ran(completed_run):
    """The shared full run (conftest.completed_run), read by these tests."""
    return completed_run


def test_one_run_reproduces_everything_and_a_second_does_nothing(ran, completed_copy):
    results = ran / "results" / "african_clusters"
    rep = pd.read_csv(results / "reproduction.csv")
    assert len(rep) == 183 and int(rep["match"].sum()) == 177
    assert (results / "coding_check.txt").exists()
    for rule in ("validate_cases", "derive_variables", "reproduce_published", "fit_models", "export_publication"):
        assert (ran / "logs" / rule / "african_clusters.log").exists(), rule
    second = snakemake(completed_copy)  # a private copy: the shared run is read by other workers meanwhile
    assert second.returncode == 0
    assert "Nothing to be done" in second.stdout + second.stderr


def test_models_are_written_for_the_plan(ran):
    models = pd.read_csv(ran / "results" / "african_clusters" / "models" / "logistic_models.csv")
    assert models["model"].nunique() == 12  # 3 outcomes × 4 predictor sets
    firth = models[(models["model"] == "dynamic ~ market") & (models["term"] == "sells_internationally")].iloc[0]
    assert firth["method"] == "firth" and firth["separation"].startswith("quasi-complete")


def test_word_and_excel_hold_every_table(ran):
    results = ran / "results" / "african_clusters"
    tables = sorted(p.stem for p in (results / "tables").glob("*.csv"))
    conditions = ["any_joint_action", "any_support", "ja_learning", "ja_logistics", "ja_marketing",
                  "market_orientation", "n_joint_actions", "sells_internationally", "support_combination"]
    assert tables == sorted(["cases", "cross_validation", "crosstab_tests", *[f"crosstab_{c}" for c in conditions],
                             "models_dynamic", "models_growth", "models_upgrading", "table_2", "table_3", "table_4", "table_5"])
    doc = Document(results / "african_clusters_tables.docx")
    assert len(doc.tables) == len(tables)
    cells = {c.text for t in doc.tables for row in t.rows for c in row.cells}
    assert "Cape Clothing & Textile" in cells
    book = load_workbook(results / "african_clusters_tables.xlsx")
    assert book.sheetnames == ["Tables", *(f"Table {i}" for i in range(1, len(tables) + 1))]  # an index, then one sheet per table


@pytest.mark.skipif(bool(latex_missing()), reason=latex_missing() or "LaTeX is installed")
def test_tables_tex_compiles(ran, tmp_path):
    results = tmp_path / "african_clusters"  # compiled in a copy: the shared run stays as the workflow left it
    shutil.copytree(ran / "results" / "african_clusters", results)
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "tables.tex"], cwd=results, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:]
    assert (results / "tables.pdf").exists()


def test_figures_in_png_and_pdf(ran):
    figures = ran / "results" / "african_clusters" / "figures"
    assert (figures / "forest_odds_ratios.png").exists() and (figures / "forest_odds_ratios.pdf").exists()
    assert len(list(figures.glob("crosstab_*.png"))) == 9
    assert (figures / "crosstab_market_orientation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a study with no cases yet: every figure its plan names is there, and says there is nothing to draw
    from casemeta.plan import load_plan
    from casemeta.study import Study

    study = Study(ran, "pipkin_fuentes")
    declared = study.files("figures", load_plan(study.plan_path, study.codebook())).values()
    assert sorted(p.name for p in (ran / "results" / "pipkin_fuentes" / "figures").iterdir()) == sorted(p.name for p in declared)


def test_figures_cropped_to_what_is_drawn(ran):
    """Every PNG keeps a margin of about savefig's pad (0.1 inch, 15 pixels at 150 dpi) on each side:
    nothing cut off (no ink on the border) and no wide blank band (the crop is tight)."""
    from PIL import Image

    pngs = sorted((ran / "results" / "african_clusters").glob("**/*.png"))
    assert len(pngs) >= 10
    for png in pngs:
        grey = np.asarray(Image.open(png).convert("L"))
        ink = np.argwhere(grey < 250)
        (top, left), (bottom, right) = ink.min(axis=0), ink.max(axis=0)
        margins = {"top": top, "left": left, "bottom": grey.shape[0] - 1 - bottom, "right": grey.shape[1] - 1 - right}
        assert all(5 <= m <= 30 for m in margins.values()), (png.name, margins)


def test_qca_tables_and_xy_plots_for_the_plan(ran):
    results = ran / "results" / "african_clusters"
    assert (ran / "logs" / "qca" / "african_clusters.log").exists()
    dynamism = results / "qca" / "dynamism"
    solutions = pd.read_csv(dynamism / "solutions.csv")
    assert list(solutions["solution"].unique()) == ["conservative", "parsimonious", "intermediate"]
    tables = ("truth_table", "solutions", "necessity", *QCA_ROBUSTNESS_TABLES)  # the plan asks for its robustness
    assert sorted(p.name for p in (dynamism / "tables").iterdir()) == sorted(
        f"{t}.{ext}" for t in tables for ext in ("csv", "md", "tex", "html"))
    assert (dynamism / "figures" / "xy_plots.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # the models' XY plots
    assert (dynamism / "figures" / "robustness_xy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the wine cluster is the only case of its configuration: without it (as with the test set's frequency cut
    # of 2) that row is a remainder, so the solution changes and the case is shaky
    loo = pd.read_csv(dynamism / "leave_one_out.csv").set_index("case")
    assert loo.loc["south_africa_south_african_wine", "changed"]
    assert pd.read_csv(dynamism / "robustness_cases.csv").set_index("case").loc["south_africa_south_african_wine", "type"] == "shaky_typical"
    assert "Robustness of the intermediate solution's M1" in (results / "qca.md").read_text()
    assert not (results / "qca" / "no_dynamism" / "robustness_fit.csv").exists()  # its plan entry asks for none
    assert "no solution: no configuration has ~Dynamism (growth or upgrading)" in (results / "qca.md").read_text()  # labels
    assert "No cases yet" in (ran / "results" / "pipkin_fuentes" / "qca.md").read_text()


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: chromium)")
def test_snakemake_report_renders_in_headless_chromium(completed_copy, tmp_path):
    ran = completed_copy  # a private copy: the report is written into the project
    run = snakemake(ran, "--report", "report.html")
    assert run.returncode == 0, run.stderr[-3000:]
    shot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,900", f"--screenshot={shot}",
         (ran / "report.html").as_uri()],
        capture_output=True, timeout=180,
    )
    assert shot.exists() and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_invalid_data_stops_the_workflow_before_any_analysis(completed_copy):
    # a copy of the completed run: the invalid value must also remove every result of the older data
    project = completed_copy
    cases = project / "data" / "coded" / "african_clusters" / "cases.csv"
    cases.write_text(cases.read_text().replace("kenya_ngong_furniture,Kenya,Ngong Furniture,1", "kenya_ngong_furniture,Kenya,Ngong Furniture,maybe"))
    before = snapshot(project / "data")
    run = snakemake(project)
    assert run.returncode != 0
    log = (project / "logs" / "validate_cases" / "african_clusters.log").read_text()
    assert "column 'market_local': value 'maybe' is not allowed; expected one of 0, 1" in log
    assert "column 'market_local': value 'maybe'" in run.stderr
    # said by each of the two steps that read the cases as it failed, then once at the end naming both logs
    summary = run.stderr[run.stderr.index("2 job(s) of this run failed"):]
    assert "logs/check_coding/african_clusters.log, logs/validate_cases/african_clusters.log:" in summary
    assert summary.count("value 'maybe' is not allowed") == 1 and run.stderr.count("value 'maybe' is not allowed") == 3
    results = project / "results" / "african_clusters"
    assert not results.exists() or not any(results.rglob("*.csv"))
    # nor the synthesis across studies, made from this study's older cases too (a helper's review found it left)
    synthesis = project / "results" / "synthesis"
    assert not synthesis.exists() or not [p for p in synthesis.rglob("*") if p.is_file()]
    assert snapshot(project / "data") == before


def test_an_added_case_and_coder_files_update_every_table(updated_run):
    """A SYNTHETIC case (local and international, growing) typed into the YAML template, two SYNTHETIC coders'
    files, and three agreed SYNTHETIC cases (local and international, growing or not) added to a copy of the
    completed run (conftest.updated_run), then one more `snakemake` run."""
    import json

    project = updated_run
    rerun = json.loads((project.parent / "run.json").read_text())
    assert rerun["returncode"] == 0, rerun["stderr"][-3000:]
    assert "validate_cases" in rerun["stdout"] + rerun["stderr"]
    results = project / "results" / "african_clusters"
    listing = pd.read_csv(results / "tables" / "cases.csv")
    assert len(listing) == 29 and "Synthetic & Co (not real)" in set(listing["Cluster"])
    rep = pd.read_csv(results / "reproduction.csv", dtype=str).set_index(["table", "row", "column"])
    # 5 published "Domestic and International" clusters; the 4 added ones (all local and international) make 9
    assert rep.loc[("Table 2", "Domestic and International", "Number of Clusters"), "reproduced"] == "9"
    assert pd.read_csv(results / "reliability.csv").set_index("variable").at["growth", "percent_agreement"] == pytest.approx(200 / 3)


def test_no_job_clears_results_of_a_job_that_can_run_beside_or_before_it(project):
    """A job's --invalidate removes the results of the steps DOWNSTREAM of its own (casemeta.study); each of
    those steps' jobs of the same study must come after it in the workflow. A step cleared by a job that runs
    beside it (the coding check beside validation, once validation no longer came first) could lose a result
    it had just written, and the run would fail or stop short. Jobs, files and commands from the dry run, with
    the multiverse in 3 chunk jobs (the shipped plan has one)."""
    import re
    import shlex

    from casemeta.cli import COMMANDS
    from casemeta.study import DOWNSTREAM

    plan = project / "analysis" / "african_clusters.yaml"
    assert "\n  chunks: 1\n" in plan.read_text()
    plan.write_text(plan.read_text().replace("\n  chunks: 1\n", "\n  chunks: 3\n"))
    dry = subprocess.run(["snakemake", "-n", "-p", "--forceall"], cwd=project, capture_output=True, text=True, timeout=300)
    assert dry.returncode == 0, dry.stderr[-3000:]
    jobs = []  # (step, studies, clears, inputs, outputs) of every `casemeta` job
    for block in re.split(r"\n(?=\[[^\]]+\]\n(?:local)?rule )", dry.stdout + dry.stderr):
        fields = dict(re.findall(r"^ *(input|output|Shell command): (.*)$", block, flags=re.M))
        if fields.get("Shell command", "None") == "None":  # the target rule `all`
            continue
        argv = shlex.split(fields["Shell command"])
        assert argv[:2] == ["casemeta", "--log"], argv
        if argv[3] == "synthesize":  # the synthesis across studies: a step of every study it draws on
            step, studies = "synthesis", set(argv[argv.index("--studies") + 1].split(","))
        else:
            step, studies = COMMANDS[argv[3]][3], {argv[argv.index("--study") + 1]}
        assert step in DOWNSTREAM, argv
        jobs.append((step, studies, "--invalidate" in argv, set(fields.get("input", "").split(", ")),
                     set(fields["output"].split(", "))))
    assert {step for step, _, clears, *_ in jobs if clears} >= {"validate", "check_coding", "derive", "models",
                                                               "robustness_chunk", "qca"}
    assert sum(step == "synthesis" for step, *_ in jobs) == 1
    chunks = [outputs for step, *_, outputs in jobs if step == "robustness_chunk"]
    gather = [inputs for step, _, _, inputs, _ in jobs if step == "robustness"]
    assert len(chunks) == 3 and len(gather) == 1 and set().union(*chunks) <= gather[0]

    def after(first):  # the jobs that read, directly or not, what `first` writes
        found, frontier = set(), [first]
        while frontier:
            outputs = jobs[frontier.pop()][4]
            for k, (*_, inputs, _) in enumerate(jobs):
                if k not in found and inputs & outputs:
                    found.add(k)
                    frontier.append(k)
        return found

    for j, (step, (study,), clears, _, _) in ((j, job) for j, job in enumerate(jobs) if job[2]):
        later = after(j)
        for k, (other, studies, *_) in enumerate(jobs):
            if study in studies and other in DOWNSTREAM[step]:
                assert k in later, f"{step} of {study} clears the results of {other}, which does not come after it"


def test_snakemake_lint_is_clean(project):
    lint = subprocess.run(["snakemake", "--lint"], cwd=project, capture_output=True, text=True, timeout=300)
    assert "Congratulations, your workflow is in a good condition!" in lint.stdout + lint.stderr, lint.stdout[-3000:]


def test_export_on_demand_writes_only_the_formats_asked_for(ran, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(ran / "results", results)
    shutil.rmtree(results / "african_clusters" / "tables")
    run = subprocess.run(["casemeta", "--root", str(ran), "export", "--study", "african_clusters", "--format", "latex",
                          "--format", "html", "--results", str(results)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    written = {p.suffix for p in (results / "african_clusters" / "tables").iterdir()}
    assert written == {".tex", ".html"}
    assert r"Cape Clothing \& Textile" in (results / "african_clusters" / "tables" / "cases.tex").read_text()


def test_every_result_file_is_declared_by_the_rule_that_made_it(ran):
    """`snakemake --summary` lists every file under results/ with its rule: no folder output, no --out-dir."""
    run = snakemake(ran, "--summary", "--nolock")  # reads only; no lock, as other workers copy the shared run
    assert run.returncode == 0, run.stderr[-3000:]
    lines = [line.split("\t") for line in run.stdout.splitlines()[1:] if "\t" in line]
    made_by = {fields[0]: fields[2] for fields in lines}
    on_disk = sorted(str(p.relative_to(ran)) for p in (ran / "results").rglob("*") if p.is_file())
    assert on_disk and [f for f in on_disk if made_by.get(f, "-") in ("-", "")] == []
    rules = "".join(p.read_text() for p in (ran / "workflow" / "rules").glob("*.smk"))
    assert "directory(" not in rules and "--out-dir" not in rules


def test_a_second_run_writes_every_result_byte_for_byte_again(ran, completed_copy):
    """Same inputs, same bytes (README, "Byte-identical results"): the jobs that write PDF, Word and Excel files,
    whose formats record a date, and the models of both studies are run again in a copy of the shared run, later,
    each in a fresh process of its own (the shared run forked its jobs from a warm process: casemeta.forkserver);
    every file under results/ keeps its SHA-256."""
    rules = ["export_publication_african_clusters", "export_figures_african_clusters", "qca_african_clusters", "synthesize",
             "fit_models"]
    docx = completed_copy / "results" / "african_clusters" / "african_clusters_tables.docx"
    written = docx.stat().st_mtime_ns
    assert "job(s) forked from here, 0 refused (each ran in its own process), 0 no longer waiting" in (ran / "logs" / "warm_jobs.log").read_text()
    rerun = snakemake(completed_copy, "--forcerun", *rules, "--config", "warm_jobs=false")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "off (--config warm_jobs=false)" in (completed_copy / "logs" / "warm_jobs.log").read_text()  # not the last run's
    assert docx.stat().st_mtime_ns != written and all(f"rule {r}:" in rerun.stdout + rerun.stderr for r in rules)
    first, second = checksums(ran / "results"), checksums(completed_copy / "results")
    assert sorted(second) == sorted(first) and sum(name.endswith((".pdf", ".docx", ".xlsx")) for name in first) >= 20
    assert [name for name in first if first[name] != second[name]] == []
