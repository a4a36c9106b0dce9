"""What a workflow run's failed jobs said, once, at the end of the run.

Every rule runs `casemeta --log logs/<rule>/<study>.log ...`, and a step that fails writes its error there
("HH:MM:SS casemeta: error: ..." and the lines that continue it). With `keep-going` the run goes on after a
failure, and the error scrolls away under the other jobs' output; two steps that read the same bad file (the
validation and the coding check) fail with the same report. The Snakefile's `onerror` prints `summary` of the
run's failed jobs (Snakemake's scheduler knows them): each distinct error once, with the logs that hold it, and
every failed job whose log holds no error (killed, or refused an option before its log was opened) named apart.
Where the scheduler's list is not to be had, the logs this run wrote stand for the jobs (`state` at the start,
`changed_logs` at the end).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# a record of casemeta's log file (cli._setup_logging): a time, then the message
RECORD = re.compile(r"^\d\d:\d\d:\d\d casemeta: ")
ERROR = re.compile(r"^\d\d:\d\d:\d\d casemeta: (error: |internal error)")
# of one error, its first and last lines: a traceback's last lines say what was raised, and where
HEAD_LINES, TAIL_LINES = 8, 12


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


def changed_logs(logs: str | os.PathLike, before: dict[Path, tuple[int, int]]) -> list[tuple[str, list[Path]]]:
    """The `*.log` files under `logs` that are not as they were `before` (`state` at the run's start), each as a job
    (its path, its log) for `summary`: what stands for the failed jobs where the scheduler's list is not to be had."""
    return [(str(path), [path]) for path, now in sorted(state(logs).items()) if before.get(path) != now]


def errors_in(path: Path) -> list[str]:
    """The errors a casemeta step wrote to the log at `path`, each without its time. A file that cannot be read has
    none: the summary is a courtesy, the log stays."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    found = []
    for i, line in enumerate(lines):
        if ERROR.match(line):
            end = next((j for j in range(i + 1, len(lines)) if RECORD.match(lines[j])), len(lines))
            found.append("\n".join([RECORD.sub("casemeta: ", line), *lines[i + 1:end]]).rstrip())
    return found


def summary(jobs: list[tuple[str, list[Path]]], root: str | os.PathLike = ".", failed: bool = True) -> str:
    """`jobs` (a name and the log files of each): each distinct error their logs hold, once, with those logs, then
    the jobs whose logs hold none. `failed`: the jobs are the run's failed ones (else logs that stand for them: only
    those with an error are shown). Empty where there is nothing to show."""
    errors: dict[str, list[Path]] = {}
    silent = []
    for name, logs in jobs:
        texts = [(path, text) for path in logs for text in errors_in(path)]
        for path, text in texts:
            errors.setdefault(text, []).append(path)
        if not texts:
            silent.append((name, logs))
    if not failed:
        silent = []
    if not errors and not silent:
        return ""
    count = len(jobs) if failed else len({p for paths in errors.values() for p in paths})
    out = [f"{count} job(s) of this run failed" + ("; what they logged (each error once):" if errors else ":")]
    for paths, text in ((sorted(set(p)), t) for t, p in errors.items()):
        out.append(", ".join(_relative(p, root) for p in paths) + ":")
        lines = text.splitlines()
        if len(lines) > HEAD_LINES + TAIL_LINES + 1:
            lines = [*lines[:HEAD_LINES], f"... {len(lines) - HEAD_LINES - TAIL_LINES} line(s) more in the log ...",
                     *lines[-TAIL_LINES:]]
        out += ["    " + line for line in lines]
    for name, logs in silent:
        where = ", ".join(_relative(p, root) for p in logs) or "no log"
        out.append(f"{name} ({where}): no error in its log; Snakemake's lines about it above say how it ended (killed "
                   "for lack of memory or by a signal, an output it did not write, its command line refused before "
                   "the log was opened)")
    return "\n".join(out)


def _relative(path: Path, root: str | os.PathLike) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(path)
