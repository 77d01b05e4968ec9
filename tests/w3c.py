"""The W3C SPARQL 1.1 test suite (``../shared/data/w3c/sparql11``): its manifests, its expected
results, and result comparison (solution multisets up to blank-node renaming, sequences when the
query orders them, graphs up to isomorphism).

Used by tests/test_w3c_protocol.py (the HTTP protocol manifest, run against a real `ckg serve`) and
tests/test_w3c_query.py (the query-evaluation manifests, run against a real `ckg serve`, and, for
the failures listed as pyoxigraph's own, against pyoxigraph alone). The suite is read where it
lies and never copied into the project.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import pytest

from ckg.store import has_dataset_clause

MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
QT = "http://www.w3.org/2001/sw/DataAccess/tests/test-query#"
UT = "http://www.w3.org/2009/sparql/tests/test-update#"
RS = "http://www.w3.org/2001/sw/DataAccess/tests/result-set#"
HT = "http://www.w3.org/2011/http#"
CNT = "http://www.w3.org/2011/content#"
DAWGT = "http://www.w3.org/2001/sw/DataAccess/tests/test-dawg#"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS_NS = "http://www.w3.org/2000/01/rdf-schema#"

QUERY_MANIFESTS = ("manifest-sparql11-query.ttl", "manifest-sparql11-results.ttl")
"""The top manifests of SPARQL 1.1 Query and of the Results Formats (CSV/TSV, JSON) whose
evaluation tests are run (entailment and SERVICE have manifests of their own: ckg has simple
entailment only, and SERVICE calls other endpoints, tested in tests/test_server_live.py)."""

EVALUATION_TYPES = (MF + "QueryEvaluationTest", MF + "CSVResultFormatTest")


def suite_root(real_data: Path) -> Path:
    return real_data / "w3c" / "sparql11"


def _manifest(path: Path) -> ox.Store:
    store = ox.Store()
    store.load(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=path.as_uri())
    return store


def _objects(store: ox.Store, subject, predicate: str) -> list:
    return [q.object for q in store.quads_for_pattern(subject, ox.NamedNode(predicate), None)]


def _one(store: ox.Store, subject, predicate: str):
    found = _objects(store, subject, predicate)
    return found[0] if found else None


def _list(store: ox.Store, node) -> list:
    out = []
    while node is not None and node != ox.NamedNode(RDF_NS + "nil"):
        out.extend(_objects(store, node, RDF_NS + "first"))
        node = _one(store, node, RDF_NS + "rest")
    return out


def _path(term: ox.NamedNode) -> Path:
    from urllib.parse import unquote, urlparse

    return Path(unquote(urlparse(term.value).path))


def _entries(path: Path) -> tuple[ox.Store, list]:
    store = _manifest(path)
    entries = [e for lst in _objects(store, ox.NamedNode(path.as_uri()), MF + "entries") for e in _list(store, lst)]
    return store, entries


# -- query evaluation tests -----------------------------------------------------------------

@dataclass(frozen=True)
class QueryTest:
    id: str  # folder/local name, e.g. "exists/exists-graph-variable"
    name: str
    query: Path
    data: tuple[Path, ...]
    graph_data: tuple[Path, ...]
    result: Path
    approval: str | None

    @property
    def text(self) -> str:
        return self.query.read_text(encoding="utf-8")

    @property
    def ordered(self) -> bool:
        return bool(re.search(r"(?i)\bORDER\s+BY\b", _without_strings(self.text)))


def query_tests(root: Path) -> list[QueryTest]:
    """Every query-evaluation test (and CSV result-format test) of :data:`QUERY_MANIFESTS`."""
    out = []
    for top in QUERY_MANIFESTS:
        store = _manifest(root / top)
        includes = [_path(i) for lst in _objects(store, ox.NamedNode((root / top).as_uri()), MF + "include")
                    for i in _list(store, lst)]
        for manifest in includes:
            mstore, entries = _entries(manifest)
            for entry in entries:
                if _one(mstore, entry, RDF_NS + "type") not in [ox.NamedNode(t) for t in EVALUATION_TYPES]:
                    continue
                action = _one(mstore, entry, MF + "action")
                approval = _one(mstore, entry, DAWGT + "approval")
                out.append(QueryTest(
                    id=f"{manifest.parent.name}/{entry.value.rsplit('#', 1)[-1]}",
                    name=_one(mstore, entry, MF + "name").value,
                    query=_path(_one(mstore, action, QT + "query")),
                    data=tuple(sorted(_path(d) for d in _objects(mstore, action, QT + "data"))),
                    graph_data=tuple(sorted(_path(d) for d in _objects(mstore, action, QT + "graphData"))),
                    result=_path(_one(mstore, entry, MF + "result")),
                    approval=approval.value.rsplit("#", 1)[-1] if approval else None))
    return out


def rdf_format(path: Path) -> ox.RdfFormat:
    return ox.RdfFormat.from_extension(path.suffix.lstrip("."))


def load_file(path: Path, graph) -> list[ox.Quad]:
    """The triples of a data file as quads of ``graph`` (relative IRIs against the file's IRI)."""
    return [ox.Quad(q.subject, q.predicate, q.object, graph)
            for q in ox.parse(path=str(path), format=rdf_format(path), base_iri=path.as_uri())]


# -- results -------------------------------------------------------------------------------

@dataclass
class Outcome:
    """A result: ``kind`` is "boolean", "solutions", "graph" or "csv"."""

    kind: str
    boolean: bool | None = None
    variables: list[str] = field(default_factory=list)
    rows: list[dict[str, object]] = field(default_factory=list)
    triples: list[ox.Triple] = field(default_factory=list)
    csv_rows: list[list[str]] = field(default_factory=list)

    def show(self, limit: int = 12) -> str:
        if self.kind == "boolean":
            return str(self.boolean)
        if self.kind == "graph":
            return "\n".join(str(t) for t in self.triples[:limit]) + ("\n..." if len(self.triples) > limit else "")
        if self.kind == "csv":
            return "\n".join(",".join(r) for r in self.csv_rows[:limit])
        rows = ["  ".join(f"{v}={row[v]}" for v in sorted(row)) for row in self.rows[:limit]]
        return f"vars {self.variables}\n" + "\n".join(rows) + ("\n..." if len(self.rows) > limit else "")


def from_results(results) -> Outcome:
    """An Outcome from pyoxigraph's QueryBoolean / QuerySolutions / QueryTriples (or a parsed file)."""
    if isinstance(results, (bool, ox.QueryBoolean)):
        return Outcome("boolean", boolean=bool(results))
    if isinstance(results, ox.QuerySolutions):
        variables = [v.value for v in results.variables]
        rows = [{v: s[v] for v in variables if s[v] is not None} for s in results]
        return Outcome("solutions", variables=variables, rows=rows)
    return Outcome("graph", triples=list(results))


def parse_csv(text: str) -> list[list[str]]:
    return [row for row in csv.reader(io.StringIO(text))]


def expected(test: QueryTest) -> Outcome:
    """The expected result of a test, from its .srx, .srj, .tsv, .csv or .ttl file."""
    path = test.result
    suffix = path.suffix.lower()
    if suffix in (".srx", ".srj", ".tsv"):
        fmt = {".srx": ox.QueryResultsFormat.XML, ".srj": ox.QueryResultsFormat.JSON,
               ".tsv": ox.QueryResultsFormat.TSV}[suffix]
        return from_results(ox.parse_query_results(path=str(path), format=fmt))
    if suffix == ".csv":
        return Outcome("csv", csv_rows=parse_csv(path.read_text(encoding="utf-8")))
    triples = [q.triple for q in ox.parse(path=str(path), format=rdf_format(path), base_iri=path.as_uri())]
    result_sets = [t.subject for t in triples
                   if t.predicate.value == RDF_NS + "type" and t.object == ox.NamedNode(RS + "ResultSet")]
    if not result_sets:
        return Outcome("graph", triples=triples)
    return _result_set(triples, result_sets[0])


def _result_set(triples: list[ox.Triple], node) -> Outcome:
    """A result set in the rs: vocabulary of the DAWG tests (rs:index orders it when present)."""
    def objects(s, p):
        return [t.object for t in triples if t.subject == s and t.predicate.value == RS + p]

    variables = [v.value for v in objects(node, "resultVariable")]
    if objects(node, "boolean"):
        return Outcome("boolean", boolean=objects(node, "boolean")[0].value == "true")
    rows = []
    for solution in objects(node, "solution"):
        row = {}
        for binding in objects(solution, "binding"):
            row[objects(binding, "variable")[0].value] = objects(binding, "value")[0]
        index = objects(solution, "index")
        rows.append((int(index[0].value) if index else 0, row))
    rows.sort(key=lambda r: r[0])
    return Outcome("solutions", variables=variables, rows=[r for _, r in rows])


# -- comparison ----------------------------------------------------------------------------

XSD = "http://www.w3.org/2001/XMLSchema#"
_INTEGERS = {XSD + t for t in ("integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
                               "negativeInteger", "nonPositiveInteger", "unsignedLong", "unsignedInt",
                               "unsignedShort", "unsignedByte")}


def normal(term):
    """A literal of an XSD numeric or boolean datatype with its value's one lexical form, the
    datatype kept ("2.0"^^xsd:decimal and "2"^^xsd:decimal are the same value, as
    "3.0E4"^^xsd:double and "30000"^^xsd:double; "2"^^xsd:integer and "2"^^xsd:decimal are not):
    the suite writes some results in forms other than an engine's, and results are compared by
    value, as Jena's harness for this suite does. Any other term is returned as it is."""
    from decimal import Decimal, InvalidOperation

    if not isinstance(term, ox.Literal) or term.datatype is None:
        return term
    datatype, value = term.datatype.value, term.value.strip()
    try:
        if datatype in _INTEGERS:
            form = str(int(value))
        elif datatype == XSD + "decimal":
            number = Decimal(value)
            form = format(number.normalize(), "f") if number else "0"
        elif datatype in (XSD + "double", XSD + "float"):
            form = repr(float(value))
        elif datatype == XSD + "boolean" and value in ("true", "false", "1", "0"):
            form = "true" if value in ("true", "1") else "false"
        else:
            return term
    except (ValueError, InvalidOperation):
        return term
    return ox.Literal(form, datatype=term.datatype)


def _normal_rows(rows: list[dict]) -> list[dict]:
    return [{v: normal(t) for v, t in row.items()} for row in rows]


def _normal_triples(triples: list[ox.Triple]) -> list[ox.Triple]:
    return [ox.Triple(t.subject, t.predicate, normal(t.object)) for t in triples]


def _has_bnode(term) -> bool:
    if isinstance(term, ox.BlankNode):
        return True
    if isinstance(term, ox.Triple):
        return any(_has_bnode(t) for t in (term.subject, term.predicate, term.object))
    return False


def _canonical(quads: list[ox.Quad]) -> ox.Dataset:
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return dataset


def _rows_as_quads(rows: list[dict], ordered: bool) -> list[ox.Quad]:
    """Solutions as a graph (one blank node per solution), so that RDF canonicalisation decides
    whether two multisets are equal up to a renaming of their blank nodes."""
    quads = []
    for n, row in enumerate(rows):
        node = ox.BlankNode()
        quads.append(ox.Quad(node, ox.NamedNode(RS + "solution"), ox.Literal("x")))
        if ordered:
            quads.append(ox.Quad(node, ox.NamedNode(RS + "index"), ox.Literal(str(n))))
        for var, term in row.items():
            quads.append(ox.Quad(node, ox.NamedNode("urn:ckg:w3c:var:" + var), term))
    return quads


def isomorphic_graphs(a: list[ox.Triple], b: list[ox.Triple]) -> bool:
    a, b = _normal_triples(a), _normal_triples(b)
    if len(set(a)) != len(set(b)):
        return False
    if not any(_has_bnode(t) for t in a + b):
        return set(a) == set(b)
    return _canonical([ox.Quad(t.subject, t.predicate, t.object) for t in set(a)]) == _canonical(
        [ox.Quad(t.subject, t.predicate, t.object) for t in set(b)])


def same_solutions(a: list[dict], b: list[dict], ordered: bool) -> bool:
    if len(a) != len(b):
        return False
    a, b = _normal_rows(a), _normal_rows(b)
    if not any(_has_bnode(t) for row in a + b for t in row.values()):
        key = lambda row: tuple(sorted((v, str(t)) for v, t in row.items()))  # noqa: E731
        return [key(r) for r in a] == [key(r) for r in b] if ordered else Counter(map(key, a)) == Counter(map(key, b))
    return _canonical(_rows_as_quads(a, ordered)) == _canonical(_rows_as_quads(b, ordered))


def _csv_isomorphic(a: list[list[str]], b: list[list[str]]) -> bool:
    """CSV rows equal up to a renaming of the blank-node labels (``_:x``) and the order of the
    columns (the header names them) — the rows in order."""
    if len(a) != len(b) or any(len(x) != len(y) for x, y in zip(a, b)):
        return False
    if a and sorted(a[0]) == sorted(b[0]):
        order = [b[0].index(name) for name in a[0]]
        b = [[row[i] for i in order] for row in b]
    mapping: dict[str, str] = {}
    for x_row, y_row in zip(a, b):
        for x, y in zip(x_row, y_row):
            if x.startswith("_:") and y.startswith("_:"):
                if mapping.setdefault(x, y) != y:
                    return False
            elif x != y:
                return False
    return len(set(mapping.values())) == len(mapping)


def compare(test: QueryTest, want: Outcome, got: Outcome) -> str | None:
    """None when ``got`` is the expected result, else what differs."""
    if want.kind != got.kind:
        return f"expected a {want.kind} result, got a {got.kind} one"
    if want.kind == "boolean":
        ok = want.boolean == got.boolean
    elif want.kind == "graph":
        ok = isomorphic_graphs(want.triples, got.triples)
    elif want.kind == "csv":
        ok = _csv_isomorphic(want.csv_rows, got.csv_rows)
    else:
        if set(want.variables) != set(got.variables):
            return f"expected the variables {sorted(want.variables)}, got {sorted(got.variables)}"
        ok = same_solutions(want.rows, got.rows, test.ordered)
    if ok:
        return None
    return f"expected:\n{want.show()}\ngot:\n{got.show()}"


def _without_strings(text: str) -> str:
    return re.sub(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|#[^\n]*', " ", text)


def run_with_pyoxigraph(test: QueryTest) -> Outcome:
    """The test's query run by pyoxigraph alone, in memory, on the test's dataset: the qt:data in
    the default graph, each qt:graphData as a named graph named by its file's IRI."""
    store = ox.Store()
    for path in test.data:
        store.extend(load_file(path, ox.DefaultGraph()))
    for path in test.graph_data:
        store.extend(load_file(path, ox.NamedNode(path.as_uri())))
    return outcome_of(test, store.query(test.text, base_iri=test.query.as_uri()))


def outcome_of(test: QueryTest, results) -> Outcome:
    """An Outcome of an in-memory result, shaped as the test's expected result is."""
    if test.result.suffix.lower() == ".csv":
        from ckg.results import to_csv

        variables = [v.value for v in results.variables]
        return Outcome("csv", csv_rows=parse_csv(to_csv(variables, [[s[v] for v in variables] for s in results])))
    return from_results(results)


def dataset_parameters(test: QueryTest) -> list[tuple[str, str]]:
    """The protocol's dataset for a test: its qt:data as the default graph, its qt:graphData as the
    named graphs (none when the query names its own dataset with FROM / FROM NAMED)."""
    if has_dataset_clause(test.text):
        return []
    params = [("default-graph-uri", p.as_uri()) for p in test.data] or [("default-graph-uri", EMPTY_GRAPH)]
    return params + [("named-graph-uri", p.as_uri()) for p in test.graph_data]


EMPTY_GRAPH = "urn:ckg:w3c:empty"
"""A graph the store does not have: the default graph of a test without qt:data."""


# -- protocol tests ------------------------------------------------------------------------

@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    statuses: tuple[int, ...]  # the expected classes: 2, 3, 4
    format: str | None  # "boolean", "tabular", "RDF"
    boolean: bool | None


@dataclass(frozen=True)
class ProtocolTest:
    id: str
    name: str
    graph_data: tuple[tuple[Path, str], ...]  # (file, graph IRI)
    requests: tuple[Request, ...]


def protocol_tests(root: Path) -> list[ProtocolTest]:
    """The tests of protocol/manifest.ttl, each a sequence of HTTP requests with the expected answers."""
    manifest = root / "protocol" / "manifest.ttl"
    store, entries = _entries(manifest)
    out = []
    for entry in entries:
        graphs = tuple((_path(_one(store, g, UT + "graph")), _one(store, g, RDFS_NS + "label").value)
                       for g in _objects(store, entry, UT + "graphData"))
        action = _one(store, entry, MF + "action")
        requests = []
        for request in _list(store, _one(store, action, HT + "requests")):
            headers = tuple((_one(store, h, HT + "fieldName").value, _one(store, h, HT + "fieldValue").value)
                            for lst in _objects(store, request, HT + "headers") for h in _list(store, lst))
            body = _one(store, request, HT + "body")
            data = None
            if body is not None:
                encoding = _one(store, body, CNT + "characterEncoding").value
                data = _one(store, body, CNT + "chars").value.encode(encoding.lower())
            response = _one(store, request, HT + "resp")
            statuses = tuple(sorted(int(re.search(r"StatusCode(\d)xx", s.value).group(1))
                                    for s in _objects(store, response, MF + "expectedStatus")))
            fmt = _one(store, response, MF + "expectedFormat")
            boolean = _one(store, response, MF + "expectedBoolean")
            requests.append(Request(
                method=_one(store, request, HT + "methodName").value,
                path=_one(store, request, HT + "absolutePath").value,
                headers=headers, body=data, statuses=statuses, format=fmt.value if fmt else None,
                boolean=None if boolean is None else boolean.value == "true"))
        out.append(ProtocolTest(id=entry.value.rsplit("#", 1)[-1], name=_one(store, entry, MF + "name").value,
                                graph_data=graphs, requests=tuple(requests)))
    return out


# -- HTTP ----------------------------------------------------------------------------------

@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def http(base_url: str, method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None,
         timeout: float = 60) -> Answer:
    """One HTTP exchange, exactly as given (http.client adds Host and Content-Length only)."""
    import http.client
    from urllib.parse import urlparse

    url = urlparse(base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


RESULT_MEDIA_TYPES = {".srx": "application/sparql-results+xml", ".srj": "application/sparql-results+json",
                      ".tsv": "text/tab-separated-values", ".csv": "text/csv"}


def accept_for(test: QueryTest, want: Outcome) -> str:
    if want.kind == "graph":
        return "application/n-triples"
    return RESULT_MEDIA_TYPES.get(test.result.suffix.lower(), "application/sparql-results+json")


def outcome_of_answer(answer: Answer) -> Outcome:
    """The result of an HTTP answer, read by its Content-Type."""
    media_type = answer.media_type
    if media_type == "text/csv":
        return Outcome("csv", csv_rows=parse_csv(answer.body.decode("utf-8")))
    results_format = ox.QueryResultsFormat.from_media_type(media_type)
    if results_format is not None:
        return from_results(ox.parse_query_results(answer.body, format=results_format))
    rdf = ox.RdfFormat.from_media_type(media_type)
    if rdf is None:
        raise ValueError(f"unexpected Content-Type {media_type!r}")
    return Outcome("graph", triples=[q.triple for q in ox.parse(answer.body, format=rdf)])


def params(tests: list) -> list:
    """pytest parameters for the tests of a manifest (one skipped parameter when the suite is absent)."""
    if not tests:
        return [pytest.param(None, id="w3c-suite-absent", marks=pytest.mark.skip(
            reason="the W3C SPARQL 1.1 test suite is not available: set CKG_REAL_DATA to ../shared/data"))]
    return [pytest.param(t, id=t.id) for t in tests]
