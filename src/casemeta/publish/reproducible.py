"""One date for every file the publication writers make, so that the same inputs give the same bytes.

A PDF, Word or Excel file records when it was made: matplotlib writes the PDF's /CreationDate,
openpyxl the workbook's created and modified dates, and Word and Excel files are zip containers
whose every entry carries the time it was written. Left alone, two runs of the same inputs give
files that differ in those bytes only, and a reader cannot check a published table by its checksum.
Every such date is therefore `build_date()`: SOURCE_DATE_EPOCH (seconds since 1970-01-01 UTC, the
reproducible-builds convention) if it is set, else 1980-01-01 00:00:00 UTC, the earliest time a zip
entry can hold. Figures (PNG and PDF) and Word and Excel files are written only through this module's
helpers (`figure_metadata`, `save_docx`, `save_xlsx`).
"""

from __future__ import annotations

import io
import os
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from lxml import etree  # python-docx's own XML library, installed with it

from casemeta.errors import CasemetaError

ZIP_EPOCH = datetime(1980, 1, 1, tzinfo=timezone.utc)  # a zip entry's time cannot be earlier (MS-DOS dates)
CORE_PART = "docProps/core.xml"  # the package's core properties (title, creator, dates) in Word and Excel files
DCTERMS = "{http://purl.org/dc/terms/}"


def build_date() -> datetime:
    """SOURCE_DATE_EPOCH as an aware UTC datetime, or 1980-01-01 00:00:00 UTC when it is not set."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return ZIP_EPOCH
    if not value.isdigit():
        raise CasemetaError(f"environment variable SOURCE_DATE_EPOCH: value {value!r} is not a date; "
                            "expected a whole number of seconds since 1970-01-01 00:00:00 UTC, e.g. 1704067200")
    return datetime.fromtimestamp(int(value), tz=timezone.utc)


def figure_metadata(fmt: str) -> dict | None:
    """savefig's `metadata` for a figure file: a PDF's /CreationDate is the build date (matplotlib would
    write the time of the run); a PNG keeps matplotlib's own (its version only, no time)."""
    return {"CreationDate": build_date()} if fmt == "pdf" else None


def _w3cdtf(date: datetime) -> str:
    return date.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fix_dates(path: Path) -> None:
    """Rewrite the Word or Excel file at `path` with the build date as the created and modified dates
    of its core properties and as the time of every zip entry (entries in their order, compressed as
    before).

    Written here rather than through the libraries: python-docx and openpyxl pass member names to
    ZipFile.writestr, which stamps the current time, and openpyxl sets `modified` to now inside
    `save` whatever the workbook says; neither offers a setting for either."""
    date = build_date()
    stamp = max(date, ZIP_EPOCH).astimezone(timezone.utc).timetuple()[:6]
    source = io.BytesIO(path.read_bytes())
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(path, "w") as new:
        for item in old.infolist():
            data = old.read(item)
            if item.filename == CORE_PART:
                data = _core_dates(data, _w3cdtf(date))
            entry = zipfile.ZipInfo(item.filename, date_time=stamp)
            entry.compress_type = item.compress_type
            entry.create_system = 3  # Unix, whatever system wrote it
            entry.external_attr = 0o644 << 16
            new.writestr(entry, data)


def _core_dates(xml: bytes, when: str) -> bytes:
    """docProps/core.xml with dcterms:created and dcterms:modified set to `when` (added if absent)."""
    root = etree.fromstring(xml)
    xsi_type = "{http://www.w3.org/2001/XMLSchema-instance}type"
    for name in ("created", "modified"):
        element = root.find(f"{DCTERMS}{name}")
        if element is None:
            element = etree.SubElement(root, f"{DCTERMS}{name}", nsmap={"dcterms": DCTERMS[1:-1]})
        element.set(xsi_type, "dcterms:W3CDTF")
        element.text = when
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def save_docx(document, path: Path) -> None:
    """python-docx `document.save(path)`, then the build date everywhere in the file."""
    document.save(path)
    fix_dates(Path(path))


def save_xlsx(book, path: Path) -> None:
    """openpyxl `book.save(path)`, then the build date everywhere in the file."""
    book.save(path)
    fix_dates(Path(path))
