"""Result formats: which one a request asks for, by its ``format`` parameter or its Accept header.

Like Oxigraph's server, the endpoint negotiates from an explicit list: SPARQL JSON (the
default), XML, CSV and TSV for SELECT and ASK results; Turtle (the default), N-Triples, JSON-LD
and RDF/XML for CONSTRUCT and DESCRIBE results and for the service description. A ``format``
parameter (a short name or a media type) wins over the Accept header. When the request accepts
none of a form's formats, the answer is 406.

>>> from werkzeug.datastructures import MIMEAccept
>>> choose(MIMEAccept([("text/csv", 1), ("application/sparql-results+json", 0.5)]), SOLUTIONS)
('csv', 'text/csv')
>>> choose(MIMEAccept([]), SOLUTIONS), choose(MIMEAccept([("*/*", 1)]), GRAPH)
(('json', 'application/sparql-results+json'), ('turtle', 'text/turtle'))
>>> choose(MIMEAccept([("text/html", 1)]), GRAPH) is None
True
>>> wanted("jsonld"), wanted("text/csv")
('application/ld+json', 'text/csv')
"""

from __future__ import annotations

from werkzeug.datastructures import MIMEAccept

SOLUTIONS: list[tuple[str, str]] = [
    ("application/sparql-results+json", "json"),
    ("application/sparql-results+xml", "xml"),
    ("text/csv", "csv"),
    ("text/tab-separated-values", "tsv"),
    ("application/json", "json"),
    ("application/xml", "xml"),
    ("text/xml", "xml"),
]
"""Media types of SELECT/ASK results, the default first, each with its writer's name."""

GRAPH: list[tuple[str, str]] = [
    ("text/turtle", "turtle"),
    ("application/n-triples", "ntriples"),
    ("application/ld+json", "jsonld"),
    ("application/rdf+xml", "rdfxml"),
    ("application/x-turtle", "turtle"),
    ("text/plain", "ntriples"),
    ("application/json", "jsonld"),
    ("application/xml", "rdfxml"),
    ("text/xml", "rdfxml"),
]
"""Media types of CONSTRUCT/DESCRIBE results and of the service description."""

SHORT_NAMES = {
    "json": "application/sparql-results+json", "xml": "application/sparql-results+xml", "csv": "text/csv",
    "tsv": "text/tab-separated-values", "turtle": "text/turtle", "ttl": "text/turtle",
    "ntriples": "application/n-triples", "nt": "application/n-triples", "jsonld": "application/ld+json",
    "rdfxml": "application/rdf+xml", "rdf": "application/rdf+xml",
}
"""Values of the ``format`` parameter, and the media type each stands for."""

FORMAT_IRIS = {
    "application/sparql-results+json": "http://www.w3.org/ns/formats/SPARQL_Results_JSON",
    "application/sparql-results+xml": "http://www.w3.org/ns/formats/SPARQL_Results_XML",
    "text/csv": "http://www.w3.org/ns/formats/SPARQL_Results_CSV",
    "text/tab-separated-values": "http://www.w3.org/ns/formats/SPARQL_Results_TSV",
    "text/turtle": "http://www.w3.org/ns/formats/Turtle",
    "application/n-triples": "http://www.w3.org/ns/formats/N-Triples",
    "application/ld+json": "http://www.w3.org/ns/formats/JSON-LD",
    "application/rdf+xml": "http://www.w3.org/ns/formats/RDF_XML",
}
"""The W3C format IRIs the service description lists as sd:resultFormat."""

_CHARSET = {"text/csv", "text/tab-separated-values", "text/plain"}


class UnknownFormat(ValueError):
    pass


def wanted(value: str) -> str:
    """The media type a ``format`` parameter names (a short name or a media type)."""
    value = value.strip().lower()
    if value in SHORT_NAMES:
        return SHORT_NAMES[value]
    known = {m for m, _ in SOLUTIONS} | {m for m, _ in GRAPH}
    if value in known:
        return value
    raise UnknownFormat(f"unknown format {value!r}: use one of {', '.join(SHORT_NAMES)} or a media type")


def offered(table: list[tuple[str, str]]) -> list[str]:
    return list(dict.fromkeys(m for m, _ in table))


def choose(accept: MIMEAccept, table: list[tuple[str, str]]) -> tuple[str, str] | None:
    """(writer name, media type) for the best type of ``table`` that ``accept`` allows; the
    table's first entry when the request states no preference; None when it allows none."""
    if not accept:
        media_type, fmt = table[0]
        return fmt, media_type
    best = accept.best_match([m for m, _ in table])
    if best is None:
        return None
    return dict(table)[best], best


def content_type(media_type: str) -> str:
    """The Content-Type header for a media type (text types say their charset).

    >>> content_type("text/csv"), content_type("application/sparql-results+json")
    ('text/csv; charset=utf-8', 'application/sparql-results+json')
    """
    return f"{media_type}; charset=utf-8" if media_type in _CHARSET else media_type
