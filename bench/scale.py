"""The scale benchmark: ckg from 2,000 to 1,000,000 papers, against Virtuoso on the same data.

One command measures, for each corpus size (``--papers 2k,10k``; ``100k`` and ``1M`` for the full
run), in this order and in the same run:

* **build** of release 1 and **update** to release 2 (the corpus generator's next weekly release):
  wall time, the build manifest's time per stage, peak memory (PSS of the process tree, sampled
  every 0.1 s) per stage and overall, store size on disk;
* **export** to N-Quads and **Virtuoso's bulk load** of that file (a private Virtuoso 7.2 with
  its own folder and ports, bench/virtuoso.py), its database size and memory;
* **named queries**: every named query (parameters taken from the data; optional ones filled in a
  second case), made portable (PREFIX lines, parameters as VALUES), sent by the same HTTP client
  (form-encoded POST, JSON results) to ``ckg serve`` and to Virtuoso's ``/sparql``: median of 3
  runs after a warm-up run, the ckg/Virtuoso ratio, and whether both answered the same rows; and
  first a count of every quad of ckg's graphs (a full scan, on which both engines must agree);
* **the endpoint under load**: a Python load generator on loopback with 1, 4 and 16 connections
  (keep-alive, each its own thread) for a point lookup, a ranking query (the 10 most cited
  papers) and a similar-papers call (``/api/papers/<key>/similar``): requests/s, median and p95
  latency; the two SPARQL requests on Virtuoso too. The similar-papers call reads an embedding run
  of *synthetic* vectors of the real dimensions (training at these sizes takes hours on a CPU; the
  search cost does not depend on the vectors' values);
* **similar papers** (FAISS): top-10 latency of an exact index (``IndexFlatIP``, ckg's default up
  to 100,000 papers) and of approximate ones (HNSW with ckg's parameters, ckg's default above
  100,000; IVF-Flat), recall@10 of the approximate ones against the exact one, build time and
  memory, on synthetic clustered unit vectors of ckg's combined dimension (text + graph), one
  query at a time; and ckg's own ``Index.similar`` (the server's code path) exact and approximate;

and once per run, **training throughput** on this CPU (a small corpus of ``--train-papers``
papers trained by ``ckg.embed.train``): text passages/s, KGE triples/s per epoch, and the
projection to each measured size and to the whole CORD-19 (1,000,000 papers).

It prints the tables (ratios are always between figures measured in the same run), writes
``bench/out/scale-<time>.json`` (and ``scale-latest.json``), and draws growth curves (time and
memory per stage against papers, query latency against papers) as PNG files in bench/out/.

    python bench/scale.py                                   # 2k and 10k papers: minutes
    python bench/scale.py --papers 100k,1M --out /big/disk  # the full run (hours; see docs/scale.md, linked from the README)
    python bench/scale.py --plot bench/out/a.json bench/out/b.json   # merge runs, redraw the curves
    python bench/scale.py --skip virtuoso,load,train        # parts can be left out

Sizes take ``k``/``M`` suffixes. ``--work DIR`` keeps corpora, stores and the Virtuoso databases
(by default a temporary folder, removed at the end); at 1M papers they need several times the
N-Quads export's size (tens of GB).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests"))

import scale_memory  # noqa: E402
import virtuoso as vt  # noqa: E402
from scale_corpus import generate_release  # noqa: E402
from scale_load import bench_load, load_test, print_load  # noqa: E402
from scale_plots import merge, plot  # noqa: E402
from scale_similar import bench_faiss, print_faiss, synthetic_embeddings  # noqa: E402
from scale_tables import folder_bytes, label, mib, parse_sizes, say, table  # noqa: E402
from scale_training import CORD19_PAPERS, bench_kge, bench_training, print_training, projection  # noqa: E402

PARTS = ("update", "virtuoso", "queries", "load", "faiss", "train")
SLOW_QUERY_S = 20.0  # a query whose warm-up takes longer is timed once, not three times
BIG_ANSWER_PAPERS = 100_000  # above this, the queries whose answer is corpus-sized are left out by default
BIG_ANSWERS = ("embed-paper-texts", "embed-training-triples", "embed-paper-topics", "embed-paper-cord-uids",
               "embed-edge-weights")
# corpus-wide rankings, also timed for their first page (LIMIT FIRST_PAGE), what a reader looks at
RANKINGS = ("most-cited-papers", "customised-citation-counts", "top-concepts", "topic-papers", "papers-with-concepts")
# ... and a search, whose first page a reader looks at too (find-papers: through the title index)
PAGED = RANKINGS + ("find-papers",)
FIRST_PAGE = 100
CKG_NS = "https://w3id.org/ckg/ontology#"
COUNT_QUADS = ('SELECT (COUNT(*) AS ?quads) WHERE { GRAPH ?g { ?s ?p ?o } '
               'FILTER (STRSTARTS(STR(?g), "https://w3id.org/ckg/")) }')
KGE_RELATIONS = ("cites", "authoredBy", "affiliatedWith", "associatedConcept", "associatedTopic")


def machine() -> dict:
    """What the figures were measured on."""
    info = {"cpus": os.cpu_count(), "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "platform": platform.platform(), "python": platform.python_version(), "loadavg_at_start": os.getloadavg()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_bytes"] = int(line.split()[1]) * 1024
    except OSError:
        pass
    versions = {}
    for module in ("pyoxigraph", "faiss", "torch", "numpy"):
        try:
            versions[module] = __import__(module).__version__
        except Exception:  # noqa: BLE001 - a version is only a label here
            pass
    versions["virtuoso"] = vt.version()
    info["versions"] = versions
    return info


# ------------------------------------------------------------------------------------------------
# build and update, with memory per stage
# ------------------------------------------------------------------------------------------------


def run_stage(mode: str, store: Path, corpus: Path, release: str, work: Path, processes: int | None,
              annotation: bool = True) -> dict:
    """A build or update in a child process (bench/scale_stage.py) with its memory sampled
    (``annotation`` False: without the concepts and topics stages)."""
    events = work / f"events-{mode}.txt"
    events.unlink(missing_ok=True)
    command = [sys.executable, str(HERE / "scale_stage.py"), mode, "--store", str(store), "--cord19", str(corpus),
               "--release", release, "--events", str(events)]
    if processes:
        command += ["--processes", str(processes)]
    if not annotation:
        command.append("--no-annotation")
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = scale_memory.TreeSampler(proc.pid, interval=0.1).start()
    out, err = proc.communicate()
    sampler.stop()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} failed ({proc.returncode}):\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    manifest = result["manifest"]
    intervals: dict[str, list[list[float]]] = {}
    for line in events.read_text().splitlines():
        t, name, what = line.split()
        if what == "start":
            intervals.setdefault(name, []).append([float(t), float(t)])
        elif intervals.get(name):
            intervals[name][-1][1] = float(t)
    stage_peaks = {name: max(sampler.peak(a, b) for a, b in spans) for name, spans in intervals.items() if name != "run"}
    timings = {k: v for k, v in manifest.get("timings_s", {}).items()}
    counts = manifest.get("counts", {})
    per_property = counts.get("per_property") or {}
    return {"wall_s": round(wall, 3), "run_s": result["wall_s"], "stages_s": timings,
            "peak_bytes": sampler.peak(), "stage_peak_bytes": stage_peaks, "memory_kind": sampler.kind,
            "memory_samples": len(sampler.samples), "memory_sampling_s": round(sampler.busy_s, 1),
            "papers": counts.get("papers_in_store"), "triples": counts.get("triples"),
            "store_bytes": folder_bytes(store), "changes": counts.get("changes"),
            # the edges KG embeddings train on (queries/embed-training-triples.rq), from the manifest's counts
            "kge_triples": sum(per_property.get(CKG_NS + p, 0) for p in KGE_RELATIONS) or None}


def print_stages(n: int, build: dict, update: dict | None) -> None:
    stages = [s for s in build["stages_s"] if s != "total"]
    if update:
        stages += [s for s in update["stages_s"] if s not in stages and s != "total"]
    rows = []
    for s in stages:
        b, u = build["stages_s"].get(s), (update or {}).get("stages_s", {}).get(s)
        rows.append([s, b, mib(build["stage_peak_bytes"].get(s)), u,
                     mib((update or {}).get("stage_peak_bytes", {}).get(s)) if update else None])
    rows.append(["total (manifest)", build["stages_s"].get("total"), mib(build["peak_bytes"]),
                 (update or {}).get("stages_s", {}).get("total"), mib(update["peak_bytes"]) if update else None])
    rows.append(["wall (process)", build["wall_s"], "", update["wall_s"] if update else None, ""])
    say(table(["stage", "build s", "peak MiB", "update s", "peak MiB"], rows,
              f"\nbuild and update, {label(n)} papers ({build['memory_kind'] or 'rss'} of the process tree)"))
    say(f"store: {build['papers']:,} papers, {build['triples']:,} triples, {mib(build['store_bytes'])} MiB after the build"
        + (f"; {update['papers']:,} papers, {update['triples']:,} triples, {mib(update['store_bytes'])} MiB after the update"
           f" ({update['changes']})" if update else ""))


# ------------------------------------------------------------------------------------------------
# queries through HTTP on both engines
# ------------------------------------------------------------------------------------------------


def time_query(client: vt.SparqlClient, text: str) -> tuple[float | None, bytes | None, str | None]:
    start = time.perf_counter()
    try:
        data = client.query_raw(text)
    except vt.PartialResult as exc:
        return None, None, f"partial: {exc}"
    except Exception as exc:  # noqa: BLE001 - recorded in the report
        client.close()
        return None, None, f"{type(exc).__name__}: {str(exc)[:200]}"
    return time.perf_counter() - start, data, None


def bench_queries(n: int, ckg: vt.SparqlClient, other: vt.SparqlClient | None, repeat: int, skip: set[str],
                  all_queries: bool) -> dict:
    values = vt.query_parameters(ckg)
    # first the whole data: every quad of ckg's graphs counted (a full scan; both engines must agree)
    cases: dict = {"(count ckg's quads)": (None, {})}
    cases.update(vt.named_query_cases(values))
    limits: dict[str, int] = {}
    for case, (named, params) in list(cases.items()):
        pages = [p for p in named.params if p.choices and p.name not in params] if named is not None else []
        for p in pages:  # a query that takes its page size (most-cited-papers' first): the largest too
            cases[f"{case}[{p.name}={p.choices[-1]}]"] = (named, {**params, p.name: p.choices[-1]})
        if named is not None and named.name in PAGED and not pages:
            cases[f"{case} LIMIT {FIRST_PAGE}"] = (named, params)
            limits[f"{case} LIMIT {FIRST_PAGE}"] = FIRST_PAGE
    out = {"parameters": values, "cases": {}}
    for case, (named, params) in cases.items():
        if named is not None and (named.name in skip or case in skip):
            continue
        if named is not None and not all_queries and n > BIG_ANSWER_PAPERS and named.name in BIG_ANSWERS and not params:
            out["cases"][case] = {"skipped": "its answer is corpus-sized (GBs of JSON to parse and compare): "
                                             "--all-queries runs it"}
            continue
        text = vt.portable_query(named, params, limit=limits.get(case)) if named is not None else COUNT_QUADS
        row = {"params": params}
        answers = {}
        engines = [("ckg", ckg)] + ([("virtuoso", other)] if other else [])
        for name, client in engines:  # warm-up run, whose answer is compared
            seconds, data, error = time_query(client, text)
            row[f"{name}_warmup_s"] = None if seconds is None else round(seconds, 4)
            if error:
                row[f"{name}_error"] = error
            else:
                answers[name] = data
        times = {name: [] for name, _ in engines}
        runs = repeat if all((row.get(f"{e}_warmup_s") or 0) < SLOW_QUERY_S for e, _ in engines) else 1
        for _ in range(runs):
            for name, client in engines:
                if f"{name}_error" in row:
                    continue
                seconds, _data, error = time_query(client, text)
                if error:
                    row[f"{name}_error"] = error
                else:
                    times[name].append(seconds)
        for name, values_ in times.items():
            row[f"{name}_ms"] = round(statistics.median(values_) * 1000, 2) if values_ else None
            row[f"{name}_runs"] = len(values_)
        if "ckg" in answers:
            parsed = json.loads(answers["ckg"])
            row["rows"] = len(parsed.get("results", {}).get("bindings", [])) if "results" in parsed else 1
        if len(answers) == 2:
            a, b = (json.loads(answers[e]) for e in ("ckg", "virtuoso"))
            if "results" in a and "results" in b:
                result = vt.compare((a["head"]["vars"], a["results"]["bindings"]),
                                    (b["head"]["vars"], b["results"]["bindings"]), text)
                # yes: same rows, same order; rows: same rows, order not comparable (string keys) or
                # differing only among ties; ORDER: the ORDER BY keys come in another order; NO: other rows
                row["same"] = ("yes" if result.same else "rows" if result.same_rows and result.same_order
                               else "ORDER" if result.same_rows else "NO")
                row["order_checked"] = result.order_checked
                if row["same"] in ("ORDER", "NO"):
                    row["difference"] = result.detail
            else:
                row["same"] = "yes" if a.get("boolean") == b.get("boolean") else "NO"
        if row.get("ckg_ms") and row.get("virtuoso_ms"):
            row["ratio"] = round(row["ckg_ms"] / row["virtuoso_ms"], 2)
        narrows = named is not None and (named.title_index is not None
                                         or (named.first_page is not None and bool(limits.get(case))))
        if narrows and "ckg" in answers:  # what the API runs instead of the text (a first page, a title lookup)
            row.update(time_first_page(ckg, named.name, params, limits.get(case), answers["ckg"], repeat))
            if row.get("api_ms") and row.get("virtuoso_ms"):
                row["api_ratio"] = round(row["api_ms"] / row["virtuoso_ms"], 2)
        out["cases"][case] = row
    return out


def time_first_page(ckg: vt.SparqlClient, name: str, params: dict, limit: int | None, answer: bytes,
                    repeat: int) -> dict:
    """The same first page (or, without a ``limit``, the same answer) asked of ckg's named-query API
    (``/api/queries/NAME?..&_limit=N``), where ckg runs the query over the papers that can be on it
    (:mod:`ckg.first_pages`, the title index): median of the timed runs after a warm-up, and
    whether its rows are those of the text's answer."""
    paging = {} if limit is None else {"_limit": limit}
    path = "/api/queries/" + name + "?" + urlencode({**params, **paging, "_format": "sparql-json"})
    times, data = [], None
    for attempt in range(repeat + 1):
        started = time.perf_counter()
        try:
            data = ckg.request("GET", path)
        except Exception as exc:  # noqa: BLE001 - recorded in the report
            ckg.close()
            return {"api_error": f"{type(exc).__name__}: {str(exc)[:200]}"}
        if attempt:
            times.append(time.perf_counter() - started)
    expected, got = json.loads(answer)["results"]["bindings"], json.loads(data)["results"]["bindings"]
    return {"api_ms": round(statistics.median(times) * 1000, 2), "api_runs": len(times), "api_same": got == expected}


def print_queries(n: int, result: dict) -> None:
    rows = []
    for case, r in result["cases"].items():
        if "skipped" in r:
            rows.append([case, None, None, None, None, "skipped", None, None, None])
            continue
        rows.append([case, r.get("rows"), r.get("ckg_ms") if "ckg_error" not in r else "error",
                     r.get("virtuoso_ms") if "virtuoso_error" not in r else "error", r.get("ratio"), r.get("same"),
                     r.get("api_ms") if "api_error" not in r else "error", r.get("api_ratio"),
                     None if "api_same" not in r else "yes" if r["api_same"] else "NO"])
    ratios = [r["ratio"] for r in result["cases"].values() if r.get("ratio")]
    say(table(["named query", "rows", "ckg ms", "virtuoso ms", "ckg/virt", "same answer", "API first page ms",
               "API/virt", "API same"], rows,
              f"\nnamed queries through HTTP, {label(n)} papers (median of the timed runs after a warm-up; same answer: "
              f"yes = same rows in the same order, rows = same rows, order not compared where it depends on strings; "
              f"API: the same page through ckg's /api/queries/NAME?..&_limit=N, narrowed to its first page)"))
    if ratios:
        say(f"ckg/Virtuoso latency ratio: geometric mean {statistics.geometric_mean(ratios):.2f}, "
            f"median {statistics.median(ratios):.2f}, {sum(r <= 1 for r in ratios)} of {len(ratios)} queries as fast or faster on ckg")
    for case, r in result["cases"].items():
        for key in ("ckg_error", "virtuoso_error", "difference", "api_error"):
            if key in r:
                say(f"  {case}: {key}: {r[key]}")


# ------------------------------------------------------------------------------------------------
# the run
# ------------------------------------------------------------------------------------------------


def run_size(n: int, args, work: Path, training: dict | None, report: dict) -> dict:
    skip = args.skip
    base = work / label(n)
    base.mkdir(parents=True, exist_ok=True)
    r1, r2, store = base / "corpus-r1", base / "corpus-r2", base / "store"
    row: dict = {"papers_requested": n}
    report["sizes"][str(n)] = row
    say(f"\n=== {label(n)} papers ({dt.datetime.now().strftime('%H:%M:%S')}) ===")
    if not (r1 / "metadata.csv").exists():
        row["corpus_r1"] = generate_release(r1, n, args.seed, 1, args.generator)
    if "update" not in skip and not (r2 / "metadata.csv").exists():
        row["corpus_r2"] = generate_release(r2, n, args.seed, 2, args.generator)
    say(f"corpus: {row.get('corpus_r1', {})}")
    annotation = not args.without_annotation
    row["build"] = run_stage("build", store, r1, "2020-06-01", base, args.processes, annotation)
    if "update" not in skip:
        row["update"] = run_stage("update", store, r2, "2020-06-08", base, args.processes, annotation)
    print_stages(n, row["build"], row.get("update"))
    save(report, args)

    from ckg.export import export

    dump = base / "export" / "store.nq"
    start = time.perf_counter()
    quads = export(store, "nquads", dump)
    row["export"] = {"quads": quads, "bytes": dump.stat().st_size, "seconds": round(time.perf_counter() - start, 2)}
    say(f"export: {quads:,} quads, {mib(dump.stat().st_size)} MiB of N-Quads in {row['export']['seconds']} s")

    if "train" not in skip and n <= args.kge_max_papers:
        row["kge"] = bench_kge(store, args.kge_epochs, args.seed, args.kge_max_triples)
        k = row["kge"]
        say(f"KGE training ({k['model']}, {k['dim']} dims, batch {k['batch_size']}, {k['negatives']} negatives) on "
            + (f"{k['trained_triples']:,} of the store's {k['triples']:,} triplets" if k["trained_triples"] < k["triples"]
               else f"the store's {k['triples']:,} triplets")
            + f": {k['triples_per_s']:,} triples/s; an epoch over all of them takes {k['s_per_epoch_all_triples']} s")
        save(report, args)

    if not args.work:  # the corpora are read: free their disk for the export and Virtuoso's database
        shutil.rmtree(r1, ignore_errors=True)
        shutil.rmtree(r2, ignore_errors=True)

    virtuoso = None
    try:
        if "virtuoso" not in skip:
            virtuoso = start_virtuoso(n, row, base, dump, args)
        if {"queries", "load"} - skip:
            from serving import ckg_serve

            embeddings = None
            if "load" not in skip:
                dims = (training or {}).get("text_dimension", 384), (training or {}).get("graph_dimension", 64)
                embeddings = synthetic_embeddings(store, *dims, seed=args.seed)
                row["synthetic_embeddings"] = embeddings
            serve_args = ["--max-rows", "1000000000", "--timeout", str(int(args.query_timeout))]
            if args.workers:
                serve_args += ["--workers", str(args.workers)]
            if args.threads:
                serve_args += ["--threads", str(args.threads)]
            with ckg_serve(store, *serve_args, startup_s=300) as server:
                sampler = scale_memory.TreeSampler(server.proc.pid, interval=0.5).start()
                # every query process opens the store on its first query (seconds): open them all first
                load_test(lambda: vt.SparqlClient(server.sparql, timeout=120), lambda c, i: c.query_raw("ASK { ?s ?p ?o }"),
                          16, 3.0)
                ckg = vt.SparqlClient(server.sparql, timeout=args.query_timeout + 30)
                other = vt.SparqlClient(virtuoso.sparql_url, timeout=args.query_timeout + 30) if virtuoso else None
                if "queries" not in skip:
                    row["queries"] = bench_queries(n, ckg, other, args.repeat, set(args.skip_queries), args.all_queries)
                    print_queries(n, row["queries"])
                    save(report, args)
                if "load" not in skip:
                    papers = [r["p"]["value"] for r in ckg.select(
                        "PREFIX ckg: <https://w3id.org/ckg/ontology#>\nSELECT ?p WHERE { ?p a ckg:Paper } LIMIT 200")[1]]
                    endpoints = {"ckg": server.sparql, **({"virtuoso": virtuoso.sparql_url} if virtuoso else {})}
                    row["load"] = bench_load(server.url, endpoints, papers, args.load_seconds, embeddings is not None)
                    print_load(n, row["load"])
                ckg.close()
                if other:
                    other.close()
                sampler.stop()
                row["ckg_serve"] = {"peak_bytes": sampler.peak(), "memory_kind": sampler.kind,
                                    "workers": args.workers, "threads": args.threads}
                if virtuoso:
                    row["virtuoso"].update({f"after_queries_{k}": v for k, v in virtuoso.memory().items()})
                say(f"serving memory: ckg serve peak {mib(sampler.peak())} MiB ({sampler.kind} of gunicorn and its "
                    f"query processes)" + (f"; Virtuoso peak RSS {mib(virtuoso.memory().get('peak_rss'))} MiB" if virtuoso else ""))
    finally:
        if virtuoso:
            virtuoso.stop(remove=not args.work)
        if not args.work:
            shutil.rmtree(base, ignore_errors=True)
    save(report, args)
    return row


def start_virtuoso(n: int, row: dict, base: Path, dump: Path, args) -> vt.Virtuoso | None:
    """A private Virtuoso with the export loaded (None, and the reason in the report, when it is not
    installed or fails to start or load: the ckg side is measured all the same)."""
    reason = vt.unavailable()
    if reason:
        row["virtuoso"] = {"skipped": reason}
        say(f"Virtuoso: skipped: {reason}")
        return None
    virtuoso = vt.Virtuoso(base / "virtuoso", memory_mb=args.virtuoso_memory_mb, query_timeout_s=int(args.query_timeout),
                           loaders=args.virtuoso_loaders)
    try:
        virtuoso.start()
        files = vt.split_nquads(dump, args.virtuoso_loaders * 4) if args.virtuoso_loaders > 1 else [dump]
        load = virtuoso.load_rdf(files)
    except vt.VirtuosoError as exc:
        virtuoso.stop(remove=not args.work)
        row["virtuoso"] = {"error": str(exc)[-2000:]}
        say(f"Virtuoso: failed, the comparisons are skipped: {str(exc)[-500:]}")
        return None
    row["virtuoso"] = {"load_s": load.seconds, "checkpoint_s": load.checkpoint_seconds,
                       "database_bytes": virtuoso.database_bytes(), **virtuoso.memory(),
                       "memory_mb_setting": args.virtuoso_memory_mb, "loaders": args.virtuoso_loaders}
    say(f"Virtuoso bulk load: {load.seconds} s (+ checkpoint {load.checkpoint_seconds} s), database "
        f"{mib(row['virtuoso']['database_bytes'])} MiB, RSS {mib(row['virtuoso'].get('rss'))} MiB; "
        f"ckg build {row['build']['stages_s'].get('total')} s (load stage {row['build']['stages_s'].get('load')} s), "
        f"store {mib(row['build']['store_bytes'])} MiB")
    return virtuoso


def save(report: dict, args) -> Path:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"scale-{report['started']}.json"
    text = json.dumps(report, indent=1, default=str) + "\n"
    path.write_text(text)
    (out / "scale-latest.json").write_text(text)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--papers", default="2k,10k", help="corpus sizes, comma-separated (k and M suffixes; default 2k,10k)")
    parser.add_argument("--faiss-sizes", default=None, help="sizes of the FAISS comparison (default: --papers)")
    parser.add_argument("--skip", default="", help=f"parts to leave out, comma-separated: {', '.join(PARTS)}")
    parser.add_argument("--skip-queries", default="", help="named queries (or cases) to leave out, comma-separated")
    parser.add_argument("--all-queries", action="store_true",
                        help=f"also above {BIG_ANSWER_PAPERS:,} papers, run the queries whose answer is corpus-sized "
                             f"({', '.join(BIG_ANSWERS)})")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per query after the warm-up (default 3)")
    parser.add_argument("--query-timeout", type=float, default=300, help="seconds a query may take on either engine")
    parser.add_argument("--load-seconds", type=float, default=3.0, help="seconds of each load-test measurement")
    parser.add_argument("--workers", type=int, default=None, help="ckg serve --workers (default: ckg's)")
    parser.add_argument("--threads", type=int, default=None, help="ckg serve --threads (default: ckg's)")
    parser.add_argument("--processes", type=int, default=None, help="build --processes (default: ckg's, the CPUs)")
    parser.add_argument("--without-annotation", action="store_true",
                        help="build and update without the concepts and topics stages (the metadata-only goal)")
    parser.add_argument("--virtuoso-memory-mb", type=int, default=2048, help="Virtuoso's buffer budget (default 2048)")
    parser.add_argument("--virtuoso-loaders", type=int, default=1, help="parallel bulk loaders (the export is split)")
    parser.add_argument("--train-papers", type=int, default=100, help="papers of the training-throughput corpus")
    parser.add_argument("--train-epochs", type=int, default=2, help="KGE epochs of the training-throughput run")
    parser.add_argument("--kge-epochs", type=int, default=1, help="KGE epochs timed on each size's own store (default 1)")
    parser.add_argument("--kge-max-triples", type=int, default=250_000,
                        help="KGE throughput is timed on a sample of at most this many of a store's triplets")
    parser.add_argument("--kge-max-papers", default="100k",
                        help="largest size whose store's triplets are read to time KGE (default 100k; above it, the "
                             "rate measured at the largest size below is projected)")
    parser.add_argument("--generator", choices=["auto", "scale", "small"], default="auto",
                        help="corpus generator: ckg.corpusgen.scale when available (auto), or the demo corpus (small)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--work", default=None, help="keep corpora, stores and databases in this folder")
    parser.add_argument("--out", default=str(HERE / "out"), help="folder for the JSON report and the PNG curves")
    parser.add_argument("--plot", nargs="+", default=None, metavar="JSON",
                        help="only merge these reports and draw their curves (no measurement)")
    args = parser.parse_args()
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = args.skip - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s) {', '.join(sorted(unknown))}; parts: {', '.join(PARTS)}")
    args.skip_queries = [s.strip() for s in args.skip_queries.split(",") if s.strip()]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    if args.plot:
        report = merge([json.loads(Path(p).read_text()) for p in args.plot])
        for path in plot(report, out, "scale-merged"):
            say(f"wrote {path}")
        (out / "scale-merged.json").write_text(json.dumps(report, indent=1, default=str) + "\n")
        return 0

    sizes = parse_sizes(args.papers)
    args.kge_max_papers = parse_sizes(args.kge_max_papers)[0]
    faiss_sizes = parse_sizes(args.faiss_sizes) if args.faiss_sizes else sizes
    report = {"started": dt.datetime.now().strftime("%Y%m%dT%H%M%S"), "machine": machine(),
              "config": {k: (sorted(v) if isinstance(v, set) else v) for k, v in vars(args).items()},
              "sizes": {}, "faiss": {}, "training": None}
    m = report["machine"]
    say(f"machine: {m.get('cpu')}, {m['cpus']} CPUs ({m.get('cpus_usable')} usable), "
        f"{mib(m.get('memory_bytes'))} MiB memory, load average {m['loadavg_at_start'][0]:.1f}; {m['versions']}")
    if vt.unavailable() and "virtuoso" not in args.skip:
        say(f"Virtuoso: {vt.unavailable()}: the ckg/Virtuoso comparisons are skipped")
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="ckg-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if "train" not in args.skip:
            say(f"\n=== training throughput ({args.train_papers} papers) ===")
            report["training"] = bench_training(work / "train", args.train_papers, args.train_epochs, args.seed,
                                                args.generator)
            t = report["training"]
            say(f"text: {t['passages_per_s']} passages/s; KGE on {t['kge_triples']:,} triples: {t['kge_triples_per_s']:,} "
                f"triples/s (the projection comes at the end)")
            save(report, args)
        for n in sizes:
            run_size(n, args, work, report["training"], report)
        if "faiss" not in args.skip:
            dim = ((report["training"] or {}).get("text_dimension", 384) + (report["training"] or {}).get("graph_dimension", 64))
            for n in faiss_sizes:
                report["faiss"][str(n)] = bench_faiss(n, dim, seed=args.seed)
                print_faiss(report["faiss"][str(n)])
                save(report, args)
        if report["training"]:
            projections = []
            rates = [report["sizes"][str(n)]["kge"]["triples_per_s"] for n in sizes if report["sizes"][str(n)].get("kge")]
            rate = rates[-1] if rates else None  # the largest store measured: the least overhead per triple
            def triples_of(size: dict) -> int | None:
                last = size.get("update") or size.get("build") or {}
                return (size.get("kge") or {}).get("triples") or last.get("kge_triples")

            for n in sizes:
                projections.append(projection(report["training"], n, triples_of(report["sizes"][str(n)]), rate))
            measured = [(n, triples_of(report["sizes"][str(n)])) for n in sizes]
            measured = [(n, t) for n, t in measured if t]
            if measured and max(sizes) < CORD19_PAPERS:
                n, triples = measured[-1]
                projections.append(projection(report["training"], CORD19_PAPERS, int(triples * CORD19_PAPERS / n), rate))
            report["training"]["kge_rate_used"] = rate
            report["training"]["projections"] = projections
            print_training(report["training"], projections)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    path = save(report, args)
    say(f"\nwrote {path} (and {out / 'scale-latest.json'})")
    for png in plot(report, out, f"scale-{report['started']}"):
        say(f"wrote {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
