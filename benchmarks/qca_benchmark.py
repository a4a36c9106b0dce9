"""Benchmark: exact Boolean minimisation (QCA) of random truth tables with 2 to 10 conditions.

Each table is minimised three ways, as a QCA run does: conservative (no remainders), parsimonious
(remainders free) and intermediate (every condition expected present). Two kinds of random table:

- limited diversity, as QCA data are: a random set of observed configurations (at most 64, about
  three per condition), each positive or negative at random, every other configuration a remainder;
- dense: every configuration positive, negative or a remainder with equal chance (harder than any
  real truth table: the minimum models use dozens of terms and are counted in the thousands).

Writes (or replaces) the section "Boolean minimisation (QCA)" of BENCHMARKS.md and leaves the rest
of the file as it is. Run: python benchmarks/qca_benchmark.py
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import time
from datetime import date
from itertools import pairwise
from pathlib import Path

import scipy.optimize  # noqa: F401  imported before timing: the first minimisation would pay for it

from casemeta.stats.qca.minimize import MAX_MODELS, MAX_NODES, intermediate, minimise

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sections import write_section  # noqa: E402  (BENCHMARKS.md is shared by every benchmark)

HEADING = "## Boolean minimisation (QCA)"
TARGET = 1.0  # seconds, per table
SOLUTIONS = ("conservative", "parsimonious", "intermediate")


def limited(rng: random.Random, k: int) -> list[str]:
    outputs = ["?"] * 2 ** k
    for m in rng.sample(range(2 ** k), min(2 ** k, 64, rng.randint(k, 6 * k))):
        outputs[m] = rng.choice("10")
    return outputs


def dense(rng: random.Random, k: int) -> list[str]:
    return rng.choices("10?", k=2 ** k)


def minimise_all(outputs: list[str], k: int) -> tuple[list[float], bool]:
    """Seconds for each of the three solutions, and whether any listing of models was cut short."""
    on = {m for m, o in enumerate(outputs) if o == "1"}
    rest = {m for m, o in enumerate(outputs) if o == "?"}
    times = [time.perf_counter()]
    conservative, cut_c = minimise(on, set(), k)
    times.append(time.perf_counter())
    parsimonious, cut_p = minimise(on, rest, k)
    times.append(time.perf_counter())
    cut_i = intermediate(on, conservative, parsimonious, rest, dict.fromkeys(range(k), 1), k)[1] if on else False
    times.append(time.perf_counter())
    return [b - a for a, b in pairwise(times)], cut_c or cut_p or cut_i


def measure(kind: str, k: int, tables: int, seed: int) -> dict:
    rng = random.Random(seed * 100 + k)
    make = limited if kind == "limited diversity" else dense
    runs = [minimise_all(make(rng, k), k) for _ in range(tables)]
    times = [sum(t) for t, _ in runs]
    return {"kind": kind, "k": k, "tables": tables, "median": statistics.median(times), "max": max(times),
            **{name: max(t[i] for t, _ in runs) for i, name in enumerate(SOLUTIONS)}, "cut": sum(c for _, c in runs)}


def section(rows: list[dict]) -> str:
    lines = [
        "Written by `python benchmarks/qca_benchmark.py`; do not edit by hand.", "",
        "casemeta's own exact minimisation (Quine–McCluskey prime implicants; the fewest prime implicants by",
        "chart reduction, a rounded linear relaxation where it reaches its bound, else an integer programme;",
        "then every model of that size listed) on random truth tables; the time",
        "covers the conservative, parsimonious and intermediate solutions of one table. A listing stops",
        f"after {MAX_MODELS} models or {MAX_NODES:,} search steps (the result says so; the minimum size is exact).", "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}; {date.today().isoformat()}.", "",
        f"Target: every table under {TARGET:g} s.", "",
        "Seconds for the three solutions of a table (median and maximum over the tables), and the slowest",
        "table's time for each solution alone.", "",
        "| truth tables | conditions | tables | median s | max s | max s conservative | max s parsimonious | max s intermediate | listings cut |",
        "|:---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [f"| {r['kind']} | {r['k']} | {r['tables']} | {r['median']:.3f} | {r['max']:.3f} | "
              + " | ".join(f"{r[name]:.3f}" for name in SOLUTIONS) + f" | {r['cut']} |" for r in rows]
    lines += ["", "Targets, as measured:", ""]
    for kind in dict.fromkeys(r["kind"] for r in rows):
        worst = max((r for r in rows if r["kind"] == kind), key=lambda r: r["max"])
        verdict = "meets" if worst["max"] < TARGET else "MISSES"
        lines.append(f"- {kind}: slowest table {worst['max']:.3f} s ({worst['k']} conditions) — {verdict} the {TARGET:g} s target")
        for name in SOLUTIONS:
            slowest = max((r for r in rows if r["kind"] == kind), key=lambda r: r[name])
            verdict = "meets" if slowest[name] < TARGET else "MISSES"
            lines.append(f"  - {name} alone: slowest {slowest[name]:.3f} s — {verdict} the {TARGET:g} s target")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "BENCHMARKS.md")
    parser.add_argument("--tables", type=int, default=20, help="random tables per size (limited diversity)")
    parser.add_argument("--dense-tables", type=int, default=5, help="random tables per size (dense)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rows = []
    for kind, tables, sizes in (("limited diversity", args.tables, range(2, 11)), ("dense", args.dense_tables, (4, 6, 8, 10))):
        for k in sizes:
            rows.append(measure(kind, k, tables, args.seed))
            print(rows[-1], flush=True)
    write_section(args.out, HEADING, section(rows))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
