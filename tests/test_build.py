"""Building a store: the triples, the graph layout, the manifest and the report."""

from __future__ import annotations

import json
import os

import pyoxigraph as ox
import pytest

from ckg import resources
from ckg.etl.build import build
from ckg.store import StoreError, open_store, query, read_manifest
from ckg.terms import CKG

from conftest import MINI


def select(store_path, sparql):
    store = open_store(store_path, read_only=True)
    return [tuple(None if t is None else t.value for t in row) for row in query(store, sparql)]


def test_manifest_records_inputs_config_versions_counts_rejects_timings(mini_store):
    path, result = mini_store
    m = read_manifest(path)
    assert m == result.manifest
    assert m["mode"] == "build" and m["release"] == "2020-06-01"
    assert m["inputs"][0]["path"].endswith("tests/fixtures/mini") and m["inputs"][0]["json_files"] == 7
    assert {k: m["config"][k] for k in ("keep_removed", "release_label")} == {"keep_removed": False,
                                                                            "release_label": "2020-06-01"}
    assert set(m["config"]) == {"keep_removed", "release_label", "vocabularies", "extraction", "edge_rules", "topics"}
    assert set(m["versions"]) >= {"python", "ckg", "pyoxigraph"}
    counts = m["counts"]
    assert counts["papers_in_store"] == 5
    assert counts["changes"] == {"new": 5, "changed": 0, "unchanged": 0, "removed": 0, "provenance_only": 0}
    assert counts["per_class"][CKG.Paper.value] == 5 and counts["per_class"][CKG.Author.value] == 7
    assert counts["per_property"][CKG.cites.value] == 4
    # papers + entities, citations, concepts, topics, provenance, ranking, signals
    assert counts["named_graphs"] == 5 + 7
    store = open_store(path, read_only=True)
    assert counts["triples"] == len(store) and counts["named_graphs"] == sum(1 for _ in store.named_graphs())
    assert counts["citations"]["edges_by_method"] == {"doi": 2, "title": 2}
    assert counts["citations"]["outcomes"] == {"resolved:doi": 2, "resolved:title": 2, "self": 2, "unresolved": 2}
    assert m["rejects"]["rejected"] == 5 and m["rejects"]["rejected_by_reason"]["malformed-json"] == 1
    assert set(m["timings_s"]) >= {"read_and_emit", "load", "entities", "citations", "concepts", "topics", "total"}
    assert set(m["cpu_s"]) == set(m["timings_s"]) - {"total"}  # each stage's CPU: this process's and its workers'
    assert all(set(cpu) == {"process", "workers"} and min(cpu.values()) >= 0 for cpu in m["cpu_s"].values())
    assert m["cpu_s"]["read_and_emit"]["process"] > 0
    log = [json.loads(line) for line in open(m["rejects"]["log"], encoding="utf-8")]
    assert sum(1 for i in log if i["severity"] == "rejected") == 5
    assert {"severity": "rejected", "reason": "missing-id", "where": "metadata.csv row 5 (line 6)",
            "detail": "no cord_uid, sha, pmcid, doi or pubmed_id"} in log


def test_named_graph_layout(mini_store):
    store = open_store(mini_store[0], read_only=True)
    graphs = {g.value for g in store.named_graphs()}
    assert graphs == {resources.paper_graph(k).value for k in ("aaaa0001", "aaaa0002", "aaaa0003", "aaaa0008", "9" * 40)} | {
        resources.graph(n).value for n in ("entities", "citations", "concepts", "topics", "provenance", "ranking",
                                           "signals")}
    # a paper's graph holds its own node and authorship nodes only
    subjects = {q.subject.value for q in store.quads_for_pattern(None, None, None, resources.paper_graph("aaaa0002"))}
    assert subjects == {resources.paper("aaaa0002").value} | {resources.authorship("aaaa0002", i).value for i in (1, 2)}
    # no triple is in two graphs (the union default graph would count it twice)
    triples = [q.triple for q in store.quads_for_pattern(None, None, None)]
    assert len(triples) == len(set(triples))


def test_entities_are_aggregated_over_mentions(mini_store):
    rows = select(mini_store[0], """SELECT ?name ?inst ?iname ?country WHERE {
        <https://w3id.org/ckg/resource/author/wang_lin> foaf:name ?name ; ckg:affiliatedWith ?inst ; schema:affiliation ?inst .
        ?inst foaf:name ?iname ; ckg:country ?country }""")
    assert rows == [("Lin Wang", resources.institution("university-of-bari_italy").value, "University of Bari", "Italy")]
    # "Univ. of Bari, Italia" in the same paper is the same institution
    rows = select(mini_store[0], """SELECT ?author WHERE { ?a ckg:statedAffiliation <https://w3id.org/ckg/resource/institution/university-of-bari_italy> ;
        ckg:annotatedTarget ?author } ORDER BY ?author""")
    assert sorted({r[0].rsplit("/", 1)[1] for r in rows}) == ["smith_john", "wang_lin"]
    types = {r[0] for r in select(mini_store[0], "SELECT ?t WHERE { <https://w3id.org/ckg/resource/author/smith_john> a ?t }")}
    assert types == {CKG.Author.value, "http://xmlns.com/foaf/0.1/Person", "http://schema.org/Person"}


def test_a_build_describes_every_entity_in_one_pass_as_an_update_describes_each(tmp_path):
    """A build reads every author's and institution's description in one pass over the mentions
    (``author_descriptions``, ``institution_descriptions``); an update asks for each. Both choose
    the most frequent form, then the longest, then code-point order, and skip what has no name."""
    from ckg.etl.catalog import Catalog

    authors = [  # (paper, position, author, name, given, family)
        ("p1", 1, "smith_j", "J Smith", "J", "Smith"), ("p2", 1, "smith_j", "John Smith", "John", "Smith"),
        ("p3", 2, "smith_j", "J Smith", "J", "Smith"),  # the most frequent form wins over the longest
        ("p1", 2, "wang_l", "L Wang", "L", "Wang"), ("p2", 2, "wang_l", "Lin Wang", "Lin", "Wang"),  # a tie: the longest
        ("p1", 3, "li_a", "A Li", "A", "Li"), ("p2", 3, "li_a", "B Li", "B", "Li"),  # a tie of lengths: code points
        ("p4", 1, "doe", "Doe", "", "Doe")]
    affiliations = [  # (paper, author, institution, name, country, settlement, region)
        ("p1", "smith_j", "bari", "Univ. of Bari", "Italy", "", ""),
        ("p2", "smith_j", "bari", "University of Bari", "Italia", "Bari", ""),
        ("p3", "wang_l", "bari", "University of Bari", "Italy", "", "Apulia"),
        ("p2", "wang_l", "mit", "MIT", "", "", ""), ("p1", "li_a", "nameless", "", "Spain", "", "")]
    with Catalog(tmp_path / "catalog.sqlite") as catalog:
        catalog.db.executemany("INSERT INTO authors VALUES (?, ?, ?, ?, ?, ?)", authors)
        catalog.db.executemany("INSERT INTO affiliations VALUES (?, ?, ?, ?, ?, ?, ?)", affiliations)
        one_pass = sorted(catalog.author_descriptions())
        assert one_pass == [(a, *catalog.author_description(a)) for a in sorted({r[2] for r in authors})]
        assert dict((a, name) for a, name, *_ in one_pass) == {
            "doe": "Doe", "li_a": "A Li", "smith_j": "J Smith", "wang_l": "Lin Wang"}
        institutions = sorted(catalog.institution_descriptions())
        assert institutions == [(i, *catalog.institution_description(i)) for i in ("bari", "mit")]
        assert catalog.institution_description("nameless") is None
        assert institutions[0] == ("bari", "University of Bari", "Italy", "Bari", "Apulia")
        assert sorted(catalog.all_affiliations()) == sorted(
            {(a, i) for a in ("smith_j", "wang_l", "li_a") for i in catalog.affiliations_of(a)})


def test_citations_and_their_inverse(mini_store):
    rows = select(mini_store[0], "SELECT ?a ?b WHERE { ?a ckg:cites ?b . ?b ckg:citedBy ?a . ?a cito:cites ?b . "
                                 "?b cito:isCitedBy ?a } ORDER BY ?a ?b")
    pairs = [(a.rsplit("/", 1)[1], b.rsplit("/", 1)[1]) for a, b in rows]
    assert pairs == [("9" * 40, "aaaa0001"), ("aaaa0001", "aaaa0002"), ("aaaa0001", "aaaa0003"), ("aaaa0002", "aaaa0001")]


def test_paper_literals(mini_store):
    rows = select(mini_store[0], """SELECT ?doi ?issued ?year ?full WHERE { <https://w3id.org/ckg/resource/paper/aaaa0002> bibo:doi ?doi ;
        dcterms:issued ?issued ; ckg:publicationYear ?year ; ckg:hasFullText ?full }""")
    assert rows == [("10.5555/mini.2", "2020-03-03", "2020", "true")]
    store = open_store(mini_store[0], read_only=True)
    issued = next(iter(store.quads_for_pattern(resources.paper("aaaa0003"), ox.NamedNode("http://purl.org/dc/terms/issued"), None)))
    assert issued.object.datatype.value == "http://www.w3.org/2001/XMLSchema#gYear"


def test_authorship_annotation_nodes(mini_store):
    rows = select(mini_store[0], """SELECT ?pos ?author WHERE { ?n a ckg:Authorship ; ckg:annotatedSource <https://w3id.org/ckg/resource/paper/aaaa0002> ;
        ckg:annotatedProperty ckg:authoredBy ; ckg:annotatedTarget ?author ; ckg:authorPosition ?pos .
        <https://w3id.org/ckg/resource/paper/aaaa0002> ckg:authoredBy ?author } ORDER BY ?pos""")
    assert [(p, a.rsplit("/", 1)[1]) for p, a in rows] == [("1", "li_xiang"), ("2", "wang_lin")]


def test_build_refuses_an_existing_store_and_overwrites_on_request(tmp_path):
    store = tmp_path / "s"
    build(store, [MINI])
    with pytest.raises(StoreError, match="use `ckg update`"):
        build(store, [MINI])
    again = build(store, [MINI], overwrite=True)
    assert again.counts["papers_in_store"] == 5
    other = tmp_path / "not-a-store"
    other.mkdir()
    (other / "precious.txt").write_text("x")
    with pytest.raises(StoreError, match="not a ckg store: refusing"):
        build(other, [MINI], overwrite=True)
    assert (other / "precious.txt").exists()


def test_builds_are_deterministic(tmp_path):
    def dump(path):
        build(path, [MINI], release="r")
        store = open_store(path, read_only=True)
        return sorted(str(q) for q in store.quads_for_pattern(None, None, None))

    assert dump(tmp_path / "a") == dump(tmp_path / "b")


def test_rows_assembled_ahead_build_and_update_the_same_store(tmp_path, demo_releases):
    """A build whose rows worker processes assemble and emit (processes above 1) writes the
    quads, the catalog and the report of a build that does it all in one process; so does an
    update whose workers fingerprint the rows and assemble those that changed."""
    import sqlite3

    from ckg.etl.annotate import AnnotationOptions
    from ckg.etl.build import update
    from ckg.store import CATALOG_FILE, current_folder

    def state(path, result):
        store = open_store(path, read_only=True)
        quads = sorted(str(q) for q in store.quads_for_pattern(None, None, None))
        db = sqlite3.connect(current_folder(path) / CATALOG_FILE)
        tables = {t: sorted(map(repr, db.execute(f"SELECT * FROM {t}")))
                  for t in ("papers", "paper_inputs", "paper_ids", "authors", "affiliations", "bib")}
        tables["titles"] = sorted(db.execute("SELECT p.key, t.title FROM paper_titles t JOIN papers p ON p.rowid = t.rowid"))
        indexes = sorted(n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'"))
        db.close()
        rejects = {k: v for k, v in result.manifest["rejects"].items() if k != "log"}
        return quads, tables, indexes, rejects, result.counts["papers_read"], result.counts["changes"]

    def built(processes: int):
        path = tmp_path / f"p{processes}"
        options = AnnotationOptions(processes=processes)
        first = state(path, build(path, [demo_releases[0]], release="r", annotation=options))
        return first, state(path, update(path, [demo_releases[1]], release="r2", annotation=options))

    def same(a, b):
        assert a[:4] == b[:4] and a[5] == b[5]
        assert {k: v for k, v in a[4].items() if k != "rows_assembled_ahead"} == \
            {k: v for k, v in b[4].items() if k != "rows_assembled_ahead"}

    (alone, alone_updated), (ahead, ahead_updated) = built(1), built(2)
    same(alone, ahead)
    same(alone_updated, ahead_updated)
    assert len(alone[0]) > 5000 and len(alone[1]["titles"]) == 60 and "authors_author" in alone[2]
    assert alone[4]["rows_assembled_ahead"] == 0 and ahead[4]["rows_assembled_ahead"] == ahead[4]["rows"] >= 60
    changes = ahead_updated[5]
    assert changes["new"] and changes["changed"] and changes["removed"] and changes["unchanged"] > 40
    read = ahead_updated[4]
    assert read["unchanged_not_read"] == changes["unchanged"] and read["rows_assembled_ahead"] == read["rows"]
    assert alone_updated[4]["rows_assembled_ahead"] == 0 and alone_updated[0] != alone[0]


def test_progress_is_reported(tmp_path):
    seen = []
    build(tmp_path / "s", [MINI], progress=lambda stage, n: seen.append((stage, n)))
    assert sum(n for stage, n in seen if stage == "papers") == 5


def test_a_build_commits_its_catalog_as_it_reads(tmp_path, demo_releases, monkeypatch):
    """Every COMMIT_EVERY papers a build commits its catalog (SQLite's write-ahead log would
    otherwise hold the whole catalog again, 4.6 GB at 1M papers with parses): another
    connection sees the papers committed so far, and the catalog is that of one commit."""
    import sqlite3

    from ckg import faults
    from ckg.etl import build as build_module
    from ckg.store import CATALOG_FILE, current_folder

    def tables(path):
        db = sqlite3.connect(current_folder(path) / CATALOG_FILE)
        out = {t: sorted(map(repr, db.execute(f"SELECT * FROM {t}"))) for t in ("papers", "paper_ids", "authors", "bib")}
        db.close()
        return out

    once = build(tmp_path / "once", [demo_releases[0]], release="r")
    committed = []
    real_point = faults.point

    def point(name, environ=None):
        if name == "read.paper":
            [catalog] = (tmp_path / "s").glob(f"generations/*/{CATALOG_FILE}")
            db = sqlite3.connect(f"{catalog.as_uri()}?mode=ro", uri=True)
            committed.append(db.execute("SELECT COUNT(*) FROM papers").fetchone()[0])
            db.close()
        real_point(name, environ)

    monkeypatch.setattr(faults, "point", point)
    monkeypatch.setattr(build_module, "COMMIT_EVERY", 10)
    result = build(tmp_path / "s", [demo_releases[0]], release="r")
    papers = result.counts["changes"]["new"]
    assert papers >= 60 and committed == [10 * (i // 10) for i in range(papers)]
    assert tables(tmp_path / "s") == tables(tmp_path / "once")
    assert result.counts["triples"] == once.counts["triples"]


def test_a_build_asks_the_disk_for_each_batch_of_parses_before_reading_them(tmp_path, demo_releases, monkeypatch):
    """A build's workers ask the kernel for the parse files of their batch of rows at once
    (``prefetch.will_need``), before reading them one by one: every parse the build reads was
    asked for, by a worker, before it was read."""
    from ckg.etl import assemble, parses
    from ckg.etl.annotate import AnnotationOptions

    log = tmp_path / "log.txt"
    real_will_need, real_read_bytes = assemble.will_need, parses.read_bytes

    def record(kind, paths):
        with open(log, "a") as out:
            out.writelines(f"{os.getpid()} {kind} {p}\n" for p in paths)

    def will_need(paths):
        paths = list(paths)
        record("asked", paths)
        return real_will_need(paths)

    def read_bytes(path):
        record("read", [path])
        return real_read_bytes(path)

    monkeypatch.setattr(assemble, "will_need", will_need)
    monkeypatch.setattr(parses, "read_bytes", read_bytes)
    result = build(tmp_path / "s", [demo_releases[0]], release="r", annotation=AnnotationOptions(processes=2))
    asked, read, unasked = set(), [], []
    for line in log.read_text().splitlines():  # (each process's lines in the order it wrote them)
        pid, kind, path = line.split(" ", 2)
        if kind == "asked":
            asked.add((pid, path))
        else:
            read.append((pid, path))
            if (pid, path) not in asked:
                unasked.append(path)
    assert len(read) == result.counts["papers_read"]["parses_read"] > 20
    assert not unasked  # each asked for, by the process that read it, before it read it
    assert str(os.getpid()) not in {pid for pid, _ in read}  # (read by the workers)
