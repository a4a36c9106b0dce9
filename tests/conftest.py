"""Shared fixtures: the real project, and throw-away copies of it for tests that write."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from filelock import FileLock
from hypothesis import HealthCheck, settings
from threadpoolctl import threadpool_limits

from casemeta.study import Study

# One BLAS thread, in this process (threadpoolctl: a plugin such as pytest-randomly may have loaded
# NumPy already) and, through the environment, in every `casemeta` and `snakemake` process the tests
# start. The matrices of small case studies are tiny: OpenBLAS's threads only wait for one another
# (a 4×4 triangular solve took 5 ms instead of microseconds on 2 busy cores, making the models step
# about five times slower); the numbers are the same.
for _threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")
threadpool_limits(1, user_api="blas")

ROOT = Path(__file__).resolve().parents[1]
# Reference numbers computed by other software (R logistf, brglm2, irrCAC, metafor, QCA),
# copied verbatim from ../shared/reference/ with its README, so a clone runs every test.
REFERENCE = Path(__file__).resolve().parent / "data" / "reference"
PROJECT_PARTS = ["Snakefile", "workflow", "profiles", "config", "data", "analysis", "environment.yml"]


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def clusters() -> Study:
    return Study(ROOT, "african_clusters")


def copy_project(folder: Path) -> Path:
    """A copy of the project's workflow, data and plans in `folder`."""
    for part in PROJECT_PARTS:
        src = ROOT / part
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, folder / part)
    return folder


def snakemake(project: Path, *args: str) -> subprocess.CompletedProcess:
    """`snakemake --cores 2 ARGS` run in `project` as a user runs it (the default profile applies)."""
    return subprocess.run(["snakemake", "--cores", "2", *args], cwd=project, capture_output=True, text=True, timeout=900)


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the project's workflow, data and plans in a temporary folder."""
    return copy_project(tmp_path)


def shared_once(tmp_path_factory, name: str, make) -> Path:
    """`make(folder)` run once for the whole test session, also across pytest-xdist's workers: the first
    worker to ask builds it under a file lock in the session's common temporary folder, the others wait
    and reuse it (the recipe of pytest-xdist's documentation, "Making session-scoped fixtures execute
    only once"). Without xdist, the folder is the session's own. A failed build is not retried: every
    worker that asks fails with its message. The result is shared: tests must not change it."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # pytest-of-user/pytest-N/, the parent of every worker's own folder
    folder, done, failed = base / name, base / f"{name}.done", base / f"{name}.failed"
    with FileLock(str(base / f"{name}.lock")):
        if failed.exists():
            pytest.fail(failed.read_text(encoding="utf-8"))
        if not done.exists():
            folder.mkdir()
            try:
                make(folder)
            except BaseException as exc:
                failed.write_text(f"{name} could not be built: {exc}", encoding="utf-8")
                raise
            done.touch()
    return folder


def _complete_run(folder: Path) -> None:
    copy_project(folder)
    run = snakemake(folder)
    assert run.returncode == 0, run.stderr[-3000:]


@pytest.fixture(scope="session")
def completed_run(tmp_path_factory) -> Path:
    """One full workflow run in a fresh copy, shared by the tests that read its results or copy it (one for
    the whole session, whichever xdist worker asks first)."""
    return shared_once(tmp_path_factory, "completed_run", _complete_run)


@pytest.fixture
def completed_copy(completed_run, tmp_path) -> Path:
    """A private copy of the completed run, for a test that changes an input and runs again: copytree keeps
    modification times (and .snakemake/ its metadata), so nothing is out of date until the test changes it."""
    target = tmp_path / "project"
    shutil.copytree(completed_run, target, symlinks=True)
    return target


def latex_missing() -> str:
    """Why the tables cannot be compiled here ("" if they can): pdflatex and the LaTeX packages the
    tables use (Debian: texlive-latex-recommended, texlive-latex-extra, texlive-science)."""
    if shutil.which("pdflatex") is None:
        return "pdflatex is not installed (Debian: texlive-latex-recommended)"
    for package, debian in (("threeparttable", "texlive-latex-extra"), ("siunitx", "texlive-science")):
        found = subprocess.run(["kpsewhich", f"{package}.sty"], capture_output=True, text=True).stdout.strip()
        if not found:
            return f"LaTeX package {package} is not installed (Debian: {debian})"
    return ""


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below `folder` with its bytes, to prove that nothing changed."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# Hypothesis profiles of the generated-study tests (tests/test_any_study.py and its strategies in
# tests/study_strategies.py).
# - "ci" (the default, what `python3 -m pytest` runs) is derandomized and small: the same 15 examples
#   per property test on every run, so the two end-to-end property tests analyse 30 generated studies
#   in all (10 of a shipped codebook, 20 of a generated one); tests that set their own max_examples keep it.
# - "long" is the deep run, randomized, 100 times as many studies (3,000), for a hunt before a release
#   or after a change to the statistics (tens of minutes on 2 cores):
#       HYPOTHESIS_PROFILE=long python3 -m pytest tests/test_any_study.py
_SLOW_DATA = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile("ci", max_examples=15, derandomize=True, database=None, deadline=None,
                          suppress_health_check=_SLOW_DATA, print_blob=True)
settings.register_profile("long", max_examples=1500, deadline=None, suppress_health_check=_SLOW_DATA, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
