"""`snakemake --use-conda` can build an environment that holds this package (issue 8, item 8).

conda is not on the test machines, so the files are checked for what conda
and Snakemake will do with them.
"""

import re
import tomllib

import yaml

from conftest import ROOT

ENV = ROOT / "workflow" / "envs" / "casemeta.yaml"
POST_DEPLOY = ROOT / "workflow" / "envs" / "casemeta.post-deploy.sh"
CONDA_NAMES = {"pandera[pandas]": "pandera"}  # PyPI extras have no conda counterpart


def _requirements(specs):
    return {CONDA_NAMES.get(n, n): s for n, s in (re.match(r"^([A-Za-z0-9_.\[\]-]+)(.*)$", x).groups() for x in specs)}


def test_the_environment_lists_exactly_the_package_dependencies():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = _requirements(pyproject["project"]["dependencies"])
    env = yaml.safe_load(ENV.read_text())
    listed = _requirements([d for d in env["dependencies"] if isinstance(d, str)])
    assert listed.pop("python") == ">=" + pyproject["project"]["requires-python"].removeprefix(">=")
    assert {k: v for k, v in listed.items() if k not in ("pip", "setuptools")} == wanted
    # no pip section: `-e .` there would resolve against .snakemake/conda/, not the repository
    assert not any(isinstance(d, dict) for d in env["dependencies"])


def test_the_conda_route_of_the_readme_lists_the_dependencies_and_the_test_extra():
    """environment.yml (README: conda env create) holds what pip would install with `.[test]`, each once: pytest
    started under it needs pytest-xdist for the `-n` of pyproject's addopts."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = _requirements(pyproject["project"]["dependencies"] + pyproject["project"]["optional-dependencies"]["test"])
    names = [re.match(r"^([A-Za-z0-9_.\[\]-]+)", d)[1] for d in yaml.safe_load((ROOT / "environment.yml").read_text())[
        "dependencies"] if isinstance(d, str)]
    assert len(names) == len(set(names)), "a dependency listed twice"
    listed = _requirements([d for d in yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
                            if isinstance(d, str)])
    assert {k: v for k, v in listed.items() if k not in ("python", "pip")} == wanted


def test_the_post_deploy_script_installs_this_checkout_from_the_project_root():
    # Snakemake runs <env>.post-deploy.sh inside the new environment, from its working directory
    script = POST_DEPLOY.read_text()
    assert script.startswith("#!/usr/bin/env bash")
    assert 'pip install --no-deps --no-build-isolation -e "$PWD"' in script
    assert "pyproject.toml" in script  # refuses to install from anywhere but the project root
    assert POST_DEPLOY.stat().st_mode & 0o111


def test_every_rule_runs_in_that_environment():
    for rules in (ROOT / "workflow" / "rules").glob("*.smk"):
        text = rules.read_text()
        shells = len(re.findall(r"^\s+shell:", text, flags=re.M))  # rules made per study sit one level deeper
        assert len(re.findall(r'conda:\n\s+"\.\./envs/casemeta\.yaml"', text)) == shells, rules.name


def test_the_default_profile_is_where_snakemake_looks_and_keeps_going():
    # Snakemake searches profiles/default beside the Snakefile; `profiles` links to workflow/profiles
    assert (ROOT / "profiles").is_symlink() and (ROOT / "profiles" / "default" / "config.yaml").is_file()
    profile = yaml.safe_load((ROOT / "workflow" / "profiles" / "default" / "config.yaml").read_text())
    assert profile["keep-going"] is True
