"""Similar papers at scale: FAISS exact against approximate, ckg's own search, synthetic runs (bench tooling).

Vectors are synthetic: unit vectors around random centres (clusters, as real embeddings have), of
ckg's real dimensions. Training real embeddings for 100,000 or 1,000,000 papers takes hours on a
CPU, and a search's cost depends on the number and dimension of the vectors, not on their values
(an approximate index's recall does depend on their distribution: on real embeddings it is
usually higher than on these, which are harder, more uniform ones).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

import scale_memory
from scale_tables import label, mib, say, table


def synthetic_embeddings(store: Path, text_dim: int, graph_dim: int, seed: int = 0) -> dict:
    """An embedding run of synthetic clustered unit vectors for every paper of the store (for the
    similar-papers endpoint at sizes where training would take hours); marked synthetic in its
    manifest. Written in the layout of ckg.embed.artifacts and made the store's current run."""
    import numpy as np

    from ckg.embed import artifacts
    from ckg.store import open_store
    from ckg.terms import CKG, RDF

    db = open_store(store, read_only=True)
    keys = sorted(q.subject.value.rsplit("/", 1)[-1] for q in db.quads_for_pattern(None, RDF.type, CKG.Paper))
    del db
    n = len(keys)
    rng = np.random.default_rng(seed)
    text = clustered(n, text_dim, rng)
    graph = clustered(n, graph_dim, rng)
    run_id = artifacts.new_run_id()
    folder = artifacts.run_dir(store, run_id)
    folder.mkdir(parents=True)
    with open(folder / "papers.tsv", "w", encoding="utf-8") as out:
        out.write("key\ttext_hash\tparts\tgraph\ttitle\n")
        for key in keys:
            out.write(f"{key}\tsynthetic\t111\t1\t\n")
    np.save(folder / "text.npy", text)
    np.save(folder / "graph.npy", graph)
    manifest = {"run": run_id, "synthetic": "random clustered unit vectors written by bench/scale.py",
                "config": {"search": {"weights": [1.0, 1.0], "index": "auto", "approximate_above": 100_000}},
                "text": {"dimension": text_dim}, "graph": {"dimension": graph_dim}, "counts": {"papers": n}}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    artifacts.set_current(store, run_id)
    return {"papers": n, "text_dim": text_dim, "graph_dim": graph_dim, "run": run_id}


# ------------------------------------------------------------------------------------------------
# similar papers: FAISS exact against approximate
# ------------------------------------------------------------------------------------------------


def clustered(n: int, d: int, rng, clusters: int | None = None, spread: float = 0.6):
    """n unit vectors in d dimensions around ``clusters`` random centres (float32, made in chunks)."""
    import numpy as np

    clusters = clusters or max(10, n // 500)
    centres = rng.standard_normal((clusters, d)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    out = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, 100_000):
        end = min(n, start + 100_000)
        chunk = centres[rng.integers(0, clusters, end - start)] + \
            rng.standard_normal((end - start, d)).astype(np.float32) * (spread / np.sqrt(d))
        chunk /= np.linalg.norm(chunk, axis=1, keepdims=True)
        out[start:end] = chunk
    return out


def rss_bytes() -> int:
    return scale_memory.process_memory(os.getpid())[0]


def bench_faiss(n: int, dim: int, queries: int = 200, seed: int = 0) -> dict:
    import faiss
    import numpy as np

    from ckg.embed.search import HNSW_EF_SEARCH, HNSW_M

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    vectors = clustered(n, dim, rng)
    make_s = time.perf_counter() - start
    picks = rng.choice(n, size=min(queries, n), replace=False)
    qv = vectors[picks]
    nlist = max(1, min(int(4 * np.sqrt(n)), n // 39))  # FAISS wants 39 training points per list
    kinds = {  # name: (description, factory)
        "exact": ("exact (FlatIP, ckg's default up to 100k)", lambda: faiss.IndexFlatIP(dim)),
        "hnsw": (f"HNSW (M={HNSW_M}, efSearch={HNSW_EF_SEARCH}, ckg's approximate)",
                 lambda: faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)),
        "ivf": (f"IVF-Flat (nlist={nlist}, nprobe=16)",
                lambda: faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)),
    }
    out = {"papers": n, "dimension": dim, "queries": len(picks), "vectors_s": round(make_s, 2),
           "vectors": "synthetic clustered unit vectors", "indexes": {}}
    truth = None
    for name, (description, make) in kinds.items():
        before = rss_bytes()
        start = time.perf_counter()
        index = make()
        if name == "hnsw":
            index.hnsw.efConstruction = 40
        if name == "ivf":
            train = vectors[rng.choice(n, size=min(n, nlist * 40), replace=False)]
            index.train(train)
        index.add(vectors)
        build_s = time.perf_counter() - start
        grown = max(0, rss_bytes() - before)
        if name == "hnsw":
            index.hnsw.efSearch = HNSW_EF_SEARCH
        if name == "ivf":
            index.nprobe = 16
        faiss.omp_set_num_threads(1)  # one query at a time, as the server asks them
        latencies, found = [], []
        for q in qv:
            t = time.perf_counter()
            _, ids = index.search(q.reshape(1, -1), 10)
            latencies.append(time.perf_counter() - t)
            found.append(ids[0])
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        found = np.array(found)
        if truth is None:
            truth = found
        recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth)]))
        out["indexes"][name] = {"index": description, "build_s": round(build_s, 3), "index_bytes": int(faiss.serialize_index(index).nbytes),
                                "memory_growth_bytes": grown, "p50_ms": round(statistics.median(latencies) * 1000, 3),
                                "p95_ms": round(sorted(latencies)[int(len(latencies) * 0.95) - 1] * 1000, 3),
                                "recall_at_10": round(recall, 4)}
        del index
    out["ckg_index"] = bench_ckg_index(vectors, dim, picks)
    return out


def bench_ckg_index(vectors, dim: int, picks) -> dict:
    """ckg's own search (``ckg.embed.search.Index.similar``, the server's code path), exact and
    approximate, on the same vectors as one text block (no graph part)."""
    import numpy as np

    from ckg.embed.artifacts import EmbeddingRun
    from ckg.embed.config import SearchConfig
    from ckg.embed.search import Index

    n = len(vectors)
    keys = [f"p{i:07d}" for i in range(n)]
    run = EmbeddingRun(keys, [""] * n, [""] * n, text=vectors, text_mask=np.ones((n, 3), dtype=bool),
                       manifest={"run": "synthetic"})
    out = {}
    truth = {}
    for kind in ("exact", "approximate"):
        index = Index(run, SearchConfig(index=kind))
        start = time.perf_counter()
        index.similar(keys[picks[0]], k=10, mode="text")  # builds the index
        build_s = time.perf_counter() - start
        latencies, recalls = [], []
        for p in picks:
            t = time.perf_counter()
            got = [x.paper for x in index.similar(keys[p], k=10, mode="text")]
            latencies.append(time.perf_counter() - t)
            if kind == "exact":
                truth[p] = set(got)
            else:
                recalls.append(len(truth[p] & set(got)) / 10)
        out[kind] = {"first_call_s": round(build_s, 3), "p50_ms": round(statistics.median(latencies) * 1000, 3),
                     "recall_at_10": round(statistics.mean(recalls), 4) if recalls else 1.0}
        del index
    return out


def print_faiss(result: dict) -> None:
    rows = []
    exact = next(iter(result["indexes"].values()))
    for name, r in result["indexes"].items():
        rows.append([r.get("index", name), r["build_s"], mib(r["index_bytes"]), mib(r["memory_growth_bytes"]), r["p50_ms"], r["p95_ms"],
                     round(exact["p50_ms"] / r["p50_ms"], 1) if r["p50_ms"] else None, r["recall_at_10"]])
    say(table(["index", "build s", "index MiB", "RSS growth MiB", "top-10 p50 ms", "p95 ms", "speed-up vs exact", "recall@10"],
              rows, f"\nsimilar papers, FAISS, {label(result['papers'])} {result['vectors']} of dimension {result['dimension']}"))
    c = result.get("ckg_index", {})
    if c:
        say("ckg Index.similar (server code path): " + ", ".join(
            f"{k} p50 {v['p50_ms']} ms (first call, building the index, {v['first_call_s']} s; recall@10 {v['recall_at_10']})"
            for k, v in c.items()))
