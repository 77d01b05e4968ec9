"""Materialised query signals: lookup keys and counts that let a query's cost follow its answer.

The named queries resolve a concept or topic by any of its names and rank papers by citations,
concepts and topics by papers. Computed at query time, that means filtering every name of every
concept and counting every edge of the corpus. So every build and update writes, in the named
graph ``graph/signals``, plain triples that any SPARQL engine reads:

* ``?c ckg:nameKey "asthma"``: each name of a concept (``skos:prefLabel``, ``skos:altLabel``,
  ``skos:notation``, ``ckg:meshId``) and of a topic (``skos:prefLabel``, ``skos:notation``),
  lower-cased by SPARQL's own ``LCASE(STR(?name))`` (an empty name gives no key). A query looks a
  name up with ``BIND(COALESCE(LCASE(STR(?text)), "") AS ?key) ?c ckg:nameKey ?key``: an index
  hit, not a scan of all names (pyoxigraph's planner starts from a ``COALESCE``, which it knows is
  always bound, and walks on from the key).
* ``?paper ckg:citedByCount n``: how many papers of the corpus cite the paper (its distinct
  ``ckg:citedBy`` edges), for every paper cited at least once (no triple means 0).
* ``?paper ckg:citedByTop n``: the paper's place in the most-cited order (``ckg:citedByCount``
  descending, then the paper's IRI, the order of ``most-cited-papers``) rounded up to a power of
  ten: 10 for the first ten papers, 100 for the next ninety, and so on. The first page of a
  ranking is then an index lookup of a few values (``VALUES ?top { 10 100 }``) instead of a sort
  of every cited paper, and an update rewrites only the papers that cross a boundary.
* ``?paper ckg:citedByWithin n``: for each first page of that order, ``n`` = 10, 100, 1,000 and
  10,000 (:data:`FIRST_PAGES`), that holds the paper: the paper ranked 42nd has 100, 1000 and
  10000. The named query ``most-cited-papers`` reads its first N papers with one index lookup
  (``?paper ckg:citedByWithin 100``), on ckg and on Virtuoso alike, where a computed list of
  ``citedByTop`` values left either engine's planner scanning every cited paper. At most 11,110
  triples whatever the corpus.
* ``?association ckg:rankedWithin n``: the same first pages of each topic's papers in
  ``topic-papers``' order (``ckg:citedByCount`` descending, then ``ckg:probability`` descending,
  then the paper's IRI), on the topic association: ``topic-papers`` reads a topic's first N
  papers by looking up N instead of sorting every paper of the topic. At most 11,110 triples per
  topic.
* ``?c ckg:paperCount n``: how many papers are associated with a concept (``ckg:associatedConcept``,
  its document frequency) or a topic (``ckg:associatedTopic``), for every concept and topic node.
* ``?t ckg:topTopicCount n``: how many papers have the topic as their top topic (``ckg:topicRank 1``),
  for every topic node.

They are a function of the other graphs only: :func:`apply_signals` computes them all from the
store (as SPARQL aggregates) after the citation, concept and topic stages and applies their
difference with the graph, so an update writes only the counts that changed and still equals a
fresh build (``tests/test_update.py``). SPARQL updates sent to the endpoint do not recompute
them (like PageRank): the next ``ckg update`` does.

>>> store = ox.Store()
>>> from ckg.etl.emit import citation_quads
>>> store.extend(citation_quads("a", "c") + citation_quads("b", "c"))
>>> apply_signals(store)
{'quads': 6, 'added': 6, 'removed': 0}
>>> sorted((q.subject.value.rsplit("/", 1)[1], q.predicate.value.rsplit("#", 1)[1], q.object.value) for q in store.quads_for_pattern(None, None, None, GRAPH))
[('c', 'citedByCount', '2'), ('c', 'citedByTop', '10'), ('c', 'citedByWithin', '10'), ('c', 'citedByWithin', '100'), ('c', 'citedByWithin', '1000'), ('c', 'citedByWithin', '10000')]
>>> apply_signals(store)
{'quads': 6, 'added': 0, 'removed': 0}
>>> [top_bound(rank) for rank in (1, 10, 11, 100, 101, 123456)]
[10, 10, 100, 100, 1000, 1000000]
"""

from __future__ import annotations

import pyoxigraph as ox

from ckg import resources
from ckg.store import add_quads, query
from ckg.terms import CKG, XSD

GRAPH = resources.graph(resources.SIGNALS_GRAPH_NAME)

CONCEPT_NAMES = "skos:prefLabel|skos:altLabel|skos:notation|ckg:meshId"
"""The properties a concept is named by in a query (any of them, any case)."""
TOPIC_NAMES = "skos:prefLabel|skos:notation"
"""The properties a topic is named by in a query (its label or its key)."""

_QUERIES = {
    # (subject, predicate, value) rows; every value is computed by the store's own SPARQL functions
    "nameKey": f"""SELECT DISTINCT ?s ?v WHERE {{
        {{ ?s a ckg:Concept ; {CONCEPT_NAMES} ?name }} UNION {{ ?s a ckg:Topic ; {TOPIC_NAMES} ?name }}
        BIND (LCASE(STR(?name)) AS ?v) FILTER (?v != "") }}""",
    "citedByCount": "SELECT ?s (COUNT(DISTINCT ?citing) AS ?v) WHERE { ?s ckg:citedBy ?citing } GROUP BY ?s",
    "paperCount": """SELECT ?s (COUNT(DISTINCT ?paper) AS ?v) WHERE {
        { ?s a ckg:Concept OPTIONAL { ?paper ckg:associatedConcept ?s } }
        UNION { ?s a ckg:Topic OPTIONAL { ?paper ckg:associatedTopic ?s } } } GROUP BY ?s""",
    # every topic (a count of 0), and the top-topic associations (only topic associations have a
    # ckg:topicRank): a union walks the rank-1 associations once, where an OPTIONAL per topic
    # walked every association of each topic
    "topTopicCount": """SELECT ?s (COUNT(DISTINCT ?paper) AS ?v) WHERE {
        { ?s a ckg:Topic }
        UNION { ?association ckg:topicRank 1 ; ckg:annotatedTarget ?s ; ckg:annotatedSource ?paper } } GROUP BY ?s""",
}


FIRST_PAGES = (10, 100, 1000, 10000)
"""The first pages of the most-cited order that ``ckg:citedByWithin`` marks."""


def top_bound(rank: int) -> int:
    """The smallest power of ten at or above a 1-based rank (at least 10)."""
    bound = 10
    while bound < rank:
        bound *= 10
    return bound


TOPIC_PAPERS = """SELECT ?association ?topic ?paper ?probability WHERE {
    ?association ckg:probability ?probability ; ckg:annotatedSource ?paper ; ckg:annotatedTarget ?topic }"""
"""Every topic association (only they have a ``ckg:probability``), for the first pages of each
topic's papers (:func:`signal_quads`)."""


def _pages(node: ox.NamedNode, rank: int, predicate: ox.NamedNode) -> list[ox.Quad]:
    """The first pages (:data:`FIRST_PAGES`) that hold a node ranked ``rank`` (1-based)."""
    return [ox.Quad(node, predicate, ox.Literal(str(page), datatype=XSD.integer), GRAPH)
            for page in FIRST_PAGES if rank <= page]


def signal_quads(store: ox.Store) -> set[ox.Quad]:
    """The quads ``graph/signals`` should hold for the store's other graphs."""
    out: set[ox.Quad] = set()
    counts: list[tuple[int, str]] = []
    for name, sparql in _QUERIES.items():  # none of them reads a predicate of graph/signals
        predicate = CKG[name]
        for row in query(store, sparql):
            subject, value = row["s"], row["v"]
            if isinstance(subject, ox.NamedNode) and value is not None:
                out.add(ox.Quad(subject, predicate, value, GRAPH))
                if name == "citedByCount":
                    counts.append((-int(value.value), subject.value))
    # most-cited order: count descending, then the IRI (SPARQL orders IRIs by their code points)
    for rank, (_count, iri) in enumerate(sorted(counts), start=1):
        paper = ox.NamedNode(iri)
        out.add(ox.Quad(paper, CKG.citedByTop, ox.Literal(str(top_bound(rank)), datatype=XSD.integer), GRAPH))
        out.update(_pages(paper, rank, CKG.citedByWithin))
    # each topic's papers in topic-papers' order: citations, probability (both descending), IRI
    cited = {iri: -negative for negative, iri in counts}
    by_topic: dict[str, list[tuple[int, float, str, str]]] = {}
    for row in query(store, TOPIC_PAPERS):
        association, paper = row["association"], row["paper"]
        if isinstance(association, ox.NamedNode) and isinstance(paper, ox.NamedNode):
            by_topic.setdefault(row["topic"].value, []).append(
                (-cited.get(paper.value, 0), -float(row["probability"].value), paper.value, association.value))
    for associations in by_topic.values():
        associations.sort()
        for rank, (*_key, association) in enumerate(associations[:FIRST_PAGES[-1]], start=1):
            out.update(_pages(ox.NamedNode(association), rank, CKG.rankedWithin))
    return out


def apply_signals(store: ox.Store) -> dict[str, int]:
    """Recompute the signals and apply their difference with ``graph/signals``."""
    new = signal_quads(store)
    old = set(store.quads_for_pattern(None, None, None, GRAPH))
    removed, added = old - new, new - old
    for q in sorted(removed, key=str):
        store.remove(q)
    add_quads(store, sorted(added, key=str))
    return {"quads": len(new), "added": len(added), "removed": len(removed)}
