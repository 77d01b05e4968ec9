"""Updates: applying a newer release gives the same triples as a fresh build of it."""

from __future__ import annotations

import shutil

from ckg import resources
from ckg.etl.build import build, update
from ckg.etl.catalog import Catalog
from ckg.store import catalog_file
from ckg.store import open_store, query

from conftest import MINI

PROVENANCE = resources.graph(resources.PROVENANCE_GRAPH_NAME).value


def content(path) -> set[str]:
    """All quads but the provenance graph (the history of the store, which a fresh build lacks)."""
    store = open_store(path, read_only=True)
    return {str(q) for q in store.quads_for_pattern(None, None, None)
            if not (hasattr(q.graph_name, "value") and q.graph_name.value == PROVENANCE)}


def graph_sizes(path) -> dict[str, int]:
    """Quads per corpus-wide graph but provenance (named by its last IRI segment)."""
    store = open_store(path, read_only=True)
    sizes: dict[str, int] = {}
    for q in store.quads_for_pattern(None, None, None):
        name = q.graph_name.value.split("/graph/", 1)[1]
        if not name.startswith("paper/") and name != "provenance":
            sizes[name] = sizes.get(name, 0) + 1
    return sizes


def values(path, sparql):
    store = open_store(path, read_only=True)
    return sorted(tuple(t.value if t is not None else None for t in row) for row in query(store, sparql))


def test_update_equals_fresh_build_on_the_mini_releases(tmp_path, mini_next):
    updated, fresh = tmp_path / "updated", tmp_path / "fresh"
    build(updated, [MINI], release="r1")
    result = update(updated, [mini_next], release="r2")
    build(fresh, [mini_next], release="r2")
    assert result.counts["changes"] == {"new": 2, "changed": 1, "unchanged": 3, "removed": 1, "provenance_only": 0}
    assert content(updated) == content(fresh)
    assert result.counts["citations"]["edges_added"] == 2  # aaaa0001 -> aaaa0010 (an old entry), aaaa0011 -> aaaa0002
    assert result.counts["citations"]["edges_removed"] == 1  # aaaa0001 -> aaaa0003 (withdrawn)
    # concepts: only the new and changed papers are extracted; the corpus-wide edges are diffed
    assert result.counts["concepts"]["extraction"]["papers"] == 3
    assert graph_sizes(updated)["concepts"] > 40 and graph_sizes(updated)["topics"] > 40
    assert graph_sizes(updated) == graph_sizes(fresh)
    assert_counted(result)
    assert_counted(build(tmp_path / "again", [mini_next], release="r2"))  # a build's, its paper graphs counted after the load


def assert_counted(result):
    """The update's counts, kept by difference outside the corpus-wide graphs and derived for the
    concepts and topics graphs, are those of counting every quad of the store it made (as are a
    build's, whose paper graphs are counted right after its load, beside its search index)."""
    from ckg.etl.counts import graph_counts

    counted = {k: result.counts[k] for k in ("triples", "named_graphs", "per_class", "per_property",
                                             "per_property_outside_corpus_graphs", "per_class_outside_corpus_graphs")}
    assert counted == graph_counts(open_store(result.store, read_only=True))
    assert counted["triples"] > 0 and counted["per_property_outside_corpus_graphs"]
    assert counted["per_class_outside_corpus_graphs"] and counted["per_class"]


def test_update_re_resolves_old_references_and_drops_withdrawn_papers(tmp_path, mini_next):
    path = tmp_path / "s"
    build(path, [MINI], release="r1")
    before = values(path, "SELECT ?b WHERE { <https://w3id.org/ckg/resource/paper/aaaa0001> ckg:cites ?b }")
    update(path, [mini_next], release="r2")
    after = values(path, "SELECT ?b WHERE { <https://w3id.org/ckg/resource/paper/aaaa0001> ckg:cites ?b }")
    assert [b[0].rsplit("/", 1)[1] for b in before] == ["aaaa0002", "aaaa0003"]
    assert [b[0].rsplit("/", 1)[1] for b in after] == ["aaaa0002", "aaaa0010"]
    withdrawn = "<https://w3id.org/ckg/resource/paper/aaaa0003>"
    assert not bool(query(open_store(path, read_only=True), f"ASK {{ {{ {withdrawn} ?p ?o }} UNION {{ ?s ?p {withdrawn} }} }}"))
    # an author mentioned only by the withdrawn paper is gone; one still mentioned stays
    assert values(path, "SELECT ?n WHERE { <https://w3id.org/ckg/resource/author/van-der-berg_anna> foaf:name ?n }") == []
    assert values(path, "SELECT ?n WHERE { <https://w3id.org/ckg/resource/author/muller_zoe> foaf:name ?n }") == [("Zoë Müller",)]
    assert values(path, "SELECT ?t WHERE { <https://w3id.org/ckg/resource/paper/aaaa0002> dcterms:title ?t }") == [
        ("Beta: clinical outcomes of pneumonia patients in Wuhan, China",)]


def test_provenance_keeps_history(tmp_path, mini_next):
    path = tmp_path / "s"
    build(path, [MINI], release="r1")
    update(path, [mini_next], release="r2")
    rows = values(path, """SELECT ?p ?first ?last WHERE { ?p ckg:firstSeenIn ?f ; ckg:lastUpdatedIn ?l .
        ?f ckg:releaseLabel ?first . ?l ckg:releaseLabel ?last }""")
    history = {p.rsplit("/", 1)[1]: (f, l) for p, f, l in rows}
    assert history["aaaa0001"] == ("r1", "r1")
    assert history["aaaa0002"] == ("r1", "r2")
    assert history["aaaa0010"] == ("r2", "r2")
    assert "aaaa0003" not in history


def test_keep_removed(tmp_path, mini_next):
    path = tmp_path / "s"
    build(path, [MINI], release="r1")
    result = update(path, [mini_next], release="r2", keep_removed=True)
    assert result.counts["changes"]["removed"] == 0 and result.counts["papers_in_store"] == 7
    assert values(path, "SELECT ?t WHERE { <https://w3id.org/ckg/resource/paper/aaaa0003> dcterms:title ?t }") != []
    assert values(path, "SELECT ?b WHERE { <https://w3id.org/ckg/resource/paper/aaaa0001> ckg:cites ?b }")[1][0].endswith("aaaa0003")


def test_applying_the_same_release_again_changes_nothing(tmp_path):
    path = tmp_path / "s"
    build(path, [MINI], release="r1")
    before = content(path)
    result = update(path, [MINI], release="r1")
    assert result.counts["changes"] == {"new": 0, "changed": 0, "unchanged": 5, "removed": 0, "provenance_only": 0}
    assert result.counts["citations"]["edges_added"] == result.counts["citations"]["edges_removed"] == 0
    for stage in ("concepts", "topics"):
        counts = result.counts[stage]
        assert (counts["edges_added"], counts["edges_removed"], counts["nodes_written"], counts["nodes_removed"]) == (0, 0, 0, 0)
    assert result.counts["concepts"]["extraction"]["papers"] == 0
    assert result.counts["topics"]["skipped"] is True and result.counts["topics"]["documents"] == 5
    assert content(path) == before


def test_an_update_does_not_read_unchanged_rows_again_but_sees_a_changed_parse(tmp_path):
    """Rows whose input fingerprint (row cells, parse names and bytes) the store holds are not
    parsed again; a parse file whose bytes changed under an unchanged row makes its paper changed;
    a paper whose reading reported an issue is read (and reported) at every run."""
    release = tmp_path / "release"
    shutil.copytree(MINI, release)
    path = tmp_path / "s"
    first = build(path, [release], release="r1")
    again = update(path, [release], release="r1b")
    read = again.counts["papers_read"]
    assert again.counts["changes"]["changed"] == again.counts["changes"]["new"] == 0
    assert 0 < read["unchanged_not_read"] < read["papers"]  # the parse-only papers are read again
    assert read["papers"] == first.counts["papers_read"]["papers"]
    # aaaa0002's parse drops an author entry: it is read again, and the issue reported again
    assert dict(again.report.counts) == dict(first.report.counts) and again.report.counts["author-entry-dropped"] == 1
    assert again.counts["concepts"]["extraction"]["papers"] == 0

    # aaaa0001's PDF parse changes, but its body comes from its PMC parse: read again, same triples,
    # and its new fingerprint is recorded, so the next update does not read it again
    pdf = release / "document_parses" / "pdf_json" / ("1" * 40 + ".json")
    pdf.write_text(pdf.read_text().replace('"text": "', '"text": "Changed. ', 1))
    same = update(path, [release], release="r2")
    assert same.counts["changes"]["changed"] == 0
    assert same.counts["papers_read"]["unchanged_not_read"] == read["unchanged_not_read"] - 1
    assert update(path, [release], release="r2").counts["papers_read"]["unchanged_not_read"] == read["unchanged_not_read"]
    pmc = release / "document_parses" / "pmc_json" / "PMC100001.xml.json"
    text = pmc.read_text()
    assert '"text": "' in text
    pmc.write_text(text.replace('"text": "', '"text": "Changed. ', 1))
    changed = update(path, [release], release="r2")
    assert changed.counts["changes"]["changed"] == 1
    assert changed.counts["papers_read"]["unchanged_not_read"] == read["unchanged_not_read"] - 1
    fresh = tmp_path / "fresh"
    build(fresh, [release], release="r2")
    assert content(path) == content(fresh)


def test_known_inputs_answer_as_the_lookup_of_each_key(tmp_path):
    """The update asks the fingerprints read in one scan, and they answer as a lookup per key
    does: the DOI ('' for none) on the stored fingerprint, None on any other or an unknown key."""
    path = tmp_path / "s"
    build(path, [MINI], release="r1")
    with Catalog(catalog_file(path)) as catalog:
        stored = catalog.db.execute("SELECT key, fingerprint FROM paper_inputs ORDER BY key").fetchall()
        known = catalog.known_inputs()
        assert len(stored) >= 2
        answers = []
        for key, fingerprint in stored:
            other = ("0" if fingerprint[0] != "0" else "1") + fingerprint[1:]
            for asked in (fingerprint, other, fingerprint.upper()):
                answers.append(known(key, asked))
                assert known(key, asked) == catalog.known_input(key, asked)
        assert known("no-such-paper", stored[0][1]) is catalog.known_input("no-such-paper", stored[0][1]) is None
        dois = [a for a in answers[::3]]
        assert all(a is not None for a in dois) and any(a.startswith("10.") for a in dois)
        assert answers[1::3] == [None] * len(stored)


def test_moved_parse_file_updates_provenance_only(tmp_path):
    release = tmp_path / "release"
    shutil.copytree(MINI, release)
    path = tmp_path / "s"
    build(path, [release], release="r1")
    sha = "9" * 40
    (release / "biorxiv_medrxiv").mkdir()
    (release / "document_parses" / "pdf_json" / f"{sha}.json").rename(release / "biorxiv_medrxiv" / f"{sha}.json")
    result = update(path, [release], release="r2")
    assert result.counts["changes"]["provenance_only"] == 1 and result.counts["changes"]["changed"] == 0
    assert values(path, f"SELECT ?f WHERE {{ <https://w3id.org/ckg/resource/paper/{sha}> ckg:sourceFile ?f }}") == [(f"biorxiv_medrxiv/{sha}.json",)]


def test_update_equals_fresh_build_on_the_demo_corpus(tmp_path, demo_releases):
    r1, r2 = demo_releases
    updated, fresh = tmp_path / "updated", tmp_path / "fresh"
    build(updated, [r1], release="demo-1")
    result = update(updated, [r2], release="demo-2")
    build(fresh, [r2], release="demo-2")
    changes = result.counts["changes"]
    assert changes["new"] > 0 and changes["changed"] > 0 and changes["removed"] > 0 and changes["unchanged"] > 0
    concepts, topics = result.counts["concepts"], result.counts["topics"]
    assert concepts["extraction"]["papers"] == changes["new"] + changes["changed"]
    assert concepts["edges_added"] > 0 and concepts["edges_removed"] > 0  # the difference only is applied
    assert concepts["edges_added"] < concepts["edges"]
    # the update recomputes the edges of the papers that changed and of the concepts whose
    # document-frequency state changed, not the corpus's
    assert concepts["incremental"] is True
    assert concepts["edges_recomputed"] < concepts["edges"] and concepts["concepts_restated"] < concepts["concepts"]
    assert topics["edges_added"] > 0 and topics["documents"] == result.counts["papers_in_store"]
    assert graph_sizes(updated)["concepts"] > 2000 and graph_sizes(updated)["topics"] > 500
    assert content(updated) == content(fresh)
    assert_counted(result)
    assert_counted(update(updated, [r1], release="demo-3", allow_mass_removal=True))  # and back


def test_a_failed_update_leaves_the_store_as_it_was(tmp_path, mini_next, monkeypatch):
    import pytest

    import ckg.etl.build as build_module

    path = tmp_path / "s"
    build(path, [MINI], release="r1")
    before = content(path)

    def broken(catalog):
        raise RuntimeError("simulated failure after the new papers were loaded")

    monkeypatch.setattr(build_module, "resolve", broken)
    with pytest.raises(RuntimeError, match="simulated failure"):
        update(path, [mini_next], release="r2")
    assert content(path) == before
    assert not (path / "before-update").exists()
    monkeypatch.undo()
    result = update(path, [mini_next], release="r2")  # the catalog was restored too: the same changes are found
    assert result.counts["changes"] == {"new": 2, "changed": 1, "unchanged": 3, "removed": 1, "provenance_only": 0}


def test_a_failed_build_leaves_no_half_store(tmp_path):
    import pytest

    from ckg.etl.assemble import InputError

    with pytest.raises(InputError, match="no such file or directory"):
        build(tmp_path / "s", [tmp_path / "missing"])
    assert not (tmp_path / "s").exists()
