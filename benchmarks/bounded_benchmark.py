"""Benchmark: bounded work on large and adversarial input (formula reading, QCA, exact conditional pooling).

Prints each figure with its target and the machine, and writes (or replaces) the section "Bounded work"
of BENCHMARKS.md, leaving the rest of the file as it is. Speed is checked here, never in the tests.

- formula reading: inputs of about 10^5 characters, adversarial ones included (runs of spaces inside an
  open `[ref=`, 100,000 nested brackets, long products and runs of signs); target 0.1 s each (best of 3);
- `casemeta qca`: SYNTHETIC random 0/1 data, 10 conditions, 1,000 and 4,000 cases (fixed seed), with
  directional expectations so all three solutions are made; target 10 s for 1,000 cases;
- `casemeta pool`: SYNTHETIC 5 strata with 10^6 cases per cell (and 5·10^9, the normal limit); target 10 s.

Run: PYTHONPATH=src python benchmarks/bounded_benchmark.py [--no-write]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import os
import platform
import string
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from casemeta.cli import main as casemeta
from casemeta.errors import CasemetaError
from casemeta.stats.formula import parse_formula

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sections import write_section  # noqa: E402  (BENCHMARKS.md is shared by every benchmark)

HEADING = "## Bounded work"
SEED = 20261206
NAMES = ["".join(t) for t in itertools.product(string.ascii_lowercase, repeat=3)]


def formulas() -> dict[str, str]:
    return {
        "`txt[ref=` + 4,000 spaces + `+ b` (166 s before)": "y ~ txt[ref=" + " " * 4000 + "+ b",
        "`txt[ref=` + 100,000 spaces": "y ~ txt[ref=" + " " * 100_000 + "+ b",
        "100,000 nested `[`": "y ~ x" + "[" * 100_000,
        "20,000 × `[ref=`": "y ~ x" + "[ref=" * 20_000,
        "unclosed `[ref=` + 100,000 letters": "y ~ x[ref=" + "a" * 100_000,
        "17,576 distinct columns": "y ~ " + " + ".join(NAMES),
        "50,000 × `+x`": "y ~ " + "+x" * 50_000,
        "17,576 distinct `ab:c` interactions": "y ~ " + "+".join(f"{n[:2]}:{n[2]}" for n in NAMES),
        "8,000 `x[ref=a]` terms": "y ~ " + " + ".join(f"x{i}[ref=a]" for i in range(8000)),
        "`a*` × 50,000": "y ~ " + "a*" * 50_000 + "b",
        "`a` + 100,000 `-`": "y ~ a" + "-" * 100_000,
        "`a` + 50,000 ` :`": "y ~ a" + " :" * 50_000,
    }


def best_of(run, times: int = 3) -> float:
    best = float("inf")
    for _ in range(times):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def read_formula(text: str) -> str:
    try:
        parse_formula(text)
        return "read"
    except CasemetaError:
        return "refused"


def qca_data(k: int, n: int, folder: Path) -> Path:
    """SYNTHETIC: n cases, k random 0/1 conditions and a random 0/1 outcome, fixed seed."""
    rng = np.random.default_rng(SEED)
    frame = pd.DataFrame(rng.integers(0, 2, (n, k)), columns=[f"C{i}" for i in range(k)])
    frame.insert(0, "case", [f"c{i}" for i in range(n)])
    frame["Y"] = rng.integers(0, 2, n)
    path = folder / f"qca_{k}x{n}.csv"
    frame.to_csv(path, index=False)
    return path


def pool_data(per_cell: int, folder: Path) -> Path:
    """SYNTHETIC: 5 strata, `per_cell` cases in b and c, a little more in a and d (fixed seed)."""
    rng = np.random.default_rng(SEED)
    spread = max(1, per_cell // 50)
    frame = pd.DataFrame({"study": [f"s{i}" for i in range(5)], "a": per_cell + rng.integers(0, spread, 5),
                          "b": per_cell, "c": per_cell, "d": per_cell + rng.integers(0, spread, 5)})
    path = folder / f"pool_{per_cell}.csv"
    frame.to_csv(path, index=False)
    return path


def run_cli(args: list[str]) -> float:
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = casemeta(args)
    if code not in (0, None):
        raise SystemExit(f"casemeta {' '.join(args)} failed ({code})")
    return time.perf_counter() - start


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.machine()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}, "
            f"load average {load:.1f} at the start; {date.today().isoformat()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "BENCHMARKS.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    rows: list[tuple[str, str, int | str, float, float]] = []  # (part, input, size, seconds, target)
    where = machine()
    print(f"Machine: {where}")

    def report(part: str, what: str, size, seconds: float, target: float) -> None:
        rows.append((part, what, size, seconds, target))
        verdict = "meets" if seconds < target else "MISSES"
        print(f"{part}: {what} ({size}): {seconds:.3f} s, target {target:g} s — {verdict}", flush=True)

    for what, text in formulas().items():
        outcome = read_formula(text)
        report("formula", f"{what}, {outcome}", f"{len(text):,} chars", best_of(lambda: read_formula(text)), 0.1)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        conditions = ",".join(f"C{i}" for i in range(10))
        for n, target in ((1000, 10.0), (4000, 30.0)):
            data = qca_data(10, n, folder)
            seconds = run_cli(["qca", str(data), "--outcome", "Y", "--conditions", conditions,
                               "--dir-exp", "C0=1,C1=1,C2=0", "--out", str(folder / f"qca_{n}")])
            report("qca", f"10 conditions, {n:,} cases, three solutions", "SYNTHETIC", seconds, target)
        for per_cell in (10**4, 10**6, 5 * 10**9):
            data = pool_data(per_cell, folder)
            seconds = run_cli(["pool", str(data), "--stratum", "study", "--counts", "a,b,c,d",
                               "--out", str(folder / f"pool_{per_cell}")])
            report("pool", f"5 strata, {per_cell:,} cases per cell", "SYNTHETIC", seconds, 10.0)

    if args.no_write:
        return
    lines = ["Written by `python benchmarks/bounded_benchmark.py`; do not edit by hand.", "",
             f"Machine: {where}.", "",
             "Formula reading: best of 3; `casemeta qca` and `casemeta pool`: one run of the command (reading the CSV, "
             "computing, writing the results), on SYNTHETIC data with a fixed seed.", "",
             "| part | input | size | seconds | target s | verdict |", "|:---|:---|---:|---:|---:|:---|"]
    lines += [f"| {part} | {what} | {size} | {seconds:.3f} | {target:g} | {'meets' if seconds < target else 'MISSES'} |"
              for part, what, size, seconds, target in rows]
    write_section(args.out, HEADING, "\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
