"""The demo: generate the synthetic corpus, build its store, apply the next release, show the graph:
papers, authors, citations, and the concepts (from ckg's demo vocabulary, linked to MeSH and the
Disease Ontology) and topics (seeded LDA) the build found; then train the papers' text and
knowledge-graph embeddings and show the papers most similar to the most-cited one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ckg import queries
from ckg.demo_corpus import generate
from ckg.etl.build import build, update
from ckg.resources import key_of
from ckg.sparql import run_named, write
from ckg.stats import format_stats, store_stats
from ckg.store import open_store


def run_demo(out: Path, *, papers: int = 60, seed: int = 7, echo: Callable[[str], None] = print,
             embeddings: bool = True, embed_settings: dict[str, Any] | None = None) -> Path:
    """Build ``out/store`` from release 1 of the demo corpus, update it to release 2, print
    statistics and the answers of a few named queries; with ``embeddings``, train the similar-paper
    engine (default settings, overridden by ``embed_settings`` such as ``{"graph.epochs": 10}``)
    and show the most-cited paper's similar papers. Returns the store path."""
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
        paper = key_of(top[0][1], "paper")  # after the ?first column
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
    if embeddings:
        del db  # training reads the store itself
        _similar_papers(echo, store, key_of(top[0][1], "paper") if top else None, embed_settings)
    echo(f"\nstore: {store}  (try: ckg query --store {store} most-cited-papers --format json; "
         f"ckg concepts --store {store}; ckg similar --store {store} PAPER; serve it: ckg serve --store {store})")
    return store


def _similar_papers(echo, store: Path, paper: str | None, settings: dict[str, Any] | None) -> None:
    from ckg.embed import Index, train
    from ckg.embed.config import TrainConfig

    result = train(store, TrainConfig().override(settings or {}), show_progress=False)
    text, graph, metrics = result.counts["text"], result.counts["graph"], result.metrics["graph"]
    echo(f"\ntrained embeddings (run {result.run_id}) in {result.manifest['timings_s']['total']} s: "
         f"{text['with_text']} papers with text ({result.manifest['text']['model']}), "
         f"{graph['papers_with_graph']} with a graph vector ({result.manifest['graph']['model']}"
         + (f", {metrics['evaluated_on']} MRR {metrics['mrr']:.3f})" if metrics.get("mrr") is not None else ")"))
    if paper is None:
        return
    index = Index.load(store)
    for mode in ("combined", "text"):
        echo(f"\n== papers most similar to {paper} ({mode}): {index.run.titles[index.rows[paper]]}")
        for n in index.similar(paper, k=5, mode=mode):
            echo(f"{n.rank:>3}  {n.score:.3f}  {n.paper}  {n.title[:70]}")


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
