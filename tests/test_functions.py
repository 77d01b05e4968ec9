"""The SPARQL extension functions: exact values, unbound on invalid arguments, from `ckg query` too."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from ckg.cli import main
from ckg.server.functions import function_iris, registry
from ckg.store import open_store, query
from ckg.terms import declared

from conftest import MINI
from serving import C1, MESH_PNEUMONIA, SHA9, T1, T2, build_subject_store, paper, subject_quads

P1, P2, P3, P8 = (paper(k).value for k in ("aaaa0001", "aaaa0002", "aaaa0003", "aaaa0008"))
P9 = paper(SHA9).value


@pytest.fixture(scope="module")
def subject_store(tmp_path_factory):
    return build_subject_store(tmp_path_factory.mktemp("subjects") / "store")


@pytest.fixture(scope="module")
def store(subject_store):
    return open_store(subject_store, read_only=True)


def values(store, expressions: str, backend=None) -> list:
    rows = list(query(store, f"SELECT {expressions} WHERE {{}}", custom_functions=registry(store, backend)))
    return [None if t is None else (t.value, t.datatype.value.rsplit("#", 1)[1]) for t in rows[0]]


def test_every_declared_function_is_registered():
    names = {n.value for n in registry(ox.Store())}
    assert names == set(function_iris())
    assert all(declared()[iri] == "NamedIndividual" for iri in names)


def test_citation_count(store):
    assert values(store, f"(ckg:citationCount(<{P1}>) AS ?a) (ckg:citationCount(<{P2}>) AS ?b) "
                         f"(ckg:citationCount(<{P8}>) AS ?c)") == [("2", "integer"), ("1", "integer"), ("0", "integer")]


def test_citation_count_agrees_with_the_named_query(store):
    from ckg import queries
    from ckg.sparql import run_named

    result = run_named(store, queries.get("most-cited-papers"), {"first": "10000"})
    paper, citations = (result.variables.index(v) for v in ("paper", "citations"))
    counts = {r[paper].value: r[citations].value for r in result.rows}
    rows = query(store, "SELECT ?p (ckg:citationCount(?p) AS ?n) WHERE { ?p a ckg:Paper }",
                 custom_functions=registry(store))
    assert {r["p"].value: r["n"].value for r in rows if r["n"].value != "0"} == counts


def test_citation_count_about(store):
    # aaaa0001 is cited by aaaa0002 (concept c1, topic t1) and SHA9 (topic t1)
    assert values(store, f"(ckg:citationCountAbout(<{P1}>, <{C1.value}>) AS ?c1) "
                         f"(ckg:citationCountAbout(<{P1}>, <{T1.value}>) AS ?t1) "
                         f"(ckg:citationCountAbout(<{P1}>, <{C1.value}>, <{T1.value}>) AS ?both) "
                         f"(ckg:citationCountAbout(<{P1}>, <{T2.value}>) AS ?t2) "
                         f"(ckg:citationCountAbout(<{P1}>, <{MESH_PNEUMONIA}>) AS ?mesh)") == [
        ("1", "integer"), ("2", "integer"), ("1", "integer"), ("0", "integer"), ("1", "integer")]
    # aaaa0002 and aaaa0003 are cited by aaaa0001 (concept c1, topic t2)
    assert values(store, f"(ckg:citationCountAbout(<{P2}>, <{C1.value}>) AS ?a) "
                         f"(ckg:citationCountAbout(<{P3}>, <{T1.value}>) AS ?b) "
                         f"(ckg:citationCountAbout(<{P3}>, <{T2.value}>) AS ?c)") == [
        ("1", "integer"), ("0", "integer"), ("1", "integer")]


def test_page_rank_is_the_stored_score(store):
    graph = "https://w3id.org/ckg/resource/graph/ranking"
    stored = list(query(store, f"SELECT ?r WHERE {{ GRAPH <{graph}> {{ <{P1}> ckg:pageRankScore ?r }} }}"))[0]["r"]
    assert values(store, f"(ckg:pageRank(<{P1}>) AS ?r)") == [(stored.value, "double")]
    assert float(stored.value) == pytest.approx(0.35761589404, abs=1e-11)


@pytest.mark.parametrize("expression", [
    "ckg:citationCount('aaaa0001')", "ckg:citationCount(<https://w3id.org/ckg/resource/author/wang_lin>)",
    "ckg:citationCount()", f"ckg:citationCount(<{P1}>, <{P2}>)", "ckg:citationCount(1/0)",
    f"ckg:citationCountAbout(<{P1}>)", f"ckg:citationCountAbout(<{P1}>, 'pneumonia')",
    f"ckg:citationCountAbout(<{C1.value}>, <{C1.value}>)",
    "ckg:pageRank(<http://example.org/x>)", f"ckg:pageRank(<{P1}>, 2)", "ckg:pageRank(BNODE())",
    f"ckg:similarity(<{P1}>, <{P2}>)", f"ckg:textSimilarity(<{P1}>, <{P2}>)", f"ckg:graphSimilarity(<{P1}>, <{P2}>)",
])
def test_invalid_arguments_and_missing_embeddings_leave_the_value_unbound(store, expression):
    rows = list(query(store, f"SELECT ?p ({expression} AS ?v) WHERE {{ VALUES ?p {{ 1 2 }} }}",
                      custom_functions=registry(store)))
    assert [(r["p"].value, r["v"]) for r in rows] == [("1", None), ("2", None)]  # the query still answers


class FakeEmbeddings:
    """What the similar-paper engine will provide: a similarity per kind and pair of papers."""

    def __init__(self):
        self.calls = []

    def similarity(self, kind, a, b):
        self.calls.append((kind, a.rsplit("/", 1)[1], b.rsplit("/", 1)[1]))
        return {"combined": 0.5, "text": 0.25, "graph": float("nan")}[kind]


def test_similarity_uses_the_embeddings_backend(store):
    backend = FakeEmbeddings()
    assert values(store, f"(ckg:similarity(<{P1}>, <{P2}>) AS ?c) (ckg:textSimilarity(<{P1}>, <{P2}>) AS ?t) "
                         f"(ckg:graphSimilarity(<{P1}>, <{P2}>) AS ?g) "
                         f"(ckg:similarity(<{P1}>, <http://example.org/not-a-paper>) AS ?x)", backend) == [
        ("0.5", "double"), ("0.25", "double"), None, None]
    assert backend.calls == [("combined", "aaaa0001", "aaaa0002"), ("text", "aaaa0001", "aaaa0002"),
                             ("graph", "aaaa0001", "aaaa0002")]


def test_functions_in_a_ranking_query(store):
    rows = query(store, """SELECT ?p (ckg:citationCount(?p) AS ?n) (ckg:citationCountAbout(?p, ?c) AS ?about)
                           WHERE { VALUES ?c { <%s> } ?p ckg:associatedConcept ?c } ORDER BY DESC(?about) DESC(?n) ?p""" % C1.value,
                 custom_functions=registry(store))
    assert [(r["p"].value.rsplit("/", 1)[1], r["n"].value, r["about"].value) for r in rows] == [
        ("aaaa0001", "2", "1"), ("aaaa0002", "1", "1"), ("aaaa0003", "1", "1")]


def test_functions_from_ckg_query(subject_store):
    result = CliRunner().invoke(main, ["query", "--store", str(subject_store), "--format", "csv", "--sparql",
                                       f"SELECT (ckg:citationCount(<{P1}>) AS ?n) (ckg:citationCountAbout(<{P1}>, "
                                       f"<{T1.value}>) AS ?t) (ckg:pageRank(<{P9}>) AS ?r) WHERE {{}}"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["n,t,r", "2,2,0.0846026490066"]
    result = CliRunner().invoke(main, ["query", "--store", str(subject_store), "most-cited-papers", "--format", "json",
                                       "--limit", "1"])
    assert json.loads(result.output)["results"]["bindings"][0]["citations"]["value"] == "2"


def test_subject_fixture_is_what_the_docstring_says():
    quads = subject_quads()
    topics = sorted(q.subject.value.rsplit("/", 1)[1] for q in quads if q.object == T1)
    assert topics == sorted(["aaaa0002", SHA9]) and MINI.is_dir()
