"""``/sparql``: the SPARQL 1.1 Protocol, as Oxigraph's server does it.

- Queries: ``GET /sparql?query=…`` (``HEAD`` answers as GET, without the body), ``POST`` with
  ``application/x-www-form-urlencoded`` (``query=…``; parameters of the URL count too) or
  ``application/sparql-query`` (the query is the body, the parameters are the URL's).
  ``default-graph-uri`` and ``named-graph-uri`` (repeatable) name the dataset: the default graph
  is then the merge of the first, the named graphs exactly the second (none when none is given);
  without them the default graph is the union of the named graphs (pyoxigraph's union of quads:
  a triple held in two graphs would match twice; ckg's data holds each triple in one graph, which
  tests/test_server_protocol.py checks). Any other POST body type: 415.
  A malformed query: 400 with the parser's message. ``GET /sparql`` without a query: the service
  description, in RDF (Turtle without Accept or for ``*/*``); a browser (``text/html`` ahead of
  every RDF type in Accept, no ``format``) gets a page summarising it instead (:func:`wants_html`). Relative IRIs resolve against the request's URL (without its query string), the
  base IRI Oxigraph's server gives too.
- Text is UTF-8: a body or form that declares another charset, bytes that are not UTF-8, or a
  query string or form with a ``%`` escape that is malformed or does not decode to UTF-8 get 400
  naming the problem (:func:`encoding_problem`, checked for every path by the application).
  Exactly one ``query`` or one ``update`` per request (400 otherwise).
- Results: by the ``format`` (or ``output``) parameter, else by Accept (see
  :mod:`ckg.server.negotiation`); 406 when none fits. At most the row limit: a longer result is
  cut and says so (``X-CKG-Truncated: true``, ``X-CKG-Row-Limit``, a ``Warning`` header).
- Limits: a query runs in its own process and is stopped at the timeout (503); SERVICE may call
  only the allowlisted endpoints (403, 400 for a variable endpoint).
- Updates (``POST application/sparql-update`` or form ``update=…``): 403 while the endpoint is
  read-only (the default); with ``CKG_UPDATE_TOKEN`` set, they need
  ``Authorization: Bearer <token>`` (401 without it) and answer 204. ``using-graph-uri`` and
  ``using-named-graph-uri`` (repeatable) set the dataset of the update's operations, as USING and
  USING NAMED do (:func:`with_using`); with USING, USING NAMED or WITH in the update as well, or
  with a query's ``default-graph-uri``/``named-graph-uri``, the answer is 400.
"""

from __future__ import annotations

import hmac
import re
from urllib.parse import unquote_to_bytes

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, render_template, request, url_for

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
    except EngineBusy as exc:  # overloaded: say when to come back
        return text_error(503, str(exc), headers={"Retry-After": str(exc.retry_after)})


UTF8_NAMES = ("utf-8", "utf8")


def charset_problem(what: str) -> str | None:
    """Why the request's declared charset is refused (the protocol's text is UTF-8), or None."""
    charset = request.mimetype_params.get("charset")
    if charset is None or charset.strip().strip('"').lower() in UTF8_NAMES:
        return None
    return f"the {what} is declared as {charset!r} text: this endpoint takes UTF-8 only (charset=utf-8 or none)"


_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def encoding_problem(raw: bytes, what: str) -> str | None:
    """Why ``raw`` (a query string or an ``application/x-www-form-urlencoded`` body) is not
    well-formed percent-encoded UTF-8, or None.

    >>> encoding_problem(b"query=ASK%20%7B%7D&format=json", "query string") is None
    True
    >>> encoding_problem(b"query=caf%C3%A9+%E2%9C%93", "form") is None
    True
    >>> encoding_problem(b"query=%FF", "query string")
    "the query string's 'query' value is not UTF-8 once percent-decoded (byte 0xff at offset 0)"
    >>> encoding_problem(b"query=100%", "form")
    "the form has a '%' that starts no percent-escape (two hex digits) at offset 9: b'%'"
    """
    bad = _BAD_ESCAPE.search(raw)
    if bad:
        return (f"the {what} has a '%' that starts no percent-escape (two hex digits) at offset {bad.start()}: "
                f"{raw[bad.start():bad.start() + 3]!r}")
    for field in raw.split(b"&"):
        name, _, value = field.partition(b"=")
        for part, role in ((name, "name"), (value, "value")):
            decoded = unquote_to_bytes(part.replace(b"+", b" "))
            try:
                decoded.decode("utf-8")
            except UnicodeDecodeError as exc:
                shown = unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8", errors="replace")
                subject = f"a parameter name ({shown!r})" if role == "name" else f"{shown!r} value"
                return (f"the {what}'s {subject} is not UTF-8 once percent-decoded (byte "
                        f"0x{decoded[exc.start]:02x} at offset {exc.start})")
    return None


def _body_text() -> str | Response:
    """The body of a direct POST (a query or an update) as text: UTF-8 only."""
    problem = charset_problem("request body")
    if problem:
        return text_error(400, problem)
    data = request.get_data(cache=False)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return text_error(400, f"the request body is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                               f"{exc.start}); send the query or update in UTF-8")


def base_iri() -> str | None:
    """The base IRI of a request's query or update: the request's URL without its query string
    (what Oxigraph's server uses), None when that is no IRI."""
    try:
        return ox.NamedNode(request.base_url).value
    except ValueError:
        return None


def _formats(params) -> dict:
    """The format chosen for each kind of result, from ``format``/``output`` or Accept."""
    accept = negotiation.accept_of(params.get("format") or params.get("output"), request.accept_mimetypes)
    return {
        "solutions": negotiation.choose(accept, negotiation.SOLUTIONS),
        "graph": negotiation.choose(accept, negotiation.GRAPH),
        "solutions_offered": negotiation.offered(negotiation.SOLUTIONS)[:4],
        "graph_offered": negotiation.offered(negotiation.GRAPH)[:4],
    }


def _dataset(params) -> dict:
    default = params.getlist("default-graph-uri")
    named = params.getlist("named-graph-uri")
    return {"default_graphs": default, "named_graphs": named} if (default or named) else {}


QUERY_DATASET = ("default-graph-uri", "named-graph-uri")
UPDATE_DATASET = ("using-graph-uri", "using-named-graph-uri")


def _misplaced(params, names: tuple[str, ...], operation: str, instead: tuple[str, ...]) -> Response | None:
    given = [name for name in names if params.getlist(name)]
    if given:
        return text_error(400, f"{' and '.join(given)} {'does' if len(given) == 1 else 'do'} not apply to {operation}: "
                               f"the dataset of {operation} is given by {' and '.join(instead)}")
    return None


@bp.route("/sparql", methods=["GET", "POST"])
def sparql() -> Response:
    if request.method in ("GET", "HEAD"):  # Flask routes HEAD here; werkzeug sends no body for it
        params = request.args
        if "update" in params:
            return text_error(400, "a SPARQL update must be sent with POST (application/sparql-update or a form)")
        texts = params.getlist("query")
        if not texts:
            return service_description()
    else:
        mimetype = request.mimetype
        if mimetype in ("application/sparql-query", "application/sparql-update"):
            params = request.args
            if "query" in params or "update" in params:
                return text_error(400, f"a POST of {mimetype} has its {mimetype.rsplit('-', 1)[1]} in the body: "
                                       "the URL must have no 'query' or 'update' parameter")
            body = _body_text()
            if isinstance(body, Response):
                return body
            if mimetype == "application/sparql-update":
                return update(body, params)
            texts = [body]
        elif mimetype == "application/x-www-form-urlencoded":
            problem = charset_problem("form")  # the application checked its percent-encoding already
            if problem:
                return text_error(400, problem)
            params = request.values  # the form's fields and the URL's parameters
            updates = params.getlist("update")
            if updates:
                if "query" in params:
                    return text_error(400, "a request has either a query or an update, not both")
                if len(updates) != 1:
                    return text_error(400, f"give exactly one update (the request has {len(updates)} 'update' fields)")
                return update(updates[0], params)
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
    misplaced = _misplaced(params, UPDATE_DATASET, "a query", QUERY_DATASET)
    if misplaced is not None:
        return misplaced
    formats = _formats(params)
    if formats["solutions"] is None and formats["graph"] is None:
        return text_error(406, "none of the result formats is acceptable: SELECT and ASK results are "
                               f"{', '.join(formats['solutions_offered'])}; CONSTRUCT and DESCRIBE results are "
                               f"{', '.join(formats['graph_offered'])}")
    server = current_app.extensions["ckg"]
    reply = run_job("query", {"query": text, "formats": formats, "max_rows": server.config.max_rows,
                              "base_iri": base_iri(), **_dataset(params)})
    if isinstance(reply, Response):
        return reply
    response = result_response(reply)
    service = reply.get("service")
    if service:  # what the SERVICE clauses cost (ckg.server.federation.Calls)
        response.headers["X-CKG-Service-Requests"] = str(service["requests"])
        response.headers["X-CKG-Service-Rows"] = str(service["rows"])
        response.headers["X-CKG-Service-Cached"] = str(service["cached"])
        response.headers["X-CKG-Service-Bind-Joins"] = str(service["bind_joins"])
        response.headers["X-CKG-Service-Join-Values"] = str(service["probe_rows"])
    return response


def result_response(reply: dict) -> Response:
    """The answer of a query job (:func:`ckg.server.jobs.serialise`): its body in the negotiated
    type, the rows it holds, and whether it was cut at the row limit (``Vary: Accept``)."""
    response = Response(reply["body"], status=200, content_type=negotiation.content_type(reply["media_type"]))
    if reply["count"] is not None:
        response.headers["X-CKG-Rows"] = str(reply["count"])
    if reply["truncated"]:
        limit = current_app.extensions["ckg"].config.max_rows
        response.headers["X-CKG-Truncated"] = "true"
        response.headers["X-CKG-Row-Limit"] = str(limit)
        what = "rows" if reply["form"] == "SELECT" else "triples"
        response.headers["Warning"] = f'199 ckg "result truncated to the first {limit} {what} (CKG_MAX_ROWS)"'
    response.vary.add("Accept")
    return response


def update(text: str, params) -> Response:
    if current_app.extensions["ckg"].config.sparql_backend:
        from ckg.server.remote import UPDATES_REFUSED

        return text_error(403, UPDATES_REFUSED)
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
    misplaced = _misplaced(params, QUERY_DATASET, "an update", UPDATE_DATASET)
    if misplaced is not None:
        return misplaced
    using, using_named = params.getlist("using-graph-uri"), params.getlist("using-named-graph-uri")
    if using or using_named:
        try:
            text = with_using(text, using, using_named)
        except DatasetConflict as exc:
            return text_error(400, str(exc))
    reply = run_job("update", {"update": text, "base_iri": base_iri()})
    if isinstance(reply, Response):
        return reply
    return Response(status=204)


class DatasetConflict(ValueError):
    """The protocol names an update's dataset and the update names one too (or an IRI is bad)."""


_TOKENS = re.compile(r'''
    (?P<skip>\s+|\#[^\n]*)
  | (?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\'
              |"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<open>\{) | (?P<close>\}) | (?P<semicolon>;)
  | (?P<word>[^\s{};"'<\#]+)
  | (?P<other>.)
''', re.X | re.S)


def with_using(update: str, using: list[str], using_named: list[str]) -> str:
    """The update with ``USING <g>`` for each IRI of ``using`` and ``USING NAMED <g>`` for each of
    ``using_named`` before the WHERE of each of its DELETE/INSERT operations (a ``DELETE WHERE
    {P}`` becomes ``DELETE {P} USING … WHERE {P}``): what the protocol's ``using-graph-uri`` and
    ``using-named-graph-uri`` mean (SPARQL 1.1 Protocol 2.2.3; pyoxigraph's update takes no
    dataset). An update that has USING, USING NAMED or WITH itself is refused (the protocol says
    so), as is a parameter that is no IRI. Other operations (INSERT DATA, LOAD, CLEAR, ...) are
    left as they are.

    >>> with_using("INSERT { ?s a <C> } WHERE { ?s ?p ?o }", ["http://g/1"], ["http://g/2"])
    'INSERT { ?s a <C> } USING <http://g/1> USING NAMED <http://g/2> WHERE { ?s ?p ?o }'
    >>> print(with_using("PREFIX w: <http://w/> DELETE WHERE { ?s w:where 'WHERE' } ; INSERT DATA { <a> <b> 1 }",
    ...                  ["http://g"], []))
    PREFIX w: <http://w/> DELETE { ?s w:where 'WHERE' } USING <http://g> WHERE { ?s w:where 'WHERE' } ;
    INSERT DATA { <a> <b> 1 }
    >>> with_using("WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", [], ["http://g"])
    Traceback (most recent call last):
    ...
    ckg.server.protocol.DatasetConflict: using-graph-uri/using-named-graph-uri cannot be combined with WITH in the
    update (SPARQL 1.1 Protocol 2.2.3): give the dataset in one place
    """
    clauses = []
    for name, iris, keyword in (("using-graph-uri", using, "USING"),
                                ("using-named-graph-uri", using_named, "USING NAMED")):
        for iri in iris:
            try:
                clauses.append(f"{keyword} <{ox.NamedNode(iri).value}>")
            except ValueError:
                raise DatasetConflict(f"{name} {iri!r} is not an IRI") from None
    using_text = " ".join(clauses)
    tokens = [(m.lastgroup, m.start(), m.end()) for m in _TOKENS.finditer(update) if m.lastgroup != "skip"]
    depth = 0
    operations: list[list[tuple[str, int, int, int]]] = [[]]
    for kind, start, end in tokens:  # each token with the brace depth it is at
        if kind == "close":
            depth = max(depth - 1, 0)
        if kind == "semicolon" and depth == 0:
            operations.append([])
            continue
        operations[-1].append((kind, start, end, depth))
        if kind == "open":
            depth += 1
    edits: list[tuple[int, int, str]] = []
    for operation in operations:
        top = [(kind, start, end) for kind, start, end, d in operation if d == 0]
        words = [(update[start:end].upper(), start, end) for kind, start, end in top if kind == "word"]
        for keyword in ("USING", "WITH"):
            if any(word == keyword for word, _, _ in words):
                raise DatasetConflict(f"using-graph-uri/using-named-graph-uri cannot be combined with {keyword} in the "
                                      "update (SPARQL 1.1 Protocol 2.2.3): give the dataset in one place")
        i = 0
        while i < len(top) and update[top[i][1]:top[i][2]].upper() in ("BASE", "PREFIX"):  # the prologue
            i += 3 if update[top[i][1]:top[i][2]].upper() == "PREFIX" else 2
        if i >= len(top) or update[top[i][1]:top[i][2]].upper() not in ("DELETE", "INSERT"):
            continue  # INSERT/DELETE DATA, LOAD, CLEAR, ...: no dataset
        following = update[top[i + 1][1]:top[i + 1][2]].upper() if i + 1 < len(top) else ""
        if following == "DATA":
            continue
        where = next(((start, end) for word, start, end in words if word == "WHERE" and start > top[i][1]), None)
        if where is None:
            continue  # malformed: the parser says why
        if update[top[i][1]:top[i][2]].upper() == "DELETE" and following == "WHERE":
            pattern = _group_after(operation, where[1])
            if pattern is None:
                continue
            pattern_text = update[pattern[0]:pattern[1]]
            edits.append((where[0], where[1], f"{pattern_text} {using_text} WHERE"))
        else:
            edits.append((where[0], where[0], f"{using_text} "))
    for start, end, text in sorted(edits, reverse=True):
        update = update[:start] + text + update[end:]
    return update


def _group_after(operation, offset: int) -> tuple[int, int] | None:
    """(start, end) of the ``{ … }`` group that opens after ``offset`` in an operation's tokens."""
    begin = None
    for kind, start, end, depth in operation:
        if start < offset:
            continue
        if begin is None:
            if kind != "open":
                return None
            begin = start
        elif kind == "close" and depth == 0:
            return begin, end
    return None


def wants_html() -> bool:
    """True for a browser's request: ``text/html`` accepted ahead of every RDF type, no ``format``
    or ``output`` parameter. ``*/*``, no Accept, or an RDF type first: the RDF description."""
    if request.args.get("format") or request.args.get("output"):
        return False
    accept = request.accept_mimetypes
    if not accept or "text/html" not in accept.values():
        return False
    return accept.best_match([m for m, _ in negotiation.GRAPH] + ["text/html"]) == "text/html"


def _description_page(triples: list[ox.Triple], endpoint: str) -> Response:
    """The service description as a page: what it says, for a person."""
    from ckg.server import functions

    sd = description._SD

    def objects(predicate: str) -> list[str]:
        return list(dict.fromkeys(t.object.value for t in triples if t.predicate.value == sd + predicate))

    labels = {iri: media for media, iri in negotiation.FORMAT_IRIS.items()}
    formats = [{"iri": iri, "media_type": labels.get(iri, iri), "name": iri.rsplit("/", 1)[-1].replace("_", " ")}
               for iri in objects("resultFormat")]
    rdf_types = negotiation.offered(negotiation.GRAPH)[:4]
    page = render_template(
        "endpoint.html", endpoint=endpoint, languages=[v.rsplit("#", 1)[-1] for v in objects("supportedLanguage")],
        features=[v.rsplit("#", 1)[-1] for v in objects("feature")], formats=formats, graphs=objects("name"),
        functions=functions.descriptions(), rdf={m: url_for("protocol.sparql", format=m) for m in rdf_types},
        void=url_for("linked.void"), updates=current_app.extensions["ckg"].config.update_token is not None)
    response = Response(page, content_type="text/html; charset=utf-8")
    response.vary.add("Accept")
    return response


def service_description() -> Response:
    server = current_app.extensions["ckg"]
    if wants_html():
        triples = description.service_description(request.base_url, updates=server.config.update_token is not None,
                                                   void=url_for("linked.void", _external=True))
        return _description_page(triples, request.base_url)
    chosen = negotiation.choose(negotiation.accept_of(request.args.get("format") or request.args.get("output"),
                                                      request.accept_mimetypes), negotiation.GRAPH)
    if chosen is None:
        return text_error(406, "the service description is available as "
                               f"{', '.join(negotiation.offered(negotiation.GRAPH)[:4])}")
    server = current_app.extensions["ckg"]
    endpoint = request.base_url
    triples = description.service_description(endpoint, updates=server.config.update_token is not None,
                                               void=url_for("linked.void", _external=True))
    response = Response(description.serialize(triples, chosen[0]), content_type=negotiation.content_type(chosen[1]))
    response.vary.add("Accept")
    return response
