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
    r = client.post("/sparql", data=SELECT.encode("utf-16"), content_type="application/sparql-query; charset=utf-16")
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


def test_unknown_format_parameter_is_400(client):
    r = client.get(f"/sparql?query={quote(SELECT)}&format=yaml")
    assert (r.status_code, r.get_data(as_text=True)) == (
        400, "unknown format 'yaml': use one of json, xml, csv, tsv, turtle, ttl, ntriples, nt, jsonld, rdfxml, rdf "
             "or a media type\n")


# -- the dataset ---------------------------------------------------------------------------

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def count(response) -> int:
    assert response.status_code == 200, response.get_data(as_text=True)
    return int(json.loads(response.get_data())["results"]["bindings"][0]["n"]["value"])


def test_default_graph_is_the_union_of_the_named_graphs(client, mini_store):
    from ckg.store import open_store

    assert count(get(client, COUNT)) == len(open_store(mini_store[0], read_only=True))


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
def test_service_description(client, accept, content_type, fmt):
    r = client.get("/sparql", headers={"Accept": accept} if accept else {})
    assert (r.status_code, r.content_type) == (200, content_type)
    triples = description(r, fmt)

    def objects(p):
        return {t.object.value for t in triples if t.predicate.value == SD + p}

    assert objects("endpoint") == {"http://localhost/sparql"}
    assert objects("supportedLanguage") == {SD + "SPARQL11Query"}
    assert objects("feature") == {SD + "BasicFederatedQuery", SD + "UnionDefaultGraph"}
    assert objects("extensionFunction") == {PREFIXES["ckg"] + f for f in (
        "citationCount", "citationCountAbout", "pageRank", "similarity", "textSimilarity", "graphSimilarity")}
    assert objects("resultFormat") == {"http://www.w3.org/ns/formats/" + f for f in (
        "SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV", "Turtle",
        "N-Triples", "JSON-LD", "RDF_XML")}
    functions = {t.subject.value for t in triples
                 if t.predicate.value.endswith("#type") and t.object.value == SD + "Function"}
    assert functions == objects("extensionFunction")
    comments = {t.subject.value: t.object.value for t in triples if t.predicate.value.endswith("rdf-schema#comment")}
    assert comments[PREFIXES["ckg"] + "pageRank"].startswith("ckg:pageRank(?paper) → xsd:double")


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
        400, "SERVICE with a variable endpoint (?where) is not allowed: name the endpoint, one of none are allowed\n")


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
