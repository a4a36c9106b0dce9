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


def test_a_checkout_run_with_another_copy_of_the_package_is_told_so(project):
    """src/casemeta beside the Snakefile, while the package imported is another copy (a newcomer's clone run by a
    Snakemake whose Python has the main checkout installed): the jobs would run that copy's code."""
    quiet = snakemake(project, "-n")
    assert quiet.returncode == 0 and "this run uses the casemeta package in" not in quiet.stderr + quiet.stdout
    (project / "src" / "casemeta").mkdir(parents=True)
    told = snakemake(project, "-n")
    assert told.returncode == 0
    assert f"not this project's {project / 'src' / 'casemeta'}: its jobs run that code" in told.stderr + told.stdout
