"""TREC-COVID co-relevance: the similar-paper engine against NIST's relevance judgments.

TREC-COVID's qrels (``topic iteration cord_uid grade``; grade 0 not relevant, 1 partially, 2
relevant) say which papers answer each of its topics. Two papers judged relevant to the same
topic answer the same question, so a good similar-paper engine should recommend, for a paper
judged relevant to a topic, other papers judged relevant to it. For each topic and each paper of
the embedding run judged relevant to it (grade >= 1: a *query*), and each ranking:

* **co-relevance**: the share of its ``k`` most similar papers judged relevant to the same topic
  (an unjudged paper counts as not relevant), and the **judged share**, the share of them that
  have a judgment for the topic at all (how far the first figure rests on judgments);
* **nDCG@k over the judged papers**: the ranking restricted to the papers judged for the topic
  (the "condensed list"), the query paper left out, gains = grades, against the ideal order of
  the same judged papers. Unjudged papers neither help nor hurt it.

A query is counted only when its topic has another relevant paper in the run (otherwise nothing
can be found: both figures would be 0 for every ranking); those left out are counted.

Rankings: the engine's modes (``text``, ``graph``, ``combined``: the exact inner products of the
run's vectors, :meth:`ckg.embed.search.Index.scores`, best first, ties by row), and three
references: ``random`` (a seeded uniformly random ranking, averaged over ``random_draws`` draws
per query), ``most_cited`` (the same most-cited papers for everyone, by the store's materialised
``ckg:citedByCount``, ties by key), and ``ideal`` (the judged papers by grade: the ceiling; its
co-relevance is below 1 where a topic has fewer than ``k`` other relevant papers in the run). A
query paper without a vector in a mode scores 0 there.

**Intervals**: 95% percentile bootstrap over *topics* (a cluster bootstrap): the queries of a
topic are correlated (they share one set of relevant papers, and a topic with many relevant
papers contributes many easy queries), so resampling queries alone would understate the
uncertainty; the topic is the unit that was sampled. A resample draws topics with replacement and
takes the mean over all their queries (the same query-weighted mean as the point estimate).

**Splits**: the odd topics are split in two halves, fixed in advance (not by the data): topic
``n`` is in ``validation`` when ``n // 2`` is even (1, 5, 9, ..., 49) and in ``report`` otherwise
(3, 7, 11, ..., 47). Tune on ``validation``, report on ``report`` once; ``all`` is both. Every
figure of the report names its split.

Papers are joined to the qrels by their ``ckg:cordUid`` (named query ``embed-paper-cord-uids``).

>>> topic_split(1), topic_split(3), topic_split(5), topic_split(47), topic_split(49)
('validation', 'report', 'validation', 'report', 'validation')
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyoxigraph as ox

import ckg
from ckg import queries, resources
from ckg.embed import metrics
from ckg.embed.errors import EmbeddingError
from ckg.embed.search import Index
from ckg.sparql import run_named

SPLITS = ("all", "validation", "report")
ENGINE_MODES = ("text", "graph", "combined")
REFERENCES = ("random", "most_cited", "ideal")
MODE_NAMES = {"text": "text only", "graph": "graph only", "combined": "combined", "random": "random",
              "most_cited": "most cited (for everyone)", "ideal": "ideal (ceiling)"}
SPLIT_RULE = ("topic n is in 'validation' when n // 2 is even (1, 5, 9, ...), else in 'report' (3, 7, 11, ...); "
              "'all' is both")
NO_CITATIONS = "no paper of the run is cited (a metadata-only store): the most-cited ranking is the key order"
COMPARISONS = (("combined", "text"), ("combined", "graph"), ("text", "graph"), ("text", "random"),
               ("graph", "random"), ("combined", "random"), ("text", "most_cited"), ("combined", "most_cited"))

TUNED_HERE = ("the combined weights were tuned on the validation topics (ckg tune --qrels): the combined figures "
              "of this split are not held out; report the report split")

Judgments = dict[int, dict[str, int]]
"""topic -> cord_uid -> grade."""


class QrelsError(ValueError):
    """A qrels file that cannot be read."""


@dataclass(frozen=True)
class CorelevanceConfig:
    k: int = 10
    split: str = "all"
    """Topics evaluated: ``validation``, ``report`` or ``all`` (see the module's split rule)."""
    seed: int = 0
    random_draws: int = 20
    """Random rankings drawn per query for the random baseline (their metrics averaged)."""
    resamples: int = 2000
    """Bootstrap resamples (of topics) for the intervals."""
    relevant_grade: int = 1
    """The lowest grade that counts as relevant."""

    def validate(self) -> CorelevanceConfig:
        if self.split not in SPLITS:
            raise ValueError(f"topics split must be one of {', '.join(SPLITS)}, got {self.split!r}")
        if self.k < 1 or self.random_draws < 1 or self.resamples < 1 or self.relevant_grade < 1:
            raise ValueError("k, random_draws, resamples and relevant_grade must be >= 1")
        return self


# -- qrels and splits -----------------------------------------------------------------------------

def read_qrels(path: Path | str) -> Judgments:
    """The judgments of a TREC qrels file (``topic iteration doc grade`` per line). A document
    judged twice for a topic keeps its highest grade.

    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    ...     _ = f.write("1 0.5 aaaa0001 2\\n1 1 aaaa0002 0\\n3 2 aaaa0001 1\\n")
    >>> read_qrels(f.name)
    {1: {'aaaa0001': 2, 'aaaa0002': 0}, 3: {'aaaa0001': 1}}
    >>> os.unlink(f.name)
    """
    path = Path(path)
    out: Judgments = defaultdict(dict)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise QrelsError(f"cannot read the qrels file {path}: {exc.strerror or exc}") from None
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        try:
            if len(fields) != 4:
                raise ValueError
            topic, doc, grade = int(fields[0]), fields[2], int(fields[3])
        except ValueError:
            raise QrelsError(f"{path}, line {number}: expected 'topic iteration cord_uid grade' "
                             f"(integers for topic and grade), got {line.strip()[:80]!r}") from None
        out[topic][doc] = max(grade, out[topic].get(doc, grade))
    if not out:
        raise QrelsError(f"{path} has no judgments")
    return {t: dict(out[t]) for t in sorted(out)}


def topic_split(topic: int) -> str:
    """``validation`` or ``report``: the half of the topics that ``topic`` belongs to."""
    return "validation" if (topic // 2) % 2 == 0 else "report"


def in_split(topic: int, split: str) -> bool:
    return split == "all" or topic_split(topic) == split


# -- what the store says --------------------------------------------------------------------------

def paper_cord_uids(store: ox.Store) -> dict[str, list[str]]:
    """paper key -> its cord_uids (named query ``embed-paper-cord-uids``)."""
    out: dict[str, list[str]] = defaultdict(list)
    for paper, uid in run_named(store, queries.get("embed-paper-cord-uids"), {}).rows:
        key = resources.key_of(paper, "paper")
        if key is not None and uid is not None:
            out[key].append(uid.value)
    return dict(out)


def citation_counts(store: ox.Store) -> dict[str, int]:
    """paper key -> in-corpus citation count (``ckg:citedByCount``, through the named query
    ``customised-citation-counts`` without parameters; uncited papers are absent)."""
    result = run_named(store, queries.get("customised-citation-counts"), {})
    column = {str(v): i for i, v in enumerate(result.variables)}
    out = {}
    for row in result.rows:
        key = resources.key_of(row[column["paper"]], "paper")
        n = row[column["citations"]]
        if key is not None and n is not None:
            out[key] = int(n.value)
    return out


# -- rankings -------------------------------------------------------------------------------------

Ranking = tuple[list[int], list[int]]
"""(the first k rows, best first; the judged rows in ranked order, at most k): rows of the run."""
Ranker = Callable[[int, int, dict[int, int]], "Ranking | None"]
"""(query row, topic, judged rows -> grade, query left out) -> its ranking, or None: no vector."""


def rank_by_scores(scores: np.ndarray, query: int, judged: Iterable[int], k: int) -> Ranking:
    """The ranking that ``scores`` (NaN: not rankable) give, the query row left out, ties by row.

    >>> rank_by_scores(np.array([0.9, 0.5, np.nan, 0.5, 0.1]), 0, [4, 2, 1], k=2)
    ([1, 3], [1, 4])
    """
    s = np.asarray(scores, dtype=float).copy()
    s[query] = np.nan
    rows = np.flatnonzero(~np.isnan(s))
    if len(rows) > k:
        kth = np.partition(s[rows], len(rows) - k)[len(rows) - k]
        rows = rows[s[rows] >= kth]
    top = rows[np.lexsort((rows, -s[rows]))][:k]
    pool = np.array([r for r in judged if r != query and not np.isnan(s[r])], dtype=np.int64)
    condensed = pool[np.lexsort((pool, -s[pool]))][:k] if len(pool) else pool
    return [int(r) for r in top], [int(r) for r in condensed]


def engine_ranker(index: Index, mode: str, k: int) -> Ranker:
    """The engine's ranking in ``mode``: exact inner products of the run's vectors."""
    def rank(query: int, topic: int, judged: dict[int, int]) -> Ranking | None:
        try:
            scores = index.scores(index.papers[query], mode)
        except EmbeddingError:
            return None
        return rank_by_scores(scores, query, judged, k)
    return rank


def order_ranker(order: list[int], k: int) -> Ranker:
    """The same ranking of every row for every query (the query left out): most cited."""
    position = np.empty(len(order), dtype=np.int64)
    position[np.asarray(order, dtype=np.int64)] = np.arange(len(order))

    def rank(query: int, topic: int, judged: dict[int, int]) -> Ranking:
        top = [r for r in order[: k + 1] if r != query][:k]
        pool = sorted((r for r in judged if r != query), key=lambda r: position[r])
        return top, pool[:k]
    return rank


def random_ranker(n: int, k: int, rng: np.random.Generator) -> Ranker:
    """A uniformly random ranking of the other rows (a new one at every call)."""
    def rank(query: int, topic: int, judged: dict[int, int]) -> Ranking:
        others = rng.choice(n - 1, size=min(k, n - 1), replace=False)
        top = [int(r + (r >= query)) for r in others]
        pool = [r for r in judged if r != query]
        return top, [pool[i] for i in rng.permutation(len(pool))[:k]]
    return rank


def ideal_ranker(n: int, k: int) -> Ranker:
    """The judged papers by grade, best first (then the unjudged): the ceiling of both figures."""
    def rank(query: int, topic: int, judged: dict[int, int]) -> Ranking:
        scores = np.full(n, -1.0)
        for r, g in judged.items():
            scores[r] = g
        return rank_by_scores(scores, query, judged, k)
    return rank


# -- the evaluation -------------------------------------------------------------------------------

def corelevance(papers: list[str], judgments: Judgments, cord_uids: Mapping[str, Iterable[str]],
                rankers: Mapping[str, Ranker], config: CorelevanceConfig | None = None, *,
                draws: Mapping[str, int] | None = None) -> dict[str, Any]:
    """Co-relevance and nDCG@k of each ranking in ``rankers`` (name -> :data:`Ranker`), on the
    run's ``papers`` (row order) joined to ``judgments`` by ``cord_uids`` (paper key -> its
    cord_uids). ``draws[name]`` rankings are drawn and averaged per query (random: several).

    >>> judgments = {1: {"u0": 2, "u1": 1, "u2": 0}}
    >>> uids = {"a": ["u0"], "b": ["u1"], "c": ["u2"], "d": []}
    >>> fixed = order_ranker([3, 1, 2, 0], k=2)            # d, b, c, a for everyone
    >>> r = corelevance(["a", "b", "c", "d"], judgments, uids, {"fixed": fixed}, CorelevanceConfig(k=2))
    >>> r["modes"]["fixed"]["corelevance"], r["modes"]["fixed"]["judged_share"], r["counts"]["queries"]
    (0.25, 0.5, 2)
    """
    config = (config or CorelevanceConfig()).validate()
    k = config.k
    row_of = {p: i for i, p in enumerate(papers)}
    rows_of_uid: dict[str, list[int]] = defaultdict(list)
    for key, uids in cord_uids.items():
        if key in row_of:
            for uid in uids:
                rows_of_uid[uid].append(row_of[key])
    topics_all = sorted(judgments)
    topics = [t for t in topics_all if in_split(t, config.split)]
    judged_rows: dict[int, dict[int, int]] = {}
    for t in topics:
        rows: dict[int, int] = {}
        for uid, grade in judgments[t].items():
            for r in rows_of_uid.get(uid, ()):
                rows[r] = max(grade, rows.get(r, grade))
        judged_rows[t] = rows

    per_query: list[dict[str, Any]] = []
    excluded = 0
    for t in topics:
        rows = judged_rows[t]
        relevant = sorted(r for r, g in rows.items() if g >= config.relevant_grade)
        for q in relevant:
            others = {r: g for r, g in rows.items() if r != q}
            n_relevant = sum(g >= config.relevant_grade for g in others.values())
            if not n_relevant:
                excluded += 1
                continue
            entry: dict[str, Any] = {"topic": t, "split": topic_split(t), "paper": papers[q],
                                     "relevant_in_run": n_relevant, "judged_in_run": len(others)}
            for name, ranker in rankers.items():
                entry[name] = _score_query(ranker, q, t, others, config, (draws or {}).get(name, 1))
            per_query.append(entry)

    clusters = [q["topic"] for q in per_query]

    def interval(values: list[float]) -> list[float | None]:
        if not values:
            return [None, None]
        return list(metrics.cluster_bootstrap_ci(values, clusters, seed=config.seed, resamples=config.resamples))

    modes: dict[str, dict[str, Any]] = {}
    for name in rankers:
        rows_ = [q[name] for q in per_query]
        corel = [r["corelevance"] for r in rows_]
        ndcg = [r["ndcg"] for r in rows_]
        judged = [r["judged"] for r in rows_]
        modes[name] = {
            "split": config.split,
            "corelevance": _mean(corel),
            "corelevance_ci95": interval(corel),
            "judged_share": _mean(judged),
            "ndcg_at_k": _mean(ndcg),
            "ndcg_ci95": interval(ndcg),
            "queries": len(rows_),
            "queries_with_vector": int(sum(r["has_vector"] for r in rows_)),
            "topics": len(set(clusters)),
        }
    comparisons = {}
    for a, b in COMPARISONS:
        if a in rankers and b in rankers:
            comparisons[f"{a}_vs_{b}"] = {"split": config.split, **{
                m: metrics.paired_cluster_bootstrap([q[a][m] for q in per_query], [q[b][m] for q in per_query],
                                                    clusters, seed=config.seed, resamples=config.resamples)
                for m in ("corelevance", "ndcg")}}
    by_topic = {}
    for t in topics:
        mine = [q for q in per_query if q["topic"] == t]
        rows = judged_rows[t]
        by_topic[str(t)] = {
            "split": topic_split(t), "judged_in_run": len(rows),
            "relevant_in_run": sum(g >= config.relevant_grade for g in rows.values()), "queries": len(mine),
            "corelevance": {name: _mean([q[name]["corelevance"] for q in mine]) for name in rankers} if mine else {},
        }
    run_rows = set(row_of.values())
    judged_pairs = sum(len(judged_rows[t]) for t in topics)
    return {
        "split": config.split,
        "split_rule": SPLIT_RULE,
        "k": k,
        "relevant_grade": config.relevant_grade,
        "interval": f"95% percentile bootstrap over topics (cluster bootstrap, {config.resamples} resamples, "
                    f"seed {config.seed})",
        "topics": [t for t in topics if any(q["topic"] == t for q in per_query)],
        "counts": {
            "topics_in_qrels": len(topics_all),
            "topics_in_split": len(topics),
            "topics_with_queries": len({q["topic"] for q in per_query}),
            "judgments_in_split": sum(len(judgments[t]) for t in topics),
            "judgments_on_run_papers": judged_pairs,
            "relevant_judgments_on_run_papers": sum(g >= config.relevant_grade for t in topics
                                                    for g in judged_rows[t].values()),
            "papers_in_run": len(run_rows),
            "papers_in_run_with_cord_uid": sum(1 for key in cord_uids if key in row_of and cord_uids[key]),
            "queries": len(per_query),
            "queries_without_another_relevant_paper": excluded,
        },
        "modes": modes,
        "comparisons": comparisons,
        "by_topic": by_topic,
        "per_query": per_query,
    }


def _score_query(ranker: Ranker, q: int, topic: int, others: dict[int, int], config: CorelevanceConfig,
                 draws: int) -> dict[str, Any]:
    k = config.k
    pool = list(others.values())
    corel, judged, ndcg = [], [], []
    for _ in range(draws):
        ranking = ranker(q, topic, others)
        if ranking is None:
            return {"corelevance": 0.0, "judged": 0.0, "ndcg": 0.0, "has_vector": False}
        top, condensed = ranking
        corel.append(sum(others.get(r, 0) >= config.relevant_grade for r in top[:k]) / k)
        judged.append(sum(r in others for r in top[:k]) / k)
        ndcg.append(metrics.graded_ndcg_at_k([others[r] for r in condensed[:k]], pool, k) or 0.0)
    return {"corelevance": _mean(corel), "judged": _mean(judged), "ndcg": _mean(ndcg), "has_vector": True}


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 6) if len(values) else None


def rankers_for(index: Index, citations: Mapping[str, int], config: CorelevanceConfig) -> tuple[dict[str, Ranker],
                                                                                                  dict[str, int]]:
    """The engine's modes (those the run has) and the three references; (rankers, draws)."""
    k = config.k
    n = len(index.papers)
    rankers: dict[str, Ranker] = {m: engine_ranker(index, m, k) for m in ENGINE_MODES if m in index.modes()}
    rankers["random"] = random_ranker(n, k, np.random.default_rng(config.seed))
    order = sorted(range(n), key=lambda i: (-citations.get(index.papers[i], 0), index.papers[i]))
    rankers["most_cited"] = order_ranker(order, k)
    rankers["ideal"] = ideal_ranker(n, k)
    return rankers, {"random": config.random_draws}


def evaluate_qrels(store_path: Path | str, qrels_path: Path | str, out_dir: Path | str | None = None,
                   config: CorelevanceConfig | None = None, *, index: Index | None = None) -> dict[str, Any]:
    """TREC-COVID co-relevance of the store's current embedding run (or of ``index``); written to
    ``OUT/trec-covid.json`` when ``out_dir`` is given. The report (a dict) is returned."""
    from ckg.embed.evaluation import combination_weights
    from ckg.store import open_store

    config = (config or CorelevanceConfig()).validate()
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.perf_counter()
    qrels_path = Path(qrels_path)
    judgments = read_qrels(qrels_path)
    index = index or Index.load(Path(store_path))
    store = open_store(Path(store_path), read_only=True)
    uids = paper_cord_uids(store)
    citations = citation_counts(store)
    del store
    read_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    rankers, draws = rankers_for(index, citations, config)
    result = corelevance(index.papers, judgments, uids, rankers, config, draws=draws)
    in_run = set(index.papers)
    if not any(citations.get(p) for p in in_run):
        result["modes"]["most_cited"]["note"] = NO_CITATIONS
    report = {
        "ckg": ckg.__version__,
        "kind": "trec-covid-corelevance",
        "store": str(Path(store_path).resolve()),
        "run": index.run_id,
        "qrels": str(qrels_path.resolve()),
        "qrels_sha256": hashlib.sha256(qrels_path.read_bytes()).hexdigest(),
        "started_at": started.isoformat(timespec="seconds"),
        "config": asdict(config),
        "weights": {**combination_weights(index.run, index), **({"note": TUNED_HERE} if _tuned_on_topics_of(
            index, config.split) else {})},
        "references": {
            "random": f"a uniformly random ranking of the other papers, {config.random_draws} seeded draws per "
                      f"query averaged (seed {config.seed})",
            "most_cited": "the same most-cited papers for everyone (ckg:citedByCount, ties by key); "
                          f"{sum(1 for p in in_run if citations.get(p))} papers of the run are cited",
            "ideal": "the judged papers by grade: the most either figure can reach",
        },
        **result,
        "timings_s": {"read": round(read_s, 3), "evaluate": round(time.perf_counter() - t0, 3)},
    }
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "trec-covid.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n",
                                             encoding="utf-8")
    return report


def _tuned_on_topics_of(index: Index, split: str) -> bool:
    tuned = (index.run.manifest.get("tuning") or {}).get("tuned_on") or {}
    return tuned.get("ground_truth") == "trec-covid" and split != "report"


# -- output ---------------------------------------------------------------------------------------

def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _interval(pair) -> str:
    return "" if not pair or pair[0] is None else f"[{pair[0]:.3f}, {pair[1]:.3f}]"


def table_rows(report: dict[str, Any]) -> list[list[str]]:
    """The report's table: one row per ranking (split, ranking, co-relevance, its interval, judged
    share, nDCG@k, its interval, queries, topics)."""
    out = []
    for name, m in report["modes"].items():
        label = MODE_NAMES.get(name, name) + (" (no citations: key order)" if m.get("note") == NO_CITATIONS else "")
        out.append([m["split"], label, _fmt(m["corelevance"]), _interval(m["corelevance_ci95"]),
                    _fmt(m["judged_share"]), _fmt(m["ndcg_at_k"]), _interval(m["ndcg_ci95"]), f"{m['queries']:,}",
                    str(m["topics"])])
    return out


def table_header(k: int) -> list[str]:
    return ["split", "ranking", f"co-relevance@{k}", "95% CI", "judged", f"nDCG@{k}", "95% CI", "queries", "topics"]


def format_table(report: dict[str, Any]) -> str:
    """The report's table as aligned text (what ``ckg evaluate --qrels`` prints)."""
    rows = [table_header(report["k"]), *table_rows(report)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
             for r in rows]
    c = report["counts"]
    head = (f"TREC-COVID co-relevance, split {report['split']}: {c['queries']:,} query papers (judged relevant) in "
            f"{c['topics_with_queries']} topics, {c['judgments_on_run_papers']:,} judgments on the run's papers "
            f"({c['queries_without_another_relevant_paper']} queries left out: no other relevant paper in their topic)")
    weights = _weights_line(report)
    if weights:
        head += "; c" + weights[0][1:].rstrip(".")
    return "\n".join([head, *lines, f"intervals: {report['interval']}"])


def _weights_line(report: dict[str, Any]) -> list[str]:
    w = report.get("weights") or {}
    if not w.get("text_graph"):
        return []
    tuned = w.get("tuned_on") or {}
    prior = f", popularity prior {w['popularity']}" if w.get("popularity") else ""
    line = f"Combined weights (text, graph): {tuple(w['text_graph'])}{prior}, " + (
        f"tuned on {tuned.get('ground_truth')} ({tuned.get('split')})." if tuned else "not tuned.")
    return [line + (f" Note: {w['note']}." if w.get("note") else ""), ""]


def to_markdown(report: dict[str, Any]) -> list[str]:
    """The report's section of ``report.md``."""
    c = report["counts"]
    lines = ["## TREC-COVID co-relevance", "",
             f"Split **{report['split']}** ({report['split_rule']}): {c['queries']:,} query papers judged relevant "
             f"to one of {c['topics_with_queries']} topics (topics {', '.join(map(str, report['topics']))}); "
             f"{c['judgments_on_run_papers']:,} judgments fall on papers of the run "
             f"({c['relevant_judgments_on_run_papers']:,} relevant); {c['queries_without_another_relevant_paper']} "
             f"relevant papers are left out as queries (no other relevant paper in their topic). Co-relevance: "
             f"share of the {report['k']} most similar papers judged relevant to the same topic; judged: share of them "
             f"judged at all; nDCG@{report['k']} over the judged papers only (gains = grades). "
             f"Intervals: {report['interval']}.", "", *_weights_line(report),
             "| " + " | ".join(table_header(report["k"])) + " |", "|" + "---|" * len(table_header(report["k"]))]
    lines += ["| " + " | ".join(r) + " |" for r in table_rows(report)]
    if report["counts"]["queries"]:
        lines += ["", f"Paired differences, split {report['split']} (mean, 95% interval over topics, share of "
                  "resamples where the first is not better):", ""]
        for name, c in report["comparisons"].items():
            a, b = name.split("_vs_")
            lines.append(f"- {MODE_NAMES.get(a, a)} − {MODE_NAMES.get(b, b)}: " + "; ".join(
                f"{label} {c[m]['mean_difference']:+.3f} {_interval(c[m]['ci95'])} (p {c[m]['p_not_better']:.4f})"
                for m, label in (("corelevance", "co-relevance"), ("ndcg", "nDCG"))))
    return lines + [""]
