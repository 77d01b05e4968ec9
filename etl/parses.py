"""Reader for CORD-19's JSON document parses (``pdf_json`` and ``pmc_json``), in every layout.

Parses are found anywhere under a directory: the early subset folders
(``biorxiv_medrxiv/*.json``, ``comm_use_subset/pdf_json/*.json``) and the final
``document_parses/pdf_json/<sha>.json`` and ``document_parses/pmc_json/<PMCID>.xml.json``.
A file named by a SHA-1 is a PDF parse and one named ``PMC<digits>.xml.json`` a PMC parse;
other ``.json`` files are opened to read their ``paper_id``.

The schema, the same in every era: ``paper_id``; ``metadata.title``; ``metadata.authors[]``;
``abstract[]`` (absent in pmc_json); ``body_text[]`` (text, section, cite_spans);
``bib_entries{BIBREFn: title, authors, year, venue, other_ids{DOI, PMID, PMCID, arXiv}}``;
``ref_entries``; ``back_matter``.

Bad input. Only regular files are read. A file that cannot be used at all raises
:class:`ParseError`, whose ``reason`` is the report's code: ``malformed-json`` (a syntax error,
an empty file, JSON nested too deeply to read), ``parse-structure`` (the top level is not an
object, ``paper_id`` is not a non-empty string, ``metadata`` is not an object),
``not-a-regular-file`` (a FIFO, folder, device or socket named ``*.json``),
``unreadable-file``. Everything else is repaired and reported, one warning per file and reason
naming the first JSON paths: every value the ETL reads is checked against
:data:`PARSE_SCHEMA` (``field-type``: a list of strings where text is expected is joined, a
single value where a list is expected is a list of one, a string where a paragraph or an
author is expected is read as its text or name, a number where an identifier is expected is
read as its digits, anything else of the wrong type is dropped); every string loses the
characters XML 1.0 does not allow (``invalid-characters``) and is cut to
:data:`~ckg.etl.normalize.MAX_FIELD_CHARS` characters, a paragraph to
:data:`~ckg.etl.normalize.MAX_TEXT_BYTES`, and a body or abstract stops at the paragraph that
would take it past that size (``text-truncated``); an object that repeats a key keeps its last
value (``duplicate-json-key``); a file in UTF-16 or UTF-32, or with bytes that are not UTF-8,
is decoded anyway (``encoding``); a number too large to be a number is read as infinity.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ckg.etl.authors import parse_author_name
from ckg.etl.normalize import (
    MAX_FIELD_CHARS,
    MAX_TEXT_BYTES,
    clean_text,
    cut_text,
    escape_invalid,
    normalize_doi,
    normalize_pmcid,
    normalize_pmid,
    normalize_sha,
    preprint_dois,
    strip_preprint_boilerplate,
    utf8_size,
    xml_text,
)
from ckg.etl.records import BibEntry
from ckg.etl.report import Report

_SHA_NAME = re.compile(r"^([0-9a-f]{40})\.json$")
_PMC_NAME = re.compile(r"^(PMC\d+)\.xml\.json$")


class ParseError(ValueError):
    """A parse file cannot be used; ``reason`` is the report's code for why (see the module)."""

    def __init__(self, message: str, reason: str = "malformed-json") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class ParseDoc:
    """What the ETL takes from one document parse."""

    path: Path
    kind: str  # "pdf_json" or "pmc_json"
    paper_id: str
    title: str
    raw_authors: list[Any]
    abstract: list[str]
    body: list[tuple[str, str]]  # (section, paragraph)
    bib: list[BibEntry]
    own_doi: str = ""  # the paper's DOI when the text names it (preprint footers)


def kind_of_id(paper_id: str) -> str:
    return "pmc_json" if paper_id.upper().startswith("PMC") else "pdf_json"


# -- the schema of what is read ----------------------------------------------------------------

TEXT = "text"  # a string, cut at MAX_FIELD_CHARS
LONG_TEXT = "long text"  # a paragraph's text, cut at MAX_TEXT_BYTES
ID = "identifier"  # a string; a whole number is read as its digits
YEAR = "year"  # a whole number, or a string of digits; None otherwise


@dataclass(frozen=True)
class Obj:
    """An object with these fields (others are not read); ``from_text`` reads a bare string."""

    fields: dict[str, Any]
    from_text: Callable[[str], dict] | None = None


@dataclass(frozen=True)
class ListOf:
    item: Any


@dataclass(frozen=True)
class MapOf:
    """An object whose keys are names (``bib_entries``: BIBREF0, ...) and values are ``item``."""

    item: Any


def _author_from_name(text: str) -> dict:
    """An author entry from a name written as one string ("Lin M. Wang")."""
    mention = parse_author_name(text)
    if mention is None:
        return {"last": text}  # reported as an entry without a plausible family name
    return {"first": mention.given, "middle": list(mention.middle), "last": mention.family, "suffix": mention.suffix}


_PARAGRAPH = Obj({"text": LONG_TEXT, "section": TEXT}, from_text=lambda text: {"text": text})
_LOCATION = Obj({"settlement": TEXT, "addrLine": TEXT, "region": TEXT, "country": TEXT})
_AUTHOR = Obj({"first": TEXT, "middle": ListOf(TEXT), "last": TEXT, "suffix": TEXT,
               "affiliation": Obj({"laboratory": TEXT, "institution": TEXT, "location": _LOCATION})},
              from_text=_author_from_name)
_IDS = ListOf(ID)
_BIB_ENTRY = Obj({"ref_id": TEXT, "title": TEXT, "year": YEAR, "venue": TEXT,
                  "other_ids": Obj({"DOI": _IDS, "PMID": _IDS, "PMCID": _IDS, "arXiv": _IDS})})

PARSE_SCHEMA = Obj({
    "paper_id": TEXT,
    "metadata": Obj({"title": TEXT, "authors": ListOf(_AUTHOR)}),
    "abstract": ListOf(_PARAGRAPH),
    "body_text": ListOf(_PARAGRAPH),
    "back_matter": ListOf(_PARAGRAPH),
    "bib_entries": MapOf(_BIB_ENTRY),
    "ref_entries": MapOf(Obj({"text": LONG_TEXT})),
})
"""Every value of a parse the ETL reads, with its type; :class:`_Checker` makes a parse fit it."""


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return {str: "a string", list: "a list", dict: "an object"}.get(type(value), "null")


class _Checker:
    """Makes a parse's JSON fit :data:`PARSE_SCHEMA`, noting each repair by reason and JSON path."""

    EXAMPLES = 3

    def __init__(self, notes: list[tuple[str, str]] = ()) -> None:
        self.counts: dict[str, int] = {}
        self.examples: dict[str, list[str]] = {}
        for reason, detail in notes:
            self._add(reason, detail)

    def _add(self, reason: str, detail: str) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1
        examples = self.examples.setdefault(reason, [])
        if len(examples) < self.EXAMPLES:
            examples.append(detail)

    def note(self, reason: str, path: str, detail: str) -> None:
        self._add(reason, f"{path}: {detail}")

    def report(self, report: Report, where: str) -> None:
        """One warning per reason, with the number of fields and the first ones."""
        for reason, n in self.counts.items():
            examples = "; ".join(self.examples[reason])
            more = f"; and {n - self.EXAMPLES} more" if n > self.EXAMPLES else ""
            report.warn(reason, where, examples if n == 1 else f"{n} repairs: {examples}{more}")

    def conform(self, value: Any, spec: Any, path: str) -> Any:
        kind = type(spec)
        if kind is str:
            return self._year(value, path) if spec is YEAR else self._text(value, spec, path)
        if kind is Obj:
            return self._object(value, spec, path)
        return self._list(value, spec, path) if kind is ListOf else self._map(value, spec, path)

    def _usable(self, value: Any, spec: Any, path: str) -> bool:
        """False (and a note) for an item that cannot become an object the schema expects."""
        if not isinstance(spec, Obj) or isinstance(value, dict) or (isinstance(value, str) and spec.from_text):
            return True
        self.note("field-type", path, f"{_kind(value)} where an object was expected; dropped")
        return False

    def _object(self, value: Any, spec: Obj, path: str) -> dict:
        if isinstance(value, str) and spec.from_text is not None:
            self.note("field-type", path, "a string where an object was expected; read as its text")
            value = spec.from_text(value)
        elif value is not None and not isinstance(value, dict):
            self.note("field-type", path, f"{_kind(value)} where an object was expected; ignored")
            value = None
        value = value or {}
        return {key: self.conform(value.get(key), sub, f"{path}.{key}" if path else key)
                for key, sub in spec.fields.items()}

    def _list(self, value: Any, spec: ListOf, path: str) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            self.note("field-type", path, f"{_kind(value)} where a list was expected; read as a list of one")
            value = [value]
        return [self.conform(item, spec.item, f"{path}[{i}]") for i, item in enumerate(value)
                if self._usable(item, spec.item, f"{path}[{i}]")]

    def _map(self, value: Any, spec: MapOf, path: str) -> dict:
        if value is None:
            return {}
        if isinstance(value, list):
            self.note("field-type", path, "a list where an object was expected; its entries are keyed by position")
            value = {str(i): item for i, item in enumerate(value)}
        elif not isinstance(value, dict):
            self.note("field-type", path, f"{_kind(value)} where an object was expected; ignored")
            return {}
        out = {}
        for key, item in value.items():
            key = self._text(key, TEXT, f"{path} key")
            if self._usable(item, spec.item, f"{path}.{key}"):
                out[key] = self.conform(item, spec.item, f"{path}.{key}")
        return out

    def _text(self, value: Any, spec: str, path: str) -> str:
        if type(value) is str:
            return self._string(value, spec, path)
        if value is None:
            return ""
        if spec == ID and isinstance(value, int) and not isinstance(value, bool):
            self.note("field-type", path, "a number where a string was expected; read as its digits")
            value = str(value)
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            self.note("field-type", path, "a list of strings where a string was expected; joined")
            value = ", ".join(value)
        elif not isinstance(value, str):
            self.note("field-type", path, f"{_kind(value)} where a string was expected; ignored")
            return ""
        return self._string(value, spec, path)

    def _string(self, value: str, spec: str, path: str) -> str:
        """The string without characters XML does not allow, cut to its size limit."""
        value, removed = xml_text(value)
        if removed:
            self.note("invalid-characters", path, f"{removed} character(s) not allowed in XML removed")
        if len(value) * 4 <= MAX_TEXT_BYTES and (spec is LONG_TEXT or len(value) <= MAX_FIELD_CHARS):
            return value  # fits (the usual case, checked without encoding)
        cut = cut_text(value, None, MAX_TEXT_BYTES) if spec is LONG_TEXT else cut_text(value, MAX_FIELD_CHARS)
        if len(cut) < len(value):
            self.note("text-truncated", path, f"{len(value):,} characters cut to {len(cut):,}")
        return cut

    def _year(self, value: Any, path: str) -> int | None:
        if value is None or value == "":
            return None
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value.strip()) <= 9:
            return int(value)
        shown = "a number that is not a whole finite number" if isinstance(value, float) else _kind(value)
        self.note("field-type", path, f"{shown} where a year was expected; ignored")
        return None


# -- reading a file ----------------------------------------------------------------------------

_FILE_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
               (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _not_regular(mode: int) -> ParseError:
    kind = next((name for test, name in _FILE_KINDS if test(mode)), "not a regular file")
    return ParseError(f"{kind}, not a regular file: not read", "not-a-regular-file")


def read_bytes(path: Path) -> bytes:
    """The content of a regular file; :class:`ParseError` for anything else (a FIFO is never
    opened for a blocking read)."""
    try:
        if not stat.S_ISREG(mode := os.stat(path).st_mode):
            raise _not_regular(mode)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise ParseError(f"cannot open: {exc.strerror}", "unreadable-file") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(mode := os.fstat(fd).st_mode):  # replaced since the check above
            raise _not_regular(mode)
        try:
            return handle.read()
        except OSError as exc:
            raise ParseError(f"cannot read: {exc.strerror}", "unreadable-file") from None


def _json_int(digits: str) -> int | float:
    """A JSON integer; one too long to be a number (past Python's 4,300-digit limit and any
    sane value) is infinity, which the checker reports where a number is read."""
    return int(digits) if len(digits) <= 64 else math.inf


def load_json(path: Path) -> tuple[Any, list[tuple[str, str]]]:
    """The JSON value of a file and the repairs made reading it, as (reason, detail) notes:
    bytes that are not UTF-8 replaced, a UTF-16/32 file decoded, repeated keys."""
    data = read_bytes(path)
    if not data.strip():
        raise ParseError("malformed JSON: empty file" if not data else "malformed JSON: only whitespace")
    notes = []
    encoding = json.detect_encoding(data)
    try:
        text = data.decode(encoding, "surrogatepass")  # as json.loads decodes bytes
    except UnicodeDecodeError as exc:
        text = data.decode(encoding, "replace")
        notes.append(("encoding", f"bytes that are not {encoding.upper()} were replaced (the first at byte "
                                  f"{exc.start})"))
    if encoding not in ("utf-8", "utf-8-sig"):
        notes.append(("encoding", f"the file is {encoding.upper()}, not UTF-8; read anyway"))
    repeated: list[str] = []

    def object_from(pairs: list[tuple[str, Any]]) -> dict:
        obj = dict(pairs)
        if len(obj) < len(pairs):
            seen: set[str] = set()
            repeated.append(next(k for k, _ in pairs if k in seen or seen.add(k)))
        return obj

    try:
        value = json.loads(text, object_pairs_hook=object_from, parse_int=_json_int)
    except RecursionError:
        raise ParseError("malformed JSON: nested too deeply to read") from None
    except json.JSONDecodeError as exc:
        raise ParseError(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except ValueError as exc:
        raise ParseError(f"malformed JSON: {exc}") from None
    if repeated:
        notes.append(("duplicate-json-key", f"{len(repeated)} object(s) repeat a key (the first: {repeated[0]!r}); "
                                            "the last value is used"))
    return value, notes


def _check_top_level(data: Any) -> None:
    """:class:`ParseError` unless ``data`` is a parse: an object with a paper_id and a metadata object."""
    if not isinstance(data, dict):
        raise ParseError(f"not a document parse (the top level is not an object but {_kind(data)})", "parse-structure")
    paper_id, metadata = data.get("paper_id"), data.get("metadata")
    if not isinstance(paper_id, str) or not paper_id.strip():
        wrong = paper_id is not None and not isinstance(paper_id, str)
        raise ParseError("no paper_id" + (f" (it is {_kind(paper_id)}, not a string)" if wrong else ""),
                         "parse-structure")
    if not isinstance(metadata, dict):
        raise ParseError("no metadata object" + (f" (it is {_kind(metadata)})" if metadata is not None else ""),
                         "parse-structure")


# -- the parse ---------------------------------------------------------------------------------


def _first(values: list[str]) -> str:
    return next((v for v in values if v), "")


def _bib_entry(key: str, raw: dict) -> BibEntry:
    year = raw["year"]
    other = raw["other_ids"]
    return BibEntry(
        ref_id=raw["ref_id"] or key,
        title=clean_text(raw["title"]),
        year=year if year is not None and 1000 < year < 3000 else None,
        venue=clean_text(raw["venue"]),
        doi=normalize_doi(_first(other["DOI"])),
        pmid=normalize_pmid(_first(other["PMID"])),
        pmcid=normalize_pmcid(_first(other["PMCID"])),
        arxiv=clean_text(_first(other["arXiv"])).lower(),
    )


def _paragraphs(items: list[dict], field_name: str, checker: _Checker) -> list[tuple[str, str]]:
    """(section, text) of each paragraph with text, MAX_TEXT_BYTES in all at most: the paragraph
    that reaches the limit is cut there and the ones after it are dropped."""
    out = []
    room = MAX_TEXT_BYTES
    for i, item in enumerate(items):
        text = clean_text(item["text"])
        if not text:
            continue
        section = clean_text(item["section"])
        room -= utf8_size(section) + 3  # and the line breaks body_text() adds
        if utf8_size(text) > room:
            text = cut_text(text, None, max(room, 0))
            checker.note("text-truncated", f"{field_name}[{i}]", f"the {field_name} reaches {MAX_TEXT_BYTES:,} bytes "
                         f"here: this paragraph is cut and the {len(items) - i - 1} after it are dropped")
            if text:
                out.append((section, text))
            break
        room -= utf8_size(text)
        out.append((section, text))
    return out


def _own_doi(body: list[tuple[str, str]], back: list[tuple[str, str]], refs: dict[str, dict]) -> str:
    """The preprint DOI its page footers print most often (the first of equals)."""
    found = preprint_dois(" ".join([t for _, t in back] + [t for _, t in body] + [r["text"] for r in refs.values()]))
    if not found:
        return ""
    counts: dict[str, int] = {}
    for doi in found:
        counts[doi] = counts.get(doi, 0) + 1
    return max(counts, key=lambda d: (counts[d], -found.index(d)))


def read_parse(path: Path, report: Report | None = None, where: str | None = None) -> ParseDoc:
    """Read one parse file; :class:`ParseError` says why it cannot be used. Repairs are reported
    to ``report`` as warnings on ``where`` (the file's name in the release)."""
    path = Path(path)
    data, notes = load_json(path)
    _check_top_level(data)
    checker = _Checker(notes)
    doc = checker.conform(data, PARSE_SCHEMA, "")
    paper_id = doc["paper_id"].strip()
    if not paper_id:
        raise ParseError("no paper_id (nothing left once invalid characters were removed)", "parse-structure")
    kind = kind_of_id(paper_id)
    body = _paragraphs(doc["body_text"], "body_text", checker)
    back = _paragraphs(doc["back_matter"], "back_matter", checker)
    abstract = _paragraphs(doc["abstract"], "abstract", checker)
    if report is not None:
        checker.report(report, where or escape_invalid(str(path)))
    own_doi = _own_doi(body, back, doc["ref_entries"]) if kind == "pdf_json" else ""
    if own_doi:  # a bioRxiv/medRxiv PDF: its page footers' license text is in the paragraphs
        body = [(section, t) for section, text in body if (t := strip_preprint_boilerplate(text))]
        abstract = [(section, t) for section, text in abstract if (t := strip_preprint_boilerplate(text))]
    return ParseDoc(
        path=path,
        kind=kind,
        paper_id=paper_id,
        title=clean_text(doc["metadata"]["title"]),
        raw_authors=doc["metadata"]["authors"],
        abstract=[t for _, t in abstract],
        body=body,
        bib=[_bib_entry(k, v) for k, v in doc["bib_entries"].items()],
        own_doi=own_doi,
    )


def body_text(paragraphs: list[tuple[str, str]]) -> str:
    """Paragraphs joined by blank lines, each new section heading on a line of its own.

    >>> print(body_text([("Intro", "A."), ("Intro", "B."), ("Methods", "C.")]))
    Intro
    A.
    <BLANKLINE>
    B.
    <BLANKLINE>
    Methods
    C.
    """
    chunks = []
    section = None
    for sec, text in paragraphs:
        if sec and sec != section:
            chunks.append(f"{sec}\n{text}")
        else:
            chunks.append(text)
        section = sec
    return "\n\n".join(chunks)


def relative_name(path: Path, root: Path | None) -> str:
    """How reports and provenance name a file: relative to its input root, with characters that
    are not valid text (bytes of a name that is not UTF-8, control characters) escaped."""
    try:
        name = str(path.relative_to(root)) if root else str(path)
    except ValueError:
        name = str(path)
    return escape_invalid(name)


@dataclass
class ParseIndex:
    """Where the parses of a release are: PDF parses by SHA-1, PMC parses by PMC id."""

    by_sha: dict[str, Path] = field(default_factory=dict)
    by_pmcid: dict[str, Path] = field(default_factory=dict)
    roots: dict[Path, Path] = field(default_factory=dict)  # parse path -> input root it was found under

    def add(self, key: str, path: Path, root: Path, report: Report) -> None:
        table = self.by_pmcid if key.startswith("PMC") else self.by_sha
        if key in table and table[key] != path:
            report.warn("duplicate-parse", self.relative(path, root),
                        f"{key} also in {self.relative(table[key])}; the first is used")
            return
        table[key] = path
        self.roots[path] = root

    def relative(self, path: Path, root: Path | None = None) -> str:
        return relative_name(path, root or self.roots.get(path))

    def __len__(self) -> int:
        return len(self.by_sha) + len(self.by_pmcid)


def scan(root: Path, index: ParseIndex, report: Report) -> None:
    """Add every parse under ``root`` to ``index`` (sorted, so the first of duplicates is stable).

    Files named ``*.json`` are indexed (whether they are regular files is checked when they are
    read); hidden folders are skipped. A symbolic link to a folder is followed, unless it leads
    to a folder already walked (a loop, or a second path to the same folder: ``symlink-loop``, a
    warning); a folder that cannot be listed is reported (``unreadable-folder``)."""
    root = Path(root)
    walked: set[tuple[int, int]] = set()
    if not _first_visit(root, root, walked, report):
        return

    def cannot_list(error: OSError) -> None:
        report.reject("unreadable-folder", relative_name(Path(error.filename), root),
                      f"cannot list the folder ({error.strerror}): the parses in it were not read")

    for dirpath, dirnames, filenames in os.walk(root, onerror=cannot_list, followlinks=True):
        here = Path(dirpath)
        dirnames[:] = [d for d in sorted(dirnames)
                       if not d.startswith(".") and _first_visit(here / d, root, walked, report)]
        for name in sorted(filenames):
            if name.endswith(".json"):
                _index_file(here / name, root, index, report)


def _first_visit(folder: Path, root: Path, walked: set[tuple[int, int]], report: Report) -> bool:
    """True the first time the walk reaches a folder (by device and inode)."""
    try:
        info = os.stat(folder)
    except OSError as exc:
        report.reject("unreadable-folder", relative_name(folder, root), f"cannot open the folder ({exc.strerror})")
        return False
    if (info.st_dev, info.st_ino) in walked:
        report.warn("symlink-loop", relative_name(folder, root),
                    "a symbolic link to a folder already read (a loop, or a second path to it); not read again")
        return False
    walked.add((info.st_dev, info.st_ino))
    return True


def _index_file(path: Path, root: Path, index: ParseIndex, report: Report) -> None:
    """Index a parse by its name (SHA-1 or PMC id), else by the paper_id inside it."""
    if m := _SHA_NAME.match(path.name) or _PMC_NAME.match(path.name):
        index.add(m.group(1), path, root, report)
        return
    try:
        data, _ = load_json(path)
    except ParseError as exc:
        report.reject(exc.reason, index.relative(path, root), f"cannot read as a parse: {exc}")
        return
    paper_id = data.get("paper_id") if isinstance(data, dict) else None
    paper_id = paper_id.strip() if isinstance(paper_id, str) else ""
    key = normalize_sha(paper_id) or (normalize_pmcid(paper_id) if paper_id.upper().startswith("PMC") else "")
    if not key:
        report.warn("not-a-parse", index.relative(path, root), "JSON file without a SHA-1 or PMC paper_id; ignored")
        return
    index.add(key, path, root, report)
