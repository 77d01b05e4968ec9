"""Worker processes for the build's heavy stages: one way to start them and to feed them.

Concept extraction (:func:`ckg.etl.concepts.extract_many`), topic inference
(:func:`ckg.etl.topics.infer_many`) and a build's rows assembled ahead (:mod:`ckg.etl.assemble`) all run
in a pool forked where the platform allows (the workers share what the parent built) and
spawned elsewhere; the papers go to it in batches, so that memory stays bounded whatever the
corpus.

>>> list(imap_batched(None, abs, [-1, 2, -3], processes=1))
[1, 2, 3]
>>> processes_for(10, 2), processes_for(16, 2)
(1, 2)
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import gc
import multiprocessing
import multiprocessing.pool
from collections.abc import Callable, Iterable, Iterator
from typing import Any


def start_pool(processes: int, initializer: Callable | None = None, initargs: tuple = ()) -> multiprocessing.pool.Pool:
    """A pool of ``processes`` workers, forked where the platform allows, else spawned.

    The parent's objects are frozen for the garbage collector while the workers are forked
    (``gc.freeze``): a forked worker's collector then never walks them, and so never copies
    the pages they lie on. A worker forked from a build holding gigabytes (the vocabularies,
    the gazetteer) otherwise spent a third more CPU time on the same papers (concept extraction,
    measured in ``bench/bench_concepts.py``'s two-process runs)."""
    with _forking() as context:
        return context.Pool(processes, initializer=initializer, initargs=initargs)


def start_executor(processes: int, initializer: Callable | None = None,
                   initargs: tuple = ()) -> concurrent.futures.ProcessPoolExecutor:
    """Like :func:`start_pool`, an executor whose every worker has started: a worker that dies
    (killed, out of memory) fails what was handed to it with ``BrokenProcessPool`` where a
    ``multiprocessing`` pool would wait for its result for ever."""
    with _forking() as context:
        executor = concurrent.futures.ProcessPoolExecutor(processes, mp_context=context, initializer=initializer,
                                                          initargs=initargs)
        executor.submit(int).result()  # forked here, all at once, while the parent's objects are frozen
        return executor


@contextlib.contextmanager
def _forking() -> Iterator[multiprocessing.context.BaseContext]:
    """The fork context where the platform has one (else spawn), the collector frozen meanwhile
    (see :func:`start_pool`; unfrozen after, in this process only: the workers keep theirs frozen)."""
    methods = multiprocessing.get_all_start_methods()
    gc.freeze()
    try:
        yield multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    finally:
        gc.unfreeze()


def processes_for(items: int, processes: int) -> int:
    """The processes worth starting for ``items`` papers: one unless each gets 8 at least."""
    return processes if items >= 8 * processes else 1


def batches(items: Iterable, size: int) -> Iterator[list]:
    """``items`` in lists of ``size`` (the last one shorter).

    >>> list(batches(range(5), 2))
    [[0, 1], [2, 3], [4]]
    """
    items = iter(items)
    while batch := [x for _, x in zip(range(size), items)]:
        yield batch


def imap_batched(workers: multiprocessing.pool.Pool | None, func: Callable[[Any], Any], items: Iterable,
                 *, processes: int, batch: int = 1024) -> Iterator:
    """``func`` of each item, computed by ``workers`` ``batch`` items at a time, in the order they
    are done (in this process and in input order when ``workers`` is None)."""
    if workers is None:
        yield from map(func, items)
        return
    for chunk in batches(items, batch):
        yield from workers.imap_unordered(func, chunk, chunksize=max(1, min(8, len(chunk) // (8 * processes))))
