"""Commands find the project from any subfolder, or say they are not in one (issue 8, item 7)."""

import os
import subprocess
import sys

import pytest

from casemeta.errors import CasemetaError
from casemeta.study import find_project_root


def run(cwd, *args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-m", "casemeta.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=120)


def test_root_is_found_from_a_subfolder(project):
    assert find_project_root(project / "data" / "coded" / "african_clusters") == project.resolve()


def test_outside_a_project_is_an_error(tmp_path):
    with pytest.raises(CasemetaError, match="not inside a casemeta project"):
        find_project_root(tmp_path)


@pytest.mark.parametrize("subfolder", ["data", "data/coded/pipkin_fuentes", "analysis"])
def test_validate_and_studies_work_from_a_subfolder(project, subfolder):
    studies = run(project / subfolder, "studies")
    assert studies.returncode == 0 and studies.stdout.split() == ["african_clusters", "pipkin_fuentes"]
    validate = run(project / subfolder, "validate")
    assert validate.returncode == 0, validate.stderr
    assert "african_clusters: 25 case(s) valid" in validate.stdout


@pytest.mark.parametrize("command", [["studies"], ["validate"], ["validate", "--study", "african_clusters"],
                                     ["new-case", "--study", "african_clusters"]])
def test_no_command_exits_0_having_done_nothing_outside_a_project(tmp_path, command):
    result = run(tmp_path, *command)
    assert result.returncode == 1
    assert "not inside a casemeta project" in result.stderr and "Traceback" not in result.stderr


def test_a_project_without_studies_is_an_error(tmp_path):
    (tmp_path / "Snakefile").write_text("")
    (tmp_path / "analysis").mkdir()
    result = run(tmp_path, "studies")
    assert result.returncode == 1 and "no studies found" in result.stderr


def test_top_level_help_lists_every_command(capsys):
    # a "%" in a command's help (e.g. "95% interval") crashed argparse's listing of the commands
    from casemeta.cli import COMMANDS, main

    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)


def test_validate_never_writes_into_data(project, capsys):
    from casemeta.cli import main

    cases = project / "data" / "coded" / "african_clusters" / "cases.csv"
    before = cases.read_bytes()
    assert main(["--root", str(project), "validate", "--study", "african_clusters", "--out", str(cases)]) == 1
    assert "validate never writes there" in capsys.readouterr().err
    assert cases.read_bytes() == before
