"""Build a store from a CORD-19 release, or apply a newer release to a store as an update.

Both are the same procedure, :func:`apply_release`; a build starts from an empty store.

1. **Papers.** Rows and parses are joined into papers (:mod:`ckg.etl.assemble`), each paper's
   named graph is computed and hashed. New and changed papers are streamed as N-Quads to a
   staging file; unchanged papers are left alone. An update does not even read again a row
   whose input fingerprint (row cells, parse names and bytes) the catalog holds: it costs a
   hash of its files, not a parse. A build has its rows assembled and emitted by worker
   processes (:class:`~ckg.etl.assemble.Assembler`'s ``ahead``, the ``processes`` setting), with
   the same papers, quads and report as doing it in this process, which checks the rows in
   order and writes them; the catalog's per-paper indexes are made once, after the reading.
2. **Removals.** Papers of the store missing from the new release are removed (unless
   ``keep_removed``), with their graphs.
3. **Load.** Graphs of changed and removed papers are dropped and the staging file is
   bulk-loaded into Oxigraph. A build can cut its staging file in pieces that a thread loads
   while the reading goes on (:mod:`ckg.etl.staging`, ``CKG_LOAD_PIECE_MB``; off by default).
4. **Entities.** Author and institution nodes and affiliatedWith edges are recomputed from
   the catalog for the entities the changed papers mention (all of them in a build).
   Steps 4 to 6 need only the catalog: a build runs them while a thread bulk-loads its papers,
   and stages what they write in a second file, loaded after (:func:`_stage_derived`).
5. **Citations.** Bibliography entries are resolved against the new corpus
   (:mod:`ckg.etl.citations`): every entry in a build; in an update, the entries of new and
   changed papers and the old entries the change can affect (found through the catalog's
   posting tables), so entries that pointed outside the corpus and now point at a new paper
   become edges. The difference with the stored edges is applied.
6. **Ranking.** PageRank over the citation graph replaces the graph ``graph/ranking``
   (:mod:`ckg.etl.ranking`).
7. **Concepts and topics** (:mod:`ckg.etl.annotate`). New and changed papers' concepts are
   extracted (in worker processes); concept edges (document-frequency rule, confidence) and the
   topic model are recomputed corpus-wide (above the topic model's sample size, the new and
   changed papers' topics are inferred, in worker processes), and their difference with the
   store is applied.
   Then the query signals (:mod:`ckg.etl.signals`: name keys, citation, paper and top-topic
   counts, in ``graph/signals``) are recomputed from the catalog's record of those graphs'
   edges and their difference applied.
8. **Provenance and manifest.** The release node, first/last release of each paper and a
   manifest with inputs, configuration, versions, counts, rejects and timings.

The result of an update equals a fresh build of the newer release (the provenance graph,
which records history, aside); ``tests/test_update.py`` checks this.

Both run in a new generation of the store under its writer lock (:class:`ckg.generations.Write`):
the store is the old release until the new one is complete and on disk, then the new one,
whenever the process is stopped (``tests/test_kill_injection.py`` kills it at every stage). An
update also refuses, before it writes anything, a release whose metadata file was rejected whole
and a release that would remove more than ``CKG_MAX_REMOVAL`` percent of the store's papers
(unless ``allow_mass_removal``).
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import platform
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pyoxigraph as ox

try:
    import resource
except ImportError:  # (not on Windows)
    resource = None

import ckg
from ckg import faults, resources
from ckg.etl import emit, ranking, signals
from ckg.etl.annotate import AnnotationOptions, concepts_stage, spooled_texts, topics_stage, worker_processes
from ckg.etl.assemble import Assembler, InputError, Unchanged, discover
from ckg.etl.catalog import Catalog, PaperRows, paper_rows
from ckg.etl.counts import GraphCounts, counts_of, graph_counts, outside_corpus_graphs, paper_graph_counts
from ckg.etl.records import Paper
from ckg.etl.citations import Resolution, resolve
from ckg.etl.report import Report
from ckg.etl.staging import Spool, StagedLoad, piece_bytes
from ckg.etl.workers import batches
from ckg.search import lexical as search_index
from ckg.generations import HISTORY_DIR, Write
from ckg.settings import SETTINGS, get
from ckg.store import (CATALOG_FILE, EDITED_FILE, GENERATIONS_DIR, OXIGRAPH_DIR, StoreError, add_quads, current_folder,
                       is_store, read_manifest)
from ckg.terms import DCTERMS, XSD
from ckg.writerlock import LOCK_FILE, StoreBusy

Progress = Callable[[str, int], None]
"""progress(stage, n): called as work advances (n papers or items since the last call)."""

_RELEASE_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")

WHOLE_FILE_REJECTS = ("not-metadata", "unreadable-folder")
"""Reject reasons of :mod:`ckg.etl.assemble` that mean an input file (or a folder of parses) was
rejected whole: an update stops on them, as every paper of it would look removed or changed."""


TEXTS_SPOOL = "search-texts.spool"
"""The file of a generation in which a build puts its papers' texts aside for the search index."""

COMMIT_EVERY = 20_000
"""A build commits its catalog after this many papers put, so that SQLite's write-ahead log is
checkpointed into the database and cut back (:data:`ckg.etl.catalog.WAL_LIMIT_MIB`) instead of
holding the whole catalog a second time. A build writes a new generation, which a stopped build
does not leave behind, so these commits change nothing of what a stop leaves; an update, whose
generation is a copy of the store's, commits once."""


class UpdateRefused(ValueError):
    """An update stopped before writing anything: its input would wipe papers out of the store."""


@dataclass
class RunResult:
    """What a build or update did; ``manifest`` is what was written to manifest.json."""

    store: Path
    release: str
    mode: str
    manifest: dict[str, Any]
    report: Report

    @property
    def counts(self) -> dict[str, Any]:
        return self.manifest["counts"]


@dataclass
class _Changes:
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    provenance_only: list[str] = field(default_factory=list)


class _Timer:
    """Each stage's wall time (``timings``) and CPU time (``cpu``): this process's, all threads, and
    that of the worker processes that ended during the stage (``resource.RUSAGE_CHILDREN``)."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.cpu: dict[str, dict[str, float]] = {}

    @contextmanager
    def stage(self, name: str):
        start, process, children = time.perf_counter(), time.process_time(), _children_cpu()
        faults.point(f"{name}.start")
        try:
            yield
            faults.point(f"{name}.end")
        finally:
            self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - start, 3)
            spent = self.cpu.setdefault(name, {"process": 0.0, "workers": 0.0})
            spent["process"] = round(spent["process"] + time.process_time() - process, 3)
            spent["workers"] = round(spent["workers"] + _children_cpu() - children, 3)


def _children_cpu() -> float:
    """User and system time of this process's ended children (0 where ``resource`` is missing)."""
    if resource is None:
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def release_label(paths: list[Path]) -> str:
    """A release's label from its path: the first YYYY-MM-DD in it, else the folder name.

    >>> release_label([Path("/data/cord19/release-2020-03-13")]), release_label([Path("x/2022-06-02/metadata.csv")])
    ('2020-03-13', '2022-06-02')
    >>> release_label([Path("demo/corpus")])
    'corpus'
    """
    for p in paths:
        for part in reversed(Path(p).resolve().parts[-3:]):
            if m := _RELEASE_DATE.search(part):
                return m.group(1)
    first = Path(paths[0])
    return (first.parent.name if first.is_file() else first.name) or "release"


@dataclass
class Emitted:
    """What a build makes of a paper before writing it: its graph as N-Quads, their hash (what says
    whether an update changed it), the catalog's rows of it, and its title, abstract and body as
    the graph has them (:func:`ckg.etl.emit.paper_texts`: the search index's and the title index's)."""

    nquads: bytes
    content_hash: str
    rows: PaperRows
    texts: tuple[str, str, str]


def _emitted(paper: Paper) -> Emitted:
    nquads = emit.paper_nquads(paper)
    return Emitted(nquads, _hash(nquads), paper_rows(paper), emit.paper_texts(paper))


def _emit_ahead(paper: Paper) -> None:
    """Emit a paper where it was assembled (a worker, when a build's rows are assembled ahead),
    and keep of it only what the writing process needs besides: its key, title, identifiers and
    files, not its texts, authors and bibliography (in its N-Quads, catalog rows and emitted texts
    now: the texts come once, as emitted), which would cost that process their unpickling."""
    paper.emitted = _emitted(paper)
    paper.abstract = paper.body = ""
    paper.authors, paper.bib = [], []


def _hash(nquads: bytes) -> str:
    return hashlib.sha256(b"\n".join(sorted(nquads.splitlines()))).hexdigest()


def build(store_path: Path, inputs: list[Path], *, release: str | None = None, overwrite: bool = False,
          progress: Progress | None = None, annotation: AnnotationOptions | None = None,
          command: str | None = None) -> RunResult:
    """Build a new store from a release. Refuses a folder that is already a store unless
    ``overwrite`` (the new store then replaces it when it is complete: stopped half-way, the old
    one stays). ``annotation`` chooses vocabularies, topics and extraction (default: see
    :class:`ckg.etl.annotate.AnnotationOptions`). ``command`` names the run in the writer lock
    (default: this process's command line)."""
    store_path = Path(store_path)
    inputs = [Path(p) for p in inputs]
    label = release or release_label(inputs)
    created = not store_path.exists()
    if not created and any(store_path.iterdir()):
        if is_store(store_path):
            if not overwrite:
                raise StoreError(f"{store_path} is not empty: use `ckg update` to apply a release to it, "
                                 "or --overwrite to rebuild it from scratch")
        elif not _only_leftovers(store_path):
            if not overwrite:
                raise StoreError(f"{store_path} is not empty: use `ckg update` to apply a release to it, "
                                 "or --overwrite to rebuild it from scratch")
            raise StoreError(f"{store_path} is not empty and not a ckg store: refusing to delete it")
    store_path.mkdir(parents=True, exist_ok=True)
    try:
        with Write(store_path, mode="build", release=label, command=command) as write:
            folder = write.begin(from_current=False, replaces=write.has_current)
            result = apply_release(store_path, folder, inputs, release=label, mode="build", progress=progress,
                                   annotation=annotation)
            write.commit(result.manifest)
    except StoreBusy:
        raise
    except BaseException:
        if created:
            shutil.rmtree(store_path, ignore_errors=True)  # no half-built store is left behind
        raise
    return result


_LEFTOVERS = {LOCK_FILE, GENERATIONS_DIR, "reports", HISTORY_DIR}


def _only_leftovers(path: Path) -> bool:
    """True when a folder holds nothing but what an interrupted first build leaves."""
    return all(p.name in _LEFTOVERS or (p.name.startswith(".") and p.name.endswith(".tmp")) for p in path.iterdir())


def update(store_path: Path, inputs: list[Path], *, release: str | None = None, keep_removed: bool = False,
           allow_mass_removal: bool = False, progress: Progress | None = None,
           annotation: AnnotationOptions | None = None, command: str | None = None) -> RunResult:
    """Apply a newer release to an existing store. The store is the old release until the update
    has committed, whenever and however the update stops. It refuses to start while another
    process writes the store (:class:`ckg.writerlock.StoreBusy`), and stops before writing when a
    metadata file is rejected whole or when more than ``CKG_MAX_REMOVAL`` percent of the papers
    would be removed, unless ``allow_mass_removal`` (:class:`UpdateRefused`)."""
    store_path = Path(store_path)
    if not is_store(store_path):
        raise StoreError(f"{store_path} is not a ckg store: build one first with `ckg build`")
    inputs = [Path(p) for p in inputs]
    label = release or release_label(inputs)
    with Write(store_path, mode="update", release=label, command=command) as write:
        source = current_folder(store_path)
        edited = source is not None and (source / EDITED_FILE).exists()
        counted = counts_of(store_path, source) if source is not None and not edited else None
        folder = write.begin(from_current=True)
        result = apply_release(store_path, folder, inputs, release=label, mode="update", keep_removed=keep_removed,
                               allow_mass_removal=allow_mass_removal, progress=progress, annotation=annotation,
                               source_edited=edited, counted=counted)
        write.commit(result.manifest)
    return result


def max_removal_percent() -> float:
    """``CKG_MAX_REMOVAL``: the share of a store's papers (percent) an update may remove unasked."""
    value = get("max_removal")
    try:
        percent = float(value)
    except (TypeError, ValueError):
        percent = -1.0
    if not 0 <= percent <= 100:
        raise ValueError(f"{SETTINGS['max_removal'].env}={value!r} is not a percentage between 0 and 100")
    return percent


def _refuse_unsafe_update(report: Report, before: int, removed: int, label: str, store_path: Path,
                          allow_mass_removal: bool) -> None:
    """Raise :class:`UpdateRefused` for an input file rejected whole, or a mass removal."""
    held = _held_release(store_path)
    for reason in WHOLE_FILE_REJECTS:
        if report.counts.get(reason):
            issue = report.examples[reason][0]
            raise UpdateRefused(
                f"the update stopped before writing anything: {issue.where} was rejected whole ({issue.detail}); "
                f"its papers would have been removed from the store, which still holds {held}. Fix the file and "
                f"run the update again")
    limit = max_removal_percent()
    if before and removed * 100 > limit * before and not allow_mass_removal:
        raise UpdateRefused(
            f"the update stopped before writing anything: release {label} would remove {removed:,} of the store's "
            f"{before:,} papers ({100 * removed / before:.1f}%, more than the {limit:g}% that "
            f"{SETTINGS['max_removal'].env} allows); the store still holds {held}. If the release really drops "
            f"them, run the update with --allow-mass-removal (or --keep-removed to keep them)")


def _held_release(store_path: Path) -> str:
    try:
        return f"release {read_manifest(store_path, current_folder(store_path)).get('release')}"
    except (StoreError, OSError, ValueError, TypeError):
        return "its current release"


def apply_release(store_path: Path, folder: Path, inputs: list[Path], *, release: str | None, mode: str,
                  keep_removed: bool = False, allow_mass_removal: bool = False, progress: Progress | None = None,
                  annotation: AnnotationOptions | None = None, source_edited: bool = False,
                  counted: GraphCounts | None = None) -> RunResult:
    """Apply a release to the database and catalog in ``folder`` (a new generation of the store
    at ``store_path``, empty for a build, a copy of the current release for an update); the
    report goes to ``store_path/reports``. Returns the run, whose manifest the caller commits.
    ``source_edited``: the release copied was changed in place since its catalog was written
    (SPARQL updates), so what the catalog derived from the graph is derived again. ``counted``:
    the copied release's counts outside the corpus-wide graphs (its manifest's
    ``per_property_outside_corpus_graphs`` and ``per_class_outside_corpus_graphs``), which the
    update then keeps by difference instead of scanning the paper graphs again (:mod:`ckg.etl.counts`)."""
    started = dt.datetime.now(dt.timezone.utc)
    inputs = [Path(p) for p in inputs]
    label = release or release_label(inputs)
    tick = progress or (lambda stage, n: None)
    timer = _Timer()
    (store_path / "reports").mkdir(exist_ok=True)
    report = Report(store_path / "reports" / f"{started.strftime('%Y%m%dT%H%M%S')}-{mode}-{label}.jsonl")
    staging = folder / "staging.nq"
    changes = _Changes()
    store = None
    texts_aside: Spool | None = None
    try:
        with timer.stage("discover"):
            found = discover(inputs, report)  # bad inputs fail here, before the store is touched
            if getattr(progress, "enabled", False):  # a progress bar knows its total: one pass over the rows
                tick("papers.total", expected_papers(found))
        store = ox.Store(str(folder / OXIGRAPH_DIR))
        with Catalog(folder / CATALOG_FILE) as catalog:
            previous = catalog.keys()
            if mode == "build":
                catalog.replace_titles([])  # each paper's title goes in as it is put
            touched_authors: set[str] = set()
            touched_institutions: set[str] = set()
            seen: set[str] = set()
            # an update does not read again the rows whose input the store holds as it is; a build has
            # its rows assembled and emitted in as many processes as the other heavy stages use, this
            # one checking them in order and writing them (2 workers on 2 cores: 1.2-1.6 times as fast
            # as 1 worker, whose process the writing one waited for; docs/scale.md)
            processes = worker_processes(annotation)
            assembler = Assembler(found, report, known=catalog.known_inputs() if mode == "update" else None,
                                  ahead=processes if processes > 1 else 0, finish=_emit_ahead)
            # a build may load its staging file in pieces while it reads on (ckg.etl.staging)
            cut_bytes = piece_bytes() if mode == "build" else None
            # a build puts its papers' texts aside for the search index (ckg.etl.staging.Spool)
            texts_aside = Spool(folder / TEXTS_SPOOL) if mode == "build" else None
            with StagedLoad(store, staging, cut_bytes=cut_bytes) as out:
                with timer.stage("read_and_emit"), (catalog.indexes_deferred() if mode == "build" else nullcontext()):
                    for paper in assembler.papers():
                        tick("papers", 1)
                        faults.point("read.paper")
                        seen.add(paper.key)
                        if isinstance(paper, Unchanged):
                            changes.unchanged += 1
                            continue
                        written = paper.emitted or _emitted(paper)
                        nquads, content_hash = written.nquads, written.content_hash
                        # a build's catalog starts empty and the assembler rejects a second record of a key
                        state = None if mode == "build" else catalog.paper_state(paper.key)
                        if state is not None and state[0] == content_hash:
                            changes.unchanged += 1
                            catalog.set_input(paper.key, paper.input_hash)
                            if json.loads(state[2]) != paper.source_files:
                                changes.provenance_only.append(paper.key)
                                catalog.set_provenance(paper.key, label, paper.source_files)
                                out.write(emit.paper_provenance_nquads(paper.key, state[1], label, paper.source_files))
                            continue
                        if state is not None:
                            changes.changed.append(paper.key)
                            a, i = catalog.entity_keys([paper.key])
                            touched_authors |= a
                            touched_institutions |= i
                            first = state[1]
                        else:
                            changes.new.append(paper.key)
                            first = label
                        catalog.put_paper(paper, content_hash, first, label, new=state is None, rows=written.rows)
                        texts = written.texts
                        catalog.put_title(paper.key, texts[0])  # as emitted
                        if mode != "build":  # a build describes every entity anyway
                            a, i = catalog.entity_keys([paper.key])
                            touched_authors |= a
                            touched_institutions |= i
                        out.write(nquads)
                        if texts_aside is not None:
                            texts_aside.put((paper.key, *texts))
                        out.write(emit.paper_provenance_nquads(paper.key, first, label, paper.source_files))
                        out.paper_done()  # the file may be cut and loaded here, while reading goes on (a build)
                        if mode == "build" and len(changes.new) % COMMIT_EVERY == 0:
                            catalog.commit()  # (a new generation: a stopped build leaves none of it)
                    if not keep_removed:
                        changes.removed = sorted(previous - seen)
                        a, i = catalog.entity_keys(changes.removed)
                        touched_authors |= a
                        touched_institutions |= i
                    out.write(emit.to_nquads(emit.release_quads(label, _release_date(label))))
                if mode == "build":  # what follows from the catalog alone, staged while the papers load
                    out.hand_over()
                    resolution = _stage_derived(out, catalog, timer, tick)
                if mode == "update":
                    _refuse_unsafe_update(report, len(previous), len(changes.removed), label, store_path,
                                          allow_mass_removal)

                with timer.stage("load"):
                    if counted is not None:  # what the paper graphs about to go held
                        counted = counted.plus(paper_graph_counts(store, [*changes.changed, *changes.removed]), -1)
                    prov = resources.graph(resources.PROVENANCE_GRAPH_NAME)
                    for key in [*changes.changed, *changes.removed, *changes.provenance_only]:
                        if key not in changes.provenance_only:
                            store.remove_graph(resources.paper_graph(key))
                        for q in list(store.quads_for_pattern(resources.paper(key), None, None, prov)):
                            store.remove(q)
                        faults.point("load.remove")
                    catalog.delete_papers(changes.removed)
                    out.finish()  # the pieces loaded while reading, then the rest
                    if counted is not None:
                        counted = counted.plus(paper_graph_counts(store, [*changes.changed, *changes.new]))
                staged = {"pieces": out.pieces, "loaded_by_the_thread_s": round(out.loader_s, 3)}

            if source_edited or not catalog.title_index_complete() or not catalog.title_text_complete():
                with timer.stage("title_index"):  # (a catalog made before the index or the titles as written)
                    fill_titles(catalog, store)

            if mode == "update":  # (a build staged these with its papers)
                with timer.stage("entities"):
                    _apply_entities(store, catalog, touched_authors, touched_institutions)

                with timer.stage("citations"):  # resolution keeps its outcomes and the edges in the catalog
                    resolution = resolve(catalog)
                    for citing, cited in resolution.dropped:
                        for q in emit.citation_quads(citing, cited):
                            store.remove(q)
                    add_quads(store, (q for citing, cited in resolution.added for q in emit.citation_quads(citing, cited)))
                    tick("citations", resolution.added_count)

                with timer.stage("ranking"):  # PageRank over the new citation graph (ckg.etl.ranking)
                    ranking.store_pagerank(store, catalog.keys(), catalog.citation_pairs())

            # the search index writes no quad: right after the load, while RocksDB compacts what it
            # loaded on one core (a write would wait for that compaction; the index's work does not)
            papers_counted = None
            with timer.stage("search_index"):  # BM25 beside the graph (ckg.search.lexical): what changed
                if texts_aside is not None:  # a build: the texts put aside as it read, while a thread
                    # counts its paper graphs (a scan, which does not wait for the compaction either)
                    with ThreadPoolExecutor(1, thread_name_prefix="ckg-count") as pool:
                        counting = pool.submit(outside_corpus_graphs, store)
                        search_state = search_index.write_whole(search_index.index_dir(folder), (
                            search_index.PaperText(*r) for r in texts_aside.records(keep=True)))
                        papers_counted = counting.result()
                elif source_edited:
                    search_state = search_index.rebuild(folder, store)
                else:
                    search_state = search_index.apply_changes(folder, store, [*changes.new, *changes.changed],
                                                              changes.removed)

            # -- concepts and topics (ckg.etl.annotate): corpus-wide, difference applied ---------
            # (a build's stages read the texts it put aside, not the store: ckg.etl.annotate.spooled_texts)
            texts = None if texts_aside is None else spooled_texts(partial(texts_aside.records, keep=True), store)
            with timer.stage("concepts"):
                concepts = concepts_stage(store, catalog, annotation, tick, texts)
            with timer.stage("topics"):
                topics = topics_stage(store, catalog, annotation, texts)
            with timer.stage("signals"):  # name keys and counts the named queries read (ckg.etl.signals)
                signal_counts = signals.apply_signals(store, catalog)

            catalog.commit()
            with timer.stage("flush"):
                store.flush()
            with timer.stage("count"):
                # the corpus graphs counted or derived; the rest (the paper graphs) counted by a build
                # beside its search index, or kept by difference in an update (ckg.etl.counts)
                derived = {name: stage.graph_counts for name, stage in ((resources.CONCEPTS_GRAPH_NAME, concepts),
                                                                      (resources.TOPICS_GRAPH_NAME, topics))
                           if stage.graph_counts is not None and not source_edited}
                outside = papers_counted if papers_counted is not None else counted if not source_edited else None
                counts = graph_counts(store, outside, derived)
            papers_in_store = catalog.count()
    finally:
        store = None  # close the database now, also when a traceback keeps this frame alive
        report.close()
        staging.unlink(missing_ok=True)
        if texts_aside is not None:
            texts_aside.discard()
    gc.collect()  # nothing may keep the database open past here: the commit syncs its files

    finished = dt.datetime.now(dt.timezone.utc)
    manifest = {
        "ckg": ckg.__version__,
        "mode": mode,
        "release": label,
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "inputs": [_describe_input(p) for p in inputs],
        "config": {"keep_removed": keep_removed, "release_label": label, **concepts.config, **topics.config},
        "versions": _versions(),
        "counts": {
            "papers_in_store": papers_in_store,
            "papers_read": {**assembler.counts.as_dict(), "rows_assembled_ahead": assembler.rows_assembled_ahead},
            "changes": {
                "new": len(changes.new), "changed": len(changes.changed), "unchanged": changes.unchanged,
                "removed": len(changes.removed), "provenance_only": len(changes.provenance_only),
            },
            "citations": {**resolution.summary(), "edges_added": resolution.added_count,
                          "edges_removed": len(resolution.dropped), "resolution": resolution.mode,
                          "resolution_work": resolution.work},
            "concepts": concepts.counts,
            "topics": topics.counts,
            "signals": signal_counts,
            "search_index": {"papers": search_state["papers"], "write": search_state["last_write"]["mode"]},
            "staging": staged,
            **counts,
        },
        "rejects": report.summary(),
        "timings_s": {**timer.timings, "total": round((finished - started).total_seconds(), 3)},
        "cpu_s": timer.cpu,
    }
    return RunResult(store_path, label, mode, manifest, report)


def expected_papers(found) -> int:
    """What the reading stage will count, for a progress bar's total: the metadata rows (a paper
    may have several, and parses no row names add more), else the parses."""
    import csv

    rows = 0
    for path, _ in found.metadata_files:
        try:
            with open(path, newline="", encoding="utf-8", errors="replace") as f:
                rows += max(0, sum(1 for _ in csv.reader(f)) - 1)
        except (OSError, csv.Error):
            continue  # the reading stage reports the file
    return rows or len(found.parses)


def fill_titles(catalog: Catalog, store: ox.Store) -> None:
    """Fill the catalog's title index and titles as written anew from the store's titles (the
    titles as written are marked incomplete when one is not a plain string)."""
    not_plain: list[bool] = []
    catalog.replace_titles(_store_titles(store, not_plain))
    if not_plain:
        catalog.set_meta(Catalog.TITLE_TEXT_COMPLETE, "")


def _store_titles(store: ox.Store, not_plain: list[bool]) -> Iterator[tuple[str, list[str]]]:
    """(paper key, its titles) of every paper of the store, for the title index; a True is put in
    ``not_plain`` when a title is not a plain string (the titles as written cannot be sorted as
    SPARQL sorts it)."""
    titles: dict[str, set[str]] = {}
    for q in store.quads_for_pattern(None, DCTERMS.title, None):
        key = resources.key_of(q.subject, "paper") if isinstance(q.subject, ox.NamedNode) else None
        if key is not None:
            titles.setdefault(key, set()).add(q.object.value)
            if not not_plain and not (isinstance(q.object, ox.Literal) and q.object.datatype == XSD.string):
                not_plain.append(True)
    for key, values in titles.items():
        yield key, sorted(values)


def _stage_derived(out: StagedLoad, catalog: Catalog, timer: _Timer, tick: Progress) -> Resolution:
    """A build's entities graph, citation edges and PageRank scores, which follow from the catalog
    alone, staged in a file of their own while the thread loads the papers' (the load keeps 1.85
    of the two cores busy, these stages one: at 1M they took 40 s before the load); the store
    gets two bulk loads instead of four. (docs/scale.md)"""
    with timer.stage("entities"):  # every entity, read in one pass over the catalog's mentions
        for chunk in _all_entity_nquads(catalog):
            out.write(chunk)
    with timer.stage("citations"):  # resolution keeps its outcomes and the edges in the catalog
        resolution = resolve(catalog, between=out.check)  # stops at a failed load of the papers
        for pairs in batches(resolution.added, 20_000):
            out.write(emit.citation_nquads(pairs))
        tick("citations", resolution.added_count)
    with timer.stage("ranking"):  # PageRank over the citation graph (ckg.etl.ranking)
        for piece in ranking.ranking_nquads(ranking.pagerank(catalog.keys(), catalog.citation_pairs())):
            out.write(piece)
    return resolution


def _apply_entities(store: ox.Store, catalog: Catalog, authors: set[str], institutions: set[str]) -> None:
    """Rewrite the entity-graph description of the given authors and institutions (an update).
    It writes the difference only: most of what it would remove and add again is unchanged (the
    names of an author of a changed paper; 1.5 s of removals and 7 s of additions of 113,000
    quads for 10,674 authors at 100k papers), a range of ``ENTITY_RANGE`` nodes at a time."""
    entities = resources.graph(resources.ENTITIES_GRAPH_NAME)
    for part_authors, part_institutions in (*((a, ()) for a in batches(sorted(authors), ENTITY_RANGE)),
                                            *(((), i) for i in batches(sorted(institutions), ENTITY_RANGE))):
        nodes = [*map(resources.author, part_authors), *map(resources.institution, part_institutions)]
        old = {q for node in nodes for q in store.quads_for_pattern(node, None, None, entities)}
        new = list(dict.fromkeys(emit.quads_of(b"".join(_entity_nquads(catalog, part_authors, part_institutions)))))
        for q in old.difference(new):
            store.remove(q)
        add_quads(store, [q for q in new if q not in old])


ENTITY_RANGE = 20_000
"""Authors (or institutions) an update rewrites at a time: bounds the quads held to compare."""


def _all_entity_nquads(catalog: Catalog) -> Iterator[bytes]:
    """The entities graph whole: what :func:`_entity_nquads` gives for every author and
    institution the catalog names."""
    for key, name, given, family in catalog.author_descriptions():
        yield emit.author_nquads(key, name, given, family)
    for author, institution in catalog.all_affiliations():
        yield emit.affiliation_nquads(author, institution)
    for key, *desc in catalog.institution_descriptions():
        yield emit.institution_nquads(key, *desc)


def _entity_nquads(catalog: Catalog, authors: Iterable[str], institutions: Iterable[str]) -> Iterator[bytes]:
    for key in sorted(authors):
        desc = catalog.author_description(key)
        if desc is None:
            continue  # no paper mentions the author any more
        yield emit.author_nquads(key, *desc)
        for inst in catalog.affiliations_of(key):
            yield emit.affiliation_nquads(key, inst)
    for key in sorted(institutions):
        desc = catalog.institution_description(key)
        if desc is not None:
            yield emit.institution_nquads(key, *desc)


def _describe_input(path: Path) -> dict[str, Any]:
    path = Path(path)
    info: dict[str, Any] = {"path": str(path.resolve())}
    if path.is_file():
        info["bytes"] = path.stat().st_size
        h = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                h.update(block)
        info["sha256"] = h.hexdigest()
    elif path.is_dir():
        files = [p for p in path.rglob("*") if p.is_file()]
        info["files"] = len(files)
        info["json_files"] = sum(1 for p in files if p.suffix == ".json")
        info["bytes"] = sum(p.stat().st_size for p in files)
    return info


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for dist in ("ckg", "pyoxigraph", "spacy", "scispacy", "tomotopy"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out


def _release_date(label: str) -> str | None:
    m = _RELEASE_DATE.fullmatch(label)
    return m.group(1) if m else None


__all__ = ["build", "update", "apply_release", "release_label", "RunResult", "InputError", "StoreError", "StoreBusy",
           "UpdateRefused"]
