"""Shared fixtures: the real project, and throw-away copies of it for tests that write."""

from __future__ import annotations

import compileall
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from filelock import FileLock
from hypothesis import HealthCheck, settings
from threadpoolctl import threadpool_limits

import casemeta
from casemeta.launch import first_on_path
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

# The `casemeta` and `snakemake` the tests start are this Python's, found first on PATH as a workflow run finds
# them for its jobs (casemeta.launch.first_on_path): further on, they may be a version manager's shims (pyenv's cost
# ~65 ms of CPU per call, and the suite starts a few hundred such processes).
first_on_path()

# casemeta's bytecode, compiled once: the suite starts hundreds of `casemeta` processes (each Snakemake job is
# one), and where the environment sets PYTHONDONTWRITEBYTECODE (as this machine does) none of them writes the
# bytecode it compiles, so each compiled every casemeta module again (0.2-0.4 s of CPU per process, measured).
# compileall writes __pycache__/ beside the sources (ignored by git), as an ordinary import would; it rewrites
# only what changed, atomically, so both xdist workers may call it.
compileall.compile_dir(Path(casemeta.__file__).parent, quiet=1)
# The heaviest test files first, largest first, the others in pytest-randomly's order: with --dist loadfile a
# file runs on one worker, and xdist hands out files in collection order (--no-loadscope-reorder; its default
# order, by number of tests, put the heavy files with few tests last), so a heavy file drawn last kept one core
# busy up to a minute after the other had finished. Wall seconds per file measured 2026-12-07 (BENCHMARKS.md,
# "Test suite"). test_any_study runs second so that the other worker does not wait for the completed run that
# test_team_coding builds first (conftest.completed_run, shared through a file lock). test_slurm goes before them all:
# where its plugin is installed (CI) it runs about two minutes, mostly waiting on SLURM, and drawn last it kept the
# suite waiting for it alone (3 min 44 s against 2 min 3 s without it, 2026-12-07).
HEAVY_FIRST = ("test_slurm.py", "test_team_coding.py", "test_any_study.py", "test_degenerate_studies.py", "test_any_study_workflow.py",
               "test_workflow.py", "test_workflow_robustness.py", "test_data_safety_faults.py",
               "test_bad_input_corpus.py", "test_case_entry.py", "test_robustness.py")


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: one test worker per core, and one more. The longest test (test_slurm, about two minutes) mostly
    waits on SLURM's status checks, and the warm-job tests on signals and pauses: with a worker per core, a core
    stood idle meanwhile (the suite took 3 min 53 s where its CPU, shared by 2 cores, was 3 min 0 s; 2026-12-07).
    PYTEST_XDIST_AUTO_NUM_WORKERS and `-n logical` are xdist's to answer, as without this hook."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS") or getattr(config.option, "numprocesses", None) == "logical":
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cores + 1


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: within a rank, randomly's order


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


def benchmark(name: str):
    """The script benchmarks/NAME.py as a module (the scripts are not a package; they import each other by name)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def copy_project(folder: Path) -> Path:
    """A copy of the project's workflow, data and plans in `folder` (not the lock files add-case leaves beside
    cases.csv: a copy starts as a fresh checkout does)."""
    for part in PROJECT_PARTS:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, folder / part, ignore=shutil.ignore_patterns(".*.lock"))
        else:
            shutil.copy2(src, folder / part)
    return folder


def changed_shipped_files() -> list[str]:
    """The files of the shipped studies (data/, analysis/) that differ from the checked-out commit, by git; [] where
    this is not a git checkout."""
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        return []
    done = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--", "data", "analysis"],
                          cwd=ROOT, capture_output=True, text=True)
    return [line[3:] for line in done.stdout.splitlines()] if done.returncode == 0 else []


def pytest_sessionstart(session):
    """The tests hold the shipped studies to their published numbers and to hand-worked values: run on cases a
    researcher has added or recoded, dozens of them would fail for no fault of the code. Say so once, instead."""
    if hasattr(session.config, "workerinput") or os.environ.get("CASEMETA_TESTS_ON_CHANGED_DATA") == "1":
        return
    changed = changed_shipped_files()
    if changed:
        shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        pytest.exit(f"the tests check the shipped studies as committed, and this checkout has changes under data/ or "
                    f"analysis/ ({shown}). Run them in a clean clone: git clone . ../casemeta-tests && cd "
                    f"../casemeta-tests && python3 -m pytest (or commit or stash the changes first; "
                    f"CASEMETA_TESTS_ON_CHANGED_DATA=1 runs them on the changed files anyway).", returncode=4)


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


def _update_run(completed: Path, folder: Path) -> None:
    """A researcher's day on a copy of the completed run: one SYNTHETIC case typed into the YAML template and
    added; two SYNTHETIC coders' files of the first three published cases (growth coded 1, 0, 1 by coder a and
    1, 1, 1 by coder b) for the agreement statistics; two coders' SYNTHETIC forms reconciled, their three
    disagreements decided (synthetic_1's growth 0, synthetic_3's learning 1 and external support 1) and the
    three agreed cases added; then one `snakemake` run, whose output is kept in run.json."""
    import json

    import pandas as pd
    from openpyxl import load_workbook

    from team_forms import run, two_coders

    project = folder / "project"
    shutil.copytree(completed, project, symlinks=True)  # keeps modification times: only what changes is redone
    study = "african_clusters"
    case = folder / "case.yaml"
    assert run(project, "new-case", "--study", study, "--out", case) == 0
    values = {"case_id": "synthetic_added", "country": "Synthetica", "cluster": "Synthetic & Co (not real)",
              "market_local": "1", "market_international": "1", "growth": "1", "ee_labour": "1", "ee_suppliers": "1"}
    lines = case.read_text().splitlines()
    filled = [f'{ln.split(":")[0]}: "{values.get(ln.split(":")[0], "0")}"' if ln.endswith(': ""') else ln for ln in lines]
    case.write_text("\n".join(filled) + "\n")
    assert run(project, "add-case", "--study", study, case) == 0
    coders = project / "data" / "coded" / study / "coders"
    coders.mkdir()
    first = pd.read_csv(project / "data" / "coded" / study / "cases.csv", dtype=str, keep_default_na=False).head(3)
    first.assign(growth=["1", "0", "1"]).to_csv(coders / "coder_a.csv", index=False)
    first.assign(growth=["1", "1", "1"]).to_csv(coders / "coder_b.csv", index=False)
    forms = folder / "forms"
    forms.mkdir()
    a, b = two_coders(project, forms)
    consensus, agreed = forms / "consensus.xlsx", forms / "agreed.csv"
    assert run(project, "reconcile", "--study", study, a, b, "--out", consensus) == 0
    book = load_workbook(consensus)
    for r, value in ((2, "0"), (3, "1"), (4, "1")):
        book["disagreements"].cell(row=r, column=6).value = value
    book.save(consensus)
    assert run(project, "reconcile", "--study", study, consensus, "--out", agreed) == 0
    assert run(project, "add-case", "--study", study, agreed) == 0
    done = snakemake(project)
    (folder / "run.json").write_text(json.dumps({"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr}))


@pytest.fixture(scope="session")
def updated_run(completed_run, tmp_path_factory) -> Path:
    """The completed run after `_update_run` (a typed case, coders' files, a reconciled consensus) and one more
    `snakemake` run, shared by the tests of the added cases (tests/test_workflow.py, tests/test_team_coding.py):
    one re-run of the study instead of one per test. The project folder; its run's output in ../run.json."""
    return shared_once(tmp_path_factory, "updated_run", lambda folder: _update_run(completed_run, folder)) / "project"


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


def checksums(folder: Path) -> dict[str, str]:
    """The SHA-256 of every file below `folder`, by its path there: same bytes, same checksums."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


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
