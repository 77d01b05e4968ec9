"""SPARQL SELECT/ASK results as the W3C result formats (JSON, XML, CSV, TSV) and as a text table.

The serialisers take the variables and an iterable of rows (sequences of terms or None), so a
caller can cap the number of rows and still write a standard document.

>>> import pyoxigraph as ox
>>> rows = [(ox.NamedNode("https://w3id.org/ckg/resource/paper/ab12cd34"), ox.Literal("A, B")),
...         (ox.BlankNode("b0"), None)]
>>> print(to_json(["p", "t"], rows))
{"head": {"vars": ["p", "t"]}, "results": {"bindings": [{"p": {"type": "uri", "value": "https://w3id.org/ckg/resource/paper/ab12cd34"}, "t": {"type": "literal", "value": "A, B"}}, {"p": {"type": "bnode", "value": "b0"}}]}}
>>> to_csv(["p", "t"], rows).split(chr(13) + chr(10))
['p,t', 'https://w3id.org/ckg/resource/paper/ab12cd34,"A, B"', '_:b0,', '']
>>> print(to_table(["p", "t"], rows))
p                    t
-------------------  ------
ckgr:paper/ab12cd34  "A, B"
_:b0
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from ckg.terms import PREFIXES, XSD_NS, resource_base

Row = Sequence[ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None]

FORMATS = ("json", "xml", "csv", "tsv", "table")
MEDIA_TYPES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "table": "text/plain",
}

_XSD_STRING = XSD_NS + "string"


def solutions(results: ox.QuerySolutions, limit: int | None = None) -> tuple[list[str], Iterable[Row]]:
    """Variables and rows of a SELECT result, at most ``limit`` rows."""
    variables = [v.value for v in results.variables]

    def rows():
        for n, solution in enumerate(results):
            if limit is not None and n >= limit:
                return
            yield tuple(solution[v] for v in variables)

    return variables, rows()


def _term_json(term) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Triple):
        return {"type": "triple", "value": {"subject": _term_json(term.subject), "predicate": _term_json(term.predicate),
                                            "object": _term_json(term.object)}}
    out = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype.value != _XSD_STRING:
        out["datatype"] = term.datatype.value
    return out


def to_json(variables: list[str], rows: Iterable[Row]) -> str:
    """SPARQL 1.1 Query Results JSON Format."""
    bindings = [{v: _term_json(t) for v, t in zip(variables, row) if t is not None} for row in rows]
    return json.dumps({"head": {"vars": variables}, "results": {"bindings": bindings}}, ensure_ascii=False)


def boolean_json(value: bool) -> str:
    return json.dumps({"head": {}, "boolean": bool(value)})


def _term_xml(term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Triple):
        return (f"<triple><subject>{_term_xml(term.subject)}</subject><predicate>{_term_xml(term.predicate)}"
                f"</predicate><object>{_term_xml(term.object)}</object></triple>")
    if term.language:
        return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
    if term.datatype.value != _XSD_STRING:
        return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
    return f"<literal>{escape(term.value)}</literal>"


def to_xml(variables: list[str], rows: Iterable[Row]) -> str:
    """SPARQL Query Results XML Format."""
    out = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>']
    out.extend(f"<variable name={quoteattr(v)}/>" for v in variables)
    out.append("</head><results>")
    for row in rows:
        out.append("<result>")
        out.extend(f"<binding name={quoteattr(v)}>{_term_xml(t)}</binding>" for v, t in zip(variables, row) if t is not None)
        out.append("</result>")
    out.append("</results></sparql>\n")
    return "".join(out)


def boolean_xml(value: bool) -> str:
    return ('<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head></head>'
            f"<boolean>{'true' if value else 'false'}</boolean></sparql>\n")


def _csv_value(term) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Triple):
        return str(term)
    return term.value


def to_csv(variables: list[str], rows: Iterable[Row]) -> str:
    """SPARQL 1.1 Query Results CSV Format (RFC 4180: plain values, CRLF line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(variables)
    for row in rows:
        writer.writerow([_csv_value(t) for t in row])
    return buffer.getvalue()


def to_tsv(variables: list[str], rows: Iterable[Row]) -> str:
    """SPARQL 1.1 Query Results TSV Format (terms in their SPARQL/Turtle syntax)."""
    lines = ["\t".join(f"?{v}" for v in variables)]
    for row in rows:
        lines.append("\t".join("" if t is None else str(t) for t in row))
    return "\n".join(lines) + "\n"


def compact(term) -> str:
    """A short human form of a term: prefixed IRIs, literals without their usual datatypes."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        base = resource_base()
        if term.value.startswith(base):
            return "ckgr:" + term.value[len(base):]
        for prefix, iri in PREFIXES.items():
            if term.value.startswith(iri) and "/" not in term.value[len(iri):]:
                return f"{prefix}:{term.value[len(iri):]}"
        return f"<{term.value}>"
    if isinstance(term, ox.Literal):
        if term.datatype.value in (XSD_NS + "integer", XSD_NS + "decimal", XSD_NS + "double", XSD_NS + "boolean"):
            return term.value
        if term.datatype.value in (_XSD_STRING, XSD_NS + "date", XSD_NS + "gYear", XSD_NS + "gYearMonth"):
            return json.dumps(term.value, ensure_ascii=False)
    return str(term)


def to_table(variables: list[str], rows: Iterable[Row], width: int = 60) -> str:
    """A plain-text table for people, values shortened to ``width`` characters."""
    cells = [[_clip(compact(t), width) for t in row] for row in rows]
    widths = [max([len(v)] + [len(r[i]) for r in cells]) for i, v in enumerate(variables)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(variables, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines.extend("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells)
    return "\n".join(lines)


def _clip(text: str, width: int) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


WRITERS = {"json": to_json, "xml": to_xml, "csv": to_csv, "tsv": to_tsv, "table": to_table}
