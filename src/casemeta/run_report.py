"""What a workflow run's failed steps said, once, at the end of the run.

Every rule runs `casemeta --log logs/<rule>/<study>.log ...`, and a step that fails writes its error there
("HH:MM:SS casemeta: error: ..." and the lines that continue it). With `keep-going` the run goes on after a
failure, and the error scrolls away under the other jobs' output; two steps that read the same bad file (the
validation and the coding check) fail with the same report. The Snakefile's `onerror` prints `summary` of the logs
this run wrote (those not as `state` found them at its start): each distinct error once, with the logs that hold it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# a record of casemeta's log file (cli._setup_logging): a time, then the message
RECORD = re.compile(r"^\d\d:\d\d:\d\d casemeta: ")
ERROR = re.compile(r"^\d\d:\d\d:\d\d casemeta: (error: |internal error)")
SHOWN_LINES = 20  # of one error; a traceback's rest stays in the log


def state(logs: str | os.PathLike) -> dict[Path, tuple[int, int]]:
    """Each `*.log` under `logs` with its modification time and size: taken when the run starts, so that the end of
    the run reads only the logs it wrote (a time alone would not do on a file system that keeps whole seconds)."""
    found = {}
    for path in Path(logs).rglob("*.log"):
        try:
            info = path.stat()
        except OSError:
            continue
        found[path] = (info.st_mtime_ns, info.st_size)
    return found


def failures(logs: str | os.PathLike, before: dict[Path, tuple[int, int]]) -> list[tuple[list[Path], str]]:
    """The errors in the `*.log` files under `logs` that are not as they were `before` (`state` at the run's start):
    (the logs, sorted; the error's text without its time), one entry per distinct text, in the order of their first
    log's path. A file that cannot be read is passed over: the summary is a courtesy, the logs stay."""
    found: dict[str, list[Path]] = {}
    for path, now in sorted(state(logs).items()):
        if before.get(path) == now:
            continue
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for i, line in enumerate(lines):
            if ERROR.match(line):
                end = next((j for j in range(i + 1, len(lines)) if RECORD.match(lines[j])), len(lines))
                text = "\n".join([RECORD.sub("casemeta: ", line), *lines[i + 1:end]]).rstrip()
                found.setdefault(text, []).append(path)
    return [(paths, text) for text, paths in found.items()]


def summary(found: list[tuple[list[Path], str]], root: str | os.PathLike = ".") -> str:
    """The failures as a researcher reads them at the end of the run; empty if there are none."""
    if not found:
        return ""
    steps = sum(len(paths) for paths, _ in found)
    out = [f"{steps} step(s) of this run failed; what they logged (each error once):"]
    for paths, text in found:
        out.append(", ".join(_relative(p, root) for p in paths) + ":")
        lines = text.splitlines()
        out += ["    " + line for line in lines[:SHOWN_LINES]]
        if len(lines) > SHOWN_LINES:
            out.append(f"    ... {len(lines) - SHOWN_LINES} more line(s) in the log")
    return "\n".join(out)


def _relative(path: Path, root: str | os.PathLike) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
