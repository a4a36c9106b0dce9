"""Scale benchmark: the workflow on african_clusters grown to N coded cases, and the cold workflow run.

The 25 real cases, then cases resampled from them with 10% of the binary codes
flipped (seeded; ids made unique), in a temporary copy of the project (the
cases are synthetic: nothing is written into the project itself).

For each size:
- the whole workflow, `snakemake --cores 2 --config studies=african_clusters`
  (sizes listed in --workflow-sizes; its wall time and the peak memory of its
  largest job), then
- each step alone, as the workflow's rule runs it (one `casemeta` command), with
  its wall time and peak resident memory (GNU time's %M).
Then the cold run: `snakemake --cores 2` on a fresh copy of the shipped studies,
no results yet (median of --cold-runs); and what bounds it from below: each of
its jobs' commands run alone, one after another, and Snakemake with nothing to
do (its own start, DAG and exit).

Writes its section of BENCHMARKS.md with --write.

    python benchmarks/scale_benchmark.py [--sizes 1000 10000 100000 1000000]
        [--workflow-sizes 1000 10000 100000] [--timeout 900] [--cold-runs 5] [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Scale: the workflow on grown studies"

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sections import write_section  # noqa: E402  (BENCHMARKS.md is shared by every benchmark)

STUDY = "african_clusters"
R = f"results/{STUDY}"
STEPS = [  # (step, arguments after `casemeta --root ROOT`), in workflow order, as workflow/rules/*.smk run them
    ("validate", ["validate", "--study", STUDY, "--out", f"{R}/validated_cases.csv"]),
    ("check-coding", ["check-coding", "--study", STUDY, "--out", f"{R}/coding_check.txt"]),
    ("derive", ["derive", "--study", STUDY, "--cases", f"{R}/validated_cases.csv", "--out", f"{R}/derived_cases.csv"]),
    ("models", ["models", "--study", STUDY, "--derived", f"{R}/derived_cases.csv", "--crosstabs", f"{R}/models/crosstabs.csv",
                "--tests", f"{R}/models/crosstab_tests.csv", "--models", f"{R}/models/logistic_models.csv",
                "--cross-validation", f"{R}/models/cross_validation.csv"]),
    ("reproduce", ["reproduce", "--study", STUDY, "--derived", f"{R}/derived_cases.csv", "--out", f"{R}/reproduction.csv",
                   "--checks", f"{R}/consistency.csv", "--report", f"{R}/reproduction.md"]),
    ("qca", ["qca-study", "--study", STUDY, "--derived", f"{R}/derived_cases.csv"]),  # its files: casemeta.study
    ("export", ["export", "--study", STUDY, "--format", "all", "--results", "results"]),
    ("figures", ["figures", "--study", STUDY, "--results", "results"]),
]
PROJECT = ("Snakefile", "analysis", "data", "workflow", "config", "profiles")


def grown_cases(cases: pd.DataFrame, n: int, seed: int = 1) -> pd.DataFrame:
    """The real cases, then n - len(cases) resampled ones with 10% of their binary (0/1) codes flipped."""
    rng = np.random.default_rng(seed)
    extra = cases.iloc[rng.integers(0, len(cases), max(0, n - len(cases)))].reset_index(drop=True)
    binary = [c for c in cases.columns if set(cases[c].dropna().unique()) <= {0, 1}]
    flip = rng.random((len(extra), len(binary))) < 0.10
    extra[binary] = np.where(flip, 1 - extra[binary].to_numpy(), extra[binary].to_numpy())
    extra["case_id"] = [f"{case}_r{i}" for i, case in enumerate(extra["case_id"])]
    return pd.concat([cases, extra], ignore_index=True)


def project_copy(into: Path, n: int | None = None) -> Path:
    """The project's workflow, plans and data (no results) under `into`; with n, african_clusters grown to n cases."""
    for part in PROJECT:
        source = ROOT / part
        if source.is_symlink():
            (into / part).symlink_to(os.readlink(source))
        else:
            (shutil.copytree if source.is_dir() else shutil.copy)(source, into / part)
    if n is not None:
        path = into / "data" / "coded" / STUDY / "cases.csv"
        grown_cases(pd.read_csv(path), n).to_csv(path, index=False)
    return into


def timed(command: list[str], root: Path, timeout: float, env: dict | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak resident MiB (GNU time's %M: the largest process for a workflow), and 'ok' / why not."""
    peak_file = root / ".peak_kib"
    start = time.perf_counter()
    try:
        done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(peak_file), *command], cwd=root,
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, env=env)
        status = "ok" if done.returncode == 0 else "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1][:80]
    except subprocess.TimeoutExpired:
        status = f"killed after {timeout:.0f} s"
    wall = time.perf_counter() - start
    lines = peak_file.read_text().split() if peak_file.exists() else []
    peak = int(lines[-1]) / 1024 if lines and lines[-1].isdigit() else float("nan")
    return wall, peak, status


def snakemake(*extra: str) -> list[str]:
    return ["snakemake", "--cores", "2", *extra]


def row(cases, step, wall, peak, status) -> dict:
    record = {"cases": cases, "step": step, "seconds": round(wall, 2), "peak MiB": round(peak) if peak == peak else "",
              "status": status}
    print(record, flush=True)
    return record


def run_size(n: int, whole: bool, steps: list[str], timeout: float) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="casemeta_scale_") as tmp:
        root = project_copy(Path(tmp), n)
        if whole:
            rows.append(row(n, "whole workflow (snakemake)", *timed(snakemake("--config", f"studies={STUDY}"), root, timeout)))
        for step, args in STEPS:
            if step in steps:
                rows.append(row(n, step, *timed(["casemeta", "--root", str(root), *args], root, timeout)))
                if rows[-1]["status"] != "ok":
                    break
    return rows


def job_commands(root: Path) -> list[str]:
    """The shell command of every job of a full run, as a dry run of Snakemake prints them."""
    listed = subprocess.run(snakemake("--dry-run", "--printshellcmds", "--forceall"), cwd=root, capture_output=True,
                            text=True, check=True, stdin=subprocess.DEVNULL)
    commands = [line.split(":", 1)[1].strip() for line in listed.stdout.splitlines() if line.startswith("Shell command:")]
    return [c for c in commands if c != "None"]  # the target rule `all` runs nothing


def cold_floor(root: Path, timeout: float) -> tuple[dict[str, float], float]:
    """In a copy the workflow has finished: each job's command run alone, one after another (seconds by
    job), and `snakemake --cores 2` with nothing left to do (Snakemake's own cost). On 2 cores a cold
    run is bound to take about the latter plus half the jobs' sum."""
    # as Snakemake runs a job: one thread for the linear-algebra libraries (its shell sets these to the job's threads)
    env = {**os.environ, **{f"{lib}_NUM_THREADS": "1" for lib in ("OMP", "OPENBLAS", "MKL", "GOTO", "NUMEXPR")}}
    jobs = {}
    for command in job_commands(root):  # in the dry run's order, which follows the DAG: each job finds its inputs
        words = shlex.split(command)  # casemeta --log LOG STEP ...
        name = f"{words[3]} {words[words.index('--study') + 1]}" if "--study" in words else words[3]
        wall, _, status = timed(words, root, timeout, env)
        if status != "ok":
            raise RuntimeError(f"job {name} alone: {status}")  # a failed job would understate the floor
        jobs[name] = wall
    idle = subprocess.run(snakemake("--dry-run"), cwd=root, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if "Nothing to be done" not in idle.stdout + idle.stderr:
        raise RuntimeError("after the jobs run alone, Snakemake still has work to do: the idle run would not be idle")
    return jobs, timed(snakemake(), root, timeout)[0]


def cold_runs(runs: int, timeout: float) -> tuple[list[float], str, dict[str, float], float]:
    """Wall seconds of `snakemake --cores 2` on fresh copies of the shipped studies; its status; after the
    last run, the floor under it (cold_floor)."""
    walls, status, jobs, idle = [], "ok", {}, float("nan")
    for i in range(runs):
        with tempfile.TemporaryDirectory(prefix="casemeta_cold_") as tmp:
            wall, _, status = timed(snakemake(), project_copy(Path(tmp)), timeout)
            walls.append(wall)
            if i == runs - 1 and status == "ok":
                jobs, idle = cold_floor(Path(tmp), timeout)
    return walls, status, jobs, idle


def cold_summary(walls: list[float], status: str, jobs: dict[str, float], idle: float) -> str:
    if not walls:
        return "Cold run not measured."
    text = (f"Cold `snakemake --cores 2` on the shipped studies (fresh copy, no results), {len(walls)} runs: "
            f"median {statistics.median(walls):.1f} s (" + ", ".join(f"{w:.1f}" for w in walls) + f" s); {status}.")
    if jobs:
        total = sum(jobs.values())
        largest = ", ".join(f"{name} {wall:.2f}" for name, wall in sorted(jobs.items(), key=lambda j: -j[1])[:5])
        text += (f" Its {len(jobs)} jobs, each command run alone one after another: {total:.1f} s in all (largest: {largest} s);"
                 f" Snakemake with nothing to do: {idle:.1f} s. With 2 cores a cold run is bound to take about"
                 f" {idle:.1f} + {total:.1f} / 2 = {idle + total / 2:.1f} s, however its jobs are ordered.")
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000, 100000, 1000000],
                        help="numbers of cases to grow african_clusters to (none: the cold run only)")
    parser.add_argument("--workflow-sizes", type=int, nargs="*", default=[1000, 10000, 100000],
                        help="sizes also run as a whole workflow (snakemake)")
    parser.add_argument("--steps", nargs="+", choices=[s for s, _ in STEPS], default=[s for s, _ in STEPS],
                        help="steps timed one by one (in workflow order)")
    parser.add_argument("--steps-at-largest", nargs="+", choices=[s for s, _ in STEPS],
                        default=["validate", "derive", "models"],
                        help="steps timed at the largest size (issue 14: validate, derive, cross-tabs, tests, models)")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="write the results into BENCHMARKS.md (its own section)")
    args = parser.parse_args()
    if args.write and not args.sizes:
        parser.error("--write needs --sizes: the section holds the sizes' table and the cold run together")
    rows = []
    for n in args.sizes:
        steps = args.steps_at_largest if n == max(args.sizes) and len(args.sizes) > 1 else args.steps
        rows += run_size(n, n in args.workflow_sizes, steps, args.timeout)
    cold = cold_summary(*(cold_runs(args.cold_runs, args.timeout) if args.cold_runs else ([], "not run", {}, float("nan"))))
    table = pd.DataFrame(rows).to_markdown(index=False)
    print(table, "\n", cold)
    if args.write:
        machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"
        load = os.getloadavg()[0]
        body = (f"african_clusters grown to {', '.join(f'{n:,}' for n in args.sizes)} cases (synthetic, in a temporary"
                f" copy): `python benchmarks/scale_benchmark.py --write` ({time.strftime('%Y-%m-%d', time.gmtime())};"
                f" {machine}; load average {load:.1f} at the end). The whole workflow is `snakemake --cores 2` for the"
                " grown study; each step is then timed alone as its rule runs it (one `casemeta` command); peak memory"
                " is the maximum resident set (GNU time %M; for the workflow, its largest job). At the largest size only"
                f" {', '.join(args.steps_at_largest)} are timed. Leave-one-out is replaced by 10-fold above 200 cases.\n\n"
                f"{table}\n\n{cold}\n")
        write_section(ROOT / "BENCHMARKS.md", SECTION, body)


if __name__ == "__main__":
    sys.exit(main())
