"""SERVICE allowlist: the endpoint calls only the SPARQL endpoints it is configured to call.

pyoxigraph evaluates a SERVICE clause itself (it POSTs the inner pattern to the IRI), so an open
endpoint that ran any query could be made to send requests to any address it can reach
(server-side request forgery). Before a query or update runs, :func:`check` finds every SERVICE
target (and every ``LOAD`` source of an update) by parsing the text with rdflib's SPARQL parser
and walking the algebra — nested patterns, sub-queries, ``FILTER EXISTS`` included — and
refuses it unless each target is on the allowlist. A SERVICE with a variable as its endpoint is
refused, as is a text that mentions SERVICE or LOAD but that rdflib cannot parse (its targets
cannot be checked). Texts that do not contain the letters of the keywords anywhere (after
``\\u`` escapes are expanded, as SPARQL parsers do first) cannot call anything and are not parsed.

>>> check("SELECT * WHERE { ?s ?p ?o }", allowlist=())
>>> check("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", allowlist=())
Traceback (most recent call last):
...
ckg.server.guard.ServiceNotAllowed: SERVICE <http://example.org/sparql> is not allowed: this endpoint calls no other endpoint (its SERVICE allowlist, CKG_SERVICE_ALLOWLIST, is empty)
>>> check("SELECT * WHERE { SERVICE <HTTP://Example.org:80/sparql> { ?s ?p ?o } }",
...       allowlist=["http://example.org/sparql"])
>>> check("SELECT * WHERE { SERVICE ?endpoint { ?s ?p ?o } }", allowlist=["http://example.org/sparql"])
Traceback (most recent call last):
...
ckg.server.guard.ServiceNotChecked: SERVICE with a variable endpoint (?endpoint) is not allowed: name the endpoint, one of http://example.org/sparql
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from ckg.terms import PREFIXES


class GuardError(ValueError):
    """A query or update is refused before it runs."""

    status = 400


class ServiceNotAllowed(GuardError):
    """A SERVICE (or LOAD) target is not on the allowlist."""

    status = 403


class ServiceNotChecked(GuardError):
    """A SERVICE target cannot be checked: a variable endpoint, or a text rdflib cannot parse."""

    status = 400


_KEYWORDS = re.compile(r"(?i)service|load")  # anywhere: a false alarm only costs a parse
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def expand_escapes(text: str) -> str:
    """Expand ``\\uXXXX`` and ``\\UXXXXXXXX`` escapes, as a SPARQL parser does before parsing.

    >>> expand_escapes(r"\\u0053ERVICE")
    'SERVICE'
    """
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def normalize_endpoint(iri: str) -> str:
    """An endpoint IRI in a form fit to compare: lower-case scheme and host, no default port,
    no fragment.

    >>> normalize_endpoint("HTTP://Example.ORG:80/sparql#x")
    'http://example.org/sparql'
    >>> normalize_endpoint("https://example.org:8443/q?a=1")
    'https://example.org:8443/q?a=1'
    """
    parts = urlsplit(iri.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is not None and not (scheme == "http" and port == 80) and not (scheme == "https" and port == 443):
        host = f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}" if userinfo else host
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def parse_allowlist(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """The allowlist from a setting (endpoints separated by spaces or commas) or a list.

    >>> parse_allowlist("http://a.org/sparql, https://b.org/q")
    ('http://a.org/sparql', 'https://b.org/q')
    """
    if value is None:
        return ()
    items = re.split(r"[\s,]+", value) if isinstance(value, str) else list(value)
    out = []
    for item in items:
        item = item.strip()
        if item:
            if not re.match(r"^https?://[^\s/]+", item):
                raise ValueError(f"SERVICE allowlist entry {item!r} is not an http(s) endpoint URL")
            out.append(item)
    return tuple(out)


def _walk(node, found: list, seen: set[int]) -> None:
    from rdflib.plugins.sparql.parserutils import CompValue

    if id(node) in seen:
        return
    if isinstance(node, CompValue):
        seen.add(id(node))
        if node.name == "ServiceGraphPattern":
            found.append(("SERVICE", node.get("term")))
        elif node.name == "Load":
            found.append(("LOAD", node.get("iri")))
        for value in node.values():
            _walk(value, found, seen)
    elif isinstance(node, dict):
        seen.add(id(node))
        for value in node.values():
            _walk(value, found, seen)
    elif isinstance(node, (list, tuple)):
        seen.add(id(node))
        for value in node:
            _walk(value, found, seen)


def targets(text: str, *, update: bool = False) -> list[tuple[str, object]]:
    """The (keyword, term) pairs of every SERVICE (and LOAD) in a query or update.

    The term is an rdflib URIRef or Variable. Raises :class:`ServiceNotChecked` when the text
    mentions the keywords but rdflib cannot parse it.

    >>> [(k, str(t)) for k, t in targets('''PREFIX e: <http://e.org/>
    ...   SELECT * WHERE { ?s ?p ?o FILTER EXISTS { SERVICE SILENT e:sparql { ?s ?p ?o } } }''')]
    [('SERVICE', 'http://e.org/sparql')]
    >>> targets("SELECT ?service WHERE { ?service ?p 'load' }")
    []
    """
    if not _KEYWORDS.search(expand_escapes(text)):
        return []
    from rdflib.plugins.sparql.algebra import translateQuery, translateUpdate
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    try:
        if update:
            algebra = translateUpdate(parseUpdate(text), initNs=PREFIXES).algebra
        else:
            algebra = translateQuery(parseQuery(text), initNs=PREFIXES).algebra
    except RecursionError:
        raise ServiceNotChecked(
            "the SERVICE endpoints of this query cannot be checked (rdflib's SPARQL parser does not handle "
            "nested SERVICE clauses), so it is refused") from None
    except Exception as exc:
        message = re.sub(r"\s+", " ", str(exc)).strip()
        raise ServiceNotChecked(
            f"the {'update' if update else 'query'} mentions SERVICE or LOAD, and its endpoints cannot be checked "
            f"because rdflib's SPARQL parser refuses it: {message}") from None
    found: list[tuple[str, object]] = []
    _walk(algebra, found, set())
    return found


def check(text: str, allowlist: Iterable[str], *, update: bool = False) -> None:
    """Refuse (:class:`GuardError`) a query or update that would call an endpoint off the allowlist."""
    from_allowlist = {normalize_endpoint(a): a for a in allowlist}
    for keyword, term in targets(text, update=update):
        kind = type(term).__name__
        if kind != "URIRef":
            name = f"?{term}" if kind == "Variable" else str(term)
            allowed = ", ".join(from_allowlist.values()) or "none are allowed"
            raise ServiceNotChecked(f"{keyword} with a variable endpoint ({name}) is not allowed: "
                                    f"name the endpoint, one of {allowed}")
        if normalize_endpoint(str(term)) not in from_allowlist:
            if from_allowlist:
                reason = f"it is not on this endpoint's allowlist ({', '.join(from_allowlist.values())})"
            else:
                reason = "this endpoint calls no other endpoint (its SERVICE allowlist, CKG_SERVICE_ALLOWLIST, is empty)"
            raise ServiceNotAllowed(f"{keyword} <{term}> is not allowed: {reason}")
