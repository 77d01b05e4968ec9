"""Search measured on TREC-COVID: NIST's relevance judgments of CORD-19 papers for 50 questions.

For each topic of the round-5 topics file (``<query>``, ``<question>``, ``<narrative>``) that has
judgments and at least one relevant paper (grade >= 1) in the store, the topic's text (by default
its query and its question, :data:`QUERY_FIELDS`) is searched in every mode, and the ranking is
scored against the judgments of the papers the store holds (joined by ``ckg:cordUid``):

* **nDCG@10**: gains are the grades (0, 1, 2); an unjudged paper counts as not relevant; the
  ideal is the store's judged papers by grade;
* **nDCG'@10** (condensed): the same over the ranking with the unjudged papers left out (what the
  scores say where judgments are missing: the qrels judged pooled runs, not this store);
* **P@10**: the share of the first ten that are relevant; **R@100**: the share of the topic's
  relevant papers in the store found in the first hundred; **judged@10**: the share of the first
  ten that have a judgment at all.

Rankings: ``bm25`` (the plain baseline), ``lexical``, ``semantic``, ``fused`` and ``fused+prior``
(the graph prior on). **Splits** are those of :mod:`ckg.embed.trec`: topic ``n`` is in
``validation`` when ``n // 2`` is even (1, 5, 9, ...), else in ``report`` (3, 7, ...). With
``tune``, the fused weight and the prior weight are chosen on the validation topics (grid
search for the best mean nDCG@10) and the report gives every split with them; figures of the
validation split are then not held out. The even topics' judgments are not in ``../shared``:
they are the held-out test.
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ckg.embed.trec import SPLIT_RULE, in_split, paper_cord_uids, read_qrels, topic_split
from ckg.search.service import SearchConfig, SearchError, SearchService

RANKINGS = ("bm25", "lexical", "semantic", "fused", "fused+prior")
METRICS = ("ndcg@10", "ndcg'@10", "p@10", "recall@100", "judged@10")
QUERY_FIELDS = ("query", "question")
DEPTH = 100
LEXICAL_GRID = tuple(round(x, 1) for x in np.arange(0.0, 1.01, 0.1))
PRIOR_GRID = (0.0, 0.02, 0.05, 0.1, 0.2, 0.4)


@dataclass(frozen=True)
class Topic:
    number: int
    query: str
    question: str
    narrative: str

    def text(self, fields: tuple[str, ...] = QUERY_FIELDS) -> str:
        return " ".join(getattr(self, f) for f in fields if getattr(self, f))


def read_topics(path: Path | str) -> dict[int, Topic]:
    """The topics of a TREC-COVID topics file (``<topic number="n"><query>…``)."""
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise SearchError(f"cannot read the topics file {path}: {exc}") from None
    out = {}
    for element in root.iter("topic"):
        try:
            number = int(element.get("number", ""))
        except ValueError:
            raise SearchError(f"{path}: a <topic> without an integer number attribute") from None
        parts = {f: " ".join((element.findtext(f) or "").split()) for f in ("query", "question", "narrative")}
        out[number] = Topic(number, **parts)
    if not out:
        raise SearchError(f"{path} has no <topic> elements")
    return out


def metrics(ranking: list[str], grades: dict[str, int]) -> dict[str, float]:
    """The figures of one ranking (paper keys, best first) against a topic's grades.

    >>> m = metrics(["a", "x", "b"], {"a": 2, "b": 1, "c": 0})
    >>> round(m["ndcg@10"], 4), round(m["p@10"], 2), m["recall@100"], round(m["judged@10"], 3)
    (0.9502, 0.2, 1.0, 0.2)
    """
    def dcg(gains: list[int]) -> float:
        return float(sum(g / np.log2(i + 2) for i, g in enumerate(gains)))

    ideal = dcg(sorted(grades.values(), reverse=True)[:10]) or 1.0
    top = ranking[:10]
    judged = [k for k in ranking if k in grades][:10]
    relevant = {k for k, g in grades.items() if g >= 1}
    return {
        "ndcg@10": dcg([grades.get(k, 0) for k in top]) / ideal,
        "ndcg'@10": dcg([grades[k] for k in judged]) / ideal,
        "p@10": sum(1 for k in top if k in relevant) / 10,
        "recall@100": len(relevant & set(ranking[:DEPTH])) / len(relevant) if relevant else 0.0,
        "judged@10": sum(1 for k in top if k in grades) / 10,
    }


def judged_in_store(service: SearchService, qrels_path: Path | str) -> dict[int, dict[str, int]]:
    """topic -> {paper key: grade} for the store's papers (by cord_uid)."""
    judgments = read_qrels(qrels_path)
    key_of_uid: dict[str, str] = {}
    for key, uids in paper_cord_uids(service.store).items():
        for uid in uids:
            key_of_uid.setdefault(uid, key)
    out = {}
    for topic, grades in judgments.items():
        mine = {key_of_uid[u]: g for u, g in grades.items() if u in key_of_uid}
        if any(g >= 1 for g in mine.values()):
            out[topic] = mine
    return out


def _rankings(service: SearchService, text: str, config: SearchConfig, semantic: bool) -> dict[str, list[str]]:
    out = {}
    for name in RANKINGS:
        if name in ("semantic",) and not semantic:
            continue
        mode = "fused" if name == "fused+prior" else name
        prior = config.prior_weight if name == "fused+prior" else 0.0
        answer = service.search(text, k=DEPTH, mode=mode, prior=prior, config=config, details=False)
        out[name] = [h.key for h in answer.hits]
    return out


def _mean(rows: list[dict[str, float]]) -> dict[str, float | None]:
    return {m: (float(np.mean([r[m] for r in rows])) if rows else None) for m in METRICS}


def _scan(service: SearchService, topics: dict[int, Topic], judged: dict[int, dict[str, int]], split: str,
          fields: tuple[str, ...]) -> dict[str, Any]:
    """Choose the fused and prior weights on a split's topics (best mean nDCG@10)."""
    texts = {t: topics[t].text(fields) for t in judged if t in topics and in_split(t, split)}
    base = service.config
    by_weight = {}
    for w in LEXICAL_GRID:
        config = replace(base, lexical_weight=w, prior_weight=0.0)
        rows = [metrics([h.key for h in service.search(texts[t], DEPTH, "fused", config=config, details=False).hits],
                        judged[t]) for t in texts]
        by_weight[w] = _mean(rows)["ndcg@10"]
    best_w = max(LEXICAL_GRID, key=lambda w: (by_weight[w], -abs(w - 0.5)))
    by_prior = {}
    for p in PRIOR_GRID:
        config = replace(base, lexical_weight=best_w, prior_weight=p)
        rows = [metrics([h.key for h in service.search(texts[t], DEPTH, "fused", config=config, details=False).hits],
                        judged[t]) for t in texts]
        by_prior[p] = _mean(rows)["ndcg@10"]
    best_p = max(PRIOR_GRID, key=lambda p: (by_prior[p], -p))
    return {"split": split, "topics": len(texts), "lexical_weight": best_w, "prior_weight": best_p,
            "ndcg@10_by_lexical_weight": by_weight, "ndcg@10_by_prior_weight": by_prior}


def evaluate(store_path: Path | str, topics_path: Path | str, qrels_path: Path | str, *,
             fields: tuple[str, ...] = QUERY_FIELDS, tune: bool = False, lexical_weight: float | None = None,
             prior_weight: float | None = None, out: Path | str | None = None) -> dict[str, Any]:
    """Score every ranking on every split (see the module's description); writes
    ``search-trec-covid.json`` into ``out`` when given."""
    started = time.perf_counter()
    for f in fields:
        if f not in ("query", "question", "narrative"):
            raise SearchError(f"unknown topic field {f!r} (query, question, narrative)")
    service = SearchService(store_path)
    topics = read_topics(topics_path)
    judged = judged_in_store(service, qrels_path)
    if not judged:
        raise SearchError(f"no judged paper of {qrels_path} is in the store {store_path} (joined by cord_uid)")
    semantic = service.semantic is not None
    config = service.config
    tuning = None
    if tune:
        tuning = _scan(service, topics, judged, "validation", fields)
        config = replace(config, lexical_weight=tuning["lexical_weight"], prior_weight=tuning["prior_weight"])
    if lexical_weight is not None:
        config = replace(config, lexical_weight=lexical_weight)
    if prior_weight is not None:
        config = replace(config, prior_weight=prior_weight)
    config = config.validate()
    per_topic: dict[int, dict[str, dict[str, float]]] = {}
    latency: list[float] = []
    for number in sorted(judged):
        if number not in topics:
            continue
        text = topics[number].text(fields)
        t0 = time.perf_counter()
        rankings = _rankings(service, text, config, semantic)
        latency.append((time.perf_counter() - t0) * 1000 / len(rankings))
        per_topic[number] = {name: metrics(r, judged[number]) for name, r in rankings.items()}
    splits = {}
    for split in ("validation", "report", "all"):
        numbers = [t for t in per_topic if in_split(t, split)]
        splits[split] = {"topics": numbers,
                         "rankings": {name: _mean([per_topic[t][name] for t in numbers if name in per_topic[t]])
                                      for name in RANKINGS if any(name in per_topic[t] for t in numbers)}}
    report = {
        "store": str(store_path), "topics_file": str(topics_path), "qrels": str(qrels_path),
        "query_fields": list(fields), "papers": service.lexical.papers,
        "judged_papers_in_store": len({k for g in judged.values() for k in g}),
        "topics_with_relevant_papers": len(per_topic), "semantic": service.semantic_note,
        "config": asdict(config), "tuning": tuning, "tuned_on": "validation" if tune else None,
        "split_rule": SPLIT_RULE, "splits": splits,
        "per_topic": {str(t): {"split": topic_split(t), **v} for t, v in per_topic.items()},
        "mean_query_ms": round(float(np.mean(latency)), 2) if latency else None,
        "seconds": round(time.perf_counter() - started, 2),
    }
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "search-trec-covid.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def format_table(report: dict[str, Any]) -> str:
    """The report as Markdown tables, one per split, each ranking's nDCG@10 also as a ratio
    against the plain BM25 of the same run."""
    lines = [f"TREC-COVID round 5, {report['papers']:,} papers, {report['judged_papers_in_store']:,} judged; "
             f"query = {' + '.join(report['query_fields'])}; fused lexical weight {report['config']['lexical_weight']}, "
             f"prior weight {report['config']['prior_weight']}"
             + (f" (tuned on the {report['tuned_on']} topics)" if report.get("tuned_on") else "")]
    for split, data in report["splits"].items():
        if not data["topics"]:
            continue
        note = " (tuned here: not held out)" if report.get("tuned_on") == split or (
            report.get("tuned_on") and split == "all") else ""
        lines += ["", f"{split} topics ({len(data['topics'])}){note}", "",
                  "| ranking | nDCG@10 | ×BM25 | nDCG'@10 | P@10 | R@100 | judged@10 |", "|---|---|---|---|---|---|---|"]
        base = (data["rankings"].get("bm25") or {}).get("ndcg@10") or None
        for name, m in data["rankings"].items():
            condensed = m["ndcg'@10"]
            ratio = f"{m['ndcg@10'] / base:.2f}" if base else "–"
            lines.append(f"| {name} | {m['ndcg@10']:.3f} | {ratio} | {condensed:.3f} | "
                         f"{m['p@10']:.3f} | {m['recall@100']:.3f} | {m['judged@10']:.3f} |")
    return "\n".join(lines)

