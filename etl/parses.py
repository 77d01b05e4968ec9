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
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ckg.etl.normalize import (
    clean_text,
    normalize_doi,
    normalize_pmcid,
    normalize_pmid,
    normalize_sha,
    preprint_dois,
)
from ckg.etl.records import BibEntry
from ckg.etl.report import Report

_SHA_NAME = re.compile(r"^([0-9a-f]{40})\.json$")
_PMC_NAME = re.compile(r"^(PMC\d+)\.xml\.json$")


class ParseError(ValueError):
    """A parse file cannot be read (malformed JSON, wrong shape)."""


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


def _first(values: Any) -> str:
    if isinstance(values, list) and values:
        return str(values[0])
    if isinstance(values, str):
        return values
    return ""


def _bib_entry(key: str, raw: Any) -> BibEntry | None:
    if not isinstance(raw, dict):
        return None
    other = raw.get("other_ids") if isinstance(raw.get("other_ids"), dict) else {}
    year = raw.get("year")
    try:
        year = int(year) if year not in (None, "") else None
    except (TypeError, ValueError):
        year = None
    if year is not None and not 1000 < year < 3000:
        year = None
    return BibEntry(
        ref_id=str(raw.get("ref_id") or key),
        title=clean_text(raw.get("title") if isinstance(raw.get("title"), str) else ""),
        year=year,
        venue=clean_text(raw.get("venue") if isinstance(raw.get("venue"), str) else ""),
        doi=normalize_doi(_first(other.get("DOI"))),
        pmid=normalize_pmid(_first(other.get("PMID"))),
        pmcid=normalize_pmcid(_first(other.get("PMCID"))),
        arxiv=clean_text(_first(other.get("arXiv"))).lower(),
    )


def _paragraphs(items: Any) -> list[tuple[str, str]]:
    out = []
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                text = clean_text(item["text"])
                if text:
                    out.append((clean_text(item.get("section") or ""), text))
    return out


def read_parse(path: Path) -> ParseDoc:
    """Read one parse file; :class:`ParseError` says why it cannot be used."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = json.load(handle)
    except json.JSONDecodeError as exc:
        raise ParseError(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except UnicodeDecodeError as exc:
        raise ParseError(f"not UTF-8: {exc.reason}") from None
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror}") from None
    if not isinstance(data, dict):
        raise ParseError("not a document parse (top level is not an object)")
    paper_id = data.get("paper_id")
    metadata = data.get("metadata")
    if not isinstance(paper_id, str) or not paper_id.strip():
        raise ParseError("no paper_id")
    if not isinstance(metadata, dict):
        raise ParseError("no metadata object")
    paper_id = paper_id.strip()
    kind = kind_of_id(paper_id)
    body = _paragraphs(data.get("body_text"))
    back = _paragraphs(data.get("back_matter"))
    bib_raw = data.get("bib_entries") if isinstance(data.get("bib_entries"), dict) else {}
    bib = [b for k, v in bib_raw.items() if (b := _bib_entry(k, v)) is not None]
    own_doi = ""
    if kind == "pdf_json":
        ref_texts = []
        refs = data.get("ref_entries")
        if isinstance(refs, dict):
            ref_texts = [v.get("text", "") for v in refs.values() if isinstance(v, dict) and isinstance(v.get("text"), str)]
        found = preprint_dois(" ".join([t for _, t in back] + [t for _, t in body] + ref_texts))
        if found:
            counts: dict[str, int] = {}
            for doi in found:
                counts[doi] = counts.get(doi, 0) + 1
            own_doi = max(counts, key=lambda d: (counts[d], -found.index(d)))
    return ParseDoc(
        path=path,
        kind=kind,
        paper_id=paper_id,
        title=clean_text(metadata.get("title") if isinstance(metadata.get("title"), str) else ""),
        raw_authors=metadata.get("authors") if isinstance(metadata.get("authors"), list) else [],
        abstract=[t for _, t in _paragraphs(data.get("abstract"))],
        body=body,
        bib=bib,
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
        root = root or self.roots.get(path)
        try:
            return str(path.relative_to(root)) if root else str(path)
        except ValueError:
            return str(path)

    def __len__(self) -> int:
        return len(self.by_sha) + len(self.by_pmcid)


def scan(root: Path, index: ParseIndex, report: Report) -> None:
    """Add every parse under ``root`` to ``index`` (sorted, so the first of duplicates is stable)."""
    root = Path(root)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.endswith(".json"):
                continue
            path = Path(dirpath) / name
            if m := _SHA_NAME.match(name):
                index.add(m.group(1), path, root, report)
            elif m := _PMC_NAME.match(name):
                index.add(m.group(1), path, root, report)
            else:
                try:
                    with open(path, "rb") as handle:
                        data = json.load(handle)
                    paper_id = data.get("paper_id") if isinstance(data, dict) else None
                except (OSError, ValueError) as exc:
                    report.reject("malformed-json", index.relative(path, root), f"cannot read as a parse: {exc}")
                    continue
                key = normalize_sha(paper_id) or normalize_pmcid(paper_id if isinstance(paper_id, str) and paper_id.upper().startswith("PMC") else "")
                if not key:
                    report.warn("not-a-parse", index.relative(path, root), "JSON file without a SHA-1 or PMC paper_id; ignored")
                    continue
                index.add(key, path, root, report)
