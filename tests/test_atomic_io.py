"""Atomic replacement keeps the old file intact on failure and keeps its permissions."""

import csv
import errno
import os

from pathlib import Path

import pandas as pd
import pytest

from casemeta import atomic_io
from casemeta.cli import main
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


def test_a_csv_cell_with_a_carriage_return_reads_back_as_one_cell(tmp_path):
    """The csv module quotes "\\n" but not a bare "\\r" when lines end in "\\n"; readers then split the row."""
    frame = pd.DataFrame({"cluster": ["Line1\rLine2", "plain"], "n": [1, 2]})
    path = atomic_io.write_csv(tmp_path / "out.csv", frame)
    with open(path, newline="", encoding="utf-8") as handle:
        assert list(csv.reader(handle)) == [["cluster", "n"], ["Line1\rLine2", "1"], ["plain", "2"]]


def test_the_validated_copy_of_the_cases_reads_back_as_validated(project, capsys):
    """results/<study>/validated_cases.csv keeps quotes, commas and line breaks inside their cells."""
    cases = project / "data/coded/african_clusters/cases.csv"
    value = 'Ngong "Furniture", Kenya\nsecond line'
    cases.write_bytes(cases.read_bytes().replace(b",Ngong Furniture,", b',"Ngong ""Furniture"", Kenya\nsecond line",'))
    out = project / "results" / "validated_cases.csv"
    assert main(["--root", str(project), "validate", "--study", "african_clusters", "--out", str(out)]) == 0
    with open(out, newline="", encoding="utf-8") as handle:
        rows = {r["case_id"]: r for r in csv.DictReader(handle)}
    assert rows["kenya_ngong_furniture"]["cluster"] == value
    assert len(rows) == 25


def test_a_symlink_is_followed_and_stays_a_link(tmp_path):
    target = tmp_path / "real.csv"
    target.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    atomic_io.write_text(link, "new")
    assert link.is_symlink() and target.read_text() == "new"


def test_the_readme_says_what_the_code_does(root):
    """The README's Data safety section names the lock file and the wait that the code uses."""
    text = (root / "README.md").read_text(encoding="utf-8")
    section = text.split("## Data safety", 1)[1].split("\n## ", 1)[0]
    assert f"waits more than {atomic_io.LOCK_TIMEOUT_SECONDS} s" in section
    assert "`.cases.csv.lock`" in section
    assert text.index("## Data safety") < text.index("## Double coding and reliability")


def test_the_path_given_is_the_path_returned(tmp_path, monkeypatch):
    """Callers compare what was written with paths they hold (an export removes tables it did not write)."""
    monkeypatch.chdir(tmp_path)
    assert atomic_io.write_text(Path("results") / "x.md", "x") == Path("results") / "x.md"
