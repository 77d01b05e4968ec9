"""The W3C SPARQL 1.1 query-evaluation tests, run against a real `ckg serve`.

Every mf:QueryEvaluationTest (232) and mf:CSVResultFormatTest (3) of the SPARQL 1.1 Query and
Results Formats manifests is sent to one `ckg serve` over HTTP (the result format the expected file
has: XML, JSON, TSV, CSV; N-Triples for graphs), and its answer is compared with the expected
result: solution multisets up to blank-node renaming (sequences when the query has ORDER BY),
graphs up to isomorphism, CSV rows up to blank-node labels and column order. Literals of XSD
numeric (and boolean) datatypes are compared by value within their datatype (the suite writes
"2.0"^^xsd:decimal where pyoxigraph writes "2"), as Jena's harness for this suite does; any other
term must be equal. SERVICE and entailment tests are not run (other endpoints; simple entailment
only).

The dataset. ckg's default graph is the union of its named graphs; a W3C test's default graph is
its qt:data only, and its named graphs its qt:graphData only. So the store holds every data file
of the suite once, as a named graph named by the file's IRI, and each request names its test's
dataset with the protocol's ``default-graph-uri`` (the qt:data files) and ``named-graph-uri`` (the
qt:graphData files) — what any client does to query a dataset of its choice. A query with its own
FROM / FROM NAMED gets no protocol dataset. Queries are sent with ``BASE <query file>`` so that
relative IRIs resolve as the suite expects. (A default graph of several graphs, like ckg's union,
is pyoxigraph's union of quads, not of triples: no test of the suite has two qt:data files, and
ckg's own data holds each triple in one graph: test_the_suite_as_read and
tests/test_server_protocol.py check these.)

The tests listed in tests/w3c_known_failures.toml fail because of pyoxigraph itself: each one is
also run by pyoxigraph alone (in memory, data in its default graph) and must fail there too; a
listed test that passes, or that pyoxigraph alone passes, fails this module.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from urllib.parse import urlencode

import pytest

import w3c
from conftest import real_data_path
from serving import ckg_serve

pytestmark = [pytest.mark.realdata, pytest.mark.slow]  # the suite's data; a real `ckg serve`

KNOWN_FAILURES_FILE = Path(__file__).parent / "w3c_known_failures.toml"
KNOWN = tomllib.loads(KNOWN_FAILURES_FILE.read_text(encoding="utf-8"))["query"]

_real = real_data_path()
_root = w3c.suite_root(_real) if _real else None
TESTS = w3c.query_tests(_root) if _root is not None and _root.is_dir() else []


@pytest.fixture(scope="module")
def endpoint(real_data, tmp_path_factory):
    """One `ckg serve` for the module, on a store with every data file of the suite as a named graph."""
    import gc

    import pyoxigraph as ox

    path = tmp_path_factory.mktemp("w3c-query") / "store"
    path.mkdir()
    store = ox.Store(str(path / "oxigraph"))  # a store folder of the first layout: its database only
    files = sorted({f for t in TESTS for f in t.data + t.graph_data})
    for file in files:
        store.extend(w3c.load_file(file, ox.NamedNode(file.as_uri())))
    store.flush()
    del store
    gc.collect()
    with ckg_serve(path, "--workers", "1", "--threads", "1") as server:
        yield server


def run_on_ckg(server, test: w3c.QueryTest, want: w3c.Outcome) -> w3c.Outcome | str:
    """The test's answer from the endpoint (or what went wrong)."""
    body = f"BASE <{test.query.as_uri()}>\n{test.text}".encode("utf-8")
    query = urlencode(w3c.dataset_parameters(test))
    answer = w3c.http(server.url, "POST", "/sparql" + (f"?{query}" if query else ""),
                      {"Content-Type": "application/sparql-query", "Accept": w3c.accept_for(test, want)}, body)
    if answer.status != 200:
        return f"HTTP {answer.status}: {answer.text()[:500]}"
    return w3c.outcome_of_answer(answer)


@pytest.mark.parametrize("test", w3c.params(TESTS))
def test_w3c_query_evaluation(endpoint, test: w3c.QueryTest):
    want = w3c.expected(test)
    got = run_on_ckg(endpoint, test, want)
    problem = got if isinstance(got, str) else w3c.compare(test, want, got)
    reason = KNOWN.get(test.id)
    if reason is None:
        assert problem is None, f"{test.id} ({test.name}): {problem}"
        return
    assert problem is not None, f"{test.id} passes now: remove it from {KNOWN_FAILURES_FILE.name}"
    alone = w3c.compare(test, want, w3c.run_with_pyoxigraph(test))
    assert alone is not None, (f"{test.id} is listed as pyoxigraph's own failure, but pyoxigraph alone passes it: "
                               f"the failure is ckg's: {problem}")
    pytest.xfail(f"pyoxigraph: {reason}")


def test_known_failures_name_tests_of_the_suite(real_data):
    if not TESTS:
        pytest.skip("the W3C SPARQL 1.1 test suite is not available")
    assert set(KNOWN) <= {t.id for t in TESTS}
    assert all(isinstance(reason, str) and reason for reason in KNOWN.values())


def test_the_suite_as_read(real_data):
    if not TESTS:
        pytest.skip("the W3C SPARQL 1.1 test suite is not available")
    assert len(TESTS) == 235 and len({t.id for t in TESTS}) == 235
    # a default graph of several graphs would be pyoxigraph's union of quads (a triple in two of the
    # files would match twice): no test has more than one qt:data file
    assert max(len(t.data) for t in TESTS) == 1
