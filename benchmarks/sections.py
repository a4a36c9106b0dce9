"""BENCHMARKS.md is shared by every benchmark script: each rewrites only its own `## ` section."""

from __future__ import annotations

import re
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"
TITLE = "# Benchmarks\n\nEach section is written by the script it names; do not edit by hand.\n"


def replace_section(text: str, heading: str, body: str) -> str:
    """`text` with the section under `heading` (a `## ` line) replaced by `body`, or `body` appended."""
    new = heading + "\n\n" + body.strip("\n") + "\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        return pattern.sub(lambda _: new + "\n", text, count=1).rstrip("\n") + "\n"
    return text.rstrip("\n") + "\n\n" + new


def write_section(path: Path, heading: str, body: str) -> None:
    """Rewrite one section of BENCHMARKS.md in place, keeping every other section as it is."""
    text = path.read_text(encoding="utf-8") if path.exists() else TITLE
    path.write_text(replace_section(text, heading, body), encoding="utf-8")
