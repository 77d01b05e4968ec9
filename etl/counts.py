"""What a build or update counts of the store it made: triples per property, instances per class.

The manifest of every build and update records, over all graphs (the union default graph):
``triples``, ``named_graphs``, ``per_property`` (triples per property, summing to the triples)
and ``per_class`` (distinct subjects per ``rdf:type``).

A build counts by scanning the store: the graphs outside the corpus graphs right after its load
(:func:`outside_corpus_graphs`, in a thread beside the search index, while RocksDB compacts what
was loaded on one core), the corpus graphs at the end. An update does not scan what it did not touch: a
store is the corpus-wide graphs (:data:`ckg.resources.CORPUS_GRAPH_NAMES`), which an update's
stages rewrite, and the rest (a named graph per paper, the default graph), of which an update
rewrites only the graphs of the papers it adds, changes or removes. So each manifest also
keeps the counts of the rest (``per_property_outside_corpus_graphs``,
``per_class_outside_corpus_graphs``); an update takes them from the release it copies, takes away
what the paper graphs it removes held (:func:`paper_graph_counts`, before they go), adds what the
ones it writes hold (after the load), and adds the corpus graphs, each counted, or, for the
concepts and topics graphs, derived from the edges and nodes their stage wrote
(:func:`ckg.etl.annotate.graph_quad_counts`: 80% of the corpus graphs' quads at 100k papers).

Instances per class add up graph by graph because the ETL describes each node in one graph:
a paper and its authorships in the paper's graph, an author in the entities graph, a concept
association in the concepts graph (on the 100k store the sum of each graph's distinct subjects
equals the count over the union for every class). A store edited through SPARQL Update may
break that, and any store gets a full count then (``source_edited``). ``tests/test_update.py``
compares every update's counts with a scan of the store it made.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import pyoxigraph as ox

from ckg import resources
from ckg.store import StoreError, query, read_manifest


class GraphCounts(NamedTuple):
    """Triples per property and distinct subjects per class, of some graphs (no zeros)."""

    properties: dict[str, int]
    classes: dict[str, int]

    def plus(self, other: GraphCounts, sign: int = 1) -> GraphCounts:
        """These counts plus (``sign`` -1: less) ``other``'s: graphs joined (or taken away) that
        share no quad and no typed subject.

        >>> a = GraphCounts({"p": 2, "q": 1}, {"C": 1})
        >>> a.plus(GraphCounts({"q": 1}, {"C": 1}), -1)
        GraphCounts(properties={'p': 2}, classes={})
        """
        return GraphCounts(summed(self.properties, other.properties, sign), summed(self.classes, other.classes, sign))


NONE = GraphCounts({}, {})

_PER_PROPERTY = "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p"
_PER_CLASS = "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c"
"""The whole store's triples per property and instances per class."""


def summed(counts: dict[str, int], other: dict[str, int], sign: int = 1) -> dict[str, int]:
    """``counts`` plus ``other`` (less, with ``sign`` -1), without the zeros.

    >>> summed({"a": 2, "b": 1}, {"b": 1, "c": 3}), summed({"a": 2, "b": 1}, {"b": 1}, -1)
    ({'a': 2, 'b': 2, 'c': 3}, {'a': 2})
    """
    out = dict(counts)
    for key, n in other.items():
        out[key] = out.get(key, 0) + sign * n
    return {k: n for k, n in out.items() if n}


def _rows(store: ox.Store, sparql: str) -> dict[str, int]:
    return {str(r[0].value): int(r[1].value) for r in query(store, sparql)}


def _in_graph(store: ox.Store, name: str) -> GraphCounts:
    g = resources.graph(name).value
    return GraphCounts(_rows(store, f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }} GROUP BY ?p"),
                       _rows(store, f"SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH <{g}> {{ ?s a ?c }} }} GROUP BY ?c"))


def graph_counts(store: ox.Store, outside: GraphCounts | None = None,
                 derived: dict[str, GraphCounts] | None = None) -> dict[str, Any]:
    """The counts of the whole store (the module's docstring). ``outside``: those of every graph
    but the corpus graphs, known (an update); without it, the store is scanned whole and they are
    what the corpus graphs leave. ``derived``: the counts of some corpus graphs, by name, known
    without a scan. ``len(store)`` would scan the store again (7.5 s of the 100k store), and
    listing the named graphs through the API decodes each graph's IRI (2-10 s for 100k graphs,
    0.1 s counted in SPARQL). The queries run in threads (Oxigraph lets go of the GIL while it
    evaluates).

    >>> from ckg.terms import RDF
    >>> store = ox.Store()
    >>> a, g = ox.NamedNode("http://example.org/a"), ox.NamedNode("http://example.org/g")
    >>> store.extend([ox.Quad(a, RDF.type, a, g), ox.Quad(a, RDF.type, a), ox.Quad(a, a, a, g)])
    >>> counts = graph_counts(store)
    >>> counts["triples"] == len(store) == 3, counts["named_graphs"], counts["per_class"]
    (True, 1, {'http://example.org/a': 1})
    >>> graph_counts(store, counts_kept(counts)) == counts
    True
    """
    derived = derived or {}
    with ThreadPoolExecutor(4 + len(resources.CORPUS_GRAPH_NAMES)) as pool:
        everything = None if outside is not None else (pool.submit(_rows, store, _PER_PROPERTY),
                                                       pool.submit(_rows, store, _PER_CLASS))
        corpus = [pool.submit(_in_graph, store, name) for name in resources.CORPUS_GRAPH_NAMES if name not in derived]
        graphs = pool.submit(lambda: int(next(query(
            store, "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { } }"))["n"].value))
        in_corpus = NONE
        for counted in [*(c.result() for c in corpus), *derived.values()]:
            in_corpus = in_corpus.plus(counted)
        if everything is not None:
            outside = GraphCounts(everything[0].result(), everything[1].result()).plus(in_corpus, -1)
        assert outside is not None
        whole = outside.plus(in_corpus)
        return {"triples": sum(whole.properties.values()), "named_graphs": graphs.result(),
                "per_class": dict(sorted(whole.classes.items())), "per_property": dict(sorted(whole.properties.items())),
                "per_property_outside_corpus_graphs": dict(sorted(outside.properties.items())),
                "per_class_outside_corpus_graphs": dict(sorted(outside.classes.items()))}


def outside_corpus_graphs(store: ox.Store) -> GraphCounts:
    """The counts of every graph but the corpus graphs: the whole store scanned, less each corpus
    graph counted (the queries one after the other, on one core). Nothing may write meanwhile.

    >>> from ckg.terms import RDF
    >>> store = ox.Store()
    >>> a, g = ox.NamedNode("http://example.org/a"), resources.graph(resources.ENTITIES_GRAPH_NAME)
    >>> store.extend([ox.Quad(a, RDF.type, a, resources.paper_graph("p")), ox.Quad(a, a, a, g)])
    >>> outside_corpus_graphs(store)
    GraphCounts(properties={'http://www.w3.org/1999/02/22-rdf-syntax-ns#type': 1}, classes={'http://example.org/a': 1})
    """
    whole = GraphCounts(_rows(store, _PER_PROPERTY), _rows(store, _PER_CLASS))
    for name in resources.CORPUS_GRAPH_NAMES:
        whole = whole.plus(_in_graph(store, name), -1)
    return whole


def counts_kept(counts: dict[str, Any]) -> GraphCounts | None:
    """The counts outside the corpus graphs that a manifest's ``counts`` recorded (None for a
    manifest written before they were)."""
    properties, classes = counts.get("per_property_outside_corpus_graphs"), counts.get("per_class_outside_corpus_graphs")
    if not isinstance(properties, dict) or not isinstance(classes, dict):
        return None
    return GraphCounts(dict(properties), dict(classes))


PAPER_GRAPHS_PER_COUNT = 2_000
"""Paper graphs one query of :func:`paper_graph_counts` counts."""


def paper_graph_counts(store: ox.Store, keys: list[str], threads: int = 2) -> GraphCounts:
    """The counts of the graphs of these papers: two queries per :data:`PAPER_GRAPHS_PER_COUNT`
    graphs, run in ``threads`` threads (Oxigraph lets go of the GIL while it evaluates)."""
    def chunk(start: int) -> GraphCounts:
        values = " ".join(f"<{resources.paper_graph(k).value}>" for k in keys[start:start + PAPER_GRAPHS_PER_COUNT])
        return GraphCounts(
            _rows(store, f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }} "
                         "GROUP BY ?p"),
            _rows(store, f"SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s a ?c }} }} "
                         "GROUP BY ?c"))

    out = NONE
    with ThreadPoolExecutor(max(1, threads)) as pool:
        for counted in pool.map(chunk, range(0, len(keys), PAPER_GRAPHS_PER_COUNT)):
            out = out.plus(counted)
    return out


def counts_of(store_path: Path, folder: Path) -> GraphCounts | None:
    """The counts outside the corpus graphs that the manifest of a store's release recorded (None
    when it has none: a store made before they were)."""
    try:
        return counts_kept(read_manifest(store_path, folder).get("counts", {}))
    except (StoreError, OSError, ValueError, TypeError, AttributeError):
        return None
