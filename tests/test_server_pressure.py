"""The endpoint under pressure: bounded waiting, over-deep texts, memory, unknown functions,
cosines, updates that would read the empty default graph.

Timings are asserted as bounds with generous margins (a loaded 2-core machine runs these).
"""

from __future__ import annotations

import math
import subprocess
import sys
import threading
import time
from urllib.error import HTTPError
from urllib.parse import quote, urlencode
from urllib.request import Request, urlopen

import pyoxigraph as ox
import pytest

from ckg.server.engine import EngineBusy, EnginePool, QueryTimeout
from ckg.server.jobs import classify

from serving import app_on, ckg_serve

EXPLOSIVE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
CHEAP = "ASK { ?p a ckg:Paper }"
MARGIN = 3.0
"""Seconds a request may take past its bound on a loaded machine (process kills, scheduling)."""


def spec(store) -> dict:
    return {"store": str(store), "allowlist": [], "updates": False}


def in_thread(fn, *args, **kwargs) -> tuple[threading.Thread, dict]:
    """Run ``fn`` in a thread; the dict gets its result or exception and its duration."""
    out: dict = {}

    def target():
        start = time.monotonic()
        try:
            out["result"] = fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            out["error"] = exc
        out["seconds"] = time.monotonic() - start

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, out


# -- 1. waiting for a query process counts against the timeout ------------------------------

def test_waiting_for_a_query_process_counts_against_the_timeout(mini_store):
    pool = EnginePool(spec(mini_store[0]), size=1, max_waiting=2, max_wait=10)
    try:
        pool.run("ping", {}, 30)
        occupant, done = in_thread(pool.run, "sleep", {"seconds": 3.0}, 20)
        time.sleep(0.3)
        start = time.monotonic()
        with pytest.raises(QueryTimeout) as info:
            pool.run("sleep", {"seconds": 60}, 4.0)  # waits ~2.7 s, then may run only what is left
        seconds = time.monotonic() - start
        assert 4.0 <= seconds < 4.0 + 1.5, seconds  # was 2.7 s of waiting + 4 s of running
        assert "it waited before it could run, it reached 4 s, the timeout of this endpoint" in str(info.value)
        occupant.join(20)
        assert "error" not in done
    finally:
        pool.close()


def test_a_busy_pool_answers_at_once_or_after_a_short_wait_with_retry_after(mini_store):
    pool = EnginePool(spec(mini_store[0]), size=1, max_waiting=1, max_wait=0.5)
    try:
        pool.run("ping", {}, 30)
        occupant, _ = in_thread(pool.run, "sleep", {"seconds": 3.0}, 6)
        time.sleep(0.3)
        waiter, waited = in_thread(pool.run, "ping", {}, 6)
        time.sleep(0.1)
        start = time.monotonic()
        with pytest.raises(EngineBusy) as full:  # one request already waits: no second one
            pool.run("ping", {}, 6)
        assert time.monotonic() - start < 0.3
        assert "requests already wait for one" in str(full.value)
        assert 1 <= full.value.retry_after <= 8  # the occupant's deadline is at most 6 s away
        waiter.join(10)
        assert isinstance(waited.get("error"), EngineBusy), waited
        assert 0.4 <= waited["seconds"] < 0.5 + 1.0  # waited its 0.5 s, not the occupant's 3 s
        assert "stayed busy for the 0.5 s a request may wait" in str(waited["error"])
        assert 1 <= waited["error"].retry_after <= 8
        occupant.join(10)
        assert pool.run("ping", {}, 10)["ok"]  # free again
    finally:
        pool.close()


def timed_get(url: str, query: str, timeout: float = 60.0) -> tuple[int, dict, str, float]:
    """GET a query: status, headers, body and seconds taken."""
    start = time.monotonic()
    request = Request(url + "?" + urlencode({"query": query}), headers={"Accept": "text/csv"})
    try:
        with urlopen(request, timeout=timeout) as response:
            status, headers, body = response.status, dict(response.headers), response.read()
    except HTTPError as exc:
        status, headers, body = exc.code, dict(exc.headers), exc.read()
    return status, headers, body.decode("utf-8", "replace"), time.monotonic() - start


def test_runaway_queries_never_keep_a_request_past_the_timeout(mini_store):
    """Ten runaway queries against two query processes: every request ends within the timeout
    (plus a margin), busy answers are 503 with Retry-After, and a cheap query is answered or refused
    quickly while they run, and answered once they are stopped."""
    timeout, queue_wait = 2.0, 0.5
    with ckg_serve(mini_store[0], "--workers", "1", "--threads", "2", "--timeout", str(timeout),
                   env={"CKG_QUEUE_WAIT": str(queue_wait)}) as server:
        deadline = time.monotonic() + 30
        while timed_get(server.sparql, CHEAP)[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.2)  # the query processes are up
        runaways: list = []
        threads = [threading.Thread(target=lambda: runaways.append(timed_get(server.sparql, EXPLOSIVE)), daemon=True)
                   for _ in range(10)]
        for thread in threads:
            thread.start()
        time.sleep(0.3)
        cheap = []
        until = time.monotonic() + 3 * timeout + 2
        while time.monotonic() < until:  # through the runaways' time and after it
            cheap.append(timed_get(server.sparql, CHEAP))
            time.sleep(0.1)
        for thread in threads:
            thread.join(timeout + 2 * MARGIN)
    assert len(runaways) == 10
    busy = 0
    for status, headers, body, seconds in runaways + cheap:
        assert status in (200, 503), (status, body)
        if status == 503 and "timeout of this endpoint" not in body:
            busy += 1
            assert int(headers["Retry-After"]) >= 1, (headers, body)
    for status, _, body, seconds in runaways:
        assert status == 503, body
        assert seconds < timeout + MARGIN, (seconds, body)
    assert busy >= 1  # more runaways than query processes and queue places: some were turned away
    for status, headers, body, seconds in cheap:
        assert seconds < queue_wait + MARGIN, (seconds, status, body)  # answered, or refused, quickly
        if status == 200:
            assert body.strip() == "true"
    assert any(status == 200 for status, *_ in cheap[len(cheap) // 2:]), [c[:1] + c[3:] for c in cheap]


# -- 2. texts nested too deeply for the parser -------------------------------------------------

DEEP = {
    "braces": "ASK " + "{" * 3000 + "}" * 3000,
    "parentheses": "ASK { FILTER(" + "(" * 5000 + "true" + ")" * 5000 + ") }",
    "brackets": "ASK { ?s ?p " + "[ ?p " * 4000 + "1" + " ]" * 4000 + " }",
    "negations": "ASK { FILTER(" + "!" * 10000 + "true) }",
    "disjunctions": "ASK { FILTER(" + " || ".join(["false"] * 10000) + ") }",
    "sums": "ASK { FILTER(" + " + ".join(["1"] * 8000) + " > 0) }",
    "path": "ASK { ?s " + "/".join(["<http://e/p>"] * 9000) + " ?o }",
    "unions": "ASK { " + " UNION ".join(["{ ?s ?p ?o }"] * 7000) + " }",
    "nested EXISTS": "ASK { " + "FILTER EXISTS { " * 1000 + "}" * 1000 + " }",
    "projected expressions": "SELECT " + " ".join(f"(1 AS ?v{i})" for i in range(3000)) + " WHERE {}",
    "binds": "SELECT * WHERE { " + " ".join(f"BIND(1 AS ?v{i})" for i in range(3000)) + " }",
    # where a lexer reads differently from pyoxigraph: SPARQL 1.2's reifier ~ (unknown to the lexer),
    # and "<" read as the start of an IRI where pyoxigraph reads "less than"
    "after a reifier": "SELECT * WHERE { ?s <http://e/p> ?o ~ ?r . " + "{" * 3000 + "}" * 3000 + " }",
    "parentheses in an IRI": "ASK { FILTER(1<" + "(" * 6000 + "1" + ")" * 6000 + ">0) }",
    "negations in an IRI": "ASK { FILTER(1<(" + "!" * 12000 + "true>1)) }",
    "braces around IRIs of )": "ASK " + "{ FILTER(1 = <)))>) " * 3000 + "}" * 3000,
}
"""Each crashed its query process (SIGSEGV: a stack overflow in pyoxigraph's parser or evaluator)."""


def test_texts_nested_too_deeply_are_refused_before_the_parser(mini_store):
    with app_on(mini_store[0], {"engines": 1, "query_timeout": 60}) as app:
        client = app.test_client()
        assert client.get("/sparql?query=" + quote(CHEAP)).status_code == 200
        pids = app.extensions["ckg"].pool.pids()
        for name, text in DEEP.items():
            r = client.post("/sparql", data=text.encode(), content_type="application/sparql-query")
            message = r.get_data(as_text=True)
            assert r.status_code == 400, (name, message[:300])
            assert message.startswith(("the query nests {, ( and [", "the query chains")), (name, message[:300])
        assert app.extensions["ckg"].pool.pids() == pids  # no query process died
        # what real queries do stays well within the limits
        fine = ("SELECT * WHERE " + "{ " * 60 + "?s ?p ?o FILTER(" + " || ".join(["?o = 1"] * 200) + ")"
                + " }" * 60)
        r = client.post("/sparql", data=fine.encode(), content_type="application/sparql-query")
        assert r.status_code == 200, r.get_data(as_text=True)[:300]
        for flat, rows in (  # long lists are flat
                ("SELECT ?a WHERE { VALUES (?a ?b) { " + " ".join(f"({i} {i})" for i in range(20000)) + " } "
                 "FILTER(?a < 5000) }", "5000"),
                ("SELECT ?a WHERE { BIND(4999 AS ?a) FILTER(?a IN (" + ", ".join(map(str, range(5000))) + ")) }", "1")):
            r = client.post("/sparql", data=flat.encode(), content_type="application/sparql-query",
                            headers={"Accept": "text/csv"})
            assert r.status_code == 200 and r.headers["X-CKG-Rows"] == rows, r.get_data(as_text=True)[:300]
        # the API binds its parameters as terms: a deep value is only a value
        r = client.get("/api/queries/find-papers?text=" + quote("{" * 3000))
        assert r.status_code == 200, r.get_data(as_text=True)[:300]
        assert app.extensions["ckg"].pool.pids() == pids


def test_updates_nested_too_deeply_are_refused(tmp_path):
    from ckg.etl.build import build

    from conftest import MINI

    build(tmp_path / "store", [MINI], release="r1")
    with app_on(tmp_path / "store", {"engines": 1, "update_token": "t"}) as app:
        client = app.test_client()
        deep = "INSERT { GRAPH <http://e/g> { <http://e/s> <http://e/p> 1 } } WHERE " + "{" * 3000 + "}" * 3000
        r = client.post("/sparql", data=deep.encode(), content_type="application/sparql-update",
                        headers={"Authorization": "Bearer t"})
        assert (r.status_code, r.get_data(as_text=True)) == (
            400, "the update nests {, ( and [ 3000 deep; at most 100 levels are parsed\n")


@pytest.mark.parametrize("name", ["braces", "disjunctions", "after a reifier"])
def test_ckg_query_refuses_a_text_nested_too_deeply(mini_store, name):
    done = subprocess.run([sys.executable, "-m", "ckg.cli", "query", "--store", str(mini_store[0]),
                           "--sparql", DEEP[name]], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, (done.returncode, done.stderr[-500:])  # was 139 (SIGSEGV)
    assert done.stderr.startswith(("Error: the query nests", "Error: the query chains")), done.stderr[-500:]
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


# -- 3. a Python MemoryError is the documented 503 ---------------------------------------------

def test_a_python_memory_error_is_a_503():
    status, message = classify(MemoryError())
    assert status == 503 and message.startswith("the query needed more memory than")


def test_a_query_past_the_memory_limit_in_python_is_a_503(mini_store):
    """Rows of 64 KB strings: the memory runs out in Python (a MemoryError) or in Rust (an abort);
    both are the documented 503, and a fresh process answers the next query."""
    grow = "BIND('xxxxxxxxxxxxxxxx' AS ?a0) " + " ".join(f"BIND(CONCAT(?a{i}, ?a{i}) AS ?a{i + 1})" for i in range(12))
    hungry = f"SELECT ?s ?a12 WHERE {{ ?s ?p ?o {grow} }}"
    with app_on(mini_store[0], {"engines": 1, "query_timeout": 60, "query_memory_mb": 250}) as app:
        client = app.test_client()
        r = client.get("/sparql?query=" + quote(hungry))
        assert (r.status_code, r.get_data(as_text=True)) == (
            503, "the query needed more memory than this endpoint allows a query (250 MiB, CKG_QUERY_MEMORY_MB) "
                 "and was stopped\n")
        r = client.get("/sparql?query=" + quote(CHEAP), headers={"Accept": "text/csv"})
        assert (r.status_code, r.get_data(as_text=True)) == (200, "true")


# -- 4. an unknown function is the client's error ----------------------------------------------

@pytest.mark.parametrize("call, name", [("<http://example.org/nofn>(1)", "<http://example.org/nofn>"),
                                        ("ckg:noSuchFunction(?p)", "ckg:noSuchFunction")])
def test_an_unknown_function_is_a_400_naming_it(mini_store, call, name):
    with app_on(mini_store[0], {"engines": 1}) as app:
        r = app.test_client().get("/sparql?query=" + quote(f"SELECT ({call} AS ?x) WHERE {{ ?p a ckg:Paper }}"))
        message = r.get_data(as_text=True)
        assert r.status_code == 400, message
        assert message.startswith(f"unknown function {name}: a query may call SPARQL 1.1's functions and ckg's (")
        assert "ckg:citationCount" in message


def test_ckg_query_reports_an_unknown_function_in_one_line(mini_store, cli):
    result = cli("query", "--store", mini_store[0], "--sparql", "SELECT (<http://example.org/nofn>(1) AS ?x) {}",
                 ok=False)
    assert result.exit_code == 1
    assert result.output.startswith("Error: unknown function <http://example.org/nofn>: ")
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


# -- 5. a cosine stays in [-1, 1] --------------------------------------------------------------

def test_similarity_is_clamped_to_a_cosine():
    from ckg import resources
    from ckg.server.functions import registry
    from ckg.terms import CKG, RDF

    class Backend:  # float32 unit vectors: a paper's cosine with itself can be 1.0000001
        def similarity(self, kind, a, b):
            return 1.0000001 if a == b else -1.0000002

    store = ox.Store()
    a, b = resources.paper("a"), resources.paper("b")
    store.extend([ox.Quad(p, RDF.type, CKG.Paper, resources.paper_graph(k)) for p, k in ((a, "a"), (b, "b"))])
    functions = registry(store, Backend())
    for fn in (CKG.similarity, CKG.textSimilarity, CKG.graphSimilarity):
        assert float(functions[fn](a, a).value) == 1.0
        assert float(functions[fn](a, b).value) == -1.0


# -- 6. an update's WHERE cannot read the union default graph: refused --------------------------

def test_an_update_whose_where_reads_the_default_graph_is_refused(tmp_path):
    from ckg.etl.build import build

    from conftest import MINI

    build(tmp_path / "store", [MINI], release="r1")
    auth = {"Authorization": "Bearer t"}
    count = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <http://example.org/titles> { ?p <http://example.org/t> ?t } }"
    with app_on(tmp_path / "store", {"engines": 1, "update_token": "t"}) as app:
        client = app.test_client()
        for where in ("{ ?p dcterms:title ?t }", "{ GRAPH ?g { ?p a ckg:Paper } ?p dcterms:title ?t }",
                      "{ GRAPH ?g { ?p dcterms:title ?t } FILTER NOT EXISTS { ?p a ckg:Retracted } }"):
            update = f"INSERT {{ GRAPH <http://example.org/titles> {{ ?p <http://example.org/t> ?t }} }} WHERE {where}"
            r = client.post("/sparql", data=update.encode(), content_type="application/sparql-update", headers=auth)
            message = r.get_data(as_text=True)
            assert r.status_code == 400, (where, message)  # was 204, inserting nothing
            assert message.startswith("this update's WHERE matches triple patterns in the default graph, which "
                                      "holds none of ckg's data"), message
            assert "GRAPH ?g { ... }" in message and "USING <graph>" in message
        r = client.post("/sparql", data=b"DELETE WHERE { ?p dcterms:title ?t }",
                        content_type="application/sparql-update", headers=auth)
        assert r.status_code == 400
        ok = ("INSERT { GRAPH <http://example.org/titles> { ?p <http://example.org/t> ?t } } "
              "WHERE { GRAPH ?g { ?p dcterms:title ?t } FILTER(STRLEN(?t) > 0) }")
        r = client.post("/sparql", data=ok.encode(), content_type="application/sparql-update", headers=auth)
        assert r.status_code == 204, r.get_data(as_text=True)
        n = client.get("/sparql?query=" + quote(count), headers={"Accept": "text/csv"}).get_data(as_text=True)
        assert int(n.split()[-1]) >= 4  # the mini corpus's titles, through GRAPH ?g


# -- 7. a malformed IRI is the client's error ------------------------------------------------

@pytest.mark.parametrize("message", ["Port could not be cast to integer value as '1:2'", "Invalid character ':'",
                                     "No scheme found in an absolute IRI", "Invalid IRI code point ' '"])
def test_invalid_iris_are_client_errors(message):
    assert classify(ValueError(message)) == (400, f"not a valid IRI: {message}")
    assert classify(ValueError("something else"))[0] == 500


def test_retry_after_rounds_up():
    assert EngineBusy("busy", 0.2).retry_after == 1 and EngineBusy("busy", 2.1).retry_after == math.ceil(2.1)
