"""Parse files read ahead, in worker processes, of the rows that will need them.

Reading a CORD-19 parse (JSON decoding, the schema check and repairs of :func:`read_parse`) is
about two fifths of a build's reading stage. The :class:`~ckg.etl.assemble.Assembler` joins rows
and parses one row at a time, and what it decides for a row (its key, whether it is a duplicate,
which parses it claims) depends on the rows before it, so the rows stay in one process; only
the reading of the files is moved. As rows come out of the metadata file, the parses a row may
claim are handed to worker processes, :data:`WINDOW` rows ahead; when the assembler reads a
parse, it takes the worker's result if there is one (else it reads the file itself). A worker
reports to a :class:`Recorder`, whose issues the assembler replays into the run's report when it
takes the result, at the place where it would have read the file: the report holds the same
issues either way.

The guess of which parses a row claims is a guess only: a parse read ahead for nothing (a row
that turns out to be a duplicate) is dropped when its row has been assembled, and a parse the
guess missed is read in the assembler's process.

>>> import json, tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> doc = {"paper_id": "a" * 40, "metadata": {"title": "T", "authors": []}, "abstract": [],
...        "body_text": [{"text": "Body.", "section": "Intro"}], "bib_entries": {}, "ref_entries": {},
...        "back_matter": []}
>>> _ = (folder / "a.json").write_text(json.dumps(doc))
>>> with Prefetcher(processes=1) as ahead:
...     ahead.submit(folder / "a.json", "a.json")
...     got = ahead.take(folder / "a.json", "a.json")
>>> got.doc.paper_id == "a" * 40, got.error, got.issues
(True, None, [])
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.pool import AsyncResult
from pathlib import Path

from ckg.etl.parses import ParseDoc, ParseError, read_parse
from ckg.etl.report import Issue, Report
from ckg.etl.workers import start_pool

WINDOW = 64
"""Rows read ahead of the one being assembled: enough to keep the workers busy, few enough that
the parses in flight stay small in memory."""


class Recorder(Report):
    """A report that keeps its issues, in order, to be replayed into another report."""

    def __init__(self) -> None:
        super().__init__(None)
        self.issues: list[Issue] = []

    def _add(self, issue: Issue) -> None:
        self.issues.append(issue)


@dataclass
class Read:
    """What reading a parse gave: the document, or why it cannot be used; the issues it reported."""

    doc: ParseDoc | None
    error: tuple[str, str] | None  # (message, reason) of the ParseError
    issues: list[Issue] = field(default_factory=list)


def read_recorded(path: Path, where: str) -> Read:
    """Read a parse as :func:`read_parse` does, its issues recorded rather than reported."""
    recorder = Recorder()
    try:
        doc = read_parse(path, recorder, where)
    except ParseError as exc:
        return Read(None, (str(exc), exc.reason), recorder.issues)
    return Read(doc, None, recorder.issues)


class Prefetcher:
    """Worker processes reading parse files ahead (forked where the platform allows)."""

    def __init__(self, processes: int) -> None:
        self._pool = start_pool(processes)
        self._pending: OrderedDict[Path, tuple[str, AsyncResult]] = OrderedDict()

    def __enter__(self) -> Prefetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def submit(self, path: Path, where: str) -> None:
        """Start reading ``path`` (named ``where`` in the release), unless it is already on its way."""
        if path not in self._pending:
            self._pending[path] = (where, self._pool.apply_async(read_recorded, (path, where)))

    def take(self, path: Path, where: str) -> Read | None:
        """The result of reading ``path`` under the name ``where``, waiting for it; None when it
        was not submitted (or under another name: its issues would name the file otherwise)."""
        submitted = self._pending.pop(path, None)
        if submitted is None or submitted[0] != where:
            return None
        return submitted[1].get()

    def drop(self, paths) -> None:
        """Forget reads that no row took (their results are discarded when they arrive)."""
        for path in paths:
            self._pending.pop(path, None)

    def close(self) -> None:
        self._pending.clear()
        self._pool.terminate()
        self._pool.join()


def file_digest(path: Path) -> bytes:
    """The blake2b digest of a file's bytes (what an input fingerprint holds of a parse)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "blake2b").digest()


class DigestsAhead:
    """Threads hashing parse files ahead of the rows that need them.

    An update fingerprints every row of the new release, parse files included, to find what
    changed (:func:`ckg.etl.assemble.input_fingerprint`), and reads only the changed parses. The
    hashing is file reads and blake2b, both of which let go of the GIL: threads hash the parses of
    the next :data:`WINDOW` rows while the main thread parses and checks rows. Same interface as
    :class:`Prefetcher` (``submit``, ``take``, ``drop``); a file that cannot be read raises
    its ``OSError`` from ``take``, as hashing it in place would.

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
