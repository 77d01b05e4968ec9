"""Search: scores are the documented cosines, neighbours come best first without the paper itself,
the combined mode weighs the parts as configured, and requests that cannot be answered say why."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyoxigraph as ox
import pytest

from ckg.embed import Index, NoEmbedding, NoEmbeddings, UnknownPaper
from ckg.embed.artifacts import load_run
from ckg.embed.config import SearchConfig
from ckg.embed.errors import EmbeddingError

pytestmark = pytest.mark.slow  # trains embeddings (the session's trained demo store, or more)


def unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def index(trained_demo_store):
    return Index.load(trained_demo_store[0])


def test_modes_and_papers(index, trained_demo_store):
    assert index.modes() == ["combined", "text", "graph"]
    assert index.run_id == trained_demo_store[1].run_id
    assert len(index.papers) == 60 and index.papers == sorted(index.papers)
    assert index.index_kind == "exact"


def test_text_and_graph_scores_are_cosines(index):
    run = index.run
    text, graph = unit(run.text), unit(run.graph)
    a, b = index.papers[3], index.papers[17]
    assert index.similarity(a, b, "text") == pytest.approx(float(text[3] @ text[17]), abs=1e-5)
    assert index.similarity(a, b, "graph") == pytest.approx(float(graph[3] @ graph[17]), abs=1e-5)
    # combined: the weighted mean of the two cosines (equal weights by default)
    expected = (float(text[3] @ text[17]) + float(graph[3] @ graph[17])) / 2
    assert index.similarity(a, b, "combined") == pytest.approx(expected, abs=1e-5)
    assert index.similarity(a, b) == pytest.approx(index.similarity(b, a), abs=1e-6)
    assert index.similarity(a, a, "text") == pytest.approx(1.0, abs=1e-5)


def test_weights_change_the_combined_score(trained_demo_store):
    run = load_run(trained_demo_store[0])
    weighted = Index(run, search=SearchConfig(weights=(3.0, 1.0)))
    text, graph = unit(run.text), unit(run.graph)
    expected = (3 * float(text[0] @ text[1]) + float(graph[0] @ graph[1])) / 4
    assert weighted.similarity(run.papers[0], run.papers[1]) == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("mode", ["combined", "text", "graph"])
def test_similar_is_the_exact_top_k(index, mode):
    paper = index.papers[5]
    found = index.similar(paper, k=7, mode=mode)
    assert [n.rank for n in found] == list(range(1, 8))
    assert paper not in [n.paper for n in found]
    scores = {p: index.similarity(paper, p, mode) for p in index.papers if p != paper}
    best = sorted(scores.items(), key=lambda kv: -kv[1])[:7]
    assert [n.paper for n in found] == [p for p, _ in best]
    assert [n.score for n in found] == pytest.approx([s for _, s in best], abs=1e-5)
    assert found[0].iri == "https://w3id.org/ckg/resource/paper/" + found[0].paper
    assert found[0].title == index.run.titles[index.rows[found[0].paper]]


def test_papers_are_named_by_key_iri_or_node(index):
    key = index.papers[2]
    iri = "https://w3id.org/ckg/resource/paper/" + key
    by_key = index.similar(key, 3)
    assert index.similar(iri, 3) == by_key == index.similar(f"<{iri}>", 3) == index.similar(ox.NamedNode(iri), 3)
    assert index.similar(key, 3, exclude={by_key[0].paper})[0] == dataclasses.replace(by_key[1], rank=1)


def test_unanswerable_requests(index):
    with pytest.raises(UnknownPaper, match="no paper 'nope' in the embeddings"):
        index.similar("nope")
    with pytest.raises(EmbeddingError, match="mode must be one of combined, text, graph"):
        index.similar(index.papers[0], mode="both")
    with pytest.raises(EmbeddingError, match="k must be at least 1"):
        index.similar(index.papers[0], k=0)
    assert index.similarity("nope", index.papers[0]) is None
    assert index.similarity("http://example.org/other", index.papers[0]) is None


def test_a_paper_without_a_graph_vector(trained_demo_store):
    run = load_run(trained_demo_store[0])
    lonely = run.papers[0]
    run.graph_mask = run.graph_mask.copy()
    run.graph_mask[0] = False
    index = Index(run)
    with pytest.raises(NoEmbedding, match=f"paper {lonely} has no graph embedding: it has no edge in the knowledge "
                                          "graph.*try --mode text"):
        index.similar(lonely, mode="graph")
    assert index.similarity(lonely, run.papers[1], "graph") is None
    # combined still answers through the text part; the missing graph part adds nothing (cosine 0)
    text = unit(run.text)
    assert index.similarity(lonely, run.papers[1]) == pytest.approx(float(text[0] @ text[1]) / 2, abs=1e-5)
    assert lonely not in [n.paper for n in index.similar(run.papers[1], k=59, mode="graph")]
    assert lonely in [n.paper for n in index.similar(run.papers[1], k=59, mode="combined")]


def test_the_approximate_index_finds_the_same_neighbours(trained_demo_store):
    run = load_run(trained_demo_store[0])
    exact = Index(run, search=SearchConfig(index="exact"))
    approximate = Index(run, search=SearchConfig(index="approximate"))
    assert approximate.index_kind == "approximate"
    assert type(approximate._mode_index("text").faiss).__name__ == "IndexHNSWFlat"
    for paper in run.papers[:10]:
        assert [n.paper for n in approximate.similar(paper, 5)] == [n.paper for n in exact.similar(paper, 5)]
    auto = Index(run, search=SearchConfig(index="auto", approximate_above=59))
    assert auto.index_kind == "approximate"


def test_a_store_without_embeddings(mini_store):
    with pytest.raises(NoEmbeddings, match="has no embeddings yet: train them with `ckg train --store"):
        Index.load(mini_store[0])
