"""``ckg evaluate``: measure the similar-paper engine from several sides, as the CKG did, plus a
proxy ground truth.

**Citation recovery** (the proxy ground truth). A random share (``holdout``, seeded) of the
in-corpus citation edges is held out *before* any KG training: the evaluation trains its own
graph model on the store's triplets less those edges, with the graph config of the store's
current run (its early stopping uses a validation split of the reduced triplets only, so nothing
is tuned on the held-out edges). Text vectors do not depend on citations and are taken from the
current run. For each citing paper with at least one held-out edge, its top-k recommendations in
each mode are compared with its held-out cited papers: Recall@k and nDCG@k (binary relevance),
macro-averaged over citing papers, with bootstrap 95% intervals. Candidates are all papers of
the run except the source and its citation neighbours still in the training graph (the
"filtered" setting of link prediction: known edges are not counted as recommendations). A
source without a vector in a mode scores 0 there. The random baseline is the exact expectation
of a uniformly random ranking of the same candidates. As a diagnostic, the graph model's own
link-prediction scores for ``(source, ckg:cites, ?)`` rank the same candidates ("graph link
prediction"): TransE models citing as a translation, so the cited paper is near
``source + r_cites``, not near ``source``, which cosine similarity cannot see; and a
"most cited" ranking (the papers most cited in the training graph, the same for every source)
shows how much of a score is popularity alone.

**TREC-COVID co-relevance** (with ``qrels``): for each paper judged relevant to a topic, the share
of its most similar papers judged relevant to the same topic, and nDCG over the judged papers,
against random and most-cited rankings, with intervals by topic (:mod:`ckg.embed.trec`); written
to ``trec-covid.json`` as well.

**The CKG's analyses**, on the current run (trained on the full graph): popularity (in-corpus
citation counts of the recommendations against their source and the corpus), topic intersection
(share of recommendations sharing the source's dominant topic, Jaccard of topic sets, against a
random pick), a 2-D t-SNE projection of each mode coloured by dominant topic
(``projection.png``), and a side-by-side sample of abstracts. Topics are read by SPARQL
(:mod:`ckg.embed.topics`); without them the report says "no topics in this store".

Output in ``OUT``: ``report.md``, ``report.json`` (every figure), ``projection.png``,
``held-out-citations.tsv``, ``trec-covid.json`` (with ``qrels``), and ``run/`` (the evaluation's
own run: vectors and manifest in the format of :mod:`ckg.embed.artifacts`).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyoxigraph as ox

import ckg
from ckg import resources
from ckg.embed import data, metrics
from ckg.embed.artifacts import EmbeddingRun
from ckg.embed.config import TrainConfig
from ckg.embed.errors import EmbeddingError, NoEmbedding
from ckg.embed.search import MODES, Index, graph_method
from ckg.embed.topics import Topics, paper_topics
from ckg.store import open_store
from ckg.terms import CKG

NO_TOPICS = "no topics in this store"
RECOVERY_MODES = ("text", "graph", "combined")


@dataclass(frozen=True)
class EvaluationConfig:
    holdout: float = 0.2
    """Share of the in-corpus citation edges held out before the evaluation's KG training."""
    k: int = 10
    seed: int = 0
    samples: int = 5
    """Source papers in the side-by-side sample of abstracts."""
    epochs: int | None = None
    """Epochs of the evaluation's KG training (default: the current run's graph config)."""
    max_sources: int = 2000
    """The popularity and topic analyses use at most this many source papers (a seeded sample)."""
    plot: bool = True
    qrels: str | None = None
    """A TREC qrels file: adds TREC-COVID co-relevance (:mod:`ckg.embed.trec`)."""
    topics_split: str = "all"
    """The qrels' topics evaluated: ``validation``, ``report`` or ``all``."""

    def validate(self) -> EvaluationConfig:
        from ckg.embed.trec import SPLITS

        if self.topics_split not in SPLITS:
            raise ValueError(f"topics split must be one of {', '.join(SPLITS)}, got {self.topics_split!r}")
        if not 0 < self.holdout < 1:
            raise ValueError(f"holdout must be between 0 and 1, got {self.holdout}")
        if self.k < 1 or self.samples < 0 or self.max_sources < 1 or (self.epochs is not None and self.epochs < 1):
            raise ValueError("k, max_sources and epochs must be >= 1, samples >= 0")
        return self


@dataclass
class EvaluationResult:
    out: Path
    report: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)

    @property
    def recovery(self) -> dict[str, Any]:
        return self.report["citation_recovery"]


def evaluate(store_path: Path, out_dir: Path, config: EvaluationConfig | None = None, *,
             progress: Callable[[str, int], None] | None = None, show_progress: bool = False) -> EvaluationResult:
    """Evaluate the store's current embedding run; write the report into ``out_dir``."""
    config = (config or EvaluationConfig()).validate()
    store_path, out = Path(store_path), Path(out_dir)
    started = dt.datetime.now(dt.timezone.utc)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    index = Index.load(store_path)
    run = index.run
    store = open_store(store_path, read_only=True)
    texts = {p.key: p for p in data.paper_texts(store)}
    triples = data.training_triples(store)
    weights = data.edge_weights(store)
    topics = paper_topics(store)
    del store
    timings["read"] = round(time.perf_counter() - t0, 3)
    out.mkdir(parents=True, exist_ok=True)

    in_run = set(run.papers)
    citations = [(a, b) for a, b in data.citations(triples) if a in in_run and b in in_run]
    cited_count: dict[str, int] = defaultdict(int)
    for _, b in citations:
        cited_count[b] += 1

    report: dict[str, Any] = {
        "ckg": ckg.__version__,
        "kind": "embedding-evaluation",
        "store": str(store_path.resolve()),
        "run": run.run_id,
        "started_at": started.isoformat(timespec="seconds"),
        "config": asdict(config),
        "counts": {
            "papers_in_run": len(run.papers),
            "papers_in_store": len(texts),
            "papers_in_store_not_in_run": len(set(texts) - in_run),
            "citation_edges": len(citations),
            "papers_with_topics": len(topics.of),
        },
    }

    if config.qrels:
        from ckg.embed.trec import CorelevanceConfig, evaluate_qrels

        t0 = time.perf_counter()
        trec = evaluate_qrels(store_path, config.qrels, out, CorelevanceConfig(k=config.k, split=config.topics_split,
                                                                              seed=config.seed), index=index)
        report["trec_covid"] = {key: value for key, value in trec.items()
                                if key not in ("ckg", "kind", "store", "run", "started_at")}
        timings["trec_covid"] = round(time.perf_counter() - t0, 3)

    t0 = time.perf_counter()
    recovery, eval_run = _citation_recovery(index, triples, weights, citations, config, out, show_progress)
    report["citation_recovery"] = recovery
    timings["citation_recovery"] = round(time.perf_counter() - t0, 3)
    if progress:
        progress("recovery", 1)

    t0 = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    sources_all = list(run.papers)
    sources = (sources_all if len(sources_all) <= config.max_sources
               else sorted(rng.choice(sources_all, size=config.max_sources, replace=False).tolist()))
    neighbours = _neighbours(index, sources, config.k)
    report["popularity"] = _popularity(neighbours, cited_count, run.papers)
    report["topics"] = _topic_intersection(neighbours, topics, run.papers)
    timings["analyses"] = round(time.perf_counter() - t0, 3)

    t0 = time.perf_counter()
    report["samples"] = _samples(index, texts, config, rng)
    files = {"report.md": "the report", "report.json": "every figure of the report",
             "held-out-citations.tsv": "the held-out citation edges", "run/": "the evaluation's own embedding run"}
    if config.qrels:
        files["trec-covid.json"] = "TREC-COVID co-relevance (also in report.json)"
    if config.plot:
        from ckg.embed.plot import projection

        report["projection"] = projection(index, topics, out / "projection.png", seed=config.seed)
        files["projection.png"] = "2-D t-SNE projection of each mode, coloured by dominant topic"
    timings["samples_and_plot"] = round(time.perf_counter() - t0, 3)
    report["timings_s"] = {**timings, "total": round((dt.datetime.now(dt.timezone.utc) - started).total_seconds(), 3)}
    report["finished_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    report["files"] = files

    from ckg.embed.report import to_markdown

    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "report.md").write_text(to_markdown(report), encoding="utf-8")
    return EvaluationResult(out, report, files)


# -- citation recovery ----------------------------------------------------------------------------

def split_citations(citations: list[tuple[str, str]], share: float, seed: int) -> tuple[list, list]:
    """(kept, held out): a seeded random ``share`` of the edges held out.

    >>> kept, held = split_citations([("a", "b"), ("a", "c"), ("b", "c"), ("c", "d")], 0.5, seed=1)
    >>> len(kept), len(held), sorted(kept + held) == [("a", "b"), ("a", "c"), ("b", "c"), ("c", "d")]
    (2, 2, True)
    """
    edges = sorted(citations)
    order = np.random.default_rng(seed).permutation(len(edges))
    n = int(round(share * len(edges)))
    held = sorted(edges[i] for i in order[:n])
    kept = sorted(edges[i] for i in order[n:])
    return kept, held


def evaluation_graph_config(run: EmbeddingRun, epochs: int | None = None) -> TrainConfig:
    """The config of an evaluation's own graph: the run's, with the run's graph method (runs made
    before there was a choice were KGE runs) and ``epochs`` when given."""
    config = TrainConfig.from_dict(run.manifest.get("config") or {})
    return config.override({"graph.method": graph_method(run.manifest), "graph.epochs": epochs})


def _citation_recovery(index: Index, triples, weights, citations, config: EvaluationConfig, out: Path,
                       show_progress: bool) -> tuple[dict[str, Any], EmbeddingRun | None]:
    run = index.run
    k = config.k
    result: dict[str, Any] = {"k": k, "holdout": config.holdout}
    if not citations:
        result["note"] = "no in-corpus citation edges between embedded papers: nothing to recover"
        return result, None
    kept, held = split_citations(citations, config.holdout, config.seed)
    with open(out / "held-out-citations.tsv", "w", encoding="utf-8") as handle:
        handle.write("citing\tcited\n")
        handle.writelines(f"{a}\t{b}\n" for a, b in held)
    if not held:
        result["note"] = "the hold-out share leaves no citation edge to recover"
        return result, None

    # the evaluation's own graph model, trained without the held-out edges
    from ckg.embed.graph import build_graph

    run_config = evaluation_graph_config(run, config.epochs)
    graph_config = run_config.graph
    reduced = data.without_citations(triples, held)
    model = build_graph(run.papers, reduced, weights, graph_config, seed=config.seed, show_progress=show_progress)
    graph, graph_mask = model.vectors_for([resources.paper(p).value for p in run.papers])
    eval_run = EmbeddingRun(run.papers, run.titles, run.text_hashes, text=run.text, text_parts=run.text_parts,
                            text_mask=run.text_mask, graph=graph, graph_mask=graph_mask, entities=model.entities,
                            entity_vectors=model.entity_vectors, relations=model.relations,
                            relation_vectors=model.relation_vectors, triples=model.triples,
                            triples_split=model.split, popularity=data.popularity(run.papers, reduced))
    eval_run.manifest = {
        "ckg": ckg.__version__, "kind": "evaluation-run", "run": "evaluation", "text_from_run": run.run_id,
        "config": run_config.to_dict(),
        "evaluation": {"holdout": config.holdout, "seed": config.seed, "held_out_edges": len(held),
                       "kept_edges": len(kept)},
        "counts": {"papers": len(run.papers), "graph": {**model.counts, "papers_with_graph": int(graph_mask.sum())}},
        "metrics": {"graph": model.metrics}, "graph": {"method": graph_config.method, "timings_s": model.timings},
    }
    eval_run.write(out / "run")
    eval_index = Index(eval_run, search=index.search_config)

    known: dict[str, set[str]] = defaultdict(set)
    for a, b in kept:
        known[a].add(b)
        known[b].add(a)
    targets: dict[str, set[str]] = defaultdict(set)
    for a, b in held:
        targets[a].add(b)
    n_papers = len(run.papers)
    paper_iris = [resources.paper(p).value for p in run.papers]
    row_of = run.row_of()
    cites = CKG.cites.value
    per_query = []
    sensitivity: dict[float, list[float]] = {w: [] for w in GRAPH_SHARES}
    popularity = np.zeros(n_papers)
    for _, b in kept:
        popularity[row_of[b]] += 1
    by_popularity = sorted(range(n_papers), key=lambda i: (-popularity[i], run.papers[i]))
    present = {m: eval_index._mode_index(m).present for m in RECOVERY_MODES if m in eval_index.modes()}
    for source in sorted(targets):
        relevant = targets[source]
        exclude = known[source] - {source}
        candidates = n_papers - 1 - len(exclude)
        row: dict[str, Any] = {"paper": source, "held_out": sorted(relevant), "candidates": candidates}
        for mode in RECOVERY_MODES:
            try:
                recs = [n.paper for n in eval_index.similar(source, k, mode, exclude=exclude)]
                has = True
            except (NoEmbedding, EmbeddingError):
                recs, has = [], False
            row[mode] = {"recall": metrics.recall_at_k(recs, relevant, k), "ndcg": metrics.ndcg_at_k(recs, relevant, k),
                         "has_vector": has, "hits": sorted(set(recs) & relevant),
                         "percentile": _percentile(eval_index, source, mode, relevant, exclude, row_of)}
            row[mode]["top"] = recs
        # diagnostic: the graph model's link prediction for (source, cites, ?)
        scores = model.score_tails(resources.paper(source).value, cites, paper_iris)
        if scores is not None:
            scores = scores.copy()
            for e in exclude | {source}:
                scores[row_of[e]] = -np.inf
            order = [run.papers[i] for i in np.argsort(-scores, kind="stable")[:k] if np.isfinite(scores[i])]
            row["graph_link_prediction"] = {"recall": metrics.recall_at_k(order, relevant, k),
                                            "ndcg": metrics.ndcg_at_k(order, relevant, k),
                                            "has_vector": True, "hits": sorted(set(order) & relevant)}
        else:
            row["graph_link_prediction"] = {"recall": 0.0, "ndcg": 0.0, "has_vector": False, "hits": []}
        # diagnostic baseline: the most cited papers (in the training graph) for everyone
        skip = exclude | {source}
        popular = [run.papers[i] for i in by_popularity if run.papers[i] not in skip][:k]
        row["most_cited"] = {"recall": metrics.recall_at_k(popular, relevant, k),
                             "ndcg": metrics.ndcg_at_k(popular, relevant, k), "has_vector": True,
                             "hits": sorted(set(popular) & relevant)}
        row["random"] = {"recall": metrics.expected_random_recall(candidates, k),
                         "ndcg": metrics.expected_random_ndcg(len(relevant), candidates, k)}
        per_query.append(row)
        for w, recall in _weight_sensitivity(eval_index, source, relevant, exclude, row_of, k).items():
            sensitivity[w].append(recall)

    rows = {}
    for mode in (*RECOVERY_MODES, "graph_link_prediction", "most_cited", "random"):
        recalls = [q[mode]["recall"] for q in per_query]
        ndcgs = [q[mode]["ndcg"] for q in per_query]
        entry = {
            "recall_at_k": round(float(np.mean(recalls)), 6), "recall_ci95": list(metrics.bootstrap_ci(recalls, seed=config.seed)),
            "ndcg_at_k": round(float(np.mean(ndcgs)), 6), "ndcg_ci95": list(metrics.bootstrap_ci(ndcgs, seed=config.seed)),
        }
        if mode not in ("random", "most_cited"):
            entry["queries_with_vector"] = int(sum(q[mode]["has_vector"] for q in per_query))
        if mode != "random":
            entry["hit_rate"] = round(float(np.mean([bool(q[mode]["hits"]) for q in per_query])), 6)
        if mode in RECOVERY_MODES:
            pct = [p for q in per_query for p in q[mode]["percentile"]]
            entry["mean_percentile_rank_of_held_out"] = round(float(np.mean(pct)), 6) if pct else None
            if mode in present:
                entry["held_out_targets_with_vector"] = int(sum(present[mode][row_of[b]] for _, b in held))
        rows[mode] = entry
    result.update({
        "weights": combination_weights(run, index),
        "held_out_edges": len(held), "kept_edges": len(kept), "queries": len(per_query),
        "candidates_mean": round(float(np.mean([q["candidates"] for q in per_query])), 2),
        "evaluation_graph_model": {"metrics": {k_: v for k_, v in model.metrics.items() if k_ != "losses"},
                                   "counts": model.counts, "train_s": model.timings.get("train")},
        "modes": rows,
        "comparisons": {
            f"{a}_vs_{b}": {m: metrics.paired_bootstrap([q[a][m] for q in per_query], [q[b][m] for q in per_query],
                                                         seed=config.seed) for m in ("recall", "ndcg")}
            for a, b in (("combined", "text"), ("combined", "graph"), ("text", "random"), ("graph", "random"),
                         ("combined", "random"), ("text", "graph"), ("text", "most_cited"),
                         ("graph_link_prediction", "most_cited"))
        },
        "diagnostics": {**_diagnostics(eval_index, per_query, held, reduced, run, k), "graph_weight_sensitivity": {
            "note": "diagnostic on the held-out edges, not used to choose any weight: Recall@k of the combined "
                    "score (1 - w) * text + w * graph, without a popularity prior; the run's own share is "
                    f"{_share(index.search_config.weights)}",
            "recall_at_k": {str(w): round(float(np.mean(v)), 6) for w, v in sensitivity.items() if v}}},
        "per_query": [{key: (val if not isinstance(val, dict) else {kk: vv for kk, vv in val.items() if kk != "top"})
                       for key, val in q.items()} for q in per_query],
    })
    if model.model is None:  # graph features: no link-prediction model to ask
        result["modes"].pop("graph_link_prediction", None)
        result["comparisons"].pop("graph_link_prediction_vs_most_cited", None)
        for q in result["per_query"]:
            q.pop("graph_link_prediction", None)
    return result, eval_run


def _share(weights) -> float:
    """The graph share of (text, graph) weights.

    >>> _share((0.95, 0.05))
    0.05
    """
    return round(weights[1] / (weights[0] + weights[1]), 6)


def combination_weights(run: EmbeddingRun, index: Index) -> dict[str, Any]:
    """The combined mode's (text, graph) weights and the split they were tuned on (``ckg tune``;
    None: set by hand or the defaults)."""
    tuning = run.manifest.get("tuning") or {}
    return {"text_graph": [float(w) for w in index.search_config.weights],
            "popularity": float(index.search_config.popularity), "tuned_on": tuning.get("tuned_on")}


def _percentile(index: Index, source: str, mode: str, relevant: set[str], exclude: set[str],
                row_of: dict[str, int]) -> list[float]:
    """Each held-out target's rank among the candidates as a share (0 = first, 1 = last); a target
    without a vector counts as last."""
    try:
        scores = index.scores(source, mode)
    except EmbeddingError:
        return [1.0 for _ in relevant]
    scores = np.where(np.isnan(scores), -np.inf, scores)
    mask = np.ones(len(scores), dtype=bool)
    mask[row_of[source]] = False
    for e in exclude:
        mask[row_of[e]] = False
    pool = scores[mask]
    out = []
    for target in relevant:
        s = scores[row_of[target]]
        if not np.isfinite(s):
            out.append(1.0)
            continue
        better = int((pool > s).sum())
        out.append(better / max(1, len(pool) - 1))
    return out


GRAPH_SHARES = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0)


def _weight_sensitivity(index: Index, source: str, relevant: set[str], exclude: set[str], row_of: dict[str, int],
                        k: int) -> dict[float, float]:
    """Recall@k of ``(1 - w) * text + w * graph`` scores for each graph share ``w`` (a part a paper
    lacks scores 0, as in the combined mode)."""
    parts = {}
    for mode in ("text", "graph"):
        try:
            parts[mode] = index.scores(source, mode)
        except EmbeddingError:
            parts[mode] = np.full(len(index.papers), np.nan)
    text, graph = parts["text"], parts["graph"]
    usable = ~(np.isnan(text) & np.isnan(graph))
    usable[row_of[source]] = False
    for e in exclude:
        usable[row_of[e]] = False
    if np.isnan(text[row_of[source]]) and np.isnan(graph[row_of[source]]):
        return {w: 0.0 for w in GRAPH_SHARES}
    t, g = np.nan_to_num(text), np.nan_to_num(graph)
    out = {}
    for w in GRAPH_SHARES:
        score = np.where(usable, (1 - w) * t + w * g, -np.inf)
        top = np.argsort(-score, kind="stable")[:k]
        out[w] = metrics.recall_at_k([index.papers[i] for i in top if usable[i]], relevant, k)
    return out


def _diagnostics(index: Index, per_query, held, triples, run: EmbeddingRun, k: int) -> dict[str, Any]:
    """Figures that explain the comparison of the modes (why combined does or does not win)."""
    out: dict[str, Any] = {}
    overlap_text = [len(set(q["combined"]["top"]) & set(q["text"]["top"])) / k for q in per_query if q["combined"]["top"]]
    overlap_graph = [len(set(q["combined"]["top"]) & set(q["graph"]["top"])) / k for q in per_query if q["combined"]["top"]]
    out["combined_top_k_shared_with_text"] = round(float(np.mean(overlap_text)), 4) if overlap_text else None
    out["combined_top_k_shared_with_graph"] = round(float(np.mean(overlap_graph)), 4) if overlap_graph else None
    spreads: dict[str, list[float]] = {"text": [], "graph": []}
    correlation = []
    for q in per_query:
        per_mode = {}
        for mode in ("text", "graph"):
            try:
                s = index.scores(q["paper"], mode)
            except EmbeddingError:
                continue
            per_mode[mode] = s
            spreads[mode].append(float(np.nanstd(s)))
        if len(per_mode) == 2:
            both = ~np.isnan(per_mode["text"]) & ~np.isnan(per_mode["graph"])
            if both.sum() > 2:
                correlation.append(float(np.corrcoef(per_mode["text"][both], per_mode["graph"][both])[0, 1]))
    out["score_std_text"] = round(float(np.mean(spreads["text"])), 4) if spreads["text"] else None
    out["score_std_graph"] = round(float(np.mean(spreads["graph"])), 4) if spreads["graph"] else None
    out["text_graph_score_correlation"] = round(float(np.nanmean(correlation)), 4) if correlation else None
    # cold start: held-out targets and sources that lost their only graph edges
    present = index._mode_index("graph").present if "graph" in index.modes() else np.zeros(len(run.papers), bool)
    row_of = run.row_of()
    targets = sorted({b for _, b in held})
    sources = sorted({a for a, _ in held})
    out["held_out_targets"] = len(targets)
    out["held_out_targets_without_graph_vector"] = int(sum(not present[row_of[b]] for b in targets))
    out["sources_without_graph_vector"] = int(sum(not present[row_of[a]] for a in sources))
    degree: dict[str, int] = defaultdict(int)
    by_relation: dict[str, int] = defaultdict(int)
    for h, r, t in triples:
        degree[h] += 1
        degree[t] += 1
        by_relation[r] += 1
    target_degrees = [degree.get(resources.paper(b).value, 0) for b in targets]
    out["held_out_target_graph_degree_median"] = float(np.median(target_degrees)) if target_degrees else None
    all_degrees = [degree.get(resources.paper(p).value, 0) for p in run.papers]
    out["paper_graph_degree_median"] = float(np.median(all_degrees)) if all_degrees else None
    out["training_triples_by_relation"] = dict(sorted(by_relation.items()))
    # co-authorship: what the graph part mostly encodes (authoredBy edges outnumber cites edges)
    authored = CKG.authoredBy.value
    authors: dict[str, set[str]] = defaultdict(set)
    for h, r, t in triples:
        if r == authored:
            key = resources.key_of(ox.NamedNode(h), "paper")
            if key:
                authors[key].add(t)
    out["held_out_pairs_sharing_an_author"] = int(sum(bool(authors[a] & authors[b]) for a, b in held))
    for mode in ("text", "graph", "combined"):
        hits = [(q["paper"], b) for q in per_query for b in q[mode]["hits"]]
        out[f"{mode}_hits"] = len(hits)
        out[f"{mode}_hits_sharing_an_author"] = int(sum(bool(authors[a] & authors[b]) for a, b in hits))
    return out


# -- the CKG's analyses ---------------------------------------------------------------------------

def _neighbours(index: Index, sources: list[str], k: int) -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {}
    for mode in MODES:
        if mode not in index.modes():
            continue
        per = {}
        for s in sources:
            try:
                per[s] = [n.paper for n in index.similar(s, k, mode)]
            except EmbeddingError:
                continue
        out[mode] = per
    return out


def _popularity(neighbours, cited_count: dict[str, int], papers: list[str]) -> dict[str, Any]:
    corpus = [cited_count.get(p, 0) for p in papers]
    out: dict[str, Any] = {
        "corpus_mean_citations": round(float(np.mean(corpus)), 4) if corpus else None,
        "corpus_share_cited": round(float(np.mean([c > 0 for c in corpus])), 4) if corpus else None,
        "modes": {},
    }
    for mode, per in neighbours.items():
        src = [cited_count.get(s, 0) for s in per]
        rec_means = [float(np.mean([cited_count.get(r, 0) for r in recs])) for recs in per.values() if recs]
        recs_flat = [cited_count.get(r, 0) for recs in per.values() for r in recs]
        if not rec_means:
            continue
        out["modes"][mode] = {
            "sources": len(per),
            "source_mean_citations": round(float(np.mean(src)), 4),
            "recommendation_mean_citations": round(float(np.mean(recs_flat)), 4),
            "recommendation_median_citations": float(np.median(recs_flat)),
            "recommendation_share_cited": round(float(np.mean([c > 0 for c in recs_flat])), 4),
            "share_of_sources_whose_recommendations_are_more_cited": round(float(np.mean(
                [m > s for m, s, recs in zip(rec_means, src, per.values()) if recs])), 4),
            "ratio_to_corpus_mean": (round(float(np.mean(recs_flat)) / float(np.mean(corpus)), 4)
                                     if corpus and np.mean(corpus) > 0 else None),
        }
    return out


def _topic_intersection(neighbours, topics: Topics, papers: list[str]) -> dict[str, Any]:
    if not topics:
        return {"available": False, "note": NO_TOPICS}
    with_topics = [p for p in papers if topics.of.get(p)]
    sizes = topics.sizes()
    n = len(with_topics)
    sets = {p: set(topics.of[p]) for p in with_topics}
    out: dict[str, Any] = {
        "available": True,
        "topics": {t: {"label": topics.label(t), "papers_dominant": c} for t, c in sorted(sizes.items(), key=lambda x: -x[1])},
        "papers_with_topics": n,
        "modes": {},
    }

    def jaccard(a: set, b: set) -> float:
        return len(a & b) / len(a | b) if a | b else 0.0

    for mode, per in neighbours.items():
        same, jac, base_same, base_jac, sources = [], [], [], [], 0
        for s, recs in per.items():
            if s not in sets:
                continue
            recs = [r for r in recs if r in sets]
            if not recs:
                continue
            sources += 1
            dom = topics.dominant(s)
            same.append(float(np.mean([topics.dominant(r) == dom for r in recs])))
            jac.append(float(np.mean([jaccard(sets[s], sets[r]) for r in recs])))
            base_same.append((sizes[dom] - 1) / (n - 1) if n > 1 else 0.0)
            others = [jaccard(sets[s], sets[o]) for o in with_topics if o != s]
            base_jac.append(float(np.mean(others)) if others else 0.0)
        if sources:
            out["modes"][mode] = {
                "sources": sources,
                "share_same_dominant_topic": round(float(np.mean(same)), 4),
                "random_share_same_dominant_topic": round(float(np.mean(base_same)), 4),
                "mean_topic_jaccard": round(float(np.mean(jac)), 4),
                "random_mean_topic_jaccard": round(float(np.mean(base_jac)), 4),
            }
    return out


def _samples(index: Index, texts, config: EvaluationConfig, rng) -> list[dict[str, Any]]:
    if not config.samples or "combined" not in index.modes():
        return []
    pool = [p for p in index.papers if texts.get(p) and texts[p].abstract and index.has(p, "combined")]
    if not pool:
        pool = [p for p in index.papers if index.has(p, "combined")]
    chosen = sorted(rng.choice(pool, size=min(config.samples, len(pool)), replace=False).tolist())
    out = []
    for key in chosen:
        entry = {"paper": key, "title": _title(texts, key), "abstract": _abstract(texts, key), "recommendations": {}}
        for mode in index.modes():
            try:
                recs = index.similar(key, 3, mode)
            except EmbeddingError:
                continue
            entry["recommendations"][mode] = [{"paper": n.paper, "score": n.score, "title": _title(texts, n.paper),
                                               "abstract": _abstract(texts, n.paper)} for n in recs]
        out.append(entry)
    return out


def _title(texts, key: str) -> str:
    t = texts.get(key)
    return (t.title if t and t.title else "(no title)").strip()


def _abstract(texts, key: str, limit: int = 600) -> str:
    t = texts.get(key)
    text = " ".join((t.abstract if t else "").split())
    if not text and t and t.body:
        text = "[body] " + " ".join(t.body.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
