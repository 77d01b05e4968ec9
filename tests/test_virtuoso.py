"""ckg and Virtuoso give the same answers on the same data, through the same HTTP client.

The demo store is exported as N-Quads and bulk-loaded into a private Virtuoso (Debian's 7.2,
``bench/virtuoso.py``); the triples of every named graph, and the answers of every named query
(made portable: explicit PREFIX lines, parameters as a VALUES block), are compared between
``ckg serve`` and Virtuoso's ``/sparql``. Skipped when Virtuoso is not installed (``make install``
installs it as root with apt-get).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from serving import ckg_serve

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _bench_module(name: str):
    """A module of bench/ loaded from its file under a name of its own (bench/ stays off sys.path:
    its module names must not shadow anything in the test session)."""
    spec = importlib.util.spec_from_file_location(f"ckg_bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


vt = _bench_module("virtuoso")

needs_virtuoso = pytest.mark.skipif(vt.unavailable() is not None, reason=vt.unavailable() or "")

GRAPH_COUNTS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


@pytest.fixture(scope="module")
def virtuoso_demo(demo_store, tmp_path_factory):
    """(a private Virtuoso with the demo store's N-Quads export loaded, quads exported)."""
    from ckg.export import export

    work = tmp_path_factory.mktemp("virtuoso")
    dump = work / "demo.nq"
    quads = export(demo_store, "nquads", dump)
    with vt.Virtuoso(work / "virtuoso", memory_mb=512, query_timeout_s=60) as virtuoso:
        assert virtuoso.folder == work / "virtuoso" and (virtuoso.folder / "virtuoso.db").is_file()
        virtuoso.load_rdf([dump])
        yield virtuoso, quads
    assert virtuoso.proc is None and (work / "virtuoso").is_dir()  # a folder given by the caller is kept


@pytest.fixture(scope="module")
def engines(demo_store, virtuoso_demo):
    """(ckg client, Virtuoso client, quads exported) on the demo store."""
    virtuoso, quads = virtuoso_demo
    with ckg_serve(demo_store, "--max-rows", "10000000", "--timeout", "60") as server:
        ckg, other = vt.SparqlClient(server.sparql, timeout=60), vt.SparqlClient(virtuoso.sparql_url, timeout=60)
        yield ckg, other, quads
        ckg.close()
        other.close()


def test_docstring_examples_of_the_bench_helpers():
    import doctest

    for module in (vt, _bench_module("scale_tables")):
        assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0, module.__name__


def test_the_scale_benchmark_starts():
    """bench/scale.py imports all its parts and knows its options (the run itself is `make bench`)."""
    out = subprocess.run([sys.executable, str(BENCH / "scale.py"), "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "--papers" in out.stdout and "--skip" in out.stdout and "README" in out.stdout


def test_split_nquads_keeps_whole_lines(tmp_path):
    lines = [f'<http://e/s{i}> <http://e/p> "line {i}" <http://e/g> .\n' for i in range(1000)]
    dump = tmp_path / "x.nq"
    dump.write_text("".join(lines))
    parts = vt.split_nquads(dump, 7)
    assert 5 <= len(parts) <= 8
    assert "".join(p.read_text() for p in parts) == "".join(lines)
    assert vt.split_nquads(dump, 1) == [dump]


@pytest.mark.slow
@needs_virtuoso
def test_virtuoso_has_the_same_triples(engines):
    ckg, other, quads = engines
    ours = {r["g"]["value"]: int(r["n"]["value"]) for r in ckg.select(GRAPH_COUNTS)[1]}
    theirs = {r["g"]["value"]: int(r["n"]["value"]) for r in other.select(GRAPH_COUNTS)[1]}
    assert sum(ours.values()) == quads  # every quad of the export is in a named graph
    assert {g: theirs.get(g) for g in ours} == ours
    assert theirs.get(vt.DEFAULT_GRAPH) is None  # no triple landed in the loader's default graph


@pytest.mark.slow
@needs_virtuoso
def test_named_queries_answer_the_same_on_both_engines(engines):
    ckg, other, _ = engines
    values = vt.query_parameters(ckg)
    assert {"paper", "author", "institution", "concept", "topic", "text"} <= set(values)
    cases = vt.named_query_cases(values)
    assert len(cases) >= 20
    differences, empty, ordered = [], [], []
    started = time.monotonic()
    for case, (named, params) in cases.items():
        text = vt.portable_query(named, params)
        a, b = ckg.select(text), other.select(text)
        result = vt.compare(a, b, text)  # rows always; order where the ORDER BY keys are not strings
        if not a[1]:
            empty.append(case)
        if result.order_checked and len(a[1]) > 1:
            ordered.append(case)
        if not result.same_rows or not result.same_order:
            differences.append(f"{case}: {result.rows} {result.detail}")
    assert not differences, "\n".join(differences)
    assert len(ordered) >= 3, f"too few answers whose order could be compared: {ordered}"
    assert len(empty) <= len(cases) // 2, f"too many empty answers to compare anything: {empty}"
    assert time.monotonic() - started < 60


def _unquoted(line: str) -> str:
    """A Turtle line without its string literals."""
    out, i, quote = [], 0, None
    while i < len(line):
        c = line[i]
        if quote is None:
            if c in "\"'":
                quote = c
            else:
                out.append(c)
        elif c == "\\":
            i += 1  # an escape inside a string
        elif c == quote:
            quote = None
        i += 1
    return "".join(out)


def test_turtle_and_trig_exports_need_no_escape_in_a_name(demo_store, tmp_path):
    """Prefixed names are vocabulary terms; resources are full IRIs (Virtuoso 7.2 keeps the
    backslash of an escaped local name such as ``ckgr:paper\\/00h5juus``)."""
    from ckg.export import export

    for fmt in ("turtle", "trig"):
        out = tmp_path / f"demo.{fmt}"
        export(demo_store, fmt, out)
        text = out.read_text()
        assert "@prefix ckg: <https://w3id.org/ckg/ontology#>" in text and "ckg:Paper" in text
        assert "<https://w3id.org/ckg/resource/paper/" in text
        escaped = [line for line in text.splitlines() if "\\" in _unquoted(line) and not line.startswith('"""')]
        assert not escaped, escaped[:3]


@pytest.mark.slow
@needs_virtuoso
def test_turtle_and_trig_exports_load_into_virtuoso_as_the_nquads_do(demo_store, tmp_path):
    from ckg.export import export

    nquads, turtle, trig = tmp_path / "demo.nq", tmp_path / "demo.ttl", tmp_path / "demo.trig"
    export(demo_store, "nquads", nquads)
    export(demo_store, "turtle", turtle)
    export(demo_store, "trig", trig)
    quads = list(ox.parse(path=str(nquads), format=ox.RdfFormat.N_QUADS))
    per_graph: dict[str, int] = {}
    for q in quads:
        per_graph[q.graph_name.value] = per_graph.get(q.graph_name.value, 0) + 1
    triples = {q.triple for q in quads}
    iris = {t.value for t in triples for t in (t.subject, t.object) if isinstance(t, ox.NamedNode)}
    union = "urn:x-ckg:turtle-export"
    with vt.Virtuoso(tmp_path / "virtuoso", memory_mb=512, query_timeout_s=60) as virtuoso:
        virtuoso.load_rdf([trig])
        virtuoso.load_rdf([turtle], graph=union)
        client = vt.SparqlClient(virtuoso.sparql_url, timeout=60)
        try:
            counts = {r["g"]["value"]: int(r["n"]["value"]) for r in client.select(GRAPH_COUNTS)[1]}
            got_iris = {r["x"]["value"] for r in client.select(
                f"SELECT DISTINCT ?x WHERE {{ GRAPH <{union}> {{ {{ ?x ?p ?o }} UNION {{ ?s ?p ?x }} }} FILTER isIRI(?x) }}")[1]}
        finally:
            client.close()
    assert {g: counts.get(g) for g in per_graph} == per_graph  # TriG: every graph, every quad
    assert counts[union] == len(triples)  # Turtle: the union of the graphs
    assert got_iris == iris  # the same IRIs, none with a backslash


@pytest.mark.slow
@needs_virtuoso
def test_a_file_the_loader_rejects_is_an_error(virtuoso_demo, tmp_path):
    virtuoso, _ = virtuoso_demo
    bad = tmp_path / "bad.nq"
    bad.write_text('<http://e/a> <http://e/b> "x" <http://e/g> .\nthis is not N-Quads\n')
    with pytest.raises(vt.VirtuosoError, match="syntax error"):
        virtuoso.load_rdf([bad])
