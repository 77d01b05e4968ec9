"""``ckg serve --sparql-backend URL``: the SPARQL side answered by Virtuoso on loopback.

The trained demo store's N-Quads export is loaded unchanged into a private Virtuoso (Debian's 7.2,
``bench/virtuoso.py``); the same store is served twice in-process — by its own query processes
and with ``sparql_backend`` set to Virtuoso's ``/sparql`` — and every answer is compared: named
queries, the ranking and similar-paper APIs, paper records, and SPARQL queries calling
``ckg:pageRank``, ``ckg:citationCount`` and ``ckg:citationCountAbout`` (rewritten to the stored
values). The similarity functions and updates are refused. Virtuoso writes ``xsd:double`` values
with 7 significant digits, so doubles are compared at that precision. The rewrite's own tests
need no Virtuoso.
"""

from __future__ import annotations

import socket

import pytest

from serving import app_on, ckg_serve, error, ok_json
from test_virtuoso import vt

SPARQL_JSON = "application/sparql-results+json"
XSD = "http://www.w3.org/2001/XMLSchema#"
PAPER = "https://w3id.org/ckg/resource/paper/"

needs_virtuoso = pytest.mark.skipif(vt.unavailable() is not None,
                                    reason=f"Virtuoso is not installed: {vt.unavailable()}")


# ----------------------------------------------------------------------------------------------
# The rewrite (no backend needed)
# ----------------------------------------------------------------------------------------------

def test_calls_become_patterns_over_the_stored_values():
    from ckg.server.remote import rewrite

    text = rewrite("SELECT ?p ?n WHERE { ?p a ckg:Paper BIND(ckg:citationCount(?p) AS ?n) }")
    assert "ckg:citationCount" not in text and "<https://w3id.org/ckg/ontology#citedByCount>" in text
    assert text.index("OPTIONAL") < text.index("BIND(")  # the pattern comes before the BIND that reads it
    text = rewrite("SELECT ?p WHERE { ?p a ckg:Paper } ORDER BY DESC(ckg:pageRank(?p))")
    assert "pageRankScore" in text.split("ORDER BY")[0] and "ckg:pageRank(" not in text
    unchanged = "SELECT ?f WHERE { ?f a ckg:SparqlFunction FILTER(?f = ckg:pageRank) }"
    assert rewrite(unchanged) == unchanged


@pytest.mark.parametrize("query, message", [
    ("SELECT (ckg:similarity(?a, ?b) AS ?s) WHERE { ?a ?p ?b }",
     "ckg:similarity needs the local store's vectors or search index and is not available with --sparql-backend"),
    ("SELECT ?a WHERE { ?a ?p ?b FILTER(<https://w3id.org/ckg/ontology#textSimilarity>(?a, ?b) > 0.5) }",
     "ckg:textSimilarity needs the local store's vectors or search index and is not available with --sparql-backend"),
    ("SELECT ?a WHERE { ?a ?p ?b FILTER(ckg:pageRank(IRI(STR(?a))) > 0) }",
     "ckg:pageRank can be sent to the SPARQL backend only with variables and IRIs as its arguments"),
    ("SELECT * WHERE { { SELECT * WHERE { ?p a ckg:Paper BIND(ckg:pageRank(?p) AS ?r) } } }",
     "a SELECT * subquery whose group calls ckg's functions cannot be rewritten"),
])
def test_what_cannot_be_rewritten_is_refused_naming_it(query, message):
    from ckg.server.jobs import JobError
    from ckg.server.remote import rewrite

    with pytest.raises(JobError, match=message.replace("(", r"\(").replace("*", r"\*")) as caught:
        rewrite(query, variables=["p", "r"])
    assert caught.value.status == 400


def test_a_backend_must_be_an_http_url(cli, tmp_path):
    from ckg.server.remote import Backend

    with pytest.raises(ValueError, match="--sparql-backend must be an http"):
        Backend("ftp://example.org/sparql")
    result = cli("serve", "--store", tmp_path, "--sparql-backend", "file:///etc/passwd", ok=False)
    assert result.exit_code != 0 and "--sparql-backend must be an http(s) URL" in result.output


# ----------------------------------------------------------------------------------------------
# Against Virtuoso
# ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def virtuoso(trained_demo_store, tmp_path_factory):
    """A private Virtuoso with the trained demo store's N-Quads export loaded unchanged."""
    from ckg.export import export

    work = tmp_path_factory.mktemp("remote-backend")
    dump = work / "demo.nq"
    export(trained_demo_store[0], "nquads", dump)
    with vt.Virtuoso(work / "virtuoso", memory_mb=512, query_timeout_s=60) as server:
        server.load_rdf([dump])
        yield server


@pytest.fixture(scope="module")
def apps(trained_demo_store, virtuoso):
    """(local client, remote client): the same store served by its own engines and by Virtuoso."""
    store = trained_demo_store[0]
    with app_on(store, {"engines": 1}) as local, \
            app_on(store, {"engines": 2, "sparql_backend": virtuoso.sparql_url}) as remote:
        yield local.test_client(), remote.test_client()


def _value(cell: dict | None):
    """A SPARQL JSON term, doubles at Virtuoso's precision (7 significant digits)."""
    if cell is None:
        return None
    datatype = cell.get("datatype")
    if datatype in (XSD + "double", XSD + "float"):
        return ("double", float(f"{float(cell['value']):.6g}"))
    return (cell["type"].replace("typed-literal", "literal"), cell["value"], datatype, cell.get("xml:lang"))


def _rows(response) -> list[tuple]:
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    names = body["head"]["vars"]
    return [tuple(_value(b.get(n)) for n in names) for b in body["results"]["bindings"]]


def _plain(value):
    """A JSON API value with its floats at Virtuoso's precision."""
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def sparql(client, query: str):
    return client.post("/sparql", data={"query": query}, headers={"Accept": SPARQL_JSON})


@pytest.mark.slow
@needs_virtuoso
def test_named_queries_give_the_same_rows(apps, virtuoso):
    local, remote = apps
    client = vt.SparqlClient(virtuoso.sparql_url, timeout=60)
    try:
        values = vt.query_parameters(client)
    finally:
        client.close()
    values["paper"] = values["paper"].rsplit("/", 1)[1]  # the API takes a key too
    cases = vt.named_query_cases(values)
    assert len(cases) >= 15
    compared = 0
    for case, (named, params) in cases.items():
        a = ok_json(local.get(f"/api/queries/{named.name}", query_string=params))
        b = ok_json(remote.get(f"/api/queries/{named.name}", query_string=params))
        assert (b["columns"], b["count"], b["truncated"]) == (a["columns"], a["count"], a["truncated"]), case
        key = lambda row: repr(sorted(row.items()))  # noqa: E731 - rows as a multiset
        assert sorted(map(_plain, b["rows"]), key=key) == sorted(map(_plain, a["rows"]), key=key), case
        compared += bool(a["rows"])
    assert compared >= 10


@pytest.mark.slow
@needs_virtuoso
@pytest.mark.parametrize("args", ["k=10", "k=10&order=pagerank", "k=8&order=citations",
                                  "k=8&concept=mesh-D006282", "k=8&concept=http://id.nlm.nih.gov/mesh/D006282",
                                  "k=6&topic=genomics&order=pagerank", "k=6&topic=genomics&concept=mesh-D064370"])
def test_the_ranking_api_gives_the_same_papers(apps, args):
    local, remote = apps
    a, b = ok_json(local.get(f"/api/rank?{args}")), ok_json(remote.get(f"/api/rank?{args}"))
    assert a["papers"], args
    assert [p["iri"] for p in b["papers"]] == [p["iri"] for p in a["papers"]]
    assert _plain(b) == _plain(a)


@pytest.mark.slow
@needs_virtuoso
@pytest.mark.parametrize("mode", ["combined", "text", "graph"])
def test_the_similar_papers_api_gives_the_same_papers(apps, trained_demo_store, mode):
    local, remote = apps
    rows = _rows(sparql(local, "SELECT ?p WHERE { ?p a ckg:Paper } ORDER BY ?p LIMIT 3"))
    papers = [row[0][1].rsplit("/", 1)[1] for row in rows]
    for paper in papers:
        a = ok_json(local.get(f"/api/papers/{paper}/similar?k=7&mode={mode}"))
        b = ok_json(remote.get(f"/api/papers/{paper}/similar?k=7&mode={mode}"))
        assert b == a and len(a["similar"]) == 7  # the same papers, scores and titles (read from Virtuoso)
    assert "no paper 'nosuch'" in error(remote.get("/api/papers/nosuch/similar"), 404)


@pytest.mark.slow
@needs_virtuoso
def test_paper_records_are_the_same(apps):
    local, remote = apps
    top = ok_json(local.get("/api/rank?k=2"))["papers"]
    for paper in [p["key"] for p in top]:
        a, b = ok_json(local.get(f"/api/papers/{paper}")), ok_json(remote.get(f"/api/papers/{paper}"))
        assert a["pagerank"] and a["cited_by"]
        assert _plain(b) == _plain(a)
    assert error(remote.get("/api/papers/nosuch"), 404) == "no paper 'nosuch' in this store"


FUNCTION_QUERIES = [
    "SELECT ?p ?r WHERE { ?p a ckg:Paper BIND(ckg:pageRank(?p) AS ?r) }",
    "SELECT ?p (ckg:citationCount(?p) AS ?n) WHERE { ?p a ckg:Paper }",
    "SELECT ?p WHERE { ?p a ckg:Paper FILTER(ckg:citationCount(?p) > 3 && ckg:pageRank(?p) > 0.01) }",
    "SELECT * WHERE { ?p a ckg:Paper BIND(ckg:citationCount(?p) AS ?n) FILTER(?n > 0) }",
    "SELECT ?p WHERE { ?p a ckg:Paper } ORDER BY DESC(ckg:pageRank(?p)) ?p LIMIT 7",
    "SELECT ?y (SUM(ckg:citationCount(?p)) AS ?n) (MAX(ckg:pageRank(?p)) AS ?m) "
    "WHERE { ?p a ckg:Paper ; ckg:publicationYear ?y } GROUP BY ?y",
    "SELECT ?p (ckg:citationCount(?p) AS ?n) WHERE { ?p a ckg:Paper } GROUP BY ?p HAVING (ckg:citationCount(?p) > 2)",
    "SELECT ?p ?n WHERE { ?p a ckg:Paper OPTIONAL { ?p ckg:cites ?q } BIND(ckg:citationCount(?q) AS ?n) }",
    "SELECT (ckg:pageRank(ckg:Paper) AS ?none) (ckg:citationCount('x') AS ?bad) (ckg:citationCount(?unbound) AS ?u) "
    f"(ckg:citationCount(<{PAPER}yv5p91lq>) AS ?n) (ckg:pageRank(<{PAPER}yv5p91lq>) AS ?r) WHERE {{}}",
    "SELECT ?c ?p ?n WHERE { ?p ckg:associatedConcept ?c BIND(ckg:citationCountAbout(?p, ?c) AS ?n) }",
    "SELECT ?p (ckg:citationCountAbout(?p, <https://w3id.org/ckg/resource/topic/genomics>, "
    "<http://id.nlm.nih.gov/mesh/D006282>) AS ?n) WHERE { ?p a ckg:Paper }",
    "SELECT ?p ?r WHERE { { SELECT ?p (ckg:pageRank(?p) AS ?r) WHERE { ?p a ckg:Paper } ORDER BY DESC(?r) LIMIT 3 } }",
    "SELECT ?g ?p ?n ?m WHERE { GRAPH ?g { ?p a ckg:Paper BIND(ckg:citationCount(?p) AS ?n) "
    "BIND(ckg:citationCountAbout(?p, <https://w3id.org/ckg/resource/topic/genomics>) AS ?m) } }",
]


@pytest.mark.slow
@needs_virtuoso
@pytest.mark.parametrize("query", FUNCTION_QUERIES)
def test_ckg_functions_give_the_same_values(apps, query):
    local, remote = apps
    a, b = _rows(sparql(local, query)), _rows(sparql(remote, query))
    assert a and any(cell is not None for row in a for cell in row)
    assert sorted(b, key=repr) == sorted(a, key=repr)


@pytest.mark.slow
@needs_virtuoso
def test_pagerank_and_citation_counts_are_the_stored_values(apps):
    local, remote = apps
    query = "SELECT ?p (ckg:pageRank(?p) AS ?r) (ckg:citationCount(?p) AS ?n) WHERE { ?p a ckg:Paper } ORDER BY ?p"
    a, b = _rows(sparql(local, query)), _rows(sparql(remote, query))
    assert len(a) == 60 and a == b
    assert {row[2][2] for row in b} == {XSD + "integer"} and {row[1][0] for row in b} == {"double"}
    assert sum(int(row[2][1]) for row in b) > 0
    assert sparql(remote, "ASK { ?p a ckg:Paper FILTER(ckg:pageRank(?p) > 0.01) }").get_json()["boolean"] is True


@pytest.mark.slow
@needs_virtuoso
def test_similarity_updates_and_foreign_functions_are_refused(apps):
    _, remote = apps
    r = sparql(remote, "SELECT ?p (ckg:similarity(?p, ?p) AS ?s) WHERE { ?p a ckg:Paper }")
    assert r.status_code == 400
    assert r.get_data(as_text=True).strip() == ("ckg:similarity needs the local store's vectors or search index and is "
                                                "not available with --sparql-backend")
    r = remote.get("/api/queries/nosuch")
    assert r.status_code == 404
    r = sparql(remote, "SELECT ?p WHERE { ?p ?q ?o FILTER(<bif:contains>(?o, 'x')) }")
    assert r.status_code == 400 and "unknown function <bif:contains>" in r.get_data(as_text=True)
    r = sparql(remote, "DEFINE input:inference 'x' SELECT * WHERE { ?s ?p ?o }")  # Virtuoso's own syntax
    assert r.status_code == 400
    r = remote.post("/sparql", data={"update": "INSERT DATA { <http://e/s> <http://e/p> 1 }"})
    assert r.status_code == 403 and "SPARQL updates are refused" in r.get_data(as_text=True)
    assert _rows(sparql(remote, "SELECT ?o WHERE { <http://e/s> ?p ?o }")) == []


@pytest.mark.slow
@needs_virtuoso
def test_results_are_cut_at_the_row_limit_and_graphs_come_back(trained_demo_store, virtuoso):
    with app_on(trained_demo_store[0], {"max_rows": 5, "sparql_backend": virtuoso.sparql_url}) as app:
        client = app.test_client()
        r = sparql(client, "SELECT ?p WHERE { ?p a ckg:Paper }")
        assert len(_rows(r)) == 5 and r.headers["X-CKG-Truncated"] == "true" and r.headers["X-CKG-Row-Limit"] == "5"
        r = client.post("/sparql", data={"query": "CONSTRUCT { ?p ckg:pageRankScore ?r } WHERE { "
                                                  "?p a ckg:Paper BIND(ckg:pageRank(?p) AS ?r) } LIMIT 3"},
                        headers={"Accept": "application/n-triples"})
        assert r.status_code == 200 and r.get_data(as_text=True).count("pageRankScore") == 3


@pytest.mark.slow
@needs_virtuoso
def test_a_query_past_the_timeout_is_stopped(trained_demo_store, virtuoso):
    with app_on(trained_demo_store[0], {"query_timeout": 1.0, "sparql_backend": virtuoso.sparql_url}) as app:
        r = sparql(app.test_client(), "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }")
        assert r.status_code == 503, r.get_data(as_text=True)
        assert "1 s" in r.get_data(as_text=True) or "time limit" in r.get_data(as_text=True)


def test_an_unreachable_backend_is_a_502_naming_it(mini_store):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the app asks it
    url = f"http://127.0.0.1:{port}/sparql"
    with app_on(mini_store[0], {"sparql_backend": url}) as app:
        client = app.test_client()
        r = sparql(client, "SELECT * WHERE { ?s ?p ?o } LIMIT 1")
        assert r.status_code == 502 and f"the SPARQL backend {url} cannot be reached" in r.get_data(as_text=True)
        assert f"the SPARQL backend {url} cannot be reached" in error(client.get("/api/rank"), 502)


@pytest.mark.slow
@needs_virtuoso
def test_ckg_serve_sends_its_queries_to_the_backend(trained_demo_store, virtuoso):
    import json
    import urllib.request

    with ckg_serve(trained_demo_store[0], "--sparql-backend", virtuoso.sparql_url, "--workers", "1") as server:
        assert any(f"SPARQL sent to {virtuoso.sparql_url}" in line for line in server.lines)
        with urllib.request.urlopen(server.url + "api/rank?k=3&order=pagerank", timeout=30) as r:
            papers = json.load(r)["papers"]
    assert len(papers) == 3 and papers[0]["pagerank"] >= papers[1]["pagerank"] >= papers[2]["pagerank"]
