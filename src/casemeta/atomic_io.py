"""Atomic file replacement: a reader sees the old file or the new one, never half of one.

A crash or a kill between writing and renaming leaves the old file intact and
at most a hidden temporary file beside it. A symlink is followed: its target
is replaced and the link stays a link. Files that several commands rewrite
(data/coded/<study>/cases.csv) are changed only through `locked_update`, so
that no command's write can overwrite another's.
"""

from __future__ import annotations

import csv
import json
import glob
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout

from casemeta.errors import CasemetaError, file_error

if TYPE_CHECKING:  # pandas is imported where a frame is written: Snakemake's parse of the Snakefile imports
    import pandas as pd  # this module (through casemeta.run_lock) and needs none of it (0.45 s of every run)

LOCK_TIMEOUT_SECONDS = 60
LOCK_POLL_SECONDS = 0.01  # a waiting command retries this often: short, so that queued coders follow each other closely
_UNSYNCED: set[Path] | None = None  # inside folders_synced_at_end: the folders whose renames await their fsync


def real_path(path: str | os.PathLike) -> Path:
    """The file a path stands for once every symlink is followed (it need not exist yet)."""
    return Path(os.path.realpath(path))


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp)` on a temporary file next to `path`, then rename it over `path`.

    A file-system failure (full disk, read-only folder, a folder in the way) is
    reported as a CasemetaError naming `path`; the old file is left as it was.
    Returns `path` as given (callers compare it with paths they hold).
    """
    given, path = Path(path), real_path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        write(tmp)
        _set_mode(tmp, path)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise file_error(exc, "write", path) from exc
        raise
    if _UNSYNCED is None:
        _sync_folder(path.parent)
    else:
        _UNSYNCED.add(path.parent)
    return given


@contextmanager
def folders_synced_at_end() -> Iterator[None]:
    """Within the block, the renames of atomic_write are made durable once per folder as the block ends, rather
    than once per file: a command writes up to ~70 files into a few folders (a folder's fsync ~0.3 ms, ~0.1 s in a
    cold run of the shipped studies). Each file's content is still synced before its rename, so a reader sees the
    old file or the whole new one whatever happens; only the durability of the renames against a power cut waits
    for the block to end, which for a command is before it exits. Nested blocks sync at the outermost one's end."""
    global _UNSYNCED
    if _UNSYNCED is not None:
        yield
        return
    _UNSYNCED = set()
    try:
        yield
    finally:
        folders, _UNSYNCED = _UNSYNCED, None
        for folder in sorted(folders):
            _sync_folder(folder)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (a power cut, not only a kill); not every file system allows it."""
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _set_mode(tmp: Path, path: Path) -> None:
    """mkstemp makes files private (0600); give the new file the old one's mode, or the usual default."""
    if path.exists():
        shutil.copymode(path, tmp)
    else:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)


def write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8", newline=""))


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def write_csv(path: str | os.PathLike, frame: pd.DataFrame, **kwargs) -> Path:
    """Write a CSV (UTF-8, '\\n' line ends, no index) atomically; every text cell reads back as it was.
    A `caveats` column of records (casemeta.stats.caveats) is written as JSON (read_caveats reads it back)."""
    import pandas as pd

    frame = encode_caveats(frame)
    # the same text, a third faster: pandas writes a nullable integer column cell by cell in Python, a plain one not
    whole = [c for c, t in frame.dtypes.items() if isinstance(t, pd.Int64Dtype) and not frame[c].isna().any()]
    if whole and frame.columns.is_unique:
        frame = frame.astype(dict.fromkeys(whole, "int64"))
    kwargs.setdefault("index", False)
    kwargs.setdefault("lineterminator", "\n")
    if "quoting" not in kwargs and _has_carriage_return(frame):
        # The csv module quotes a field only for the characters of its line
        # terminator ("\n"), so a bare "\r" would be written unquoted and read
        # back as a line break; quoting every field keeps it inside its cell.
        kwargs["quoting"] = csv.QUOTE_ALL
    if kwargs == {"index": False, "lineterminator": "\n"} and (chunks := csv_chunks(frame)) is not None:
        return atomic_write(path, lambda tmp: _write_chunks(tmp, chunks))
    return atomic_write(path, lambda tmp: frame.to_csv(tmp, encoding="utf-8", **kwargs))


def _write_chunks(path: Path, chunks: Iterator[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as out:
        for chunk in chunks:
            out.write(chunk)


_INTEGERS = ("int8", "int16", "int32", "int64", "Int8", "Int16", "Int32", "Int64")  # numpy's and pandas' nullable


def _quoted(values: list) -> list:
    """Cells as the csv module's minimal quoting writes them: in quotes, quotes doubled, where a comma, a quote or a
    line break is in the cell."""
    return [f'"{v.replace(chr(34), chr(34) * 2)}"' if ("," in v or '"' in v or "\n" in v) else v for v in values]


def _csv_cells(column: pd.Series) -> list[str]:
    """A column's cells as text: integers formatted, missing values empty, text quoted where it must be."""
    import numpy as np

    missing = column.isna().to_numpy()
    if str(column.dtype) in _INTEGERS:
        numbers = column.to_numpy(dtype="int64", na_value=0)
        low, high = (int(numbers.min()), int(numbers.max())) if len(numbers) else (0, 0)
        if high - low <= 10_000:  # codes: each distinct number formatted once
            cells = np.array([str(i) for i in range(low, high + 1)], dtype=object)[numbers - low]
        else:
            cells = numbers.astype(str).astype(object)
        cells[missing] = ""
        return cells.tolist()
    cells = column.to_numpy(dtype=object, copy=True)
    cells[missing] = ""
    values = cells.tolist()
    joined = "\n".join(values)  # which cells need quotes, found in one pass where none does
    if "," in joined or '"' in joined or joined.count("\n") != max(len(values) - 1, 0):
        return _quoted(values)
    return values


def csv_chunks(frame: pd.DataFrame, rows: int = 50_000) -> Iterator[str] | None:
    """The text pandas' to_csv(index=False, lineterminator="\n") writes, in pieces of `rows` rows, for a frame of
    signed integer and text columns (missing values as empty cells; a cell with a comma, a quote or a line break
    quoted, quotes doubled: the csv module's minimal quoting), or None for any other frame, which to_csv then
    writes. Built a column at a time and joined in C: to_csv formats each row in Python (4 s for the derived cases
    of 10⁶ cases, against under 2 s here); in pieces, so that the text of 10⁶ rows is never held whole (it
    doubled the derive step's peak memory). tests/test_atomic_io.py holds it to to_csv's characters."""
    import pandas as pd

    if frame.shape[1] < 2 or not frame.columns.is_unique or not all(isinstance(c, str) for c in frame.columns):
        return None  # one column: the csv module quotes an empty cell that is a whole row; leave it to to_csv
    for name in frame.columns:
        dtype = frame[name].dtype
        text = str(dtype) not in _INTEGERS and pd.api.types.is_string_dtype(dtype) and \
            pd.api.types.infer_dtype(frame[name], skipna=True) in ("string", "empty")
        if not (str(dtype) in _INTEGERS or text):
            return None

    def pieces() -> Iterator[str]:
        yield ",".join(_quoted(list(frame.columns))) + "\n"
        for start in range(0, len(frame), rows):
            part = frame.iloc[start:start + rows]
            yield "\n".join(map(",".join, zip(*(_csv_cells(part[name]) for name in part.columns)))) + "\n"

    return pieces()


def _has_carriage_return(frame: pd.DataFrame) -> bool:
    """A "\r" in a column name or in a cell that is not a number; each column's distinct values looked at once."""
    import pandas as pd

    text = frame.select_dtypes(exclude="number")
    return any("\r" in str(name) for name in frame.columns) or any(
        "\r" in str(value) for column in range(text.shape[1]) for value in pd.unique(text.iloc[:, column].to_numpy(dtype=object)))


@contextmanager
def locked(path: str | os.PathLike, companions: tuple[str, ...] = ()) -> Iterator[Path]:
    """Hold the lock of the file `path` stands for; yield that real path to read and replace.

    The lock is a kernel lock (flock) on a hidden file beside the real file, so
    a killed holder never leaves it locked; temporary files that a killed
    writer left behind are removed once the lock is held.
    """
    target = real_path(path)
    lock_path = target.with_name(f".{target.name}.lock")
    lock = FileLock(str(lock_path), timeout=LOCK_TIMEOUT_SECONDS)
    try:
        lock.acquire(poll_interval=LOCK_POLL_SECONDS)
    except Timeout:
        raise CasemetaError(
            f"{target}: another command has held its lock {lock_path} for {LOCK_TIMEOUT_SECONDS} s; "
            "wait for it to finish, then run the command again") from None
    except OSError as exc:
        raise file_error(exc, "lock", lock_path) from exc
    try:
        for name in (target.name, *companions):  # files written under this lock too (e.g. provenance.csv)
            for stale in glob.glob(glob.escape(str(target.parent / f".{name}.")) + "*.tmp"):
                with suppress(OSError):  # housekeeping only: a failure to tidy must not stop the command
                    Path(stale).unlink(missing_ok=True)
        yield target
    finally:
        lock.release()


def locked_update(path: str | os.PathLike, update: Callable[[Path], str]) -> Path:
    """Read-modify-write under the file's lock: `update(real_path)` returns the new text, written atomically."""
    with locked(path) as target:
        write_text(target, update(target))
    return Path(path)


def encode_caveats(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its `caveats` cells (tuples of records with to_dict) as JSON text ("" for none)."""
    import pandas as pd

    if "caveats" not in frame.columns:
        return frame

    def cell(records) -> str:
        if isinstance(records, str) or records is None or (not isinstance(records, (tuple, list)) and pd.isna(records)):
            return "" if records is None or not isinstance(records, str) else records
        items = [r.to_dict() for r in records]
        return json.dumps(items, ensure_ascii=False, sort_keys=True) if items else ""
    return frame.assign(caveats=[cell(c) for c in frame["caveats"]])


def read_caveats(frame: pd.DataFrame) -> pd.DataFrame:
    """A results frame read from a CSV with its `caveats` cells as tuples of records again."""
    import pandas as pd

    if "caveats" not in frame.columns:
        return frame
    from casemeta.stats.caveats import Caveat

    def cell(text) -> tuple:
        if not isinstance(text, str) or not text.strip():
            return ()
        return tuple(Caveat.from_dict(d) for d in json.loads(text))
    return frame.assign(caveats=[cell(c) for c in frame["caveats"]])
