"""What the embeddings are made from, read from the store with the named queries in ``queries/``.

* :func:`paper_texts` — ``embed-paper-texts``: each paper's title, abstract and body;
* :func:`training_triples` — ``embed-training-triples``: the (head, relation, tail) triplets of
  the knowledge-graph embeddings, as IRIs;
* :func:`edge_weights` — ``embed-edge-weights``: the concept confidences and topic probabilities
  of the papers' edges (the ``features`` graph method, :mod:`ckg.embed.features`);
* :func:`citations` — the ``ckg:cites`` edges among those triplets, as paper keys, and
  :func:`popularity` — the papers' in-corpus citation counts among them (the popularity prior);
* :func:`paper_topics` — ``embed-paper-topics`` (see :mod:`ckg.embed.topics`).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyoxigraph as ox

from ckg import queries, resources
from ckg.embed.text import PaperText
from ckg.sparql import run_named
from ckg.terms import CKG

Triple = tuple[str, str, str]


def _value(term) -> str:
    return "" if term is None else term.value


def paper_texts(store: ox.Store) -> list[PaperText]:
    """Every paper of the store with its texts, ordered by key (one row per paper)."""
    result = run_named(store, queries.get("embed-paper-texts"), {})
    out: dict[str, PaperText] = {}
    for paper, title, abstract, body in result.rows:
        key = resources.key_of(paper, "paper")
        if key is None or key in out:  # a second title or abstract of the same paper is ignored
            continue
        out[key] = PaperText(key, _value(title), _value(abstract), _value(body))
    return [out[k] for k in sorted(out)]


def training_triples(store: ox.Store) -> list[Triple]:
    """The KG-embedding training triplets (head IRI, relation IRI, tail IRI), sorted."""
    result = run_named(store, queries.get("embed-training-triples"), {})
    return sorted({(h.value, r.value, t.value) for h, r, t in result.rows})


def edge_weights(store: ox.Store) -> dict[Triple, float]:
    """(paper IRI, relation IRI, target IRI) -> the edge's weight (concept confidence, topic
    probability); an edge annotated twice keeps its highest weight."""
    out: dict[Triple, float] = {}
    for paper, relation, target, weight in run_named(store, queries.get("embed-edge-weights"), {}).rows:
        try:
            w = float(weight.value)
        except (AttributeError, ValueError):
            continue
        edge = (paper.value, relation.value, target.value)
        out[edge] = max(w, out.get(edge, w))
    return out


def citations(triples: Iterable[Triple]) -> list[tuple[str, str]]:
    """The (citing key, cited key) pairs among training triplets.

    >>> p = resources.paper
    >>> citations([(p("a").value, CKG.cites.value, p("b").value), (p("a").value, CKG.authoredBy.value, "x")])
    [('a', 'b')]
    """
    cites = CKG.cites.value
    out = []
    for h, r, t in triples:
        if r == cites:
            a = resources.key_of(ox.NamedNode(h), "paper")
            b = resources.key_of(ox.NamedNode(t), "paper")
            if a and b:
                out.append((a, b))
    return sorted(set(out))


def popularity(papers: list[str], triples: Iterable[Triple]) -> np.ndarray:
    """Each paper's in-corpus citations among the triplets, ``log(1 + n) / log(1 + max n)``: 0 for
    an uncited paper, 1 for the most cited (all 0 when none is cited).

    >>> p = resources.paper
    >>> edges = [(p(x).value, CKG.cites.value, p(y).value) for x, y in (("a", "b"), ("c", "b"), ("b", "c"))]
    >>> [round(float(x), 3) for x in popularity(["a", "b", "c"], edges)]  # log 2 / log 3 for c
    [0.0, 1.0, 0.631]
    """
    row = {resources.paper(k).value: i for i, k in enumerate(papers)}
    counts = np.zeros(len(papers))
    cites = CKG.cites.value
    for h, r, t in triples:
        if r == cites and t in row and h != t:
            counts[row[t]] += 1
    top = counts.max() if len(counts) else 0
    return (np.log1p(counts) / np.log1p(top) if top > 0 else counts).astype(np.float32)


def without_citations(triples: Iterable[Triple], held_out: Iterable[tuple[str, str]]) -> list[Triple]:
    """The triplets less the given citation edges (the evaluation's held-out edges)."""
    cites = CKG.cites.value
    drop = {(resources.paper(a).value, cites, resources.paper(b).value) for a, b in held_out}
    return [t for t in triples if t not in drop]
