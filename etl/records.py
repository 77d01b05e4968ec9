"""The ETL's intermediate records: what a paper is once its metadata row and parses are read.

Readers produce these; :mod:`ckg.etl.emit` turns them into triples and
:mod:`ckg.etl.catalog` keeps the parts that cross papers (author and institution mentions,
bibliography entries, identifiers) for the corpus-wide steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Affiliation:
    """An affiliation as a paper states it (institution already cleaned, country normalised)."""

    institution: str
    country: str = ""
    settlement: str = ""
    region: str = ""
    laboratory: str = ""


@dataclass(frozen=True)
class AuthorMention:
    """One entry of a paper's author list."""

    given: str
    family: str
    middle: tuple[str, ...] = ()
    suffix: str = ""
    affiliations: tuple[Affiliation, ...] = ()

    @property
    def display_name(self) -> str:
        """'Given M. Family Suffix', as a reader would write it."""
        parts = [self.given, *self.middle, self.family, self.suffix]
        return " ".join(p for p in parts if p)


@dataclass(frozen=True)
class BibEntry:
    """A bibliography entry of a parse, with the identifiers used to resolve it."""

    ref_id: str
    title: str
    year: int | None = None
    venue: str = ""
    doi: str = ""
    pmid: str = ""
    pmcid: str = ""
    arxiv: str = ""


@dataclass
class Paper:
    """A paper of one release, joined from its metadata row (if any) and parses (if any)."""

    key: str
    title: str
    cord_uid: str = ""
    shas: list[str] = field(default_factory=list)
    pmcid: str = ""
    pmid: str = ""
    doi: str = ""
    doi_from_text: bool = False
    arxiv_id: str = ""
    mag_id: str = ""
    who_covidence_id: str = ""
    s2_id: str = ""
    abstract: str = ""
    body: str = ""
    issued: tuple[str, str, int] | None = None
    journal: str = ""
    license: str = ""
    sources: list[str] = field(default_factory=list)
    url: str = ""
    authors: list[AuthorMention] = field(default_factory=list)
    bib: list[BibEntry] = field(default_factory=list)
    source_files: list[str] = field(default_factory=list)
    has_full_text: bool = False
    input_hash: str = ""  # ckg.etl.assemble.input_fingerprint; "" when the paper must be read at every run
    emitted: object | None = None  # what a build made of it where it was assembled (ckg.etl.build.Emitted)

    @property
    def year(self) -> int | None:
        return self.issued[2] if self.issued else None
