"""The output guard (casemeta.paths.check_outputs) finds every clash, whichever way a path names a file.

It works each path out once (its real path and, where it exists, its file) instead of comparing every pair
of paths on disk: these tests pin what it must still find, and in which order it says so.
"""

import os

import pytest

from casemeta.errors import CasemetaError
from casemeta.paths import check_outputs


def refused(outputs, inputs=(), root=None) -> list[str]:
    """The guard's complaints, one per clash (none: [])."""
    try:
        check_outputs(outputs, inputs, root)
    except CasemetaError as exc:
        return exc.problems or [exc.summary]
    return []


def test_distinct_outputs_under_results_pass(tmp_path):
    (tmp_path / "results").mkdir()
    outputs = [(f"--out{i}", tmp_path / "results" / f"{i}.csv") for i in range(50)]
    assert refused(outputs, [("--cases", tmp_path / "cases.csv")], tmp_path) == []


def test_an_output_that_is_an_input_by_symlink_or_hard_link_is_refused(tmp_path):
    source = tmp_path / "coder_a.csv"
    source.write_text("id\n1\n")
    (tmp_path / "link.csv").symlink_to(source)
    os.link(source, tmp_path / "hard.csv")
    for name in ("link.csv", "hard.csv"):
        found = refused([("--out", tmp_path / name)], [("input", source)])
        assert found == [f"--out {tmp_path / name}: it is also read by this command (input {source}); a command never "
                         "writes over what it reads: choose another file"]


def test_outputs_that_are_one_file_are_each_named_against_every_earlier_one(tmp_path):
    """Three names of one file (plain, with ./ and .., by a hard link) and one other: each of the later three is
    refused against each earlier one, in order."""
    (tmp_path / "results").mkdir()
    first = tmp_path / "results" / "t.csv"
    first.write_text("x\n")
    os.link(first, tmp_path / "results" / "same.csv")
    outputs = [("--a", first), ("--b", tmp_path / "results" / "other.csv"),
               ("--c", tmp_path / "results" / "." / ".." / "results" / "t.csv"), ("--d", tmp_path / "results" / "same.csv")]
    found = refused(outputs)
    assert [line.split(":")[0] for line in found] == [f"--c {outputs[2][1]}", f"--d {outputs[3][1]}", f"--d {outputs[3][1]}"]
    assert [line.rsplit("the same file as ", 1)[1].split(";")[0] for line in found] == [
        f"--a {first}", f"--a {first}", f"--c {outputs[2][1]}"]


def test_an_output_in_data_or_analysis_is_refused_even_through_a_link(tmp_path):
    for folder in ("data", "analysis", "results"):
        (tmp_path / folder).mkdir()
    (tmp_path / "results" / "into_data").symlink_to(tmp_path / "data")
    found = refused([("--out", tmp_path / "results" / "into_data" / "x.csv"), ("--log", tmp_path / "analysis" / "x.log"),
                     ("--ok", tmp_path / "results" / "x.csv")], root=tmp_path)
    assert [line.split(":")[0] for line in found] == [f"--out {tmp_path / 'results' / 'into_data' / 'x.csv'}",
                                                      f"--log {tmp_path / 'analysis' / 'x.log'}"]
    assert "inside the project's data/" in found[0] and "inside the project's analysis/" in found[1]


@pytest.mark.parametrize("count", [1, 2])
def test_one_clash_is_the_error_itself(tmp_path, count):
    target = tmp_path / "t.csv"
    with pytest.raises(CasemetaError) as error:
        check_outputs([("--out", target)] * (count + 1))
    assert (error.value.problems == []) == (count == 1)
