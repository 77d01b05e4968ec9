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
    "embed-training-triples": ({}, ["head", "relation", "tail"], [
        ("li_xiang", CKG + "affiliatedWith", "wuhan-jinyintan-hospital_china"),
        ("muller_zoe", CKG + "affiliatedWith", "charite-berlin_germany"),
        ("sharma_priya", CKG + "affiliatedWith", "scripps-research-institute_united-states"),
        ("smith_john", CKG + "affiliatedWith", "university-of-bari_italy"),
        ("wang_lin", CKG + "affiliatedWith", "university-of-bari_italy"),
        (SHA9, CKG + "authoredBy", "sharma_priya"),
        ("aaaa0001", CKG + "authoredBy", "muller_zoe"), ("aaaa0001", CKG + "authoredBy", "smith_john"),
        ("aaaa0001", CKG + "authoredBy", "wang_lin"),
        ("aaaa0002", CKG + "authoredBy", "li_xiang"), ("aaaa0002", CKG + "authoredBy", "wang_lin"),
        ("aaaa0003", CKG + "authoredBy", "muller_zoe"), ("aaaa0003", CKG + "authoredBy", "van-der-berg_anna"),
        ("aaaa0008", CKG + "authoredBy", "rossi_giulia"),
        (SHA9, CKG + "cites", "aaaa0001"), ("aaaa0001", CKG + "cites", "aaaa0002"),
        ("aaaa0001", CKG + "cites", "aaaa0003"), ("aaaa0002", CKG + "cites", "aaaa0001")]),
    "embed-paper-texts": ({}, ["paper", "title", "abstract"], [
        (SHA9, "Delta preprint on ACE2 expression in the lung", "ACE2 is expressed in lung tissue."),
        ("aaaa0001", "Alpha study of coronavirus spike binding to ACE2 receptors",
         "The spike protein binds ACE2. We measured binding affinity in cell lines."),
        ("aaaa0002", "Beta: clinical outcomes of pneumonia patients in Wuhan",
         "Clinical outcomes of 41 patients with pneumonia."),
        ("aaaa0003", "Gamma review of transmission models for influenza and coronaviruses", None),
        ("aaaa0008", "Eta preprint whose parse is broken", None)]),
    # the mini store has no topics (the concepts-and-topics step writes them); tests/test_embed_evaluation.py
    # checks this query on a store with topic triples
    "embed-paper-topics": ({}, ["paper", "topic", "label", "weight"], []),
}


def test_every_shipped_query_has_an_expectation():
    assert sorted(queries.names()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_named_query_on_the_mini_store(name, mini_store):
    params, columns, expected = EXPECTED[name]
    query = queries.get(name)
    assert query.summary and query.path.suffix == ".rq" and query.form == "SELECT"
    result = run_named(open_store(mini_store[0], read_only=True), query, params)
    rows = [dict(zip(result.variables, row)) for row in result.rows]
    assert [tuple(short(r[c]) for c in columns) for r in rows] == expected


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
