"""SERVICE clauses evaluated by ckg's federation layer: the answer joined as the clause would be,
SILENT, failures, limits, requests only to allowlisted endpoints (no redirects followed), and the
fallback where no sandbox is available."""

from __future__ import annotations

import time

import pytest

from ckg.server import federation
from ckg.server.federation import FederationError, prepare, values_block

from canary import Canary, FakeEndpoint
from serving import app_on

P = "https://w3id.org/ckg/resource/paper/"
NOTE = "http://example.org/remote#note"
NOTES = {"head": {"vars": ["paper", "note"]}, "results": {"bindings": [
    {"paper": {"type": "uri", "value": P + "aaaa0001"}, "note": {"type": "literal", "value": "remote note on alpha"}},
    {"paper": {"type": "uri", "value": P + "aaaa0003"}, "note": {"type": "literal", "value": "gamma", "xml:lang": "en"}},
    {"paper": {"type": "uri", "value": "http://example.org/elsewhere"}, "note": {"type": "literal", "value": "x"}},
]}}


@pytest.fixture
def remote():
    endpoint = FakeEndpoint(NOTES)
    yield endpoint
    endpoint.close()


def csv(app, query: str):
    r = app.test_client().post("/sparql", data=query, content_type="application/sparql-query",
                               headers={"Accept": "text/csv"})
    return r.status_code, r.get_data(as_text=True)


def test_a_service_answer_is_joined_like_the_clause(mini_store, remote):
    with app_on(mini_store[0], {"engines": 1, "service_allowlist": [remote.url]}) as app:
        status, body = csv(app, f"""SELECT ?paper ?title ?note WHERE {{
            ?paper dcterms:title ?title .
            SERVICE <{remote.url}> {{ ?paper <{NOTE}> ?note }}
        }} ORDER BY ?paper""")
        assert status == 200, body
        assert body == ("paper,title,note\r\n"
                        f"{P}aaaa0001,Alpha study of coronavirus spike binding to ACE2 receptors,remote note on alpha\r\n"
                        f"{P}aaaa0003,Gamma review of transmission models for influenza and coronaviruses,gamma\r\n")
        # the remote got the clause's pattern with the text's prefixes, by GET, with the papers the
        # rest of the query can join it with (a bind join: ckg.server.bindjoin)
        method, sent = remote.requests[-1]
        assert method == "GET" and f"SELECT * WHERE {{ VALUES (?paper) {{ (<{P}{'9' * 40}>) (<{P}aaaa0001>) " in sent
        assert sent.endswith(f") }} ?paper <{NOTE}> ?note }}") and sent.count(f"(<{P}") == 5  # the mini store's papers
        assert "PREFIX dcterms: <http://purl.org/dc/terms/>" in sent
        # inside OPTIONAL, in a sub-query, under FILTER EXISTS
        status, body = csv(app, f"""SELECT ?paper ?note WHERE {{ ?paper a ckg:Paper
            OPTIONAL {{ SERVICE <{remote.url}> {{ ?paper <{NOTE}> ?note }} }} }} ORDER BY ?paper""")
        lines = body.splitlines()
        assert status == 200 and len(lines) == 6  # header + every paper, with a note or none
        assert {f"{P}aaaa0001,remote note on alpha", f"{P}aaaa0002,", f"{P}aaaa0003,gamma"} < set(lines)
        status, body = csv(app, f"""SELECT (COUNT(*) AS ?n) WHERE {{ ?paper a ckg:Paper
            FILTER EXISTS {{ {{ SELECT ?paper WHERE {{ SERVICE <{remote.url}> {{ ?paper ?p ?o }} }} }} }} }}""")
        assert (status, body) == (200, "n\r\n2\r\n")


def test_long_queries_are_posted_as_forms(mini_store, remote):
    filler = " ".join(f"<urn:x{i}>" for i in range(600))
    with app_on(mini_store[0], {"engines": 1, "service_allowlist": [remote.url]}) as app:
        status, _ = csv(app, f"SELECT * WHERE {{ SERVICE <{remote.url}> {{ VALUES ?v {{ {filler} }} ?paper <{NOTE}> ?note }} }}")
    assert status == 200
    assert remote.requests[-1][0] == "POST" and "<urn:x599>" in remote.requests[-1][1]


def test_failures_silent_and_not(mini_store, remote):
    remote.status = 500
    with app_on(mini_store[0], {"engines": 1, "service_allowlist": [remote.url]}) as app:
        status, body = csv(app, f"SELECT * WHERE {{ SERVICE <{remote.url}> {{ ?s ?p ?o }} }}")
        assert status == 502 and body.startswith(f"SERVICE <{remote.url}> answered HTTP 500")
        status, body = csv(app, f"SELECT (COUNT(*) AS ?n) WHERE {{ SERVICE SILENT <{remote.url}> {{ ?s ?p ?o }} }}")
        assert (status, body) == (200, "n\r\n1\r\n")  # one empty solution, as SPARQL says
        remote.status = 200
        remote.answer = {"head": {"vars": ["x"]}, "results": {"bindings": [{}] * 30}}
    with app_on(mini_store[0], {"engines": 1, "service_allowlist": [remote.url], "service_max_rows": 20}) as app:
        status, body = csv(app, f"SELECT * WHERE {{ SERVICE <{remote.url}> {{ ?s ?p ?x }} }}")
        assert status == 502 and "answered more than 20 rows" in body and "CKG_SERVICE_MAX_ROWS" in body


def test_a_redirect_is_not_followed(mini_store, remote):
    canary = Canary()
    try:
        remote.status = 302
        remote.headers = {"Location": canary.url}
        with app_on(mini_store[0], {"engines": 1, "service_allowlist": [remote.url]}) as app:
            status, body = csv(app, f"SELECT * WHERE {{ SERVICE <{remote.url}> {{ ?s ?p ?o }} }}")
        assert status == 502 and f"(to {canary.url}; redirects are not followed)" in body
    finally:
        canary.close()
    assert canary.connections == []


def test_an_answer_another_ckg_cut_is_a_failure(remote):
    remote.headers = {"X-CKG-Truncated": "true", "X-CKG-Row-Limit": "2"}
    with pytest.raises(FederationError, match=r"cut its answer at its row limit \(2 rows\)"):
        prepare(f"ASK {{ SERVICE <{remote.url}> {{ ?s ?p ?o }} }}", [remote.url], deadline=time.monotonic() + 10)


def test_the_deadline_holds(remote):
    remote.delay = 3
    start = time.monotonic()
    with pytest.raises(FederationError, match="did not answer in time") as caught:
        prepare(f"ASK {{ SERVICE <{remote.url}> {{ ?s ?p ?o }} }}", [remote.url], deadline=time.monotonic() + 0.5)
    assert caught.value.status == 504 and time.monotonic() - start < 2.5


def test_fetch_checks_the_allowlist_itself():
    canary = Canary()
    try:
        with pytest.raises(federation.ServiceNotAllowed):
            federation.fetch(canary.url, "ASK {}", allowlist=["http://127.0.0.1:9/sparql"], deadline=time.monotonic() + 5)
    finally:
        canary.close()
    assert canary.connections == []


def test_values_block_terms():
    block = values_block({"head": {"vars": ["b", "t"]}, "results": {"bindings": [
        {"b": {"type": "bnode", "value": "r1"}, "t": {"type": "typed-literal", "value": "1",
                                                       "datatype": "http://www.w3.org/2001/XMLSchema#integer"}},
        {"b": {"type": "bnode", "value": "r1"}, "t": {"type": "literal", "value": 'say "hi"\n'}}]}}, max_rows=5)
    first, second = block.split(") (")
    assert first.startswith("VALUES (?b ?t) { (<urn:ckg:service-bnode:") and '"1"^^<http://www.w3.org/2001/XMLSchema#integer>' in first
    assert first.split()[4].lstrip("(") == second.split()[0]  # one remote blank node, one IRI
    assert '"say \\"hi\\"\\n"' in second
    with pytest.raises(FederationError, match="did not answer SELECT results"):
        values_block({"boolean": True}, max_rows=5)
    with pytest.raises(ValueError):
        values_block({"head": {"vars": ["bad name"]}, "results": {"bindings": []}}, max_rows=5)


def test_without_a_sandbox_every_mention_of_service_or_load_is_refused(mini_store, remote):
    with app_on(mini_store[0], {"engines": 1, "service_allowlist": [remote.url]}) as app:
        server = app.extensions["ckg"]
        server.sandboxed = False  # as on a machine where the network of the query processes cannot be closed
        status, body = csv(app, f"SELECT * WHERE {{ SERVICE <{remote.url}> {{ ?s ?p ?o }} }}")
        assert status == 403 and "cannot close the network of its query processes" in body
        status, body = csv(app, "SELECT ?x WHERE { BIND('download' AS ?x) }")  # the letters anywhere
        assert status == 403
        assert csv(app, "SELECT ?x WHERE { BIND('fine' AS ?x) }") == (200, "x\r\nfine\r\n")
    assert remote.requests == []
