"""Benchmark: a build's reading stage with its rows assembled and emitted by worker processes,
against the same stage in one process.

The baseline, measured in the same run on the same files, is ``ckg build --processes 1`` (every
row read, composed, emitted and written by one process); the other runs use ``--processes N``
(N workers assembling and emitting rows, the main process checking them in order and writing
them; see ``ckg.etl.assemble.Assembler``). Each build is stopped when its load stage starts
(``CKG_FAULT=load.start:1:RAISE``), so the time is that of discovering and reading the release;
runs alternate between the settings.

    python bench/bench_reading.py [--papers 20000] [--metadata-only] [--processes 2] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def read_stage(release: Path, store: Path, processes: int) -> float:
    """Seconds a build takes to its load stage (discovering and reading the release)."""
    env = {**os.environ, "CKG_FAULT": "load.start:1:RAISE"}
    env.pop("CKG_FAULT_TRACE", None)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ckg.cli", "build", "--store", str(store), "--cord19", str(release),
                           "--overwrite", "--no-progress", "--processes", str(processes)],
                          capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if "fault injected at load.start" not in done.stderr:
        raise SystemExit(f"the build did not reach its load stage:\n{done.stderr[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=20_000, help="papers of the generated CORD-19-shaped release")
    parser.add_argument("--metadata-only", action="store_true", help="no parse files (like most of CORD-19's rows)")
    parser.add_argument("--processes", type=int, default=2, help="processes of the runs compared with one")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each setting, alternated")
    args = parser.parse_args()

    from ckg.corpusgen.scale import generate

    with tempfile.TemporaryDirectory(prefix="ckg-bench-reading-") as tmp:
        release = Path(tmp) / "release"
        generate(release, papers=args.papers, seed=7, parses=not args.metadata_only, processes=args.processes)
        times: dict[int, list[float]] = {1: [], args.processes: []}
        for _ in range(args.repeat):
            for processes in times:
                times[processes].append(read_stage(release, Path(tmp) / "store", processes))
    base, ahead = statistics.median(times[1]), statistics.median(times[args.processes])
    kind = "metadata only" if args.metadata_only else "with full texts"
    print(f"reading a {args.papers:,}-paper release ({kind}), to the load stage, median of {args.repeat}:")
    print(f"| processes | s | ratio |\n|---|---|---|")
    print(f"| 1 (baseline: one process) | {base:.1f} | 1.00 |")
    print(f"| {args.processes} (rows assembled ahead) | {ahead:.1f} | {base / ahead:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
