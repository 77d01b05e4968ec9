"""Run one ``ckg build`` or ``ckg update`` in this process and write when each stage starts and ends.

bench/scale.py starts this script as a child process and samples the memory of its process tree
(bench/scale_memory.py); the stage events say which samples belong to which stage. The build itself is
ckg's own (``ckg.etl.build.build``/``update``, as the CLI calls them); only the stage timer is
wrapped, to write a line ``TIME STAGE start|end`` to ``--events`` around each stage. If the timer
changes shape, the run still happens and the events only cover the whole run.

    python bench/scale_stage.py build  --store S --cord19 PATH [--release L] --events FILE
    python bench/scale_stage.py update --store S --cord19 PATH [--release L] --events FILE

``--no-annotation`` leaves out the concepts and topics stages (they record ``skipped``), for the
figure of a build without annotation measured as such: with the stages in, the background work
of the ones before (RocksDB compacting what the load wrote) would run on into them.

It prints one JSON line: the run's manifest and its wall time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import contextmanager
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["build", "update"])
    parser.add_argument("--store", required=True, type=Path)
    parser.add_argument("--cord19", required=True, type=Path, action="append")
    parser.add_argument("--release", default=None)
    parser.add_argument("--events", required=True, type=Path)
    parser.add_argument("--processes", type=int, default=None)
    parser.add_argument("--no-annotation", action="store_true", help="leave out the concepts and topics stages")
    args = parser.parse_args()

    from ckg.etl import build as etl_build
    from ckg.etl.annotate import AnnotationOptions

    events = open(args.events, "a", encoding="utf-8", buffering=1)

    def emit(name: str, what: str) -> None:
        events.write(f"{time.time():.4f} {name} {what}\n")

    timer = getattr(etl_build, "_Timer", None)
    original = getattr(timer, "stage", None)
    if original is not None:
        @contextmanager
        def stage(self, name):
            emit(name, "start")
            try:
                with original(self, name):
                    yield
            finally:
                emit(name, "end")

        timer.stage = stage
    else:
        print("scale_stage: ckg.etl.build has no _Timer.stage: memory is measured for the whole run only",
              file=sys.stderr)

    if args.no_annotation:
        from ckg.etl.annotate import StageResult

        def skipped(*_args, **_kwargs):
            return StageResult({}, {"skipped": "bench/scale_stage.py --no-annotation"})

        etl_build.concepts_stage = etl_build.topics_stage = skipped
    annotation = AnnotationOptions(processes=args.processes)
    start = time.perf_counter()
    emit("run", "start")
    if args.mode == "build":
        result = etl_build.build(args.store, args.cord19, release=args.release, overwrite=True, annotation=annotation)
    else:
        result = etl_build.update(args.store, args.cord19, release=args.release, annotation=annotation,
                                  allow_mass_removal=True)
    emit("run", "end")
    events.close()
    print(json.dumps({"wall_s": round(time.perf_counter() - start, 3), "manifest": result.manifest}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
