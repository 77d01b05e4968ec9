"""The evaluation: held-out citation edges never reach its KG training, the metrics are the
documented ones, the report's figures agree with the engine's answers, and topics are read by
SPARQL (absent: "no topics in this store")."""

from __future__ import annotations

import json

import numpy as np
import pyoxigraph as ox
import pytest

from ckg import resources
from ckg.embed import Index, evaluate
from ckg.embed import metrics as m
from ckg.embed.evaluation import EvaluationConfig, split_citations
from ckg.embed.topics import paper_topics
from ckg.store import open_store, query
from ckg.terms import CKG, RDF, RDFS, SKOS

from conftest import copy_store

pytestmark = pytest.mark.slow  # trains embeddings (the session's trained demo store, or more)


@pytest.fixture(scope="module")
def evaluated(trained_demo_store, tmp_path_factory):
    out = tmp_path_factory.mktemp("evaluation") / "out"
    return evaluate(trained_demo_store[0], out, EvaluationConfig(samples=2, seed=3))


def citations_of(store_path):
    store = open_store(store_path, read_only=True)
    return sorted((resources.key_of(a, "paper"), resources.key_of(b, "paper"))
                  for a, b in query(store, "SELECT ?a ?b WHERE { ?a ckg:cites ?b }"))


def test_held_out_edges_are_not_in_the_evaluation_s_training(evaluated, trained_demo_store):
    out = evaluated.out
    held = [tuple(line.split("\t")) for line in (out / "held-out-citations.tsv").read_text().splitlines()[1:]]
    cites = citations_of(trained_demo_store[0])
    assert len(cites) == 200 and len(held) == 40 and set(held) <= set(cites)
    assert held == split_citations(cites, 0.2, seed=3)[1]
    entities = (out / "run" / "entities.tsv").read_text().splitlines()[1:]
    relations = (out / "run" / "relations.tsv").read_text().splitlines()[1:]
    trained = {(entities[h], relations[r], entities[t]) for h, r, t in np.load(out / "run" / "triples.npy")}
    cites_iri = CKG.cites.value
    trained_cites = {(resources.key_of(ox.NamedNode(h), "paper"), resources.key_of(ox.NamedNode(t), "paper"))
                     for h, r, t in trained if r == cites_iri}
    assert trained_cites == set(cites) - set(held)
    manifest = json.loads((out / "run" / "manifest.json").read_text())
    assert manifest["evaluation"] == {"holdout": 0.2, "seed": 3, "held_out_edges": 40, "kept_edges": 160}
    assert manifest["text_from_run"] == trained_demo_store[1].run_id


def test_recovery_metrics_are_computed_from_the_recommendations(evaluated, trained_demo_store):
    rec = evaluated.recovery
    held = split_citations(citations_of(trained_demo_store[0]), 0.2, seed=3)[1]
    kept = set(citations_of(trained_demo_store[0])) - set(held)
    assert rec["held_out_edges"] == 40 and rec["queries"] == len({a for a, _ in held})
    per_query = {q["paper"]: q for q in rec["per_query"]}
    eval_run_index = Index(__import__("ckg.embed.artifacts", fromlist=["x"]).EmbeddingRun.read(evaluated.out / "run"))
    for source, q in list(per_query.items())[:8]:
        relevant = {b for a, b in held if a == source}
        assert set(q["held_out"]) == relevant
        known = {b for a, b in kept if a == source} | {a for a, b in kept if b == source}
        assert q["candidates"] == 60 - 1 - len(known - {source})
        for mode in ("text", "graph", "combined"):
            top = [n.paper for n in eval_run_index.similar(source, 10, mode, exclude=known)]
            assert not set(top) & known
            assert q[mode]["recall"] == pytest.approx(m.recall_at_k(top, relevant, 10))
            assert q[mode]["ndcg"] == pytest.approx(m.ndcg_at_k(top, relevant, 10))
            assert q[mode]["hits"] == sorted(set(top) & relevant)
        assert q["random"]["recall"] == pytest.approx(10 / q["candidates"])
    for mode in ("text", "graph", "combined", "random", "graph_link_prediction"):
        row = rec["modes"][mode]
        assert row["recall_at_k"] == pytest.approx(np.mean([q[mode]["recall"] for q in per_query.values()]), abs=1e-6)
        assert row["recall_ci95"][0] <= row["recall_at_k"] <= row["recall_ci95"][1]
    # on the demo corpus, whose citations follow topics, text beats a random ranking clearly
    assert rec["modes"]["text"]["recall_at_k"] > 1.5 * rec["modes"]["random"]["recall_at_k"]
    assert rec["comparisons"]["text_vs_random"]["recall"]["ci95"][0] > 0
    assert set(rec["diagnostics"]) >= {"combined_top_k_shared_with_text", "score_std_graph",
                                       "held_out_targets_without_graph_vector", "held_out_pairs_sharing_an_author"}
    # the weight sensitivity reproduces the three modes at w = 0, 1 and the default 0.5
    sensitivity = rec["diagnostics"]["graph_weight_sensitivity"]["recall_at_k"]
    assert sensitivity["0.0"] == pytest.approx(rec["modes"]["text"]["recall_at_k"], abs=1e-6)
    assert sensitivity["1.0"] == pytest.approx(rec["modes"]["graph"]["recall_at_k"], abs=1e-6)
    assert sensitivity["0.5"] == pytest.approx(rec["modes"]["combined"]["recall_at_k"], abs=1e-6)


def test_popularity_figures(evaluated, trained_demo_store):
    pop = evaluated.report["popularity"]
    cited = {}
    for _, b in citations_of(trained_demo_store[0]):
        cited[b] = cited.get(b, 0) + 1
    assert pop["corpus_mean_citations"] == pytest.approx(200 / 60, abs=1e-4)
    index = Index.load(trained_demo_store[0])
    recs = [cited.get(n.paper, 0) for p in index.papers for n in index.similar(p, 10, "text")]
    assert pop["modes"]["text"]["recommendation_mean_citations"] == pytest.approx(np.mean(recs), abs=1e-4)
    assert pop["modes"]["text"]["sources"] == 60


def test_the_report_files(evaluated):
    out = evaluated.out
    assert (out / "projection.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads((out / "report.json").read_text())
    # the demo store has the topics its build found (seeded LDA): the topic analyses run
    topics = report["topics"]
    assert topics["available"] and topics["papers_with_topics"] > 0
    assert set(topics["modes"]) >= {"text", "combined"}
    md = (out / "report.md").read_text()
    assert "## Topic intersection" in md and "| mode | sources | same dominant topic |" in md
    assert "| text only | " in md and "| random (expected) | " in md and "![projection](projection.png)" in md
    assert len(report["samples"]) == 2 and len(report["samples"][0]["recommendations"]["combined"]) == 3
    for sample in report["samples"]:
        assert f"(`{sample['paper']}`)" in md


def demo_topics(papers: int = 60, seed: int = 7) -> dict[str, str]:
    """cord_uid -> topic label of the demo corpus (the generator's own plan: tests only)."""
    from ckg.demo_corpus import TOPICS, _Corpus

    return {p.uid: TOPICS[p.topic]["label"] for p in _Corpus(papers, seed).papers}


def add_topics(store_path, topics: dict[str, str]) -> None:
    """Write topic triples the way the topics step does (edge, annotation node with a probability,
    topic nodes with skos:prefLabel), in place of the topics the build's topic model found."""
    store = open_store(store_path)
    g = ox.NamedNode("https://w3id.org/ckg/resource/graph/topics")
    store.remove_graph(g)
    quads = []
    for key, label in topics.items():
        paper = resources.paper(key)
        topic = ox.NamedNode("https://w3id.org/ckg/resource/topic/" + label.replace(" ", "-"))
        quads += [ox.Quad(paper, CKG.associatedTopic, topic, g),
                  ox.Quad(topic, RDF.type, CKG.Topic, g),
                  ox.Quad(topic, SKOS.prefLabel, ox.Literal(label), g)]
        node = ox.NamedNode(paper.value + "/topic/" + label.replace(" ", "-"))
        quads += [ox.Quad(node, RDF.type, CKG.TopicAssociation, g),
                  ox.Quad(node, CKG.annotatedSource, paper, g),
                  ox.Quad(node, CKG.annotatedProperty, CKG.associatedTopic, g),
                  ox.Quad(node, CKG.annotatedTarget, topic, g),
                  ox.Quad(node, CKG.probability, ox.Literal("0.8", datatype=ox.NamedNode(
                      "http://www.w3.org/2001/XMLSchema#decimal")), g)]
    # a second, weaker topic for one paper, labelled with rdfs:label only
    first = sorted(topics)[0]
    weak = ox.NamedNode("https://w3id.org/ckg/resource/topic/other")
    quads += [ox.Quad(resources.paper(first), CKG.associatedTopic, weak, g),
              ox.Quad(weak, RDFS.label, ox.Literal("other"), g)]
    store.extend(quads)
    store.flush()
    del store


def test_topics_are_read_by_sparql(trained_demo_store, tmp_path):
    store_path = copy_store(trained_demo_store[0], tmp_path / "store")
    truth = demo_topics()
    present = {p for p in Index.load(store_path).papers}
    truth = {k: v for k, v in truth.items() if k in present}
    add_topics(store_path, truth)
    topics = paper_topics(open_store(store_path, read_only=True))
    assert len(topics.of) == 60
    first = sorted(truth)[0]
    assert [topics.label(t) for t in topics.of[first]] == [truth[first], "other"]  # by weight: 0.8 before none
    assert {topics.label(topics.dominant(k)) for k in truth} == set(truth.values())


def test_topic_intersection_and_projection(trained_demo_store, tmp_path):
    store_path = copy_store(trained_demo_store[0], tmp_path / "store")
    index = Index.load(store_path)
    truth = {k: v for k, v in demo_topics().items() if k in set(index.papers)}
    add_topics(store_path, truth)
    result = evaluate(store_path, tmp_path / "out", EvaluationConfig(samples=1, epochs=2))
    top = result.report["topics"]
    assert top["available"] and top["papers_with_topics"] == 60
    # the report's share equals the share computed here from the engine's own recommendations
    same = [np.mean([truth[n.paper] == truth[p] for n in index.similar(p, 10, "text")]) for p in index.papers]
    assert top["modes"]["text"]["share_same_dominant_topic"] == pytest.approx(np.mean(same), abs=1e-4)
    sizes = {}
    for label in truth.values():
        sizes[label] = sizes.get(label, 0) + 1
    baseline = np.mean([(sizes[truth[p]] - 1) / 59 for p in index.papers])
    assert top["modes"]["text"]["random_share_same_dominant_topic"] == pytest.approx(baseline, abs=1e-4)
    # text embeddings group the demo corpus's papers by their topic far above chance
    assert top["modes"]["text"]["share_same_dominant_topic"] > 2 * baseline
    assert result.report["projection"]["coloured_by"] == "dominant topic"
    assert "virology" in result.report["projection"]["topics_shown"]
    assert "| text | 60 |" in (tmp_path / "out" / "report.md").read_text()


def test_evaluation_needs_embeddings(mini_store, tmp_path):
    from ckg.embed import NoEmbeddings

    with pytest.raises(NoEmbeddings, match="has no embeddings yet"):
        evaluate(mini_store[0], tmp_path / "out")
    with pytest.raises(ValueError, match="holdout must be between 0 and 1"):
        EvaluationConfig(holdout=1.5).validate()


def test_without_topics_the_topic_analyses_are_skipped_and_said_so():
    from ckg.embed.evaluation import _topic_intersection
    from ckg.embed.report import _topics
    from ckg.embed.topics import Topics

    result = _topic_intersection({"text": {"a": ["b"]}}, Topics(), ["a", "b"])
    assert result == {"available": False, "note": "no topics in this store"}
    assert "No topics in this store: the topic analyses are skipped." in "\n".join(_topics(result))
