"""Query processes: every query runs in a child process that is killed when it runs too long.

pyoxigraph cannot cancel a running query from Python (and holds the GIL while it evaluates), so
a thread cannot be stopped and does not even run beside another query. The server therefore
sends each job (a SPARQL query, an update, an API lookup) to an *engine*: a child process
(``python -m ckg.server.engine``) that opens the store read-only, runs the job, serialises the
answer and sends it back over a socket. The parent waits at most the timeout; past it, it kills
the child (SIGKILL: the query stops at once, its memory is freed), starts a fresh one and
answers 503. With a memory limit (``CKG_QUERY_MEMORY_MB``, RLIMIT_DATA), a query that needs more
memory makes its process abort, and the answer is 503 too.

Each web worker owns a pool of engines (``CKG_THREADS`` of them, one job at a time each), so a
runaway query only ever occupies its own engine while the others keep answering, and a short
queue before them. A request has one time budget, ``CKG_QUERY_TIMEOUT``: the time it waits for a
free engine and the time its job runs both count against it, so no request takes longer than the
timeout (plus the moment it takes to kill a process). A request waits for a free engine at most
``CKG_QUEUE_WAIT`` seconds, first come first served, and only while fewer than
``WAITING_PER_ENGINE`` requests per engine already wait; otherwise it gets 503 at once (or when
its wait is over) with a ``Retry-After`` header: the seconds until an engine is sure to be free,
its job done or stopped at its deadline. So runaway queries hold at most the engines and a few
waiting requests; a cheap query is answered, or refused quickly, while they run, never queued
behind them until they time out. gunicorn serves more requests per worker than it has engines
(:func:`request_threads`), so that the requests beyond reach this queue instead of waiting unseen
in gunicorn's own. An engine killed at the timeout or dead of a crash is replaced at once, and the
fresh process warms up (imports, opens the store) in the background before it takes a request.

Query processes have no network: each closes it when it starts (:mod:`ckg.server.sandbox`), so
no query or update, whatever its text, can make pyoxigraph call out (``SERVICE`` clauses to
allowlisted endpoints are evaluated beforehand by :mod:`ckg.server.federation`).

Updates (when the server enables them) take the store's writer lock (``STORE/writer.lock``, the
one ``ckg build`` and ``ckg update`` hold: while they run, an update gets 503) and an exclusive
lock on ``STORE/server.lock``; every other job takes that one shared, so no query reads while an
update writes. The update opens the store's current release read-write in its engine, applies
the update (a transaction: a killed update writes nothing), closes it and bumps the lock file's
time stamp; every engine re-opens its read-only view when that stamp or ``STORE/CURRENT`` (a
``ckg update`` committed a new release) changed.

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
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections import deque
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

LOCK_FILE = "server.lock"


OUT_OF_MEMORY = "the query needed more memory than"
"""How the message of a job stopped for want of memory begins (503; :func:`ckg.server.jobs.memory_message`)."""
WAITING_PER_ENGINE = 2
"""Requests that may wait for a free query process, per query process: past that, 503 at once."""
SPARE_THREADS = 8
"""Request threads of a web worker beyond those that run or wait for a query (pages, quick 503s)."""
RESTART_GRACE = 2.0
"""Seconds a fresh query process may need before it answers (its imports, the store's opening)."""
WARM_TIMEOUT = 60.0
"""Most seconds a fresh query process may take to warm up before it serves requests anyway."""


def request_threads(engines: int) -> int:
    """Requests a web worker should serve at once for a pool of ``engines``: those that run, those
    that may wait, and spare threads that answer the others at once (a request beyond the worker's
    threads would wait in gunicorn's own queue, unseen and without bound).

    >>> request_threads(2)
    14
    """
    return engines * (1 + WAITING_PER_ENGINE) + SPARE_THREADS



def engine_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a query process: the server's, with one OpenMP/BLAS thread unless the
    operator set ``OMP_NUM_THREADS``. Requests run side by side in several processes; a FAISS search
    or a matrix product that also spreads over every core makes the processes fight for them (on
    2 cores, similar papers at 4 connections: 100 requests/s with the default threads, 631 with one).

    >>> engine_environment({"PATH": "/bin"})["OMP_NUM_THREADS"], engine_environment({"OMP_NUM_THREADS": "4"})["OMP_NUM_THREADS"]
    ('1', '4')
    """
    env = dict(os.environ if environ is None else environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env

class QueryTimeout(Exception):
    """The job ran past the timeout; its process was killed. ``waited``: the seconds of the
    request's timeout spent before the job could start (waiting for a free query process,
    evaluating SERVICE clauses)."""

    def __init__(self, timeout: float, waited: float = 0.0) -> None:
        if waited < 0.05:
            message = f"the query ran for more than {timeout:g} s, the timeout of this endpoint, and was stopped"
        else:
            message = (f"the query ran for {max(timeout - waited, 0):.1f} s and was stopped: with the {waited:.1f} s "
                       f"it waited before it could run, it reached {timeout:g} s, the timeout of this endpoint")
        super().__init__(message)
        self.timeout = timeout
        self.waited = waited


class EngineBusy(Exception):
    """No query process became free in time, too many requests already wait for one, or the
    server is shutting down: the answer is 503 with ``Retry-After: retry_after`` (seconds)."""

    def __init__(self, message: str, retry_after: float = 1) -> None:
        super().__init__(message)
        self.retry_after = max(1, math.ceil(retry_after))


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
        self.closed = False
        self.fresh = True  # started and not used yet: its first job pays for imports and the store's opening
        self.busy_until: float | None = None  # when its current job ends at the latest (time.monotonic)
        self.warming = False  # a fresh process importing its modules and opening the store
        self.start()

    def start(self) -> None:
        parent, child = socket.socketpair()
        self.proc = subprocess.Popen([sys.executable, "-m", "ckg.server.engine", str(child.fileno())],
                                     pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL, env=engine_environment())
        child.close()
        self.conn = Connection(parent.detach())
        self.conn.send(self.spec)

    def stop(self) -> None:
        proc, conn = self.proc, self.conn
        self.proc = self.conn = None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if conn is not None:
            conn.close()

    def restart(self) -> None:
        self.stop()
        if not self.closed:
            self.start()
            self.fresh = True

    def close(self) -> None:
        """Stop the process for good (a job running in it ends with :class:`EngineBusy`)."""
        self.closed = True
        self.stop()

    def call(self, job: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send a job and wait at most ``timeout`` seconds for its reply; past it, kill the process,
        start a fresh one and raise :class:`QueryTimeout`. A process that dies gives a reply of
        status 503 (out of memory) or 500."""
        if self.closed:
            raise EngineBusy("the server is shutting down", RESTART_GRACE)
        if self.proc is None or self.proc.poll() is not None:
            self.restart()
        self.fresh = False
        proc, conn = self.proc, self.conn
        try:
            conn.send(job)
            ready = conn.poll(max(timeout, 0))
        except (OSError, AttributeError):
            ready = None
        if ready is False:
            self.restart()
            raise QueryTimeout(timeout)
        try:
            if ready is None:
                raise EOFError
            reply = conn.recv()
            if not reply.get("ok") and reply.get("status") == 503 and str(reply.get("error")).startswith(OUT_OF_MEMORY):
                self.restart()  # a MemoryError was caught, but the process may not have recovered from it
            return reply
        except (EOFError, OSError):
            if self.closed:
                raise EngineBusy("the server is shutting down", RESTART_GRACE) from None
            try:
                code = proc.wait(timeout=5) if proc else None
            except subprocess.TimeoutExpired:
                code = None
            self.restart()
            memory = self.spec.get("memory_mb")
            # an allocation past the limit aborts in Rust, or raises a MemoryError that Python may
            # only meet while sending the reply (it then exits with status 1)
            if memory and code in (1, -signal.SIGABRT, -signal.SIGKILL, -signal.SIGSEGV):
                return {"ok": False, "status": 503,
                        "error": f"{OUT_OF_MEMORY} this endpoint allows a query "
                                 f"({memory} MiB, CKG_QUERY_MEMORY_MB) and was stopped"}
            return {"ok": False, "status": 500,
                    "error": f"the query process died (exit status {code}); it was restarted"}


class _Waiter:
    """A request waiting for a free engine: :meth:`EnginePool._release` hands it one."""

    __slots__ = ("event", "engine")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.engine: Engine | None = None


class EnginePool:
    """Engines for the requests one web worker serves at once, and the short queue before them.

    ``max_waiting`` requests at most wait for a free engine (default: ``WAITING_PER_ENGINE`` per
    engine), each at most ``max_wait`` seconds (default: as long as its timeout allows); they are
    served first come, first served. A fresh engine warms up (imports, opens the store) before it
    takes a request: all of them before the pool is made, and one restarted after a timeout or a
    crash in the background.
    """

    def __init__(self, spec: dict[str, Any], size: int = 2, *, max_waiting: int | None = None,
                 max_wait: float | None = None) -> None:
        if size < 1:
            raise ValueError("an engine pool needs at least one engine")
        self.spec = dict(spec)
        self.max_waiting = size * WAITING_PER_ENGINE if max_waiting is None else max(0, int(max_waiting))
        self.max_wait = max_wait
        self._lock = threading.Lock()
        self._closed = False
        self._waiters: deque[_Waiter] = deque()
        self._free: list[Engine] = []
        self._engines = [Engine(self.spec) for _ in range(size)]
        warming = [self._give_back(engine) for engine in self._engines]
        for thread in warming:  # ready when this returns: the first requests find warm engines
            if thread is not None:
                thread.join(WARM_TIMEOUT)

    @property
    def size(self) -> int:
        return len(self._engines)

    def pids(self) -> list[int]:
        return [proc.pid for proc in (e.proc for e in self._engines) if proc is not None]

    def run(self, op: str, params: dict[str, Any], timeout: float, *, deadline: float | None = None) -> dict[str, Any]:
        """Run a job in a free engine and return its reply; raise :class:`JobFailed`,
        :class:`QueryTimeout` or :class:`EngineBusy`.

        ``timeout`` is the request's whole time: waiting for a free engine and running count
        against it (``deadline``, a :func:`time.monotonic` time, ends it earlier when the request
        spent some of it before, at most ``timeout`` seconds ago). A request waits for a free engine
        at most ``max_wait`` seconds, and not at all when ``max_waiting`` requests already wait.
        """
        now = time.monotonic()
        deadline = now + timeout if deadline is None else min(deadline, now + timeout)
        began = deadline - timeout
        wait = deadline - now if self.max_wait is None else min(self.max_wait, deadline - now)
        engine = self._acquire(wait, deadline)
        try:
            now = time.monotonic()
            if deadline - now <= 0.001:
                raise EngineBusy(f"no query process became free within the {timeout:g} s of this endpoint's "
                                 f"timeout; try again in {self.retry_after()} s", self.retry_after())
            engine.busy_until = deadline
            try:
                reply = engine.call({"op": op, "params": params}, deadline - now)
            except QueryTimeout:
                raise QueryTimeout(timeout, waited=now - began) from None
        finally:
            engine.busy_until = None
            self._give_back(engine)
        if not reply.get("ok"):
            raise JobFailed(reply.get("status", 500), reply.get("error", "unknown error"))
        return reply

    def retry_after(self) -> int:
        """Seconds until an engine is sure to be free (its job done or stopped at its deadline), for
        a ``Retry-After`` header: at least 1."""
        now = time.monotonic()
        ends = [e.busy_until - now for e in self._engines if e.busy_until is not None]
        soonest = min(ends) if len(ends) == len(self._engines) else 0.0
        return max(1, math.ceil(soonest + (1 if soonest > 0 else 0)))

    def _acquire(self, wait: float, deadline: float) -> Engine:
        """A free engine, after waiting at most ``wait`` seconds for one to be released (longer, up to
        ``deadline``, for one that is warming up: it is ready in a moment)."""
        with self._lock:
            if self._closed:
                raise EngineBusy("the server is shutting down; try again in a moment", RESTART_GRACE)
            if self._free:
                return self._free.pop()
            if len(self._waiters) >= self.max_waiting:
                after = self.retry_after()
                raise EngineBusy(f"all {self.size} query processes of this server are busy and {len(self._waiters)} "
                                 f"requests already wait for one; try again in {after} s", after)
            waiter = _Waiter()
            self._waiters.append(waiter)
        end = time.monotonic() + max(wait, 0)
        while True:
            left = end - time.monotonic()
            if left > 0 and waiter.event.wait(left):
                break
            with self._lock:
                if waiter.engine is not None or self._closed:
                    break
                now = time.monotonic()
                if any(e.warming for e in self._engines) and now < deadline - 0.05:
                    end = min(deadline, now + 0.25)
                    continue
            break
        with self._lock:
            if waiter.engine is not None:
                return waiter.engine
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            if self._closed:
                raise EngineBusy("the server is shutting down; try again in a moment", RESTART_GRACE)
            after = self.retry_after()
            raise EngineBusy(f"all {self.size} query processes of this server stayed busy for the {max(wait, 0):.1f} s "
                             f"a request may wait for one; try again in {after} s", after)

    def _release(self, engine: Engine) -> None:
        """Hand an engine to the longest-waiting request, else put it back among the free ones."""
        with self._lock:
            if self._closed:
                return
            if self._waiters:
                waiter = self._waiters.popleft()
                waiter.engine = engine
                waiter.event.set()
            else:
                self._free.append(engine)

    def _give_back(self, engine: Engine) -> threading.Thread | None:
        """Release an engine; a fresh one first warms up, in the background (the thread that does it)."""
        if engine.fresh and not engine.closed:
            engine.busy_until = time.monotonic() + RESTART_GRACE
            engine.warming = True
            thread = threading.Thread(target=self._warm, args=(engine,), name="ckg-engine-warm-up", daemon=True)
            thread.start()
            return thread
        self._release(engine)
        return None

    def _warm(self, engine: Engine) -> None:
        try:
            engine.call({"op": "warm", "params": {}}, WARM_TIMEOUT)  # a failure shows in the next real job
        except Exception:  # noqa: BLE001 - closed, timed out: the next real job sees it
            pass
        finally:
            engine.busy_until = None
            engine.fresh = engine.warming = False
            self._release(engine)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            waiters, self._waiters = list(self._waiters), deque()
        for waiter in waiters:
            waiter.event.set()
        for engine in self._engines:
            engine.close()


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
        self.folder = None  # the folder of the release opened (its catalog: the title index)
        self.functions: dict = {}
        self._generation: tuple | None = None
        self._lock_handle = None
        self.similarity_backend = None
        self._search = None
        self.opened_at: float | None = None

    # -- store life cycle --------------------------------------------------------------------
    def generation(self) -> tuple:
        """What the open view depends on: the store's current release (a build or update flips
        ``CURRENT``), the SPARQL updates made in place (stamped in ``server.lock``) and the
        embeddings' current run (``ckg train``)."""
        from ckg.embed.artifacts import CURRENT_FILE, EMBEDDINGS_DIR
        from ckg.store import release_stamp

        stamps: list = [release_stamp(self.path)]
        for name in (LOCK_FILE, f"{EMBEDDINGS_DIR}/{CURRENT_FILE}"):
            try:
                st = os.stat(self.path / name)
                stamps.append((st.st_mtime_ns, st.st_size))
            except OSError:
                stamps.append(None)
        return tuple(stamps)

    def open(self) -> None:
        """Open the store's current release read-only (and the functions over it). The previous
        release stays on disk until the next write, so a view opened just before a commit stays
        readable until this process re-opens."""
        from ckg.server.functions import load_similarity_backend, registry
        from ckg.store import open_release

        self.close()
        generation = self.generation()
        self.folder, self.store = open_release(self.path, read_only=True)
        self.similarity_backend = load_similarity_backend(self.path)
        self._search = None
        self.functions = registry(self.store, self.similarity_backend, self.search_service)
        self._generation = generation
        self.opened_at = time.time()
        from ckg.sparql import warm

        threading.Thread(target=warm, args=(self.folder,), name="ckg-warm", daemon=True).start()

    def search_service(self):
        """The release's search (:mod:`ckg.search`), opened on first use; None without an index."""
        if self._search is None and self.store is not None:
            from ckg.search.service import service_or_none

            self._search = service_or_none(self.path, self.folder, self.store)
        return self._search

    def close(self) -> None:
        self.functions = {}
        self._search = None
        self.store = None
        self.folder = None
        self.similarity_backend = None
        gc.collect()  # the database closes when its last reference goes

    def refresh(self) -> None:
        if self.store is None or self.generation() != self._generation:
            self.open()

    @contextmanager
    def locked(self, exclusive: bool):
        """Between the query processes of ``ckg serve``: shared for reads, exclusive for a SPARQL
        update (only when updates are enabled), so that no query reads the release an update
        changes in place. (Writers of other processes are kept out by the writer lock.)"""
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
        """Run ``fn(store)`` on the store's current release opened read-write, then re-open the
        read-only view. Holds the store's writer lock (:mod:`ckg.writerlock`), taken without
        waiting for a build or update: while one runs, the SPARQL update is refused with 503."""
        from ckg.generations import announce, recover
        from ckg.server.jobs import JobError
        from ckg.writerlock import StoreBusy, WriterLock

        lock = WriterLock(self.path)
        try:
            lock.acquire(f"a SPARQL update of ckg serve (query process {os.getpid()})", kind="sparql-update",
                         wait_for_short=5.0)
        except StoreBusy as exc:
            raise JobError(503, f"SPARQL updates are refused while another process writes the store: {exc}; "
                                f"try again when it has finished") from None
        try:
            with self.locked(exclusive=True):
                self.close()
                try:
                    message = recover(self.path)  # what an interrupted build or update left, if anything
                    if message:
                        announce(message)
                    result = self._write(fn)
                    with open(self.path / LOCK_FILE, "w") as stamp:
                        stamp.write(f"{time.time_ns()}\n")
                finally:
                    self.open()
        finally:
            lock.release()
        return result

    def _write(self, fn) -> Any:
        """``fn(store)`` and a flush; the read-write database is closed for sure when this returns
        or raises (a failed update's traceback keeps ``fn``'s frames, and with them the database:
        opening it read-only beside it can fail with RocksDB "Corruption ... MANIFEST")."""
        from ckg.store import open_store

        writable = open_store(self.path, recover=False)
        try:
            result = fn(writable)
            writable.flush()
        except BaseException as exc:
            del writable
            _release_frames(exc)
            gc.collect()
            raise
        del writable
        gc.collect()
        return result

    # -- jobs --------------------------------------------------------------------------------
    def handle(self, job: dict[str, Any]) -> dict[str, Any]:
        from ckg.server import jobs

        op = job.get("op")
        params = job.get("params") or {}
        try:
            if op == "ping":
                from ckg.server.sandbox import network_closed

                return {"ok": True, "pid": os.getpid(), "network_closed": network_closed()}
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


def _release_frames(exc: BaseException) -> None:
    """Clear the local variables of the finished frames an exception (and its cause and context)
    keeps, so that nothing they referenced stays alive."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        traceback.clear_frames(exc.__traceback__)
        exc = exc.__cause__ or exc.__context__


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


def _close_network() -> bool | str:
    """Close this process's network (:mod:`ckg.server.sandbox`): True when closed, False where the
    machine has no sandbox (the server then refuses every SERVICE and LOAD before it sends a
    job), or the reason it failed where it should have worked."""
    from ckg.server import sandbox

    if not sandbox.available()[0]:
        return False
    try:
        sandbox.close_network()
    except sandbox.SandboxError as exc:
        return f"the query process could not close its network ({exc}), so it runs nothing"
    return True


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
    closed = _close_network()
    context = EngineContext(spec)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return 0
        if isinstance(closed, str):  # fail closed: no job runs with the network open
            reply = {"ok": False, "status": 500, "error": closed}
        else:
            reply = context.handle(job)
        try:
            conn.send(reply)
        except (BrokenPipeError, OSError):
            return 0


if __name__ == "__main__":
    sys.exit(main())
