"""The N-Quads text the build writes (ckg.etl.emit) is what pyoxigraph writes for the same quads.

A paper's content hash is taken over its N-Quads lines, and the catalog of every store keeps it:
a text that differed from pyoxigraph's by one escape would make the next update see every paper
as changed. So the text is checked byte for byte against pyoxigraph's serializer (every code
point, odd papers, the demo corpus) and parsed strictly back to the values it was made from.
"""

import sys

import pyoxigraph as ox
import pytest

from ckg import resources
from ckg.etl import emit
from ckg.etl.assemble import Assembler, discover
from ckg.etl.records import Affiliation, AuthorMention, Paper
from ckg.etl.report import Report
from ckg.terms import CKG, DCTERMS, FOAF, XSD

G = ox.NamedNode("http://example.org/g")
S = ox.NamedNode("http://example.org/s")


def _as_pyoxigraph_writes(literals: list[ox.Literal]) -> list[str]:
    text = emit.to_nquads(ox.Quad(S, DCTERMS.title, lit, G) for lit in literals).decode()
    return [line.split(" ", 2)[2].rsplit(" ", 2)[0] for line in text.split("\n") if line]


def test_every_code_point_is_escaped_as_pyoxigraph_escapes_it():
    chunks = ["".join(map(chr, range(start, min(start + 512, sys.maxunicode + 1))))
              for start in range(0, sys.maxunicode + 1, 512)]
    chunks = ["".join(c for c in chunk if not 0xD800 <= ord(c) <= 0xDFFF) for chunk in chunks]  # no lone surrogates
    chunks = [c for c in chunks if c]
    ours = ['"' + c.translate(emit._ESCAPES) + '"' for c in chunks]
    assert ours == _as_pyoxigraph_writes([ox.Literal(c) for c in chunks])
    typed = [emit.typed_text(c, XSD.anyURI) for c in chunks[:8]]
    assert typed == _as_pyoxigraph_writes([ox.Literal(c, datatype=XSD.anyURI) for c in chunks[:8]])
    assert emit.string_text("a\x00b\ud800c\x0b") == '"abc "' == str(emit.string("a\x00b\ud800c\x0b"))


ODD = Paper(
    key="odd key/ü", title='A "quoted" title\\ with\ttab,\nnewline\r and \x00control\x1f chars \u2028 ☃ 𝄞',
    cord_uid="u1", shas=["s1", "s2", "s1"], doi="10.1/a\"b", pmid="1", pmcid="PMC1", arxiv_id="2001.1",
    mag_id="m", who_covidence_id="w", s2_id="s2", abstract="x" * 10 + "\\" * 3, body="b\x7fody",
    issued=("2020-03", "gYearMonth", 2020), journal="J <b>", license="cc-by", sources=["PMC", "WHO"],
    url="https://example.org/a b?c=\"d\"", has_full_text=True,
    authors=[AuthorMention("Lin", "Wang", affiliations=(Affiliation("Univ \"X\"", "China"), Affiliation("Lab", ""))),
             AuthorMention("", "O'Brien"), AuthorMention("Lin", "Wang")],
)


def _round_trip(text: bytes) -> list[ox.Quad]:
    quads = list(ox.parse(text, format=ox.RdfFormat.N_QUADS))  # strict: every IRI and literal checked
    assert emit.to_nquads(quads) == text
    assert len(set(quads)) == len(quads)
    return quads


def test_a_paper_graph_is_what_pyoxigraph_writes_and_holds_the_paper():
    text = emit.paper_nquads(ODD)
    quads = _round_trip(text)
    assert quads == emit.paper_quads(ODD)
    s, g = resources.paper(ODD.key), resources.paper_graph(ODD.key)
    assert {q.graph_name for q in quads} == {g}
    values = {(q.predicate, q.object) for q in quads if q.subject == s}
    assert (DCTERMS.title, emit.string(ODD.title)) in values
    # only what XML does not allow goes (a control Python counts as whitespace becomes a space)
    assert emit.string(ODD.title).value == ODD.title.replace("\x00", "").replace("\x1f", " ")
    assert (DCTERMS.issued, ox.Literal("2020-03", datatype=XSD.gYearMonth)) in values
    assert (CKG.hasFullText, ox.Literal("true", datatype=XSD.boolean)) in values
    assert sorted(o.value for p, o in values if p == CKG.sha) == ["s1", "s2"]  # a repeat is written once
    authorships = {q.subject for q in quads if q.predicate == CKG.annotatedSource}
    assert authorships == {resources.authorship(ODD.key, n) for n in (1, 2, 3)}
    positions = sorted(int(q.object.value) for q in quads if q.predicate == CKG.authorPosition)
    assert positions == [1, 2, 3]
    assert sum(q.predicate == CKG.statedAffiliation for q in quads) == 2


def test_entity_and_provenance_text_is_what_pyoxigraph_writes():
    author = _round_trip(emit.author_nquads("wang_lin", 'Lin "L" Wang', "", "Wang\\"))
    assert (FOAF.name, ox.Literal('Lin "L" Wang')) in {(q.predicate, q.object) for q in author}
    assert FOAF.givenName not in {q.predicate for q in author}
    _round_trip(emit.institution_nquads("i/1", "Univ\n", "China", "", "Hubei"))
    _round_trip(emit.affiliation_nquads("a b", "c/d"))
    provenance = _round_trip(emit.paper_provenance_nquads("k", "2020-03-13", "2020-04-10", ["a.json", "b\t.json"]))
    assert [q.object.value for q in provenance if q.predicate == CKG.sourceFile] == ["a.json", "b\t.json"]
    pairs = [("a", "b c"), ("b c", "a/d")]
    citations = _round_trip(emit.citation_nquads(pairs))
    assert citations == [q for a, b in pairs for q in emit.citation_quads(a, b)]
    assert (resources.paper("b c"), CKG.citedBy, resources.paper("a")) in {(q.subject, q.predicate, q.object)
                                                                           for q in citations}


def test_the_demo_corpus_papers_are_written_as_pyoxigraph_writes_them(demo_releases):
    report = Report(None)
    papers = [p for p in Assembler(discover([demo_releases[0]], report), report).papers() if isinstance(p, Paper)]
    assert len(papers) >= 50
    for paper in papers:
        _round_trip(emit.paper_nquads(paper))
        _round_trip(emit.paper_provenance_nquads(paper.key, "r1", "r1", paper.source_files))


@pytest.mark.parametrize("pattern", ["typed", "edge", "annotated_edge"])
def test_the_quad_patterns_are_the_parsed_text(pattern):
    node = ox.NamedNode("http://example.org/n")
    quads = {
        "typed": lambda: list(emit.typed(S, CKG.Paper, G)),
        "edge": lambda: list(emit.edge(S, CKG.cites, node, G)),
        "annotated_edge": lambda: list(emit.annotated_edge(S, CKG.associatedConcept, node, ox.NamedNode("http://x/a"),
                                                           CKG.ConceptAssociation, G,
                                                           [(CKG.confidence, emit.decimal(0.5))])),
    }[pattern]()
    assert len(quads) >= 2 and all(q.graph_name == G for q in quads)
    g, s, n = emit.node_text(G), emit.node_text(S), emit.node_text(node)
    lines = {
        "typed": lambda: emit.typed_lines(s, CKG.Paper, g),
        "edge": lambda: emit.edge_lines(s, CKG.cites, n, g),
        "annotated_edge": lambda: emit.annotated_edge_lines(s, CKG.associatedConcept, n, "<http://x/a>",
                                                            CKG.ConceptAssociation, g,
                                                            [(CKG.confidence, str(emit.decimal(0.5)))]),
    }[pattern]()
    assert emit.to_nquads(quads) == "".join(lines).encode()  # the quads and the text: one pattern
    if pattern == "annotated_edge":
        assert ox.Quad(ox.NamedNode("http://x/a"), CKG.confidence, ox.Literal("0.500", datatype=XSD.decimal), G) in quads
