"""The demo: generate the synthetic corpus, build its store, apply the next release, show the graph:
papers, authors, citations, and the concepts (from ckg's demo vocabulary, linked to MeSH and the
Disease Ontology) and topics (seeded LDA) the build found."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ckg import queries
from ckg.demo_corpus import generate
from ckg.etl.build import build, update
from ckg.resources import key_of
from ckg.sparql import run_named, write
from ckg.stats import format_stats, store_stats
from ckg.store import open_store


def run_demo(out: Path, *, papers: int = 60, seed: int = 7, echo: Callable[[str], None] = print) -> Path:
    """Build ``out/store`` from release 1 of the demo corpus, update it to release 2, print
    statistics and the answers of a few named queries. Returns the store path."""
    out = Path(out)
    release1 = out / "corpus" / "release-1"
    release2 = out / "corpus" / "release-2"
    store = out / "store"
    generate(release1, papers=papers, seed=seed, release=1)
    generate(release2, papers=papers, seed=seed, release=2)
    echo(f"demo corpus: {release1} and {release2} ({papers} papers, seed {seed})\n")

    first = build(store, [release1], release="demo-1", overwrite=True)
    _summary(echo, first)
    second = update(store, [release2], release="demo-2")
    _summary(echo, second)

    echo("\n" + format_stats(store_stats(store)))
    db = open_store(store, read_only=True)

    def show(name: str, limit: int = 5, **params: str) -> list:
        query = queries.get(name)
        result = run_named(db, query, params, limit=limit)
        rows = list(result.rows)
        shown = ", ".join(f"{k}={v}" for k, v in params.items())
        echo(f"\n== {name}{' (' + shown + ')' if shown else ''}: {query.summary}")
        echo(write(type(result)(result.form, result.variables, rows), "table"))
        return rows

    top = show("most-cited-papers")
    if top:
        paper = key_of(top[0][0], "paper")
        authors = show("paper-authors", limit=8, paper=paper)
        show("paper-institutions", paper=paper)
        show("paper-cited-by", paper=paper)
        if authors:
            author = key_of(authors[0][2], "author")
            show("author-papers", author=author)
            show("author-coauthors", author=author)
        show("paper-concepts", limit=8, paper=paper)
        show("paper-topics", paper=paper)

    # concepts (linked to MeSH, Disease Ontology, ...) and topics (seeded LDA)
    concepts = show("top-concepts", limit=8)
    topics = show("topics", limit=10)
    if concepts:
        first = concepts[0][1].value
        pairs = show("concept-cooccurrence", concept=first)
        if pairs:
            show("papers-with-concepts", concept1=first, concept2=pairs[0][2].value)
    if topics:
        topic = topics[0][1].value
        show("topic-papers", topic=topic)
        show("customised-citation-counts", topic=topic)
    echo(f"\nstore: {store}  (try: ckg query --store {store} most-cited-papers --format json; "
         f"ckg concepts --store {store}; serve it: ckg serve --store {store})")
    return store


def _summary(echo, result) -> None:
    c = result.counts
    ch = c["changes"]
    cit = c["citations"]
    echo(f"{result.mode} {result.release}: {c['papers_in_store']} papers "
         f"({ch['new']} new, {ch['changed']} changed, {ch['unchanged']} unchanged, {ch['removed']} removed), "
         f"{cit['edges']} citation edges, {c['concepts']['edges']} concept edges to {c['concepts']['concepts']} concepts "
         f"({c['concepts']['extraction']['papers']} papers extracted), {c['topics']['edges']} topic edges, "
         f"{c['triples']} triples, "
         f"{result.report.rejected} rejected, {result.report.warnings} warnings, {result.manifest['timings_s']['total']} s")
