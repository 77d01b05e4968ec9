"""Every shipped named query parses, runs on the mini store and returns the expected rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from ckg import queries
from ckg.sparql import run_named
from ckg.store import open_store

SHA9 = "9" * 40
CKG = "https://w3id.org/ckg/ontology#"


def short(term):
    if term is None:
        return None
    value = term.value
    return value.rsplit("/", 1)[1] if value.startswith("https://w3id.org/ckg/resource/") else value


EXPECTED = {
    "most-cited-papers": ({}, ["paper", "citations"], [
        ("aaaa0001", "2"), ("aaaa0002", "1"), ("aaaa0003", "1")]),
    "paper-authors": ({"paper": "aaaa0001"}, ["position", "author", "name", "institutionName", "country"], [
        ("1", "wang_lin", "Lin Wang", "University of Bari", "Italy"),
        ("2", "smith_john", "John A. Smith", "University of Bari", "Italy"),
        ("3", "muller_zoe", "Zoë Müller", "Charité Berlin", "Germany")]),
    "paper-institutions": ({"paper": "https://w3id.org/ckg/resource/paper/aaaa0001"}, ["institution", "authors"], [
        ("university-of-bari_italy", "2"), ("charite-berlin_germany", "1")]),
    "paper-references": ({"paper": "aaaa0001"}, ["cited", "year"], [("aaaa0003", "2019"), ("aaaa0002", "2020")]),
    "paper-cited-by": ({"paper": "aaaa0001"}, ["citing"], [("aaaa0002",), (SHA9,)]),
    "author-papers": ({"author": "wang_lin"}, ["paper", "position"], [("aaaa0001", "1"), ("aaaa0002", "2")]),
    "author-coauthors": ({"author": "wang_lin"}, ["coauthor", "shared"], [
        ("smith_john", "1"), ("li_xiang", "1"), ("muller_zoe", "1")]),
    "institution-papers": ({"institution": "university-of-bari_italy"}, ["paper", "authors"], [
        ("aaaa0001", "2"), ("aaaa0002", "1")]),
    "find-papers": ({"text": "ACE2"}, ["paper"], [("aaaa0001",), (SHA9,)]),
    # concepts and topics (the mini papers' concepts come from ckg's demo vocabulary)
    "papers-with-concepts": ({"concept1": "ace2", "concept2": "D064370"}, ["paper", "citations"], [("aaaa0001", "2")]),
    "customised-citation-counts": ({"concept": "Angiotensin-converting enzyme 2"}, ["paper", "citations"], [
        ("aaaa0001", "1"), ("aaaa0002", "1"), ("aaaa0003", "1")]),
    "topic-papers": ({"topic": "Virology"}, ["paper", "rank", "citations"], [
        ("aaaa0001", "1", "2"), ("aaaa0002", "1", "1"), ("aaaa0003", "1", "1"), (SHA9, "1", "0"), ("aaaa0008", "1", "0")]),
    "concept-cooccurrence": ({"concept": "PR:Q9BYF1"}, ["other", "kind", "papers"], [
        ("mesh-D017934", CKG + "Organism", "1"), ("mesh-D008168", CKG + "Anatomy", "1"),
        ("mesh-D064370", CKG + "PhenomenonOrOther", "1")]),  # a protein (MeSH D12): no chemical
    "paper-concepts": ({"paper": "aaaa0002"}, ["concept", "label", "kind", "confidence", "mentions"], [
        ("mesh-D011014", "Pneumonia", CKG + "MedicalCondition", "0.811", "3")]),
    # on five papers the topic model sees two words (ace2, a virology seed word, and measured): only the
    # top topic is meaningful, so only the first row is compared
    "paper-topics": ({"paper": SHA9}, ["rank", "topic"], [("1", "virology")], 1),
    "top-concepts": ({}, ["concept", "meshId", "papers"], [
        ("mesh-D017934", "D017934", "2"), ("pr-Q9BYF1", None, "2"), ("mesh-D007251", "D007251", "1"),
        ("mesh-D008168", "D008168", "1"), ("mesh-D011014", "D011014", "1"), ("mesh-D064370", "D064370", "1")]),
    "topics": ({}, ["topic", "topTopicOf", "papers"], [("virology", "5", "5")], 1),
    # the first 13 rows: affiliations and concepts (the topic rows that follow depend on the topic
    # model; test_training_triples_cover_every_edge_kind checks the rest)
    "embed-training-triples": ({}, ["head", "relation", "tail"], [
        ("li_xiang", CKG + "affiliatedWith", "wuhan-jinyintan-hospital_china"),
        ("muller_zoe", CKG + "affiliatedWith", "charite-berlin_germany"),
        ("sharma_priya", CKG + "affiliatedWith", "scripps-research-institute_united-states"),
        ("smith_john", CKG + "affiliatedWith", "university-of-bari_italy"),
        ("wang_lin", CKG + "affiliatedWith", "university-of-bari_italy"),
        (SHA9, CKG + "associatedConcept", "mesh-D008168"), (SHA9, CKG + "associatedConcept", "pr-Q9BYF1"),
        ("aaaa0001", CKG + "associatedConcept", "mesh-D017934"), ("aaaa0001", CKG + "associatedConcept", "mesh-D064370"),
        ("aaaa0001", CKG + "associatedConcept", "pr-Q9BYF1"), ("aaaa0002", CKG + "associatedConcept", "mesh-D011014"),
        ("aaaa0003", CKG + "associatedConcept", "mesh-D007251"), ("aaaa0003", CKG + "associatedConcept", "mesh-D017934"),
    ], 13),
    "embed-paper-texts": ({}, ["paper", "title", "abstract"], [
        (SHA9, "Delta preprint on ACE2 expression in the lung", "ACE2 is expressed in lung tissue."),
        ("aaaa0001", "Alpha study of coronavirus spike binding to ACE2 receptors",
         "The spike protein binds ACE2. We measured binding affinity in cell lines."),
        ("aaaa0002", "Beta: clinical outcomes of pneumonia patients in Wuhan",
         "Clinical outcomes of 41 patients with pneumonia."),
        ("aaaa0003", "Gamma review of transmission models for influenza and coronaviruses", None),
        ("aaaa0008", "Eta preprint whose parse is broken", None)]),
    # the first row only (the topic model on five papers: only the top topic is meaningful);
    # tests/test_embed_evaluation.py checks this query on a store with known topic triples
    "embed-paper-topics": ({}, ["paper", "topic", "label"], [(SHA9, "virology", "virology")], 1),
    # the 8 concept edges' confidences (the topic rows that follow depend on the topic model)
    "embed-edge-weights": ({}, ["paper", "relation", "target", "weight"], [
        (SHA9, CKG + "associatedConcept", "mesh-D008168", "0.777"), (SHA9, CKG + "associatedConcept", "pr-Q9BYF1", "0.649"),
        ("aaaa0001", CKG + "associatedConcept", "mesh-D017934", "0.506"),
        ("aaaa0001", CKG + "associatedConcept", "mesh-D064370", "0.487"),
        ("aaaa0001", CKG + "associatedConcept", "pr-Q9BYF1", "0.649"),
        ("aaaa0002", CKG + "associatedConcept", "mesh-D011014", "0.811"),
        ("aaaa0003", CKG + "associatedConcept", "mesh-D007251", "0.632"),
        ("aaaa0003", CKG + "associatedConcept", "mesh-D017934", "0.506")], 8),
    # the parse-only paper (SHA9) has no cord_uid
    "embed-paper-cord-uids": ({}, ["paper", "cordUid"], [("aaaa0001", "aaaa0001"), ("aaaa0002", "aaaa0002"),
                                                         ("aaaa0003", "aaaa0003"), ("aaaa0008", "aaaa0008")]),
}


UNORDERED = {"embed-training-triples": ("relation", "head", "tail"), "embed-edge-weights": ("relation", "paper", "target")}
"""Exports in no particular order (their readers sort them): compared in the order they had before."""


def test_every_shipped_query_has_an_expectation():
    assert sorted(queries.names()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_named_query_on_the_mini_store(name, mini_store):
    params, columns, expected, *first = EXPECTED[name]  # (..., n): compare the first n rows only
    query = queries.get(name)
    assert query.summary and query.path.suffix == ".rq" and query.form == "SELECT"
    result = run_named(open_store(mini_store[0], read_only=True), query, params)
    rows = [dict(zip(result.variables, row)) for row in result.rows]
    if name in UNORDERED:
        rows.sort(key=lambda r: tuple(r[v].value for v in UNORDERED[name]))
    got = [tuple(short(r[c]) for c in columns) for r in rows]
    assert (got[:first[0]] if first else got) == expected
    if name == "topics":
        assert len(got) == 10


def test_concept_parameters_take_labels_synonyms_and_identifiers(mini_store):
    store = open_store(mini_store[0], read_only=True)

    def papers(**params):
        result = run_named(store, queries.get("papers-with-concepts"), params)
        return [short(dict(zip(result.variables, row))["paper"]) for row in result.rows]

    # label, another name, MeSH id, CURIE: the same concept
    for name in ("Pneumonia", "pneumonia", "D011014", "MESH:D011014", "doid:552"):
        assert papers(concept1=name) == ["aaaa0002"], name
    assert papers(concept1="ACE2", concept3="lung") == [SHA9]
    assert papers(concept1="ACE2", concept2="pneumonia") == []
    assert papers(concept1='") } } SELECT * WHERE { ?s ?p ?o } #') == []


def test_headers_are_read_from_the_files():
    q = queries.get("paper-authors")
    assert q.params[0].name == "paper" and q.params[0].type == "paper" and q.params[0].required
    assert "author-list order" in q.summary
    assert q.text.startswith("# name: paper-authors\n")


def test_parameters_are_bound_not_pasted(mini_store):
    store = open_store(mini_store[0], read_only=True)
    hostile = '") } } SELECT * WHERE { ?s ?p ?o } #'
    result = run_named(store, queries.get("find-papers"), {"text": hostile})
    assert list(result.rows) == []
    bound = queries.get("paper-authors").bind({"paper": "x> ?p ?o . <y"})
    iri = next(iter(bound.values())).value
    assert iri == "https://w3id.org/ckg/resource/paper/x%3E%20%3Fp%20%3Fo%20.%20%3Cy"


def test_parameter_errors_are_clear():
    with pytest.raises(queries.QueryParameterError, match="unknown parameter.*papr.*takes paper"):
        queries.get("paper-authors").bind({"papr": "x"})
    with pytest.raises(KeyError, match="no named query 'nope'"):
        queries.get("nope")


@pytest.mark.parametrize("header, message", [
    ("# summary: x\nSELECT * WHERE {}", "needs '# name:'"),
    ("# name: q\n# summary: x\n# param: k (colour): y\nSELECT ?k WHERE {}", "q.rq:3: bad param line"),
    ("# name: other\n# summary: x\nSELECT * WHERE {}", "differs from the file name"),
    ("# name: q\n# summary: x\n# param: k (string): y\nSELECT ?a WHERE { ?a ?b ?k }", "must be in the SELECT projection"),
])
def test_malformed_headers_are_refused(header, message):
    with pytest.raises(queries.QueryFileError, match=message):
        queries.parse(header, Path("q.rq"))


def test_training_triples_cover_every_edge_kind(mini_store):
    result = run_named(open_store(mini_store[0], read_only=True), queries.get("embed-training-triples"), {})
    rows = [(short(h), r.value, short(t)) for h, r, t in sorted(result.rows, key=lambda row: [t.value for t in row])]
    authored = [(h, t) for h, r, t in rows if r == CKG + "authoredBy"]
    cites = [(h, t) for h, r, t in rows if r == CKG + "cites"]
    topics = {h for h, r, t in rows if r == CKG + "associatedTopic"}
    assert authored == [(SHA9, "sharma_priya"), ("aaaa0001", "muller_zoe"), ("aaaa0001", "smith_john"),
                        ("aaaa0001", "wang_lin"), ("aaaa0002", "li_xiang"), ("aaaa0002", "wang_lin"),
                        ("aaaa0003", "muller_zoe"), ("aaaa0003", "van-der-berg_anna"), ("aaaa0008", "rossi_giulia")]
    assert cites == [(SHA9, "aaaa0001"), ("aaaa0001", "aaaa0002"), ("aaaa0001", "aaaa0003"), ("aaaa0002", "aaaa0001")]
    assert topics == {SHA9, "aaaa0001", "aaaa0002", "aaaa0003", "aaaa0008"}  # every paper has a top topic
