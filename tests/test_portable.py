"""Named queries written out for other engines (ckg.queries.portable, `ckg queries --portable`):
explicit PREFIX lines, parameters in the text. tests/test_virtuoso.py runs them on Virtuoso."""

from __future__ import annotations

import pyoxigraph as ox
from click.testing import CliRunner

from ckg import queries
from ckg.cli import main
from ckg.queries.portable import portable_query
from ckg.sparql_text import prologue, tokens
from ckg.terms import PREFIXES


def test_portable_query_binds_parameters_with_values():
    text = portable_query("papers-with-concepts", {"concept1": "Pneumonia", "concept3": 'a "b"'})
    assert 'VALUES (?concept1 ?concept3) { ("Pneumonia" "a \\"b\\"") }' in text
    toks = list(tokens(text))
    declared = prologue(toks)[1]
    assert declared and {t.text.split(":")[0] for t in toks if t.kind == "pname"} <= set(declared)
    assert portable_query("topics", limit=5).rstrip().endswith("LIMIT 5")
    assert "VALUES" not in portable_query("topics")


def test_portable_query_substitutes_parameters_its_subgroups_read():
    """A VALUES block joins the WHERE group, and SPARQL evaluates a subgroup (a UNION branch) before
    that join: a parameter read inside one is substituted as ckg's named queries bind it (SEP-0007),
    or the other engine answers the query without it."""
    text = portable_query("customised-citation-counts", {"topic": "drugs", "concept": "Azithromycin"})
    assert "VALUES" not in text and "?topic" in text and "?concept" in text
    assert 'SELECT ("drugs" AS ?topic) ("Azithromycin" AS ?concept) ?paper' in text
    assert 'SELECT ("drugs" AS ?topic) ("Azithromycin" AS ?concept) ?paper (COALESCE' in text  # the subquery's
    assert 'GROUP BY ("drugs") ("Azithromycin") ?paper\n' in text
    assert 'LCASE(STR("Azithromycin"))' in text and "STR(?concept)" not in text
    store = ox.Store()
    assert store.query(text).variables == [ox.Variable(v) for v in ("topic", "concept", "paper", "title", "citations")]
    only = portable_query("customised-citation-counts", {"concept": "x"})  # the unbound one stays a variable
    assert "COALESCE(?topic" in only and '("x" AS ?concept)' in only


def test_every_named_query_written_out_parses_without_ckg_prefixes(tmp_path):
    """`ckg queries --portable --out DIR`: each file parses on an engine that knows no prefix
    (pyoxigraph without ckg's), its parameters still variables; NAME --param prints one bound."""
    runner = CliRunner()
    result = runner.invoke(main, ["queries", "--portable", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = sorted(p.stem for p in tmp_path.glob("*.rq"))
    assert written == sorted(q.name for q in queries.all_queries()) and len(written) >= 20
    for q in queries.all_queries():
        text = (tmp_path / f"{q.name}.rq").read_text()
        assert text.startswith("PREFIX ") and text.endswith(q.text)  # the file, prefixes first
        ox.Store().query(text)  # parses with no predeclared prefix
        for p in q.params:
            assert f"?{p.name}" in text

    result = runner.invoke(main, ["queries", "paper-authors", "--portable", "--param", "paper=ug7v899j"])
    assert result.exit_code == 0, result.output
    assert f"PREFIX ckg: <{PREFIXES['ckg']}>" in result.output
    assert "VALUES (?paper) { (<https://w3id.org/ckg/resource/paper/ug7v899j>) }" in result.output
    result = runner.invoke(main, ["queries", "paper-authors", "--portable"])  # a required parameter missing
    assert result.exit_code != 0 and "missing parameter 'paper'" in result.output
    result = runner.invoke(main, ["queries", "--portable"])
    assert result.exit_code == 2 and "--out DIR" in result.output
    result = runner.invoke(main, ["queries", "paper-authors"])
    assert result.exit_code == 2 and "go with --portable" in result.output


def test_the_federated_examples_parse_and_are_bind_joins():
    """queries/federated/*.rq (MeSH at NLM, Wikidata, UniProt: not reachable here; the MeSH join's
    local equivalent runs against Virtuoso in bench/bench_federation.py): each is SPARQL 1.1 with
    its own PREFIX lines, calls one endpoint, and is asked as a bind join."""
    from pathlib import Path

    from rdflib.plugins.sparql import prepareQuery

    from ckg.server import bindjoin, federation

    folder = Path(queries.__file__).parent / "federated"
    files = sorted(folder.glob("*.rq"))
    assert [f.stem for f in files] == ["mesh-broader-headings", "uniprot-concept-proteins", "wikidata-paper-items"]
    for path in files:
        text = path.read_text()
        prepareQuery(text)  # rdflib's SPARQL 1.1 parser: no predeclared prefix
        endpoint = text.split("SERVICE <", 1)[1].split(">", 1)[0]
        (clause,) = federation.plan(text, [endpoint])
        join = bindjoin.analyse(text)[clause.start]
        assert join.variables and "SERVICE" not in join.probe, path.name
        ox.Store().query(join.probe)  # the probe runs here (on an empty store)
