"""Benchmark: a ranking's first page through HTTP, as written and narrowed to its first page.

On a built store served by ``ckg serve`` on loopback, for concepts of several sizes (the most
papers, the 50th percentile of the concepts' sizes, the 90th), alone and with the commonest topic,
and for the topic alone, each page size of ``--pages``:

* as written: ``POST /sparql`` with the query's portable text and ``LIMIT N`` (what any SPARQL
  client sends; pyoxigraph sorts the whole answer before the LIMIT);
* first page: ``GET /api/queries/NAME?...&_limit=N`` (ckg narrows the query to the papers that can
  be on the page: :mod:`ckg.first_pages`).

Both answers are compared row for row. The first call of a case (the concept's and topic's papers
read from the store) is reported apart from the median of ``--runs`` calls after it.

    python bench/bench_first_pages.py --store STORE [--pages 10,100,1000] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

import virtuoso as vt  # noqa: E402

PREFIXES = ("PREFIX ckg: <https://w3id.org/ckg/ontology#>\n"
            "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n")
CONCEPTS = PREFIXES + """SELECT ?label ?n WHERE { ?c a ckg:Concept ; ckg:paperCount ?n ; skos:prefLabel ?label }
ORDER BY DESC(?n) ?label"""
TOPICS = PREFIXES + """SELECT ?label ?n WHERE { ?t a ckg:Topic ; ckg:paperCount ?n ; skos:prefLabel ?label }
ORDER BY DESC(?n) ?label LIMIT 1"""


def timed(fn):
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, type=Path)
    parser.add_argument("--pages", default="10,100,1000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=int, default=120, help="seconds a query may take")
    parser.add_argument("--out", type=Path, default=HERE / "out" / "bench_first_pages.json")
    args = parser.parse_args()

    from ckg import queries
    from serving import ckg_serve

    pages = [int(p) for p in args.pages.split(",")]
    out: dict = {"store": str(args.store), "pages": pages, "runs": args.runs, "cases": []}
    with ckg_serve(args.store, "--max-rows", "1000000000", "--timeout", str(args.timeout), startup_s=300) as server:
        client = vt.SparqlClient(server.sparql, timeout=args.timeout + 30)
        client.query_raw("ASK { ?s ?p ?o }")
        concepts = [(r["label"]["value"], int(r["n"]["value"])) for r in client.select(CONCEPTS)[1]]
        topic, topic_papers = next((r["label"]["value"], int(r["n"]["value"])) for r in client.select(TOPICS)[1])
        picked = [concepts[0], concepts[len(concepts) // 2], concepts[len(concepts) * 9 // 10]]
        cases = []
        for label, papers in picked:
            cases.append(("customised-citation-counts", {"concept": label}, f"concept of {papers:,} papers"))
            cases.append(("customised-citation-counts", {"concept": label, "topic": topic},
                          f"concept of {papers:,} papers and the topic of {topic_papers:,}"))
        cases.append(("customised-citation-counts", {"topic": topic}, f"topic of {topic_papers:,} papers"))
        cases.append(("customised-citation-counts", {}, "every citation"))
        for label, papers in picked:
            cases.append(("papers-with-concepts", {"concept1": label}, f"concept of {papers:,} papers"))
        for name, params, what in cases:
            named = queries.get(name)
            for page in pages:
                text = vt.portable_query(named, params, limit=page)
                path = f"/api/queries/{name}?" + urlencode({**params, "_limit": page, "_format": "sparql-json"})
                written_s, written = [], None
                for _ in range(args.runs):
                    seconds, data = timed(lambda: client.query_raw(text))
                    written_s.append(seconds)
                    written = written if written is not None else data
                first_s, api = timed(lambda: client.request("GET", path))
                api_s = [timed(lambda: client.request("GET", path))[0] for _ in range(args.runs)]
                a = json.loads(written)["results"]["bindings"]
                b = json.loads(api)["results"]["bindings"]
                row = {"query": name, "params": params, "case": what, "page": page, "rows": len(a),
                       "as_written_ms": round(statistics.median(written_s) * 1000, 1),
                       "first_page_first_call_ms": round(first_s * 1000, 1),
                       "first_page_ms": round(statistics.median(api_s) * 1000, 1), "same": a == b}
                row["ratio"] = round(row["as_written_ms"] / row["first_page_ms"], 2)
                out["cases"].append(row)
                print(f"{name} ({what}) first {page}: {row['rows']} rows; as written {row['as_written_ms']:,} ms; "
                      f"first page {row['first_page_ms']:,} ms (first call {row['first_page_first_call_ms']:,}); "
                      f"{row['ratio']}x; same rows: {row['same']}", flush=True)
        client.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0 if all(r["same"] for r in out["cases"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
