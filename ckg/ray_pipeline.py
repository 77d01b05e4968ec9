"""The per-paper stages as Ray Data pipelines (``--executor ray``; see :mod:`ckg.executor`).

The driver (the process of ``ckg build``, ``ckg update`` or ``ckg train``) reads the papers from
the store and streams them to the cluster in *windows* of ``Executor.window`` papers: each window
is a Ray Data dataset (``ray.data.from_items``) mapped by a pool of actors (``map_batches`` with a
callable class, so the model or the gazetteer is loaded once per actor and window, not per
paper), and its rows come back as they are done. So the driver holds one window of texts and
its results at a time whatever the corpus; the store, the catalog and everything decided from
the results stay on the driver.

The callables are plain classes of the stage's own module
(:class:`ckg.etl.concepts.ConceptBatches`, :class:`ckg.embed.text.TextBatches`): Ray is only
imported here. Every window is checked whole: each paper sent must come back once, else the
stage fails with :class:`ckg.executor.ExecutorError` (a build or update then leaves the store
as it was: it commits its new generation only at the end). Ray restarts a killed actor and
retries its batch (``Executor.retries`` times), so a worker lost mid-pipeline costs a retry,
not the run.

A Ray this module starts (no address given) listens on loopback only, with no dashboard and no
usage statistics, and is stopped at the end of the stage.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from ckg.etl.workers import batches
from ckg.executor import Executor, ExecutorError

FAULT_SETTINGS = ("CKG_FAULT", "CKG_FAULT_ONCE", "CKG_FAULT_TRACE")
"""Fault-injection settings (:mod:`ckg.faults`) the driver passes on to its Ray workers."""

def _ray():
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report to the network
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise ExecutorError(f"--executor ray needs Ray Data (pip install 'ray[data]'; `make install` installs it): "
                            f"{exc}") from None
    return ray


@contextmanager
def session(executor: Executor) -> Iterator[Any]:
    """The Ray module, connected to ``executor.address`` (or to a Ray started here, stopped after)."""
    ray = _ray()
    started = False
    if not ray.is_initialized():
        faults = {k: v for k, v in os.environ.items() if k in FAULT_SETTINGS}  # the fault tests' rules
        common = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING,
                      runtime_env={"env_vars": faults} if faults else None)
        try:
            if executor.address:
                host = executor.address.rpartition(":")[0]
                local = {"_node_ip_address": "127.0.0.1"} if host in ("127.0.0.1", "localhost") else {}
                ray.init(address=executor.address, **local, **common)
            else:
                ray.init(num_cpus=executor.workers, _node_ip_address="127.0.0.1", **common)
        except Exception as exc:  # unreachable cluster, version mismatch: one clear line
            raise ExecutorError(f"cannot connect to Ray at {executor.address or 'a local Ray started for the run'}: "
                                f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
        started = True
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # ckg's own bar counts the papers
    context.print_on_execution_start = False
    for name in ("ray.data", "ray"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def cluster_workers(ray, executor: Executor, gpus: bool) -> int:
    """Actors per pipeline: ``executor.workers``, else one per GPU (``gpus``) or CPU of the cluster."""
    if executor.workers:
        return executor.workers
    resources = ray.cluster_resources()
    return max(1, int(resources.get("GPU" if gpus else "CPU", 1)))


def cluster_gpus(ray) -> int:
    """The GPUs of the cluster."""
    return int(ray.cluster_resources().get("GPU", 0))


def map_papers(executor: Executor, rows: Iterable[dict[str, Any]], fn: type, args: tuple, *, stage: str,
               batch: int | None = None, gpus: bool | None = False, tick: Callable[[str, int], None] | None = None,
               ) -> Iterator[dict[str, Any]]:
    """The rows ``fn`` (a callable class, ``fn(*args)`` once per actor) makes of ``rows`` (dicts
    with a ``key``), as they are done; each window's rows checked whole. Actors take a GPU each
    with ``gpus`` (None: when the cluster has GPUs), else a CPU each."""
    with session(executor) as ray:
        if gpus is None:
            gpus = cluster_gpus(ray) > 0
        elif gpus and not cluster_gpus(ray):
            raise ExecutorError(f"the {stage} stage asks for GPUs (--device cuda) but the Ray cluster has none")
        workers = cluster_workers(ray, executor, gpus)
        size = executor.batch or batch or 64
        remote = dict(max_restarts=executor.retries, max_task_retries=executor.retries)
        for window in batches(rows, executor.window):
            sent = {r["key"] for r in window}
            dataset = ray.data.from_items(window, override_num_blocks=max(1, math.ceil(len(window) / size)))
            with warnings.catch_warnings():  # the restarts have no named parameter yet (Ray 2.60); the default is forever
                warnings.filterwarnings("ignore", message=".*ray_remote_args. is deprecated")
                mapped = dataset.map_batches(
                    fn, fn_constructor_args=args, batch_size=size, batch_format="numpy",
                    compute=ray.data.ActorPoolStrategy(size=min(workers, math.ceil(len(window) / size))),
                    num_cpus=1, num_gpus=1 if gpus else 0, **remote)
            seen: set[str] = set()
            try:
                for out in mapped.iter_batches(batch_size=None, batch_format="numpy"):
                    names = list(out)
                    for i in range(len(out["key"])):
                        row = {n: out[n][i] for n in names}
                        key = str(row["key"])
                        if key in seen or key not in sent:
                            continue
                        seen.add(key)
                        yield row
                    if tick is not None:
                        tick(stage, len(out["key"]))
            except ExecutorError:
                raise
            except Exception as exc:
                raise ExecutorError(f"the Ray pipeline of the {stage} stage failed: {type(exc).__name__}: "
                                    f"{str(exc).splitlines()[0] if str(exc) else ''}") from None
            missing = sent - seen
            if missing:
                raise ExecutorError(f"the Ray pipeline of the {stage} stage lost {len(missing)} of {len(sent)} papers "
                                    f"(for example {sorted(missing)[0]}); nothing of this run was kept")
            del window, dataset, mapped
