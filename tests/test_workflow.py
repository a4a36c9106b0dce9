"""The whole Snakemake workflow, run in a temporary copy of the project."""

import subprocess

import pandas as pd
import pytest

from conftest import snapshot

pytestmark = pytest.mark.workflow


def snakemake(project, *args):
    return subprocess.run(
        ["snakemake", "--cores", "2", *args], cwd=project, capture_output=True, text=True, timeout=900
    )


def test_one_run_reproduces_everything_and_a_second_does_nothing(project):
    first = snakemake(project)
    assert first.returncode == 0, first.stderr[-3000:]
    results = project / "results" / "african_clusters"
    rep = pd.read_csv(results / "reproduction.csv")
    assert len(rep) == 183 and int(rep["match"].sum()) == 177
    assert (results / "coding_check.txt").exists()
    assert (project / "logs" / "reproduce_published" / "african_clusters.log").exists()
    second = snakemake(project)
    assert second.returncode == 0
    assert "Nothing to be done" in second.stdout + second.stderr


def test_invalid_data_stops_the_workflow_before_any_analysis(project):
    cases = project / "data" / "coded" / "african_clusters" / "cases.csv"
    cases.write_text(cases.read_text().replace("kenya_ngong_furniture,Kenya,Ngong Furniture,1", "kenya_ngong_furniture,Kenya,Ngong Furniture,maybe"))
    before = snapshot(project / "data")
    run = snakemake(project)
    assert run.returncode != 0
    log = (project / "logs" / "validate_cases" / "african_clusters.log").read_text()
    assert "column 'market_local': value 'maybe' is not allowed; expected one of 0, 1" in log
    assert "column 'market_local': value 'maybe'" in run.stderr
    results = project / "results" / "african_clusters"
    assert not any(results.glob("*.csv")) if results.exists() else True
    assert snapshot(project / "data") == before
