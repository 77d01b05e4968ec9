"""Which concept mentions become associatedConcept edges, their confidence, and their triples.

Extraction (:mod:`ckg.etl.concepts`) counts, per paper, the mentions of each concept in the
title, abstract and body (the catalog keeps them). The edges are then decided corpus-wide:

1. **Evidence.** A paper is associated with a concept it names in its title or abstract, or
   at least :attr:`EdgeRules.min_body_mentions` (2) times in its body: a concept named once in
   passing, deep in the body, is not what the paper is about.
2. **Document frequency.** In a corpus of at least :attr:`EdgeRules.df_min_papers` (50) papers,
   a concept mentioned by more than :attr:`EdgeRules.max_df` (half) of the papers gets no edges
   at all: it tells no paper apart from the others (in the 803 bioRxiv/medRxiv papers of March
   2020, "Infection", "Viruses" and "Coronavirus"). The stop list
   (``etl/data/concept-stoplist.txt``) removes generic names at extraction already; this rule
   catches what is generic in a given corpus.
3. **Confidence**, in [0, 1], rounded to 3 decimals::

       evidence     e = 3·t + 1.5·a + 0.5·b        (t, a, b: mentions in title, abstract, body)
       salience     s = 1 − exp(−e / 3)
       specificity  q = 1 − ⌊10 · ln(df) / ln(N)⌋ / 10   (df: papers mentioning the concept, N: papers;
                                                         in tenths; q = 1 when N < 2)
       confidence   c = s · (0.5 + 0.5·q)

   A title mention alone gives s = 0.63, an abstract mention 0.39, two body mentions 0.28; a
   concept of one paper in a thousand keeps its salience, one of half the papers loses 45%.
   Specificity is counted in tenths so that a weekly release, which moves every df and N by
   a percent, changes the confidence of the few concepts whose df crosses a tenth (holding 0.3%
   of the edges in a simulated 1% growth), not of every frequent concept's edges (13% of all edges at 10,000 papers with the
   unrounded formula): an update rewrites what changed (:func:`concept_state`).

The edge is written twice, as the project's annotation pattern wants: the plain
``paper ckg:associatedConcept concept`` (with its super-property ``dcterms:subject``), and a
``ckg:ConceptAssociation`` node naming the edge and carrying ``ckg:confidence`` and
``ckg:mentionCount``. Concept nodes carry their kind (a subclass of ``ckg:Concept``),
``skos:prefLabel``, ``skos:altLabel``, ``skos:notation`` (CURIEs), ``ckg:meshId``, ``ckg:meshTreeNumber``,
``ckg:umlsCui`` and ``skos:exactMatch`` links to MeSH and OBO PURLs. All of it lives in the
``graph/concepts`` named graph.

>>> rules = EdgeRules()
>>> confidence((1, 0, 0), df=1, papers=1000), confidence((0, 1, 0), df=500, papers=1000)
(0.632, 0.236)
>>> rules.passes_evidence((0, 0, 1)), rules.passes_evidence((0, 0, 2)), rules.passes_evidence((0, 1, 0))
(False, True, True)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import pyoxigraph as ox

from ckg import resources
from ckg.etl.emit import annotated_edge, decimal, integer, typed
from ckg.etl.vocab import Concept
from ckg.etl.vocab.kinds import KIND_CLASSES
from ckg.terms import CKG, SKOS

MESH_IRI = "http://id.nlm.nih.gov/mesh/"
OBO_PURL = "http://purl.obolibrary.org/obo/"
_NO_PURL = {"MESH", "UMLS", "CKGDEMO"}


@dataclass(frozen=True)
class EdgeRules:
    """The corpus-wide rules (see the module docstring)."""

    min_body_mentions: int = 2
    max_df: float = 0.5
    df_min_papers: int = 50

    def passes_evidence(self, counts: tuple[int, int, int]) -> bool:
        t, a, b = counts
        return t > 0 or a > 0 or b >= self.min_body_mentions

    def too_frequent(self, df: int, papers: int) -> bool:
        return papers >= self.df_min_papers and df > self.max_df * papers

    def as_dict(self) -> dict:
        return asdict(self)


def specificity_tenths(df: int, papers: int) -> int:
    """⌊10 · ln(df) / ln(N)⌋ (0 to 10): how common a concept is, in tenths of the corpus's log size.

    >>> specificity_tenths(1, 1000), specificity_tenths(10, 100), specificity_tenths(500, 1000), specificity_tenths(5, 1)
    (0, 5, 8, 0)
    """
    if papers < 2:
        return 0
    return min(10, math.floor(10 * math.log(max(df, 1)) / math.log(papers) + 1e-9))


def confidence(counts: tuple[int, int, int], *, df: int, papers: int) -> float:
    """The confidence of an edge (formula in the module docstring)."""
    return confidence_of(counts, specificity_tenths(df, papers))


def confidence_of(counts: tuple[int, int, int], tenths: int) -> float:
    t, a, b = counts
    salience = 1 - math.exp(-(3 * t + 1.5 * a + 0.5 * b) / 3)
    specificity = (10 - tenths) / 10
    return round(salience * (0.5 + 0.5 * specificity), 3)


def concept_state(df: int, papers: int, rules: EdgeRules) -> tuple[int, int]:
    """(specificity tenths, 1 when the document-frequency rule drops the concept): all an edge
    of the concept depends on besides its paper's own mentions. An update recomputes the edges
    of the new, changed and removed papers and of the concepts whose state changed; every other
    edge is the same as in a fresh build.

    >>> concept_state(3, 1000, EdgeRules()), concept_state(600, 1000, EdgeRules())
    ((1, 0), (9, 1))
    """
    return specificity_tenths(df, papers), int(rules.too_frequent(df, papers))


def exact_matches(concept: Concept) -> list[str]:
    """IRIs of the concept in other vocabularies: MeSH descriptors, OBO PURLs.

    >>> c = Concept("mesh-D011014", "Pneumonia", "condition", ids=["MESH:D011014", "DOID:552", "CKGDEMO:0000001"])
    >>> exact_matches(c)
    ['http://id.nlm.nih.gov/mesh/D011014', 'http://purl.obolibrary.org/obo/DOID_552']
    """
    out = []
    for curie in concept.ids:
        prefix, local = curie.split(":", 1)
        if prefix == "MESH" and local.startswith("D"):
            out.append(MESH_IRI + local)
        elif prefix not in _NO_PURL:
            name = {"NCBITAXON": "NCBITaxon"}.get(prefix, prefix)
            out.append(f"{OBO_PURL}{name}_{local}")
    return out


def concept_quads(concept: Concept) -> list[ox.Quad]:
    """A concept node in the concepts graph."""
    g = resources.graph(resources.CONCEPTS_GRAPH_NAME)
    c = resources.concept(concept.key)
    out = list(typed(c, CKG[KIND_CLASSES[concept.kind]], g))
    out.append(ox.Quad(c, SKOS.prefLabel, ox.Literal(concept.label, language="en"), g))
    for name in concept.names:
        if name != concept.label:
            out.append(ox.Quad(c, SKOS.altLabel, ox.Literal(name, language="en"), g))
    for curie in concept.ids:
        out.append(ox.Quad(c, SKOS.notation, ox.Literal(curie), g))
    for mesh in concept.mesh_ids:
        out.append(ox.Quad(c, CKG.meshId, ox.Literal(mesh), g))
    for tree in getattr(concept, "tree_numbers", None) or ():
        out.append(ox.Quad(c, CKG.meshTreeNumber, ox.Literal(tree), g))
    for cui in concept.umls:
        out.append(ox.Quad(c, CKG.umlsCui, ox.Literal(cui), g))
    for iri in exact_matches(concept):
        out.append(ox.Quad(c, SKOS.exactMatch, ox.NamedNode(iri), g))
    return list(dict.fromkeys(out))


def edge_quads(paper_key: str, concept_key: str, conf: float, mentions: int) -> list[ox.Quad]:
    """``paper associatedConcept concept`` and its ConceptAssociation node."""
    g = resources.graph(resources.CONCEPTS_GRAPH_NAME)
    p, c = resources.paper(paper_key), resources.concept(concept_key)
    return list(annotated_edge(p, CKG.associatedConcept, c, resources.concept_association(paper_key, concept_key),
                               CKG.ConceptAssociation, g,
                               [(CKG.confidence, decimal(conf)), (CKG.mentionCount, integer(mentions))]))


@dataclass
class Selection:
    """The edges of a corpus: (paper, concept) -> (confidence, mentions), and what was dropped."""

    edges: dict[tuple[str, str], tuple[float, int]]
    dropped_by_df: dict[str, int]
    below_evidence: int
    papers: int


def select(rows: Iterable[tuple[str, str, int, int, int]], papers: int, rules: EdgeRules) -> Selection:
    """Edges from (paper, concept, title, abstract, body) mention rows of the whole corpus."""
    rows = list(rows)
    df: dict[str, int] = {}
    for _key, concept_key, *_ in rows:
        df[concept_key] = df.get(concept_key, 0) + 1
    return decide(rows, df, papers, rules)


def decide(rows: Iterable[tuple[str, str, int, int, int]], df: dict[str, int], papers: int,
           rules: EdgeRules, states: dict[str, tuple[int, int]] | None = None) -> Selection:
    """Edges from mention rows (all of the corpus's, or a part of them), given the corpus's
    document frequencies ``df`` and size ``papers`` (and the concepts' states, when the caller
    has them: :func:`concept_state` of each)."""
    if states is None:
        states = {c: concept_state(n, papers, rules) for c, n in df.items()}
    dropped = {c: n for c, n in df.items() if states[c][1]}
    edges: dict[tuple[str, str], tuple[float, int]] = {}
    weak = 0
    for key, concept_key, t, a, b in rows:
        tenths, drop = states[concept_key]
        if drop:
            continue
        if not rules.passes_evidence((t, a, b)):
            weak += 1
            continue
        edges[(key, concept_key)] = (confidence_of((t, a, b), tenths), t + a + b)
    return Selection(edges, dropped, weak, papers)
