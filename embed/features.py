"""Graph similarity computed from the graph itself: each paper as a weighted feature vector.

The ``features`` graph method (``graph.method``; the other is ``kge``, :mod:`ckg.embed.graph`).
A paper's feature vector has five blocks, read from the same triplets as the KG embeddings
(``embed-training-triples``) and the edge weights (``embed-edge-weights``):

* ``concepts``: its concepts, each ``ckg:confidence x idf(concept)``;
* ``topics``: its topics, each ``ckg:probability``;
* ``references``: the papers it cites, each ``idf`` (bibliographic coupling: two papers citing
  the same paper share a feature);
* ``citations``: the papers citing it, each ``idf`` (co-citation: two papers cited by the same
  paper share a feature);
* ``authors``: its authors, each ``idf``.

``idf(x) = log(N / df(x))`` with ``N`` the papers and ``df(x)`` the papers having feature ``x``:
a concept every paper has weighs nothing, one shared by two papers much. An edge without a
weight counts 1. Each block is L2-normalised and multiplied by ``sqrt(w_b / W)`` (``w_b`` the
block's weight in ``graph.feature_weights``, ``W`` the sum of the weights of the blocks the
corpus has at all), so the inner product of two papers' vectors is the weighted mean of their
block cosines (a block a paper lacks counts 0) and a vector's norm is at most 1. The vectors are
kept as they are (not re-normalised) by the search: a paper that shares little has a small
similarity to everyone, which re-normalising would undo.

Features of a single paper are dropped before the reduction (they add to that paper's norm, which
is kept, but to no similarity). The vectors are exact when they have at most ``feature_dim``
columns (or the corpus at most ``feature_dim`` papers: the exact SVD of the rows), else reduced to
``feature_dim`` dimensions with a seeded randomized truncated SVD (scikit-learn), whose inner
products approximate the exact ones (the manifest records the error on a sample of pairs).

Paper ``a`` has authors x and y, ``b`` x, ``c`` and ``d`` y: x (2 of 4 papers, idf log 2) is
rarer than y (3 of 4, idf log 4/3), so ``a`` is nearer ``b`` than ``c``:

>>> P, C = "https://w3id.org/ckg/resource/paper/", "https://w3id.org/ckg/ontology#"
>>> by = [("a", "x"), ("a", "y"), ("b", "x"), ("c", "y"), ("d", "y")]
>>> triples = [(P + p, C + "authoredBy", "author:" + x) for p, x in by]
>>> f = paper_features(["a", "b", "c", "d"], triples, {}, {"authors": 1.0})
>>> f.matrix.toarray().round(3).tolist()
[[0.924, 0.383], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]
>>> model = build_features(["a", "b", "c", "d"], triples, {}, feature_weights={"authors": 1.0}, dim=8)
>>> [round(float(x), 3) for x in model.entity_vectors @ model.entity_vectors[0]]
[1.0, 0.924, 0.383, 0.383]
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ckg.terms import CKG

from ckg.embed.config import DEFAULT_FEATURE_WEIGHTS, FEATURE_BLOCKS as BLOCKS

IDF_BLOCKS = {"concepts", "references", "citations", "authors"}

Triple = tuple[str, str, str]


@dataclass
class PaperFeatures:
    """The sparse feature matrix of the papers (rows in the order given) and what its columns are."""

    matrix: Any  # scipy.sparse.csr_matrix [papers, features], blocks weighted, norms <= 1
    columns: list[tuple[str, str]]  # (block, IRI of the feature) per column
    counts: dict[str, Any] = field(default_factory=dict)

    def block_matrix(self, block: str):
        """The columns of one block (weighted as in ``matrix``)."""
        cols = [i for i, (b, _) in enumerate(self.columns) if b == block]
        return self.matrix[:, cols]


def _blocks(papers: Sequence[str], triples: Sequence[Triple],
            weights: Mapping[Triple, float]) -> dict[str, dict[tuple[int, str], float]]:
    """block -> {(paper row, feature IRI): raw value}."""
    from ckg import resources

    row_of = {resources.paper(k).value: i for i, k in enumerate(papers)}
    relation_block = {CKG.associatedConcept.value: "concepts", CKG.associatedTopic.value: "topics",
                      CKG.authoredBy.value: "authors"}
    cites = CKG.cites.value
    out: dict[str, dict[tuple[int, str], float]] = {b: {} for b in BLOCKS}
    for h, r, t in triples:
        if r == cites:
            if h in row_of and t != h:
                out["references"][(row_of[h], t)] = 1.0
            if t in row_of and t != h:
                out["citations"][(row_of[t], h)] = 1.0
            continue
        block = relation_block.get(r)
        if block is not None and h in row_of:
            w = weights.get((h, r, t))
            out[block][(row_of[h], t)] = 1.0 if w is None else max(0.0, float(w))
    return out


def paper_features(papers: Sequence[str], triples: Sequence[Triple], weights: Mapping[Triple, float],
                   feature_weights: Mapping[str, float] | None = None) -> PaperFeatures:
    """The papers' feature vectors (keys ``papers``, rows in that order) from the triplets and the
    edge weights ``(head, relation, tail) -> weight``. Blocks missing from ``feature_weights``
    weigh 0 (left out)."""
    from scipy import sparse

    feature_weights = dict(DEFAULT_FEATURE_WEIGHTS if feature_weights is None else feature_weights)
    n = len(papers)
    raw = _blocks(papers, triples, weights)
    present = {b: bool(raw[b]) and feature_weights.get(b, 0.0) > 0 for b in BLOCKS}
    total = sum(feature_weights.get(b, 0.0) for b in BLOCKS if present[b])
    matrices, columns, counts = [], [], {"papers": n, "blocks": {}}
    for block in BLOCKS:
        if not present[block]:
            counts["blocks"][block] = {"features": 0, "papers": 0, "weight": 0.0}
            continue
        entries = raw[block]
        names = sorted({f for _, f in entries})
        col = {f: j for j, f in enumerate(names)}
        rows = np.fromiter((i for i, _ in entries), dtype=np.int64, count=len(entries))
        cols = np.fromiter((col[f] for _, f in entries), dtype=np.int64, count=len(entries))
        vals = np.fromiter(entries.values(), dtype=np.float64, count=len(entries))
        if block in IDF_BLOCKS:
            df = np.bincount(cols, minlength=len(names)).astype(np.float64)
            vals = vals * np.log(max(n, 1) / df)[cols]
        m = sparse.csr_matrix((vals, (rows, cols)), shape=(n, len(names)))
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        scale = np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0), 0.0) * math.sqrt(feature_weights[block] / total)
        m = sparse.diags(scale) @ m
        m.eliminate_zeros()
        matrices.append(m.tocsr())
        columns += [(block, f) for f in names]
        counts["blocks"][block] = {"features": len(names), "papers": int((norms > 0).sum()),
                                   "weight": round(feature_weights[block] / total, 6)}
    matrix = sparse.hstack(matrices, format="csr") if matrices else sparse.csr_matrix((n, 0))
    counts["features"] = int(matrix.shape[1])
    counts["nonzeros"] = int(matrix.nnz)
    counts["papers_with_features"] = int((matrix.getnnz(axis=1) > 0).sum()) if matrix.shape[1] else 0
    return PaperFeatures(matrix, columns, counts)


def reduce(matrix, dim: int, seed: int = 0) -> tuple[np.ndarray, str]:
    """Dense vectors whose inner products are (approximately) those of the rows of ``matrix``:
    the matrix itself when it has at most ``dim`` columns, the exact SVD when it has at most
    ``dim`` rows, else a seeded randomized truncated SVD to ``dim`` dimensions."""
    n, f = matrix.shape
    if f <= dim:
        return matrix.toarray().astype(np.float32), "exact"
    if n <= dim:
        u, s, _ = np.linalg.svd(matrix.toarray(), full_matrices=False)
        return (u * s).astype(np.float32), "exact (SVD of the rows)"
    from sklearn.decomposition import TruncatedSVD

    svd = TruncatedSVD(n_components=dim, algorithm="randomized", n_iter=7, random_state=seed)
    return svd.fit_transform(matrix).astype(np.float32), f"truncated SVD ({dim} dimensions)"


def build_features(papers: Sequence[str], triples: Sequence[Triple], weights: Mapping[Triple, float], *,
                   feature_weights: Mapping[str, float] | None = None, dim: int = 256, seed: int = 0):
    """A :class:`ckg.embed.graph.GraphModel` whose entities are the papers with a feature and whose
    entity vectors are their (reduced) feature vectors."""
    from ckg import resources
    from ckg.embed.graph import GraphModel

    started = time.perf_counter()
    features = paper_features(papers, triples, weights, feature_weights)
    t_features = time.perf_counter() - started
    t0 = time.perf_counter()
    matrix = features.matrix
    has = matrix.getnnz(axis=1) > 0 if matrix.shape[1] else np.zeros(len(papers), dtype=bool)
    # a feature of one paper adds to that paper's norm only, never to a similarity: drop its column
    # (the rows keep the norms they had) so that the reduction spends its dimensions on shared ones
    shared = matrix[:, np.flatnonzero(matrix.getnnz(axis=0) >= 2)]
    vectors, how = reduce(shared, dim, seed)
    t_reduce = time.perf_counter() - t0
    rows = np.flatnonzero(has)
    entities = [resources.paper(papers[i]).value for i in rows]
    metrics: dict[str, Any] = {"method": "features", "reduction": how, "dimension": int(vectors.shape[1]),
                               "shared_features": int(shared.shape[1]), "evaluated_on": None}
    if shared.shape[1] and len(rows) > 1:
        sample = rows[np.random.default_rng(seed).permutation(len(rows))[:2000]]
        exact = (shared[sample] @ shared[sample].T).toarray()
        approx = vectors[sample] @ vectors[sample].T
        off = ~np.eye(len(sample), dtype=bool)
        metrics["pair_similarity_error"] = {  # reduced against exact, over pairs of distinct papers
            "mean": round(float(np.abs(approx - exact)[off].mean()), 6),
            "max": round(float(np.abs(approx - exact)[off].max()), 6),
            "sampled_papers": len(sample)}
    relations = sorted({r for _, r, _ in triples})
    by_relation: dict[str, int] = defaultdict(int)
    for _, r, _ in triples:
        by_relation[r] += 1
    counts = {"triples": len(triples), "training": len(triples), "validation": 0, "test": 0,
              "entities": len(entities), "relations": len(relations), "by_relation": dict(sorted(by_relation.items())),
              "features": features.counts}
    # the triplets as (entity, relation, entity) rows are kept by the KGE method only
    return GraphModel(entities, vectors[rows] if len(rows) else np.zeros((0, vectors.shape[1]), np.float32),
                      relations, None, np.zeros((0, 3), np.int32), np.zeros(0, np.uint8), metrics, counts,
                      {"features": round(t_features, 3), "reduce": round(t_reduce, 3),
                       "total": round(time.perf_counter() - started, 3)})
