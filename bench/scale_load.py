"""The endpoints under load: a bounded Python load generator on loopback (bench tooling).

Each connection is a thread with its own keep-alive client (bench/virtuoso.py's SparqlClient, the
same for ckg and Virtuoso) sending requests back to back for a fixed time; a 0.5 s ramp-up is not
counted. Refused requests (ckg answers 503 when its query processes and their short queue are full)
are counted by status, apart from the answered ones.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import quote

import virtuoso as vt
from scale_tables import label, say, table

CONNECTIONS = (1, 4, 16)


def load_test(make_client, request, connections: int, seconds: float) -> dict:
    """``connections`` threads, each with its own keep-alive client, sending ``request(client, i)``
    back to back for ``seconds`` (after a 0.5 s ramp-up): answered requests/s, their median and p95
    latency, and the requests refused (by HTTP status: ckg answers 503 when its query processes and
    their short queue are full) or failed."""
    stop = threading.Event()
    measuring = threading.Event()
    latencies: list[list[float]] = [[] for _ in range(connections)]
    refused: list[dict[str, int]] = [{} for _ in range(connections)]

    def worker(k: int) -> None:
        client = make_client()
        i = k
        try:
            while not stop.is_set():
                start = time.perf_counter()
                try:
                    request(client, i)
                    if measuring.is_set():
                        latencies[k].append(time.perf_counter() - start)
                except Exception as exc:  # noqa: BLE001 - counted by kind
                    if measuring.is_set():
                        kind = str(getattr(exc, "status", type(exc).__name__))
                        refused[k][kind] = refused[k].get(kind, 0) + 1
                    client.close()
                i += connections
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(connections)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    measuring.set()
    started = time.perf_counter()
    time.sleep(seconds)
    measuring.clear()
    elapsed = time.perf_counter() - started
    stop.set()
    for t in threads:
        t.join(timeout=120)
    every = sorted(x for per in latencies for x in per)
    errors: dict[str, int] = {}
    for per in refused:
        for kind, count in per.items():
            errors[kind] = errors.get(kind, 0) + count
    out = {"connections": connections, "seconds": round(elapsed, 2), "requests": len(every),
           "errors": errors, "refused_per_s": round(sum(errors.values()) / elapsed, 1)}
    if every:
        out.update(requests_per_s=round(len(every) / elapsed, 1), p50_ms=round(every[len(every) // 2] * 1000, 2),
                   p95_ms=round(every[min(len(every) - 1, int(len(every) * 0.95))] * 1000, 2))
    return out


def bench_load(ckg_url: str, sparql: dict[str, str], papers: list[str], seconds: float, similar: bool) -> dict:
    """Lookup and ranking on each SPARQL endpoint in ``sparql`` ({engine: url}); similar papers on ckg."""
    lookup = ("PREFIX dcterms: <http://purl.org/dc/terms/>\nPREFIX ckg: <https://w3id.org/ckg/ontology#>\n"
              "SELECT ?title ?year WHERE {{ <{}> dcterms:title ?title . OPTIONAL {{ <{}> ckg:publicationYear ?year }} }}")
    ranking = vt.portable_query("most-cited-papers", {"first": "10"}, limit=10)
    out = {}
    for engine, url in sparql.items():
        def make(url=url):
            return vt.SparqlClient(url, timeout=120)
        out[f"lookup/{engine}"] = [load_test(make, lambda c, i: c.query_raw(lookup.format(papers[i % len(papers)], papers[i % len(papers)])),
                                             k, seconds) for k in CONNECTIONS]
        out[f"ranking/{engine}"] = [load_test(make, lambda c, i: c.query_raw(ranking), k, seconds) for k in CONNECTIONS]
    if similar:
        keys = [p.rsplit("/", 1)[-1] for p in papers]

        def make_api():
            return vt.SparqlClient(ckg_url, timeout=120)

        def call(c, i):
            c.request("GET", f"/api/papers/{quote(keys[i % len(keys)])}/similar?k=10", None, {"Accept": "application/json"})

        out["similar/ckg"] = [load_test(make_api, call, k, seconds) for k in CONNECTIONS]
    return out


def print_load(n: int, result: dict) -> None:
    rows = []
    for name, runs in result.items():
        for r in runs:
            refused = ", ".join(f"{k}: {v}" for k, v in sorted(r["errors"].items())) or "0"
            rows.append([name, r["connections"], r.get("requests_per_s"), r.get("p50_ms"), r.get("p95_ms"), refused])
    say(table(["request/engine", "connections", "answered/s", "p50 ms", "p95 ms", "refused or failed"], rows,
              f"\nthe endpoints under load, {label(n)} papers (Python load generator on loopback)"))
    for kind in ("lookup", "ranking"):
        a, b = result.get(f"{kind}/ckg"), result.get(f"{kind}/virtuoso")
        if a and b:
            say(f"  {kind}: ckg/Virtuoso requests/s at " + ", ".join(
                f"{x['connections']} conn {x['requests_per_s'] / y['requests_per_s']:.2f}"
                for x, y in zip(a, b) if x.get("requests_per_s") and y.get("requests_per_s")))
