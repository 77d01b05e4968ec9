"""PageRank over the citation graph: exact values, the stored graph, and updates that equal builds."""

from __future__ import annotations

import random

import pytest

from ckg import resources
from ckg.etl.build import build, update
from ckg.etl.ranking import pagerank
from ckg.store import open_store, query

from conftest import MINI

SHA9 = "9" * 40


def stored_scores(path) -> dict[str, float]:
    store = open_store(path, read_only=True)
    graph = resources.graph(resources.RANKING_GRAPH_NAME).value
    rows = query(store, f"SELECT ?p ?r WHERE {{ GRAPH <{graph}> {{ ?p ckg:pageRankScore ?r }} }}")
    return {r["p"].value.rsplit("/", 1)[1]: float(r["r"].value) for r in rows}


def test_pagerank_by_hand():
    # a -> c, b -> c, c dangling: r_a = r_b = 10/47, r_c = 27/47 (see ckg.etl.ranking)
    ranks = pagerank(["a", "b", "c"], [("a", "c"), ("b", "c")])
    assert ranks == pytest.approx({"a": 10 / 47, "b": 10 / 47, "c": 27 / 47}, abs=1e-12)
    # a 2-cycle plus an isolated node: the cycle keeps its rank, the isolated node only gets the teleport share
    # r_x = r_y = y; r_z = z: z = 0.15/3 + 0.85 z/3 -> z = 0.05 / (1 - 0.85/3) = 3/43 ... = 0.0697674
    ranks = pagerank(["x", "y", "z"], [("x", "y"), ("y", "x")])
    assert ranks["z"] == pytest.approx(0.05 / (1 - 0.85 / 3), abs=1e-12)
    assert ranks["x"] == pytest.approx(ranks["y"]) == pytest.approx((1 - ranks["z"]) / 2)


def test_pagerank_ignores_self_loops_duplicates_and_unknown_ends():
    base = pagerank(["a", "b", "c"], [("a", "c"), ("b", "c")])
    noisy = pagerank(["c", "b", "a", "a"], [("a", "c"), ("a", "c"), ("b", "c"), ("c", "c"), ("x", "a"), ("a", "y")])
    assert noisy == base


def test_pagerank_matches_networkx_reference():
    nx = pytest.importorskip("networkx")
    from networkx.algorithms.link_analysis.pagerank_alg import _pagerank_python

    rng = random.Random(4)
    nodes = [f"p{i:03d}" for i in range(200)]
    edges = {(rng.choice(nodes), rng.choice(nodes)) for _ in range(600)}
    edges = {(a, b) for a, b in edges if a != b}
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from(edges)
    expected = _pagerank_python(graph, alpha=0.85, tol=1e-15, max_iter=1000)
    assert pagerank(nodes, edges) == pytest.approx(expected, abs=1e-10)


def test_build_stores_pagerank_of_the_mini_corpus(mini_store):
    nx = pytest.importorskip("networkx")
    from networkx.algorithms.link_analysis.pagerank_alg import _pagerank_python

    graph = nx.DiGraph()
    graph.add_nodes_from(["aaaa0001", "aaaa0002", "aaaa0003", "aaaa0008", SHA9])
    graph.add_edges_from([("aaaa0001", "aaaa0002"), ("aaaa0001", "aaaa0003"), ("aaaa0002", "aaaa0001"),
                          (SHA9, "aaaa0001")])
    expected = _pagerank_python(graph, alpha=0.85, tol=1e-15, max_iter=1000)
    scores = stored_scores(mini_store[0])
    assert scores == pytest.approx(expected, abs=1e-11)
    assert sum(scores.values()) == pytest.approx(1.0, abs=1e-10)
    assert max(scores, key=scores.get) == "aaaa0001"


def test_update_recomputes_pagerank_like_a_fresh_build(tmp_path, mini_next):
    updated, fresh = tmp_path / "updated", tmp_path / "fresh"
    build(updated, [MINI], release="r1")
    before = stored_scores(updated)
    update(updated, [mini_next], release="r2")
    build(fresh, [mini_next], release="r2")
    after = stored_scores(updated)
    assert after == stored_scores(fresh)  # bit-identical, not only close
    assert "aaaa0003" in before and "aaaa0003" not in after and "aaaa0010" in after
    assert after["aaaa0002"] != before["aaaa0002"]  # aaaa0011 now cites it
