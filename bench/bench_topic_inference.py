"""Benchmark: topic inference (:func:`ckg.etl.topics.infer_many`) in one process and in several.

Above ``max_training_papers`` a build infers every paper's topics with a model trained on a
sample; at 100k papers that inference was the build's longest step (536 s of 1,847 s). This
bench reads a built store's sampled model and the texts of ``--papers`` of its papers (the
first in key order), then infers them with 1 process (the baseline) and with ``--processes``,
in the same run, and checks that both give the same edges. The first row is the earlier way,
one call of tomotopy's ``infer`` per paper (one process), whose cost grew with the vocabulary;
the others infer ``topics.INFER_GROUP`` papers per call.

    python bench/bench_topic_inference.py --store STORE [--papers 5000] [--processes 2] [--compare-iterations 50] [--compare-body-chars -1]

It prints papers/s and the speed-up, and writes ``bench/out/bench_topic_inference.json``. With
``--compare-iterations N`` it also infers the papers (in one process) with N Gibbs iterations,
the configured number's baseline, and reports the time ratio and how many papers get the same
top topic and the same edges both ways; ``--compare-body-chars N`` does the same reading N
characters of each body (-1: the whole body) where the configuration reads ``body_chars``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, type=Path, help="a ckg store built with a sampled topic model")
    parser.add_argument("--papers", type=int, default=5000)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--compare-iterations", type=int, default=None,
                        help="also infer with this many Gibbs iterations (one process) and compare")
    parser.add_argument("--compare-body-chars", type=int, default=None,
                        help="also infer reading this many characters of each body (-1: all; one process) and compare")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "bench_topic_inference.json")
    args = parser.parse_args()

    import pyoxigraph as ox

    from ckg.etl import topics
    from ckg.etl.annotate import paper_texts
    from ckg.etl.catalog import Catalog
    from ckg.store import CATALOG_FILE, OXIGRAPH_DIR, current_folder

    folder = current_folder(args.store)
    if folder is None:
        parser.error(f"{args.store} is not a ckg store")
    with Catalog(folder / CATALOG_FILE) as catalog:
        held = catalog.topic_model()
        keys = sorted(catalog.keys())[:args.papers]
    if held is None:
        parser.error(f"{args.store} has no sampled topic model (its corpus is within max_training_papers)")
    config = topics.load_config()
    store = ox.Store.read_only(str(folder / OXIGRAPH_DIR))
    started = time.perf_counter()
    texts = list(paper_texts(store, keys))
    read_s = time.perf_counter() - started
    words = sum(len(" ".join(t[1:]).split()) for t in texts)

    runs, edges = [], {}
    started = time.perf_counter()
    inferrer, phrases = topics.Inferrer(held[0], config), config.phrases()
    alone = {e: v for key, title, abstract, body in texts
             for e, v in inferrer.edges(key, topics.tokenize(topics.document(title, abstract, body, config.body_chars),
                                                             phrases)).items()}
    seconds = time.perf_counter() - started
    runs.append({"processes": 1, "per_call": 1, "seconds": round(seconds, 3), "papers_per_s": round(len(texts) / seconds, 1)})
    edges[0] = alone
    for processes in sorted({1, args.processes}):
        started = time.perf_counter()
        found = {e: v for _k, d in topics.infer_many(texts, held[0], config, processes=processes) for e, v in d.items()}
        seconds = time.perf_counter() - started
        edges[processes] = found
        runs.append({"processes": processes, "per_call": topics.INFER_GROUP, "seconds": round(seconds, 3), "papers_per_s": round(len(texts) / seconds, 1)})
    base = runs[0]["seconds"]
    for run in runs:
        run["speedup"] = round(base / run["seconds"], 2)
    equal = all(e == edges[0] for e in edges.values())
    result = {"store": str(args.store.resolve()), "papers": len(texts), "words": words, "read_s": round(read_s, 3),
              "cpus": os.cpu_count(), "infer_iterations": config.infer_iterations, "runs": runs,
              "same_edges": equal, "edges": len(edges[1])}
    print(f"{len(texts):,} papers ({words:,} words; texts read from the store in {read_s:.1f} s), "
          f"{config.infer_iterations} Gibbs iterations each")
    print(f"{'processes':>9} {'per call':>9} {'seconds':>9} {'papers/s':>9} {'speed-up':>9}")
    for run in runs:
        print(f"{run['processes']:>9} {run['per_call']:>9} {run['seconds']:>9.1f} {run['papers_per_s']:>9.1f} "
              f"{run['speedup']:>9.2f}")
    print(f"same edges in every run: {equal} ({len(edges[1]):,} edges)")
    import dataclasses

    for name, value in (("infer_iterations", args.compare_iterations), ("body_chars", args.compare_body_chars)):
        if value is None:
            continue
        other = dataclasses.replace(config, **{name: value})
        started = time.perf_counter()
        theirs = dict(topics.infer_many(texts, held[0], other, processes=1))
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        ours = dict(topics.infer_many(texts, held[0], config, processes=1))
        again = time.perf_counter() - started  # timed again after the other: neither is the first run

        def top(edges):
            return min(edges, key=lambda e: edges[e][1])[1] if edges else None
        same_top = sum(top(ours[k]) == top(theirs[k]) for k in ours)
        same_edges = sum(set(ours[k]) == set(theirs[k]) for k in ours)
        result.setdefault("compare", []).append({
            name: value, "seconds": round(seconds, 3), "configured_seconds_again": round(again, 3),
            "ratio_to_configured": round(seconds / again, 2),
            "same_top_topic": round(same_top / len(ours), 4), "same_edge_set": round(same_edges / len(ours), 4)})
        print(f"{name} {value} (configured: {getattr(config, name)}), 1 process: {seconds:.1f} s ({seconds / again:.2f} "
              f"times the configured, timed again after it: {again:.1f} s); same top topic for "
              f"{same_top / len(ours):.1%} of papers, same edges for {same_edges / len(ours):.1%}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    return 0 if equal else 1


if __name__ == "__main__":
    raise SystemExit(main())
