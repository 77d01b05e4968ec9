"""Ranking metrics of the evaluation: Recall@k, nDCG@k (binary relevance), graded nDCG@k, their
expected values under a uniformly random ranking, and bootstrap confidence intervals of a mean
(over the values, or over clusters of them: :func:`cluster_bootstrap_ci`).

>>> recall_at_k(["a", "x", "b"], {"a", "b", "c", "d"}, k=2)
0.25
>>> round(ndcg_at_k(["x", "a"], {"a"}, k=10), 4)  # one relevant item at rank 2: 1/log2(3)
0.6309
>>> ndcg_at_k(["a", "b"], {"a", "b"}, k=10)
1.0
>>> expected_random_recall(candidates=100, k=10)
0.1
>>> round(expected_random_ndcg(relevant=1, candidates=100, k=10), 4)
0.0454
>>> graded_ndcg_at_k([1, 2], [2, 1, 0], k=10) == (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def _discounts(k: int) -> list[float]:
    return [1.0 / math.log2(rank + 1) for rank in range(1, k + 1)]


def recall_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """Share of the relevant items found in the first ``k`` of ``ranked``."""
    if not relevant:
        raise ValueError("recall needs at least one relevant item")
    return len(set(ranked[:k]) & relevant) / len(relevant)


def ndcg_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """Normalised discounted cumulative gain at ``k`` with binary relevance."""
    if not relevant:
        raise ValueError("nDCG needs at least one relevant item")
    d = _discounts(k)
    dcg = sum(d[i] for i, item in enumerate(ranked[:k]) if item in relevant)
    ideal = sum(d[: min(k, len(relevant))])
    return dcg / ideal


def expected_random_recall(candidates: int, k: int) -> float:
    """E[Recall@k] when the candidates are ranked uniformly at random: each relevant item is in
    the first ``k`` with probability ``k / candidates``."""
    return min(k, candidates) / candidates if candidates else 0.0


def expected_random_ndcg(relevant: int, candidates: int, k: int) -> float:
    """E[nDCG@k] under a uniformly random ranking: each rank r <= k holds a relevant item with
    probability ``relevant / candidates``, so E[DCG] = relevant / candidates * sum of discounts."""
    if not candidates or not relevant:
        return 0.0
    d = _discounts(min(k, candidates))
    ideal = sum(_discounts(k)[: min(k, relevant)])
    return (relevant / candidates) * sum(d) / ideal


def bootstrap_ci(values: Sequence[float], *, seed: int = 0, resamples: int = 2000,
                 level: float = 0.95) -> tuple[float, float]:
    """A percentile bootstrap confidence interval of the mean of ``values``.

    >>> bootstrap_ci([1.0, 1.0, 1.0])
    (1.0, 1.0)
    """
    data = np.asarray(values, dtype=float)
    if len(data) == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, len(data), size=(resamples, len(data)))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return (round(float(lo), 6), round(float(hi), 6))


def paired_bootstrap(a: Sequence[float], b: Sequence[float], *, seed: int = 0, resamples: int = 2000) -> dict:
    """Mean difference a - b over paired values, its 95% interval and the share of resamples in
    which a does not beat b (a one-sided bootstrap p-value).

    >>> paired_bootstrap([1, 1, 1], [0, 0, 0])["mean_difference"]
    1.0
    """
    x = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if len(x) == 0:
        return {"mean_difference": None, "ci95": [None, None], "p_not_better": None}
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(resamples, len(x)))].mean(axis=1)
    lo, hi = np.quantile(means, [0.025, 0.975])
    return {"mean_difference": round(float(x.mean()), 6), "ci95": [round(float(lo), 6), round(float(hi), 6)],
            "p_not_better": round(float((means <= 0).mean()), 4)}


def graded_ndcg_at_k(gains: Sequence[float], pool: Sequence[float], k: int) -> float | None:
    """nDCG@k of a ranking whose items have ``gains`` (best first), against the ideal ordering of
    the ``pool`` of gains it was drawn from (linear gains, discount ``1 / log2(rank + 1)``); None
    when the pool has no positive gain (nothing to find).

    >>> graded_ndcg_at_k([2, 1, 0], [0, 1, 2], k=10)
    1.0
    >>> graded_ndcg_at_k([0, 0], [0, 0], k=10) is None
    True
    """
    d = _discounts(k)
    ideal = sum(g * w for g, w in zip(sorted(pool, reverse=True)[:k], d))
    if ideal <= 0:
        return None
    return sum(g * w for g, w in zip(list(gains)[:k], d)) / ideal


def _cluster_means(values: Sequence[float], clusters: Sequence, seed: int, resamples: int) -> np.ndarray:
    """Means of ``values`` over ``resamples`` resamples of whole clusters (with replacement)."""
    data = np.asarray(values, dtype=float)
    labels = {c: i for i, c in enumerate(dict.fromkeys(clusters))}
    index = np.array([labels[c] for c in clusters], dtype=np.int64)
    sums = np.bincount(index, weights=data, minlength=len(labels))
    counts = np.bincount(index, minlength=len(labels)).astype(float)
    picks = np.random.default_rng(seed).integers(0, len(labels), size=(resamples, len(labels)))
    return sums[picks].sum(axis=1) / counts[picks].sum(axis=1)


def cluster_bootstrap_ci(values: Sequence[float], clusters: Sequence, *, seed: int = 0, resamples: int = 2000,
                         level: float = 0.95) -> tuple[float, float]:
    """A percentile bootstrap interval of the mean of ``values`` that resamples whole clusters
    (``clusters[i]`` is the cluster of ``values[i]``), for values that are correlated within a
    cluster (the query papers of one TREC-COVID topic). Each resample's mean is over the values
    of the clusters drawn, so it estimates the same (value-weighted) mean as ``np.mean(values)``.

    >>> cluster_bootstrap_ci([1.0, 1.0, 0.0], ["a", "a", "b"], seed=0) == (0.0, 1.0)
    True
    >>> cluster_bootstrap_ci([0.5, 0.5], ["a", "b"])
    (0.5, 0.5)
    """
    if len(values) != len(clusters):
        raise ValueError("one cluster per value")
    if len(values) == 0:
        return (float("nan"), float("nan"))
    means = _cluster_means(values, clusters, seed, resamples)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return (round(float(lo), 6), round(float(hi), 6))


def paired_cluster_bootstrap(a: Sequence[float], b: Sequence[float], clusters: Sequence, *, seed: int = 0,
                             resamples: int = 2000) -> dict:
    """:func:`paired_bootstrap` with whole clusters resampled: the mean difference a - b, its 95%
    interval and the share of resamples in which a does not beat b.

    >>> paired_cluster_bootstrap([1, 1], [0, 0], ["t1", "t2"])
    {'mean_difference': 1.0, 'ci95': [1.0, 1.0], 'p_not_better': 0.0}
    """
    x = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if len(x) == 0:
        return {"mean_difference": None, "ci95": [None, None], "p_not_better": None}
    means = _cluster_means(x, clusters, seed, resamples)
    lo, hi = np.quantile(means, [0.025, 0.975])
    return {"mean_difference": round(float(x.mean()), 6), "ci95": [round(float(lo), 6), round(float(hi), 6)],
            "p_not_better": round(float((means <= 0).mean()), 4)}
