"""``ckg tune``: the combined mode's weights chosen on a validation split, stored in the run's manifest.

The combined score of a candidate for a query paper is ``(1 - w) * text + w * graph + p *
popularity`` (the search weights ``(1 - w, w)`` and the popularity prior ``p``,
:mod:`ckg.embed.search`). ``tune`` tries every graph share ``w`` of :data:`GRAPH_SHARES` with
every prior ``p`` of :data:`PRIORS` (only 0 when no paper is cited) on a validation split that the
evaluation never reports on, keeps the best (ties: the smaller prior, then the smaller share), and
writes it into the current run's manifest (``config.search.weights``, ``config.search.popularity``
and a ``tuning`` record: the split, the objective, the figure of every pair tried), so that
``ckg similar``, the API and ``ckg evaluate`` use it.

Two validation splits:

* **TREC-COVID topics** (``qrels``): the ``validation`` half of the topics
  (:func:`ckg.embed.trec.topic_split`); the objective is co-relevance@k. Report on the
  ``report`` half (``ckg evaluate --qrels FILE --topics-split report``).
* **Citation edges** (without ``qrels``): the evaluation's held-out edges (``holdout``, ``seed``:
  the same edges ``ckg evaluate`` holds out with the same options) are left out first and never
  seen. The remaining edges are cut into ``folds`` seeded folds; for each fold, the graph vectors
  are rebuilt (the run's graph method and config) on the triplets less the held-out edges and the
  fold, and the fold's edges are the validation edges: the objective is Recall@k of the
  validation edges of every fold together (the filtered setting of the evaluation: a source's
  other known citations are not candidates). Folds make every remaining edge a validation edge
  once: a few hundred edges rather than a few dozen, which steadies the choice (the KGE method
  trains one model per fold: ``--folds 2`` halves its cost).

>>> blend(np.array([1.0, 0.0, np.nan]), np.array([0.0, 1.0, np.nan]), 0.25).tolist()[:2]
[0.75, 0.25]
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ckg import resources
from ckg.embed import artifacts, data, metrics
from ckg.embed.artifacts import EmbeddingRun
from ckg.embed.search import Index, mode_vectors

GRAPH_SHARES = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
PRIORS = (0.0, 0.025, 0.05, 0.1, 0.2, 0.3)


@dataclass(frozen=True)
class TuneConfig:
    qrels: str | None = None
    """A TREC qrels file: tune on its validation topics; without it, on validation citation edges."""
    k: int = 10
    seed: int = 0
    holdout: float = 0.2
    """[citations] The evaluation's held-out share (left out first, never seen)."""
    folds: int = 5
    """[citations] Folds of the remaining edges, each the validation edges of one graph."""
    max_sources: int = 2000
    """[citations] At most this many citing papers are scored (a seeded sample, spread over the folds)."""
    shares: tuple[float, ...] = GRAPH_SHARES
    priors: tuple[float, ...] = PRIORS

    def validate(self) -> TuneConfig:
        if self.k < 1 or not (0 < self.holdout < 1) or self.folds < 2:
            raise ValueError("k must be >= 1, holdout between 0 and 1, folds >= 2")
        if not self.shares or any(not 0 <= w <= 1 for w in self.shares):
            raise ValueError("graph shares must be between 0 and 1")
        if not self.priors or any(p < 0 for p in self.priors):
            raise ValueError("popularity priors must be >= 0")
        return self


def blend(text: np.ndarray, graph: np.ndarray, share: float) -> np.ndarray:
    """``(1 - share) * text + share * graph``; a part that is NaN counts 0, both NaN stay NaN."""
    both_missing = np.isnan(text) & np.isnan(graph)
    out = (1 - share) * np.nan_to_num(text) + share * np.nan_to_num(graph)
    out[both_missing] = np.nan
    return out


def score(text: np.ndarray, graph: np.ndarray, popularity: np.ndarray, share: float, prior: float) -> np.ndarray:
    """The combined score: :func:`blend` plus ``prior x popularity`` (NaN stays NaN)."""
    out = blend(text, graph, share)
    return out + prior * popularity if prior else out


class _Scores:
    """Text and graph scores of a query row against every row (cached), as the search computes them,
    and the rows' popularity."""

    def __init__(self, run: EmbeddingRun) -> None:
        self.text, self.has_text = mode_vectors(run, "text", (1.0, 1.0))
        self.graph, self.has_graph = mode_vectors(run, "graph", (1.0, 1.0))
        self.popularity = (run.popularity.astype(float) if run.popularity is not None
                           else np.zeros(len(run.papers)))
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def priors(self, priors: tuple[float, ...]) -> tuple[float, ...]:
        """The priors worth trying: only 0 when no paper is cited."""
        return tuple(priors) if self.popularity.any() else (0.0,)

    def has(self, row: int) -> bool:
        return bool(self.has_text[row] or self.has_graph[row])

    def __call__(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        got = self._cache.get(row)
        if got is None:
            t = (self.text @ self.text[row]).astype(float)
            g = (self.graph @ self.graph[row]).astype(float)
            t[~self.has_text] = np.nan
            g[~self.has_graph] = np.nan
            got = self._cache[row] = (t, g)
        return got


def _choose(grid: dict[tuple[float, float], float]) -> tuple[float, float]:
    """The (prior, share) pair with the best figure; ties: the smaller prior, then the smaller share."""
    best = max(grid.values())
    return min(key for key, v in grid.items() if v == best)


def _grid_record(grid: dict[tuple[float, float], float]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for (p, w), v in sorted(grid.items()):
        out.setdefault(str(p), {})[str(w)] = v
    return out


def tune(store_path: Path | str, config: TuneConfig | None = None, *, apply: bool = True,
         progress: Callable[[str, int], None] | None = None) -> dict[str, Any]:
    """Tune the current run's graph share on a validation split; with ``apply`` write it into the
    run's manifest. Returns the tuning record."""
    config = (config or TuneConfig()).validate()
    store_path = Path(store_path)
    started = time.perf_counter()
    index = Index.load(store_path)
    run = index.run
    if config.qrels:
        record = _tune_on_qrels(store_path, index, config)
    else:
        record = _tune_on_citations(store_path, index, config)
    record.update({"run": run.run_id, "config": asdict(config),
                   "tuned_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                   "seconds": round(time.perf_counter() - started, 3)})
    if record.get("graph_share") is not None:
        w = record["graph_share"]
        record["weights"] = [round(1 - w, 6), w]
        record.setdefault("popularity", 0.0)
        if apply:
            write_weights(run, record)
    return record


def write_weights(run: EmbeddingRun, record: dict[str, Any]) -> None:
    """Store tuned weights and their record in a run's manifest (and its approximate indexes)."""
    manifest = run.manifest
    previous = list((manifest.get("config") or {}).get("search", {}).get("weights", (1.0, 1.0)))
    search = manifest.setdefault("config", {}).setdefault("search", {})
    before = {"weights": previous, "popularity": search.get("popularity", 0.0)}
    search["weights"] = list(record["weights"])
    search["popularity"] = record["popularity"]
    manifest["tuning"] = {**{k: v for k, v in record.items() if k != "run"}, "before": before}
    artifacts.rewrite_manifest(run.path, manifest)
    if (run.path / "index-combined.faiss").is_file():
        Index(artifacts.EmbeddingRun.read(run.path)).write_approximate(run.path)


# -- TREC-COVID validation topics -----------------------------------------------------------------

def _tune_on_qrels(store_path: Path, index: Index, config: TuneConfig) -> dict[str, Any]:
    from ckg.embed.trec import CorelevanceConfig, SPLIT_RULE, corelevance, paper_cord_uids, rank_by_scores, read_qrels
    from ckg.store import open_store

    judgments = read_qrels(config.qrels)
    store = open_store(store_path, read_only=True)
    uids = paper_cord_uids(store)
    del store
    scores = _Scores(index.run)
    k = config.k

    def ranker(share: float, prior: float):
        def rank(query: int, topic: int, judged: dict[int, int]):
            if not scores.has(query):
                return None
            t, g = scores(query)
            return rank_by_scores(score(t, g, scores.popularity, share, prior), query, judged, k)
        return rank

    pairs = [(p, w) for p in scores.priors(config.priors) for w in config.shares]
    rankers = {f"{p}/{w}": ranker(w, p) for p, w in pairs}
    result = corelevance(index.papers, judgments, uids, rankers,
                         CorelevanceConfig(k=k, split="validation", seed=config.seed, resamples=200))
    grid = {(p, w): result["modes"][f"{p}/{w}"]["corelevance"] or 0.0 for p, w in pairs}
    ndcg = {(p, w): result["modes"][f"{p}/{w}"]["ndcg_at_k"] or 0.0 for p, w in pairs}
    prior, share = _choose(grid) if result["counts"]["queries"] else (None, None)
    return {"tuned_on": {"ground_truth": "trec-covid", "qrels": str(Path(config.qrels).resolve()),
                         "split": "validation", "split_rule": SPLIT_RULE, "topics": result["topics"]},
            "objective": f"co-relevance@{k}", "queries": result["counts"]["queries"],
            "grid": _grid_record(grid), f"ndcg_at_{k}": _grid_record(ndcg), "graph_share": share, "popularity": prior}


# -- validation citation edges --------------------------------------------------------------------

def citation_folds(citations: list[tuple[str, str]], holdout: float, folds: int,
                   seed: int) -> tuple[list[list], list]:
    """(validation folds, held out): the evaluation's held-out edges
    (:func:`ckg.embed.evaluation.split_citations` with ``holdout`` and ``seed``), and the rest cut
    into ``folds`` folds at random (seed ``seed + 1``).

    >>> edges = [(a, b) for a in "abcdefghij" for b in "xyz"]
    >>> folds, held = citation_folds(edges, 0.2, 4, seed=0)
    >>> [len(f) for f in folds], len(held), sorted(sum(folds, []) + held) == sorted(edges)
    ([6, 6, 6, 6], 6, True)
    """
    from ckg.embed.evaluation import split_citations

    kept, held = split_citations(citations, holdout, seed)
    order = np.random.default_rng(seed + 1).permutation(len(kept))
    return [sorted(kept[i] for i in order[f::folds]) for f in range(folds)], held


def _tune_on_citations(store_path: Path, index: Index, config: TuneConfig) -> dict[str, Any]:
    from ckg.embed.evaluation import evaluation_graph_config
    from ckg.embed.graph import build_graph
    from ckg.store import open_store

    run = index.run
    store = open_store(store_path, read_only=True)
    triples = data.training_triples(store)
    weights = data.edge_weights(store)
    del store
    in_run = set(run.papers)
    citations = [(a, b) for a, b in data.citations(triples) if a in in_run and b in in_run]
    folds, held = citation_folds(citations, config.holdout, config.folds, config.seed)
    tuned_on = {"ground_truth": "citations", "split": f"validation edges ({config.folds} folds)",
                "split_rule": f"the evaluation's held-out edges (holdout {config.holdout}, seed {config.seed}) left "
                              f"out first; the rest cut into {config.folds} folds (seed {config.seed + 1}), each the "
                              "validation edges of a graph rebuilt without it and the held-out edges",
                "edges": {"validation": sum(len(f) for f in folds), "held_out_unseen": len(held)}}
    k = config.k
    if not any(folds):
        return {"tuned_on": tuned_on, "objective": f"recall@{k}", "queries": 0, "grid": {},
                "graph_share": None, "popularity": None, "note": "no citation edges to tune on"}
    graph_config = evaluation_graph_config(run).graph
    row_of = run.row_of()
    recalls: dict[tuple[float, float], list[float]] = {}
    timings = []
    for f, val in enumerate(folds):
        train = [e for g, fold in enumerate(folds) if g != f for e in fold]
        reduced = data.without_citations(triples, held + val)
        model = build_graph(run.papers, reduced, weights, graph_config, seed=config.seed)
        timings.append(model.timings.get("total"))
        graph, graph_mask = model.vectors_for([resources.paper(p).value for p in run.papers])
        fold_run = EmbeddingRun(run.papers, run.titles, run.text_hashes, text=run.text, text_parts=run.text_parts,
                                text_mask=run.text_mask, graph=graph, graph_mask=graph_mask,
                                popularity=data.popularity(run.papers, reduced),
                                manifest={"graph": {"method": graph_config.method}})
        scores = _Scores(fold_run)
        pairs = [(p, w) for p in scores.priors(config.priors) for w in config.shares]
        known: dict[int, set[int]] = defaultdict(set)
        for a, b in train:
            known[row_of[a]].add(row_of[b])
            known[row_of[b]].add(row_of[a])
        targets: dict[int, set[int]] = defaultdict(set)
        for a, b in val:
            targets[row_of[a]].add(row_of[b])
        sources = sorted(targets)
        cap = max(1, config.max_sources // config.folds)
        if len(sources) > cap:
            sources = sorted(np.random.default_rng(config.seed + 2 + f).choice(sources, size=cap, replace=False))
        for source in sources:
            relevant = targets[source]
            if not scores.has(source):
                for pair in pairs:
                    recalls.setdefault(pair, []).append(0.0)
                continue
            t, g = scores(source)
            for p, w in pairs:
                s = score(t, g, scores.popularity, w, p)
                s[source] = np.nan
                s[list(known[source])] = np.nan
                s = np.where(np.isnan(s), -np.inf, s)
                first = np.argpartition(-s, k)[:k + 1] if len(s) > k + 1 else np.arange(len(s))
                first = first[np.lexsort((first, -s[first]))]
                top = [int(r) for r in first[:k] if np.isfinite(s[r])]
                recalls.setdefault((p, w), []).append(metrics.recall_at_k(top, relevant, k))
    # a pair not tried in a fold (no citation there: the prior is 0) is left out of the grid
    n = max(len(v) for v in recalls.values())
    grid = {pair: round(float(np.mean(v)), 6) for pair, v in recalls.items() if len(v) == n}
    prior, share = _choose(grid)
    return {"tuned_on": tuned_on, "objective": f"recall@{k}", "queries": n, "grid": _grid_record(grid),
            "graph_share": share, "popularity": prior,
            "graph": {"method": graph_config.method, "seconds_per_fold": timings}}
