"""Triples: a paper's named graph, the corpus-wide entity and citation graphs, provenance.

Graph layout (one named graph per unit of replacement, so an update rewrites only what
changed):

* ``graph/paper/<key>``: what a paper's row and parses say: the paper node, its identifiers,
  title, abstract, body text, date, the authoredBy edges and their ckg:Authorship nodes
  (position, stated affiliation).
* ``graph/entities``: author and institution nodes (types, display names, locations) and
  affiliatedWith edges, aggregated over all papers' mentions.
* ``graph/citations``: cites / citedBy edges between papers of the corpus.
* ``graph/provenance``: the releases read and, per paper, first/last release and source files.

Every class is written with its ontology super-classes and every edge with its ontology
super-properties (ckg:cites also as cito:cites, ...), so tools that know only FaBiO, CiTO,
schema.org, FOAF or DCTERMS read the graph without a reasoner.

>>> from ckg.etl.records import Paper, AuthorMention
>>> p = Paper(key="ab12cd34", title="A study", issued=("2020-03-13", "date", 2020),
...           authors=[AuthorMention("Lin", "Wang")])
>>> lines = sorted(paper_nquads(p).decode().splitlines())
>>> [l for l in lines if "/title>" in l]  # doctest: +NORMALIZE_WHITESPACE
['<https://w3id.org/ckg/resource/paper/ab12cd34> <http://purl.org/dc/terms/title> "A study"
  <https://w3id.org/ckg/resource/graph/paper/ab12cd34> .']
>>> sum("creator" in l for l in lines), sum("authoredBy" in l for l in lines)
(1, 2)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cache

import pyoxigraph as ox

from ckg import resources
from ckg.etl.identity import author_key, institution_key
from ckg.etl.normalize import MAX_TEXT_BYTES, cut_text, xml_text
from ckg.etl.records import Paper
from ckg.terms import BIBO, CKG, DCTERMS, FABIO, FOAF, RDF, SCHEMA, XSD, superclasses, superproperties

Quads = Iterator[ox.Quad]

# --------------------------------------------------------------------------------------------
# N-Quads text, written as pyoxigraph writes it
# --------------------------------------------------------------------------------------------
# The build's hot path (every paper's graph, the entities graph, provenance) writes its lines as
# text: making a pyoxigraph term and quad for each of 60 million quads and serialising them cost
# the reading workers half their time (docs/scale.md). The text is byte for byte what
# ``ox.serialize`` writes for the same quads (tests/test_emit.py checks every code point and the
# demo corpus), so a paper's content hash does not change with the path that wrote it. The
# functions that return a paper's or an entity's quads parse that text: one source for each graph.

_ESCAPES = {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r", 0x22: '\\"', 0x5C: "\\\\",
            **{c: f"\\u{c:04X}" for c in (*range(0x20), 0x7F, 0xFFFE, 0xFFFF) if c not in (0x08, 0x09, 0x0A, 0x0C, 0x0D)}}
"""What pyoxigraph's N-Quads writer escapes in a literal (the other controls and the two noncharacters
as ``\\uXXXX``); every other code point is written as it is."""


def node_text(node: ox.NamedNode) -> str:
    """``<iri>``."""
    return "<" + node.value + ">"


_TO_ESCAPE = re.compile('[\x00-\x1f"\\\\\x7f\ufffe\uffff]')
_RARE_ESCAPES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def escaped(value: str) -> str:
    """``value`` escaped as :data:`_ESCAPES` says: the same text as ``value.translate(_ESCAPES)``,
    five times as fast on bodies (a text with nothing to escape is returned as it is; the common
    escapes are ``str.replace`` passes; the rare controls a substitution).

    >>> escaped('a "b"\\\\\\n\\x0c') == 'a "b"\\\\\\n\\x0c'.translate(_ESCAPES)
    True
    """
    if _TO_ESCAPE.search(value) is None:
        return value
    value = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    if _RARE_ESCAPES.search(value) is not None:
        value = _RARE_ESCAPES.sub(lambda match: _ESCAPES[ord(match.group())], value)
    return value


def string_text(value: str) -> str:
    """The N-Quads form of :func:`string` ``(value)``.

    >>> string_text('say "hi"\\n') == str(string('say "hi"\\n'))
    True
    """
    return '"' + escaped(literal_text(value)) + '"'


def typed_text(lexical: str, datatype: ox.NamedNode) -> str:
    """The N-Quads form of a literal of ``datatype`` (not ``xsd:string``, which is written plain).

    >>> typed_text("3", XSD.integer) == str(integer(3))
    True
    """
    return '"' + escaped(lexical) + '"^^<' + datatype.value + ">"


def line(s: str, p: str, o: str, g: str) -> str:
    """One N-Quads line of terms already written (:func:`node_text`, :func:`string_text`, ...)."""
    return f"{s} {p} {o} {g} .\n"


@cache
def _class_texts(cls: ox.NamedNode) -> tuple[str, ...]:
    return tuple(map(node_text, (cls, *superclasses(cls))))


@cache
def _property_texts(prop: ox.NamedNode) -> tuple[str, ...]:
    return tuple(map(node_text, (prop, *superproperties(prop))))


_TYPE = node_text(RDF.type)


def typed_lines(node: str, cls: ox.NamedNode, graph: str) -> list[str]:
    """``node a cls`` and ``node a`` each declared super-class of ``cls``."""
    return [line(node, _TYPE, c, graph) for c in _class_texts(cls)]


def edge_lines(s: str, p: ox.NamedNode, o: str, graph: str) -> list[str]:
    """``s p o`` and ``s q o`` for each declared super-property ``q`` of ``p``."""
    return [line(s, prop, o, graph) for prop in _property_texts(p)]


def annotated_edge_lines(s: str, p: ox.NamedNode, o: str, node: str, cls: ox.NamedNode, graph: str,
                         weights: Iterable[tuple[ox.NamedNode, str]] = ()) -> list[str]:
    """The ontology's n-ary annotation pattern: the plain edge ``s p o`` (see :func:`edge_lines`)
    and a ``cls`` node naming it (``ckg:annotatedSource``/``annotatedProperty``/``annotatedTarget``)
    that carries the edge's ``weights`` as (property, value written) pairs."""
    return [*edge_lines(s, p, o, graph), *typed_lines(node, cls, graph),
            line(node, node_text(CKG.annotatedSource), s, graph),
            line(node, node_text(CKG.annotatedProperty), node_text(p), graph),
            line(node, node_text(CKG.annotatedTarget), o, graph),
            *(line(node, node_text(prop), value, graph) for prop, value in weights)]


def quads_of(nquads: bytes) -> list[ox.Quad]:
    """The quads of N-Quads text (what the ``*_nquads`` functions write), in its order."""
    return list(ox.parse(nquads, format=ox.RdfFormat.N_QUADS))


def _lines_bytes(lines: list[str]) -> bytes:
    """The lines without repeats (each where it first came), as the bytes of a file."""
    return "".join(dict.fromkeys(lines)).encode()


# The same patterns as pyoxigraph quads, for the concepts and topics stages, which compare and
# remove quads one by one: made directly (parsing their text made an edge's quads 1.5 times as
# slow); tests/test_emit.py checks that both forms write the same lines.

def typed(node: ox.NamedNode, cls: ox.NamedNode, graph: ox.NamedNode) -> Quads:
    """``node a cls`` and ``node a`` each declared super-class of ``cls``."""
    for c in (cls, *superclasses(cls)):
        yield ox.Quad(node, RDF.type, c, graph)


def edge(s: ox.NamedNode, p: ox.NamedNode, o: ox.NamedNode, graph: ox.NamedNode) -> Quads:
    """``s p o`` and ``s q o`` for each declared super-property ``q`` of ``p``."""
    for prop in (p, *superproperties(p)):
        yield ox.Quad(s, prop, o, graph)


def annotated_edge(s: ox.NamedNode, p: ox.NamedNode, o: ox.NamedNode, node: ox.NamedNode, cls: ox.NamedNode,
                   graph: ox.NamedNode, weights: Iterable[tuple[ox.NamedNode, ox.NamedNode | ox.Literal]] = ()) -> Quads:
    """:func:`annotated_edge_lines` as quads."""
    yield from edge(s, p, o, graph)
    yield from typed(node, cls, graph)
    yield ox.Quad(node, CKG.annotatedSource, s, graph)
    yield ox.Quad(node, CKG.annotatedProperty, p, graph)
    yield ox.Quad(node, CKG.annotatedTarget, o, graph)
    for prop, value in weights:
        yield ox.Quad(node, prop, value, graph)


def literal_text(value: str) -> str:
    """The value of :func:`string` ``(value)``: without what XML 1.0 does not allow, cut to
    :data:`MAX_TEXT_BYTES`."""
    return cut_text(xml_text(value)[0], None, MAX_TEXT_BYTES)


def string(value: str) -> ox.Literal:
    """A plain literal. The readers remove (and report) the characters XML 1.0 does not allow and
    cut over-long texts; this guard keeps any other value (a release label, a vocabulary's name)
    from making a literal that XML results could not carry or the bulk loader could not read.

    >>> string("a\\x00b").value
    'ab'
    """
    return ox.Literal(literal_text(value))


def integer(value: int) -> ox.Literal:
    return ox.Literal(str(int(value)), datatype=XSD.integer)


def decimal(value: float) -> ox.Literal:
    """An ``xsd:decimal`` rounded to 3 places (edge weights: confidence, probability).

    >>> decimal(0.73349).value
    '0.733'
    """
    return ox.Literal(f"{value:.3f}", datatype=XSD.decimal)


def boolean(value: bool) -> ox.Literal:
    return ox.Literal("true" if value else "false", datatype=XSD.boolean)


def to_nquads(quads: Iterable[ox.Quad]) -> bytes:
    return ox.serialize(quads, format=ox.RdfFormat.N_QUADS)


def paper_nquads(paper: Paper) -> bytes:
    """The content of a paper's named graph, as N-Quads (each quad once, in a fixed order)."""
    g = node_text(resources.paper_graph(paper.key))
    s = node_text(resources.paper(paper.key))
    out = typed_lines(s, CKG.Paper, g)

    def lit(prop: ox.NamedNode, value: str) -> None:
        if value:
            out.append(line(s, node_text(prop), string_text(value), g))

    lit(DCTERMS.title, paper.title)
    lit(DCTERMS.abstract, paper.abstract)
    lit(CKG.bodyText, paper.body)
    if paper.issued:
        lexical, datatype, year = paper.issued
        out.append(line(s, node_text(DCTERMS.issued), typed_text(lexical, XSD[datatype]), g))
        out.append(line(s, node_text(CKG.publicationYear), typed_text(str(int(year)), XSD.integer), g))
    lit(CKG.cordUid, paper.cord_uid)
    for sha in paper.shas:
        lit(CKG.sha, sha)
    lit(BIBO.doi, paper.doi)
    lit(BIBO.pmid, paper.pmid)
    lit(FABIO.hasPubMedCentralId, paper.pmcid)
    lit(CKG.arxivId, paper.arxiv_id)
    lit(CKG.magId, paper.mag_id)
    lit(CKG.whoCovidenceId, paper.who_covidence_id)
    lit(CKG.s2Id, paper.s2_id)
    lit(CKG.journalTitle, paper.journal)
    lit(CKG.licenseCode, paper.license)
    for source in paper.sources:
        lit(CKG.sourceCollection, source)
    if paper.url:
        out.append(line(s, node_text(SCHEMA.url), typed_text(paper.url, XSD.anyURI), g))
    out.append(line(s, node_text(CKG.hasFullText), typed_text("true" if paper.has_full_text else "false", XSD.boolean), g))

    for position, mention in enumerate(paper.authors, start=1):
        a = node_text(resources.author(author_key(mention.given, mention.family)))
        institutions = [node_text(resources.institution(institution_key(aff.institution, aff.country)))
                        for aff in mention.affiliations]
        out.extend(annotated_edge_lines(s, CKG.authoredBy, a, node_text(resources.authorship(paper.key, position)),
                                        CKG.Authorship, g,
                                        [(CKG.authorPosition, typed_text(str(position), XSD.integer)),
                                         *((CKG.statedAffiliation, inst) for inst in institutions)]))
    return _lines_bytes(out)


def paper_texts(paper: Paper) -> tuple[str, str, str]:
    """The values of the title, abstract and body literals :func:`paper_nquads` writes ("" for
    one it does not write): what the store will hold, known before it is loaded."""
    return (literal_text(paper.title) if paper.title else "", literal_text(paper.abstract) if paper.abstract else "",
            literal_text(paper.body) if paper.body else "")


def paper_quads(paper: Paper) -> list[ox.Quad]:
    """The content of a paper's named graph (:func:`paper_nquads`), as quads."""
    return quads_of(paper_nquads(paper))


def author_nquads(key: str, name: str, given: str, family: str) -> bytes:
    """An author node in the entities graph."""
    g = node_text(resources.graph(resources.ENTITIES_GRAPH_NAME))
    a = node_text(resources.author(key))
    out = typed_lines(a, CKG.Author, g)
    out.append(line(a, node_text(FOAF.name), string_text(name), g))
    if given:
        out.append(line(a, node_text(FOAF.givenName), string_text(given), g))
    out.append(line(a, node_text(FOAF.familyName), string_text(family), g))
    return "".join(out).encode()


def institution_nquads(key: str, name: str, country: str, settlement: str, region: str) -> bytes:
    """An institution node in the entities graph."""
    g = node_text(resources.graph(resources.ENTITIES_GRAPH_NAME))
    i = node_text(resources.institution(key))
    out = typed_lines(i, CKG.Institution, g)
    out.append(line(i, node_text(FOAF.name), string_text(name), g))
    for prop, value in ((CKG.country, country), (CKG.settlement, settlement), (CKG.region, region)):
        if value:
            out.append(line(i, node_text(prop), string_text(value), g))
    return "".join(out).encode()


def affiliation_nquads(author: str, institution: str) -> bytes:
    g = node_text(resources.graph(resources.ENTITIES_GRAPH_NAME))
    return "".join(edge_lines(node_text(resources.author(author)), CKG.affiliatedWith,
                              node_text(resources.institution(institution)), g)).encode()


def citation_quads(citing: str, cited: str) -> list[ox.Quad]:
    """``citing cites cited`` and ``cited citedBy citing`` (with their CiTO super-properties)."""
    g = resources.graph(resources.CITATIONS_GRAPH_NAME)
    a, b = resources.paper(citing), resources.paper(cited)
    return [*edge(a, CKG.cites, b, g), *edge(b, CKG.citedBy, a, g)]


def citation_nquads(pairs: Iterable[tuple[str, str]]) -> bytes:
    """:func:`citation_quads` of each (citing, cited) pair, as N-Quads text."""
    g = node_text(resources.graph(resources.CITATIONS_GRAPH_NAME))
    out: list[str] = []
    for citing, cited in pairs:
        a, b = node_text(resources.paper(citing)), node_text(resources.paper(cited))
        out += edge_lines(a, CKG.cites, b, g)
        out += edge_lines(b, CKG.citedBy, a, g)
    return "".join(out).encode()


def release_quads(label: str, issued: str | None) -> list[ox.Quad]:
    g = resources.graph(resources.PROVENANCE_GRAPH_NAME)
    r = resources.release(label)
    out = list(typed(r, CKG.Release, g))
    out.append(ox.Quad(r, CKG.releaseLabel, string(label), g))
    if issued:
        out.append(ox.Quad(r, DCTERMS.issued, ox.Literal(issued, datatype=XSD.date), g))
    return out


def paper_provenance_nquads(key: str, first_release: str, last_release: str, files: list[str]) -> bytes:
    """A paper's first and last release and its source files, in the provenance graph."""
    g = node_text(resources.graph(resources.PROVENANCE_GRAPH_NAME))
    s = node_text(resources.paper(key))
    out = [line(s, node_text(CKG.firstSeenIn), node_text(resources.release(first_release)), g),
           line(s, node_text(CKG.lastUpdatedIn), node_text(resources.release(last_release)), g)]
    out.extend(line(s, node_text(CKG.sourceFile), string_text(f), g) for f in files)
    return "".join(out).encode()
