"""Benchmark: full Firth inference (estimates, profile limits, PLR tests) against one Firth fit.

What `casemeta fit --method firth` computes for a model with 10 predictors and an
intercept: the Firth estimate, 22 profile penalized-likelihood limits and 11
penalized likelihood-ratio tests (casemeta.stats.logistic_models.fit_firth),
timed against one firthmodels fit of the same data (the fit casemeta starts
from), at n = 10^5 and 10^6. At n = 10^5 the limits and p-values are also
compared with firthmodels' own profile limits and tests (what casemeta
reported before), which take a full constrained optimisation per profile point.

Each size runs in a fresh process; times are the fastest of --repeats runs
(n = 10^6: one run unless asked). Writes its section of BENCHMARKS.md, keeping
the rest of the file. Run: python benchmarks/firth_inference_benchmark.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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


def _firthmodels(**options):
    from firthmodels import FirthLogisticRegression

    return FirthLogisticRegression(fit_intercept=False, gtol=TOLERANCE, xtol=TOLERANCE, max_iter=200, **options)


def one_size(n: int, repeats: int, compare: bool) -> dict:
    from casemeta.stats.logistic_models import fit_firth

    X, y = synthetic(n)
    names = ["Intercept", *(f"x{i}" for i in range(1, PREDICTORS + 1))]
    Xw, yw = synthetic(200, seed=1)  # warm-up: a process's first fit pays one-off set-up
    fit_firth(yw, Xw, names)
    fit_s, full_s, wald_s = [], [], []
    for _ in range(repeats):
        start = time.perf_counter()
        _firthmodels().fit(X, y)
        fit_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        terms, *_ = fit_firth(y, X, names)
        full_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        fit_firth(y, X, names, interval="wald")
        wald_s.append(time.perf_counter() - start)
    out = {"n": n, "fit": min(fit_s), "full": min(full_s), "wald": min(wald_s), "load": os.getloadavg()[0],
           "blank": int(terms[["ci_low", "ci_high", "p_value"]].isna().sum().sum())}
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


def _section(results: list[dict], repeats: int) -> list[str]:
    from importlib.metadata import version

    rows, verdicts = [], []
    for r in results:
        ratio = r["full"] / r["fit"]
        rows.append(f"| {r['n']:>9,} | {r['fit']:.3f} | {r['full']:.2f} | {ratio:.1f} | {r['wald']:.2f} | "
                    + (f"{r['firthmodels_full']:.2f} | {r['limit_diff']:.1e} | {r['p_rel_diff']:.1e} |" if "limit_diff" in r else "– | – | – |"))
        if r["n"] == 10**5:
            verdicts.append(f"- n = 100,000: full inference / one fit = {ratio:.1f} — {'meets' if ratio <= 15 else 'MISSES'} the 15× target")
            if "limit_diff" in r:
                verdicts.append(f"- n = 100,000: limits differ from firthmodels' by at most {r['limit_diff']:.1e} — "
                                f"{'meets' if r['limit_diff'] <= 1e-6 else 'MISSES'} the 1e-6 target")
        if r["n"] == 10**6:
            verdicts.append(f"- n = 1,000,000: {r['full']:.1f} s — {'meets' if r['full'] < 30 else 'MISSES'} the 30 s target")
            quiet = _quiet_fit_seconds()
            if quiet and r["fit"] > 1.5 * quiet:
                verdicts.append(f"  (one fit took {r['fit']:.1f} s here against {quiet:.2f} s in the Firth section above, on a quieter "
                                f"machine: {r['fit'] / quiet:.0f}× slower; at that speed full inference would take about "
                                f"{r['full'] * quiet / r['fit']:.0f} s, an estimate, not a measurement)")
        if r["blank"]:
            verdicts.append(f"- n = {r['n']:,}: {r['blank']} limit(s) or p-value(s) blank")
    return [
        SECTION,
        "",
        "Written by `python benchmarks/firth_inference_benchmark.py`; do not edit by hand.",
        "",
        f"Everything `casemeta fit --method firth` computes for {PREDICTORS} predictors and an intercept (the Firth",
        "estimate, 22 profile penalized-likelihood limits, 11 penalized likelihood-ratio tests:",
        "`casemeta.stats.logistic_models.fit_firth`) against one firthmodels",
        f"{version('firthmodels')} fit of the same data (the fit it starts from), on the synthetic data above.",
        "The profile limits are solved for directly (Venzon and Moolgavkar 1988) and the tests are Newton",
        "refits warm-started from the full fit, one penalized-likelihood evaluation per step",
        "(`casemeta.stats.firth_profile`). `--interval wald` skips the profile limits. firthmodels",
        "(its own `lrt()` and `conf_int(method=\"pl\")`, what casemeta reported before) is timed and",
        "compared at n = 10^5 only. Fastest of "
        f"{repeats} run(s) in one fresh process per size (n = 10^6: one run).",
        "",
        f"Machine: {platform.machine()}, {platform.processor() or 'unknown CPU'}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores shared with other jobs running at the same time (load average "
        f"{results[-1].get('load', os.getloadavg()[0]):.1f} at the end), so absolute times are noisy; the ratio to one fit, measured in the",
        f"same process, is the steadier figure; {date.today().isoformat()}.",
        "",
        "Targets: at n = 10^5 full inference within 15× one fit, limits unchanged to 1e-6; n = 10^6 under 30 s.",
        "",
        "| n | one fit s | full inference s | full / fit | Wald intervals s | firthmodels full s | max limit difference | max p relative difference |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "Targets, as measured:",
        "",
        *verdicts,
        "",
    ]


def _quiet_fit_seconds(path: Path = Path(__file__).resolve().parents[1] / "BENCHMARKS.md") -> float | None:
    """One Firth fit's time at n = 10^6 in the Firth section of BENCHMARKS.md (firth_benchmark.py), if there."""
    text = path.read_text(encoding="utf-8").split(SECTION)[0] if path.exists() else ""
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells and cells[0] == "1,000,000":
            return float(cells[1])
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--one", nargs=3, metavar=("N", "REPEATS", "COMPARE"), help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3, help="runs at n = 10^5; the fastest is kept")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10**5, 10**6])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "BENCHMARKS.md")
    parser.add_argument("--results", type=Path, help="rewrite the section from the JSON lines a run printed (no measuring)")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_size(int(args.one[0]), int(args.one[1]), args.one[2] == "1")))
        return
    if args.results:
        results = [json.loads(line) for line in args.results.read_text().splitlines() if line.startswith("{")]
        write_section(args.out, SECTION, "\n".join(_section(results, args.repeats)))
        return
    results = []
    for n in args.sizes:
        repeats, compare = (args.repeats, "1") if n <= 10**5 else (1, "0")
        out = subprocess.run([sys.executable, __file__, "--one", str(n), str(repeats), compare],
                             capture_output=True, text=True, check=True)
        results.append(json.loads(out.stdout))
        print(json.dumps(results[-1]), flush=True)
    write_section(args.out, SECTION, "\n".join(_section(results, args.repeats)))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
