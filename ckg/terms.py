"""Vocabulary terms, read from the ontology: the one place IRIs come from.

Every class and property that ckg writes is looked up here, and a lookup of a term the
ontology does not declare fails at once, so an undeclared term cannot slip into a build:

>>> CKG.Paper
<NamedNode value=https://w3id.org/ckg/ontology#Paper>
>>> DCTERMS.title.value
'http://purl.org/dc/terms/title'
>>> CKG.Papers
Traceback (most recent call last):
...
ckg.terms.UndeclaredTerm: https://w3id.org/ckg/ontology#Papers is not declared in ontology/ckg.ttl

RDF, RDFS, OWL and XSD terms are the language itself and are not checked.

The ontology's rdfs:subClassOf / rdfs:subPropertyOf links are what the emitter materialises:

>>> [t.value.rsplit('/', 1)[-1] for t in superclasses(CKG.Paper)]
['ResearchPaper', 'ScholarlyArticle']
>>> [t.value for t in superproperties(CKG.cites)]
['http://purl.org/spar/cito/cites']
"""

from __future__ import annotations

from functools import lru_cache

import pyoxigraph as ox

from ckg import ontology

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS_NS = "http://www.w3.org/2000/01/rdf-schema#"
OWL_NS = "http://www.w3.org/2002/07/owl#"
XSD_NS = "http://www.w3.org/2001/XMLSchema#"

PREFIXES: dict[str, str] = {
    "ckg": "https://w3id.org/ckg/ontology#",
    "rdf": RDF_NS,
    "rdfs": RDFS_NS,
    "owl": OWL_NS,
    "xsd": XSD_NS,
    "dcterms": "http://purl.org/dc/terms/",
    "fabio": "http://purl.org/spar/fabio/",
    "cito": "http://purl.org/spar/cito/",
    "bibo": "http://purl.org/ontology/bibo/",
    "schema": "http://schema.org/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "prov": "http://www.w3.org/ns/prov#",
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "ckgr": "https://w3id.org/ckg/resource/",
}
"""Prefixes used by the ontology, the named queries and the exports."""

_UNCHECKED = (RDF_NS, RDFS_NS, OWL_NS, XSD_NS)
_DECLARING_TYPES = {
    OWL_NS + "Class",
    OWL_NS + "ObjectProperty",
    OWL_NS + "DatatypeProperty",
    OWL_NS + "AnnotationProperty",
    OWL_NS + "NamedIndividual",
}


class UndeclaredTerm(AttributeError):
    """A term is used that the ontology does not declare."""


@lru_cache(maxsize=1)
def ontology_triples() -> tuple[ox.Triple, ...]:
    """All triples of the ontology file."""
    return tuple(q.triple for q in ox.parse(path=str(ontology.path()), format=ox.RdfFormat.TURTLE))


@lru_cache(maxsize=1)
def declared() -> dict[str, str]:
    """IRI -> kind ('Class', 'ObjectProperty', ..., 'NamedIndividual') of every term the ontology declares.

    >>> declared()["https://w3id.org/ckg/ontology#citationCount"]
    'NamedIndividual'
    """
    kinds: dict[str, str] = {}
    for t in ontology_triples():
        if t.predicate.value == RDF_NS + "type" and t.object.value in _DECLARING_TYPES:
            if isinstance(t.subject, ox.NamedNode):
                kinds.setdefault(t.subject.value, t.object.value[len(OWL_NS):])
    return kinds


def is_declared(iri: str) -> bool:
    """True for a term of the ontology or of the RDF/RDFS/OWL/XSD language."""
    return iri.startswith(_UNCHECKED) or iri in declared()


def term(iri: str) -> ox.NamedNode:
    """The NamedNode of a declared term; :class:`UndeclaredTerm` otherwise."""
    if not is_declared(iri):
        raise UndeclaredTerm(f"{iri} is not declared in ontology/ckg.ttl")
    return ox.NamedNode(iri)


class Namespace:
    """Attribute access to the declared terms of one namespace (``CKG.Paper``)."""

    def __init__(self, base: str) -> None:
        self.base = base

    def __getattr__(self, name: str) -> ox.NamedNode:
        if name.startswith("__"):
            raise AttributeError(name)
        node = self.__dict__[name] = term(self.base + name)  # kept: the next access is a plain attribute
        return node

    def __getitem__(self, name: str) -> ox.NamedNode:
        return term(self.base + name)

    def __repr__(self) -> str:
        return f"Namespace({self.base!r})"


CKG = Namespace(PREFIXES["ckg"])
RDF = Namespace(RDF_NS)
RDFS = Namespace(RDFS_NS)
OWL = Namespace(OWL_NS)
XSD = Namespace(XSD_NS)
DCTERMS = Namespace(PREFIXES["dcterms"])
FABIO = Namespace(PREFIXES["fabio"])
CITO = Namespace(PREFIXES["cito"])
BIBO = Namespace(PREFIXES["bibo"])
SCHEMA = Namespace(PREFIXES["schema"])
FOAF = Namespace(PREFIXES["foaf"])
SKOS = Namespace(PREFIXES["skos"])
PROV = Namespace(PREFIXES["prov"])
SD = Namespace(PREFIXES["sd"])


def _objects(subject: str, predicate: str) -> list[str]:
    return [
        t.object.value
        for t in ontology_triples()
        if t.subject.value == subject and t.predicate.value == predicate and isinstance(t.object, ox.NamedNode)
    ]


def _closure(start: str, predicate: str) -> tuple[ox.NamedNode, ...]:
    seen: list[str] = []
    todo = _objects(start, predicate)
    while todo:
        iri = todo.pop(0)
        if iri not in seen and iri != start:
            seen.append(iri)
            todo.extend(_objects(iri, predicate))
    return tuple(ox.NamedNode(i) for i in seen)


@lru_cache(maxsize=None)
def superclasses(cls: ox.NamedNode) -> tuple[ox.NamedNode, ...]:
    """Declared super-classes of ``cls`` (transitive, in file order)."""
    return _closure(cls.value, RDFS_NS + "subClassOf")


@lru_cache(maxsize=None)
def superproperties(prop: ox.NamedNode) -> tuple[ox.NamedNode, ...]:
    """Declared super-properties of ``prop`` (transitive, in file order)."""
    return _closure(prop.value, RDFS_NS + "subPropertyOf")


@lru_cache(maxsize=1)
def resource_base() -> str:
    """Base IRI of ckg's instances, from the ontology's void:uriSpace.

    >>> resource_base()
    'https://w3id.org/ckg/resource/'
    """
    values = [
        t.object.value
        for t in ontology_triples()
        if t.subject.value == ontology.ONTOLOGY_IRI and t.predicate.value == "http://rdfs.org/ns/void#uriSpace"
    ]
    if len(values) != 1:
        raise RuntimeError("ontology/ckg.ttl must give exactly one void:uriSpace for the resources")
    return values[0]


def sparql_prefixes() -> str:
    """PREFIX lines for every namespace in :data:`PREFIXES`."""
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())
