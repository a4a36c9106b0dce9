"""Where a researcher waits (issue 23): the add-one-case loop, the cold run and its jobs' CPU, 10⁶ cases.

Every figure is printed with its target and the machine it was measured on:

- add-one-case loop: in a copy of the project whose workflow has finished, `casemeta add-case` of one
  case to african_clusters (a copy of a real case under a new id: SYNTHETIC), then `snakemake --cores 2`;
  its wall time (target 4 s), which jobs ran (only african_clusters' and the synthesis, which reads every
  study's derived cases) and which of them wrote nothing new (a job whose outputs are byte for byte what
  they were ran for nothing);
- cold run: `snakemake --cores 2` on a fresh copy of the shipped studies (target 6 s), and the CPU of its
  jobs (user + system of each `casemeta` process, target 8 s in all), job by job;
- 10⁶ cases: african_clusters grown to 1,000,000 cases (scale_benchmark.grown_cases: SYNTHETIC), its
  validate, derive and models commands as the workflow runs them, one after another (target 30 s in
  all, and at most 1 GiB for each).

Job CPU is read from inside each job: a `sitecustomize` module put first on PYTHONPATH (which Snakemake's
jobs inherit) appends each `casemeta` process's resource usage to a file when it exits; nothing in the
project is changed for it. CPU time is what a job costs whatever else the machine runs; wall times on a
shared machine are inflated by the other processes (the load average is printed with them).

    python benchmarks/wait_benchmark.py --quick        # CI smoke: one cold run, the loop, no 10⁶
    python benchmarks/wait_benchmark.py [--runs 3] [--write]   # every figure; --write: BENCHMARKS.md
    python benchmarks/wait_benchmark.py --jobs [--runs 3]      # only the cold runs: each job's CPU, largest first
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
from scale_benchmark import STEPS, grown_cases, project_copy, timed  # noqa: E402
from sections import write_section  # noqa: E402

SECTION = "## Where users wait: the add-one-case loop, the cold run's job CPU, 10⁶ cases"
STUDY, OTHER = "african_clusters", "pipkin_fuentes"
TARGETS = {"loop": 4.0, "cold": 6.0, "cold_cpu": 8.0, "million": 30.0, "million_mib": 1024.0}
LARGE_STEPS = ("validate", "derive", "models")
WARM_LOG = Path("logs") / "warm_jobs.log"  # the run's warm process (casemeta.forkserver) logs each job it forked
WARM_PROCESS = "warm process (imports, once per run)"

# Appends "user system wall maxrss_kib argv..." for each casemeta process (and what it waited for) at exit.
SITECUSTOMIZE = '''
import atexit, os, resource, sys, time
_log = os.environ.get("CASEMETA_JOB_CPU")
if _log and sys.argv and os.path.basename(sys.argv[0]) == "casemeta":
    _start = time.perf_counter()

    def _record():
        own, waited = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(_log, "a", encoding="utf-8") as out:
            out.write(f"{own.ru_utime + waited.ru_utime:.3f} {own.ru_stime + waited.ru_stime:.3f} "
                      f"{time.perf_counter() - _start:.3f} {own.ru_maxrss} " + " ".join(sys.argv[1:]) + "\\n")

    atexit.register(_record)
'''


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?") if Path("/proc/cpuinfo").exists() else "?"
    return f"{platform.machine()} ({cpu}), {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def load() -> float:
    return os.getloadavg()[0]


SPEED_PROBE = "import pandas, scipy.stats, matplotlib.pyplot"


def speed(runs: int = 3) -> float:
    """How fast the machine runs what the jobs run now: CPU seconds of importing the libraries most jobs import, in a
    fresh interpreter (median of `runs`; lower is faster). Imports are most of a small job, and like the jobs they
    are bound by memory as much as by the processor: a tight arithmetic loop measured the machine as fast while the
    workflow ran 15% slower. Rows whose speed differs are not comparable as they stand."""
    probe = f"import time; t = time.process_time(); {SPEED_PROBE}; print(time.process_time() - t)"
    return statistics.median(float(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                                  check=True).stdout) for _ in range(runs))


class Jobs:
    """Runs commands with every casemeta process's CPU recorded (see SITECUSTOMIZE)."""

    def __init__(self, tmp: Path):
        site = tmp / "site"
        site.mkdir()
        (site / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
        self.log = tmp / "job_cpu.txt"
        self.env = {**os.environ, "CASEMETA_JOB_CPU": str(self.log),
                    "PYTHONPATH": os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH")) if p)}

    def run(self, command: list[str], root: Path, timeout: float = 900) -> tuple[float, float, dict[str, float], str]:
        """Wall seconds, CPU seconds of the whole command (itself and its jobs), CPU by job, and 'ok' or why not."""
        self.log.write_text("")
        before = os.times()
        warm_log = root / WARM_LOG
        warm_log.unlink(missing_ok=True)
        wall, _, status = timed(command, root, timeout, self.env)
        after = os.times()
        total = (after.children_user - before.children_user) + (after.children_system - before.children_system)
        return wall, total, self.jobs(warm_log), status

    def jobs(self, warm_log: Path) -> dict[str, float]:
        """CPU by job: each `casemeta` process's own, plus for a job forked from the run's warm process
        (casemeta.forkserver) the child's, which that process logs, and the warm process's own (its imports,
        done once for all jobs) as one more entry."""
        cpu = {}
        for line in self.log.read_text().splitlines():
            user, system, _, _, *argv = line.split()
            cpu[job_name(argv)] = cpu.get(job_name(argv), 0.0) + float(user) + float(system)
        forked, own = read_warm_log(warm_log)
        for record in forked:
            cpu[job_name(record["argv"])] = cpu.get(job_name(record["argv"]), 0.0) + record["user"] + record["system"]
        if own is not None:
            cpu[WARM_PROCESS] = own
        return cpu


def read_warm_log(path: Path) -> tuple[list[dict], float | None]:
    """A run's warm log (casemeta.forkserver): the record of each job it forked (argv, exit, user, system, ...), and
    its own CPU seconds (None if it did not stop, or there is no log)."""
    forked, own = [], None
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        if (job := line.partition("warm jobs: job ")[2]):
            forked.append(json.loads(job))
        elif (used := re.search(r"itself used ([0-9.]+) s user and ([0-9.]+) s system", line)):
            own = float(used[1]) + float(used[2])
    return forked, own


def jobs_in(by_job) -> int:
    """How many jobs ran (the warm process's own CPU is an entry, not a job)."""
    return sum(1 for job in by_job if job != WARM_PROCESS)


def job_name(argv: list[str]) -> str:
    """'models african_clusters' from a job's casemeta arguments (--log LOG models --study S ...)."""
    words = [w for i, w in enumerate(argv) if not w.startswith("-") and not (i and argv[i - 1] in ("--log", "--root"))]
    study = argv[argv.index("--study") + 1] if "--study" in argv else ""
    return f"{words[0]} {study}".strip() if words else "?"


def digests(root: Path) -> dict[str, tuple[int, str]]:
    """Each result file's modification time and content digest."""
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted((root / "results").rglob("*")) if p.is_file()}


def rewritten_unchanged(before: dict, after: dict, rules: dict[str, list[str]]) -> list[str]:
    """Rules whose job ran (an output written again) yet wrote every output byte for byte as it was."""
    def ran(files):
        return any(f in before and f in after and before[f][0] != after[f][0] for f in files)

    return sorted(rule for rule, files in rules.items()
                  if ran(files) and all(f in before and before[f][1] == after.get(f, (0, ""))[1] for f in files))


def outputs_by_rule(root: Path) -> dict[str, list[str]]:
    """Each rule's output files, from `snakemake --summary`."""
    listed = subprocess.run(["snakemake", "--summary"], cwd=root, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    rules: dict[str, list[str]] = {}
    for line in listed.stdout.splitlines()[1:]:
        cells = line.split("\t")
        if len(cells) > 2:
            rules.setdefault(cells[2], []).append(cells[0])
    return rules


def one_new_case(root: Path, into: Path) -> Path:
    """A copy of the study's first case under a new id and name (SYNTHETIC: for timing only)."""
    lines = (root / "data" / "coded" / STUDY / "cases.csv").read_text(encoding="utf-8").splitlines()
    header, first = lines[0].split(","), lines[1].split(",")
    row = dict(zip(header, first)) | {"case_id": "benchmark_added_case", "cluster": "Benchmark added case (synthetic)"}
    path = into / "one_case.csv"
    path.write_text(",".join(header) + "\n" + ",".join(row[c] for c in header) + "\n", encoding="utf-8")
    return path


def cold_and_loop(runs: int, timeout: float, loop: bool = True) -> dict:
    """`snakemake --cores 2` on fresh copies (median of `runs`), then in each copy the add-one-case loop
    (unless `loop` is false)."""
    cold, loops = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="casemeta_wait_") as tmp:
            tmp = Path(tmp)
            (tmp / "project").mkdir()
            root = project_copy(tmp / "project")
            jobs = Jobs(tmp)
            wall, total, by_job, status = jobs.run(["snakemake", "--cores", "2"], root, timeout)
            cold.append({"wall": wall, "cpu": total, "jobs": by_job, "status": status, "load": load()})
            if status != "ok" or not loop:
                continue
            before = digests(root)
            add_wall, add_cpu, _, add_status = jobs.run(["casemeta", "add-case", "--study", STUDY, str(one_new_case(root, tmp))], root)
            wall, total, by_job, status = jobs.run(["snakemake", "--cores", "2"], root, timeout)
            after, rules = digests(root), outputs_by_rule(root)
            unchanged = rewritten_unchanged(before, after, rules)
            status = status if add_status == "ok" else f"add-case {add_status}"
            loops.append({"add_wall": add_wall, "add_cpu": add_cpu, "wall": wall, "cpu": total,
                          "jobs": by_job, "status": status, "unchanged": unchanged, "load": load(),
                          "others": sorted(j for j in by_job if OTHER in j)})
    return {"cold": cold, "loop": loops}


def million(n: int, timeout: float) -> list[dict]:
    """The validate, derive and models commands at n cases, one after another, each with its wall, CPU and peak memory."""
    import pandas as pd

    rows = []
    with tempfile.TemporaryDirectory(prefix="casemeta_million_") as tmp:
        tmp = Path(tmp)
        (tmp / "project").mkdir()
        root = project_copy(tmp / "project")
        path = root / "data" / "coded" / STUDY / "cases.csv"
        grown_cases(pd.read_csv(path), n).to_csv(path, index=False)
        jobs = Jobs(tmp)
        for step, args in STEPS:
            if step in LARGE_STEPS:
                wall, cpu, _, status = jobs.run(["casemeta", "--root", str(root), *args], root, timeout)
                peak = max((int(line.split()[3]) for line in jobs.log.read_text().splitlines()), default=0) / 1024
                rows.append({"step": step, "wall": wall, "cpu": cpu, "peak": peak, "status": status})
                print(f"  {n:,} cases, {step}: {wall:.1f} s wall, {cpu:.1f} s CPU, {peak:.0f} MiB", flush=True)
                if status != "ok":
                    break
    return rows


def verdict(value: float, target: float) -> str:
    return "meets" if value <= target else "MISSES"


def report(found: dict, rows: list[dict], n: int) -> str:
    """The figures, each with its target, as Markdown."""
    out = []
    cold, loops = found["cold"], found["loop"]
    if cold:
        walls, cpus = [c["wall"] for c in cold], [c["cpu"] for c in cold]
        job_cpu = [sum(c["jobs"].values()) for c in cold]
        out.append(f"- cold `snakemake --cores 2` ({len(cold)} run(s), median): {statistics.median(walls):.1f} s wall"
                   f" (target {TARGETS['cold']:.0f} s: {verdict(statistics.median(walls), TARGETS['cold'])}); its"
                   f" {jobs_in(cold[-1]['jobs'])} jobs' CPU {statistics.median(job_cpu):.1f} s (target {TARGETS['cold_cpu']:.0f} s:"
                   f" {verdict(statistics.median(job_cpu), TARGETS['cold_cpu'])}); Snakemake and jobs together"
                   f" {statistics.median(cpus):.1f} s CPU; load average {cold[-1]['load']:.1f}; {cold[-1]['status']}")
        per_job = {job: statistics.median(c["jobs"].get(job, 0.0) for c in cold) for job in cold[-1]["jobs"]}
        out.append("  - CPU by job (s): " + ", ".join(f"{job} {cpu:.2f}" for job, cpu in sorted(per_job.items(), key=lambda j: -j[1])))
    if loops:
        walls = [lp["wall"] for lp in loops]
        last = loops[-1]
        out.append(f"- add-one-case loop ({len(loops)} run(s), median): `add-case` {statistics.median(lp['add_wall'] for lp in loops):.1f} s,"
                   f" then `snakemake --cores 2` {statistics.median(walls):.1f} s wall (target {TARGETS['loop']:.0f} s:"
                   f" {verdict(statistics.median(walls), TARGETS['loop'])}), {statistics.median(sum(lp['jobs'].values()) for lp in loops):.1f} s"
                   f" of job CPU; load average {last['load']:.1f}; {last['status']}")
        out.append(f"  - jobs that ran ({jobs_in(last['jobs'])}): " + ", ".join(f"{job} {cpu:.2f}" for job, cpu in last["jobs"].items()))
        out.append(f"  - of {OTHER}: " + (", ".join(last["others"]) if last["others"] else "none")
                   + "; rules that ran and wrote every output byte for byte as it was: " + (", ".join(last["unchanged"]) or "none"))
    if rows:
        wall, cpu, peak = sum(r["wall"] for r in rows), sum(r["cpu"] for r in rows), max(r["peak"] for r in rows)
        status = "ok" if all(r["status"] == "ok" for r in rows) else next(r["status"] for r in rows if r["status"] != "ok")
        out.append(f"- {n:,} cases (SYNTHETIC), {' + '.join(r['step'] for r in rows)}: {wall:.1f} s wall (target"
                   f" {TARGETS['million']:.0f} s: {verdict(wall, TARGETS['million'])}), {cpu:.1f} s CPU, largest peak {peak:.0f} MiB"
                   f" (target {TARGETS['million_mib']:.0f} MiB: {verdict(peak, TARGETS['million_mib'])}); {status}")
        out.append("  - by step: " + ", ".join(f"{r['step']} {r['wall']:.1f} s wall / {r['cpu']:.1f} s CPU / {r['peak']:.0f} MiB" for r in rows))
    return "\n".join(out)


def job_table(cold: list[dict]) -> str:
    """Each job's CPU (median over the cold runs, largest first) and their sum, as a plain table."""
    jobs = sorted({job for c in cold for job in c["jobs"]})
    cpu = {job: statistics.median(c["jobs"].get(job, 0.0) for c in cold) for job in jobs}
    lines = [f"{seconds:7.2f}  {job}" for job, seconds in sorted(cpu.items(), key=lambda j: -j[1])]
    return "\n".join([*lines, f"{sum(cpu.values()):7.2f}  all {jobs_in(jobs)} jobs (CPU s, user + system, median of"
                                f" {len(cold)} cold run(s); load average {load():.1f})"])


def history_row(found: dict, rows: list[dict]) -> str:
    med = statistics.median
    cold, loops = found["cold"], found["loop"]
    cells = [time.strftime("%Y-%m-%d", time.gmtime()), f"{load():.1f}",
             f"{med(lp['wall'] for lp in loops):.1f}" if loops else "",
             f"{med(c['wall'] for c in cold):.1f}" if cold else "",
             f"{med(sum(c['jobs'].values()) for c in cold):.1f}" if cold else "",
             f"{sum(r['wall'] for r in rows):.1f}" if rows else "", f"{max(r['peak'] for r in rows):.0f}" if rows else "",
             f"{found['speed']:.2f}" if found.get("speed") else ""]
    return "| " + " | ".join(cells) + " |"


HISTORY = ("| date | load | loop s | cold s | cold job CPU s | 10⁶ s | 10⁶ MiB | speed s |\n"
           "|---|---:|---:|---:|---:|---:|---:|---:|")


def write(found: dict, rows: list[dict], n: int, text: str, path: Path = ROOT / "BENCHMARKS.md") -> None:
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    start = old.find(SECTION)
    earlier = []
    if start >= 0:
        part = old[start:].split("\n## ", 1)[0]
        earlier = [line for line in part.splitlines() if line.startswith("| 20")]
    body = (f"Written by `python benchmarks/wait_benchmark.py --write`; do not edit by hand. Machine: {machine()};"
            f" the machine is shared, so wall times carry the load average beside them; CPU is each job's own"
            f" (user + system); speed: CPU seconds of `{SPEED_PROBE}` in a fresh Python at the start (lower is"
            f" faster; the rows before it was recorded have none).\n\n{text}\n\nHistory (targets: loop {TARGETS['loop']:.0f} s, cold"
            f" {TARGETS['cold']:.0f} s, cold job CPU {TARGETS['cold_cpu']:.0f} s, {n:,} cases {TARGETS['million']:.0f} s"
            f" and {TARGETS['million_mib']:.0f} MiB):\n\n{HISTORY}\n" + "\n".join([*earlier, history_row(found, rows)]) + "\n")
    write_section(path, SECTION, body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI smoke: one cold run and one loop, no 10⁶ cases")
    parser.add_argument("--runs", type=int, default=3, help="cold runs, each followed by the loop (median)")
    parser.add_argument("--cases", type=int, default=1_000_000, help="size of the grown study")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--write", action="store_true", help="write the figures into BENCHMARKS.md (its own section, with history)")
    parser.add_argument("--jobs", action="store_true",
                        help="only the cold runs: each job's CPU, largest first (to see what a change saves)")
    args = parser.parse_args()
    if args.write and (args.quick or args.jobs):
        parser.error("--write records the full figures: not with --quick or --jobs")
    pace = speed()
    print(f"machine: {machine()}; load average {load():.1f}; speed {pace:.2f} s (`{SPEED_PROBE}`)", flush=True)
    if args.jobs:
        found = cold_and_loop(args.runs, args.timeout, loop=False)
        print(job_table(found["cold"]))
        return 1 if any(c["status"] != "ok" for c in found["cold"]) else 0
    found = cold_and_loop(1 if args.quick else args.runs, args.timeout)
    found["speed"] = pace
    rows = [] if args.quick else million(args.cases, args.timeout)
    text = report(found, rows, args.cases)
    print(text)
    if args.write:
        write(found, rows, args.cases, text)
    failed = [c["status"] for c in found["cold"] + found["loop"] if c["status"] != "ok"] + \
             [r["status"] for r in rows if r["status"] != "ok"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
