"""Training throughput on this CPU and its projection to a whole corpus (bench tooling)."""

from __future__ import annotations

import time
from pathlib import Path

from scale_corpus import generate_release
from scale_tables import label, say, table

CORD19_PAPERS = 1_000_000  # the last CORD-19 releases list about a million papers

def bench_training(work: Path, papers: int, epochs: int, seed: int, generator: str) -> dict:
    from ckg.embed import train
    from ckg.embed.config import TrainConfig
    from ckg.etl.build import build

    corpus = work / "train-corpus"
    generate_release(corpus, papers, seed, 1, generator)
    store = work / "train-store"
    build(store, [corpus], release="train", overwrite=True)
    config = TrainConfig().override({"graph.epochs": epochs, "graph.eval_every": epochs, "graph.patience": 10**6})
    start = time.perf_counter()
    result = train(store, config, show_progress=False)
    seconds = time.perf_counter() - start
    m = result.manifest
    passages = sum(m["counts"]["text"]["passages_embedded"].values())
    epochs_run = m["metrics"]["graph"].get("epochs_run") or epochs
    kge_train_s = m["graph"]["timings_s"]["train"]
    triples = m["counts"]["graph"]["training"]
    with_text = m["counts"]["text"]["with_text"]
    return {"papers": m["counts"]["text"]["papers"], "with_text": with_text, "passages": passages,
            "max_passages": config.text.max_passages, "text_model": m["text"]["model"],
            "text_dimension": m["text"]["dimension"], "graph_dimension": m["graph"]["dimension"],
            "text_s": m["timings_s"]["text"], "passages_per_s": round(passages / m["timings_s"]["text"], 2),
            "passages_per_paper": round(passages / max(1, with_text), 3),
            "kge_model": m["graph"]["model"], "kge_triples": triples, "kge_epochs": epochs_run,
            "kge_s_per_epoch": round(kge_train_s / epochs_run, 3),
            "kge_triples_per_s": round(triples * epochs_run / kge_train_s, 1),
            "default_epochs": TrainConfig().graph.epochs, "total_s": round(seconds, 1)}


def bench_kge(store: Path, epochs: int, seed: int, max_triples: int = 250_000) -> dict:
    """KGE training throughput on a store's own training triplets (ckg.embed.train_graph, the
    default model and settings, ``epochs`` epochs, no validation split and a test split of about
    200 triplets so that evaluation does not dominate). Above ``max_triples`` a random sample of
    that many is trained (an epoch's time grows with the triplets; its rate per triplet does not),
    and the report keeps the store's full count for the projection."""
    import random

    from ckg.embed.config import GraphConfig
    from ckg.embed.data import training_triples
    from ckg.embed.graph import train_graph
    from ckg.store import open_store

    start = time.perf_counter()
    db = open_store(store, read_only=True)
    triples = training_triples(db)
    del db
    read_s = time.perf_counter() - start
    total = len(triples)
    if total > max_triples:
        triples = random.Random(seed).sample(list(triples), max_triples)
    config = GraphConfig(epochs=epochs, eval_every=10**6, validation_share=0.0,
                         test_share=min(0.05, max(1e-6, 200 / max(1, len(triples)))))
    model = train_graph(triples, config, seed=seed)
    train_s = model.timings["train"]
    training = model.counts["training"]
    return {"triples": total, "trained_triples": len(triples), "training_triples": training, "epochs": epochs,
            "read_s": round(read_s, 2), "train_s": train_s, "s_per_epoch": round(train_s / epochs, 3),
            "s_per_epoch_all_triples": round(train_s / epochs * total / len(triples), 1),
            "triples_per_s": round(training * epochs / train_s, 1), "entities": model.counts["entities"],
            "model": config.model, "dim": config.dim, "batch_size": config.batch_size, "negatives": config.negatives}


def projection(training: dict, papers: int, triples: int | None, kge_rate: float | None = None) -> dict:
    """Hours to embed the texts of ``papers`` papers and seconds per KGE epoch over ``triples``
    triplets, at the rates measured (``kge_rate``: triples/s measured on a bench store)."""
    text_s = papers * training["passages_per_paper"] / training["passages_per_s"]
    out = {"papers": papers, "text_hours": round(text_s / 3600, 2)}
    if triples:
        epoch = triples / (kge_rate or training["kge_triples_per_s"])
        out.update(kge_triples=triples, kge_s_per_epoch=round(epoch, 1),
                   kge_hours_default_epochs=round(epoch * training["default_epochs"] / 3600, 2))
    return out


def print_training(training: dict, projections: list[dict]) -> None:
    t = training
    say(f"\ntraining throughput on this CPU ({t['papers']} papers, {t['max_passages']} passages at most per abstract and body):")
    say(f"  text  {t['text_model']} ({t['text_dimension']} dims): {t['passages']:,} passages in {t['text_s']} s = "
        f"{t['passages_per_s']} passages/s ({t['passages_per_paper']} passages per paper with text)")
    say(f"  KGE   {t['kge_model']} ({t['graph_dimension']} dims): {t['kge_triples']:,} training triples, "
        f"{t['kge_s_per_epoch']} s/epoch = {t['kge_triples_per_s']:,} triples/s"
        + (f" (the projection uses {t['kge_rate_used']:,} triples/s, measured on the largest bench store)"
           if t.get("kge_rate_used") else ""))
    rows = [[label(p["papers"]), p["text_hours"], p.get("kge_triples"), p.get("kge_s_per_epoch"),
             p.get("kge_hours_default_epochs")] for p in projections]
    say(table(["papers", "text h", "KGE triples", "KGE s/epoch", f"KGE h ({t['default_epochs']} epochs)"], rows,
              "projection (triples counted in each store; CORD-19 scaled from the largest measured store)"))
