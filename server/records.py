"""What the JSON API answers, computed from a store: a paper's record and ranked papers.

These are library functions of a store and its extension functions (they run inside an engine
process, under the timeout); every value a user gives is bound by SPARQL substitution, never
pasted into a query.

>>> import pyoxigraph as ox
>>> from ckg import resources
>>> from ckg.terms import CKG, RDF
>>> from ckg.server.functions import registry
>>> store = ox.Store()
>>> store.add(ox.Quad(resources.paper("a"), RDF.type, CKG.Paper, resources.paper_graph("a")))
>>> paper_record(store, registry(store), "a")["counts"]
{'references': 0, 'cited_by': 0}
>>> paper_record(store, registry(store), "nope") is None
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyoxigraph as ox

from ckg import queries, resources
from ckg.sparql import execute, run_named
from ckg.stats import short
from ckg.terms import CKG, RDF, XSD_NS

Functions = dict[ox.NamedNode, Callable]

_NUMBERS = {XSD_NS + t: int for t in ("integer", "int", "long", "short", "nonNegativeInteger", "positiveInteger")}
_NUMBERS.update({XSD_NS + t: float for t in ("double", "float", "decimal")})


def plain(term) -> Any:
    """A term as a plain JSON value: IRIs and strings as text, numbers as numbers, booleans.

    >>> plain(ox.Literal("3", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")))
    3
    >>> plain(ox.NamedNode("https://w3id.org/ckg/resource/paper/x")), plain(None), plain(ox.BlankNode("b1"))
    ('https://w3id.org/ckg/resource/paper/x', None, '_:b1')
    """
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        kind = _NUMBERS.get(term.datatype.value)
        if kind is not None:
            try:
                return kind(term.value)
            except ValueError:
                return term.value
        if term.datatype.value == XSD_NS + "boolean":
            return term.value in ("true", "1")
        return term.value
    return str(term)


def _rows(result) -> list[dict[str, Any]]:
    return [dict(zip(result.variables, row)) for row in result.rows]


def _select(store: ox.Store, functions: Functions, sparql: str, **bindings: ox.NamedNode) -> list[dict[str, Any]]:
    subs = {ox.Variable(k): v for k, v in bindings.items()}
    return _rows(execute(store, sparql, substitutions=subs, custom_functions=functions))


def _key(iri: str) -> str | None:
    return resources.key_of(ox.NamedNode(iri), "paper")


_FIELDS = {
    "dcterms:title": "title", "dcterms:abstract": "abstract", "dcterms:issued": "issued",
    "ckg:publicationYear": "year", "ckg:journalTitle": "journal", "ckg:licenseCode": "license",
    "ckg:hasFullText": "has_full_text",
}
_IDENTIFIERS = {
    "ckg:cordUid": "cord_uid", "bibo:doi": "doi", "bibo:pmid": "pmid", "fabio:hasPubMedCentralId": "pmcid",
    "ckg:arxivId": "arxiv", "ckg:magId": "mag", "ckg:s2Id": "s2", "ckg:whoCovidenceId": "who_covidence",
}
_LISTS = {"ckg:sha": "sha", "ckg:sourceCollection": "sources", "schema:url": "urls", "ckg:sourceFile": "source_files"}


def _subjects(store, functions, paper, prop: str) -> list[dict[str, Any]]:
    # pyoxigraph plans each OPTIONAL group on its own, before ?paper is bound: the edge's paper
    # comes first in it and the property is a FILTER, or the group would start from every
    # annotation node of the property (all the corpus's concept edges) for each row
    rows = _select(store, functions, f"""
        SELECT ?paper ?subject ?label ?match ?weight ?value WHERE {{
          ?paper {prop} ?subject .
          OPTIONAL {{ ?subject skos:prefLabel|rdfs:label ?label }}
          OPTIONAL {{ ?subject skos:exactMatch ?match }}
          OPTIONAL {{ ?annotation ckg:annotatedSource ?paper ; ckg:annotatedTarget ?subject ;
                                  ckg:annotatedProperty ?annotated ; ?weight ?value .
                      FILTER(?annotated = {prop} && isLiteral(?value)) }}
        }} ORDER BY ?subject ?weight ?value""", paper=paper)
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        item = out.setdefault(r["subject"].value, {"iri": r["subject"].value, "label": None, "exact_match": [],
                                                   "weights": {}})
        if r["label"] is not None and item["label"] is None:
            item["label"] = r["label"].value
        if r["match"] is not None and r["match"].value not in item["exact_match"]:
            item["exact_match"].append(r["match"].value)
        if r["weight"] is not None:
            # a weight with several values (ckg:rankedWithin: 10, 100, ...) gives its least, on any engine
            item["weights"].setdefault(short(r["weight"].value), plain(r["value"]))
    return list(out.values())


def paper_record_exists(store: ox.Store, paper: str) -> bool:
    """True when ``paper`` (a key or IRI) is a paper of the store."""
    try:
        iri = resources.paper_from_user(paper)
    except ValueError:
        return False
    return next(iter(store.quads_for_pattern(iri, RDF.type, CKG.Paper, None)), None) is not None


def paper_record(store: ox.Store, functions: Functions, paper: str, *, cited_by_limit: int = 100) -> dict[str, Any] | None:
    """Everything the store says about a paper (by key or IRI), or None when it is not a paper.

    Its metadata and identifiers, authors in order with the institutions they gave, concepts and
    topics (with their labels, exact matches and edge weights), the papers it cites, the papers
    citing it (at most ``cited_by_limit`` of them, newest first), counts and PageRank.
    """
    try:
        iri = resources.paper_from_user(paper)
    except ValueError:  # not even an IRI: not a paper of this store
        return None
    is_paper = _select(store, functions, "SELECT ?paper WHERE { ?paper a ckg:Paper } LIMIT 1", paper=iri)
    if not is_paper:
        return None
    record: dict[str, Any] = {"iri": iri.value, "key": _key(iri.value)}
    record.update({v: None for v in _FIELDS.values()})
    record["identifiers"] = {}
    record.update({v: [] for v in _LISTS.values()})
    for r in _select(store, functions, """SELECT ?paper ?p ?o WHERE { ?paper ?p ?o
            FILTER(?p NOT IN (ckg:bodyText, rdf:type, ckg:citedBy, ckg:cites, cito:cites, cito:isCitedBy,
                              ckg:authoredBy, dcterms:creator, ckg:associatedConcept, ckg:associatedTopic,
                              dcterms:subject, ckg:firstSeenIn, ckg:lastUpdatedIn, ckg:pageRankScore)) }
            ORDER BY ?p ?o""", paper=iri):
        name = short(r["p"].value)
        if name in _FIELDS:
            record[_FIELDS[name]] = plain(r["o"])
        elif name in _IDENTIFIERS:
            record["identifiers"][_IDENTIFIERS[name]] = plain(r["o"])
        elif name in _LISTS:
            record[_LISTS[name]].append(plain(r["o"]))
    releases = _select(store, functions, """SELECT ?paper ?first ?last WHERE {
        OPTIONAL { ?paper ckg:firstSeenIn/ckg:releaseLabel ?first } OPTIONAL { ?paper ckg:lastUpdatedIn/ckg:releaseLabel ?last } }""",
                       paper=iri)
    record["first_release"] = plain(releases[0]["first"]) if releases else None
    record["last_release"] = plain(releases[0]["last"]) if releases else None

    authors: dict[int, dict[str, Any]] = {}
    for r in _rows(run_named(store, queries.get("paper-authors"), {"paper": iri.value})):
        position = plain(r["position"])
        author = authors.setdefault(position, {"position": position, "iri": r["author"].value,
                                               "key": resources.key_of(r["author"], "author"),
                                               "name": plain(r["name"]), "institutions": []})
        if r["institution"] is not None:
            author["institutions"].append({"iri": r["institution"].value, "name": plain(r["institutionName"]),
                                           "country": plain(r["country"])})
    record["authors"] = [authors[p] for p in sorted(authors)]
    record["concepts"] = _subjects(store, functions, iri, "ckg:associatedConcept")
    record["topics"] = _subjects(store, functions, iri, "ckg:associatedTopic")

    def papers(rows, column):
        return [{"iri": r[column].value, "key": _key(r[column].value), "title": plain(r["title"]),
                 "year": plain(r["year"])} for r in rows]

    references = _rows(run_named(store, queries.get("paper-references"), {"paper": iri.value}))
    citing = _rows(run_named(store, queries.get("paper-cited-by"), {"paper": iri.value}))
    citing.sort(key=lambda r: (-(plain(r["year"]) or 0), r["citing"].value))
    record["references"] = papers(references, "cited")
    record["cited_by"] = papers(citing[:cited_by_limit], "citing")
    record["counts"] = {"references": len(references), "cited_by": len(citing)}
    record["cited_by_truncated"] = len(citing) > cited_by_limit
    scores = _select(store, functions, "SELECT ?paper (ckg:pageRank(?paper) AS ?rank) WHERE {}", paper=iri)
    record["pagerank"] = plain(scores[0]["rank"]) if scores else None
    return record


ORDERS = ("about", "citations", "pagerank")


def rank_papers(store: ox.Store, functions: Functions, *, concept: str | None = None, topic: str | None = None,
                k: int = 10, order: str = "about") -> dict[str, Any]:
    """The k most-cited papers associated with a concept and/or a topic.

    ``citations`` counts every citing paper, ``citations_about`` only the citing papers that are
    themselves associated with the concept and the topic (``ckg:citationCountAbout``); ``order``
    ranks by ``about`` (that customised count, the default), ``citations`` or ``pagerank``. A
    concept or topic is a key, an IRI, or an IRI a concept is skos:exactMatch to (a MeSH id).
    Without concept and topic, every paper is ranked by its citations.

    The work follows the answer: the walk starts from the concept and topic (bound first, see
    ``queries/paper-authors.rq``), and citations are each paper's materialised ``ckg:citedByCount``
    (:mod:`ckg.etl.signals`). Without concept and topic, by citations, the first k papers are read
    by their materialised place (``ckg:citedByTop``, a power of ten) and only they are sorted; by
    PageRank, only the cited papers are ranked first:
    every one of them is ahead of every uncited paper in each order (more citations; a PageRank
    above the uncited papers' common minimum), so when they fill the k places the answer is
    theirs, and only a corpus with fewer than k cited papers ranks all papers.
    """
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    bindings: dict[str, ox.NamedNode] = {}
    starts: list[str] = []
    patterns: list[str] = []
    about = []

    def subject(kind: str, value: str) -> ox.NamedNode:
        try:
            return resources.from_user(kind, value)
        except ValueError as exc:
            raise ValueError(f"{kind} must be a key or an IRI, got {value!r} ({exc})") from None

    if concept:
        bindings["concept"] = subject("concept", concept)
        starts.append("BIND (COALESCE(?concept, rdf:nil) AS ?thisConcept)")
        patterns.append("?paper ckg:associatedConcept/skos:exactMatch? ?thisConcept .")
        about.append("?concept")
    if topic:
        bindings["topic"] = subject("topic", topic)
        starts.append("BIND (COALESCE(?topic, rdf:nil) AS ?thisTopic)")
        patterns.append("?paper ckg:associatedTopic/skos:exactMatch? ?thisTopic .")
        about.append("?topic")
    about_count = f"ckg:citationCountAbout(?paper, {', '.join(about)})" if about else "?citations"
    sort = {"about": "DESC(?citations_about) DESC(?citations)", "citations": "DESC(?citations) DESC(?citations_about)",
            "pagerank": "DESC(?pagerank)"}[order]
    projection = " ".join(f"?{name}" for name in bindings)

    def ranked(candidates: list[str]):
        sparql = f"""SELECT DISTINCT {projection} ?paper ?title ?year ?citations ?citations_about ?pagerank WHERE {{
            {' '.join(starts)}
            {' '.join(candidates)}
            ?paper a ckg:Paper .
            OPTIONAL {{ ?paper dcterms:title ?title }}
            OPTIONAL {{ ?paper ckg:publicationYear ?year }}
            OPTIONAL {{ ?paper ckg:citedByCount ?cited }}
            BIND(COALESCE(?cited, 0) AS ?citations)
            BIND({about_count} AS ?citations_about)
            BIND(ckg:pageRank(?paper) AS ?pagerank)
        }} ORDER BY {sort} ?paper"""
        return _rows(execute(store, sparql, substitutions={ox.Variable(n): v for n, v in bindings.items()},
                             custom_functions=functions, limit=k))

    if about:
        rows = ranked(patterns)
    else:
        if order == "pagerank":
            rows = ranked(["?paper ckg:citedByCount ?count ."])
        else:  # the most-cited order: the first k papers are those whose ckg:citedByTop is at most k rounded up
            bounds = [10]
            while bounds[-1] < k:
                bounds.append(bounds[-1] * 10)
            rows = ranked([f"VALUES ?top {{ {' '.join(map(str, bounds))} }} ?paper ckg:citedByTop ?top ."])
        if len(rows) < k:
            rows = ranked([])
    papers = []
    for r in rows:
        papers.append({"iri": r["paper"].value, "key": _key(r["paper"].value), "title": plain(r["title"]),
                       "year": plain(r["year"]), "citations": plain(r["citations"]),
                       "citations_about": plain(r["citations_about"]), "pagerank": plain(r["pagerank"])})
    return {"concept": bindings["concept"].value if "concept" in bindings else None,
            "topic": bindings["topic"].value if "topic" in bindings else None,
            "k": k, "order": order, "papers": papers}
