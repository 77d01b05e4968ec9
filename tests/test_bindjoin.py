"""Bind joins (ckg.server.bindjoin, ckg.server.federation): a SERVICE clause asked with the values the
rest of the query joins it with gives the answer the whole clause gives, for every shape of query
below; which clauses take part; what the calls cost. The remote endpoint is a second pyoxigraph
store answering the texts federation sends (tests/test_server_live.py does it over HTTP)."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from ckg.server import bindjoin, federation

E = "http://example.org/"
REMOTE = "http://remote.example/sparql"


def _stores():
    local, remote = ox.Store(), ox.Store()
    for i in range(30):
        paper = ox.NamedNode(f"{E}paper{i}")
        local.add(ox.Quad(paper, ox.NamedNode(E + "about"), ox.NamedNode(f"{E}mesh{i % 7}")))
        local.add(ox.Quad(paper, ox.NamedNode(E + "year"), ox.Literal(str(2015 + i % 6), datatype=ox.NamedNode(
            "http://www.w3.org/2001/XMLSchema#integer"))))
        if i % 4 == 0:
            local.add(ox.Quad(paper, ox.NamedNode(E + "retracted"), ox.Literal("yes")))
    for m in range(40):  # the remote knows more descriptors than the local papers use
        mesh = ox.NamedNode(f"{E}mesh{m}")
        remote.add(ox.Quad(mesh, ox.NamedNode(E + "label"), ox.Literal(f"heading {m}", language="en")))
        remote.add(ox.Quad(mesh, ox.NamedNode(E + "tree"), ox.Literal("C" if m % 2 else "D")))
        if m % 3 == 0:
            remote.add(ox.Quad(mesh, ox.NamedNode(E + "label"), ox.Literal(f"rubrique {m}", language="fr")))
    return local, remote


def _results_json(store: ox.Store, text: str) -> dict:
    return json.loads(store.query(text).serialize(format=ox.QueryResultsFormat.JSON))


@pytest.fixture
def federated(monkeypatch):
    """(local store, run(text, bind) -> (sorted rows, Calls, texts sent)) with a fake remote."""
    local, remote = _stores()
    sent: list[str] = []

    def fetch(endpoint, query, *, allowlist, deadline):
        assert endpoint == REMOTE
        sent.append(query)
        return _results_json(remote, query)

    monkeypatch.setattr(federation, "fetch", fetch)
    federation.clear_cache()

    def probe(text, deadline):
        return _results_json(local, text)

    def run(text: str, bind: bool):
        sent.clear()
        federation.clear_cache()
        calls = federation.Calls()
        prepared = federation.prepare(text, [REMOTE], probe=probe if bind else None, calls=calls)
        result = local.query(prepared)
        if isinstance(result, ox.QueryBoolean):
            return bool(result), calls, list(sent)
        rows = sorted(tuple(str(s[v]) if s[v] is not None else None for v in result.variables) for s in result)
        return rows, calls, list(sent)

    return local, run


CASES = {
    "labels of the papers' headings": f"""SELECT ?paper ?label WHERE {{ ?paper <{E}about> ?mesh .
        SERVICE <{REMOTE}> {{ ?mesh <{E}label> ?label }} }}""",
    "one paper (VALUES), the clause first": f"""SELECT ?mesh ?label WHERE {{
        SERVICE <{REMOTE}> {{ ?mesh <{E}label> ?label }} VALUES ?paper {{ <{E}paper3> }} ?paper <{E}about> ?mesh }}""",
    "a FILTER on the remote's variable": f"""SELECT ?paper ?label WHERE {{ ?paper <{E}about> ?mesh .
        SERVICE <{REMOTE}> {{ ?mesh <{E}label> ?label }} FILTER(LANG(?label) = "fr") }}""",
    "a FILTER that needs both sides": f"""SELECT ?paper ?t WHERE {{ ?paper <{E}about> ?mesh ; <{E}year> ?y .
        SERVICE <{REMOTE}> {{ ?mesh <{E}tree> ?t }} FILTER(?y > 2017 || ?t = "D") }}""",
    "FILTER NOT EXISTS and MINUS": f"""SELECT ?paper ?label WHERE {{ ?paper <{E}about> ?mesh .
        SERVICE <{REMOTE}> {{ ?mesh <{E}label> ?label ; <{E}tree> "C" }}
        FILTER NOT EXISTS {{ ?paper <{E}retracted> "yes" }} MINUS {{ ?paper <{E}year> 2016 }} }}""",
    "a FILTER and a MINUS on local variables only (kept in the probe)": f"""SELECT ?paper ?label WHERE {{
        ?paper <{E}about> ?mesh ; <{E}year> ?y . SERVICE <{REMOTE}> {{ ?mesh <{E}label> ?label }}
        FILTER(?y >= 2019) MINUS {{ ?paper <{E}retracted> "yes" }} }}""",
    "an OPTIONAL beside the clause": f"""SELECT ?paper ?r ?label WHERE {{ ?paper <{E}about> ?mesh .
        OPTIONAL {{ ?paper <{E}retracted> ?r }} SERVICE <{REMOTE}> {{ ?mesh <{E}label> ?label }} }}""",
    "a join variable the rest may leave unbound (sent whole)": f"""SELECT ?mesh ?label WHERE {{
        {{ <{E}paper1> <{E}about> ?mesh }} UNION {{ <{E}paper2> <{E}year> ?y }}
        SERVICE <{REMOTE}> {{ ?mesh <{E}label> ?label }} }}""",
    "nothing to join with (no call)": f"""SELECT ?mesh ?label WHERE {{ <{E}nobody> <{E}about> ?mesh .
        SERVICE <{REMOTE}> {{ ?mesh <{E}label> ?label }} }}""",
    "the clause in a subgroup (sent whole)": f"""SELECT ?paper ?label WHERE {{ ?paper <{E}about> ?mesh .
        {{ SERVICE <{REMOTE}> {{ ?mesh <{E}label> ?label }} }} }}""",
    "SERVICE SILENT, and ASK": f"""ASK {{ <{E}paper2> <{E}about> ?mesh .
        SERVICE SILENT <{REMOTE}> {{ ?mesh <{E}tree> "D" }} }}""",
    "an aggregate over the join": f"""SELECT ?t (COUNT(DISTINCT ?paper) AS ?n) WHERE {{ ?paper <{E}about> ?mesh .
        SERVICE <{REMOTE}> {{ ?mesh <{E}tree> ?t }} }} GROUP BY ?t""",
    "a subquery beside the clause": f"""SELECT ?mesh ?label WHERE {{
        {{ SELECT DISTINCT ?mesh WHERE {{ ?p <{E}about> ?mesh ; <{E}year> 2020 }} }}
        SERVICE <{REMOTE}> {{ ?mesh <{E}label> ?label }} }}""",
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bind_join_gives_the_answer_of_the_whole_clause(federated, case):
    _local, run = federated
    text = CASES[case]
    plain, plain_calls, _ = run(text, bind=False)
    joined, calls, sent = run(text, bind=True)
    assert joined == plain
    assert plain_calls.bind_joins == 0 and plain_calls.requests == 1
    if "sent whole" in case:
        assert calls.bind_joins == 0 and calls.requests == 1 and "VALUES" not in sent[0]
    elif "no call" in case:
        assert calls.bind_joins == 1 and calls.requests == 0 and joined == []
    else:
        assert calls.bind_joins == 1 and calls.requests >= 1 and all("VALUES (?mesh)" in q for q in sent)
        assert calls.rows <= plain_calls.rows
    if case.startswith("a FILTER and a MINUS on local"):  # papers of 2019 and 2020 not retracted: headings 1-6
        assert "FILTER" in bindjoin.analyse(text)[text.index("SERVICE")].probe and calls.probe_rows < 7
    if case == "one paper (VALUES), the clause first":
        assert calls.probe_rows == 1 and calls.rows == 2 < plain_calls.rows == 54  # one heading's two labels, not all 54


def test_join_values_go_in_batches(federated, monkeypatch):
    _local, run = federated
    monkeypatch.setattr(federation, "BIND_JOIN_BATCH", 3)
    text = CASES["labels of the papers' headings"]
    joined, calls, sent = run(text, bind=True)
    assert calls.probe_rows == 7 and calls.requests == len(sent) == 3  # 7 headings, 3 a request
    assert joined == run(text, bind=False)[0]


def test_a_probe_over_the_limit_sends_the_clause_whole(federated, monkeypatch):
    local, _run = federated
    calls = federation.Calls()
    federation.clear_cache()
    text = CASES["labels of the papers' headings"]
    prepared = federation.prepare(text, [REMOTE], probe=lambda t, d: None, calls=calls)
    assert calls.bind_joins == 0 and calls.requests == 1 and "VALUES" in prepared


def test_the_cache_answers_the_same_text_again(federated):
    local, _run = federated
    federation.clear_cache()
    text = CASES["the clause in a subgroup (sent whole)"]
    first, second = federation.Calls(), federation.Calls()
    a = federation.prepare(text, [REMOTE], calls=first)
    b = federation.prepare(text, [REMOTE], calls=second)
    assert a.split("VALUES", 1)[1].split("}", 1)[0].count("(") == b.split("VALUES", 1)[1].split("}", 1)[0].count("(")
    assert (first.requests, first.cached, second.requests, second.cached) == (1, 0, 0, 1)
    with pytest.raises(federation.ServiceNotAllowed):  # the allowlist holds before the cache is read
        federation.prepare(text, [], calls=federation.Calls())


@pytest.mark.parametrize("text, eligible", [
    (f"SELECT * WHERE {{ ?s ?p ?o SERVICE <{REMOTE}> {{ ?o ?q ?r }} }}", ["o"]),
    (f"SELECT * FROM <{E}g> WHERE {{ ?s ?p ?o SERVICE <{REMOTE}> {{ ?o ?q ?r }} }}", None),
    (f"SELECT * WHERE {{ ?s ?p ?o OPTIONAL {{ SERVICE <{REMOTE}> {{ ?o ?q ?r }} }} }}", None),
    (f"SELECT * WHERE {{ {{ ?s ?p ?o }} UNION {{ SERVICE <{REMOTE}> {{ ?o ?q ?r }} }} }}", None),
    (f"SELECT * WHERE {{ GRAPH ?g {{ ?s ?p ?o SERVICE <{REMOTE}> {{ ?o ?q ?r }} }} }}", None),
    (f"SELECT * WHERE {{ ?s ?p ?x SERVICE <{REMOTE}> {{ ?o ?q ?r }} }}", None),  # no shared variable
    (f"SELECT * WHERE {{ ?s ?p ?o FILTER regex(?r, 'x') SERVICE <{REMOTE}> {{ ?o ?q ?r }} }}", ["o"]),
    (f"INSERT {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o SERVICE <{REMOTE}> {{ ?o ?q ?r }} }}", None),
    (f"CONSTRUCT {{ ?s ?q ?r }} WHERE {{ ?s ?p $o SERVICE <{REMOTE}> {{ ?o ?q ?r }} }}", ["o"]),
])
def test_which_clauses_a_bind_join_asks(text, eligible):
    joins = bindjoin.analyse(text)
    if eligible is None:
        assert joins == {}
    else:
        (join,) = joins.values()
        assert list(join.variables) == eligible
        assert "SERVICE" not in join.probe and "FILTER" not in join.probe
        ox.Store().query(join.probe)  # a query pyoxigraph parses


@pytest.mark.slow
def test_the_federation_benchmark_runs_ckg_to_ckg(tmp_path):
    """bench/bench_federation.py's ckg -> ckg part on a small demo store: the same rows three ways
    (pyoxigraph's SERVICE, the clause sent whole, the bind join), the bind join transferring fewer."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "bench" / "bench_federation.py"
    spec = importlib.util.spec_from_file_location("ckg_bench_federation", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.ckg_to_ckg(tmp_path, papers=60, repeat=1, plain_timeout=60)
    variants = result["variants"]
    assert bench.same_answers(variants) is True and len(variants) == 3
    plain, whole, joined = (variants[k] for k in ("pyoxigraph SERVICE", "ckg, clause sent whole", "ckg, bind join"))
    assert joined["rows"] == whole["rows"] == plain["rows"] > 0
    assert joined["bind_joins"] == 1 and whole["bind_joins"] == 0
    assert joined["rows_transferred"] == joined["rows"] < whole["rows_transferred"] == plain["rows_transferred"] == 60
