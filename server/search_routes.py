"""Search over HTTP: ``GET /api/search`` (JSON) and ``GET /search`` (its page), both answered by
the query processes (job ``search``, :mod:`ckg.search`).

``/api/search?q=TEXT&k=10&mode=fused&concept=&topic=&year=&prior=``: the ``k`` papers that best
answer ``q``, best first, each with its fused score and the two sides' scores (BM25, cosine), its
graph prior where one was applied, title and year; 400 for an empty query or a malformed
parameter, 409 when the release has no search index.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request, url_for

from ckg.search.service import MAX_K, MODES
from ckg.server.api import _int_arg, json_error, run_job

bp = Blueprint("search", __name__)
PARAMS = ("q", "k", "mode", "concept", "topic", "year", "prior")
MAX_QUERY_CHARS = 2000


def _params() -> dict | Response:
    unknown = sorted(set(request.args) - set(PARAMS))
    if unknown:
        return json_error(400, f"unknown parameter(s) {', '.join(unknown)}; /api/search takes {', '.join(PARAMS)}")
    q = (request.args.get("q") or "").strip()
    if not q:
        return json_error(400, "parameter 'q' (the query text) is required")
    if len(q) > MAX_QUERY_CHARS:
        return json_error(400, f"parameter 'q' is longer than {MAX_QUERY_CHARS} characters")
    k = _int_arg("k", 10, 1, MAX_K)
    if isinstance(k, Response):
        return k
    mode = request.args.get("mode") or "fused"
    if mode not in MODES:
        return json_error(400, f"parameter 'mode' must be one of {', '.join(MODES)}, got {mode!r}")
    params: dict = {"q": q, "k": k, "mode": mode}
    for name in ("concept", "topic"):
        if request.args.get(name):
            params[name] = request.args[name]
    if request.args.get("year"):
        year = _int_arg("year", 0, 1000, 3000)
        if isinstance(year, Response):
            return year
        params["year"] = year
    if request.args.get("prior"):
        try:
            prior = float(request.args["prior"])
            if not 0 <= prior <= 100:
                raise ValueError
        except ValueError:
            return json_error(400, f"parameter 'prior' must be a number from 0 to 100, got {request.args['prior']!r}")
        params["prior"] = prior
    return params


@bp.get("/api/search")
def api_search() -> Response:
    params = _params()
    if isinstance(params, Response):
        return params
    reply = run_job("search", params)
    if isinstance(reply, Response):
        return reply
    return jsonify(reply["answer"])


@bp.get("/search")
def search_page() -> Response | str | tuple[str, int]:
    if not (request.args.get("q") or "").strip():
        return render_template("search.html", answer=None, q="", error=None, twin=None)
    params = _params()
    if isinstance(params, Response):
        return render_template("search.html", answer=None, q=request.args.get("q", ""),
                               error=params.get_json()["error"], twin=None), params.status_code
    reply = run_job("search", params)
    if isinstance(reply, Response):
        message = reply.get_json().get("error", "") if reply.is_json else ""
        return render_template("search.html", answer=None, q=params["q"], error=message, twin=None), reply.status_code
    return render_template("search.html", answer=reply["answer"], q=params["q"], error=None,
                           twin=url_for("search.api_search", **request.args))
