"""The HTML pages, each with a JSON twin (datasette style: ``/x`` and ``/x.json``).

- ``/``: the query page: a SPARQL editor (highlighting, line numbers, Ctrl+Enter), the named
  queries and the functions' examples, results as a table, downloads (CSV, TSV, JSON). Its
  script and style are served from the package: it works offline. ``/?query=…&run=1`` opens a
  query (and runs it). Its JSON twin is ``/api/queries`` (the examples it shows).
- ``/papers/<paper>``: a paper, with its most similar papers when the store has embeddings;
  ``/papers/<paper>.json`` is the same as ``/api/papers/<paper>``.
- ``/-/about``: versions, configuration (without secrets), the store, the functions;
  ``/-/about.json``.
"""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for

import ckg
from ckg import queries
from ckg.server import functions
from ckg.server.api import paper_json, run_job
from ckg.store import StoreError, read_manifest
from ckg.terms import PREFIXES, resource_base

bp = Blueprint("pages", __name__)
SIMILAR_ON_PAGE = 10
"""How many similar papers a paper page lists (``/api/papers/<paper>/similar`` gives more)."""


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


@bp.get("/papers/<path:paper>")
def paper_page(paper: str) -> Response | tuple[str, int]:
    reply = run_job("paper", {"paper": paper, "cited_by_limit": 100})
    if isinstance(reply, Response):
        message = reply.get_json().get("error", "") if reply.is_json else ""
        return render_template("error.html", status=reply.status_code, message=message), reply.status_code
    record = reply["record"]
    similar = run_job("similar", {"paper": record["iri"], "k": SIMILAR_ON_PAGE, "mode": "combined"})
    if isinstance(similar, Response):  # no embeddings yet, or none for this paper: say why
        similar = {"similar": [], "note": similar.get_json().get("error", "") if similar.is_json else ""}
    else:
        similar = similar["answer"]
    return render_template("paper.html", paper=record, similar=similar, twin=url_for("pages.paper_twin", paper=paper))


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
