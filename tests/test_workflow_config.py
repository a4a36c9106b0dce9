"""The workflow's configuration takes only what its jobs' command line takes: a value the command line refuses
stops the run while Snakemake reads the workflow, before any job (which would fail after clearing results)."""

import yaml

from conftest import ROOT, snakemake


def test_the_config_bounds_are_the_command_lines():
    config = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())["properties"]
    command_line = yaml.safe_load((ROOT / "src" / "casemeta" / "plan.schema.yaml").read_text())["$defs"]["command_line"]
    assert (config["seed"]["minimum"], config["seed"]["maximum"]) == (command_line["seed"]["minimum"],
                                                                      command_line["seed"]["maximum"])
    assert config["monte_carlo_draws"]["maximum"] == command_line["draws"]["maximum"]
    assert config["monte_carlo_draws"]["minimum"] >= command_line["draws"]["minimum"]


def test_a_seed_the_jobs_would_refuse_stops_the_run_before_any_job(project):
    for value in ("seed=-1", "seed=4294967296", "monte_carlo_draws=200000000"):
        run = snakemake(project, "--config", value)
        assert run.returncode != 0, value
        assert "ValidationError" in run.stderr + run.stdout and "localrule" not in run.stdout + run.stderr, value
    assert not (project / "results").exists() and not (project / "logs").exists()
