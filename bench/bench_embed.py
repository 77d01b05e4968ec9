"""Benchmark: the similar-paper engine's training and evaluation, against the model's bare speed.

The baseline, measured in the same run on the same machine, is the text model's bare throughput:
``SentenceTransformer.encode`` of passages that fill the model's length exactly, in word pieces
per second. The ratio baseline/pipeline (tokens per second) says what reading, tokenising,
splitting, padding, pooling and writing add on top of the model (1.0: nothing). KGE training is reported in seconds per epoch with its link-prediction metrics,
and the evaluation's citation-recovery table is printed.

    python bench/bench_embed.py [--real PATH] [--papers 300] [--max-passages 8] [--epochs 100] [--device auto]

Inputs: the real 2020-03-13 bioRxiv/medRxiv release (803 parses) when $CKG_REAL_DATA or --real
points at ../shared/data, else a synthetic demo corpus of --papers papers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from ckg.demo_corpus import generate
from ckg.embed import evaluate, train
from ckg.embed.config import TextConfig, TrainConfig
from ckg.embed.evaluation import EvaluationConfig
from ckg.embed.text import TextEncoder
from ckg.etl.build import build


def baseline(passages: int = 128) -> dict:
    encoder = TextEncoder(TextConfig())
    word = "coronavirus "
    text = word * encoder.max_tokens * 2
    ids = encoder.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"][: encoder.max_tokens]
    passage = encoder.tokenizer.decode(ids)
    encoder.encode([passage] * 8)  # warm up
    start = time.perf_counter()
    encoder.encode([passage] * passages)
    seconds = time.perf_counter() - start
    tokens = len(encoder.tokenizer(passage, add_special_tokens=False)["input_ids"])
    return {"passages": passages, "tokens_per_passage": tokens, "seconds": round(seconds, 3),
            "passages_per_s": round(passages / seconds, 2), "tokens_per_s": round(passages * tokens / seconds, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real", default=os.environ.get("CKG_REAL_DATA"), help="the shared data folder")
    parser.add_argument("--papers", type=int, default=300, help="papers of the synthetic corpus (without --real)")
    parser.add_argument("--max-passages", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                        help="where the text model and PyKEEN run (auto: a GPU when torch sees one)")
    args = parser.parse_args()
    base = baseline()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        release = Path(args.real or "") / "cord19" / "release-2020-03-13"
        if args.real and release.is_dir():
            name = "real-2020-03-13"
        else:
            print("real data not found (set CKG_REAL_DATA=../shared/data): a synthetic corpus is measured",
                  file=sys.stderr)
            release = work / "demo"
            generate(release, papers=args.papers, seed=11)
            name = f"demo-{args.papers}"
        store = work / "store"
        build(store, [release])
        config = TrainConfig().override({"text.max_passages": args.max_passages, "graph.epochs": args.epochs,
                                          "graph.method": "kge"})
        start = time.perf_counter()
        result = train(store, config, device=args.device)
        train_s = time.perf_counter() - start
        start = time.perf_counter()
        report = evaluate(store, work / "eval", EvaluationConfig(samples=0)).report
        evaluate_s = time.perf_counter() - start
    m = result.manifest
    passages = sum(m["counts"]["text"]["passages_embedded"].values())
    graph = m["metrics"]["graph"]
    row = {
        "input": name, "papers": m["counts"]["papers"], "max_passages": args.max_passages,
        "baseline": base,
        "text": {"passages": passages, "tokens": m["counts"]["text"]["tokens_embedded"],
                 "seconds": m["timings_s"]["text"],
                 "papers_per_s": m["metrics"]["text"]["papers_per_s"],
                 "passages_per_s": m["metrics"]["text"]["passages_per_s"],
                 "tokens_per_s": m["metrics"]["text"]["tokens_per_s"],
                 # the model's share of the text stage: bare tokens/s over the pipeline's tokens/s
                 "ratio_to_baseline": round(base["tokens_per_s"] / m["metrics"]["text"]["tokens_per_s"], 3)},
        "graph": {"model": m["graph"]["model"], "seconds": m["timings_s"]["graph"], "epochs_run": graph["epochs_run"],
                  "seconds_per_epoch": round(m["graph"]["timings_s"]["train"] / max(1, graph["epochs_run"]), 3),
                  "triples_per_s_per_epoch": round(m["counts"]["graph"]["training"] * max(1, graph["epochs_run"])
                                                   / max(m["graph"]["timings_s"]["train"], 1e-9), 1),
                  "device": m["counts"]["graph"].get("device"),
                  "mrr": graph["mrr"], "hits_at_10": graph["hits_at_10"], "evaluated_on": graph["evaluated_on"]},
        "train_s": round(train_s, 1), "evaluate_s": round(evaluate_s, 1),
        "citation_recovery": {mode: {"recall_at_10": v["recall_at_k"], "ndcg_at_10": v["ndcg_at_k"]}
                              for mode, v in report["citation_recovery"].get("modes", {}).items()},
    }
    print(f"{'input':<18} {'papers':>6} {'passages':>8} {'text s':>7} {'papers/s':>8} {'tok/s':>7} {'bare tok/s':>10} "
          f"{'ratio':>6} {'kge s':>6} {'epochs':>6} {'MRR':>6} {'H@10':>6}")
    print(f"{row['input']:<18} {row['papers']:>6} {passages:>8} {row['text']['seconds']:>7} "
          f"{row['text']['papers_per_s']:>8} {row['text']['tokens_per_s']:>7} {base['tokens_per_s']:>10} "
          f"{row['text']['ratio_to_baseline']:>6} {row['graph']['seconds']:>6} {row['graph']['epochs_run']:>6} "
          f"{graph['mrr']:>6.3f} {graph['hits_at_10']:>6.3f}")
    print(f"device: text {m['text']['device']} ({m['text']['precision']}), KGE {row['graph']['device']}: "
          f"{row['graph']['triples_per_s_per_epoch']:,} training triples/s per epoch"
          + ("" if "cuda" in str(row['graph']['device']) else " (no GPU was used: GPU throughput not measured)"))
    for mode, v in row["citation_recovery"].items():
        print(f"  {mode:<24} Recall@10 {v['recall_at_10']:.4f}  nDCG@10 {v['ndcg_at_10']:.4f}")
    print(json.dumps(row, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
