"""The SPARQL 1.1 Service Description of the endpoint (what ``GET /sparql`` without a query answers).

It says where the endpoint is, which languages and result formats it supports, that SERVICE
works (``sd:BasicFederatedQuery``, for the endpoints on its allowlist) and that the default graph
is the union of the named graphs, lists every corpus-wide named graph (the papers' own graphs,
one per paper, are not listed), and describes each
extension function (``sd:extensionFunction``, with the ontology's label, comment and example).

>>> triples = service_description("http://localhost:8000/sparql", updates=False)
>>> text = serialize(triples, "turtle")
>>> "sd:extensionFunction ckg:citationCount" in text and "sd:BasicFederatedQuery" in text
True
>>> "sd:SPARQL11Update" in text, text.count("sd:NamedGraph")
(False, 7)
"""

from __future__ import annotations

import pyoxigraph as ox

from ckg import resources
from ckg.server import functions
from ckg.server.negotiation import FORMAT_IRIS
from ckg.terms import CKG, PREFIXES, RDF, RDFS, SD
from ckg.sparql import RDF_FORMATS

_SD = PREFIXES["sd"]


def _sd(name: str) -> ox.NamedNode:
    """A term of the service description vocabulary (a W3C vocabulary, not ckg's: unchecked)."""
    return ox.NamedNode(_SD + name)


def service_description(endpoint: str, *, updates: bool, void: str | None = None) -> list[ox.Triple]:
    """The description of the endpoint at ``endpoint``; ``void``: the URL of the dataset's VoID
    description (``/.well-known/void``), linked from the default dataset."""
    service = ox.BlankNode("service")
    dataset = ox.BlankNode("dataset")
    default_graph = ox.BlankNode("defaultGraph")
    out = [
        ox.Triple(service, RDF.type, _sd("Service")),
        ox.Triple(service, _sd("endpoint"), ox.NamedNode(endpoint)),
        ox.Triple(service, RDFS.label, ox.Literal("ckg: the CORD-19 knowledge graph (SPARQL 1.1 endpoint)", language="en")),
        ox.Triple(service, RDFS.comment, ox.Literal(
            "The union of the named graphs is the default graph (ckg's data holds each triple in one named graph, "
            "so each matches once); relative IRIs resolve against this endpoint's URL; the ckg prefixes are "
            "predeclared; SERVICE may "
            "call only the endpoints of this server's allowlist; results are cut at the server's row limit "
            "(the X-CKG-Truncated header says so).", language="en")),
        ox.Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        ox.Triple(service, _sd("feature"), _sd("BasicFederatedQuery")),
        ox.Triple(service, _sd("feature"), _sd("UnionDefaultGraph")),
        ox.Triple(service, _sd("defaultEntailmentRegime"), ox.NamedNode("http://www.w3.org/ns/entailment/Simple")),
        ox.Triple(service, _sd("defaultDataset"), dataset),
        ox.Triple(dataset, RDF.type, _sd("Dataset")),
        ox.Triple(dataset, _sd("defaultGraph"), default_graph),
        ox.Triple(default_graph, RDF.type, _sd("Graph")),
    ]
    if void is not None:
        out.append(ox.Triple(dataset, RDFS.seeAlso, ox.NamedNode(void)))
        out.append(ox.Triple(dataset, RDF.type, ox.NamedNode("http://rdfs.org/ns/void#Dataset")))
    if updates:
        out.append(ox.Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Update")))
    for media_type, iri in FORMAT_IRIS.items():
        out.append(ox.Triple(service, _sd("resultFormat"), ox.NamedNode(iri)))
    for name in resources.CORPUS_GRAPH_NAMES:
        node = ox.BlankNode(f"graph_{name}")
        out += [ox.Triple(dataset, _sd("namedGraph"), node), ox.Triple(node, RDF.type, _sd("NamedGraph")),
                ox.Triple(node, _sd("name"), resources.graph(name))]
    for iri in functions.function_iris():
        out.append(ox.Triple(service, _sd("extensionFunction"), ox.NamedNode(iri)))
        out.append(ox.Triple(ox.NamedNode(iri), RDF.type, SD.Function))
    out.extend(t for t in functions.triples() if t.predicate != RDF.type or t.object == CKG.SparqlFunction)
    return _grouped(out)


def _grouped(triples: list[ox.Triple]) -> list[ox.Triple]:
    """The triples grouped by subject, subjects in order of first appearance (readable Turtle)."""
    order: dict[ox.NamedNode | ox.BlankNode, list[ox.Triple]] = {}
    for t in triples:
        order.setdefault(t.subject, []).append(t)
    return [t for group in order.values() for t in group]


def serialize(triples: list[ox.Triple], fmt: str) -> str:
    """The description in an RDF format of :data:`ckg.sparql.RDF_FORMATS` (turtle, ntriples, ...)."""
    rdf = RDF_FORMATS[fmt]
    prefixes = {**{k: PREFIXES[k] for k in ("ckg", "sd", "rdfs", "rdf", "skos", "dcterms", "xsd")},
                "void": "http://rdfs.org/ns/void#"}
    kwargs = {"prefixes": prefixes} if fmt == "turtle" else {}
    return ox.serialize(triples, format=rdf, **kwargs).decode("utf-8")
