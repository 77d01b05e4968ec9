"""No query or update, whatever its text, makes the server connect to an address off the allowlist.

A canary listens on 127.0.0.2; a real `ckg serve` gets the two bypasses found against the old
text check (a comment ended by a bare CR; a ``\\u0022`` escape in a string) and a generated set
of parser-differential variants of them: every comment ending, every string and IRI escape form,
every spelling of the endpoint, nested groups, sub-queries, FILTER EXISTS, SERVICE SILENT, LOAD
and updates — on the default configuration and with an allowlist. Not one connection may reach
the canary, and no answer may carry what it would have answered.
"""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
import urllib.error
import urllib.request
from collections import Counter
from urllib.parse import urlencode

import pytest

from ckg.server import sandbox

from canary import SECRET, Canary, FakeEndpoint
from serving import ckg_serve

TOKEN = "ssrf-test-token"

pytestmark = pytest.mark.skipif(not sandbox.available()[0], reason=f"no sandbox here: {sandbox.available()[1]}")


# -- the query processes have no network -------------------------------------------------------

def test_a_sandboxed_process_cannot_connect_even_through_pyoxigraph():
    """In a process with the filter: Internet sockets fail, Unix sockets work, and pyoxigraph's
    own SERVICE and LOAD reach nothing."""
    canary = Canary()
    try:
        program = f"""
import socket, pyoxigraph as ox
from ckg.server import sandbox
a, b = socket.socketpair()
sandbox.close_network()
out = []
for family in (socket.AF_INET, socket.AF_INET6, socket.AF_NETLINK, socket.AF_PACKET):
    try:
        socket.socket(family, socket.SOCK_DGRAM if family == socket.AF_NETLINK else socket.SOCK_STREAM)
        out.append("open")
    except PermissionError:
        out.append("denied")
a.send(b"x"); out.append(b.recv(1).decode())
socket.socket(socket.AF_UNIX).close(); out.append("unix")
store = ox.Store()
for text in ("SELECT * WHERE {{ SERVICE <{canary.url}> {{ ?s ?p ?o }} }}",):
    try:
        list(store.query(text)); out.append("ran")
    except OSError as exc:
        out.append("refused" if "Permission denied" in str(exc) else str(exc))
out.append(str(len(list(store.query("SELECT * WHERE {{ SERVICE SILENT <{canary.url}> {{ ?s ?p ?o }} }}")))))
try:
    store.update("LOAD <{canary.url}>"); out.append("loaded")
except OSError as exc:
    out.append("refused" if "Permission denied" in str(exc) else str(exc))
print(" ".join(out))
"""
        result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["denied", "denied", "denied", "denied", "x", "unix", "refused", "1", "refused"]
    finally:
        canary.close()
    assert canary.connections == []


def test_query_processes_report_their_network_closed(mini_store):
    from serving import app_on

    with app_on(mini_store[0], {"engines": 1}) as app:
        reply = app.extensions["ckg"].run("ping")
    assert reply["network_closed"] is True


# -- generated parser-differential variants ------------------------------------------------------

COMMENT_ENDS = ["\r", "\n", "\r\n", "\f\n", "\x0b\n", "\x85\n", "\u2028\n", "\n\r"]
STRING_TRAPS = [  # a text before and after the SERVICE that one reading closes and another does not
    ('BIND("\\u0022" AS ?a) ', ' BIND("\\u0022" AS ?b)'),
    ("BIND('\\u0027' AS ?a) ", " BIND('\\u0027' AS ?b)"),
    ('BIND("\\U00000022" AS ?a) ', ' BIND("\\U00000022" AS ?b)'),
    ('BIND("\\"" AS ?a) ', ' BIND("\\"" AS ?b)'),
    ('BIND("""\\u0022""" AS ?a) ', ' BIND("""\\u0022""" AS ?b)'),
    ("BIND('''\\u0027''' AS ?a) ", " BIND('''\\u0027''' AS ?b)"),
    ('BIND("a\\\\" AS ?a) ', ' BIND("b\\\\" AS ?b)'),
    ("BIND(<urn:x\\u003E> AS ?a) ", " BIND(<urn:y\\u003E> AS ?b)"),
    ("BIND(<urn:x\\u0020> AS ?a) ", " BIND(<urn:y> AS ?b)"),
    ("BIND('#' AS ?a) ", ""),
    ('BIND("\\u000A#" AS ?a) ', ""),
]
KEYWORDS = ["SERVICE", "service", "SeRvIcE", "SERVICE SILENT", "service silent", "\\u0053ERVICE"]


def endpoint_spellings(canary: Canary) -> list[tuple[str, str]]:
    """(prologue, endpoint term) pairs that all name the canary's address."""
    port = canary.port
    return [
        ("", f"<{canary.url}>"),
        ("", f"<HTTP://127.0.0.2:{port}/sparql#fragment>"),
        (f"PREFIX c: <http://127.0.0.2:{port}/> ", "c:sparql"),
        (f"BASE <http://127.0.0.2:{port}/> ", "<sparql>"),
        ("", f"<http://127.0.0.\\u0032:{port}/sparql>"),
        ("", f"<http://2130706434:{port}/sparql>"),
        ("", f"<http://127.2:{port}/sparql>"),
        ("", f"<http://[::ffff:127.0.0.2]:{port}/sparql>"),
        ("", f"<http://user@127.0.0.2:{port}/sparql>"),
        ("", f"<http://127.0.0.2:{port}:{port}/sparql>"),
    ]


GROUPS = [
    "{X}", "{ { X } }", "{ OPTIONAL { X } }", "{ { } UNION { X } }", "{ ?s0 ?p0 ?o0 MINUS { X } }",
    "{ FILTER EXISTS { X } }", "{ FILTER NOT EXISTS { X } }", "{ { SELECT * WHERE { X } } }", "{ GRAPH ?g { X } }",
    "{ BIND(1 AS ?one) { { X } } }",
]
QUERY_FORMS = ["SELECT ?x WHERE G", "ASK G", "CONSTRUCT { ?s ?p ?x } WHERE G", "DESCRIBE ?x WHERE G",
               "SELECT (COUNT(*) AS ?n) WHERE G GROUP BY ?x"]
UPDATE_FORMS = ["INSERT { <urn:a> <urn:b> ?x } WHERE G", "DELETE { ?s ?p ?x } WHERE G",
                "WITH <urn:g> INSERT { <urn:a> <urn:b> ?x } WHERE G",
                "INSERT DATA { <urn:a> <urn:b> 'c' } ; INSERT { <urn:a> <urn:b> ?x } WHERE G"]


def variants(canary: Canary, wrap_in: str | None = None) -> list[tuple[str, str]]:
    """(kind, text) pairs: the issue's two cases, then hiding tricks x keywords x endpoint spellings,
    with the group and the query form rotated, then updates and LOADs. ``wrap_in`` nests each
    SERVICE inside a SERVICE to that (allowlisted) endpoint."""
    cases = [
        ("query", f"SELECT ?x WHERE {{ # c\r SERVICE <{canary.url}> {{ ?s ?p ?x }} \n}}"),
        ("query", f'SELECT ?x WHERE {{ BIND("\\u0022" AS ?a) SERVICE <{canary.url}> {{ ?s ?p ?x }} BIND("\\u0022" AS ?b) }}'),
    ]
    hides = [(f"# c{end}", "") for end in COMMENT_ENDS] + STRING_TRAPS + [("", "")]
    spellings = endpoint_spellings(canary)
    for n, ((before, after), keyword, (prologue, target)) in enumerate(itertools.product(hides, KEYWORDS, spellings)):
        clause = f"{keyword} {target} {{ ?s ?p ?x }}"
        if wrap_in:
            clause = f"SERVICE <{wrap_in}> {{ {clause} }}"
        group = GROUPS[n % len(GROUPS)].replace("X", f" {before}{clause}{after} ")
        kind, forms = ("update", UPDATE_FORMS) if n % 7 == 3 else ("query", QUERY_FORMS)
        cases.append((kind, prologue + forms[n % len(forms)].replace("G", group)))
    loads = [f"LOAD <{canary.url}>", f"LOAD SILENT <{canary.url}>", f"LOAD <{canary.url}> INTO GRAPH <urn:g>",
             f"INSERT DATA {{ <urn:a> <urn:b> \"\\u0022\" }} ; LOAD <{canary.url}>",
             f"# c\r LOAD <{canary.url}>", f"PREFIX c: <http://127.0.0.2:{canary.port}/> LOAD c:data",
             f"load silent <{canary.url}> into graph <urn:g>"]
    cases += [("update", text) for text in loads]
    return cases


def send(server, kind: str, text: str) -> tuple[int, str]:
    if kind == "query":
        url = server.sparql + "?" + urlencode({"query": text})  # unauthenticated GET
        request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    else:
        request = urllib.request.Request(server.sparql, data=urlencode({"update": text}).encode(), headers={
            "Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def run_cases(server, canary: Canary, cases) -> Counter:
    statuses: Counter = Counter()
    leaked = []
    for kind, text in cases:
        status, body = send(server, kind, text)
        statuses[(kind, status)] += 1
        if SECRET in body or status >= 500 and status not in (502, 503, 504):
            leaked.append((kind, text, status, body[:200]))
    assert leaked == []
    assert canary.connections == [], f"{len(canary.connections)} connection(s) reached the canary"
    return statuses


@pytest.fixture(scope="module")
def canary():
    listener = Canary()
    yield listener
    listener.close()


def test_default_configuration_calls_nothing(mini_store, canary, tmp_path):
    store = tmp_path / "store"
    import shutil

    shutil.copytree(mini_store[0], store)
    cases = variants(canary)
    with ckg_serve(store, "--workers", "1", "--threads", "2", env={"CKG_UPDATE_TOKEN": TOKEN}) as server:
        statuses = run_cases(server, canary, cases)
    print(f"\nSSRF canary, default configuration: {len(cases)} cases, {len(canary.connections)} connections; "
          f"answers {dict(sorted(statuses.items()))}")
    assert len(cases) > 600
    assert statuses[("query", 403)] > 100 and statuses[("update", 403)] > 10  # the visible ones are refused by name


def test_allowlisted_endpoints_cannot_relay_to_the_canary(mini_store, canary, tmp_path):
    """With an allowlist (a fake remote endpoint, and the server itself): the canary spelled every
    way, alone or nested inside an allowlisted SERVICE, still gets no connection; the allowlisted
    endpoints are called."""
    import shutil
    import socket

    store = tmp_path / "store"
    shutil.copytree(mini_store[0], store)
    with socket.socket() as probe:  # a free port, so that the server can allowlist itself
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    own = f"http://127.0.0.1:{port}/sparql"
    remote = FakeEndpoint({"head": {"vars": ["x"]}, "results": {"bindings": [{"x": {"type": "literal", "value": "remote"}}]}})
    try:
        rng = random.Random(9)
        cases = rng.sample(variants(canary), 150) + rng.sample(variants(canary, wrap_in=remote.url), 100) + \
            rng.sample(variants(canary, wrap_in=own), 100)
        with ckg_serve(store, "--workers", "1", "--threads", "3", "--port", str(port), "--allow-service", remote.url,
                       "--allow-service", own, env={"CKG_UPDATE_TOKEN": TOKEN}) as server:
            assert server.url == f"http://127.0.0.1:{port}/"
            statuses = run_cases(server, canary, cases)
            status, body = send(server, "query", f"SELECT ?x WHERE {{ SERVICE <{remote.url}> {{ ?s ?p ?x }} }}")
            assert status == 200 and '"remote"' in body
        assert remote.requests, "the allowlisted endpoint was never called"
    finally:
        remote.close()
    print(f"\nSSRF canary, with an allowlist: {len(cases)} cases, {len(canary.connections)} connections; "
          f"answers {dict(sorted(statuses.items()))}")


def test_the_query_processes_call_nothing_even_when_handed_the_raw_text(mini_store, canary, tmp_path):
    """The enforcement does not depend on the text being read right: every variant sent straight
    to the query processes, past the federation layer and its lexer, still reaches nothing."""
    import shutil

    from ckg.server.engine import EnginePool, JobFailed

    store = tmp_path / "store"
    shutil.copytree(mini_store[0], store)
    cases = variants(canary)
    outcomes: Counter = Counter()
    pool = EnginePool({"store": str(store), "allowlist": [], "updates": True}, size=1)
    try:
        for kind, text in cases:
            params = {"query": text, "formats": {"solutions": ("json", "application/sparql-results+json"),
                                                 "graph": ("ntriples", "application/n-triples")}} \
                if kind == "query" else {"update": text}
            try:
                reply = pool.run(kind, params, 30)
                outcomes[(kind, "ran")] += 1
                assert SECRET not in reply.get("body", b"").decode("utf-8", "replace")
            except JobFailed as exc:
                outcomes[(kind, str(exc.status))] += 1
    finally:
        pool.close()
    print(f"\nSSRF canary, texts straight to the query processes: {len(cases)} cases, "
          f"{len(canary.connections)} connections; outcomes {dict(sorted(outcomes.items()))}")
    assert canary.connections == []
    assert outcomes[("query", "ran")] > 50  # SERVICE SILENT clauses and hidden ones ran, without the network
    assert outcomes[("query", "500")] == outcomes[("update", "500")] == 0  # a refused connection is a 403
