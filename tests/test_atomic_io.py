"""Atomic replacement keeps the old file intact on failure and keeps its permissions."""

import csv
import errno
import os

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


_TEXT = st.text(alphabet='ab, "\né1-', max_size=5)


@st.composite
def integer_and_text_frames(draw):
    """Frames of the kinds casemeta writes most (codes, possibly missing; identifiers and labels), with commas,
    quotes, line breaks, blanks and non-ASCII text in cells and names."""
    import pandas as pd

    n = draw(st.integers(0, 6))
    names = draw(st.lists(_TEXT, min_size=2, max_size=4, unique=True))
    columns = {}
    for name in names:
        kind = draw(st.sampled_from(["Int64", "int64", "string", "object"]))
        if kind in ("Int64", "int64"):
            values = draw(st.lists(st.one_of(st.integers(-3, 3), st.integers(-10**12, 10**12))
                                   | (st.none() if kind == "Int64" else st.integers(0, 1)), min_size=n, max_size=n))
            columns[name] = pd.array(values, dtype=kind) if kind == "Int64" else pd.Series(values, dtype="int64")
        else:
            values = draw(st.lists(_TEXT | (st.none() if kind == "string" else _TEXT), min_size=n, max_size=n))
            columns[name] = pd.Series(values, dtype="string" if kind == "string" else object)
    return pd.DataFrame({name: pd.Series(col).reset_index(drop=True) for name, col in columns.items()})


@settings(max_examples=300)  # a few milliseconds each: the writer of every result file deserves more than the default
@given(integer_and_text_frames(), st.integers(1, 4))
def test_csv_chunks_are_what_pandas_writes(frame, rows):
    """atomic_io.csv_chunks builds a frame's CSV a column at a time, `rows` rows a piece: together, the same
    characters as pandas' to_csv."""
    from casemeta.atomic_io import csv_chunks

    assert "".join(csv_chunks(frame, rows)) == frame.to_csv(index=False, lineterminator="\n")


def test_csv_chunks_leave_other_frames_to_pandas():
    import pandas as pd

    from casemeta.atomic_io import csv_chunks

    assert csv_chunks(pd.DataFrame({"a": [1.5], "b": ["x"]})) is None  # a float: pandas' own formatting
    assert csv_chunks(pd.DataFrame({"a": ["x"]})) is None  # one column: an empty cell would be a quoted row
    assert csv_chunks(pd.DataFrame({"a": [1], "b": [object()]})) is None  # a cell that is not text
    assert csv_chunks(pd.DataFrame({"a": [True], "b": ["x"]})) is None  # a boolean: pandas writes True
    assert "".join(csv_chunks(pd.DataFrame({"a": [0, 1], "b": ['say "hi", then', "x"]}))) == 'a,b\n0,"say ""hi"", then"\n1,x\n'


def test_a_folders_renames_are_synced_once_at_the_end_of_a_command(tmp_path, monkeypatch):
    """Inside folders_synced_at_end each folder is synced once, as the block ends (also when it fails), and each
    file's content is still synced before its rename; outside it, every write syncs its folder."""
    synced, file_syncs = [], []
    monkeypatch.setattr(atomic_io, "_sync_folder", synced.append)
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (file_syncs.append(fd), real_fsync(fd)))
    a, b = tmp_path / "a", tmp_path / "b"
    with pytest.raises(RuntimeError):
        with atomic_io.folders_synced_at_end():
            for name in ("1", "2", "3"):
                atomic_io.write_text(a / name, name)
            with atomic_io.folders_synced_at_end():  # nested: the outer block syncs
                atomic_io.write_text(b / "1", "x")
            atomic_io.write_text(b / "2", "y")
            assert synced == [] and len(file_syncs) == 5
            raise RuntimeError("the command failed after writing")
    assert synced == [a, b]
    assert [p.read_text() for p in (a / "1", a / "2", a / "3", b / "1", b / "2")] == ["1", "2", "3", "x", "y"]
    atomic_io.write_text(a / "4", "4")
    atomic_io.write_text(a / "5", "5")
    assert synced == [a, b, a, a]
