"""Export a store as RDF files that load into any SPARQL 1.1 store (Virtuoso, QLever, Neptune, ...).

N-Quads and TriG keep the named graphs; Turtle and N-Triples write the union of all graphs.
Turtle and TriG abbreviate only vocabulary terms (:data:`EXPORT_PREFIXES`): no prefixed name
needs an escape, which some readers get wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

import pyoxigraph as ox

from ckg.store import open_store, query
from ckg.terms import PREFIXES

EXPORT_FORMATS = {
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
}


EXPORT_PREFIXES = {name: iri for name, iri in PREFIXES.items() if name != "ckgr"}
"""The prefixes of Turtle and TriG exports: the vocabularies' namespaces, whose terms are plain
names. Resources stay full IRIs: with ``ckgr:`` their local names would hold a ``/``, which
Turtle writes escaped (``ckgr:paper\\/00h5juus``) and Virtuoso 7.2 reads with the backslash
kept, a different IRI (``tests/test_virtuoso.py`` loads both exports there)."""


def export(path: Path, fmt: str, out: Path | BinaryIO) -> int:
    """Write the store to ``out`` (a file path, or a binary stream such as ``sys.stdout.buffer``)
    in ``fmt``; returns the number of quads or triples written."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    store = open_store(Path(path), read_only=True)
    rdf = EXPORT_FORMATS[fmt]
    if isinstance(out, (str, Path)):
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        target: Any = str(out)
    else:
        target = out
    prefixes = {"prefixes": EXPORT_PREFIXES} if rdf in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else {}
    if rdf in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
        store.dump(target, format=rdf, **prefixes)
        return len(store)
    count = 0

    def triples():
        nonlocal count
        for t in query(store, "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"):
            count += 1
            yield t

    ox.serialize(triples(), target, format=rdf, **prefixes)
    return count
