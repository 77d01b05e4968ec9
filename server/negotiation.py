"""Result formats: which one a request asks for, by its ``format`` parameter or its Accept header.

Like Oxigraph's server, the endpoint negotiates from an explicit list: SPARQL JSON (the
default), XML, CSV and TSV for SELECT and ASK results; Turtle (the default), N-Triples, JSON-LD
and RDF/XML for CONSTRUCT and DESCRIBE results and for the service description. A ``format``
parameter (a short name or a media type; ``xml`` and ``json`` mean results or RDF by the query's
form) wins over the Accept header, which decides when the parameter names no known format.
When the request accepts none of a form's formats, the answer is 406.

>>> from werkzeug.datastructures import MIMEAccept
>>> choose(MIMEAccept([("text/csv", 1), ("application/sparql-results+json", 0.5)]), SOLUTIONS)
('csv', 'text/csv')
>>> choose(MIMEAccept([]), SOLUTIONS), choose(MIMEAccept([("*/*", 1)]), GRAPH)
(('json', 'application/sparql-results+json'), ('turtle', 'text/turtle'))
>>> choose(MIMEAccept([("text/html", 1)]), GRAPH) is None
True
>>> choose(accept_of("xml", MIMEAccept([])), GRAPH), choose(accept_of("nonsense", MIMEAccept([("text/csv", 1)])), SOLUTIONS)
(('rdfxml', 'application/rdf+xml'), ('csv', 'text/csv'))
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

_RESULTS_JSON, _RESULTS_XML = "application/sparql-results+json", "application/sparql-results+xml"
_TURTLE, _NTRIPLES, _JSONLD, _RDFXML = "text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml"

SHORT_NAMES: dict[str, tuple[str, ...]] = {
    # a name of both a results format and a graph format means each for its form: SPARQLWrapper
    # sends format=xml for its default return format whatever the query form, format=json for JSON
    "json": (_RESULTS_JSON, _JSONLD), "xml": (_RESULTS_XML, _RDFXML),
    "csv": ("text/csv",), "tsv": ("text/tab-separated-values",),
    "turtle": (_TURTLE,), "ttl": (_TURTLE,), "n3": (_TURTLE,),  # Turtle is N3 (what N3 readers read)
    "ntriples": (_NTRIPLES,), "nt": (_NTRIPLES,), "n-triples": (_NTRIPLES,),
    "jsonld": (_JSONLD,), "json-ld": (_JSONLD,),
    "rdfxml": (_RDFXML,), "rdf": (_RDFXML,), "rdf+xml": (_RDFXML,), "rdf/xml": (_RDFXML,),
    "sparql-results+json": (_RESULTS_JSON,), "sparql-results+xml": (_RESULTS_XML,),
    "application/json": (_RESULTS_JSON, _JSONLD), "application/xml": (_RESULTS_XML, _RDFXML),
    "text/xml": (_RESULTS_XML, _RDFXML), "text/n3": (_TURTLE,), "application/x-turtle": (_TURTLE,),
    "text/plain": (_NTRIPLES,),
}
"""Values of the ``format`` (or ``output``) parameter that clients send, and the media types each
stands for (besides the media types of :data:`SOLUTIONS` and :data:`GRAPH` themselves)."""

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


def wanted(value: str) -> tuple[str, ...] | None:
    """The media types a ``format`` parameter names (a short name or a media type, parameters
    ignored), at most one per query form; None for a value it does not know (the request's
    Accept header decides then, as for a request without the parameter).

    >>> wanted("xml"), wanted(" JSON-LD "), wanted("text/csv; charset=utf-8"), wanted("yaml")
    (('application/sparql-results+xml', 'application/rdf+xml'), ('application/ld+json',), ('text/csv',), None)
    """
    value = value.split(";", 1)[0].strip().lower()
    if value in SHORT_NAMES:
        return SHORT_NAMES[value]
    if value in {m for m, _ in SOLUTIONS} | {m for m, _ in GRAPH}:
        return (value,)
    return None


def accept_of(value: str | None, accept: MIMEAccept) -> MIMEAccept:
    """What a request accepts: the media types its ``format`` parameter names, else its Accept."""
    types = wanted(value) if value else None
    return MIMEAccept([(t, 1) for t in types]) if types else accept


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
