"""The similar-paper engine: text and knowledge-graph embeddings of papers, top-k search, evaluation.

* :func:`train` (:mod:`ckg.embed.pipeline`) embeds every paper's title, abstract and body with a
  sentence-transformers model (:mod:`ckg.embed.text`) and gives each paper a graph vector from the
  edges read by SPARQL (:mod:`ckg.embed.data`): its weighted concepts, topics, references, citing
  papers and authors (:mod:`ckg.embed.features`, the default) or KG embeddings trained with PyKEEN
  (:mod:`ckg.embed.graph`), and writes a run beside the store (:mod:`ckg.embed.artifacts`).
* :func:`tune` (:mod:`ckg.embed.tune`) chooses the combined mode's weights and popularity prior on
  a validation split (TREC-COVID validation topics, or validation citation edges).
* :class:`Index` (:mod:`ckg.embed.search`) answers "papers similar to this one" in the modes
  ``combined``, ``text`` and ``graph`` with FAISS, and the similarity score of two papers.
* :func:`evaluate` (:mod:`ckg.embed.evaluation`) measures the recommendations: popularity, topic
  intersection, a 2-D projection, a sample of abstracts, and citation recovery on held-out
  citation edges against a random baseline; with relevance judgments, TREC-COVID co-relevance
  (:func:`evaluate_qrels`, :mod:`ckg.embed.trec`).

The names below are imported lazily, so ``import ckg.embed`` does not load torch.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "train": "ckg.embed.pipeline",
    "TrainResult": "ckg.embed.pipeline",
    "TrainConfig": "ckg.embed.config",
    "Index": "ckg.embed.search",
    "Neighbour": "ckg.embed.search",
    "MODES": "ckg.embed.search",
    "EmbeddingError": "ckg.embed.errors",
    "UnknownPaper": "ckg.embed.errors",
    "NoEmbedding": "ckg.embed.errors",
    "NoEmbeddings": "ckg.embed.errors",
    "similar": "ckg.embed.service",
    "similarity_backend": "ckg.embed.service",
    "SimilarityBackend": "ckg.embed.service",
    "evaluate": "ckg.embed.evaluation",
    "EvaluationResult": "ckg.embed.evaluation",
    "evaluate_qrels": "ckg.embed.trec",
    "tune": "ckg.embed.tune",
    "TuneConfig": "ckg.embed.tune",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ckg.embed' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
