"""The records of the entity pages: a concept, an author, a topic, an institution, and what a
paper's page shows beyond its API record (its concepts grouped by kind, by confidence).

Like :mod:`ckg.server.records`, these are library functions of a store and its extension
functions (they run inside an engine process, under the timeout); the entity is bound by SPARQL
substitution, never pasted into a query, and each walk starts from it. Each record is what its
page shows and what its JSON twin (``/concepts/<key>.json``, ...) answers.

>>> import pyoxigraph as ox
>>> from ckg.server.functions import registry
>>> store = ox.Store()
>>> concept_record(store, registry(store), "nope") is None
True
>>> vocabulary_links(["MESH:D011014", "DOID:552", "UMLS:C0032285"], ["D011014"])[:2]
[{'vocabulary': 'MeSH', 'id': 'D011014', 'url': 'https://meshb.nlm.nih.gov/record/ui?ui=D011014'}, {'vocabulary': 'DOID', 'id': 'DOID:552', 'url': 'https://disease-ontology.org/?id=DOID:552'}]
"""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox

from ckg import queries, resources
from ckg.server.records import Functions, _rows, _select, plain, rank_papers
from ckg.sparql import run_named
from ckg.terms import PREFIXES

_CKG = PREFIXES["ckg"]

KINDS = {
    "MedicalCondition": "condition", "ChemicalOrDrug": "chemical or drug", "TestTreatmentProcedure": "test, treatment or procedure",
    "Organism": "organism", "Anatomy": "anatomy", "PhenomenonOrOther": "phenomenon or other",
}
"""The concept kinds (classes under ckg:Concept, :mod:`ckg.etl.vocab.kinds`) and their names on the pages."""
_KIND_FILTER = "FILTER (?kind IN (" + ", ".join(f"ckg:{k}" for k in KINDS) + "))"
ENTITY_KINDS = ("concept", "author", "topic", "institution")
"""The kinds of resource with a page of their own (besides papers)."""

MOST_CITED = 10
COOCCURRING = 20
COAUTHORS = 20
TOP_CONCEPTS = 15
LISTED = 200
"""At most this many papers or authors are listed on a page (the counts say how many there are)."""


def _kind_name(iri: str | None) -> str | None:
    return iri.rsplit("#", 1)[-1] if iri else None


def _key(iri: str, kind: str) -> str | None:
    return resources.key_of(ox.NamedNode(iri), kind)


def _entity(kind: str, value: str, cls: str, store: ox.Store, functions: Functions) -> ox.NamedNode | None:
    """The IRI of a ``kind`` (a key or IRI) when the store has it as a ``cls``, else None."""
    try:
        iri = resources.from_user(kind, value)
    except ValueError:
        return None
    found = _select(store, functions, f"SELECT ?this WHERE {{ ?this a {cls} }} LIMIT 1", this=iri)
    return iri if found else None


def vocabulary_links(notations: list[str], mesh_ids: list[str]) -> list[dict[str, str | None]]:
    """A concept's identifiers in outside vocabularies, each with the page that describes it
    (MeSH Browser, Disease Ontology), others without a link."""
    out: list[dict[str, str | None]] = []
    seen = set()
    for mesh in mesh_ids:
        seen.add(f"MESH:{mesh}")
        out.append({"vocabulary": "MeSH", "id": mesh,
                    "url": f"https://meshb.nlm.nih.gov/record/ui?ui={quote(mesh, safe='')}"})
    for curie in notations:
        if curie in seen or ":" not in curie:
            continue
        seen.add(curie)
        prefix, local = curie.split(":", 1)
        if prefix == "MESH":
            out.append({"vocabulary": "MeSH", "id": local,
                        "url": f"https://meshb.nlm.nih.gov/record/ui?ui={quote(local, safe='')}"})
        elif prefix == "DOID":
            out.append({"vocabulary": "DOID", "id": curie, "url": f"https://disease-ontology.org/?id={quote(curie, safe=':')}"})
        else:
            out.append({"vocabulary": prefix, "id": curie, "url": None})
    return out


def _per_year(store: ox.Store, functions: Functions, pattern: str, **bindings: ox.NamedNode) -> list[dict[str, Any]]:
    """Papers per publication year of the papers ``pattern`` finds (``?paper``), oldest first; the
    papers without a year last, as year None."""
    bound = " ".join(f"?{name}" for name in bindings)  # a substituted variable is projected
    rows = _select(store, functions, f"""SELECT {bound} ?year (COUNT(DISTINCT ?paper) AS ?papers) WHERE {{
        {pattern}
        OPTIONAL {{ ?paper ckg:publicationYear ?year }}
    }} GROUP BY {bound} ?year""", **bindings)
    out = [{"year": plain(r["year"]), "papers": plain(r["papers"])} for r in rows]
    return sorted(out, key=lambda r: (r["year"] is None, r["year"] or 0))


def _ranked(store: ox.Store, functions: Functions, **subject: str) -> list[dict[str, Any]]:
    """The most-cited papers with a concept or topic (the ranking of ``/api/rank``)."""
    return rank_papers(store, functions, k=MOST_CITED, order="about", **subject)["papers"]


def _paper(iri: str, title: Any, year: Any, **more: Any) -> dict[str, Any]:
    return {"iri": iri, "key": _key(iri, "paper"), "title": title, "year": year, **more}


def concept_record(store: ox.Store, functions: Functions, concept: str) -> dict[str, Any] | None:
    """A concept: its label, kind, other names, identifiers (with links to MeSH and DOID), its
    papers per year, its most-cited papers and the concepts that co-occur most with it."""
    iri = _entity("concept", concept, "ckg:Concept", store, functions)
    if iri is None:
        return None
    record: dict[str, Any] = {"iri": iri.value, "key": _key(iri.value, "concept"), "label": None, "kind": None,
                              "kind_label": None, "alt_labels": [], "notations": [], "mesh_ids": [], "umls": [],
                              "exact_match": [], "mesh_tree": []}
    for r in _select(store, functions, """SELECT ?concept ?p ?o WHERE { ?concept ?p ?o
            FILTER(?p IN (skos:prefLabel, rdfs:label, skos:altLabel, skos:notation, ckg:meshId, ckg:meshTreeNumber, ckg:umlsCui,
                          skos:exactMatch, rdf:type)) } ORDER BY ?p ?o""", concept=iri):
        p, o = r["p"].value.rsplit("#", 1)[-1], r["o"]
        if p in ("prefLabel", "label"):
            record["label"] = record["label"] or o.value
        elif p == "altLabel" and o.value not in record["alt_labels"]:
            record["alt_labels"].append(o.value)
        elif p == "notation":
            record["notations"].append(o.value)
        elif p == "meshId":
            record["mesh_ids"].append(o.value)
        elif p == "meshTreeNumber":
            record["mesh_tree"].append({"number": o.value, "path": []})
        elif p == "umlsCui":
            record["umls"].append(o.value)
        elif p == "exactMatch":
            record["exact_match"].append(o.value)
        elif p == "type" and o.value.startswith(_CKG) and _kind_name(o.value) in KINDS:
            record["kind"] = _kind_name(o.value)
            record["kind_label"] = KINDS[record["kind"]]
    record["vocabularies"] = vocabulary_links(record["notations"], record["mesh_ids"])
    _tree_paths(store, functions, record["mesh_tree"])
    pattern = "BIND (COALESCE(?concept, rdf:nil) AS ?this) ?paper ckg:associatedConcept ?this ."
    record["papers_per_year"] = _per_year(store, functions, pattern, concept=iri)
    record["paper_count"] = sum(y["papers"] for y in record["papers_per_year"])
    record["most_cited"] = _ranked(store, functions, concept=iri.value)
    record["cooccurring"] = [
        {"iri": r["other"].value, "key": _key(r["other"].value, "concept"), "label": plain(r["label"]),
         "kind": _kind_name(r["kind"].value), "papers": plain(r["papers"])}
        for r in _select(store, functions, f"""SELECT ?concept ?other ?label ?kind (COUNT(DISTINCT ?paper) AS ?papers) WHERE {{
            BIND (COALESCE(?concept, rdf:nil) AS ?this)
            ?paper ckg:associatedConcept ?this , ?other .
            FILTER (?other != ?this)
            ?other skos:prefLabel ?label ; a ?kind .
            {_KIND_FILTER}
        }} GROUP BY ?concept ?other ?label ?kind ORDER BY DESC(?papers) ?label ?other LIMIT {COOCCURRING}""", concept=iri)]
    return record


def _tree_paths(store: ox.Store, functions: Functions, trees: list[dict[str, Any]]) -> None:
    """Each MeSH tree number's ancestors (C01, C01.925, ...) with the store's concept at each, where
    it has one: the concept's position in the MeSH hierarchy."""
    ancestors = {".".join(t["number"].split(".")[:i]) for t in trees for i in range(1, t["number"].count(".") + 1)}
    if not ancestors:
        return
    values = " ".join(ox.Literal(a).__str__() for a in sorted(ancestors))
    found: dict[str, dict[str, Any]] = {}
    for r in _select(store, functions, f"""SELECT ?number ?concept ?label WHERE {{
            VALUES ?number {{ {values} }} ?concept ckg:meshTreeNumber ?number ; skos:prefLabel ?label }}"""):
        found.setdefault(r["number"].value, {"iri": r["concept"].value, "key": _key(r["concept"].value, "concept"),
                                             "label": plain(r["label"])})
    for t in trees:
        parts = t["number"].split(".")
        t["path"] = [{"number": ".".join(parts[:i]), **found.get(".".join(parts[:i]), {})}
                     for i in range(1, len(parts))]


def author_record(store: ox.Store, functions: Functions, author: str) -> dict[str, Any] | None:
    """An author: name, institutions, papers (newest first, with the author's position), papers
    per year, co-authors (named query ``author-coauthors``) and the concepts of their papers."""
    iri = _entity("author", author, "ckg:Author", store, functions)
    if iri is None:
        return None
    record: dict[str, Any] = {"iri": iri.value, "key": _key(iri.value, "author"), "name": None}
    names = _select(store, functions, """SELECT ?author ?name ?given ?family WHERE {
        OPTIONAL { ?author foaf:name ?name } OPTIONAL { ?author foaf:givenName ?given }
        OPTIONAL { ?author foaf:familyName ?family } } LIMIT 1""", author=iri)
    if names:
        record.update(name=plain(names[0]["name"]), given_name=plain(names[0]["given"]),
                      family_name=plain(names[0]["family"]))
    record["institutions"] = [
        {"iri": r["institution"].value, "key": _key(r["institution"].value, "institution"), "name": plain(r["name"]),
         "country": plain(r["country"])}
        for r in _select(store, functions, """SELECT DISTINCT ?author ?institution ?name ?country WHERE {
            ?author ckg:affiliatedWith ?institution .
            OPTIONAL { ?institution foaf:name ?name } OPTIONAL { ?institution ckg:country ?country }
        } ORDER BY ?name ?institution""", author=iri)]
    papers: dict[str, dict[str, Any]] = {}
    for r in _rows(run_named(store, queries.get("author-papers"), {"author": iri.value})):
        papers.setdefault(r["paper"].value, _paper(r["paper"].value, plain(r["title"]), plain(r["year"]),
                                                   position=plain(r["position"])))
    _list_papers(record, list(papers.values()))
    record["coauthors"] = [
        {"iri": r["coauthor"].value, "key": _key(r["coauthor"].value, "author"), "name": plain(r["name"]),
         "shared": plain(r["shared"])}
        for r in _rows(run_named(store, queries.get("author-coauthors"), {"author": iri.value}))[:COAUTHORS]]
    record["top_concepts"], record["top_topics"] = _top_subjects(store, functions, "author", iri,
                                                                 "?paper ckg:authoredBy ?this .")
    return record


def _list_papers(record: dict[str, Any], listed: list[dict[str, Any]]) -> None:
    """An author's or institution's papers on its record: how many, the first :data:`LISTED`,
    and papers per year (undated last)."""
    record["paper_count"] = len(listed)
    record["papers"] = listed[:LISTED]
    years = Counter(p["year"] for p in listed)
    record["papers_per_year"] = [{"year": y, "papers": years[y]}
                                 for y in sorted(years, key=lambda y: (y is None, y or 0))]


def _top_subjects(store: ox.Store, functions: Functions, var: str, iri: ox.NamedNode,
                  papers: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The concepts and the topics most of an entity's papers have (``papers`` binds ``?paper``
    from ``?this``, the entity), most papers first."""
    concepts = [
        {"iri": r["concept"].value, "key": _key(r["concept"].value, "concept"), "label": plain(r["label"]),
         "kind": _kind_name(r["kind"].value), "papers": plain(r["papers"])}
        for r in _select(store, functions, f"""SELECT ?{var} ?concept ?label ?kind (COUNT(DISTINCT ?paper) AS ?papers) WHERE {{
            BIND (COALESCE(?{var}, rdf:nil) AS ?this)
            {papers} ?paper ckg:associatedConcept ?concept .
            ?concept skos:prefLabel ?label ; a ?kind .
            {_KIND_FILTER}
        }} GROUP BY ?{var} ?concept ?label ?kind ORDER BY DESC(?papers) ?label ?concept LIMIT {TOP_CONCEPTS}""",
                                 **{var: iri})]
    topics = [
        {"iri": r["topic"].value, "key": _key(r["topic"].value, "topic"), "label": plain(r["label"]),
         "papers": plain(r["papers"])}
        for r in _select(store, functions, f"""SELECT ?{var} ?topic ?label (COUNT(DISTINCT ?paper) AS ?papers) WHERE {{
            BIND (COALESCE(?{var}, rdf:nil) AS ?this)
            {papers} ?paper ckg:associatedTopic ?topic .
            OPTIONAL {{ ?topic skos:prefLabel ?label }}
        }} GROUP BY ?{var} ?topic ?label ORDER BY DESC(?papers) ?label ?topic LIMIT {TOP_CONCEPTS}""",
                                 **{var: iri})]
    return concepts, topics


def topic_record(store: ox.Store, functions: Functions, topic: str) -> dict[str, Any] | None:
    """A topic: label, top terms, papers per year, its most-cited papers."""
    iri = _entity("topic", topic, "ckg:Topic", store, functions)
    if iri is None:
        return None
    record: dict[str, Any] = {"iri": iri.value, "key": _key(iri.value, "topic"), "label": None, "top_terms": [],
                              "seed_terms": []}
    rows = _select(store, functions, """SELECT ?topic ?label ?terms ?seeds ?top WHERE {
        OPTIONAL { ?topic skos:prefLabel ?label } OPTIONAL { ?topic ckg:topTerms ?terms }
        OPTIONAL { ?topic ckg:seedTerms ?seeds } OPTIONAL { ?topic ckg:topTopicCount ?top } } LIMIT 1""", topic=iri)
    if rows:
        r = rows[0]
        record["label"] = plain(r["label"])
        record["top_terms"] = [t.strip() for t in (plain(r["terms"]) or "").split(",") if t.strip()]
        record["seed_terms"] = [t.strip() for t in (plain(r["seeds"]) or "").split(",") if t.strip()]
        record["top_topic_of"] = plain(r["top"])
    pattern = "BIND (COALESCE(?topic, rdf:nil) AS ?this) ?paper ckg:associatedTopic ?this ."
    record["papers_per_year"] = _per_year(store, functions, pattern, topic=iri)
    record["paper_count"] = sum(y["papers"] for y in record["papers_per_year"])
    record["most_cited"] = _ranked(store, functions, topic=iri.value)
    return record


def institution_record(store: ox.Store, functions: Functions, institution: str) -> dict[str, Any] | None:
    """An institution: name and place, papers (named query ``institution-papers``, newest
    first), papers per year, and the authors who gave it as affiliation."""
    iri = _entity("institution", institution, "ckg:Institution", store, functions)
    if iri is None:
        return None
    record: dict[str, Any] = {"iri": iri.value, "key": _key(iri.value, "institution"), "name": None}
    rows = _select(store, functions, """SELECT ?institution ?name ?country ?settlement ?region WHERE {
        OPTIONAL { ?institution foaf:name ?name } OPTIONAL { ?institution ckg:country ?country }
        OPTIONAL { ?institution ckg:settlement ?settlement } OPTIONAL { ?institution ckg:region ?region } } LIMIT 1""",
                   institution=iri)
    if rows:
        record.update({k: plain(rows[0][k]) for k in ("name", "country", "settlement", "region")})
    papers: dict[str, dict[str, Any]] = {}
    for r in _rows(run_named(store, queries.get("institution-papers"), {"institution": iri.value})):
        papers.setdefault(r["paper"].value, _paper(r["paper"].value, plain(r["title"]), plain(r["year"]),
                                                   authors=plain(r["authors"])))
    _list_papers(record, list(papers.values()))
    authors = [{"iri": r["author"].value, "key": _key(r["author"].value, "author"), "name": plain(r["name"]),
                "papers": plain(r["papers"])}
               for r in _select(store, functions, """SELECT ?institution ?author ?name (COUNT(DISTINCT ?paper) AS ?papers) WHERE {
                   BIND (COALESCE(?institution, rdf:nil) AS ?this)
                   ?authorship ckg:statedAffiliation ?this ; ckg:annotatedSource ?paper ; ckg:annotatedTarget ?author .
                   OPTIONAL { ?author foaf:name ?name }
               } GROUP BY ?institution ?author ?name ORDER BY DESC(?papers) ?name ?author""", institution=iri)]
    record["author_count"] = len(authors)
    record["authors"] = authors[:LISTED]
    record["top_concepts"], record["top_topics"] = _top_subjects(
        store, functions, "institution", iri, "?authorship ckg:statedAffiliation ?this ; ckg:annotatedSource ?paper .")
    return record


RECORDS = {"concept": concept_record, "author": author_record, "topic": topic_record,
           "institution": institution_record}


def concept_groups(store: ox.Store, functions: Functions, paper: ox.NamedNode,
                   concepts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A paper's concepts (as its record lists them) grouped by kind, each group most confident
    first and the groups in the order of their most confident concept; a concept without a
    known kind goes to a last group of kind None."""
    kinds: dict[str, str] = {}
    for r in _select(store, functions, f"""SELECT ?paper ?concept ?kind WHERE {{
            BIND (COALESCE(?paper, rdf:nil) AS ?this)
            ?this ckg:associatedConcept ?concept . ?concept a ?kind . {_KIND_FILTER} }}""", paper=paper):
        kinds.setdefault(r["concept"].value, _kind_name(r["kind"].value))
    groups: dict[str | None, list[dict[str, Any]]] = {}
    for c in concepts:
        confidence = c.get("weights", {}).get("ckg:confidence")
        item = {"iri": c["iri"], "key": _key(c["iri"], "concept"), "label": c.get("label"),
                "confidence": confidence if isinstance(confidence, (int, float)) else None,
                "mentions": c.get("weights", {}).get("ckg:mentionCount")}
        groups.setdefault(kinds.get(c["iri"]), []).append(item)
    out = []
    for kind, items in groups.items():
        items.sort(key=lambda i: (-(i["confidence"] if i["confidence"] is not None else -1), i["label"] or i["iri"]))
        out.append({"kind": kind, "kind_label": KINDS.get(kind or "", "other concepts"), "concepts": items})
    out.sort(key=lambda g: (g["kind"] is None, -(g["concepts"][0]["confidence"] or 0), g["kind_label"]))
    return out


TOP_ON_OVERVIEW = 15
"""How many concepts the corpus overview lists (every topic is listed: there are ten by default)."""


def overview_record(store: ox.Store, functions: Functions, *, top: int = TOP_ON_OVERVIEW) -> dict[str, Any]:
    """What the corpus overview reads from the store (the rest is the manifests'): papers per
    publication year and the papers of the store first seen in each release (one pass over
    ``ckg:publicationYear`` and one over ``ckg:firstSeenIn``, the only per-paper work: the server
    keeps the answer for the release), the most frequent concepts and the topics, both by their
    materialised ``ckg:paperCount`` (named queries ``top-concepts`` and ``topics``)."""
    years = [{"year": plain(r["year"]), "papers": plain(r["papers"])}
             for r in _select(store, functions, """SELECT ?year (COUNT(DISTINCT ?paper) AS ?papers) WHERE {
                 ?paper ckg:publicationYear ?year } GROUP BY ?year""")]
    years.sort(key=lambda r: (r["year"] is None, r["year"] or 0))
    concepts = [{"iri": r["concept"].value, "key": _key(r["concept"].value, "concept"), "label": plain(r["label"]),
                 "kind": _kind_name(r["kind"].value), "kind_label": KINDS.get(_kind_name(r["kind"].value) or ""),
                 "papers": plain(r["papers"])}
                for r in _rows(run_named(store, queries.get("top-concepts"), {}, limit=top, custom_functions=functions))]
    topics = [{"iri": r["topic"].value, "key": _key(r["topic"].value, "topic"), "label": plain(r["label"]),
               "top_terms": [t.strip() for t in (plain(r["topTerms"]) or "").split(",") if t.strip()][:6],
               "top_topic_of": plain(r["topTopicOf"]), "papers": plain(r["papers"])}
              for r in _rows(run_named(store, queries.get("topics"), {}, custom_functions=functions))]
    first_seen = {plain(r["release"]): plain(r["papers"])
                  for r in _select(store, functions, """SELECT ?release (COUNT(DISTINCT ?paper) AS ?papers) WHERE {
                      ?paper ckg:firstSeenIn/ckg:releaseLabel ?release } GROUP BY ?release""")}
    return {"papers_per_year": years, "top_concepts": concepts, "topics": topics, "first_seen": first_seen}
