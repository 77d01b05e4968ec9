"""Knowledge-graph embeddings with PyKEEN, trained on the store's (head, relation, tail) triplets.

The triplets come from the named query ``embed-training-triples`` (:func:`ckg.embed.data.training_triples`).
They are split at random (``seed``) into training, validation and test triplets; PyKEEN's split
keeps every entity in the training part, so the held-out shares can come out smaller than asked
on a graph where most entities have one edge (the manifest records the real counts). The model
(TransE by default, any PyKEEN model by name) is trained with the sLCWA loop: each positive
triplet gets ``negatives`` negatives made by replacing its head or its tail with a random entity
(PyKEEN's basic negative sampler). Every ``eval_every`` epochs the validation MRR is measured;
training stops after ``patience`` evaluations without improvement and keeps the best epoch's
weights. The test triplets then give MRR and Hits@10 (filtered rank-based evaluation, both
sides, realistic ranks).

A graph too small to split (fewer than :data:`MIN_SPLIT` triplets) is trained on all of it for
``epochs`` epochs without early stopping, and its metrics are measured on the training triplets
(labelled as such).
"""

from __future__ import annotations

import logging
import tempfile
import time
import warnings
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ckg.embed.config import GraphConfig

MIN_SPLIT = 100
EVAL_BATCH = 256
METRICS = {"mrr": "inverse_harmonic_mean_rank", "hits_at_1": "hits_at_1", "hits_at_3": "hits_at_3",
           "hits_at_10": "hits_at_10", "mean_rank": "arithmetic_mean_rank"}


@dataclass
class GraphModel:
    """A trained KG-embedding model: entity and relation vectors by IRI, metrics, counts."""

    entities: list[str]
    entity_vectors: np.ndarray
    relations: list[str]
    relation_vectors: np.ndarray | None
    triples: np.ndarray  # int32 (n, 3): entity, relation, entity indices
    split: np.ndarray  # uint8 (n,): 0 training, 1 validation, 2 test
    metrics: dict[str, Any]
    counts: dict[str, Any]
    timings: dict[str, float]
    model: Any = field(default=None, repr=False)  # the PyKEEN model (in memory only)

    def entity_index(self) -> dict[str, int]:
        return {e: i for i, e in enumerate(self.entities)}

    def vectors_for(self, iris: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(vectors, present mask) for the given entity IRIs; zero rows where absent."""
        index = self.entity_index()
        out = np.zeros((len(iris), self.entity_vectors.shape[1]), dtype=np.float32)
        mask = np.zeros(len(iris), dtype=bool)
        for row, iri in enumerate(iris):
            i = index.get(iri)
            if i is not None:
                out[row] = self.entity_vectors[i]
                mask[row] = True
        return out, mask

    def score_tails(self, head: str, relation: str, tails: Sequence[str]) -> np.ndarray | None:
        """The model's plausibility scores of (head, relation, t) for each t (None where unknown)."""
        if self.model is None:
            return None
        import torch

        index = self.entity_index()
        rel = {r: i for i, r in enumerate(self.relations)}.get(relation)
        h = index.get(head)
        if h is None or rel is None:
            return None
        with torch.no_grad():
            scores = self.model.score_t(torch.tensor([[h, rel]], dtype=torch.long)).cpu().numpy()[0]
        out = np.full(len(tails), -np.inf, dtype=np.float32)
        for row, t in enumerate(tails):
            i = index.get(t)
            if i is not None:
                out[row] = scores[i]
        return out


def model_class(name: str):
    """The PyKEEN model class of a name (case and dashes ignored, as PyKEEN does)."""
    with _quiet():
        from pykeen.models import model_resolver

        try:
            return model_resolver.lookup(name)
        except (KeyError, ValueError):
            known = ", ".join(sorted({c.__name__ for c in model_resolver.lookup_dict.values()}))
            raise ValueError(f"unknown KGE model {name!r}; PyKEEN knows {known}") from None


@contextmanager
def _quiet():
    """PyKEEN logs much at INFO/WARNING level (devices, splits, checkpoints); keep the user's
    output short. (PyKEEN sets its logger to INFO when imported: import it first.)"""
    import pykeen  # noqa: F401

    loggers = [logging.getLogger(n) for n in ("pykeen", "torch_max_mem")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*pin_memory.*")
            warnings.filterwarnings("ignore", message="Training instances are always shuffled")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _as_real(tensor) -> np.ndarray:
    import torch

    if torch.is_complex(tensor):
        tensor = torch.view_as_real(tensor)
    array = tensor.detach().cpu().numpy()
    return array.reshape(array.shape[0], -1).astype(np.float32)


def train_graph(triples: Sequence[tuple[str, str, str]], config: GraphConfig, *, seed: int = 0,
                show_progress: bool = False, device: str = "cpu") -> GraphModel:
    """Train a KG-embedding model on labelled triplets (IRIs), on ``device`` (``cpu``, ``cuda``)."""
    if not triples:
        raise ValueError("the store has no triplets to train graph embeddings on (no cites, authoredBy, "
                         "affiliatedWith, associatedConcept or associatedTopic edges)")
    started = time.perf_counter()
    with _quiet():
        import torch
        from pykeen.pipeline import pipeline
        from pykeen.triples import TriplesFactory

        timings: dict[str, float] = {"import": round(time.perf_counter() - started, 3)}
        labelled = np.asarray(triples, dtype=str)
        factory = TriplesFactory.from_labeled_triples(labelled, create_inverse_triples=False)
        t0 = time.perf_counter()
        split_ok = len(triples) >= MIN_SPLIT and (config.validation_share > 0 or config.test_share > 0)
        generator = torch.Generator().manual_seed(seed)
        if split_ok:
            ratios = [1 - config.validation_share - config.test_share]
            names = ["training"]
            if config.validation_share > 0:
                ratios.append(config.validation_share)
                names.append("validation")
            if config.test_share > 0:
                ratios.append(config.test_share)
                names.append("test")
            parts = dict(zip(names, factory.split(ratios, random_state=generator)))
        else:
            parts = {"training": factory}
        training = parts["training"]
        validation = parts.get("validation")
        testing = parts.get("test") or validation or training
        evaluated_on = "test" if "test" in parts else ("validation" if validation is not None else "training")
        timings["split"] = round(time.perf_counter() - t0, 3)

        scratch = tempfile.TemporaryDirectory(prefix="ckg-kge-")  # PyKEEN's checkpoints, not ~/.data/pykeen
        best_path = Path(scratch.name) / "best-model-weights.pt"
        kwargs: dict[str, Any] = {}
        if validation is not None:
            kwargs.update(stopper="early", stopper_kwargs=dict(
                frequency=config.eval_every, patience=config.patience, relative_delta=config.relative_delta,
                metric="inverse_harmonic_mean_rank", larger_is_better=True, evaluation_batch_size=EVAL_BATCH,
                best_model_path=best_path, clean_up_checkpoint=False))
        model_cls = model_class(config.model)
        t0 = time.perf_counter()
        # PyKEEN's pipeline ends with an evaluation on its testing triples, with the last epoch's
        # weights; the one that counts is below, after the best epoch's weights are back. Hand it
        # one triple: ranking every test triple against every entity was done twice (13 s of a
        # 20-epoch TransE run of 31,792 triples that trained in 38 s).
        final_check = testing.clone_and_exchange_triples(testing.mapped_triples[:1])
        result = pipeline(
            training=training, validation=validation, testing=final_check,
            model=model_cls, model_kwargs={"embedding_dim": config.dim, **config.model_kwargs},
            optimizer="Adam", optimizer_kwargs={"lr": config.learning_rate},
            training_loop="sLCWA",
            negative_sampler="basic", negative_sampler_kwargs={"num_negs_per_pos": config.negatives},
            training_kwargs={"num_epochs": config.epochs, "batch_size": config.batch_size,
                             "use_tqdm": show_progress, "use_tqdm_batch": False,
                             "checkpoint_directory": scratch.name},
            evaluation_kwargs={"use_tqdm": False, "batch_size": EVAL_BATCH},
            random_seed=seed, use_tqdm=show_progress, use_testing_data=True, device=device, **kwargs,
        )
        timings["train"] = round(result.train_seconds, 3)
        model = result.model
        stopper = result.stopper
        restored = False
        if validation is not None and stopper is not None and not stopper.stopped and best_path.is_file() \
                and stopper.best_epoch is not None and stopper.best_epoch < len(result.losses):
            # training ran out of epochs after its best validation epoch: go back to that epoch's weights
            model.load_state_dict(torch.load(best_path, weights_only=False))
            restored = True
        scratch.cleanup()
        model.eval()
        t0 = time.perf_counter()
        from pykeen.evaluation import RankBasedEvaluator

        filters = [training.mapped_triples] + ([validation.mapped_triples] if validation is not None
                                               and testing is not validation else [])
        evaluation = RankBasedEvaluator(filtered=True).evaluate(
            model, testing.mapped_triples, additional_filter_triples=filters, batch_size=EVAL_BATCH, use_tqdm=False)
        timings["evaluate"] = round(time.perf_counter() - t0, 3)
        entity_to_id = factory.entity_to_id
        relation_to_id = factory.relation_to_id
        entities = [None] * len(entity_to_id)
        for label, i in entity_to_id.items():
            entities[i] = label
        relations = [None] * len(relation_to_id)
        for label, i in relation_to_id.items():
            relations[i] = label
        with torch.no_grad():
            entity_vectors = _as_real(model.entity_representations[0](indices=None))
            try:
                relation_vectors = _as_real(model.relation_representations[0](indices=None))
            except (IndexError, AttributeError, TypeError):
                relation_vectors = None

        metrics: dict[str, Any] = {"evaluated_on": evaluated_on, "evaluated_triples": int(testing.num_triples)}
        for name, key in METRICS.items():
            metrics[name] = round(float(evaluation.get_metric(f"both.realistic.{key}")), 6)
        epochs_run = len(result.losses)
        if validation is not None and stopper is not None and getattr(stopper, "results", None):
            metrics["validation"] = {
                "metric": "mrr",
                "every_epochs": config.eval_every,
                "values": [round(float(v), 6) for v in stopper.results],
                "best_mrr": round(float(stopper.best_metric), 6),
                "best_epoch": int(stopper.best_epoch) if stopper.best_epoch is not None else None,
                "stopped_early": bool(stopper.stopped),
                "restored_best_epoch": bool(stopper.stopped or restored),
            }
        metrics["epochs_run"] = epochs_run
        metrics["final_loss"] = round(float(result.losses[-1]), 6) if result.losses else None
        metrics["losses"] = [round(float(x), 6) for x in result.losses]

        index_of = {"training": 0, "validation": 1, "test": 2}
        rows, split = [], []
        for name, part in parts.items():
            mapped = part.mapped_triples.cpu().numpy()
            rows.append(mapped)
            split.append(np.full(len(mapped), index_of[name], dtype=np.uint8))
        triples_array = np.concatenate(rows).astype(np.int32)
        split_array = np.concatenate(split)
        by_relation: dict[str, int] = {}
        for r in triples_array[:, 1]:
            by_relation[relations[r]] = by_relation.get(relations[r], 0) + 1
        counts = {
            "triples": int(len(triples_array)),
            "training": int((split_array == 0).sum()),
            "validation": int((split_array == 1).sum()),
            "test": int((split_array == 2).sum()),
            "entities": len(entities),
            "relations": len(relations),
            "by_relation": dict(sorted(by_relation.items())),
            "device": str(getattr(model, "device", "cpu")),
        }
        timings["total"] = round(time.perf_counter() - started, 3)
        return GraphModel(entities, entity_vectors, relations, relation_vectors, triples_array, split_array,
                          metrics, counts, timings, model)


def build_graph(papers: Sequence[str], triples: Sequence[tuple[str, str, str]], weights, config: GraphConfig, *,
                seed: int = 0, show_progress: bool = False) -> GraphModel:
    """The papers' graph vectors by the config's method: ``features`` (:mod:`ckg.embed.features`:
    ``papers`` are the rows, ``weights`` the edge weights) or ``kge`` (:func:`train_graph`)."""
    if config.method == "features":
        from ckg.embed.features import build_features

        return build_features(papers, triples, weights, feature_weights=config.feature_weights,
                              dim=config.feature_dim, seed=seed)
    return train_graph(triples, config, seed=seed, show_progress=show_progress)
