"""Run SPARQL against a store (named queries or text) and write the results in a chosen format.

>>> import pyoxigraph as ox
>>> store = ox.Store()
>>> store.add(ox.Quad(ox.NamedNode("http://ex/a"), ox.NamedNode("http://ex/p"), ox.Literal("1"), ox.NamedNode("http://ex/g")))
>>> result = execute(store, "SELECT ?s WHERE { ?s ?p ?o }")
>>> result.form, result.variables, [str(r[0]) for r in result.rows]
('SELECT', ['s'], ['<http://ex/a>'])
>>> execute(store, "ASK { ?s ?p 2 }").boolean
False
>>> execute(store, "SELECT * WHERE {")
Traceback (most recent call last):
...
ckg.sparql.QuerySyntaxError: error at 1:17: expected ...
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from ckg import results as formats
from ckg.queries import NamedQuery
from ckg.store import query as store_query
from ckg.terms import PREFIXES


class QuerySyntaxError(ValueError):
    """The query text does not parse (the message is the parser's)."""


@dataclass
class Result:
    """A query result: rows for SELECT, a boolean for ASK, triples for CONSTRUCT/DESCRIBE."""

    form: str
    variables: list[str] = field(default_factory=list)
    rows: Iterable[Any] = ()
    boolean: bool | None = None
    triples: Iterable[ox.Triple] = ()


def execute(store: ox.Store, sparql: str, *, substitutions: dict | None = None, limit: int | None = None,
            **kwargs: Any) -> Result:
    """Run a query (union default graph, ckg prefixes predeclared), at most ``limit`` rows/triples."""
    try:
        answer = store_query(store, sparql, substitutions=substitutions, **kwargs)
    except SyntaxError as exc:
        raise QuerySyntaxError(_clean_message(str(exc))) from None
    if isinstance(answer, ox.QueryBoolean):
        return Result("ASK", boolean=bool(answer))
    if isinstance(answer, ox.QuerySolutions):
        variables, rows = formats.solutions(answer, limit)
        return Result("SELECT", variables=variables, rows=rows)
    triples = answer if limit is None else (t for n, t in enumerate(answer) if n < limit)
    return Result("CONSTRUCT", triples=triples)


def run_named(store: ox.Store, query: NamedQuery, params: dict[str, Any], *, limit: int | None = None,
              **kwargs: Any) -> Result:
    """Run a named query with its parameters bound by substitution (``kwargs`` go to the store's
    ``query``, for example ``custom_functions``)."""
    return execute(store, query.text, substitutions=query.bind(params), limit=limit, **kwargs)


def _clean_message(message: str) -> str:
    return re.sub(r"\s+", " ", message).strip()


RDF_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "jsonld": ox.RdfFormat.JSON_LD,
}


def write(result: Result, fmt: str) -> str:
    """The result as text in a format: json, xml, csv, tsv, table (SELECT/ASK) or an RDF
    format name (CONSTRUCT/DESCRIBE; 'table' writes Turtle)."""
    if result.form == "ASK":
        if fmt == "xml":
            return formats.boolean_xml(result.boolean)
        if fmt == "json":
            return formats.boolean_json(result.boolean)
        return "true" if result.boolean else "false"
    if result.form == "SELECT":
        if fmt not in formats.WRITERS:
            raise ValueError(f"format {fmt!r} is not a SELECT result format ({', '.join(formats.WRITERS)})")
        return formats.WRITERS[fmt](result.variables, result.rows)
    rdf = RDF_FORMATS.get(fmt, ox.RdfFormat.TURTLE if fmt == "table" else None)
    if rdf is None:
        raise ValueError(f"format {fmt!r} is not an RDF format ({', '.join(RDF_FORMATS)})")
    kwargs = {"prefixes": PREFIXES} if rdf in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else {}
    return ox.serialize(result.triples, format=rdf, **kwargs).decode("utf-8")
