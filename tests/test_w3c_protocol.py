"""The W3C SPARQL 1.1 Protocol tests (protocol/manifest.ttl: 34 tests), run against a real `ckg serve`.

The manifest describes each test as HTTP requests (method, path, headers, body and its character
encoding) with the expected answers (status class, result kind, boolean): each request is sent
exactly so (http.client adds only Host and Content-Length), with ``/sparql/`` read as ckg's
``/sparql`` and the update token of the server in an Authorization header — on every request,
so that a refusal is for the reason the test is about, never for a missing token. The tests run
in the manifest's order on one server with updates enabled, on a store of their own (the update
tests clear it); a test with ut:graphData first loads that data (DROP ALL, then INSERT DATA into
graphs named by the data's labels) through the endpoint. Beyond the manifest's status classes,
each refusal must have the exact status ckg gives for that fault (:data:`EXACT_STATUS`).
"""

from __future__ import annotations

import json
import re

import pytest

import w3c
from conftest import real_data_path
from serving import ckg_serve

pytestmark = pytest.mark.slow  # starts a real `ckg serve`, as tests/test_server_live.py does

TOKEN = "w3c-protocol-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

_real = real_data_path()
_root = w3c.suite_root(_real) if _real else None
TESTS = w3c.protocol_tests(_root) if _root is not None and (_root / "protocol").is_dir() else []

EXACT_STATUS = {
    "bad_query_method": 405,  # PUT
    "bad_multiple_queries": 400,
    "bad_query_wrong_media_type": 415,  # text/plain
    "bad_query_missing_form_type": 415,  # no Content-Type
    "bad_query_missing_direct_type": 415,
    "bad_query_non_utf8": 400,  # charset=UTF-16
    "bad_query_syntax": 400,
    "bad_update_get": 400,
    "bad_multiple_updates": 400,
    "bad_update_wrong_media_type": 415,
    "bad_update_missing_form_type": 415,
    "bad_update_non_utf8": 400,
    "bad_update_syntax": 400,
    "bad_update_dataset_conflict": 400,  # using-named-graph-uri and WITH
}
"""The status ckg answers for each refusal of the manifest (which only asks for a 4xx)."""

FORMATS = {
    "boolean": {"application/sparql-results+json", "application/sparql-results+xml"},
    "tabular": {"application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                "text/tab-separated-values"},
    "RDF": {"application/rdf+xml", "text/turtle", "application/n-triples", "application/xhtml+xml", "text/html"},
}
"""The media types the manifest's mf:expectedFormat values allow (its test descriptions name them)."""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`ckg serve` with updates enabled, on an empty store of its own."""
    import gc

    import pyoxigraph as ox

    path = tmp_path_factory.mktemp("w3c-protocol") / "store"
    path.mkdir()
    store = ox.Store(str(path / "oxigraph"))  # a store folder of the first layout: its database only
    store.flush()
    del store
    gc.collect()
    with ckg_serve(path, "--workers", "1", "--threads", "2", env={"CKG_UPDATE_TOKEN": TOKEN}) as running:
        yield running


def post_update(server, text: str) -> w3c.Answer:
    return w3c.http(server.url, "POST", "/sparql", {"Content-Type": "application/sparql-update", **AUTH},
                    text.encode("utf-8"))


def load(server, graphs) -> None:
    """The test's ut:graphData, loaded through the endpoint: the store holds exactly these graphs."""
    blocks = "".join(f"GRAPH <{iri}> {{\n{path.read_text(encoding='utf-8')}\n}}\n" for path, iri in graphs)
    answer = post_update(server, f"DROP ALL ;\nINSERT DATA {{\n{blocks}}}")
    assert answer.status == 204, answer.text()


def boolean_of(answer: w3c.Answer) -> bool | None:
    if answer.media_type == "application/sparql-results+json":
        return json.loads(answer.body).get("boolean")
    if answer.media_type == "application/sparql-results+xml":
        found = re.search(rb"<boolean>\s*(true|false)\s*</boolean>", answer.body)
        return None if found is None else found.group(1) == b"true"
    return None


@pytest.mark.realdata
@pytest.mark.parametrize("test", w3c.params(TESTS))
def test_w3c_protocol(server, test: w3c.ProtocolTest):
    if test.graph_data:
        load(server, test.graph_data)
    for n, request in enumerate(test.requests):
        assert request.path.startswith("/sparql/")
        path = "/sparql" + request.path[len("/sparql/"):]
        answer = w3c.http(server.url, request.method, path, {**dict(request.headers), **AUTH}, request.body)
        where = f"{test.id}, request {n + 1} ({request.method} {path}): HTTP {answer.status} {answer.text()[:300]!r}"
        assert answer.status // 100 in request.statuses, where
        if test.id in EXACT_STATUS:
            assert answer.status == EXACT_STATUS[test.id], where
            assert answer.media_type == "text/plain" and answer.body.strip(), where  # a message says why
        if answer.status == 405:
            assert answer.headers["allow"] == "GET, HEAD, OPTIONS, POST", where
        if request.format is not None:
            assert answer.media_type in FORMATS[request.format], where
            w3c.outcome_of_answer(answer)  # it parses as what it says it is
        if request.boolean is not None:
            assert boolean_of(answer) is request.boolean, where


@pytest.mark.realdata
def test_the_manifest_has_its_34_tests():
    if not TESTS:
        pytest.skip("the W3C SPARQL 1.1 test suite is not available")
    assert len(TESTS) == 34 and all(t.requests for t in TESTS)


def test_failed_updates_never_break_the_endpoint(server):
    """An update that does not parse is 400 every time, and the endpoint keeps answering (and
    writing) after it: failed updates, good updates and queries, again and again."""
    insert = "INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/s> <http://example.org/p> %d } }"
    ask = "ASK { GRAPH <http://example.org/g> { <http://example.org/s> <http://example.org/p> %d } }"
    assert post_update(server, "DROP ALL").status == 204
    for n in range(12):
        for bad in (b"update=CLEAR%20XYZ", b"update=INSERT%20DATA%20%7B%20%3Cx%3E%20%7D"):
            answer = w3c.http(server.url, "POST", "/sparql",
                              {"Content-Type": "application/x-www-form-urlencoded", **AUTH}, bad)
            assert (answer.status, answer.media_type) == (400, "text/plain"), f"round {n}: {answer.text()}"
        answer = post_update(server, "DELETE DATA { <x> }")  # pyoxigraph's parser refuses it, in the write
        assert (answer.status, answer.text()[:9]) == (400, "error at "), f"round {n}: {answer.text()}"
        answer = post_update(server, insert % n)
        assert answer.status == 204, f"round {n}: {answer.text()}"
        answer = w3c.http(server.url, "GET", "/sparql?query=" + _quote(ask % n),
                          {"Accept": "application/sparql-results+json"})
        assert (answer.status, boolean_of(answer)) == (200, True), f"round {n}: {answer.text()}"


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def test_head_allow_and_encodings_through_gunicorn(server):
    """What tests/test_server_protocol.py checks in-process, through the real server once."""
    get = w3c.http(server.url, "GET", "/sparql?query=ASK%20%7B%7D")
    head = w3c.http(server.url, "HEAD", "/sparql?query=ASK%20%7B%7D")
    assert (head.status, head.media_type, head.body) == (200, "application/sparql-results+json", b"")
    assert head.headers["content-length"] == get.headers["content-length"] == str(len(get.body))
    put = w3c.http(server.url, "PUT", "/sparql", {"Content-Type": "application/sparql-query"}, b"ASK {}")
    assert (put.status, put.headers["allow"]) == (405, "GET, HEAD, OPTIONS, POST")
    bad = w3c.http(server.url, "GET", "/sparql?query=ASK%20%7B%7D%FF")
    assert (bad.status, bad.text()) == (
        400, "the query string's 'query' value is not UTF-8 once percent-decoded (byte 0xff at offset 6)\n")
    bad = w3c.http(server.url, "POST", "/sparql", {"Content-Type": "application/x-www-form-urlencoded; charset=latin1"},
                   b"query=ASK%20%7B%7D")
    assert bad.status == 400
