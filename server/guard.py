"""SERVICE allowlist: the endpoints the server may call, and the errors of a refused call.

Enforcement does not rest on reading the query text: the query processes have no network at all
(:mod:`ckg.server.sandbox`), and the only code that calls out, :mod:`ckg.server.federation`,
checks each request against the allowlist as it makes it. This module holds what both share:
the allowlist setting, the comparison of endpoint IRIs, the errors, and the fallback for a
machine where the network of the query processes cannot be closed: there, any text that mentions
``SERVICE`` or ``LOAD`` anywhere (after ``\\u`` escapes are expanded), even in a string or a
comment, is refused (:func:`refuse_network_keywords`).

>>> normalize_endpoint("HTTP://Example.ORG:80/sparql#x")
'http://example.org/sparql'
>>> refuse_network_keywords("SELECT * WHERE { ?s ?p ?o }")
>>> refuse_network_keywords("SELECT * WHERE { \\u0053ERVICE <http://e.org/> { ?s ?p ?o } }")
Traceback (most recent call last):
...
ckg.server.guard.ServiceNotAllowed: this server cannot close the network of its query processes, so it runs no query or update that mentions SERVICE or LOAD (even in a string or a comment)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit



class GuardError(ValueError):
    """A query or update is refused before it runs."""

    status = 400


class ServiceNotAllowed(GuardError):
    """A SERVICE (or LOAD) target is not on the allowlist."""

    status = 403


class ServiceNotChecked(GuardError):
    """A SERVICE target cannot be checked: a variable endpoint or a malformed IRI."""

    status = 400


_KEYWORDS = re.compile(r"(?i)service|load")
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


def allowlist_reason(allowlist: Iterable[str]) -> str:
    """Why an endpoint is refused. The allowlist's endpoints are not named: they may be internal
    hosts, which a public endpoint should not tell its clients about.

    >>> allowlist_reason(["http://10.0.0.7:8890/sparql"])
    "it is not on this endpoint's SERVICE allowlist"
    """
    if any(True for _ in allowlist):
        return "it is not on this endpoint's SERVICE allowlist"
    return "this endpoint calls no other endpoint (its SERVICE allowlist, CKG_SERVICE_ALLOWLIST, is empty)"


def refuse_network_keywords(text: str) -> None:
    """Refuse a text that mentions SERVICE or LOAD anywhere (used where no sandbox is available)."""
    if _KEYWORDS.search(expand_escapes(text)):
        raise ServiceNotAllowed("this server cannot close the network of its query processes, so it runs no "
                                "query or update that mentions SERVICE or LOAD (even in a string or a comment)")
