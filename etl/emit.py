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
>>> lines = sorted(to_nquads(paper_quads(p)).decode().splitlines())
>>> [l for l in lines if "/title>" in l]  # doctest: +NORMALIZE_WHITESPACE
['<https://w3id.org/ckg/resource/paper/ab12cd34> <http://purl.org/dc/terms/title> "A study"
  <https://w3id.org/ckg/resource/graph/paper/ab12cd34> .']
>>> sum("creator" in l for l in lines), sum("authoredBy" in l for l in lines)
(1, 2)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyoxigraph as ox

from ckg import resources
from ckg.etl.identity import author_key, institution_key
from ckg.etl.normalize import MAX_TEXT_BYTES, cut_text, xml_text
from ckg.etl.records import Paper
from ckg.terms import BIBO, CKG, DCTERMS, FABIO, FOAF, RDF, SCHEMA, XSD, superclasses, superproperties

Quads = Iterator[ox.Quad]


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
    """The ontology's n-ary annotation pattern: the plain edge ``s p o`` (see :func:`edge`) and a
    ``cls`` node naming it (``ckg:annotatedSource``/``annotatedProperty``/``annotatedTarget``)
    that carries the edge's ``weights`` as (property, value) pairs."""
    yield from edge(s, p, o, graph)
    yield from typed(node, cls, graph)
    yield ox.Quad(node, CKG.annotatedSource, s, graph)
    yield ox.Quad(node, CKG.annotatedProperty, p, graph)
    yield ox.Quad(node, CKG.annotatedTarget, o, graph)
    for prop, value in weights:
        yield ox.Quad(node, prop, value, graph)


def string(value: str) -> ox.Literal:
    """A plain literal. The readers remove (and report) the characters XML 1.0 does not allow and
    cut over-long texts; this guard keeps any other value (a release label, a vocabulary's name)
    from making a literal that XML results could not carry or the bulk loader could not read.

    >>> string("a\\x00b").value
    'ab'
    """
    return ox.Literal(cut_text(xml_text(value)[0], None, MAX_TEXT_BYTES))


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


def paper_quads(paper: Paper) -> list[ox.Quad]:
    """The content of a paper's named graph."""
    g = resources.paper_graph(paper.key)
    s = resources.paper(paper.key)
    out: list[ox.Quad] = list(typed(s, CKG.Paper, g))

    def lit(prop: ox.NamedNode, value: str) -> None:
        if value:
            out.append(ox.Quad(s, prop, string(value), g))

    lit(DCTERMS.title, paper.title)
    lit(DCTERMS.abstract, paper.abstract)
    lit(CKG.bodyText, paper.body)
    if paper.issued:
        lexical, datatype, year = paper.issued
        out.append(ox.Quad(s, DCTERMS.issued, ox.Literal(lexical, datatype=XSD[datatype]), g))
        out.append(ox.Quad(s, CKG.publicationYear, integer(year), g))
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
        out.append(ox.Quad(s, SCHEMA.url, ox.Literal(paper.url, datatype=XSD.anyURI), g))
    out.append(ox.Quad(s, CKG.hasFullText, boolean(paper.has_full_text), g))

    for position, mention in enumerate(paper.authors, start=1):
        a = resources.author(author_key(mention.given, mention.family))
        institutions = [resources.institution(institution_key(aff.institution, aff.country))
                        for aff in mention.affiliations]
        out.extend(annotated_edge(s, CKG.authoredBy, a, resources.authorship(paper.key, position), CKG.Authorship, g,
                                  [(CKG.authorPosition, integer(position)),
                                   *((CKG.statedAffiliation, inst) for inst in institutions)]))
    return _unique(out)


def _unique(quads: list[ox.Quad]) -> list[ox.Quad]:
    """The quads without repeats, each where it first came."""
    return list(dict.fromkeys(quads))


def author_quads(key: str, name: str, given: str, family: str) -> list[ox.Quad]:
    """An author node in the entities graph."""
    g = resources.graph(resources.ENTITIES_GRAPH_NAME)
    a = resources.author(key)
    out = list(typed(a, CKG.Author, g))
    out.append(ox.Quad(a, FOAF.name, string(name), g))
    if given:
        out.append(ox.Quad(a, FOAF.givenName, string(given), g))
    out.append(ox.Quad(a, FOAF.familyName, string(family), g))
    return out


def institution_quads(key: str, name: str, country: str, settlement: str, region: str) -> list[ox.Quad]:
    """An institution node in the entities graph."""
    g = resources.graph(resources.ENTITIES_GRAPH_NAME)
    i = resources.institution(key)
    out = list(typed(i, CKG.Institution, g))
    out.append(ox.Quad(i, FOAF.name, string(name), g))
    for prop, value in ((CKG.country, country), (CKG.settlement, settlement), (CKG.region, region)):
        if value:
            out.append(ox.Quad(i, prop, string(value), g))
    return out


def affiliation_quads(author: str, institution: str) -> list[ox.Quad]:
    g = resources.graph(resources.ENTITIES_GRAPH_NAME)
    return list(edge(resources.author(author), CKG.affiliatedWith, resources.institution(institution), g))


def citation_quads(citing: str, cited: str) -> list[ox.Quad]:
    """``citing cites cited`` and ``cited citedBy citing`` (with their CiTO super-properties)."""
    g = resources.graph(resources.CITATIONS_GRAPH_NAME)
    a, b = resources.paper(citing), resources.paper(cited)
    return [*edge(a, CKG.cites, b, g), *edge(b, CKG.citedBy, a, g)]


def release_quads(label: str, issued: str | None) -> list[ox.Quad]:
    g = resources.graph(resources.PROVENANCE_GRAPH_NAME)
    r = resources.release(label)
    out = list(typed(r, CKG.Release, g))
    out.append(ox.Quad(r, CKG.releaseLabel, string(label), g))
    if issued:
        out.append(ox.Quad(r, DCTERMS.issued, ox.Literal(issued, datatype=XSD.date), g))
    return out


def paper_provenance_quads(key: str, first_release: str, last_release: str, files: list[str]) -> list[ox.Quad]:
    g = resources.graph(resources.PROVENANCE_GRAPH_NAME)
    s = resources.paper(key)
    out = [
        ox.Quad(s, CKG.firstSeenIn, resources.release(first_release), g),
        ox.Quad(s, CKG.lastUpdatedIn, resources.release(last_release), g),
    ]
    out.extend(ox.Quad(s, CKG.sourceFile, string(f), g) for f in files)
    return out
