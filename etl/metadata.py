"""Reader for CORD-19's ``metadata.csv`` in every schema era.

Eras seen in the published releases:

* March 2020: no ``cord_uid``; ``Microsoft Academic Paper ID``, ``WHO #Covidence``,
  ``has_full_text``, ``full_text_file`` (15 columns);
* April 2020: ``cord_uid`` first; ``has_pdf_parse``/``has_pmc_xml_parse`` (18 columns);
* final (2020-06 onwards): 19 columns with ``mag_id``, ``who_covidence_id``, ``arxiv_id``,
  ``pdf_json_files``, ``pmc_json_files``, ``s2_id``.

Headers are mapped to the final column names, so later steps see one schema. A row whose
number of fields differs from the header's is reported (file, row and physical line) and
skipped; the rest of the file is read.

>>> import io
>>> text = 'sha,title,Microsoft Academic Paper ID\\nabc,A title,42\\nbad,row\\n'
>>> r = Report()
>>> [(row.row, row.fields["title"], row.fields["mag_id"]) for row in iter_rows(io.StringIO(text), "m.csv", r)]
[(1, 'A title', '42')]
>>> print(r.format_summary())
rejected 1 record(s):
  csv-field-count: 1 (e.g. m.csv row 2 (line 3): 2 fields where the header has 3)
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

from ckg.etl.report import Report

FINAL_COLUMNS = (
    "cord_uid", "sha", "source_x", "title", "doi", "pmcid", "pubmed_id", "license", "abstract",
    "publish_time", "authors", "journal", "mag_id", "who_covidence_id", "arxiv_id",
    "pdf_json_files", "pmc_json_files", "url", "s2_id",
)
"""The 19 columns of the final CORD-19 releases, the schema rows are mapped to."""

LEGACY_COLUMNS = ("has_full_text", "has_pdf_parse", "has_pmc_xml_parse", "full_text_file")
"""Columns of early releases that are kept (they say which parse subset a paper is in)."""

HEADER_ALIASES = {
    "microsoft academic paper id": "mag_id",
    "who #covidence": "who_covidence_id",
    "source": "source_x",
    "pmc_id": "pmcid",
    "pubmed id": "pubmed_id",
    "publish time": "publish_time",
}

ID_COLUMNS = ("cord_uid", "sha", "pmcid", "doi", "pubmed_id")

csv.field_size_limit(sys.maxsize)


class MetadataFormatError(ValueError):
    """The file is not a CORD-19 metadata table (no title column or no identifier column)."""


@dataclass(frozen=True)
class MetadataRow:
    """A data row, with the file, 1-based data row number and physical line it came from."""

    file: str
    row: int
    line: int
    fields: dict[str, str]

    @property
    def where(self) -> str:
        return f"{self.file} row {self.row} (line {self.line})"


def canonical_header(header: list[str]) -> list[str]:
    """Map a header of any era to the final column names (unknown columns keep their name).

    >>> canonical_header(["\\ufeffsha", "WHO #Covidence", "Title"])
    ['sha', 'who_covidence_id', 'title']
    """
    names = []
    for raw in header:
        name = raw.replace("\ufeff", "").strip()
        low = name.lower()
        names.append(HEADER_ALIASES.get(low, low if low in FINAL_COLUMNS + LEGACY_COLUMNS else name))
    return names


def iter_rows(handle: IO[str], name: str, report: Report) -> Iterator[MetadataRow]:
    """Rows of an open metadata table; bad rows are reported and skipped."""
    reader = csv.reader(handle)
    try:
        header = next(reader)
    except StopIteration:
        raise MetadataFormatError(f"{name}: empty file (no header)") from None
    except csv.Error as exc:
        raise MetadataFormatError(f"{name}: unreadable header: {exc}") from None
    columns = canonical_header(header)
    if "title" not in columns or not any(c in columns for c in ID_COLUMNS):
        raise MetadataFormatError(
            f"{name}: not a CORD-19 metadata table (header needs 'title' and one of {', '.join(ID_COLUMNS)}; "
            f"found {', '.join(header[:8])}{'...' if len(header) > 8 else ''})"
        )
    row_number = 0
    while True:
        start_line = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            row_number += 1
            report.reject("csv-syntax", f"{name} row {row_number} (line {start_line})", str(exc))
            continue
        if not values or (len(values) == 1 and not values[0].strip()):
            continue  # blank line
        row_number += 1
        if len(values) != len(columns):
            report.reject(
                "csv-field-count",
                f"{name} row {row_number} (line {start_line})",
                f"{len(values)} fields where the header has {len(columns)}",
            )
            continue
        fields = {c: v.strip() for c, v in zip(columns, values)}
        if any("\ufffd" in v for v in values):
            report.warn("encoding", f"{name} row {row_number} (line {start_line})", "bytes that are not UTF-8 were replaced")
        yield MetadataRow(name, row_number, start_line, fields)


def read_metadata(path: Path, report: Report, display_name: str | None = None) -> Iterator[MetadataRow]:
    """Rows of a metadata.csv file (UTF-8, with or without BOM)."""
    path = Path(path)
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        yield from iter_rows(handle, display_name or path.name, report)
