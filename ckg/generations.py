"""Writing a store atomically: generations, the commit point, and recovery.

A build or an update never changes the release that readers see. Under the writer lock
(:mod:`ckg.writerlock`) it

1. makes a new generation ``STORE/generations/<id>/`` with a marker ``writing.json`` (pid,
   command, release, start time), and for an update a copy of the current release: a RocksDB
   checkpoint of the database (hard links of its immutable files: cheap) and a copy of the
   catalog (SQLite's backup API);
2. applies the release there (:mod:`ckg.etl.build`);
3. flushes the database, checkpoints the catalog, writes the generation's ``manifest.json``
   and ``fsync``\\ s every file and folder of the generation;
4. replaces ``STORE/CURRENT`` with a file naming the new generation (and the one before it):
   written to a temporary file, ``fsync``\\ ed, renamed over ``CURRENT``, folder ``fsync``\\ ed.
   **This rename is the commit point**: before it the store is the old release, after it the
   new one, whenever the process dies (SIGKILL, SIGTERM, a power loss);
5. finishes: points ``STORE/manifest.json`` at the new manifest, copies it to ``manifests/``,
   deletes the generations older than the previous one, and removes the marker last.

A run that dies leaves a generation that ``CURRENT`` does not name (before the commit point) or
a current generation that still has its marker (after it). Whoever opens the store next and can
take the writer lock (a reader never waits for it) runs :func:`recover`: it deletes the first,
finishes the second, and says what it did in one line on stderr. A store of the first layout
(the database at the top of the folder) becomes the previous generation of its first new one,
and is deleted by the write after that.

The endpoint's SPARQL updates write into the current generation in place, in a transaction,
under the same lock (:meth:`ckg.server.engine.EngineContext.write`).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ckg import faults
from ckg.durable import fsync_dir, fsync_tree, is_temporary, symlink_atomic, write_atomic
from ckg.store import (CATALOG_FILE, CURRENT_FILE, GENERATIONS_DIR, LEGACY, MANIFEST_FILE, MARKER_FILE, OXIGRAPH_DIR,
                       Pointer, StoreError, current_folder, generation_dir, has_legacy_database, manifest_link_target,
                       needs_recovery, read_pointer)
from ckg.writerlock import WriterLock, this_command

HISTORY_DIR = "manifests"
EMBEDDINGS_DIR = "embeddings"  # ckg.embed.artifacts.EMBEDDINGS_DIR (deleted when a build replaces the store)


class Write:
    """One build or update of a store, from the writer lock to the commit point.

    ::

        with Write(store, mode="update", release="2020-06-08") as w:
            folder = w.begin(from_current=True)   # the new generation, a copy of the current one
            ...                                   # change folder/oxigraph and folder/catalog.sqlite
            w.commit(manifest)                    # the new release is the store's now

    Leaving the block with an exception before :meth:`commit` deletes the new generation: the
    store is as it was.
    """

    def __init__(self, store: Path, *, mode: str, release: str, command: str | None = None) -> None:
        self.store = Path(store)
        self.mode = mode
        self.release = release
        self.command = command or this_command()
        self.lock = WriterLock(self.store)
        self.pointer: Pointer | None = None
        self.folder: Path | None = None
        self.committed = False

    def __enter__(self) -> Write:
        self.lock.acquire(self.command, kind=self.mode, release=self.release)
        try:
            faults.point("write.locked")
            message = recover(self.store)
            if message:
                announce(message)
            self.pointer = read_pointer(self.store)
        except BaseException:
            self.lock.release()
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is not None and self.folder is not None and not self.committed:
                shutil.rmtree(self.folder, ignore_errors=True)
        finally:
            self.lock.release()

    @property
    def has_current(self) -> bool:
        """True when the store holds a release (of either layout)."""
        return current_folder(self.store) is not None

    def begin(self, *, from_current: bool, replaces: bool = False) -> Path:
        """Make the new generation: empty (a build) or a copy of the current release (an update).
        ``replaces``: the build replaces a store, whose embeddings go when it commits."""
        source = current_folder(self.store) if from_current else None
        if from_current and (source is None or not (source / OXIGRAPH_DIR).is_dir()):
            raise StoreError(f"{self.store} is not a ckg store: build one first with `ckg build`")
        if source is not None and not (source / CATALOG_FILE).is_file():
            raise StoreError(f"{self.store} has no {CATALOG_FILE}: it was not built by `ckg build`, so it cannot be "
                             "updated; rebuild it")
        generations = self.store / GENERATIONS_DIR
        if not generations.is_dir():
            generations.mkdir()
            fsync_dir(self.store)
        self.folder = generations / next_generation_id(self.store)
        self.folder.mkdir()
        marker = {**self.lock.info, "mode": self.mode, "release": self.release, "generation": self.folder.name,
                  "replaces": replaces}
        write_atomic(self.folder / MARKER_FILE, json.dumps(marker, indent=2) + "\n")
        fsync_dir(generations)
        faults.point("begin.created")
        if source is not None:
            db = ox.Store(str(source / OXIGRAPH_DIR))  # read-write: a checkpoint includes what only the log holds
            try:
                db.backup(str(self.folder / OXIGRAPH_DIR))
            finally:
                del db
            faults.point("begin.checkpoint")
            copy_sqlite(source / CATALOG_FILE, self.folder / CATALOG_FILE)
            faults.point("begin.catalog")
            from ckg.search.lexical import copy_index

            copy_index(source, self.folder)  # hard links; the update changes its copy only
        return self.folder

    def commit(self, manifest: dict[str, Any]) -> None:
        """Make the new generation the store's release (the commit point), then finish."""
        if self.folder is None:
            raise RuntimeError("commit() before begin()")
        faults.point("commit.start")
        write_atomic(self.folder / MANIFEST_FILE, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        faults.point("commit.manifest")
        fsync_tree(self.folder)
        faults.point("commit.fsync")
        if self.pointer is not None:
            previous = self.pointer.generation
        else:
            previous = LEGACY if has_legacy_database(self.store) else None
        pointer = Pointer(self.folder.name, previous)
        write_atomic(self.store / CURRENT_FILE, pointer.text())  # <- the commit point
        self.committed = True
        faults.point("commit.flipped")
        try:
            finish(self.store, pointer)
        except Exception as exc:  # committed all the same: the next command that opens the store finishes
            announce(f"ckg: {self.store} holds release {self.release} now, but the clean-up after it failed ({exc}); "
                     "the next command that opens the store finishes it")


def next_generation_id(store: Path) -> str:
    """One more than the highest generation id in use (ids are six digits: they sort in time order)."""
    used = [0]
    pointer = read_pointer(store)
    for name in [*(pointer.names() if pointer else ()), *_generation_names(store)]:
        if name.isdigit():
            used.append(int(name))
    return f"{max(used) + 1:06d}"


def _generation_names(store: Path) -> list[str]:
    try:
        return sorted(os.listdir(Path(store) / GENERATIONS_DIR))
    except OSError:
        return []


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy a SQLite database consistently (its write-ahead log included), with SQLite's backup API."""
    src = sqlite3.connect(Path(source).resolve().as_uri() + "?mode=ro", uri=True)
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def read_marker(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((Path(folder) / MARKER_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # a marker cut short by a crash: the generation is still unfinished


def finish(store: Path, pointer: Pointer) -> list[str]:
    """What follows the commit point, idempotent (recovery runs it again after a crash): point
    ``manifest.json`` at the current manifest, keep a copy in ``manifests/``, delete the
    generations older than the previous one (and the embeddings of a store a build replaced),
    then remove the current generation's marker. Returns what it had to do."""
    store = Path(store)
    current = generation_dir(store, pointer.generation)
    marker = read_marker(current)
    done = []
    manifest_file = current / MANIFEST_FILE
    if manifest_file.is_file():
        link = store / MANIFEST_FILE
        if not link.is_symlink() or os.readlink(link) != manifest_link_target(pointer.generation):
            symlink_atomic(manifest_link_target(pointer.generation), link)
            done.append("manifest link")
        faults.point("finish.link")
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        history = store / HISTORY_DIR
        history.mkdir(exist_ok=True)
        stamp = str(manifest.get("finished_at", "")).replace(":", "").replace("-", "")
        copy = history / f"{stamp or 'run'}-{manifest.get('mode', 'run')}-{pointer.generation}.json"
        if not copy.exists():
            write_atomic(copy, manifest_file.read_text(encoding="utf-8"))
            done.append("history")
        faults.point("finish.history")
    if marker and marker.get("replaces") and (store / EMBEDDINGS_DIR).exists():
        shutil.rmtree(store / EMBEDDINGS_DIR)
        done.append("embeddings of the replaced store")
        faults.point("finish.embeddings")
    for name in _generation_names(store):
        if name not in pointer.names():
            shutil.rmtree(store / GENERATIONS_DIR / name)
            done.append(f"generation {name}")
            faults.point("finish.prune")
    if pointer.previous != LEGACY and has_legacy_database(store):
        shutil.rmtree(store / OXIGRAPH_DIR)
        for suffix in ("", "-wal", "-shm", "-journal"):
            (store / (CATALOG_FILE + suffix)).unlink(missing_ok=True)
        done.append("first-layout database")
        faults.point("finish.legacy")
    if done and (store / GENERATIONS_DIR).is_dir():
        fsync_dir(store / GENERATIONS_DIR)
    if marker is not None:
        (current / MARKER_FILE).unlink()
        fsync_dir(current)
        done.append("marker")
    faults.point("finish.done")
    return done


def recover(store: Path) -> str | None:
    """Clear what interrupted writes left (the caller holds the writer lock): generations that
    ``CURRENT`` does not name are deleted, a committed write is finished. Returns the one line
    that says what was done, or None when there was nothing to do."""
    store = Path(store)
    pointer = read_pointer(store)
    rolled_back: list[dict[str, Any]] = []
    for name in _generation_names(store):
        if pointer is not None and name in pointer.names():
            continue
        folder = store / GENERATIONS_DIR / name
        if not is_temporary(name):
            rolled_back.append(read_marker(folder) or {"generation": name})
        shutil.rmtree(folder, ignore_errors=True)
    for folder in (store, store / HISTORY_DIR):  # a CURRENT, manifest link or history copy not renamed into place
        for name in os.listdir(folder) if folder.is_dir() else ():
            if is_temporary(name) and not (folder / name).is_dir():
                (folder / name).unlink()
    finished: dict[str, Any] | None = None
    done: list[str] = []
    if pointer is not None and needs_recovery(store):  # a marker, a stale manifest link, a first-layout database
        finished = read_marker(generation_dir(store, pointer.generation))
        done = finish(store, pointer)
    if not rolled_back and finished is None and not done:
        return None
    parts = [f"the {_describe(m)} was interrupted before its commit point: its unfinished generation "
             f"{m.get('generation', '?')} was removed" for m in rolled_back]
    if finished is not None:
        parts.append(f"the {_describe(finished)} was interrupted after its commit point: its clean-up was finished")
    if not parts:
        parts.append("an earlier write's clean-up was interrupted: it was finished")
    return f"ckg: recovered {store}: {'; '.join(parts)}; {_holds(store)}"


def _describe(marker: dict[str, Any]) -> str:
    if not marker.get("mode"):
        return f"write of generation {marker.get('generation', '?')} (no record of its writer)"
    return (f"{marker['mode']} of release {marker.get('release')} (pid {marker.get('pid')}, "
            f"`{marker.get('command')}`, started {marker.get('started_at')})")


def _holds(store: Path) -> str:
    folder = current_folder(store)
    if folder is None:
        return "the store holds no release: run `ckg build` again"
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
        return f"the store holds release {manifest.get('release')} ({manifest.get('mode')} finished at " \
               f"{manifest.get('finished_at')})"
    except (OSError, ValueError):
        return "the store holds its last committed release"


def recover_if_possible(store: Path) -> str | None:
    """:func:`recover` when the writer lock is free (a reader never waits for a writer); the
    line it returns is printed on stderr."""
    lock = WriterLock(store)
    try:
        if not lock.try_acquire(f"recovery by {this_command()}", kind="recovery"):
            return None
    except OSError:
        return None  # a store this process cannot write: read it as it is
    try:
        message = recover(store)
    except OSError as exc:  # a reader goes on reading the committed release all the same
        message = f"ckg: {store}: could not clear what an interrupted write left ({exc})"
    finally:
        lock.release()
    if message:
        announce(message)
    return message


def announce(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
