"""The demo: generate the synthetic corpus, build its store, apply the next release, show the graph:
papers, authors, citations, and the concepts (from ckg's demo vocabulary, linked to MeSH and the
Disease Ontology) and topics (seeded LDA) the build found; then train the papers' text and
knowledge-graph embeddings and show the papers most similar to the most-cited one."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from ckg import queries
from ckg.demo_corpus import generate
from ckg.etl.build import build, update
from ckg.resources import key_of
from ckg.sparql import run_named, write
from ckg.stats import format_stats, store_stats
from ckg.store import open_store


def run_demo(out: Path, *, papers: int = 60, seed: int = 7, echo: Callable[[str], None] = print,
             embeddings: bool = True, embed_settings: dict[str, Any] | None = None,
             progress: TextIO | bool | None = True, bars: bool | None = None) -> Path:
    """Build ``out/store`` from release 1 of the demo corpus, update it to release 2, print
    statistics and the answers of a few named queries; with ``embeddings``, train the similar-paper
    engine (default settings, overridden by ``embed_settings`` such as ``{"graph.epochs": 10}``)
    and show the most-cited paper's similar papers. Returns the store path.

    While it trains, its progress goes to ``progress`` (True: stderr; None for none): progress bars
    when ``bars`` (default: when ``progress`` is a terminal), else a plain line per stage
    (:class:`TrainProgress`)."""
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
        out_stream = sys.stderr if progress is True else progress or None
        _similar_papers(echo, store, key_of(top[0][1], "paper") if top else None, embed_settings, out_stream, bars)
    echo(f"\nstore: {store}  (try: ckg query --store {store} most-cited-papers --format json; "
         f"ckg concepts --store {store}; ckg similar --store {store} PAPER; serve it: ckg serve --store {store})")
    return store


class TrainProgress:
    """The training's progress callback (``ckg.embed.train``'s ``progress``), shown on ``out``:
    with ``bars``, a tqdm bar of the text passages embedded (and the papers, after it) and of
    the graph stage (PyKEEN shows its own epoch bar for a KGE model); without, a plain line per
    stage, and one per quarter of the passages."""

    def __init__(self, out: TextIO | None, bars: bool, text_model: str, graph: str) -> None:
        self.out, self.bars, self.text_model, self.graph = out, bars, text_model, graph
        self.papers = self.papers_done = self.passages = self.passages_done = self.quarter = 0
        self.bar = None
        self.started = self.stage_started = time.perf_counter()

    def line(self, text: str) -> None:
        if self.out is not None:
            print(f"training: {text}", file=self.out, flush=True)

    def _bar(self, total: int, desc: str, unit: str):
        from tqdm import tqdm

        self.close()
        self.bar = tqdm(total=total, desc=desc, unit=unit, file=self.out, dynamic_ncols=True, leave=True)
        return self.bar

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __call__(self, stage: str, n: int) -> None:
        if self.out is None:
            return
        now = time.perf_counter()
        if stage == "text_model":
            self.started = now
            self.line(f"loading the text model ({self.text_model})")
        elif stage == "text_total":
            self.papers, self.stage_started = n, now
            self.line(f"model loaded in {now - self.started:.1f} s; embedding the text of {n} papers")
            if self.bars:
                self._bar(0, "text passages", " passages")
        elif stage == "passages_total":
            self.passages += n
            if self.bar is not None:
                self.bar.total = self.passages
                self.bar.refresh()
        elif stage == "passages":
            self.passages_done += n
            if self.bar is not None:
                self.bar.update(n)
            elif self.passages and self.passages_done * 4 >= (self.quarter + 1) * self.passages:
                self.quarter = self.passages_done * 4 // self.passages
                self.line(f"text passages {self.passages_done}/{self.passages} ({now - self.stage_started:.1f} s)")
        elif stage == "text":
            self.papers_done += n
            if self.bar is not None:
                self.bar.set_postfix_str(f"papers {self.papers_done}/{self.papers}")
        elif stage == "graph" and n == 0:
            self.close()
            self.line(f"text done: {self.papers_done}/{self.papers} papers, {self.passages_done} passages in "
                      f"{now - self.stage_started:.1f} s; graph vectors ({self.graph})")
            self.stage_started = now
        elif stage == "graph":
            self.line(f"graph done in {now - self.stage_started:.1f} s")


def _similar_papers(echo, store: Path, paper: str | None, settings: dict[str, Any] | None,
                    out: TextIO | None = None, bars: bool | None = None) -> None:
    from ckg.embed import Index, train
    from ckg.embed.config import TrainConfig

    config = TrainConfig().override(settings or {})
    if bars is None:
        bars = out is not None and hasattr(out, "isatty") and out.isatty()
    graph = (f"{config.graph.model}, at most {config.graph.epochs} epochs" if config.graph.method == "kge"
             else config.graph.method)
    progress = TrainProgress(out, bars, config.text.model, graph)
    try:
        result = train(store, config, progress=progress, show_progress=bars and out is not None)
    finally:
        progress.close()
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
