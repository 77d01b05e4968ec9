"""The similar-paper engine: text and knowledge-graph embeddings of papers, top-k search, evaluation.

* :func:`train` (:mod:`ckg.embed.pipeline`) embeds every paper's title, abstract and body with a
  sentence-transformers model (:mod:`ckg.embed.text`) and trains knowledge-graph embeddings with
  PyKEEN on triplets read by SPARQL (:mod:`ckg.embed.graph`, :mod:`ckg.embed.data`), and writes a
  run beside the store (:mod:`ckg.embed.artifacts`).
* :class:`Index` (:mod:`ckg.embed.search`) answers "papers similar to this one" in the modes
  ``combined``, ``text`` and ``graph`` with FAISS, and the similarity score of two papers.
* :func:`evaluate` (:mod:`ckg.embed.evaluation`) measures the recommendations: popularity, topic
  intersection, a 2-D projection, a sample of abstracts, and citation recovery on held-out
  citation edges against a random baseline.

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
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ckg.embed' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
