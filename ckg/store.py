"""A ckg store folder: the Oxigraph database plus the files that explain and maintain it.

Layout of a store folder::

    STORE/
      oxigraph/        the embedded Oxigraph database (pyoxigraph)
      catalog.sqlite   the ETL's catalog: per-paper content hashes, mentions, bibliography
                       entries, citation edges (what updates need to work incrementally)
      manifest.json    the last build/update: inputs, config, versions, counts, rejects, timings
      manifests/       one manifest per build/update run, oldest first
      reports/         every rejected record and warning of each run (JSON lines)

Queries see the union of all named graphs as their default graph.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ckg.terms import PREFIXES

OXIGRAPH_DIR = "oxigraph"
CATALOG_FILE = "catalog.sqlite"
MANIFEST_FILE = "manifest.json"


class StoreError(RuntimeError):
    """The store folder is missing, not a ckg store, or cannot be opened."""


def default_store_path() -> Path:
    """``$CKG_STORE`` or ``./ckg-data``."""
    from ckg.settings import get

    return Path(get("store"))


def is_store(path: Path) -> bool:
    return (Path(path) / OXIGRAPH_DIR).is_dir()


def open_store(path: Path, *, read_only: bool = False, create: bool = False) -> ox.Store:
    """Open the Oxigraph database of a store folder."""
    path = Path(path)
    db = path / OXIGRAPH_DIR
    if not db.is_dir():
        if not create:
            raise StoreError(f"{path} is not a ckg store (no {OXIGRAPH_DIR}/ folder); build one with `ckg build`")
        db.mkdir(parents=True)
    try:
        return ox.Store.read_only(str(db)) if read_only else ox.Store(str(db))
    except OSError as exc:
        raise StoreError(f"cannot open the store {path}: {exc}") from None


def query(store: ox.Store, sparql: str, **kwargs: Any):
    """Run a query with the union of the named graphs as default graph and ckg's prefixes.

    A query with its own dataset (``FROM``/``FROM NAMED``) gets that dataset instead, as SPARQL
    says (pyoxigraph would ignore it under the union default graph).
    """
    if "default_graph" not in kwargs and "named_graphs" not in kwargs:
        kwargs.setdefault("use_default_graph_as_union", not has_dataset_clause(sparql))
    kwargs.setdefault("prefixes", PREFIXES)
    return store.query(sparql, **kwargs)


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


def read_manifest(path: Path) -> dict[str, Any]:
    file = Path(path) / MANIFEST_FILE
    if not file.is_file():
        raise StoreError(f"{path} has no {MANIFEST_FILE}: it was not built by ckg, or its build did not finish")
    return json.loads(file.read_text(encoding="utf-8"))


def write_manifest(path: Path, manifest: dict[str, Any]) -> Path:
    """Write ``manifest.json`` (atomically) and keep a copy under ``manifests/``."""
    path = Path(path)
    text = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    history = path / "manifests"
    history.mkdir(exist_ok=True)
    stamp = manifest.get("finished_at", "").replace(":", "").replace("-", "")
    (history / f"{stamp or 'run'}-{manifest.get('mode', 'run')}.json").write_text(text, encoding="utf-8")
    tmp = path / (MANIFEST_FILE + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path / MANIFEST_FILE)
    return path / MANIFEST_FILE
