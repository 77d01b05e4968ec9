"""Work done ahead of the rows that need it: a build's parse files asked of the disk before they
are read, an update's parse files hashed in threads, and the recorder that carries the issues a
worker process found back to the run's report.

An update fingerprints every row of the new release, parse files included
(:func:`ckg.etl.assemble.input_fingerprint`), to find what changed. Its rows, like a build's,
are read and assembled by worker processes (:class:`ckg.etl.assemble.Assembler`'s ``ahead``); in
each worker a :class:`DigestsAhead` hashes the parse files of the rows it was handed while it
checks them one by one. Each worker reports to a :class:`Recorder`, whose issues are replayed
into the run's report, in the rows' order, as if the row had been read there.

>>> r = Recorder()
>>> r.warn("no-title", "metadata.csv row 3 (line 4)", "paper x has no title")
>>> [(i.reason, i.where) for i in r.issues]
[('no-title', 'metadata.csv row 3 (line 4)')]
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ckg.etl.report import Issue, Report


class Recorder(Report):
    """A report that keeps its issues, in order, to be replayed into another report."""

    def __init__(self) -> None:
        super().__init__(None)
        self.issues: list[Issue] = []

    def _add(self, issue: Issue) -> None:
        self.issues.append(issue)


def will_need(paths: Iterable[Path]) -> int:
    """Ask the kernel to read regular files into the page cache now, without waiting for them
    (``posix_fadvise(WILLNEED)``); returns how many it was asked for. A build's worker process
    names the parse files of its piece of the metadata table (some 450 files at 1M papers) before
    it reads them one at a time: the disk then has them all to read at once, while the worker
    parses the first ones, where each read used to wait for its own file. At 1M papers with
    parses (21 GB, not in the page cache) the workers spent a fifth of the reading stage in
    ``read_bytes``. A file that is not a regular file, or that cannot be opened, is left to the
    read, which reports it; nothing is done where the system has no ``posix_fadvise``.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.json").write_bytes(b"{}")
    >>> os.mkfifo(folder / "fifo.json")
    >>> asked = will_need([folder / "a.json", folder / "fifo.json", folder / "missing.json", folder])
    >>> asked == (1 if hasattr(os, "posix_fadvise") else 0)
    True
    """
    advise = getattr(os, "posix_fadvise", None)
    if advise is None:
        return 0
    asked = 0
    for path in paths:
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):  # (a FIFO or a device is never opened here)
                continue
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                advise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
                asked += 1
        except OSError:
            pass
        finally:
            os.close(fd)
    return asked


def file_digest(path: Path) -> bytes:
    """The blake2b digest of a file's bytes (what an input fingerprint holds of a parse)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "blake2b").digest()


class DigestsAhead:
    """Threads hashing parse files ahead of the rows that need them.

    An update fingerprints every row of the new release, parse files included, to find what
    changed (:func:`ckg.etl.assemble.input_fingerprint`), and reads only the changed parses. The
    hashing is file reads and blake2b, both of which let go of the GIL: threads hash the parses of
    a worker's batch of rows while it checks them one by one (``submit``, then ``take`` or
    ``drop``); a file that cannot be read raises its ``OSError`` from ``take``, as
    hashing it in place would.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "a.json"
    >>> _ = path.write_bytes(b"{}")
    >>> with DigestsAhead(threads=1) as ahead:
    ...     ahead.submit(path, "a.json")
    ...     ahead.take(path, "a.json") == file_digest(path), ahead.take(path, "a.json")
    (True, None)
    """

    def __init__(self, threads: int) -> None:
        self._pool = ThreadPoolExecutor(max(1, threads), thread_name_prefix="ckg-digest")
        self._pending: dict[Path, Future] = {}

    def __enter__(self) -> DigestsAhead:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def submit(self, path: Path, where: str) -> None:
        if path not in self._pending:
            self._pending[path] = self._pool.submit(file_digest, path)

    def take(self, path: Path, where: str = "") -> bytes | None:
        """The digest of ``path``, waiting for it; None when it was not submitted."""
        submitted = self._pending.pop(path, None)
        return None if submitted is None else submitted.result()

    def drop(self, paths) -> None:
        for path in paths:
            submitted = self._pending.pop(path, None)
            if submitted is not None:
                submitted.cancel()

    def close(self) -> None:
        for submitted in self._pending.values():
            submitted.cancel()
        self._pending.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)
