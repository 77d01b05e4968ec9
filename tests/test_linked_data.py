"""Linked data (ckg.server.linked): resource IRIs dereferenced with content negotiation, the
read-only Graph Store Protocol, the VoID description and its link from the service description."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from ckg.server import create_app
from ckg.store import open_store, read_manifest

R = "https://w3id.org/ckg/resource/"
VOID = "http://rdfs.org/ns/void#"
FORMATS = {"text/turtle": ox.RdfFormat.TURTLE, "application/n-triples": ox.RdfFormat.N_TRIPLES,
           "application/ld+json": ox.RdfFormat.JSON_LD, "application/rdf+xml": ox.RdfFormat.RDF_XML}
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def app(mini_store):
    app = create_app(mini_store[0], {"engines": 1, "TESTING": True, "max_rows": 300})
    yield app
    app.extensions["ckg"].close()


@pytest.fixture
def client(app):
    return app.test_client()


def triples(response, media_type: str) -> set[ox.Triple]:
    return {q.triple for q in ox.parse(response.get_data(), format=FORMATS[media_type])}


def store_triples(mini_store, subject: str) -> set[ox.Triple]:
    store = open_store(mini_store[0], read_only=True)
    return {q.triple for q in store.quads_for_pattern(ox.NamedNode(subject), None, None)}


@pytest.mark.parametrize("accept, media_type", [
    ("text/turtle", "text/turtle"), ("application/n-triples", "application/n-triples"),
    ("application/ld+json", "application/ld+json"), ("application/rdf+xml", "application/rdf+xml"),
    ("*/*", "text/turtle"), (None, "text/turtle"), ("text/turtle;q=0.5, application/n-triples", "application/n-triples")])
def test_a_resource_iri_answers_its_triples_by_accept(client, mini_store, accept, media_type):
    for path in ("paper/aaaa0001", "concept/mesh-D011014"):
        r = client.get("/resource/" + path, headers={"Accept": accept} if accept else {})
        assert (r.status_code, r.mimetype) == (200, media_type)
        assert r.headers["Vary"] == "Accept"
        assert triples(r, media_type) == store_triples(mini_store, R + path) != set()
        suffix = {"text/turtle": ".ttl", "application/n-triples": ".nt", "application/ld+json": ".jsonld",
                  "application/rdf+xml": ".rdf"}[media_type]
        assert r.headers["Content-Location"] == f"/resource/{path}{suffix}"
        document = client.get(r.headers["Content-Location"])  # the document itself, whatever the Accept
        assert (document.status_code, document.mimetype, document.get_data()) == (200, media_type, r.get_data())


def test_a_browser_gets_the_paper_page_or_a_page_of_the_triples(client, mini_store):
    r = client.get(f"/resource/paper/aaaa0001", headers={"Accept": BROWSER})
    assert (r.status_code, r.headers["Location"]) == (303, "/papers/aaaa0001")
    assert client.get(r.headers["Location"]).status_code == 200
    r = client.get("/resource/concept/mesh-D011014", headers={"Accept": BROWSER})
    page = r.get_data(as_text=True)
    assert (r.status_code, r.mimetype) == (200, "text/html")
    assert f"<code>{R}concept/mesh-D011014</code>" in page and "Pneumonia" in page
    assert 'href="/resource/concept/mesh-D011014.ttl"' in page  # the RDF documents are linked
    assert 'href="http://id.nlm.nih.gov/mesh/D011014"' in page  # outside IRIs link out as they are


def test_unknown_malformed_and_unacceptable(client):
    assert client.get("/resource/paper/nope", headers={"Accept": "text/turtle"}).status_code == 404
    r = client.get("/resource/paper/nope", headers={"Accept": BROWSER})  # to the paper's page, which says 404
    assert r.status_code == 303 and client.get(r.headers["Location"]).status_code == 404
    assert client.get("/resource/concept/nope", headers={"Accept": BROWSER}).status_code == 404
    r = client.get("/resource/paper/aaaa0001", headers={"Accept": "image/png"})
    assert r.status_code == 406 and "text/turtle" in r.get_data(as_text=True)
    assert client.get("/resource/paper/a%20b").status_code == 400  # a space: no IRI


def test_the_graph_store_protocol_reads_graphs(client, mini_store):
    store = open_store(mini_store[0], read_only=True)
    graph = R + "graph/citations"
    expected = {q.triple for q in store.quads_for_pattern(None, None, None, ox.NamedNode(graph))}
    r = client.get(f"/store?graph={graph}", headers={"Accept": "application/n-triples"})
    assert (r.status_code, r.mimetype) == (200, "application/n-triples")
    assert triples(r, "application/n-triples") == expected and int(r.headers["X-CKG-Rows"]) == len(expected)
    r = client.get("/store?default", headers={"Accept": "text/turtle"})  # the union: cut at the row limit (300)
    assert len(store) > 300
    assert r.status_code == 200 and r.headers["X-CKG-Truncated"] == "true" and len(triples(r, "text/turtle")) == 300
    assert client.head(f"/store?graph={graph}").status_code == 200
    for bad in ("/store", f"/store?graph={graph}&default", "/store?graph=not%20an%20iri"):
        assert client.get(bad).status_code == 400, bad
    assert client.get(f"/store?graph={R}graph/none").status_code == 404
    for method in ("put", "post", "delete", "patch"):
        r = getattr(client, method)(f"/store?graph={graph}", data="<a:b> <a:b> <a:b> .")
        assert (r.status_code, r.headers["Allow"]) == (405, "GET, HEAD")
    assert {q.triple for q in store.quads_for_pattern(None, None, None, ox.NamedNode(graph))} == expected


def test_void_is_made_from_the_manifest_and_linked_from_the_service_description(client, mini_store):
    r = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert (r.status_code, r.mimetype) == (200, "text/turtle")
    graph = triples(r, "text/turtle")
    counts = read_manifest(mini_store[0])["counts"]

    def objects(subject, predicate):
        return {t.object.value for t in graph if t.subject.value == subject and t.predicate.value == predicate}

    dataset = "http://localhost/.well-known/void#dataset"
    assert objects(dataset, VOID + "triples") == {str(counts["triples"])}
    assert objects(dataset, VOID + "sparqlEndpoint") == {"http://localhost/sparql"}
    assert objects(dataset, VOID + "dataDump") == {"http://localhost/store?default"}
    assert objects(dataset, VOID + "uriSpace") == {R}
    partitions = objects(dataset, VOID + "classPartition")
    assert {(next(iter(objects(p, VOID + "class"))), int(next(iter(objects(p, VOID + "entities"))))) for p in partitions} \
        == set(counts["per_class"].items())
    assert len(objects(dataset, VOID + "propertyPartition")) == len(counts["per_property"])
    assert "https://w3id.org/ckg/ontology#" in objects(dataset, VOID + "vocabulary")
    sd = {q.triple for q in ox.parse(client.get("/sparql").get_data(), format=ox.RdfFormat.TURTLE)}
    assert any(t.predicate.value.endswith("#seeAlso") and t.object.value == "http://localhost/.well-known/void"
               for t in sd)
