"""Builds and updates in child processes that the tests stop, kill and resume.

The children are forked by multiprocessing's fork server, which imported ckg and built the demo
vocabulary once (``writer_warmup``), so a child starts in milliseconds, warm. They must not be
forked from the test process itself: RocksDB's background threads, started when a process first
opens a store, do not survive a fork, and a child forked from such a process hangs at its first
flush.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from pathlib import Path
from typing import Any

_context = mp.get_context("forkserver")
_context.set_forkserver_preload(["writer_warmup"])


def _run(job: str, store: str, inputs: list[str], env: dict[str, str], stderr: str | None, kwargs: dict[str, Any]) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # as in `ckg`: SIGTERM ends the process at once
    os.environ.update(env)
    if stderr:
        fd = os.open(stderr, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 2)
    from ckg import faults
    from ckg.etl.annotate import AnnotationOptions
    from ckg.etl.build import build, update

    faults.reset()
    fn = {"build": build, "update": update}[job]
    fn(Path(store), [Path(p) for p in inputs], annotation=AnnotationOptions(processes=1), **kwargs)


def start(job: str, store: Path | str, inputs: list[Path | str], *, fault: str | None = None, trace: Path | None = None,
          stderr: Path | None = None, env: dict[str, str] | None = None, **kwargs: Any) -> mp.Process:
    """Start ``ckg.etl.build.build`` or ``update`` (``job``) in a child process; ``fault`` is a
    ``CKG_FAULT`` rule (:mod:`ckg.faults`), ``trace`` a ``CKG_FAULT_TRACE`` file, ``env`` more
    settings of the child."""
    env = dict(env or {})
    if fault:
        env["CKG_FAULT"] = fault
    if trace:
        env["CKG_FAULT_TRACE"] = str(trace)
    child = _context.Process(target=_run, args=(job, str(store), [str(p) for p in inputs], env,
                                                str(stderr) if stderr else None, kwargs), daemon=True)
    child.start()
    return child


def finish(child: mp.Process, timeout: float = 120) -> int:
    """Wait for a child; its exit code (negative: the signal that ended it)."""
    child.join(timeout)
    if child.exitcode is None:
        child.kill()
        child.join()
        raise AssertionError(f"the writer process {child.pid} did not finish within {timeout} s")
    return child.exitcode


def wait_stopped(child: mp.Process, timeout: float = 60) -> None:
    """Wait until a child has stopped itself (a ``STOP`` fault)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            state = "gone"
        if state in ("T", "t"):
            return
        if state in ("gone", "Z", "X") or not child.is_alive():
            raise AssertionError(f"the writer process ended (exit code {child.exitcode}) before its STOP fault")
        time.sleep(0.01)
    raise AssertionError("the writer process did not reach its STOP fault")


def kill_stopped(child: mp.Process, sig: int = signal.SIGKILL) -> int:
    """Kill a stopped child (and let it run, for a signal that needs it); its exit code."""
    os.kill(child.pid, sig)
    os.kill(child.pid, signal.SIGCONT)
    return finish(child)


def resume(child: mp.Process) -> int:
    os.kill(child.pid, signal.SIGCONT)
    return finish(child)
