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

They are a function of the other graphs only. :func:`signal_quads` defines them as SPARQL
aggregates over the store; :func:`apply_signals` computes them after the citation, concept and
topic stages and applies their difference with the graph, so an update writes only the counts
that changed and still equals a fresh build (``tests/test_update.py``). A build or update reads
the counts from the ETL catalog instead, which records every citation, concept and topic edge the
ETL wrote (the same quads, ``tests/test_query_scale.py``; on the 100k store 5.7 s where the
aggregates take 20 s: they join each annotation node's triples). Like PageRank, they follow the
ETL's edges: edges written through SPARQL Update to the endpoint are not counted.

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

import functools
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import pyoxigraph as ox

from ckg import resources
from ckg.etl.catalog import Catalog
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


@functools.lru_cache(maxsize=65536)
def _integer(n: int) -> ox.Literal:
    """An ``xsd:integer``, as SPARQL's ``COUNT`` writes it."""
    return ox.Literal(str(n), datatype=XSD.integer)


def _pages(node: ox.NamedNode, rank: int, predicate: ox.NamedNode) -> list[ox.Quad]:
    """The first pages (:data:`FIRST_PAGES`) that hold a node ranked ``rank`` (1-based)."""
    return [ox.Quad(node, predicate, _integer(page), GRAPH) for page in FIRST_PAGES if rank <= page]


_CONCEPTS, _TOPICS = resources.CONCEPTS_GRAPH_NAME, resources.TOPICS_GRAPH_NAME
NODES = f"""SELECT ?s ?graph WHERE {{
    {{ ?s a ckg:Concept BIND ("{_CONCEPTS}" AS ?graph) }} UNION {{ ?s a ckg:Topic BIND ("{_TOPICS}" AS ?graph) }} }}"""
"""Every concept and topic node, each with the name of the graph its edges are in (in the catalog)."""


class _Counts(NamedTuple):
    """A source of the counts."""
    rows: Iterable[tuple[str, ox.NamedNode, ox.Literal]]
    """(signal name, subject, value) for nameKey, citedByCount, paperCount and topTopicCount."""
    associations: Iterable[tuple[str, str, float, Any]]
    """Every topic association that can be on a first page (all of them, or fewer when the source
    can tell) as (topic, paper IRI, probability, reference)."""
    association_iri: Callable[[Any], str]
    """The IRI of an association from its reference (made only for those of a first page)."""


def _counts_from_store(store: ox.Store) -> _Counts:
    """The counts as SPARQL aggregates over the store's graphs (their definition)."""
    def rows():
        for name, sparql in _QUERIES.items():  # none of them reads a predicate of graph/signals
            for row in query(store, sparql):
                if isinstance(row["s"], ox.NamedNode) and row["v"] is not None:
                    yield name, row["s"], row["v"]

    def associations():
        for row in query(store, TOPIC_PAPERS):
            association, paper = row["association"], row["paper"]
            if isinstance(association, ox.NamedNode) and isinstance(paper, ox.NamedNode):
                yield row["topic"].value, paper.value, float(row["probability"].value), association.value
    return _Counts(rows(), associations(), str)


def _counts_from_catalog(store: ox.Store, catalog: Catalog) -> _Counts:
    """The same counts from the ETL catalog, which records every citation, concept and topic edge
    the ETL wrote to the store (:mod:`ckg.etl.catalog`): a pass over SQLite tables where the
    store's aggregates join each annotation node's triples. Names and nodes still come from the
    store (a few thousand)."""
    paper_iris: dict[str, str] = {}

    def paper_iri(key: str) -> str:
        iri = paper_iris.get(key)
        if iri is None:
            iri = paper_iris[key] = resources.paper(key).value
        return iri

    def rows():
        for row in query(store, _QUERIES["nameKey"]):
            if isinstance(row["s"], ox.NamedNode):
                yield "nameKey", row["s"], row["v"]
        for cited, n in catalog.cited_counts():
            yield "citedByCount", ox.NamedNode(paper_iri(cited)), _integer(n)
        node_iri = {_CONCEPTS: resources.concept, _TOPICS: resources.topic}
        # node -> (papers whose top-ranked edge it is, papers); only a topic's first count reads the edges' rows
        summary = {_CONCEPTS: {node_iri[_CONCEPTS](t).value: (0, n)
                               for t, n in catalog.annotation_edge_papers(_CONCEPTS).items()},
                   _TOPICS: {node_iri[_TOPICS](t).value: counts
                             for t, counts in catalog.annotation_edge_summary(_TOPICS).items()}}
        for row in query(store, NODES):
            node, graph = row["s"], row["graph"].value
            if isinstance(node, ox.NamedNode):
                top, papers = summary[graph].get(node.value, (0, 0))
                yield "paperCount", node, _integer(papers)
                if graph == _TOPICS:
                    yield "topTopicCount", node, _integer(top)

    def associations():  # those that can be on a first page (the rest would be sorted for nothing)
        for paper, topic, weight in catalog.first_page_candidates(_TOPICS, FIRST_PAGES[-1]):
            yield topic, paper_iri(paper), float(weight), (paper, topic)
    return _Counts(rows(), associations(), lambda ref: resources.topic_association(*ref).value)


def signal_quads(store: ox.Store, catalog: Catalog | None = None) -> set[ox.Quad]:
    """The quads ``graph/signals`` should hold for the store's other graphs, counted by the store
    or, given the store's catalog, read from it (the same quads: ``tests/test_query_scale.py``)."""
    source = _counts_from_catalog(store, catalog) if catalog is not None else _counts_from_store(store)
    out: set[ox.Quad] = set()
    counts: list[tuple[int, str]] = []
    predicates = {name: CKG[name] for name in _QUERIES}
    for name, subject, value in source.rows:
        out.add(ox.Quad(subject, predicates[name], value, GRAPH))
        if name == "citedByCount":
            counts.append((-int(value.value), subject.value))
    # most-cited order: count descending, then the IRI (SPARQL orders IRIs by their code points)
    counts.sort()
    cited_by_top, cited_by_within, ranked_within = CKG.citedByTop, CKG.citedByWithin, CKG.rankedWithin
    for rank, (_count, iri) in enumerate(counts, start=1):
        paper = ox.NamedNode(iri)
        out.add(ox.Quad(paper, cited_by_top, _integer(top_bound(rank)), GRAPH))
        if rank <= FIRST_PAGES[-1]:
            out.update(_pages(paper, rank, cited_by_within))
    # each topic's papers in topic-papers' order: citations, probability (both descending), IRI
    cited = {iri: -negative for negative, iri in counts}
    by_topic: dict[str, list[tuple[int, float, str, Any]]] = {}
    for topic, paper, probability, ref in source.associations:
        by_topic.setdefault(topic, []).append((-cited.get(paper, 0), -probability, paper, ref))
    for ranked in by_topic.values():
        ranked.sort(key=lambda row: row[:3])
        for rank, (*_key, ref) in enumerate(ranked[:FIRST_PAGES[-1]], start=1):
            out.update(_pages(ox.NamedNode(source.association_iri(ref)), rank, ranked_within))
    return out


def apply_signals(store: ox.Store, catalog: Catalog | None = None) -> dict[str, int]:
    """Recompute the signals (from the catalog, when given) and apply their difference with
    ``graph/signals``."""
    new = signal_quads(store, catalog)
    old = set(store.quads_for_pattern(None, None, None, GRAPH))
    removed, added = old - new, new - old
    for q in sorted(removed, key=str):
        store.remove(q)
    add_quads(store, sorted(added, key=str))
    return {"quads": len(new), "added": len(added), "removed": len(removed)}
