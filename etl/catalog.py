"""The ETL catalog (``catalog.sqlite`` in each generation of a store folder, see :mod:`ckg.store`).

It keeps, per paper, what corpus-wide steps need without re-reading the release: the hash
of the paper's graph (to tell changed papers from unchanged ones on update), its
identifiers and normalised title (citation targets), its bibliography entries (citation
sources), its author and affiliation mentions (entity names, affiliatedWith edges), and the
citation edges currently in the store, each paper's concept mention counts (extraction is
the expensive step: a paper is extracted once, again only when it changes or the vocabulary
does), the concept and topic edges and nodes currently in the store (so that an update
applies only the difference), and an index of the papers' titles (trigrams of each lower-cased
title, by which the named query ``find-papers`` is narrowed: :func:`papers_with_title_containing`).
A fresh build and an update both derive the corpus-wide graphs
from it, so the two agree by construction.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ckg.etl.identity import author_key, institution_key
from ckg.etl.normalize import normalize_title
from ckg.etl.records import Paper

SCHEMA = """
CREATE TABLE IF NOT EXISTS papers (
    key TEXT PRIMARY KEY, hash TEXT NOT NULL, title_norm TEXT, year INTEGER,
    first_release TEXT, last_release TEXT, files TEXT
);
CREATE TABLE IF NOT EXISTS paper_inputs (key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS paper_ids (key TEXT NOT NULL, scheme TEXT NOT NULL, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS paper_ids_key ON paper_ids(key);
CREATE INDEX IF NOT EXISTS paper_ids_value ON paper_ids(scheme, value);
CREATE TABLE IF NOT EXISTS authors (
    key TEXT NOT NULL, position INTEGER NOT NULL, author TEXT NOT NULL,
    name TEXT, given TEXT, family TEXT
);
CREATE INDEX IF NOT EXISTS authors_key ON authors(key);
CREATE INDEX IF NOT EXISTS authors_author ON authors(author);
CREATE TABLE IF NOT EXISTS affiliations (
    key TEXT NOT NULL, author TEXT NOT NULL, institution TEXT NOT NULL,
    name TEXT, country TEXT, settlement TEXT, region TEXT
);
CREATE INDEX IF NOT EXISTS affiliations_key ON affiliations(key);
CREATE INDEX IF NOT EXISTS affiliations_institution ON affiliations(institution);
CREATE INDEX IF NOT EXISTS affiliations_author ON affiliations(author);
CREATE TABLE IF NOT EXISTS bib (
    key TEXT NOT NULL, ref_id TEXT, title_norm TEXT, year INTEGER,
    doi TEXT, pmid TEXT, pmcid TEXT, arxiv TEXT
);
CREATE INDEX IF NOT EXISTS bib_key ON bib(key);
CREATE TABLE IF NOT EXISTS citations (citing TEXT NOT NULL, cited TEXT NOT NULL, method TEXT, PRIMARY KEY (citing, cited));
CREATE TABLE IF NOT EXISTS cite_outcomes (entry INTEGER NOT NULL, code INTEGER NOT NULL, paper TEXT NOT NULL,
    PRIMARY KEY (entry, paper)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS cite_outcomes_paper ON cite_outcomes(paper);
CREATE TABLE IF NOT EXISTS cite_entry_keys (k INTEGER PRIMARY KEY, v BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS cite_entry_words (k INTEGER PRIMARY KEY, v BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS cite_paper_keys (k INTEGER PRIMARY KEY, v BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS cite_words (word TEXT PRIMARY KEY, tier INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cite_dirty (key TEXT PRIMARY KEY, old TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cite_dead (entry INTEGER PRIMARY KEY, title_norm TEXT, doi TEXT, pmid TEXT, pmcid TEXT,
    arxiv TEXT, code INTEGER);
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT);
CREATE TABLE IF NOT EXISTS concept_mentions (
    key TEXT NOT NULL, concept TEXT NOT NULL, title INTEGER NOT NULL, abstract INTEGER NOT NULL, body INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS concept_mentions_key ON concept_mentions(key);
CREATE INDEX IF NOT EXISTS concept_mentions_concept ON concept_mentions(concept);
CREATE INDEX IF NOT EXISTS concept_mentions_body_only ON concept_mentions(concept, body) WHERE title = 0 AND abstract = 0;
CREATE TABLE IF NOT EXISTS concept_state (concept TEXT PRIMARY KEY, tenths INTEGER NOT NULL, dropped INTEGER NOT NULL)
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS concepts_extracted (key TEXT PRIMARY KEY, words INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS annotation_edges (
    graph TEXT NOT NULL, key TEXT NOT NULL, target TEXT NOT NULL, weight TEXT NOT NULL, extra INTEGER NOT NULL,
    PRIMARY KEY (graph, key, target)
);
CREATE TABLE IF NOT EXISTS topic_model (k TEXT PRIMARY KEY, v BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS topics_inferred (key TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS annotation_edges_target ON annotation_edges(graph, target);
CREATE VIRTUAL TABLE IF NOT EXISTS paper_titles USING fts5(title, tokenize='trigram case_sensitive 1');
CREATE TABLE IF NOT EXISTS paper_title_text (row INTEGER NOT NULL, title TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS paper_title_text_row ON paper_title_text(row);
CREATE INDEX IF NOT EXISTS paper_title_text_title ON paper_title_text(title);
CREATE TABLE IF NOT EXISTS annotation_nodes (graph TEXT NOT NULL, node TEXT NOT NULL, hash TEXT NOT NULL,
    PRIMARY KEY (graph, node));
"""

_PAPER_INDEXES = ("paper_ids_key", "paper_ids_value", "authors_key", "authors_author", "affiliations_key",
                  "affiliations_institution", "affiliations_author", "bib_key", "paper_title_text_row",
                  "paper_title_text_title")
"""The secondary indexes of the tables a paper's put fills (see :meth:`Catalog.indexes_deferred`)."""

CACHE_MIB = 256
"""SQLite's page cache per connection (its default is 2 MiB): a build's inserts land all over
the tables' B-trees, whose pages then stay in memory instead of being read again."""

WAL_LIMIT_MIB = 64
"""The size SQLite cuts the write-ahead log back to after a checkpoint (``journal_size_limit``;
by default it keeps the largest size it reached). A transaction's pages all go to the log
before the database file, so a build commits as it reads (``etl.build.COMMIT_EVERY``): its 1M
catalog with parses (4.6 GB) had a log as large beside it, in one transaction."""

# concept_mentions and concepts_extracted are per paper: a changed paper loses them and is extracted again.
_PER_PAPER_TABLES = ("paper_inputs", "paper_ids", "authors", "affiliations", "bib", "concept_mentions", "concepts_extracted",
                     "topics_inferred")


@dataclass(frozen=True)
class PaperRows:
    """What the catalog keeps of a paper, as the rows of its tables (less the paper's key)."""

    title_norm: str
    year: int | None
    ids: list[tuple[str, str]]  # (scheme, value)
    authors: list[tuple]  # (position, author key, display name, given and middle names, family name)
    affiliations: list[tuple]  # (author key, institution key, institution, country, settlement, region)
    bib: list[tuple]  # (ref id, normalised title, year, doi, pmid, pmcid, arxiv)


def paper_rows(paper: Paper) -> PaperRows:
    """The catalog's rows of a paper: a build makes them in the worker that assembled it, so that
    the process writing the catalog only inserts them.

    >>> from ckg.etl.records import AuthorMention
    >>> rows = paper_rows(Paper(key="k", title="A Study", doi="10.1/x", authors=[AuthorMention("Lin", "Wang")]))
    >>> rows.title_norm, rows.ids, [r[2:] for r in rows.authors]
    ('a study', [('doi', '10.1/x')], [('Lin Wang', 'Lin', 'Wang')])
    """
    ids = [("doi", paper.doi), ("pmid", paper.pmid), ("pmcid", paper.pmcid), ("arxiv", paper.arxiv_id.lower())]
    authors, affiliations = [], []
    for position, m in enumerate(paper.authors, start=1):
        a = author_key(m.given, m.family)
        authors.append((position, a, m.display_name, " ".join([m.given, *m.middle]).strip(), m.family))
        for aff in m.affiliations:
            affiliations.append((a, institution_key(aff.institution, aff.country), aff.institution, aff.country,
                                 aff.settlement, aff.region))
    bib = [(b.ref_id, normalize_title(b.title), b.year, b.doi, b.pmid, b.pmcid, b.arxiv) for b in paper.bib]
    return PaperRows(normalize_title(paper.title), paper.year, [(s, v) for s, v in ids if v], authors, affiliations, bib)


def _index_statement(name: str) -> str:
    """The ``CREATE INDEX`` statement of :data:`SCHEMA` that makes the index ``name``.

    >>> _index_statement("bib_key")
    'CREATE INDEX IF NOT EXISTS bib_key ON bib(key)'
    """
    return next(line.rstrip(";") for line in SCHEMA.splitlines() if line.startswith(f"CREATE INDEX IF NOT EXISTS {name} "))


class KnownInputs:
    """known(key, fingerprint): the stored DOI ('' for none) of a paper the catalog holds with
    this input fingerprint, else None (:meth:`Catalog.known_inputs`). A plain object, so that
    the worker processes of an update can have it (they check the rows they fingerprint).

    >>> known = KnownInputs({"k": (_packed("ab" * 20), "10.1/x")})
    >>> known("k", "ab" * 20), known("k", "cd" * 20), known("other", "ab" * 20)
    ('10.1/x', None, None)
    """

    def __init__(self, index: dict[str, tuple[bytes, str]]) -> None:
        self.index = index

    def __call__(self, key: str, fingerprint: str) -> str | None:
        found = self.index.get(key)
        if found is None or found[0] != _packed(fingerprint):
            return None
        return found[1]


_AUTHOR_FORM = "COUNT(*) DESC, LENGTH(name) DESC, name, given, family"
"""How an author's mention forms rank (grouped by name, given, family): the most frequent, then
the longest (most complete), then code-point order."""


def _value_form(column: str) -> str:
    """How an institution's values of ``column`` rank (grouped by it): as :data:`_AUTHOR_FORM`."""
    return f"COUNT(*) DESC, LENGTH({column}) DESC, {column}"


class Catalog:
    """SQLite-backed state of a store. Use as a context manager (commits on success)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.db = sqlite3.connect(str(self.path))
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(f"PRAGMA cache_size=-{CACHE_MIB * 1024}")
        self.db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_MIB * 2**20}")
        self.db.executescript(SCHEMA)
        self._log_citations: bool | None = None  # whether put/delete are logged for citation resolution

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.db.commit()
        else:
            self.db.rollback()
        self.db.close()

    def commit(self) -> None:
        self.db.commit()

    @contextmanager
    def indexes_deferred(self) -> Iterator[None]:
        """Put many papers without the per-paper tables' secondary indexes (:data:`_PAPER_INDEXES`),
        made again, each in one sort, when the block ends: a build puts a million papers, whose
        author and identifier keys land all over these indexes one insert at a time. Inside the
        block, lookups by those columns scan their table. Should the process stop inside it, the
        next opening of the catalog makes the indexes again (:data:`SCHEMA`)."""
        for name in _PAPER_INDEXES:
            self.db.execute(f"DROP INDEX IF EXISTS {name}")
        yield
        for name in _PAPER_INDEXES:
            self.db.execute(_index_statement(name))

    # -- papers -------------------------------------------------------------------------------

    def paper_state(self, key: str) -> tuple[str, str, str] | None:
        """(hash, first_release, files JSON) of a paper, or None when it is not in the store."""
        row = self.db.execute("SELECT hash, first_release, files FROM papers WHERE key = ?", (key,)).fetchone()
        return tuple(row) if row else None

    def keys(self) -> set[str]:
        return {k for (k,) in self.db.execute("SELECT key FROM papers")}

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM papers").fetchone()[0]

    def put_paper(self, paper: Paper, content_hash: str, first_release: str, last_release: str, *,
                  new: bool = False, rows: PaperRows | None = None) -> None:
        """Insert or replace everything the catalog keeps of a paper (``new``: the catalog has no
        row of it, which the caller has just checked: nothing to delete first; ``rows``: the
        paper's :func:`paper_rows`, when they were made where it was assembled)."""
        if not new:
            self.delete_papers([paper.key])
        rows = rows or paper_rows(paper)
        key = paper.key
        db = self.db
        db.execute("INSERT INTO papers VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (key, content_hash, rows.title_norm, rows.year, first_release, last_release,
                    json.dumps(paper.source_files)))
        if paper.input_hash:
            db.execute("INSERT INTO paper_inputs VALUES (?, ?)", (key, paper.input_hash))
        # (an executemany of nothing costs as much as one of a row)
        if rows.ids:
            db.executemany("INSERT INTO paper_ids VALUES (?, ?, ?)", [(key, *r) for r in rows.ids])
        if rows.authors:
            db.executemany("INSERT INTO authors VALUES (?, ?, ?, ?, ?, ?)", [(key, *r) for r in rows.authors])
        if rows.affiliations:
            db.executemany("INSERT INTO affiliations VALUES (?, ?, ?, ?, ?, ?, ?)", [(key, *r) for r in rows.affiliations])
        if rows.bib:
            db.executemany("INSERT INTO bib VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [(key, *r) for r in rows.bib])
        if self._citations_logged():
            db.execute("INSERT OR IGNORE INTO cite_dirty VALUES (?, NULL)", (key,))

    def known_input(self, key: str, fingerprint: str) -> str | None:
        """The paper's DOI ('' for none) when the store holds it read from this input fingerprint
        (:func:`ckg.etl.assemble.input_fingerprint`), else None."""
        row = self.db.execute(  # +scheme: look the paper up by key, not every DOI by scheme
            "SELECT i.fingerprint, d.value FROM paper_inputs i LEFT JOIN paper_ids d ON d.key = i.key "
            "AND +d.scheme = 'doi' WHERE i.key = ?", (key,)).fetchone()
        if row is None or row[0] != fingerprint:
            return None
        return row[1] or ""

    def known_inputs(self) -> KnownInputs:
        """:meth:`known_input` answered from one read of every stored fingerprint.

        An update asks once for each row of the release, in the release's order: one scan of
        the table in key order costs a fraction of as many lookups of a cold catalog (0.8 s for
        100,000 papers, against 30 to 340 µs a lookup). What a build writes during the read is
        not seen: each key is asked about once, before its paper is written. Fingerprints are
        kept as 20 bytes, not 40 hex digits (about 200 bytes a paper in all)."""
        index: dict[str, tuple[bytes, str]] = {}
        for key, fingerprint, doi in self.db.execute(
                "SELECT i.key, i.fingerprint, d.value FROM paper_inputs i LEFT JOIN paper_ids d "
                "ON d.key = i.key AND +d.scheme = 'doi'"):
            index[key] = (_packed(fingerprint), doi or "")
        return KnownInputs(index)

    def set_input(self, key: str, fingerprint: str) -> None:
        """Record (or forget, with '') the input fingerprint of a paper whose content did not change."""
        self.db.execute("DELETE FROM paper_inputs WHERE key = ?", (key,))
        if fingerprint:
            self.db.execute("INSERT INTO paper_inputs VALUES (?, ?)", (key, fingerprint))

    def set_provenance(self, key: str, last_release: str, files: list[str]) -> None:
        self.db.execute("UPDATE papers SET last_release = ?, files = ? WHERE key = ?", (last_release, json.dumps(files), key))

    def delete_papers(self, keys: Iterable[str]) -> None:
        rows = [(k,) for k in keys]
        if self._citations_logged():
            for key, in rows:
                self._log_deletion(key)
        for table in _PER_PAPER_TABLES:
            self.db.executemany(f"DELETE FROM {table} WHERE key = ?", rows)
        # the title index by rowid: a DELETE of FTS5 rows chosen by a subquery costs 0.6 ms a paper
        rowids = [(r,) for (key,) in rows for (r,) in self.db.execute("SELECT rowid FROM papers WHERE key = ?", (key,))]
        self.db.executemany("DELETE FROM paper_titles WHERE rowid = ?", rowids)
        self.db.executemany("DELETE FROM paper_title_text WHERE row = ?", rowids)
        self.db.executemany("DELETE FROM papers WHERE key = ?", rows)

    # -- the title index: the lower-cased title of each paper, as the store holds it -------------
    # (an FTS5 table of trigrams whose rows are the papers' rows: papers_with_title_containing reads it),
    # and each title as written (paper_title_text, by the paper's row: first_titles_containing sorts them)

    TITLE_INDEX_COMPLETE = "title_index"
    """Meta key set when the title index holds every paper's title (a build, or an update that
    filled it from the store: catalogs made before it have no titles)."""
    TITLE_TEXT_COMPLETE = "title_text"
    """Meta key set when ``paper_title_text`` holds every title of every paper as written, each a
    plain string (``xsd:string``, which SPARQL orders by code points, as SQLite's BINARY does)."""

    def put_title(self, key: str, title: str) -> None:
        """The title of a paper just put (its ``dcterms:title`` as the store holds it, a plain string)."""
        self._insert_titles([(key, title)])

    def replace_titles(self, titles: Iterable[tuple[str, str | list[str]]]) -> None:
        """Fill the title index and the titles as written anew with (paper key, its title or
        titles) pairs and mark both complete (``ckg.etl.build.fill_titles`` unmarks the titles as
        written when one is not a plain string)."""
        self.db.execute("DELETE FROM paper_titles")
        self.db.execute("DELETE FROM paper_title_text")
        self._insert_titles(titles)
        self.set_meta(self.TITLE_INDEX_COMPLETE, "complete")
        self.set_meta(self.TITLE_TEXT_COMPLETE, "complete")

    def _insert_titles(self, titles: Iterable[tuple[str, str | list[str]]]) -> None:
        """The rows of both tables for each (key, title or titles) of a paper the catalog holds.
        The paper's row is looked up first: SQLite runs ``INSERT INTO`` an FTS5 table ``SELECT
        ...`` through a temporary table, five times as slow as the lookup and a plain insert (60 us
        a title)."""
        for key, title in titles:
            row = self.db.execute("SELECT rowid FROM papers WHERE key = ?", (key,)).fetchone()
            if row is None:
                continue
            each = [title] if isinstance(title, str) else title
            self.db.execute("INSERT INTO paper_titles (rowid, title) VALUES (?, ?)",
                            (row[0], "\n".join(t.lower() for t in each)))
            self.db.executemany("INSERT INTO paper_title_text VALUES (?, ?)", [(row[0], t) for t in each])

    def title_index_complete(self) -> bool:
        return self.get_meta(self.TITLE_INDEX_COMPLETE) == "complete"

    def title_text_complete(self) -> bool:
        return self.get_meta(self.TITLE_TEXT_COMPLETE) == "complete"

    # -- entities ------------------------------------------------------------------------------

    def entity_keys(self, paper_keys: Iterable[str]) -> tuple[set[str], set[str]]:
        """(author keys, institution keys) mentioned by the given papers."""
        authors: set[str] = set()
        institutions: set[str] = set()
        for key in paper_keys:
            authors.update(a for (a,) in self.db.execute("SELECT author FROM authors WHERE key = ?", (key,)))
            for a, i in self.db.execute("SELECT author, institution FROM affiliations WHERE key = ?", (key,)):
                authors.add(a)
                institutions.add(i)
        return authors, institutions

    def author_description(self, author: str) -> tuple[str, str, str] | None:
        """(name, given, family) of the author's most frequent mention form; ties go to the
        longest (most complete) form, then code-point order. None when no paper mentions the
        author any more."""
        row = self.db.execute(
            "SELECT name, given, family FROM authors WHERE author = ? GROUP BY name, given, family "
            f"ORDER BY {_AUTHOR_FORM} LIMIT 1",
            (author,),
        ).fetchone()
        return tuple(row) if row else None

    def institution_description(self, institution: str) -> tuple[str, str, str, str] | None:
        """(name, country, settlement, region) of an institution: each the most frequent value
        among its mentions (ties: the longest, then code-point order); empty values only when
        no mention gives one."""
        values = []
        for column in ("name", "country", "settlement", "region"):
            row = self.db.execute(
                f"SELECT {column} FROM affiliations WHERE institution = ? AND {column} != '' GROUP BY {column} "
                f"ORDER BY {_value_form(column)} LIMIT 1",
                (institution,),
            ).fetchone()
            values.append(row[0] if row else "")
        return tuple(values) if values[0] else None

    def author_descriptions(self) -> Iterator[tuple[str, str, str, str]]:
        """(author, name, given, family) of every author, each as :meth:`author_description`
        gives it, in one pass over the mentions (a build describes every author)."""
        return iter(self.db.execute(
            "SELECT author, name, given, family FROM (SELECT author, name, given, family, ROW_NUMBER() OVER ("
            f"PARTITION BY author ORDER BY {_AUTHOR_FORM}) AS rank "
            "FROM authors GROUP BY author, name, given, family) WHERE rank = 1"))

    def institution_descriptions(self) -> Iterator[tuple[str, str, str, str, str]]:
        """(institution, name, country, settlement, region) of every institution that has a name,
        each as :meth:`institution_description` gives it, one pass over the mentions a column."""
        values: dict[str, list[str]] = {}
        for n, column in enumerate(("name", "country", "settlement", "region")):
            for institution, value in self.db.execute(
                    f"SELECT institution, {column} FROM (SELECT institution, {column}, ROW_NUMBER() OVER ("
                    f"PARTITION BY institution ORDER BY {_value_form(column)}) AS rank "
                    f"FROM affiliations WHERE {column} != '' GROUP BY institution, {column}) WHERE rank = 1"):
                if n == 0:
                    values[institution] = [value, "", "", ""]
                elif institution in values:
                    values[institution][n] = value
        return ((institution, *desc) for institution, desc in values.items())

    def all_affiliations(self) -> Iterator[tuple[str, str]]:
        """Every (author, institution) pair that some paper states."""
        return iter(self.db.execute("SELECT DISTINCT author, institution FROM affiliations"))

    def affiliations_of(self, author: str) -> list[str]:
        return [i for (i,) in self.db.execute(
            "SELECT DISTINCT institution FROM affiliations WHERE author = ? ORDER BY institution", (author,))]

    # -- citations -----------------------------------------------------------------------------

    def target_index(self) -> tuple[dict[tuple[str, str], list[str]], dict[str, list[tuple[str, int | None]]]]:
        """Identifier -> paper keys, and normalised title -> (paper key, year)."""
        ids: dict[tuple[str, str], list[str]] = {}
        for key, scheme, value in self.db.execute("SELECT key, scheme, value FROM paper_ids ORDER BY key"):
            ids.setdefault((scheme, value), []).append(key)
        titles: dict[str, list[tuple[str, int | None]]] = {}
        for key, title, year in self.db.execute("SELECT key, title_norm, year FROM papers ORDER BY key"):
            if title:
                titles.setdefault(title, []).append((key, year))
        return ids, titles

    def bib_entries(self) -> Iterator[tuple[str, str, str, int | None, str, str, str, str]]:
        """(citing key, ref_id, title_norm, year, doi, pmid, pmcid, arxiv) for every entry."""
        yield from self.db.execute(
            "SELECT key, ref_id, title_norm, year, doi, pmid, pmcid, arxiv FROM bib ORDER BY key, rowid")

    def citation_edges(self) -> dict[tuple[str, str], str]:
        return {(a, b): m for a, b, m in self.db.execute("SELECT citing, cited, method FROM citations")}

    def citation_pairs(self) -> Iterator[tuple[str, str]]:
        """(citing, cited) of every citation edge, streamed."""
        yield from self.db.execute("SELECT citing, cited FROM citations")

    def cited_counts(self) -> list[tuple[str, int]]:
        """(cited paper key, papers citing it) for every paper cited at least once."""
        return self.db.execute("SELECT cited, COUNT(*) FROM citations GROUP BY cited").fetchall()

    def replace_citations(self, edges: dict[tuple[str, str], str]) -> None:
        self.db.execute("DELETE FROM citations")
        self.db.executemany("INSERT INTO citations VALUES (?, ?, ?)", [(a, b, m) for (a, b), m in sorted(edges.items())])

    def citation_methods(self) -> Counter[str]:
        return Counter(dict(self.db.execute("SELECT method, COUNT(*) FROM citations GROUP BY method").fetchall()))

    # The state of citation resolution (ckg.etl.citations): each decided entry's outcome and
    # candidate papers (cite_outcomes), posting tables of the keys that find papers from entries
    # (cite_paper_keys: identifiers, title keys, fuzzy keys) and entries from papers
    # (cite_entry_keys: identifiers and title keys; cite_entry_words: fuzzy) with bib and papers
    # rowids,
    # the tiers of common words (cite_words), and, once a resolution has run, a log of what
    # changed since: the papers put or deleted with their old title, year and identifiers
    # (cite_dirty) and the entries deleted (cite_dead). Rowids are kept by SQLite's backup (the
    # copy of a generation); a VACUUM would renumber them.

    def citation_state(self) -> dict | None:
        value = self.get_meta("citations_state")
        return json.loads(value) if value else None

    def put_citation_state(self, state: dict) -> None:
        self.set_meta("citations_state", json.dumps(state, sort_keys=True))
        self._log_citations = True

    def clear_citation_state(self) -> None:
        """Forget every outcome, posting and log (the citation edges stay, to be compared)."""
        for table in ("cite_outcomes", "cite_entry_keys", "cite_entry_words", "cite_paper_keys", "cite_words",
                      "cite_dirty", "cite_dead"):
            self.db.execute(f"DELETE FROM {table}")
        self.db.execute("DELETE FROM meta WHERE k = 'citations_state'")
        self._log_citations = False

    def put_citation_words(self, tiers: dict[str, int]) -> None:
        self.db.execute("DELETE FROM cite_words")
        self.db.executemany("INSERT INTO cite_words VALUES (?, ?)", sorted(tiers.items()))

    def citation_words(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT word, tier FROM cite_words"))

    def citation_dirty_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM cite_dirty").fetchone()[0]

    def citation_dirty(self) -> dict[str, dict | None]:
        """Papers put or deleted since the last resolution: key -> the paper as that resolution
        saw it (rowid, title, year, ids), or None for a paper new since."""
        return {k: (json.loads(old) if old else None) for k, old in self.db.execute("SELECT key, old FROM cite_dirty")}

    def citation_dead(self) -> list[tuple[int, str, str, str, str, str, int | None]]:
        """Entries deleted since the last resolution: (rowid, title_norm, doi, pmid, pmcid, arxiv,
        outcome code or None when unresolved)."""
        return self.db.execute("SELECT entry, title_norm, doi, pmid, pmcid, arxiv, code FROM cite_dead").fetchall()

    def clear_citation_log(self) -> None:
        self.db.execute("DELETE FROM cite_dirty")
        self.db.execute("DELETE FROM cite_dead")

    def _citations_logged(self) -> bool:
        if self._log_citations is None:
            self._log_citations = self.get_meta("citations_state") is not None
        return self._log_citations

    def _log_deletion(self, key: str) -> None:
        """Before a paper's rows go: its old version and its resolved entries, for the next
        resolution. A paper put since the last resolution has nothing resolved: nothing to log."""
        db = self.db
        if db.execute("SELECT 1 FROM cite_dirty WHERE key = ?", (key,)).fetchone():
            return
        row = db.execute("SELECT rowid, title_norm, year FROM papers WHERE key = ?", (key,)).fetchone()
        if row is None:
            return
        ids = [list(r) for r in db.execute("SELECT scheme, value FROM paper_ids WHERE key = ? ORDER BY rowid", (key,))]
        old = {"rowid": row[0], "key": key, "title": row[1], "year": row[2], "ids": ids}
        db.execute("INSERT INTO cite_dirty VALUES (?, ?)", (key, json.dumps(old)))
        db.execute("INSERT OR REPLACE INTO cite_dead SELECT b.rowid, b.title_norm, b.doi, b.pmid, b.pmcid, b.arxiv, "
                   "(SELECT MIN(o.code) FROM cite_outcomes o WHERE o.entry = b.rowid) FROM bib b WHERE b.key = ?", (key,))
        db.execute("DELETE FROM cite_outcomes WHERE entry IN (SELECT rowid FROM bib WHERE key = ?)", (key,))

    # -- concepts and topics (ckg.etl.annotate) --------------------------------------------------

    def put_concept_mentions(self, key: str, mentions: dict[str, tuple[int, int, int]], words: int) -> None:
        """A paper's extracted concept mentions: concept key -> (title, abstract, body) counts."""
        self.db.execute("DELETE FROM concept_mentions WHERE key = ?", (key,))
        self.db.executemany("INSERT INTO concept_mentions VALUES (?, ?, ?, ?, ?)",
                            [(key, c, *counts) for c, counts in sorted(mentions.items())])
        self.db.execute("INSERT OR REPLACE INTO concepts_extracted VALUES (?, ?)", (key, words))

    def clear_concept_mentions(self) -> None:
        self.db.execute("DELETE FROM concept_mentions")
        self.db.execute("DELETE FROM concepts_extracted")

    def keys_without_concepts(self) -> list[str]:
        """Papers whose concepts are not extracted yet, in key order."""
        return [k for (k,) in self.db.execute(
            "SELECT key FROM papers WHERE key NOT IN (SELECT key FROM concepts_extracted) ORDER BY key")]

    def concept_mention_rows_between(self, lo: str | None, hi: str | None) -> Iterator[tuple[str, str, int, int, int]]:
        """The mention rows of the papers of a key range (:meth:`key_ranges`)."""
        where, params = self._between(lo, hi)
        yield from self.db.execute(
            f"SELECT key, concept, title, abstract, body FROM concept_mentions WHERE {where} ORDER BY key, concept", params)

    def corpus_hash(self) -> str:
        """A hash of every paper's key and content hash: changes when any paper's triples do."""
        import hashlib

        h = hashlib.sha256()
        for key, content in self.db.execute("SELECT key, hash FROM papers ORDER BY key"):
            h.update(f"{key}\t{content}\n".encode())
        return h.hexdigest()

    def extracted_words(self) -> int:
        return self.db.execute("SELECT COALESCE(SUM(words), 0) FROM concepts_extracted").fetchone()[0]

    def annotation_edges(self, graph: str) -> dict[tuple[str, str], tuple[str, int]]:
        """(paper key, target key) -> (weight literal, extra integer) of a graph's edges in the store."""
        return {(k, t): (w, x) for k, t, w, x in self.annotation_edge_rows(graph)}

    def replace_annotation_edges(self, graph: str, edges: dict[tuple[str, str], tuple[str, int]]) -> None:
        self.db.execute("DELETE FROM annotation_edges WHERE graph = ?", (graph,))
        self._insert_annotation_edges(graph, edges)

    def _insert_annotation_edges(self, graph: str, edges: dict[tuple[str, str], tuple[str, int]]) -> None:
        self.db.executemany("INSERT INTO annotation_edges VALUES (?, ?, ?, ?, ?)",
                            [(graph, k, t, w, x) for (k, t), (w, x) in sorted(edges.items())])

    def key_ranges(self, size: int) -> list[tuple[str | None, str | None]]:
        """Half-open ranges ``[lo, hi)`` of paper keys (None: unbounded) that together hold every
        key, each about ``size`` papers of the catalog: a stage that works through the corpus
        range by range holds one range at a time, and rows of papers no longer in the catalog
        fall in a range too.

        >>> import tempfile
        >>> with Catalog(Path(tempfile.mkdtemp()) / "c.sqlite") as c:
        ...     _ = c.db.executemany("INSERT INTO papers (key, hash) VALUES (?, '')", [(k,) for k in "edcba"])
        ...     c.key_ranges(2), c.key_ranges(5)
        ([(None, 'c'), ('c', 'e'), ('e', None)], [(None, None)])
        """
        cursor = self.db.execute("SELECT key FROM papers ORDER BY key")
        bounds = [k for i, (k,) in enumerate(cursor) if i and i % size == 0]
        return list(zip([None, *bounds], [*bounds, None]))

    @staticmethod
    def _between(lo: str | None, hi: str | None) -> tuple[str, tuple]:
        """SQL condition and parameters of ``lo <= key < hi`` (None: unbounded)."""
        sql = " AND ".join(c for c, v in (("key >= ?", lo), ("key < ?", hi)) if v is not None) or "1"
        return sql, tuple(v for v in (lo, hi) if v is not None)

    def annotation_edges_between(self, graph: str, lo: str | None,
                                 hi: str | None) -> dict[tuple[str, str], tuple[str, int]]:
        """:meth:`annotation_edges` of the papers of a key range (:meth:`key_ranges`)."""
        where, params = self._between(lo, hi)
        return {(k, t): (w, x) for k, t, w, x in self.db.execute(
            f"SELECT key, target, weight, extra FROM annotation_edges WHERE graph = ? AND {where}", (graph, *params))}

    def replace_annotation_edges_between(self, graph: str, lo: str | None, hi: str | None,
                                         edges: dict[tuple[str, str], tuple[str, int]]) -> None:
        """Replace the edges of the papers of a key range (``edges`` holds their new ones)."""
        where, params = self._between(lo, hi)
        self.db.execute(f"DELETE FROM annotation_edges WHERE graph = ? AND {where}", (graph, *params))
        self._insert_annotation_edges(graph, edges)

    def annotation_edge_rows(self, graph: str) -> Iterator[tuple[str, str, str, int]]:
        """(paper key, target key, weight literal, extra integer) of a graph's edges, streamed."""
        yield from self.db.execute("SELECT key, target, weight, extra FROM annotation_edges WHERE graph = ?", (graph,))

    def first_page_candidates(self, graph: str, limit: int) -> Iterator[tuple[str, str, str]]:
        """(paper key, target key, weight literal) of the edges of a graph that can be among each
        target's first ``limit`` in the order of the named query ``topic-papers``: the papers'
        citations (their ``citations`` rows), then the weight, both descending, then the paper's
        IRI. SQLite ranks the edges of each target by the first two, tied edges alike, and keeps
        those ranked ``limit`` or better: the first ``limit`` by the whole order are among them,
        for any tie-break (:func:`ckg.etl.signals.signal_quads` sorts them by IRI, which a key's
        order need not follow once it is percent-encoded). At 100k papers, 0.4 s where reading
        every edge into Python took 2 s."""
        yield from self.db.execute(
            "SELECT key, target, weight FROM (SELECT e.key, e.target, e.weight, RANK() OVER ("
            "PARTITION BY e.target ORDER BY COALESCE(c.n, 0) DESC, CAST(e.weight AS REAL) DESC) AS r "
            "FROM annotation_edges e LEFT JOIN (SELECT cited, COUNT(*) AS n FROM citations GROUP BY cited) c "
            "ON c.cited = e.key WHERE e.graph = ?) WHERE r <= ?", (graph, limit))

    def annotation_orphans(self, graph: str) -> list[str]:
        """Papers with edges in a graph that are no longer in the store (removed papers)."""
        return [k for (k,) in self.db.execute(
            "SELECT DISTINCT key FROM annotation_edges WHERE graph = ? AND key NOT IN (SELECT key FROM papers)", (graph,))]

    def annotation_edge_summary(self, graph: str) -> dict[str, tuple[int, int]]:
        """Target -> (papers whose first-ranked edge it is, papers) of a graph's edges."""
        return {t: (top, n) for t, top, n in self.db.execute(
            "SELECT target, SUM(extra = 1), COUNT(*) FROM annotation_edges WHERE graph = ? GROUP BY target", (graph,))}

    def annotation_edge_papers(self, graph: str) -> dict[str, int]:
        """Target -> papers with an edge to it, of a graph's edges: read from the ``(graph, target)``
        index alone, where :meth:`annotation_edge_summary` reads each edge's row too (1.06 s
        against 0.06 s for the 750,000 concept edges of the 100k store)."""
        return dict(self.db.execute(
            "SELECT target, COUNT(*) FROM annotation_edges WHERE graph = ? GROUP BY target", (graph,)))

    def annotation_edges_scope(self, graph: str, keys: Iterable[str],
                               targets: Iterable[str]) -> dict[tuple[str, str], tuple[str, int]]:
        """:meth:`annotation_edges` of the given papers and of the given targets (concepts)."""
        self._select(keys)
        self._select(targets, "selected_targets")
        return {(k, t): (w, x) for k, t, w, x in self.db.execute(
            "SELECT key, target, weight, extra FROM annotation_edges WHERE graph = ? AND key IN temp.selected "
            "UNION SELECT key, target, weight, extra FROM annotation_edges WHERE graph = ? "
            "AND target IN temp.selected_targets", (graph, graph))}

    def replace_annotation_edges_scope(self, graph: str, keys: Iterable[str], targets: Iterable[str],
                                       edges: dict[tuple[str, str], tuple[str, int]]) -> None:
        """Replace the edges of the given papers and targets (``edges`` holds their new ones)."""
        self._select(keys)
        self._select(targets, "selected_targets")
        self.db.execute("DELETE FROM annotation_edges WHERE graph = ? AND key IN temp.selected", (graph,))
        self.db.execute("DELETE FROM annotation_edges WHERE graph = ? AND target IN temp.selected_targets", (graph,))
        self._insert_annotation_edges(graph, edges)

    def annotation_edge_totals(self, graph: str) -> tuple[int, int, list[str]]:
        """(edges, papers with an edge, targets with an edge in key order) of a graph."""
        edges, papers = self.db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT key) FROM annotation_edges WHERE graph = ?", (graph,)).fetchone()
        targets = [t for (t,) in self.db.execute(
            "SELECT DISTINCT target FROM annotation_edges WHERE graph = ? ORDER BY target", (graph,))]
        return edges, papers, targets

    def _select(self, keys: Iterable[str], table: str = "selected") -> None:
        self.db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY) WITHOUT ROWID")
        self.db.execute(f"DELETE FROM temp.{table}")
        self.db.executemany(f"INSERT OR IGNORE INTO temp.{table} VALUES (?)", ((k,) for k in keys))

    # -- concept edges (ckg.etl.concept_edges) ----------------------------------------------------

    def concept_document_frequencies(self) -> dict[str, int]:
        """Concept -> papers with a mention of it."""
        return dict(self.db.execute("SELECT concept, COUNT(*) FROM concept_mentions GROUP BY concept"))

    def weak_mentions(self, min_body_mentions: int) -> dict[str, int]:
        """Concept -> papers that name it only in their body, fewer than ``min_body_mentions`` times
        (from the partial index of body-only mentions, ``concept_mentions_body_only``: a scan of
        every mention's row took 0.9 s of each update of the 100k store)."""
        return dict(self.db.execute(
            "SELECT concept, COUNT(*) FROM concept_mentions WHERE title = 0 AND abstract = 0 AND body < ? "
            "GROUP BY concept", (min_body_mentions,)))

    def concept_mention_rows_scope(self, keys: Iterable[str],
                                   concepts: Iterable[str]) -> Iterator[tuple[str, str, int, int, int]]:
        """The mention rows of the given papers and of the given concepts."""
        self._select(keys)
        self._select(concepts, "selected_targets")
        yield from self.db.execute(
            "SELECT key, concept, title, abstract, body FROM concept_mentions WHERE key IN temp.selected "
            "UNION SELECT key, concept, title, abstract, body FROM concept_mentions "
            "WHERE concept IN temp.selected_targets")

    def concept_states(self) -> dict[str, tuple[int, int]]:
        """Concept -> (specificity tenths, dropped) as of the last run (:func:`ckg.etl.concept_edges.concept_state`)."""
        return {c: (t, d) for c, t, d in self.db.execute("SELECT concept, tenths, dropped FROM concept_state")}

    def set_concept_states(self, states: dict[str, tuple[int, int]]) -> None:
        self.db.execute("DELETE FROM concept_state")
        self.db.executemany("INSERT INTO concept_state VALUES (?, ?, ?)", [(c, t, d) for c, (t, d) in states.items()])

    # -- the sampled topic model (ckg.etl.topics) ------------------------------------------------

    def topic_model(self) -> tuple[bytes, dict] | None:
        """(model bytes, its description) of the store's sampled topic model, or None."""
        return _topic_model(self.db)

    def set_topic_model(self, data: bytes | None, info: dict | None) -> None:
        """Keep (or, with None, drop) the sampled topic model and its description."""
        self.db.execute("DELETE FROM topic_model")
        if data is not None and info is not None:
            self.db.executemany("INSERT INTO topic_model VALUES (?, ?)", [("model", data), ("info", json.dumps(info))])

    def set_topic_model_info(self, info: dict) -> None:
        """Replace the description of the sampled topic model (its bytes stay)."""
        self.db.execute("UPDATE topic_model SET v = ? WHERE k = 'info'", (json.dumps(info),))

    def keys_without_topics(self) -> list[str]:
        """Papers whose topics were not inferred with the current sampled model, in key order."""
        return [k for (k,) in self.db.execute(
            "SELECT key FROM papers WHERE key NOT IN (SELECT key FROM topics_inferred) ORDER BY key")]

    def set_topics_inferred(self, keys: Iterable[str] | None) -> None:
        """Record papers as inferred; None forgets every paper (a new model)."""
        if keys is None:
            self.db.execute("DELETE FROM topics_inferred")
        else:
            self.db.executemany("INSERT OR IGNORE INTO topics_inferred VALUES (?)", ((k,) for k in keys))

    def annotation_nodes(self, graph: str) -> dict[str, str]:
        """Node key -> hash of its triples, for the concept or topic nodes of a graph in the store."""
        return dict(self.db.execute("SELECT node, hash FROM annotation_nodes WHERE graph = ?", (graph,)))

    def replace_annotation_nodes(self, graph: str, nodes: dict[str, str]) -> None:
        self.db.execute("DELETE FROM annotation_nodes WHERE graph = ?", (graph,))
        self.db.executemany("INSERT INTO annotation_nodes VALUES (?, ?, ?)", [(graph, n, h) for n, h in sorted(nodes.items())])

    # -- meta ------------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT v FROM meta WHERE k = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))


def _packed(fingerprint: str) -> bytes:
    """A fingerprint's lower-case hex digits as bytes (any other text as its UTF-8, so that two
    texts pack alike only when they are equal).

    >>> _packed("00ff"), _packed("00FF"), _packed("not hex")
    (b'\\x00\\xff', b'00FF', b'not hex')
    """
    try:
        packed = bytes.fromhex(fingerprint)
    except ValueError:
        packed = b""
    return packed if packed.hex() == fingerprint and packed else fingerprint.encode("utf-8", "surrogatepass")


def _topic_model(db: sqlite3.Connection) -> tuple[bytes, dict] | None:
    try:
        rows = dict(db.execute("SELECT k, v FROM topic_model"))
    except sqlite3.OperationalError:  # a catalog written before the table existed
        return None
    if "model" not in rows or "info" not in rows:
        return None
    return bytes(rows["model"]), json.loads(rows["info"])


def read_topic_model(path: Path) -> tuple[bytes, dict] | None:
    """The sampled topic model of another store's catalog, opened read-only (``--topics-from``)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return _topic_model(db)
    finally:
        db.close()


def _marked_complete(db: sqlite3.Connection, key: str) -> bool:
    """Whether a catalog's meta table marks ``key`` complete."""
    found = db.execute("SELECT v FROM meta WHERE k = ?", (key,)).fetchone()
    return found is not None and found[0] == "complete"


def _title_match(text: str) -> tuple[str, str]:
    """The condition on ``paper_titles.title`` (and its parameter) of the lower-cased titles that
    contain the lower-cased ``text``: a phrase of the trigram index for three characters or more
    (its rows only: 18 ms for the 67,415 of a million titles that hold "covid"), else a ``GLOB``
    with no wildcard in the text (the index's rows and each row's title: 135 ms).

    >>> _title_match('A "b" c'), _title_match("a*")
    (('title MATCH ?', '"a ""b"" c"'), ('title GLOB ?', '*a[*]*'))
    """
    lowered = text.lower()
    if len(lowered) >= 3:
        return "title MATCH ?", '"' + lowered.replace('"', '""') + '"'
    return "title GLOB ?", "*" + "".join(f"[{c}]" if c in "*?[" else c for c in lowered) + "*"


SCAN_IN_ORDER = 50
""":func:`first_titles_containing` reads the titles in order (the index of ``paper_title_text``)
until it has ``n`` that match when at least this many times ``n`` papers match (it then reads
about 1/50 of the titles at most); else it sorts the matches. At a million papers, the first 100
of the 67,415 titles holding "covid": 49 ms in order, 316 ms sorted."""


def first_titles_containing(path: Path, text: str, n: int, cap: int) -> list[tuple[str, str]] | None:
    """(title, paper key) of the titles as written whose lower-cased value contains the
    lower-cased ``text``, in the order of the titles (code points, as SPARQL orders plain
    strings): the first ``n``, and those whose title ties with the ``n``-th (their papers' IRIs
    break the tie). From the catalog at ``path`` (opened read-only); None when it does not hold
    every title as written (:attr:`Catalog.TITLE_TEXT_COMPLETE`) or more than ``cap`` papers'
    titles hold the text.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> titles = [("a", "Masks in schools"), ("b", "Cloth masks"), ("c", "Ventilation"), ("d", "Cloth masks"),
    ...           ("e", ["cloth MASKS", "Gowns"])]
    >>> with Catalog(folder / "c.sqlite") as c:
    ...     _ = c.db.executemany("INSERT INTO papers (key, hash) VALUES (?, '')", [(key,) for key, _t in titles])
    ...     c.replace_titles(titles)
    >>> first_titles_containing(folder / "c.sqlite", "MASKS", 1, 10)  # "Cloth masks" twice: a tie
    [('Cloth masks', 'b'), ('Cloth masks', 'd')]
    >>> first_titles_containing(folder / "c.sqlite", "masks", 9, 10)  # "Gowns" does not hold the text
    [('Cloth masks', 'b'), ('Cloth masks', 'd'), ('Masks in schools', 'a'), ('cloth MASKS', 'e')]
    >>> first_titles_containing(folder / "c.sqlite", "masks", 1, 2) is None  # three papers: past the cap
    True
    """
    needle, (condition, pattern) = text.lower(), _title_match(text)
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if not _marked_complete(db, Catalog.TITLE_TEXT_COMPLETE):
            return None
        matched = db.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM paper_titles WHERE {condition} LIMIT ?)",
                             (pattern, cap + 1)).fetchone()[0]
        if matched > cap:
            return None
        if n <= 0:
            return []
        if matched >= SCAN_IN_ORDER * n:  # dense: read the titles in order, until the page is full
            sql = (f"SELECT title, row FROM paper_title_text INDEXED BY paper_title_text_title WHERE row IN "
                   f"(SELECT rowid FROM paper_titles WHERE {condition}) ORDER BY title")
        else:  # sparse: sort the matches
            sql = (f"SELECT t.title, t.row FROM paper_titles f JOIN paper_title_text t ON t.row = f.rowid "
                   f"WHERE f.{condition} ORDER BY t.title")
        kept: list[tuple[str, int]] = []
        for title, row in db.execute(sql, (pattern,)):
            if len(kept) >= n and title != kept[n - 1][0]:
                break
            if needle in title.lower():  # (a paper's other title may be the one that holds it)
                kept.append((title, row))
        out = [(title, db.execute("SELECT key FROM papers WHERE rowid = ?", (row,)).fetchone()[0]) for title, row in kept]
    except sqlite3.Error:
        return None  # a catalog made before the titles as written, or not one
    finally:
        db.close()
    return out


def papers_with_title_containing(path: Path, text: str, cap: int) -> list[str] | None:
    """Keys of the papers whose lower-cased title contains the lower-cased ``text``, from the
    title index of the catalog at ``path`` (opened read-only); None when the catalog has no
    complete index or more than ``cap`` papers match.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with Catalog(folder / "c.sqlite") as c:
    ...     c.replace_titles([])
    ...     for key, title in [("a", "ACE2 [and] SARS-CoV-2*"), ("b", "Masks")]:
    ...         _ = c.db.execute("INSERT INTO papers (key, hash) VALUES (?, '')", (key,))
    ...         c.put_title(key, title)
    >>> papers_with_title_containing(folder / "c.sqlite", "[AND] sars", 10), papers_with_title_containing(folder / "c.sqlite", "-2*", 10)
    (['a'], ['a'])
    >>> papers_with_title_containing(folder / "c.sqlite", "s", 10), papers_with_title_containing(folder / "c.sqlite", "s", 1)
    (['a', 'b'], None)
    """
    condition, pattern = _title_match(text)
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if not _marked_complete(db, Catalog.TITLE_INDEX_COMPLETE):
            return None
        keys = [k for (k,) in db.execute(
            "SELECT papers.key FROM paper_titles JOIN papers ON papers.rowid = paper_titles.rowid "
            f"WHERE paper_titles.{condition} LIMIT ?", (pattern, cap + 1))]
    except sqlite3.Error:
        return None  # a catalog made before the index, or not one
    finally:
        db.close()
    return sorted(keys) if len(keys) <= cap else None
