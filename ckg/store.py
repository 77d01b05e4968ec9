"""A ckg store folder: the Oxigraph database plus the files that explain and maintain it.

Layout of a store folder::

    STORE/
      CURRENT            the commit point: {"generation": "000007", "previous": "000006"}
      generations/<id>/  one release of the store, complete and self-consistent:
        oxigraph/          the embedded Oxigraph database (pyoxigraph)
        catalog.sqlite     the ETL's catalog: per-paper content hashes, mentions, bibliography
                           entries, citation edges (what updates need to work incrementally),
                           the title index find-papers reads
        manifest.json      the build/update that made it: inputs, config, versions, counts, rejects, timings
        edited-in-place    only once the endpoint's SPARQL updates changed it (EDITED_FILE)
      manifest.json      a symbolic link to the current generation's manifest.json
      manifests/         one manifest per build/update run, oldest first
      reports/           every rejected record and warning of each run (JSON lines)
      embeddings/        the embedding runs of `ckg train` (ckg.embed.artifacts)
      writer.lock        the lock of the one writer (ckg.writerlock)

A store is always exactly one release: readers (this module) follow ``CURRENT``, which names a
complete generation; a build or an update writes a new generation and replaces ``CURRENT``
atomically when it is done (:mod:`ckg.generations`). The previous generation is kept until the
next write, for readers that still have it open. A store of the first layout (``oxigraph/``,
``catalog.sqlite`` and ``manifest.json`` at the top, no ``CURRENT``) is read as it is; its next
write moves it into a generation.

Opening a store notices what an interrupted write left behind and, when no writer is running,
clears it, saying so in one line on stderr (:func:`ckg.generations.recover`).

Queries see the union of all named graphs as their default graph.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Any, Iterable

import pyoxigraph as ox

from ckg.terms import PREFIXES

OXIGRAPH_DIR = "oxigraph"
CATALOG_FILE = "catalog.sqlite"
MANIFEST_FILE = "manifest.json"
EDITED_FILE = "edited-in-place"
"""Left in a release's folder when its database is opened for writing in place (the endpoint's
SPARQL updates): what the catalog derived from the graph (the title index) may no longer hold
for it, so queries stop using it and the next update derives it again."""
CURRENT_FILE = "CURRENT"
GENERATIONS_DIR = "generations"
LEGACY = "legacy"
"""The name ``CURRENT`` gives a store's first-layout database (at the top of the folder)."""
MARKER_FILE = "writing.json"
"""In a generation whose write has not finished: pid, command, release, start time of the writer."""


class StoreError(RuntimeError):
    """The store folder is missing, not a ckg store, or cannot be opened."""


def default_store_path() -> Path:
    """``$CKG_STORE`` or ``./ckg-data``."""
    from ckg.settings import get

    return Path(get("store"))


def not_a_store(path: Path) -> StoreError:
    return StoreError(f"{path} is not a ckg store (no {OXIGRAPH_DIR}/ folder); build one with `ckg build`")


@dataclass(frozen=True)
class Pointer:
    """What ``CURRENT`` says: the current generation and the previous one (kept for readers).

    >>> Pointer.parse('{"generation": "000002", "previous": "000001"}')
    Pointer(generation='000002', previous='000001')
    >>> Pointer("000003", "000002").text()
    '{"generation": "000003", "previous": "000002"}\\n'
    """

    generation: str
    previous: str | None = None

    @classmethod
    def parse(cls, text: str) -> Pointer:
        data = json.loads(text)
        return cls(str(data["generation"]), data.get("previous"))

    def text(self) -> str:
        return json.dumps({"generation": self.generation, "previous": self.previous}) + "\n"

    def names(self) -> set[str]:
        return {self.generation, self.previous} - {None}


def read_pointer(path: Path) -> Pointer | None:
    """The store's ``CURRENT``, or None (a first-layout store, or no store)."""
    try:
        text = (Path(path) / CURRENT_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"cannot read {Path(path) / CURRENT_FILE}: {exc}") from None
    try:
        return Pointer.parse(text)
    except (ValueError, KeyError, TypeError):
        raise StoreError(f"{Path(path) / CURRENT_FILE} is damaged ({text[:80]!r}); restore the store from a "
                         f"backup or rebuild it with `ckg build --overwrite`") from None


def generation_dir(path: Path, generation: str) -> Path:
    """The folder of a generation (the store folder itself for a first-layout database)."""
    return Path(path) if generation == LEGACY else Path(path) / GENERATIONS_DIR / generation


def has_legacy_database(path: Path) -> bool:
    return (Path(path) / OXIGRAPH_DIR).is_dir()


def current_folder(path: Path) -> Path | None:
    """The folder holding the current release's database, catalog and manifest, or None."""
    pointer = read_pointer(path)
    if pointer is not None:
        return generation_dir(path, pointer.generation)
    return Path(path) if has_legacy_database(path) else None


def is_store(path: Path) -> bool:
    folder = current_folder(path)
    return folder is not None and (folder / OXIGRAPH_DIR).is_dir()


def needs_recovery(path: Path) -> bool:
    """True when an interrupted write left something behind (or a write is running now)."""
    path = Path(path)
    pointer = read_pointer(path)
    try:
        names = [n for n in os.listdir(path / GENERATIONS_DIR)]
    except OSError:
        names = []
    if pointer is None:
        return bool(names)
    if any(n not in pointer.names() for n in names):
        return True
    if (generation_dir(path, pointer.generation) / MARKER_FILE).exists():
        return True
    if pointer.previous != LEGACY and has_legacy_database(path):
        return True
    link = path / MANIFEST_FILE  # a link to another generation's manifest, or none (a copy of the file is fine)
    return os.readlink(link) != manifest_link_target(pointer.generation) if link.is_symlink() else not link.exists()


def manifest_link_target(generation: str) -> str:
    """Where ``STORE/manifest.json`` points (relative, so a copied store stays consistent)."""
    return f"{GENERATIONS_DIR}/{generation}/{MANIFEST_FILE}"


def locate(path: Path, *, recover: bool = True) -> Path:
    """The folder of the store's current release (see :func:`current_folder`). With ``recover``,
    an interrupted write is cleared first when no writer is running (one line on stderr)."""
    path = Path(path)
    if recover and needs_recovery(path):
        from ckg.generations import recover_if_possible

        recover_if_possible(path)
    folder = current_folder(path)
    if folder is not None and (folder / OXIGRAPH_DIR).is_dir():
        return folder
    if folder is not None:
        raise StoreError(f"{path / CURRENT_FILE} names generation {folder.name}, which is missing; restore the store "
                         f"from a backup or rebuild it with `ckg build --overwrite`")
    if (path / GENERATIONS_DIR).is_dir() and any((path / GENERATIONS_DIR).iterdir()):
        from ckg.writerlock import WriterLock, busy_message

        lock = WriterLock(path)
        if lock.is_held():
            raise StoreError(f"{path} holds no finished build yet: {busy_message(path, lock.holder())}")
    if (path / GENERATIONS_DIR).is_dir():
        raise StoreError(f"{path} holds no finished build: its `ckg build` was interrupted before it committed; "
                         f"run `ckg build` again")
    raise not_a_store(path)


def open_store(path: Path, *, read_only: bool = False, recover: bool = True) -> ox.Store:
    """Open the Oxigraph database of a store folder's current release.

    Read-write opening changes the current release in place: only for a holder of the writer
    lock (:mod:`ckg.writerlock`; the endpoint's SPARQL updates) and for tests.
    """
    return open_release(path, read_only=read_only, recover=recover)[1]


def open_release(path: Path, *, read_only: bool = True, recover: bool = True) -> tuple[Path, ox.Store]:
    """(the folder of the current release, its database opened): the manifest and catalog of that
    folder describe exactly the database opened, even while a writer commits a new release."""
    path = Path(path)
    for attempt in range(3):
        folder = locate(path, recover=recover)
        db = folder / OXIGRAPH_DIR
        try:
            if not read_only and db.is_dir():
                (folder / EDITED_FILE).touch()
            return folder, (ox.Store.read_only(str(db)) if read_only else ox.Store(str(db)))
        except OSError as exc:
            if db.is_dir() or attempt == 2:  # else a writer replaced the release meanwhile: follow CURRENT again
                raise StoreError(f"cannot open the store {path}: {exc}") from None
    raise AssertionError("unreachable")


def catalog_file(path: Path) -> Path:
    """The ETL catalog of the store's current release."""
    return locate(path) / CATALOG_FILE


def release_stamp(path: Path) -> tuple:
    """Changes whenever the store's current release does (readers that keep the store open
    compare it to know when to re-open): the text of ``CURRENT``, or the first layout's manifest."""
    path = Path(path)
    try:
        return ("current", (path / CURRENT_FILE).read_text(encoding="utf-8"))
    except OSError:
        pass
    try:
        st = os.stat(path / MANIFEST_FILE)
        return ("manifest", st.st_mtime_ns, st.st_size)
    except OSError:
        return ("none",)


def query(store: ox.Store, sparql: str, **kwargs: Any):
    """Run a query with the union of the named graphs as default graph and ckg's prefixes.

    A query with its own dataset (``FROM``/``FROM NAMED``) gets that dataset instead, as SPARQL
    says (pyoxigraph would ignore it under the union default graph).
    """
    if "default_graph" not in kwargs and "named_graphs" not in kwargs:
        kwargs.setdefault("use_default_graph_as_union", not has_dataset_clause(sparql))
    kwargs.setdefault("prefixes", PREFIXES)
    return store.query(sparql, **kwargs)


#: The most quads :func:`add_quads` adds in one transaction (Oxigraph keeps a transaction's writes
#: in memory until it commits); more go through the bulk loader.
TRANSACTION_MAX_QUADS = 50_000


def add_quads(store: ox.Store, quads: Iterable[ox.Quad], *, transaction_max: int = TRANSACTION_MAX_QUADS) -> int:
    """Add quads: in one transaction when they are few, through Oxigraph's bulk loader when many.

    A transaction holds its writes in memory until it commits (at a million papers the concept
    edges alone are tens of millions of quads); the bulk loader writes sorted files with flat
    memory and is faster, but without a transaction. That is safe here because a build or an
    update writes a generation of its own, which only the ``CURRENT`` flip makes visible: a run
    killed half-way leaves a generation that recovery deletes. Returns the number of quads given.

    >>> store = ox.Store()
    >>> g = ox.NamedNode("http://example.org/g")
    >>> quads = [ox.Quad(ox.NamedNode(f"http://example.org/{i}"), ox.NamedNode("http://example.org/p"),
    ...                  ox.Literal(str(i)), g) for i in range(5)]
    >>> add_quads(store, quads, transaction_max=2), len(store)
    (5, 5)
    """
    it = iter(quads)
    head = list(islice(it, transaction_max + 1))
    if len(head) <= transaction_max:
        store.extend(head)
        return len(head)
    counted = _Counted(chain(head, it))
    store.bulk_extend(counted)
    return counted.n


class _Counted:
    """An iterator that counts what it yields."""

    def __init__(self, items: Iterable) -> None:
        self._it, self.n = iter(items), 0

    def __iter__(self) -> _Counted:
        return self

    def __next__(self):
        item = next(self._it)
        self.n += 1
        return item


_SKIPPED = re.compile(r'''"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|<[^<>"{}|^`\\\s]*>|#[^\n]*''')
_FROM = re.compile(r"(?i)(?<![\w:?$.-])FROM(?![\w:.-])")
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def has_dataset_clause(sparql: str) -> bool:
    """True when a query names its dataset with FROM or FROM NAMED (outside strings, IRIs, comments).

    >>> has_dataset_clause("SELECT * FROM <http://g> WHERE { ?s ?p ?o }")
    True
    >>> has_dataset_clause("SELECT ?from WHERE { ?s ex:from 'FROM' . ?s <http://x/FROM> ?o } # FROM")
    False
    """
    text = _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), sparql)
    return bool(_FROM.search(_SKIPPED.sub(" ", text)))


def read_manifest(path: Path, folder: Path | None = None) -> dict[str, Any]:
    """The manifest of the store's current release (the build or update that made it), or of the
    release in ``folder`` (from :func:`open_release`)."""
    file = (folder or locate(path)) / MANIFEST_FILE
    if not file.is_file():
        raise StoreError(f"{path} has no {MANIFEST_FILE}: it was not built by ckg, or its build did not finish")
    return json.loads(file.read_text(encoding="utf-8"))
