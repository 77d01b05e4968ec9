"""``ckg serve --sparql-backend URL``: the SPARQL side answered by another SPARQL 1.1 endpoint.

The graph's N-Quads export (``ckg export``) loads unchanged into an engine that scales past
Oxigraph (Virtuoso, QLever, ...). With a backend, the server sends every query — ``/sparql``, the
named queries of ``/api/queries``, the paper records, the ranking, the titles of similar papers —
as SPARQL over HTTP to that one endpoint instead of running it in its own query processes. The
store folder still serves what is not in the triples: the embedding run behind
``/api/papers/<paper>/similar`` (the neighbours come from the stored vectors; their titles from the
backend).

How a query is sent (:meth:`RemoteStore.query`, a stand-in for ``pyoxigraph.Store.query`` under the
job functions of :mod:`ckg.server.jobs` and :mod:`ckg.server.records`):

1. it is parsed by pyoxigraph (on an empty store, never evaluated): a syntax error, an unknown
   function, a Virtuoso-only construct (``DEFINE``, ``bif:``) is a 400 before anything is sent;
2. its parameters are written into the text, as ``ckg queries --portable`` does
   (:func:`ckg.queries.portable.portable_query`);
3. ckg's extension functions are rewritten to the values the build stored (:func:`rewrite`):
   ``ckg:pageRank(?p)`` reads ``ckg:pageRankScore`` (graph/ranking), ``ckg:citationCount(?p)``
   reads ``ckg:citedByCount`` (graph/signals; none means 0), ``ckg:citationCountAbout(?p, ?s…)``
   counts the citing papers about the subjects from the stored edges (a grouped subquery). Each call
   in a ``BIND``, ``FILTER``, projection, ``GROUP BY``, ``HAVING`` or ``ORDER BY`` becomes an
   ``OPTIONAL`` pattern with fresh variables (joined on the argument by a ``FILTER``, so an
   unbound argument leaves the value unbound, as ckg's function does) and an expression over
   them. The similarity functions need the store's vectors: a query calling one is refused
   (400), as is a call that cannot be rewritten (an argument that is an expression, a call in a
   ``SELECT *`` subquery);
4. the rewritten text, with ``PREFIX`` lines for ckg's prefixes, is parsed again by pyoxigraph
   (what is sent is checked, not what was received) and must name no ``SERVICE`` or ``LOAD``
   (allowlisted ``SERVICE`` clauses were answered by :mod:`ckg.server.federation` before);
5. a ``SELECT`` sent for the endpoint or the named-query API gets ``LIMIT max_rows + 1``, so the
   backend sends at most one row more than the answer can hold (the cut is reported as locally);
6. it goes by GET (form-encoded POST when long: Virtuoso answers no ``application/sparql-query``
   POST) to the configured URL only — no URL of a request is ever contacted — with the time left
   of the request's timeout as socket timeout and as Virtuoso's ``timeout`` parameter; the answer
   is read until that deadline, at most :data:`MAX_ANSWER_BYTES`. Virtuoso's "anytime" answer
   (cut at its time limit, flagged by ``X-SQL-State``) is an error, never taken for a whole one.

Updates are refused (403): the backend is loaded from the export, not written through ckg.
Virtuoso writes ``xsd:double`` values with about 7 significant digits, so PageRank scores read
from it agree with ckg's to about 1e-6 (relative), while its ordering uses the stored values.

>>> rewrite("SELECT ?p ?r WHERE { ?p a ckg:Paper BIND(ckg:pageRank(?p) AS ?r) }").split("WHERE")[1]
' { ?p a ckg:Paper OPTIONAL { GRAPH <https://w3id.org/ckg/resource/graph/ranking> { ?ckg_rw2 <https://w3id.org/ckg/ontology#pageRankScore> ?ckg_rw1 } FILTER(?ckg_rw2 = ?p) } BIND(?ckg_rw1 AS ?r) }'
>>> rewrite("SELECT (ckg:similarity(?a, ?b) AS ?s) WHERE { ?a ?x ?b }")
Traceback (most recent call last):
...
ckg.server.jobs.JobError: ckg:similarity needs the local store's vectors or search index and is not available with --sparql-backend
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode, urlsplit

import pyoxigraph as ox

from ckg import resources
from ckg.server import jobs
from ckg.server.engine import EngineBusy, JobFailed, QueryTimeout
from ckg.server.federation import read_capped
from ckg.server.guard import ServiceNotAllowed, expand_escapes
from ckg.server.jobs import JobError
from ckg.sparql_text import Token, closing, iri_value, prologue, tokens, where_brace
from ckg.terms import CKG, PREFIXES, RDF, SKOS

MAX_ANSWER_BYTES = 64 * 2**20
"""The most bytes read of one answer of the backend."""
MAX_GET_URL = 4096
USER_AGENT = "ckg-serve (+https://w3id.org/ckg)"
UPDATES_REFUSED = ("this endpoint sends its queries to a SPARQL backend (--sparql-backend) and writes nothing: "
                   "SPARQL updates are refused; load the changed export into the backend instead")

CKG_NS = PREFIXES["ckg"]
REWRITTEN = ("citationCount", "citationCountAbout", "pageRank")
"""ckg's functions that :func:`rewrite` turns into patterns over the stored values."""
NEEDS_VECTORS = ("similarity", "textSimilarity", "graphSimilarity", "search")
"""ckg's functions a backend cannot answer: they need the store's embedding vectors or its search index."""
_AGGREGATES = {"COUNT", "SUM", "MIN", "MAX", "AVG", "SAMPLE", "GROUP_CONCAT"}
_GROUP_ENDS = {"HAVING", "ORDER", "LIMIT", "OFFSET", "VALUES"}
_PATTERN_WORDS = {"OPTIONAL", "MINUS", "UNION", "GRAPH", "SERVICE", "VALUES", "BIND", "FILTER", "LIMIT", "OFFSET",
                  "ASK", "CONSTRUCT", "DESCRIBE"}


def _refused(message: str) -> JobError:
    return JobError(400, message)


# ----------------------------------------------------------------------------------------------
# The rewrite of ckg's functions
# ----------------------------------------------------------------------------------------------

def _openers(toks: list[Token]) -> tuple[list[int | None], dict[int, int]]:
    """For each token, the index of the innermost bracket that encloses it (None: none); and for
    each closing bracket, the index of the bracket it closes."""
    out: list[int | None] = []
    opens: dict[int, int] = {}
    stack: list[int] = []
    for i, t in enumerate(toks):
        if t.kind == "punct" and t.text in "})]" and stack:
            opens[i] = stack.pop()
        out.append(stack[-1] if stack else None)
        if t.kind == "punct" and t.text in "{([":
            stack.append(i)
    return out, opens


class _Query:
    """The clauses of one SELECT (the query or a subquery): its WHERE group and solution modifiers."""

    def __init__(self, toks: list[Token], select: int) -> None:
        self.select = select
        depth, i = 0, select + 1
        while i < len(toks) and not (depth == 0 and toks[i].kind == "punct" and toks[i].text == "{"):
            if toks[i].kind == "punct" and toks[i].text in "([":
                depth += 1
            elif toks[i].kind == "punct" and toks[i].text in ")]":
                depth -= 1
            i += 1
        if i >= len(toks):
            raise _refused("a SELECT without a WHERE group")
        self.where, self.where_end = i, closing(toks, i)
        first = select + 1 + (toks[select + 1].is_keyword("DISTINCT") or toks[select + 1].is_keyword("REDUCED"))
        self.star = first if toks[first].kind == "punct" and toks[first].text == "*" else None
        self.group_end: int | None = None  # the token the GROUP BY clause ends before
        depth = 0
        for j in range(self.where_end + 1, len(toks)):
            t = toks[j]
            if t.kind == "punct" and t.text in "{([":
                depth += 1
            elif t.kind == "punct" and t.text in "})]":
                if depth == 0:
                    self._end_group(j)
                    break
                depth -= 1
            elif depth == 0 and t.is_keyword("GROUP"):
                self.group_end = -1
            elif depth == 0 and t.kind == "name" and t.text.upper() in _GROUP_ENDS:
                self._end_group(j)
        else:
            self._end_group(len(toks))

    def _end_group(self, j: int) -> None:
        if self.group_end == -1:
            self.group_end = j


class _Fresh:
    """Fresh variable names: a prefix no variable of the text starts with."""

    def __init__(self, toks: list[Token]) -> None:
        names = {t.text[1:] for t in toks if t.kind == "var"}
        self.prefix = next(p for p in (f"ckg_rw{s}" for s in ("", *range(1000)))
                           if not any(n.startswith(p) for n in names))
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"?{self.prefix}{self.n}"


def _argument(toks: list[Token], prefixes: dict[str, str], constants: dict[str, str]) -> tuple[str, str | None]:
    """(kind, SPARQL text) of one argument: var, iri or literal (an IRI in full); refuse the rest."""
    if len(toks) == 1:
        t = toks[0]
        if t.kind == "var":
            value = constants.get(t.text[1:])
            if value is None:
                return "var", t.text
            return ("iri", value) if value.startswith("<") else ("literal", None)
        if t.kind in ("iri", "pname"):
            iri = iri_value(t, prefixes)
            return ("iri", str(ox.NamedNode(iri))) if iri is not None else ("iri", t.text)
        if t.kind in ("string", "number") or t.is_keyword("TRUE") or t.is_keyword("FALSE"):
            return "literal", None
    if toks and toks[0].kind == "string" and len(toks) <= 3 and toks[1].kind in ("langtag", "punct"):
        return "literal", None
    return "expression", None


def _call(name: str, args: list[tuple[str, str | None]], fresh: _Fresh) -> tuple[str | None, str, list[str]]:
    """(pattern to insert or None, expression that replaces the call, the fresh variables the
    expression can see: a GROUP BY of the call's query lists them)."""
    arity_ok = len(args) == 1 if name in ("pageRank", "citationCount") else len(args) >= 2
    if not arity_ok or any(kind == "literal" for kind, _ in args):
        unbound = fresh()
        return None, unbound, [unbound]  # ckg's function leaves its value unbound: a variable never bound
    paper_kind, paper = args[0]
    value = fresh()
    paper_type = f"<{RDF.type.value}> <{CKG.Paper.value}>"
    if name == "pageRank":
        graph = resources.graph(resources.RANKING_GRAPH_NAME).value
        prop = f"<{CKG.pageRankScore.value}>"
        if paper_kind == "iri":
            return f"OPTIONAL {{ GRAPH <{graph}> {{ {paper} {prop} {value} }} }}", value, [value]
        subject = fresh()
        return (f"OPTIONAL {{ GRAPH <{graph}> {{ {subject} {prop} {value} }} FILTER({subject} = {paper}) }}",
                value, [subject, value])
    # not a paper (or a subject no IRI): unbound, a variable never bound; Virtuoso 7.2 fails on
    # "BOUND(?x) && EXISTS {...}", hence the nested IF. The patterns read every named graph (all of
    # ckg's data is in one), as ckg's functions do, even in a call inside a GRAPH clause.
    unbound = fresh()
    expression = f"IF(EXISTS {{ GRAPH {fresh()} {{ {paper} {paper_type} }} }}, COALESCE({value}, 0), {unbound})"
    conditions = [] if paper_kind == "iri" else [f"BOUND({paper})"]
    conditions += [f"isIRI({text})" for kind, text in args[1:] if kind == "var"]
    if conditions:
        expression = f"IF({' && '.join(conditions)}, {expression}, {unbound})"
    if name == "citationCount":
        graph = resources.graph(resources.SIGNALS_GRAPH_NAME).value
        prop = f"<{CKG.citedByCount.value}>"
        if paper_kind == "iri":
            return f"OPTIONAL {{ GRAPH <{graph}> {{ {paper} {prop} {value} }} }}", expression, [value, unbound]
        subject = fresh()
        return (f"OPTIONAL {{ GRAPH <{graph}> {{ {subject} {prop} {value} }} FILTER({subject} = {paper}) }}",
                expression, [subject, value, unbound])
    # citationCountAbout: a subquery counts the citing papers associated with every subject (or with
    # a concept skos:exactMatch to it), for the paper and subjects that are constants, else for all
    # of them, joined on the arguments by a FILTER
    citing, keys, joins = fresh(), [], []

    def term(kind: str, text: str) -> str:
        if kind == "iri":
            return text
        key = fresh()
        keys.append(key)
        joins.append(f"{key} = {text}")
        return key

    body = [f"GRAPH {fresh()} {{ {term(paper_kind, paper)} <{CKG.citedBy.value}> {citing} }}"]
    for kind, text in args[1:]:
        subject, match, g1, g2 = term(kind, text), fresh(), fresh(), fresh()
        branches = [f"{{ GRAPH {g1} {{ {citing} <{p.value}> {subject} }} }}"
                    for p in (CKG.associatedConcept, CKG.associatedTopic)]
        branches += [f"{{ GRAPH {g1} {{ {citing} <{p.value}> {match} }} GRAPH {g2} {{ {match} "
                     f"<{SKOS.exactMatch.value}> {subject} }} }}" for p in (CKG.associatedConcept, CKG.associatedTopic)]
        body.append("{ " + " UNION ".join(branches) + " }")
    group = f" GROUP BY {' '.join(keys)}" if keys else ""
    subquery = (f"{{ SELECT {' '.join(keys)} (COUNT(DISTINCT {citing}) AS {value}) WHERE {{ {' '.join(body)} "
                f"FILTER(isIRI({citing})) }}{group} }}")
    join = f" FILTER({' && '.join(joins)})" if joins else ""
    return f"OPTIONAL {{ {subquery}{join} }}", expression, keys + [value, unbound]


def rewrite(text: str, *, prefixes: dict[str, str] | None = None, constants: dict[str, str] | None = None,
            variables: list[str] | None = None) -> str:
    """``text`` with its calls of ckg's functions rewritten to patterns over the stored values (see
    the module's documentation); unchanged when it calls none. ``constants``: variables bound by
    the caller (name → SPARQL term text), used in place of the variable in a rewritten call;
    ``variables``: the query's projected variables, written in place of a ``SELECT *`` whose
    group gets new variables. Raises :class:`JobError` (400) for a call it cannot rewrite.

    >>> rewrite("SELECT ?n WHERE { BIND(ckg:citationCount(1) AS ?n) }")
    'SELECT ?n WHERE { BIND(?ckg_rw1 AS ?n) }'
    >>> rewrite("SELECT * WHERE { ?p a ckg:Paper FILTER(ckg:pageRank(?p) > 0.1) }", variables=["p"])[:40]
    'SELECT ?p WHERE { ?p a ckg:Paper FILTER('
    """
    prefixes = PREFIXES if prefixes is None else prefixes
    constants = constants or {}
    toks = list(tokens(text))
    _, declared, first = prologue(toks)
    known = {**prefixes, **declared}
    opener, opens = _openers(toks)
    fresh = _Fresh(toks)
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement)
    queries: dict[int, _Query] = {}
    inserted: list[int] = []  # positions of the patterns inserted
    for i, t in enumerate(toks):
        called = i + 1 < len(toks) and toks[i + 1].kind == "punct" and toks[i + 1].text == "("
        if t.kind not in ("iri", "pname") or not called:
            continue
        iri = iri_value(t, known)
        if iri is None or not iri.startswith(CKG_NS):
            continue
        name = iri[len(CKG_NS):]
        shown = f"ckg:{name}"
        if name in NEEDS_VECTORS:
            raise _refused(f"{shown} needs the local store's vectors or search index and is not available with "
                           "--sparql-backend")
        if name not in REWRITTEN:
            continue  # not a function of ckg: the parser says it is unknown
        if any(e[0] <= t.start < e[1] for e in edits):
            raise _refused(f"{shown} cannot be sent to the SPARQL backend inside the argument of another of ckg's "
                           "functions")
        end = closing(toks, i + 1)
        args, current = [], []
        for j in range(i + 2, end):
            if toks[j].kind == "punct" and toks[j].text == "," and opener[j] == i + 1:
                args.append(current)
                current = []
            else:
                current.append(toks[j])
        if current or args:
            args.append(current)
        parsed = [_argument(a, known, constants) for a in args]
        if any(kind == "expression" for kind, _ in parsed):
            raise _refused(f"{shown} can be sent to the SPARQL backend only with variables and IRIs as its "
                           "arguments (bind an expression to a variable first)")
        pattern, expression, new_vars = _call(name, parsed, fresh)
        edits.append((t.start, toks[end].end, expression))
        # where the call is: the outermost bracket of its clause within the innermost group
        outer, k = None, opener[i]
        while k is not None and toks[k].text != "{":
            outer, k = k, opener[k]
        before = (outer if outer is not None else i) - 1
        if before >= 0 and toks[before].is_keyword("BIND") and outer is not None:
            position = toks[before].start
        elif before >= 0 and (toks[before].is_keyword("FILTER") or (
                outer is not None and toks[before].kind in ("iri", "pname", "name") and before >= 1
                and toks[before - 1].is_keyword("FILTER"))):
            if k is None:
                raise _refused(f"{shown} is used where it cannot be rewritten for the SPARQL backend")
            position = toks[closing(toks, k)].start
        else:  # a projection, GROUP BY, HAVING or ORDER BY expression: find the SELECT it belongs to
            j, select = before, None
            while j >= 0 and j != k:
                u = toks[j]
                if u.is_keyword("SELECT"):
                    select = j
                    break
                if (u.kind == "name" and u.text.upper() in _PATTERN_WORDS) or u.kind not in (
                        "var", "name", "iri", "pname", "punct") or (u.kind == "punct" and u.text not in "})]*"):
                    break
                j = opens.get(j, j) - 1
            if select is None:
                raise _refused(f"{shown} is used where it cannot be rewritten for the SPARQL backend: in BIND, "
                               "FILTER, a SELECT expression, GROUP BY, HAVING or ORDER BY it can")
            query = queries.setdefault(select, _Query(toks, select))
            position = toks[query.where_end].start
            in_aggregate = any(toks[m - 1].kind == "name" and toks[m - 1].text.upper() in _AGGREGATES
                               for m in _chain(opener, i, k) if m > 0)
            if query.group_end is not None and not in_aggregate:
                at = toks[query.group_end].start if query.group_end < len(toks) else len(text)
                edits.append((at, at, " " + " ".join(new_vars) + " "))
        if pattern is not None:
            edits.append((position, position, pattern + " "))
            inserted.append(position)
    if not edits:
        return text
    for select in (i for i, t in enumerate(toks) if t.is_keyword("SELECT")):
        query = queries.get(select) or _Query(toks, select)
        if query.star is None or not any(toks[query.where].start < p <= toks[query.where_end].start for p in inserted):
            continue
        if opener[select] is not None or variables is None:
            raise _refused("a SELECT * subquery whose group calls ckg's functions cannot be rewritten for the SPARQL "
                           "backend: list its variables")
        star = toks[query.star]
        edits.append((star.start, star.end, " ".join(f"?{v}" for v in variables) or "*"))
    out = text
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        out = out[:start] + replacement + out[end:]
    return out


def _chain(opener: list[int | None], i: int, stop: int | None) -> Iterable[int]:
    k = opener[i]
    while k is not None and k != stop:
        yield k
        k = opener[k]


# ----------------------------------------------------------------------------------------------
# Texts as sent
# ----------------------------------------------------------------------------------------------

def _form(toks: list[Token], first: int) -> str:
    return next((t.text.upper() for t in toks[first:] if t.kind == "name"
                 and t.text.upper() in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")), "SELECT")


def bind_text(text: str, constants: dict[str, str]) -> str:
    """``text`` with variables bound, as :func:`ckg.queries.portable.portable_query` writes them: a
    ``VALUES`` block first in the WHERE group, or the values in the text where a subgroup reads them.

    >>> bind_text("SELECT ?p ?t WHERE { ?p ckg:title ?t }", {"p": "<http://e/p>"})
    'SELECT ?p ?t WHERE { VALUES (?p) { (<http://e/p>) } ?p ckg:title ?t }'
    """
    from ckg.queries.portable import _substituted, _used_in_subgroups

    if not constants:
        return text
    toks = list(tokens(text))
    first = prologue(toks)[2]
    where = where_brace(toks, first)
    if _used_in_subgroups(toks, where, set(constants)):
        return _substituted(text, toks, first, where, constants)
    names = " ".join(f"?{v}" for v in constants)
    block = f" VALUES ({names}) {{ ({' '.join(constants.values())}) }}"
    return text[:toks[where].end] + block + text[toks[where].end:]


SORTED_LIMIT_MAX = 10000
"""The largest LIMIT added to a query with ORDER BY: Virtuoso refuses to sort for a larger one
(its ``MaxSortedTopRows``, 10000 by default); such a query's answer is bounded by
:data:`MAX_ANSWER_BYTES` instead (and cut at the row limit when read)."""


def cap_rows(text: str, cap: int) -> str:
    """A SELECT that returns at most ``cap`` rows: its LIMIT lowered, or one added (not past
    :data:`SORTED_LIMIT_MAX` when it has an ORDER BY).

    >>> cap_rows("SELECT * WHERE { ?s ?p ?o } LIMIT 50", 11), cap_rows("SELECT * { ?s ?p ?o } VALUES ?s { 1 }", 11)
    ('SELECT * WHERE { ?s ?p ?o } LIMIT 11', 'SELECT * { ?s ?p ?o } LIMIT 11 VALUES ?s { 1 }')
    >>> cap_rows("SELECT * { ?s ?p ?o } ORDER BY ?s", 10001)
    'SELECT * { ?s ?p ?o } ORDER BY ?s'
    """
    toks = list(tokens(text))
    first = prologue(toks)[2]
    if _form(toks, first) != "SELECT":
        return text
    j = closing(toks, where_brace(toks, first)) + 1
    depth, values = 0, None
    if cap > SORTED_LIMIT_MAX and any(t.is_keyword("ORDER") for t in toks[j:]):
        return text
    for i in range(j, len(toks)):
        t = toks[i]
        if t.kind == "punct" and t.text in "{([":
            depth += 1
        elif t.kind == "punct" and t.text in "})]":
            depth -= 1
        elif depth == 0 and t.is_keyword("LIMIT") and i + 1 < len(toks) and toks[i + 1].kind == "number":
            n = toks[i + 1]
            return text if int(float(n.text)) <= cap else text[:n.start] + str(cap) + text[n.end:]
        elif depth == 0 and t.is_keyword("VALUES") and values is None:
            values = t.start
    if values is None:
        return text.rstrip() + f"\nLIMIT {cap}" if "#" in text else text.rstrip() + f" LIMIT {cap}"
    return text[:values] + f"LIMIT {cap} " + text[values:]


def _check(text: str, **kwargs: Any):
    """Parse ``text`` with pyoxigraph on an empty store, never evaluating it (an ASK is read as a
    SELECT: pyoxigraph evaluates an ASK at once). Raises what pyoxigraph raises."""
    toks = list(tokens(text))
    first = prologue(toks)[2]
    if _form(toks, first) == "ASK":
        ask = next(t for t in toks[first:] if t.is_keyword("ASK"))
        text = text[:ask.start] + "SELECT (1 AS ?ckg_ask)" + text[ask.end:]
    return ox.Store().query(text, **kwargs)


def _declared(text: str, prefixes: dict[str, str], base_iri: str | None) -> str:
    """``text`` with a PREFIX line for each of ``prefixes`` it uses and does not declare (and BASE)."""
    toks = list(tokens(text))
    declared = prologue(toks)[1]
    used = {t.text.split(":", 1)[0] for t in toks if t.kind == "pname"}
    lines = [f"PREFIX {p}: <{iri}>" for p, iri in prefixes.items() if p in used and p not in declared]
    if base_iri:
        lines.insert(0, f"BASE <{base_iri}>")
    return "\n".join(lines) + ("\n" if lines else "") + text


def _no_network_keywords(text: str) -> None:
    """Refuse a text sent to the backend that still has a SERVICE or LOAD (it would call out)."""
    for t in tokens(expand_escapes(text)):
        if t.is_keyword("SERVICE") or t.is_keyword("LOAD"):
            raise ServiceNotAllowed(f"{t.text} is not sent to the SPARQL backend: SERVICE clauses are answered by this "
                                    "endpoint (its allowlist) and LOAD is refused")


# ----------------------------------------------------------------------------------------------
# The backend: HTTP
# ----------------------------------------------------------------------------------------------

class Backend:
    """The one SPARQL endpoint the server sends its queries to (its URL is fixed at start)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"--sparql-backend must be an http(s) URL of a SPARQL endpoint, got {url!r}")
        self.url, self.parts = url, parts

    def fetch(self, query: str, accept: str, *, deadline: float, timeout: float,
              dataset: Iterable[tuple[str, str]] = ()) -> tuple[bytes, str]:
        """(body, content type) of the backend's answer to ``query``, read by ``deadline``."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise QueryTimeout(timeout)
        parts = self.parts
        connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        connection = connection_class(parts.hostname, parts.port, timeout=remaining)
        params = urlencode([("query", query), *dataset, ("timeout", str(max(1, int(remaining * 1000))))])
        path = parts.path or "/"
        headers = {"Accept": accept, "User-Agent": USER_AGENT}
        try:
            joined = f"{path}?{parts.query + '&' if parts.query else ''}{params}"
            if len(joined) <= MAX_GET_URL:
                connection.request("GET", joined, headers=headers)
            else:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                connection.request("POST", f"{path}?{parts.query}" if parts.query else path, body=params.encode(),
                                   headers=headers)
            response = connection.getresponse()
            body = self._read(response, deadline, timeout)
        except TimeoutError:
            raise QueryTimeout(timeout) from None
        except (OSError, http.client.HTTPException) as exc:
            reason = exc or type(exc).__name__
            raise JobFailed(502, f"the SPARQL backend {self.url} cannot be reached: {reason}") from None
        finally:
            connection.close()
        if response.status != 200:
            snippet = " ".join(body[:300].decode("utf-8", "replace").split())
            status = 400 if response.status == 400 else 502
            verb = "refused the query" if status == 400 else "failed"
            raise JobFailed(status, f"the SPARQL backend {self.url} {verb} (HTTP {response.status}): {snippet}")
        state = response.getheader("X-SQL-State")
        if state:  # Virtuoso's anytime answer: cut at its time limit
            raise JobFailed(503, f"the SPARQL backend {self.url} stopped the query at its time limit and sent an "
                                 f"incomplete answer ({state}); the query ran too long")
        return body, (response.getheader("Content-Type") or "").split(";")[0].strip().lower()

    def _read(self, response: http.client.HTTPResponse, deadline: float, timeout: float) -> bytes:
        try:
            body = read_capped(response, deadline, MAX_ANSWER_BYTES)
        except TimeoutError:
            raise QueryTimeout(timeout) from None
        if body is None:
            raise JobFailed(502, f"the SPARQL backend {self.url} answered more than {MAX_ANSWER_BYTES} bytes")
        return body


class RemoteStore:
    """What the job functions read instead of a ``pyoxigraph.Store``: queries sent to the backend,
    within one request's deadline; ``row_cap`` bounds the rows a SELECT asks for."""

    def __init__(self, backend: Backend, *, deadline: float, timeout: float, row_cap: int | None = None) -> None:
        self.backend, self.deadline, self.timeout, self.row_cap = backend, deadline, timeout, row_cap

    def query(self, sparql: str, *, substitutions: dict | None = None, prefixes: dict[str, str] | None = None,
              base_iri: str | None = None, default_graph=None, named_graphs=None, **_ignored: Any):
        """Like ``pyoxigraph.Store.query`` (``custom_functions``, ``use_default_graph_as_union``
        are ignored: the backend's default graph is its union, and the functions are rewritten)."""
        prefixes = PREFIXES if prefixes is None else prefixes
        subs = {v.value: str(t) for v, t in (substitutions or {}).items()}
        dummy = {ox.NamedNode(CKG_NS + n): (lambda *a: None) for n in REWRITTEN + NEEDS_VECTORS}
        parsed = _check(sparql, prefixes=prefixes, base_iri=base_iri, substitutions=substitutions or None,
                        custom_functions=dummy)
        variables = [v.value for v in parsed.variables] if isinstance(parsed, ox.QuerySolutions) else None
        text = bind_text(sparql, subs)
        text = rewrite(text, prefixes=prefixes, constants=subs, variables=variables)
        toks = list(tokens(text))
        form = _form(toks, prologue(toks)[2])
        if self.row_cap is not None:
            text = cap_rows(text, self.row_cap)
        text = _declared(text, prefixes, base_iri)
        _no_network_keywords(text)
        _check(text)  # what is sent is SPARQL 1.1 and calls no function pyoxigraph does not know
        dataset = [("default-graph-uri", g.value) for g in default_graph or ()]
        dataset += [("named-graph-uri", g.value) for g in named_graphs or ()]
        if form in ("SELECT", "ASK"):
            body, _ = self.backend.fetch(text, "application/sparql-results+json", deadline=self.deadline,
                                         timeout=self.timeout, dataset=dataset)
            try:
                return ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
            except (SyntaxError, ValueError) as exc:
                raise JobFailed(502, f"the SPARQL backend {self.backend.url} sent malformed results: {exc}") from None
        body, media = self.backend.fetch(text, "application/n-triples, text/turtle;q=0.5", deadline=self.deadline,
                                         timeout=self.timeout, dataset=dataset)
        fmt = ox.RdfFormat.TURTLE if media == "text/turtle" else ox.RdfFormat.N_TRIPLES
        try:
            return [q.triple for q in ox.parse(body, format=fmt)]
        except (SyntaxError, ValueError) as exc:
            raise JobFailed(502, f"the SPARQL backend {self.backend.url} sent malformed triples: {exc}") from None

    def _select(self, text: str) -> list:
        return list(self.query(text, prefixes={}))

    def quads_for_pattern(self, subject=None, predicate=None, object=None, graph_name=None) -> list[ox.Quad]:
        terms = [str(t) if t is not None else f"?{n}" for t, n in zip((subject, predicate, object, graph_name), "spog")]
        rows = self._select(f"SELECT * WHERE {{ GRAPH {terms[3]} {{ {terms[0]} {terms[1]} {terms[2]} }} }}")
        given = (subject, predicate, object, graph_name)
        return [ox.Quad(*(t if t is not None else r[n] for t, n in zip(given, "spog"))) for r in rows]

    def named_graphs(self) -> list[ox.NamedNode]:
        return [r["g"] for r in self._select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")]

    def __len__(self) -> int:
        rows = self._select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        return int(rows[0]["n"].value) if rows else 0


# ----------------------------------------------------------------------------------------------
# The jobs, run in the web worker
# ----------------------------------------------------------------------------------------------

class RemoteBackend:
    """Stands in for :class:`ckg.server.engine.EnginePool` with a backend: the jobs run in the web
    worker's request threads (they wait on HTTP, which their deadline bounds), at most ``size``
    at once, a request waiting at most ``max_wait`` seconds for its turn."""

    def __init__(self, url: str, store: Path, *, size: int = 2, max_wait: float = 2.0) -> None:
        self.backend = Backend(url)
        self.store = Path(store)
        self.size = size
        self.max_wait = max_wait
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self._similarity: tuple[Any, Any] | None = None  # (embeddings stamp, backend)

    def pids(self) -> list[int]:
        return []

    def retry_after(self) -> int:
        return 1

    def close(self) -> None:
        self._similarity = None

    def similarity_backend(self):
        """The store's embedding run (loaded again when ``ckg train`` made a new one)."""
        from ckg.embed.artifacts import CURRENT_FILE, EMBEDDINGS_DIR
        from ckg.server.functions import load_similarity_backend

        try:
            st = (self.store / EMBEDDINGS_DIR / CURRENT_FILE).stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        with self._lock:
            if self._similarity is None or self._similarity[0] != stamp:
                self._similarity = (stamp, load_similarity_backend(self.store))
            return self._similarity[1]

    def run(self, op: str, params: dict[str, Any], timeout: float, *, deadline: float | None = None) -> dict[str, Any]:
        now = time.monotonic()
        deadline = now + timeout if deadline is None else min(deadline, now + timeout)
        if not self._slots.acquire(timeout=max(0.0, min(self.max_wait, deadline - now))):
            raise EngineBusy(f"all {self.size} request slots for the SPARQL backend are busy; try again in a moment")
        try:
            return {"ok": True, **self._run(op, dict(params), timeout, deadline)}
        except JobError as exc:
            raise JobFailed(exc.status, str(exc)) from None
        except (JobFailed, QueryTimeout, EngineBusy):
            raise
        except Exception as exc:  # noqa: BLE001 - a client's error (400) or a clear 500, as in a query process
            raise JobFailed(*jobs.classify(exc)) from None
        finally:
            self._slots.release()

    def _run(self, op: str, params: dict[str, Any], timeout: float, deadline: float) -> dict[str, Any]:
        if op == "update":
            raise JobError(403, UPDATES_REFUSED)
        if op in ("ping", "warm"):
            return {}
        fn = jobs.OPS.get(op)
        if fn is None:
            raise JobError(500, f"unknown job {op!r}")
        cap = params.get("max_rows") if op in ("query", "named") else None
        store = RemoteStore(self.backend, deadline=deadline, timeout=timeout,
                            row_cap=cap + 1 if cap is not None else None)
        similarity = self.similarity_backend() if op in ("similar", "stats") else None
        functions = {ox.NamedNode(CKG_NS + name): None for name in REWRITTEN}  # named in "unknown function" errors
        ctx = SimpleNamespace(store=store, functions=functions, folder=None, similarity_backend=similarity,
                              path=self.store)
        result = fn(ctx, **params)
        if op == "similar":
            _titles_from_backend(store, result["answer"]["similar"])
        return result


def _titles_from_backend(store: RemoteStore, neighbours: list[dict[str, Any]]) -> None:
    """Give the similar papers their titles as the backend has them (the run's titles otherwise)."""
    iris = [n["iri"] for n in neighbours]
    if not iris:
        return
    values = " ".join(str(ox.NamedNode(i)) for i in iris)
    rows = store.query(f"SELECT ?p ?t WHERE {{ VALUES ?p {{ {values} }} ?p <http://purl.org/dc/terms/title> ?t }}",
                       prefixes={})
    titles = {r["p"].value: r["t"].value for r in rows}
    for n in neighbours:
        n["title"] = titles.get(n["iri"], n["title"])


__all__ = ["Backend", "RemoteBackend", "RemoteStore", "UPDATES_REFUSED", "bind_text", "cap_rows", "rewrite"]
