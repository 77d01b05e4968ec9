"""The SERVICE clauses the federation layer evaluates: found by a SPARQL lexer (comments, strings,
IRIs read as the grammar reads them), each endpoint checked against the allowlist. (That no text
can make the server call out anyway is tests/test_ssrf.py's business.)"""

from __future__ import annotations

import pytest

from ckg.server.federation import plan
from ckg.server.guard import ServiceNotAllowed, ServiceNotChecked, normalize_endpoint, parse_allowlist

ALLOWED = "http://127.0.0.1:8001/sparql"
EVERYTHING = [f"http://{c}.org/" for c in "fghijklmnop"] + ["http://a.org/sparql", "http://e.org/sparql",
                                                              "http://b.org/sparql"]


def names(text, update=False):
    return [("SERVICE", c.endpoint) for c in plan(text, EVERYTHING, update=update)]


def check(text, allowlist, update=False):
    plan(text, allowlist, update=update)


@pytest.mark.parametrize("text, expected", [
    ("SELECT * WHERE { ?s ?p ?o }", []),
    ("SELECT * WHERE { SERVICE <http://a.org/sparql> { ?s ?p ?o } }", [("SERVICE", "http://a.org/sparql")]),
    ("PREFIX e: <http://e.org/> SELECT * WHERE { SERVICE SILENT e:sparql { ?s ?p ?o } }", [("SERVICE", "http://e.org/sparql")]),
    ("BASE <http://b.org/x/> SELECT * WHERE { SERVICE <../sparql> { ?s ?p ?o } }", [("SERVICE", "http://b.org/sparql")]),
    ("SELECT * WHERE { ?s ?p ?o FILTER NOT EXISTS { SERVICE <http://f.org/> { ?s ?p ?o } } }", [("SERVICE", "http://f.org/")]),
    ("SELECT * WHERE { { SELECT ?s WHERE { SERVICE <http://g.org/> { ?s ?p ?o } } } }", [("SERVICE", "http://g.org/")]),
    ("SELECT * WHERE { OPTIONAL { SERVICE <http://h.org/> { ?s ?p ?o } } MINUS { SERVICE <http://i.org/> { ?s ?p ?o } } }",
     [("SERVICE", "http://h.org/"), ("SERVICE", "http://i.org/")]),
    ("ASK { { ?s ?p ?o } UNION { GRAPH ?g { SERVICE <http://j.org/> { ?s ?p ?o } } } }", [("SERVICE", "http://j.org/")]),
    ("CONSTRUCT { ?s ?p ?o } WHERE { SERVICE <http://k.org/> { ?s ?p ?o } }", [("SERVICE", "http://k.org/")]),
    ("DESCRIBE ?s WHERE { SERVICE <http://l.org/> { ?s ?p ?o } }", [("SERVICE", "http://l.org/")]),
    # an escaped keyword is a syntax error for pyoxigraph, and no clause here
    ("SELECT * WHERE { \\u0053ERVICE <http://m.org/> { ?s ?p ?o } }", []),
    # a comment ends at a carriage return; an escaped quote does not end a string
    ("SELECT * WHERE { # c\r SERVICE <http://m.org/> { ?s ?p ?o } \n}", [("SERVICE", "http://m.org/")]),
    ('SELECT * WHERE { BIND("\\u0022" AS ?a) SERVICE <http://m.org/> { ?s ?p ?o } BIND("\\u0022" AS ?b) }',
     [("SERVICE", "http://m.org/")]),
    # only the outermost clause: the inner one goes to the outer endpoint with its pattern
    ("ASK { SERVICE <http://n.org/> { SERVICE <http://evil.org/> { ?s ?p ?o } } }", [("SERVICE", "http://n.org/")]),
    ("SELECT * WHERE { sErViCe <http://n.org/> { ?s ?p ?o } }", [("SERVICE", "http://n.org/")]),
    ("SELECT * WHERE { ?p ckg:cites ?q . SERVICE <http://o.org/> { ?q ?r ?s } }", [("SERVICE", "http://o.org/")]),
    # the word in a literal, a variable or an IRI is no SERVICE clause
    ("SELECT ?service WHERE { ?service <http://x.org/service> 'SERVICE <http://p.org/> { }' }", []),
])
def test_targets(text, expected):
    assert names(text) == expected


def test_update_targets_and_load():
    assert names("INSERT { ?s ?p ?o } WHERE { SERVICE <http://b.org/sparql> { ?s ?p ?o } }", update=True) == [
        ("SERVICE", "http://b.org/sparql")]
    for text in ("LOAD <http://a.org/data.ttl> INTO GRAPH <http://g>", "load silent <http://a.org/data.ttl>",
                 "INSERT DATA { <urn:a> <urn:b> 1 } ; LOAD <http://a.org/data.ttl>"):
        with pytest.raises(ServiceNotAllowed, match=r"^LOAD <http://a.org/data.ttl> is not allowed: this endpoint "
                                                    "fetches no documents"):
            check(text, EVERYTHING, update=True)


def test_allowlisted_targets_pass_others_are_refused():
    check(f"SELECT * WHERE {{ SERVICE <{ALLOWED}> {{ ?s ?p ?o }} }}", [ALLOWED])
    check("SELECT * WHERE { SERVICE <HTTP://127.0.0.1:8001/sparql#x> { ?s ?p ?o } }", [ALLOWED])
    for other in ("http://127.0.0.1:8002/sparql", "http://localhost:8001/sparql", "http://127.0.0.1:8001/sparql/x",
                  "https://127.0.0.1:8001/sparql", "http://evil.org@127.0.0.1:8001/sparql", "file:///etc/passwd"):
        with pytest.raises(ServiceNotAllowed, match=f"SERVICE <{other}> is not allowed: it is not on this endpoint's "
                                                   f"SERVICE allowlist$") as refused:
            check(f"SELECT * WHERE {{ SERVICE <{ALLOWED}> {{ ?s ?p ?o }} SERVICE <{other}> {{ ?s ?p ?o }} }}", [ALLOWED])
        assert "8001" not in str(refused.value).split("is not allowed")[1]  # the allowlist is not told


def test_variable_and_malformed_endpoints_are_refused():
    with pytest.raises(ServiceNotChecked, match=r"SERVICE with a variable endpoint \(\?e\) is not allowed"):
        check("SELECT * WHERE { VALUES ?e { <http://127.0.0.1:8001/sparql> } SERVICE ?e { ?s ?p ?o } }", [ALLOWED])
    with pytest.raises(ServiceNotChecked, match=r"SERVICE <http://127.0.0.1:1:2/sparql> is not a valid endpoint IRI"):
        check("SELECT * WHERE { SERVICE <http://127.0.0.1:1:2/sparql> { ?s ?p ?o } }", [ALLOWED])
    # a text that does not lex or does not close is left to pyoxigraph's parser (which reports it)
    assert plan(f"SELECT * WHERE {{ SERVICE <{ALLOWED}> {{ ?s ?p ?o }} ", [ALLOWED]) == []
    assert plan("SELECT * WHERE { \\u0053ERVICE <http://a.org/> { ?s ?p ?o } }", [ALLOWED]) == []


def test_allowlist_setting():
    assert parse_allowlist(" http://a.org/sparql,https://b.org/q  http://c.org/ ") == (
        "http://a.org/sparql", "https://b.org/q", "http://c.org/")
    assert parse_allowlist("") == () and parse_allowlist(None) == ()
    with pytest.raises(ValueError, match="'ftp://x' is not an http"):
        parse_allowlist("ftp://x")
    assert normalize_endpoint("http://[::1]:80/sparql") == "http://[::1]/sparql"
