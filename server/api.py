"""The JSON API: papers, rankings and the named queries, described by an OpenAPI 3 document.

- ``GET /api``: what the API offers (links).
- ``GET /api/papers/<paper>``: a paper by key or IRI: metadata, identifiers, authors with their
  institutions, concepts, topics, references, citing papers, counts, PageRank (404 when unknown).
- ``GET /api/papers/<paper>/similar?k=&mode=``: the ``k`` papers most similar to it (``mode``
  combined, text or graph) in the store's current embedding run, best first, with their scores
  (404 when the store has no such paper, 409 when it has no embeddings or the paper none in
  that mode: the message says which).
- ``GET /api/rank?concept=&topic=&k=&order=``: the most-cited papers with a concept and/or topic,
  with citation counts customised to it (only citing papers with the same concept/topic count).
- ``GET /api/queries``: the named queries of ``queries/`` with their parameters.
- ``GET /api/queries/<name>?<param>=…&_format=&_limit=``: run one; parameters are bound by SPARQL
  substitution, never pasted into the query; 400 for a missing, unknown or malformed parameter.
- ``GET /api/openapi.json``: the OpenAPI description of all of this (and of ``/sparql``).
- ``GET /api/docs``: that description in Swagger UI (served from this server, installed by
  ``make install``; 503 with a page saying so when it is not installed).

Errors are JSON: ``{"error": "...", "status": 400}``.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for

from ckg import queries
from ckg.server import negotiation
from ckg.server.engine import EngineBusy, JobFailed, QueryTimeout
from ckg.server.functions import SIMILARITY_KINDS
from ckg.server.records import ORDERS

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_K = 1000
NAMED_FORMATS = {"json": None, "sparql-json": "json", "sparql-xml": "xml", "csv": "csv", "tsv": "tsv"}
"""``_format`` values of /api/queries/<name>: json (objects, the default) or a SPARQL results format."""
NAMED_MEDIA_TYPES = {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
                     "csv": "text/csv", "tsv": "text/tab-separated-values"}


def json_error(status: int, message: str) -> Response:
    response = jsonify({"error": message, "status": status})
    response.status_code = status
    return response


def run_job(op: str, params: dict) -> dict | Response:
    try:
        return current_app.extensions["ckg"].run(op, params)
    except JobFailed as exc:
        return json_error(exc.status, exc.message)
    except QueryTimeout as exc:
        return json_error(503, str(exc))
    except EngineBusy as exc:  # overloaded: say when to come back
        response = json_error(503, str(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response


def _int_arg(name: str, default: int, low: int, high: int) -> int | Response:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        return json_error(400, f"parameter {name!r} must be an integer from {low} to {high}, got {raw!r}")
    if not low <= value <= high:
        return json_error(400, f"parameter {name!r} must be an integer from {low} to {high}, got {value}")
    return value


def _unknown_args(route: str, known: tuple[str, ...]) -> Response | None:
    """A 400 naming the parameters ``route`` does not take, or None."""
    unknown = sorted(set(request.args) - set(known))
    if unknown:
        return json_error(400, f"unknown parameter(s) {', '.join(unknown)}; {route} takes {', '.join(known)}")
    return None


def _choice_arg(name: str, choices: tuple[str, ...]) -> str | Response:
    """The value of parameter ``name`` (the first choice when absent), or a 400 naming the choices."""
    value = request.args.get(name) or choices[0]
    if value not in choices:
        return json_error(400, f"parameter {name!r} must be one of {', '.join(choices)}, got {value!r}")
    return value


@bp.get("")
def index() -> Response:
    return jsonify({
        "sparql": url_for("protocol.sparql", _external=True),
        "openapi": url_for("api.openapi", _external=True),
        "docs": url_for("api.docs", _external=True),
        "papers": url_for("api.paper", paper="{paper}", _external=True).replace("%7B", "{").replace("%7D", "}"),
        "similar": url_for("api.similar", paper="{paper}", _external=True).replace("%7B", "{").replace("%7D", "}"),
        "rank": url_for("api.rank", _external=True),
        "queries": url_for("api.list_queries", _external=True),
    })


def paper_json(paper: str) -> Response:
    limit = _int_arg("cited_by_limit", 100, 0, 100000)
    if isinstance(limit, Response):
        return limit
    reply = run_job("paper", {"paper": paper, "cited_by_limit": limit})
    if isinstance(reply, Response):
        return reply
    return jsonify(reply["record"])


@bp.get("/papers/<path:paper>")
def paper(paper: str) -> Response:
    return paper_json(paper)


@bp.get("/papers/<path:paper>/similar")
def similar(paper: str) -> Response:
    bad = _unknown_args("/api/papers/<paper>/similar", ("k", "mode"))
    k = bad or _int_arg("k", 10, 1, MAX_K)
    mode = k if isinstance(k, Response) else _choice_arg("mode", SIMILARITY_KINDS)
    if isinstance(mode, Response):
        return mode
    reply = run_job("similar", {"paper": paper, "k": k, "mode": mode})
    if isinstance(reply, Response):
        return reply
    return jsonify(reply["answer"])


@bp.get("/rank")
def rank() -> Response:
    bad = _unknown_args("/api/rank", ("concept", "k", "order", "topic"))
    k = bad or _int_arg("k", 10, 1, MAX_K)
    order = k if isinstance(k, Response) else _choice_arg("order", ORDERS)
    if isinstance(order, Response):
        return order
    reply = run_job("rank", {"concept": request.args.get("concept") or None, "topic": request.args.get("topic") or None,
                             "k": k, "order": order})
    if isinstance(reply, Response):
        return reply
    return jsonify(reply["ranking"])


def describe_query(q: queries.NamedQuery) -> dict:
    return {**q.as_dict(), "url": url_for("api.named_query", name=q.name, _external=True)}


@bp.get("/queries")
def list_queries() -> Response:
    return jsonify([describe_query(q) for q in queries.all_queries()])


@bp.get("/queries/<name>")
def named_query(name: str) -> Response:
    try:
        query = queries.get(name)
    except queries.UnknownQuery as exc:
        return json_error(404, str(exc))
    fmt = request.args.get("_format") or "json"
    if fmt not in NAMED_FORMATS:
        return json_error(400, f"_format must be one of {', '.join(NAMED_FORMATS)}, got {fmt!r}")
    server = current_app.extensions["ckg"]
    limit = _int_arg("_limit", server.config.max_rows, 0, server.config.max_rows)
    if isinstance(limit, Response):
        return limit
    params = {k: v for k, v in request.args.items() if not k.startswith("_")}
    try:
        query.bind(params)  # a bad parameter is a 400 before any process is used
    except queries.QueryParameterError as exc:
        return json_error(400, str(exc))
    writer = NAMED_FORMATS[fmt]
    reply = run_job("named", {"name": name, "params": params, "fmt": writer or "object", "max_rows": limit})
    if isinstance(reply, Response):
        return reply
    if writer is None:
        response = jsonify({"query": name, "summary": query.summary, "params": reply["params"],
                            "columns": reply["columns"], "rows": reply["rows"], "count": reply["count"],
                            "truncated": reply["truncated"], "limit": limit})
    else:
        response = Response(reply["body"], content_type=negotiation.content_type(NAMED_MEDIA_TYPES[writer]))
    if reply["truncated"]:
        response.headers["X-CKG-Truncated"] = "true"
        response.headers["X-CKG-Row-Limit"] = str(limit)
    return response


@bp.get("/openapi.json")
def openapi() -> Response:
    from ckg.server.openapi import document

    server = current_app.extensions["ckg"]
    doc = document(request.host_url.rstrip("/"), max_rows=server.config.max_rows)
    return Response(json.dumps(doc, indent=2), content_type="application/json")


@bp.get("/docs")
def docs() -> Response:
    """The OpenAPI description in Swagger UI, its files served by this server (no CDN)."""
    from ckg.server.pages import vendor_url

    assets = {name: vendor_url("swagger-ui", name) for name in
              ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png")}
    if not all(assets[name] for name in ("swagger-ui.css", "swagger-ui-bundle.js")):
        body = render_template("error.html", status=503, title="Swagger UI is not installed",
                               message="Swagger UI (npm's swagger-ui-dist) is not installed on this server: "
                                       "run `make install` (it needs npm), then reload this page.",
                               links={"the OpenAPI description as JSON": url_for("api.openapi")})
        return Response(body, status=503, content_type="text/html; charset=utf-8")
    return Response(render_template("swagger.html", assets=assets, spec=url_for("api.openapi")),
                    content_type="text/html; charset=utf-8")
