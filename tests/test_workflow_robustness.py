"""The workflow after a failure: nothing stale, other studies unharmed, only what changed re-runs (issue 8).

Each test starts from a copy of one completed run (results and Snakemake's
metadata included), changes one input the way a user would, and runs again.
"""

import shutil

import pytest

from conftest import snakemake

pytestmark = pytest.mark.workflow
CLUSTERS = "results/african_clusters"
PIPKIN = "results/pipkin_fuentes"


@pytest.fixture
def copy(completed_copy):
    """A private copy of the completed run (conftest.completed_copy)."""
    return completed_copy


def edit(path, old, new):
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def jobs(dry_run_output: str) -> dict[str, int]:
    """The job counts of a dry run's 'Job stats' table."""
    lines = dry_run_output.split("Job stats:", 1)[1].splitlines()[3:]
    counts = {}
    for line in lines:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            break
        counts[parts[0]] = int(parts[1])
    return counts


def test_a_plan_typo_stops_that_study_names_it_and_the_other_study_still_runs(copy):
    edit(copy / "analysis/african_clusters.yaml", "terms: [sells_internationally,", "terms: [sells_internationaly,")
    (copy / PIPKIN / "tables.tex").unlink()  # one job of the other study to do (its whole re-run proves no more)
    run = snakemake(copy)
    assert run.returncode != 0
    assert "at models/predictor_sets/together/terms/0: unknown variable 'sells_internationaly'; did you mean sells_internationally" in run.stderr
    assert not (copy / CLUSTERS).exists(), "stale results of the study whose plan is broken"
    assert (copy / PIPKIN / "tables.tex").exists(), "keep-going (workflow/profiles/default) lets the other study finish"
    # nor a synthesis of the other study alone, or of the broken one's older cases (a newcomer found the first)
    assert "rule synthesize" not in run.stdout + run.stderr
    assert not [p for p in (copy / "results" / "synthesis").rglob("*") if p.is_file()]


def test_header_only_cases_leave_no_old_summary_or_case_table(copy):
    cases = copy / "data/coded/african_clusters/cases.csv"
    cases.write_text(cases.read_text().splitlines()[0] + "\n")
    run = snakemake(copy)
    assert run.returncode != 0 and "differs from what the codebook rules give" in run.stderr
    for stale in ("summary.md", "tables", "derived_cases.csv", "models", "reproduction.csv", "tables.tex"):
        assert not (copy / CLUSTERS / stale).exists(), stale


def test_a_code_that_fails_the_coding_check_leaves_no_old_case_table(copy):
    cases = copy / "data/coded/african_clusters/cases.csv"
    lines = cases.read_text().splitlines()
    header = lines[0].split(",")
    growth = header.index("growth")
    cells = lines[1].split(",")
    cells[growth] = "1" if cells[growth] == "0" else "0"
    lines[1] = ",".join(cells)
    cases.write_text("\n".join(lines) + "\n")
    run = snakemake(copy)
    assert run.returncode != 0 and "check-coding" in run.stderr + run.stdout
    assert not (copy / CLUSTERS / "tables").exists()
    assert not (copy / CLUSTERS / "summary.md").exists()


def test_a_broken_codebook_removes_the_study_results_and_spares_the_others(copy):
    edit(copy / "data/coded/african_clusters/codebook.yaml", "type: binary", "type: binry")
    run = snakemake(copy)
    assert run.returncode != 0 and "the codebook does not follow the codebook schema" in run.stderr
    assert not (copy / CLUSTERS).exists()
    assert (copy / PIPKIN / "tables.tex").exists()


def test_display_options_rerun_only_the_export(copy):
    edit(copy / "analysis/african_clusters.yaml", "stars: false", "stars: true")
    assert jobs(snakemake(copy, "-n").stdout) == {"export_publication_african_clusters": 1, "all": 1, "total": 2}


def test_the_case_listing_limit_reruns_the_export_and_the_qca_tables(copy):
    edit(copy / "analysis/african_clusters.yaml", "stars: false", "stars: false\n  case_listing_limit: 10")
    assert jobs(snakemake(copy, "-n").stdout) == {"export_publication_african_clusters": 1, "qca_african_clusters": 1, "all": 1, "total": 3}


def test_a_qca_option_reruns_only_the_qca_and_the_export(copy):
    edit(copy / "analysis/african_clusters.yaml", "incl_cut: 0.8", "incl_cut: 0.9")
    assert jobs(snakemake(copy, "-n").stdout) == {"qca_african_clusters": 1, "export_publication_african_clusters": 1, "all": 1, "total": 3}


def test_analysis_options_rerun_what_depends_on_them(copy):
    edit(copy / "analysis/african_clusters.yaml", "method: auto", "method: firth")
    counts = jobs(snakemake(copy, "-n").stdout)
    assert counts["fit_models"] == 1 and counts["export_publication_african_clusters"] == 1
    assert "validate_cases" not in counts and "derive_variables" not in counts


def test_one_study_by_name(copy):
    """`--config studies=` plans that study's jobs alone (a dry run: that such jobs run for real is shown by
    the plan-typo test above, where pipkin_fuentes runs alone)."""
    shutil.rmtree(copy / "results")
    run = snakemake(copy, "--config", "studies=pipkin_fuentes", "-n")
    assert run.returncode == 0, run.stderr[-2000:]
    counts = jobs(run.stdout)
    assert counts["validate_cases"] == 1 and counts["export_publication_pipkin_fuentes"] == 1
    assert not [rule for rule in counts if "african_clusters" in rule or rule == "synthesize"], counts
    assert "african_clusters" not in run.stdout.replace("studies=pipkin_fuentes", "")


def test_agreement_results_go_when_the_coders_files_go(copy):
    # results of an earlier run with two coders' files, whose files have since been removed
    for name in ("reliability.csv", "reliability_disagreements.csv"):
        (copy / CLUSTERS / name).write_text("variable,n\ngrowth,25\n")
    run = snakemake(copy)
    assert run.returncode == 0, run.stderr[-2000:]
    assert not (copy / CLUSTERS / "reliability.csv").exists()
    assert not (copy / CLUSTERS / "reliability_disagreements.csv").exists()


def test_a_broken_synthesis_plan_leaves_no_table_of_the_pairs_it_named_before(copy):
    tables = copy / "results" / "synthesis" / "tables"
    assert list(tables.glob("pooled_*.csv")), "the completed run pooled pairs"
    plan = copy / "analysis" / "synthesis.yaml"
    plan.write_text(plan.read_text() + "pairs: [\n")  # no longer YAML
    run = snakemake(copy)
    assert run.returncode != 0
    assert not [p for p in (copy / "results" / "synthesis").rglob("*") if p.is_file()]  # a review found 16 left
    assert (copy / PIPKIN / "tables.tex").exists() and (copy / CLUSTERS / "tables.tex").exists()  # the studies' own stay
