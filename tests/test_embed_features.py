"""The ``features`` graph method (ckg.embed.features): similarities known by hand on tiny graphs, the
reduction, how the search reads the vectors, a run on the demo store, and ``ckg tune``."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import sparse

from ckg import resources
from ckg.embed import data
from ckg.embed.artifacts import EmbeddingRun
from ckg.embed.config import TrainConfig
from ckg.embed.features import build_features, paper_features, reduce
from ckg.embed.pipeline import train
from ckg.embed.search import Index, mode_vectors
from ckg.embed.tune import TuneConfig, blend, citation_folds, tune
from ckg.terms import CKG

from conftest import EMBED_TEST_CONFIG, copy_store

P = resources.paper
CITES, CONCEPT, TOPIC, AUTHOR = (CKG.cites.value, CKG.associatedConcept.value, CKG.associatedTopic.value,
                                 CKG.authoredBy.value)
ONLY = {"concepts": 0.0, "topics": 0.0, "references": 0.0, "citations": 0.0, "authors": 0.0}


def sims(papers, triples, weights, feature_weights):
    m = paper_features(papers, triples, weights, feature_weights).matrix
    return (m @ m.T).toarray()


def test_bibliographic_coupling_and_co_citation():
    papers = ["a", "b", "c", "d", "e"]
    # a and b both cite c (coupling), a also cites d; e cites a and b (co-citation of a and b)
    cites = [("a", "c"), ("b", "c"), ("a", "d"), ("e", "a"), ("e", "b")]
    triples = [(P(x).value, CITES, P(y).value) for x, y in cites]
    idf = {1: math.log(5), 2: math.log(5 / 2)}  # a feature 1 or 2 of the 5 papers have
    coupling = sims(papers, triples, {}, {**ONLY, "references": 1.0})
    # a: {c: idf2, d: idf1}, b: {c: idf2}: the cosine is idf2 / |a|
    assert coupling[0, 1] == pytest.approx(idf[2] / math.hypot(idf[2], idf[1]))
    assert coupling[0, 4] == 0 and coupling[2, 3] == 0  # c and d cite nothing
    cocitation = sims(papers, triples, {}, {**ONLY, "citations": 1.0})
    assert cocitation[0, 1] == pytest.approx(1.0)  # a and b are both cited by e only
    # c is cited by a (who cites 2 papers: idf2) and b (idf1); d by a only
    assert cocitation[2, 3] == pytest.approx(idf[2] / math.hypot(idf[2], idf[1]))
    both = sims(papers, triples, {}, {**ONLY, "references": 1.0, "citations": 3.0})
    # the weighted mean of the two block cosines (weights 1/4 and 3/4)
    assert both[0, 1] == pytest.approx(0.25 * coupling[0, 1] + 0.75 * cocitation[0, 1])
    # a paper's own vector has norm 1 when it has every block, less when it lacks one
    assert both[0, 0] == pytest.approx(1.0) and both[1, 1] == pytest.approx(1.0) and both[4, 4] == pytest.approx(0.25)


def test_concepts_weigh_confidence_times_idf_and_topics_probability():
    papers = ["a", "b", "c"]
    edges = {("a", CONCEPT, "x"): 0.9, ("a", CONCEPT, "y"): 0.5, ("b", CONCEPT, "x"): 0.6, ("c", CONCEPT, "y"): None,
             ("a", CONCEPT, "z"): 1.0, ("b", CONCEPT, "z"): 1.0, ("c", CONCEPT, "z"): 1.0,  # z: every paper, idf 0
             ("a", TOPIC, "t1"): 0.8, ("a", TOPIC, "t2"): 0.2, ("b", TOPIC, "t1"): 1.0}
    triples = [(P(p).value, r, "concept:" + t) for (p, r, t) in edges]
    weights = {(P(p).value, r, "concept:" + t): w for (p, r, t), w in edges.items() if w is not None}
    concepts = sims(papers, triples, weights, {**ONLY, "concepts": 1.0})
    # x and y have the same idf (2 of 3 papers): a = (0.9, 0.5) * idf, b = (0.6, 0) * idf, c = (0, 1) * idf
    # (an edge without a confidence counts 1); z weighs nothing
    assert concepts[0, 1] == pytest.approx(0.9 / math.hypot(0.9, 0.5))
    assert concepts[0, 2] == pytest.approx(0.5 / math.hypot(0.9, 0.5))
    assert concepts[1, 2] == 0
    topics = sims(papers, triples, weights, {**ONLY, "topics": 1.0})
    assert topics[0, 1] == pytest.approx(0.8 / math.hypot(0.8, 0.2))  # probabilities, no idf
    mixed = sims(papers, triples, weights, {**ONLY, "concepts": 1.0, "topics": 0.5})
    assert mixed[0, 1] == pytest.approx((concepts[0, 1] + 0.5 * topics[0, 1]) / 1.5)
    f = paper_features(papers, triples, weights, {**ONLY, "concepts": 1.0, "topics": 0.5})
    assert f.counts["blocks"]["concepts"] == {"features": 3, "papers": 3, "weight": pytest.approx(2 / 3)}
    assert f.counts["blocks"]["topics"] == {"features": 2, "papers": 2, "weight": pytest.approx(1 / 3)}
    assert f.counts["blocks"]["authors"]["features"] == 0


def test_shared_authors_and_the_model():
    papers = ["a", "b", "c", "d"]
    triples = [(P(p).value, AUTHOR, "author:" + x) for p, x in (("a", "x"), ("b", "x"), ("c", "y"))]
    model = build_features(papers, triples, {}, dim=16)
    # d has no edge: no vector; the others: exact (fewer papers than dimensions)
    assert model.entities == [P("a").value, P("b").value, P("c").value]
    vectors, present = model.vectors_for([P(p).value for p in papers])
    assert present.tolist() == [True, True, True, False]
    s = vectors @ vectors.T
    assert s[0, 1] == pytest.approx(1.0, abs=1e-5) and abs(s[0, 2]) < 1e-6
    assert model.metrics["method"] == "features" and model.metrics["reduction"] == "exact"
    assert model.counts["features"]["papers_with_features"] == 3


def test_the_reduction_is_seeded_and_keeps_inner_products_nearly():
    rng = np.random.default_rng(3)
    m = sparse.random(120, 400, density=0.02, random_state=rng, format="csr")
    m = sparse.diags(1 / np.maximum(np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel()), 1e-9)) @ m
    a, how = reduce(m, 100, seed=0)
    b, _ = reduce(m, 100, seed=0)
    assert how == "truncated SVD (100 dimensions)" and a.shape == (120, 100)
    np.testing.assert_array_equal(a, b)
    assert np.linalg.norm(a, axis=1).max() <= 1 + 1e-5  # a projection: norms never grow
    exact = (m @ m.T).toarray()
    assert np.abs(a @ a.T - exact).mean() < 0.05
    small, how = reduce(m[:, :50], 64)
    assert how == "exact" and small.shape == (120, 50)
    rows, how = reduce(m[:30], 64)
    assert how == "exact (SVD of the rows)"
    np.testing.assert_allclose(rows @ rows.T, (m[:30] @ m[:30].T).toarray(), atol=1e-5)


def test_the_search_reads_feature_vectors_as_they_are():
    run = EmbeddingRun(["a", "b"], ["A", "B"], ["h", "h"], graph=np.array([[0.3, 0.4], [0.6, 0.8]], np.float32),
                       graph_mask=np.array([True, True]))
    run.manifest = {"graph": {"method": "features"}}
    vectors, _ = mode_vectors(run, "graph", (1, 1))
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), [0.5, 1.0], atol=1e-6)
    run.manifest = {"graph": {"method": "kge"}}
    vectors, _ = mode_vectors(run, "graph", (1, 1))
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), [1.0, 1.0], atol=1e-6)


def test_graph_config():
    config = TrainConfig().override({"graph.feature_weights": {"topics": 0}})
    assert config.graph.method == "features"
    assert config.graph.feature_weights == {"concepts": 1.0, "topics": 0, "references": 1.0, "citations": 1.0,
                                            "authors": 1.0}
    assert TrainConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="graph.method must be one of features, kge"):
        TrainConfig().override({"graph.method": "pagerank"})
    with pytest.raises(ValueError, match="unknown feature block 'venues'"):
        TrainConfig().override({"graph.feature_weights": {"venues": 1}})
    with pytest.raises(ValueError, match="at least one positive"):
        TrainConfig().override({"graph.feature_weights": dict.fromkeys(("concepts", "topics", "references",
                                                                       "citations", "authors"), 0)})


def test_blend_and_splits():
    assert blend(np.array([0.5, np.nan, np.nan]), np.array([np.nan, 0.5, np.nan]), 0.5)[:2].tolist() == [0.25, 0.25]
    assert np.isnan(blend(np.array([np.nan]), np.array([np.nan]), 0.5)[0])
    edges = [(f"p{i}", f"q{j}") for i in range(20) for j in range(5)]
    folds, held = citation_folds(edges, 0.2, 4, seed=4)
    from ckg.embed.evaluation import split_citations

    assert held == split_citations(edges, 0.2, 4)[1]  # the evaluation's held-out edges, exactly
    assert [len(f) for f in folds] == [20, 20, 20, 20]
    assert len(set().union(*map(set, folds))) == 80 and not set().union(*map(set, folds)) & set(held)


# -- on the demo store ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def features_store(trained_demo_store, tmp_path_factory):
    """The trained demo store with a second run, made with the features method (text reused)."""
    path = copy_store(trained_demo_store[0], tmp_path_factory.mktemp("features") / "store")
    config = {"text.max_passages": EMBED_TEST_CONFIG["text.max_passages"]}  # otherwise the defaults
    return path, train(path, TrainConfig().override(config))


def test_a_features_run(features_store):
    path, result = features_store
    m = result.manifest
    assert m["graph"]["method"] == "features" and m["graph"]["model"] == "features"
    assert m["counts"]["text"]["reused"] == 60  # the graph method does not touch the text vectors
    blocks = m["counts"]["graph"]["features"]["blocks"]
    assert {b for b, v in blocks.items() if v["features"]} == {"concepts", "topics", "references", "citations",
                                                               "authors"}
    assert m["metrics"]["graph"]["reduction"] == "exact (SVD of the rows)"  # 60 papers < 256 dimensions
    assert m["counts"]["graph"]["papers_with_graph"] == 60
    # the index's graph score of two papers is the exact weighted feature similarity
    from ckg.store import open_store

    store = open_store(path, read_only=True)
    triples, weights = data.training_triples(store), data.edge_weights(store)
    assert weights and all(r in (CONCEPT, TOPIC) for _, r, _ in weights)
    index = Index.load(path)
    exact = paper_features(index.papers, triples, weights, result.config.graph.feature_weights).matrix
    a, b = index.papers[3], index.papers[11]
    assert index.similarity(a, b, "graph") == pytest.approx((exact[3] @ exact[11].T).toarray()[0, 0], abs=1e-5)
    # combined: the weighted mean of the text and graph scores, plus the prior x b's popularity
    wt, wg = index.search_config.weights
    expected = (wt * index.similarity(a, b, "text") + wg * index.similarity(a, b, "graph")) / (wt + wg)
    prior = index.search_config.popularity * float(index.run.popularity[11])
    assert index.similarity(a, b) == pytest.approx(expected + prior, abs=1e-5)


def test_citation_recovery_and_tuning_with_features(features_store, tmp_path):
    from ckg.embed import evaluate
    from ckg.embed.evaluation import EvaluationConfig

    path = copy_store(features_store[0], tmp_path / "store")
    # the demo papers cite each other (200 edges): `train` tuned the run already
    trained = features_store[1].manifest
    assert trained["tuning"]["tuned_on"]["ground_truth"] == "citations" and "tune" in trained["timings_s"]
    assert trained["tuning"]["before"] == {"weights": [0.95, 0.05], "popularity": 0.0}  # the defaults
    record = tune(path, TuneConfig(seed=0))
    assert record["grid"] == trained["tuning"]["grid"]  # tuning again: the same figures (seeded)
    assert record["tuned_on"]["ground_truth"] == "citations" and record["objective"] == "recall@10"
    assert record["tuned_on"]["edges"] == {"validation": 160, "held_out_unseen": 40}
    assert record["queries"] >= 50 and len(record["graph"]["seconds_per_fold"]) == 5
    # every prior with every graph share (the demo papers cite each other)
    assert set(record["grid"]) == {str(p) for p in TuneConfig().priors}
    assert all(set(row) == {str(w) for w in TuneConfig().shares} for row in record["grid"].values())
    flat = {(float(p), float(w)): v for p, row in record["grid"].items() for w, v in row.items()}
    best = max(flat.values())
    chosen = (record["popularity"], record["graph_share"])
    assert flat[chosen] == best and all(v < best for key, v in flat.items() if key < chosen)  # ties: the smaller
    manifest = json.loads((Index.load(path).run.path / "manifest.json").read_text())
    assert manifest["config"]["search"]["weights"] == record["weights"] == [round(1 - record["graph_share"], 6),
                                                                             record["graph_share"]]
    assert manifest["config"]["search"]["popularity"] == record["popularity"]
    assert manifest["tuning"]["tuned_on"]["split"] == "validation edges (5 folds)"
    assert manifest["tuning"]["before"] == {"weights": record["weights"], "popularity": record["popularity"]}
    index = Index.load(path)
    assert index.search_config.weights == tuple(record["weights"])
    assert index.search_config.popularity == record["popularity"]
    # the evaluation holds out other edges than the ones tuned on, and reports the tuned weights
    report = evaluate(path, tmp_path / "eval", EvaluationConfig(samples=0, plot=False)).report
    rec = report["citation_recovery"]
    assert rec["weights"] == {"text_graph": record["weights"], "popularity": record["popularity"],
                              "tuned_on": manifest["tuning"]["tuned_on"]}
    modes = rec["modes"]
    assert modes["graph"]["recall_at_k"] > 3 * modes["random"]["recall_at_k"]
    assert rec["evaluation_graph_model"]["metrics"]["method"] == "features"


def test_the_popularity_prior_ranks_the_cited_first_among_equals():
    # four papers: b, c and d are equally similar to a in text and graph; d is the most cited
    text = np.array([[1, 0], [0.6, 0.8], [0.6, 0.8], [0.6, 0.8]], np.float32)
    run = EmbeddingRun(list("abcd"), list("ABCD"), ["h"] * 4, text=text, text_parts=np.stack([text] * 3, axis=1),
                       text_mask=np.ones((4, 3), bool), graph=text.copy(), graph_mask=np.ones(4, bool),
                       popularity=np.array([0.0, 0.2, 0.0, 1.0], np.float32))
    run.manifest = {"graph": {"method": "features"}, "config": {"search": {"weights": [1, 1], "popularity": 0.1}}}
    index = Index(run)
    assert index.search_config.popularity == 0.1
    assert [n.paper for n in index.similar("a", 3)] == ["d", "b", "c"]
    # a candidate's score gains prior x popularity: 0.6 + 0.1 x 1.0 for d; the score is d's for a
    assert index.similarity("a", "d") == pytest.approx(0.7) and index.similarity("d", "a") == pytest.approx(0.6)
    assert index.scores("a")[1:].tolist() == pytest.approx([0.62, 0.6, 0.7])
    # the text and graph modes know no prior
    assert index.scores("a", mode="text")[1:].tolist() == pytest.approx([0.6, 0.6, 0.6])
    assert index.similarity("a", "d", mode="text") == pytest.approx(0.6)


def test_ckg_tune_prints_the_grid(features_store, cli, tmp_path):
    path = copy_store(features_store[0], tmp_path / "store")
    before = (Index.load(path).run.path / "manifest.json").read_text()
    out = cli("tune", "--store", path, "--folds", 2, "--dry-run").output.splitlines()
    assert out[0].startswith(f"tuned run {Index.load(path).run_id} of {path} on citations (validation edges (2 folds)): ")
    assert out[0].endswith("queries, objective recall@10")
    assert [line.split()[:2] for line in out[1:-1]] == [["prior", str(p)] for p in TuneConfig().priors]
    assert out[-1].startswith("  weights (text, graph) (") and out[-1].endswith("not written (--dry-run)")
    assert (Index.load(path).run.path / "manifest.json").read_text() == before
    out = cli("tune", "--store", path, "--folds", 2).output
    assert "written to the run's manifest" in out
    assert json.loads((Index.load(path).run.path / "manifest.json").read_text())["tuning"]["config"]["folds"] == 2
