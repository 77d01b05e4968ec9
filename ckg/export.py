"""Export a store as RDF files that load into any SPARQL 1.1 store (Virtuoso, QLever, Neptune, ...).

N-Quads and TriG keep the named graphs; Turtle and N-Triples write the union of all graphs.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from ckg.store import open_store, query
from ckg.terms import PREFIXES

EXPORT_FORMATS = {
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
}


def export(path: Path, fmt: str, out: Path) -> int:
    """Write the store to ``out`` in ``fmt``; returns the number of quads or triples written."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    store = open_store(Path(path), read_only=True)
    rdf = EXPORT_FORMATS[fmt]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    prefixes = {"prefixes": PREFIXES} if rdf in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else {}
    if rdf in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
        store.dump(str(out), format=rdf, **prefixes)
        return len(store)
    count = 0

    def triples():
        nonlocal count
        for t in query(store, "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"):
            count += 1
            yield t

    ox.serialize(triples(), str(out), format=rdf, **prefixes)
    return count
