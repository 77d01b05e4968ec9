"""Aggregates a named query counts over the whole corpus, counted outside SPARQL from the edges the
release's catalog records, and handed to the query as values.

Some counts cannot be narrowed to a page (:mod:`ckg.first_pages`): ``concept-cooccurrence`` counts,
for every other concept, the papers that have it and the given concept, so it walks each of the
concept's papers and each of their concepts (4.3 s for a concept of 66,150 papers at 1M papers,
some 9 us a row in pyoxigraph). A named query may say that ckg keeps such a count::

    # counted: cooccurrence

and mark the group that counts with two lines::

    # counted values: other papers
    { SELECT ... (COUNT(DISTINCT ?paper) AS ?papers) ... GROUP BY ... }
    # counted values end

When it runs on a release that was not changed in place, ckg counts the same thing from the
concept edges of the release's catalog (``annotation_edges``, which the build writes beside every
edge it writes to the store), held as integer arrays per query process (:class:`ConceptEdges`),
and puts the counts where the marked group was, as a ``VALUES (?other ?papers)`` block
(:meth:`ckg.queries.NamedQuery.with_counts`). The rest of the query (labels, kinds, order) runs
as written; other engines, and ckg on a store changed in place, run the whole text.
``tests/test_counted.py`` compares the answers with the text's for many concepts.

>>> from ckg.terms import CKG
>>> store = ox.Store()
>>> covid = resources.concept("mesh-D000086382")
>>> store.add(ox.Quad(covid, CKG.nameKey, ox.Literal("covid-19")))
>>> edges = ConceptEdges.of_pairs([("a", "mesh-D000086382"), ("a", "mesh-D001249"), ("b", "mesh-D000086382"),
...                                ("b", "mesh-D001249"), ("b", "mesh-D011014"), ("c", "mesh-D011014")])
>>> [(o.value.rsplit("/", 1)[1], n) for o, n in cooccurrence(store, edges, {ox.Variable("concept"): ox.Literal("COVID-19")})]
[('mesh-D001249', 2), ('mesh-D011014', 1)]
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pyoxigraph as ox

from ckg import resources
from ckg.first_pages import Subs, Unanswerable, _key, _named, per_release

MAX_VALUES = 20_000
"""The most rows of counts handed to a query as values (more: it runs as written)."""
CONCEPTS_GRAPH = "concepts"
"""The catalog's name for the graph of ``ckg:associatedConcept`` edges (``annotation_edges.graph``)."""


class ConceptEdges:
    """The ``paper ckg:associatedConcept concept`` edges of a release as arrays of numbers: each
    paper's concepts and each concept's papers, in compressed rows. The papers are numbers only
    (their keys are not kept: some 170 MB a query process at a million papers).

    >>> e = ConceptEdges.of_pairs([("b", "x"), ("a", "x"), ("a", "y")])  # papers b: 0, a: 1
    >>> e.concepts, e.papers_of(e.concept_number["x"]).tolist(), e.concepts_of(np.array([1])).tolist()
    (['x', 'y'], [0, 1], [0, 1])
    """

    def __init__(self, papers: int, concepts: list[str], paper: np.ndarray, concept: np.ndarray) -> None:
        self.concepts = concepts
        self.concept_number = {c: i for i, c in enumerate(concepts)}
        by_paper = np.argsort(paper, kind="stable")
        self._paper_concepts = concept[by_paper]
        self._paper_starts = np.searchsorted(paper[by_paper], np.arange(papers + 1))
        by_concept = np.argsort(concept, kind="stable")
        self._concept_papers = paper[by_concept]
        self._concept_starts = np.searchsorted(concept[by_concept], np.arange(len(concepts) + 1))

    @classmethod
    def of_pairs(cls, pairs: Iterable[tuple[str, str]]) -> ConceptEdges:
        """From (paper key, concept key) pairs, each at most once."""
        papers: dict[str, int] = {}
        concepts: dict[str, int] = {}
        paper, concept = [], []
        for p, c in pairs:
            paper.append(papers.setdefault(p, len(papers)))
            concept.append(concepts.setdefault(c, len(concepts)))
        return cls(len(papers), list(concepts), np.array(paper, dtype=np.int32), np.array(concept, dtype=np.int32))

    @classmethod
    def of_catalog(cls, path: Path) -> ConceptEdges:
        """The concept edges of a catalog (opened read-only)."""
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return cls.of_pairs(db.execute("SELECT key, target FROM annotation_edges WHERE graph = ?",
                                           (CONCEPTS_GRAPH,)))
        finally:
            db.close()

    def papers_of(self, concept: int) -> np.ndarray:
        return self._concept_papers[self._concept_starts[concept]:self._concept_starts[concept + 1]]

    def concepts_of(self, papers: np.ndarray) -> np.ndarray:
        """The concepts of each of ``papers`` (numbers), one run per paper, in the papers' order."""
        starts, ends = self._paper_starts[papers], self._paper_starts[papers + 1]
        lengths = ends - starts
        if not len(papers):
            return np.zeros(0, dtype=self._paper_concepts.dtype)
        offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
        return self._paper_concepts[np.arange(lengths.sum()) + offsets]

    def runs(self, papers: np.ndarray) -> np.ndarray:
        """How many concepts each of ``papers`` has (the runs of :meth:`concepts_of`)."""
        return self._paper_starts[papers + 1] - self._paper_starts[papers]


def edges_of(folder: Path) -> ConceptEdges | None:
    """The concept edges of the release in ``folder`` (its catalog), read once per process and
    release; None without a catalog (or one made before it recorded edges)."""
    return per_release(folder, "concept-edges", ConceptEdges.of_catalog)


def cooccurrence(store: ox.Store, edges: ConceptEdges, substitutions: Subs) -> list[tuple[ox.NamedNode, int]]:
    """``concept-cooccurrence``'s counts: for each other concept, how many papers have it and a
    concept named ``?concept`` (by ``ckg:nameKey``, as the query resolves it), the other being
    not that concept. When several concepts bear the name, a paper with two of them counts for
    each (each is the other one of the other): the query's ``FILTER (?other != ?c)`` per named
    node. Concepts with no paper in common are left out, as the query's ``GROUP BY`` leaves them."""
    named = [edges.concept_number.get(resources.key_of(node, "concept") or "") for node in
             _named(store, _key(substitutions, "concept")) if isinstance(node, ox.NamedNode)]
    named_numbers = np.array(sorted({n for n in named if n is not None}), dtype=np.int64)
    if not len(named_numbers):
        return []
    papers = np.unique(np.concatenate([edges.papers_of(n) for n in named_numbers]))
    concepts = edges.concepts_of(papers)
    owner = np.repeat(np.arange(len(papers)), edges.runs(papers))
    is_named = np.isin(concepts, named_numbers)
    named_per_paper = np.bincount(owner[is_named], minlength=len(papers))
    kept = ~(is_named & (named_per_paper[owner] == 1))  # a paper's only named concept is not its other
    counts = np.bincount(concepts[kept], minlength=len(edges.concepts))
    return [(resources.concept(edges.concepts[i]), int(counts[i])) for i in np.flatnonzero(counts).tolist()]


COUNTS: dict[str, tuple[Callable[[Path], object | None], Callable[..., list[tuple]]]] = {
    "cooccurrence": (edges_of, cooccurrence),
}
"""What a query's ``# counted:`` line can name: how the release's data is read (once per
process) and the function of the store, that data and the bound parameters that returns the
rows of values."""


def counted_rows(name: str, store: ox.Store, folder: Path, substitutions: Subs) -> list[tuple] | None:
    """The rows of values of the count ``name`` (one of :data:`COUNTS`) for a query with these
    parameters, or None when ckg cannot count it (no catalog, a parameter of another form, more
    than :data:`MAX_VALUES` rows): the query then runs as written."""
    read, count = COUNTS[name]
    data = read(folder)
    if data is None:
        return None
    try:
        rows = count(store, data, substitutions)
    except Unanswerable:
        return None
    return rows if len(rows) <= MAX_VALUES else None
