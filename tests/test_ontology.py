"""The ontology: it parses, loads in owlready2, is consistent under HermiT, declares every term a build emits."""

from __future__ import annotations

import shutil

import pyoxigraph as ox
import pytest

from ckg import ontology
from ckg.store import open_store, query
from ckg.terms import CKG, PREFIXES, declared, is_declared, superclasses, superproperties

CKG_NS = "https://w3id.org/ckg/ontology#"
OWL = "http://www.w3.org/2002/07/owl#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"


def ontology_store() -> ox.Store:
    store = ox.Store()
    store.load(path=str(ontology.path()), format=ox.RdfFormat.TURTLE)
    return store


def test_ontology_declares_the_ckg_schema():
    kinds = declared()
    for cls in ("Paper", "Author", "Institution", "Concept", "Topic", "EdgeAnnotation", "Authorship"):
        assert kinds[CKG_NS + cls] == "Class"
    for prop in ("authoredBy", "affiliatedWith", "cites", "citedBy", "associatedConcept", "associatedTopic"):
        assert kinds[CKG_NS + prop] == "ObjectProperty"
    for prop in ("cordUid", "sha", "publicationYear", "authorPosition", "country"):
        assert kinds[CKG_NS + prop] == "DatatypeProperty"
    for iri in ("http://purl.org/dc/terms/title", "http://purl.org/ontology/bibo/doi", "http://xmlns.com/foaf/0.1/name"):
        assert kinds[iri] == "DatatypeProperty"


def test_edges_have_domains_ranges_and_alignments():
    store = ontology_store()

    def objects(s, p):
        return {t.object.value for t in store.quads_for_pattern(ox.NamedNode(s), ox.NamedNode(p), None)}

    expected = {
        "authoredBy": ("Paper", "Author", "http://purl.org/dc/terms/creator"),
        "affiliatedWith": ("Author", "Institution", "http://schema.org/affiliation"),
        "cites": ("Paper", "Paper", "http://purl.org/spar/cito/cites"),
        "citedBy": ("Paper", "Paper", "http://purl.org/spar/cito/isCitedBy"),
        "associatedConcept": ("Paper", "Concept", "http://purl.org/dc/terms/subject"),
        "associatedTopic": ("Paper", "Topic", "http://purl.org/dc/terms/subject"),
    }
    for name, (domain, range_, parent) in expected.items():
        iri = CKG_NS + name
        assert objects(iri, RDFS + "domain") == {CKG_NS + domain}, name
        assert objects(iri, RDFS + "range") == {CKG_NS + range_}, name
        assert parent in objects(iri, RDFS + "subPropertyOf"), name
        assert objects(iri, RDFS + "label") and objects(iri, RDFS + "comment"), name
    assert objects(CKG_NS + "cites", OWL + "inverseOf") == {CKG_NS + "citedBy"}
    assert [c.value for c in superclasses(CKG.Paper)] == ["http://purl.org/spar/fabio/ResearchPaper",
                                                          "http://schema.org/ScholarlyArticle"]
    assert {c.value for c in superclasses(CKG.Author)} == {"http://xmlns.com/foaf/0.1/Person", "http://schema.org/Person"}
    assert {c.value for c in superclasses(CKG.Concept)} == {"http://www.w3.org/2004/02/skos/core#Concept"}
    assert [p.value for p in superproperties(CKG.citedBy)] == ["http://purl.org/spar/cito/isCitedBy"]


def test_every_ckg_term_has_a_label():
    store = ontology_store()
    for iri in declared():
        if iri.startswith(CKG_NS):
            labels = list(store.quads_for_pattern(ox.NamedNode(iri), ox.NamedNode(RDFS + "label"), None))
            assert labels, f"{iri} has no rdfs:label"


def _emitted_terms(store_path):
    store = open_store(store_path, read_only=True)
    predicates = {r["p"].value for r in query(store, "SELECT DISTINCT ?p WHERE { ?s ?p ?o }")}
    classes = {r["c"].value for r in query(store, "SELECT DISTINCT ?c WHERE { ?s a ?c }")}
    annotated = {r["p"].value for r in query(store, "SELECT DISTINCT ?p WHERE { ?s ckg:annotatedProperty ?p }")}
    return predicates, classes, annotated


@pytest.mark.parametrize("which", ["mini_store", "demo_store"])
def test_every_term_a_build_emits_is_declared(which, request):
    path = request.getfixturevalue(which)
    path = path[0] if isinstance(path, tuple) else path
    predicates, classes, annotated = _emitted_terms(path)
    assert CKG_NS + "authoredBy" in predicates and CKG_NS + "Paper" in classes
    undeclared = sorted(t for t in predicates | classes | annotated if not is_declared(t))
    assert undeclared == []


def test_owlready2_loads_the_ontology(tmp_path):
    owlready2 = pytest.importorskip("owlready2")
    rdfxml = ontology.to_rdfxml(tmp_path / "ckg.owl")
    world = owlready2.World()
    onto = world.get_ontology(rdfxml.as_uri()).load(format="rdfxml")
    names = {c.name for c in onto.classes()}
    assert {"Paper", "Author", "Institution", "Concept", "Topic", "Authorship"} <= names
    cites = onto.search_one(iri=CKG_NS + "cites")
    assert cites.inverse_property.name == "citedBy"
    assert onto.search_one(iri=CKG_NS + "authoredBy").range == [onto.search_one(iri=CKG_NS + "Author")]


def test_hermit_finds_ontology_and_mini_data_consistent(tmp_path, mini_store):
    owlready2 = pytest.importorskip("owlready2")
    if shutil.which("java") is None:
        pytest.skip("HermiT needs Java (java is not on PATH)")
    store = ox.Store()
    store.load(path=str(ontology.path()), format=ox.RdfFormat.TURTLE)
    data = open_store(mini_store[0], read_only=True)
    # The ABox of the mini build, without body texts (HermiT does not need them) and without the
    # xsd:date/gYear/gYearMonth literals of dcterms:issued: those RDF datatypes are not in OWL 2's
    # datatype map, so HermiT refuses to parse them (they are fine for every SPARQL store).
    not_owl2 = {f"http://www.w3.org/2001/XMLSchema#{t}" for t in ("date", "gYear", "gYearMonth")}

    def keep(q):
        if q.predicate.value == CKG_NS + "bodyText":
            return False
        return not (isinstance(q.object, ox.Literal) and q.object.datatype.value in not_owl2)

    store.extend(ox.Quad(q.subject, q.predicate, q.object) for q in data.quads_for_pattern(None, None, None) if keep(q))
    path = tmp_path / "ckg-with-data.owl"
    path.write_bytes(ox.serialize((q.triple for q in store), format=ox.RdfFormat.RDF_XML, prefixes=PREFIXES))
    world = owlready2.World()
    onto = world.get_ontology(path.as_uri()).load(format="rdfxml")
    with onto:
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
    assert list(world.inconsistent_classes()) == []
    # HermiT's classification used the subclass axioms: an Authorship is an EdgeAnnotation
    authorship = onto.search_one(iri=CKG_NS + "Authorship")
    assert onto.search_one(iri=CKG_NS + "EdgeAnnotation") in authorship.ancestors()


def test_hermit_detects_an_inconsistency(tmp_path):
    """The consistency check is real: a paper that is also an author contradicts the disjointness axiom."""
    owlready2 = pytest.importorskip("owlready2")
    if shutil.which("java") is None:
        pytest.skip("HermiT needs Java (java is not on PATH)")
    store = ontology_store()
    thing = ox.NamedNode("https://w3id.org/ckg/resource/paper/x")
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    store.add(ox.Quad(thing, rdf_type, CKG.Paper))
    store.add(ox.Quad(thing, rdf_type, CKG.Author))
    path = tmp_path / "bad.owl"
    path.write_bytes(ox.serialize((q.triple for q in store), format=ox.RdfFormat.RDF_XML, prefixes=PREFIXES))
    world = owlready2.World()
    onto = world.get_ontology(path.as_uri()).load(format="rdfxml")
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        with onto:
            owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
