"""Concepts and topics in a build: the triples, the manifest, vocabulary changes, the options."""

from __future__ import annotations

import shutil

import pytest

from ckg import resources
from ckg.etl.annotate import AnnotationOptions
from ckg.etl.build import build, update
from ckg.etl.concepts import ExtractorUnavailable
from ckg.etl.vocab import DEMO_VOCABULARY, VocabularyError
from ckg.store import open_store, query
from ckg.terms import CKG

from conftest import FIXTURES, MINI
from test_update import content

MESH_XML = FIXTURES / "vocab" / "desc-mini.xml"
PNEUMONIA = "https://w3id.org/ckg/resource/concept/mesh-D011014"


def rows(path, sparql):
    store = open_store(path, read_only=True)
    return sorted(tuple(None if t is None else t.value for t in r) for r in query(store, sparql))


def test_concept_nodes_carry_labels_kind_and_links_to_other_vocabularies(mini_store):
    path = mini_store[0]
    assert rows(path, f"SELECT ?t WHERE {{ <{PNEUMONIA}> a ?t }}") == [
        ("http://www.w3.org/2004/02/skos/core#Concept",), (CKG.Concept.value,), (CKG.MedicalCondition.value,)]
    assert rows(path, f"SELECT ?m WHERE {{ <{PNEUMONIA}> skos:exactMatch ?m }}") == [
        ("http://id.nlm.nih.gov/mesh/D011014",), ("http://purl.obolibrary.org/obo/DOID_552",)]
    assert rows(path, f"""SELECT ?l ?n ?mesh ?cui WHERE {{ <{PNEUMONIA}> skos:prefLabel ?l ; skos:notation ?n ;
        ckg:meshId ?mesh ; ckg:umlsCui ?cui }}""") == [
        ("Pneumonia", "DOID:552", "D011014", "C0032285"), ("Pneumonia", "MESH:D011014", "D011014", "C0032285")]
    store = open_store(path, read_only=True)
    label = next(store.quads_for_pattern(resources.concept("mesh-D011014"), None, None)).graph_name
    assert label == resources.graph("concepts")


def test_concept_edges_and_their_annotation_nodes(mini_store):
    path = mini_store[0]
    # aaaa0002 names pneumonia in its title, abstract and body: e = 3 + 1.5 + 0.5, one paper of five
    assert rows(path, """SELECT ?c ?n ?conf WHERE { <https://w3id.org/ckg/resource/paper/aaaa0002> ckg:associatedConcept ?x ;
        dcterms:subject ?x . ?a a ckg:ConceptAssociation , ckg:EdgeAnnotation ; ckg:annotatedSource
        <https://w3id.org/ckg/resource/paper/aaaa0002> ; ckg:annotatedProperty ckg:associatedConcept ;
        ckg:annotatedTarget ?x ; ckg:mentionCount ?n ; ckg:confidence ?conf . BIND(STR(?x) AS ?c) }""") == [
        (PNEUMONIA, "3", "0.811")]
    # the ACE2 paper of the mini release (its title, abstract and body say ACE2; lung in title and abstract)
    assert rows(path, f"""SELECT ?l ?n WHERE {{ ?a ckg:annotatedSource <https://w3id.org/ckg/resource/paper/{'9' * 40}> ;
        ckg:annotatedTarget ?c ; ckg:mentionCount ?n . ?c skos:prefLabel ?l }}""") == [
        ("Lung", "2"), ("angiotensin-converting enzyme 2", "3")]
    # every associatedConcept edge has exactly one annotation node, and the reverse
    assert rows(path, """SELECT (COUNT(*) AS ?n) WHERE { ?p ckg:associatedConcept ?c . FILTER NOT EXISTS {
        ?a ckg:annotatedSource ?p ; ckg:annotatedProperty ckg:associatedConcept ; ckg:annotatedTarget ?c } }""") == [("0",)]


def test_topic_edges(mini_store):
    path = mini_store[0]
    top = rows(path, "SELECT ?p WHERE { ?a a ckg:TopicAssociation ; ckg:topicRank 1 ; ckg:annotatedSource ?p }")
    assert len(top) == 5  # every paper with text has its top topic
    assert rows(path, """SELECT (COUNT(*) AS ?n) WHERE { ?a a ckg:TopicAssociation ; ckg:probability ?p ; ckg:topicRank ?r ;
        ckg:annotatedSource ?s ; ckg:annotatedTarget ?t . ?s ckg:associatedTopic ?t ; dcterms:subject ?t .
        FILTER (?p < 0.2 && ?r > 1) }""") == [("0",)]


def test_manifest_records_vocabularies_configuration_counts_and_timings(mini_store):
    m = mini_store[1].manifest
    files = m["config"]["vocabularies"]
    assert [f["path"] for f in files] == [str(p.resolve()) for p in DEMO_VOCABULARY]
    assert all(len(f["sha256"]) == 64 and f["bytes"] > 0 and f["terms"] > 10 for f in files)
    assert m["config"]["extraction"]["extractor"] == "gazetteer" and m["config"]["extraction"]["stoplist"].endswith(
        "concept-stoplist.txt")
    assert m["config"]["edge_rules"] == {"min_body_mentions": 2, "max_df": 0.5, "df_min_papers": 50}
    assert m["config"]["topics"]["seed"] == 7 and len(m["config"]["topics"]["topics"]) == 10
    c = m["counts"]["concepts"]
    assert (c["papers"], c["papers_with_concepts"], c["edges"], c["concepts"]) == (5, 4, 8, 6)
    assert c["extraction"]["papers"] == 5 and c["extraction"]["words"] > 90  # 97: a preprint footer is not text
    # ACE2 (a PR term) and the coronavirus spike glycoprotein (MeSH D12) are proteins: kind other
    assert c["concepts_by_kind"] == {"anatomy": 1, "condition": 2, "organism": 1, "other": 2}
    t = m["counts"]["topics"]
    assert t["documents"] == 5 and len(t["topics"]) == 10
    assert m["counts"]["per_class"][CKG.ConceptAssociation.value] == 8
    assert m["timings_s"]["concepts"] > 0 and m["timings_s"]["topics"] > 0


def test_a_vocabulary_change_reextracts_every_paper_and_equals_a_fresh_build(tmp_path):
    vocab = [MESH_XML, *DEMO_VOCABULARY[1:]]
    updated, fresh = tmp_path / "u", tmp_path / "f"
    build(updated, [MINI], release="r1")
    result = update(updated, [MINI], release="r1", annotation=AnnotationOptions(vocabularies=vocab))
    assert result.counts["changes"]["changed"] == 0
    assert result.counts["concepts"]["extraction"]["papers"] == 5  # the vocabulary changed: all again
    build(fresh, [MINI], release="r1", annotation=AnnotationOptions(vocabularies=vocab))
    assert content(updated) == content(fresh)
    # the next update keeps the store's vocabulary and extracts nothing
    again = update(updated, [MINI], release="r1")
    assert [f["path"] for f in again.manifest["config"]["vocabularies"]] == [str(p.resolve()) for p in vocab]
    assert again.counts["concepts"]["extraction"]["papers"] == 0 and again.counts["concepts"]["edges_added"] == 0
    assert content(updated) == content(fresh)


def test_a_missing_vocabulary_is_a_clear_error(tmp_path):
    vocab = tmp_path / "my.obo"
    shutil.copy(DEMO_VOCABULARY[1], vocab)
    build(tmp_path / "s", [MINI], annotation=AnnotationOptions(vocabularies=[vocab]))
    vocab.unlink()
    with pytest.raises(VocabularyError, match="my.obo not found .*give the vocabulary again with --vocab"):
        update(tmp_path / "s", [MINI])


def test_an_unavailable_extractor_stops_the_build_cleanly(tmp_path):
    with pytest.raises(ExtractorUnavailable, match="not installed"):
        build(tmp_path / "s", [MINI], annotation=AnnotationOptions(extractor="scispacy"))
    assert not (tmp_path / "s").exists()


def test_custom_topics(tmp_path):
    config = tmp_path / "topics.toml"
    config.write_text('[model]\nseed = 3\n[[topic]]\nlabel = "Spike and ACE2"\nseed_words = ["ace2", "spike"]\n'
                      '[[topic]]\nlabel = "Clinical"\nseed_words = ["pneumonia", "patient"]\n')
    result = build(tmp_path / "s", [MINI], annotation=AnnotationOptions(topics=config))
    assert [t["key"] for t in result.counts["topics"]["topics"]] == ["spike-and-ace2", "clinical"]
    assert rows(tmp_path / "s", "SELECT ?l WHERE { ?t a ckg:Topic ; skos:prefLabel ?l }") == [("Clinical",),
                                                                                             ("Spike and ACE2",)]
