"""The SPARQL 1.1 Protocol at /sparql, case by case: exact status, content type and body.

Like Oxigraph's server tests, these call the application in-process (Flask's test client); the
queries still run in the server's query processes. tests/test_server_live.py does the same
through a real `ckg serve` with real clients.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pyoxigraph as ox
import pytest

from ckg.server import create_app
from ckg.store import open_store, query
from ckg.terms import PREFIXES


P1 = "https://w3id.org/ckg/resource/paper/aaaa0001"
TITLE = "Alpha study of coronavirus spike binding to ACE2 receptors"
SELECT = f"SELECT ?title WHERE {{ <{P1}> dcterms:title ?title }}"
SELECT_JSON = ('{"head": {"vars": ["title"]}, "results": {"bindings": [{"title": {"type": "literal", "value": '
               f'"{TITLE}"}}}}]}}}}')
CONSTRUCT = f"CONSTRUCT {{ <{P1}> dcterms:title ?t }} WHERE {{ <{P1}> dcterms:title ?t }}"
NTRIPLE = f'<{P1}> <http://purl.org/dc/terms/title> "{TITLE}" .\n'
JSON = "application/sparql-results+json"
SD = "http://www.w3.org/ns/sparql-service-description#"


@pytest.fixture(scope="module")
def app(mini_store):
    app = create_app(mini_store[0], {"engines": 2, "TESTING": True})
    yield app
    app.extensions["ckg"].close()


@pytest.fixture
def client(app):
    return app.test_client()


def get(client, query, **kwargs):
    return client.get("/sparql?query=" + quote(query), **kwargs)


# -- the three ways to send a query --------------------------------------------------------

def test_get_query(client):
    r = get(client, SELECT)
    assert (r.status_code, r.content_type, r.get_data(as_text=True)) == (200, JSON, SELECT_JSON)
    assert r.headers["X-CKG-Rows"] == "1" and "X-CKG-Truncated" not in r.headers


def test_post_form_query(client):
    r = client.post("/sparql", data={"query": SELECT})
    assert (r.status_code, r.content_type, r.get_data(as_text=True)) == (200, JSON, SELECT_JSON)


def test_post_sparql_query_body(client):
    r = client.post("/sparql", data=SELECT.encode(), content_type="application/sparql-query")
    assert (r.status_code, r.content_type, r.get_data(as_text=True)) == (200, JSON, SELECT_JSON)
    r = client.post("/sparql", data=SELECT.encode(), content_type="application/sparql-query; charset=UTF-8")
    assert (r.status_code, r.get_data(as_text=True)) == (200, SELECT_JSON)


def test_ask(client):
    r = get(client, f"ASK {{ <{P1}> ckg:cites ?x }}")
    assert (r.status_code, r.content_type, r.get_data(as_text=True)) == (200, JSON, '{"head": {}, "boolean": true}')
    r = get(client, "ASK { ?x ckg:cites ?x }", headers={"Accept": "application/sparql-results+xml"})
    assert (r.status_code, r.content_type) == (200, "application/sparql-results+xml")
    assert r.get_data(as_text=True) == ('<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                                        "<head></head><boolean>false</boolean></sparql>\n")


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "application/sparql-results+json", None])
def test_other_post_body_types_are_415(client, content_type):
    kwargs = {"content_type": content_type} if content_type else {}
    r = client.post("/sparql", data=SELECT.encode(), **kwargs)
    shown = repr(content_type or "(none)")
    assert (r.status_code, r.content_type) == (415, "text/plain; charset=utf-8")
    assert r.get_data(as_text=True) == (
        f"unsupported Content-Type {shown}: POST a query as application/sparql-query or "
        "application/x-www-form-urlencoded, an update as application/sparql-update\n")


def test_malformed_query_is_400_with_the_parsers_message(client):
    bad = "SELECT ?x WHERE { ?x ?p"
    with pytest.raises(SyntaxError) as parser:
        ox.Store().query(bad)
    r = get(client, bad)
    assert (r.status_code, r.content_type) == (400, "text/plain; charset=utf-8")
    assert r.get_data(as_text=True) == re.sub(r"\s+", " ", str(parser.value)).strip() + "\n"
    assert r.get_data(as_text=True).startswith("error at 1:24: expected one of")


def test_form_without_query_and_two_queries_are_400(client):
    r = client.post("/sparql", data={"other": "x"})
    assert (r.status_code, r.get_data(as_text=True)) == (400, "the form has no 'query' (or 'update') field\n")
    r = client.get("/sparql?query=ASK{}&query=ASK{}")
    assert (r.status_code, r.get_data(as_text=True)) == (400, "give exactly one query\n")


# -- result formats ------------------------------------------------------------------------

@pytest.mark.parametrize("accept, content_type, body", [
    ("text/csv", "text/csv; charset=utf-8", f"title\r\n{TITLE}\r\n"),
    ("text/tab-separated-values", "text/tab-separated-values; charset=utf-8", f'?title\n"{TITLE}"\n'),
    ("application/sparql-results+xml", "application/sparql-results+xml",
     '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head><variable name="title"/>'
     f'</head><results><result><binding name="title"><literal>{TITLE}</literal></binding></result></results></sparql>\n'),
    ("application/json", "application/json", SELECT_JSON),
    ("*/*", JSON, SELECT_JSON),
    ("text/html,application/xhtml+xml,*/*;q=0.8", JSON, SELECT_JSON),
    ("text/csv;q=0.5, application/sparql-results+json", JSON, SELECT_JSON),
])
def test_select_formats_by_accept(client, accept, content_type, body):
    r = get(client, SELECT, headers={"Accept": accept})
    assert (r.status_code, r.content_type, r.get_data(as_text=True)) == (200, content_type, body)
    assert r.headers["Vary"] == "Accept"


@pytest.mark.parametrize("fmt, content_type", [
    ("csv", "text/csv; charset=utf-8"), ("tsv", "text/tab-separated-values; charset=utf-8"),
    ("json", JSON), ("xml", "application/sparql-results+xml"), ("text/csv", "text/csv; charset=utf-8")])
def test_format_parameter_wins_over_accept(client, fmt, content_type):
    r = client.get(f"/sparql?query={quote(SELECT)}&format={quote(fmt)}", headers={"Accept": "application/sparql-results+xml"})
    assert (r.status_code, r.content_type) == (200, content_type)
    r = client.post("/sparql", data={"query": SELECT, "format": fmt})
    assert (r.status_code, r.content_type) == (200, content_type)


@pytest.mark.parametrize("accept, content_type", [
    (None, "text/turtle"), ("text/turtle", "text/turtle"), ("application/n-triples", "application/n-triples"),
    ("application/ld+json", "application/ld+json"), ("application/rdf+xml", "application/rdf+xml")])
def test_construct_formats(client, accept, content_type):
    r = get(client, CONSTRUCT, headers={"Accept": accept} if accept else {})
    assert (r.status_code, r.content_type) == (200, content_type)
    fmt = {"text/turtle": ox.RdfFormat.TURTLE, "application/n-triples": ox.RdfFormat.N_TRIPLES,
           "application/ld+json": ox.RdfFormat.JSON_LD, "application/rdf+xml": ox.RdfFormat.RDF_XML}[content_type]
    triples = [q.triple for q in ox.parse(r.get_data(), format=fmt)]
    assert triples == [ox.Triple(ox.NamedNode(P1), ox.NamedNode("http://purl.org/dc/terms/title"), ox.Literal(TITLE))]
    r = client.get(f"/sparql?query={quote(CONSTRUCT)}&format=ntriples")
    assert (r.status_code, r.content_type, r.get_data(as_text=True)) == (200, "application/n-triples", NTRIPLE)


def test_describe(client):
    r = get(client, f"DESCRIBE <{P1}>", headers={"Accept": "application/n-triples"})
    assert (r.status_code, r.content_type) == (200, "application/n-triples")
    assert NTRIPLE in r.get_data(as_text=True)
    assert int(r.headers["X-CKG-Rows"]) == r.get_data(as_text=True).count(" .\n")


@pytest.mark.parametrize("query, accept", [
    (SELECT, "text/html"), (SELECT, "image/png"), (SELECT, "text/turtle"), (CONSTRUCT, "text/csv"),
    (CONSTRUCT, "application/sparql-results+xml")])
def test_406_when_no_format_fits(client, query, accept):
    r = get(client, query, headers={"Accept": accept})
    assert (r.status_code, r.content_type) == (406, "text/plain; charset=utf-8")
    body = r.get_data(as_text=True)
    if accept in ("text/html", "image/png"):
        assert body == ("none of the result formats is acceptable: SELECT and ASK results are "
                        "application/sparql-results+json, application/sparql-results+xml, text/csv, "
                        "text/tab-separated-values; CONSTRUCT and DESCRIBE results are text/turtle, "
                        "application/n-triples, application/ld+json, application/rdf+xml\n")
    elif query == SELECT:
        assert body == ("no acceptable format for a SELECT result: ask for one of application/sparql-results+json, "
                        "application/sparql-results+xml, text/csv, text/tab-separated-values\n")
    else:
        assert body == ("no acceptable format for a CONSTRUCT result: ask for one of text/turtle, "
                        "application/n-triples, application/ld+json, application/rdf+xml\n")


def test_an_unknown_format_parameter_leaves_the_choice_to_accept(client):
    r = client.get(f"/sparql?query={quote(SELECT)}&format=yaml", headers={"Accept": "text/csv"})
    assert (r.status_code, r.content_type) == (200, "text/csv; charset=utf-8")
    r = client.get(f"/sparql?query={quote(CONSTRUCT)}&output=yaml")
    assert (r.status_code, r.content_type) == (200, "text/turtle")


@pytest.mark.parametrize("fmt, select_type, construct_type", [
    # what SPARQLWrapper, rdflib, Jena and YASGUI send: a name can mean results or RDF by the query's form
    ("xml", "application/sparql-results+xml", "application/rdf+xml"),
    ("json", JSON, "application/ld+json"),
    ("rdf+xml", None, "application/rdf+xml"), ("json-ld", None, "application/ld+json"),
    ("n3", None, "text/turtle"), ("turtle", None, "text/turtle"), ("text/n3", None, "text/turtle"),
    ("application/sparql-results+json; charset=utf-8", JSON, None),
])
def test_format_names_clients_send(client, fmt, select_type, construct_type):
    for query, wanted in ((SELECT, select_type), (CONSTRUCT, construct_type)):
        r = client.get(f"/sparql?query={quote(query)}&format={quote(fmt)}")
        if wanted is None:
            assert r.status_code == 406
        else:
            assert (r.status_code, r.content_type) == (200, wanted)
    r = client.get("/sparql?format=" + quote(fmt))  # the service description is a graph
    assert r.status_code == (406 if construct_type is None else 200)


# -- the dataset ---------------------------------------------------------------------------

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def count(response) -> int:
    assert response.status_code == 200, response.get_data(as_text=True)
    return int(json.loads(response.get_data())["results"]["bindings"][0]["n"]["value"])


def test_default_graph_is_the_union_of_the_named_graphs(client, mini_store):
    from ckg.store import open_store

    assert count(get(client, COUNT)) == len(open_store(mini_store[0], read_only=True))


DISTINCT_TRIPLES = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }"
QUADS = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


def test_the_union_default_graph_is_a_union_of_quads():
    """pyoxigraph's union default graph (and a default graph of several graphs) is the union of the
    quads: a triple held in two graphs matches twice. ckg keeps each triple in one graph (below),
    so for ckg's data it is the RDF merge SPARQL means; this pins pyoxigraph's behaviour."""
    g1, g2 = ox.NamedNode("http://example.org/g1"), ox.NamedNode("http://example.org/g2")
    triple = (ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"), ox.Literal("o"))
    store = ox.Store()
    store.extend([ox.Quad(*triple, g1), ox.Quad(*triple, g2)])
    assert len(list(store.query("SELECT * { ?s ?p ?o }", use_default_graph_as_union=True))) == 2
    assert len(list(store.query("SELECT * { ?s ?p ?o }", default_graph=[g1, g2]))) == 2


def each_triple_in_one_graph(store) -> None:
    """ckg's data puts every triple in exactly one named graph (and none in the default graph),
    so the union default graph holds each triple once."""
    [quads] = store.query(QUADS)
    [distinct] = store.query(DISTINCT_TRIPLES)
    assert int(quads["n"].value) == int(distinct["n"].value) == len(store)


@pytest.mark.slow  # builds and updates the demo corpus
def test_each_triple_of_ckgs_data_is_in_one_graph(mini_store, demo_releases, tmp_path):
    from ckg.etl.build import build, update
    from ckg.store import open_store

    each_triple_in_one_graph(open_store(mini_store[0], read_only=True))
    path = tmp_path / "demo"
    build(path, [demo_releases[0]], release="demo-1")
    update(path, [demo_releases[1]], release="demo-2")  # an update too: changed papers, recomputed edges
    each_triple_in_one_graph(open_store(path, read_only=True))


@pytest.mark.realdata
def test_each_triple_of_the_real_data_is_in_one_graph(real_biorxiv):
    from ckg.store import open_store

    each_triple_in_one_graph(open_store(real_biorxiv[0], read_only=True))


def test_default_graph_uri_replaces_the_union(client):
    citations = "https://w3id.org/ckg/resource/graph/citations"
    ranking = "https://w3id.org/ckg/resource/graph/ranking"
    # 4 citation edges, each as ckg:cites, cito:cites, ckg:citedBy, cito:isCitedBy; 5 PageRank scores
    assert count(client.get(f"/sparql?query={quote(COUNT)}&default-graph-uri={quote(citations)}")) == 16
    assert count(client.get(f"/sparql?query={quote(COUNT)}&default-graph-uri={quote(citations)}"
                            f"&default-graph-uri={quote(ranking)}")) == 21
    assert count(client.post("/sparql", data={"query": COUNT, "default-graph-uri": ranking})) == 5
    assert count(client.post(f"/sparql?default-graph-uri={quote(ranking)}", data=COUNT,
                             content_type="application/sparql-query")) == 5


def test_the_querys_own_dataset_and_the_protocol_one(client):
    citations = "https://w3id.org/ckg/resource/graph/citations"
    ranking = "https://w3id.org/ckg/resource/graph/ranking"
    own = f"SELECT (COUNT(*) AS ?n) FROM <{citations}> WHERE {{ ?s ?p ?o }}"
    assert count(get(client, own)) == 16  # FROM replaces the union default graph
    assert count(client.get(f"/sparql?query={quote(own)}&default-graph-uri={quote(ranking)}")) == 5  # the protocol wins
    named = f"SELECT (COUNT(*) AS ?n) FROM NAMED <{ranking}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert count(get(client, named)) == 5


def test_named_graph_uri(client):
    ranking = "https://w3id.org/ckg/resource/graph/ranking"
    q = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    r = client.get(f"/sparql?query={quote(q)}&named-graph-uri={quote(ranking)}", headers={"Accept": "text/csv"})
    assert r.get_data(as_text=True) == f"g,n\r\n{ranking},5\r\n"
    r = client.get(f"/sparql?query={quote('ASK { ?s ?p ?o }')}&named-graph-uri={quote(ranking)}")
    assert r.get_data(as_text=True) == '{"head": {}, "boolean": false}'  # the default graph is then empty


def test_bad_graph_uri_is_400(client):
    r = client.get(f"/sparql?query={quote(COUNT)}&default-graph-uri=not%20an%20iri")
    assert (r.status_code, r.get_data(as_text=True)) == (400, "default-graph-uri 'not an iri' is not an IRI\n")


# -- the service description ---------------------------------------------------------------

def description(response, fmt) -> set[ox.Triple]:
    return {q.triple for q in ox.parse(response.get_data(), format=fmt)}


@pytest.mark.parametrize("accept, content_type, fmt", [
    (None, "text/turtle", ox.RdfFormat.TURTLE), ("*/*", "text/turtle", ox.RdfFormat.TURTLE),
    ("application/n-triples", "application/n-triples", ox.RdfFormat.N_TRIPLES),
    ("application/ld+json", "application/ld+json", ox.RdfFormat.JSON_LD),
    ("application/rdf+xml", "application/rdf+xml", ox.RdfFormat.RDF_XML)])
def test_service_description(client, mini_store, accept, content_type, fmt):
    r = client.get("/sparql", headers={"Accept": accept} if accept else {})
    assert (r.status_code, r.content_type) == (200, content_type)
    triples = description(r, fmt)

    def objects(p):
        return {t.object.value for t in triples if t.predicate.value == SD + p}

    assert objects("endpoint") == {"http://localhost/sparql"}
    assert objects("supportedLanguage") == {SD + "SPARQL11Query"}
    assert objects("feature") == {SD + "BasicFederatedQuery", SD + "UnionDefaultGraph"}
    assert objects("extensionFunction") == {PREFIXES["ckg"] + f for f in (
        "citationCount", "citationCountAbout", "pageRank", "search", "similarity", "textSimilarity", "graphSimilarity")}
    assert objects("resultFormat") == {"http://www.w3.org/ns/formats/" + f for f in (
        "SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV", "Turtle",
        "N-Triples", "JSON-LD", "RDF_XML")}
    functions = {t.subject.value for t in triples
                 if t.predicate.value.endswith("#type") and t.object.value == SD + "Function"}
    assert functions == objects("extensionFunction")
    comments = {t.subject.value: t.object.value for t in triples if t.predicate.value.endswith("rdf-schema#comment")}
    assert comments[PREFIXES["ckg"] + "pageRank"].startswith("ckg:pageRank(?paper) → xsd:double")
    # every corpus-wide graph, and nothing else: each one the store holds, none of the papers' own
    named = objects("name")
    store_graphs = {r["g"].value for r in query(open_store(mini_store[0], read_only=True),
                                                 "SELECT DISTINCT ?g { GRAPH ?g {} }")}
    assert named == {g for g in store_graphs if "/graph/paper/" not in g}
    assert {g.rsplit("/", 1)[1] for g in named} == {
        "entities", "citations", "concepts", "topics", "ranking", "signals", "provenance"}


def test_service_description_406_and_format(client):
    r = client.get("/sparql", headers={"Accept": "application/sparql-results+json"})
    assert (r.status_code, r.get_data(as_text=True)) == (
        406, "the service description is available as text/turtle, application/n-triples, application/ld+json, "
             "application/rdf+xml\n")
    r = client.get("/sparql?format=ntriples")
    assert (r.status_code, r.content_type) == (200, "application/n-triples")


# -- read-only ---------------------------------------------------------------------------

READ_ONLY = ("this endpoint is read-only: SPARQL updates are disabled (the server enables them when "
             "CKG_UPDATE_TOKEN is set)\n")


def test_updates_are_refused_by_default(client):
    update = f"INSERT DATA {{ <{P1}> <http://example.org/p> 1 }}"
    r = client.post("/sparql", data=update.encode(), content_type="application/sparql-update")
    assert (r.status_code, r.content_type, r.get_data(as_text=True)) == (403, "text/plain; charset=utf-8", READ_ONLY)
    r = client.post("/sparql", data={"update": update}, headers={"Authorization": "Bearer anything"})
    assert (r.status_code, r.get_data(as_text=True)) == (403, READ_ONLY)
    r = client.get("/sparql?update=" + quote(update))
    assert (r.status_code, r.get_data(as_text=True)) == (
        400, "a SPARQL update must be sent with POST (application/sparql-update or a form)\n")
    assert count(get(client, "SELECT (COUNT(*) AS ?n) WHERE { ?s <http://example.org/p> ?o }")) == 0


# -- CORS ----------------------------------------------------------------------------------

def test_cors_headers_and_preflight(client):
    r = get(client, SELECT, headers={"Origin": "https://yasgui.org"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-CKG-Truncated" in r.headers["Access-Control-Expose-Headers"]
    r = client.options("/sparql", headers={"Origin": "https://yasgui.org", "Access-Control-Request-Method": "POST",
                                           "Access-Control-Request-Headers": "content-type, accept"})
    assert r.status_code == 204 and r.get_data() == b""
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS, POST"
    assert r.headers["Access-Control-Allow-Headers"] == "content-type, accept"
    assert r.headers["Access-Control-Max-Age"] == "86400"


# -- SERVICE -------------------------------------------------------------------------------

def test_service_off_the_allowlist_is_refused(client):
    r = get(client, "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }")
    assert (r.status_code, r.content_type, r.get_data(as_text=True)) == (
        403, "text/plain; charset=utf-8",
        "SERVICE <http://127.0.0.1:9/sparql> is not allowed: this endpoint calls no other endpoint "
        "(its SERVICE allowlist, CKG_SERVICE_ALLOWLIST, is empty)\n")
    r = get(client, "SELECT * WHERE { SERVICE ?where { ?s ?p ?o } }")
    assert (r.status_code, r.get_data(as_text=True)) == (
        400, "SERVICE with a variable endpoint (?where) is not allowed: name the endpoint (none is allowed here)\n")


# -- extension functions -------------------------------------------------------------------

def test_functions_at_the_endpoint(client):
    q = f"SELECT (ckg:citationCount(<{P1}>) AS ?n) (ckg:similarity(<{P1}>, <{P1}>) AS ?s) (ckg:citationCount(42) AS ?bad) {{}}"
    r = get(client, q, headers={"Accept": "text/csv"})
    assert (r.status_code, r.get_data(as_text=True)) == (200, "n,s,bad\r\n2,,\r\n")


# -- limits --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_app(mini_store):
    app = create_app(mini_store[0], {"engines": 1, "max_rows": 2, "max_query_bytes": 2000})
    yield app
    app.extensions["ckg"].close()


def test_row_cap_is_announced(small_app):
    client = small_app.test_client()
    r = get(client, "SELECT ?p WHERE { ?p a ckg:Paper } ORDER BY ?p", headers={"Accept": "text/csv"})
    assert r.status_code == 200
    assert r.get_data(as_text=True) == (
        "p\r\nhttps://w3id.org/ckg/resource/paper/9999999999999999999999999999999999999999\r\n"
        "https://w3id.org/ckg/resource/paper/aaaa0001\r\n")
    assert r.headers["X-CKG-Truncated"] == "true" and r.headers["X-CKG-Row-Limit"] == "2"
    assert r.headers["X-CKG-Rows"] == "2"
    assert r.headers["Warning"] == '199 ckg "result truncated to the first 2 rows (CKG_MAX_ROWS)"'
    r = get(client, "SELECT ?p WHERE { ?p a ckg:Paper } LIMIT 2")
    assert r.status_code == 200 and "X-CKG-Truncated" not in r.headers
    r = get(client, "CONSTRUCT { ?p a ckg:Paper } WHERE { ?p a ckg:Paper }", headers={"Accept": "application/n-triples"})
    assert r.get_data(as_text=True).count(" .\n") == 2
    assert r.headers["Warning"] == '199 ckg "result truncated to the first 2 triples (CKG_MAX_ROWS)"'


def test_oversized_query_is_413(small_app):
    client = small_app.test_client()
    big = "ASK { " + "# padding\n" * 300 + "}"
    r = client.post("/sparql", data=big.encode(), content_type="application/sparql-query")
    assert (r.status_code, r.content_type) == (413, "text/plain; charset=utf-8")
    assert r.get_data(as_text=True) == "the request is larger than this endpoint's limit of 2000 bytes (CKG_MAX_QUERY_BYTES)\n"


# -- `ckg serve` refuses bad input with one line -------------------------------------------

def test_serve_errors_are_one_line(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from ckg.cli import main

    result = CliRunner().invoke(main, ["serve", "--store", str(tmp_path)])
    assert (result.exit_code, result.output) == (
        1, f"Error: {tmp_path} is not a ckg store (no oxigraph/ folder); build one with `ckg build`\n")
    (tmp_path / "oxigraph").mkdir()
    monkeypatch.setenv("CKG_QUERY_TIMEOUT", "soon")
    result = CliRunner().invoke(main, ["serve", "--store", str(tmp_path)])
    assert (result.exit_code, result.output) == (1, "Error: CKG_QUERY_TIMEOUT must be a positive number, got 'soon'\n")
    monkeypatch.delenv("CKG_QUERY_TIMEOUT")
    result = CliRunner().invoke(main, ["serve", "--store", str(tmp_path), "--allow-service", "ftp://x"])
    assert (result.exit_code, result.output) == (
        1, "Error: SERVICE allowlist entry 'ftp://x' is not an http(s) endpoint URL\n")


# -- HEAD, Allow, encodings, the update's dataset, the base IRI ----------------------------

def test_head_is_get_without_a_body(client):
    got, head = get(client, SELECT), client.head("/sparql?query=" + quote(SELECT))
    assert (head.status_code, head.content_type, head.get_data()) == (200, JSON, b"")
    assert head.headers["Content-Length"] == got.headers["Content-Length"] == str(len(SELECT_JSON))
    assert head.headers["X-CKG-Rows"] == "1"
    head = client.head("/sparql")  # the service description
    assert (head.status_code, head.content_type, head.get_data()) == (200, "text/turtle", b"")
    assert client.head("/sparql?query=" + quote("ASK {")).status_code == 400


def test_405_says_which_methods_are_allowed(client):
    for method in ("PUT", "DELETE", "PATCH"):
        r = client.open("/sparql?query=" + quote("ASK {}"), method=method)
        assert (r.status_code, r.content_type) == (405, "text/plain; charset=utf-8")
        assert r.headers["Allow"] == "GET, HEAD, OPTIONS, POST"
    r = client.delete("/api/queries")
    assert (r.status_code, r.content_type, r.headers["Allow"]) == (405, "application/json", "GET, HEAD, OPTIONS")


@pytest.mark.parametrize("path, body, message", [
    ("/sparql?query=ASK%20%7B%7D%FF", None,
     "the query string's 'query' value is not UTF-8 once percent-decoded (byte 0xff at offset 6)"),
    ("/sparql?query=ASK%20%7B%7D&%C3=1", None,
     "the query string's a parameter name ('\ufffd') is not UTF-8 once percent-decoded (byte 0xc3 at offset 0)"),
    ("/sparql?query=ASK%20%7B%7D%", None,
     "the query string has a '%' that starts no percent-escape (two hex digits) at offset 18: b'%'"),
    ("/sparql", b"query=ASK%20%7B%7D%E9",
     "the form's 'query' value is not UTF-8 once percent-decoded (byte 0xe9 at offset 6)"),
    ("/sparql", b"query=ASK%20%7B%7D%2",
     "the form has a '%' that starts no percent-escape (two hex digits) at offset 18: b'%2'"),
])
def test_bad_percent_encoding_is_400(client, path, body, message):
    if body is None:
        r = client.get(path)
    else:
        r = client.post(path, data=body, content_type="application/x-www-form-urlencoded")
    assert (r.status_code, r.content_type, r.get_data(as_text=True)) == (400, "text/plain; charset=utf-8", message + "\n")


def test_bad_percent_encoding_is_400_on_every_path(client):
    r = client.get("/api/queries/find-papers?text=%FF")
    assert (r.status_code, r.get_json()) == (400, {
        "error": "the query string's 'text' value is not UTF-8 once percent-decoded (byte 0xff at offset 0)",
        "status": 400})
    assert client.get("/?query=%FF").status_code == 400


def test_non_utf8_text_is_400(client):
    r = client.post("/sparql", data=SELECT.encode("utf-16"), content_type="application/sparql-query; charset=utf-16")
    assert (r.status_code, r.get_data(as_text=True)) == (
        400, "the request body is declared as 'utf-16' text: this endpoint takes UTF-8 only (charset=utf-8 or none)\n")
    r = client.post("/sparql", data=SELECT.encode("latin-1") + b" # caf\xe9", content_type="application/sparql-query")
    assert (r.status_code, r.get_data(as_text=True)) == (
        400, f"the request body is not UTF-8 text (byte 0xe9 at offset {len(SELECT) + 6}); send the query or "
             "update in UTF-8\n")
    form = "application/x-www-form-urlencoded"
    r = client.post("/sparql", data="query=" + quote(SELECT), content_type=form + "; charset=iso-8859-1")
    assert (r.status_code, r.get_data(as_text=True)) == (
        400, "the form is declared as 'iso-8859-1' text: this endpoint takes UTF-8 only (charset=utf-8 or none)\n")
    r = client.post("/sparql", data="query=" + quote(SELECT), content_type=form + "; charset=utf-8")
    assert (r.status_code, r.get_data(as_text=True)) == (200, SELECT_JSON)
    # UTF-8 beyond ASCII, percent-encoded, is what it says
    r = client.get("/sparql?query=" + quote("SELECT ('caf\u00e9 \u2713' AS ?x) {}"), headers={"Accept": "text/csv"})
    assert r.get_data(as_text=True) == "x\r\ncaf\u00e9 \u2713\r\n"


def test_a_form_takes_the_urls_parameters_too(client):
    ranking = "https://w3id.org/ckg/resource/graph/ranking"
    assert count(client.post(f"/sparql?default-graph-uri={quote(ranking)}", data={"query": COUNT})) == 5
    r = client.post(f"/sparql?query={quote(COUNT)}", data={"query": COUNT})
    assert (r.status_code, r.get_data(as_text=True)) == (400, "give exactly one query\n")
    r = client.post(f"/sparql?query={quote(COUNT)}", data=COUNT.encode(), content_type="application/sparql-query")
    assert (r.status_code, r.get_data(as_text=True)) == (
        400, "a POST of application/sparql-query has its query in the body: the URL must have no 'query' or 'update' "
             "parameter\n")


def test_default_graph_uri_alone_leaves_no_named_graphs(client):
    ranking = "https://w3id.org/ckg/resource/graph/ranking"
    q = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert count(get(client, q)) > 0
    assert count(client.get(f"/sparql?query={quote(q)}&default-graph-uri={quote(ranking)}")) == 0


def test_relative_iris_resolve_against_the_endpoint(client):
    r = get(client, "CONSTRUCT { <s> <p> 1 } WHERE {}", headers={"Accept": "application/n-triples"})
    assert (r.status_code, r.get_data(as_text=True)) == (
        200, '<http://localhost/s> <http://localhost/p> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .\n')
    r = get(client, "SELECT ?x WHERE { BIND(<paper/aaaa0001> AS ?x) }", headers={"Accept": "text/csv"})
    assert r.get_data(as_text=True) == "x\r\nhttp://localhost/paper/aaaa0001\r\n"
    r = get(client, "BASE <https://w3id.org/ckg/resource/> SELECT ?x WHERE { BIND(<paper/aaaa0001> AS ?x) }",
            headers={"Accept": "text/csv"})
    assert r.get_data(as_text=True) == f"x\r\n{P1}\r\n"


def test_using_graph_uri_in_a_query_is_400(client):
    r = client.get(f"/sparql?query={quote(COUNT)}&using-graph-uri={quote(P1)}")
    assert (r.status_code, r.get_data(as_text=True)) == (
        400, "using-graph-uri does not apply to a query: the dataset of a query is given by default-graph-uri and "
             "named-graph-uri\n")


TOKEN = "protocol-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EX = "http://example.org/"


@pytest.fixture(scope="module")
def writable_client(tmp_path_factory):
    from ckg.etl.build import build

    from conftest import MINI

    path = tmp_path_factory.mktemp("protocol-updates") / "store"
    build(path, [MINI], release="r1")
    app = create_app(path, {"engines": 1, "update_token": TOKEN})
    yield app.test_client()
    app.extensions["ckg"].close()


def update(client, text: str, query_string: str = "", form: bool = False):
    if form:
        return client.post("/sparql" + query_string, data={"update": text}, headers=AUTH)
    return client.post("/sparql" + query_string, data=text.encode(), content_type="application/sparql-update",
                       headers=AUTH)


def test_one_update_per_request(writable_client):
    insert = f"INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}s> <{EX}p> 1 }} }}"
    form = f"update={quote(insert)}&update={quote('CLEAR ALL')}"
    r = writable_client.post("/sparql", data=form, content_type="application/x-www-form-urlencoded", headers=AUTH)
    assert (r.status_code, r.get_data(as_text=True)) == (400, "give exactly one update (the request has 2 'update' fields)\n")
    r = writable_client.post(f"/sparql?update={quote('CLEAR ALL')}", data=insert.encode(),
                             content_type="application/sparql-update", headers=AUTH)
    assert r.status_code == 400
    assert count(writable_client.get("/sparql?query=" + quote(COUNT))) > 0  # nothing was cleared


def test_using_graph_uri_sets_the_updates_dataset(writable_client):
    setup = (f"INSERT DATA {{ GRAPH <{EX}a> {{ <{EX}x> a <{EX}Doc> }} GRAPH <{EX}b> {{ <{EX}y> a <{EX}Doc> }} "
             f"GRAPH <{EX}c> {{ <{EX}z> a <{EX}Doc> }} }}")
    assert update(writable_client, setup).status_code == 204
    tagged = f"INSERT {{ GRAPH <{EX}out> {{ ?s <{EX}in> ?in }} }} WHERE {{ {{ ?s a <{EX}Doc> BIND('default' AS ?in) }} " \
             f"UNION {{ GRAPH ?g {{ ?s a <{EX}Doc> }} BIND(?g AS ?in) }} }}"
    r = update(writable_client, tagged, f"?using-graph-uri={quote(EX + 'a')}&using-named-graph-uri={quote(EX + 'b')}")
    assert r.status_code == 204, r.get_data(as_text=True)
    tags = f"SELECT ?s ?in WHERE {{ GRAPH <{EX}out> {{ ?s <{EX}in> ?in }} }} ORDER BY ?s"
    rows = writable_client.get("/sparql?query=" + quote(tags), headers={"Accept": "text/csv"})
    assert rows.get_data(as_text=True) == f"s,in\r\n{EX}x,default\r\n{EX}y,{EX}b\r\n"
    # DELETE WHERE gets the dataset too (its GRAPH ?g ranges over the named graphs given), and a
    # form's update takes the URL's parameters
    delete = f"DELETE WHERE {{ GRAPH ?g {{ ?s <{EX}in> 'default' }} }}"
    outs = "/sparql?query=" + quote(f"SELECT ?s WHERE {{ GRAPH <{EX}out> {{ ?s ?p ?o }} }} ORDER BY ?s")
    for graph, left in (("b", f"s\r\n{EX}x\r\n{EX}y\r\n"), ("out", f"s\r\n{EX}y\r\n")):
        r = update(writable_client, delete, f"?using-named-graph-uri={quote(EX + graph)}", form=True)
        assert r.status_code == 204, r.get_data(as_text=True)
        assert writable_client.get(outs, headers={"Accept": "text/csv"}).get_data(as_text=True) == left


@pytest.mark.parametrize("text, query_string, message", [
    (f"WITH <{EX}a> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}", f"?using-named-graph-uri={quote(EX + 'a')}",
     "using-graph-uri/using-named-graph-uri cannot be combined with WITH in the update (SPARQL 1.1 Protocol 2.2.3): "
     "give the dataset in one place"),
    (f"DELETE {{ ?s ?p ?o }} USING <{EX}a> WHERE {{ ?s ?p ?o }}", f"?using-graph-uri={quote(EX + 'b')}",
     "using-graph-uri/using-named-graph-uri cannot be combined with USING in the update (SPARQL 1.1 Protocol 2.2.3): "
     "give the dataset in one place"),
    ("CLEAR ALL", "?using-graph-uri=not%20an%20iri", "using-graph-uri 'not an iri' is not an IRI"),
    ("CLEAR ALL", f"?default-graph-uri={quote(EX + 'a')}",
     "default-graph-uri does not apply to an update: the dataset of an update is given by using-graph-uri and "
     "using-named-graph-uri"),
])
def test_update_dataset_errors_are_400(writable_client, text, query_string, message):
    r = update(writable_client, text, query_string)
    assert (r.status_code, r.get_data(as_text=True)) == (400, message + "\n")
    assert count(writable_client.get("/sparql?query=" + quote(COUNT))) > 0  # nothing was cleared


def test_relative_iris_of_an_update_resolve_against_the_endpoint(writable_client):
    assert update(writable_client, f"INSERT DATA {{ GRAPH <{EX}base> {{ <{EX}s> <{EX}p> <test> }} }}").status_code == 204
    r = writable_client.get("/sparql?query=" + quote(f"SELECT ?o WHERE {{ GRAPH <{EX}base> {{ ?s ?p ?o }} }}"),
                            headers={"Accept": "text/csv"})
    assert r.get_data(as_text=True) == "o\r\nhttp://localhost/test\r\n"
