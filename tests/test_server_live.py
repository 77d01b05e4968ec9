"""A real `ckg serve` (gunicorn, several workers) on a free loopback port, queried by real clients:
SPARQLWrapper, rdflib (SPARQLStore and a SERVICE clause), pyoxigraph's SERVICE; federation with
a second ckg endpoint when it is allowlisted, and no request to it when it is not."""

from __future__ import annotations

import gzip
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlencode

import pyoxigraph as ox
import pytest

from ckg.server import create_app
from ckg.store import OXIGRAPH_DIR

from serving import MESH_PNEUMONIA, SHA9, build_subject_store, ckg_serve

pytestmark = pytest.mark.slow

P = "https://w3id.org/ckg/resource/paper/"
NOTE = "http://example.org/remote#note"
MOST_CITED = ("SELECT ?paper (COUNT(?citing) AS ?citations) WHERE { ?paper ckg:citedBy ?citing } "
              "GROUP BY ?paper ORDER BY DESC(?citations) ?paper")
EXPECTED_COUNTS = [(P + "aaaa0001", "2"), (P + "aaaa0002", "1"), (P + "aaaa0003", "1")]


def http(url: str, data: bytes | None = None, headers: dict | None = None, timeout: float = 30):
    """(status, content type, body) of a request; errors are answers too."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def post_query(endpoint: str, query: str, accept: str = "text/csv", timeout: float = 30):
    return http(endpoint, query.encode(), {"Content-Type": "application/sparql-query", "Accept": accept}, timeout)


def build_remote_store(path: Path) -> Path:
    """A tiny second knowledge graph: notes about two ckg papers, and a MeSH label."""
    (path / OXIGRAPH_DIR).mkdir(parents=True)
    db = ox.Store(str(path / OXIGRAPH_DIR))
    g = ox.NamedNode("http://example.org/remote")
    db.extend([
        ox.Quad(ox.NamedNode(P + "aaaa0001"), ox.NamedNode(NOTE), ox.Literal("remote note on alpha"), g),
        ox.Quad(ox.NamedNode(P + "aaaa0003"), ox.NamedNode(NOTE), ox.Literal("remote note on gamma"), g),
        ox.Quad(ox.NamedNode("http://example.org/elsewhere"), ox.NamedNode(NOTE), ox.Literal("not a ckg paper"), g),
        ox.Quad(ox.NamedNode(MESH_PNEUMONIA), ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
                ox.Literal("Pneumonia", language="en"), g),
    ])
    db.flush()
    return path


def sparql_requests(log: Path) -> int:
    return sum(1 for line in log.read_text().splitlines() if '"POST /sparql' in line or '"GET /sparql?' in line)


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    base = tmp_path_factory.mktemp("remote")
    store = build_remote_store(base / "store")
    log = base / "access.log"
    with ckg_serve(store, "--workers", "1", "--threads", "2", "--access-log", str(log)) as server:
        server.log = log
        yield server


@pytest.fixture(scope="module")
def main_store(tmp_path_factory):
    return build_subject_store(tmp_path_factory.mktemp("main") / "store")


@pytest.fixture(scope="module")
def server(main_store, remote):
    with ckg_serve(main_store, "--workers", "2", "--threads", "2", "--timeout", "4",
                   "--allow-service", remote.sparql) as server:
        yield server


def test_serve_runs_gunicorn_with_several_workers(server, remote):
    deadline = time.monotonic() + 30
    while sum("Booting worker with pid" in line for line in server.lines) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    text = "\n".join(server.lines)
    assert "Starting gunicorn" in text and "Using worker: gthread" in text
    assert text.count("Booting worker with pid") == 2
    status, content_type, body = http(server.url + "-/about.json")
    about = json.loads(body)
    assert (status, content_type) == (200, "application/json")
    assert about["config"]["query_timeout"] == 4.0 and about["config"]["engines"] == 2
    assert about["config"]["service_allowlist"] == [remote.sparql]
    # each worker runs one query process per thread; each opened the store read-only
    workers = [int(line.rsplit(" ", 1)[1]) for line in server.lines if "Booting worker with pid" in line]
    assert [_engines(worker) for worker in workers] == [2, 2]


def _engines(worker: int) -> int:
    """The query processes of a worker (its children running ckg.server.engine), once it has started them."""
    deadline = time.monotonic() + 30
    while True:
        count = 0
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit() and _parent(proc) == worker:
                try:
                    count += b"ckg.server.engine" in (proc / "cmdline").read_bytes()
                except OSError:
                    pass
        if count >= 2 or time.monotonic() > deadline:
            return count
        time.sleep(0.1)


def _parent(proc: Path) -> int | None:
    try:
        for line in (proc / "status").read_text().splitlines():
            if line.startswith("PPid:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def test_sparqlwrapper(server):
    from SPARQLWrapper import JSON, POST, TURTLE, SPARQLWrapper

    client = SPARQLWrapper(server.sparql)
    client.setQuery(MOST_CITED)
    client.setReturnFormat(JSON)
    rows = client.query().convert()["results"]["bindings"]
    assert [(r["paper"]["value"], r["citations"]["value"]) for r in rows] == EXPECTED_COUNTS
    client.setMethod(POST)
    client.setQuery(f"ASK {{ <{P}aaaa0001> ckg:cites <{P}aaaa0002> }}")
    assert client.query().convert()["boolean"] is True
    client.setQuery(f"SELECT (ckg:citationCount(<{P}aaaa0001>) AS ?n) (ckg:citationCountAbout(<{P}aaaa0001>, "
                    f"<{MESH_PNEUMONIA}>) AS ?about) WHERE {{}}")
    row = client.query().convert()["results"]["bindings"][0]
    assert (row["n"]["value"], row["about"]["value"]) == ("2", "1")
    client.setQuery(f"CONSTRUCT {{ ?p dcterms:title ?t }} WHERE {{ VALUES ?p {{ <{P}aaaa0003> }} ?p dcterms:title ?t }}")
    client.setReturnFormat(TURTLE)
    turtle = client.query().convert().decode()
    triples = [q.triple for q in ox.parse(turtle.encode(), format=ox.RdfFormat.TURTLE)]
    assert [t.object.value for t in triples] == ["Gamma review of transmission models for influenza and coronaviruses"]


def test_sparqlwrapper_every_return_format(server):
    """Each of SPARQLWrapper's return formats, its default included (which sends format=xml and
    asks for RDF/XML for CONSTRUCT and DESCRIBE), converted by SPARQLWrapper itself."""
    from SPARQLWrapper import CSV, JSON, JSONLD, N3, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

    select = f"SELECT ?t WHERE {{ <{P}aaaa0003> dcterms:title ?t }}"
    title = "Gamma review of transmission models for influenza and coronaviruses"
    client = SPARQLWrapper(server.sparql)
    client.setQuery(select)  # the default return format: results XML, parsed into a DOM
    dom = client.query().convert()
    assert [n.firstChild.data for n in dom.getElementsByTagName("literal")] == [title]
    for fmt, read in ((JSON, lambda r: r["results"]["bindings"][0]["t"]["value"]),
                      (XML, lambda r: r.getElementsByTagName("literal")[0].firstChild.data),
                      (CSV, lambda r: r.decode().splitlines()[1]), (TSV, lambda r: r.decode().splitlines()[1])):
        client.setReturnFormat(fmt)
        assert read(client.query().convert()).strip('"') == title, fmt

    construct = f"CONSTRUCT {{ ?p dcterms:title ?t }} WHERE {{ VALUES ?p {{ <{P}aaaa0003> }} ?p dcterms:title ?t }}"
    for query in (construct, f"DESCRIBE <{P}aaaa0003>"):
        for fmt in (None, XML, RDFXML, JSONLD, TURTLE, N3):
            client = SPARQLWrapper(server.sparql)
            client.setQuery(query)
            if fmt is not None:
                client.setReturnFormat(fmt)
            got = client.query().convert()
            if isinstance(got, bytes):  # Turtle and N3 come as text, read here as Turtle
                graph = {q.triple for q in ox.parse(got, format=ox.RdfFormat.TURTLE)}
                titles = {t.object.value for t in graph if t.predicate.value.endswith("/title")}
            else:  # RDF/XML and JSON-LD come parsed by rdflib
                titles = {str(o) for _s, p, o in got if str(p).endswith("/title")}
            assert titles == {title}, (query[:9], fmt)


def test_rdflib_sparqlstore(server):
    from rdflib import Graph
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    graph = Graph(SPARQLStore(server.sparql, returnFormat="json"))
    rows = graph.query(MOST_CITED)
    assert [(str(r.paper), str(r.citations)) for r in rows] == EXPECTED_COUNTS
    assert graph.query(f"ASK {{ <{P}aaaa0002> ckg:cites <{P}aaaa0001> }}").askAnswer is True


def test_rdflib_service_clause(server):
    from rdflib import Graph

    rows = Graph().query(f"""SELECT ?paper ?year WHERE {{
        SERVICE <{server.sparql}> {{ ?paper <https://w3id.org/ckg/ontology#publicationYear> ?year .
                                     ?paper <https://w3id.org/ckg/ontology#cites> ?cited }} }}""")
    assert sorted((str(r.paper).rsplit("/", 1)[1], int(r.year)) for r in rows) == sorted(
        [("aaaa0001", 2020), ("aaaa0001", 2020), ("aaaa0002", 2020), (SHA9, 2020)])


def test_pyoxigraph_service_clause(server):
    inner = MOST_CITED.replace("ckg:citedBy", "<https://w3id.org/ckg/ontology#citedBy>")
    rows = ox.Store().query(f"""SELECT ?paper ?citations WHERE {{ SERVICE <{server.sparql}> {{ {inner} }} }}
                                ORDER BY DESC(?citations) ?paper""")
    assert [(r["paper"].value, r["citations"].value) for r in rows] == EXPECTED_COUNTS


def test_federated_join_with_an_allowlisted_endpoint(server, remote):
    before = sparql_requests(remote.log)
    query = f"""SELECT ?paper ?title ?note WHERE {{
        ?paper dcterms:title ?title .
        SERVICE <{remote.sparql}> {{ ?paper <{NOTE}> ?note }}
    }} ORDER BY ?paper"""
    status, content_type, body = post_query(server.sparql, query)
    assert (status, content_type) == (200, "text/csv; charset=utf-8")
    assert body == ("paper,title,note\r\n"
                    f"{P}aaaa0001,Alpha study of coronavirus spike binding to ACE2 receptors,remote note on alpha\r\n"
                    f"{P}aaaa0003,Gamma review of transmission models for influenza and coronaviruses,remote note on gamma\r\n")
    time.sleep(0.2)
    assert sparql_requests(remote.log) == before + 1  # the SERVICE call reached the second endpoint
    # concept edges of ckg joined with labels held by the other endpoint
    status, _, body = post_query(server.sparql, f"""SELECT DISTINCT ?mesh ?label WHERE {{
        ?paper ckg:associatedConcept/skos:exactMatch ?mesh .
        SERVICE <{remote.sparql}> {{ ?mesh rdfs:label ?label }} }}""")
    assert (status, body) == (200, f"mesh,label\r\n{MESH_PNEUMONIA},Pneumonia\r\n")


def _post_with_headers(endpoint: str, query: str) -> tuple[int, dict, str]:
    request = urllib.request.Request(endpoint, query.encode(), {"Content-Type": "application/sparql-query",
                                                                "Accept": "text/csv"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, dict(response.headers), response.read().decode()


def test_a_bind_join_sends_the_remote_only_the_values_it_joins_with(server, remote):
    """The second endpoint holds notes on two ckg papers and one elsewhere: asked for the notes of
    one paper, ckg sends that paper's IRI along (a VALUES block in the request the remote logs)
    and gets one row; the clause in a subgroup (no bind join) gets all three. Same answer."""
    joined = f"""SELECT ?paper ?note WHERE {{ VALUES ?paper {{ <{P}aaaa0003> }} ?paper dcterms:title ?t .
        SERVICE <{remote.sparql}> {{ ?paper <{NOTE}> ?note }} }}"""
    whole = joined.replace(f"SERVICE <{remote.sparql}> {{ ?paper <{NOTE}> ?note }}",
                           f"{{ SERVICE <{remote.sparql}> {{ ?paper <{NOTE}> ?note }} }}")
    status, headers, body = _post_with_headers(server.sparql, joined)
    assert (status, body) == (200, f"paper,note\r\n{P}aaaa0003,remote note on gamma\r\n")
    assert (headers["X-CKG-Service-Bind-Joins"], headers["X-CKG-Service-Rows"]) == ("1", "1")
    time.sleep(0.2)
    last = [line for line in remote.log.read_text().splitlines() if "/sparql" in line][-1]
    assert "VALUES" in urllib.parse.unquote_plus(last) and "aaaa0003" in urllib.parse.unquote_plus(last)
    status, headers, body2 = _post_with_headers(server.sparql, whole)
    assert (status, body2) == (200, body)
    assert (headers["X-CKG-Service-Bind-Joins"], headers["X-CKG-Service-Rows"]) == ("0", "3")
    # asked again and again, the answer comes from a web worker's cache (two workers: one of
    # three requests meets a worker that has it)
    cached = sum(int(_post_with_headers(server.sparql, whole + " ")[1]["X-CKG-Service-Cached"]) for _ in range(3))
    assert cached >= 1


def test_service_off_the_allowlist_sends_no_request(server, remote, mini_store):
    time.sleep(0.2)
    before = sparql_requests(remote.log)
    other_spelling = remote.sparql.replace("127.0.0.1", "localhost")
    status, content_type, body = post_query(server.sparql, f"SELECT * WHERE {{ SERVICE <{other_spelling}> {{ ?s ?p ?o }} }}")
    assert (status, content_type, body) == (
        403, "text/plain; charset=utf-8",
        f"SERVICE <{other_spelling}> is not allowed: it is not on this endpoint's SERVICE allowlist\n")
    status, _, body = post_query(server.sparql, "SELECT * WHERE { BIND(<" + remote.sparql + "> AS ?e) SERVICE ?e { ?s ?p ?o } }")
    assert status == 400 and body.startswith("SERVICE with a variable endpoint (?e) is not allowed")
    # an endpoint with the default (empty) allowlist refuses the same endpoint the other one may call
    app = create_app(mini_store[0], {"engines": 1})
    try:
        r = app.test_client().post("/sparql", data=f"SELECT * WHERE {{ SERVICE <{remote.sparql}> {{ ?s ?p ?o }} }}",
                                   content_type="application/sparql-query")
        assert (r.status_code, r.get_data(as_text=True)) == (
            403, f"SERVICE <{remote.sparql}> is not allowed: this endpoint calls no other endpoint "
                 "(its SERVICE allowlist, CKG_SERVICE_ALLOWLIST, is empty)\n")
    finally:
        app.extensions["ckg"].close()
    time.sleep(0.5)
    assert sparql_requests(remote.log) == before  # nothing reached the second endpoint


def test_runaway_query_stopped_while_the_server_keeps_serving(server):
    explosive = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    outcome = {}

    def runaway():
        start = time.monotonic()
        outcome["runaway"] = (*post_query(server.sparql, explosive), time.monotonic() - start)

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(0.5)
    answered = []
    for _ in range(2):  # other clients meanwhile, on whichever worker and thread they land
        start = time.monotonic()
        answered.append((*post_query(server.sparql, "SELECT (COUNT(*) AS ?n) WHERE { ?p a ckg:Paper }"),
                         time.monotonic() - start))
    assert thread.is_alive()
    assert [(s, b) for s, _, b, _ in answered] == [(200, "n\r\n5\r\n")] * 2
    assert max(seconds for *_, seconds in answered) < 1.5
    thread.join(timeout=20)
    status, content_type, body, seconds = outcome["runaway"]
    assert (status, content_type, body) == (
        503, "text/plain; charset=utf-8", "the query ran for more than 4 s, the timeout of this endpoint, and was stopped\n")
    assert 4 <= seconds < 9
    assert http(server.url + "api/papers/aaaa0001")[0] == 200


def test_api_and_page_over_http(server):
    status, content_type, body = http(server.url + "api/rank?concept=c1&k=2")
    assert (status, content_type) == (200, "application/json")
    assert [p["key"] for p in json.loads(body)["papers"]] == ["aaaa0001", "aaaa0002"]
    status, content_type, body = http(server.url)
    assert (status, content_type) == (200, "text/html; charset=utf-8") and "<textarea" in body
    status, _, body = http(server.sparql + "?query=" + quote("ASK {}") + "&" + urlencode({"format": "xml"}))
    assert status == 200 and "<boolean>true</boolean>" in body


# -- real data: MeSH as the second endpoint --------------------------------------------------

@pytest.mark.realdata
def test_federation_with_a_mesh_endpoint(real_data, tmp_path, main_store):
    mesh_file = real_data / "vocab" / "mesh" / "mesh-2015-descriptors.nt.gz"
    mesh_store = tmp_path / "mesh"
    (mesh_store / OXIGRAPH_DIR).mkdir(parents=True)
    db = ox.Store(str(mesh_store / OXIGRAPH_DIR))
    with gzip.open(mesh_file, "rb") as handle:
        db.bulk_load(handle, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode("http://id.nlm.nih.gov/mesh/2015"))
    db.flush()
    del db
    log = tmp_path / "mesh-access.log"
    with ckg_serve(mesh_store, "--workers", "1", "--threads", "1", "--max-rows", "100000", "--access-log", str(log)) as mesh:
        status, _, body = post_query(mesh.sparql, f"SELECT ?label WHERE {{ <{MESH_PNEUMONIA}> rdfs:label ?label }}")
        assert (status, body) == (200, "label\r\nPneumonia\r\n")
        with ckg_serve(main_store, "--workers", "1", "--threads", "2", "--allow-service", mesh.sparql) as ckg:
            query = f"""SELECT ?paper ?mesh ?label WHERE {{
                ?paper ckg:associatedConcept ?concept . ?concept skos:exactMatch ?mesh .
                SERVICE <{mesh.sparql}> {{ ?mesh rdfs:label ?label ;
                                              <http://id.nlm.nih.gov/mesh/vocab#identifier> ?id }}
            }} ORDER BY ?paper"""
            status, _, body = post_query(ckg.sparql, query)
            assert status == 200, body
            assert body == "paper,mesh,label\r\n" + "".join(
                f"{P}{key},{MESH_PNEUMONIA},Pneumonia\r\n" for key in ("aaaa0001", "aaaa0002", "aaaa0003"))
        before = sparql_requests(log)
        with ckg_serve(main_store, "--workers", "1", "--threads", "1") as closed:  # the default: no allowlist
            status, _, body = post_query(closed.sparql, query)
            assert status == 403 and body.startswith(f"SERVICE <{mesh.sparql}> is not allowed")
        time.sleep(0.3)
        assert sparql_requests(log) == before
