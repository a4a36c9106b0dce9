"""Atomic replacement keeps the old file intact on failure and keeps its permissions."""

import errno
import os

import pytest

from casemeta import atomic_io
from casemeta.errors import CasemetaError


def test_a_new_file_gets_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        path = atomic_io.write_text(tmp_path / "new.txt", "x")
    finally:
        os.umask(umask)
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)


def test_a_replaced_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text("old")
    path.chmod(0o664)
    atomic_io.write_text(path, "new")
    assert path.read_text() == "new"
    assert oct(path.stat().st_mode & 0o777) == oct(0o664)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text("old")

    def broken(tmp):
        tmp.write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(CasemetaError, match=f"{path}: cannot write it: the disk is full; free some space"):
        atomic_io.atomic_write(path, broken)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["cases.csv"]
