"""Benchmark: where the CPU of a cold run's jobs goes, and what issue 23's targets would need of it.

Each job of a cold `snakemake --cores 2` of the shipped studies is run again as the workflow runs it: forked from a
process that has imported what the run's warm process imports (`casemeta.forkserver`), its command given to
`casemeta.cli.main`. While it runs, a CPU-time sampler (SIGPROF every 2 ms of the process's CPU) puts each
slice of CPU under the outermost casemeta layer on the stack at that moment: statistics (`casemeta.stats`),
figures (`casemeta.publish`'s figure modules, matplotlib and the PNG rendering with them), tables and reports
(the rest of `casemeta.publish`: the six formats, Word, Excel), cases (`casemeta.coded`: reading, checking and
deriving cases), CSV files (pandas reading or writing a results file for a step) and the rest (the steps' glue,
plans, argument parsing, atomic writes). Each slice is weighted by the CPU measured since the previous one, so a
long call into C (which delays the signal) counts in full. Each job runs `--repeats` times; the run with the
least CPU is kept.

From these it states lower bounds: what a cold run's jobs' CPU, the cold run's wall time and the add-one-case
loop's wall time would be if every statistic cost nothing (the rest unchanged), against the targets. The wall
bounds take the run as CPU-bound on 2 cores (as BENCHMARKS.md's cold-run sections measured it): all its CPU
(jobs, the warm process's imports, Snakemake's own and the job launchers', measured on the cold run here) over 2.

    python benchmarks/job_cpu_benchmark.py [--repeats 3] [--write]

Needs the package installed (or PYTHONPATH=src); makes a project copy in a temporary folder and runs the workflow
in it once (about 10 s).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import signal
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from figure_benchmark import make_project  # noqa: E402
from sections import BENCHMARKS, write_section  # noqa: E402
from wait_benchmark import STUDY, TARGETS, WARM_LOG, job_name, load, machine, read_warm_log  # noqa: E402

HEADING = "## Where a cold run's job CPU goes"
CATEGORIES = ("statistics", "figures", "tables and reports", "cases", "CSV files", "rest")
FIGURE_MODULES = ("figures.py", "specification_figures.py", "qca_figures.py")
INTERVAL = 0.002  # seconds of the process's CPU between samples


def category_of(path: str) -> str | None:
    """The layer a source file belongs to, or None for a file of no layer (steps, cli, libraries)."""
    marker = os.sep + "casemeta" + os.sep
    if marker not in path:
        return None
    inner = path.rsplit(marker, 1)[1]
    if inner.startswith("stats" + os.sep):
        return "statistics"
    if inner.startswith("publish" + os.sep):
        return "figures" if os.path.basename(inner) in FIGURE_MODULES else "tables and reports"
    if inner.startswith("coded" + os.sep):
        return "cases"
    return None


def classify(frame) -> str:
    """The outermost casemeta layer on the stack; else CSV files where pandas' io is, else the rest."""
    found, io = None, False
    while frame is not None:
        path = frame.f_code.co_filename
        found = category_of(path) or found  # walking outwards: the last one found is the outermost
        io = io or f"pandas{os.sep}io{os.sep}" in path
        frame = frame.f_back
    return found or ("CSV files" if io else "rest")


def sampled(argv: list[str]) -> dict[str, float]:
    """CPU seconds by category of `casemeta.cli.main(argv)` in this process; a job that fails is an error (what it
    did is not what the workflow's job does)."""
    from casemeta.cli import main

    totals = dict.fromkeys(CATEGORIES, 0.0)
    last = [time.process_time()]

    def sample(signum, frame):
        now = time.process_time()
        totals[classify(frame)] += now - last[0]
        last[0] = now

    signal.signal(signal.SIGPROF, sample)
    signal.setitimer(signal.ITIMER_PROF, INTERVAL, INTERVAL)
    try:
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            code = main(argv)
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        totals["rest"] += time.process_time() - last[0]
    if code != 0:
        raise RuntimeError(f"the job exited with {code}: casemeta {' '.join(argv)}")
    return totals


def forked(argv: list[str]) -> dict[str, float]:
    """sampled(argv) in a forked child, as the warm process runs a job (its objects frozen out of the collector)."""
    read, write = os.pipe()
    gc.freeze()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read)
            with os.fdopen(write, "w") as out:
                out.write(json.dumps(sampled(argv)))
        except BaseException:
            import traceback

            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as result:
        text = result.read()
    os.waitpid(pid, 0)
    if not text:
        raise RuntimeError(f"the job failed: casemeta {' '.join(argv)}")
    return json.loads(text)


def warm_imports() -> float:
    """CPU seconds of importing what the run's warm process imports before and while serving jobs."""
    from casemeta import forkserver

    start = time.process_time()
    for name in forkserver.PRELOAD + forkserver.AHEAD:
        forkserver.load(name)
    return time.process_time() - start


def cold_run(folder: Path) -> tuple[Path, float, float, list[list[str]]]:
    """A project copy run to its end: the project, the run's whole CPU (Snakemake, launchers, warm process, jobs),
    its jobs' and warm process's CPU as the run's warm log has them, and each job's arguments."""
    before = os.times()
    project = make_project(folder)
    after = os.times()
    whole = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    forked, own = read_warm_log(project / WARM_LOG)
    logged = sum(record["user"] + record["system"] for record in forked) + (own or 0.0)
    return project, whole, logged, [record["argv"] for record in forked]


def measure(repeats: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        project, whole, logged, jobs = cold_run(Path(tmp))
        imports = warm_imports()
        os.chdir(project)
        by_job = {}
        for argv in jobs:
            runs = [forked(argv) for _ in range(repeats)]
            by_job[job_name(argv)] = min(runs, key=lambda r: sum(r.values()))
    return {"jobs": by_job, "imports": imports, "snakemake": whole - logged, "whole": whole}


def in_loop(job: str) -> bool:
    """Whether the add-one-case loop (one case added to STUDY) re-runs the job: STUDY's jobs and the synthesis."""
    return job.endswith(" " + STUDY) or job.startswith("synthesize")


def report(found: dict, repeats: int) -> str:
    jobs, imports, snakemake = found["jobs"], found["imports"], found["snakemake"]
    cpu = {job: sum(parts.values()) for job, parts in jobs.items()}
    total = {c: sum(parts[c] for parts in jobs.values()) for c in CATEGORIES}
    all_jobs = sum(cpu.values())
    lines = [f"Written by `python benchmarks/job_cpu_benchmark.py --write` (--repeats {repeats}); do not edit by hand. "
             f"Machine: {machine()}; load average {load():.1f}; {date.today().isoformat()}.", "",
             "Each job of a cold run of the shipped studies, forked from a process holding the warm process's imports "
             "and sampled every 2 ms of its CPU (see the script): CPU seconds by the casemeta layer that spent them. "
             "Figures include matplotlib's drawing and the PNG rendering; tables and reports the six formats, Word and "
             "Excel; cases the reading, checking and deriving of cases; CSV files pandas reading or writing a results "
             "file; the rest the steps' glue, plans and atomic writes.", "",
             "| job | CPU s | " + " | ".join(CATEGORIES) + " |", "|---|---:|" + "---:|" * len(CATEGORIES)]
    for job in sorted(jobs, key=cpu.get, reverse=True):
        lines.append(f"| {job} | {cpu[job]:.2f} | " + " | ".join(f"{jobs[job][c]:.2f}" for c in CATEGORIES) + " |")
    lines.append(f"| all {len(jobs)} jobs | {all_jobs:.2f} | " + " | ".join(f"{total[c]:.2f}" for c in CATEGORIES) + " |")
    loop = [job for job in jobs if in_loop(job)]
    loop_cpu = sum(cpu[j] for j in loop)
    loop_stats = sum(jobs[j]["statistics"] for j in loop)
    free_cold = all_jobs - total["statistics"] + imports
    lines += ["", f"Beside the jobs: the warm process's imports {imports:.2f} s (once per run); Snakemake's own CPU and "
              f"the job launchers' {snakemake:.2f} s (the cold run's whole CPU, {found['whole']:.2f} s, less what its "
              "warm log counts for the jobs and the warm process).", "",
              "If every statistic cost nothing and all else stayed as it is:", "",
              f"- the cold run's jobs' CPU (with the warm process, as the target counts it): {free_cold:.2f} s "
              f"(target {TARGETS['cold_cpu']:g} s; now {all_jobs + imports:.2f} s);",
              f"- the cold run on 2 cores, CPU-bound: at least ({free_cold:.2f} + {snakemake:.2f}) / 2 = "
              f"{(free_cold + snakemake) / 2:.2f} s (target {TARGETS['cold']:g} s);",
              f"- the add-one-case loop ({len(loop)} jobs re-run: {STUDY}'s and the synthesis; {loop_cpu:.2f} s of CPU, "
              f"{loop_stats:.2f} s of it statistics): at least ({loop_cpu - loop_stats:.2f} + {imports:.2f} + "
              f"{snakemake:.2f}) / 2 = {(loop_cpu - loop_stats + imports + snakemake) / 2:.2f} s, and "
              f"{(loop_cpu - loop_stats + snakemake) / 2:.2f} s with no imports either (target {TARGETS['loop']:g} s). "
              "The loop's Snakemake share is taken as the cold run's (it builds the same workflow; fewer jobs)."]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each job; the least CPU is kept (default 3)")
    parser.add_argument("--write", action="store_true", help=f"write the section {HEADING!r} of BENCHMARKS.md")
    args = parser.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    text = report(measure(args.repeats), args.repeats)
    print(text)
    if args.write:
        write_section(BENCHMARKS, HEADING, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
