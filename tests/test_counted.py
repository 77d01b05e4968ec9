"""Counts kept outside SPARQL (ckg.counted): concept-cooccurrence given its counts from the
catalog's concept edges answers the same rows as its text, for every concept of the demo store,
for several concepts of one name, after an update, and through the API; a store changed in
place, a catalog without the edges or too many rows run the text as written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pyoxigraph as ox
import pytest

from ckg import counted, queries, resources
from ckg.sparql import execute, named_text, run_named
from ckg.store import CATALOG_FILE, open_release
from ckg.terms import CKG, RDF, SKOS

COOCCURRENCE = queries.get("concept-cooccurrence")


def rows(store, folder, params, query=COOCCURRENCE, limit=None):
    return [tuple(None if t is None else t.value for t in row)
            for row in run_named(store, query, params, folder=folder, limit=limit).rows]


def is_counted(store, folder, params) -> bool:
    return "COUNT" not in named_text(COOCCURRENCE, COOCCURRENCE.bind(params), folder, store=store)


def concept_names(store) -> list[str]:
    """Every label, other name and CURIE-like key the demo store's concepts have."""
    nodes = {q.subject for q in store.quads_for_pattern(None, RDF.type, CKG.Concept)}
    return sorted({q.object.value for q in store.quads_for_pattern(None, CKG.nameKey, None) if q.subject in nodes})


def test_the_counts_answer_as_the_text_for_every_concept_of_the_demo_store(demo_store):
    folder, store = open_release(demo_store, read_only=True)
    names = concept_names(store)
    assert len(names) > 100
    answered = 0
    for name in names:
        for form in (name, name.upper()):
            expected = rows(store, None, {"concept": form})
            assert is_counted(store, folder, {"concept": form})
            assert rows(store, folder, {"concept": form}) == expected, form
            answered += bool(expected)
        for limit in (1, 5):  # a page of the counted answer is the page of the text's
            assert rows(store, folder, {"concept": name}, limit=limit) == rows(store, None, {"concept": name})[:limit]
    assert answered > 100  # most names have co-occurring concepts
    assert rows(store, folder, {"concept": "no such concept"}) == []


def tiny_store(edges: dict[str, list[str]], names: dict[str, list[str]]) -> ox.Store:
    """Concepts (kind Organism, a label each) with name keys, and papers with concept edges."""
    store = ox.Store()
    for concept in {c for cs in edges.values() for c in cs}:
        node = resources.concept(concept)
        store.extend([ox.Quad(node, RDF.type, CKG.Organism), ox.Quad(node, SKOS.prefLabel, ox.Literal(concept.upper()))])
    for concept, keys in names.items():
        store.extend([ox.Quad(resources.concept(concept), CKG.nameKey, ox.Literal(k)) for k in keys])
    store.extend([ox.Quad(resources.paper(p), CKG.associatedConcept, resources.concept(c))
                  for p, cs in edges.items() for c in cs])
    return store


def test_several_concepts_of_one_name_count_as_the_query_does():
    # x and y are both named "virus": a paper with both counts for each (each is the other's other),
    # a paper with x alone counts for its other concepts only
    edges = {"p1": ["x", "y", "z"], "p2": ["x", "z"], "p3": ["y"], "p4": ["x"], "p5": ["z", "w"], "p6": ["y", "w"]}
    store = tiny_store(edges, {"x": ["virus", "x"], "y": ["virus"], "z": ["zed"], "w": ["w"]})
    kept = counted.ConceptEdges.of_pairs([(p, c) for p, cs in edges.items() for c in cs])
    for name in ("virus", "x", "zed", "w", "none"):
        subs = COOCCURRENCE.bind({"concept": name})
        found = counted.cooccurrence(store, kept, subs)
        as_written = [tuple(t.value for t in r) for r in execute(store, COOCCURRENCE.text, substitutions=subs).rows]
        given = [tuple(t.value for t in r) for r in execute(store, COOCCURRENCE.with_counts(found), substitutions=subs).rows]
        assert given == as_written, name
    subs = COOCCURRENCE.bind({"concept": "virus"})
    assert {(o.value.rsplit("/", 1)[1], n) for o, n in counted.cooccurrence(store, kept, subs)} == {
        ("x", 1), ("y", 1), ("z", 2), ("w", 1)}  # x and y through p1; z through p1, p2; w through p6


def test_after_an_update_the_counts_are_the_new_releases(demo_releases, tmp_path):
    from ckg.etl.build import build, update

    path = tmp_path / "store"
    build(path, [demo_releases[0]], release="demo-1")
    folder, store = open_release(path, read_only=True)
    name = concept_names(store)[0]
    before = rows(store, folder, {"concept": name})
    del store
    update(path, [demo_releases[1]], release="demo-2")
    folder, store = open_release(path, read_only=True)
    checked = 0
    for name in concept_names(store)[:40]:
        expected = rows(store, None, {"concept": name})
        assert rows(store, folder, {"concept": name}) == expected, name
        checked += bool(expected)
    assert checked > 20 and before  # the first release's counts were read and dropped for the new ones


def test_a_changed_store_or_a_catalog_without_edges_runs_the_text(demo_store, tmp_path, monkeypatch):
    from conftest import copy_store

    from ckg.store import EDITED_FILE

    folder, store = open_release(demo_store, read_only=True)
    name = concept_names(store)[0]
    expected = rows(store, None, {"concept": name})
    assert is_counted(store, folder, {"concept": name}) and not is_counted(store, None, {"concept": name})
    monkeypatch.setattr(counted, "MAX_VALUES", 1)  # more rows than are given as values
    assert not is_counted(store, folder, {"concept": name})
    assert rows(store, folder, {"concept": name}) == expected
    monkeypatch.undo()
    copy = copy_store(demo_store, tmp_path / "copy")
    copy_folder, copy_db = open_release(copy, read_only=True)
    (copy_folder / EDITED_FILE).write_text("")
    assert not is_counted(copy_db, copy_folder, {"concept": name})
    (copy_folder / EDITED_FILE).unlink()
    with sqlite3.connect(copy_folder / CATALOG_FILE) as db:  # a catalog made before the edges were recorded
        db.execute("DROP TABLE annotation_edges")
    db.close()
    assert not is_counted(copy_db, copy_folder, {"concept": name})
    assert rows(copy_db, copy_folder, {"concept": name}) == expected


def test_the_api_answers_with_the_counts(demo_store):
    import json

    from serving import app_on

    folder, store = open_release(demo_store, read_only=True)
    name = concept_names(store)[0]
    expected = rows(store, None, {"concept": name})
    with app_on(demo_store, {"engines": 1}) as app:
        answer = app.test_client().get("/api/queries/concept-cooccurrence", query_string={"concept": name, "_limit": 3})
        assert answer.status_code == 200
        got = json.loads(answer.get_data())
    assert got["truncated"] is (len(expected) > 3)
    assert [(row["other"], row["papers"]) for row in got["rows"]] == [(r[1], int(r[4])) for r in expected[:3]]


def test_a_query_process_reads_the_edges_when_it_opens_a_release(demo_store):
    import threading

    from ckg import first_pages
    from ckg.server.engine import EngineContext

    first_pages._CACHE.clear()  # what other tests of this process read
    ctx = EngineContext({"store": str(demo_store)})
    ctx.open()
    for thread in [t for t in threading.enumerate() if t.name == "ckg-warm"]:
        thread.join(timeout=60)
    catalog = str(ctx.folder / CATALOG_FILE)
    kept = {key[0] for key in first_pages._CACHE if key[1] == catalog}
    ctx.close()
    assert {"citations", "concept-edges"} <= kept


def test_a_counted_line_is_checked():
    text = ("# name: q\n# summary: s\n# param: concept (string): c\n# counted: cooccurrence\n"
            "SELECT ?concept ?other WHERE { ?other ?p ?concept }\n")
    with pytest.raises(queries.QueryFileError, match="counted values end"):
        queries.parse(text, Path("q.rq"))
    with pytest.raises(queries.QueryFileError, match="counted no-such-count"):
        queries.parse(text.replace("cooccurrence", "no-such-count"), Path("q.rq"))
    marked = text.replace("{ ?other", "{\n  # counted values: other\n  { ?other ?p ?concept }\n  # counted values end\n ?other")
    assert queries.parse(marked, Path("q.rq")).counted_variables == ["other"]


def test_the_counts_answer_as_the_text_on_the_real_papers(real_biorxiv):
    folder, store = open_release(real_biorxiv[0], read_only=True)
    nodes = {q.subject for q in store.quads_for_pattern(None, RDF.type, CKG.Concept)}
    by_papers = sorted(((-int(q.object.value), q.subject) for q in store.quads_for_pattern(None, CKG.paperCount, None)
                        if q.subject in nodes), key=lambda pair: (pair[0], pair[1].value))
    checked = 0
    for _count, node in by_papers[:8] + by_papers[-4:]:
        label = next(store.quads_for_pattern(node, SKOS.prefLabel, None)).object.value
        assert is_counted(store, folder, {"concept": label})
        expected = rows(store, None, {"concept": label})
        assert rows(store, folder, {"concept": label}) == expected, label
        checked += len(expected) > 0
    assert checked >= 8
