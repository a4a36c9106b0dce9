"""Benchmark: the CPU time of drawing and writing each kind of figure the workflow makes, in-process.

Each kind is timed inside the step that draws it, on the shipped studies' results: the figure functions
(`casemeta.publish.figures`, `.qca_figures`, `.specification_figures`) are wrapped by a CPU clock while the
step runs as the workflow runs it, so a kind's time is its figures' building, layout, drawing and encoding
and nothing of the statistics around them. CPU is the process's (time.process_time), the least of
`--repeats` runs in the same process after a first, "cold" run, which is timed apart: the first figures of a
process pay for matplotlib's fonts and caches, as each workflow job (a process of its own) does.

Needs a completed project copy (`--project`, written into: the synthesis step writes its results there);
without one, one is made in a temporary folder by a workflow run (about 2 minutes on 2 cores).
`--baseline SRC` times another copy of the package as well (e.g. the main branch's src/), in a process of
its own, and prints both. `--write` puts the table in the section "Figures" of BENCHMARKS.md.

Run: python benchmarks/figure_benchmark.py --baseline /path/to/main/src --write
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from sections import BENCHMARKS, write_section  # noqa: E402  (BENCHMARKS.md is shared by every benchmark)

HEADING = "## Figures"
# kind -> (module under casemeta.publish, function): every call of the function is that kind's time
KINDS = {
    "specification curves, african_clusters (one PDF page per model term)": ("specification_figures", "write_curve_pages"),
    "cross-tab heat maps, both studies (PNG + PDF each)": ("figures", "crosstab_heatmap"),
    "forest plots of the models, both studies (PNG + PDF each)": ("figures", "forest_plot"),
    "QCA XY plot grids, both studies (PNG + PDF each)": ("qca_figures", "xy_grid"),
    "QCA robustness plot, african_clusters (PNG + PDF)": ("qca_figures", "robustness_xy"),
    "synthesis forest plot (PNG + PDF)": ("figures", "synthesis_forest_plot"),
}
STUDIES = ("african_clusters", "pipkin_fuentes")
PROJECT_FILES = ("Snakefile", "workflow", "profiles", "config", "data", "analysis", "environment.yml")


def make_project(folder: Path) -> Path:
    """A copy of the repository's project, run by the workflow to its end (2 cores)."""
    for name in PROJECT_FILES:
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy2)(ROOT / name, folder / name)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OPENBLAS_NUM_THREADS": "1"}
    subprocess.run(["snakemake", "--cores", "2", "-q"], cwd=folder, env=env, check=True)
    return folder


@contextmanager
def clocked(totals: dict[str, float]):
    """Every call of each KINDS function adds its CPU seconds to totals[kind] (calls nested in another are
    counted once, in the outer one's kind)."""
    import importlib

    originals, depth = [], [0]
    for kind, (module, name) in KINDS.items():
        mod = importlib.import_module(f"casemeta.publish.{module}")
        original = getattr(mod, name)

        def wrapped(*args, _kind=kind, _original=original, **kwargs):
            depth[0] += 1
            start = time.process_time()
            try:
                return _original(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    totals[_kind] = totals.get(_kind, 0.0) + time.process_time() - start
        originals.append((mod, name, original))
        setattr(mod, name, wrapped)
    try:
        yield
    finally:
        for mod, name, original in originals:
            setattr(mod, name, original)


def run_steps(project: Path, out: Path) -> None:
    """The steps that draw figures, as the workflow runs them, their results under `out` (synthesis: the project's)."""
    import pandas as pd

    from casemeta.plan import load_plan
    from casemeta.steps.exports import export_figures
    from casemeta.steps.qca_runs import qca_study
    from casemeta.steps.robustness import _curves
    from casemeta.steps.synthesis import synthesize
    from casemeta.study import Study

    for name in STUDIES:
        study = Study(project, name)
        models = project / "results" / name / "models"
        export_figures(study, out, {"crosstabs": models / "crosstabs.csv", "models": models / "logistic_models.csv"})
        qca_study(study.at(out), project / "results" / name / "derived_cases.csv")
    study = Study(project, "african_clusters")
    codebook = study.codebook()
    plan = load_plan(study.plan_path, codebook)
    specifications = pd.read_csv(project / "results" / "african_clusters" / "robustness" / "specifications.csv")
    (out / "african_clusters" / "robustness").mkdir(parents=True, exist_ok=True)
    _curves(specifications, plan.robustness, plan, codebook, out / "african_clusters" / "robustness" / "curves.pdf")
    synthesize(project, list(STUDIES), [project / "results" / n / "derived_cases.csv" for n in STUDIES])


def measure(project: Path, repeats: int) -> dict:
    """CPU seconds per kind: `cold`, in the process's first run (as a workflow job draws them: each job is a
    process of its own), and `warm`, the least of `repeats` runs after it; and of importing the figure modules."""
    start = time.process_time()
    import casemeta.publish.qca_figures  # noqa: F401
    import casemeta.publish.specification_figures  # noqa: F401
    imported = time.process_time() - start
    runs = []
    for _ in range(repeats + 1):
        totals: dict[str, float] = {}
        with tempfile.TemporaryDirectory() as out, clocked(totals):
            run_steps(project, Path(out))
        runs.append(totals)
    return {"cold": {kind: runs[0].get(kind, 0.0) for kind in KINDS},
            "warm": {kind: min(run.get(kind, 0.0) for run in runs[1:]) for kind in KINDS}, "import": imported}


def child(src: Path, project: Path, repeats: int) -> dict:
    """measure() in a process of its own, with `src` as the package."""
    env = {**os.environ, "PYTHONPATH": str(src), "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, __file__, "--measure", "--project", str(project), "--repeats", str(repeats)],
                            env=env, check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def least(results: list[dict]) -> dict:
    """Per kind and run, the least CPU of several processes' measures."""
    return {"cold": {k: min(r["cold"][k] for r in results) for k in KINDS},
            "warm": {k: min(r["warm"][k] for r in results) for k in KINDS},
            "import": min(r["import"] for r in results)}


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return " ".join(line.split(":", 1)[1].split()[:2])  # e.g. "AMD EPYC"
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def described(src: Path) -> str:
    """A package folder as the section names it: its git branch and commit where it is in a checkout."""
    try:
        git = ["git", "-C", str(src)]
        commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        branch = subprocess.run([*git, "rev-parse", "--abbrev-ref", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        return f"{branch} at {commit}"
    except (OSError, subprocess.CalledProcessError):
        return str(src)


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f}"


def table(after: dict, before: dict | None) -> str:
    runs = ("cold", "warm")
    if before:
        head = ["figure kind", *(f"{r}: before" for r in runs), *(f"{r}: after" for r in runs), "after / before (cold)",
                "after / before (warm)"]
    else:
        head = ["figure kind", *runs]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for kind in [*KINDS, "all of them"]:
        def cpu(result, run):
            return sum(result[run].values()) if kind == "all of them" else result[run][kind]
        cells = [f"{cpu(before, r):.2f}" for r in runs] if before else []
        cells += [f"{cpu(after, r):.2f}" for r in runs]
        if before:
            cells += [f"{cpu(after, r) / cpu(before, r):.2f}" if cpu(before, r) else "–" for r in runs]
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    imports = [f"{before['import']:.2f}", ""] if before else []
    lines.append("| importing the figure modules (numpy, pandas, matplotlib with them) | "
                 + " | ".join([*imports, f"{after['import']:.2f}", "", *([""] * 2 if before else [])]) + " |")
    return "\n".join(lines)


def section(text: str, repeats: int, processes: int, loads: tuple[str, str], baseline: str | None) -> str:
    cpu = cpu_name()
    return f"""Written by `python benchmarks/figure_benchmark.py{' --baseline SRC' if baseline else ''} --write`; do not edit by hand.

CPU seconds of drawing and writing each kind of figure of the shipped studies, timed inside the step that
draws it (the figure functions wrapped by a CPU clock while the step runs): building, layout, drawing and
encoding, nothing of the statistics. Each side is measured in {processes} processes, alternating, and the least
CPU of them kept. "cold": the first run in a fresh process, as a workflow job pays it (a job is
a process; the first figures also load fonts and caches); "warm": the least of {repeats} runs after it, in the
same process.{' "before": the baseline package (' + baseline + '), timed the same way.' if baseline else ''}

Machine: {platform.machine()}, {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}; {date.today()}.
Load average (1 min) at the start and the end: {loads[0]}, {loads[1]} (the cores are shared: CPU times inflate
under load, the ratio of two runs taken together is the steadier figure).

{text}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help="a completed project copy (written into); default: make one")
    parser.add_argument("--baseline", type=Path, help="another src/ folder of casemeta to time as 'before'")
    parser.add_argument("--repeats", type=int, default=2, help="warm runs per process")
    parser.add_argument("--processes", type=int, default=2, help="processes per side (the least CPU is kept)")
    parser.add_argument("--write", action="store_true", help="write the section 'Figures' of BENCHMARKS.md")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.project, args.repeats)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        project = args.project or make_project(Path(tmp))
        loads, afters, befores = [load()], [], []
        for _ in range(args.processes):  # alternating, so that a spell of load on the shared cores hits both
            afters.append(child(ROOT / "src", project, args.repeats))
            if args.baseline:
                befores.append(child(args.baseline, project, args.repeats))
        loads.append(load())
    text = table(least(afters), least(befores) if befores else None)
    print(text)
    if args.write:
        write_section(BENCHMARKS, HEADING, section(text, args.repeats, args.processes, tuple(loads),
                                                   described(args.baseline) if args.baseline else None))


if __name__ == "__main__":
    main()
