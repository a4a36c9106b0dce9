"""The job-CPU benchmark puts each CPU slice under the outermost casemeta layer, and its bounds add up by hand."""

import os
from types import SimpleNamespace

import pytest

from conftest import benchmark


def bench():
    return benchmark("job_cpu_benchmark")


def stack(*paths):
    """A fake frame chain, innermost first."""
    frame = None
    for path in reversed(paths):
        frame = SimpleNamespace(f_code=SimpleNamespace(co_filename=path), f_back=frame)
    return frame


PKG = os.sep.join(["", "site", "casemeta", ""])
LIB = os.sep.join(["", "site", "pandas", "io", "parsers.py"])


def test_a_slice_goes_to_the_outermost_casemeta_layer():
    b = bench()
    # publish's figure module calling stats (innermost first): the outermost layer, figures, takes it
    assert b.classify(stack(PKG + "stats/formula.py", "/lib/matplotlib/text.py", PKG + "publish/figures.py",
                            PKG + "steps/exports.py", PKG + "cli.py")) == "figures"
    assert b.classify(stack("/lib/numpy/linalg.py", PKG + "stats/logistic_models.py", PKG + "steps/model_runs.py")) == "statistics"
    assert b.classify(stack("/lib/openpyxl/x.py", PKG + "publish/office.py", PKG + "steps/exports.py")) == "tables and reports"
    assert b.classify(stack(PKG + "coded/case_table.py", PKG + "steps/pipeline.py")) == "cases"
    assert b.classify(stack(LIB, PKG + "steps/robustness.py")) == "CSV files"  # pandas io under no layer
    assert b.classify(stack(PKG + "atomic_io.py", PKG + "steps/robustness.py")) == "rest"
    assert b.classify(None) == "rest"


def test_the_bounds_are_the_cpu_without_statistics_over_two_cores():
    b = bench()
    zero = dict.fromkeys(b.CATEGORIES, 0.0)
    jobs = {f"models {b.STUDY}": {**zero, "statistics": 2.0, "rest": 1.0},  # in the loop: 3.0, 2.0 statistics
            "synthesize": {**zero, "figures": 1.0},  # in the loop
            "models other_study": {**zero, "statistics": 1.0, "tables and reports": 3.0}}  # not in the loop
    text = b.report({"jobs": jobs, "imports": 2.0, "snakemake": 3.0, "whole": 14.0}, 1)
    # jobs 8.0, statistics 3.0: 8.0 - 3.0 + 2.0 imports = 7.0
    assert "with the warm process, as the target counts it): 7.00 s (target 8 s; now 10.00 s)" in text
    assert "at least (7.00 + 3.00) / 2 = 5.00 s (target 6 s)" in text
    # loop: 3.0 + 1.0 = 4.0 of CPU, 2.0 statistics: (2.0 + 2.0 + 3.0) / 2 = 3.5, (2.0 + 3.0) / 2 = 2.5
    assert "(2 jobs re-run" in text and "4.00 s of CPU, 2.00 s of it statistics" in text
    assert "= 3.50 s, and 2.50 s with no imports either (target 4 s)" in text
    assert "| all 3 jobs | 8.00 | 3.00 | 1.00 | 3.00 | 0.00 | 0.00 | 1.00 |" in text


def test_a_job_that_fails_is_an_error_not_a_measure(tmp_path, monkeypatch):
    b = bench()
    monkeypatch.chdir(tmp_path)  # no project here: the command fails
    with pytest.raises(RuntimeError, match="the job failed: casemeta validate --study nothing_here"):
        b.forked(["validate", "--study", "nothing_here"])
