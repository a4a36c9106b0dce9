"""No stale result: coded data never change while a workflow run reads them.

Snakemake re-runs a job when an input is newer than its output *and* differs from the checksum it
recorded for that input (and, since version 8, on code, params and input-set changes:
`--rerun-triggers`); it records the input checksums when the job has finished. A case added to
data/coded/<study>/cases.csv while the `validate_cases` job of a run reads it, or after the job
wrote its output but before Snakemake recorded the job as finished, is missing from that run's
results, yet either the file is older than `validated_cases.csv` or its recorded checksum is the new
one: the next run says "Nothing to be done" over results that lack the case. So the two never
overlap:

- a workflow run holds the project's run lock (`.snakemake/casemeta-run.lock`) exclusively from the moment
  the Snakefile is read (a `snakemake` command that may change the project: `casemeta.launch.only_shows`;
  through Snakemake's Python API, from its `onstart`) to its `onsuccess`/`onerror` or its end, and writes
  into it who holds it;
- a command that changes coded data (`add-case`, `code`) holds the same lock shared while it
  reads and writes, and is refused at once, with nothing changed, while a run holds it;
- a run that starts while such a command writes waits for it (seconds at most), so the run's DAG
  either saw the new file, or the file is newer than every result and the next run has work to do.

A second `snakemake` started during a run stops as the Snakefile is read, naming the run that holds the
project, before Snakemake's own messages ("Directory cannot be locked"; IncompleteFilesException over
the files the first run is writing), whose advice (--unlock, --rerun-incomplete, --cleanup-metadata) is
wrong while the first run is alive; one that only shows or checks the workflow is told and goes on.

The lock is a kernel lock (flock) taken with fcntl directly rather than through filelock (used for
cases.csv): the holder's details are written into the lock file itself, which filelock truncates
on every attempt, and a shared (reader) mode is needed, which filelock has not. A killed holder
never leaves the lock held: the kernel drops it with the process.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from casemeta.errors import CasemetaError, file_error

LOCK_FILE = Path(".snakemake") / "casemeta-run.lock"
WAIT_SECONDS = 60  # a run waits this long for a command that is adding cases (which takes seconds)
POLL_SECONDS = 0.05


def lock_path(root: str | os.PathLike) -> Path:
    return Path(root) / LOCK_FILE


def _open(root: str | os.PathLike, write: bool = False) -> int:
    """The lock file, created if need be, never truncated (a holder's details stay readable). Only the run
    writes into it: a command adding cases opens it read-only (flock needs no more), so that it works in a
    project shared with the user whose run created the file."""
    path = lock_path(root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, (os.O_RDWR if write else os.O_RDONLY) | os.O_CREAT, 0o666)
    except OSError as exc:
        raise file_error(exc, "lock", path) from exc


def _try(fd: int, mode: int) -> bool:
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _holder(fd: int) -> str:
    """Who holds the lock exclusively, from what the holder wrote into it."""
    try:
        info = json.loads(os.pread(fd, 65536, 0).decode("utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if not isinstance(info, dict) or "pid" not in info:
        return "a snakemake run (its details are not readable)"
    return f"snakemake (process {info['pid']}, started {info.get('started', '?')}: {info.get('command', 'snakemake')})"


def running(root: str | os.PathLike) -> str | None:
    """The workflow run under way in this project ("snakemake (process 123, started ...)"), or None."""
    if not lock_path(root).exists():
        return None
    fd = _open(root)
    try:
        if _try(fd, fcntl.LOCK_SH):
            return None
        return _holder(fd)
    finally:
        os.close(fd)  # closing drops a lock taken here


@contextmanager
def coded_data_change(root: str | os.PathLike, command: str, what: str) -> Iterator[None]:
    """Hold the run lock shared while `command` changes `what` (a coded-data file); refuse at once, nothing
    changed, while a workflow run holds it."""
    fd = _open(root)
    try:
        if not _try(fd, fcntl.LOCK_SH):
            raise CasemetaError(
                f"{what}: a workflow run is under way in this project: {_holder(fd)}. It reads the coded data, and a "
                f"case changed now would be missing from its results while the next run found nothing to do; "
                f"nothing was changed. Run `casemeta {command}` again when that run has finished.")
        yield
    finally:
        os.close(fd)


class WorkflowRun:
    """The run lock as the Snakefile holds it: `start()` as it is read (or in onstart), `finish()` in onsuccess and
    onerror."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self._release: weakref.finalize | None = None
        self.started = False  # whether start() took the lock: a run refused at its start has nothing to sum up

    def start(self, command: str) -> None:
        fd = _open(self.root, write=True)
        deadline = time.monotonic() + WAIT_SECONDS
        while not _try(fd, fcntl.LOCK_EX):
            if not _try(fd, fcntl.LOCK_SH):  # held exclusively: another run, not a command adding cases
                holder = _holder(fd)
                os.close(fd)
                raise CasemetaError(f"another workflow run is under way in this project: {holder}; this run did "
                                    "nothing. Wait for it to finish, then run again. Do not use --unlock, "
                                    "--rerun-incomplete or --cleanup-metadata while it runs (Snakemake may suggest "
                                    "them: they are for a run that has ended).")
            fcntl.flock(fd, fcntl.LOCK_UN)
            if time.monotonic() > deadline:
                os.close(fd)
                raise CasemetaError(f"{lock_path(self.root)}: a command changing coded data (add-case or code) has "
                                    f"held it for {WAIT_SECONDS} s; this run did nothing. Run it again when that "
                                    "command has finished.")
            time.sleep(POLL_SECONDS)
        info = {"pid": os.getpid(), "started": datetime.now().strftime("%Y-%m-%d %H:%M:%S"), "command": command}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
        self._release = weakref.finalize(self, os.close, fd)  # a dropped holder releases the lock too
        self.started = True

    def finish(self) -> None:
        """Release the lock (closing drops it); the details stay, read only while a run holds the lock."""
        if self._release is not None:
            self._release()
            self._release = None
