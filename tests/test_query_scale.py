"""A named query's cost follows the size of its answer, not the size of the graph (issue 13).

* The rewritten queries answer exactly what they answered before: the texts they replaced are kept
  in ``fixtures/queries-before-issue-13`` and both are run, with parameters taken from the data,
  on the mini and demo stores.
* The signals they read (``ckg.etl.signals``: name keys, citation, paper and top-topic counts in
  ``graph/signals``) are those a recount of the graph gives, and an update keeps them exact.
* Growing the graph by thirty times with papers, concepts, authors and institutions unrelated to a
  query's parameters leaves its answer and (within noise) its time as they were, where the text
  before issue 13 grew with the graph.
* On the 803 real bioRxiv/medRxiv papers built with the real vocabularies, every named query and
  every API route answers well within the endpoint's timeout (``CKG_REAL_DATA``).
"""

from __future__ import annotations

import math
import re
import statistics
import time
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from ckg import queries, resources
from ckg.etl.build import build, update
from ckg.etl.catalog import Catalog
from ckg.etl.signals import GRAPH as SIGNALS, apply_signals, signal_quads
from ckg.sparql import run_named
from ckg.store import catalog_file, open_store, query
from ckg.terms import CKG, DCTERMS, RDF, SKOS, XSD, superclasses

from conftest import MINI

BEFORE = Path(__file__).parent / "fixtures" / "queries-before-issue-13"
P = "https://w3id.org/ckg/resource/paper/"


def before(name: str) -> queries.NamedQuery:
    """The text of a named query as it was before issue 13 (or the shipped one, if unchanged)."""
    path = BEFORE / f"{name}.rq"
    return queries.parse(path.read_text(encoding="utf-8"), path) if path.exists() else queries.get(name)


def rows(store: ox.Store, named: queries.NamedQuery, params: dict) -> list[tuple]:
    result = run_named(store, named, params)
    return [tuple(None if t is None else str(t) for t in row) for row in result.rows]


def one(store: ox.Store, sparql: str) -> list[str]:
    return [row[0].value for row in query(store, sparql)]


def cases(store: ox.Store, *, papers: int, authors: int, institutions: int, concepts: int, topics: int = 10,
          slow_cases: bool) -> list[tuple[str, dict]]:
    """(query, parameters) cases with values taken from the store: papers, authors and institutions
    (the busiest first), concepts by each kind of name in another case, topics by label and key."""
    def key(iri: str) -> str:
        return iri.rsplit("/", 1)[1]

    paper_keys = [key(p) for p in one(store, """SELECT ?p WHERE { ?p a ckg:Paper
        OPTIONAL { ?a ckg:annotatedSource ?p } } GROUP BY ?p ORDER BY DESC(COUNT(?a)) ?p""")][:papers]
    cited = [key(p) for p in one(store, "SELECT ?p WHERE { ?p ckg:citedBy ?c } GROUP BY ?p ORDER BY DESC(COUNT(?c)) ?p")]
    author_keys = [key(a) for a in one(store, """SELECT ?a WHERE { ?p ckg:authoredBy ?a }
        GROUP BY ?a ORDER BY DESC(COUNT(?p)) ?a""")][:authors]
    institution_keys = [key(i) for i in one(store, """SELECT ?i WHERE { ?x ckg:statedAffiliation ?i }
        GROUP BY ?i ORDER BY DESC(COUNT(?x)) ?i""")][:institutions]
    out: list[tuple[str, dict]] = [("most-cited-papers", {"first": "10"})]
    out += [(n, {}) for n in ("most-cited-papers", "top-concepts", "topics",
                                                     "customised-citation-counts", "embed-paper-topics",
                                                     "embed-training-triples")]
    for p in dict.fromkeys(paper_keys + cited[:2]):
        out += [(n, {"paper": p}) for n in ("paper-authors", "paper-institutions", "paper-references",
                                            "paper-cited-by", "paper-concepts", "paper-topics")]
    out += [(n, {"author": a}) for a in author_keys for n in ("author-papers", "author-coauthors")]
    out += [("institution-papers", {"institution": i}) for i in institution_keys]
    # concepts: the most frequent ones, each named in turn by an upper-cased label, another name,
    # a lower-cased CURIE and a MeSH id
    names = {}
    for row in query(store, """SELECT ?c ?label (SAMPLE(?alt) AS ?other) (SAMPLE(?curie) AS ?notation) (SAMPLE(?m) AS ?mesh)
            WHERE { ?p ckg:associatedConcept ?c . ?c skos:prefLabel ?label
                    OPTIONAL { ?c skos:altLabel ?alt } OPTIONAL { ?c skos:notation ?curie } OPTIONAL { ?c ckg:meshId ?m } }
            GROUP BY ?c ?label ORDER BY DESC(COUNT(DISTINCT ?p)) ?c"""):
        forms = [row["label"].value.upper()] + [row[v].value for v in ("other", "mesh") if row[v] is not None]
        if row["notation"] is not None:
            forms.append(row["notation"].value.lower())
        names[row["c"].value] = forms
        if len(names) == concepts:
            break
    forms = [f for fs in names.values() for f in fs]
    for n, form in enumerate(forms):
        out.append(("concept-cooccurrence", {"concept": form}))
        out.append(("customised-citation-counts", {"concept": form}))
    labelled = [(r["label"].value, r["key"].value) for r in query(store, """SELECT ?label ?key WHERE {
        ?t a ckg:Topic ; skos:prefLabel ?label ; skos:notation ?key } ORDER BY ?key""")]
    for n, (label, topic_key) in enumerate(labelled[:topics]):
        out.append(("topic-papers", {"topic": label.title() if n % 2 else topic_key}))
        out.append(("topic-papers", {"topic": label, "first": "10"}))
        out.append(("customised-citation-counts", {"topic": topic_key.upper() if n % 2 else label}))
        if forms:
            out.append(("customised-citation-counts", {"topic": label, "concept": forms[n % len(forms)]}))
    out += [("customised-citation-counts", {"concept": "no such concept"}), ("topic-papers", {"topic": "nothing"}),
            ("concept-cooccurrence", {"concept": "nothing"}), ("paper-authors", {"paper": "nope"})]
    # papers-with-concepts before issue 13 takes seconds even on small stores: a few cases only
    if slow_cases and len(forms) >= 3:
        out += [("papers-with-concepts", {"concept1": forms[0]}),
                ("papers-with-concepts", {"concept1": forms[-1], "concept2": forms[0]}),
                ("papers-with-concepts", {"concept1": forms[1], "concept3": forms[2]}),
                ("papers-with-concepts", {"concept1": "nothing"})]
    return out


UNORDERED = {"embed-training-triples"}
"""Exports in no particular order since issue 13 (their readers sort them): their rows are compared."""


def order_keys(named: queries.NamedQuery, variables: list[str]) -> list[int]:
    """The columns of the variables a query's ORDER BY names."""
    clause = re.search(r"(?is)\bORDER\s+BY\b(.*)$", named.text)
    names = re.findall(r"\?(\w+)", clause.group(1)) if clause else []
    return [variables.index(n) for n in names if n in variables]


def assert_same_answers(store: ox.Store, todo: list[tuple[str, dict]]) -> None:
    """The same rows, in an order the text before issue 13 allows: rows its ORDER BY ranks equal
    (two concepts with the same label and count) may come in another order."""
    differences = []
    for name, params in todo:
        old_params = {k: v for k, v in params.items() if k in {p.name for p in before(name).params}}
        old_result, new_result = run_named(store, before(name), old_params), run_named(store, queries.get(name), params)
        columns = list(old_result.variables)  # a parameter added since is a column more
        where = [new_result.variables.index(c) for c in columns]
        old = [tuple(None if t is None else str(t) for t in row) for row in old_result.rows]
        first = next((p for p in queries.get(name).params if p.name == "first"), None)
        if first is not None:  # most-cited-papers answers the first N rows of the ranking it had
            old = old[:int(params.get("first", first.default))]
        new = [tuple(None if row[i] is None else str(row[i]) for i in where) for row in new_result.rows]
        if name in UNORDERED:
            old, new = sorted(old), sorted(new)
        elif sorted(old) == sorted(new):
            keys = order_keys(before(name), old_result.variables)
            old, new = ([tuple(r[i] for i in keys) for r in rs] for rs in (old, new))
        if old != new:
            differences.append(f"{name} {params}: {len(old)} rows before, {len(new)} now; first difference "
                               f"{next(((a, b) for a, b in zip(old, new) if a != b), (old[len(new):], new[len(old):]))}")
    assert not differences, "\n".join(differences)


def test_queries_answer_as_before_on_the_mini_store(mini_store):
    store = open_store(mini_store[0], read_only=True)
    todo = cases(store, papers=5, authors=8, institutions=5, concepts=8, slow_cases=True)
    for form in ("Pneumonia", "pneumonia", "D011014", "MESH:D011014", "doid:552", "ace2", "nothing"):
        for other in (None, "ACE2", "lung", "D064370"):
            todo.append(("papers-with-concepts", {"concept1": form, **({"concept2": other} if other else {})}))
    todo.append(("papers-with-concepts", {"concept1": "ACE2", "concept2": "D064370", "concept3": "lung"}))
    assert len(todo) > 150
    assert_same_answers(store, todo)


def test_queries_answer_as_before_on_the_demo_store(demo_store):
    store = open_store(demo_store, read_only=True)
    todo = cases(store, papers=8, authors=6, institutions=6, concepts=3, topics=4, slow_cases=False)
    # the texts before issue 13 take a tenth of a second a case here for these two: a third of them
    slow = [case for case in todo if case[0] in ("concept-cooccurrence", "customised-citation-counts")]
    todo = [case for case in todo if case not in slow] + slow[::3]
    assert len(todo) > 80
    assert_same_answers(store, todo)


@pytest.mark.slow
def test_papers_with_concepts_answers_as_before_on_the_demo_store(demo_store):
    """The text before issue 13 takes about ten seconds a case here: two cases."""
    store = open_store(demo_store, read_only=True)
    pair = [r["label"].value for r in query(store, """SELECT ?label WHERE { ?p ckg:associatedConcept ?c , ?d .
        FILTER (?c != ?d) ?c skos:prefLabel ?label } GROUP BY ?c ?label ORDER BY DESC(COUNT(?p)) ?c LIMIT 2""")]
    assert_same_answers(store, [("papers-with-concepts", {"concept1": pair[0].lower()}),
                                ("papers-with-concepts", {"concept1": pair[0], "concept2": pair[1].upper()})])


# -- the signals ---------------------------------------------------------------------------------------

def recount(store: ox.Store) -> set[tuple[str, str, str]]:
    """The signals, counted in Python from the other graphs' quads."""
    def objects(s, p):
        return [q.object for q in store.quads_for_pattern(s, p, None) if q.graph_name != SIGNALS]

    out = set()
    for kind, names in ((CKG.Concept, (SKOS.prefLabel, SKOS.altLabel, SKOS.notation, CKG.meshId)),
                        (CKG.Topic, (SKOS.prefLabel, SKOS.notation))):
        edge = CKG.associatedConcept if kind == CKG.Concept else CKG.associatedTopic
        for node in {q.subject for q in store.quads_for_pattern(None, RDF.type, kind)}:
            for name in (o for p in names for o in objects(node, p)):
                if name.value:
                    out.add((node.value, "nameKey", name.value.lower()))
            papers = {q.subject for q in store.quads_for_pattern(None, edge, node)}
            out.add((node.value, "paperCount", str(len(papers))))
            if kind == CKG.Topic:
                top = {objects(a, CKG.annotatedSource)[0] for a in (q.subject for q in store.quads_for_pattern(None, CKG.annotatedTarget, node))
                       if ox.Literal("1", datatype=XSD.integer) in objects(a, CKG.topicRank)}
                out.add((node.value, "topTopicCount", str(len(top))))
    cited = Counter(q.subject for q in store.quads_for_pattern(None, CKG.citedBy, None))
    out |= {(p.value, "citedByCount", str(n)) for p, n in cited.items()}
    order = sorted(cited, key=lambda p: (-cited[p], p.value))  # most cited first, then by IRI
    out |= {(p.value, "citedByTop", str(10 ** max(1, math.ceil(math.log10(rank))))) for rank, p in enumerate(order, 1)}
    out |= {(p.value, "citedByWithin", str(page)) for rank, p in enumerate(order, 1) for page in (10, 100, 1000, 10000)
            if rank <= page}
    by_topic: dict = {}  # each topic's papers by citations, then probability (both descending), then IRI
    for a in {q.subject for q in store.quads_for_pattern(None, CKG.annotatedProperty, CKG.associatedTopic)}:
        paper, topic, probability = (objects(a, p)[0] for p in (CKG.annotatedSource, CKG.annotatedTarget, CKG.probability))
        by_topic.setdefault(topic, []).append((-cited.get(paper, 0), -float(probability.value), paper.value, a.value))
    for associations in by_topic.values():
        for rank, (*_key, a) in enumerate(sorted(associations), 1):
            out |= {(a, "rankedWithin", str(page)) for page in (10, 100, 1000, 10000) if rank <= page}
    return out


def signals(store: ox.Store) -> set[tuple[str, str, str]]:
    return {(q.subject.value, q.predicate.value.rsplit("#", 1)[1], q.object.value)
            for q in store.quads_for_pattern(None, None, None, SIGNALS)}


@pytest.mark.parametrize("which", ["mini_store", "demo_store"])
def test_signals_are_a_recount_of_the_graph(which, request):
    path = request.getfixturevalue(which)
    path = path[0] if isinstance(path, tuple) else path
    store = open_store(path, read_only=True)
    got = signals(store)
    assert got == recount(store)
    # the build read the counts from its catalog; the SPARQL aggregates over the graphs agree
    with Catalog(catalog_file(path)) as catalog:
        assert signal_quads(store, catalog) == signal_quads(store) == set(store.quads_for_pattern(None, None, None, SIGNALS))
    kinds = Counter(p for _s, p, _o in got)
    assert set(kinds) == {"nameKey", "paperCount", "topTopicCount", "citedByCount", "citedByTop", "citedByWithin",
                          "rankedWithin"}
    assert kinds["citedByTop"] == kinds["citedByCount"]
    assert kinds["topTopicCount"] == 10
    literals = [q.object for q in store.quads_for_pattern(None, None, None, SIGNALS)]
    assert {o.datatype for o in literals} == {XSD.string, XSD.integer}  # plain literals any engine reads


def test_a_first_page_is_read_from_the_edges_tied_at_its_end(tmp_path, monkeypatch):
    """The catalog hands over only the topic edges that a first page can hold, tied ones alike,
    and the IRI breaks the ties: a percent-encoded key ("a b", <…/a%20b>) sorts after "a!" as an
    IRI and before it as a key."""
    from ckg.etl import signals as signals_module

    with Catalog(tmp_path / "catalog.sqlite") as catalog:
        catalog.replace_annotation_edges("topics", {
            ("y", "t"): ("0.100", 3), ("z", "t"): ("0.900", 1), ("a b", "t"): ("0.500", 2), ("a!", "t"): ("0.500", 2),
            ("x", "t"): ("0.500", 1), ("v", "t"): ("0.200", 2), ("w", "u"): ("0.100", 1)})
        catalog.replace_citations({("w", "y"): "doi"})  # y: cited once, first whatever its probability
        assert sorted(k for k, t, _w in catalog.first_page_candidates("topics", 2) if t == "t") == ["y", "z"]
        # the third place is one of three tied edges: all three are candidates, v (fourth) is not
        assert sorted(k for k, t, _w in catalog.first_page_candidates("topics", 3) if t == "t") == [
            "a b", "a!", "x", "y", "z"]
        monkeypatch.setattr(signals_module, "FIRST_PAGES", (1, 3))
        ranked = {q.subject.value: int(q.object.value) for q in signal_quads(ox.Store(), catalog)
                  if q.predicate == CKG.rankedWithin and int(q.object.value) == 3}
    assert ranked == {resources.topic_association(k, topic).value: 3 for k, topic in (("y", "t"), ("z", "t"), ("a!", "t"),
                                                                                   ("w", "u"))}
    assert resources.topic_association("a!", "t").value < resources.topic_association("a b", "t").value


def test_an_update_keeps_the_signals_exact(tmp_path, mini_next):
    updated, fresh = tmp_path / "updated", tmp_path / "fresh"
    build(updated, [MINI], release="r1")
    first = signals(open_store(updated, read_only=True))
    result = update(updated, [mini_next], release="r2")
    build(fresh, [mini_next], release="r2")
    after, wanted = signals(open_store(updated, read_only=True)), signals(open_store(fresh, read_only=True))
    assert after == wanted == recount(open_store(fresh, read_only=True))
    with Catalog(catalog_file(updated)) as catalog:  # the counts read from the updated catalog
        assert signal_quads(open_store(updated, read_only=True)) == signal_quads(open_store(updated, read_only=True), catalog)
    changed = result.counts["signals"]
    assert changed["added"] == len(after - first) > 0 and changed["removed"] == len(first - after) > 0
    # the withdrawn aaaa0003 was cited by aaaa0001; the new aaaa0011 cites aaaa0002 (by DOI)
    assert (P + "aaaa0003", "citedByCount", "1") in first and not any(s == P + "aaaa0003" for s, _p, _o in after)
    assert (P + "aaaa0002", "citedByCount", "2") in after


FIRST_PAGE = """SELECT ?paper ?citations WHERE {{ VALUES ?top {{ {bounds} }} ?paper ckg:citedByTop ?top ;
    ckg:citedByCount ?citations }} ORDER BY DESC(?citations) ?paper"""


@pytest.mark.parametrize("which", ["mini_store", "demo_store"])
def test_the_first_papers_of_the_ranking_are_read_by_their_place(which, request):
    """The first N papers of the most-cited order (every cited paper sorted, as the text before
    issue 13 did) are those whose ckg:citedByTop is at most N rounded up to a power of ten, as the
    ranking route of the API reads them, and those with ckg:citedByWithin N, as most-cited-papers
    reads them."""
    path = request.getfixturevalue(which)
    store = open_store(path[0] if isinstance(path, tuple) else path, read_only=True)
    whole = [(r[0], r[3]) for r in rows(store, before("most-cited-papers"), {})]
    assert len(whole) > 1
    for bounds, expected in (("10", 10), ("10 100", 100), ("10 100 1000 10000", len(whole))):
        page = [(str(r["paper"]), str(r["citations"])) for r in query(store, FIRST_PAGE.format(bounds=bounds))]
        assert page == whole[:expected], bounds
    named = queries.get("most-cited-papers")
    for first in ("10", "100", "1000", "10000"):
        answer = rows(store, named, {"first": first})
        assert [(r[1], r[4]) for r in answer] == whole[:int(first)]
        assert {r[0] for r in answer} == {f'"{first}"^^<{XSD.integer.value}>'}
    assert [(r[1], r[4]) for r in rows(store, named, {})] == whole[:100]  # the default: the first 100
    from ckg.server.functions import registry
    from ckg.server.records import rank_papers

    for k in (1, 2, 11):
        ranked = rank_papers(store, registry(store), k=k, order="citations")["papers"]
        assert [f"<{p['iri']}>" for p in ranked][:len(whole)] == [p for p, _ in whole[:k]]


def test_signals_of_an_empty_store_are_none():
    store = ox.Store()
    assert apply_signals(store) == {"quads": 0, "added": 0, "removed": 0}


# -- cost against the size of the graph -------------------------------------------------------------------

NOISE_PAPERS = 2500
CONCEPTS_PER_NOISE_PAPER = 12


def noise(n: int) -> list[ox.Quad]:
    """Papers, authors, institutions and concepts that no query parameter of the tests reaches:
    noise papers cite nothing and have no topic; their concepts are noise concepts."""
    g = ox.NamedNode("https://w3id.org/ckg/resource/graph/noise")
    out = []

    def typed(node, cls):
        out.extend(ox.Quad(node, RDF.type, c, g) for c in (cls, *superclasses(cls)))

    concepts = [resources.concept(f"noise-{i}") for i in range(n // 4)]
    for i, c in enumerate(concepts):
        typed(c, CKG.MedicalCondition)
        out += [ox.Quad(c, SKOS.prefLabel, ox.Literal(f"Noise condition {i}", language="en"), g),
                ox.Quad(c, SKOS.notation, ox.Literal(f"NOISE:{i}"), g)]
    for i in range(n):
        key = f"noise{i:06d}"
        paper = resources.paper(key)
        typed(paper, CKG.Paper)
        out += [ox.Quad(paper, DCTERMS.title, ox.Literal(f"A noise study number {i}"), g),
                ox.Quad(paper, CKG.publicationYear, ox.Literal("2020", datatype=XSD.integer), g)]
        for position in (1, 2, 3):
            author = resources.author(f"noise_{(i * 3 + position) % (n // 2)}")
            node = resources.authorship(key, position)
            typed(node, CKG.Authorship)
            out += [ox.Quad(paper, CKG.authoredBy, author, g), ox.Quad(node, CKG.annotatedSource, paper, g),
                    ox.Quad(node, CKG.annotatedProperty, CKG.authoredBy, g), ox.Quad(node, CKG.annotatedTarget, author, g),
                    ox.Quad(node, CKG.authorPosition, ox.Literal(str(position), datatype=XSD.integer), g),
                    ox.Quad(node, CKG.statedAffiliation, resources.institution(f"noise_{i % 97}"), g)]
        for j in range(CONCEPTS_PER_NOISE_PAPER):
            concept = concepts[(i * 7 + j * 13) % len(concepts)]
            node = ox.NamedNode(f"{paper.value}/concept/noise-{j}")
            typed(node, CKG.ConceptAssociation)
            out += [ox.Quad(paper, CKG.associatedConcept, concept, g), ox.Quad(node, CKG.annotatedSource, paper, g),
                    ox.Quad(node, CKG.annotatedProperty, CKG.associatedConcept, g),
                    ox.Quad(node, CKG.annotatedTarget, concept, g),
                    ox.Quad(node, CKG.confidence, ox.Literal("0.5", datatype=XSD.decimal), g),
                    ox.Quad(node, CKG.mentionCount, ox.Literal("2", datatype=XSD.integer), g)]
    return list(dict.fromkeys(out))


ANSWER_SIZED = {"most-cited-papers", "topics", "customised-citation-counts", "paper-authors", "paper-institutions",
                "paper-references", "paper-cited-by", "paper-concepts", "paper-topics", "author-papers",
                "author-coauthors", "institution-papers", "papers-with-concepts", "topic-papers", "concept-cooccurrence",
                "embed-paper-texts"}
"""The named queries whose answer the noise leaves as it is (the others list the whole corpus, as
top-concepts and the embedding exports, or scan its titles, as find-papers)."""


def fastest(store: ox.Store, named: queries.NamedQuery, params: dict, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        list(run_named(store, named, params).rows)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.slow
def test_cost_follows_the_answer_not_the_graph(demo_store):
    base = ox.Store()
    base.extend(open_store(demo_store, read_only=True).quads_for_pattern(None, None, None))
    big = ox.Store()
    big.extend(base.quads_for_pattern(None, None, None))
    big.extend(noise(NOISE_PAPERS))
    apply_signals(big)
    assert len(big) > 25 * len(base)

    todo = [(n, p) for n, p in cases(base, papers=3, authors=2, institutions=2, concepts=2, slow_cases=True)
            if n in ANSWER_SIZED and "nothing" not in str(p) and "nope" not in str(p)]
    paper = todo[[n for n, _ in todo].index("paper-authors")][1]["paper"]
    todo += [("embed-paper-texts", {"paper": paper}), ("papers-with-concepts", {"concept1": "SARS-CoV-2"})]
    assert {n for n, _ in todo} == ANSWER_SIZED
    slower = []
    for name, params in todo:
        named = queries.get(name)
        assert rows(base, named, params) == rows(big, named, params), (name, params)
        small, large = fastest(base, named, params, 5), fastest(big, named, params, 5)
        if large > 3 * small + 0.005:
            slower.append(f"{name} {params}: {small * 1000:.1f} ms on the demo store, {large * 1000:.1f} ms with "
                          f"{len(big) // len(base)} times the quads")
    assert not slower, "\n".join(slower)
    # the noise is enough to show a query that walks the graph: the text of paper-concepts before issue 13
    old = before("paper-concepts")
    params = {"paper": paper}
    assert fastest(big, old, params, 2) > 5 * fastest(base, old, params, 2)


def _topic_store(associations: int) -> ox.Store:
    """One topic with ``associations`` papers, the first 100 of them marked ``ckg:rankedWithin``
    10 and 100, as the signals mark a topic's first papers."""
    g, t = resources.graph("topics"), resources.topic("t1")
    out = [ox.Quad(t, CKG.nameKey, ox.Literal("t1"), g), ox.Quad(t, RDF.type, CKG.Topic, g)]
    for i in range(associations):
        key = f"p{i:06d}"
        a = resources.topic_association(key, "t1")
        out += [ox.Quad(a, CKG.annotatedTarget, t, g), ox.Quad(a, CKG.annotatedSource, resources.paper(key), g),
                ox.Quad(a, CKG.probability, ox.Literal(f"0.{i % 97:02d}", datatype=XSD.double), g),
                ox.Quad(a, CKG.topicRank, ox.Literal("1", datatype=XSD.integer), g)]
        out += [ox.Quad(a, CKG.rankedWithin, ox.Literal(str(w), datatype=XSD.integer), g) for w in (10, 100) if i < w]
    store = ox.Store()
    store.bulk_extend(out)
    return store


def test_a_topics_first_papers_cost_what_they_are_when_bound_by_substitution():
    """topic-papers binds its page size (?first) by substitution through /api/queries; the planner
    must still start from the papers ranked within it, not from every paper of the topic (at 1M
    papers 2.4 s against 36 ms, docs/scale.md)."""
    named, params = queries.get("topic-papers"), {"topic": "t1", "first": "100"}
    small, large = _topic_store(100), _topic_store(30_000)
    assert rows(small, named, params) == rows(large, named, params)
    assert len(rows(large, named, params)) == 100
    a, b = fastest(small, named, params, 5), fastest(large, named, params, 5)
    assert b < 3 * a + 0.005, f"{a * 1000:.1f} ms with 100 papers, {b * 1000:.1f} ms with 30,000"


# -- the real data ----------------------------------------------------------------------------------------

REAL_LIMIT_S = 2.0
"""Each query and route answers within this on the 803 real papers (the endpoint's timeout is 30 s)."""
ROWS = 10_000
"""Rows read of each answer, as the endpoint reads them (``CKG_MAX_ROWS``): the export of every
training triple, for one, has 31,325 rows, streamed."""


def real_cases(store: ox.Store) -> list[tuple[str, dict]]:
    """Every named query with parameters from the real data: asthma, pneumonia, COVID-19, the most
    cited paper and the paper citing most, an author of several papers, an institution, a topic."""
    def top(sparql: str) -> str:
        return one(store, sparql)[0].rsplit("/", 1)[1]

    paper = top("SELECT ?p WHERE { ?p ckg:citedBy ?c } GROUP BY ?p ORDER BY DESC(COUNT(?c)) ?p LIMIT 1")
    citing = top("SELECT ?p WHERE { ?p ckg:cites ?c } GROUP BY ?p ORDER BY DESC(COUNT(?c)) ?p LIMIT 1")
    author = top("SELECT ?a WHERE { ?p ckg:authoredBy ?a } GROUP BY ?a ORDER BY DESC(COUNT(?p)) ?a LIMIT 1")
    institution = top("""SELECT ?i WHERE { ?x ckg:statedAffiliation ?i } GROUP BY ?i
                         ORDER BY DESC(COUNT(?x)) ?i LIMIT 1""")
    return [
        ("most-cited-papers", {}), ("top-concepts", {}), ("topics", {}), ("embed-training-triples", {}),
        ("embed-paper-texts", {}), ("embed-paper-texts", {"paper": paper}), ("embed-paper-topics", {}),
        ("embed-paper-cord-uids", {}), ("embed-edge-weights", {}), ("find-papers", {"text": "coronavirus"}),
        *((n, {"paper": paper}) for n in ("paper-authors", "paper-institutions", "paper-cited-by", "paper-concepts",
                                          "paper-topics")),
        ("paper-references", {"paper": citing}),
        ("author-papers", {"author": author}), ("author-coauthors", {"author": author}),
        ("institution-papers", {"institution": institution}),
        ("papers-with-concepts", {"concept1": "asthma"}), ("papers-with-concepts", {"concept1": "Pneumonia"}),
        ("papers-with-concepts", {"concept1": "COVID-19", "concept2": "pneumonia"}),
        ("papers-with-concepts", {"concept1": "D011014", "concept2": "MESH:D003643", "concept3": "covid-19"}),
        ("customised-citation-counts", {}), ("customised-citation-counts", {"concept": "pneumonia"}),
        ("customised-citation-counts", {"topic": "clinical care"}),
        ("customised-citation-counts", {"topic": "clinical-care", "concept": "COVID-19"}),
        ("topic-papers", {"topic": "clinical care"}),
        ("concept-cooccurrence", {"concept": "COVID-19"}), ("concept-cooccurrence", {"concept": "asthma"}),
    ]


EMPTY_ON_PARSES = {"embed-paper-cord-uids"}
"""Queries with no answer on the 803 parses of the first release: they have no metadata.csv row,
so no cord_uid."""


@pytest.mark.realdata
def test_every_named_query_is_fast_on_the_real_papers(real_biorxiv):
    store = open_store(real_biorxiv[0], read_only=True)
    todo = real_cases(store)
    assert {n for n, _ in todo} == set(queries.names())
    slow, empty, table = [], [], []
    for name, params in todo:
        named = queries.get(name)
        times, answer = [], []
        for _ in range(3):
            start = time.perf_counter()
            answer = list(run_named(store, named, params, limit=ROWS).rows)
            times.append(time.perf_counter() - start)
        table.append(f"{name:28} {statistics.median(times) * 1000:9.1f} ms {len(answer):6} rows  {params}")
        if statistics.median(times) > REAL_LIMIT_S:
            slow.append(table[-1])
        if not answer and name not in EMPTY_ON_PARSES:
            empty.append(f"{name} {params}")
    print("\n" + "\n".join(table))
    assert not slow, "\n".join(slow)
    assert not empty, empty


@pytest.mark.realdata
def test_every_api_route_is_fast_on_the_real_papers(real_biorxiv):
    from serving import app_on

    store = open_store(real_biorxiv[0], read_only=True)
    paper = one(store, "SELECT ?p WHERE { ?p ckg:citedBy ?c } GROUP BY ?p ORDER BY DESC(COUNT(?c)) ?p LIMIT 1")[0]
    key = paper.rsplit("/", 1)[1]
    routes = [(f"/api/papers/{key}", 200), (f"/api/papers/{key}/similar", 409), ("/api/rank", 200),
              ("/api/rank?order=pagerank&k=50", 200), ("/api/rank?concept=mesh-D011014", 200),
              ("/api/rank?concept=http%3A%2F%2Fid.nlm.nih.gov%2Fmesh%2FD001249&order=citations", 200),
              ("/api/rank?topic=clinical-care&concept=mesh-D000086382&k=100", 200)]
    for name, params in real_cases(store):
        routes.append((f"/api/queries/{name}?" + "&".join(f"{k}={v}" for k, v in params.items()), 200))
    del store
    slow = []
    with app_on(real_biorxiv[0], {"engines": 1}) as app:
        client = app.test_client()
        assert client.get("/api/rank?k=1").status_code == 200  # starts the query process
        for route, status in routes:
            start = time.perf_counter()
            response = client.get(route)
            took = time.perf_counter() - start
            assert response.status_code == status, (route, response.get_data(as_text=True)[:500])
            body = response.get_json()
            if status == 200 and not any(f"/api/queries/{name}?" == route for name in EMPTY_ON_PARSES):
                assert body.get("rows", body.get("papers", body.get("authors"))), route
            if took > REAL_LIMIT_S:
                slow.append(f"{route}: {took:.2f} s")
    assert not slow, "\n".join(slow)
