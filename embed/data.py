"""What the embeddings are made from, read from the store with the named queries in ``queries/``.

* :func:`paper_texts` — ``embed-paper-texts``: each paper's title, abstract and body;
* :func:`training_triples` — ``embed-training-triples``: the (head, relation, tail) triplets of
  the knowledge-graph embeddings, as IRIs;
* :func:`citations` — the ``ckg:cites`` edges among those triplets, as paper keys;
* :func:`paper_topics` — ``embed-paper-topics`` (see :mod:`ckg.embed.topics`).
"""

from __future__ import annotations

from collections.abc import Iterable

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


def without_citations(triples: Iterable[Triple], held_out: Iterable[tuple[str, str]]) -> list[Triple]:
    """The triplets less the given citation edges (the evaluation's held-out edges)."""
    cites = CKG.cites.value
    drop = {(resources.paper(a).value, cites, resources.paper(b).value) for a, b in held_out}
    return [t for t in triples if t not in drop]
