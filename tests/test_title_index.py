"""The catalog's title index: find-papers narrowed to the papers whose title holds the text, with
the same answers as the query's own scan of every title, kept by builds and updates, and set
aside when the release is changed in place."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from ckg import queries, resources
from ckg.etl.build import build, update
from ckg.etl.catalog import Catalog, papers_with_title_containing
from ckg.sparql import named_text, run_named
from ckg.store import catalog_file, open_release, open_store
from ckg.terms import DCTERMS

from conftest import MINI

FIND = queries.get("find-papers")


def answers(path, text: str, *, index: bool) -> list[tuple]:
    folder, store = open_release(path, read_only=True)
    result = run_named(store, FIND, {"text": text}, folder=folder if index else None)
    return [tuple(None if t is None else t.value for t in row) for row in result.rows]


def narrowed(path, text: str) -> bool:
    """Whether find-papers for this text runs narrowed by the index."""
    folder, _store = open_release(path, read_only=True)
    return named_text(FIND, FIND.bind({"text": text}), folder) != FIND.text


def titles(path) -> list[str]:
    store = open_store(path, read_only=True)
    return sorted(q.object.value for q in store.quads_for_pattern(None, DCTERMS.title, None))


def test_find_papers_answers_the_same_with_the_index(demo_store):
    every = titles(demo_store)
    assert len(every) > 50
    # words and pieces of real titles (any case), text across words, what GLOB and LIKE treat as
    # wildcards, a text no title has
    texts = {every[0][:12], every[5][3:20].upper(), " ".join(every[9].split()[1:3]), every[20][-6:], "virus",
             "Coronavirus", "*", "?", "[a", "%", "_", "o-", "zzzz-none"}
    for text in sorted(texts):
        with_index, without = answers(demo_store, text, index=True), answers(demo_store, text, index=False)
        assert with_index == without, text
    assert narrowed(demo_store, "virus") and answers(demo_store, "virus", index=True)
    assert answers(demo_store, every[0], index=True)[0][2] == every[0]


def test_the_lookup_is_a_superset_capped(demo_store):
    catalog = catalog_file(demo_store)
    keys = papers_with_title_containing(catalog, "virus", 10_000)
    assert keys and all("virus" in t.lower() for t in _titles_of(demo_store, keys))
    assert papers_with_title_containing(catalog, "", 5) is None  # every paper: more than the cap
    assert papers_with_title_containing(catalog, "zzzz-none", 5) == []


def test_the_lookup_finds_exactly_the_titles_that_hold_the_text(demo_store, tmp_path):
    """Three characters or more are looked up as a phrase of the trigram index, fewer by GLOB:
    either way the papers whose lower-cased title holds the lower-cased text, no more, no fewer."""
    import random

    store = open_store(demo_store, read_only=True)
    by_key = {resources.key_of(q.subject, "paper"): q.object.value for q in store.quads_for_pattern(None, DCTERMS.title, None)}
    rng = random.Random(5)
    texts = {"a", "e ", "-1", "zzz"}
    for title in rng.sample(sorted(by_key.values()), 40):
        start = rng.randrange(len(title))
        texts.add(title[start:start + rng.choice((1, 2, 3, 4, 7, 12))].upper())
    for text in sorted(texts):
        expected = sorted(k for k, t in by_key.items() if text.lower() in t.lower())
        assert papers_with_title_containing(catalog_file(demo_store), text, 10_000) == expected, text
    # quotes, the index's own syntax and letters beyond ASCII in a tiny catalog
    titles = {"q": 'Les "masques" à l\'école', "s": "ΣΟΦΙΑ and AND NOT", "n": "Nothing here"}
    with Catalog(tmp_path / "c.sqlite") as catalog:
        catalog.db.executemany("INSERT INTO papers (key, hash) VALUES (?, '')", [(k,) for k in titles])
        catalog.replace_titles(titles.items())
    for text, expected in (('"MASQUES"', ["q"]), ("À L'É", ["q"]), ('s" à', ["q"]), ("σοφια", ["s"]),
                           ("and not", ["s"]), ("NOT", ["n", "s"]), ("*", []), ("no*", [])):
        assert papers_with_title_containing(tmp_path / "c.sqlite", text, 10) == expected, text


def _titles_of(path, keys: list[str]) -> list[str]:
    store = open_store(path, read_only=True)
    return [q.object.value for k in keys for q in store.quads_for_pattern(resources.paper(k), DCTERMS.title, None)]


def test_an_update_keeps_the_index_and_a_change_in_place_sets_it_aside(tmp_path, mini_next):
    path = tmp_path / "s"
    build(path, [MINI], release="r1")
    assert narrowed(path, "ace2") and answers(path, "ace2", index=True) == answers(path, "ace2", index=False)
    update(path, [mini_next], release="r2")
    assert narrowed(path, "ace2")
    for text in ("ace2", "the", "covid", "zzzz"):
        assert answers(path, text, index=True) == answers(path, text, index=False), text
    # a SPARQL update in place (as the endpoint makes them): a new title the index does not hold
    store = open_store(path)
    paper = resources.paper("aaaa0002")
    store.add(ox.Quad(paper, DCTERMS.title, ox.Literal("A Zebrafish Model"), ox.NamedNode("https://example.org/g")))
    del store
    assert not narrowed(path, "zebrafish")  # the release was changed in place: the index is set aside
    assert [r[1] for r in answers(path, "zebrafish", index=True)] == [paper.value]
    # the next update derives the index again from the store, the new title with it
    update(path, [mini_next], release="r3")
    assert narrowed(path, "zebrafish")
    assert [r[1] for r in answers(path, "zebrafish", index=True)] == [paper.value]


def test_an_update_fills_the_index_of_a_catalog_made_before_it(tmp_path, mini_next):
    path = tmp_path / "s"
    build(path, [MINI], release="r1")
    with Catalog(catalog_file(path)) as catalog:  # as a catalog of an earlier ckg: no titles, no mark
        catalog.db.execute("DELETE FROM paper_titles")
        catalog.db.execute("DELETE FROM paper_title_text")
        catalog.db.execute("DELETE FROM meta WHERE k IN (?, ?)", (Catalog.TITLE_INDEX_COMPLETE, Catalog.TITLE_TEXT_COMPLETE))
    assert not narrowed(path, "ace2")
    result = update(path, [mini_next], release="r2")
    assert "title_index" in result.manifest["timings_s"]
    assert narrowed(path, "ace2")
    assert answers(path, "ace2", index=True) == answers(path, "ace2", index=False) != []
    with Catalog(catalog_file(path)) as catalog:  # the titles as written too, one row a title
        assert catalog.title_text_complete()
        assert sorted(t for (t,) in catalog.db.execute("SELECT title FROM paper_title_text")) == titles(path)


def page(path, text: str, limit: int, *, index: bool = True) -> list[tuple]:
    folder, store = open_release(path, read_only=True)
    result = run_named(store, FIND, {"text": text}, folder=folder if index else None, limit=limit)
    return [tuple(None if t is None else t.value for t in row) for row in result.rows]


def page_narrowed_to(path, text: str, limit: int) -> int | None:
    """How many papers find-papers' first ``limit`` rows run over (None: as written)."""
    folder, store = open_release(path, read_only=True)
    sparql = named_text(FIND, FIND.bind({"text": text}), folder, store=store, rows=limit)
    return None if sparql == FIND.text else sparql.count("<https://w3id.org/ckg/resource/paper/")


def test_a_first_page_by_title_is_the_first_rows(demo_store, monkeypatch):
    """find-papers orders by title (``# title-index: paper text ordered``): asked for N rows, it
    runs over the papers of the first N matching titles, with the first N rows of the whole answer;
    past the index's cap on a whole answer too."""
    every = titles(demo_store)
    texts = ["virus", "Coronavirus", "o", "e", " ", every[3][:1], "zzzz-none"]
    checked = 0
    for text in texts:
        whole = answers(demo_store, text, index=False)
        for limit in (1, 2, 5, 17, len(whole), len(whole) + 1):
            if limit < 1:
                continue
            assert page(demo_store, text, limit) == whole[:limit], (text, limit)
            if limit < len(whole):
                assert page_narrowed_to(demo_store, text, limit) <= limit, (text, limit)
                checked += 1
    assert checked >= 15
    # more matches than a whole answer's cap: the page still narrows, to its own papers
    from ckg import sparql

    whole = answers(demo_store, "e", index=False)
    monkeypatch.setattr(sparql, "TITLE_INDEX_MAX_PAPERS", 10)
    assert len(whole) > 10 and page_narrowed_to(demo_store, "e", 10) == 10
    assert page(demo_store, "e", 10) == whole[:10]
    assert page_narrowed_to(demo_store, "e", 11) is None and page(demo_store, "e", 11) == whole[:11]
    monkeypatch.setattr(sparql, "TITLE_INDEX_MAX_MATCHES", 5)  # more matches than titles it reads
    assert page_narrowed_to(demo_store, "e", 3) is None and page(demo_store, "e", 3) == whole[:3]


@pytest.mark.parametrize("in_order", [1, 10**9])
def test_the_first_titles_are_sorted_by_the_catalog_or_read_from_the_store(demo_store, tmp_path, monkeypatch, in_order):
    """The catalog keeps each title as written and sorts the matches itself (or reads its titles
    in order until the page is full): the store's titles are not read. A catalog without them
    (made before) pages from the store's titles."""
    from conftest import copy_store

    from ckg import first_pages, sparql
    from ckg.etl import catalog as catalogs

    monkeypatch.setattr(catalogs, "SCAN_IN_ORDER", in_order)
    monkeypatch.setattr(sparql, "TITLE_CHUNK", 4)  # a page of more papers runs as texts of 4 papers, merged
    texts = ["virus", "o", "e", "Coronavirus"]
    wholes = {text: answers(demo_store, text, index=False) for text in texts}
    read: list[int] = []
    reading = first_pages.first_by_title
    monkeypatch.setattr(first_pages, "first_by_title", lambda *a: read.append(1) or reading(*a))
    for text in texts:
        for limit in (1, 3, 10, len(wholes[text]) + 1):
            assert page(demo_store, text, limit) == wholes[text][:limit], (text, limit)
    assert not read
    folder, store = open_release(demo_store, read_only=True)
    assert len(sparql.named_texts(FIND, FIND.bind({"text": "e"}), folder, store=store, rows=10)) == 3
    copy = copy_store(demo_store, tmp_path / "copy")
    with Catalog(catalog_file(copy)) as catalog:
        catalog.db.execute("DELETE FROM meta WHERE k = ?", (Catalog.TITLE_TEXT_COMPLETE,))
    for text in texts:
        assert page(copy, text, 3) == wholes[text][:3], text
    assert read


def test_a_paper_of_two_titles_pages_in_the_order_of_both(tmp_path, mini_next, monkeypatch):
    from ckg import sparql

    path = tmp_path / "s"
    build(path, [MINI], release="r1")
    store = open_store(path)  # a change in place: a second title, which the next update indexes too
    store.add(ox.Quad(resources.paper("aaaa0002"), DCTERMS.title, ox.Literal("Zoonotic origin of the virus"),
                      ox.NamedNode("https://example.org/g")))
    del store
    update(path, [mini_next], release="r2")
    with Catalog(catalog_file(path)) as catalog:
        assert catalog.title_text_complete()
    monkeypatch.setattr(sparql, "TITLE_CHUNK", 1)  # one text a paper, merged by title
    for text in ("o", "e", "virus"):
        whole = answers(path, text, index=False)
        assert [r[1] for r in whole].count(resources.paper("aaaa0002").value) >= (2 if text != "virus" else 1)
        for limit in range(1, len(whole) + 2):
            assert page(path, text, limit) == whole[:limit], (text, limit)


def test_a_title_that_is_not_a_plain_string_sets_the_titles_as_written_aside(tmp_path, mini_next):
    path = tmp_path / "s"
    build(path, [MINI], release="r1")
    store = open_store(path)  # a change in place: a title in German, which SPARQL orders apart
    store.add(ox.Quad(resources.paper("aaaa0002"), DCTERMS.title, ox.Literal("Die ACE2-Studie", language="de"),
                      ox.NamedNode("https://example.org/g")))
    del store
    update(path, [mini_next], release="r2")
    with Catalog(catalog_file(path)) as catalog:
        assert catalog.title_index_complete() and not catalog.title_text_complete()
    whole = answers(path, "ace2", index=False)
    assert any(r[2] == "Die ACE2-Studie" for r in whole)
    for limit in range(1, len(whole) + 1):
        assert page(path, "ace2", limit) == whole[:limit], limit


def test_titles_that_are_not_plain_strings_leave_the_order_to_the_engine():
    from ckg import first_pages

    store = ox.Store()
    papers = [resources.paper(k) for k in "abc"]
    store.extend([ox.Quad(p, DCTERMS.title, ox.Literal(f"masks {k}")) for p, k in zip(papers, "abc")])
    assert [p.value[-1] for p in first_pages.first_by_title(store, papers, "MASKS", 2)] == ["a", "b"]
    store.add(ox.Quad(papers[2], DCTERMS.title, ox.Literal("Masken", language="de")))
    assert first_pages.first_by_title(store, papers, "MASKS", 2) is None


@pytest.mark.parametrize("line", ["# title-index: paper", "# title-index: paper nothing",
                                  "# title-index: paper text sorted", "# title-index: paper text ordered twice"])
def test_a_bad_title_index_line_is_refused(tmp_path, line):
    text = FIND.text.replace("# title-index: paper text ordered", line)
    with pytest.raises(queries.QueryFileError, match="title-index"):
        queries.parse(text, tmp_path / "find-papers.rq")


def test_an_ordered_title_index_needs_the_order_it_names(tmp_path):
    text = FIND.text.replace("ORDER BY ?title ?paper", "ORDER BY ?paper")
    with pytest.raises(queries.QueryFileError, match=r"needs a line 'ORDER BY \?title \?paper'"):
        queries.parse(text, tmp_path / "find-papers.rq")
    assert not queries.parse(FIND.text.replace(" ordered\n", "\n"), tmp_path / "find-papers.rq").title_ordered
    assert FIND.title_ordered


def test_the_endpoint_job_narrows_find_papers(demo_store):
    """A query process of ``ckg serve`` opens the release with its folder, so the named-query job
    reads the title index of the release it queries."""
    from ckg.server import jobs
    from ckg.server.engine import EngineContext

    ctx = EngineContext({"store": str(demo_store)})
    ctx.open()
    assert ctx.folder is not None and named_text(FIND, FIND.bind({"text": "virus"}), ctx.folder) != FIND.text
    answer = jobs.run_named(ctx, name="find-papers", params={"text": "virus"}, fmt="object")
    assert [r["title"] for r in answer["rows"]] == [row[2] for row in answers(demo_store, "virus", index=False)]
    ctx.close()


def test_the_query_paths_benchmark_runs(mini_store, tmp_path):
    """bench/bench_query_paths.py compares the signals' two sources, find-papers with and without
    the index, and two texts of the customised counts, and checks their answers agree."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    before = tmp_path / "before.rq"
    before.write_text(queries.get("customised-citation-counts").text, encoding="utf-8")
    out = tmp_path / "out.json"
    done = subprocess.run([sys.executable, str(root / "bench" / "bench_query_paths.py"), "--store", str(mini_store[0]),
                           "--runs", "1", "--texts", "ace2,zz", "--before", str(before), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert report["papers"] == 5 and report["signals"]["same"] and report["signals"]["quads"] > 0
    assert [(r["text"], r["rows"]) for r in report["find_papers"]] == [("ace2", 2), ("zz", 0)]
    assert len(report["customised_counts"]) == 4 and all(r["same"] for r in report["customised_counts"])
