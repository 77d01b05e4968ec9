"""Training runs: what they read by SPARQL, what they write beside the store (the documented
format), their manifest, replay, and incremental text embedding after `ckg update`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ckg import resources
from ckg.embed import artifacts, data, train
from ckg.embed.config import TrainConfig
from ckg.embed.text import TextEncoder, embed_papers
from ckg.etl.build import update
from ckg.store import open_store, query

from conftest import EMBED_TEST_CONFIG, copy_store

pytestmark = pytest.mark.slow  # trains embeddings (the session's trained demo store, or more)

CKG = "https://w3id.org/ckg/ontology#"


def count(store, sparql):
    return int(next(iter(query(store, sparql)))[0].value)


def test_the_run_is_written_in_the_documented_format(trained_demo_store):
    path, result = trained_demo_store
    folder = path / "embeddings" / "runs" / result.run_id
    assert result.path == folder
    assert (path / "embeddings" / "current").read_text() == result.run_id + "\n"
    names = {p.name for p in folder.iterdir()}
    assert names == {"manifest.json", "papers.tsv", "text.npy", "text_parts.npy", "graph.npy", "popularity.npy",
                     "entities.tsv", "entity_vectors.npy", "relations.tsv", "relation_vectors.npy", "triples.npy",
                     "triples_split.npy"}
    lines = (folder / "papers.tsv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "key\ttext_hash\tparts\tgraph\ttitle"
    rows = [line.split("\t") for line in lines[1:]]
    store = open_store(path, read_only=True)
    keys = sorted(resources.key_of(r[0], "paper") for r in query(store, "SELECT ?p WHERE { ?p a ckg:Paper }"))
    assert [r[0] for r in rows] == keys
    text, parts, graph = (np.load(folder / f) for f in ("text.npy", "text_parts.npy", "graph.npy"))
    assert text.shape == (60, 384) and parts.shape == (60, 3, 384) and graph.shape == (60, 64)
    assert text.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(text, axis=1), 1, atol=1e-5)
    # the parts flags say which part vectors are there
    for i, (_, _, flags, has_graph, _) in enumerate(rows):
        assert [bool(np.abs(parts[i, j]).sum()) for j in range(3)] == [c == "1" for c in flags]
        assert bool(np.abs(graph[i]).sum()) == (has_graph == "1")
    # a paper's title column is its title in the store
    titles = {resources.key_of(r[0], "paper"): r[1].value for r in query(store, "SELECT ?p ?t WHERE { ?p dcterms:title ?t }")}
    assert all(title == " ".join(titles.get(key, "").split()) for key, _, _, _, title in rows)
    # popularity.npy: log(1 + in-corpus citations), the most cited paper 1
    cited = {resources.key_of(r[0], "paper"): int(r[1].value) for r in query(
        store, "SELECT ?p (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c ckg:cites ?p } GROUP BY ?p")}
    top = max(cited.values())
    np.testing.assert_allclose(np.load(folder / "popularity.npy"),
                               [np.log1p(cited.get(r[0], 0)) / np.log1p(top) for r in rows], rtol=1e-5)
    # graph.npy rows are the papers' rows of entity_vectors.npy
    entities = (folder / "entities.tsv").read_text(encoding="utf-8").splitlines()[1:]
    vectors = np.load(folder / "entity_vectors.npy")
    i = entities.index(resources.paper(rows[7][0]).value)
    np.testing.assert_array_equal(graph[7], vectors[i])
    relations = (folder / "relations.tsv").read_text(encoding="utf-8").splitlines()[1:]
    assert relations == [CKG + "affiliatedWith", CKG + "associatedConcept", CKG + "associatedTopic", CKG + "authoredBy",
                         CKG + "cites"]
    triples, split = np.load(folder / "triples.npy"), np.load(folder / "triples_split.npy")
    assert triples.shape == (len(split), 3) and set(split.tolist()) == {0, 1, 2}


def test_the_triplets_are_the_sparql_query_s(trained_demo_store):
    path, result = trained_demo_store
    store = open_store(path, read_only=True)
    expected = {(h.value, r.value, t.value) for h, r, t in query(store, """SELECT ?h ?r ?t WHERE {
        VALUES ?r { ckg:cites ckg:authoredBy ckg:affiliatedWith ckg:associatedConcept ckg:associatedTopic } ?h ?r ?t }""")}
    folder = result.path
    entities = (folder / "entities.tsv").read_text(encoding="utf-8").splitlines()[1:]
    relations = (folder / "relations.tsv").read_text(encoding="utf-8").splitlines()[1:]
    written = {(entities[h], relations[r], entities[t]) for h, r, t in np.load(folder / "triples.npy")}
    assert written == expected == set(data.training_triples(store))


def test_the_manifest(trained_demo_store):
    path, result = trained_demo_store
    m = json.loads((result.path / "manifest.json").read_text())
    assert m == result.manifest
    assert m["kind"] == "embedding-run" and m["run"] == result.run_id and m["previous_run"] is None
    assert m["store_state"]["release"] == "demo-1" and m["store_state"]["papers"] == 60
    assert m["config"] == TrainConfig().override(EMBED_TEST_CONFIG).to_dict()
    assert set(m["versions"]) >= {"python", "torch", "pykeen", "sentence-transformers", "faiss-cpu", "numpy"}
    assert m["versions"]["torch"].startswith("2.13.0")
    store = open_store(path, read_only=True)
    text = m["counts"]["text"]
    assert text["papers"] == 60 and text["embedded"] == 60 and text["reused"] == 0
    assert text["with_part"] == {
        "title": count(store, "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p dcterms:title ?t }"),
        "abstract": count(store, "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p dcterms:abstract ?t }"),
        "body": count(store, "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p ckg:bodyText ?t }")}
    assert text["passages_embedded"]["title"] == text["with_part"]["title"]
    assert text["with_part"]["body"] <= text["passages_embedded"]["body"] <= 2 * text["with_part"]["body"]
    graph = m["counts"]["graph"]
    annotations = {p: count(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{CKG}{p}> ?o }}")
                   for p in ("associatedConcept", "associatedTopic")}
    assert graph["by_relation"] == {CKG + "affiliatedWith": 73, CKG + "authoredBy": 305, CKG + "cites": 200,
                                    **{CKG + p: n for p, n in annotations.items()}}
    assert graph["triples"] == graph["training"] + graph["validation"] + graph["test"] == 578 + sum(annotations.values())
    assert graph["papers_with_graph"] == 60
    metrics = m["metrics"]["graph"]
    assert metrics["evaluated_on"] == "test" and metrics["evaluated_triples"] == graph["test"]
    assert 0 < metrics["mrr"] <= 1 and 0 <= metrics["hits_at_10"] <= 1 and metrics["epochs_run"] <= 10
    assert len(metrics["losses"]) == metrics["epochs_run"]
    assert metrics["validation"]["every_epochs"] == 5 and len(metrics["validation"]["values"]) >= 1
    assert m["metrics"]["text"]["papers_per_s"] > 0 and m["metrics"]["text"]["tokens_per_s"] > 0
    assert text["tokens_embedded"] > 254 * text["passages_embedded"]["body"] / 2
    assert set(m["timings_s"]) == {"read", "text_model_load", "text", "graph", "write", "total"}
    assert m["search"] == {"index": "exact", "modes": ["combined", "text", "graph"]}


def test_a_run_replays_from_its_manifest(trained_demo_store):
    path, result = trained_demo_store
    replayed = TrainConfig.from_file(result.path / "manifest.json")
    assert replayed == result.config


def test_incremental_training_after_an_update(trained_demo_store, demo_releases, tmp_path):
    store_path = copy_store(trained_demo_store[0], tmp_path / "store")
    first = artifacts.load_run(store_path)
    before = {p.key: p for p in data.paper_texts(open_store(store_path, read_only=True))}
    changes = update(store_path, [demo_releases[1]], release="demo-2").counts["changes"]
    after = {p.key: p for p in data.paper_texts(open_store(store_path, read_only=True))}
    new = set(after) - set(before)
    removed = set(before) - set(after)
    text_changed = {k for k in set(after) & set(before) if after[k].parts() != before[k].parts()}
    assert (len(new), len(removed)) == (changes["new"], changes["removed"]) == (6, 3)
    assert 0 < len(text_changed) < changes["changed"]  # some changes (an added author) leave the text alone

    second = train(store_path, TrainConfig().override(EMBED_TEST_CONFIG))
    counts = second.counts["text"]
    assert counts["embedded"] == len(new | text_changed)
    assert counts["reused"] == len(after) - len(new | text_changed)
    assert counts["removed_since_previous"] == 3
    assert second.manifest["previous_run"] == first.run_id
    run = artifacts.load_run(store_path)
    assert run.run_id == second.run_id and run.papers == sorted(after)
    old_rows, rows = first.row_of(), run.row_of()
    for key in sorted(after):
        if key in new | text_changed:
            continue
        np.testing.assert_array_equal(run.text_parts[rows[key]], first.text_parts[old_rows[key]])
    # re-embedded papers have the vectors a full embedding gives them
    encoder = TextEncoder(TrainConfig().override(EMBED_TEST_CONFIG).text)
    fresh = embed_papers(encoder, [after[k] for k in sorted(new | text_changed)])
    for i, key in enumerate(sorted(new | text_changed)):
        np.testing.assert_allclose(run.text_parts[rows[key]], fresh.parts[i], atol=1e-5)
    # the graph changed (new papers and citations), so it was trained again
    assert second.manifest["graph"]["reused_from"] is None
    # a third run on the unchanged store reuses everything
    third = train(store_path, TrainConfig().override(EMBED_TEST_CONFIG))
    assert third.counts["text"]["embedded"] == 0 and third.counts["text"]["reused"] == len(after)
    assert third.manifest["graph"]["reused_from"] == second.run_id
    np.testing.assert_array_equal(artifacts.load_run(store_path).graph, run.graph)
    # --full re-embeds everything
    full = train(store_path, TrainConfig().override(EMBED_TEST_CONFIG), incremental=False)
    assert full.counts["text"]["embedded"] == len(after)
    assert artifacts.list_runs(store_path)[-1] == full.run_id and len(artifacts.list_runs(store_path)) == 3


def test_changing_the_text_model_settings_re_embeds_everything(trained_demo_store, tmp_path):
    store_path = copy_store(trained_demo_store[0], tmp_path / "store")
    result = train(store_path, TrainConfig().override({**EMBED_TEST_CONFIG, "text.max_passages": 1}))
    assert result.counts["text"]["embedded"] == 60 and result.counts["text"]["reused"] == 0
    # the part weights are applied to the stored part vectors: no re-embedding needed
    again = train(store_path, TrainConfig().override({**EMBED_TEST_CONFIG, "text.max_passages": 1,
                                                      "text.part_weights": [1, 2, 0]}))
    assert again.counts["text"]["reused"] == 60


def test_a_tiny_graph_is_trained_without_a_split(mini_store, tmp_path):
    store_path = copy_store(mini_store[0], tmp_path / "store")
    result = train(store_path, TrainConfig().override({"graph.method": "kge", "graph.epochs": 3}))
    graph = result.counts["graph"]
    # 18 authorship, affiliation and citation edges, 8 concept and 10 topic edges
    assert graph["triples"] == graph["training"] == 36 and graph["validation"] == graph["test"] == 0
    assert result.metrics["graph"]["evaluated_on"] == "training" and "validation" not in result.metrics["graph"]
    assert result.counts["text"]["with_part"] == {"title": 5, "abstract": 3, "body": 3}
    assert graph["papers_with_graph"] == 5


def test_bad_configs_are_refused(mini_store):
    with pytest.raises(ValueError, match="unknown KGE model 'NoSuchModel'; PyKEEN knows .*TransE"):
        train(mini_store[0], TrainConfig().override({"graph.method": "kge", "graph.model": "NoSuchModel",
                                                     "graph.epochs": 1}))
    with pytest.raises(ValueError, match="text part weights must be three non-negative numbers"):
        TrainConfig().override({"text.part_weights": [0, 0, 0]})
    with pytest.raises(ValueError, match="unknown setting text.max_passage;"):
        TrainConfig.from_dict({"text": {"max_passage": 3}})
