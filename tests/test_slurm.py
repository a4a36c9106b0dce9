"""The workflow on a real single-node SLURM cluster (Debian's slurm-wlm and munge, started by
tests/slurm/start-slurm.sh) through `snakemake --profile workflow/profiles/slurm`: every file it
writes under results/ is byte for byte the local run's.

The SLURM executor plugin is an optional extra (`pip install -e ".[slurm]"`), kept out of the
environment the other tests run in: where the SLURM client tools are installed but no controller
answers, the plugin makes every Snakemake start wait about 9.5 s for `scontrol show config`
(BENCHMARKS.md, "SLURM"). `.ci/run` installs it into .venv-slurm/, a virtual environment that sees
the main one's packages (--system-site-packages); this test runs Snakemake with that Python. It
skips, saying why, where the cluster cannot be started (not root, slurm-wlm or munge not
installed) or the plugin is not installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, checksums, copy_project

pytestmark = [pytest.mark.workflow, pytest.mark.slurm]
SCRIPTS = Path(__file__).resolve().parent / "slurm"
STUDY = "african_clusters"  # one study (9 SLURM jobs in 4 steps): each job costs seconds of SLURM and Snakemake start-up
TIMEOUT = 600  # seconds; a hung Snakemake ignores SIGTERM and SIGINT, hence `timeout -k 30`
DAEMONS = ("/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/sbin/munged")


def plugin_python() -> str | None:
    """A Python whose Snakemake has the SLURM executor plugin: $CASEMETA_SLURM_PYTHON, .venv-slurm/ (what
    .ci/run makes), or this one if the plugin is installed here."""
    for python in (os.environ.get("CASEMETA_SLURM_PYTHON"), str(ROOT / ".venv-slurm" / "bin" / "python"), sys.executable):
        if python and Path(python).exists():
            found = subprocess.run([python, "-c", "import snakemake_executor_plugin_slurm"], capture_output=True)
            if found.returncode == 0:
                return python
    return None


def why_not() -> str:
    if sys.platform != "linux" or os.geteuid() != 0:
        return "starting a SLURM cluster needs root on Linux (its daemons run as the slurm and munge users)"
    if missing := [d for d in DAEMONS if not Path(d).exists()]:
        return f"{', '.join(missing)} not installed (Debian: apt-get install slurm-wlm munge; .ci/run does)"
    if shutil.which("timeout") is None:
        return "coreutils' timeout is not installed"
    return ""


REASON = why_not()
PYTHON = None if REASON else plugin_python()
if not REASON and PYTHON is None:
    REASON = ("snakemake-executor-plugin-slurm is not installed: pip install -e \".[slurm]\", or as .ci/run does, "
              "python3 -m venv --system-site-packages .venv-slurm && .venv-slurm/bin/pip install -e \".[slurm]\"")
pytestmark.append(pytest.mark.skipif(bool(REASON), reason=REASON or "SLURM is available"))


@pytest.fixture(scope="module")
def cluster():
    """A running single-node cluster: started here (and stopped afterwards) unless it already ran."""
    already = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=60).returncode == 0
    start = subprocess.run([str(SCRIPTS / "start-slurm.sh")], env={**os.environ, "INSTALL": "0"},
                           capture_output=True, text=True, timeout=180)
    if start.returncode == 3:  # a package is missing and INSTALL=0 forbids installing it
        pytest.skip(start.stdout.strip().splitlines()[-1])
    assert start.returncode == 0, start.stdout[-3000:] + start.stderr[-3000:]
    yield
    if not already:
        subprocess.run([str(SCRIPTS / "stop-slurm.sh")], capture_output=True, timeout=120)


def test_the_workflow_on_slurm_gives_the_local_results_byte_for_byte(cluster, request, tmp_path):
    project = copy_project(tmp_path)
    # jobs inherit the submitting environment (sbatch --export=ALL): the plugin's Python first on PATH
    env = {**os.environ, "PATH": f"{Path(PYTHON).parent}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run(["timeout", "-k", "30", str(TIMEOUT), PYTHON, "-m", "snakemake", "--profile", "workflow/profiles/slurm",
                          "--config", f"studies={STUDY}", "--slurm-keep-successful-logs"],
                         cwd=project, env=env, capture_output=True, text=True, timeout=TIMEOUT + 60)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-5000:]
    # every job went through sbatch, and SLURM kept its log
    submitted = [line for line in output.splitlines() if "has been submitted with SLURM jobid" in line]
    local_jobs = [line.strip() for line in output.splitlines() if line.strip().startswith("localrule ")]
    assert len(submitted) >= 8 and local_jobs == ["localrule all:"], output[-5000:]  # validate ... export, figures
    assert len(list((project / ".snakemake" / "slurm_logs").rglob("*.log"))) == len(submitted)
    # the local run is asked for only now: the cluster's run (mostly waiting on the plugin's status checks) goes on
    # while the other test worker makes it (conftest.completed_run, made once for the session)
    completed_run = request.getfixturevalue("completed_run")
    on_slurm, local = checksums(project / "results" / STUDY), checksums(completed_run / "results" / STUDY)
    assert len(local) > 100 and any(name.endswith(".docx") for name in local)
    assert sorted(on_slurm) == sorted(local)
    assert [name for name in local if on_slurm[name] != local[name]] == []
