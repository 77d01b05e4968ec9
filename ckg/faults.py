"""Named fault points: where the kill-injection tests stop a build or an update.

Code that writes a store calls :func:`point` at every stage boundary and inside its loops. It
costs one environment lookup; with ``CKG_FAULT`` set it can kill the process at the Nth time a
point is reached::

    CKG_FAULT=load.bulk:1:KILL          SIGKILL at the first "load.bulk"
    CKG_FAULT=read.paper:3:TERM         SIGTERM at the third paper read
    CKG_FAULT=load.bulk:1:KILL+0.004    SIGKILL 4 ms after "load.bulk": inside the bulk load
                                        (a watchdog process sends it, so it lands inside Rust code)
    CKG_FAULT=commit.start:1:STOP       SIGSTOP: the process waits there until it gets SIGCONT
    CKG_FAULT=commit.start:1:RAISE      raise FaultInjected (an ordinary Python error)

Several rules may be given, separated by commas. ``CKG_FAULT_TRACE=FILE`` appends the name of
every point reached to FILE (the tests learn the points of a run from it). With
``CKG_FAULT_ONCE=FILE`` a rule fires in one process only, the first that creates FILE: a Ray
actor killed at its first batch is restarted and goes on (``tests/test_ray_executor.py``).

>>> point("read.paper", environ={})  # no fault configured: nothing happens
>>> point("x", environ={"CKG_FAULT": "x:1:RAISE"})
Traceback (most recent call last):
...
ckg.faults.FaultInjected: fault injected at x (hit 1)
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Mapping

_hits: Counter[str] = Counter()
SIGNALS = {"KILL": signal.SIGKILL, "TERM": signal.SIGTERM, "STOP": signal.SIGSTOP}


class FaultInjected(RuntimeError):
    """An injected failure (action RAISE)."""


def point(name: str, environ: Mapping[str, str] | None = None) -> None:
    """A place where a fault may be injected (see the module's documentation)."""
    env = os.environ if environ is None else environ
    spec = env.get("CKG_FAULT")
    trace = env.get("CKG_FAULT_TRACE")
    if not spec and not trace:
        return
    _hits[name] += 1
    if trace:
        with open(trace, "a", encoding="utf-8") as out:
            out.write(name + "\n")
    for rule in (spec or "").split(","):
        parts = rule.strip().split(":")
        if len(parts) != 3 or parts[0] != name or not parts[1].isdigit() or int(parts[1]) != _hits[name]:
            continue
        if env.get("CKG_FAULT_ONCE") and not _first(env["CKG_FAULT_ONCE"]):
            continue
        _act(name, parts[2])


def _first(marker: str) -> bool:
    """Whether this process is the first to reach a ``CKG_FAULT_ONCE`` rule (it creates ``marker``)."""
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _act(name: str, action: str) -> None:
    kind, _, delay = action.partition("+")
    if kind == "RAISE":
        raise FaultInjected(f"fault injected at {name} (hit {_hits[name]})")
    sig = SIGNALS[kind]
    if not delay:
        os.kill(os.getpid(), sig)
        if sig != signal.SIGSTOP:
            time.sleep(60)  # a signal Python handles is delivered between bytecodes: wait for it
        return
    target = os.getpid()
    if os.fork() == 0:  # the watchdog: sleeps, then signals the writer wherever it is
        try:
            time.sleep(float(delay))
            if os.getppid() == target:  # the writer still runs (else its pid may be another's now)
                os.kill(target, sig)
        finally:
            os._exit(0)


def reset() -> None:
    """Forget the hits counted so far (a test that runs several writes in one process)."""
    _hits.clear()
