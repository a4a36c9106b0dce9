"""Start-up: the command line loads the Word, Excel, plotting and model libraries only for the steps that use them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("docx", "openpyxl", "matplotlib", "sklearn", "statsmodels", "pandera", "scipy.stats", "firthmodels", "hypothesis")
SRC = str(Path(__file__).resolve().parents[1] / "src")


def loaded_after(code: str) -> list[str]:
    """The heavy libraries in sys.modules after running `code` in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_command_line_loads_no_heavy_library():
    assert loaded_after("import casemeta.cli") == []


@pytest.mark.parametrize("module", ["casemeta.steps.exports", "casemeta.steps.qca_runs", "casemeta.publish.formats"])
def test_the_export_modules_load_word_and_excel_only_when_writing(module):
    assert not {"docx", "openpyxl"} & set(loaded_after(f"import {module}"))


@pytest.mark.parametrize("module", ["casemeta.steps.pipeline", "casemeta.steps.qca_runs", "casemeta.steps.exports"])
def test_steps_without_models_or_validation_load_neither(module):
    """Only the models step needs scikit-learn, statsmodels and SciPy's statistics; only validation needs pandera."""
    assert loaded_after(f"import {module}") == []


def test_gathering_the_multiverse_loads_no_model_library():
    """The gathering job only summarizes the chunks' fits: statsmodels, scikit-learn and SciPy's statistics are
    the chunk jobs' (about 2 s of CPU to import)."""
    code = "import casemeta.steps.robustness, casemeta.stats.multiverse, casemeta.publish.robustness_tables"
    assert not {"statsmodels", "sklearn", "scipy.stats", "firthmodels"} & set(loaded_after(code))


def test_validation_loads_pandera_when_it_validates():
    code = ("from pathlib import Path\nfrom casemeta.study import Study\nfrom casemeta.coded.case_table import load_cases\n"
            f"s = Study(Path({str(Path(SRC).parent)!r}), 'african_clusters')\nload_cases(s.cases_path, s.codebook())")
    loaded = loaded_after(code)
    assert "pandera" in loaded and "hypothesis" not in loaded  # pandera imports it to generate data, which we never do


def test_hypothesis_still_imports_after_pandera_loaded_without_it():
    code = ("from casemeta.coded.schema import pandera\npandera()\nimport hypothesis.strategies\n"
            "import pandera.strategies.base_strategies as b\nassert not b.HAS_HYPOTHESIS")
    assert set(loaded_after(code)) >= {"pandera", "hypothesis"}


def test_office_writers_still_reachable_through_formats():
    assert set(loaded_after("from casemeta.publish.formats import write_docx")) >= {"docx", "openpyxl"}


def test_help_lists_every_command_without_error():
    # a '%' in a command's help (e.g. "95% interval") made argparse fail on `casemeta --help`
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run([sys.executable, "-m", "casemeta.cli", "--help"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-300:]
    assert "95% interval" in done.stdout


def test_help_and_refused_outputs_answer_without_loading_pandas():
    """`casemeta --help`, and an output the path guard refuses, are answered before pandas is imported (half a
    second of each such answer): the commands import pandas, and the steps, where they read and write."""
    root = Path(SRC).parent
    probe = ("import contextlib, io, sys\nfrom casemeta.cli import main\n"
             "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n    main(['--help'])\n"
             f"code = main(['--root', {str(root)!r}, 'derive', '--study', 'african_clusters', '--cases', "
             f"{str(root / 'results' / 'validated.csv')!r}, '--out', {str(root / 'data' / 'derived.csv')!r}])\n"
             "print(code, 'pandas' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.split() == ["1", "False"], done.stderr[-500:]
    assert "inside the project's data/" in done.stderr  # the guard said why it refused


def test_the_workflow_puts_its_own_casemeta_first_on_path(tmp_path, monkeypatch):
    """The jobs' `casemeta` is the one beside the Python that runs the workflow, found first on PATH (not a shim
    further on); put there once; left alone where that folder has none."""
    from casemeta.launch import first_on_path

    own = tmp_path / "env" / "bin"
    own.mkdir(parents=True)
    monkeypatch.setattr(sys, "executable", str(own / "python3"))
    monkeypatch.setenv("PATH", "/shims:/usr/bin")
    first_on_path()
    assert os.environ["PATH"] == "/shims:/usr/bin"  # no casemeta there: nothing to prefer
    (own / "casemeta").write_text("#!/bin/sh\n")
    (own / "casemeta").chmod(0o755)
    first_on_path()
    first_on_path()
    assert os.environ["PATH"] == f"{own}:/shims:/usr/bin"


def test_a_jobs_launcher_does_not_look_up_the_package_version():
    """Every workflow job starts `casemeta.launch`, which hands the command to the warm process: importlib.metadata
    (~14 ms a job) is loaded only where the version is asked for."""
    probe = ("import sys, casemeta.launch, casemeta.forkserver\nprint('importlib.metadata' in sys.modules)\n"
             "import casemeta\nprint(casemeta.__version__.count('.') >= 1 or casemeta.__version__ == '0+unknown')")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": SRC})
    assert done.stdout.split() == ["False", "True"]


def test_reading_every_shipped_plan_loads_no_pandas():
    """Snakemake's process reads and checks every study's plan (its multiverse's conditions too) before the first job:
    without NumPy or pandas (~0.2 s of the run's start), which only the jobs and the warm process need."""
    code = ("from pathlib import Path\nfrom casemeta.study import Study, discover_studies\nfrom casemeta.plan import load_plan\n"
            f"root = Path({str(Path(SRC).parent)!r})\nnames = discover_studies(root)\nassert len(names) >= 2\n"
            "plans = [load_plan(Study(root, n).plan_path, Study(root, n).codebook()) for n in names]\n"
            "assert any(o.exclude for p in plans for d in p.robustness.decisions for o in d.options)  # conditions checked\n"
            "import sys\nassert 'pandas' not in sys.modules and 'numpy' not in sys.modules, sorted(sys.modules)")
    assert loaded_after(code) == []
