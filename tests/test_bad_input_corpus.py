"""A corpus of bad inputs and faults, as a careless spreadsheet, a hostile file and an unlucky researcher make them.

For each: the exit code, the message naming file, line, case, column and value
(as relevant) and what to do, no traceback, and data/coded/ byte for byte as
it was. Every case added here is SYNTHETIC (made up for the test); the real
study's file is only ever corrupted in a temporary copy of the project.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from casemeta import atomic_io
from casemeta.cli import main

from conftest import snapshot

STUDY = "african_clusters"
CASES = f"data/coded/{STUDY}/cases.csv"

SYNTHETIC = {
    "case_id": "synthetic_corpus_case", "country": "Synthetica", "cluster": "Synthetic Cluster (not real)",
    "market_local": "1", "market_national": "0", "market_regional": "0", "market_international": "1",
    "growth": "1", "upgrading": "0", "ee_labour": "1", "ee_suppliers": "1", "ee_customers": "0", "ee_specialisation": "0",
    "ja_learning": "1", "ja_marketing": "0", "ja_logistics": "0", "support_government": "0", "support_cluster": "1",
    "support_external": "0",
}
HEADER = ",".join(SYNTHETIC)


def line_of(field_name: str) -> int:
    """The line of a field in `template()`: one field per line, in SYNTHETIC's order."""
    return list(SYNTHETIC).index(field_name) + 1


def template(**changes: str) -> bytes:
    """A filled YAML template, each value written verbatim (so typing traps stay traps)."""
    case = {**SYNTHETIC, **changes}
    return "".join(f"{k}: {v}\n" for k, v in case.items()).encode()


def new_csv(*rows: dict, header: str = HEADER, sep: str = ",") -> bytes:
    lines = [header.replace(",", sep)] + [sep.join({**SYNTHETIC, **r}.values()) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def set_cell(case: str, column: str, value: str) -> Callable[[bytes], bytes]:
    """Edit of cases.csv: one cell of one case replaced by raw text (quotes and all)."""
    def edit(data: bytes) -> bytes:
        lines = data.decode().split("\n")
        index = lines[0].split(",").index(column)
        for i, line in enumerate(lines):
            if line.startswith(case + ","):
                cells = line.split(",")
                cells[index] = value
                lines[i] = ",".join(cells)
        return "\n".join(lines).encode("utf-8", "surrogateescape")
    return edit


def insert_after(line_number: int, text: str) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        lines = data.decode().split("\n")
        return "\n".join(lines[:line_number] + [text] + lines[line_number:]).encode()
    return edit


def raising(exc: OSError, when: Callable[..., bool] = lambda *a, **k: True, real: Callable | None = None):
    """A stand-in for an os function that fails like the file system would."""
    def fake(*args, **kwargs):
        if when(*args, **kwargs):
            raise exc
        return real(*args, **kwargs)
    return fake


def full_disk(mp: pytest.MonkeyPatch, root: Path) -> None:
    # the data reached the disk's cache but not the disk: fsync reports ENOSPC
    mp.setattr(atomic_io.os, "fsync", raising(OSError(errno.ENOSPC, "No space left on device")))


def read_only_folder(mp: pytest.MonkeyPatch, root: Path) -> None:
    # tests run as root in CI, where chmod would not stop a write: the refusal is simulated
    mp.setattr(atomic_io.tempfile, "mkstemp", raising(PermissionError(errno.EACCES, "Permission denied")))


def read_only_file_system(mp: pytest.MonkeyPatch, root: Path) -> None:
    mp.setattr(atomic_io.tempfile, "mkstemp", raising(OSError(errno.EROFS, "Read-only file system")))


def unlockable(mp: pytest.MonkeyPatch, root: Path) -> None:
    real = os.open
    mp.setattr(os, "open", raising(PermissionError(errno.EACCES, "Permission denied"),
                                   lambda path, *a, **k: str(path).endswith(".cases.csv.lock"), real))


def undeletable_results(mp: pytest.MonkeyPatch, root: Path) -> None:
    stale = root / "results" / STUDY / "reproduction.csv"
    mp.setattr(Path, "unlink", raising(PermissionError(errno.EACCES, "Permission denied", str(stale)),
                                       lambda path, *a, **k: path == stale, Path.unlink))


def lock_is_a_folder(root: Path) -> None:
    (root / f"data/coded/{STUDY}/.cases.csv.lock").mkdir()


def cases_is_a_folder(root: Path) -> None:
    path = root / CASES
    path.unlink()
    path.mkdir()


def no_cases_file(root: Path) -> None:
    (root / CASES).unlink()


def workflow_running(mp: pytest.MonkeyPatch, root: Path) -> None:
    """A snakemake run holds the project (casemeta.run_lock, as its onstart takes it) for the command's length;
    when the monkeypatch is undone the holder is dropped, and the kernel lock with it."""
    from casemeta.run_lock import WorkflowRun

    run = WorkflowRun(root)
    run.start("snakemake --cores 2")
    mp.setattr(WorkflowRun, "corpus_holder", run, raising=False)


def stale_results(root: Path) -> None:
    (root / "results" / STUDY).mkdir(parents=True)
    (root / "results" / STUDY / "reproduction.csv").write_text("from an earlier run")


SYNTHETIC_STUDY = """\
study: synthetic_survey
title: Synthetic survey for the bad-input tests (not real data)
missing_values: ["", "NA"]
variables:
  - {name: case_id, label: Case, type: identifier}
  - {name: name, label: Name, type: text}
  - {name: founded, label: Founded, type: integer, minimum: 1900, maximum: 2030}
  - {name: firms, label: Firms, type: integer, minimum: 0, missing: allowed}
  - name: size
    label: Size
    type: category
    values: [{value: small, label: Small}, {value: large, label: Large}]
"""


def synthetic_study(rows: str) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        folder = root / "data/coded/synthetic_survey"
        folder.mkdir(parents=True)
        (folder / "codebook.yaml").write_text(SYNTHETIC_STUDY)
        (folder / "cases.csv").write_text("case_id,name,founded,firms,size\n" + rows)
    return setup


@dataclass(frozen=True)
class Bad:
    id: str
    argv: tuple[str, ...]  # after --root; {new} is the file given, {root} the project
    expect: tuple[str, ...]  # in the message; {root}, {new} and {cases} are filled in
    cases: Callable[[bytes], bytes] | None = None  # edit of cases.csv before the command
    new: bytes | None = None  # content of {new}
    suffix: str = ".csv"
    setup: Callable[[Path], None] | None = None
    fault: Callable[[pytest.MonkeyPatch, Path], None] | None = None
    code: int = 1
    tags: tuple[str, ...] = field(default=())
    files: tuple[tuple[str, bytes], ...] = ()  # more inputs: (name, content) as {root}/incoming/<name>


VALIDATE = ("validate", "--study", STUDY)
ADD = ("add-case", "--study", STUDY, "{new}")
ADD_YAML = dict(argv=ADD, suffix=".yaml")

CORPUS = [
    # ---- the coded file itself, read by `validate` -------------------------------------------
    Bad("wrong-delimiter", VALIDATE, ("{cases}: line 1: it looks separated by ';'; expected ','-separated columns",),
        cases=lambda d: d.replace(b",", b";")),
    Bad("tab-delimiter", VALIDATE, ("{cases}: line 1: it looks separated by '\\t'",), cases=lambda d: d.replace(b",", b"\t")),
    Bad("non-utf8", VALIDATE, ("{cases}: line 9: bytes fc are not UTF-8", "re-save the file as 'CSV UTF-8'"),
        cases=lambda d: d.replace("Ngong Furniture".encode(), "Ngong Furnitüre".encode("latin-1"))),
    Bad("empty-file", VALIDATE, ("{cases}: the file is empty; expected a header line with the columns case_id, country",),
        cases=lambda d: b""),
    Bad("blank-file", VALIDATE, ("{cases}: the file is empty",), cases=lambda d: b"\n \n"),
    Bad("unknown-column", VALIDATE, ("{cases}: line 1, column 'notes': not in the codebook; expected only case_id",),
        cases=lambda d: b"\n".join(line + (b",notes" if i == 0 else b",x") if line else line
                                   for i, line in enumerate(d.split(b"\n")))),
    Bad("missing-column", VALIDATE, ("{cases}: column 'support_external' is missing; the codebook requires it (one of 0, 1)",),
        cases=lambda d: b"\n".join(b",".join(line.split(b",")[:-1]) for line in d.split(b"\n") if line) + b"\n"),
    Bad("duplicate-id", VALIDATE,
        ("{cases}: line 8 (case 'kenya_gikomba_furniture'), column 'case_id': value 'kenya_gikomba_furniture' is used by more than one case",
         "{cases}: line 9 (case 'kenya_gikomba_furniture')"),
        cases=lambda d: d.replace(b"kenya_ngong_furniture,", b"kenya_gikomba_furniture,")),
    Bad("duplicate-id-by-spaces", VALIDATE,
        ("{cases}: line 9 (case 'kenya_gikomba_furniture'), column 'case_id': value 'kenya_gikomba_furniture' is used by more than one case",),
        cases=lambda d: d.replace(b"kenya_ngong_furniture,", b"  kenya_gikomba_furniture ,")),
    Bad("bad-category", VALIDATE,
        ("{cases}: line 9 (case 'kenya_ngong_furniture'), column 'growth': value 'yes' is not allowed; expected one of 0, 1",),
        cases=set_cell("kenya_ngong_furniture", "growth", "yes")),
    Bad("binary-two", VALIDATE, ("{cases}: line 26 (case 'uganda_fish_processing'), column 'upgrading': value '2' is not allowed",),
        cases=set_cell("uganda_fish_processing", "upgrading", "2")),
    Bad("binary-true", VALIDATE, ("column 'growth': value 'TRUE' is not allowed; expected one of 0, 1",),
        cases=set_cell("kenya_ngong_furniture", "growth", "TRUE")),
    Bad("empty-required", VALIDATE,
        ("{cases}: line 26 (case 'uganda_fish_processing'), column 'support_government': the cell is empty; expected one of 0, 1",),
        cases=set_cell("uganda_fish_processing", "support_government", "")),
    Bad("uppercase-id", VALIDATE,
        ("{cases}: line 9 (case 'Kenya_Ngong'), column 'case_id': value 'Kenya_Ngong' is not allowed; expected a unique identifier",),
        cases=lambda d: d.replace(b"kenya_ngong_furniture,", b"Kenya_Ngong,")),
    Bad("nul-in-text", VALIDATE,
        ("{cases}: line 9 (case 'kenya_ngong_furniture'), column 'cluster': value 'Ngong\\x00Furniture' holds the control character U+0000",),
        cases=set_cell("kenya_ngong_furniture", "cluster", "Ngong\x00Furniture")),
    Bad("cr-in-quoted-text", VALIDATE,
        ("{cases}: line 9 (case 'kenya_ngong_furniture'), column 'cluster': value 'Line1\\rLine2' holds the control character U+000D",
         "other than tab and newline"),
        cases=set_cell("kenya_ngong_furniture", "cluster", '"Line1\rLine2"')),
    Bad("cr-at-end-of-text", VALIDATE, ("column 'country': value 'Kenya\\r' holds the control character U+000D",),
        cases=set_cell("kenya_ngong_furniture", "country", '"Kenya\r"')),
    Bad("bare-cr-as-old-writer-wrote", VALIDATE, ("{cases}: line 9: not a well-formed CSV", "check the quotes on that line"),
        cases=set_cell("kenya_ngong_furniture", "cluster", "Line1\rLine2")),
    Bad("escape-character", VALIDATE, ("column 'country': value 'Ken\\x1bya' holds the control character U+001B",),
        cases=set_cell("kenya_ngong_furniture", "country", "Ken\x1bya")),
    Bad("delete-character", VALIDATE, ("column 'cluster': value 'Ngong\\x7f' holds the control character U+007F",),
        cases=set_cell("kenya_ngong_furniture", "cluster", "Ngong\x7f")),
    Bad("c1-next-line", VALIDATE, ("column 'cluster': value 'Ngong\\x85' holds the control character U+0085",),
        cases=set_cell("kenya_ngong_furniture", "cluster", "Ngong\x85")),
    Bad("noncharacter-fffe", VALIDATE, ("column 'cluster': value 'Ngong\\ufffe' holds the control character U+FFFE",),
        cases=set_cell("kenya_ngong_furniture", "cluster", "Ngong\ufffe")),
    Bad("control-in-binary-named-once", VALIDATE, ("column 'growth': value '1\\x00' holds the control character U+0000",),
        cases=set_cell("kenya_ngong_furniture", "growth", "1\x00")),
    Bad("extra-cell", VALIDATE, ("{cases}: line 9: 20 cell(s); expected 19 as in the header",),
        cases=set_cell("kenya_ngong_furniture", "growth", "1,1")),
    Bad("missing-cell", VALIDATE, ("{cases}: line 9: 18 cell(s); expected 19 as in the header",),
        cases=lambda d: d.replace(b"kenya_ngong_furniture,Kenya,", b"kenya_ngong_furniture,")),
    Bad("unterminated-quote", VALIDATE, ("{cases}: line 9: not a well-formed CSV (unexpected end of data)",),
        cases=set_cell("kenya_ngong_furniture", "cluster", '"Ngong Furniture')),
    Bad("text-after-closing-quote", VALIDATE, ("{cases}: line 9: not a well-formed CSV", "check the quotes on that line"),
        cases=set_cell("kenya_ngong_furniture", "cluster", '"Ngong"Furniture')),
    Bad("line-after-blank-lines", VALIDATE,
        ("{cases}: line 12 (case 'kenya_ngong_furniture'), column 'growth': value 'yes' is not allowed",),
        cases=lambda d: insert_after(3, "\n\n")(set_cell("kenya_ngong_furniture", "growth", "yes")(d))),
    Bad("line-after-multiline-cell", VALIDATE,
        ("{cases}: line 11 (case 'kenya_ngong_furniture'), column 'growth': value 'yes' is not allowed",),
        cases=lambda d: set_cell("egypt_dormiatt_furniture_export", "cluster", '"Dormiatt\nFurniture\n(Export)"')(
            set_cell("kenya_ngong_furniture", "growth", "yes")(d))),
    Bad("duplicate-header", VALIDATE, ("{cases}: line 1: column 'growth' appears more than once in the header",),
        cases=lambda d: d.replace(b",upgrading,", b",growth,", 1)),
    Bad("byte-order-mark-keeps-lines", VALIDATE, ("{cases}: line 9 (case 'kenya_ngong_furniture'), column 'growth'",),
        cases=lambda d: b"\xef\xbb\xbf" + set_cell("kenya_ngong_furniture", "growth", "yes")(d)),
    Bad("windows-line-ends-keep-lines", VALIDATE, ("{cases}: line 9 (case 'kenya_ngong_furniture'), column 'growth'",),
        cases=lambda d: set_cell("kenya_ngong_furniture", "growth", "yes")(d).replace(b"\n", b"\r\n")),
    Bad("cases-file-missing", VALIDATE, ("{cases}: file not found",), setup=no_cases_file),
    Bad("cases-file-is-a-folder", VALIDATE, ("{cases}: cannot read it: it is a folder where a file is expected",),
        setup=cases_is_a_folder),
    Bad("unknown-study", ("validate", "--study", "no_such_study"), ("unknown study 'no_such_study'",)),
    Bad("stale-results-cannot-be-removed", ("validate", "--study", STUDY, "--invalidate"),
        ("{root}/results/african_clusters/reproduction.csv: cannot read or write it: permission denied; "
         "make it readable and writable for you",),
        setup=stale_results, fault=undeletable_results),
    Bad("stale-validated-copy-cannot-be-removed",
        ("validate", "--study", STUDY, "--out", "{root}/results/african_clusters/reproduction.csv"),
        ("column 'growth': value 'yes' is not allowed",
         "{root}/results/african_clusters/reproduction.csv: cannot remove it: permission denied"),
        cases=set_cell("kenya_ngong_furniture", "growth", "yes"), setup=stale_results, fault=undeletable_results),
    Bad("validated-copy-to-read-only-results", ("validate", "--study", STUDY, "--out", "{root}/results/validated.csv"),
        ("{root}/results/validated.csv: cannot write it: permission denied; make it writable",), fault=read_only_folder),
    Bad("validated-copy-under-a-file", ("validate", "--study", STUDY, "--out", "{root}/Snakefile/validated.csv"),
        ("{root}/Snakefile/validated.csv: cannot write it",)),
    Bad("log-file-under-a-file", ("--log", "{root}/Snakefile/run.log", "studies"), ("{root}/Snakefile/run.log: cannot write it",)),
    # ---- a study with integers and allowed missing values ------------------------------------
    Bad("integer-below-minimum", ("validate", "--study", "synthetic_survey"),
        ("line 2 (case 'synthetic_a'), column 'founded': value '1850' is not allowed; expected a whole number >= 1900 and <= 2030",),
        setup=synthetic_study("synthetic_a,A,1850,3,small\n")),
    Bad("integer-above-maximum", ("validate", "--study", "synthetic_survey"),
        ("line 3 (case 'synthetic_b'), column 'founded': value '2099' is not allowed",),
        setup=synthetic_study("synthetic_a,A,1950,3,small\nsynthetic_b,B,2099,3,large\n")),
    Bad("integer-with-decimals", ("validate", "--study", "synthetic_survey"), ("column 'firms': value '3.5' is not allowed",),
        setup=synthetic_study("synthetic_a,A,1950,3.5,small\n")),
    Bad("integer-as-words", ("validate", "--study", "synthetic_survey"),
        ("column 'firms': value 'three' is not allowed; expected a whole number >= 0 of at most 18 digits (or empty when missing)",),
        setup=synthetic_study("synthetic_a,A,1950,three,small\n")),
    Bad("integer-too-long-for-64-bits", ("validate", "--study", "synthetic_survey"),
        ("line 2 (case 'synthetic_a'), column 'firms': value '99999999999999999999' is not allowed; "
         "expected a whole number >= 0 of at most 18 digits",),
        setup=synthetic_study("synthetic_a,A,1950,99999999999999999999,small\n")),
    Bad("category-case-matters", ("validate", "--study", "synthetic_survey"),
        ("column 'size': value 'Small' is not allowed; expected one of small, large",),
        setup=synthetic_study("synthetic_a,A,1950,NA,Small\n")),
    # ---- a filled template, read by `add-case` -------------------------------------------------
    Bad("yaml-duplicate-key", **ADD_YAML, new=template() + b"growth: 0\n",
        expect=("{new}: line 20, field 'growth': given twice (first on line 8); keep one",)),
    Bad("yaml-bad-category-at-its-line", **ADD_YAML, new=template(growth="yes"),
        expect=(f"{{new}}: line {line_of('growth')}, field 'growth': value 'yes' is not allowed; expected one of 0, 1",)),
    Bad("yaml-syntax-error", **ADD_YAML, new=template(cluster="[Synthetic"),
        expect=("{new}: line 4, column 13: not a readable case template", "as `casemeta new-case` writes")),
    Bad("yaml-raw-control-character", **ADD_YAML, new=template(country="Synth\x01etica"),
        expect=("{new}: line 2: character U+0001 is not allowed in a YAML file",)),
    Bad("yaml-escaped-nul", **ADD_YAML, new=template(cluster='"Synthetic\\0Cluster"'),
        expect=(f"{{new}}: line {line_of('cluster')}, field 'cluster': value 'Synthetic\\x00Cluster' holds the control character U+0000",)),
    Bad("yaml-escaped-carriage-return", **ADD_YAML, new=template(cluster='"Line1\\rLine2"'),
        expect=(f"{{new}}: line {line_of('cluster')}, field 'cluster': value 'Line1\\rLine2' holds the control character U+000D",)),
    Bad("yaml-list-value", **ADD_YAML, new=template(country="[Synthetica, Other]"),
        expect=("{new}: line 2, field 'country': expected a single value, found a list",)),
    Bad("yaml-nested-value", **ADD_YAML, new=template(country="{name: Synthetica}"),
        expect=("{new}: line 2, field 'country': expected a single value, found nested fields",)),
    Bad("yaml-python-tag-is-not-run", **ADD_YAML,
        new=template(cluster='!!python/object/apply:os.system ["touch PWNED"]'),
        expect=("{new}: line 3, field 'cluster': expected a single value, found a list",)),
    Bad("yaml-two-documents", **ADD_YAML, new=template() + b"---\n" + template(),
        expect=("{new}: line 20, column 1: not a readable case template: but found another document",)),
    Bad("yaml-top-level-list", **ADD_YAML, new=b"- synthetic\n- case\n", expect=("{new}: expected a filled case template",)),
    Bad("yaml-empty", **ADD_YAML, new=b"", expect=("{new}: expected a filled case template",)),
    Bad("yaml-unknown-field", **ADD_YAML, new=template() + b"notes: x\n",
        expect=("{new}: line 20, field 'notes': not in the codebook; expected only case_id",)),
    Bad("yaml-missing-field", **ADD_YAML, new=template().replace(b"growth: 1\n", b""),
        expect=("{new}: field 'growth' is missing; the codebook requires it (one of 0, 1)",)),
    Bad("yaml-empty-field", **ADD_YAML, new=template(growth='""'),
        expect=(f"{{new}}: line {line_of('growth')}, field 'growth': the cell is empty; expected one of 0, 1",)),
    Bad("yaml-typed-true-is-not-1", **ADD_YAML, new=template(growth="true"),
        expect=("field 'growth': value 'true' is not allowed; expected one of 0, 1",)),
    Bad("yaml-non-utf8", **ADD_YAML, new=template(country="Synthética").decode().encode("latin-1"),
        expect=("{new}: line 2: bytes e9 are not UTF-8",)),
    Bad("yaml-id-already-coded", **ADD_YAML, new=template(case_id="kenya_ngong_furniture"),
        expect=("{new}: line 1, field 'case_id': case 'kenya_ngong_furniture' is already coded in {cases}",)),
    # ---- a CSV of new cases, read by `add-case` -------------------------------------------------
    Bad("csv-id-already-coded", ADD, new=new_csv({"case_id": "kenya_ngong_furniture"}),
        expect=("{new}: line 2 (case 'kenya_ngong_furniture'), column 'case_id': case 'kenya_ngong_furniture' is already coded in {cases}",)),
    Bad("csv-id-with-leading-space-already-coded", ADD, new=new_csv({}, {"case_id": " kenya_ngong_furniture"}),
        expect=("{new}: line 3 (case 'kenya_ngong_furniture'), column 'case_id': case 'kenya_ngong_furniture' is already coded",)),
    Bad("csv-duplicate-ids-in-new-file", ADD, new=new_csv({}, {"case_id": "synthetic_corpus_case "}),
        expect=("{new}: line 3 (case 'synthetic_corpus_case'), column 'case_id': value 'synthetic_corpus_case' is used by more than one case",)),
    Bad("csv-bad-value-after-blank-line", ADD,
        new=new_csv({}).replace(b"\n", b"\n\n", 1) + new_csv({"case_id": "synthetic_b", "growth": "2"}).split(b"\n", 1)[1],
        expect=("{new}: line 4 (case 'synthetic_b'), column 'growth': value '2' is not allowed",)),
    Bad("csv-carriage-return-in-quoted-value", ADD, new=new_csv({"cluster": '"Line1\rLine2"'}),
        expect=("{new}: line 2 (case 'synthetic_corpus_case'), column 'cluster': value 'Line1\\rLine2' holds the control character U+000D",)),
    Bad("csv-semicolons", ADD, new=new_csv({}, sep=";"), expect=("{new}: line 1: it looks separated by ';'",)),
    Bad("csv-non-utf8", ADD, new=new_csv({"country": "Synthética"}).decode().encode("cp1252"),
        expect=("{new}: line 2: bytes e9 are not UTF-8",)),
    Bad("csv-header-only", ADD, new=new_csv(), expect=("{new}: no cases to add",)),
    Bad("csv-unknown-column", ADD, new=new_csv({}).replace(b"support_external", b"support_externl"),
        expect=("{new}: line 1, column 'support_externl': not in the codebook", "{new}: column 'support_external' is missing")),
    Bad("new-file-missing", ("add-case", "--study", STUDY, "{root}/no_such_case.yaml"),
        expect=("{root}/no_such_case.yaml: file not found",)),
    Bad("new-file-is-a-folder", ("add-case", "--study", STUDY, "{root}/data"),
        expect=("{root}/data: cannot read it: it is a folder where a file is expected",)),
    Bad("add-to-unknown-study", ("add-case", "--study", "no_such_study", "{new}"), new=new_csv({}),
        expect=("unknown study 'no_such_study'",)),
    Bad("add-to-a-broken-file", ADD, new=new_csv({}), cases=set_cell("kenya_ngong_furniture", "growth", "yes"),
        expect=("{cases}: line 9 (case 'kenya_ngong_furniture'), column 'growth': value 'yes' is not allowed",)),
    # ---- faults while adding or recoding ----------------------------------------------------------
    Bad("add-lock-is-a-folder", ADD, new=new_csv({}), setup=lock_is_a_folder,
        expect=("{root}/data/coded/african_clusters/.cases.csv.lock: cannot lock it: it is a folder where a file is expected",)),
    Bad("add-lock-not-writable", ADD, new=new_csv({}), fault=unlockable,
        expect=("{root}/data/coded/african_clusters/.cases.csv.lock: cannot lock it: permission denied",)),
    Bad("add-on-full-disk", ADD, new=new_csv({}), fault=full_disk,
        # the provenance of the new cases is written first (a case is never without it)
        expect=("data/coded/african_clusters/provenance.csv: cannot write it: the disk is full; free some space, then run the command again",)),
    Bad("add-to-read-only-folder", ADD, new=new_csv({}), fault=read_only_folder,
        expect=("data/coded/african_clusters/provenance.csv: cannot write it: permission denied; make it writable",)),
    Bad("add-on-read-only-file-system", ADD, new=new_csv({}), fault=read_only_file_system,
        expect=("data/coded/african_clusters/provenance.csv: cannot write it: the file system is read-only",)),
    Bad("code-on-full-disk", ("code", "--study", STUDY), fault=full_disk, expect=("{cases}: cannot write it: the disk is full",)),
    Bad("code-lock-is-a-folder", ("code", "--study", STUDY), setup=lock_is_a_folder,
        expect=("{root}/data/coded/african_clusters/.cases.csv.lock: cannot lock it: it is a folder",)),
    Bad("code-refuses-a-broken-file", ("code", "--study", STUDY), cases=set_cell("kenya_ngong_furniture", "growth", "yes"),
        expect=("{cases}: line 9 (case 'kenya_ngong_furniture'), column 'growth': value 'yes' is not allowed",)),
    Bad("check-coding-broken-file", ("check-coding", "--study", STUDY, "--out", "{root}/results/ok.txt"),
        cases=lambda d: d.replace(b"kenya_ngong_furniture,", b"kenya_gikomba_furniture,"),
        expect=("{cases}: line 9 (case 'kenya_gikomba_furniture'), column 'case_id'",)),
    Bad("check-coding-out-read-only", ("check-coding", "--study", STUDY, "--out", "{root}/results/ok.txt"),
        fault=read_only_folder, expect=("{root}/results/ok.txt: cannot write it: permission denied",)),
    Bad("new-case-out-under-a-file", ("new-case", "--study", STUDY, "--out", "{root}/Snakefile/case.yaml"),
        expect=("{root}/Snakefile/case.yaml: cannot write it",)),
    Bad("new-case-out-read-only", ("new-case", "--study", STUDY, "--out", "{root}/case.yaml"), fault=read_only_folder,
        expect=("{root}/case.yaml: cannot write it: permission denied",)),
    # ---- coders' files for reliability ------------------------------------------------------------
    Bad("reliability-non-utf8", ("reliability", "{new}", f"{{root}}/{CASES}", "--out", "{root}/rel.csv"),
        new=new_csv({"country": "Synthética"}).decode().encode("latin-1"), expect=("{new}: line 2: bytes e9 are not UTF-8",)),
    Bad("reliability-missing-file", ("reliability", "{root}/coder_x.csv", f"{{root}}/{CASES}", "--out", "{root}/rel.csv"),
        expect=("{root}/coder_x.csv: file not found",)),
    Bad("reliability-ragged-file", ("reliability", "{new}", f"{{root}}/{CASES}", "--out", "{root}/rel.csv"),
        new=new_csv({}) + b"synthetic_b,1\n", expect=("{new}: line 3: 2 cell(s); expected 19 as in the header",)),
    Bad("reliability-out-read-only", ("reliability", f"{{root}}/{CASES}", f"{{root}}/{CASES}", "--out", "{root}/rel.csv"),
        fault=read_only_folder, expect=("{root}/rel.csv: cannot write it: permission denied",)),
]

# ---- `casemeta qca DATA`: every option checked by the plan schema's rules for its plan key ---------------
QCA_DATA = b"id,A,B,Y\nc1,1,0,1\nc2,0,1,0\nc3,1,1,1\n"


def qca(*options: str) -> tuple[str, ...]:
    return ("qca", "{new}", "--outcome", "Y", "--conditions", "A,B", *options, "--out", "{root}/results/qca")


def qca_bad(id: str, options: tuple[str, ...], expect: tuple[str, ...], data: bytes = QCA_DATA, **more) -> Bad:
    return Bad(id, qca(*options), expect, new=data, **more)


NFD_CAFE, NFC_CAFE = "cafe\u0301", "caf\u00e9"  # the same name to the eye: e + combining accent, and é
BCG = (Path(__file__).parent / "data" / "reference" / "meta_bcg.csv").read_bytes()  # 13 trials, 2 authors twice
BIG_CELL = "x" * 200_000  # above the csv module's field limit (131,072)
PLAN = "analysis/african_clusters.yaml"
PLAN_TEXT = (Path(__file__).resolve().parents[1] / PLAN).read_text(encoding="utf-8")


def plan_line(text: str) -> int:
    """The line of the shipped plan that starts (after indentation) with `text`."""
    return next(i for i, line in enumerate(PLAN_TEXT.split("\n"), 1) if line.strip().startswith(text))


def edit_plan(edit: Callable[[str], str]) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        path = root / PLAN
        path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    return setup


def edit_codebook(edit: Callable[[str], str]) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        path = root / "data/coded" / STUDY / "codebook.yaml"
        path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    return setup


ALIAS_BOMB = "".join(f"bomb{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * 9 if i else ["1"] * 9) + "]\n" for i in range(8))
CHECK = ("check", "--study", STUDY)
INCL = plan_line("incl_cut: 0.8")
CODERS = (("coder_a.csv", b"case_id,growth\nc1,1\nc2,0\n"), ("coder_b.csv", b"case_id,growth\nc1,1\nc2,1\n"))
RELIABILITY = ("reliability", "{root}/incoming/coder_a.csv", "{root}/incoming/coder_b.csv")


def symlink_to_coder(root: Path) -> None:
    (root / "results").mkdir(exist_ok=True)
    (root / "results" / "agreement.csv").symlink_to(root / "incoming" / "coder_a.csv")


FIT = ("fit", "{new}", "--formula", "y ~ x")
FIT_DATA = b"y,x\n1,0\n0,1\n1,1\n0,0\n"
POOL_COUNTS = ("pool", "{new}", "--stratum", "author", "--counts", "tpos,tneg,cpos,cneg", "--out", "{root}/results/pool.csv")
POOL_TRIALS = ("pool", "{new}", "--stratum", "trial", "--counts", "tpos,tneg,cpos,cneg", "--out", "{root}/results/pool.csv")
POOL_CASES = ("pool", "{new}", "--stratum", "s", "--condition", "x", "--outcome", "y", "--out", "{root}/results/pool.csv")

CORPUS += [
    qca_bad("qca-incl-cut-text", ("--incl-cut", "abc"), ("--incl-cut 'abc': 'abc' is not a number",)),
    qca_bad("qca-incl-cut-above-one", ("--incl-cut", "2"),
            ("--incl-cut '2': 2 is greater than the maximum of 1; expected a number from 0 to 1", "(as incl_cut in a plan)")),
    qca_bad("qca-incl-cut-negative", ("--incl-cut", "-0.1"), ("--incl-cut '-0.1': -0.1 is less than the minimum of 0",)),
    qca_bad("qca-incl-cut-nan", ("--incl-cut", "nan"), ("--incl-cut 'nan': nan is not a finite number",)),
    qca_bad("qca-incl-cut-infinity", ("--incl-cut", "Infinity"), ("--incl-cut 'Infinity': inf is not a finite number",)),
    qca_bad("qca-incl-cut-exclusion-nan", ("--incl-cut", "0.8,nan"), ("--incl-cut '0.8,nan': nan is not a finite number",)),
    qca_bad("qca-incl-cut-three-values", ("--incl-cut", "0.8,0.5,0.2"), ("--incl-cut '0.8,0.5,0.2': [0.8, 0.5, 0.2] is too long",)),
    qca_bad("qca-incl-cut-empty-second", ("--incl-cut", "0.8,"), ("--incl-cut '0.8,': '' is not a number",)),
    qca_bad("qca-pri-cut-inf", ("--pri-cut", "inf"), ("--pri-cut 'inf': inf is not a finite number; expected a number from 0 to 1",)),
    qca_bad("qca-pri-cut-above-one", ("--pri-cut", "1.5"), ("--pri-cut '1.5': 1.5 is greater than the maximum of 1",)),
    qca_bad("qca-pri-cut-comma-decimal", ("--pri-cut", "0,5"), ("--pri-cut '0,5': '0,5' is not a number",)),
    qca_bad("qca-n-cut-negative", ("--n-cut", "-5"),
            ("--n-cut '-5': -5 is less than the minimum of 1; expected a whole number 1 or more (as n_cut in a plan)",)),
    qca_bad("qca-n-cut-zero", ("--n-cut", "0"), ("--n-cut '0': 0 is less than the minimum of 1",)),
    qca_bad("qca-n-cut-fraction", ("--n-cut", "1.5"), ("--n-cut '1.5': 1.5 is not of type 'integer'",)),
    qca_bad("qca-n-cut-words", ("--n-cut", "two"), ("--n-cut 'two': 'two' is not a number",)),
    qca_bad("qca-calibrate-text-anchors", ("--calibrate", "A=a:b:c"), ("--calibrate 'A=a:b:c': 'a' is not a number",)),
    qca_bad("qca-calibrate-two-anchors", ("--calibrate", "A=0:1"), ("--calibrate 'A=0:1': [0, 1] is too short",)),
    qca_bad("qca-calibrate-crossover-outside", ("--calibrate", "A=0:2:1"),
            ("--calibrate 'A=0:2:1': A: anchors 0, 2, 1: the crossover must lie strictly between",)),
    qca_bad("qca-calibrate-infinite-anchor", ("--calibrate", "A=0:0.5:inf"), ("--calibrate 'A=0:0.5:inf': inf is not a finite number",)),
    qca_bad("qca-calibrate-no-equals", ("--calibrate", "A"), ("--calibrate 'A': 'A' is not NAME=VALUE",)),
    qca_bad("qca-calibrate-not-a-set", ("--calibrate", "Z=0:0.5:1"), ("--calibrate: 'Z': neither the outcome nor a condition",)),
    qca_bad("qca-dir-exp-two", ("--dir-exp", "A=2"), ("--dir-exp 'A=2': 2 is not one of [0, 1]",)),
    qca_bad("qca-dir-exp-not-a-condition", ("--dir-exp", "Q=1"), ("--dir-exp: 'Q': not among the conditions A, B",)),
    qca_bad("qca-dir-exp-twice", ("--dir-exp", "A=1,A=0"), ("--dir-exp 'A=1,A=0': 'A' is given twice; keep one",)),
    Bad("qca-outcome-among-conditions", ("qca", "{new}", "--outcome", "Y", "--conditions", "A,Y", "--out", "{root}/results/qca"),
        ("--conditions 'A,Y': the outcome 'Y' is among the conditions",), new=QCA_DATA),
    Bad("qca-condition-twice", ("qca", "{new}", "--outcome", "Y", "--conditions", "A,A", "--out", "{root}/results/qca"),
        ("--conditions 'A,A': 'A' given more than once",), new=QCA_DATA),
    Bad("qca-empty-condition-name", ("qca", "{new}", "--outcome", "Y", "--conditions", "A,,B", "--out", "{root}/results/qca"),
        ("--conditions 'A,,B': an empty column name",), new=QCA_DATA),
    Bad("qca-unknown-condition", ("qca", "{new}", "--outcome", "Y", "--conditions", "A,C", "--out", "{root}/results/qca"),
        ("{new}: no column 'C' (--outcome, --conditions); the columns are id, A, B, Y",), new=QCA_DATA),
    Bad("qca-condition-in-other-unicode-normalisation",
        ("qca", "{new}", "--outcome", "Y", "--conditions", f"A,{NFC_CAFE}", "--out", "{root}/results/qca"),
        (f"{{new}}: no column '{NFC_CAFE}'", "but is encoded differently (Unicode normalisation NFC vs NFD)"),
        new=f"id,A,{NFD_CAFE},Y\nc1,1,0,1\n".encode()),
    qca_bad("qca-unknown-id-column", ("--id", "name"), ("{new}: no column 'name' (--id); the columns are id, A, B, Y",)),
    qca_bad("qca-empty-file", (), ("{new}: the file is empty; expected a header line",), data=b""),
    qca_bad("qca-duplicate-case", (), ("{new}: line 3, column 'id': case 'c1' is given twice (first on line 2); expected one row per case",),
            data=b"id,A,B,Y\nc1,1,0,1\nc1,0,1,0\n"),
    qca_bad("qca-duplicate-case-by-spaces", (), ("{new}: line 3, column 'id': case 'c1' is given twice",),
            data=b"id,A,B,Y\nc1,1,0,1\n c1 ,0,1,0\n"),
    qca_bad("qca-blank-case-name", (), ("{new}: line 3, column 'id': the case's name is empty",), data=b"id,A,B,Y\nc1,1,0,1\n,0,1,0\n"),
    qca_bad("qca-nul-in-case-name", (), ("{new}: line 2, column 'id': value 'c\\x001' holds the control character U+0000",),
            data=b"id,A,B,Y\nc\x001,1,0,1\nc2,0,1,0\n"),
    qca_bad("qca-membership-above-one", (), ("1 value(s) are not set memberships", "case c2: B = 2"), data=b"id,A,B,Y\nc1,1,0,1\nc2,0,2,0\n"),
    qca_bad("qca-membership-words", (), ("case c1: A = yes",), data=b"id,A,B,Y\nc1,yes,0,1\nc2,0,1,0\n"),
    qca_bad("qca-membership-nan", (), ("case c1: A = nan",), data=b"id,A,B,Y\nc1,nan,0,1\nc2,0,1,0\n"),
    qca_bad("qca-semicolons", (), ("{new}: line 1: it looks separated by ';'",), data=b"id;A;B;Y\nc1;1;0;1\n"),
    qca_bad("qca-oversized-cell", (), ("{new}: line 2: a cell holds more than 131,072 characters", "check the quotes"),
            data=f'id,A,B,Y\n"c1{BIG_CELL},1,0,1\n'.encode()),
    Bad("qca-out-folder-holds-the-input", ("qca", "{root}/incoming/truth_table.csv", "--outcome", "Y", "--conditions", "A,B",
                                            "--out", "{root}/incoming"),
        ("--out {root}/incoming/truth_table.csv: it is also read by this command (input {root}/incoming/truth_table.csv)",),
        files=(("truth_table.csv", QCA_DATA),)),
    # ---- reliability: a coder's file is never written over ---------------------------------------
    Bad("reliability-out-is-a-coders-file", (*RELIABILITY, "--out", "{root}/incoming/coder_a.csv"),
        ("--out {root}/incoming/coder_a.csv: it is also read by this command (input {root}/incoming/coder_a.csv)",), files=CODERS),
    Bad("reliability-disagreements-is-a-coders-file",
        (*RELIABILITY, "--out", "{root}/results/r.csv", "--disagreements", "{root}/incoming/coder_b.csv"),
        ("--disagreements {root}/incoming/coder_b.csv: it is also read by this command",), files=CODERS),
    Bad("reliability-disagreements-same-as-out",
        (*RELIABILITY, "--out", "{root}/results/r.csv", "--disagreements", "{root}/results/r.csv"),
        ("--disagreements {root}/results/r.csv: the same file as --out {root}/results/r.csv",), files=CODERS),
    Bad("reliability-default-disagreements-is-a-coders-file",
        ("reliability", "{root}/incoming/coder_a.csv", "{root}/incoming/coder_b_disagreements.csv", "--out", "{root}/incoming/coder_b.csv"),
        ("--disagreements (default) {root}/incoming/coder_b_disagreements.csv: it is also read by this command",),
        files=(CODERS[0], ("coder_b_disagreements.csv", CODERS[1][1]))),
    Bad("reliability-out-through-a-symlink", (*RELIABILITY, "--out", "{root}/results/agreement.csv"),
        ("--out {root}/results/agreement.csv: it is also read by this command (input {root}/incoming/coder_a.csv)",),
        files=CODERS, setup=symlink_to_coder),
    Bad("reliability-out-by-another-spelling", (*RELIABILITY, "--out", "{root}/incoming/../incoming/./coder_b.csv"),
        ("it is also read by this command (input {root}/incoming/coder_b.csv)",), files=CODERS),
    Bad("reliability-out-into-data", (*RELIABILITY, "--out", f"{{root}}/data/coded/{STUDY}/agreement.csv"),
        ("inside the project's data/; reliability never writes there",), files=CODERS),
    Bad("reliability-out-over-the-plan", (*RELIABILITY, "--out", f"{{root}}/{PLAN}"),
        ("inside the project's analysis/; reliability never writes there",), files=CODERS),
    Bad("reliability-one-coder", ("reliability", "{root}/incoming/coder_a.csv", "--out", "{root}/results/r.csv"),
        ("reliability needs at least two coders' files",), files=CODERS),
    Bad("reliability-case-coded-twice", (*RELIABILITY, "--out", "{root}/results/r.csv"),
        ("{root}/incoming/coder_b.csv: case(s) coded twice in one coder's file: c1",),
        files=(CODERS[0], ("coder_b.csv", b"case_id,growth\nc1,1\nc1,0\n"))),
    Bad("reliability-oversized-cell", (*RELIABILITY, "--out", "{root}/results/r.csv"),
        ("{root}/incoming/coder_b.csv: line 3: a cell holds more than 131,072 characters",),
        files=(CODERS[0], ("coder_b.csv", f"case_id,growth\nc1,1\nc2,{BIG_CELL}\n".encode()))),
    Bad("reliability-id-in-other-unicode-normalisation",
        ("reliability", "{root}/incoming/coder_a.csv", "{root}/incoming/coder_b.csv", "--id", NFC_CAFE, "--out", "{root}/results/r.csv"),
        (f"{{root}}/incoming/coder_a.csv: no '{NFC_CAFE}' column",),
        files=(("coder_a.csv", f"{NFD_CAFE},growth\nc1,1\n".encode()), ("coder_b.csv", f"{NFD_CAFE},growth\nc1,1\n".encode()))),
    # ---- study names and the results a step clears ------------------------------------------------
    Bad("invalidate-outside-results", ("validate", "--study", "../coded/african_clusters", "--invalidate"),
        ("--study '../coded/african_clusters': not a study name; expected a plain name",)),
    Bad("clear-outside-results", ("clear", "--study", "../coded/african_clusters", "validate"),
        ("--study '../coded/african_clusters': not a study name",)),
    Bad("study-absolute-path", ("check", "--study", "/etc"), ("--study '/etc': not a study name",)),
    Bad("study-capitals", ("validate", "--study", "African_Clusters"), ("--study 'African_Clusters': not a study name",)),
    Bad("study-trailing-space", ("validate", "--study", "african_clusters "), ("--study 'african_clusters ': not a study name",)),
    Bad("synthesize-study-path", ("synthesize", "--studies", "african_clusters,../coded/pipkin_fuentes"),
        ("--studies '../coded/pipkin_fuentes': not a study name",)),
    Bad("validate-out-over-the-plan", ("validate", "--study", STUDY, "--out", f"{{root}}/{PLAN}"),
        ("inside the project's analysis/; validate never writes there",)),
    Bad("derive-out-is-its-input", ("derive", "--study", STUDY, "--cases", "{root}/results/v.csv", "--out", "{root}/results/v.csv"),
        ("--out {root}/results/v.csv: it is also read by this command (--cases {root}/results/v.csv)",)),
    Bad("reproduce-two-outputs-one-file",
        ("reproduce", "--study", STUDY, "--derived", "{root}/results/d.csv", "--out", "{root}/results/r.csv",
         "--checks", "{root}/results/r.csv", "--report", "{root}/results/r.md"),
        ("--checks {root}/results/r.csv: the same file as --out {root}/results/r.csv",)),
    Bad("log-into-data", ("--log", "{root}/data/run.log", "studies"), ("--log {root}/data/run.log: inside the project's data/",)),
    Bad("log-over-the-input", ("--log", "{new}", *ADD), ("--log {new}: it is also read by this command (input {new})",), new=new_csv({})),
    # ---- fit and models: options by the plan's rules ------------------------------------------------
    Bad("fit-out-is-its-data", (*FIT, "--out", "{new}"), ("--out {new}: it is also read by this command (input {new})",), new=FIT_DATA),
    Bad("fit-table-same-as-out", (*FIT, "--out", "{root}/results/fit.md", "--table", "{root}/results/fit.md"),
        ("--table {root}/results/fit.md: the same file as --out {root}/results/fit.md",), new=FIT_DATA),
    Bad("fit-method-unknown", (*FIT, "--method", "bayes", "--out", "{root}/results/fit.csv"),
        ("--method 'bayes': 'bayes' is not one of ['ml', 'firth', 'auto']; expected one of ml, firth, auto (as method in a plan)",),
        new=FIT_DATA),
    Bad("fit-correction-unknown", (*FIT, "--correction", "FLIC", "--out", "{root}/results/fit.csv"),
        ("--correction 'FLIC': 'FLIC' is not one of ['none', 'flic', 'flac']",), new=FIT_DATA),
    Bad("fit-empty-file", (*FIT, "--out", "{root}/results/fit.csv"), ("{new}: the file is empty",), new=b""),
    Bad("models-draws-zero", ("models", "--study", STUDY, "--draws", "0"), ("--draws '0': 0 is less than the minimum of 1",)),
    Bad("models-draws-nan", ("models", "--study", STUDY, "--draws", "nan"), ("--draws 'nan': nan is not a finite number",)),
    Bad("models-seed-negative", ("models", "--study", STUDY, "--seed", "-1"), ("--seed '-1': -1 is less than the minimum of 0",)),
    Bad("models-seed-too-large", ("models", "--study", STUDY, "--seed", "99999999999"),
        ("--seed '99999999999': 99999999999 is greater than the maximum of 4294967295",)),
    # ---- pool: strata named, once each ---------------------------------------------------------------
    Bad("pool-counts-author-twice", POOL_COUNTS,
        ("{new}, column author: 2 stratum name(s) are on more than one row", "'Rosenthal et al' on lines 4, 11",
         "'Comstock et al' on lines 12, 14"), new=BCG),
    Bad("pool-counts-blank-stratum", POOL_COUNTS, ("{new}, line(s) 3, column author: the stratum is blank",),
        new=BCG.replace(b'"Ferguson & Simes"', b'" "')),
    Bad("pool-cases-blank-stratum", POOL_CASES, ("{new}, line(s) 3, column s: the stratum is blank",),
        new=b"s,x,y\na,1,0\n,0,1\nb,1,1\n"),
    Bad("pool-counts-three-columns", ("pool", "{new}", "--stratum", "author", "--counts", "tpos,tneg,cpos", "--out", "{root}/results/p.csv"),
        ("--counts needs four columns A,B,C,D",), new=BCG),
    Bad("pool-count-infinite", POOL_TRIALS, ("{new}, line 2, column tpos: 'inf' is not a count",),
        new=BCG.replace(b'"Aronson",1948,4,', b'"Aronson",1948,inf,')),
    Bad("pool-count-negative", POOL_TRIALS, ("{new}, line 2, column tpos: '-4' is not a count",),
        new=BCG.replace(b'"Aronson",1948,4,', b'"Aronson",1948,-4,')),
    Bad("pool-stratum-in-other-unicode-normalisation",
        ("pool", "{new}", "--stratum", NFC_CAFE, "--condition", "x", "--outcome", "y", "--out", "{root}/results/p.csv"),
        (f"{{new}}: no column '{NFC_CAFE}'", "encoded differently (Unicode normalisation NFC vs NFD)"),
        new=f"{NFD_CAFE},x,y\na,1,0\n".encode()),
    Bad("pool-out-is-its-data", ("pool", "{new}", "--stratum", "s", "--condition", "x", "--outcome", "y", "--out", "{new}"),
        ("--out {new}: it is also read by this command",), new=b"s,x,y\na,1,0\n"),
    Bad("pool-oversized-cell", POOL_CASES, ("{new}: line 2: a cell holds more than 131,072 characters",),
        new=f"s,x,y\n{BIG_CELL},1,0\n".encode()),
    # ---- the analysis plan and the codebook: YAML read strictly ---------------------------------------
    Bad("plan-incl-cut-nan", CHECK, (f"{{root}}/{PLAN}: the analysis plan does not follow the plan schema",
                                     f"line {INCL}, at qca/0/incl_cut: nan is not a finite number"),
        setup=edit_plan(lambda t: t.replace("incl_cut: 0.8", "incl_cut: .nan", 1))),
    Bad("plan-incl-cut-inf", CHECK, (f"line {INCL}, at qca/0/incl_cut: inf is not a finite number",),
        setup=edit_plan(lambda t: t.replace("incl_cut: 0.8", "incl_cut: .inf", 1))),
    Bad("plan-incl-cut-above-one", CHECK, (f"line {INCL}, at qca/0/incl_cut: 2 is greater than the maximum of 1",),
        setup=edit_plan(lambda t: t.replace("incl_cut: 0.8", "incl_cut: 2", 1))),
    Bad("plan-models-twice", CHECK,
        (f"{{root}}/{PLAN}: line {len(PLAN_TEXT.splitlines()) + 1}: not a readable YAML analysis plan: key 'models' is given "
         f"twice (first on line {plan_line('models:')}); keep one",),
        setup=edit_plan(lambda t: t + "models:\n  method: ml\n")),
    Bad("plan-study-twice", CHECK,
        (f"key 'study' is given twice (first on line {plan_line('study:')})",),
        setup=edit_plan(lambda t: t + "study: african_clusters\n")),
    Bad("plan-alias-bomb", CHECK, (f"{{root}}/{PLAN}: line 1: its aliases (*name) expand to more than 100,000 values",),
        setup=edit_plan(lambda t: ALIAS_BOMB + t)),
    Bad("plan-alias-loop", CHECK, ("expand to more than 100,000 values (or into a loop)",),
        setup=edit_plan(lambda t: "loop: &loop [*loop]\n" + t)),
    Bad("plan-loo-max-cases-inf", CHECK, ("at models/loo_max_cases: inf is not a finite number",),
        setup=edit_plan(lambda t: t.replace("models:\n", "models:\n  loo_max_cases: .inf\n", 1))),
    Bad("plan-calibrate-nan", CHECK, ("at qca/0/calibrate/n_external_economies/1: nan is not a finite number",),
        setup=edit_plan(lambda t: t.replace("[0, 1.5, 4]", "[0, .nan, 4]", 1))),
    Bad("codebook-key-twice", CHECK, ("codebook.yaml: line", "key 'title' is given twice"),
        setup=edit_codebook(lambda t: t + "title: Again\n")),
    Bad("codebook-alias-bomb", CHECK, ("codebook.yaml: line 1: its aliases (*name) expand to more than 100,000 values",),
        setup=edit_codebook(lambda t: ALIAS_BOMB + t)),
    # ---- YAML null markers and non-finite numbers in case files -----------------------------------------
    Bad("tilde-in-binary-cell", VALIDATE, ("column 'growth': value '~' is not allowed; expected one of 0, 1",),
        cases=set_cell("kenya_ngong_furniture", "growth", "~")),
    Bad("yaml-tilde-in-binary", **ADD_YAML, new=template(growth="~"),
        expect=(f"{{new}}: line {line_of('growth')}, field 'growth': value '~' is not allowed; expected one of 0, 1",)),
    Bad("yaml-null-in-binary", **ADD_YAML, new=template(growth="null"),
        expect=(f"{{new}}: line {line_of('growth')}, field 'growth': value 'null' is not allowed",)),
    Bad("yaml-nan-in-binary", **ADD_YAML, new=template(growth=".nan"), expect=("field 'growth': value '.nan' is not allowed",)),
    Bad("integer-nan", ("validate", "--study", "synthetic_survey"), ("column 'firms': value 'nan' is not allowed",),
        setup=synthetic_study("synthetic_a,A,1950,nan,small\n")),
    Bad("integer-infinity", ("validate", "--study", "synthetic_survey"), ("column 'founded': value 'inf' is not allowed",),
        setup=synthetic_study("synthetic_a,A,inf,3,small\n")),
    Bad("integer-tilde", ("validate", "--study", "synthetic_survey"), ("column 'firms': value '~' is not allowed",),
        setup=synthetic_study("synthetic_a,A,1950,~,small\n")),
    Bad("oversized-cell-in-cases", VALIDATE, ("{cases}: line 9: a cell holds more than 131,072 characters",),
        cases=set_cell("kenya_ngong_furniture", "cluster", BIG_CELL)),
    Bad("oversized-cell-from-unclosed-quote", ADD, new=new_csv({"cluster": '"Synthetic'}) + f"{BIG_CELL}\n".encode(),
        expect=("{new}: line 2: a cell holds more than 131,072 characters", "an unclosed quote")),
    # ---- issue 20, what was left: no stale result, every option and path checked, bounded work ----------
    Bad("add-case-while-snakemake-runs", **ADD_YAML, new=template(), fault=workflow_running,
        expect=(f"error: {CASES}: a workflow run is under way in this project: snakemake (process ",
                ": snakemake --cores 2). It reads the coded data", "nothing was changed",
                "Run `casemeta add-case` again when that run has finished")),
    Bad("code-while-snakemake-runs", ("code", "--study", STUDY), fault=workflow_running,
        expect=(f"error: {CASES}: a workflow run is under way in this project: snakemake (process ",
                "Run `casemeta code` again when that run has finished")),
    Bad("export-format-unknown", ("export", "--study", STUDY, "--format", "pdf"),
        ("--format 'pdf': 'pdf' is not one of ['latex', 'markdown', 'html', 'csv', 'docx', 'xlsx', 'all']; expected one of "
         "latex, markdown, html, csv, docx, xlsx, all",)),
    Bad("export-format-empty", ("export", "--study", STUDY, "--format", ""), ("--format '': '' is not one of",)),
    Bad("export-results-in-data", ("export", "--study", STUDY, "--format", "csv", "--results", "{root}/data/coded"),
        ("--results {root}/data/coded: inside the project's data/; export never writes there",)),
    Bad("export-results-is-data-by-dotdot", ("export", "--study", STUDY, "--format", "all", "--results", "{root}/results/../data"),
        ("--results {root}/results/../data: inside the project's data/",)),
    Bad("figures-results-in-analysis", ("figures", "--study", STUDY, "--results", "{root}/analysis"),
        ("--results {root}/analysis: inside the project's analysis/; figures never writes there",)),
    Bad("new-case-format-unknown", ("new-case", "--study", STUDY, "--format", "docx", "--out", "{root}/results/t.docx"),
        ("--format 'docx': 'docx' is not one of ['yaml', 'xlsx']; expected one of yaml, xlsx",)),
    Bad("new-case-cases-not-a-number", ("new-case", "--study", STUDY, "--cases", "ten", "--out", "{root}/results/f.xlsx"),
        ("--cases 'ten': 'ten' is not a number",)),
    Bad("new-case-cases-zero", ("new-case", "--study", STUDY, "--cases", "0", "--out", "{root}/results/f.xlsx"),
        ("--cases '0': 0 is less than the minimum of 1; expected a whole number from 1 to 10000",)),
    Bad("fit-interval-unknown", (*FIT, "--interval", "exact", "--out", "{root}/results/fit.csv"),
        ("--interval 'exact': 'exact' is not one of ['profile', 'wald']; expected one of profile, wald",), new=FIT_DATA),
    Bad("clear-unknown-step", ("clear", "--study", STUDY, "everything"),
        ("step 'everything': 'everything' is not one of ['validate',",)),
    Bad("qca-superset-too-many-conditions",
        ("qca", "{new}", "--outcome", "Y", "--conditions", ",".join(f"C{i}" for i in range(11)), "--superset",
         "--out", "{root}/results/qca"),
        ("superset search of necessity (--superset, or superset: true in the plan) with 11 conditions: 177,146 "
         "conjunctions to test (3^11 - 1), over the limit of 59,048 (at most 10 conditions)",),
        new=("id,Y," + ",".join(f"C{i}" for i in range(11)) + "\n"
             + "".join(f"k{i},{i % 2}," + ",".join(str((i >> j) & 1) for j in range(11)) + "\n" for i in range(12))).encode()),
]


def coded_files(root: Path) -> dict[str, bytes]:
    """Every input a command may read, byte for byte: data/ (coded and raw), the analysis plans and the files
    given to the command (incoming/), less the empty lock files (kernel locks leave their file behind, empty)."""
    files = {f"{part}/{k}": v for part in ("data", "analysis", "incoming") for k, v in snapshot(root / part).items()}
    locks = {k: v for k, v in files.items() if Path(k).name.endswith(".lock")}
    assert all(v == b"" for v in locks.values())
    return {k: v for k, v in files.items() if k not in locks}


def _prepare(bad: Bad, root: Path) -> tuple[list[str], dict[str, str]]:
    new = root / "incoming" / f"case{bad.suffix}"
    names = {"root": str(root), "new": str(new), "cases": str(root / CASES)}
    if bad.new is not None or bad.files:
        new.parent.mkdir()
    if bad.new is not None:
        new.write_bytes(bad.new)
    for name, content in bad.files:
        (new.parent / name).write_bytes(content)
    if bad.cases is not None:
        path = root / CASES
        path.write_bytes(bad.cases(path.read_bytes()))
    if bad.setup is not None:
        bad.setup(root)
    return [a.format(**names) for a in bad.argv], names


def test_the_corpus_is_large_enough():
    assert len(CORPUS) + len(TYPED_AS_WRITTEN) >= 150
    assert len({b.id for b in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("bad", CORPUS, ids=[b.id for b in CORPUS])
def test_bad_input_gets_a_clear_error_and_changes_nothing(bad, project, monkeypatch, capsys):
    argv, names = _prepare(bad, project)
    before = coded_files(project)
    monkeypatch.chdir(project)  # nothing may land in the current folder either (PWNED)
    with monkeypatch.context() as mp:
        if bad.fault is not None:
            bad.fault(mp, project)
        code = main(["--root", str(project), *argv])
    err = capsys.readouterr().err
    assert code == bad.code, err
    assert "casemeta: error: " in err, err
    for text in bad.expect:
        assert text.format(**names) in err, err
    assert "Traceback" not in err
    assert coded_files(project) == before
    assert not (project / "PWNED").exists()


# YAML 1.1 would store these as false, 511, 31, 1.1, 90, None, a date, true, ...: each must stay as typed.
TYPED_AS_WRITTEN = ["NO", "no", "0777", "0x1f", "1.10", "1:30", "~", "null", "2001-01-01", "yes", "on", "1e3", ".inf", "+1"]


@pytest.mark.parametrize("typed", TYPED_AS_WRITTEN)
def test_a_template_keeps_what_was_typed(typed, project, capsys):
    path = project / "case.yaml"
    path.write_bytes(template(country=typed, cluster=f"Synthetic {typed}"))
    before = (project / CASES).read_bytes()
    assert main(["--root", str(project), "add-case", "--study", STUDY, str(path)]) == 0, capsys.readouterr().err
    row = ",".join({**SYNTHETIC, "country": typed, "cluster": f"Synthetic {typed}"}.values()) + "\n"
    assert (project / CASES).read_bytes() == before + row.encode()


SUBPROCESS = ["add-lock-is-a-folder", "yaml-raw-control-character", "bare-cr-as-old-writer-wrote", "cases-file-is-a-folder",
              "log-file-under-a-file", "yaml-python-tag-is-not-run"]


@pytest.mark.parametrize("bad", [b for b in CORPUS if b.id in SUBPROCESS], ids=lambda b: b.id)
def test_the_command_prints_one_message_and_no_traceback(bad, project):
    """The installed command, not main(): what a researcher sees on the terminal."""
    argv, names = _prepare(bad, project)
    before = coded_files(project)
    done = subprocess.run([sys.executable, "-m", "casemeta.cli", "--root", str(project), *argv],
                          capture_output=True, text=True, cwd=project, timeout=120)
    assert done.returncode == bad.code
    assert done.stderr.startswith("casemeta: error: ")
    assert bad.expect[0].format(**names) in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert coded_files(project) == before


FORMULA_CODER = b'case_id,growth,notes\nc1,1,"=HYPERLINK(""http://example.invalid"",""x"")"\nc2,0,@SUM(A1)\n'


def test_disagreements_are_safe_to_open_in_a_spreadsheet(project, capsys):
    """Coders' text goes into the disagreements file as typed; a cell a spreadsheet would run is neutralised."""
    incoming = project / "incoming"
    incoming.mkdir()
    (incoming / "a.csv").write_bytes(FORMULA_CODER)
    (incoming / "b.csv").write_bytes(b"case_id,growth,notes\nc1,0,plain\nc2,1,-cmd\n")
    out = project / "results" / "agreement.csv"
    assert main(["--root", str(project), "reliability", str(incoming / "a.csv"), str(incoming / "b.csv"),
                 "--out", str(out)]) == 0, capsys.readouterr().err
    text = (project / "results" / "agreement_disagreements.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK(" in text and "'@SUM(A1)" in text and "'-cmd" in text
    assert '\n=HYPERLINK' not in text and ",=HYPERLINK" not in text and ",@SUM" not in text


def test_qca_truth_table_neutralises_a_formula_case_name(project, capsys):
    data = project / "qca.csv"
    data.write_bytes(b'id,A,B,Y\n"=HYPERLINK(""http://example.invalid"")",1,0,1\nc2,0,1,0\n')
    out = project / "results" / "qca"
    assert main(["--root", str(project), "qca", str(data), "--outcome", "Y", "--conditions", "A,B", "--out", str(out)]) == 0, \
        capsys.readouterr().err
    text = (out / "truth_table.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK(" in text and ",=HYPERLINK" not in text and ',"=HYPERLINK' not in text
