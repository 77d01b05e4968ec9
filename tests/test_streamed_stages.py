"""The annotation stages hold a range of papers at a time, not the corpus (ckg.etl.annotate's
EDGE_RANGE_PAPERS): with ranges of a few papers, a build and an update that re-derives every
concept edge write exactly the store that whole-corpus processing writes, and PageRank read as a
stream of the catalog's edges gives the scores it gave from a dict."""

from __future__ import annotations

import random

import pytest

from ckg.etl import annotate
from ckg.etl.annotate import AnnotationOptions
from ckg.etl.build import build, update
from ckg.etl.concept_edges import EdgeRules
from ckg.etl.ranking import pagerank

from test_topics import _sampled_config
from test_update import assert_counted, content, graph_sizes


def test_ranges_of_a_few_papers_write_the_store_whole_processing_writes(tmp_path, demo_releases, monkeypatch):
    r1, r2 = demo_releases
    sampled = AnnotationOptions(topics=_sampled_config(tmp_path, 20, 0.9))
    whole = tmp_path / "whole"
    build(whole, [r1], release="demo-1", annotation=sampled)

    monkeypatch.setattr(annotate, "EDGE_RANGE_PAPERS", 7)  # 60 papers: 9 ranges, the last unbounded
    ranged = tmp_path / "ranged"
    result = build(ranged, [r1], release="demo-1", annotation=sampled)
    assert content(ranged) == content(whole)
    concepts, topics = result.counts["concepts"], result.counts["topics"]
    assert concepts["edges"] == concepts["edges_recomputed"] == concepts["edges_added"] > 0
    assert topics["mode"] == "sampled" and topics["inferred"] == 60 and topics["edges_added"] == topics["edges"] > 60

    # new edge rules: the update re-derives every concept edge, range by range, over a store that
    # has the old ones (changed papers, removed papers' edges, edges whose weight changed)
    stricter = AnnotationOptions(topics=sampled.topics, rules=EdgeRules(min_body_mentions=4))
    result = update(ranged, [r2], release="demo-2", annotation=stricter)
    assert_counted(result)  # the concepts graph rewritten range by range, counted from the catalog's edges
    changed = result.counts
    assert not changed["concepts"]["incremental"] and changed["changes"]["removed"] > 0
    assert changed["concepts"]["edges_removed"] > 0
    fresh = tmp_path / "fresh"
    build(fresh, [r2], release="demo-2", annotation=AnnotationOptions(topics=sampled.topics, topics_from=ranged,
                                                                       rules=stricter.rules))
    assert graph_sizes(ranged) == graph_sizes(fresh)
    assert content(ranged) == content(fresh)


def _pagerank_of_pairs(nodes, edges, damping=0.85, tolerance=1e-12):
    """PageRank as ckg computed it before it read the edges as a stream (a sorted list of pairs)."""
    import numpy as np

    keys = sorted(set(nodes))
    n = len(keys)
    index = {k: i for i, k in enumerate(keys)}
    pairs = sorted({(index[a], index[b]) for a, b in edges if a in index and b in index and a != b})
    src = np.fromiter((a for a, _ in pairs), dtype=np.int64, count=len(pairs))
    dst = np.fromiter((b for _, b in pairs), dtype=np.int64, count=len(pairs))
    out_degree = np.bincount(src, minlength=n).astype(np.float64)
    dangling = out_degree == 0
    weight = np.zeros(n)
    np.divide(1.0, out_degree, out=weight, where=~dangling)
    rank = np.full(n, 1.0 / n)
    for _ in range(1000):
        flow = np.bincount(dst, weights=rank[src] * weight[src], minlength=n)
        new = damping * (flow + rank[dangling].sum() / n) + (1.0 - damping) / n
        change = np.abs(new - rank).sum()
        rank = new
        if change < tolerance:
            break
    rank = rank / rank.sum()
    return {k: float(rank[i]) for k, i in index.items()}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pagerank_from_a_stream_of_edges_is_bit_identical(seed):
    rng = random.Random(seed)
    nodes = [f"p{i:04d}" for i in range(rng.randint(50, 400))]
    edges = [(rng.choice(nodes), rng.choice(nodes)) for _ in range(rng.randint(100, 3000))]
    edges += edges[:50] + [("outside", nodes[0]), (nodes[1], "outside")]  # duplicates, unknown ends, self-loops above
    got = pagerank(nodes, iter(edges))
    assert got == _pagerank_of_pairs(nodes, edges)  # the same floats, not approximately
    assert abs(sum(got.values()) - 1) < 1e-12
