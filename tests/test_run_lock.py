"""No stale result (issue 20, item 4): coded data never change while a workflow run reads them.

Snakemake records an input's checksum when the job that read it has finished, so a case added during a
run could end up in cases.csv but not in the results while the next run said "Nothing to be done".
casemeta.run_lock makes `add-case` (and `code`) wait for nothing and refuse while a run holds the project.
"""

from __future__ import annotations

import subprocess
import time

import pytest

from casemeta import run_lock
from casemeta.cli import main

from conftest import snakemake

STUDY = "african_clusters"
CASES = f"data/coded/{STUDY}/cases.csv"
TARGET = f"results/{STUDY}/validated_cases.csv"  # one job: the smallest run that reads cases.csv
SYNTHETIC_CASE = """\
case_id: synthetic_run_lock_case
country: Synthetica
cluster: Synthetic Cluster (not real)
market_local: 1
market_national: 0
market_regional: 0
market_international: 1
growth: 1
upgrading: 0
ee_labour: 1
ee_suppliers: 1
ee_customers: 0
ee_specialisation: 0
ja_learning: 1
ja_marketing: 0
ja_logistics: 0
support_government: 0
support_cluster: 1
support_external: 0
"""


def _add(project, capsys) -> tuple[int, str]:
    case = project / "incoming.yaml"
    case.write_text(SYNTHETIC_CASE)
    code = main(["--root", str(project), "add-case", "--study", STUDY, str(case)])
    return code, capsys.readouterr().err


@pytest.mark.faults  # a real run (one job) and a dry run: about 15 s
def test_add_case_during_a_snakemake_run_is_refused_and_the_next_run_has_work(project, capsys):
    before = (project / CASES).read_bytes()
    run = subprocess.Popen(["snakemake", "--cores", "1", "--config", f"studies={STUDY}", "--", TARGET], cwd=project,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while (holder := run_lock.running(project)) is None:  # the run holds the project from its onstart
            assert run.poll() is None and time.monotonic() < deadline, "the run never held the project's run lock"
            time.sleep(0.02)
        code, err = _add(project, capsys)
        assert run.poll() is None, "the run ended before the add: the refusal was not tested"
        assert code == 1
        assert f"error: {CASES}: a workflow run is under way in this project: snakemake (process {run.pid}, " in err
        assert f"-- {TARGET})" in err and "nothing was changed" in err and "Run `casemeta add-case` again" in err
        assert holder.startswith(f"snakemake (process {run.pid}")
        assert (project / CASES).read_bytes() == before
    finally:
        out, _ = run.communicate(timeout=300)
    assert run.returncode == 0, out[-3000:]
    assert run_lock.running(project) is None  # onsuccess released it
    code, err = _add(project, capsys)  # now it lands, and the next run has work to do
    assert code == 0, err
    assert (project / CASES).read_bytes() != before
    # One dry run checks two things: what a second snakemake started during a run is told (a run holds the
    # project, from here), and that the case added after the run leaves the next run work to do.
    held = run_lock.WorkflowRun(project)
    held.start("snakemake --cores 2")
    try:
        dry = snakemake(project, "-n", "--config", f"studies={STUDY}", "--", TARGET)
    finally:
        held.finish()
    said = dry.stdout + dry.stderr
    assert dry.returncode == 0, said[-3000:]
    assert "another workflow run is under way in this project: snakemake (process " in said, said[-3000:]
    assert ": snakemake --cores 2)" in said and "Do not use --unlock, --rerun-incomplete or --cleanup-metadata" in said
    assert "validate_cases" in dry.stdout and "Nothing to be done" not in said


def test_a_second_run_that_would_execute_jobs_stops_while_reading_the_workflow(project):
    """Not at Snakemake's IncompleteFilesException over the files the first run is writing, whose advice
    (--rerun-incomplete, --cleanup-metadata) would harm that run: before any job, naming the run that holds the
    project (a newcomer met Snakemake's message first)."""
    held = run_lock.WorkflowRun(project)
    held.start("snakemake --cores 2")
    (project / "results").mkdir()
    (project / "results" / "kept.txt").write_text("a file the run holding the project wrote")
    try:
        second = snakemake(project, "--config", f"studies={STUDY}")
        # nor anything else that changes the project while that run lives (a review deleted a live run's results)
        others = [snakemake(project, *options) for options in (["--delete-all-output"], ["--unlock"], ["--touch"],
                                                                ["--apptainer-args", "-B /home/lab"])]
        abbreviated = snakemake(project, "--dryru")  # a dry run as Snakemake reads it: told, and it goes on
    finally:
        held.finish()
    for other in others:
        assert other.returncode != 0 and "this run did nothing" in other.stdout + other.stderr, other.stderr[-2000:]
    assert abbreviated.returncode == 0 and "What this command shows may change" in abbreviated.stdout + abbreviated.stderr
    assert (project / "results" / "kept.txt").is_file()
    (project / "results" / "kept.txt").unlink()
    (project / "results").rmdir()
    said = second.stdout + second.stderr
    assert second.returncode != 0
    assert "another workflow run is under way in this project: snakemake (process " in said, said[-3000:]
    assert "this run did nothing" in said and "Do not use --unlock, --rerun-incomplete" in said
    assert "localrule" not in said and "IncompleteFilesException" not in said
    assert not (project / "results").exists() and not (project / "logs").exists()


def test_a_run_is_refused_while_another_holds_the_project_and_waits_for_an_add(project):
    first = run_lock.WorkflowRun(project)
    first.start("snakemake --cores 2")
    try:
        second = run_lock.WorkflowRun(project)
        try:
            second.start("snakemake -j1")
            raise AssertionError("two runs held the project at once")
        except run_lock.CasemetaError as exc:
            assert "another workflow run is under way in this project: snakemake (process" in str(exc)
            assert "this run did nothing" in str(exc) and "Do not use --unlock" in str(exc)
    finally:
        first.finish()
    with run_lock.coded_data_change(project, "add-case", CASES):  # an add under way: a run waits, then holds it
        started = time.monotonic()
        waiting = run_lock.WorkflowRun(project)
        run_lock.WAIT_SECONDS, saved = 0.2, run_lock.WAIT_SECONDS
        try:
            waiting.start("snakemake")
            raise AssertionError("a run started while cases were being added")
        except run_lock.CasemetaError as exc:
            assert "a command changing coded data (add-case or code) has held it for 0.2 s" in str(exc)
        finally:
            run_lock.WAIT_SECONDS = saved
        assert time.monotonic() - started >= 0.2
    waiting.start("snakemake")
    assert run_lock.running(project).endswith(": snakemake)")
    waiting.finish()
