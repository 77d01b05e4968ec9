"""The similar-paper engine on the 803 real bioRxiv/medRxiv parses of CORD-19's first release:
the full train + evaluate, with a small budget so that it fits CI (one passage per abstract and
body, 20 KGE epochs; bench/bench_embed.py trains with the defaults)."""

from __future__ import annotations

import json

import pytest

from ckg.embed import Index, evaluate, train
from ckg.embed.config import TrainConfig
from ckg.embed.evaluation import EvaluationConfig
from ckg.store import open_store, query

from conftest import copy_store

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

GUAN = "dfb0fedbeed56bd2b795a67faab28295afc14c96"  # Clinical characteristics of 2019 novel coronavirus infection in China
CKG = "https://w3id.org/ckg/ontology#"
CI_CONFIG = {"text.max_passages": 1, "graph.method": "kge", "graph.epochs": 20, "search.weights": [1.0, 1.0]}
"""The KGE method (20 epochs) with equal weights; test_real_graph_features trains the defaults."""


@pytest.fixture(scope="module")
def real_run(real_biorxiv, tmp_path_factory):
    # the 803 papers built with the real vocabularies (MeSH, Disease Ontology, COVOC): concepts and topics
    path = copy_store(real_biorxiv[0], tmp_path_factory.mktemp("real-embed") / "store")
    return path, train(path, TrainConfig().override(CI_CONFIG))


def test_real_training_run(real_run):
    path, result = real_run
    counts = result.counts
    text = counts["text"]
    assert text["papers"] == 803 and text["embedded"] == 803 and text["with_text"] == 803
    # titles, abstracts and bodies as the ETL's real-data test counts them
    assert text["with_part"] == {"title": 768, "abstract": 706, "body": 803}  # one abstract was only a license footer
    assert text["passages_embedded"] == {"title": 768, "abstract": 706, "body": 803}  # one each (the cap)
    graph = counts["graph"]
    store = open_store(path, read_only=True)
    edges = {r["p"].value: int(r["n"].value) for r in query(store, """SELECT ?p (COUNT(*) AS ?n) WHERE {
        SELECT DISTINCT ?s ?p ?o WHERE {
            VALUES ?p { ckg:affiliatedWith ckg:authoredBy ckg:associatedConcept ckg:associatedTopic } ?s ?p ?o } }
        GROUP BY ?p""")}
    # every edge of the five kinds is a training triplet; the real papers have thousands of each
    assert graph["by_relation"] == {**edges, CKG + "cites": 417}
    assert edges[CKG + "authoredBy"] > 6500 and edges[CKG + "affiliatedWith"] > 4500
    assert edges[CKG + "associatedConcept"] > 15000 and edges[CKG + "associatedTopic"] > 1000
    with_edges = int(next(iter(query(store, """SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p a ckg:Paper .
        { ?p ckg:authoredBy|ckg:cites|^ckg:cites|ckg:associatedConcept|ckg:associatedTopic ?x } }""")))[0].value)
    assert graph["papers_with_graph"] == with_edges and 790 < with_edges <= 803
    metrics = result.metrics["graph"]
    assert metrics["evaluated_on"] == "test" and metrics["evaluated_triples"] == graph["test"] > 300
    assert 0 < metrics["mrr"] < 1 and 0 < metrics["hits_at_10"] < 1 and metrics["epochs_run"] <= 20


def test_real_similar_papers(real_run):
    index = Index.load(real_run[0])
    assert index.run.titles[index.rows[GUAN]] == "Clinical characteristics of 2019 novel coronavirus infection in China"
    text = index.similar(GUAN, 10, "text")
    # its text neighbours are clinical case series, as a reader would expect
    assert sum("clinical" in n.title.lower() for n in text) >= 3
    share = sum("clinical" in t.lower() for t in index.run.titles) / len(index.run.titles)
    assert share < 0.1
    assert [n.score for n in text] == sorted((n.score for n in text), reverse=True)
    assert len(index.similar(GUAN, 10, "combined")) == len(index.similar(GUAN, 10, "graph")) == 10


def test_real_evaluation(real_run, tmp_path):
    path, _ = real_run
    result = evaluate(path, tmp_path / "eval", EvaluationConfig(samples=3))
    rec = result.recovery
    assert rec["held_out_edges"] == 83 and rec["kept_edges"] == 334 and rec["queries"] > 60
    modes = rec["modes"]
    # every engine mode beats a random ranking; text by far
    assert modes["text"]["recall_at_k"] > 10 * modes["random"]["recall_at_k"]
    assert modes["combined"]["recall_at_k"] > 5 * modes["random"]["recall_at_k"]
    assert modes["graph"]["recall_at_k"] > modes["random"]["recall_at_k"]
    topics = result.report["topics"]
    store = open_store(path, read_only=True)
    with_topics = int(next(iter(query(store, """SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {
        ?p a ckg:Paper ; ckg:associatedTopic ?t }""")))[0].value)
    assert topics["available"] and topics["papers_with_topics"] == with_topics and with_topics > 790
    # recommendations share the paper's dominant topic far more often than random picks
    for mode in ("text", "combined"):
        m = topics["modes"][mode]
        assert m["share_same_dominant_topic"] > 2 * m["random_share_same_dominant_topic"]
    report = json.loads((tmp_path / "eval" / "report.json").read_text())
    assert report["popularity"]["modes"]["text"]["sources"] == 803
    assert (tmp_path / "eval" / "projection.png").stat().st_size > 10_000
    print("\n" + (tmp_path / "eval" / "report.md").read_text().split("## Popularity")[0])


def test_real_graph_features(real_run, tmp_path):
    """The defaults (graph features, weights and prior tuned on validation citation edges) on the
    same papers: the graph part alone is far above chance, and the combination above both parts."""
    path = copy_store(real_run[0], tmp_path / "store")
    result = train(path, TrainConfig().override({"text.max_passages": 1}))
    m = result.manifest
    assert m["graph"]["method"] == "features" and m["counts"]["text"]["reused"] == 803
    blocks = m["counts"]["graph"]["features"]["blocks"]
    assert blocks["references"]["papers"] > 100 and blocks["citations"]["papers"] > 100  # coupling, co-citation
    assert m["metrics"]["graph"]["pair_similarity_error"]["mean"] < 0.01
    tuning = m["tuning"]
    assert tuning["tuned_on"]["ground_truth"] == "citations" and tuning["tuned_on"]["edges"] == {
        "validation": 334, "held_out_unseen": 83}
    rec = evaluate(path, tmp_path / "eval", EvaluationConfig(samples=0, plot=False)).recovery
    modes = rec["modes"]
    print({mode: (modes[mode]["recall_at_k"], modes[mode]["recall_ci95"]) for mode in modes}, tuning["weights"],
          tuning["popularity"])
    assert rec["weights"]["tuned_on"] == tuning["tuned_on"]
    assert modes["graph"]["recall_at_k"] > 10 * modes["random"]["recall_at_k"]
    assert modes["combined"]["recall_at_k"] >= max(modes["text"]["recall_at_k"], modes["graph"]["recall_at_k"])
    assert rec["comparisons"]["combined_vs_text"]["recall"]["ci95"][0] > 0
