"""Benchmark: queries per second through the SPARQL endpoint, against the same query run directly.

The baseline, measured in the same run on the same store, is the query run in-process
(``ckg.sparql.execute`` on an open store, results written as SPARQL JSON), for a named query (an
aggregate over the corpus) and for a point lookup (one paper's title). Against it:

- ``engine``: the same job through a query process (the parent/child round trip, no HTTP);
- ``http /sparql``: POST application/sparql-query to a real `ckg serve` (gunicorn, 2 workers x
  2 threads), one client with a keep-alive connection;
- ``http /api/queries``: the named query through the JSON API;
- ``http /sparql x4``: four clients at once (queries/s of all of them together).

"vs direct" is the baseline's queries/s divided by the path's: how many times slower a query is
through that path (for x4, all clients' throughput against the single-threaded baseline).

    python bench/bench_server.py [--papers 300] [--seconds 3] [--query most-cited-papers]
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from ckg import queries  # noqa: E402
from ckg.demo_corpus import generate  # noqa: E402
from ckg.etl.build import build  # noqa: E402
from ckg.server.engine import EnginePool  # noqa: E402
from ckg.server.functions import registry  # noqa: E402
from ckg.sparql import execute, write  # noqa: E402
from ckg.store import open_store  # noqa: E402
from ckg.terms import CKG, RDF  # noqa: E402
from serving import ckg_serve  # noqa: E402


def rate(fn, seconds: float) -> tuple[float, int]:
    """Calls of fn per second over about ``seconds`` (after one warm-up call)."""
    fn()
    n = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        n += 1
    return n / elapsed, n


def http_client(url: str):
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)

    def request(method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> bytes:
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            connection.close()  # the server closed an idle keep-alive connection: open a new one
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"{response.status}: {data[:200]!r}")
        return data

    return request


def measure(label, text, args, store, functions, pool, server, request) -> dict:
    """queries/s of one query text by every path; the direct run is the baseline."""
    expected = write(execute(store, text, custom_functions=functions), "json")
    found = {}
    found["direct (baseline)"], _ = rate(lambda: write(execute(store, text, custom_functions=functions), "json"),
                                         args.seconds)
    formats = {"solutions": ("json", "application/sparql-results+json"), "graph": ("turtle", "text/turtle")}
    job = {"query": text, "formats": formats, "max_rows": 10000}
    assert pool.run("query", job, 60)["body"].decode() == expected
    found["engine (no HTTP)"], _ = rate(lambda: pool.run("query", job, 60), args.seconds)
    body = text.encode()
    headers = {"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"}
    assert request("POST", "/sparql", body, headers).decode() == expected
    found["http /sparql"], _ = rate(lambda: request("POST", "/sparql", body, headers), args.seconds)
    if label == args.query:
        api_path = f"/api/queries/{quote(args.query)}"
        found["http /api/queries"], _ = rate(lambda: request("GET", api_path), args.seconds)
    counts = [0] * 4
    stop = threading.Event()

    def client(i: int) -> None:
        own = http_client(server.url)
        own("POST", "/sparql", body, headers)
        while not stop.is_set():
            own("POST", "/sparql", body, headers)
            counts[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    before, start = sum(counts), time.perf_counter()
    time.sleep(args.seconds)
    found["http /sparql x4 clients"] = (sum(counts) - before) / (time.perf_counter() - start)
    stop.set()
    for t in threads:
        t.join()
    base = found["direct (baseline)"]
    out = {name: {"queries_per_s": round(qps, 1), "ms_per_query": round(1000 / qps, 3),
                  "slowdown_vs_direct": round(base / qps, 2)} for name, qps in found.items()}
    out["rows"] = json.loads(expected)["results"]["bindings"].__len__()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=300, help="papers in the synthetic corpus")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per measurement")
    parser.add_argument("--query", default="most-cited-papers", help="the named query to run")
    parser.add_argument("--out", default=str(Path(__file__).parent / "out" / "bench_server.json"))
    args = parser.parse_args()

    named = queries.get(args.query)
    report = {"papers": args.papers, "seconds": args.seconds, "queries": {}}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        generate(work / "corpus", papers=args.papers, seed=7, release=1)
        build(work / "store", [work / "corpus"], release="bench")
        store = open_store(work / "store", read_only=True)
        functions = registry(store)
        first = next(iter(store.quads_for_pattern(None, RDF.type, CKG.Paper))).subject.value
        texts = {args.query: named.text,
                 "point lookup": f"SELECT ?title ?year WHERE {{ <{first}> dcterms:title ?title ; ckg:publicationYear ?year }}"}
        pool = EnginePool({"store": str(work / "store"), "allowlist": [], "updates": False}, size=1)
        with ckg_serve(work / "store", "--workers", "2", "--threads", "2") as server:
            request = http_client(server.url)
            for label, text in texts.items():
                results = measure(label, text, args, store, functions, pool, server, request)
                report["queries"][label] = results
        pool.close()

    for label, results in report["queries"].items():
        base = results["direct (baseline)"]["queries_per_s"]
        print(f"\n{label} on {args.papers} synthetic papers ({results['rows']} rows), {args.seconds:g} s each")
        print(f"{'path':<26} {'queries/s':>10} {'ms/query':>9} {'vs direct':>10}")
        for name, r in results.items():
            if name != "rows":
                print(f"{name:<26} {r['queries_per_s']:>10.1f} {r['ms_per_query']:>9.2f} {base / r['queries_per_s']:>9.2f}x")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
