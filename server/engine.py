"""Query processes: every query runs in a child process that is killed when it runs too long.

pyoxigraph cannot cancel a running query from Python (and holds the GIL while it evaluates), so
a thread cannot be stopped and does not even run beside another query. The server therefore
sends each job (a SPARQL query, an update, an API lookup) to an *engine*: a child process
(``python -m ckg.server.engine``) that opens the store read-only, runs the job, serialises the
answer and sends it back over a socket. The parent waits at most the timeout; past it, it kills
the child (SIGKILL: the query stops at once, its memory is freed), starts a fresh one and
answers 503. With a memory limit (``CKG_QUERY_MEMORY_MB``, RLIMIT_DATA), a query that needs more
memory makes its process abort, and the answer is 503 too. Each web worker owns a pool of engines, one per request it serves at a time, so a
runaway query only ever occupies its own engine while the others keep answering.

Updates (when the server enables them) take an exclusive lock on ``STORE/server.lock``; every
other job takes it shared, so no query reads while an update writes. The update opens the store
read-write in its engine, applies the update (a transaction: a killed update writes nothing),
closes it and bumps the lock file's time stamp; every engine re-opens its read-only view when
that stamp or ``manifest.json`` (a ``ckg update``) changed.

>>> spec = {"store": "/nonexistent", "allowlist": [], "updates": False}
>>> pool = EnginePool(spec, size=1)
>>> pool.run("ping", {}, timeout=30)["pid"] == pool.pids()[0]
True
>>> pool.run("query", {"query": "ASK {}"}, timeout=30)
Traceback (most recent call last):
...
ckg.server.engine.JobFailed: (500, '/nonexistent is not a ckg store (no oxigraph/ folder); build one with `ckg build`')
>>> pool.close()
"""

from __future__ import annotations

import fcntl
import gc
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

LOCK_FILE = "server.lock"


class QueryTimeout(Exception):
    """The job ran past the timeout; its process was killed."""

    def __init__(self, timeout: float) -> None:
        super().__init__(f"the query ran for more than {timeout:g} s, the timeout of this endpoint, and was stopped")
        self.timeout = timeout


class EngineBusy(Exception):
    """Every engine of the pool stayed busy for the whole timeout."""


class JobFailed(Exception):
    """The job ran and failed: ``status`` is the HTTP status to answer, ``message`` says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message


# ----------------------------------------------------------------------------------------------
# Parent side
# ----------------------------------------------------------------------------------------------

class Engine:
    """One child process and the socket to it."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.proc: subprocess.Popen | None = None
        self.conn: Connection | None = None
        self.start()

    def start(self) -> None:
        parent, child = socket.socketpair()
        self.proc = subprocess.Popen([sys.executable, "-m", "ckg.server.engine", str(child.fileno())],
                                     pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL)
        child.close()
        self.conn = Connection(parent.detach())
        self.conn.send(self.spec)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.conn is not None:
            self.conn.close()
        self.proc = self.conn = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def call(self, job: dict[str, Any], timeout: float) -> dict[str, Any]:
        if self.proc is None or self.proc.poll() is not None:
            self.restart()
        try:
            self.conn.send(job)
            ready = self.conn.poll(timeout)
        except OSError:
            ready = None
        if ready is False:
            self.restart()
            raise QueryTimeout(timeout)
        try:
            if ready is None:
                raise EOFError
            return self.conn.recv()
        except (EOFError, OSError):
            try:
                code = self.proc.wait(timeout=5) if self.proc else None
            except subprocess.TimeoutExpired:
                code = None
            self.restart()
            memory = self.spec.get("memory_mb")
            if memory and code in (-signal.SIGABRT, -signal.SIGKILL, -signal.SIGSEGV):
                return {"ok": False, "status": 503,
                        "error": f"the query needed more memory than this endpoint allows a query "
                                 f"({memory} MiB, CKG_QUERY_MEMORY_MB) and was stopped"}
            return {"ok": False, "status": 500,
                    "error": f"the query process died (exit status {code}); it was restarted"}


class EnginePool:
    """Engines for the requests one web worker serves at once."""

    def __init__(self, spec: dict[str, Any], size: int = 2) -> None:
        if size < 1:
            raise ValueError("an engine pool needs at least one engine")
        self.spec = dict(spec)
        self._engines = [Engine(self.spec) for _ in range(size)]
        self._free: queue.LifoQueue[Engine] = queue.LifoQueue()
        for engine in self._engines:
            self._free.put(engine)
        self._closed = False
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        return len(self._engines)

    def pids(self) -> list[int]:
        return [e.proc.pid for e in self._engines if e.proc is not None]

    def run(self, op: str, params: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Run a job in a free engine, at most ``timeout`` seconds (after waiting at most as long for a
        free engine); raise :class:`JobFailed`, :class:`QueryTimeout` or :class:`EngineBusy`."""
        try:
            engine = self._free.get(timeout=timeout)
        except queue.Empty:
            raise EngineBusy(f"every query process stayed busy for {timeout:g} s; try again later") from None
        try:
            if self._closed:
                raise EngineBusy("the server is shutting down")
            reply = engine.call({"op": op, "params": params}, timeout)
        finally:
            self._free.put(engine)
        if not reply.get("ok"):
            raise JobFailed(reply.get("status", 500), reply.get("error", "unknown error"))
        return reply

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for engine in self._engines:
                engine.stop()


# ----------------------------------------------------------------------------------------------
# Child side
# ----------------------------------------------------------------------------------------------

class EngineContext:
    """What a job sees in the child: the open store, the functions, the configuration."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.path = Path(spec["store"])
        self.allowlist: tuple[str, ...] = tuple(spec.get("allowlist") or ())
        self.updates = bool(spec.get("updates"))
        self.store = None
        self.functions: dict = {}
        self._generation: tuple | None = None
        self._lock_handle = None
        self.similarity_backend = None
        self.opened_at: float | None = None

    # -- store life cycle --------------------------------------------------------------------
    def generation(self) -> tuple:
        from ckg.embed.artifacts import CURRENT_FILE, EMBEDDINGS_DIR

        stamps = []
        # a build or update rewrites the manifest; `ckg train` rewrites the embeddings' current run
        for name in ("manifest.json", LOCK_FILE, f"{EMBEDDINGS_DIR}/{CURRENT_FILE}"):
            try:
                st = os.stat(self.path / name)
                stamps.append((st.st_mtime_ns, st.st_size))
            except OSError:
                stamps.append(None)
        return tuple(stamps)

    def open(self) -> None:
        from ckg.server.functions import load_similarity_backend, registry
        from ckg.store import open_store

        self.close()
        generation = self.generation()
        self.store = open_store(self.path, read_only=True)
        self.similarity_backend = load_similarity_backend(self.path)
        self.functions = registry(self.store, self.similarity_backend)
        self._generation = generation
        self.opened_at = time.time()

    def close(self) -> None:
        self.functions = {}
        self.store = None
        self.similarity_backend = None
        gc.collect()  # the database closes when its last reference goes

    def refresh(self) -> None:
        if self.store is None or self.generation() != self._generation:
            self.open()

    @contextmanager
    def locked(self, exclusive: bool):
        """Shared lock for reads, exclusive for writes (only when updates are enabled)."""
        if not self.updates:
            yield
            return
        if self._lock_handle is None:
            self._lock_handle = open(self.path / LOCK_FILE, "a+")
        fcntl.flock(self._lock_handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(self._lock_handle, fcntl.LOCK_UN)

    def write(self, fn) -> Any:
        """Run ``fn(store)`` on the store opened read-write, then re-open the read-only view."""
        import pyoxigraph as ox

        from ckg.store import OXIGRAPH_DIR

        with self.locked(exclusive=True):
            self.close()
            try:
                writable = ox.Store(str(self.path / OXIGRAPH_DIR))
                try:
                    result = fn(writable)
                    writable.flush()
                finally:
                    del writable
                    gc.collect()
                with open(self.path / LOCK_FILE, "w") as stamp:
                    stamp.write(f"{time.time_ns()}\n")
            finally:
                self.open()
        return result

    # -- jobs --------------------------------------------------------------------------------
    def handle(self, job: dict[str, Any]) -> dict[str, Any]:
        from ckg.server import jobs

        op = job.get("op")
        params = job.get("params") or {}
        try:
            if op == "ping":
                return {"ok": True, "pid": os.getpid()}
            fn = jobs.OPS.get(op)
            if fn is None:
                return {"ok": False, "status": 500, "error": f"unknown job {op!r}"}
            if op in jobs.WRITE_OPS:
                return {"ok": True, **fn(self, **params)}
            with self.locked(exclusive=False):
                self.refresh()
                return {"ok": True, **fn(self, **params)}
        except jobs.JobError as exc:
            return {"ok": False, "status": exc.status, "error": str(exc)}
        except Exception as exc:  # the parent answers 500 with the message; the engine lives on
            status, message = jobs.classify(exc)
            if status >= 500 and os.environ.get("CKG_DEBUG"):
                traceback.print_exc()
            return {"ok": False, "status": status, "error": message}


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (no orphaned query keeps running)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _limit_memory(megabytes: int | None) -> None:
    """Cap the process's data segment (heap and private mappings): an allocation past it fails and
    the process aborts, which the parent reports as a query out of memory."""
    if megabytes:
        import resource

        limit = int(megabytes) * 2**20
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the server; it stops us
    conn = Connection(int(argv[0]))
    try:
        spec = conn.recv()
    except EOFError:
        return 0
    _limit_memory(spec.get("memory_mb"))
    context = EngineContext(spec)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return 0
        reply = context.handle(job)
        try:
            conn.send(reply)
        except (BrokenPipeError, OSError):
            return 0


if __name__ == "__main__":
    sys.exit(main())
