"""Benchmark: SERVICE through ckg's federation layer (bind joins) against pyoxigraph's plain SERVICE.

Two setups, everything on loopback, in one run:

* **ckg -> ckg.** Two `ckg serve` over the same demo store (the remote one, and the local one with
  the remote on its allowlist). The query asks the remote for the titles of one author's papers.
  Measured three ways, the same rows required: pyoxigraph's own SERVICE (the local store opened
  in-process; it sends the pattern as written, so the remote answers every paper's title), ckg
  with the clause sent whole (the clause in a subgroup, where no bind join applies), and ckg's
  bind join (the author's papers sent along in a VALUES block).
* **ckg -> Virtuoso.** Debian's Virtuoso holding MeSH 2024 (``../shared/data/vocab/mesh``) in the
  graph ``http://id.nlm.nih.gov/mesh``, and ckg serving the 803 real bioRxiv/medRxiv papers built
  with the same MeSH (their concepts link to it by ``skos:exactMatch``). Two joins: the papers
  about any heading under a tree branch (C01, infections: a tree number starting with ``C01.``;
  the file has no ``meshv:parentTreeNumber``, so the branch is the tree numbers' prefix), and the
  broader headings of one paper's concepts (the descriptor holding the parent tree number).
  pyoxigraph's SERVICE cannot ask Virtuoso anything (it POSTs ``application/sparql-query``, which
  Virtuoso never answers): run in a child process, it is stopped after ``--plain-timeout`` s.

Median of ``--repeat`` runs after a warm-up, each with a fresh comment inside the SERVICE clause
(ckg caches an answer per exact remote text: none of these runs is answered from it). Rows transferred are
what ckg's ``X-CKG-Service-Rows`` header says, and for pyoxigraph the size of the pattern's answer
on the remote (what it asks for).

    python bench/bench_federation.py [--real ../shared/data] [--papers 300] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

import virtuoso as vt  # noqa: E402
from ckg.demo_corpus import generate  # noqa: E402
from ckg.etl.build import build  # noqa: E402
from ckg.store import OXIGRAPH_DIR, current_folder  # noqa: E402
from serving import ckg_serve  # noqa: E402

CKG = "https://w3id.org/ckg/ontology#"
MESH_GRAPH = "http://id.nlm.nih.gov/mesh"
PREFIXES = ("PREFIX ckg: <https://w3id.org/ckg/ontology#>\nPREFIX dcterms: <http://purl.org/dc/terms/>\n"
            "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
            "PREFIX meshv: <http://id.nlm.nih.gov/mesh/vocab#>\n")


def post(endpoint: str, query: str, timeout: float = 120) -> tuple[int, dict, bytes, float]:
    """(status, headers, body, seconds) of a query POSTed as application/sparql-query, CSV asked."""
    request = urllib.request.Request(endpoint, query.encode(), {"Content-Type": "application/sparql-query",
                                                                "Accept": "text/csv"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read(), time.perf_counter() - started
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read(), time.perf_counter() - started
    except (TimeoutError, urllib.error.URLError) as exc:
        return 0, {}, f"no answer within {timeout:g} s ({exc})".encode(), time.perf_counter() - started


def rows_of(csv_body: bytes) -> list[str]:
    return sorted(csv_body.decode().splitlines()[1:])


def whole(query: str, service: str) -> str:
    """The query with its SERVICE clause put in a subgroup: ckg then sends it whole."""
    start = query.index(f"SERVICE <{service}>")
    depth, i = 0, query.index("{", start)
    while True:
        depth += {"{": 1, "}": -1}.get(query[i], 0)
        if depth == 0:
            break
        i += 1
    return query[:start] + "{ " + query[start:i + 1] + " }" + query[i + 1:]


def measure_ckg(endpoint: str, query: str, service: str, repeat: int) -> dict:
    """Median time of ``repeat`` runs after a warm-up, each with a fresh comment inside the SERVICE
    clause (the text sent to ``service`` differs: no answer from ckg's cache)."""
    times, headers, body, status = [], {}, b"", 0
    for i in range(repeat + 1):
        text = query.replace(f"SERVICE <{service}> {{", f"SERVICE <{service}> {{ # run {uuid.uuid4().hex}\n")
        status, headers, body, seconds = post(endpoint, text)
        if status != 200:
            return {"status": status, "error": body.decode(errors="replace").strip()[:300]}
        if i:
            times.append(seconds)
    return {"status": status, "ms": round(statistics.median(times) * 1000, 1), "rows": len(rows_of(body)),
            "requests": int(headers.get("X-CKG-Service-Requests", 0)),
            "rows_transferred": int(headers.get("X-CKG-Service-Rows", 0)),
            "bind_joins": int(headers.get("X-CKG-Service-Bind-Joins", 0)),
            "join_values": int(headers.get("X-CKG-Service-Join-Values", 0)), "answer": rows_of(body)}


PLAIN = r"""
import json, sys, time
import pyoxigraph as ox
store = ox.Store.read_only(sys.argv[1])
query = sys.stdin.read()
times = []
for i in range(int(sys.argv[2]) + 1):
    started = time.perf_counter()
    csv = store.query(query, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.CSV)
    rows = sorted(csv.decode().splitlines()[1:])  # as ckg's CSV answer
    if i:
        times.append(time.perf_counter() - started)
print(json.dumps({"times": times, "rows": rows}))
"""


def measure_plain(store: Path, query: str, repeat: int, timeout: float) -> dict:
    """pyoxigraph's own SERVICE, in a child process (stopped after ``timeout`` seconds)."""
    database = current_folder(store) / OXIGRAPH_DIR
    try:
        done = subprocess.run([sys.executable, "-c", PLAIN, str(database), str(repeat)], input=query, text=True,
                              capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"status": "no answer", "error": f"no answer within {timeout:g} s"}
    if done.returncode != 0:
        return {"status": "error", "error": done.stderr.strip().splitlines()[-1][:300]}
    out = json.loads(done.stdout)
    return {"status": 200, "ms": round(statistics.median(out["times"]) * 1000, 1), "rows": len(out["rows"]),
            "answer": out["rows"]}


def count_rows(endpoint: str, pattern: str, timeout: float) -> int | None:
    """Rows of a pattern's answer on an endpoint: what a SERVICE sent whole transfers (None when
    the endpoint does not count them within ``timeout``)."""
    status, _h, body, _s = post(endpoint, f"{PREFIXES}SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}", timeout)
    return int(body.decode().splitlines()[1].strip('"')) if status == 200 else None


def ckg_to_ckg(work: Path, papers: int, repeat: int, plain_timeout: float) -> dict:
    corpus = work / "demo"
    generate(corpus, papers=papers, seed=7, release=1)
    store = work / "demo-store"
    build(store, [corpus], release="demo-1")
    with ckg_serve(store, "--workers", "1", "--threads", "2") as remote:
        with ckg_serve(store, "--workers", "1", "--threads", "2", "--allow-service", remote.sparql) as local:
            status, _h, body, _s = post(local.sparql, f"""{PREFIXES}SELECT ?author (COUNT(?p) AS ?n) WHERE {{
                ?p ckg:authoredBy ?author }} GROUP BY ?author ORDER BY DESC(?n) ?author LIMIT 1""")
            author = body.decode().splitlines()[1].split(",")[0]
            pattern = "?paper dcterms:title ?title"
            query = (f"{PREFIXES}SELECT ?paper ?title WHERE {{ ?paper ckg:authoredBy <{author}> .\n"
                     f"  SERVICE <{remote.sparql}> {{ {pattern} }} }}")
            plain = measure_plain(store, query.replace(PREFIXES, PREFIXES.replace("PREFIX meshv", "#")), repeat,
                                  plain_timeout)
            plain["rows_transferred"] = count_rows(remote.sparql, pattern, plain_timeout)
            sent_whole = measure_ckg(local.sparql, whole(query, remote.sparql), remote.sparql, repeat)
            joined = measure_ckg(local.sparql, query, remote.sparql, repeat)
    return {"papers": papers, "query": query, "author": author,
            "variants": {"pyoxigraph SERVICE": plain, "ckg, clause sent whole": sent_whole, "ckg, bind join": joined}}


def ckg_to_virtuoso(work: Path, real: Path, repeat: int, plain_timeout: float) -> dict:
    if vt.unavailable():
        return {"skipped": vt.unavailable()}
    mesh = real / "vocab" / "mesh" / "mesh-2024.nt.gz"
    release = real / "cord19" / "release-2020-03-13"
    if not mesh.is_file() or not release.is_dir():
        return {"skipped": f"needs {mesh} and {release}"}
    from ckg.etl.annotate import AnnotationOptions

    store = work / "real-store"
    started = time.perf_counter()
    build(store, [release], release="2020-03-13", annotation=AnnotationOptions(vocabularies=[mesh]))
    build_s = time.perf_counter() - started
    out: dict = {"build_s": round(build_s, 1)}
    with vt.Virtuoso(work / "virtuoso", memory_mb=1024, query_timeout_s=60) as virtuoso:
        load = virtuoso.load_rdf([mesh], graph=MESH_GRAPH)
        out["virtuoso_load_s"] = load.seconds
        endpoint = virtuoso.sparql_url
        branch = (f"GRAPH <{MESH_GRAPH}> {{ ?mesh meshv:treeNumber ?tree . "
                  f'FILTER(STRSTARTS(STR(?tree), "http://id.nlm.nih.gov/mesh/C01.")) }}')
        tree_query = (f"{PREFIXES}SELECT DISTINCT ?paper ?mesh WHERE {{ ?paper ckg:associatedConcept/skos:exactMatch ?mesh .\n"
                      f"  SERVICE <{endpoint}> {{ {branch} }} }}")
        broader = (f"GRAPH <{MESH_GRAPH}> {{ ?mesh meshv:treeNumber ?tree . "
                   f'BIND(IRI(REPLACE(STR(?tree), "[.][0-9]+$", "")) AS ?parent) '
                   f"?broader meshv:treeNumber ?parent ; rdfs:label ?label }}")
        cases: dict[str, dict] = {}
        for batch in BATCHES:  # a ckg serve for each bind-join batch size (CKG_SERVICE_BATCH)
            with ckg_serve(store, "--workers", "1", "--threads", "2", "--timeout", "60", "--allow-service", endpoint,
                           env={"CKG_SERVICE_BATCH": str(batch)}) as ckg:
                if not cases:
                    status, _h, body, _s = post(ckg.sparql, f"""{PREFIXES}SELECT ?paper (COUNT(?c) AS ?n) WHERE {{
                        ?paper ckg:associatedConcept ?c . ?c skos:exactMatch ?m
                        FILTER(STRSTARTS(STR(?m), "http://id.nlm.nih.gov/mesh/")) }} GROUP BY ?paper
                        ORDER BY DESC(?n) ?paper LIMIT 1""")
                    paper = body.decode().splitlines()[1].split(",")[0]
                    broader_query = (f"{PREFIXES}SELECT DISTINCT ?concept ?mesh ?broader ?label WHERE {{\n"
                                     f"  <{paper}> ckg:associatedConcept ?concept . ?concept skos:exactMatch ?mesh .\n"
                                     f"  SERVICE <{endpoint}> {{ {broader} }} }}")
                    for name, query, pattern in (("papers under MeSH branch C01", tree_query, branch),
                                                 ("broader headings of one paper's concepts", broader_query, broader)):
                        plain = measure_plain(store, query, 1, plain_timeout)
                        plain["rows_transferred"] = count_rows(endpoint, pattern, plain_timeout)
                        cases[name] = {"query": query, "variants": {
                            "pyoxigraph SERVICE": plain,
                            "ckg, clause sent whole": measure_ckg(ckg.sparql, whole(query, endpoint), endpoint, repeat)}}
                for case in cases.values():
                    case["variants"][f"ckg, bind join ({batch} a request)"] = measure_ckg(
                        ckg.sparql, case["query"], endpoint, repeat)
        out.update(cases)
    return out


BATCHES = (50, 200, 1000)
"""CKG_SERVICE_BATCH values the ckg -> Virtuoso joins are measured with (the default is 200)."""


def same_answers(variants: dict) -> bool | None:
    answers = [v["answer"] for v in variants.values() if v.get("status") == 200]
    return None if len(answers) < 2 else all(a == answers[0] for a in answers)


def print_table(title: str, variants: dict) -> None:
    print(f"\n{title} (same answer where both answered: {same_answers(variants)})")
    print(f"  {'variant':34s} {'rows':>6s} {'ms':>9s} {'requests':>8s} {'rows transferred':>16s} {'join values':>11s}")
    base = variants.get("ckg, clause sent whole", {}).get("ms")
    for name, v in variants.items():
        if v.get("status") != 200:
            print(f"  {name:34s} {v.get('error', v.get('status'))}")
            continue
        ratio = f"  ({base / v['ms']:.1f}x the whole clause)" if base and name.startswith("ckg, bind join") else ""
        transferred = v.get("rows_transferred")
        print(f"  {name:34s} {v['rows']:6d} {v['ms']:9.1f} {str(v.get('requests', 1)):>8s} "
              f"{'n/a' if transferred is None else f'{transferred:,d}':>16s} {v.get('join_values', ''):>11}{ratio}")


def _digested(value):
    """The result with each answer replaced by its SHA-256 (the rows stay comparable, the file small)."""
    import hashlib

    if isinstance(value, dict):
        return {k: (hashlib.sha256("\n".join(v).encode()).hexdigest() if k == "answer" else _digested(v))
                for k, v in value.items()}
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real", default=os.environ.get("CKG_REAL_DATA", str(HERE.parent.parent / "shared" / "data")))
    parser.add_argument("--papers", type=int, default=300, help="papers of the demo store (ckg -> ckg)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--plain-timeout", type=float, default=30.0)
    parser.add_argument("--out", default=str(HERE / "out" / "bench_federation.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ckg-federation-") as tmp:
        work = Path(tmp)
        result = {"ckg_to_ckg": ckg_to_ckg(work, args.papers, args.repeat, args.plain_timeout),
                  "ckg_to_virtuoso": ckg_to_virtuoso(work, Path(args.real), args.repeat, args.plain_timeout)}
    print_table(f"ckg -> ckg ({args.papers} demo papers): one author's paper titles from the remote",
                result["ckg_to_ckg"]["variants"])
    for name, case in result["ckg_to_virtuoso"].items():
        if isinstance(case, dict) and "variants" in case:
            print_table(f"ckg -> Virtuoso (MeSH 2024; 803 real papers): {name}", case["variants"])
    if "skipped" in result["ckg_to_virtuoso"]:
        print(f"\nckg -> Virtuoso skipped: {result['ckg_to_virtuoso']['skipped']}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(_digested(result), indent=2))
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
