"""Benchmark: the per-paper stages on Ray (1, 2, 4 workers) against the local executor, and a
projection to CORD-19's 1M papers on N nodes.

Every figure is measured in the same run, on the same papers:

* **text embedding** (``ckg train``'s text stage, :func:`ckg.embed.text.embed_with`): the local
  executor (this process: the baseline) and Ray Data pipelines with 1, 2 and 4 actors on a Ray
  started for the run on this machine (``--workers``);
* **concept extraction** (``ckg build``'s concepts stage): local processes (1 and the CPUs: the
  baseline is 1 process) and Ray with 1, 2 and 4 actors;
* the fixed cost of a Ray pipeline (connect, start actors, load the model or the gazetteer),
  measured with a window of one paper, so that the steady rate (papers per second once started)
  is separated from the start.

Ratios are papers/s against the baseline. The projection takes the steady per-worker rates and
the scaling measured from 1 to 2 workers and gives the wall time of CORD-19's final release
(1,000,000 papers, 370,000 with full text; ``--projection-papers``) on N nodes of
``--cpus-per-node`` CPU workers. With a GPU (``torch.cuda``), the text stage is also measured
on it (passages/s); without one the report says so.

    python bench/bench_ray.py [--real ../shared/data] [--papers 160] [--concept-papers 803] [--workers 1 2 4]

Inputs: the 803 full texts of the first CORD-19 release (bioRxiv/medRxiv 2020-03-13, read with
ckg's readers) when ``--real``/``$CKG_REAL_DATA`` is given (the first ``--papers`` of them embedded,
``--concept-papers`` extracted); else a synthetic demo corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_concepts import read_texts, vocabularies  # noqa: E402

from ckg.embed.config import TextConfig  # noqa: E402
from ckg.embed.text import PaperText, TextEncoder, embed_with  # noqa: E402
from ckg.etl.concepts import ConceptBatches, ExtractionConfig, Gazetteer, extract_many, make_extractor  # noqa: E402
from ckg.etl.vocab import DEMO_VOCABULARY, load  # noqa: E402
from ckg.executor import Executor  # noqa: E402


def papers_of(args) -> tuple[str, list[tuple[str, str, str, str]]]:
    release = Path(args.real or "") / "cord19" / "release-2020-03-13"
    if args.real and release.is_dir():
        return "real 2020-03-13 bioRxiv/medRxiv full texts", read_texts(release)
    from ckg.demo_corpus import generate

    print("real data not found (set CKG_REAL_DATA=../shared/data): a synthetic corpus is measured", file=sys.stderr)
    tmp = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    n = max(args.papers, args.concept_papers)
    generate(tmp / "demo", papers=n, seed=11)
    return f"synthetic demo corpus of {n}", read_texts(tmp / "demo")


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def text_rows(papers, encoder, workers_list, window) -> tuple[list[dict], int]:
    texts = [PaperText(k, t, a, b) for k, t, a, b in papers]
    rows = []
    passages = 0

    def local() -> None:
        nonlocal passages
        passages = sum(embed_with(None, encoder, texts).passages[p] for p in ("title", "abstract", "body"))

    seconds = timed(local)
    rows.append({"stage": "text", "executor": "local (this process)", "workers": 1, "seconds": round(seconds, 2),
                 "papers_per_s": round(len(texts) / seconds, 2), "passages_per_s": round(passages / seconds, 1),
                 "startup_s": 0.0})
    for w in workers_list:
        ex = Executor("ray", workers=w, window=window)
        startup = timed(lambda: embed_with(ex, encoder, texts[:1], device="cpu"))
        seconds = timed(lambda: embed_with(ex, encoder, texts, device="cpu"))
        rows.append({"stage": "text", "executor": "ray", "workers": w, "seconds": round(seconds, 2),
                     "papers_per_s": round(len(texts) / seconds, 2), "passages_per_s": round(passages / seconds, 1),
                     "startup_s": round(startup, 2)})
    return rows, passages


def concept_rows(papers, vocab_files, workers_list, window) -> list[dict]:
    config = ExtractionConfig()
    gazetteer = Gazetteer.build(load(vocab_files), config)
    extractor = make_extractor(gazetteer, config)
    rows = []
    for processes in sorted({1, os.cpu_count() or 1}):
        seconds = timed(lambda: list(extract_many(iter(papers), extractor, config, processes=processes)))
        rows.append({"stage": "concepts", "executor": f"local ({processes} process{'es' if processes > 1 else ''})",
                     "workers": processes, "seconds": round(seconds, 2), "papers_per_s": round(len(papers) / seconds, 2),
                     "startup_s": 0.0})
    from ckg.ray_pipeline import map_papers

    items = [{"key": k, "title": t, "abstract": a, "body": b} for k, t, a, b in papers]
    for w in workers_list:
        ex = Executor("ray", workers=w, window=window)
        startup = timed(lambda: list(map_papers(ex, items[:1], ConceptBatches, (pickle.dumps(gazetteer), config), stage="concepts")))
        seconds = timed(lambda: list(map_papers(ex, items, ConceptBatches, (pickle.dumps(gazetteer), config), stage="concepts")))
        rows.append({"stage": "concepts", "executor": "ray", "workers": w, "seconds": round(seconds, 2),
                     "papers_per_s": round(len(papers) / seconds, 2), "startup_s": round(startup, 2)})
    return rows


def steady(row: dict, papers: int) -> float:
    """Papers per second once the pipeline has started (its startup, measured apart, taken off;
    at most half the run, as the startup measurement is itself noisy)."""
    return papers / max(row["seconds"] - row["startup_s"], row["seconds"] / 2)


def projection(rows: list[dict], papers: int, stage: str, total: int, nodes: list[int], cpus: int) -> list[dict]:
    ray_rows = {r["workers"]: r for r in rows if r["stage"] == stage and r["executor"] == "ray"}
    if 1 not in ray_rows:
        return []
    one = steady(ray_rows[1], papers)
    efficiency = (steady(ray_rows[2], papers) / (2 * one)) if 2 in ray_rows else 1.0
    out = []
    for n in nodes:
        workers = n * cpus
        rate = one * workers * min(1.0, efficiency)
        out.append({"stage": stage, "nodes": n, "workers": workers, "papers_per_s": round(rate, 1),
                    "hours": round(total / rate / 3600, 2)})
    return out


def gpu_row(papers, config: TextConfig) -> dict:
    import torch

    if not torch.cuda.is_available():
        return {"gpu": None, "note": "no GPU on this machine: GPU throughput not measured"}
    encoder = TextEncoder(config, "cuda")
    texts = [PaperText(k, t, a, b) for k, t, a, b in papers]
    embed_with(None, encoder, texts[:8])  # warm up; settles fp16 or fp32
    start = time.perf_counter()
    vectors = embed_with(None, encoder, texts)
    seconds = time.perf_counter() - start
    passages = sum(vectors.passages[p] for p in ("title", "abstract", "body"))
    return {"gpu": torch.cuda.get_device_name(0), "precision": encoder.precision,
            "precision_check": encoder.precision_check, "papers_per_s": round(len(texts) / seconds, 1),
            "passages_per_s": round(passages / seconds, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real", default=os.environ.get("CKG_REAL_DATA"), help="the shared data folder")
    parser.add_argument("--papers", type=int, default=160, help="papers embedded (the first of the release)")
    parser.add_argument("--concept-papers", type=int, default=803, help="papers whose concepts are extracted")
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2, 4], help="Ray actor counts to measure")
    parser.add_argument("--window", type=int, default=10_000, help="papers per Ray window")
    parser.add_argument("--max-passages", type=int, default=8)
    parser.add_argument("--stages", nargs="*", default=["text", "concepts"], choices=["text", "concepts"])
    parser.add_argument("--projection-papers", type=int, default=1_000_000)
    parser.add_argument("--nodes", type=int, nargs="*", default=[1, 4, 16])
    parser.add_argument("--cpus-per-node", type=int, default=16)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

    name, everything = papers_of(args)
    papers, concept_papers = everything[: args.papers], everything[: args.concept_papers]
    vocab = vocabularies(Path(args.real)) if args.real and Path(args.real, "vocab").is_dir() else [DEMO_VOCABULARY]
    config = TextConfig(max_passages=args.max_passages)
    rows: list[dict] = []
    passages = 0
    if "text" in args.stages:
        encoder = TextEncoder(config, "cpu")
        text, passages = text_rows(papers, encoder, args.workers, args.window)
        rows += text
    if "concepts" in args.stages:
        rows += concept_rows(concept_papers, vocab, args.workers, args.window)
    base = {s: next(r for r in rows if r["stage"] == s) for s in args.stages}
    measured = {"text": len(papers), "concepts": len(concept_papers)}
    for r in rows:
        r["papers"] = measured[r["stage"]]
        r["ratio_vs_baseline"] = round(r["papers_per_s"] / base[r["stage"]]["papers_per_s"], 2)
        r["steady_papers_per_s"] = round(steady(r, r["papers"]), 2)
    projected = [p for s in args.stages
                 for p in projection(rows, measured[s], s, args.projection_papers, args.nodes, args.cpus_per_node)]
    gpu = gpu_row(papers, config) if "text" in args.stages else None

    print(f"inputs: {name}: text {len(papers)} papers ({passages:,} passages with max_passages={args.max_passages}), "
          f"concepts {len(concept_papers)} papers; {os.cpu_count()} CPUs")
    print(f"{'stage':9} {'executor':22} {'workers':>7} {'papers':>6} {'seconds':>8} {'papers/s':>9} {'startup s':>9} "
          f"{'steady/s':>9} {'x baseline':>10}")
    for r in rows:
        print(f"{r['stage']:9} {r['executor']:22} {r['workers']:>7} {r['papers']:>6} {r['seconds']:>8} "
              f"{r['papers_per_s']:>9} {r['startup_s']:>9} {r['steady_papers_per_s']:>9} {r['ratio_vs_baseline']:>10}")
    print(f"projection to {args.projection_papers:,} papers on nodes of {args.cpus_per_node} CPU workers "
          f"(steady rate of 1 Ray worker here x workers x the 1->2 worker efficiency measured here):")
    for p in projected:
        print(f"  {p['stage']:9} {p['nodes']:>3} nodes ({p['workers']:>4} workers): {p['papers_per_s']:>9} papers/s, "
              f"{p['hours']} h")
    if gpu is not None:
        print("GPU: " + (gpu["note"] if gpu.get("gpu") is None else
                         f"{gpu['gpu']}: {gpu['papers_per_s']} papers/s, {gpu['passages_per_s']} passages/s "
                         f"({gpu['precision']}; {gpu['precision_check']})"))
    if args.json:
        Path(args.json).write_text(json.dumps({"inputs": name, "papers": len(papers), "passages": passages,
                                               "rows": rows, "projection": projected, "gpu": gpu}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
