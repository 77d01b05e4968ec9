"""The ckg command, in-process (click's runner) and once as the installed console script."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pyoxigraph as ox
import pytest


from conftest import MINI


@pytest.fixture
def built(tmp_path, cli):
    store = tmp_path / "store"
    cli("build", "--store", store, "--cord19", MINI, "--release", "r1", "--no-progress")
    return store


def test_build_prints_a_summary(tmp_path, cli):
    out = cli("build", "--store", tmp_path / "s", "--cord19", MINI, "--no-progress").output
    assert "build of release mini" in out
    assert "papers read   5 (2 metadata+parse, 2 metadata only, 1 parse only; 7 metadata rows, 5 parses)" in out
    assert "citations     4 edges (doi 2, title 2)" in out
    assert "missing-id: 1 (e.g. metadata.csv row 5 (line 6): no cord_uid, sha, pmcid, doi or pubmed_id)" in out
    assert (tmp_path / "s" / "manifest.json").is_file()


def test_store_defaults_to_the_environment(tmp_path, cli, monkeypatch):
    monkeypatch.setenv("CKG_STORE", str(tmp_path / "from-env"))
    cli("build", "--cord19", MINI, "--no-progress")
    from ckg.store import is_store

    assert is_store(tmp_path / "from-env")


def test_update(built, mini_next, cli):
    out = cli("update", "--store", built, "--cord19", mini_next, "--release", "r2", "--no-progress").output
    assert "changes       2 new, 1 changed, 3 unchanged, 1 removed" in out


def test_query_formats(built, cli):
    out = cli("query", "--store", built, "paper-authors", "--param", "paper=aaaa0001", "--format", "json").output
    doc = json.loads(out)
    assert doc["head"]["vars"] == ["paper", "position", "author", "name", "institution", "institutionName", "country"]
    first = doc["results"]["bindings"][0]
    assert first["name"] == {"type": "literal", "value": "Lin Wang"}
    assert first["position"] == {"type": "literal", "value": "1", "datatype": "http://www.w3.org/2001/XMLSchema#integer"}
    # the same answer, parsed back by pyoxigraph's standard results parser
    parsed = list(ox.parse_query_results(out.encode(), format=ox.QueryResultsFormat.JSON))
    assert [s["name"].value for s in parsed] == ["Lin Wang", "John A. Smith", "Zoë Müller"]

    rows = list(csv.reader(io.StringIO(cli("query", "--store", built, "most-cited-papers", "--format", "csv").output)))
    assert rows[0] == ["first", "paper", "title", "year", "citations"] and rows[1][0] == "100" and rows[1][4] == "2"
    tsv = cli("query", "--store", built, "most-cited-papers", "--format", "tsv", "--limit", "1").output.splitlines()
    assert tsv[0] == "?first\t?paper\t?title\t?year\t?citations" and len(tsv) == 2
    table = cli("query", "--store", built, "most-cited-papers", "--limit", "2").output.splitlines()
    assert table[0].split() == ["first", "paper", "title", "year", "citations"]
    assert table[2].split()[:2] == ["100", "ckgr:paper/aaaa0001"]
    assert len(table) == 4


def test_query_text_file_and_construct(built, cli, tmp_path):
    out = cli("query", "--store", built, "--sparql", "ASK { ?p ckg:cites ?q }", "--format", "json").output
    assert json.loads(out) == {"head": {}, "boolean": True}
    rq = tmp_path / "q.rq"
    rq.write_text("CONSTRUCT { ?a ckg:cites ?b } WHERE { ?a ckg:cites ?b }")
    out = cli("query", "--store", built, "--file", rq, "--format", "ntriples").output
    assert len(out.strip().splitlines()) == 4 and "<https://w3id.org/ckg/ontology#cites>" in out


def test_errors_are_one_line_messages(built, cli, tmp_path):
    cases = [
        (("query", "--store", built, "paper-authors"), "missing parameter 'paper'"),
        (("query", "--store", built, "nope"), "no named query 'nope'"),
        (("query", "--store", built, "--sparql", "SELECT * WHERE {"), "error at 1:17"),
        (("query", "--store", tmp_path / "none", "most-cited-papers"), "is not a ckg store"),
        (("build", "--store", tmp_path / "new", "--cord19", tmp_path / "missing"), "no such file or directory"),
        (("build", "--store", built, "--cord19", MINI), "use `ckg update`"),
        (("query", "--store", built, "most-cited-papers", "--param", "x"), "is not key=value"),
        (("build", "--store", tmp_path / "other", "--cord19", MINI, "--topics-from", built), "has no sampled topic model"),
    ]
    for args, message in cases:
        result = cli(*args, ok=False)
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_stats(built, cli):
    data = json.loads(cli("stats", "--store", built, "--json").output)
    assert data["classes"]["ckg:Paper"] == 5 and data["properties"]["ckg:cites"] == 4
    assert data["last_run"]["release"] == "r1" and data["last_run"]["papers_in_store"] == 5
    text = cli("stats", "--store", built).output
    assert "last run     build of release r1" in text and "ckg:authoredBy" in text


@pytest.mark.parametrize("fmt, rdf, graphs", [("nquads", ox.RdfFormat.N_QUADS, True), ("trig", ox.RdfFormat.TRIG, True),
                                              ("turtle", ox.RdfFormat.TURTLE, False),
                                              ("ntriples", ox.RdfFormat.N_TRIPLES, False)])
def test_export_reloads_into_another_store(built, cli, tmp_path, fmt, rdf, graphs):
    out = tmp_path / f"export.{fmt}"
    assert "wrote" in cli("export", "--store", built, "--format", fmt, out).output
    other = ox.Store()
    other.load(path=str(out), format=rdf)
    from ckg.store import open_store

    original = open_store(built, read_only=True)
    if graphs:
        assert {str(q) for q in other} == {str(q) for q in original}
    else:
        assert {str(q.triple) for q in other} == {str(q.triple) for q in original}


def test_export_to_standard_output_and_queries_from_standard_input(built, tmp_path):
    """`ckg export … -` writes the RDF to stdout (the summary to stderr); `--file -` and
    `--sparql -` read the query from stdin (real processes: pipes, as a shell would give them)."""
    exe = [sys.executable, "-m", "ckg.cli"]
    done = subprocess.run([*exe, "export", "--store", str(built), "--format", "ntriples", "-"], capture_output=True,
                          timeout=120, check=True)
    triples = list(ox.parse(done.stdout, format=ox.RdfFormat.N_TRIPLES))
    assert done.stderr.decode().strip() == f"wrote {len(triples):,} triples to standard output" and len(triples) > 100
    assert not list((built.parent).glob("-"))  # no file named '-'
    text = "SELECT ?t WHERE { <https://w3id.org/ckg/resource/paper/aaaa0001> dcterms:title ?t }"
    for option in ("--file", "--sparql"):
        done = subprocess.run([*exe, "query", "--store", str(built), option, "-", "--format", "csv"], input=text.encode(),
                              capture_output=True, timeout=120, check=True)
        assert done.stdout.decode().splitlines() == ["t", "Alpha study of coronavirus spike binding to ACE2 receptors"]


def test_serve_on_a_port_in_use_says_so_in_one_line(built):
    import socket

    exe = [sys.executable, "-m", "ckg.cli"]
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        done = subprocess.run([*exe, "serve", "--store", str(built), "--host", "127.0.0.1", "--port", str(port)],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == (f"Error: 127.0.0.1:{port} is in use by another program: stop it, or serve on another port "
                           "(--port, or --port 0 for any free one)\n")


def test_queries_listing(cli):
    out = cli("queries").output
    assert "paper-authors paper=paper\n    A paper's authors in author-list order" in out
    names = [q["name"] for q in json.loads(cli("queries", "--json").output)]
    assert "most-cited-papers" in names


def test_console_script_runs(tmp_path):
    """The installed `ckg` entry point (a real process) builds and queries."""
    exe = [sys.executable, "-m", "ckg.cli"]
    store = tmp_path / "s"
    subprocess.run([*exe, "build", "--store", str(store), "--cord19", str(MINI), "--no-progress"], check=True,
                   capture_output=True, text=True, timeout=120)
    done = subprocess.run([*exe, "query", "--store", str(store), "find-papers", "--param", "text=delta", "--format", "csv"],
                          check=True, capture_output=True, text=True, timeout=120)
    assert done.stdout.splitlines()[1].startswith("delta,https://w3id.org/ckg/resource/paper/" + "9" * 40)


def test_build_with_vocabularies_and_the_concepts_report(tmp_path, cli):
    from ckg.etl.vocab import DEMO_VOCABULARY

    xml = MINI.parent / "vocab" / "desc-mini.xml"
    store = tmp_path / "s"
    out = cli("build", "--store", store, "--cord19", MINI, "--no-progress", "--vocab", xml, "--vocab",
              DEMO_VOCABULARY[1], "--processes", "1").output
    assert "concepts      2 edges to 2 concepts; 2 of 5 papers have one; 5 papers extracted (" in out
    assert "topics        10 topics" in out
    manifest = json.loads((store / "manifest.json").read_text())
    assert [v["format"] for v in manifest["config"]["vocabularies"]] == ["mesh-xml", "obo"]
    report = cli("concepts", "--store", store, "--top", "3").output
    assert report.splitlines()[0] == "papers with at least one concept: 2 of 5 (40.0%)"
    # pneumonia: the DOID term's label (it maps to D011014, which this MeSH extract lacks)
    assert report.splitlines()[3:5] == ["    1.      1  influenza (MedicalCondition D007251)",
                                        "    2.      1  pneumonia (MedicalCondition D011014)"]
    data = json.loads(cli("concepts", "--store", store, "--json").output)
    assert data["papers_with_concepts"] == 2 and len(data["topics"]) == 10


def test_extractor_errors_are_clean(tmp_path, cli):
    result = cli("build", "--store", tmp_path / "s", "--cord19", MINI, "--no-progress", "--extractor", "scispacy",
                 ok=False)
    assert result.exit_code == 1 and "Error: the scispacy extractor needs the spaCy model 'en_core_sci_sm'" in result.output


def test_the_build_progress_bar_knows_its_total(tmp_path):
    from click.testing import CliRunner

    from ckg.cli import main
    from ckg.etl.assemble import discover
    from ckg.etl.build import expected_papers
    from ckg.etl.report import Report

    rows = sum(1 for _ in csv.reader(open(MINI / "metadata.csv", newline="", encoding="utf-8"))) - 1
    report = Report(tmp_path / "r.jsonl")
    assert expected_papers(discover([MINI], report)) == rows
    report.close()
    result = CliRunner().invoke(main, ["build", "--store", str(tmp_path / "s"), "--cord19", str(MINI), "--progress"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"/{rows} " in result.output or f"/{rows}[" in result.output  # tqdm's "n/total"
