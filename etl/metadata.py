"""Reader for CORD-19's ``metadata.csv`` in every schema era.

Eras seen in the published releases:

* March 2020: no ``cord_uid``; ``Microsoft Academic Paper ID``, ``WHO #Covidence``,
  ``has_full_text``, ``full_text_file`` (15 columns);
* April 2020: ``cord_uid`` first; ``has_pdf_parse``/``has_pmc_xml_parse`` (18 columns);
* final (2020-06 onwards): 19 columns with ``mag_id``, ``who_covidence_id``, ``arxiv_id``,
  ``pdf_json_files``, ``pmc_json_files``, ``s2_id``.

Headers are mapped to the final column names, so later steps see one schema. A row whose
number of fields differs from the header's is reported (file, row and physical line) and
skipped; the rest of the file is read. Quotes are read strictly: a quote that is not doubled
inside a quoted field, and a quoted field still open at the end of the file, are errors
(``csv-syntax``). An unbalanced quote makes one record of several physical lines: such a
record, whether the quote error shows or it has the wrong number of fields or a field holding
a whole row, is reported with all its line numbers (``csv-merged-rows``) and skipped. Cells
lose the characters XML 1.0 does not allow (``invalid-characters``) and are cut to
:data:`~ckg.etl.normalize.MAX_FIELD_CHARS` characters (the abstract and authors cells to
:data:`~ckg.etl.normalize.MAX_TEXT_BYTES`; ``text-truncated``), with a warning naming the row
and column; a cell over :data:`MAX_CSV_FIELD` rejects its row (``csv-field-too-large``). When
a column name repeats, the first column of that name is used (``csv-duplicate-column``).

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

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

from ckg.etl.normalize import MAX_FIELD_CHARS, MAX_TEXT_BYTES, cut_text, has_xml_invalid, xml_text
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

LONG_COLUMNS = ("abstract", "authors")
"""Cells that may hold a long text (cut at MAX_TEXT_BYTES; every other cell at MAX_FIELD_CHARS)."""

MAX_CSV_FIELD = 16 * 2**20
"""Largest cell (characters) the CSV reader accepts, raised from Python's 128 KiB: a cell past it,
such as one that swallowed the rest of the file after an unbalanced quote, rejects its row."""

csv.field_size_limit(MAX_CSV_FIELD)


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
    reader = csv.reader(handle, strict=True)
    columns = _header(reader, name, report)
    yield from _records(reader, columns, name, report)


def _header(reader, name: str, report: Report) -> list[str]:
    """The canonical columns of a table's header record (the next record of ``reader``)."""
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
    if repeated := sorted({c for c in columns if columns.count(c) > 1}):
        report.warn("csv-duplicate-column", name,
                    f"columns {', '.join(repeated)} appear more than once; the first is used")
    return columns


class ChunkUnsure(Exception):
    """A chunk of a table read on its own met something that reading the file from its start
    might read otherwise (a record the CSV reader refuses, one still open at the chunk's end)."""


@dataclass
class Numbering:
    """Where a reader starts in its file, and how far it got: the data rows numbered before its
    first (then the last numbered) and the lines before its first. ``places``, when given, gets
    the row and lines of every record named in the report or yielded (its ``where``)."""

    row: int = 0
    line: int = 0
    places: dict[str, tuple[int, int, int]] | None = None


def _records(reader, columns: list[str], name: str, report: Report, numbering: Numbering | None = None, *,
             chunk: bool = False) -> Iterator[MetadataRow]:
    """The data records of ``reader``, numbered on from ``numbering``. A ``chunk`` raises
    :class:`ChunkUnsure` where the CSV reader refuses a record."""
    at = numbering or Numbering()
    places = at.places

    def located(first: int, last: int) -> str:
        named = where(name, at.row, first, last)
        if places is not None:
            places[named] = (at.row, first, last)
        return named

    while True:
        start_line = at.line + reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if chunk:
                raise ChunkUnsure(str(exc)) from None
            at.row += 1
            last_line = at.line + reader.line_num
            reason, detail = _csv_error(str(exc), start_line, last_line)
            report.reject(reason, located(start_line, last_line), detail)
            continue
        if not values or (len(values) == 1 and not values[0].strip()):
            continue  # blank line
        at.row += 1
        last_line = at.line + reader.line_num
        named = located(start_line, last_line)
        if last_line > start_line and (len(values) != len(columns) or _holds_a_row(values, len(columns))):
            report.reject("csv-merged-rows", named, f"one record over {last_line - start_line + 1} lines with "
                          f"{len(values)} fields (the header has {len(columns)}): an unbalanced quote merged rows")
            continue
        if len(values) != len(columns):
            report.reject("csv-field-count", named, f"{len(values)} fields where the header has {len(columns)}")
            continue
        if any("\ufffd" in v for v in values):
            report.warn("encoding", named, "bytes that are not UTF-8 were replaced")
        row = MetadataRow(name, at.row, start_line, _cells(columns, values, named, report))
        if places is not None:
            places[row.where] = (at.row, start_line, start_line)
        yield row


def where(name: str, row: int, first_line: int, last_line: int) -> str:
    """How a report names a record: ``m.csv row 3 (line 4)``, ``m.csv row 3 (lines 4-6)``."""
    lines = f"line {first_line}" if last_line <= first_line else f"lines {first_line}-{last_line}"
    return f"{name} row {row} ({lines})"


def _csv_error(message: str, first_line: int, last_line: int) -> tuple[str, str]:
    """The reason and detail of a record the CSV reader refused."""
    if "field larger than field limit" in message:
        return "csv-field-too-large", f"a cell is over {MAX_CSV_FIELD:,} characters ({message})"
    if last_line > first_line:
        return "csv-merged-rows", (f"one malformed record over {last_line - first_line + 1} lines ({message}): "
                                   "an unbalanced quote merged rows")
    return "csv-syntax", message


def _holds_a_row(values: list[str], width: int) -> bool:
    """True when a line inside a multi-line field is a whole row of the table by itself: the
    field swallowed a row after an unbalanced quote."""
    return any(len(next(csv.reader([line]), [])) >= width for v in values if "\n" in v for line in v.splitlines()[1:])


def _cells(columns: list[str], values: list[str], where: str, report: Report) -> dict[str, str]:
    """The row's cells by column (the first of repeated columns), stripped, without characters
    XML does not allow and cut to their size limit, each repair reported."""
    fields: dict[str, str] = {}
    removed: dict[str, int] = {}
    clean = not has_xml_invalid("".join(values))  # one scan of the row: nearly every row is clean
    for column, raw in zip(columns, values):
        if column in fields:
            continue
        value, bad = (raw, 0) if clean else xml_text(raw)
        if bad:
            removed[column] = bad
        cut = cut_text(value, None, MAX_TEXT_BYTES) if column in LONG_COLUMNS else cut_text(value, MAX_FIELD_CHARS)
        if len(cut) < len(value):
            report.warn("text-truncated", where, f"column {column}: {len(value):,} characters cut to {len(cut):,}")
        fields[column] = cut.strip()
    if removed:
        report.warn("invalid-characters", where, f"removed {sum(removed.values())} character(s) not allowed in XML "
                    f"(control characters, surrogates) from column(s) {', '.join(removed)}")
    return fields


def read_metadata(path: Path, report: Report, display_name: str | None = None) -> Iterator[MetadataRow]:
    """Rows of a metadata.csv file: UTF-8, with or without BOM (bytes that are not UTF-8 are
    replaced, with a warning per row); UTF-16 or UTF-32 with a BOM is read too, with a warning."""
    path = Path(path)
    name = display_name or path.name
    with open(path, "rb") as raw:
        encoding = _encoding(raw.read(4))
    if encoding != "utf-8-sig":
        report.warn("encoding", name, f"the file is {encoding.upper()}, not UTF-8; read anyway")
    with open(path, encoding=encoding, errors="replace", newline="") as handle:
        yield from iter_rows(handle, name, report)


# -- a table read in chunks --------------------------------------------------------------------------

CHUNK_BYTES = 1 << 20
"""About how many bytes of a table one chunk holds (a few hundred rows of CORD-19)."""


@dataclass
class Chunked:
    """A UTF-8 table cut for reading in chunks: its columns (the header read and reported), the
    lines of its header record, and where its data starts."""

    columns: list[str]
    header_lines: int
    start: int


def chunked(path: Path, name: str, report: Report) -> Chunked | None:
    """The header of a UTF-8 table whose data can be cut into chunks (:func:`chunk_ranges`), read
    and reported; None (nothing read, nothing reported) for a file in another encoding or whose
    header is not one record ended by a line feed in its first :data:`CHUNK_BYTES`."""
    with open(path, "rb") as raw:
        head = raw.read(CHUNK_BYTES)
    if _encoding(head[:4]) != "utf-8-sig":
        return None
    end = _record_end(head)
    if end is None:
        return None
    text = head[:end].decode("utf-8-sig", errors="replace")
    try:
        if len(list(csv.reader(io.StringIO(text, newline=""), strict=True))) != 1:
            return None
    except csv.Error:
        return None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    columns = _header(reader, name, report)  # MetadataFormatError as when the file is read whole
    return Chunked(columns, reader.line_num, end)


def _record_end(data: bytes, start: int = 0) -> int | None:
    """The offset after the first line feed of ``data[start:]`` outside double quotes (an even
    number of them before it), else None."""
    quotes = 0
    pos = start
    while (nl := data.find(b"\n", pos)) >= 0:
        quotes += data.count(b'"', pos, nl)
        if quotes % 2 == 0:
            return nl + 1
        pos = nl + 1
    return None


def chunk_ranges(path: Path, start: int, size: int | None = None) -> Iterator[tuple[int, int]]:
    """(offset, length) of consecutive pieces of a file from ``start`` to its end, each of about
    ``size`` bytes (:data:`CHUNK_BYTES`) and ending at a line feed with an even number of double quotes since
    ``start``: where a record ends, in a table whose quotes are all field quotes. Whether it
    does is for the reader of each piece to find (:func:`chunk_rows` raises :class:`ChunkUnsure`
    where it does not).

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "m.csv"
    >>> _ = path.write_bytes(b'h\\n"a\\nb"\\nc\\nd\\n')
    >>> list(chunk_ranges(path, 2, size=3))
    [(2, 6), (8, 2), (10, 2)]
    """
    with open(path, "rb") as raw:
        raw.seek(start)
        offset, carry = start, b""
        while block := raw.read(size or CHUNK_BYTES):
            data = carry + block
            cut = _last_record_end(data)
            if cut is None:
                carry = data
                continue
            yield offset, cut
            offset, carry = offset + cut, data[cut:]
        if carry:
            yield offset, len(carry)


def _last_record_end(data: bytes) -> int | None:
    """The offset after the last line feed of ``data`` with an even number of double quotes
    before it (``data`` starts where a record does), else None."""
    after = 0  # quotes after the line feed looked at
    total = data.count(b'"')
    pos = len(data)
    while (nl := data.rfind(b"\n", 0, pos)) >= 0:
        after += data.count(b'"', nl, pos)
        if (total - after) % 2 == 0:
            return nl + 1
        pos = nl
    return None


def chunk_rows(data: bytes, columns: list[str], name: str, report: Report, numbering: Numbering) -> Iterator[MetadataRow]:
    """The rows of one piece of a table, numbered on from ``numbering`` (whose ``line`` is moved
    past the piece's lines at its end); :class:`ChunkUnsure` where the CSV reader refuses a record
    or one is still open at the piece's end (the file is then read from there on as a whole:
    :func:`rows_from`)."""
    reader = csv.reader(io.StringIO(data.decode("utf-8", errors="replace"), newline=""), strict=True)
    yield from _records(reader, columns, name, report, numbering, chunk=True)
    numbering.line += reader.line_num


def rows_from(path: Path, offset: int, columns: list[str], name: str, report: Report,
              numbering: Numbering) -> Iterator[MetadataRow]:
    """The rows of a UTF-8 table from byte ``offset`` (where a record starts) to its end, read as
    :func:`read_metadata` reads them, numbered on from ``numbering``."""
    with open(path, "rb") as raw:
        raw.seek(offset)
        with io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="") as handle:
            yield from _records(csv.reader(handle, strict=True), columns, name, report, numbering)


_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _encoding(start: bytes) -> str:
    """The encoding a file's first bytes announce (a byte-order mark), else UTF-8.

    >>> _encoding(b"\\xff\\xfec\\x00"), _encoding(b"cord")
    ('utf-16', 'utf-8-sig')
    """
    return next((encoding for bom, encoding in _BOMS if start.startswith(bom)), "utf-8-sig")
