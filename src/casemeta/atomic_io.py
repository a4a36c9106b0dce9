"""Atomic file replacement: a reader sees the old file or the new one, never half of one.

A crash or a kill between writing and renaming leaves the old file intact and
at most a hidden temporary file beside it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp)` on a temporary file next to `path`, then rename it over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        _set_mode(tmp, path)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _set_mode(tmp: Path, path: Path) -> None:
    """mkstemp makes files private (0600); give the new file the old one's mode, or the usual default."""
    if path.exists():
        shutil.copymode(path, tmp)
    else:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)


def write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def write_csv(path: str | os.PathLike, frame: pd.DataFrame, **kwargs) -> Path:
    """Write a CSV (UTF-8, '\\n' line ends, no index) atomically."""
    kwargs.setdefault("index", False)
    kwargs.setdefault("lineterminator", "\n")
    return atomic_write(path, lambda tmp: frame.to_csv(tmp, encoding="utf-8", **kwargs))
