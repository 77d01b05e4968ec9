"""The HTML pages, each with a JSON twin (datasette style: ``/x`` and ``/x.json``).

- ``/``: the query page: a SPARQL editor (highlighting, line numbers, Ctrl+Enter), the named
  queries and the functions' examples, results as a table, downloads (CSV, TSV, JSON). Its
  script and style are served from the package: it works offline. ``/?query=…&run=1`` opens a
  query (and runs it). Its JSON twin is ``/api/queries`` (the examples it shows).
- ``/papers/<paper>``: a paper, with its concepts grouped by kind (most confident first, linked
  to their pages), its topics' probabilities, links to DOI, PubMed and PMC, its authors and
  institutions linked to their pages, its most similar papers when the store has embeddings, and
  its citation neighbourhood drawn as a graph (ECharts, force layout; a click opens a paper):
  references, citing papers and similar papers, at most :data:`NEIGHBOURS` of each, the data in
  the page and in ``/papers/<paper>/neighbourhood.json`` (:func:`neighbourhood`);
  ``/papers/<paper>.json`` is the same as ``/api/papers/<paper>``.
- ``/concepts/<key>``, ``/authors/<key>``, ``/topics/<key>``, ``/institutions/<key>`` (a key or
  an IRI): an entity's page, its papers per year as a chart, with ``.json`` twins giving the
  record the page shows (:mod:`ckg.server.entities`). The HTML of a resource IRI
  (``/resource/concept/<key>``, ...) is the same page (:mod:`ckg.server.linked`).
- ``/-/about``: versions, configuration (without secrets), the store, the functions;
  ``/-/about.json``.
- ``/-/overview``: the corpus at a glance: counts, papers first seen per release, papers per
  year, the most frequent concepts and the topics, the embeddings' projection plot when an
  evaluation left one in the current run (``/-/overview/projection.png``); ``/-/overview.json``.
  The counts and the growth are the manifests' (written by each build and update); the rest is
  one engine job per release, kept by the web worker (:func:`overview_data`).
- ``/-/vendor/<library>/<file>``: the vendored browser libraries (Swagger UI for ``/api/docs``,
  ECharts for the charts), installed from npm by ``make install`` into the virtual environment's
  ``node/node_modules`` (:func:`vendored`): nothing is fetched from a CDN, the pages work offline;
  without them ``/api/docs`` answers 503 saying so and a chart says its library is missing.
"""

from __future__ import annotations

import json
import platform
import sys
import threading
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, send_file, url_for

import ckg
from ckg import queries
from ckg.server import functions
from ckg.server.api import paper_json, run_job
from ckg.store import MANIFEST_FILE, StoreError, current_folder, read_manifest
from ckg.terms import PREFIXES, resource_base

bp = Blueprint("pages", __name__)
SIMILAR_ON_PAGE = 10
"""How many similar papers a paper page lists (``/api/papers/<paper>/similar`` gives more)."""


VENDORED = {
    "swagger-ui": ("swagger-ui-dist", ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js",
                                       "favicon-32x32.png", "favicon-16x16.png")),
    "echarts": ("echarts/dist", ("echarts.min.js",)),
    "datatables": ("datatables.net/js", ("dataTables.min.js",)),
    "datatables-css": ("datatables.net-dt/css", ("dataTables.dataTables.min.css",)),
}
"""The vendored libraries: the npm package folder of each and the files of it this server serves."""
VENDOR_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}  # Flask adds "; charset=utf-8" to text types


def node_modules() -> list[Path]:
    """Where ``make install`` puts npm packages: ``node/node_modules`` of the virtual environment
    this server runs in, then of the checkout's ``.venv`` (an editable install run by another
    Python). Fixed paths, no setting."""
    here = Path(__file__).resolve().parent.parent
    return [Path(sys.prefix) / "node" / "node_modules", here / ".venv" / "node" / "node_modules"]


def vendored(library: str, name: str) -> Path | None:
    """The file ``name`` of a vendored library (:data:`VENDORED`), or None when it is not installed."""
    folder, files = VENDORED[library]
    if name not in files:
        return None
    for base in node_modules():
        path = base / folder / name
        if path.is_file():
            return path
    return None


def vendor_url(library: str, name: str) -> str | None:
    """The URL of a vendored file, None when it is not installed (the page then says so)."""
    return url_for("pages.vendor", library=library, name=name) if vendored(library, name) else None


@bp.get("/-/vendor/<library>/<name>")
def vendor(library: str, name: str) -> Response:
    if library not in VENDORED:
        abort(404)
    path = vendored(library, name)
    if path is None:
        abort(404, f"{library}/{name} is not installed here: `make install` installs it (npm)")
    response = send_file(path, mimetype=VENDOR_TYPES.get(path.suffix, "application/octet-stream"), max_age=86400,
                         conditional=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def examples() -> dict[str, Any]:
    """What the query page offers as examples: the named queries and the functions' examples."""
    return {
        "queries": [{"name": q.name, "summary": q.summary, "sparql": q.text,
                     "params": [p.__dict__ for p in q.params]} for q in queries.all_queries()],
        "functions": [{"name": f["name"], "summary": f.get("comment", ""), "sparql": f.get("example", "")}
                      for f in functions.descriptions()],
        "prefixes": PREFIXES,
        "resource_base": resource_base(),
    }


@bp.get("/")
def index() -> str:
    return render_template("index.html", data=examples(), initial_query=request.args.get("query", ""),
                           run=request.args.get("run") in ("1", "true", "yes"),
                           twin=url_for("api.list_queries"))


@bp.get("/papers/<path:paper>.json")
def paper_twin(paper: str) -> Response:
    return paper_json(paper)


ENTITY_PATHS = {"paper": "papers", "concept": "concepts", "author": "authors", "topic": "topics",
                "institution": "institutions"}
"""The kinds of resource with a page, and the first segment of its path."""


@bp.app_template_filter("page_href")
def page_href(iri: str | None) -> str | None:
    """The page of a ckg resource IRI (a paper, concept, author, topic or institution), else None."""
    if not iri:
        return None
    base = resource_base()
    for kind, path in ENTITY_PATHS.items():
        prefix = base + kind + "/"
        if iri.startswith(prefix) and "/" not in iri[len(prefix):] and len(iri) > len(prefix):
            key = unquote(iri[len(prefix):])
            return url_for("pages.paper_page", paper=key) if kind == "paper" else url_for(f"pages.{kind}_page", key=key)
    return None


def error_page(reply: Response) -> Response:
    """A job's JSON error as an HTML page with its status."""
    message = reply.get_json().get("error", "") if reply.is_json else ""
    response = Response(render_template("error.html", status=reply.status_code, message=message),
                        status=reply.status_code, content_type="text/html; charset=utf-8")
    if "Retry-After" in reply.headers:
        response.headers["Retry-After"] = reply.headers["Retry-After"]
    return response


def entity_twin(kind: str, key: str) -> Response:
    reply = run_job("entity", {"kind": kind, "key": key})
    if isinstance(reply, Response):
        return reply
    return jsonify(reply["record"])


def entity_page(kind: str, key: str, *, documents: dict[str, str] | None = None) -> Response:
    """The page of a concept, author, topic or institution; ``documents``: its RDF documents (the
    resource IRI's page links them)."""
    reply = run_job("entity", {"kind": kind, "key": key})
    if isinstance(reply, Response):
        return error_page(reply)
    record = reply["record"]
    if documents is None:
        from ckg.server.linked import SUFFIXES

        rest = record["iri"][len(resource_base()):]
        documents = {m: url_for("linked.resource", rest=rest + s) for s, m in SUFFIXES.items()}
    page = render_template(f"{kind}.html", record=record, documents=documents,
                           twin=url_for(f"pages.{kind}_twin", key=record["key"] or record["iri"]),
                           canonical=url_for(f"pages.{kind}_page", key=record["key"] or record["iri"]),
                           echarts=vendor_url("echarts", "echarts.min.js"))
    return Response(page, content_type="text/html; charset=utf-8")


def _add_entity_routes(kind: str) -> None:
    path = ENTITY_PATHS[kind]
    bp.add_url_rule(f"/{path}/<path:key>.json", f"{kind}_twin", lambda key: entity_twin(kind, key), methods=["GET"])
    bp.add_url_rule(f"/{path}/<path:key>", f"{kind}_page", lambda key: entity_page(kind, key), methods=["GET"])


for _kind in ("concept", "author", "topic", "institution"):
    _add_entity_routes(_kind)


NEIGHBOURS = 30
"""At most this many references and citing papers are drawn in a paper's neighbourhood graph
(the counts say how many there are); its similar papers are the page's :data:`SIMILAR_ON_PAGE`."""
RELATIONS = {"reference": "cited by this paper", "cited_by": "citing this paper", "similar": "similar to this paper"}
"""The relations of a paper's neighbours, in the order a neighbour with several is coloured by."""


def _similar_of(iri: str) -> dict[str, Any]:
    """The page's similar papers, or an empty list and why (no embeddings yet, or none for this paper)."""
    similar = run_job("similar", {"paper": iri, "k": SIMILAR_ON_PAGE, "mode": "combined"})
    if isinstance(similar, Response):
        return {"similar": [], "note": similar.get_json().get("error", "") if similar.is_json else ""}
    return similar["answer"]


def neighbourhood(record: dict[str, Any], similar: dict[str, Any]) -> dict[str, Any]:
    """A paper's citation neighbourhood as a graph: the paper, at most :data:`NEIGHBOURS` of its
    references and of the papers citing it (newest first) and its similar papers, each node once
    (coloured by its first relation, linked by each), with the page of every paper and the counts."""
    def node_id(key: str | None, iri: str) -> str:
        return key or iri

    centre = node_id(record["key"], record["iri"])
    nodes: dict[str, dict[str, Any]] = {centre: {
        "id": centre, "key": record["key"], "iri": record["iri"], "title": record.get("title"), "year": record.get("year"),
        "relation": "paper", "relations": ["paper"], "href": url_for("pages.paper_page", paper=centre)}}
    links: list[dict[str, Any]] = []
    neighbours = {"reference": record.get("references", [])[:NEIGHBOURS],
                  "cited_by": record.get("cited_by", [])[:NEIGHBOURS],
                  "similar": [{"key": n.get("paper"), "iri": n.get("iri"), "title": n.get("title"), "score": n.get("score")}
                              for n in similar.get("similar", [])][:SIMILAR_ON_PAGE]}
    for relation, papers in neighbours.items():
        for p in papers:
            iri = p.get("iri") or p.get("key")
            nid = node_id(p.get("key"), iri)
            if nid == centre:
                continue
            node = nodes.setdefault(nid, {"id": nid, "key": p.get("key"), "iri": p.get("iri"), "title": p.get("title"),
                                          "year": p.get("year"), "relation": relation, "relations": [],
                                          "href": url_for("pages.paper_page", paper=nid)})
            if relation not in node["relations"]:
                node["relations"].append(relation)
            if p.get("score") is not None:
                node["score"] = p["score"]
            source, target = (nid, centre) if relation == "cited_by" else (centre, nid)
            links.append({"source": source, "target": target, "relation": relation})
    counts = record.get("counts", {})
    return {"paper": centre, "nodes": list(nodes.values()), "links": links,
            "relations": RELATIONS,
            "counts": {"reference": counts.get("references", len(neighbours["reference"])),
                       "cited_by": counts.get("cited_by", len(neighbours["cited_by"])),
                       "similar": len(neighbours["similar"])},
            "shown": {relation: len(papers) for relation, papers in neighbours.items()},
            "limit": NEIGHBOURS, "similar_note": similar.get("note")}


@bp.get("/papers/<path:paper>/neighbourhood.json")
def paper_neighbourhood(paper: str) -> Response:
    """The neighbourhood graph a paper's page draws (:func:`neighbourhood`)."""
    reply = run_job("paper", {"paper": paper, "cited_by_limit": NEIGHBOURS})
    if isinstance(reply, Response):
        return reply
    record = reply["record"]
    return jsonify(neighbourhood(record, _similar_of(record["iri"])))


@bp.get("/papers/<path:paper>")
def paper_page(paper: str) -> Response | tuple[str, int]:
    reply = run_job("paper_view", {"paper": paper, "cited_by_limit": 100})
    if isinstance(reply, Response):
        return error_page(reply)
    record = reply["record"]
    similar = _similar_of(record["iri"])
    def probability(topic: dict[str, Any]) -> float:
        value = topic.get("weights", {}).get("ckg:probability")
        return value if isinstance(value, (int, float)) else -1.0

    topics = sorted(record["topics"], key=lambda t: (-probability(t), t.get("label") or t["iri"]))
    return render_template("paper.html", paper=record, similar=similar, concept_groups=reply["concept_groups"], topics=topics,
                           graph=neighbourhood(record, similar), echarts=vendor_url("echarts", "echarts.min.js"),
                           twin=url_for("pages.paper_twin", paper=paper),
                           graph_twin=url_for("pages.paper_neighbourhood", paper=paper))


def about_data() -> dict[str, Any]:
    server = current_app.extensions["ckg"]
    versions = {"ckg": ckg.__version__, "python": platform.python_version()}
    for dist in ("pyoxigraph", "flask", "gunicorn", "rdflib"):
        try:
            versions[dist] = version(dist)
        except PackageNotFoundError:
            versions[dist] = None
    store: dict[str, Any] = {"path": str(server.config.store)}
    reply = run_job("stats", {})
    if not isinstance(reply, Response):
        store.update(triples=reply["triples"], named_graphs=reply["named_graphs"], similarity=reply["similarity"],
                     embeddings_run=reply["embeddings_run"])
    try:
        manifest = read_manifest(server.config.store)
        store["last_run"] = {k: manifest.get(k) for k in ("mode", "release", "finished_at")}
        store["papers"] = manifest.get("counts", {}).get("papers_in_store")
    except StoreError:
        store["last_run"] = None
    return {
        "versions": versions,
        "config": server.config.public(),
        "store": store,
        "functions": functions.descriptions(),
        "endpoints": {"sparql": url_for("protocol.sparql", _external=True),
                      "api": url_for("api.index", _external=True),
                      "openapi": url_for("api.openapi", _external=True)},
    }


@bp.get("/-/about.json")
def about_json() -> Response:
    return jsonify(about_data())


@bp.get("/-/about")
def about() -> str:
    return render_template("about.html", about=about_data(), twin=url_for("pages.about_json"))


# -- the corpus overview ---------------------------------------------------------------------------

OVERVIEW_COUNTS = (
    ("papers", "papers"), ("with_full_text", "with full text"), ("authors", "authors"),
    ("institutions", "institutions"), ("concepts", "concepts"), ("topics", "topics"),
    ("citation_edges", "citation edges"), ("triples", "triples"),
)
"""The counts the overview shows, in order, with their names on the page."""
_CKG_NS = "https://w3id.org/ckg/ontology#"
PROJECTION_FILES = ("projection.png", "evaluation/projection.png")
"""Where an evaluation's projection plot is looked for in the current embedding run's folder
(``ckg evaluate --out STORE/embeddings/runs/<run>/evaluation`` writes the second)."""
_overview_cache: dict[tuple, dict[str, Any]] = {}
_overview_lock = threading.Lock()


def corpus_counts(manifest: dict[str, Any]) -> dict[str, int | None]:
    """The corpus's counts as the last build or update recorded them (no query): papers, papers
    with full text (those with ``ckg:bodyText``), authors, institutions, concepts, topics (by
    class), citation edges and triples."""
    counts = manifest.get("counts", {})
    classes, properties = counts.get("per_class", {}), counts.get("per_property", {})
    return {"papers": counts.get("papers_in_store"), "with_full_text": properties.get(_CKG_NS + "bodyText", 0),
            "authors": classes.get(_CKG_NS + "Author", 0), "institutions": classes.get(_CKG_NS + "Institution", 0),
            "concepts": classes.get(_CKG_NS + "Concept", 0), "topics": classes.get(_CKG_NS + "Topic", 0),
            "citation_edges": counts.get("citations", {}).get("edges"), "triples": counts.get("triples")}


def release_growth(store: Path) -> list[dict[str, Any]]:
    """The papers first seen in each release applied to the store since its last full build
    (``STORE/manifests/``, one manifest per run, oldest first): new, changed and removed papers
    and the papers in the store after it. A release applied twice is one row: its papers added up,
    the store's size after its last run."""
    from ckg.generations import HISTORY_DIR

    folder = Path(store) / HISTORY_DIR
    runs = []
    for file in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        try:
            m = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if m.get("mode") == "build":
            runs = []  # a build starts the store over
        changes = m.get("counts", {}).get("changes", {})
        row = {"release": m.get("release"), "mode": m.get("mode"), "finished_at": m.get("finished_at"),
               "new": changes.get("new"), "changed": changes.get("changed"), "removed": changes.get("removed"),
               "papers": m.get("counts", {}).get("papers_in_store")}
        again = next((r for r in runs if r["release"] == row["release"]), None)
        if again is not None:  # the release applied again: one row, its papers added up, the store after the last
            runs.remove(again)
            for k in ("new", "changed", "removed"):
                row[k] = (again[k] or 0) + (row[k] or 0)
            row["mode"] = again["mode"]
        runs.append(row)
    return runs


def _with_first_seen(runs: list[dict[str, Any]], first_seen: dict[str, int]) -> list[dict[str, Any]]:
    """The runs, each with ``first_seen``: the papers of the store now whose ``ckg:firstSeenIn`` is
    its release (its new papers less those removed since); a release only the provenance names
    (a store built before the manifests were kept) comes first, without a run."""
    known = {r["release"] for r in runs}
    out = [{"release": release, "mode": None, "finished_at": None, "new": None, "changed": None, "removed": None,
            "papers": None, "first_seen": n} for release, n in sorted(first_seen.items()) if release not in known]
    return out + [{**r, "first_seen": first_seen.get(r["release"], 0)} for r in runs]


def projection_file(store: Path) -> Path | None:
    """The current embedding run's projection plot (:data:`PROJECTION_FILES`), or None."""
    from ckg.embed.artifacts import current_run_id, run_dir

    run = current_run_id(store)
    if run is None:
        return None
    try:
        folder = run_dir(store, run)
    except ValueError:
        return None
    for name in PROJECTION_FILES:
        if (folder / name).is_file():
            return folder / name
    return None


def embedding_run(store: Path) -> dict[str, Any] | None:
    """The current embedding run: its id, when it finished, its text and graph models, its plot."""
    from ckg.embed.artifacts import current_run_id, run_dir

    run = current_run_id(store)
    if run is None:
        return None
    try:
        manifest = json.loads((run_dir(store, run) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    plot = projection_file(store)
    return {"run": run, "finished_at": manifest.get("finished_at"),
            "text_model": (manifest.get("text") or {}).get("model"), "graph_model": (manifest.get("graph") or {}).get("model"),
            "projection": url_for("pages.overview_projection") if plot else None}


def overview_data() -> dict[str, Any] | Response:
    """The corpus overview (``/-/overview.json``): the manifests' counts and growth by release, the
    store's papers per year, top concepts and topics (one engine job, kept per release: the key is
    the current generation and its manifest's time), the current embedding run and its plot."""
    server = current_app.extensions["ckg"]
    store = Path(server.config.store)
    try:
        manifest = read_manifest(store)
    except StoreError as exc:
        return Response(json.dumps({"error": str(exc), "status": 503}), status=503, mimetype="application/json")
    folder = current_folder(store)
    try:
        stamp = (folder / MANIFEST_FILE).stat().st_mtime_ns if folder else None
    except OSError:
        stamp = None
    key = (str(store), str(folder), stamp, manifest.get("finished_at"))
    with _overview_lock:
        cached = _overview_cache.get(key)
    if cached is None:
        reply = run_job("overview", {})
        if isinstance(reply, Response):
            return reply
        cached = reply["record"]
        with _overview_lock:
            _overview_cache.clear()  # only the current release's
            _overview_cache[key] = cached
    counts = corpus_counts(manifest)
    years = [y for y in cached["papers_per_year"] if y["year"] is not None]
    undated = max(0, (counts["papers"] or 0) - sum(y["papers"] for y in years))
    return {
        "release": manifest.get("release"), "mode": manifest.get("mode"), "finished_at": manifest.get("finished_at"),
        "counts": counts, "count_names": dict(OVERVIEW_COUNTS),
        "releases": _with_first_seen(release_growth(store), cached.get("first_seen", {})),
        "papers_per_year": years + ([{"year": None, "papers": undated}] if undated else []),
        "top_concepts": cached["top_concepts"], "topics": cached["topics"],
        "embeddings": embedding_run(store),
    }


@bp.get("/-/overview.json")
def overview_json() -> Response:
    data = overview_data()
    return data if isinstance(data, Response) else jsonify(data)


@bp.get("/-/overview")
def overview() -> Response:
    data = overview_data()
    if isinstance(data, Response):
        return error_page(data)
    page = render_template("overview.html", overview=data, twin=url_for("pages.overview_json"),
                           echarts=vendor_url("echarts", "echarts.min.js"))
    return Response(page, content_type="text/html; charset=utf-8")


@bp.get("/-/overview/projection.png")
def overview_projection() -> Response:
    """The current embedding run's projection plot, and no other file."""
    path = projection_file(Path(current_app.extensions["ckg"].config.store))
    if path is None:
        abort(404, "this store's current embedding run has no projection plot: run `ckg evaluate`")
    return send_file(path, mimetype="image/png", max_age=300, conditional=True)
