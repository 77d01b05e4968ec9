"""The concepts-and-topics stage of a build or update: associatedConcept and associatedTopic edges.

Two steps, each timed in the manifest (``concepts``, ``topics``), after the papers, entities
and citations are in the store:

**Concepts** (:mod:`ckg.etl.concepts`, :mod:`ckg.etl.concept_edges`).

1. The vocabularies are loaded and merged and the gazetteer is built (kept in memory for the
   next build of the same process). Its fingerprint (phrases, configuration, extractor
   version) is compared with the one the catalog recorded: when it differs, every paper's
   mentions are dropped.
2. Papers without extracted mentions — new and changed papers (the catalog drops a changed
   paper's mentions with the rest of its rows), or all of them after a vocabulary change — are
   read back from the store (title, abstract, body text) and extracted, in parallel processes;
   the mention counts go to the catalog. Unchanged papers are never extracted again.
3. The edges are decided corpus-wide from all mention counts (evidence, document frequency,
   confidence) and only their difference with the edges in the store (the catalog keeps those)
   is applied; the concept nodes that edges point at are rewritten where their triples change.

**Topics** (:mod:`ckg.etl.topics`). Up to the configuration's ``max_training_papers``, the
seeded LDA is trained on the whole corpus (papers in key order, texts read back from the store),
deterministically; the difference between its topic nodes and paper edges and those in the store
is applied. When no paper's triples and no setting changed since the last run (the catalog keeps
a fingerprint of both), training would give the same model, and it is skipped. Above that size,
the model is trained on a sample, kept in the catalog, and papers are inferred with it: an
update infers the new and changed papers only (and drops the edges of removed ones), until the
papers inferred since training exceed ``retrain_share`` of the corpus.

Both graphs are thus a function of the corpus, the vocabulary files and the configuration
only, whatever history the store has: ``ckg update`` gives exactly the triples of a fresh build
of the newer release (``tests/test_update.py``). Without options, a build uses the vocabulary
ckg ships (:data:`ckg.etl.vocab.DEMO_VOCABULARY`) and the default topics, or the files named by
the ``CKG_VOCAB``/``CKG_TOPICS`` settings; an update keeps what the store was built with unless
it is given others.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ckg import resources
from ckg.etl import concept_edges, topics
from ckg.etl.catalog import Catalog, read_topic_model
from ckg.etl.concepts import ExtractionConfig, Gazetteer, default_processes, extract_many, make_extractor
from ckg.etl.counts import GraphCounts
from ckg.etl.workers import processes_for
from ckg.executor import Executor
from ckg.etl.vocab import Vocabulary, VocabularyError, default_vocabularies, describe, load
from ckg.settings import get
from ckg.store import add_quads
from ckg.terms import CKG, DCTERMS, RDF

_META_OPTIONS = "annotation_options"
_META_FINGERPRINT = "concepts_fingerprint"
_META_TOPICS = "topics_fingerprint"
_META_RULES = "concept_edge_rules"
CONCEPTS = resources.CONCEPTS_GRAPH_NAME
TOPICS = resources.TOPICS_GRAPH_NAME


@dataclass
class AnnotationOptions:
    """How a build or update finds concepts and topics. ``None`` means: what the store was
    built with (on update), else the setting (``CKG_VOCAB``, ``CKG_TOPICS``, ``CKG_PROCESSES``),
    else ckg's defaults."""

    vocabularies: list[Path] | None = None
    topics: Path | None = None
    extractor: str | None = None
    scispacy_model: str | None = None
    processes: int | None = None
    rules: concept_edges.EdgeRules = field(default_factory=concept_edges.EdgeRules)
    topics_from: Path | None = None  # a store whose sampled topic model to infer with (see ckg.etl.topics)
    executor: Executor = field(default_factory=Executor)  # where concept extraction runs (ckg.executor)


@dataclass
class _Resolved:
    vocabularies: list[Path]
    topics: Path | None
    extraction: ExtractionConfig
    processes: int

    def recorded(self) -> str:
        return json.dumps({"vocabularies": [str(p) for p in self.vocabularies],
                           "topics": str(self.topics) if self.topics else None,
                           "extractor": self.extraction.extractor, "scispacy_model": self.extraction.scispacy_model})


def _resolve(options: AnnotationOptions | None, catalog: Catalog) -> _Resolved:
    options = options or AnnotationOptions()
    stored = json.loads(catalog.get_meta(_META_OPTIONS) or "{}")
    if options.vocabularies:
        vocab = [Path(p) for p in options.vocabularies]
    elif stored.get("vocabularies"):
        vocab = [Path(p) for p in stored["vocabularies"]]
    else:
        vocab = default_vocabularies()
    for p in vocab:
        if not p.is_file():
            raise VocabularyError(f"vocabulary file {p} not found" + (
                " (the store was built with it: give the vocabulary again with --vocab)" if not options.vocabularies
                and stored.get("vocabularies") else ""))
    topic_file = options.topics or (Path(stored["topics"]) if stored.get("topics") else None) or (
        Path(get("topics")) if get("topics") else None)
    extractor = options.extractor or stored.get("extractor") or "gazetteer"
    model = options.scispacy_model or stored.get("scispacy_model") or "en_core_sci_sm"
    return _Resolved([p.resolve() for p in vocab], topic_file.resolve() if topic_file else None,
                     ExtractionConfig(extractor=extractor, scispacy_model=model), worker_processes(options))


def worker_processes(options: AnnotationOptions | None) -> int:
    """The processes the heavy stages use: ``--processes``, else the ``processes`` setting, else
    one per CPU (at most 16)."""
    chosen = options.processes if options is not None else None
    return max(1, chosen or (int(get("processes")) if get("processes") else default_processes()))


@dataclass
class StageResult:
    """What a stage records in the manifest: its configuration and its counts."""

    config: dict[str, Any]
    counts: dict[str, Any]
    graph_counts: GraphCounts | None = None
    """The counts of the stage's graph as the stage left it (:func:`graph_quad_counts`), or None
    where the stage did not look (an unchanged full topic model)."""


# -- the vocabulary, built once per process ---------------------------------------------------------

_CACHE: dict[str, tuple[Vocabulary, Gazetteer, Any]] = {}


def _gazetteer(resolved: _Resolved) -> tuple[Vocabulary, Gazetteer, Any, list[dict]]:
    files = [describe(p) for p in resolved.vocabularies]
    cache_key = json.dumps([[f["path"], f["sha256"]] for f in files] + [resolved.extraction.as_dict()])
    if cache_key not in _CACHE:
        vocabulary = load(resolved.vocabularies, synonym_scopes=resolved.extraction.synonym_scopes)
        gazetteer = Gazetteer.build(vocabulary, resolved.extraction)
        extractor = make_extractor(gazetteer, resolved.extraction)
        if len(_CACHE) >= 2:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[cache_key] = (vocabulary, gazetteer, extractor)
    vocabulary, gazetteer, extractor = _CACHE[cache_key]
    return vocabulary, gazetteer, extractor, vocabulary.files


Texts = Callable[..., Iterator[tuple[str, str, str, str]]]
"""Where the annotation stages read the papers' texts: ``texts(keys, body=True)`` yields (key,
title, abstract, body) of each of ``keys``, in any order; :func:`paper_texts` of the store by
default, the build's spool of what it wrote (:func:`spooled_texts`) in a build."""


def spooled_texts(records: Callable[[], Iterable[tuple[str, ...]]], store: ox.Store) -> Texts:
    """A :data:`Texts` that reads ``records()`` ((key, title, abstract, body) of the papers a build
    put, in the order it put them: :class:`ckg.etl.staging.Spool`), keeps those of the keys asked
    for, and reads from the store any key the records do not hold. A build's stages then read
    their texts in one pass over a file instead of three lookups a paper in the store (at 1M
    papers, 56% of the topic stage's main process; 94-649 us a paper).

    >>> store = ox.Store()
    >>> store.add(ox.Quad(resources.paper("c"), DCTERMS.title, ox.Literal("Stored"), resources.paper_graph("c")))
    >>> read = spooled_texts(lambda: [("a", "A", "abstract", "body"), ("b", "B", "", "")], store)
    >>> list(read(["c", "a"], body=False))
    [('a', 'A', 'abstract', ''), ('c', 'Stored', '', '')]
    """
    def read(keys: Iterable[str], *, body: bool = True) -> Iterator[tuple[str, str, str, str]]:
        wanted = set(keys)
        for key, title, abstract, text in records():
            if key in wanted:
                wanted.discard(key)
                yield key, title, abstract, text if body else ""
        yield from paper_texts(store, sorted(wanted), body=body)

    return read


def paper_texts(store: ox.Store, keys: Iterable[str], *, body: bool = True) -> Iterator[tuple[str, str, str, str]]:
    """(key, title, abstract, body text) of papers, read from their graphs in the store (the body
    left empty, and unread, with ``body=False``)."""
    for key in keys:
        subject, graph = resources.paper(key), resources.paper_graph(key)

        def value(prop: ox.NamedNode) -> str:
            quad = next(store.quads_for_pattern(subject, prop, None, graph), None)
            return quad.object.value if quad is not None else ""

        yield key, value(DCTERMS.title), value(DCTERMS.abstract), value(CKG.bodyText) if body else ""


# -- applying differences ----------------------------------------------------------------------------

def _write_difference(store: ox.Store, old: dict[tuple[str, str], tuple[str, int]],
                      new: dict[tuple[str, str], tuple[str, int]],
                      quads: Callable[[str, str, float, int], list[ox.Quad]]) -> tuple[int, int]:
    """Write the difference between two sets of edges to the store: the quads of removed edges go,
    those of added edges come, and of an edge whose weight changed only the quads that differ
    (its weight literal). Returns (edges added or changed, edges removed or changed)."""
    changed = [e for e, v in new.items() if e in old and old[e] != v]
    added = [e for e in new if e not in old]
    removed = [e for e in old if e not in new]
    for k, t in removed:
        weight, extra = old[(k, t)]
        for q in quads(k, t, float(weight), extra):
            store.remove(q)
    fresh: list[ox.Quad] = []
    for k, t in changed:
        before = set(quads(k, t, float(old[(k, t)][0]), old[(k, t)][1]))
        after = quads(k, t, float(new[(k, t)][0]), new[(k, t)][1])
        for q in before.difference(after):
            store.remove(q)
        fresh.extend(q for q in after if q not in before)
    store.extend(fresh)
    add_quads(store, (q for k, t in added for q in quads(k, t, float(new[(k, t)][0]), new[(k, t)][1])))
    return len(added) + len(changed), len(removed) + len(changed)


def _apply_edges(store: ox.Store, catalog: Catalog, graph: str, new: dict[tuple[str, str], tuple[str, int]],
                 quads: Callable[[str, str, float, int], list[ox.Quad]]) -> tuple[int, int]:
    old = catalog.annotation_edges(graph)
    counts = _write_difference(store, old, new, quads)
    catalog.replace_annotation_edges(graph, new)
    return counts


EDGE_RANGE_PAPERS = 20_000
"""Papers whose edges :func:`_apply_edges_by_range` holds at once (a few hundred MB at most)."""


def _apply_edges_by_range(store: ox.Store, catalog: Catalog, graph: str,
                          edges_between: Callable[[str | None, str | None], dict[tuple[str, str], tuple[str, int]]],
                          quads: Callable[[str, str, float, int], list[ox.Quad]]) -> tuple[int, int]:
    """:func:`_apply_edges` of every paper's edges, one range of paper keys at a time
    (:meth:`Catalog.key_ranges`; ``edges_between(lo, hi)``: the new edges of the papers of a
    range), so that memory follows the range, not the corpus. The ranges cover every key: the
    old edges of papers no longer in the catalog go too."""
    added = removed = 0
    for lo, hi in catalog.key_ranges(EDGE_RANGE_PAPERS):
        new = edges_between(lo, hi)
        a, r = _write_difference(store, catalog.annotation_edges_between(graph, lo, hi), new, quads)
        catalog.replace_annotation_edges_between(graph, lo, hi, new)
        added, removed = added + a, removed + r
    return added, removed


def _apply_scope_edges(store: ox.Store, catalog: Catalog, graph: str, keys: set[str], targets: set[str],
                       new: dict[tuple[str, str], tuple[str, int]],
                       quads: Callable[[str, str, float, int], list[ox.Quad]]) -> tuple[int, int]:
    """:func:`_apply_edges` for the edges of the given papers and targets (``new`` holds their edges)."""
    counts = _write_difference(store, catalog.annotation_edges_scope(graph, keys, targets), new, quads)
    catalog.replace_annotation_edges_scope(graph, keys, targets, new)
    return counts


def _apply_nodes(store: ox.Store, catalog: Catalog, graph: str, nodes: dict[str, list[ox.Quad]],
                 iri: Callable[[str], ox.NamedNode]) -> tuple[int, int]:
    old = catalog.annotation_nodes(graph)
    new = {k: hashlib.sha256("\n".join(sorted(str(q) for q in qs)).encode()).hexdigest() for k, qs in nodes.items()}
    g = resources.graph(graph)
    changed = 0
    for k, h in old.items():
        if new.get(k) != h:
            for q in list(store.quads_for_pattern(iri(k), None, None, g)):
                store.remove(q)
    for k, h in new.items():
        if old.get(k) != h:
            store.extend(nodes[k])
            changed += 1
    catalog.replace_annotation_nodes(graph, new)
    return changed, sum(1 for k in old if k not in new)


def graph_quad_counts(edges: int, edge_quads: Callable[[str, str, float, int], list[ox.Quad]],
                      nodes: dict[str, list[ox.Quad]]) -> GraphCounts:
    """Triples per property and instances per class of a concepts or topics graph that holds
    ``edges`` edges and the quads of ``nodes``, as the stage writes them: every edge has quads of
    its own, with the same properties and the same typed annotation node (those of
    ``edge_quads``, whatever the weights), and a node's quads are about the node. So an update
    knows these counts without reading the graph again (:mod:`ckg.etl.counts`; a scan of the
    100k store's concepts graph, 6.7 million quads, takes 2 s). ``tests/test_update.py`` checks
    them against a scan.

    >>> from ckg.etl.concept_edges import edge_quads
    >>> counts = graph_quad_counts(3, edge_quads, {})
    >>> counts.properties[CKG.associatedConcept.value], sum(counts.properties.values())
    (3, 27)
    >>> counts.classes[CKG.ConceptAssociation.value]
    3
    """
    properties: Counter[str] = Counter()
    classes: Counter[str] = Counter()
    for q in edge_quads("paper", "target", 0.5, 1):
        properties[q.predicate.value] += edges
        if q.predicate == RDF.type:
            classes[q.object.value] += edges
    for quads in nodes.values():
        unique = list(dict.fromkeys(quads))
        properties.update(q.predicate.value for q in unique)
        classes.update({q.object.value for q in unique if q.predicate == RDF.type})
    return GraphCounts(dict(sorted(properties.items())), dict(sorted(classes.items())))


# -- the stages -------------------------------------------------------------------------------------------

def _stored(selection: concept_edges.Selection) -> dict[tuple[str, str], tuple[str, int]]:
    """A selection's edges as the catalog records them: (confidence literal, mentions)."""
    return {e: (f"{c:.3f}", n) for e, (c, n) in selection.edges.items()}


def _extract(executor: Executor, texts: Texts, todo: list[str], gazetteer: Gazetteer, extractor: Any,
             resolved: _Resolved, processes: int, tick: Callable[[str, int], None]
             ) -> Iterator[tuple[str, dict[str, tuple[int, int, int]], int]]:
    """(key, mentions, words) of the papers ``todo``, extracted by local processes or by Ray."""
    if executor.is_local:
        for key, found in extract_many(texts(todo), extractor, resolved.extraction, processes=processes):
            tick("concepts", 1)
            yield key, found.mentions, found.words
        return
    if not todo:
        return
    from ckg.etl.concepts import ConceptBatches
    from ckg.ray_pipeline import map_papers

    rows = ({"key": k, "title": t, "abstract": a, "body": b} for k, t, a, b in texts(todo))
    args = (pickle.dumps(gazetteer), resolved.extraction)
    for row in map_papers(executor, rows, ConceptBatches, args, stage="concepts", tick=tick):
        yield str(row["key"]), {c: tuple(v) for c, v in json.loads(str(row["mentions"])).items()}, int(row["words"])


def concepts_stage(store: ox.Store, catalog: Catalog, options: AnnotationOptions | None,
                   tick: Callable[[str, int], None] = lambda stage, n: None, texts: Texts | None = None) -> StageResult:
    """Extract concepts of the papers that need it (their texts read by ``texts``, else from the
    store) and apply the corpus's concept edges."""
    resolved = _resolve(options, catalog)
    rules = (options or AnnotationOptions()).rules
    start = time.perf_counter()
    vocabulary, gazetteer, extractor, files = _gazetteer(resolved)
    vocabulary_s = time.perf_counter() - start
    fingerprint = gazetteer.fingerprint()
    cleared = catalog.get_meta(_META_FINGERPRINT) != fingerprint
    if cleared:
        catalog.clear_concept_mentions()
    todo = catalog.keys_without_concepts()
    executor = (options or AnnotationOptions()).executor
    processes = processes_for(len(todo), resolved.processes) if executor.is_local else 0
    start = time.perf_counter()
    words = 0
    read = texts or partial(paper_texts, store)
    for key, mentions, n in _extract(executor, read, todo, gazetteer, extractor, resolved, processes, tick):
        catalog.put_concept_mentions(key, mentions, n)
        words += n
    extraction_s = time.perf_counter() - start
    catalog.set_meta(_META_FINGERPRINT, fingerprint)
    catalog.set_meta(_META_OPTIONS, resolved.recorded())

    papers = catalog.count()
    df = catalog.concept_document_frequencies()
    states = {c: concept_edges.concept_state(n, papers, rules) for c, n in df.items()}
    rules_key = json.dumps(rules.as_dict(), sort_keys=True)
    incremental = not cleared and catalog.get_meta(_META_RULES) == rules_key
    if incremental:
        # only the edges of new, changed and removed papers, and of concepts whose state changed
        previous = catalog.concept_states()
        concepts_changed = {c for c in states.keys() | previous.keys() if states.get(c) != previous.get(c)}
        papers_changed = set(todo) | set(catalog.annotation_orphans(CONCEPTS))
        selection = concept_edges.decide(catalog.concept_mention_rows_scope(papers_changed, concepts_changed), df,
                                         papers, rules)
        edges = _stored(selection)
        added, removed = _apply_scope_edges(store, catalog, CONCEPTS, papers_changed, concepts_changed, edges,
                                            concept_edges.edge_quads)
        recomputed = len(edges)
    else:  # every paper's edges, a range of papers at a time
        concepts_changed = set(states)
        recomputed = 0

        def edges_between(lo: str | None, hi: str | None) -> dict[tuple[str, str], tuple[str, int]]:
            nonlocal recomputed
            selection = concept_edges.decide(catalog.concept_mention_rows_between(lo, hi), df, papers, rules, states)
            recomputed += len(selection.edges)
            return _stored(selection)
        added, removed = _apply_edges_by_range(store, catalog, CONCEPTS, edges_between, concept_edges.edge_quads)
    catalog.set_concept_states(states)
    catalog.set_meta(_META_RULES, rules_key)
    dropped = {c: n for c, n in df.items() if states[c][1]}
    below_evidence = sum(n for c, n in catalog.weak_mentions(rules.min_body_mentions).items() if not states[c][1])
    edge_count, with_concepts, used = catalog.annotation_edge_totals(CONCEPTS)
    nodes = {c: concept_edges.concept_quads(vocabulary.by_key[c]) for c in used if c in vocabulary.by_key}
    nodes_written, nodes_removed = _apply_nodes(store, catalog, CONCEPTS, nodes, resources.concept)
    kinds = Counter(vocabulary.by_key[c].kind for c in used if c in vocabulary.by_key)
    config = {
        "vocabularies": files,
        "extraction": resolved.extraction.as_dict(),
        "edge_rules": rules.as_dict(),
    }
    counts = {
        "vocabulary": {"concepts": len(vocabulary), "phrases": len(gazetteer.phrases),
                       "stop_listed_phrases": gazetteer.stopped, "excluded_concepts": gazetteer.excluded_concepts,
                       "load_s": round(vocabulary_s, 3)},
        "extraction": {"papers": len(todo), "words": words, "executor": executor.describe(), "processes": processes,
                       "seconds": round(extraction_s, 3),
                       "papers_per_s": round(len(todo) / extraction_s, 1) if todo and extraction_s else None,
                       "words_per_s": round(words / extraction_s) if todo and extraction_s else None},
        "papers": papers,
        "papers_with_concepts": with_concepts,
        "edges": edge_count,
        "concepts": len(used),
        "concepts_by_kind": dict(sorted(kinds.items())),
        "below_evidence": below_evidence,
        "dropped_by_df": {c: n for c, n in sorted(dropped.items(), key=lambda kv: (-kv[1], kv[0]))},
        "edges_added": added, "edges_removed": removed,
        "edges_recomputed": recomputed, "concepts_restated": len(concepts_changed),
        "incremental": incremental,
        "nodes_written": nodes_written, "nodes_removed": nodes_removed,
    }
    return StageResult(config, counts, graph_quad_counts(edge_count, concept_edges.edge_quads, nodes))


def _tomotopy_isa() -> str:
    """The instruction set tomotopy runs with (its floating-point results may differ between them)."""
    import tomotopy

    return getattr(tomotopy, "isa", "unknown")


def topics_stage(store: ox.Store, catalog: Catalog, options: AnnotationOptions | None,
                 texts: Texts | None = None) -> StageResult:
    """Train the topic model on the corpus (or a sample of it) and apply its topic nodes and paper
    edges; a model of a sample infers every paper's topics from ``texts`` (else the store's)."""
    resolved = _resolve(options, catalog)
    config = topics.load_config(resolved.topics)
    donor = options.topics_from if options else None
    if donor is not None or catalog.count() > config.max_training_papers:
        return _sampled_topics(store, catalog, config, donor, resolved.processes, texts or partial(paper_texts, store))
    if catalog.topic_model() is not None:  # the corpus shrank below the sample size: back to a full model
        catalog.set_topic_model(None, None)
        catalog.set_topics_inferred(None)
        catalog.set_meta(_META_TOPICS, "")
    settings = _topic_settings(config)
    fingerprint = hashlib.sha256((json.dumps(settings, sort_keys=True) + catalog.corpus_hash()).encode()).hexdigest()
    if catalog.get_meta(_META_TOPICS) == fingerprint:
        # same papers, same configuration: training would give the topics already in the store
        return StageResult({"topics": config.as_dict()}, {**json.loads(catalog.get_meta(_META_TOPICS + "_counts")),
                                                          "skipped": True, "edges_added": 0, "edges_removed": 0,
                                                          "nodes_written": 0, "nodes_removed": 0})
    phrases = config.phrases()
    start = time.perf_counter()
    documents = [(key, topics.tokenize(topics.document(title, abstract, body, config.body_chars), phrases))
                 for key, title, abstract, body in paper_texts(store, sorted(catalog.keys()), body=config.body_chars != 0)]
    tokenize_s = time.perf_counter() - start
    start = time.perf_counter()
    result = topics.train(documents, config)
    train_s = time.perf_counter() - start
    edges = {e: (f"{p:.3f}", rank) for e, (p, rank) in result.edges.items()}
    added, removed = _apply_edges(store, catalog, TOPICS, edges, topics.edge_quads)
    nodes = {t.key: topics.topic_quads(t) for t in result.topics}
    nodes_written, nodes_removed = _apply_nodes(store, catalog, TOPICS, nodes, resources.topic)
    top = Counter(t for (_k, t), (_p, rank) in edges.items() if rank == 1)
    papers = Counter(t for (_k, t) in edges)
    counts = {
        "mode": "full",
        "documents": result.documents, "tokens": result.tokens, "vocabulary": result.vocabulary,
        "log_likelihood_per_word": result.log_likelihood_per_word, "tomotopy_isa": _tomotopy_isa(),
        "tokenize_s": round(tokenize_s, 3), "train_s": round(train_s, 3),
        "edges": len(edges), "edges_added": added, "edges_removed": removed,
        "nodes_written": nodes_written, "nodes_removed": nodes_removed,
        "topics": [{"key": t.key, "label": t.label, "top_topic_of": top.get(t.key, 0), "papers": papers.get(t.key, 0),
                    "top_terms": t.top_terms, "seeds_not_in_corpus": t.missing_seeds} for t in result.topics],
        "skipped": False,
    }
    catalog.set_meta(_META_TOPICS, fingerprint)
    catalog.set_meta(_META_TOPICS + "_counts", json.dumps(counts))
    return StageResult({"topics": config.as_dict()}, counts, graph_quad_counts(len(edges), topics.edge_quads, nodes))


def _topic_settings(config: topics.TopicConfig) -> dict[str, Any]:
    return {k: v for k, v in config.as_dict().items() if k != "path"}


def _donor_model(donor: Path, settings_hash: str) -> tuple[bytes, dict]:
    """The sampled topic model of another store (``--topics-from``), checked against our settings."""
    from ckg.store import CATALOG_FILE, StoreError, current_folder

    folder = current_folder(Path(donor))
    if folder is None or not (folder / CATALOG_FILE).is_file():
        raise StoreError(f"{donor} is not a ckg store: --topics-from needs a store built with a sampled topic model")
    model = read_topic_model(folder / CATALOG_FILE)
    if model is None:
        raise StoreError(f"{donor} has no sampled topic model (its corpus was within max_training_papers): "
                         "there is no model to reuse")
    if model[1].get("settings") != settings_hash:
        raise StoreError(f"{donor}'s topic model was trained with other topic settings than this run's")
    return model


def _sampled_topics(store: ox.Store, catalog: Catalog, config: topics.TopicConfig, donor: Path | None,
                    processes: int, texts: Texts) -> StageResult:
    """Topics above ``max_training_papers``: a model trained on a sample, papers inferred with it."""
    settings_hash = hashlib.sha256(json.dumps(_topic_settings(config), sort_keys=True).encode()).hexdigest()
    papers_now = catalog.count()
    held = catalog.topic_model()
    pending = catalog.keys_without_topics()
    tokenize_s = train_s = 0.0
    phrases = config.phrases()
    trained = False
    if donor is not None:
        data, info = _donor_model(donor, settings_hash)
        if held is None or held[0] != data:
            info = {**info, "inferred_since": 0}
            catalog.set_topic_model(data, info)
            catalog.set_topics_inferred(None)
            pending = catalog.keys_without_topics()
        else:
            info = held[1]
    elif (held is None or held[1].get("settings") != settings_hash
          or held[1].get("inferred_since", 0) + len(pending) > config.retrain_share * papers_now):
        start = time.perf_counter()
        sample = topics.training_sample(catalog.keys(), config.max_training_papers)
        documents = [(key, topics.tokenize(topics.document(title, abstract, body, config.body_chars), phrases))
                     for key, title, abstract, body in paper_texts(store, sample, body=config.body_chars != 0)]
        tokenize_s = time.perf_counter() - start
        start = time.perf_counter()
        model = topics.train_sample(documents, config)
        train_s = time.perf_counter() - start
        info = {"settings": settings_hash, "papers_at_training": papers_now, "sample": model.documents,
                "tokens": model.tokens, "vocabulary": model.vocabulary,
                "log_likelihood_per_word": model.log_likelihood_per_word,
                "topics": [{"key": t.key, "label": t.label, "seed_words": list(t.seed_words), "top_terms": t.top_terms,
                            "missing": t.missing_seeds} for t in model.topics],
                "inferred_since": 0}
        data = model.data
        catalog.set_topic_model(data, info)
        catalog.set_topics_inferred(None)
        pending = catalog.keys_without_topics()
        trained = True
    else:
        data, info = held
    start = time.perf_counter()
    processes = processes_for(len(pending), processes)
    added = removed = 0
    apply_s = 0.0
    orphans = set(catalog.annotation_orphans(TOPICS))
    batch: set[str] = set()
    edges: dict[tuple[str, str], tuple[str, int]] = {}

    def flush(keys: set[str]) -> None:  # the edges of these papers (a batch: memory follows it, not the corpus)
        nonlocal added, removed, apply_s
        started = time.perf_counter()
        a, r = _apply_scope_edges(store, catalog, TOPICS, keys, set(), edges, topics.edge_quads)
        added, removed, apply_s = added + a, removed + r, apply_s + time.perf_counter() - started
        keys.clear()
        edges.clear()
    for key, found in topics.infer_many(texts(pending, body=config.body_chars != 0), data, config, processes=processes):
        batch.add(key)
        for e, (p, rank) in found.items():
            edges[e] = (f"{p:.3f}", rank)
        if len(batch) >= EDGE_RANGE_PAPERS:
            flush(batch)
    flush(batch | orphans)
    infer_s = time.perf_counter() - start - apply_s
    catalog.set_topics_inferred(pending)
    if not trained:
        info = {**info, "inferred_since": info.get("inferred_since", 0) + len(pending)}
        catalog.set_topic_model_info(info)
    model_topics = [topics.Topic(t["key"], t["label"], tuple(t["seed_words"]), t["top_terms"], t["missing"])
                    for t in info["topics"]]
    nodes = {t.key: topics.topic_quads(t) for t in model_topics}
    nodes_written, nodes_removed = _apply_nodes(store, catalog, TOPICS, nodes, resources.topic)
    catalog.set_meta(_META_TOPICS, "")  # a full model, should the corpus shrink back, is trained again
    summary = catalog.annotation_edge_summary(TOPICS)
    counts = {
        "mode": "sampled", "trained": trained, "model_from": str(Path(donor).resolve()) if donor else None,
        "documents": info["sample"], "papers_at_training": info["papers_at_training"], "tokens": info["tokens"],
        "vocabulary": info["vocabulary"], "log_likelihood_per_word": info["log_likelihood_per_word"],
        "inferred": len(pending), "inferred_since_training": info["inferred_since"] if not trained else 0,
        "tomotopy_isa": _tomotopy_isa(),
        "tokenize_s": round(tokenize_s, 3), "train_s": round(train_s, 3), "infer_s": round(infer_s, 3),
        "edges_apply_s": round(apply_s, 3),
        "infer_processes": processes,
        "edges": sum(n for _top, n in summary.values()), "edges_added": added, "edges_removed": removed,
        "nodes_written": nodes_written, "nodes_removed": nodes_removed,
        "topics": [{"key": t.key, "label": t.label, "top_topic_of": summary.get(t.key, (0, 0))[0],
                    "papers": summary.get(t.key, (0, 0))[1], "top_terms": t.top_terms,
                    "seeds_not_in_corpus": t.missing_seeds} for t in model_topics],
        "skipped": not pending and not orphans,
    }
    return StageResult({"topics": config.as_dict()}, counts,
                       graph_quad_counts(counts["edges"], topics.edge_quads, nodes))
