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
                                   lambda path, *a, **k: str(path).endswith(".lock"), real))


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
        expect=("{cases}: cannot write it: the disk is full; free some space, then run the command again",)),
    Bad("add-to-read-only-folder", ADD, new=new_csv({}), fault=read_only_folder,
        expect=("{cases}: cannot write it: permission denied; make it writable",)),
    Bad("add-on-read-only-file-system", ADD, new=new_csv({}), fault=read_only_file_system,
        expect=("{cases}: cannot write it: the file system is read-only",)),
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


def coded_files(root: Path) -> dict[str, bytes]:
    """data/coded/ byte for byte, less the empty lock files (kernel locks leave their file behind, empty)."""
    files = snapshot(root / "data" / "coded")
    locks = {k: v for k, v in files.items() if Path(k).name.endswith(".lock")}
    assert all(v == b"" for v in locks.values())
    return {k: v for k, v in files.items() if k not in locks}


def _prepare(bad: Bad, root: Path) -> tuple[list[str], dict[str, str]]:
    new = root / "incoming" / f"case{bad.suffix}"
    names = {"root": str(root), "new": str(new), "cases": str(root / CASES)}
    if bad.new is not None:
        new.parent.mkdir()
        new.write_bytes(bad.new)
    if bad.cases is not None:
        path = root / CASES
        path.write_bytes(bad.cases(path.read_bytes()))
    if bad.setup is not None:
        bad.setup(root)
    return [a.format(**names) for a in bad.argv], names


def test_the_corpus_is_large_enough():
    assert len(CORPUS) + len(TYPED_AS_WRITTEN) >= 60
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


@pytest.mark.parametrize("bad", [b for b in CORPUS if b.id in SUBPROCESS], ids=SUBPROCESS)
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
