"""Limits of the endpoint: a runaway query is stopped at the timeout while other queries are
answered, and the update endpoint is off unless a token enables it."""

from __future__ import annotations

import os
import threading
import time
from urllib.parse import quote

import pytest

from ckg.etl.build import build
from ckg.server import create_app
from ckg.store import open_store, query

from conftest import MINI

EXPLOSIVE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
SIMPLE = "SELECT (COUNT(*) AS ?n) WHERE { ?p a ckg:Paper }"
TIMEOUT = 3.0


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def app(mini_store):
    app = create_app(mini_store[0], {"engines": 2, "query_timeout": TIMEOUT})
    yield app
    app.extensions["ckg"].close()


def test_a_runaway_query_is_stopped_while_other_queries_are_answered(app):
    client = app.test_client()
    assert client.get("/sparql?query=" + quote(SIMPLE)).status_code == 200  # the engines are up
    pool = app.extensions["ckg"].pool
    before = set(pool.pids())
    outcome = {}

    def runaway():
        start = time.monotonic()
        r = app.test_client().get("/sparql?query=" + quote(EXPLOSIVE))
        outcome["runaway"] = (r.status_code, r.content_type, r.get_data(as_text=True), time.monotonic() - start)

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(0.5)
    start = time.monotonic()
    r = client.get("/sparql?query=" + quote(SIMPLE), headers={"Accept": "text/csv"})
    simple_seconds = time.monotonic() - start
    assert (r.status_code, r.get_data(as_text=True)) == (200, "n\r\n5\r\n")
    assert simple_seconds < 2.0 and thread.is_alive()  # answered while the runaway query still ran
    thread.join(timeout=TIMEOUT + 10)
    status, content_type, body, seconds = outcome["runaway"]
    assert (status, content_type, body) == (
        503, "text/plain; charset=utf-8", "the query ran for more than 3 s, the timeout of this endpoint, and was stopped\n")
    assert TIMEOUT <= seconds < TIMEOUT + 5
    after = set(pool.pids())
    killed = before - after
    assert len(killed) == 1 and not any(alive(pid) for pid in killed)  # the query's process is gone
    assert len(after) == 2 and all(alive(pid) for pid in after)  # and was replaced
    assert client.get("/sparql?query=" + quote(SIMPLE)).status_code == 200


def test_a_query_past_the_memory_limit_is_stopped(mini_store):
    app = create_app(mini_store[0], {"engines": 1, "query_timeout": 60, "query_memory_mb": 300})
    try:
        client = app.test_client()
        hungry = "SELECT ?a ?d ?g WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?a ?d ?g"  # 267^3 rows to sort
        start = time.monotonic()
        r = client.get("/sparql?query=" + quote(hungry))
        assert (r.status_code, r.get_data(as_text=True)) == (
            503, "the query needed more memory than this endpoint allows a query (300 MiB, CKG_QUERY_MEMORY_MB) "
                 "and was stopped\n")
        assert time.monotonic() - start < 30
        r = client.get("/sparql?query=" + quote(SIMPLE), headers={"Accept": "text/csv"})
        assert (r.status_code, r.get_data(as_text=True)) == (200, "n\r\n5\r\n")  # a fresh process answers
    finally:
        app.extensions["ckg"].close()


def test_api_lookups_have_the_same_timeout(app):
    from ckg.server.engine import QueryTimeout

    with pytest.raises(QueryTimeout):
        app.extensions["ckg"].pool.run("sleep", {"seconds": 30}, timeout=0.5)
    assert app.test_client().get("/api/papers/aaaa0001").status_code == 200


# -- updates -------------------------------------------------------------------------------

TOKEN = "s3cret-token"
INSERT = "INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/s> <http://example.org/p> 42 } }"
ASK = "ASK { <http://example.org/s> <http://example.org/p> 42 }"
UNAUTHORIZED = "SPARQL updates need the header 'Authorization: Bearer <token>' with this endpoint's update token\n"


@pytest.fixture
def writable(tmp_path):
    path = tmp_path / "store"
    build(path, [MINI], release="r1")
    app = create_app(path, {"engines": 2, "update_token": TOKEN})
    yield app, path
    app.extensions["ckg"].close()


def ask(client) -> str:
    return client.get("/sparql?query=" + quote(ASK)).get_data(as_text=True)


def test_updates_need_the_bearer_token(writable):
    app, path = writable
    client = app.test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        r = client.post("/sparql", data=INSERT.encode(), content_type="application/sparql-update", headers=headers)
        assert (r.status_code, r.content_type, r.get_data(as_text=True)) == (401, "text/plain; charset=utf-8", UNAUTHORIZED)
        assert r.headers["WWW-Authenticate"] == 'Bearer realm="ckg SPARQL update"'
    assert ask(client) == '{"head": {}, "boolean": false}'
    r = client.post("/sparql", data=INSERT.encode(), content_type="application/sparql-update",
                    headers={"Authorization": f"Bearer {TOKEN}"})
    assert (r.status_code, r.get_data()) == (204, b"")
    # every query process sees the update (each re-opens its read-only view): ask both at once
    answers = set()
    barrier = threading.Barrier(2)

    def concurrent():
        barrier.wait()
        answers.add(app.test_client().get("/sparql?query=" + quote(ASK + " # " + str(threading.get_ident()))).get_data(as_text=True))

    threads = [threading.Thread(target=concurrent) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert answers == {'{"head": {}, "boolean": true}'}
    r = client.post("/sparql", data={"update": "DELETE DATA { GRAPH <http://example.org/g> { <http://example.org/s> "
                                               "<http://example.org/p> 42 } }"},
                    headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 204 and ask(client) == '{"head": {}, "boolean": false}'
    import pyoxigraph as ox

    sd = "http://www.w3.org/ns/sparql-service-description#"
    languages = {q.object.value for q in ox.parse(client.get("/sparql").get_data(), format=ox.RdfFormat.TURTLE)
                 if q.predicate.value == sd + "supportedLanguage"}
    assert languages == {sd + "SPARQL11Query", sd + "SPARQL11Update"}


def test_updates_are_checked_and_atomic(writable):
    app, path = writable
    client = app.test_client()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = client.post("/sparql", data=(INSERT + " ; LOAD <http://127.0.0.1:9/data.ttl>").encode(),
                    content_type="application/sparql-update", headers=auth)
    assert (r.status_code, r.get_data(as_text=True)) == (
        403, "LOAD <http://127.0.0.1:9/data.ttl> is not allowed: this endpoint fetches no documents from the "
             "network (load files with `ckg build`/`ckg update`, or send the triples in INSERT DATA)\n")
    r = client.post("/sparql", data=b"INSERT DATA { <x> }", content_type="application/sparql-update", headers=auth)
    assert r.status_code == 400 and r.get_data(as_text=True).startswith("error at 1:")
    assert ask(client) == '{"head": {}, "boolean": false}'  # neither wrote anything
    r = client.post("/sparql", data=INSERT.encode(), content_type="application/sparql-update", headers=auth)
    assert r.status_code == 204
    app.extensions["ckg"].close()
    assert bool(query(open_store(path, read_only=True), ASK))  # on disk
