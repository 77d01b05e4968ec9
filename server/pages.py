"""The HTML pages, each with a JSON twin (datasette style: ``/x`` and ``/x.json``).

- ``/``: the query page: a SPARQL editor (highlighting, line numbers, Ctrl+Enter), the named
  queries and the functions' examples, results as a table, downloads (CSV, TSV, JSON). Its
  script and style are served from the package: it works offline. ``/?query=…&run=1`` opens a
  query (and runs it). Its JSON twin is ``/api/queries`` (the examples it shows).
- ``/papers/<paper>``: a paper, with its concepts grouped by kind (most confident first, linked
  to their pages), its topics' probabilities, links to DOI, PubMed and PMC, its authors and
  institutions linked to their pages, its most similar papers when the store has embeddings;
  ``/papers/<paper>.json`` is the same as ``/api/papers/<paper>``.
- ``/concepts/<key>``, ``/authors/<key>``, ``/topics/<key>``, ``/institutions/<key>`` (a key or
  an IRI): an entity's page, its papers per year as a chart, with ``.json`` twins giving the
  record the page shows (:mod:`ckg.server.entities`). The HTML of a resource IRI
  (``/resource/concept/<key>``, ...) is the same page (:mod:`ckg.server.linked`).
- ``/-/about``: versions, configuration (without secrets), the store, the functions;
  ``/-/about.json``.
- ``/-/vendor/<library>/<file>``: the vendored browser libraries (Swagger UI for ``/api/docs``,
  ECharts for the charts), installed from npm by ``make install`` into the virtual environment's
  ``node/node_modules`` (:func:`vendored`): nothing is fetched from a CDN, the pages work offline;
  without them ``/api/docs`` answers 503 saying so and a chart says its library is missing.
"""

from __future__ import annotations

import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, send_file, url_for

import ckg
from ckg import queries
from ckg.server import functions
from ckg.server.api import paper_json, run_job
from ckg.store import StoreError, read_manifest
from ckg.terms import PREFIXES, resource_base

bp = Blueprint("pages", __name__)
SIMILAR_ON_PAGE = 10
"""How many similar papers a paper page lists (``/api/papers/<paper>/similar`` gives more)."""


VENDORED = {
    "swagger-ui": ("swagger-ui-dist", ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js",
                                       "favicon-32x32.png", "favicon-16x16.png")),
    "echarts": ("echarts/dist", ("echarts.min.js",)),
}
"""The vendored libraries: the npm package folder of each and the files of it this server serves."""
VENDOR_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".png": "image/png"}


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


@bp.get("/papers/<path:paper>")
def paper_page(paper: str) -> Response | tuple[str, int]:
    reply = run_job("paper_view", {"paper": paper, "cited_by_limit": 100})
    if isinstance(reply, Response):
        return error_page(reply)
    record = reply["record"]
    similar = run_job("similar", {"paper": record["iri"], "k": SIMILAR_ON_PAGE, "mode": "combined"})
    if isinstance(similar, Response):  # no embeddings yet, or none for this paper: say why
        similar = {"similar": [], "note": similar.get_json().get("error", "") if similar.is_json else ""}
    else:
        similar = similar["answer"]
    def probability(topic: dict[str, Any]) -> float:
        value = topic.get("weights", {}).get("ckg:probability")
        return value if isinstance(value, (int, float)) else -1.0

    topics = sorted(record["topics"], key=lambda t: (-probability(t), t.get("label") or t["iri"]))
    return render_template("paper.html", paper=record, similar=similar, concept_groups=reply["concept_groups"], topics=topics,
                           twin=url_for("pages.paper_twin", paper=paper))


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
