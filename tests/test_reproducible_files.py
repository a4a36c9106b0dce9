"""Same inputs, same bytes: every file format the publication writers make carries the build date
(SOURCE_DATE_EPOCH, else 1980-01-01 00:00 UTC), never the time of the run."""

import re
import time
import zipfile

import pandas as pd
import pytest

from casemeta.coded.codebook import load_codebook
from casemeta.errors import CasemetaError
from casemeta.publish.coding_forms import write_form
from casemeta.publish.figures import nothing_to_draw
from casemeta.publish.formats import write_docx, write_xlsx
from casemeta.publish.tables import PubTable
from conftest import ROOT

TABLE = PubTable("cases", "Clusters & their markets", pd.DataFrame({"Cluster": ["Cape Clothing & Textile", "Suame"],
                                                                     "Estimate": ["1.50", "-0.52"]}), ["Note: made up."])


def write_every_format(folder):
    """One file of each dated format, through the writers the workflow uses."""
    folder.mkdir()
    write_docx([TABLE], folder / "tables.docx", "Tables")
    write_xlsx([TABLE], folder / "tables.xlsx")
    write_form(load_codebook(ROOT / "data" / "coded" / "african_clusters" / "codebook.yaml"), folder / "form.xlsx", n_cases=2)
    nothing_to_draw("No model term could be estimated.", folder / "figure")  # figure.png and figure.pdf
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def dates_inside(path):
    """(every zip entry's time, the created and modified dates of the core properties) of a Word or Excel file."""
    with zipfile.ZipFile(path) as book:
        times = {item.date_time for item in book.infolist()}
        core = book.read("docProps/core.xml").decode()
    return times, re.findall(r"<dcterms:(created|modified)[^>]*>([^<]*)<", core)


def test_two_runs_a_day_apart_write_the_same_bytes(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first = write_every_format(tmp_path / "first")
    assert set(first) == {"tables.docx", "tables.xlsx", "form.xlsx", "figure.png", "figure.pdf"}
    later = time.time() + 86_400 + 3  # zip entries take their time from time.time(), to the even second
    monkeypatch.setattr(time, "time", lambda: later)
    second = write_every_format(tmp_path / "second")
    assert [name for name in first if first[name] != second[name]] == []


def test_without_source_date_epoch_every_date_is_1980(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    write_every_format(tmp_path / "out")
    for name in ("tables.docx", "tables.xlsx", "form.xlsx"):
        times, core = dates_inside(tmp_path / "out" / name)
        assert times == {(1980, 1, 1, 0, 0, 0)}, name
        assert sorted(core) == [("created", "1980-01-01T00:00:00Z"), ("modified", "1980-01-01T00:00:00Z")], name
    pdf = (tmp_path / "out" / "figure.pdf").read_bytes()
    assert re.findall(rb"/CreationDate \(([^)]*)\)", pdf) == [b"D:19800101000000Z"]
    assert b"/ModDate" not in pdf


def test_source_date_epoch_is_the_date_of_every_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1704164645")  # 2024-01-02 03:04:05 UTC
    write_every_format(tmp_path / "out")
    for name in ("tables.docx", "tables.xlsx", "form.xlsx"):
        times, core = dates_inside(tmp_path / "out" / name)
        assert times == {(2024, 1, 2, 3, 4, 4)}, name  # zip times count in steps of 2 seconds
        assert sorted(core) == [("created", "2024-01-02T03:04:05Z"), ("modified", "2024-01-02T03:04:05Z")], name
    assert b"/CreationDate (D:20240102030405Z)" in (tmp_path / "out" / "figure.pdf").read_bytes()


def test_a_date_before_1980_leaves_zip_entries_at_1980(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    (tmp_path / "out").mkdir()
    write_xlsx([TABLE], tmp_path / "out" / "t.xlsx")
    times, core = dates_inside(tmp_path / "out" / "t.xlsx")
    assert times == {(1980, 1, 1, 0, 0, 0)} and ("created", "1970-01-01T00:00:00Z") in core


@pytest.mark.parametrize("value", ["yesterday", "-5", "1.5"])
def test_a_malformed_source_date_epoch_is_refused(tmp_path, monkeypatch, value):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    with pytest.raises(CasemetaError, match=rf"SOURCE_DATE_EPOCH: value '{re.escape(value)}' is not a date; expected a whole number"):
        write_docx([TABLE], tmp_path / "t.docx", "Tables")
    assert not (tmp_path / "t.docx").exists()
