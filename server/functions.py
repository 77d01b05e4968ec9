"""ckg's SPARQL extension functions: citation counts, PageRank and paper similarity.

The functions are declared in the ontology (instances of ``ckg:SparqlFunction``, with a comment
and an example each), registered by the SPARQL endpoint and by ``ckg query``, and listed in the
endpoint's service description. They read the store they are registered on (all its graphs,
whatever dataset the query uses). An invalid argument — not an IRI, not a paper, a wrong number
of arguments — leaves the value unbound: it never fails the query.

>>> import pyoxigraph as ox
>>> from ckg import resources
>>> from ckg.terms import CKG, RDF
>>> store = ox.Store()
>>> a, b, c = (resources.paper(k) for k in "abc")
>>> g = resources.graph(resources.CITATIONS_GRAPH_NAME)
>>> store.extend([ox.Quad(p, RDF.type, CKG.Paper, resources.paper_graph(p.value[-1])) for p in (a, b, c)])
>>> store.extend([ox.Quad(c, CKG.citedBy, a, g), ox.Quad(c, CKG.citedBy, b, g), ox.Quad(b, CKG.citedBy, a, g)])
>>> q = '''SELECT ?p (ckg:citationCount(?p) AS ?n) (ckg:citationCount("x") AS ?bad)
...        WHERE { ?p a ckg:Paper } ORDER BY ?p'''
>>> from ckg.store import query
>>> [(r["p"].value[-1], r["n"].value, r["bad"]) for r in query(store, q, custom_functions=registry(store))]
[('a', '0', None), ('b', '1', None), ('c', '2', None)]

Similarity needs the embeddings of the similar-paper engine: :func:`load_similarity_backend`
finds the store's current run through ``ckg.embed.similarity_backend(store_path)``; until
``ckg train`` has made one, the similarity functions are unbound.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox

from ckg import resources
from ckg.terms import CKG, RDF, SKOS, XSD, declared, ontology_triples

Term = ox.NamedNode | ox.BlankNode | ox.Literal | None
SIMILARITY_KINDS = ("combined", "text", "graph")


class SimilarityBackend(Protocol):
    """What the similar-paper engine provides: the similarity of two papers (IRIs), or None."""

    def similarity(self, kind: str, paper1: str, paper2: str) -> float | None: ...


def load_similarity_backend(store_path: Path | None) -> SimilarityBackend | None:
    """The embeddings' similarity backend of a store, when ``ckg.embed`` provides one.

    The contract for the similar-paper engine: a module ``ckg.embed`` with a function
    ``similarity_backend(store_path)`` that returns None when the store has no embeddings, else an
    object with ``similarity(kind, paper1_iri, paper2_iri) -> float | None`` for kind ``combined``,
    ``text`` or ``graph``.

    >>> load_similarity_backend(None) is None
    True
    """
    if store_path is None:
        return None
    try:
        module = importlib.import_module("ckg.embed")
    except ImportError:
        return None
    factory = getattr(module, "similarity_backend", None)
    return factory(Path(store_path)) if callable(factory) else None


def _is_paper(store: ox.Store, term: Term) -> bool:
    if not isinstance(term, ox.NamedNode):
        return False
    return next(iter(store.quads_for_pattern(term, RDF.type, CKG.Paper)), None) is not None


def _integer(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=XSD.integer)


def _double(x: float) -> ox.Literal:
    return ox.Literal(repr(float(x)), datatype=XSD.double)


def citing_papers(store: ox.Store, paper: ox.NamedNode) -> set[ox.NamedNode]:
    """The papers that cite a paper (its ckg:citedBy edges, in any graph)."""
    return {q.object for q in store.quads_for_pattern(paper, CKG.citedBy, None) if isinstance(q.object, ox.NamedNode)}


def subject_matches(store: ox.Store, subject: ox.NamedNode) -> set[ox.NamedNode]:
    """A topic or concept IRI and the concepts that are skos:exactMatch to it (MeSH ids, ...)."""
    out = {subject}
    out.update(q.subject for q in store.quads_for_pattern(None, SKOS.exactMatch, subject)
               if isinstance(q.subject, ox.NamedNode))
    return out


def is_about(store: ox.Store, paper: ox.NamedNode, subjects: set[ox.NamedNode]) -> bool:
    """True when the paper has an associatedTopic or associatedConcept edge to one of the subjects."""
    for prop in (CKG.associatedConcept, CKG.associatedTopic):
        for q in store.quads_for_pattern(paper, prop, None):
            if q.object in subjects:
                return True
    return False


def citation_count(store: ox.Store, paper: Term) -> ox.Literal | None:
    if not _is_paper(store, paper):
        return None
    return _integer(len(citing_papers(store, paper)))


def citation_count_about(store: ox.Store, paper: Term, *subjects: Term) -> ox.Literal | None:
    if not subjects or not _is_paper(store, paper) or not all(isinstance(s, ox.NamedNode) for s in subjects):
        return None
    wanted = [subject_matches(store, s) for s in subjects]
    citing = citing_papers(store, paper)
    return _integer(sum(1 for c in citing if all(is_about(store, c, w) for w in wanted)))


def page_rank(store: ox.Store, paper: Term) -> ox.Literal | None:
    if not _is_paper(store, paper):
        return None
    graph = resources.graph(resources.RANKING_GRAPH_NAME)
    for q in store.quads_for_pattern(paper, CKG.pageRankScore, None, graph):
        return q.object
    return None


def clamp_cosine(value: float) -> float:
    """A cosine similarity kept in [-1, 1]: float32 vectors of norm 1 can give a paper a cosine of
    1.0000001 with itself.

    >>> clamp_cosine(1.0000001), clamp_cosine(-1.0000001), clamp_cosine(0.25)
    (1.0, -1.0, 0.25)
    """
    return min(1.0, max(-1.0, float(value)))


def similarity(store: ox.Store, backend: SimilarityBackend | None, kind: str, paper1: Term,
               paper2: Term) -> ox.Literal | None:
    if backend is None or not (_is_paper(store, paper1) and _is_paper(store, paper2)):
        return None
    value = backend.similarity(kind, paper1.value, paper2.value)
    if value is None or not math.isfinite(value):
        return None
    return _double(clamp_cosine(value))


def _safe(fn: Callable[..., ox.Literal | None], arity: int | None) -> Callable[..., ox.Literal | None]:
    """Check the number of arguments and turn any error into an unbound value."""

    def wrapper(*args):
        if arity is not None and len(args) != arity:
            return None
        try:
            return fn(*args)
        except Exception:  # a function must never fail the query: its value is unbound
            return None

    wrapper.__name__ = fn.__name__
    return wrapper


def search_score(search: Callable[[], object] | None, paper: Term, text: Term) -> ox.Literal | None:
    """``ckg:search(?paper, "text")``: the paper's search score for the text, unbound when it is not
    among the text's best papers (or there is no search index)."""
    if search is None or not isinstance(paper, ox.NamedNode) or not isinstance(text, ox.Literal):
        return None
    service = search()
    if service is None or not text.value.strip():
        return None
    value = service.score(text.value, paper.value)
    return None if value is None else _double(value)


def registry(store: ox.Store, similarity_backend: SimilarityBackend | None = None,
             search: Callable[[], object] | None = None) -> dict[ox.NamedNode, Callable[..., ox.Literal | None]]:
    """The functions to pass as ``custom_functions`` to a query on ``store``; ``search`` gives the
    release's :class:`ckg.search.SearchService` (or None) when first needed."""
    return {
        CKG.search: _safe(lambda p, t: search_score(search, p, t), 2),
        CKG.citationCount: _safe(lambda p: citation_count(store, p), 1),
        CKG.citationCountAbout: _safe(lambda p, *s: citation_count_about(store, p, *s), None),
        CKG.pageRank: _safe(lambda p: page_rank(store, p), 1),
        CKG.similarity: _safe(lambda a, b: similarity(store, similarity_backend, "combined", a, b), 2),
        CKG.textSimilarity: _safe(lambda a, b: similarity(store, similarity_backend, "text", a, b), 2),
        CKG.graphSimilarity: _safe(lambda a, b: similarity(store, similarity_backend, "graph", a, b), 2),
    }


def function_iris() -> list[str]:
    """IRIs of the functions the ontology declares (instances of ckg:SparqlFunction).

    >>> [i.rsplit('#', 1)[1] for i in function_iris()]
    ['citationCount', 'citationCountAbout', 'graphSimilarity', 'pageRank', 'search', 'similarity', 'textSimilarity']
    """
    kinds = declared()
    return sorted(t.subject.value for t in ontology_triples()
                  if t.predicate == RDF.type and t.object == CKG.SparqlFunction
                  and kinds.get(t.subject.value) == "NamedIndividual")


def descriptions() -> list[dict[str, str]]:
    """Each function's IRI, label, comment and example, as the ontology gives them."""
    out = []
    for iri in function_iris():
        values: dict[str, str] = {"iri": iri, "name": "ckg:" + iri.rsplit("#", 1)[1]}
        for t in ontology_triples():
            if t.subject.value == iri:
                key = {RDF.type.value: None, SKOS.example.value: "example"}.get(
                    t.predicate.value, t.predicate.value.rsplit("#", 1)[-1])
                if key:
                    values[key] = t.object.value
        out.append(values)
    return out


def triples() -> Iterable[ox.Triple]:
    """The ontology's triples about the functions (for the service description)."""
    iris = set(function_iris())
    return [t for t in ontology_triples() if t.subject.value in iris]
