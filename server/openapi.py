"""The OpenAPI 3 description of the JSON API and of the SPARQL endpoint (``/api/openapi.json``).

Each named query gets its own path with its typed parameters, read from the ``.rq`` headers.

>>> doc = document("http://localhost:8000")
>>> doc["openapi"], sorted(doc["paths"])[:4]
('3.0.3', ['/-/about.json', '/.well-known/void', '/api', '/api/openapi.json'])
>>> [p["name"] for p in doc["paths"]["/api/queries/paper-authors"]["get"]["parameters"]][:1]
['paper']
"""

from __future__ import annotations

from typing import Any

import ckg
from ckg import queries
from ckg.server.negotiation import GRAPH, SOLUTIONS, offered
from ckg.server.functions import SIMILARITY_KINDS
from ckg.server.records import ORDERS

_TYPES = {"integer": {"type": "integer"}, "decimal": {"type": "number"}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _text_error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}}


def _param(name: str, where: str, description: str, schema: dict | None = None, required: bool = False,
           **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": where, "description": description, "required": required or where == "path",
            "schema": schema or {"type": "string"}, **extra}


def _named_query_operation(q: queries.NamedQuery | None, max_rows: int) -> dict[str, Any]:
    params = []
    if q is None:
        params.append(_param("name", "path", "The named query (see /api/queries).",
                             {"type": "string", "enum": queries.names()}))
    else:
        for p in q.params:
            schema = dict(_TYPES.get(p.type, {"type": "string"}))
            if p.default is not None:
                schema["default"] = int(p.default) if p.type == "integer" else p.default
            if p.choices:
                schema["enum"] = [int(c) if p.type == "integer" else c for c in p.choices]
            kind = {"paper": " A paper key or IRI.", "author": " An author key or IRI.",
                    "institution": " An institution key or IRI.", "iri": " An IRI."}.get(p.type, "")
            params.append(_param(p.name, "query", p.description + kind, schema, required=p.required))
    params += [
        _param("_format", "query", "json: objects (default); sparql-json, sparql-xml, csv, tsv: SPARQL results formats.",
               {"type": "string", "enum": ["json", "sparql-json", "sparql-xml", "csv", "tsv"], "default": "json"}),
        _param("_limit", "query", "At most this many rows.", {"type": "integer", "minimum": 0, "maximum": max_rows}),
    ]
    return {"get": {
        "summary": q.summary if q else "Run a named query with its parameters",
        "operationId": f"query_{q.name.replace('-', '_')}" if q else "named_query",
        "tags": ["named queries"],
        "parameters": params,
        "responses": {
            "200": {"description": "The rows", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/QueryResult"}},
                "application/sparql-results+json": {"schema": {"type": "object"}},
                "application/sparql-results+xml": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
                "text/tab-separated-values": {"schema": {"type": "string"}}}},
            "400": _error("A missing, unknown or malformed parameter"),
            "404": _error("No such named query"),
            "503": _error("The query ran past the timeout"),
        },
    }}


def document(server_url: str, *, max_rows: int = 10000) -> dict[str, Any]:
    """The OpenAPI document for a server at ``server_url``."""
    paper_schema = {"type": "object", "properties": {
        "iri": {"type": "string"}, "key": {"type": "string"}, "title": {"type": "string", "nullable": True},
        "abstract": {"type": "string", "nullable": True}, "issued": {"type": "string", "nullable": True},
        "year": {"type": "integer", "nullable": True}, "journal": {"type": "string", "nullable": True},
        "license": {"type": "string", "nullable": True}, "has_full_text": {"type": "boolean", "nullable": True},
        "identifiers": {"type": "object", "additionalProperties": {"type": "string"}},
        "sha": {"type": "array", "items": {"type": "string"}},
        "sources": {"type": "array", "items": {"type": "string"}},
        "urls": {"type": "array", "items": {"type": "string"}},
        "source_files": {"type": "array", "items": {"type": "string"}},
        "first_release": {"type": "string", "nullable": True}, "last_release": {"type": "string", "nullable": True},
        "authors": {"type": "array", "items": {"type": "object"}},
        "concepts": {"type": "array", "items": {"$ref": "#/components/schemas/Subject"}},
        "topics": {"type": "array", "items": {"$ref": "#/components/schemas/Subject"}},
        "references": {"type": "array", "items": {"$ref": "#/components/schemas/PaperRef"}},
        "cited_by": {"type": "array", "items": {"$ref": "#/components/schemas/PaperRef"}},
        "cited_by_truncated": {"type": "boolean"},
        "counts": {"type": "object", "properties": {"references": {"type": "integer"}, "cited_by": {"type": "integer"}}},
        "pagerank": {"type": "number", "nullable": True},
    }}
    paper_get = {
        "summary": "A paper: metadata, authors, concepts, topics, references, citing papers, counts",
        "tags": ["papers"],
        "parameters": [
            _param("paper", "path", "A paper key (cord_uid, SHA-1, PMC id) or its IRI (URL-encoded)."),
            _param("cited_by_limit", "query", "At most this many citing papers are listed (newest first).",
                   {"type": "integer", "minimum": 0, "default": 100}),
        ],
        "responses": {"200": {"description": "The paper", "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Paper"}}}},
            "404": _error("No such paper"), "503": _error("The lookup ran past the timeout")},
    }
    sparql_params = [
        _param("default-graph-uri", "query", "A graph of the default graph (repeatable); replaces the union of all graphs.",
               explode=True),
        _param("named-graph-uri", "query", "A named graph of the dataset (repeatable).", explode=True),
        _param("format", "query", "The result format (json, xml, csv, tsv, turtle, ntriples, jsonld, rdfxml or a "
                                  "media type); overrides Accept."),
    ]
    results = {m: {"schema": {"type": "string"}} for m in offered(SOLUTIONS)[:4] + offered(GRAPH)[:4]}
    sparql_responses = {
        "200": {"description": "The results (SELECT/ASK: SPARQL JSON by default; CONSTRUCT/DESCRIBE: Turtle)",
                "headers": {"X-CKG-Truncated": {"description": "true when the result was cut at the row limit",
                                                "schema": {"type": "string"}}},
                "content": results},
        "400": _text_error("A malformed query (the parser's message) or a SERVICE that cannot be checked"),
        "403": _text_error("A SERVICE endpoint off the allowlist, or an update on a read-only endpoint"),
        "406": _text_error("No acceptable result format"),
        "415": _text_error("A POST body type other than application/sparql-query, application/sparql-update "
                           "or application/x-www-form-urlencoded"),
        "503": _text_error("The query ran past the timeout and was stopped"),
    }
    rdf = {media_type: {"schema": {"type": "string"}} for media_type in
           ("text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml")}
    paths: dict[str, Any] = {
        "/sparql": {
            "get": {"summary": "SPARQL 1.1 query (without a query: the service description, Turtle by default)",
                    "tags": ["SPARQL"], "operationId": "sparql_get",
                    "parameters": [_param("query", "query", "The SPARQL query; without it, the service description.",
                                          example="ASK { ?s ?p ?o }")] + sparql_params,
                    "responses": sparql_responses},
            "post": {"summary": "SPARQL 1.1 query or update", "tags": ["SPARQL"], "operationId": "sparql_post",
                     "parameters": sparql_params,
                     "requestBody": {"required": True, "content": {
                         "application/sparql-query": {"schema": {"type": "string"}},
                         "application/sparql-update": {"schema": {"type": "string"}},
                         "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
                             "query": {"type": "string"}, "update": {"type": "string"},
                             "default-graph-uri": {"type": "string"}, "named-graph-uri": {"type": "string"}}}}}},
                     "responses": {**sparql_responses,
                                   "204": {"description": "The update was applied"},
                                   "401": _text_error("An update without the right bearer token")}},
        },
        "/api": {"get": {"summary": "Links to what the API offers", "tags": ["meta"], "operationId": "api_index",
                         "responses": {"200": {"description": "Links", "content": {"application/json": {
                             "schema": {"type": "object"}}}}}}},
        "/api/openapi.json": {"get": {"summary": "This document", "tags": ["meta"], "operationId": "openapi",
                                      "responses": {"200": {"description": "OpenAPI 3", "content": {
                                          "application/json": {"schema": {"type": "object"}}}}}}},
        "/api/papers/{paper}": {"get": {**paper_get, "operationId": "paper"}},
        "/papers/{paper}.json": {"get": {**paper_get, "operationId": "paper_page_json",
                                         "summary": "The JSON twin of the paper page /papers/{paper}"}},
        "/api/papers/{paper}/similar": {"get": {
            "summary": "The papers most similar to a paper (text and knowledge-graph embeddings, cosine)",
            "tags": ["papers"], "operationId": "similar",
            "parameters": [
                _param("paper", "path", "A paper key (cord_uid, SHA-1, PMC id) or its IRI (URL-encoded)."),
                _param("k", "query", "How many papers.", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10}),
                _param("mode", "query", "combined: text and graph vectors concatenated (default); text; graph.",
                       {"type": "string", "enum": list(SIMILARITY_KINDS), "default": "combined"}),
            ],
            "responses": {"200": {"description": "The similar papers, best first", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Similar"}}}},
                "400": _error("A malformed parameter"), "404": _error("No such paper"),
                "409": _error("The store has no embeddings yet (run `ckg train`), the paper was added after the "
                              "last training, or it has no vector in that mode"),
                "503": _error("The search ran past the timeout")}}},
        "/api/search": {"get": {
            "summary": "The papers that best answer a query: BM25 and the text embeddings fused, the graph as a prior",
            "tags": ["papers"], "operationId": "search",
            "parameters": [
                _param("q", "query", "The query text (words; no syntax).", {"type": "string", "maxLength": 2000},
                       required=True),
                _param("k", "query", "How many papers.", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10}),
                _param("mode", "query", "fused (default), lexical (BM25), semantic (embeddings) or bm25 (the plain "
                                        "baseline).", {"type": "string", "enum": ["fused", "lexical", "semantic", "bm25"],
                                                       "default": "fused"}),
                _param("concept", "query", "Only papers with this concept (key or IRI, or an IRI it matches: MeSH)."),
                _param("topic", "query", "Only papers with this topic (key or IRI)."),
                _param("year", "query", "Only papers of this publication year.", {"type": "integer"}),
                _param("prior", "query", "Weight of the graph prior (citations, PageRank, concepts the query names); "
                                         "default: the server's CKG_SEARCH_PRIOR.", {"type": "number", "minimum": 0}),
            ],
            "responses": {"200": {"description": "The papers, best first, with their scores", "content": {
                "application/json": {"schema": {"type": "object"}}}},
                "400": _error("An empty query or a malformed parameter"),
                "409": _error("The release has no search index (`ckg search reindex` or the next update writes it)"),
                "503": _error("The search ran past the timeout")}}},
        "/api/rank": {"get": {
            "summary": "The most-cited papers with a concept and/or topic, with customised citation counts",
            "tags": ["papers"], "operationId": "rank",
            "parameters": [
                _param("concept", "query", "A concept key or IRI, or an IRI a concept is skos:exactMatch to (MeSH)."),
                _param("topic", "query", "A topic key or IRI."),
                _param("k", "query", "How many papers.", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10}),
                _param("order", "query", "about: citations by papers with the same concept/topic (default); "
                                         "citations: all citations; pagerank.",
                       {"type": "string", "enum": list(ORDERS), "default": "about"}),
            ],
            "responses": {"200": {"description": "The ranking", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Ranking"}}}},
                "400": _error("A malformed parameter"), "503": _error("The ranking ran past the timeout")}}},
        "/api/queries": {"get": {"summary": "The named queries and their parameters", "tags": ["named queries"],
                                 "operationId": "list_queries",
                                 "responses": {"200": {"description": "The named queries", "content": {
                                     "application/json": {"schema": {"type": "array", "items": {
                                         "$ref": "#/components/schemas/NamedQuery"}}}}}}}},
        "/api/queries/{name}": _named_query_operation(None, max_rows),
        "/resource/{rest}": {"get": {
            "summary": "A ckg IRI (https://w3id.org/ckg/resource/{rest}) dereferenced: its triples as RDF by Accept "
                       "(or a .ttl/.nt/.jsonld/.rdf suffix); a browser is sent to the node's page",
            "tags": ["linked data"], "operationId": "resource",
            "parameters": [_param("rest", "path", "The IRI's path under the resource base, e.g. paper/ug7v899j.")],
            "responses": {"200": {"description": "The triples whose subject is the IRI", "content": rdf},
                          "303": {"description": "A paper's page (for a browser)"},
                          "400": _text_error("Not an IRI"), "404": _text_error("The store has nothing about it"),
                          "406": _text_error("No acceptable format")}}},
        "/store": {"get": {
            "summary": "SPARQL 1.1 Graph Store Protocol, read-only: a named graph (?graph=IRI) or the default "
                       "graph (?default), cut at the row limit",
            "tags": ["linked data"], "operationId": "graph_store",
            "parameters": [_param("graph", "query", "The IRI of a named graph."),
                           _param("default", "query", "Present: the default graph (the union of the graphs).",
                                  allowEmptyValue=True)],
            "responses": {"200": {"description": "The graph", "content": rdf},
                          "400": _text_error("Neither or both of graph and default, or a malformed IRI"),
                          "404": _text_error("No such graph"), "405": _text_error("A write: the store is read-only here"),
                          "406": _text_error("No acceptable format")}}},
        "/.well-known/void": {"get": {
            "summary": "The VoID description of the dataset (counts of the last build or update)",
            "tags": ["linked data"], "operationId": "void",
            "responses": {"200": {"description": "VoID", "content": rdf}, "406": _text_error("No acceptable format")}}},
        "/-/about.json": {"get": {"summary": "Versions, configuration (without secrets), store statistics",
                                  "tags": ["meta"], "operationId": "about",
                                  "responses": {"200": {"description": "About this server", "content": {
                                      "application/json": {"schema": {"type": "object"}}}}}}},
    }
    for q in queries.all_queries():
        paths[f"/api/queries/{q.name}"] = _named_query_operation(q, max_rows)
    return {
        "openapi": "3.0.3",
        "info": {"title": "ckg API", "version": ckg.__version__,
                 "description": "The JSON API and SPARQL 1.1 endpoint of ckg, a knowledge graph of the CORD-19 "
                                "literature. Every value is bound into SPARQL by substitution."},
        "servers": [{"url": server_url}],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error", "status"],
                      "properties": {"error": {"type": "string"}, "status": {"type": "integer"}}},
            "Paper": paper_schema,
            "PaperRef": {"type": "object", "properties": {"iri": {"type": "string"}, "key": {"type": "string"},
                                                          "title": {"type": "string", "nullable": True},
                                                          "year": {"type": "integer", "nullable": True}}},
            "Subject": {"type": "object", "properties": {"iri": {"type": "string"},
                                                         "label": {"type": "string", "nullable": True},
                                                         "exact_match": {"type": "array", "items": {"type": "string"}},
                                                         "weights": {"type": "object"}}},
            "Ranking": {"type": "object", "properties": {
                "concept": {"type": "string", "nullable": True}, "topic": {"type": "string", "nullable": True},
                "k": {"type": "integer"}, "order": {"type": "string"},
                "papers": {"type": "array", "items": {"type": "object", "properties": {
                    "iri": {"type": "string"}, "key": {"type": "string"}, "title": {"type": "string", "nullable": True},
                    "year": {"type": "integer", "nullable": True}, "citations": {"type": "integer"},
                    "citations_about": {"type": "integer"}, "pagerank": {"type": "number", "nullable": True}}}}}},
            "Similar": {"type": "object", "properties": {
                "paper": {"type": "string"}, "iri": {"type": "string"}, "mode": {"type": "string"},
                "k": {"type": "integer"}, "run": {"type": "string", "description": "The embedding run answering"},
                "similar": {"type": "array", "items": {"type": "object", "properties": {
                    "rank": {"type": "integer"}, "paper": {"type": "string"}, "iri": {"type": "string"},
                    "score": {"type": "number", "description": "Cosine (combined: the weighted mean of the "
                                                               "text and graph cosines)"},
                    "title": {"type": "string"}}}}}},
            "NamedQuery": {"type": "object", "properties": {
                "name": {"type": "string"}, "summary": {"type": "string"}, "form": {"type": "string"},
                "params": {"type": "array", "items": {"type": "object"}}, "sparql": {"type": "string"},
                "url": {"type": "string"}}},
            "QueryResult": {"type": "object", "properties": {
                "query": {"type": "string"}, "summary": {"type": "string"}, "params": {"type": "object"},
                "columns": {"type": "array", "items": {"type": "string"}},
                "rows": {"type": "array", "items": {"type": "object"}}, "count": {"type": "integer"},
                "truncated": {"type": "boolean"}, "limit": {"type": "integer"}}},
        }},
    }
