"""``/sparql``: the SPARQL 1.1 Protocol, as Oxigraph's server does it.

- Queries: ``GET /sparql?query=…``, ``POST`` with ``application/x-www-form-urlencoded``
  (``query=…``) or ``application/sparql-query`` (the query is the body). ``default-graph-uri``
  and ``named-graph-uri`` (repeatable) name the dataset; without them the default graph is the
  union of the named graphs. Any other POST body type: 415. A malformed query: 400 with the
  parser's message. ``GET /sparql`` without a query: the service description.
- Results: by the ``format`` (or ``output``) parameter, else by Accept (see
  :mod:`ckg.server.negotiation`); 406 when none fits. At most the row limit: a longer result is
  cut and says so (``X-CKG-Truncated: true``, ``X-CKG-Row-Limit``, a ``Warning`` header).
- Limits: a query runs in its own process and is stopped at the timeout (503); SERVICE may call
  only the allowlisted endpoints (403, 400 for a variable endpoint).
- Updates (``POST application/sparql-update`` or form ``update=…``): 403 while the endpoint is
  read-only (the default); with ``CKG_UPDATE_TOKEN`` set, they need
  ``Authorization: Bearer <token>`` (401 without it) and answer 204.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, request

from ckg.server import description, negotiation
from ckg.server.engine import EngineBusy, JobFailed, QueryTimeout

bp = Blueprint("protocol", __name__)

QUERY_TYPES = ("application/sparql-query", "application/sparql-update", "application/x-www-form-urlencoded")


def text_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """An error answer of the protocol: a plain-text message."""
    return Response(message + "\n", status=status, content_type="text/plain; charset=utf-8", headers=headers)


def run_job(op: str, params: dict) -> dict | Response:
    """Run a job in a query process; an error becomes the answer it deserves."""
    server = current_app.extensions["ckg"]
    try:
        return server.run(op, params)
    except JobFailed as exc:
        return text_error(exc.status, exc.message)
    except QueryTimeout as exc:
        return text_error(503, str(exc))
    except EngineBusy as exc:
        return text_error(503, str(exc))


def _body_text() -> str | Response:
    charset = request.mimetype_params.get("charset", "utf-8")
    try:
        return request.get_data(cache=False).decode(charset)
    except (LookupError, UnicodeDecodeError):
        return text_error(400, f"the request body is not valid {charset} text")


def _formats(params) -> dict | Response:
    """The format chosen for each kind of result, from ``format``/``output`` or Accept."""
    explicit = params.get("format") or params.get("output")
    if explicit:
        try:
            media_type = negotiation.wanted(explicit)
        except negotiation.UnknownFormat as exc:
            return text_error(400, str(exc))
        from werkzeug.datastructures import MIMEAccept

        accept = MIMEAccept([(media_type, 1)])
    else:
        accept = request.accept_mimetypes
    return {
        "solutions": negotiation.choose(accept, negotiation.SOLUTIONS),
        "graph": negotiation.choose(accept, negotiation.GRAPH),
        "solutions_offered": negotiation.offered(negotiation.SOLUTIONS)[:4],
        "graph_offered": negotiation.offered(negotiation.GRAPH)[:4],
    }


def _dataset(params) -> dict:
    default = params.getlist("default-graph-uri")
    named = params.getlist("named-graph-uri")
    return {"default_graphs": default or None, "named_graphs": named or None} if (default or named) else {}


@bp.route("/sparql", methods=["GET", "POST"])
def sparql() -> Response:
    if request.method == "GET":
        params = request.args
        if "update" in params:
            return text_error(400, "a SPARQL update must be sent with POST (application/sparql-update or a form)")
        texts = params.getlist("query")
        if not texts:
            return service_description()
    else:
        mimetype = request.mimetype
        if mimetype == "application/sparql-query":
            params = request.args
            body = _body_text()
            if isinstance(body, Response):
                return body
            texts = [body]
        elif mimetype == "application/sparql-update":
            body = _body_text()
            return body if isinstance(body, Response) else update(body, request.args)
        elif mimetype == "application/x-www-form-urlencoded":
            params = request.form
            if "update" in params:
                if "query" in params:
                    return text_error(400, "a request has either a query or an update, not both")
                return update(params["update"], params)
            texts = params.getlist("query")
            if not texts:
                return text_error(400, "the form has no 'query' (or 'update') field")
        else:
            return text_error(415, f"unsupported Content-Type {mimetype or '(none)'!r}: POST a query as "
                                   f"application/sparql-query or application/x-www-form-urlencoded, an update as "
                                   f"application/sparql-update")
    if len(texts) != 1:
        return text_error(400, "give exactly one query")
    return query(texts[0], params)


def query(text: str, params) -> Response:
    formats = _formats(params)
    if isinstance(formats, Response):
        return formats
    if formats["solutions"] is None and formats["graph"] is None:
        return text_error(406, "none of the result formats is acceptable: SELECT and ASK results are "
                               f"{', '.join(formats['solutions_offered'])}; CONSTRUCT and DESCRIBE results are "
                               f"{', '.join(formats['graph_offered'])}")
    server = current_app.extensions["ckg"]
    reply = run_job("query", {"query": text, "formats": formats, "max_rows": server.config.max_rows, **_dataset(params)})
    if isinstance(reply, Response):
        return reply
    response = Response(reply["body"], status=200, content_type=negotiation.content_type(reply["media_type"]))
    if reply["count"] is not None:
        response.headers["X-CKG-Rows"] = str(reply["count"])
    if reply["truncated"]:
        limit = server.config.max_rows
        response.headers["X-CKG-Truncated"] = "true"
        response.headers["X-CKG-Row-Limit"] = str(limit)
        what = "rows" if reply["form"] == "SELECT" else "triples"
        response.headers["Warning"] = f'199 ckg "result truncated to the first {limit} {what} (CKG_MAX_ROWS)"'
    response.vary.add("Accept")
    return response


def update(text: str, params) -> Response:
    token = current_app.extensions["ckg"].config.update_token
    if token is None:
        return text_error(403, "this endpoint is read-only: SPARQL updates are disabled "
                               "(the server enables them when CKG_UPDATE_TOKEN is set)")
    given = request.headers.get("Authorization", "")
    scheme, _, credentials = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(credentials.strip().encode(), token.encode()):
        return text_error(401, "SPARQL updates need the header 'Authorization: Bearer <token>' with this "
                               "endpoint's update token",
                          headers={"WWW-Authenticate": 'Bearer realm="ckg SPARQL update"'})
    if params.getlist("using-graph-uri") or params.getlist("using-named-graph-uri"):
        return text_error(400, "using-graph-uri and using-named-graph-uri are not supported: "
                               "write USING / WITH in the update")
    reply = run_job("update", {"update": text})
    if isinstance(reply, Response):
        return reply
    return Response(status=204)


def service_description() -> Response:
    chosen = negotiation.choose(request.accept_mimetypes, negotiation.GRAPH)
    fmt = request.args.get("format") or request.args.get("output")
    if fmt:
        try:
            media_type = negotiation.wanted(fmt)
        except negotiation.UnknownFormat as exc:
            return text_error(400, str(exc))
        chosen = dict(negotiation.GRAPH).get(media_type), media_type
        if chosen[0] is None:
            chosen = None
    if chosen is None:
        return text_error(406, "the service description is available as "
                               f"{', '.join(negotiation.offered(negotiation.GRAPH)[:4])}")
    server = current_app.extensions["ckg"]
    endpoint = request.base_url
    triples = description.service_description(endpoint, updates=server.config.update_token is not None)
    response = Response(description.serialize(triples, chosen[0]), content_type=negotiation.content_type(chosen[1]))
    response.vary.add("Accept")
    return response
