"""Benchmark: how long a build takes, against the time it takes just to read its input files.

The baseline, measured in the same run on the same files, is the bare cost of the input:
json.load of every parse plus csv reading of every metadata row. The ratio build/baseline says
how much the ETL (joining, normalising, emitting, loading, resolving citations) adds on top.

    python bench/bench_build.py [--papers 2000] [--real PATH]

Inputs: the real 2020-03-13 bioRxiv/medRxiv release (803 parses) when $CKG_REAL_DATA or --real
points at ../shared/data, and a synthetic demo corpus of --papers papers.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from ckg.demo_corpus import generate
from ckg.etl.build import build


def baseline_read(root: Path) -> tuple[float, int]:
    start = time.perf_counter()
    files = 0
    for path in sorted(root.rglob("*")):
        if path.suffix == ".json":
            with open(path, "rb") as handle:
                json.load(handle)
            files += 1
        elif path.suffix == ".csv":
            with open(path, newline="", encoding="utf-8") as handle:
                for _ in csv.reader(handle):
                    pass
            files += 1
    return time.perf_counter() - start, files


def run(name: str, root: Path, work: Path) -> dict:
    base, files = baseline_read(root)
    store = work / f"store-{name}"
    start = time.perf_counter()
    result = build(store, [root], overwrite=True)
    total = time.perf_counter() - start
    papers = result.counts["papers_in_store"]
    return {"input": name, "files": files, "papers": papers, "baseline_read_s": round(base, 3),
            "build_s": round(total, 3), "ratio": round(total / base, 2) if base else None,
            "papers_per_s": round(papers / total, 1), "stages_s": result.manifest["timings_s"],
            "edges": result.counts["citations"]["edges"], "triples": result.counts["triples"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=2000, help="papers in the synthetic corpus")
    parser.add_argument("--real", default=os.environ.get("CKG_REAL_DATA"), help="the shared data folder")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.real and (Path(args.real) / "cord19" / "release-2020-03-13").is_dir():
            rows.append(run("real-2020-03-13", Path(args.real) / "cord19" / "release-2020-03-13", work))
        else:
            print("real data not found (set CKG_REAL_DATA=../shared/data): only the synthetic corpus is measured",
                  file=sys.stderr)
        demo = work / "demo"
        generate(demo, papers=args.papers, seed=11)
        rows.append(run(f"demo-{args.papers}", demo, work))
    print(f"{'input':<18} {'papers':>7} {'read s':>8} {'build s':>8} {'build/read':>10} {'papers/s':>9} {'edges':>7}")
    for r in rows:
        print(f"{r['input']:<18} {r['papers']:>7} {r['baseline_read_s']:>8} {r['build_s']:>8} {r['ratio']:>10} "
              f"{r['papers_per_s']:>9} {r['edges']:>7}")
    print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
