"""Citation resolution at scale: blocking finds what comparing every entry with every paper
finds, an update resolves only what its change can affect and still equals a fresh
resolution, and the worker processes change nothing."""

from __future__ import annotations

import random
import sqlite3
import sys
from collections import Counter
from pathlib import Path

import pytest

from ckg.etl import citations
from ckg.etl.catalog import Catalog
from ckg.etl.citations import (FUZZY_MIN_WORDS, LONG_TITLE_WORDS, MIN_TITLE_WORDS, _content_words, _doi_key,
                               _dois_conflict, _year_ok, resolve, similar, title_key)
from ckg.etl.normalize import normalize_title
from ckg.etl.records import BibEntry, Paper

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from bench_citations import Generator  # noqa: E402  (the benchmark's synthetic bibliographies)


def paper(key, title, year=2020, doi="", bib=(), pmid=""):
    return Paper(key=key, title=title, doi=doi, pmid=pmid, issued=(str(year), "gYear", year) if year else None,
                 bib=list(bib))


# -- an oracle: every entry against every paper, the rules as the module docstring states them ---------


def reference(db: sqlite3.Connection) -> tuple[dict[tuple[str, str], str], Counter]:
    by_id: dict[tuple[str, str], set[str]] = {}
    doi_of: dict[str, str] = {}
    for key, scheme, value in db.execute("SELECT key, scheme, value FROM paper_ids"):
        by_id.setdefault((scheme, _doi_key(value) if scheme == "doi" else value), set()).add(key)
        if scheme == "doi":
            doi_of[key] = value
    titles: dict[str, list[tuple[str, int | None]]] = {}
    for key, title, year in db.execute("SELECT key, title_norm, year FROM papers"):
        tkey = title_key(title or "")
        if len(tkey.split()) >= MIN_TITLE_WORDS:
            titles.setdefault(tkey, []).append((key, year))
    rank = {"doi": 0, "pmid": 1, "pmcid": 2, "arxiv": 3, "title": 4, "title-fuzzy": 5}
    edges: dict[tuple[str, str], str] = {}
    outcomes: Counter = Counter()
    others = [(other, len(words), _content_words(words), words) for other in titles for words in [other.split()]]
    # Which titles can pass each rule, so that the rules are asked only of those (every title is
    # still considered): a title that is a prefix of the key, that the key is a prefix of, or that
    # stands inside it, has 8 words or more and its first word among the key's words; a fuzzy match
    # has a number of content words within the size test's bounds.
    by_first: dict[str, list[int]] = {}
    by_size: dict[int, list[int]] = {}
    for i, (_, length, b, other_words) in enumerate(others):
        if length >= 8:
            by_first.setdefault(other_words[0], []).append(i)
        if len(b) >= FUZZY_MIN_WORDS:
            by_size.setdefault(len(b), []).append(i)
    matched: dict[str, list[str]] = {}

    def matches(key: str) -> list[str]:
        """Every title the fuzzy rules accept (similar(), with its cheap size test first)."""
        if key not in matched:
            words = key.split()
            content = _content_words(words)
            candidates: set[int] = set()
            if len(words) >= 8:
                for word in set(words):
                    candidates.update(by_first.get(word, ()))
            for size, ids in by_size.items():
                if 0.8 * len(content) <= size <= len(content) / 0.8:
                    candidates.update(ids)
            matched[key] = [other for other, length, b, other_words in (others[i] for i in sorted(candidates))
                            if (min(len(words), length) >= 8 and (other.startswith(key + " ") or key.startswith(other + " ")))
                            or (length >= 8 and f" {other} " in f" {key} ")
                            or (len(content) >= FUZZY_MIN_WORDS and len(b) >= FUZZY_MIN_WORDS
                                and 0.8 * len(content) <= len(b) <= len(content) / 0.8
                                and similar(key, words, content, other, other_words=other_words, other_content=b))]
        return matched[key]

    def decide(method, keys, citing):
        others = sorted(set(keys) - {citing})
        if not others:
            return "self"
        return f"ambiguous:{method}" if len(others) > 1 else (f"resolved:{method}", others[0])

    for citing, title, year, doi, pmid, pmcid, arxiv in db.execute(
            "SELECT key, title_norm, year, doi, pmid, pmcid, arxiv FROM bib"):
        doi = _doi_key(doi) if doi else ""
        outcome = "unresolved"
        for scheme, value in (("doi", doi), ("pmid", pmid), ("pmcid", pmcid), ("arxiv", arxiv)):
            if value and by_id.get((scheme, value)):
                outcome = decide(scheme, by_id[(scheme, value)], citing)
                break
        else:
            key = title_key(title or "")
            words = key.split()
            if title and len(words) >= MIN_TITLE_WORDS:
                if key in titles:
                    compatible = [k for k, y in titles[key] if _year_ok(year, y)]
                    found = compatible if compatible or len(words) < LONG_TITLE_WORDS else [k for k, _ in titles[key]]
                    if found:
                        outcome = decide("title", found, citing)
                elif len(words) >= FUZZY_MIN_WORDS:
                    found = [k for other in matches(key) for k, y in titles[other]
                             if _year_ok(year, y) and not _dois_conflict(doi, doi_of.get(k))]
                    if found:
                        outcome = decide("title-fuzzy", found, citing)
        if isinstance(outcome, tuple):
            outcome, cited = outcome
            method = outcome.split(":", 1)[1]
            if (citing, cited) not in edges or rank[method] < rank[edges[(citing, cited)]]:
                edges[(citing, cited)] = method
        outcomes[outcome] += 1
    return edges, outcomes


def state(db: sqlite3.Connection) -> list:
    return sorted(db.execute("SELECT entry, code, paper FROM cite_outcomes"))


def copy(catalog: Catalog, target: Path) -> Path:
    catalog.commit()  # (SQLite's backup waits for the source's write transaction)
    out = sqlite3.connect(target)
    catalog.db.backup(out)
    out.close()
    return target


def fresh(path: Path):
    """A full resolution of the catalog at ``path`` (its resolution state dropped first)."""
    with Catalog(path) as catalog:
        catalog.clear_citation_state()
        result = resolve(catalog)
        return dict(result.edges), result.summary(), state(catalog.db), result


def update(tmp_path: Path, first: list[Paper], put: list[Paper] = (), remove: list[str] = ()):
    """Resolve ``first``, put and remove papers, resolve again; check the update against a
    fresh resolution of the same catalog (and against the oracle); return the update's result."""
    path = tmp_path / "c.sqlite"
    with Catalog(path) as catalog:
        for p in first:
            catalog.put_paper(p, "h", "r1", "r1")
        before = resolve(catalog)
        assert before.mode == "full"
        for p in put:
            catalog.put_paper(p, "h2", "r1", "r2")
        catalog.delete_papers(remove)
        copy(catalog, tmp_path / "fresh.sqlite")
        result = resolve(catalog)
        assert result.mode == "incremental"
        edges, summary, outcomes = dict(result.edges), result.summary(), state(catalog.db)
    f_edges, f_summary, f_outcomes, _ = fresh(tmp_path / "fresh.sqlite")
    assert edges == f_edges and summary == f_summary and outcomes == f_outcomes
    with Catalog(path) as catalog:
        r_edges, r_outcomes = reference(catalog.db)
    assert edges == r_edges and dict(result.entries) == dict(r_outcomes)
    return result


# -- fresh resolution: the blocking misses nothing ------------------------------------------------------


@pytest.mark.parametrize("templates", [0.0, 0.6])
def test_fresh_resolution_equals_comparing_every_entry_with_every_paper(tmp_path, templates):
    gen = Generator(300, seed=5, entries=10, templates=templates)
    corpus = gen.first_release()
    with Catalog(tmp_path / "c.sqlite") as catalog:
        for p in corpus.papers.values():
            catalog.put_paper(p, "h", "r1", "r1")
        result = resolve(catalog)
        edges, outcomes = reference(catalog.db)
        assert dict(result.edges) == edges
        assert dict(result.entries) == dict(outcomes)
        assert set(edges.values()) >= {"doi", "title", "title-fuzzy"}
        assert outcomes["resolved:title-fuzzy"] > 20


def generated(path: Path, papers: int, seed: int, entries: int) -> Catalog:
    """A catalog of the bench's synthetic corpus (open; its entries not resolved yet)."""
    catalog = Catalog(path)
    for p in Generator(papers, seed=seed, entries=entries, templates=0.3).first_release().papers.values():
        catalog.put_paper(p, "h", "r1", "r1")
    return catalog


def test_results_do_not_depend_on_the_order_of_words(tmp_path, monkeypatch):
    """The word tiers only make the keys rare: any order of words gives the same edges."""
    with generated(tmp_path / "c.sqlite", 300, seed=9, entries=10) as catalog:
        copy(catalog, tmp_path / "other.sqlite")
        expected = dict(resolve(catalog).edges)
    real_tiers = citations._tiers
    rng = random.Random(1)
    monkeypatch.setattr(citations, "_tiers", lambda c: {w: rng.randint(0, 9) for w in real_tiers(c)})
    edges, *_ = fresh(tmp_path / "other.sqlite")
    assert edges == expected


def test_worker_processes_change_nothing(tmp_path, monkeypatch):
    with generated(tmp_path / "c.sqlite", 400, seed=3, entries=12) as catalog:
        copy(catalog, tmp_path / "parallel.sqlite")
        single = resolve(catalog)
        expected = dict(single.edges), single.summary(), state(catalog.db)
    monkeypatch.setattr(citations, "PARALLEL_ENTRIES", 10)
    monkeypatch.setattr(citations, "_CHUNK", 700)
    monkeypatch.setattr(citations, "_processes", lambda: 2)
    edges, summary, outcomes, result = fresh(tmp_path / "parallel.sqlite")
    assert result.work["processes"] == 2
    assert (edges, summary, outcomes) == expected


def test_each_title_of_the_entries_is_analysed_once(tmp_path, monkeypatch):
    """The entries are resolved in groups by title (all of one title's in one group, the titles
    analysed kept for the group), so a title cited by many entries is analysed, and its fuzzy
    matches computed, once in a full resolution, and the result is that of one group."""
    with generated(tmp_path / "c.sqlite", 400, seed=3, entries=12) as catalog:
        copy(catalog, tmp_path / "groups.sqlite")
        monkeypatch.setattr(citations, "_CHUNK", 10**9)
        expected = dict(resolve(catalog).edges)
        entries, distinct = catalog.db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT title_norm) FROM bib WHERE title_norm != ''").fetchone()
    monkeypatch.setattr(citations, "_CHUNK", 500)
    monkeypatch.setattr(citations._Titles.__init__, "__defaults__", (600,))  # a cache of fewer titles than cited
    analysed: Counter[str] = Counter()
    real_get = citations._Titles.get

    def counting_get(self, title_norm):
        if title_norm and title_norm not in self.cache:
            analysed[title_norm] += 1
        return real_get(self, title_norm)

    monkeypatch.setattr(citations._Titles, "get", counting_get)
    with Catalog(tmp_path / "groups.sqlite") as catalog:
        assert dict(resolve(catalog).edges) == expected
        assert len(citations._title_groups(catalog.db, -(-entries // 500))) >= 8
    assert entries > 1.5 * distinct > 3 * 600  # titles are cited many times over, more than the cache holds
    assert len(analysed) == distinct and set(analysed.values()) == {1}


# -- updates: what the change can affect, and nothing else ----------------------------------------------

OLD = "Clinical characteristics of 2019 novel coronavirus infection in China"
LONG = "Preliminary estimation of the basic reproduction number of novel coronavirus 2019-nCoV in China from 2019 to 2020"
ACE2 = "The novel coronavirus uses the ACE2 receptor and the TMPRSS2 protease for entry into target cells"


def citing_papers():
    """Papers whose references point outside the corpus (for now)."""
    return [
        paper("c1", "A citing paper on transmission", bib=[
            BibEntry("b0", "whatever the parse says", 2020, doi="10.1101/2020.02.06.20020974v2"),  # by DOI
            BibEntry("b1", OLD + ".", 2020),  # by exact title
            BibEntry("b2", "Preliminary estimation of the basic reproduction number of novel coronavirus", 2020),  # cut
            BibEntry("b3", "Lin Yang and Daihai He 2020 " + ACE2 + " bioRxiv", 2020),  # debris around the title
            BibEntry("b4", "Another work entirely outside the corpus of this release", 2019),
        ]),
        paper("c2", "Another citing paper on reproduction numbers", bib=[
            BibEntry("b0", "Preliminary estimation of the basic reproduction 301 number of novel coronaviurs 2019-nCoV "
                           "in China from 2019 to 2020", None),  # a line number and a typo
            BibEntry("b1", "", None, pmid="32109013"),
        ]),
    ]


def test_a_new_paper_resolves_old_entries_by_doi_exact_and_fuzzy_title(tmp_path):
    new = [paper("n1", OLD, doi="10.1101/2020.02.06.20020974", pmid="32109013"), paper("n2", LONG), paper("n3", ACE2)]
    result = update(tmp_path, citing_papers(), put=new)
    assert sorted(result.added) == [("c1", "n1"), ("c1", "n2"), ("c1", "n3"), ("c2", "n1"), ("c2", "n2")]
    assert result.dropped == []
    assert result.edges == {("c1", "n1"): "doi", ("c1", "n2"): "title-fuzzy", ("c1", "n3"): "title-fuzzy",
                            ("c2", "n1"): "pmid", ("c2", "n2"): "title-fuzzy"}
    assert result.work["entries_resolved"] == 6  # the 6 old entries that now resolve, none of the others
    assert result.work["entries_new"] == 0


def test_a_removed_paper_leaves_its_citations_unresolved_or_to_the_other_candidate(tmp_path):
    first = [*citing_papers(), paper("n1", OLD, doi="10.1101/2020.02.06.20020974"), paper("n2", LONG),
             paper("n2b", LONG, year=2019), paper("n3", ACE2)]  # n2 and n2b: the fuzzy entries are ambiguous
    result = update(tmp_path, first, remove=["n1", "n2"])
    assert sorted(result.dropped) == [("c1", "n1")]
    assert sorted(result.added) == [("c1", "n2b"), ("c2", "n2b")]  # ambiguous before, now resolved
    assert result.entries["unresolved"] == 4  # c1's DOI and exact title of n1, its outside work; c2's PMID


def test_a_new_paper_makes_a_resolved_entry_ambiguous(tmp_path):
    first = [*citing_papers(), paper("n1", OLD, doi="10.1101/2020.02.06.20020974"), paper("n2", LONG),
             paper("n3", ACE2)]
    twins = [paper("t1", OLD, doi="10.1101/2020.02.06.20020974"),  # a second version: same DOI, same title
             paper("t2", LONG, year=2019),  # the fuzzy matches of n2's title now match two papers
             paper("t3", ACE2 + " in vitro", year=2020)]  # c1's debris entry holds n3's title, not t3's
    result = update(tmp_path, first, put=twins)
    assert sorted(result.dropped) == [("c1", "n1"), ("c1", "n2"), ("c2", "n2")]
    assert result.added == []
    assert result.entries["ambiguous:doi"] == 1 and result.entries["ambiguous:title"] == 1
    assert result.entries["ambiguous:title-fuzzy"] == 2
    assert ("c1", "n3") in result.edges


def test_a_changed_paper_moves_its_citations(tmp_path):
    first = [*citing_papers(), paper("n1", OLD, doi="10.1101/2020.02.06.20020974"), paper("n2", "A title nobody cites here")]
    changed = [paper("n1", "A corrected title that nobody cites", doi="10.5555/journal.version"),  # DOI and title
               paper("n2", LONG)]  # the title corrected: now the paper that c1 and c2 cite
    result = update(tmp_path, first, put=changed)
    assert sorted(result.dropped) == [("c1", "n1")]
    assert sorted(result.added) == [("c1", "n2"), ("c2", "n2")]


def test_a_short_title_of_another_year_blocks_the_fuzzy_rule(tmp_path):
    """An exact title of an incompatible year decides an entry (unresolved) before the fuzzy
    rules: a paper with it arriving, or leaving, changes a fuzzy edge."""
    short = "Coronavirus disease outbreak in Wuhan province"  # 6 words: the fuzzy rules apply, not the long rule
    first = [paper("a", short + " a", year=2020), paper("c", "Citing", bib=[BibEntry("b0", short, 2020)])]
    assert similar(normalize_title(short), normalize_title(short).split(),
                   _content_words(normalize_title(short).split()), normalize_title(short + " a"))
    result = update(tmp_path, first, put=[paper("x", short, year=2012)])
    assert result.dropped == [("c", "a")] and result.entries["unresolved"] == 1
    path = tmp_path / "again"
    path.mkdir()
    result = update(path, [*first, paper("x", short, year=2012)], remove=["x"])
    assert result.added == [("c", "a")]


def test_an_update_resolves_in_proportion_to_its_change(tmp_path):
    """A synthetic release: +2% papers (outside works the old entries cite), 2% changed, 0.5%
    removed; the update resolves the new and changed papers' entries and the few old ones the
    change reaches, and equals a fresh resolution (and the oracle)."""
    gen = Generator(400, seed=11, entries=12, templates=0.3)
    corpus = gen.first_release()
    first = list(corpus.papers.values())
    put, gone = gen.next_release(corpus, new=0.02, changed=0.02, removed=0.005)
    result = update(tmp_path, first, put=put, remove=gone)
    total = sum(result.entries.values())
    assert result.added_count > 0
    assert result.work["entries_resolved"] < 0.15 * total
    assert result.work["entries_resolved"] >= result.work["entries_new"] > 0


def test_an_old_state_is_resolved_again_in_full(tmp_path):
    with Catalog(tmp_path / "c.sqlite") as catalog:
        for p in citing_papers():
            catalog.put_paper(p, "h", "r1", "r1")
        assert resolve(catalog).mode == "full"
        assert resolve(catalog).mode == "incremental"
        stale = catalog.citation_state()
        catalog.put_citation_state({**stale, "hash": stale["hash"] + 1})  # keys of another Python
        assert resolve(catalog).mode == "full"
        catalog.put_citation_state({**stale, "version": 0})
        result = resolve(catalog)
        assert result.mode == "full" and result.added_count == 0 and result.dropped == []


def test_a_catalog_without_entries_keeps_no_state_until_entries_come(tmp_path):
    """A release without parses has no entry: no postings of its papers are written. The run that
    first finds entries resolves them all; one that finds none again drops the edges."""
    targets = [paper("n1", OLD, doi="10.1101/2020.02.06.20020974", pmid="32109013"), paper("n2", LONG)]
    with Catalog(tmp_path / "c.sqlite") as catalog:
        for p in targets:
            catalog.put_paper(p, "h", "r1", "r1")
        result = resolve(catalog)
        assert (result.mode, result.added_count, result.dropped, result.summary()["bib_entries"]) == ("none", 0, [], 0)
        assert catalog.citation_state() is None
        assert catalog.db.execute("SELECT COUNT(*) FROM cite_paper_keys").fetchone()[0] == 0
        for p in citing_papers():  # the next release has parses
            catalog.put_paper(p, "h", "r2", "r2")
        result = resolve(catalog)
        assert result.mode == "full"
        assert sorted(result.added) == [("c1", "n1"), ("c1", "n2"), ("c2", "n1"), ("c2", "n2")]
        assert catalog.citation_state() is not None
        for p in citing_papers():  # and the one after has lost them again
            catalog.put_paper(Paper(key=p.key, title=p.title), "h2", "r2", "r3")
        result = resolve(catalog)
        assert result.mode == "none" and result.added_count == 0
        assert result.dropped == [("c1", "n1"), ("c1", "n2"), ("c2", "n1"), ("c2", "n2")]
        assert catalog.citation_edges() == {} and catalog.citation_state() is None


@pytest.mark.realdata
def test_real_preprints_fresh_resolution_equals_the_oracle(real_data, tmp_path):
    """The 803 bioRxiv/medRxiv parses of 2020-03-13: 26,906 entries, each compared with every
    paper by the oracle; the blocking finds the same 417 edges."""
    from ckg.etl.assemble import Assembler, discover
    from ckg.etl.report import Report

    report = Report()
    with Catalog(tmp_path / "c.sqlite") as catalog:
        for p in Assembler(discover([real_data / "cord19" / "release-2020-03-13"], report), report).papers():
            catalog.put_paper(p, "h", "r", "r")
        result = resolve(catalog)
        edges, outcomes = reference(catalog.db)
    assert dict(result.edges) == edges and dict(result.entries) == dict(outcomes)
    assert len(edges) == 417 and sum(outcomes.values()) == 26906
