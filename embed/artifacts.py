"""Embedding runs on disk, beside the store they were trained from.

Layout::

    STORE/embeddings/
      current                  one line: the id of the run that `ckg similar` and the API use
      runs/<id>/               one folder per training run (id: UTC start time, e.g. 20200313T093005.123Z-1a2b3c)
        manifest.json          config, versions, data counts, timings, metrics, files (see ckg.embed.pipeline)
        papers.tsv             the paper index: row i describes row i of text.npy, text_parts.npy, graph.npy
                               columns: key, text_hash, parts (3 flags title/abstract/body, e.g. 110),
                               graph (1/0), title (whitespace collapsed)
        text.npy               float32 [papers, d_text]  text vectors, L2-normalised (zero rows: no text)
        text_parts.npy         float32 [papers, 3, d_text] title, abstract, body vectors, L2-normalised
                               (zero where the part is missing)
        graph.npy              float32 [papers, d_graph] the papers' graph vectors: weighted graph features
                               (graph method features) or entity vectors of the KG model (kge); zero rows:
                               the paper has no edge in the training triplets
        popularity.npy         float32 [papers] log(1 + in-corpus citations), scaled to [0, 1] (the prior)
        entities.tsv           the KG model's entity IRIs, row i = row i of entity_vectors.npy
        entity_vectors.npy     float32 [entities, d_graph]
        relations.tsv          the relation IRIs, row i = row i of relation_vectors.npy
        relation_vectors.npy   float32 [relations, d_rel] (absent for models without relation vectors)
        triples.npy            int32 [triplets, 3] (entity, relation, entity) rows of the training triplets
        triples_split.npy      uint8 [triplets] 0 training, 1 validation, 2 test
        index-<mode>.faiss     only when the run's index is approximate: the FAISS HNSW index of a mode

Every ``.npy`` is a plain NumPy array file (``numpy.load``); the TSV files are UTF-8 with a header
line. A run is written to ``runs/<id>.tmp`` and renamed when complete; ``current`` is replaced
atomically, so a reader sees either the old run or the new one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ckg.embed.errors import NoEmbeddings

EMBEDDINGS_DIR = "embeddings"
RUNS_DIR = "runs"
CURRENT_FILE = "current"
PARTS = ("title", "abstract", "body")


def embeddings_dir(store_path: Path) -> Path:
    return Path(store_path) / EMBEDDINGS_DIR


def new_run_id(now: dt.datetime | None = None) -> str:
    """A new run id: the UTC start time to the millisecond (ids sort in time order) and a random suffix.

    >>> new_run_id(dt.datetime(2020, 3, 13, 9, 30, 5, 123456))[:-6]
    '20200313T093005.123Z-'
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    return now.strftime("%Y%m%dT%H%M%S.") + f"{now.microsecond // 1000:03d}Z-" + secrets.token_hex(3)


def current_run_id(store_path: Path) -> str | None:
    file = embeddings_dir(store_path) / CURRENT_FILE
    if not file.is_file():
        return None
    value = file.read_text(encoding="utf-8").strip()
    return value or None


def run_dir(store_path: Path, run_id: str) -> Path:
    if not re.fullmatch(r"[\w.-]+", run_id):
        raise ValueError(f"not a run id: {run_id!r}")
    return embeddings_dir(store_path) / RUNS_DIR / run_id


def list_runs(store_path: Path) -> list[str]:
    """Complete runs of a store, oldest first."""
    folder = embeddings_dir(store_path) / RUNS_DIR
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.endswith(".tmp")
                  and (p / "manifest.json").is_file())


def set_current(store_path: Path, run_id: str) -> None:
    folder = embeddings_dir(store_path)
    tmp = folder / (CURRENT_FILE + ".tmp")
    tmp.write_text(run_id + "\n", encoding="utf-8")
    os.replace(tmp, folder / CURRENT_FILE)


def prune(store_path: Path, keep: int) -> list[str]:
    """Delete all but the newest ``keep`` runs (never the current one); returns the deleted ids."""
    if keep <= 0:
        return []
    current = current_run_id(store_path)
    runs = list_runs(store_path)
    doomed = [r for r in runs[:-keep] if r != current]
    for r in doomed:
        shutil.rmtree(run_dir(store_path, r), ignore_errors=True)
    return doomed


@dataclass
class EmbeddingRun:
    """The arrays of a run (in memory): papers, text and graph vectors, the KG model's vectors."""

    papers: list[str]
    titles: list[str]
    text_hashes: list[str]
    text: np.ndarray | None = None  # [n, d_text]
    text_parts: np.ndarray | None = None  # [n, 3, d_text]
    text_mask: np.ndarray | None = None  # bool [n, 3]
    graph: np.ndarray | None = None  # [n, d_graph]
    graph_mask: np.ndarray | None = None  # bool [n]
    popularity: np.ndarray | None = None  # float32 [n] in [0, 1]
    entities: list[str] = field(default_factory=list)
    entity_vectors: np.ndarray | None = None
    relations: list[str] = field(default_factory=list)
    relation_vectors: np.ndarray | None = None
    triples: np.ndarray | None = None
    triples_split: np.ndarray | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def run_id(self) -> str | None:
        return self.manifest.get("run")

    def has_text(self) -> np.ndarray:
        if self.text_mask is None:
            return np.zeros(len(self.papers), dtype=bool)
        return self.text_mask.any(axis=1)

    def has_graph(self) -> np.ndarray:
        return self.graph_mask if self.graph_mask is not None else np.zeros(len(self.papers), dtype=bool)

    def row_of(self) -> dict[str, int]:
        return {k: i for i, k in enumerate(self.papers)}

    # -- disk ---------------------------------------------------------------------------------

    def write(self, folder: Path, extra_files: dict[str, Any] | None = None) -> Path:
        """Write the run to ``folder`` (via ``folder.tmp``, renamed when complete)."""
        folder = Path(folder)
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        has_text = self.has_text()
        has_graph = self.has_graph()
        with open(tmp / "papers.tsv", "w", encoding="utf-8", newline="\n") as out:
            out.write("key\ttext_hash\tparts\tgraph\ttitle\n")
            for i, key in enumerate(self.papers):
                flags = "".join("1" if self.text_mask is not None and self.text_mask[i, j] else "0" for j in range(3))
                title = " ".join((self.titles[i] or "").split())
                out.write(f"{key}\t{self.text_hashes[i]}\t{flags}\t{int(has_graph[i])}\t{title}\n")
        files = {"papers.tsv": len(self.papers)}
        if self.text is not None:
            np.save(tmp / "text.npy", self.text.astype(np.float32))
            np.save(tmp / "text_parts.npy", self.text_parts.astype(np.float32))
            files["text.npy"] = list(self.text.shape)
            files["text_parts.npy"] = list(self.text_parts.shape)
            assert has_text.shape[0] == len(self.papers)
        if self.graph is not None:
            np.save(tmp / "graph.npy", self.graph.astype(np.float32))
            files["graph.npy"] = list(self.graph.shape)
        if self.popularity is not None:
            np.save(tmp / "popularity.npy", self.popularity.astype(np.float32))
            files["popularity.npy"] = list(self.popularity.shape)
        if self.entity_vectors is not None:
            _write_lines(tmp / "entities.tsv", "iri", self.entities)
            np.save(tmp / "entity_vectors.npy", self.entity_vectors.astype(np.float32))
            _write_lines(tmp / "relations.tsv", "iri", self.relations)
            files["entity_vectors.npy"] = list(self.entity_vectors.shape)
            if self.relation_vectors is not None:
                np.save(tmp / "relation_vectors.npy", self.relation_vectors.astype(np.float32))
                files["relation_vectors.npy"] = list(self.relation_vectors.shape)
            np.save(tmp / "triples.npy", self.triples.astype(np.int32))
            np.save(tmp / "triples_split.npy", self.triples_split.astype(np.uint8))
            files["triples.npy"] = list(self.triples.shape)
        for name, writer in (extra_files or {}).items():
            writer(tmp / name)
            files[name] = "written"
        self.manifest["files"] = files
        (tmp / "manifest.json").write_text(json.dumps(self.manifest, indent=2, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
        self.path = folder
        return folder

    @classmethod
    def read(cls, folder: Path) -> EmbeddingRun:
        folder = Path(folder)
        manifest_file = folder / "manifest.json"
        if not manifest_file.is_file():
            raise NoEmbeddings(f"{folder} is not a complete embedding run (no manifest.json)")
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        papers, hashes, titles, masks, graph_flags = [], [], [], [], []
        with open(folder / "papers.tsv", encoding="utf-8") as handle:
            next(handle)
            for line in handle:
                key, text_hash, parts, graph, title = line.rstrip("\n").split("\t", 4)
                papers.append(key)
                hashes.append(text_hash)
                titles.append(title)
                masks.append([c == "1" for c in parts])
                graph_flags.append(graph == "1")
        run = cls(papers, titles, hashes, manifest=manifest, path=folder)

        def load(name: str):
            path = folder / name
            return np.load(path) if path.is_file() else None

        run.text = load("text.npy")
        run.text_parts = load("text_parts.npy")
        if run.text is not None:
            run.text_mask = np.array(masks, dtype=bool).reshape(len(papers), 3)
        run.graph = load("graph.npy")
        if run.graph is not None:
            run.graph_mask = np.array(graph_flags, dtype=bool)
        run.popularity = load("popularity.npy")
        run.entity_vectors = load("entity_vectors.npy")
        if run.entity_vectors is not None:
            run.entities = _read_lines(folder / "entities.tsv")
            run.relations = _read_lines(folder / "relations.tsv")
            run.relation_vectors = load("relation_vectors.npy")
            run.triples = load("triples.npy")
            run.triples_split = load("triples_split.npy")
        return run


def rewrite_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Replace a complete run's manifest.json (atomically)."""
    tmp = Path(folder) / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, Path(folder) / "manifest.json")


def _write_lines(path: Path, header: str, lines: list[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write(header + "\n")
        for line in lines:
            out.write(line + "\n")


def _read_lines(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        next(handle)
        return [line.rstrip("\n") for line in handle]


def load_run(store_path: Path, run_id: str | None = None) -> EmbeddingRun:
    """A run of a store: ``run_id``, else the current one."""
    store_path = Path(store_path)
    run_id = run_id or current_run_id(store_path)
    if run_id is None:
        raise NoEmbeddings(f"{store_path} has no embeddings yet: train them with `ckg train --store {store_path}`")
    folder = run_dir(store_path, run_id)
    if not folder.is_dir():
        raise NoEmbeddings(f"{store_path} has no embedding run {run_id!r} (runs: {', '.join(list_runs(store_path)) or 'none'})")
    return EmbeddingRun.read(folder)
