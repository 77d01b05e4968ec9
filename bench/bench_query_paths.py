"""Benchmark: what the catalog saves the signals stage and the named queries, on a built store.

Three comparisons, each against its baseline in the same run, answers compared:

* the query signals (:func:`ckg.etl.signals.signal_quads`) counted by SPARQL aggregates over
  the store (their definition) and read from the catalog (what builds and updates do);
* ``find-papers`` scanning every title and narrowed by the catalog's title index (a store whose
  catalog predates the index gets it filled from the store first, on a copy of the catalog);
* ``customised-citation-counts`` as written before (titles looked up for every citing row,
  ``--before FILE``, for example from ``git show 88d5bbb:queries/customised-citation-counts.rq``)
  and as shipped, for a concept of about ``--concept-papers`` papers with and without the
  commonest topic.

    python bench/bench_query_paths.py --store STORE [--texts coronavirus,ACE2] [--before OLD.rq]

It prints the tables (best of ``--runs``) and writes ``bench/out/bench_query_paths.json``.
Nothing is written to the store.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def best(runs: int, fn):
    """(fastest seconds, the answer of the first run) of ``runs`` calls."""
    times, answer = [], None
    for i in range(runs):
        started = time.perf_counter()
        got = fn()
        times.append(time.perf_counter() - started)
        answer = got if i == 0 else answer
    return min(times), answer


def rows(result) -> list[tuple]:
    return [tuple(None if t is None else t.value for t in row) for row in result.rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, type=Path, help="a ckg store (built with `ckg build`)")
    parser.add_argument("--texts", default="coronavirus,ACE2,respiratory syndrome,patients",
                        help="find-papers texts, comma-separated")
    parser.add_argument("--concept-papers", type=int, default=9000,
                        help="customised counts: the concept with the most papers up to this many")
    parser.add_argument("--before", type=Path, help="customised-citation-counts.rq as it was, to compare with")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "bench_query_paths.json")
    args = parser.parse_args()

    import pyoxigraph as ox

    from ckg import queries
    from ckg.etl import signals
    from ckg.etl.build import fill_titles
    from ckg.etl.catalog import Catalog
    from ckg.sparql import execute, run_named
    from ckg.store import CATALOG_FILE, OXIGRAPH_DIR, current_folder, query

    folder = current_folder(args.store)
    if folder is None:
        parser.error(f"{args.store} is not a ckg store")
    store = ox.Store.read_only(str(folder / OXIGRAPH_DIR))
    work = Path(tempfile.mkdtemp(prefix="bench-query-paths-"))
    shutil.copy(folder / CATALOG_FILE, work / CATALOG_FILE)  # the bench writes nothing to the store
    out: dict = {"store": str(args.store), "papers": None, "signals": {}, "find_papers": [], "customised_counts": []}
    try:
        with Catalog(work / CATALOG_FILE) as catalog:
            out["papers"] = catalog.count()
            by_store, from_store = best(args.runs, lambda: signals.signal_quads(store))
            by_catalog, from_catalog = best(args.runs, lambda: signals.signal_quads(store, catalog))
            out["signals"] = {"quads": len(from_store), "store_s": by_store, "catalog_s": by_catalog,
                              "same": from_store == from_catalog}
            if not catalog.title_index_complete() or not catalog.title_text_complete():
                started = time.perf_counter()
                fill_titles(catalog, store)
                out["title_index_filled_s"] = time.perf_counter() - started
        print(f"signals, {out['papers']:,} papers: SPARQL over the store {by_store:.2f} s, catalog {by_catalog:.2f} s "
              f"({by_store / by_catalog:.2f}x), {len(from_store):,} quads, same: {from_store == from_catalog}")

        find = queries.get("find-papers")
        print("\n| find-papers text | rows | scan ms | title index ms | ratio | same |\n|---|---|---|---|---|---|")
        for text in [t for t in args.texts.split(",") if t]:
            scan_s, scanned = best(args.runs, lambda: rows(run_named(store, find, {"text": text})))
            index_s, indexed = best(args.runs, lambda: rows(run_named(store, find, {"text": text}, folder=work)))
            out["find_papers"].append({"text": text, "rows": len(scanned), "scan_s": scan_s, "index_s": index_s,
                                       "same": scanned == indexed})
            print(f"| {text} | {len(scanned):,} | {scan_s * 1000:,.0f} | {index_s * 1000:,.0f} | "
                  f"{scan_s / index_s:.1f} | {scanned == indexed} |")

        if args.before is not None:
            counts = queries.get("customised-citation-counts")
            concept = next(query(store, f"""SELECT ?l ?n WHERE {{ ?c a ckg:Concept ; ckg:paperCount ?n ;
                skos:prefLabel ?l FILTER (?n <= {int(args.concept_papers)}) }} ORDER BY DESC(?n) ?l LIMIT 1"""))
            topic = next(query(store, """SELECT ?l WHERE { ?t a ckg:Topic ; ckg:paperCount ?n ; skos:prefLabel ?l }
                ORDER BY DESC(?n) ?l LIMIT 1"""))
            before = args.before.read_text(encoding="utf-8")
            print(f"\ncustomised-citation-counts, concept {concept['l'].value} ({concept['n'].value} papers), "
                  f"topic {topic['l'].value}\n\n| parameters | LIMIT | rows | before ms | now ms | ratio | same |\n"
                  "|---|---|---|---|---|---|---|")
            for params in ({"concept": concept["l"].value, "topic": topic["l"].value}, {"concept": concept["l"].value}):
                for limit in ("", "\nLIMIT 100"):
                    subs = counts.bind(params)
                    old_s, old = best(args.runs, lambda: rows(execute(store, before + limit, substitutions=subs)))
                    new_s, new = best(args.runs, lambda: rows(execute(store, counts.text + limit, substitutions=subs)))
                    out["customised_counts"].append({"params": params, "limit": limit.strip(), "rows": len(old),
                                                     "before_s": old_s, "now_s": new_s, "same": old == new})
                    print(f"| {', '.join(params)} | {limit.strip() or '-'} | {len(old):,} | {old_s * 1000:,.0f} | "
                          f"{new_s * 1000:,.0f} | {old_s / new_s:.2f} | {old == new} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    same = out["signals"]["same"] and all(r["same"] for r in out["find_papers"] + out["customised_counts"])
    print(f"\nwrote {args.out}; same answers everywhere: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
