"""Benchmark: full Firth inference (estimates, profile limits, PLR tests) against one Firth fit.

What `casemeta fit --method firth` computes for a model with 10 predictors and an
intercept: the Firth estimate, 22 profile penalized-likelihood limits and 11
penalized likelihood-ratio tests (casemeta.stats.logistic_models.fit_firth),
timed against one firthmodels fit of the same data (the fit casemeta starts
from), at n = 10^5 and 10^6. At n = 10^5 the limits and p-values are also
compared with firthmodels' own profile limits and tests, which take a full
constrained optimisation per profile point.

Each size runs in a fresh process. Within it the fit, the full inference and the
Wald-interval inference are timed in turn, --repeats times (n = 10^6: once unless
--repeats-large says otherwise), and the medians are kept, with the median of the
per-repeat ratios full / fit: interleaving makes both sides of the ratio see the
same load from other processes. Wall and CPU seconds (this process) are both
recorded. Prints every figure with its target and the machine, and writes its
section of BENCHMARKS.md (keeping the rest of the file, and earlier runs as history).

Run: python benchmarks/firth_inference_benchmark.py          (full: n = 10^5 and 10^6)
     python benchmarks/firth_inference_benchmark.py --quick  (CI smoke: n = 10^4, nothing written)
     python benchmarks/firth_inference_benchmark.py --profile (where the time of one full inference goes)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from firth_benchmark import PREDICTORS, synthetic  # noqa: E402  the same data as the fit benchmark
from sections import write_section  # noqa: E402

SECTION = "## Full Firth inference"
TOLERANCE = 1e-8  # casemeta's firthmodels settings (casemeta.stats.logistic_models.TOLERANCE)
RATIO_TARGET = 7.0  # full inference at most 7 times one fit at n = 10^5 (issue 23: a third of R logistf's time)
LARGE_TARGET_S = 15.0  # full inference at n = 10^6 within 15 s
LIMIT_TARGET = 1e-6  # limits and p-values unchanged to 1e-6


def _firthmodels(**options):
    from firthmodels import FirthLogisticRegression

    return FirthLogisticRegression(fit_intercept=False, gtol=TOLERANCE, xtol=TOLERANCE, max_iter=200, **options)


def _timed(call) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = call()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def one_size(n: int, repeats: int, compare: bool) -> dict:
    from casemeta.stats.logistic_models import fit_firth

    X, y = synthetic(n)
    names = ["Intercept", *(f"x{i}" for i in range(1, PREDICTORS + 1))]
    Xw, yw = synthetic(200, seed=1)  # warm-up: a process's first fit pays one-off set-up
    fit_firth(yw, Xw, names)
    _firthmodels().fit(Xw, yw)
    load_before = os.getloadavg()[0]
    runs: dict[str, list] = {key: [] for key in ("fit", "full", "wald", "fit_cpu", "full_cpu", "wald_cpu")}
    for _ in range(repeats):  # interleaved: fit, full, Wald, fit, full, Wald, ...
        for key, call in (("fit", lambda: _firthmodels().fit(X, y)), ("full", lambda: fit_firth(y, X, names)),
                          ("wald", lambda: fit_firth(y, X, names, interval="wald"))):
            wall, cpu, out = _timed(call)
            runs[key].append(wall)
            runs[f"{key}_cpu"].append(cpu)
            if key == "full":
                terms = out[0]
    out = {key: float(np.median(values)) for key, values in runs.items()}
    out.update(n=n, repeats=repeats, load=[load_before, os.getloadavg()[0]],
               ratio=float(np.median(np.divide(runs["full"], runs["fit"]))),
               ratio_cpu=float(np.median(np.divide(runs["full_cpu"], runs["fit_cpu"]))),
               peak_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               blank=int(terms[["ci_low", "ci_high", "p_value"]].isna().sum().sum()))
    if compare:
        model = _firthmodels()
        start = time.perf_counter()
        model.fit(X, y)
        model.lrt()
        limits = np.asarray(model.conf_int(alpha=0.05, method="pl", tol=TOLERANCE), dtype=float)
        out["firthmodels_full"] = time.perf_counter() - start
        out["limit_diff"] = float(np.nanmax(np.abs(limits - terms[["ci_low", "ci_high"]].to_numpy())))
        out["p_rel_diff"] = float(np.nanmax(np.abs(model.lrt_pvalues_ / terms["p_value"].to_numpy() - 1)))
    return out


def machine() -> str:
    """The machine, as precisely as this process can tell: CPU model, cores, Python, NumPy and its BLAS threads."""
    cpu = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M)
        cpu = found.group(1).strip() if found else cpu
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    return (f"{platform.machine()}, {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"NumPy {np.__version__}, BLAS threads {threads}")


def verdicts(results: list[dict]) -> list[str]:
    """Every figure with its target."""
    lines = []
    for r in results:
        if r["n"] == 10**5:
            lines.append(f"- n = 100,000: full inference / one fit = {r['ratio']:.1f} (CPU {r['ratio_cpu']:.1f}) — "
                         f"{'meets' if r['ratio'] <= RATIO_TARGET else 'MISSES'} the {RATIO_TARGET:g}× target")
            if "limit_diff" in r:
                worst = max(r["limit_diff"], r["p_rel_diff"])
                lines.append(f"- n = 100,000: limits differ from firthmodels' by at most {r['limit_diff']:.1e}, p-values by "
                             f"{r['p_rel_diff']:.1e} (relative) — {'meets' if worst <= LIMIT_TARGET else 'MISSES'} the "
                             f"{LIMIT_TARGET:g} target")
        elif r["n"] == 10**6:
            lines.append(f"- n = 1,000,000: {r['full']:.1f} s (CPU {r['full_cpu']:.1f} s) — "
                         f"{'meets' if r['full'] <= LARGE_TARGET_S else 'MISSES'} the {LARGE_TARGET_S:g} s target")
            quiet = _quiet_fit_seconds()
            if quiet and r["fit"] > 1.5 * quiet:
                lines.append(f"  (one fit took {r['fit']:.1f} s here against {quiet:.2f} s in the Firth section above, on a quieter "
                             f"machine: {r['fit'] / quiet:.0f}× slower; at that speed full inference would take about "
                             f"{r['ratio'] * quiet:.1f} s, an estimate, not a measurement)")
        else:
            lines.append(f"- n = {r['n']:,}: full inference / one fit = {r['ratio']:.1f} (no target at this size)")
        if r["blank"]:
            lines.append(f"- n = {r['n']:,}: {r['blank']} limit(s) or p-value(s) blank")
    return lines


def _section(results: list[dict], history: list[str]) -> list[str]:
    from importlib.metadata import version

    rows = [f"| {r['n']:>9,} | {r['fit']:.3f} | {r['full']:.2f} | {r['ratio']:.1f} | {r['ratio_cpu']:.1f} | {r['wald']:.2f} | "
            f"{r['peak_mib']:.0f} | {r['load'][0]:.1f}–{r['load'][1]:.1f} | "
            + (f"{r['firthmodels_full']:.2f} | {r['limit_diff']:.1e} | {r['p_rel_diff']:.1e} |" if "limit_diff" in r else "– | – | – |")
            for r in results]
    today = date.today().isoformat()
    summary = "; ".join(f"n = {r['n']:,}: {r['full']:.2f} s, {r['ratio']:.1f}× one fit (load {r['load'][1]:.1f})" for r in results)
    return [
        "Written by `python benchmarks/firth_inference_benchmark.py`; do not edit by hand.",
        "",
        f"Everything `casemeta fit --method firth` computes for {PREDICTORS} predictors and an intercept (the Firth",
        "estimate, 22 profile penalized-likelihood limits, 11 penalized likelihood-ratio tests:",
        "`casemeta.stats.logistic_models.fit_firth`) against one firthmodels",
        f"{version('firthmodels')} fit of the same data (the fit it starts from), on the synthetic data above.",
        "Each limit is solved for directly (Venzon and Moolgavkar 1988) and each test is a Newton refit",
        "warm-started from the full fit; all 33 advance in lockstep, and each round's points (about 33,",
        "three rounds) are evaluated in one pass over the data, their information matrices and hat values",
        "as matrix products of the cases' pairwise products (`casemeta.stats.firth_profile`).",
        "`--interval wald` skips the profile limits. firthmodels (its own `lrt()` and",
        "`conf_int(method=\"pl\")`) is timed and compared at n = 10^5 only.",
        f"Medians of {results[0]['repeats']} interleaved runs (fit, full, Wald, ...) in one fresh process per size",
        "(n = 10^6: fewer); the ratio is the median of the per-run ratios. CPU is this process's CPU time.",
        "",
        f"Machine: {machine()}; {today}. The cores are shared with other jobs running at the same time (load",
        "average at the start and end of each size in the table), so absolute times are noisy; the ratio to one fit,",
        "measured in the same process, interleaved, is the steadier figure.",
        "",
        f"Targets: at n = 10^5 full inference within {RATIO_TARGET:g}× one fit, limits and p-values unchanged to "
        f"{LIMIT_TARGET:g}; n = 10^6 within {LARGE_TARGET_S:g} s.",
        "",
        "| n | one fit s | full inference s | full / fit | full / fit, CPU | Wald intervals s | process peak MiB (all runs) | load | firthmodels full s | max limit difference | max p relative difference |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "Targets, as measured:",
        "",
        *verdicts(results),
        "",
        "History (one line per run written here, oldest first):",
        "",
        *history,
        f"- {today}: {summary}",
        "",
    ]


def _history(path: Path) -> list[str]:
    """The history lines of the section as it stands; a section from before the history was kept gives one
    line made of its table."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if SECTION not in text:
        return []
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    if "History (" in section:
        return [line for line in section.split("History (", 1)[1].splitlines() if line.startswith("- ")]
    day = re.search(r"(\d{4}-\d{2}-\d{2})", section)
    cells = [[c.strip() for c in line.strip().strip("|").split("|")] for line in section.splitlines()
             if re.match(r"^\|\s*[\d,]+ \|", line)]
    parts = [f"n = {c[0]}: {c[2]} s, {c[3]}× one fit" for c in cells]
    return [f"- {day.group(1) if day else 'earlier'}: {'; '.join(parts)}"] if parts else []


def _quiet_fit_seconds(path: Path = Path(__file__).resolve().parents[1] / "BENCHMARKS.md") -> float | None:
    """One Firth fit's time at n = 10^6 in the Firth section of BENCHMARKS.md (firth_benchmark.py), if there."""
    text = path.read_text(encoding="utf-8").split(SECTION)[0] if path.exists() else ""
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells and cells[0] == "1,000,000":
            return float(cells[1])
    return None


def profile(n: int) -> None:
    """Where the time of one full inference goes (cProfile, CPU time, the 15 most expensive functions)."""
    import cProfile
    import pstats

    from casemeta.stats.logistic_models import fit_firth

    X, y = synthetic(n)
    names = ["Intercept", *(f"x{i}" for i in range(1, PREDICTORS + 1))]
    Xw, yw = synthetic(200, seed=1)
    fit_firth(yw, Xw, names)  # warm-up
    profiler = cProfile.Profile(time.process_time)
    profiler.runcall(fit_firth, y, X, names)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--one", nargs=3, metavar=("N", "REPEATS", "COMPARE"), help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=5, help="interleaved runs at n <= 10^5; medians are kept")
    parser.add_argument("--repeats-large", type=int, default=1, help="runs at n = 10^6")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10**5, 10**6])
    parser.add_argument("--quick", action="store_true", help="CI smoke: n = 10^4, 2 runs, BENCHMARKS.md untouched")
    parser.add_argument("--profile", type=int, metavar="N", help="print where one full inference at n spends its time")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "BENCHMARKS.md")
    parser.add_argument("--results", type=Path, help="rewrite the section from the JSON lines a run printed (no measuring)")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_size(int(args.one[0]), int(args.one[1]), args.one[2] == "1")))
        return
    if args.profile:
        profile(args.profile)
        return
    if args.results:
        results = [json.loads(line) for line in args.results.read_text().splitlines() if line.startswith("{")]
    else:
        sizes, repeats = ([10**4], 2) if args.quick else (args.sizes, args.repeats)
        print(f"machine: {machine()}", flush=True)
        results = []
        for n in sizes:
            runs, compare = (repeats, "1" if n == 10**5 else "0") if n <= 10**5 else (args.repeats_large, "0")
            out = subprocess.run([sys.executable, __file__, "--one", str(n), str(runs), compare],
                                 capture_output=True, text=True, check=True)
            results.append(json.loads(out.stdout))
            print(json.dumps(results[-1]), flush=True)
        for line in verdicts(results):
            print(line)
        if args.quick:
            return
    write_section(args.out, SECTION, "\n".join(_section(results, _history(args.out))))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
