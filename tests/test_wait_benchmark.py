"""The where-users-wait benchmark names jobs, spots jobs that rewrote their outputs unchanged, and keeps its history."""

import pytest

from conftest import benchmark


def bench():
    return benchmark("wait_benchmark")


def test_job_names_from_a_jobs_arguments():
    b = bench()
    assert b.job_name("--log logs/fit_models/a.log models --study a --derived x.csv".split()) == "models a"
    assert b.job_name("--log logs/synthesize/s.log synthesize --studies a,b --out o.csv".split()) == "synthesize"
    assert b.job_name("--root /tmp/p validate --study b --out v.csv".split()) == "validate b"


def test_only_rules_that_ran_and_wrote_the_same_bytes_are_named():
    b = bench()
    before = {"r/a.txt": (1, "x"), "r/b.csv": (1, "y"), "r/c.csv": (1, "z"), "r/d.csv": (1, "w")}
    after = {"r/a.txt": (2, "x"), "r/b.csv": (2, "changed"), "r/c.csv": (1, "z"), "r/d.csv": (2, "w")}
    rules = {"check": ["r/a.txt"], "models": ["r/b.csv", "r/d.csv"], "other": ["r/c.csv"]}
    # check ran (new time) and wrote the same text; models ran and changed one file; other did not run
    assert b.rewritten_unchanged(before, after, rules) == ["check"]


def test_the_report_states_each_target_and_the_history_keeps_earlier_rows(tmp_path):
    b = bench()
    found = {"cold": [{"wall": 7.0, "cpu": 12.0, "jobs": {"models a": 3.0, "validate a": 1.5}, "status": "ok", "load": 1.0}],
             "loop": [{"add_wall": 0.5, "add_cpu": 0.4, "wall": 3.5, "cpu": 5.0, "jobs": {"validate a": 1.0},
                       "status": "ok", "unchanged": [], "others": [], "load": 1.0}], "speed": 0.583}
    rows = [{"step": "validate", "wall": 10.0, "cpu": 9.0, "peak": 800.0, "status": "ok"},
            {"step": "models", "wall": 25.0, "cpu": 24.0, "peak": 1100.0, "status": "ok"}]
    text = b.report(found, rows, 1_000_000)
    assert "7.0 s wall (target 6 s: MISSES); its 2 jobs' CPU 4.5 s (target 8 s: meets)" in text  # 3.0 + 1.5
    assert "`snakemake --cores 2` 3.5 s wall (target 4 s: meets)" in text
    assert "35.0 s wall (target 30 s: MISSES), 33.0 s CPU, largest peak 1100 MiB (target 1024 MiB: MISSES)" in text
    path = tmp_path / "BENCHMARKS.md"
    b.write(found, rows, 1_000_000, text, path)
    b.write(found, rows, 1_000_000, text, path)
    history = [line for line in path.read_text().splitlines() if line.startswith("| 20")]
    assert len(history) == 2 and history[0].endswith("| 3.5 | 7.0 | 4.5 | 35.0 | 1100 | 0.58 |")


def test_the_job_table_lists_each_jobs_median_cpu_largest_first_and_their_sum():
    b = bench()
    cold = [{"jobs": {"models a": 3.0, "validate a": 1.0}}, {"jobs": {"models a": 5.0, "validate a": 2.0}},
            {"jobs": {"models a": 4.0, "validate a": 9.0}}]
    lines = b.job_table(cold).splitlines()
    assert [line.split()[:2] for line in lines[:2]] == [["4.00", "models"], ["2.00", "validate"]]  # medians
    assert lines[2].startswith("   6.00  all 2 jobs") and "median of 3 cold run(s)" in lines[2]


def test_a_job_forked_from_the_warm_process_counts_its_childs_cpu_and_the_imports_count_once(tmp_path):
    """With warm jobs (casemeta.forkserver) a job's `casemeta` process only waits: the CPU is its forked child's,
    which the warm process logs, and the warm process's own imports are one more entry of the run's job CPU."""
    b = bench()
    jobs = b.Jobs(tmp_path)
    jobs.log.write_text("0.040 0.010 2.5 20000 --log l.log models --study a --derived d.csv\n")
    warm = tmp_path / "warm_jobs.log"
    warm.write_text(
        "casemeta warm jobs: serving /tmp/x/jobs.sock for process 1\n"
        'casemeta warm jobs: job {"argv": ["--log", "l.log", "models", "--study", "a"], "exit": 0, "user": 1.25,'
        ' "system": 0.25, "maxrss_kib": 90000}\n'
        'casemeta warm jobs: job {"argv": ["validate", "--study", "a"], "exit": 0, "user": 0.5, "system": 0.0,'
        ' "maxrss_kib": 80000}\n'
        "casemeta warm jobs: stopped: 2 job(s) forked from here, 0 refused (each ran in its own process), 0 no longer "
        "waiting when their turn came; this process itself used"
        " 2.000 s user and 0.500 s system CPU\n")
    by_job = jobs.jobs(warm)
    assert by_job == pytest.approx({"models a": 0.05 + 1.5, "validate a": 0.5, b.WARM_PROCESS: 2.5})
    assert b.jobs_in(by_job) == 2
