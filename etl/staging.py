"""The N-Quads file a build stages for Oxigraph's bulk loader, loaded in pieces while it reads on.

A build writes every paper's quads to a staging file and bulk-loads it after the last paper.
Reading the release is Python on one core; Oxigraph's bulk loader is Rust, which lets go of the
GIL and mostly keeps to one core on this kind of machine (13.5 s of CPU in 15.1 s for 1.3
million quads). So the two can overlap: with ``cut_bytes`` set, :class:`StagedLoad` closes the
file at a paper's end once it has grown past that size and hands it to one loader thread, which
bulk-loads it (and deletes it) while the reading goes on into the next file. The last file is
loaded by :meth:`StagedLoad.finish`, in the load stage. The store ends with the same quads
either way: the quads of a paper stay in one file, and ckg writes no blank nodes (whose labels a
file scopes).

It is off by default (``CKG_LOAD_PIECE_MB=0``). At 100k metadata-only papers, pieces of 256 MiB
made reading and loading 1.32 times as fast; at 1M, the pieces after the first go into a store
that is no longer empty, RocksDB compacts them in its background threads (about 890 s of CPU by
the 44th piece of 256 MiB), and the compactions take the reading's core: the reading alone took
longer than reading and loading one file. Cutting fewer, larger pieces is the next thing to try.

Whatever ``cut_bytes``, a build hands the file of its papers over to the thread once it has read
them (:meth:`StagedLoad.hand_over`), and stages its entities, citations and PageRank scores in
the next file meanwhile: their Python takes one core for 40 s at 1M papers, beside a load that
leaves some of the other idle.

An update does not cut its file (``cut_bytes=None``): it stages only new and changed papers,
and their old graphs must leave the store before the new ones are loaded.

Beside the staging file, a build puts its papers' texts aside in a :class:`Spool` for the search
index, written after the load. Both files are :class:`WrittenOnce`: out of the page cache as they
are written.

A loader error is raised in the reading thread at the next cut or in :meth:`finish`; leaving the
``with`` block early cancels the loads not begun and waits for the one running (the caller then
deletes the generation being written), so no thread writes into a store being deleted.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> store = ox.Store()
>>> q = '<http://ex.org/p{n}> <http://ex.org/title> "T{n}" <http://ex.org/g{n}> .\\n'
>>> with StagedLoad(store, folder / "staging.nq", cut_bytes=100) as staged:
...     for n in range(5):
...         staged.write(q.format(n=n).encode())
...         staged.paper_done()
...     staged.finish()
>>> len(store), staged.pieces, sorted(p.name for p in folder.iterdir())  # cut after papers 2 and 4
(5, 3, [])
"""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyoxigraph as ox

from ckg import faults
from ckg.settings import SETTINGS, get


def piece_bytes(environ: Mapping[str, str] | None = None) -> int | None:
    """``CKG_LOAD_PIECE_MB``: the size past which a build's staging file is cut and loaded while
    it reads on (None: 0, never). Oxigraph's bulk loader costs a few percent more in pieces (5-17%
    for 4 pieces of 70 MB against one 280 MB file, 20,000 metadata rows), which the overlap pays back.

    >>> piece_bytes(environ={"CKG_LOAD_PIECE_MB": "0.5"}), piece_bytes(environ={"CKG_LOAD_PIECE_MB": "0"})
    (524288, None)
    """
    value = get("load_piece_mb", environ)
    try:
        mb = float(value)
    except (TypeError, ValueError):
        mb = -1.0
    if not mb >= 0:
        raise ValueError(f"{SETTINGS['load_piece_mb'].env}={value!r} is not a size in MiB (0 or more)")
    return max(1, int(mb * (1 << 20))) if mb > 0 else None


def load_file(store: ox.Store, path: Path) -> None:
    """Bulk-load a staged N-Quads file. Its lines are written by :mod:`ckg.etl.emit`'s text writers
    (IRIs from :func:`ckg.resources.iri_text`, which quotes what an IRI may not hold; literals
    escaped as pyoxigraph escapes them) or serialised by pyoxigraph, and ``tests/test_emit.py``
    parses the writers' text strictly back to itself, so the loader does not validate them again
    (``lenient``: 6% less CPU in loading the 1M release, docs/scale.md)."""
    store.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS, lenient=True)


DROP_WINDOW = 64 << 20
"""Bytes written between two requests that the kernel write the staging file back and drop it from
the page cache (:class:`WrittenOnce`)."""


class WrittenOnce:
    """A file written in order and read back once, later, by another reader (the bulk loader, the
    search index): every :data:`DROP_WINDOW` bytes the pages written are handed to the kernel and
    dropped from the page cache once written back (``POSIX_FADV_DONTNEED``: it starts the
    write-back of dirty pages and drops the clean ones; each request starts a window back, where
    pages were still being written the last time). Kept in the page cache, the 14 GB staging file
    of the 1M release filled it, and the process writing it spent 94 s of system time (27 s with
    the drops) in a read stage of 341 s (290 s with them; docs/scale.md)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._out = open(self.path, "wb")
        self._unsettled = 0  # bytes written since the last drop
        self._dropped = 0  # offset from which the next drop asks

    def write(self, data: bytes) -> None:
        self._out.write(data)
        self._unsettled += len(data)
        if self._unsettled >= DROP_WINDOW:
            self._drop_written()

    def tell(self) -> int:
        return self._out.tell()

    def close(self) -> None:
        self._out.close()

    def _drop_written(self) -> None:
        self._unsettled = 0
        if not hasattr(os, "posix_fadvise"):  # (not on macOS)
            return
        self._out.flush()
        end = self._out.tell()
        os.posix_fadvise(self._out.fileno(), self._dropped, end - self._dropped, os.POSIX_FADV_DONTNEED)
        self._dropped = max(0, end - DROP_WINDOW)


class Spool:
    """Records (tuples of strings) put aside as a build reads and read back once after its load,
    in order, from a :class:`WrittenOnce` file: the papers' texts for the search index, which
    Tantivy then indexes on the core the load's compaction leaves idle, instead of the reading
    indexing them (1M papers: 98 s more reading) or the index reading them back from the store.
    The file is the build's own (pickle, batches of :data:`SPOOL_BATCH` records).

    >>> import tempfile
    >>> spool = Spool(Path(tempfile.mkdtemp()) / "texts.spool")
    >>> for n in range(3):
    ...     spool.put(("p%d" % n, "title", ""))
    >>> list(spool.records())
    [('p0', 'title', ''), ('p1', 'title', ''), ('p2', 'title', '')]
    >>> spool.path.exists()
    False
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._out: WrittenOnce | None = WrittenOnce(self.path)
        self._batch: list[tuple[str, ...]] = []

    def put(self, record: tuple[str, ...]) -> None:
        self._batch.append(record)
        if len(self._batch) >= SPOOL_BATCH:
            self._flush()

    def records(self, *, keep: bool = False) -> Iterator[tuple[str, ...]]:
        """Every record put, in order; the file is deleted once they are read, unless ``keep``
        (to be read again: :meth:`discard` deletes it)."""
        self._flush()
        if self._out is not None:
            self._out.close()
            self._out = None
        with open(self.path, "rb") as f:
            while True:
                try:
                    batch = pickle.load(f)
                except EOFError:
                    break
                yield from batch
        if not keep:
            self.discard()

    def discard(self) -> None:
        """Close the file if it is still being written and delete it (also once read: a no-op then)."""
        if self._out is not None:
            self._out.close()
            self._out = None
        self.path.unlink(missing_ok=True)

    def _flush(self) -> None:
        if self._batch and self._out is not None:
            self._out.write(pickle.dumps(self._batch, protocol=pickle.HIGHEST_PROTOCOL))
            self._batch = []


SPOOL_BATCH = 1_000
"""Records a :class:`Spool` pickles together."""


class StagedLoad:
    """The staging file(s) of one build or update: :meth:`write` quads, :meth:`paper_done` after
    each paper (a cut point), :meth:`finish` to load what is left and wait for the rest."""

    def __init__(self, store: ox.Store, path: Path, *, cut_bytes: int | None) -> None:
        self.store = store
        self.path = Path(path)
        self.cut_bytes = cut_bytes
        self.pieces = 0  # files loaded, the last one included
        self.loader_s = 0.0  # time the loader thread spent in bulk loads (beside the reading or the staging of what follows)
        self._n = 0
        self._loads: list[Future] = []
        self._thread: ThreadPoolExecutor | None = None  # the loader thread, started at the first hand-over
        self._file_path = self._next_path()
        self._out = WrittenOnce(self._file_path)

    def __enter__(self) -> StagedLoad:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    def write(self, data: bytes) -> None:
        """Append to the staging file (:class:`WrittenOnce`: dropped from the page cache as it is
        written; the bulk loader reads it back in order from the disk). Raises the error of a
        piece the thread failed to load (:meth:`check`)."""
        if self._loads:
            self.check()
        self._out.write(data)

    def paper_done(self) -> None:
        """A point where the file may be cut: everything written so far belongs to whole papers."""
        if self.cut_bytes and self._out.tell() >= self.cut_bytes:
            self.hand_over()

    def hand_over(self) -> None:
        """Close the file written so far and have the loader thread bulk-load it while the writing
        goes on into the next file (a build hands its papers over when it has read them, then
        writes what follows from its catalog: the entities, on one core, beside the load)."""
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="ckg-load")
        self.check()
        self._out.close()
        self._loads.append(self._thread.submit(self._load_piece, self._file_path))
        self._file_path = self._next_path()
        self._out = WrittenOnce(self._file_path)

    def finish(self) -> None:
        """Wait for the pieces handed to the thread (raising its error), then load the last file."""
        self._out.close()
        for load in self._loads:
            load.result()
        self._loads.clear()
        faults.point("load.bulk")
        load_file(self.store, self._file_path)
        self.pieces += 1
        self._file_path.unlink(missing_ok=True)

    def close(self) -> None:
        """Stop: cancel the loads not begun, wait for a running one, delete the staged files."""
        self._out.close()
        if self._thread is not None:
            self._thread.shutdown(wait=True, cancel_futures=True)
        self._loads.clear()
        self.store = None  # a traceback that keeps this object alive must not keep the database open
        for n in range(1, self._n + 1):
            self._piece_path(n).unlink(missing_ok=True)

    def _load_piece(self, path: Path) -> None:
        start = time.perf_counter()
        faults.point("load.piece")
        load_file(self.store, path)
        path.unlink()
        self.pieces += 1
        self.loader_s += time.perf_counter() - start

    def check(self) -> None:
        """Raise the error of a piece already loaded, if one failed: the work staged after a failed
        load is lost anyway (a 1M build whose disk filled in the load went on for 21 minutes).
        Loads that succeeded are forgotten, so a write checks only the ones still running."""
        running = []
        for load in self._loads:
            if not load.done():
                running.append(load)
            elif load.exception() is not None:
                raise load.exception()
        self._loads = running

    def _next_path(self) -> Path:
        self._n += 1
        return self._piece_path(self._n)

    def _piece_path(self, n: int) -> Path:
        return self.path.with_name(f"{self.path.stem}-{n:04d}{self.path.suffix}")
