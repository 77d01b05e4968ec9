"""SERVICE clauses evaluated by ckg, not by pyoxigraph: the only place the endpoint calls out.

The query processes have no network (:mod:`ckg.server.sandbox`), so pyoxigraph's own SERVICE
evaluation can never reach anything. Before a query or update goes to a query process, the web
worker finds its outermost ``SERVICE`` clauses (:mod:`ckg.sparql_text`), and for each one:

1. resolves the endpoint IRI (``PREFIX``/``BASE`` declarations included) and refuses it unless
   it is on the allowlist (403; 400 for a variable endpoint or a malformed IRI);
2. sends the clause's pattern to the endpoint as ``SELECT * WHERE { … }`` with the text's prefix
   declarations, by GET (form-encoded POST when the URL would be too long), asking for SPARQL
   JSON results; the request goes to exactly the allowlisted scheme, host and port, checked
   again where the connection is made (:func:`fetch`); redirects are not followed;
3. replaces the clause by a ``VALUES`` block of the answer — in the grammar both are a
   "graph pattern not triples" of the same group, joined with the rest of it the same way.

A clause that is an element of the query's own ``WHERE`` group is asked as a *bind join*
(:mod:`ckg.server.bindjoin`): the values its variables can take from the rest of the group are
found in this store first (a probe query in a query process) and sent along in ``VALUES``
blocks of :data:`BIND_JOIN_BATCH` rows, so that the remote answers the rows the query can use,
not its whole pattern; the answer is the same. Answers are kept in a small per-process cache
(:func:`cached_fetch`: the same text to the same endpoint within :data:`CACHE_SECONDS`), and each
query's calls are counted (:class:`Calls`; the endpoint reports them in ``X-CKG-Service-*``
headers).

``SERVICE SILENT`` turns any failure into one empty solution, as SPARQL 1.1 Federated Query
says. Without SILENT a failure answers 502 (504 when the endpoint took too long). An answer of
more than ``max_rows`` rows (``CKG_SERVICE_MAX_ROWS``), or one that another ckg endpoint says
it cut, is a failure (never silently cut). Blank nodes of an answer become
IRIs ``urn:ckg:service-bnode:…`` (``VALUES`` cannot hold blank nodes). A text that does not lex
goes on unchanged: pyoxigraph reports the syntax error, and a ``SERVICE`` it reads where this
lexer did not fails in the closed network of the query process.

``LOAD`` is refused (403): the endpoint fetches no documents.

>>> plan("SELECT * WHERE { ?s ?p ?o }", allowlist=())
[]
>>> plan("SELECT * WHERE { SERVICE <http://a.org/sparql> { ?s ?p ?o } }", allowlist=())
Traceback (most recent call last):
...
ckg.server.guard.ServiceNotAllowed: SERVICE <http://a.org/sparql> is not allowed: this endpoint calls no other endpoint (its SERVICE allowlist, CKG_SERVICE_ALLOWLIST, is empty)
>>> [(c.endpoint, c.silent, c.pattern) for c in plan(
...     "PREFIX e: <http://a.org/> ASK { SERVICE SILENT e:sparql { ?s ?p ?o } }", allowlist=["http://a.org/sparql"])]
[('http://a.org/sparql', True, ' ?s ?p ?o ')]
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import pyoxigraph as ox

from ckg.server import bindjoin
from ckg.server.guard import (
    GuardError,
    ServiceNotAllowed,
    ServiceNotChecked,
    allowlist_reason,
    normalize_endpoint,
)
from ckg.sparql_text import LexError, Token, closing, declarations, iri_value, tokens
from ckg.terms import PREFIXES

MAX_GET_URL = 4096
"""Longest GET URL sent; a longer query is POSTed as a form."""
MAX_ANSWER_BYTES = 64 * 2**20
USER_AGENT = "ckg-federation (+https://w3id.org/ckg)"


class FederationError(Exception):
    """A SERVICE call failed: ``status`` is the HTTP status to answer (502, or 504 on a timeout)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Clause:
    """One outermost SERVICE clause: where it stands in the text and what it asks."""

    start: int
    end: int
    endpoint: str
    silent: bool
    pattern: str
    prologue: str


def plan(text: str, allowlist, *, update: bool = False, base_iri: str | None = None) -> list[Clause]:
    """The outermost SERVICE clauses of a text, each checked against the allowlist.

    Raises :class:`~ckg.server.guard.GuardError` for a LOAD, a variable or malformed endpoint, or
    an endpoint off the allowlist. A text that does not lex has no clauses here.
    """
    try:
        toks = list(tokens(text))
    except LexError:
        return []
    if not _balanced(toks):
        return []  # the parser refuses it anyway: call nothing for it
    allowed = {normalize_endpoint(a): a for a in allowlist}
    clauses: list[Clause] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        if tok.is_keyword("LOAD") and update:
            rest = [t for t in toks[i + 1:i + 3] if not t.is_keyword("SILENT")]
            target = f" {rest[0].text}" if rest else ""
            raise ServiceNotAllowed(f"LOAD{target} is not allowed: this endpoint fetches no documents from the "
                                    "network (load files with `ckg build`/`ckg update`, or send the triples in "
                                    "INSERT DATA)")
        if not tok.is_keyword("SERVICE"):
            i += 1
            continue
        clause, i = _clause(text, toks, i, allowed, base_iri)
        if clause is not None:
            clauses.append(clause)
    return clauses


def _balanced(toks: list[Token]) -> bool:
    depth = 0
    for t in toks:
        if t.kind == "punct" and t.text in "{([":
            depth += 1
        elif t.kind == "punct" and t.text in "})]":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _clause(text: str, toks: list[Token], i: int, allowed: dict[str, str],
            base_iri: str | None) -> tuple[Clause | None, int]:
    """The clause starting at token ``i`` (SERVICE) and the index after it."""
    j = i + 1
    silent = j < len(toks) and toks[j].is_keyword("SILENT")
    j += silent
    if j + 1 >= len(toks) or toks[j + 1].text != "{":
        return None, i + 1  # not a SERVICE clause the parser will accept: left to its error
    target = toks[j]
    if target.kind == "var":
        which = "one on this endpoint's SERVICE allowlist" if allowed else "none is allowed here"
        raise ServiceNotChecked(f"SERVICE with a variable endpoint ({target.text}) is not allowed: "
                                f"name the endpoint ({which})")
    base, prefixes = declarations(toks, i)
    iri = iri_value(target, {**PREFIXES, **prefixes})
    if iri is None:
        return None, i + 1  # an undeclared prefix: the parser reports it
    base = base or base_iri
    if base and not urlsplit(iri).scheme:
        iri = urljoin(base, iri)
    endpoint = _check_endpoint(iri, allowed)
    try:
        end = closing(toks, j + 1)
    except LexError:
        return None, len(toks)  # unbalanced: the parser reports it
    pattern = text[toks[j + 1].end:toks[end].start]
    lines = [f"PREFIX {p}: <{v}>" for p, v in {**PREFIXES, **prefixes}.items()]
    if base:
        lines.insert(0, f"BASE <{base}>")
    return Clause(toks[i].start, toks[end].end, endpoint, silent, pattern, "\n".join(lines)), end + 1


def _check_endpoint(iri: str, allowed: dict[str, str]) -> str:
    try:
        key = normalize_endpoint(iri)
    except ValueError as exc:
        raise ServiceNotChecked(f"SERVICE <{iri}> is not a valid endpoint IRI: {exc}") from None
    if key not in allowed:
        raise ServiceNotAllowed(f"SERVICE <{iri}> is not allowed: {allowlist_reason(allowed.values())}")
    return allowed[key]


@dataclass
class Calls:
    """What the SERVICE clauses of one query cost (the endpoint reports them in headers)."""

    requests: int = 0  # HTTP requests sent
    rows: int = 0  # rows they answered
    cached: int = 0  # answers taken from the cache instead
    bind_joins: int = 0  # clauses asked with the values of the rest of the query (ckg.server.bindjoin)
    probe_rows: int = 0  # the join values found for them


Probe = Callable[[str, float], "dict[str, Any] | None"]
"""Runs a probe query on the local store by a deadline: SPARQL JSON results, or None when they
would be more than :data:`BIND_JOIN_MAX_ROWS` rows or the probe failed."""

BIND_JOIN_MAX_ROWS = 10_000
"""Most join values a bind join sends (in batches); a probe with more sends the clause whole."""
BIND_JOIN_BATCH = 200
"""Join values sent in one request, unless the caller says (the endpoint's ``CKG_SERVICE_BATCH``)."""


def prepare(text: str, allowlist, *, update: bool = False, base_iri: str | None = None,
            deadline: float | None = None, max_rows: int = 10000, probe: Probe | None = None,
            calls: Calls | None = None, batch: int | None = None) -> str:
    """The text with every outermost SERVICE clause replaced by the VALUES of its answer.

    ``deadline`` is a :func:`time.monotonic` time by which every call must have answered. With
    ``probe``, the clauses that a bind join can ask (:mod:`ckg.server.bindjoin`) are sent with the
    values the rest of the query joins them with.
    """
    clauses = plan(text, allowlist, update=update, base_iri=base_iri)
    if not clauses:
        return text
    deadline = deadline if deadline is not None else time.monotonic() + 30
    calls = calls if calls is not None else Calls()
    joins = bindjoin.analyse(text) if probe is not None and not update else {}
    out = []
    last = 0
    for clause in clauses:
        out.append(text[last:clause.start])
        join = joins.get(clause.start)
        known = _join_values(join, probe, deadline, calls) if join is not None else None
        out.append(_values_for(clause, allowlist, deadline, max_rows, calls, known, batch or BIND_JOIN_BATCH))
        last = clause.end
    out.append(text[last:])
    return "".join(out)


def _join_values(join: bindjoin.BindJoin, probe: Probe, deadline: float,
                 calls: Calls) -> tuple[tuple[str, ...], list[str]] | None:
    """(join variables, rows of SPARQL terms) the clause can join with, or None to send it whole."""
    answer = probe(join.probe, deadline)
    if answer is None:
        return None
    try:
        bindings = answer["results"]["bindings"]
        rows = []
        for binding in bindings:
            cells = [binding.get(v) for v in join.variables]
            if any(c is None or c.get("type") == "bnode" for c in cells):
                return None  # a row that constrains nothing (or a blank node no endpoint shares)
            rows.append("(" + " ".join(_term(c, {}, "") for c in cells) + ")")
    except (KeyError, TypeError, AttributeError, ValueError):
        return None
    calls.bind_joins += 1
    calls.probe_rows += len(rows)
    return join.variables, sorted(rows)  # the same text for the same values: the cache can answer it


def _values_for(clause: Clause, allowlist, deadline: float, max_rows: int, calls: Calls,
                known: tuple[tuple[str, ...], list[str]] | None = None, batch: int = BIND_JOIN_BATCH) -> str:
    if known is None:
        queries = [f"{clause.prologue}\nSELECT * WHERE {{{clause.pattern}}}"]
    else:
        variables, rows = known
        head = " ".join(f"?{v}" for v in variables)
        queries = [f"{clause.prologue}\nSELECT * WHERE {{ VALUES ({head}) {{ {' '.join(rows[i:i + batch])} }}"
                   f"{clause.pattern}}}" for i in range(0, len(rows), batch)]
        if not queries:
            return "VALUES () { }"  # the rest of the group has no solution: nothing to join with
    try:
        names: dict[str, None] = {}
        bindings: list = []
        for query in queries:
            answer = cached_fetch(clause.endpoint, query, allowlist=allowlist, deadline=deadline, calls=calls)
            head, got = _select_results(answer, clause.endpoint)
            names.update(dict.fromkeys(head))
            bindings.extend(got)
            if len(bindings) > max_rows:
                break  # values_block refuses it
        return values_block({"head": {"vars": list(names)}, "results": {"bindings": bindings}}, max_rows=max_rows,
                            endpoint=clause.endpoint)
    except FederationError:
        if clause.silent:
            return "VALUES () { () }"
        raise


def _select_results(answer: dict[str, Any], endpoint: str) -> tuple[list[str], list]:
    try:
        names = [str(v) for v in answer["head"].get("vars", [])]
        bindings = answer["results"]["bindings"]
        if not isinstance(bindings, list):
            raise TypeError("results.bindings is not a list")
    except (KeyError, TypeError, AttributeError) as exc:
        raise FederationError(502, f"SERVICE <{endpoint}> did not answer SELECT results: {exc}") from None
    return names, bindings


CACHE_ENTRIES = 256
"""Remote answers kept by a web worker (the most recently used)."""
CACHE_SECONDS = 300.0
"""How long a remote answer is reused."""
CACHE_MAX_BYTES = 1 << 20
"""Larger answers are not kept."""
_cache: OrderedDict[tuple[str, str], tuple[float, dict[str, Any]]] = OrderedDict()
_cache_lock = threading.Lock()


def cached_fetch(endpoint: str, query: str, *, allowlist, deadline: float, calls: Calls | None = None) -> dict[str, Any]:
    """:func:`fetch`, answered from a small cache of recent answers (:data:`CACHE_ENTRIES` of at
    most :data:`CACHE_MAX_BYTES`, for :data:`CACHE_SECONDS`) when the same endpoint was asked the
    same text. The allowlist is checked before the cache is read."""
    calls = calls if calls is not None else Calls()
    allowed = {normalize_endpoint(a) for a in allowlist}
    if normalize_endpoint(endpoint) not in allowed:
        raise ServiceNotAllowed(f"SERVICE <{endpoint}> is not allowed: {allowlist_reason(allowlist)}")
    key = (normalize_endpoint(endpoint), query)
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] > now:
            _cache.move_to_end(key)
            calls.cached += 1
            return hit[1]
    answer = fetch(endpoint, query, allowlist=allowlist, deadline=deadline)
    calls.requests += 1
    rows = answer.get("results", {}).get("bindings") if isinstance(answer.get("results"), dict) else None
    calls.rows += len(rows) if isinstance(rows, list) else 0
    if answer.get("_bytes", 0) <= CACHE_MAX_BYTES:
        with _cache_lock:
            _cache[key] = (now + CACHE_SECONDS, answer)
            _cache.move_to_end(key)
            while len(_cache) > CACHE_ENTRIES:
                _cache.popitem(last=False)
    return answer


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def fetch(endpoint: str, query: str, *, allowlist, deadline: float) -> dict[str, Any]:
    """Ask a SPARQL endpoint on the allowlist for SELECT results (SPARQL JSON), by the deadline.

    The allowlist is checked here, on the very URL the connection is made to.
    """
    allowed = {normalize_endpoint(a) for a in allowlist}
    url = normalize_endpoint(endpoint)
    if url not in allowed:  # enforced where the request is made, whatever called this
        raise ServiceNotAllowed(f"SERVICE <{endpoint}> is not allowed: {allowlist_reason(allowlist)}")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ServiceNotAllowed(f"SERVICE <{endpoint}> is not allowed: only http(s) endpoints can be called")
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FederationError(504, f"SERVICE <{endpoint}> was not called: the query's time was up")
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=remaining)
    path = parts.path or "/"
    headers = {"Accept": "application/sparql-results+json", "User-Agent": USER_AGENT}
    params = urlencode({"query": query})
    joined = f"{path}?{parts.query + '&' if parts.query else ''}{params}"
    try:
        if len(joined) <= MAX_GET_URL:
            connection.request("GET", joined, headers=headers)
        else:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            target = f"{path}?{parts.query}" if parts.query else path
            connection.request("POST", target, body=params.encode("ascii"), headers=headers)
        response = connection.getresponse()
        body = _read(response, deadline, endpoint)
    except TimeoutError:
        raise FederationError(504, f"SERVICE <{endpoint}> did not answer in time") from None
    except (OSError, http.client.HTTPException) as exc:
        raise FederationError(502, f"SERVICE <{endpoint}> failed: {exc or type(exc).__name__}") from None
    finally:
        connection.close()
    if response.status != 200:
        snippet = body[:200].decode("utf-8", "replace").strip()
        where = f" (to {response.getheader('Location')}; redirects are not followed)" if 300 <= response.status < 400 else ""
        raise FederationError(502, f"SERVICE <{endpoint}> answered HTTP {response.status}{where}: {snippet}")
    if (response.getheader("X-CKG-Truncated") or "").lower() == "true":
        raise FederationError(502, f"SERVICE <{endpoint}> cut its answer at its row limit "
                                   f"({response.getheader('X-CKG-Row-Limit')} rows): narrow the pattern")
    try:
        answer = json.loads(body)
        if not isinstance(answer, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        raise FederationError(502, f"SERVICE <{endpoint}> did not answer SPARQL JSON results: {exc}") from None
    answer["_bytes"] = len(body)
    return answer


def read_capped(response: http.client.HTTPResponse, deadline: float, limit: int) -> bytes | None:
    """An HTTP answer's body, read until ``deadline`` (``time.monotonic``; past it, TimeoutError):
    None when it is longer than ``limit`` bytes (also :mod:`ckg.server.remote`'s reader)."""
    chunks, size = [], 0
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError
        chunk = response.read1(1 << 16) if hasattr(response, "read1") else response.read(1 << 16)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


def _read(response: http.client.HTTPResponse, deadline: float, endpoint: str) -> bytes:
    body = read_capped(response, deadline, MAX_ANSWER_BYTES)
    if body is None:
        raise FederationError(502, f"SERVICE <{endpoint}> answered more than {MAX_ANSWER_BYTES} bytes")
    return body


def values_block(answer: dict[str, Any], *, max_rows: int, endpoint: str = "the endpoint") -> str:
    """A SPARQL JSON result as a ``VALUES`` block.

    >>> values_block({"head": {"vars": ["a", "b"]}, "results": {"bindings": [
    ...     {"a": {"type": "uri", "value": "http://e/x"}, "b": {"type": "literal", "value": "hi", "xml:lang": "en"}},
    ...     {"b": {"type": "literal", "value": "2", "datatype": "http://www.w3.org/2001/XMLSchema#integer"}}]}},
    ...     max_rows=10)
    'VALUES (?a ?b) { (<http://e/x> "hi"@en) (UNDEF "2"^^<http://www.w3.org/2001/XMLSchema#integer>) }'
    """
    names, bindings = _select_results(answer, endpoint)
    if len(bindings) > max_rows:
        raise FederationError(502, f"SERVICE <{endpoint}> answered more than {max_rows} rows, this endpoint's "
                                   "limit for one SERVICE call (CKG_SERVICE_MAX_ROWS): narrow the pattern")
    for name in names:
        ox.Variable(name)  # raises ValueError for a malformed name
    bnodes: dict[str, str] = {}
    scope = uuid.uuid4().hex
    rows = []
    try:
        for binding in bindings:
            cells = [_term(binding.get(name), bnodes, scope) for name in names]
            rows.append("(" + " ".join(cells) + ")")
    except (ValueError, TypeError, AttributeError) as exc:
        raise FederationError(502, f"SERVICE <{endpoint}> answered a malformed term: {exc}") from None
    head = " ".join(f"?{n}" for n in names)
    return f"VALUES ({head}) {{ {' '.join(rows)} }}"


def _term(cell: Any, bnodes: dict[str, str], scope: str) -> str:
    if cell is None:
        return "UNDEF"
    kind, value = cell["type"], cell["value"]
    if kind == "uri":
        return str(ox.NamedNode(value))
    if kind == "bnode":
        return str(ox.NamedNode(bnodes.setdefault(value, f"urn:ckg:service-bnode:{scope}:{len(bnodes)}")))
    if kind in ("literal", "typed-literal"):
        if cell.get("xml:lang"):
            return str(ox.Literal(value, language=cell["xml:lang"]))
        if cell.get("datatype"):
            return str(ox.Literal(value, datatype=ox.NamedNode(cell["datatype"])))
        return str(ox.Literal(value))
    raise ValueError(f"unknown term type {kind!r}")


__all__ = ["Calls", "Clause", "FederationError", "GuardError", "cached_fetch", "fetch", "plan", "prepare",
           "values_block"]
