"""Where the heavy, per-paper stages run: in local processes (the default) or on a Ray cluster.

Two stages parallelise paper by paper and dominate a large run: concept extraction (``ckg build``
and ``ckg update``) and text embedding (``ckg train``). Everything else (the store, the catalog,
the edge decisions, the knowledge-graph embeddings) stays in the process that runs the command,
the *driver*. An :class:`Executor` says where those two stages run:

- ``local``: worker processes of this machine (:mod:`ckg.etl.workers`) for concepts, this
  process for text. Ray is not imported.
- ``ray``: Ray Data pipelines (:mod:`ckg.ray_pipeline`) on the cluster at ``address`` (``auto``:
  the one ``ray start`` runs on this machine; none: a Ray started for the run on this machine
  and stopped after it). The papers stream from the driver in windows, so the driver's memory
  follows the window, not the corpus.

Both give the same answer: the same concept mentions for every paper, the same text vectors
(to float rounding; ``tests/test_ray_executor.py``).

>>> Executor().is_local, Executor.parse("ray", address="127.0.0.1:6379").describe()["address"]
(True, '127.0.0.1:6379')
>>> Executor.parse("spark")
Traceback (most recent call last):
...
ckg.executor.ExecutorError: unknown executor 'spark' (known: local, ray)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ckg.settings import get

EXECUTORS = ("local", "ray")


class ExecutorError(RuntimeError):
    """The executor cannot run a stage: Ray missing or unreachable, or a pipeline that failed."""


@dataclass(frozen=True)
class Executor:
    """Where the per-paper stages run (``kind``), and for Ray: the cluster's ``address``, the
    workers (Ray actors) per stage (default: one per CPU the cluster has), the papers per window
    streamed from the driver, the papers per batch an actor gets (default: the stage's, 64 for
    concepts, 256 for text) and how often a killed actor is restarted and its batch retried."""

    kind: str = "local"
    address: str | None = None
    workers: int | None = None
    window: int = 10_000
    batch: int | None = None
    retries: int = 3

    @classmethod
    def parse(cls, kind: str | None, *, address: str | None = None, workers: int | None = None,
              window: int | None = None) -> Executor:
        """The executor of the command-line options (``kind`` None: the ``executor`` setting)."""
        kind = (kind or get("executor") or "local").lower()
        if kind not in EXECUTORS:
            raise ExecutorError(f"unknown executor {kind!r} (known: {', '.join(EXECUTORS)})")
        if kind == "local" and address:
            raise ExecutorError("--ray-address needs --executor ray")
        return cls(kind, address or (get("ray_address") if kind == "ray" else None) or None, workers,
                   window or cls.window)

    @property
    def is_local(self) -> bool:
        return self.kind == "local"

    def describe(self) -> dict[str, Any]:
        """What a manifest records of it."""
        out: dict[str, Any] = {"kind": self.kind}
        if not self.is_local:
            out.update(address=self.address or "local (started for the run)", workers=self.workers,
                       window=self.window, batch=self.batch, retries=self.retries)
        return out
