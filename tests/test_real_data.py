"""Real CORD-19 data from ../shared/data (via $CKG_REAL_DATA): counts and facts checked by hand.

The facts below were checked by reading the JSON parses and metadata rows themselves.
"""

from __future__ import annotations

import pytest

from ckg.etl.build import build
from ckg.store import open_store, query

pytestmark = pytest.mark.realdata

GUAN = "dfb0fedbeed56bd2b795a67faab28295afc14c96"  # Guan et al., Clinical characteristics of 2019-nCoV in China
ZHOU = "0fd300aefb704c20f32152b97b6194015f1c74e7"  # Zhou et al., cites Guan (BIBREF4, by title, parsed year 2002)


def rows(store, sparql):
    return [tuple(None if t is None else t.value for t in r) for r in query(store, sparql)]


def iri(kind, key):
    return f"<https://w3id.org/ckg/resource/{kind}/{key}>"


@pytest.fixture(scope="module")
def biorxiv(real_biorxiv):
    path, result = real_biorxiv  # built with the real vocabularies (shared with test_real_concepts.py)
    return open_store(path, read_only=True), result


def test_biorxiv_release_counts(biorxiv):
    store, result = biorxiv
    counts = result.counts
    assert result.release == "2020-03-13"
    assert counts["papers_in_store"] == 803
    assert counts["papers_read"]["parse_only"] == 803 and counts["papers_read"]["parses_read"] == 803
    assert result.report.rejected == 0
    # 35 parses have no title at all but have text: kept, and reported
    assert result.report.counts["no-title"] == 35
    assert counts["per_property"]["http://purl.org/dc/terms/title"] == 768
    # 707 parses have an abstract; one of them (41fc7191...) is nothing but the preprint's license
    # footer ("All rights reserved. No reuse allowed without permission."), which is not kept
    assert counts["per_property"]["http://purl.org/dc/terms/abstract"] == 706
    # the paper's own DOI read from the preprint page footers
    assert counts["per_property"]["http://purl.org/ontology/bibo/doi"] == 773
    assert counts["per_class"]["https://w3id.org/ckg/ontology#Authorship"] > 6500


def test_biorxiv_citations_well_over_a_simple_matcher(biorxiv):
    store, result = biorxiv
    citations = result.counts["citations"]
    assert citations["bib_entries"] == 26906
    # a simple DOI-or-exact-title matcher found 267 in-corpus edges
    assert citations["edges"] >= 400
    assert set(citations["edges_by_method"]) == {"doi", "title", "title-fuzzy"}


def test_known_paper_its_authors_and_affiliation(biorxiv):
    store, _ = biorxiv
    assert rows(store, f"SELECT ?t ?doi WHERE {{ {iri('paper', GUAN)} dcterms:title ?t ; bibo:doi ?doi }}") == [
        ("Clinical characteristics of 2019 novel coronavirus infection in China", "10.1101/2020.02.06.20020974")]
    authors = rows(store, f"""SELECT ?pos ?name ?inst ?country WHERE {{
        ?a ckg:annotatedSource {iri('paper', GUAN)} ; ckg:annotatedTarget ?au ; ckg:authorPosition ?pos .
        ?au foaf:name ?name .
        OPTIONAL {{ ?a ckg:statedAffiliation ?i . ?i foaf:name ?inst . OPTIONAL {{ ?i ckg:country ?country }} }}
    }} ORDER BY ?pos""")
    # 40 entries in the parse; "Drs Guan", "Zeng" and "Yuen Contributed" come from the author note
    assert len({a[0] for a in authors}) == 37
    assert authors[0] == ("1", "Wei-Jie Guan", "Guangzhou Medical University", "China")
    assert authors[1][1] == "Zheng-Yi Ni" and authors[1][2] == "Wuhan Jin-yintan Hospital"


def test_known_citation_and_most_cited(biorxiv):
    store, _ = biorxiv
    assert bool(query(store, f"ASK {{ {iri('paper', ZHOU)} ckg:cites {iri('paper', GUAN)} }}"))
    assert bool(query(store, f"ASK {{ {iri('paper', GUAN)} ckg:citedBy {iri('paper', ZHOU)} }}"))
    top = rows(store, "SELECT ?p (COUNT(?c) AS ?n) WHERE { ?p ckg:citedBy ?c } GROUP BY ?p ORDER BY DESC(?n) LIMIT 1")
    assert top[0][0].endswith(GUAN) and int(top[0][1]) >= 30


def test_metadata_samples_of_two_eras(real_data, tmp_path):
    meta = real_data / "cord19" / "metadata"
    result = build(tmp_path / "s", [meta / "metadata-2022-06-head500.csv", meta / "metadata-2022-06-sample1000.csv",
                                    meta / "metadata-2020-04-sample1000.csv"])
    assert result.counts["papers_in_store"] == 2500 and result.report.rejected == 0
    store = open_store(tmp_path / "s", read_only=True)
    fact = rows(store, f"""SELECT ?t ?doi ?pmc ?pmid ?issued ?journal WHERE {{ {iri('paper', 'ug7v899j')}
        dcterms:title ?t ; bibo:doi ?doi ; fabio:hasPubMedCentralId ?pmc ; bibo:pmid ?pmid ; dcterms:issued ?issued ;
        ckg:journalTitle ?journal }}""")
    assert fact == [("Clinical features of culture-proven Mycoplasma pneumoniae infections at King Abdulaziz University "
                     "Hospital, Jeddah, Saudi Arabia", "10.1186/1471-2334-1-6", "PMC35282", "11472636", "2001-07-04",
                     "BMC Infect Dis")]
    names = rows(store, f"""SELECT ?n WHERE {{ ?a ckg:annotatedSource {iri('paper', 'ug7v899j')} ; ckg:annotatedTarget ?au ;
        ckg:authorPosition ?pos . ?au foaf:name ?n }} ORDER BY ?pos""")
    assert names == [("Tariq A Madani",), ("Aisha A Al-Ghamdi",)]
    # rows listing several PDF parses ("sha1; sha2") keep every SHA-1: 40 rows list two, 6 three, 1 four
    multi = rows(store, "SELECT ?n (COUNT(*) AS ?papers) WHERE { { SELECT ?p (COUNT(?s) AS ?n) WHERE { ?p ckg:sha ?s } "
                        "GROUP BY ?p } FILTER (?n > 1) } GROUP BY ?n ORDER BY ?n")
    assert multi == [("2", "40"), ("3", "6"), ("4", "1")]
    # the 2020-04 era's float PubMed ids ("4361535.0") are written as integers
    assert rows(store, f"SELECT ?id WHERE {{ {iri('paper', '8q5ondtn')} bibo:pmid ?id }}") == [("4361535",)]


def test_schema_era_fixtures(real_data, tmp_path):
    eras = sorted((real_data / "cord19" / "fixtures" / "schema-eras").glob("*.csv"))
    result = build(tmp_path / "s", eras)
    assert result.counts["papers_in_store"] == 14
    assert result.report.by_reason("rejected") == {"duplicate-paper": 4}  # era files a and b share four rows
    store = open_store(tmp_path / "s", read_only=True)
    # a row with only a DOI is keyed by it
    assert rows(store, "SELECT ?p WHERE { ?p dcterms:title 'Subject index' }") == [
        ("https://w3id.org/ckg/resource/paper/doi-c26d7508a8ec24ff",)]
    # 2020-04 rows write authors 'First M Last; ...'
    names = rows(store, f"""SELECT ?n WHERE {{ ?x ckg:annotatedSource {iri('paper', 'vho70jcx')} ; ckg:authorPosition ?pos ;
        ckg:annotatedTarget ?a . ?a foaf:familyName ?n }} ORDER BY ?pos""")
    assert names[:3] == [("Minot",), ("Turner",), ("Ternus",)]
    # a March 2020 row without cord_uid is keyed by its sha
    assert rows(store, f"SELECT ?t WHERE {{ {iri('paper', '0a3d78fb4b228cdc20e48fcc96f9da3f92ce1207')} dcterms:title ?t }}") == [
        ("SARS-CoV Sampling from 3 Portals",)]


def test_parse_fixtures_join_rows_and_parses(real_data, tmp_path):
    result = build(tmp_path / "s", [real_data / "cord19" / "fixtures" / "parses"])
    read = result.counts["papers_read"]
    assert (read["papers"], read["with_metadata_and_parse"], read["parse_only"]) == (7, 2, 5)
    store = open_store(tmp_path / "s", read_only=True)
    assert rows(store, f"""SELECT ?inst ?country WHERE {{ ?a ckg:annotatedSource {iri('paper', '5pl5oqwf')} ;
        ckg:annotatedTarget ?au ; ckg:statedAffiliation ?i . ?au foaf:familyName 'Fiermonte' .
        ?i foaf:name ?inst ; ckg:country ?country }}""") == [("University of Bari", "Italy")]
    assert rows(store, f"SELECT ?full WHERE {{ {iri('paper', 'PMC6687912')} ckg:hasFullText ?full }}") == [("true",)]
