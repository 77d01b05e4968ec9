"""IRIs of ckg's instances and named graphs, built from keys (see :mod:`ckg.etl.identity`).

The base comes from the ontology (``void:uriSpace``); the same key always gives the same IRI.

>>> paper("ug7v899j").value
'https://w3id.org/ckg/resource/paper/ug7v899j'
>>> authorship("ug7v899j", 2).value
'https://w3id.org/ckg/resource/paper/ug7v899j/authorship/2'
>>> paper_graph("ug7v899j").value
'https://w3id.org/ckg/resource/graph/paper/ug7v899j'
>>> concept("mesh-D011014").value, concept_association("ug7v899j", "mesh-D011014").value
('https://w3id.org/ckg/resource/concept/mesh-D011014', 'https://w3id.org/ckg/resource/paper/ug7v899j/concept/mesh-D011014')
>>> topic("clinical-care").value
'https://w3id.org/ckg/resource/topic/clinical-care'
>>> key_of(paper("PMC35282"), "paper")
'PMC35282'
>>> paper_from_user("https://w3id.org/ckg/resource/paper/ug7v899j") == paper_from_user("ug7v899j")
True
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

import pyoxigraph as ox

from ckg.terms import resource_base

_SAFE = "-._~()'!*,;=:@"
_UNQUOTED = re.compile(r"[A-Za-z0-9_\-.~()'!*,;=:@]*\Z")
"""The parts ``quote`` leaves as they are (ASCII letters and digits, ``_.-~`` and :data:`_SAFE`):
most keys, which then skip it."""
_UNQUOTED_PATH = re.compile(r"[A-Za-z0-9_\-.~()'!*,;=:@/]*\Z")
"""Parts joined by '/' of which none needs quoting, when there are as many '/' as joins."""


def _iri(*parts: str) -> ox.NamedNode:
    """>>> _iri("paper", "a b/c").value.rsplit("/", 2)[-2:], _iri("paper", "x-1").value.rsplit("/", 1)[-1]
    (['paper', 'a%20b%2Fc'], 'x-1')
    """
    return ox.NamedNode(iri_text(*parts))


def iri_text(*parts: str) -> str:
    """The IRI of :func:`_iri` as a string, for a writer of N-Quads lines that needs no term.

    >>> iri_text("paper", "a b") == paper("a b").value, iri_text("paper", "a/b").rsplit("/", 1)[-1]
    (True, 'a%2Fb')
    """
    path = "/".join(parts)
    if _UNQUOTED_PATH.match(path) and path.count("/") == len(parts) - 1:  # no part to quote (most keys)
        return resource_base() + path
    plain = _UNQUOTED.match
    return resource_base() + "/".join(p if plain(p) else quote(p, safe=_SAFE) for p in parts)


def paper(key: str) -> ox.NamedNode:
    return _iri("paper", key)


def author(key: str) -> ox.NamedNode:
    return _iri("author", key)


def institution(key: str) -> ox.NamedNode:
    return _iri("institution", key)


def authorship(paper_key: str, position: int) -> ox.NamedNode:
    return _iri("paper", paper_key, "authorship", str(position))


def concept(key: str) -> ox.NamedNode:
    """A concept, keyed by its main identifier (``mesh-D011014``, ``doid-0080600``; see
    :func:`ckg.etl.vocab.merge.concept_key`)."""
    return _iri("concept", key)


def topic(key: str) -> ox.NamedNode:
    """A topic, keyed by the slug of its label (``clinical-care``)."""
    return _iri("topic", key)


def concept_association(paper_key: str, concept_key: str) -> ox.NamedNode:
    """The annotation node of a paper's associatedConcept edge."""
    return _iri("paper", paper_key, "concept", concept_key)


def topic_association(paper_key: str, topic_key: str) -> ox.NamedNode:
    """The annotation node of a paper's associatedTopic edge."""
    return _iri("paper", paper_key, "topic", topic_key)


def release(label: str) -> ox.NamedNode:
    return _iri("release", label)


def paper_graph(key: str) -> ox.NamedNode:
    """The named graph holding the triples read from one paper's row and parses."""
    return _iri("graph", "paper", key)


ENTITIES_GRAPH_NAME = "entities"
CITATIONS_GRAPH_NAME = "citations"
PROVENANCE_GRAPH_NAME = "provenance"
RANKING_GRAPH_NAME = "ranking"
CONCEPTS_GRAPH_NAME = "concepts"
TOPICS_GRAPH_NAME = "topics"
SIGNALS_GRAPH_NAME = "signals"
CORPUS_GRAPH_NAMES = (ENTITIES_GRAPH_NAME, CITATIONS_GRAPH_NAME, CONCEPTS_GRAPH_NAME, TOPICS_GRAPH_NAME,
                      RANKING_GRAPH_NAME, SIGNALS_GRAPH_NAME, PROVENANCE_GRAPH_NAME)
"""Every corpus-wide named graph (:func:`graph`); the rest are the papers' own (:func:`paper_graph`)."""


def graph(name: str) -> ox.NamedNode:
    """A corpus-wide named graph: 'entities' (authors, institutions, affiliations),
    'citations' (cites/citedBy edges), 'concepts' (concept nodes, associatedConcept edges and
    their annotation nodes), 'topics' (topic nodes, associatedTopic edges and their annotation
    nodes), 'provenance' (releases, source files), 'ranking' (PageRank scores of the papers, see
    :mod:`ckg.etl.ranking`), 'signals' (name keys and counts the queries read, see
    :mod:`ckg.etl.signals`)."""
    return _iri("graph", name)


def key_of(node: ox.NamedNode, kind: str) -> str | None:
    """The key of an instance IRI of the given kind ('paper', 'author', ...), else None."""
    prefix = resource_base() + kind + "/"
    value = node.value
    if not value.startswith(prefix):
        return None
    rest = value[len(prefix):]
    return None if "/" in rest else unquote(rest)


def from_user(kind: str, value: str) -> ox.NamedNode:
    """An instance IRI from what a user typed: a full IRI, ``<IRI>`` or a bare key."""
    value = value.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    if value.startswith(("http://", "https://")):
        return ox.NamedNode(value)
    return _iri(kind, value)


def paper_from_user(value: str) -> ox.NamedNode:
    return from_user("paper", value)
