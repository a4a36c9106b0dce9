"""SLURM overhead: what running through `snakemake --profile workflow/profiles/slurm` costs on a
single-node cluster (tests/slurm/start-slurm.sh), against the same jobs run locally.

Measures, each the median of --runs runs:
- Snakemake's start (`snakemake -n` with nothing to do) with and without the SLURM executor plugin
  installed, while no slurmctld answers and while it runs: the plugin asks `scontrol show config`
  when the command line is read, which waits for an absent controller;
- a chain of --chain trivial jobs (each `touch`es a file the next one reads) and --width independent
  ones, locally (`--cores 2`) and on SLURM: seconds per job in the chain is the latency SLURM adds to
  every step of a workflow;
- with --workflow, the shipped workflow for one study (african_clusters: 8 jobs in 4 steps), locally
  and on SLURM.

Needs root, slurm-wlm and munge, and a Python with snakemake-executor-plugin-slurm (--python, by default
.venv-slurm/bin/python as .ci/run makes it). Starts the cluster, and stops it at the end if it was not
running before. Writes its section of BENCHMARKS.md with --write.

    sudo python benchmarks/slurm_benchmark.py [--runs 3] [--chain 4] [--width 8] [--workflow] [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "tests" / "slurm"
PROFILE = ROOT / "workflow" / "profiles" / "slurm"
SECTION = "## SLURM overhead"
PROJECT = ("Snakefile", "analysis", "data", "workflow", "config", "profiles", "environment.yml")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sections import write_section  # noqa: E402  (BENCHMARKS.md is shared by every benchmark)

TRIVIAL = """
CHAIN, WIDTH = {chain}, {width}
PART = config.get("part", "chain")


rule all:
    input:
        ["chain/%d.txt" % CHAIN] if PART == "chain" else ["wide/%d.txt" % i for i in range(WIDTH)],
    localrule: True


rule first:
    output:
        "chain/1.txt",
    shell:
        "touch {{output}}"


rule step:
    input:
        lambda w: "chain/%d.txt" % (int(w.i) - 1),
    output:
        "chain/{{i,[2-9]|[1-9][0-9]+}}.txt",  # never 1.txt: inside a SLURM job only this rule is allowed
    shell:
        "touch {{output}}"



rule wide:
    output:
        "wide/{{i,[0-9]+}}.txt",
    shell:
        "touch {{output}}"
"""


def timed(cmd: list[str], cwd: Path, env: dict, timeout: int = 1800) -> float:
    start = time.perf_counter()
    run = subprocess.run(["timeout", "-k", "30", str(timeout), *cmd], cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{run.stderr[-3000:]}")
    return seconds


def fresh(folder: Path) -> None:
    for sub in ("chain", "wide", "results", "logs", ".snakemake"):
        shutil.rmtree(folder / sub, ignore_errors=True)


def median_of(runs: int, make) -> tuple[float, list[float]]:
    values = [make() for _ in range(runs)]
    return statistics.median(values), values


def cluster_up() -> bool:
    return subprocess.run(["scontrol", "ping"], capture_output=True).returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=str(ROOT / ".venv-slurm" / "bin" / "python"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chain", type=int, default=4)
    parser.add_argument("--width", type=int, default=8)
    parser.add_argument("--workflow", action="store_true")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    env = {**os.environ, "PATH": f"{Path(args.python).parent}{os.pathsep}{os.environ['PATH']}"}
    local_sm, slurm_sm = [sys.executable, "-m", "snakemake"], [args.python, "-m", "snakemake"]
    slurm = [*slurm_sm, "--profile", str(PROFILE)]
    was_up = cluster_up()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "trivial"
        work.mkdir()
        (work / "Snakefile").write_text(TRIVIAL.format(chain=args.chain, width=args.width))
        startup = {}
        if not was_up:
            for name, cmd in (("without the plugin", local_sm), ("with the plugin", slurm_sm)):
                startup[(name, "no controller")] = median_of(args.runs, lambda cmd=cmd: timed([*cmd, "-n", "--cores", "1"], work, env))
        subprocess.run([str(SCRIPTS / "start-slurm.sh")], env={**os.environ, "INSTALL": "0"}, check=True, capture_output=True)
        try:
            for name, cmd in (("without the plugin", local_sm), ("with the plugin", slurm_sm)):
                startup[(name, "slurmctld running")] = median_of(args.runs, lambda cmd=cmd: timed([*cmd, "-n", "--cores", "1"], work, env))
            for part, jobs in (("chain", args.chain), ("wide", args.width)):
                for where, cmd in (("local", [*local_sm, "--cores", "2"]), ("SLURM", slurm)):
                    def once(cmd=cmd, part=part):
                        fresh(work)
                        return timed([*cmd, "--config", f"part={part}"], work, env)
                    rows.append((f"{jobs} trivial jobs, {'one after another' if part == 'chain' else 'independent'}", where, jobs, *median_of(args.runs, once)))
            if args.workflow:
                project = Path(tmp) / "project"
                project.mkdir()
                for part in PROJECT:
                    source = ROOT / part
                    (shutil.copytree if source.is_dir() else shutil.copy2)(source, project / part)
                for where, cmd in (("local", [*local_sm, "--cores", "2"]), ("SLURM", slurm)):
                    def once(cmd=cmd):
                        fresh(project)
                        return timed([*cmd, "--config", "studies=african_clusters"], project, env)
                    rows.append(("the workflow, african_clusters (8 jobs in 4 steps)", where, 8, *median_of(1, once)))
        finally:
            if not was_up:
                subprocess.run([str(SCRIPTS / "stop-slurm.sh")], capture_output=True)
    load = os.getloadavg()[0]
    lines = [f"Written by `python benchmarks/slurm_benchmark.py{' --workflow' if args.workflow else ''}`; do not edit by hand.", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}, "
             f"{platform.system()} {platform.release()}; {slurm_version()}; snakemake-executor-plugin-slurm {plugin_version(args.python)}; "
             f"single-node cluster from tests/slurm/start-slurm.sh (no accounting, status by squeue, "
             f"first status check after 1 s: the profile's settings); load average {load:.1f} at the end; {time.strftime('%Y-%m-%d')}. "
             f"Median of {args.runs} run(s) (the workflow: one run).", "",
             "Snakemake's start (`snakemake -n`, nothing to do):", "",
             "| plugin | controller | seconds | runs |", "|---|---|---:|---|"]
    for (plugin, state), (med, values) in startup.items():
        lines.append(f"| {plugin} | {state} | {med:.1f} | {', '.join(f'{v:.1f}' for v in values)} |")
    lines += ["", "Jobs run locally and on SLURM:", "", "| jobs | where | n | seconds | runs | seconds per job |", "|---|---|---:|---:|---|---:|"]
    for what, where, n, med, values in rows:
        lines.append(f"| {what} | {where} | {n} | {med:.1f} | {', '.join(f'{v:.1f}' for v in values)} | {med / n:.1f} |")
    chain = {where: med for what, where, n, med, _ in rows if "after another" in what}
    if chain:
        lines += ["", f"Overhead per job: a job on SLURM takes {(chain['SLURM'] - chain['local']) / args.chain:.1f} s longer than "
                  "locally in the chain. Where it goes: submission, Snakemake started twice inside the job, and the plugin's "
                  "status checks, 1 s after a submission and then 10 s later each time none finished (1, 12, 33, 63 ... s; "
                  "hard-coded in the plugin, at most 180 s apart), so a step costs about 12 s if its job ends within 12 s and "
                  "33 s if it ends within 33 s, as on a loaded machine. Independent jobs share the waiting: few large jobs "
                  "(chunks) pay it least."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        write_section(ROOT / "BENCHMARKS.md", SECTION, text)


def slurm_version() -> str:
    found = subprocess.run(["sinfo", "--version"], capture_output=True, text=True)
    return found.stdout.strip() or "slurm (version unknown)"


def plugin_version(python: str) -> str:
    found = subprocess.run([python, "-c", "from importlib.metadata import version; print(version('snakemake-executor-plugin-slurm'))"],
                           capture_output=True, text=True)
    return found.stdout.strip() or "?"


if __name__ == "__main__":
    main()
