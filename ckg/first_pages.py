"""The first page of a ranking without the whole ranking: which papers (and which citing papers)
can make a named query's first N rows, found outside SPARQL, so that the query runs over those only.

pyoxigraph sorts a whole answer before it cuts it at a ``LIMIT``, so a ranking whose order is
computed at query time costs its whole answer: the customised citation counts of a concept took
8.4 s at 100k papers for a first page of 100 (the concept has 35,582 papers, which cite 78,588),
a concept's papers by citations 4.3 s. A named query may declare in its header that ckg can find
its first page, and how::

    # first-page: paper customised-citations

When a caller asks for at most N rows (the API's ``_limit``, ``ckg query --limit``), ckg counts the
ranking's key for every paper the query could rank (:data:`RANKINGS`): a concept's or a topic's
papers are read from the store (one index range, kept for the next call: :meth:`Citations.having`),
the citations from the release's catalog, held as two integer arrays per query process
(:class:`Citations`). It keeps the first N papers in the query's order (key descending, then IRI)
and, for a count of citing papers, the citing papers that count for them, and puts each set of
values where the query's ``# first-page values: VARIABLE ...`` lines are, else at the start of its
``WHERE`` groups (:meth:`ckg.queries.NamedQuery.narrowed_to`). The query still counts, filters
and sorts by itself, over those papers only: its first N rows are the same as without the
narrowing (``tests/test_first_pages.py`` compares concepts, topics and page sizes), and its work
follows the page's citations, not the corpus. With more than :data:`MAX_CANDIDATES` papers (a
longer page) or :data:`MAX_CITING` citing papers, or a parameter the ranking cannot read, the
query runs as written. A page no shorter than the answer is narrowed to the answer's papers.

>>> from ckg import resources
>>> from ckg.etl.emit import citation_quads
>>> store = ox.Store()
>>> store.extend(citation_quads("a", "c") + citation_quads("b", "c") + citation_quads("a", "d"))
>>> asthma = resources.concept("mesh-D001249")
>>> store.add(ox.Quad(asthma, CKG.nameKey, ox.Literal("asthma")))
>>> store.extend([ox.Quad(resources.paper(k), CKG.associatedConcept, asthma) for k in "ab"])
>>> citations = Citations.of_pairs([("a", "c"), ("b", "c"), ("a", "d")])
>>> page = candidates(store, citations, "customised-citations", {ox.Variable("concept"): ox.Literal("Asthma")}, 1)
>>> {v: [p.value.rsplit("/", 1)[1] for p in nodes] for v, nodes in page.items()}  # c is cited by a and b, d by a only
{'paper': ['c'], 'citing': ['a', 'b']}
"""

from __future__ import annotations

import heapq
import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pyoxigraph as ox

from ckg import resources
from ckg.terms import CKG, DCTERMS, XSD

MAX_CANDIDATES = 20_000
"""The most papers a first page is narrowed to (a longer page runs as written): more than the
endpoint's default row limit (10,000), which the API asks for when no ``_limit`` is given."""
MAX_CITING = 20_000
"""The most citing papers a first page's counts are narrowed to (more: the query runs as written)."""
POOLS = 256
"""The concepts' and topics' papers each query process keeps (:meth:`Citations.having`)."""
UNCITED_POOLS = 32
"""The concepts' least uncited papers each query process keeps (:meth:`Citations.least_uncited`:
at most :data:`MAX_CANDIDATES` IRIs each)."""

Subs = dict[ox.Variable, ox.NamedNode | ox.Literal]
Narrowing = dict[str, list[ox.NamedNode]]


class Unanswerable(Exception):
    """The ranking cannot say which papers are first (a parameter of another form, a count that is not an integer)."""


class Citations:
    """The corpus's citations (``citing ckg:cites cited``, as the ETL wrote them) as two arrays of
    paper numbers, and each paper's number of citing papers.

    >>> c = Citations.of_pairs([("a", "c"), ("b", "c")])
    >>> c.keys, c.citing.tolist(), c.cited.tolist(), c.cited_by.tolist()
    (['a', 'c', 'b'], [0, 2], [1, 1], [0, 2, 0])
    """

    def __init__(self, keys: list[str], citing: np.ndarray, cited: np.ndarray) -> None:
        self.keys = keys
        self.number = {k: i for i, k in enumerate(keys)}
        self.citing, self.cited = citing, cited
        self.cited_by = np.bincount(cited, minlength=len(keys))
        self._pools: dict[tuple[str, str], np.ndarray] = {}
        self._uncited: dict[tuple[str, str], tuple[list[str], bool]] = {}
        self._lock = threading.Lock()

    @classmethod
    def of_pairs(cls, pairs: Iterable[tuple[str, str]]) -> Citations:
        number: dict[str, int] = {}
        flat = [number.setdefault(k, len(number)) for pair in pairs for k in pair]
        both = np.array(flat, dtype=np.int32).reshape(-1, 2)
        return cls(list(number), both[:, 0].copy(), both[:, 1].copy())

    @classmethod
    def of_catalog(cls, path: Path) -> Citations:
        """The citations of a catalog (opened read-only)."""
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return cls.of_pairs(db.execute("SELECT citing, cited FROM citations"))
        finally:
            db.close()

    def numbers(self, papers: Iterable) -> np.ndarray:
        """The numbers of the papers (IRIs) that take part in a citation (the others have none)."""
        number = self.number
        keys = (resources.key_of(p, "paper") if isinstance(p, ox.NamedNode) else None for p in papers)
        return np.fromiter((number[k] for k in keys if k in number), dtype=np.int32)

    def iris(self, numbers: np.ndarray) -> list[ox.NamedNode]:
        return [resources.paper(self.keys[i]) for i in numbers.tolist()]

    def having(self, store: ox.Store, predicate: ox.NamedNode, node) -> np.ndarray:
        """The numbers of the papers with ``?paper predicate node`` (a concept's or a topic's
        papers), read from the store once per process and node (the last :data:`POOLS` kept)."""
        key = (predicate.value, str(node))
        with self._lock:
            found = self._pools.pop(key, None)
        if found is None:
            found = np.unique(self.numbers(q.subject for q in store.quads_for_pattern(None, predicate, node)))
        with self._lock:
            self._pools[key] = found
            while len(self._pools) > POOLS:
                self._pools.pop(next(iter(self._pools)))
        return found

    def uncited(self, papers: Iterable[ox.NamedNode]) -> list[str]:
        """The IRIs of the papers that no paper cites."""
        number, cited_by = self.number, self.cited_by
        out = []
        for paper in papers:
            i = number.get(resources.key_of(paper, "paper"))
            if i is None or cited_by[i] == 0:
                out.append(paper.value)
        return out

    def least_uncited(self, store: ox.Store, predicate: ox.NamedNode, node) -> tuple[list[str], bool]:
        """The IRIs of the papers with ``?paper predicate node`` that no paper cites, the least
        :data:`MAX_CANDIDATES` of them in order, and whether that is all of them; read from the
        store once per process and node (the last :data:`UNCITED_POOLS` kept).

        >>> store = ox.Store()
        >>> topic = resources.topic("t")
        >>> store.extend([ox.Quad(resources.paper(k), CKG.associatedTopic, topic) for k in "cab"])
        >>> least, whole = Citations.of_pairs([("c", "b")]).least_uncited(store, CKG.associatedTopic, topic)
        >>> [iri.rsplit("/", 1)[1] for iri in least], whole
        (['a', 'c'], True)
        """
        key = (predicate.value, str(node))
        with self._lock:
            found = self._uncited.pop(key, None)
        if found is None:
            left = self.uncited(_subjects(store, predicate, [node]))
            found = (heapq.nsmallest(MAX_CANDIDATES, left), len(left) <= MAX_CANDIDATES)
        with self._lock:
            self._uncited[key] = found
            while len(self._uncited) > UNCITED_POOLS:
                self._uncited.pop(next(iter(self._uncited)))
        return found


_CACHE: dict[tuple, object] = {}
_CACHE_LOCK = threading.Lock()


def per_release(folder: Path, name: str, load: Callable[[Path], object]) -> object | None:
    """``load(catalog path)`` of the release in ``folder``, read once per process and release and
    kept under ``name`` (one release at a time: a process serves the newest generation); None
    without a catalog or when SQLite cannot read what ``load`` asks of it."""
    from ckg.store import CATALOG_FILE

    path = Path(folder) / CATALOG_FILE
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (name, str(path), stat.st_mtime_ns, stat.st_size)
    with _CACHE_LOCK:
        if key not in _CACHE:
            try:
                loaded = load(path)
            except sqlite3.Error:
                return None
            for other in [k for k in _CACHE if k[0] == name]:
                del _CACHE[other]
            _CACHE[key] = loaded
        return _CACHE[key]


def citations_of(folder: Path) -> Citations | None:
    """The citations of the release in ``folder`` (its catalog), read once per process and release;
    None without a catalog."""
    return per_release(folder, "citations", Citations.of_catalog)


def candidates(store: ox.Store, citations: Citations, ranking: str, substitutions: Subs, n: int) -> Narrowing | None:
    """The values of the query's variables (``paper``, and ``citing`` for a count of citing papers)
    that can make the first ``n`` rows of a ranking (one of :data:`RANKINGS`) with these
    parameters, or None when the ranking cannot tell (the query then runs as written)."""
    try:
        found = RANKINGS[ranking](store, citations, substitutions, n)
    except Unanswerable:
        return None
    if found is None or len(found["paper"]) > MAX_CANDIDATES:
        return None
    return {variable: sorted(nodes, key=lambda node: node.value) for variable, nodes in found.items()}


# -- reading the store ---------------------------------------------------------------------------

def _key(substitutions: Subs, name: str) -> str:
    """A string parameter as the query compares it: ``COALESCE(LCASE(STR(?name)), "")``."""
    term = substitutions.get(ox.Variable(name))
    if term is None:
        return ""
    if not isinstance(term, ox.Literal):
        raise Unanswerable(name)
    return term.value.lower()


def _named(store: ox.Store, key: str) -> set:
    """The nodes with this ``ckg:nameKey`` (``?c ckg:nameKey ?key``)."""
    return {q.subject for q in store.quads_for_pattern(None, CKG.nameKey, ox.Literal(key))} if key else set()


def _subjects(store: ox.Store, predicate: ox.NamedNode, objects: Iterable) -> set:
    return {q.subject for o in objects for q in store.quads_for_pattern(None, predicate, o)}


def _paper_count(store: ox.Store, key: str) -> float:
    """How many papers the nodes named ``key`` have (their materialised ``ckg:paperCount``; a
    node without one counts as having every paper)."""
    total = 0.0
    for node in _named(store, key):
        count = next(store.quads_for_pattern(node, CKG.paperCount, None), None)
        total += float("inf") if count is None else int(count.object.value)
    return total


def _pool(store: ox.Store, citations: Citations, predicate: ox.NamedNode, key: str) -> np.ndarray:
    """Which papers (by number) have ``predicate`` to a node named ``key`` (``?c ckg:nameKey ?key``)."""
    out = np.zeros(len(citations.keys), dtype=bool)
    for node in _named(store, key):
        out[citations.having(store, predicate, node)] = True
    return out


# -- the rankings ----------------------------------------------------------------------------------

def customised_citations(store: ox.Store, citations: Citations, substitutions: Subs, n: int) -> Narrowing | None:
    """``customised-citation-counts``: a paper's key is the number of distinct papers citing it
    that have the concept (by name key) and the topic (by name key), or either alone; with neither,
    its materialised ``ckg:citedByCount``, whose first pages ``ckg:citedByWithin`` marks. A page
    no shorter than the answer is narrowed to the answer's papers (none: nothing is read)."""
    concept, topic = _key(substitutions, "concept"), _key(substitutions, "topic")
    if not concept and not topic:
        pages = [p for p in (10, 100, 1000, 10000) if p >= n]
        if not pages:
            return None
        marked = _subjects(store, CKG.citedByWithin, [ox.Literal(str(pages[0]), datatype=XSD.integer)])
        if len(marked) < pages[0]:  # a page that holds every cited paper, or a store without the marks
            return None
        return {"paper": list(marked)}
    if concept:
        pool = _pool(store, citations, CKG.associatedConcept, concept)
        if topic:
            pool &= _pool(store, citations, CKG.associatedTopic, topic)
    else:
        pool = _pool(store, citations, CKG.associatedTopic, topic)
    counted = pool[citations.citing]  # the citations the ranking counts
    counts = np.bincount(citations.cited[counted], minlength=len(citations.keys))
    ranked = np.flatnonzero(counts)
    if n <= 0:
        return {"paper": [], "citing": []}
    page = np.zeros(len(citations.keys), dtype=bool)
    page[_first(citations, counts, ranked, n)] = True
    citing = np.unique(citations.citing[counted & page[citations.cited]])
    if len(citing) > MAX_CITING:
        return None
    return {"paper": citations.iris(np.flatnonzero(page)), "citing": citations.iris(citing)}


def concept_papers(store: ox.Store, citations: Citations, substitutions: Subs, n: int) -> Narrowing | None:
    """``papers-with-concepts``: the papers with every given concept (each by name key), a paper's
    key its number of citing papers (the materialised ``ckg:citedByCount``, none: 0). When fewer
    than ``n`` of them are cited, the page reaches the uncited ones, all tied at 0 and ordered by
    their IRIs (the query's ``ORDER BY DESC(?citations) ?paper``): the page takes every cited one
    and the uncited ones with the least IRIs (:func:`_least_uncited`), or every paper when there
    are no more than ``n`` (the query then reads those only, not every paper of ``concept1``)."""
    keys = [key for key in (_key(substitutions, name) for name in ("concept1", "concept2", "concept3")) if key]
    if not keys:
        return None
    having = None
    for key in keys:
        pool = _pool(store, citations, CKG.associatedConcept, key)
        having = pool if having is None else having & pool
    counts = np.where(having, citations.cited_by, 0)
    ranked = np.flatnonzero(counts)
    if n <= 0:
        return {"paper": []}
    if len(ranked) < n:
        uncited = _least_uncited(store, citations, CKG.associatedConcept, keys, n - len(ranked))
        return None if uncited is None else {"paper": citations.iris(ranked) + uncited}
    return {"paper": citations.iris(_first(citations, counts, ranked, n))}


def _first(citations: Citations, counts: np.ndarray, ranked: np.ndarray, n: int) -> np.ndarray:
    """The first ``n`` of the ``ranked`` papers (numbers) in the rankings' order, ``ORDER BY
    DESC(?count) ?paper``: every paper whose count is above the ``n``-th largest, and of those tied
    with it, the ones with the least IRIs.

    >>> c = Citations.of_pairs([("x", "b"), ("x", "a"), ("x", "c"), ("y", "c")])
    >>> counts = c.cited_by  # c: 2; a, b: 1; x, y: 0
    >>> [c.keys[i] for i in _first(c, counts, np.flatnonzero(counts), 2)]
    ['c', 'a']
    """
    if len(ranked) <= n:
        return ranked
    least = np.partition(counts[ranked], len(ranked) - n)[len(ranked) - n]
    above, tied = ranked[counts[ranked] > least], ranked[counts[ranked] == least]
    iri = {i: resources.paper(citations.keys[i]).value for i in tied.tolist()}
    kept = heapq.nsmallest(n - len(above), iri, key=iri.__getitem__)
    return np.concatenate([above, np.array(kept, dtype=ranked.dtype)])


def _least_uncited(store: ox.Store, citations: Citations, predicate: ox.NamedNode, keys: list[str],
                   k: int) -> list[ox.NamedNode] | None:
    """The ``k`` papers with the least IRIs among the uncited ones with ``predicate`` to a node of
    every name key (all of them when there are no more); None when that cannot be told within
    :data:`MAX_CANDIDATES` papers. One key: each of its nodes' least uncited papers
    (:meth:`Citations.least_uncited`, kept by the process); more: each key's papers read from the
    store (one index range a node), the key with the fewest papers first."""
    if k > MAX_CANDIDATES:  # past what each node's kept papers can tell (and past the cap anyway)
        return None
    if len(keys) == 1:
        lists = [citations.least_uncited(store, predicate, node) for node in _named(store, keys[0])]
        merged = sorted(set().union(*(least for least, _whole in lists)))
        if k > len(merged) and not all(whole for _least, whole in lists):
            return None
        return [ox.NamedNode(iri) for iri in merged[:k]]
    having: set | None = None
    for key in sorted(keys, key=lambda key: _paper_count(store, key)):  # the fewest papers first
        papers = _subjects(store, predicate, _named(store, key))
        having = papers if having is None else having & papers
        if not having:
            break
    return [ox.NamedNode(iri) for iri in heapq.nsmallest(k, citations.uncited(having or ()))]


def first_by_title(store: ox.Store, papers: list[ox.NamedNode], text: str, n: int) -> list[ox.NamedNode] | None:
    """The papers of the first ``n`` rows of a query that keeps the titles (``dcterms:title``) of
    ``papers`` whose lower-cased value holds the lower-cased ``text`` and orders them by ``?title
    ?paper`` (``find-papers``); None when no more than ``n`` titles hold it (the page holds every
    paper) or a title is not a plain string (its order among the others is the engine's to say).

    ``papers`` is a superset of the answer's papers (the title index's); the query's own filter
    still decides. Each of their titles is read from the store (one index lookup a paper).

    >>> store = ox.Store()
    >>> titles = {"a": "Masks in schools", "b": "Cloth masks", "c": "Ventilation", "d": "cloth masks"}
    >>> store.extend([ox.Quad(resources.paper(k), DCTERMS.title, ox.Literal(t)) for k, t in titles.items()])
    >>> page = first_by_title(store, [resources.paper(k) for k in titles], "MASKS", 2)
    >>> [p.value.rsplit("/", 1)[1] for p in page]  # "Cloth masks" < "Masks in schools" < "cloth masks"
    ['a', 'b']
    >>> first_by_title(store, [resources.paper(k) for k in "abd"], "masks", 3) is None
    True
    """
    needle = text.lower()
    pairs = set()
    for paper in papers:
        for quad in store.quads_for_pattern(paper, DCTERMS.title, None):
            title = quad.object
            if not isinstance(title, ox.Literal) or title.datatype != XSD.string:
                return None
            if needle in title.value.lower():
                pairs.add((title.value, paper.value))
    if len(pairs) <= n:
        return None
    return [ox.NamedNode(iri) for iri in sorted({iri for _title, iri in heapq.nsmallest(n, pairs)})]


def first_of_titles(pairs: Iterable[tuple[str, str]], n: int) -> list[ox.NamedNode]:
    """The papers of the first ``n`` rows ordered by ``?title ?paper`` of these (title, paper key)
    pairs (:func:`ckg.etl.catalog.first_titles_containing`: the first titles, ties included), in
    the order of their first rows.

    >>> page = first_of_titles([("Masks", "a"), ("Cloth masks", "d"), ("Cloth masks", "b"), ("Clothes", "a")], 3)
    >>> [p.value.rsplit("/", 1)[1] for p in page]
    ['b', 'd', 'a']
    """
    rows = heapq.nsmallest(n, ((title, resources.paper(key).value) for title, key in pairs))
    return [ox.NamedNode(iri) for iri in dict.fromkeys(iri for _title, iri in rows)]


RANKINGS: dict[str, Callable[[ox.Store, Citations, Subs, int], Narrowing | None]] = {
    "customised-citations": customised_citations,
    "concept-papers": concept_papers,
}
"""The rankings a query's ``# first-page:`` line can name, each a function of the store, its
citations, the query's bound parameters and the page size that returns the values to narrow to."""
