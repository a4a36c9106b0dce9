"""Benchmark: the CPU time of drawing and writing each kind of figure the workflow makes, in-process.

Each kind is timed inside the step that draws it, on the shipped studies' results: the figure functions
(`casemeta.publish.figures`, `.qca_figures`, `.specification_figures`) are wrapped by a CPU clock while the
step runs as the workflow runs it, so a kind's time is its figures' building, layout, drawing and encoding
and nothing of the statistics around them. CPU is the process's (time.process_time), the least of
`--repeats` runs, each in the same process after one warm-up run of every kind (the first figure of a
process pays for matplotlib's fonts and caches once; that is timed apart, as "first figure's extra").

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
    """CPU seconds per kind (least of `repeats`), of importing the figure modules, and of the first figure's extra."""
    start = time.process_time()
    import casemeta.publish.qca_figures  # noqa: F401
    import casemeta.publish.specification_figures  # noqa: F401
    imported = time.process_time() - start
    runs = []
    for _ in range(repeats + 1):  # the first: warm-up
        totals: dict[str, float] = {}
        with tempfile.TemporaryDirectory() as out, clocked(totals):
            run_steps(project, Path(out))
        runs.append(totals)
    best = {kind: min(run.get(kind, 0.0) for run in runs[1:]) for kind in KINDS}
    first = sum(runs[0].values()) - sum(best.values())
    return {"kinds": best, "import": imported, "first": first}


def child(src: Path, project: Path, repeats: int) -> dict:
    """measure() in a process of its own, with `src` as the package."""
    env = {**os.environ, "PYTHONPATH": str(src), "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, __file__, "--measure", "--project", str(project), "--repeats", str(repeats)],
                            env=env, check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f}"


def table(after: dict, before: dict | None) -> str:
    head = "| figure kind | CPU s | " + ("before (baseline) CPU s | after / before |" if before else "")
    rule = "|---|---:|" + ("---:|---:|" if before else "")
    lines = [head, rule]
    rows = [*KINDS, "all of them"]
    total = {"after": sum(after["kinds"].values()), "before": sum(before["kinds"].values()) if before else 0}
    for kind in rows:
        a = total["after"] if kind == "all of them" else after["kinds"][kind]
        line = f"| {kind} | {a:.2f} |"
        if before:
            b = total["before"] if kind == "all of them" else before["kinds"][kind]
            line += f" {b:.2f} | {a / b:.2f} |" if b else " – | – |"
        lines.append(line)
    extra = f"| importing the figure modules; the first figure's extra (fonts, caches) | {after['import']:.2f}; {after['first']:.2f} |"
    if before:
        extra += f" {before['import']:.2f}; {before['first']:.2f} | |"
    lines.append(extra)
    return "\n".join(lines)


def section(text: str, repeats: int, loads: tuple[str, str], baseline: str | None) -> str:
    cpu = platform.processor() or "unknown CPU"
    return f"""Written by `python benchmarks/figure_benchmark.py{' --baseline SRC' if baseline else ''} --write`; do not edit by hand.

CPU seconds of drawing and writing each kind of figure of the shipped studies, timed inside the step that
draws it (the figure functions wrapped by a CPU clock while the step runs): building, layout, drawing and
encoding, nothing of the statistics. Least of {repeats} runs in one process, after a warm-up run.
{'"Before" is the baseline package (' + baseline + ') in a process of its own, timed the same way.' if baseline else ''}

Machine: {platform.machine()}, {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}; {date.today()}.
Load average (1 min) at the start and the end: {loads[0]}, {loads[1]} (the cores are shared: CPU times inflate
under load, the ratio of two runs taken together is the steadier figure).

{text}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help="a completed project copy (written into); default: make one")
    parser.add_argument("--baseline", type=Path, help="another src/ folder of casemeta to time as 'before'")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="write the section 'Figures' of BENCHMARKS.md")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.project, args.repeats)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        project = args.project or make_project(Path(tmp))
        loads = [load()]
        after = child(ROOT / "src", project, args.repeats)
        before = child(args.baseline, project, args.repeats) if args.baseline else None
        loads.append(load())
    text = table(after, before)
    print(text)
    if args.write:
        write_section(BENCHMARKS, HEADING, section(text, args.repeats, tuple(loads), str(args.baseline) if args.baseline else None))


if __name__ == "__main__":
    main()
