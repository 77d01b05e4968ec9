"""Top-k similar papers: the parts L2-normalised, weighted and concatenated, searched with FAISS.

Three modes:

* ``text``: the paper's text vector (cosine similarity);
* ``graph``: the paper's graph vector: with the ``features`` graph method (the default,
  :mod:`ckg.embed.features`) the weighted mean of the block cosines of two papers' concepts,
  topics, references, citing papers and authors, used as stored (not re-normalised: norms at most
  1, so a paper that shares little stays far from everyone); with ``kge``, the cosine of the
  papers' KG-entity vectors;
* ``combined``: ``[sqrt(wt/W) * text, sqrt(wg/W) * graph]`` with ``W = wt + wg`` (the search
  weights of the run's config, which ``ckg tune`` sets on a validation split), so the inner
  product of two combined vectors is the weighted mean of their text and graph scores. A part a
  paper lacks is a zero block: it adds nothing to the score (it counts as cosine 0), and the paper
  is still found through its other part. With a popularity prior (``search.popularity = p > 0``)
  the combined vectors get one more coordinate: a candidate's popularity (``popularity.npy``,
  log-scaled in-corpus citations in [0, 1]) and, in the query, ``p``; so a candidate's score
  gains ``p x`` its popularity. That score is the candidate's as a recommendation for the query:
  ``similarity(a, b)`` is b's score for a.

Scores are inner products of these vectors: in [-1, 1] (plus the prior), 1 for identical directions. A FAISS
index per mode holds the papers that have a vector in that mode: exact (``IndexFlatIP``) by
default, approximate (``IndexHNSWFlat``, inner product, M=32, efSearch=128) when the run's
config says so or, with ``index="auto"``, above ``approximate_above`` papers.

The server's entry points::

    index = Index.load(store_path)               # the current run (NoEmbeddings when none)
    index.similar("PAPER-KEY-OR-IRI", k=10, mode="combined")  # -> [Neighbour, ...]
    index.similarity(a, b, mode="combined")      # -> float, or None without embeddings
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyoxigraph as ox

from ckg import resources
from ckg.embed.artifacts import EmbeddingRun, current_run_id, load_run
from ckg.embed.config import SearchConfig
from ckg.embed.errors import EmbeddingError, NoEmbedding, NoEmbeddings, UnknownPaper

MODES = ("combined", "text", "graph")
HNSW_M = 32
HNSW_EF_SEARCH = 128


@dataclass(frozen=True)
class Neighbour:
    """One similar paper."""

    rank: int
    paper: str  # the paper's key
    iri: str
    score: float
    title: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise EmbeddingError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    return mode


def normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.where(norms > 0, vectors / np.where(norms > 0, norms, 1), 0).astype(np.float32)


def graph_method(manifest: dict[str, Any]) -> str:
    """A run's graph method, ``features`` or ``kge`` (runs made before there was a choice: kge).

    >>> graph_method({"graph": {"method": "features"}}), graph_method({"graph": {"model": "TransE"}})
    ('features', 'kge')
    """
    return (manifest.get("graph") or {}).get("method") or "kge"


def mode_vectors(run: EmbeddingRun, mode: str, weights: tuple[float, float],
                 popularity: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(vectors, present mask) of every paper of a run in a mode (zero rows where absent); with a
    ``popularity`` prior (combined mode, a run with popularity) the last column is the papers'
    popularity."""
    n = len(run.papers)
    has_text = run.has_text() if run.text is not None else np.zeros(n, dtype=bool)
    has_graph = run.has_graph() if run.graph is not None else np.zeros(n, dtype=bool)
    text = normalise(run.text) * has_text[:, None] if run.text is not None else None
    graph = None
    if run.graph is not None:
        scaled = run.graph.astype(np.float32) if graph_method(run.manifest) == "features" else normalise(run.graph)
        graph = scaled * has_graph[:, None]
    if mode == "text":
        return (text if text is not None else np.zeros((n, 1), np.float32)), has_text
    if mode == "graph":
        return (graph if graph is not None else np.zeros((n, 1), np.float32)), has_graph
    wt, wg = weights
    total = wt + wg
    blocks = []
    if text is not None:
        blocks.append(np.sqrt(wt / total) * text)
    if graph is not None:
        blocks.append(np.sqrt(wg / total) * graph)
    if not blocks:
        return np.zeros((n, 1), np.float32), np.zeros(n, dtype=bool)
    if popularity > 0 and run.popularity is not None:
        blocks.append(run.popularity.reshape(-1, 1))
    return np.hstack(blocks).astype(np.float32), has_text | has_graph


class _ModeIndex:
    def __init__(self, vectors: np.ndarray, present: np.ndarray, kind: str, saved: Path | None,
                 prior: float = 0.0) -> None:
        import faiss

        self.prior = prior  # > 0: the last column is the popularity, the query's is the prior's weight
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.present = present
        self.rows = np.flatnonzero(present)  # faiss id -> paper row
        d = self.vectors.shape[1]
        if kind == "approximate":
            if saved is not None and saved.is_file():
                self.faiss = faiss.read_index(str(saved))
            else:
                self.faiss = faiss.IndexHNSWFlat(d, HNSW_M, faiss.METRIC_INNER_PRODUCT)
                if len(self.rows):
                    self.faiss.add(self.vectors[self.rows])
            self.faiss.hnsw.efSearch = HNSW_EF_SEARCH
        else:
            self.faiss = faiss.IndexFlatIP(d)
            if len(self.rows):
                self.faiss.add(self.vectors[self.rows])
        self.kind = kind

    def query(self, row: int) -> np.ndarray:
        """The query vector of a row: its vector, with the prior's weight in the popularity column."""
        if not self.prior:
            return self.vectors[row]
        out = self.vectors[row].copy()
        out[-1] = self.prior
        return out

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, len(self.rows))
        if k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        scores, ids = self.faiss.search(query.reshape(1, -1).astype(np.float32), k)
        keep = ids[0] >= 0
        return scores[0][keep], self.rows[ids[0][keep]]


class Index:
    """Similar-paper search over one embedding run (thread-safe for concurrent reads)."""

    def __init__(self, run: EmbeddingRun, search: SearchConfig | None = None, store_path: Path | None = None) -> None:
        self.run = run
        config = (run.manifest.get("config") or {}).get("search") or {}
        self.search_config = search or SearchConfig(weights=tuple(config.get("weights", (1.0, 1.0))),
                                                    popularity=float(config.get("popularity", 0.0)),
                                                    index=config.get("index", "auto"),
                                                    approximate_above=int(config.get("approximate_above", 100_000)))
        self.search_config.validate()
        self.store_path = Path(store_path) if store_path is not None else None
        self.rows = run.row_of()
        self._indexes: dict[str, _ModeIndex] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, store_path: Path, run: str | None = None) -> Index:
        """The index of a store's current run (or of run ``run``); :class:`NoEmbeddings` when the
        store has none."""
        return cls(load_run(store_path, run), store_path=store_path)

    # -- description --------------------------------------------------------------------------

    @property
    def run_id(self) -> str | None:
        return self.run.run_id

    @property
    def manifest(self) -> dict[str, Any]:
        return self.run.manifest

    @property
    def papers(self) -> list[str]:
        return self.run.papers

    @property
    def index_kind(self) -> str:
        kind = self.search_config.index
        if kind == "auto":
            kind = "approximate" if len(self.run.papers) > self.search_config.approximate_above else "exact"
        return kind

    def modes(self) -> list[str]:
        """The modes this run can answer (a run without a graph model answers text only)."""
        out = []
        if self.run.text is not None and self.run.has_text().any():
            out.append("text")
        if self.run.graph is not None and self.run.has_graph().any():
            out.append("graph")
        if out:
            out.insert(0, "combined")
        return out

    def stale(self) -> bool:
        """True when the store's current run is no longer this one (a newer `ckg train` ran)."""
        return self.store_path is not None and current_run_id(self.store_path) != self.run_id

    # -- lookups ------------------------------------------------------------------------------

    def key(self, paper: str | ox.NamedNode) -> str | None:
        """The key of a paper given as key, IRI, ``<IRI>`` or NamedNode (None: not a paper IRI)."""
        node = paper if isinstance(paper, ox.NamedNode) else resources.paper_from_user(str(paper))
        return resources.key_of(node, "paper")

    def _mode_index(self, mode: str) -> _ModeIndex:
        check_mode(mode)
        with self._lock:
            index = self._indexes.get(mode)
            if index is None:
                prior = (self.search_config.popularity if mode == "combined" and self.run.popularity is not None
                         else 0.0)
                vectors, present = mode_vectors(self.run, mode, self.search_config.weights, prior)
                saved = self.run.path / f"index-{mode}.faiss" if self.run.path is not None else None
                index = _ModeIndex(vectors, present, self.index_kind, saved, prior)
                self._indexes[mode] = index
            return index

    def vector(self, paper: str | ox.NamedNode, mode: str = "combined") -> np.ndarray | None:
        """The paper's vector in a mode, or None (unknown paper, or no vector in that mode)."""
        key = self.key(paper)
        row = self.rows.get(key) if key is not None else None
        if row is None:
            return None
        index = self._mode_index(mode)
        return index.vectors[row] if index.present[row] else None

    def has(self, paper: str | ox.NamedNode, mode: str = "combined") -> bool:
        return self.vector(paper, mode) is not None

    def similarity(self, a: str | ox.NamedNode, b: str | ox.NamedNode, mode: str = "combined") -> float | None:
        """The similarity score of two papers in a mode; None when either has no vector in it
        (or is not a paper of the run)."""
        check_mode(mode)
        va = self.vector(a, mode)
        vb = self.vector(b, mode)
        if va is None or vb is None:
            return None
        index = self._mode_index(mode)
        if index.prior:  # b's score as a recommendation for a
            va = index.query(self.rows[self.key(a)])
        return min(1.0 + index.prior, max(-1.0, float(np.dot(va, vb))))  # float32 unit vectors: 1.0000001

    def _row(self, paper: str | ox.NamedNode, mode: str) -> int:
        check_mode(mode)
        key = self.key(paper)
        row = self.rows.get(key) if key is not None else None
        if row is None:
            shown = key or (paper.value if isinstance(paper, ox.NamedNode) else str(paper))
            raise UnknownPaper(f"no paper {shown!r} in the embeddings (run {self.run_id}, {len(self.papers):,} papers)")
        if mode not in self.modes() or not self._mode_index(mode).present[row]:
            has = [m for m in self.modes() if self._mode_index(m).present[row]]
            why = {"graph": "it has no edge in the knowledge graph the graph embeddings were trained on",
                   "text": "it has no title, abstract or body text",
                   "combined": "it has neither text nor graph edges"}[mode]
            if mode not in self.modes():
                why = f"run {self.run_id} has no {mode} embeddings"
            hint = f"; try --mode {has[-1]}" if has else ""
            raise NoEmbedding(f"paper {key} has no {mode} embedding: {why}{hint}")
        return row

    def similar(self, paper: str | ox.NamedNode, k: int = 10, mode: str = "combined", *,
                exclude: set[str] | frozenset[str] = frozenset()) -> list[Neighbour]:
        """The ``k`` most similar papers to ``paper`` in ``mode``, best first (the paper itself
        and the keys in ``exclude`` left out). :class:`UnknownPaper` / :class:`NoEmbedding` say
        why a paper cannot be answered."""
        if k < 1:
            raise EmbeddingError(f"k must be at least 1, got {k}")
        row = self._row(paper, mode)
        index = self._mode_index(mode)
        skip = {row} | {self.rows[e] for e in exclude if e in self.rows}
        scores, rows = index.search(index.query(row), k + len(skip))
        out: list[Neighbour] = []
        for score, r in zip(scores, rows):
            if int(r) in skip:
                continue
            key = self.run.papers[r]
            out.append(Neighbour(len(out) + 1, key, resources.paper(key).value,
                                 round(min(1.0 + index.prior, max(-1.0, float(score))), 6), self.run.titles[r]))
            if len(out) == k:
                break
        return out

    def scores(self, paper: str | ox.NamedNode, mode: str = "combined") -> np.ndarray:
        """The paper's score against every paper of the run (NaN where a paper has no vector)."""
        row = self._row(paper, mode)
        index = self._mode_index(mode)
        out = index.vectors @ index.query(row)
        out[~index.present] = np.nan
        return out

    def write_approximate(self, folder: Path) -> list[str]:
        """Persist the approximate indexes of every mode into a run folder (train time)."""
        import faiss

        written = []
        for mode in self.modes():
            index = self._mode_index(mode)
            if index.kind == "approximate":
                faiss.write_index(index.faiss, str(Path(folder) / f"index-{mode}.faiss"))
                written.append(f"index-{mode}.faiss")
        return written


__all__ = ["Index", "Neighbour", "MODES", "EmbeddingError", "UnknownPaper", "NoEmbedding", "NoEmbeddings"]
