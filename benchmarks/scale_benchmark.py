"""Scale benchmark: the workflow steps of african_clusters grown to N coded cases.

The 25 real cases, then cases resampled from them with 10% of the binary codes
flipped (seeded; ids made unique), in a temporary copy of the project. Each
step is its own `casemeta` command, as the workflow runs it; its wall time and
peak resident memory come from `/usr/bin/time -f %M`.
Writes its section of BENCHMARKS.md with --write.

    python benchmarks/scale_benchmark.py [--sizes 1000 10000] [--timeout 300] [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
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
STEPS = [  # (step, arguments after `casemeta --root ROOT`), in workflow order
    ("validate", ["validate", "--study", STUDY, "--out", "results/{s}/validated_cases.csv"]),
    ("derive", ["derive", "--study", STUDY, "--cases", "results/{s}/validated_cases.csv", "--out", "results/{s}/derived_cases.csv"]),
    ("models", ["models", "--study", STUDY, "--derived", "results/{s}/derived_cases.csv", "--out-dir", "results/{s}/models"]),
    ("reproduce", ["reproduce", "--study", STUDY, "--derived", "results/{s}/derived_cases.csv", "--out", "results/{s}/reproduction.csv",
                   "--checks", "results/{s}/consistency.csv", "--report", "results/{s}/reproduction.md"]),
    ("export", ["export", "--study", STUDY, "--format", "all", "--results", "results"]),
]


def grown_cases(cases: pd.DataFrame, n: int, seed: int = 1) -> pd.DataFrame:
    """The real cases, then n - len(cases) resampled ones with 10% of their binary (0/1) codes flipped."""
    rng = np.random.default_rng(seed)
    extra = cases.iloc[rng.integers(0, len(cases), max(0, n - len(cases)))].reset_index(drop=True)
    binary = [c for c in cases.columns if set(cases[c].dropna().unique()) <= {0, 1}]
    flip = rng.random((len(extra), len(binary))) < 0.10
    extra[binary] = np.where(flip, 1 - extra[binary].to_numpy(), extra[binary].to_numpy())
    extra["case_id"] = [f"{case}_r{i}" for i, case in enumerate(extra["case_id"])]
    return pd.concat([cases, extra], ignore_index=True)


def project_copy(n: int, into: Path) -> Path:
    for part in ("Snakefile", "analysis", "data", "workflow", "config"):
        source = ROOT / part
        (shutil.copytree if source.is_dir() else shutil.copy)(source, into / part)
    path = into / "data" / "coded" / STUDY / "cases.csv"
    grown_cases(pd.read_csv(path), n).to_csv(path, index=False)
    return into


def run_step(root: Path, args: list[str], timeout: float) -> tuple[float, float, str]:
    """Wall seconds, peak resident MiB of the step (GNU time's %M), and 'ok' / why not."""
    peak_file = root / ".peak_kib"
    command = ["/usr/bin/time", "-f", "%M", "-o", str(peak_file),
               "casemeta", "--root", str(root), *[a.format(s=STUDY) for a in args]]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=timeout)
        status = "ok" if done.returncode == 0 else "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1][:80]
    except subprocess.TimeoutExpired:
        status = f"killed after {timeout:.0f} s"
    wall = time.perf_counter() - start
    lines = peak_file.read_text().split() if peak_file.exists() else []
    peak = int(lines[-1]) / 1024 if lines and lines[-1].isdigit() else float("nan")
    return wall, peak, status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--steps", nargs="+", choices=[s for s, _ in STEPS], default=[s for s, _ in STEPS],
                        help="run only these steps (in workflow order)")
    parser.add_argument("--write", action="store_true", help="write the results into BENCHMARKS.md (its own section)")
    args = parser.parse_args()
    rows = []
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = project_copy(n, Path(tmp))
            for step, step_args in [(s, a) for s, a in STEPS if s in args.steps]:
                wall, peak, status = run_step(root, step_args, args.timeout)
                rows.append({"cases": n, "step": step, "seconds": round(wall, 2), "peak MiB": round(peak) if peak == peak else "", "status": status})
                print(rows[-1], flush=True)
                if status != "ok":
                    break
    table = pd.DataFrame(rows).to_markdown(index=False)
    print(table)
    if args.write:
        machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"
        body = (f"african_clusters grown to {', '.join(f'{n:,}' for n in args.sizes)} cases: "
                f"`python benchmarks/scale_benchmark.py --write` ({time.strftime('%Y-%m-%d', time.gmtime())}; {machine};"
                " shared with other jobs). Each workflow step is one `casemeta` command on a temporary copy of the"
                " project; peak memory is its maximum resident set (GNU time %M)."
                " Leave-one-out is replaced by 10-fold above 200 cases.\n\n"
                f"{table}\n")
        write_section(ROOT / "BENCHMARKS.md", SECTION, body)


if __name__ == "__main__":
    sys.exit(main())
