"""First pages of rankings (ckg.first_pages): a named query asked for its first N rows runs over the
papers that can be on them, with the same rows as the query run as written, for every parameter
and page size; a store changed in place, a page that holds every paper or a parameter that is not
a name run it as written."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from ckg import first_pages, queries
from ckg.sparql import named_text, run_named
from ckg.store import open_release
from ckg.terms import CKG, RDF, SKOS

CUSTOMISED = queries.get("customised-citation-counts")
WITH_CONCEPTS = queries.get("papers-with-concepts")
PAGES = (1, 2, 3, 5, 10, 25)


def rows(store, folder, query, params, limit):
    return [tuple(None if t is None else t.value for t in row)
            for row in run_named(store, query, params, limit=limit, folder=folder).rows]


def is_narrowed(store, folder, query, params, limit) -> bool:
    return named_text(query, query.bind(params), folder, store=store, rows=limit) != query.text


def labels(store, kind) -> list[str]:
    """The labels of the concepts or topics that have papers, most papers first."""
    nodes = {q.subject for q in store.quads_for_pattern(None, RDF.type, kind)}
    counted = sorted(((-int(q.object.value), q.subject.value) for q in store.quads_for_pattern(None, CKG.paperCount, None)
                      if q.subject in nodes))
    out = []
    for _count, iri in counted:
        label = next(store.quads_for_pattern(ox.NamedNode(iri), SKOS.prefLabel, None), None)
        if label is not None:
            out.append(label.object.value)
    return out


def compare(store, folder, query, params) -> int:
    """Asserts that each page size gives the same rows narrowed and as written; returns how many
    of them ran narrowed."""
    narrowed = 0
    whole = rows(store, None, query, params, None)
    for limit in PAGES:
        page = rows(store, folder, query, params, limit)
        assert page == whole[:limit], (query.name, params, limit)
        narrowed += is_narrowed(store, folder, query, params, limit)
    return narrowed


def test_the_first_pages_are_the_first_rows_on_the_demo_store(demo_store):
    folder, store = open_release(demo_store, read_only=True)
    concepts, topics = labels(store, CKG.Concept), labels(store, CKG.Topic)
    assert len(concepts) > 20 and len(topics) >= 3
    narrowed = 0
    for concept in concepts[:12]:
        narrowed += compare(store, folder, CUSTOMISED, {"concept": concept})
        narrowed += compare(store, folder, CUSTOMISED, {"concept": concept.upper(), "topic": topics[0]})
        narrowed += compare(store, folder, WITH_CONCEPTS, {"concept1": concept})
        narrowed += compare(store, folder, WITH_CONCEPTS, {"concept1": concept, "concept2": concepts[0]})
    for topic in topics:
        narrowed += compare(store, folder, CUSTOMISED, {"topic": topic})
    narrowed += compare(store, folder, CUSTOMISED, {})
    assert narrowed > 50  # most cases ran narrowed, and answered the same
    # names no concept has: an empty answer either way
    assert rows(store, folder, CUSTOMISED, {"concept": "no such concept"}, 10) == []
    assert rows(store, folder, WITH_CONCEPTS, {"concept1": "no such concept"}, 10) == []


def test_the_candidates_are_the_pages_papers(demo_store):
    folder, store = open_release(demo_store, read_only=True)
    citations = first_pages.citations_of(folder)
    concept = labels(store, CKG.Concept)[0]
    whole = rows(store, None, CUSTOMISED, {"concept": concept}, None)
    counts = [int(r[-1]) for r in whole]
    subs = CUSTOMISED.bind({"concept": concept})
    concept_papers = {q.subject.value for q in store.quads_for_pattern(None, CKG.associatedConcept, None)
                      if q.object in {c.subject for c in store.quads_for_pattern(None, CKG.nameKey, ox.Literal(concept.lower()))}}
    assert len(set(counts[:10])) < 10  # ties within the first 10 rows
    for limit in (1, 3, 10):
        found = first_pages.candidates(store, citations, "customised-citations", subs, limit)
        papers = {p.value for p in found["paper"]}
        first = list(dict.fromkeys(r[2] for r in whole))[:limit]
        assert set(first) == papers, limit  # the page's papers: of those tied with its last, the least IRIs
        # the citing papers: those of the concept that cite a paper of the page
        expected = {q.subject.value for p in found["paper"] for q in store.quads_for_pattern(None, CKG.cites, p)
                    if q.subject.value in concept_papers}
        assert {p.value for p in found["citing"]} == expected
    # a page as long as the answer: narrowed to the answer's papers and what counts for them
    for limit in (len(whole), len(whole) + 3):
        found = first_pages.candidates(store, citations, "customised-citations", subs, limit)
        assert {p.value for p in found["paper"]} == {r[2] for r in whole}
        assert rows(store, folder, CUSTOMISED, {"concept": concept}, limit) == whole
    # a concept whose papers cite nothing: no paper to read
    assert first_pages.candidates(store, citations, "customised-citations",
                                  CUSTOMISED.bind({"concept": "no such concept"}), 10) == {"paper": [], "citing": []}


def test_a_page_past_the_cited_papers_takes_the_uncited_ones_in_iri_order(demo_store):
    folder, store = open_release(demo_store, read_only=True)
    citations = first_pages.citations_of(folder)
    checked = 0
    for concept in labels(store, CKG.Concept):
        whole = rows(store, None, WITH_CONCEPTS, {"concept1": concept}, None)
        cited = sum(1 for r in whole if int(r[-1]) > 0)
        if not 0 < cited < len(whole) - 2:
            continue
        for limit in (cited + 1, len(whole) - 1):
            found = first_pages.candidates(store, citations, "concept-papers", WITH_CONCEPTS.bind({"concept1": concept}), limit)
            assert found is not None and len(found["paper"]) == limit, (concept, limit)  # no more than the page
            assert {p.value for p in found["paper"]} == {r[3] for r in whole[:limit]}
            assert is_narrowed(store, folder, WITH_CONCEPTS, {"concept1": concept}, limit)
            assert rows(store, folder, WITH_CONCEPTS, {"concept1": concept}, limit) == whole[:limit]
        # a page that holds every paper: narrowed to them all (the query reads no other paper of the concept)
        for limit in (len(whole), len(whole) + 5):
            found = first_pages.candidates(store, citations, "concept-papers", WITH_CONCEPTS.bind({"concept1": concept}),
                                           limit)
            assert {p.value for p in found["paper"]} == {r[3] for r in whole}
            assert rows(store, folder, WITH_CONCEPTS, {"concept1": concept}, limit) == whole
        checked += 1
    assert checked >= 3


def test_uncited_papers_tie_in_the_order_of_their_iris():
    """The query's tie-break (``?paper``) compares IRIs as strings: the first page's uncited papers
    are those, whatever order the store's index keeps them in."""
    from ckg import resources
    from ckg.etl.emit import citation_quads

    store = ox.Store()
    store.extend(citation_quads("p9", "p5"))
    concept = resources.concept("mesh-D001249")
    store.add(ox.Quad(concept, CKG.nameKey, ox.Literal("asthma")))
    keys = ["p5", "p1", "p10", "p2", "p30", "p3", "P4", "p9"]
    store.extend([ox.Quad(resources.paper(k), CKG.associatedConcept, concept) for k in keys])
    store.add(ox.Quad(resources.paper("p5"), CKG.citedByCount, ox.Literal(1)))
    citations = first_pages.Citations.of_pairs([("p9", "p5")])
    subs = WITH_CONCEPTS.bind({"concept1": "Asthma"})
    for n in range(1, len(keys) + 2):
        found = first_pages.candidates(store, citations, "concept-papers", subs, n)
        expected = ["p5"] + sorted(k for k in keys if k != "p5")[:n - 1]  # "P4" < "p1" < "p10" < "p2"
        assert sorted(p.value for p in found["paper"]) == sorted(resources.paper(k).value for k in expected), n
    # with a second concept (read from the store, not kept): the papers with both
    other = resources.concept("mesh-D006331")
    store.add(ox.Quad(other, CKG.nameKey, ox.Literal("heart disease")))
    store.extend([ox.Quad(resources.paper(k), CKG.associatedConcept, other) for k in ["p10", "p3", "p5", "p7"]])
    found = first_pages.candidates(store, citations, "concept-papers",
                                   WITH_CONCEPTS.bind({"concept1": "asthma", "concept2": "Heart disease"}), 2)
    assert [p.value for p in found["paper"]] == [resources.paper(k).value for k in ("p10", "p5")]  # p5 cited, p10 least
    found = first_pages.candidates(store, citations, "concept-papers",
                                   WITH_CONCEPTS.bind({"concept1": "asthma", "concept2": "no such concept"}), 2)
    assert found == {"paper": []}  # no paper has both: nothing to read


def test_a_concept_with_more_uncited_papers_than_are_kept_pages_within_them(monkeypatch):
    from ckg import resources

    monkeypatch.setattr(first_pages, "MAX_CANDIDATES", 3)
    store = ox.Store()
    concept = resources.concept("mesh-D001249")
    store.add(ox.Quad(concept, CKG.nameKey, ox.Literal("asthma")))
    keys = [f"p{i}" for i in range(8)]
    store.extend([ox.Quad(resources.paper(k), CKG.associatedConcept, concept) for k in keys])
    citations = first_pages.Citations.of_pairs([("p7", "p0")])
    subs = WITH_CONCEPTS.bind({"concept1": "asthma"})
    found = first_pages.candidates(store, citations, "concept-papers", subs, 3)  # p0 (cited), then p1, p2
    assert [p.value for p in found["paper"]] == [resources.paper(k).value for k in ("p0", "p1", "p2")]
    assert citations.least_uncited(store, CKG.associatedConcept, concept) == (
        [resources.paper(k).value for k in ("p1", "p2", "p3")], False)
    # a page past what is kept of the uncited papers cannot be told: the query runs as written
    assert first_pages.candidates(store, citations, "concept-papers", subs, 5) is None
    # two nodes of one name, each keeping its least 3: their union's least 3 at most
    twin = resources.concept("doid-2841")
    store.add(ox.Quad(twin, CKG.nameKey, ox.Literal("asthma")))
    store.extend([ox.Quad(resources.paper(k), CKG.associatedConcept, twin) for k in ("p00", "p9", "p8", "p7")])
    citations = first_pages.Citations.of_pairs([("p7", "p0")])
    found = first_pages.candidates(store, citations, "concept-papers", subs, 3)
    assert [p.value for p in found["paper"]] == [resources.paper(k).value for k in ("p0", "p00", "p1")]
    assert first_pages._least_uncited(store, citations, CKG.associatedConcept, ["asthma"], 4) is None


def test_the_whole_ranking_reads_the_most_cited_marks(demo_store):
    folder, store = open_release(demo_store, read_only=True)
    found = first_pages.candidates(store, first_pages.citations_of(folder), "customised-citations", {}, 7)
    marked = {q.subject for q in store.quads_for_pattern(None, CKG.citedByWithin, ox.Literal(10))}
    assert found is not None and set(found["paper"]) == marked and len(marked) == 10 and "citing" not in found
    assert first_pages.candidates(store, first_pages.citations_of(folder), "customised-citations", {}, 20_000) is None


def test_without_a_folder_or_after_a_change_in_place_the_query_runs_as_written(demo_store, tmp_path):
    from conftest import copy_store

    from ckg.store import EDITED_FILE

    folder, store = open_release(demo_store, read_only=True)
    concept = labels(store, CKG.Concept)[0]
    assert is_narrowed(store, folder, CUSTOMISED, {"concept": concept}, 3)
    assert not is_narrowed(store, None, CUSTOMISED, {"concept": concept}, 3)
    assert not is_narrowed(store, folder, CUSTOMISED, {"concept": concept}, None)
    copy = copy_store(demo_store, tmp_path / "copy")
    copy_folder, copy_db = open_release(copy, read_only=True)
    (copy_folder / EDITED_FILE).write_text("")
    assert not is_narrowed(copy_db, copy_folder, CUSTOMISED, {"concept": concept}, 3)


def test_the_api_pages_a_ranking_and_says_it_is_cut(demo_store):
    import json

    from serving import app_on

    folder, store = open_release(demo_store, read_only=True)
    concept = labels(store, CKG.Concept)[0]
    whole = rows(store, None, CUSTOMISED, {"concept": concept}, None)
    assert len(whole) > 3
    with app_on(demo_store, {"engines": 1}) as app:
        client = app.test_client()
        for limit, cut in ((2, True), (len(whole) - 1, True), (len(whole), False)):
            r = client.get("/api/queries/customised-citation-counts", query_string={"concept": concept, "_limit": limit})
            answer = json.loads(r.get_data())
            assert r.status_code == 200 and answer["truncated"] is cut, limit
            assert [(row["paper"], row["citations"]) for row in answer["rows"]] == [
                (p, int(n)) for *_rest, p, _title, n in whole[:limit]]
            r = client.get("/api/queries/customised-citation-counts",
                           query_string={"concept": concept, "_limit": limit, "_format": "csv"})
            assert r.headers.get("X-CKG-Truncated") == ("true" if cut else None)


def test_a_first_page_line_is_checked():
    from pathlib import Path

    text = "# name: q\n# summary: s\n# first-page: paper no-such-ranking\nSELECT ?paper WHERE { ?paper ?p ?o }\n"
    with pytest.raises(queries.QueryFileError, match="first-page paper no-such-ranking"):
        queries.parse(text, Path("q.rq"))
    with pytest.raises(queries.QueryFileError, match="bad first-page line"):
        queries.parse(text.replace("paper no-such-ranking", "paper"), Path("q.rq"))


def test_the_first_pages_are_the_first_rows_on_the_real_papers(real_biorxiv):
    folder, store = open_release(real_biorxiv[0], read_only=True)
    concepts, topics = labels(store, CKG.Concept), labels(store, CKG.Topic)
    narrowed = 0
    for concept in concepts[:6]:
        narrowed += compare(store, folder, CUSTOMISED, {"concept": concept})
        narrowed += compare(store, folder, CUSTOMISED, {"concept": concept, "topic": topics[0]})
        narrowed += compare(store, folder, WITH_CONCEPTS, {"concept1": concept})
    narrowed += compare(store, folder, CUSTOMISED, {"topic": topics[0]})
    assert narrowed > 20


def test_past_the_caps_the_query_runs_as_written(demo_store, monkeypatch):
    folder, store = open_release(demo_store, read_only=True)
    concept = labels(store, CKG.Concept)[0]
    params = {"concept": concept}
    assert is_narrowed(store, folder, CUSTOMISED, params, 2)
    expected = rows(store, None, CUSTOMISED, params, 2)
    monkeypatch.setattr(first_pages, "MAX_CITING", 0)  # more citing papers than the cap
    assert not is_narrowed(store, folder, CUSTOMISED, params, 2)
    assert rows(store, folder, CUSTOMISED, params, 2) == expected
    monkeypatch.setattr(first_pages, "MAX_CITING", 20_000)
    monkeypatch.setattr(first_pages, "MAX_CANDIDATES", 0)  # more papers than the cap
    assert not is_narrowed(store, folder, CUSTOMISED, params, 2)
    assert not is_narrowed(store, folder, WITH_CONCEPTS, {"concept1": concept}, 2)
    assert rows(store, folder, WITH_CONCEPTS, {"concept1": concept}, 2) == rows(store, None, WITH_CONCEPTS, {"concept1": concept}, 2)
