"""The writer lock of a store: one writer at a time.

Every write of a store — ``ckg build``, ``ckg update``, a SPARQL update of ``ckg serve``, the
recovery of an interrupted write — holds an exclusive ``flock`` on ``STORE/writer.lock``,
taken before anything is touched. The holder writes its pid, command and start time into the
file, so that a second writer is refused with a message naming it. The kernel releases the lock
when its holder dies, however it dies (``kill -9`` included): a stale lock cannot stay behind.
Readers never take it.

>>> import tempfile
>>> store = Path(tempfile.mkdtemp())
>>> first = WriterLock(store).acquire("ckg update --release 2020-06-08")
>>> WriterLock(store).acquire("ckg update --release 2020-06-15")
Traceback (most recent call last):
...
ckg.writerlock.StoreBusy: ... is being written by pid ... (ckg update --release 2020-06-08, started ...Z)
>>> first.release()
>>> WriterLock(store).acquire("ckg update --release 2020-06-15").release()
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from ckg.store import StoreError

LOCK_FILE = "writer.lock"
SHORT_KINDS = ("recovery", "sparql-update")
"""Holders that finish within seconds: a writer that finds one of them waits instead of failing."""

_held: set[int] = set()  # descriptors of the locks this process holds


def _close_in_child() -> None:
    """A forked child (a worker pool, a watchdog) must not keep the parent's lock alive."""
    for fd in list(_held):
        try:
            os.close(fd)
        except OSError:
            pass
    _held.clear()


os.register_at_fork(after_in_child=_close_in_child)


class StoreBusy(StoreError):
    """Another process is writing the store."""


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def this_command() -> str:
    """The command line of this process, as a person would type it (``ckg update --release ...``)."""
    argv = list(sys.argv)
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if (argv and Path(argv[0]).name == "ckg") or (spec is not None and spec.name in ("ckg.cli", "ckg.__main__")):
        return shlex.join(["ckg", *argv[1:]])
    return shlex.join([Path(argv[0]).name if argv else "python", *argv[1:]])


class WriterLock:
    """The exclusive lock on ``STORE/writer.lock`` (see the module's documentation)."""

    def __init__(self, store: Path) -> None:
        self.store = Path(store)
        self.path = self.store / LOCK_FILE
        self.fd: int | None = None
        self.info: dict[str, Any] = {}

    def acquire(self, command: str | None = None, *, kind: str = "write", wait_for_short: float = 30.0,
                **extra: Any) -> WriterLock:
        """Take the lock or raise :class:`StoreBusy` naming its holder. A holder of a short kind
        (a recovery, a SPARQL update) is waited for, at most ``wait_for_short`` seconds; any other
        for half a second (a reader probing the lock holds it for an instant)."""
        start = time.monotonic()
        while not self.try_acquire(command, kind=kind, **extra):
            holder = self.holder()
            patience = wait_for_short if holder.get("kind") in SHORT_KINDS else 0.5
            if time.monotonic() - start > patience:
                raise StoreBusy(busy_message(self.store, holder))
            time.sleep(0.05)
        return self

    def try_acquire(self, command: str | None = None, *, kind: str = "write", **extra: Any) -> bool:
        """Take the lock if no one holds it (never waits); False when someone does. Raises
        OSError when the lock file cannot be opened (a read-only store folder)."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return False
            raise
        self.fd = fd
        _held.add(fd)
        self.info = {"pid": os.getpid(), "command": command or this_command(), "kind": kind,
                     "started_at": utc_now(), **extra}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(self.info) + "\n").encode("utf-8"), 0)
        return True

    def is_held(self) -> bool:
        """True when some process holds the lock now (a probe that takes it shared for an instant)."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return False
        except OSError:
            return True
        finally:
            os.close(fd)

    def holder(self) -> dict[str, Any]:
        """What the current holder wrote ({} when it has not written yet, or no one holds the lock)."""
        try:
            text = self.path.read_text(encoding="utf-8").strip()
            return json.loads(text) if text else {}
        except (OSError, ValueError):
            return {}

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            os.ftruncate(self.fd, 0)
        finally:
            _held.discard(self.fd)
            os.close(self.fd)  # closing the descriptor releases the lock
            self.fd = None

    def __enter__(self) -> WriterLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def busy_message(store: Path, holder: dict[str, Any]) -> str:
    """``STORE is being written by pid 1234 (ckg update --release 2020-06-08, started ...)``.

    >>> busy_message(Path("s"), {"pid": os.getpid(), "command": "ckg update --release 2020-06-08",
    ...                          "started_at": "2026-12-01T10:00:00Z"})
    's is being written by pid ... (ckg update --release 2020-06-08, started 2026-12-01T10:00:00Z)'
    >>> busy_message(Path("s"), {})
    's is being written by another process (it has just started)'
    """
    if not holder.get("pid"):
        return f"{store} is being written by another process (it has just started)"
    message = f"{store} is being written by pid {holder['pid']} ({holder.get('command')}, started {holder.get('started_at')})"
    if not _alive(int(holder["pid"])):
        message += (f"; that process is gone, but a process it started still holds {store / LOCK_FILE}: "
                    f"stop it (`fuser -v {store / LOCK_FILE}` names it)")
    return message


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
