"""Other engines and clients query ckg: Virtuoso and Jena ARQ through SERVICE, Comunica directly,
each against a running `ckg serve` on loopback, each getting the rows ckg itself answers —
including stored ranking values (``ckg:citedByCount``, ``ckg:pageRankScore``). Each test is
skipped, saying why, where its engine is not installed (`make install` installs them)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from serving import ckg_serve
from test_virtuoso import needs_virtuoso, vt

CKG = "https://w3id.org/ckg/ontology#"
REPO = Path(__file__).resolve().parent.parent
JENA = Path("/usr/share/java")
JENA_JARS = ("jena-arq jena-base jena-cmds jena-core jena-dboe-base jena-dboe-index jena-dboe-storage "
             "jena-dboe-trans-data jena-dboe-transaction jena-iri jena-rdfconnection jena-tdb jena-tdb2 commons-cli "
             "commons-codec commons-compress commons-csv commons-io commons-lang3 commons-logging dexx.collection gson "
             "guava httpclient httpcore jackson-annotations jackson-core jackson-databind jsonld-java jakarta.json-api "
             "protobuf slf4j-api slf4j-nop thrift titanium-json-ld").split()
COMUNICA = REPO / ".venv" / "node" / "node_modules" / ".bin" / "comunica-sparql"


def _ranking_query(service: str | None) -> str:
    pattern = f"?paper <{CKG}citedByCount> ?n ; <{CKG}pageRankScore> ?rank"
    where = f"SERVICE <{service}> {{ {pattern} }}" if service else pattern
    return f"SELECT ?paper ?n ?rank WHERE {{ {where} }} ORDER BY DESC(?n) ?paper"


@pytest.fixture(scope="module")
def ckg(mini_store):
    with ckg_serve(mini_store[0], "--workers", "1", "--threads", "2") as server:
        yield server


@pytest.fixture(scope="module")
def expected(ckg) -> list[tuple[str, str, float]]:
    client = vt.SparqlClient(ckg.sparql, timeout=30)
    try:
        _vars, rows = client.select(_ranking_query(None))
    finally:
        client.close()
    assert len(rows) == 3
    return [(r["paper"]["value"], r["n"]["value"], float(r["rank"]["value"])) for r in rows]


def _rows(rows, digits: int = 12) -> list[tuple[str, str, float]]:
    return [(paper, n, float(f"{float(rank):.{digits}g}")) for paper, n, rank in rows]


@pytest.mark.slow
@needs_virtuoso
def test_virtuoso_reaches_ckg_through_service(ckg, expected, tmp_path):
    """Virtuoso 7.2 needs its SPARQL user granted the SERVICE view and procedure; VALUES beside a
    SERVICE is beyond its compiler ("unsupported combination"), so the pattern stands alone."""
    with vt.Virtuoso(tmp_path / "virtuoso", memory_mb=256, query_timeout_s=30) as virtuoso:
        virtuoso.isql('grant select on "DB.DBA.SPARQL_SINV_2" to "SPARQL";\n'
                      'grant execute on "DB.DBA.SPARQL_SINV_IMP" to "SPARQL";')
        client = vt.SparqlClient(virtuoso.sparql_url, timeout=30)
        try:
            _vars, rows = client.select(_ranking_query(ckg.sparql))
        finally:
            client.close()
    got = [(r["paper"]["value"], r["n"]["value"], r["rank"]["value"]) for r in rows]
    assert _rows(got, 6) == _rows(expected, 6)  # Virtuoso writes doubles with 6 significant digits


@pytest.mark.slow
@needs_virtuoso
def test_ckg_reaches_virtuoso_through_service_with_a_bind_join(mini_store, tmp_path):
    """The other way: ckg joins its concept edges with MeSH labels Virtuoso holds. Virtuoso never
    answers a POST of application/sparql-query (pyoxigraph's SERVICE); ckg sends a GET with the
    concepts the papers link to (a bind join), and gets their labels only."""
    import urllib.request

    from serving import MESH_PNEUMONIA

    mesh = tmp_path / "mesh.nt"
    label = "http://www.w3.org/2000/01/rdf-schema#label"
    mesh.write_text(f'<{MESH_PNEUMONIA}> <{label}> "Pneumonia"@en .\n'
                    + "".join(f'<http://id.nlm.nih.gov/mesh/D{i:06d}> <{label}> "heading {i}"@en .\n' for i in range(500)))
    with vt.Virtuoso(tmp_path / "virtuoso", memory_mb=256, query_timeout_s=30) as virtuoso:
        virtuoso.load_rdf([mesh], graph="http://id.nlm.nih.gov/mesh")
        with ckg_serve(mini_store[0], "--workers", "1", "--threads", "2", "--allow-service", virtuoso.sparql_url) as ckg:
            query = (f"SELECT DISTINCT ?paper ?label WHERE {{ ?paper ckg:associatedConcept/skos:exactMatch ?mesh . "
                     f"SERVICE <{virtuoso.sparql_url}> {{ ?mesh <{label}> ?label }} }} ORDER BY ?paper")
            request = urllib.request.Request(ckg.sparql, query.encode(), {"Content-Type": "application/sparql-query",
                                                                         "Accept": "text/csv"})
            with urllib.request.urlopen(request, timeout=60) as response:
                body, headers = response.read().decode(), response.headers
    lines = body.splitlines()
    assert lines[0] == "paper,label" and len(lines) > 1
    assert all(line.endswith(",Pneumonia") for line in lines[1:])
    assert headers["X-CKG-Service-Bind-Joins"] == "1" and int(headers["X-CKG-Service-Rows"]) == 1  # not 501 rows


def _jena_classpath(work: Path) -> str | None:
    """The classpath of Debian's Jena ARQ, and a folder with the copies of its XML Schema messages
    that Debian's relocated xerces classes look for (without them every command fails with
    'internal error' while Jena initialises)."""
    jars = [JENA / f"{name}.jar" for name in JENA_JARS]
    if shutil.which("java") is None or not all(j.is_file() for j in jars):
        return None
    resources = work / "jena-resources"
    with zipfile.ZipFile(JENA / "jena-core.jar") as archive:
        for name in archive.namelist():
            if name.startswith("org/apache/jena/ext/xerces/") and name.endswith(".properties"):
                target = resources / "xerces" / name[len("org/apache/jena/ext/xerces/"):]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(name))
    return ":".join([*(str(j) for j in jars), str(resources)])


@pytest.mark.slow
def test_jena_arq_reaches_ckg_through_service(ckg, expected, tmp_path):
    classpath = _jena_classpath(tmp_path)
    if classpath is None:
        pytest.skip("Jena is not installed (Debian's libapache-jena-java and java; `make install` installs them)")
    query = tmp_path / "ranking.rq"
    query.write_text(_ranking_query(ckg.sparql))
    done = subprocess.run(["java", "-cp", classpath, "arq.query", "--results=CSV", "--query", str(query)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == ["paper", "n", "rank"]
    assert _rows([tuple(r) for r in rows[1:]]) == _rows(expected)
    # rsparql: Jena's remote client sends the whole query to ckg
    direct = tmp_path / "direct.rq"
    direct.write_text(_ranking_query(None))
    done = subprocess.run(["java", "-cp", classpath, "arq.rsparql", "--service", ckg.sparql, "--results=CSV",
                           "--query", str(direct)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _rows([tuple(r) for r in list(csv.reader(io.StringIO(done.stdout)))[1:]]) == _rows(expected)


@pytest.mark.slow
def test_comunica_queries_ckg(ckg, expected):
    if not COMUNICA.exists() or shutil.which("node") is None:
        pytest.skip(f"Comunica is not installed ({COMUNICA}; `make install` installs it with npm where node is)")
    done = subprocess.run([str(COMUNICA), f"sparql@{ckg.sparql}", _ranking_query(None), "-t", "application/sparql-results+json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = json.loads(done.stdout)["results"]["bindings"]
    assert _rows([(r["paper"]["value"], r["n"]["value"], r["rank"]["value"]) for r in rows]) == _rows(expected)


@pytest.mark.slow
def test_jena_riot_and_rdflib_read_the_exports_as_the_nquads(demo_store, tmp_path):
    """Turtle and TriG exports read back by Jena's riot and by rdflib: the same triples (Turtle:
    the union of the graphs) and quads as the N-Quads export."""
    import pyoxigraph as ox
    import rdflib

    from ckg.export import export

    files = {fmt: tmp_path / f"demo.{ext}" for fmt, ext in (("nquads", "nq"), ("turtle", "ttl"), ("trig", "trig"))}
    for fmt, path in files.items():
        export(demo_store, fmt, path)
    quads = {q for q in ox.parse(path=str(files["nquads"]), format=ox.RdfFormat.N_QUADS)}
    triples = {q.triple for q in quads}

    def as_quads(nquads_text: str) -> set:
        return set(ox.parse(nquads_text.encode(), format=ox.RdfFormat.N_QUADS))

    dataset = rdflib.Dataset()
    dataset.parse(files["trig"], format="trig")
    assert as_quads(dataset.serialize(format="nquads")) == quads
    graph = rdflib.Graph()
    graph.parse(files["turtle"], format="turtle")
    assert {q.triple for q in as_quads(graph.serialize(format="nt"))} == triples
    classpath = _jena_classpath(tmp_path)
    if classpath is None:
        pytest.skip("Jena is not installed: rdflib checked, riot not")
    for fmt in ("turtle", "trig"):
        done = subprocess.run(["java", "-cp", classpath, "riotcmd.riot", "--output=nquads", str(files[fmt])],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        got = as_quads(done.stdout)
        assert ({q.triple for q in got} == triples) if fmt == "turtle" else (got == quads), fmt
