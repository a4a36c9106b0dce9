"""Benchmark: Firth logistic regression against statsmodels' plain Logit, n = 10^3 ... 10^6.

Writes time and peak memory per size to BENCHMARKS.md. Each fit runs in its own
process so that peak memory (maximum resident set size) belongs to that fit alone.
Synthetic data, 10 predictors. Run: python benchmarks/firth_benchmark.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sections import write_section  # noqa: E402  (BENCHMARKS.md is shared by every benchmark)

SECTION = "## Firth fits against plain Logit"

PREDICTORS = 10
SIZES = [10**3, 10**4, 10**5, 10**6]


def synthetic(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, PREDICTORS))
    beta = rng.normal(scale=0.3, size=PREDICTORS)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(X @ beta - 1.0)))).astype(float)
    return np.c_[np.ones(n), X], y


def one_fit(method: str, n: int) -> dict:
    import statsmodels.api as sm  # imported before the clock starts: only the fit is timed
    from firthmodels import FirthLogisticRegression

    X, y = synthetic(n)
    # one warm-up fit on small data: the first call in a process pays one-off set-up
    # (about 15 ms for firthmodels), which is not the cost of fitting
    Xw, yw = synthetic(200, seed=1)
    FirthLogisticRegression(fit_intercept=False, backend="numpy").fit(Xw, yw)
    sm.Logit(yw, Xw).fit(disp=0)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if method == "firth":
        FirthLogisticRegression(fit_intercept=False, backend="numpy").fit(X, y)
    else:
        sm.Logit(y, X).fit(disp=0)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"seconds": seconds, "peak_mib": peak / 1024, "data_mib": before / 1024}


def measure(method: str, n: int, repeats: int) -> dict:
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, __file__, "--one", method, str(n)], capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout))
    return {"seconds": min(r["seconds"] for r in runs), "peak_mib": max(r["peak_mib"] for r in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--one", nargs=2, metavar=("METHOD", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3, help="fits per size and method; the fastest is kept")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "BENCHMARKS.md")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_fit(args.one[0], int(args.one[1]))))
        return
    rows, verdicts = [], []
    for n in SIZES:
        firth, logit = measure("firth", n, args.repeats), measure("logit", n, args.repeats)
        ratio = firth["seconds"] / logit["seconds"]
        rows.append(f"| {n:>9,} | {firth['seconds']:.3f} | {firth['peak_mib']:.0f} | {logit['seconds']:.3f} | {logit['peak_mib']:.0f} | {ratio:.2f} |")
        print(rows[-1], flush=True)
        verdicts.append(f"- n = {n:,}: Firth / Logit = {ratio:.2f} — {'meets' if ratio <= 3 else 'MISSES'} the 3× target"
                        + (f"; {firth['seconds']:.2f} s {'meets' if firth['seconds'] < 10 else 'MISSES'} the 10 s target" if n == 10**6 else ""))
    from importlib.metadata import version

    lines = [
        "Written by `python benchmarks/firth_benchmark.py`; do not edit by hand.",
        "",
        f"Firth logistic regression (firthmodels {version('firthmodels')}, NumPy backend) against",
        f"statsmodels {version('statsmodels')} `Logit` (plain maximum likelihood) on the same synthetic",
        f"data with {PREDICTORS} predictors and an intercept. Time is the fastest of {args.repeats} fits, each",
        "in a fresh process after one small warm-up fit of both methods (fit only, data generated",
        "beforehand; a process's first Firth fit costs about 15 ms more); peak memory is the process's maximum resident set",
        "size, data included.",
        "",
        f"Machine: {platform.machine()}, {platform.processor() or 'unknown CPU'}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores; {date.today().isoformat()}.",
        "",
        "Targets: Firth within 3× of plain Logit's time at every size; n = 10^6 under 10 s.",
        "",
        "| n | Firth s | Firth peak MiB | Logit s | Logit peak MiB | Firth / Logit |",
        "|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "Targets, as measured:",
        "",
        *verdicts,
        "",
    ]
    write_section(args.out, SECTION, "\n".join(lines))
    print(f"wrote the section {SECTION!r} of {args.out}")


if __name__ == "__main__":
    main()
