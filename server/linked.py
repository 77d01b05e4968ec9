"""Linked data: ckg's IRIs answered with their RDF, the graphs by the Graph Store Protocol, VoID.

- ``/resource/<kind>/<key>`` (every IRI under the ontology's ``void:uriSpace``,
  ``https://w3id.org/ckg/resource/``, once the deployment maps that prefix to this server): the
  triples whose subject is the IRI, in every graph — Turtle, N-Triples, JSON-LD or RDF/XML by
  ``Accept`` (or a ``.ttl``/``.nt``/``.jsonld``/``.rdf`` suffix), answered directly (``200``,
  ``Vary: Accept``, ``Content-Location`` naming the document). A browser (``text/html`` first)
  gets a ``303 See Other`` to the paper's page for a paper, the page of a concept, author, topic or
  institution (as ``/concepts/<key>``, ..., with links to its RDF documents), and a page of the
  triples for any other node. An IRI the store has no triple about: ``404``.
- ``/store?graph=IRI`` and ``/store?default`` (read-only SPARQL 1.1 Graph Store Protocol, at
  Oxigraph's server's path): a named graph, or the default graph (the union of the graphs), as
  RDF by ``Accept``, cut at the endpoint's row limit like any answer (``X-CKG-Truncated``).
  Writes are ``405``: the store changes only through ``ckg update`` (or SPARQL Update when
  enabled).
- ``/.well-known/void``: the VoID description of the dataset, made from the counts the last build
  or update wrote in its manifest (:func:`void_triples`): triples, entities, class and property
  partitions, the SPARQL endpoint, the data dump command,
  license, version and the vocabularies used. The service description links it.
"""

from __future__ import annotations

import json
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, make_response, redirect, render_template, request, url_for

from ckg import resources
from ckg.server import description, negotiation
from ckg.server.api import run_job
from ckg.server.protocol import result_response, text_error
from ckg.store import StoreError, read_manifest
from ckg.terms import PREFIXES, RDF, resource_base

bp = Blueprint("linked", __name__)

SUFFIXES = {".ttl": "text/turtle", ".nt": "application/n-triples", ".jsonld": "application/ld+json",
            ".rdf": "application/rdf+xml"}
"""Document suffixes of a resource's RDF (``/resource/paper/x.ttl``), each a media type."""

VOID = "http://rdfs.org/ns/void#"
DCTERMS = PREFIXES["dcterms"]
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
"""The license the VoID description states for ckg's own triples (the papers' texts keep theirs:
each paper carries its CORD-19 license)."""


def _wanted() -> str | None:
    """The media type a request for a resource wants: RDF by ``Accept`` (Turtle for ``*/*`` or
    none), ``text/html`` when a browser puts it first; None when nothing offered fits."""
    accept = request.accept_mimetypes
    if not accept:
        return "text/turtle"
    return accept.best_match([m for m, _ in negotiation.GRAPH] + ["text/html"])


def _rdf(sparql: str, chosen: tuple[str, str], *, location: str | None = None) -> Response:
    server = current_app.extensions["ckg"]
    reply = run_job("query", {"query": sparql, "formats": {"graph": chosen, "solutions": None},
                              "max_rows": server.config.max_rows})
    if isinstance(reply, Response):
        return reply
    if not reply["count"]:
        return text_error(404, "no triples")
    response = result_response(reply)
    if location:
        response.headers["Content-Location"] = location
    return response


@bp.get("/resource/<path:rest>")
def resource(rest: str) -> Response:
    suffix = next((s for s in SUFFIXES if rest.endswith(s)), None)
    if suffix is not None:
        rest = rest[:-len(suffix)]
    try:
        iri = ox.NamedNode(resource_base() + rest)
    except ValueError:
        return text_error(400, f"not an IRI: {resource_base() + rest}")
    describe = f"CONSTRUCT {{ {iri} ?p ?o }} WHERE {{ {iri} ?p ?o }}"
    if suffix is not None:
        media_type = SUFFIXES[suffix]
        return _rdf(describe, (dict(negotiation.GRAPH)[media_type], media_type))
    wanted = _wanted()
    if wanted is None:
        return text_error(406, "the resource is available as "
                               + ", ".join([*negotiation.offered(negotiation.GRAPH)[:4], "text/html"]))
    if wanted != "text/html":
        chosen = (dict(negotiation.GRAPH)[wanted], wanted)
        extension = next((s for s, m in SUFFIXES.items() if m == wanted), None)
        return _rdf(describe, chosen, location=url_for("linked.resource", rest=rest + extension) if extension else None)
    key = resources.key_of(iri, "paper")
    if key is not None:
        response = redirect(url_for("pages.paper_page", paper=key), code=303)
    else:
        response = _entity_page(iri, rest) or _page(iri, rest)
    response.vary.add("Accept")
    return response


def _entity_page(iri: ox.NamedNode, rest: str) -> Response | None:
    """The page of a concept, author, topic or institution IRI (:mod:`ckg.server.entities`), the
    same as ``/concepts/<key>``, ...; None when the IRI is none of these (its triples are shown)."""
    from ckg.server import entities, pages

    for kind in entities.ENTITY_KINDS:
        key = resources.key_of(iri, kind)
        if key is None:
            continue
        documents = {m: url_for("linked.resource", rest=rest + s) for s, m in SUFFIXES.items()}
        response = pages.entity_page(kind, key, documents=documents)
        return response if response.status_code != 404 else None
    return None


def _page(iri: ox.NamedNode, rest: str) -> Response:
    reply = run_job("query", {"query": f"SELECT ?p ?o ?g WHERE {{ GRAPH ?g {{ {iri} ?p ?o }} }} ORDER BY ?p ?o",
                              "formats": {"solutions": ("json", "application/sparql-results+json"), "graph": None},
                              "max_rows": current_app.extensions["ckg"].config.max_rows})
    if isinstance(reply, Response):
        message = reply.get_json().get("error", "") if reply.is_json else ""
        return make_response(render_template("error.html", status=reply.status_code, message=message),
                             reply.status_code)
    rows = json.loads(reply["body"])["results"]["bindings"]
    if not rows:
        return make_response(render_template("error.html", status=404,
                                             message=f"the store has nothing about {iri.value}"), 404)
    base = resource_base()

    def link(term: dict[str, str]) -> dict[str, Any]:
        value = term["value"]
        local = url_for("linked.resource", rest=value[len(base):]) if term["type"] == "uri" and value.startswith(base) else None
        return {"value": value, "type": term["type"], "href": local or (value if term["type"] == "uri" else None),
                "lang": term.get("xml:lang"), "datatype": term.get("datatype")}

    triples = [{"p": link(r["p"]), "o": link(r["o"]), "g": r["g"]["value"]} for r in rows]
    documents = {m: url_for("linked.resource", rest=rest + s) for s, m in SUFFIXES.items()}
    return make_response(render_template("resource.html", iri=iri.value, triples=triples, documents=documents,
                                         truncated=reply["truncated"]))


@bp.route("/store", methods=["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH"])
def graph_store() -> Response:
    if request.method not in ("GET", "HEAD"):
        return text_error(405, "the Graph Store Protocol is read-only here: the store changes through `ckg update` "
                               "(or SPARQL Update at /sparql when enabled)", headers={"Allow": "GET, HEAD"})
    graph, default = request.args.get("graph"), "default" in request.args
    if (graph is None) == (not default):
        return text_error(400, "give exactly one of ?graph=IRI and ?default")
    chosen = negotiation.choose(request.accept_mimetypes, negotiation.GRAPH)
    if chosen is None:
        return text_error(406, "graphs are available as " + ", ".join(negotiation.offered(negotiation.GRAPH)[:4]))
    if default:
        return _rdf("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", chosen)
    try:
        name = ox.NamedNode(graph)
    except ValueError:
        return text_error(400, f"?graph must be an IRI, got {graph!r}")
    return _rdf(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {name} {{ ?s ?p ?o }} }}", chosen)


def void_triples(manifest: dict[str, Any], endpoint: str, dataset: str) -> list[ox.Triple]:
    """The VoID description of the store from its manifest's counts.

    >>> m = {"release": "r1", "finished_at": "2026-01-01T00:00:00Z", "counts": {"triples": 10, "papers_in_store": 2,
    ...      "per_class": {"https://w3id.org/ckg/ontology#Paper": 2}, "per_property": {"http://purl.org/dc/terms/title": 2}}}
    >>> text = description.serialize(void_triples(m, "http://h/sparql", "http://h/.well-known/void#dataset"), "turtle")
    >>> "void:triples 10" in text and "void:classPartition" in text and "void:sparqlEndpoint <http://h/sparql>" in text
    True
    """
    counts = manifest.get("counts", {})
    d = ox.NamedNode(dataset)
    v = lambda name: ox.NamedNode(VOID + name)  # noqa: E731
    integer = lambda n: ox.Literal(str(int(n)), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))  # noqa: E731
    out = [
        ox.Triple(d, RDF.type, v("Dataset")),
        ox.Triple(d, ox.NamedNode(DCTERMS + "title"), ox.Literal("ckg: the CORD-19 knowledge graph", language="en")),
        ox.Triple(d, ox.NamedNode(DCTERMS + "description"), ox.Literal(
            "Papers, authors, institutions, concepts and topics of the CORD-19 corpus, with their citation, "
            "authorship, affiliation, concept and topic edges.", language="en")),
        ox.Triple(d, ox.NamedNode(DCTERMS + "license"), ox.NamedNode(LICENSE)),
        ox.Triple(d, v("sparqlEndpoint"), ox.NamedNode(endpoint)),
        ox.Triple(d, v("uriSpace"), ox.Literal(resource_base())),
        ox.Triple(d, v("dataDump"), ox.NamedNode(endpoint.rsplit("/", 1)[0] + "/store?default")),
        ox.Triple(d, v("triples"), integer(counts.get("triples", 0))),
        ox.Triple(d, v("entities"), integer(sum((counts.get("per_class") or {}).values()))),
        ox.Triple(d, v("classes"), integer(len(counts.get("per_class") or {}))),
        ox.Triple(d, v("properties"), integer(len(counts.get("per_property") or {}))),
    ]
    if manifest.get("release"):
        out.append(ox.Triple(d, ox.NamedNode("http://www.w3.org/2002/07/owl#versionInfo"),
                             ox.Literal(str(manifest["release"]))))
    if manifest.get("finished_at"):
        out.append(ox.Triple(d, ox.NamedNode(DCTERMS + "modified"), ox.Literal(str(manifest["finished_at"]))))
    for namespace in sorted({PREFIXES[p] for p in ("ckg", "dcterms", "skos", "fabio", "cito", "bibo", "foaf",
                                                   "schema", "prov")}):
        out.append(ox.Triple(d, v("vocabulary"), ox.NamedNode(namespace)))
    for i, (cls, n) in enumerate(sorted((counts.get("per_class") or {}).items())):
        part = ox.NamedNode(f"{dataset}-class-{i}")
        out += [ox.Triple(d, v("classPartition"), part), ox.Triple(part, v("class"), ox.NamedNode(cls)),
                ox.Triple(part, v("entities"), integer(n))]
    for i, (prop, n) in enumerate(sorted((counts.get("per_property") or {}).items())):
        part = ox.NamedNode(f"{dataset}-property-{i}")
        out += [ox.Triple(d, v("propertyPartition"), part), ox.Triple(part, v("property"), ox.NamedNode(prop)),
                ox.Triple(part, v("triples"), integer(n))]
    return out


@bp.get("/.well-known/void")
def void() -> Response:
    server = current_app.extensions["ckg"]
    chosen = negotiation.choose(request.accept_mimetypes, negotiation.GRAPH)
    if chosen is None:
        return text_error(406, "the VoID description is available as "
                               + ", ".join(negotiation.offered(negotiation.GRAPH)[:4]))
    try:
        manifest = read_manifest(server.config.store)
    except StoreError as exc:
        return text_error(503, str(exc))
    here = url_for("linked.void", _external=True)
    triples = void_triples(manifest, url_for("protocol.sparql", _external=True), here + "#dataset")
    response = Response(description.serialize(triples, chosen[0]), content_type=negotiation.content_type(chosen[1]))
    response.vary.add("Accept")
    return response


__all__ = ["bp", "void_triples"]
