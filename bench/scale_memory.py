"""Memory of a process tree over time, sampled from /proc (bench tooling, not part of ckg).

:class:`TreeSampler` samples a process and all its descendants every ``interval`` seconds in a
thread of the calling process. Each sample is the tree's proportional set size (PSS, from
``/proc/PID/smaps_rollup``: pages shared by forked workers are split between them rather than
counted once per process), or its resident set size where PSS cannot be read. Peaks are taken over
the whole run or over a time window (a build stage)::

    sampler = TreeSampler(proc.pid).start()
    ...
    sampler.stop()
    sampler.peak()                      # bytes
    sampler.peak(t_start, t_end)        # bytes in a window (time.time() values)
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

try:
    import psutil
except ImportError:  # pragma: no cover - psutil is installed with the project's dependencies
    psutil = None


def _children(pid: int) -> list[int]:
    """Every descendant of a process (from /proc/PID/task/*/children)."""
    if psutil is not None:
        try:
            return [c.pid for c in psutil.Process(pid).children(recursive=True)]
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return []
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                kids = [int(x) for x in (task / "children").read_text().split()]
            except (OSError, ValueError):
                continue
            out += kids
            todo += kids
    return out


def process_memory(pid: int) -> tuple[int, str]:
    """(bytes, "pss"|"rss") of one process; (0, "") when it is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024, "pss"
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE"), "rss"
    except OSError:
        return 0, ""


def tree_memory(pid: int) -> tuple[int, str]:
    """(bytes, kind) of a process and its descendants."""
    total, kinds = 0, set()
    for p in [pid, *_children(pid)]:
        value, kind = process_memory(p)
        total += value
        if kind:
            kinds.add(kind)
    return total, "pss" if kinds == {"pss"} else ("rss" if kinds else "")


class TreeSampler:
    """Samples :func:`tree_memory` of ``pid`` in a background thread, every ``interval`` seconds
    or less often: reading PSS costs kernel time that grows with the processes' mappings (a
    50 ms sample of a build and its two workers at 100k papers, every 0.1 s, took half a core
    of this 2-core machine from the run it measured), so the sampler waits at least
    ``1 / duty - 1`` times as long as its last sample took: it uses at most ``duty`` of a core."""

    def __init__(self, pid: int, interval: float = 0.1, duty: float = 0.05) -> None:
        self.pid, self.interval, self.duty = pid, interval, duty
        self.busy_s = 0.0  # time spent sampling
        self.samples: list[tuple[float, int]] = []
        self.kind = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> TreeSampler:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            value, kind = tree_memory(self.pid)
            took = time.perf_counter() - started
            self.busy_s += took
            if value:
                self.samples.append((time.time(), value))
                self.kind = self.kind or kind
            self._stop.wait(max(self.interval, took * (1 / self.duty - 1)))

    def stop(self) -> TreeSampler:
        self._stop.set()
        self._thread.join(timeout=10)
        return self

    def peak(self, start: float | None = None, end: float | None = None) -> int:
        """The largest sample in [start, end] (the whole run by default); for a window shorter than
        the interval, the sample nearest to it."""
        if not self.samples:
            return 0
        inside = [v for t, v in self.samples if (start is None or t >= start) and (end is None or t <= end)]
        if inside:
            return max(inside)
        middle = ((start or 0) + (end or start or 0)) / 2
        return min(self.samples, key=lambda s: abs(s[0] - middle))[1]
