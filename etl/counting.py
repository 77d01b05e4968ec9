"""A store's counts kept as an update writes it, instead of counted again afterwards.

Every run's manifest gives the store's triples per property, instances per class and named
graphs. Counting them is a scan of every quad: 77 s of a 1M-paper store, a fifth of the time of
an update that changes 2% of it. :class:`CountingStore` wraps the ``pyoxigraph.Store`` an update
writes and keeps the difference its writes make:

- per property, the quads that really came or went (a quad added that was there already, or
  removed that was not, changes nothing: each write asks the store first);
- per class, the subjects typed with it (``COUNT(DISTINCT ?s)`` over all graphs: a subject typed
  in two graphs counts once, so a type quad counts when the first of its kind comes or the last
  goes).

Reads pass through to the wrapped store. A write it cannot follow (a SPARQL update, a load of a
file in another format, clearing a graph it was not told of) makes :attr:`CountingStore.exact`
false, and the caller counts by a scan. Bulk writes (``bulk_extend``, ``bulk_load``) go through
transactions of :data:`CHUNK` quads, checked one by one: an update writes few, and a quad of a
chunk is asked of the store after the chunks before it were written.

>>> import pyoxigraph as ox
>>> from ckg.terms import RDF
>>> raw = ox.Store()
>>> a, b, c, g = (ox.NamedNode(f"http://example.org/{x}") for x in "abcg")
>>> raw.extend([ox.Quad(a, RDF.type, c, g), ox.Quad(a, b, c, g)])
>>> store = CountingStore(raw)
>>> store.extend([ox.Quad(a, b, c, g), ox.Quad(a, RDF.type, c), ox.Quad(b, RDF.type, c), ox.Quad(b, b, a, g)])
>>> store.remove(ox.Quad(a, RDF.type, c, g))
>>> dict(store.properties), dict(store.classes)
({'http://www.w3.org/1999/02/22-rdf-syntax-ns#type': 1, 'http://example.org/b': 1}, {'http://example.org/c': 1})
>>> apply_difference({"triples": 2, "per_property": {str(b.value): 1, str(RDF.type.value): 1},
...                   "per_class": {str(c.value): 1}}, store)["per_class"]
{'http://example.org/c': 2}
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

import pyoxigraph as ox

from ckg.terms import RDF

CHUNK = 50_000
"""Quads a bulk write of an update sends to the store in one transaction."""

_TYPE = RDF.type


class CountingStore:
    """A ``pyoxigraph.Store`` whose writes are counted (see the module docstring)."""

    def __init__(self, store: ox.Store) -> None:
        self._store = store
        self.properties: Counter = Counter()  # property IRI -> quads added less quads removed
        self.classes: Counter = Counter()  # class IRI -> subjects typed less subjects untyped
        self.exact = True

    # -- reads ---------------------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name in ("update", "load", "clear", "clear_graph", "add_graph", "drop_graph"):
            self.exact = False  # a write this class does not follow: the counts are scanned
        return getattr(self._store, name)

    def __contains__(self, quad: ox.Quad) -> bool:
        return quad in self._store

    def __len__(self) -> int:
        return len(self._store)

    def __iter__(self) -> Iterator[ox.Quad]:
        return iter(self._store)

    # -- writes --------------------------------------------------------------------------------------
    def _typed(self, subject, cls) -> bool:
        return next(self._store.quads_for_pattern(subject, _TYPE, cls), None) is not None

    def add(self, quad: ox.Quad) -> None:
        self.extend([quad])

    def extend(self, quads: Iterable[ox.Quad]) -> None:
        fresh: list[ox.Quad] = []
        seen: set[ox.Quad] = set()
        typed: set[tuple] = set()
        store = self._store
        for q in quads:
            if q in seen or q in store:
                continue
            seen.add(q)
            fresh.append(q)
            self.properties[q.predicate.value] += 1
            if q.predicate == _TYPE and (q.subject, q.object) not in typed:
                typed.add((q.subject, q.object))
                if not self._typed(q.subject, q.object):
                    self.classes[q.object.value] += 1
        if fresh:
            store.extend(fresh)

    def bulk_extend(self, quads: Iterable[ox.Quad]) -> None:
        it = iter(quads)
        while chunk := list(islice(it, CHUNK)):
            self.extend(chunk)

    def bulk_load(self, input=None, format=None, *, path=None, **kwargs) -> None:  # noqa: A002
        if format != ox.RdfFormat.N_QUADS or kwargs.get("to_graph") is not None:
            self.exact = False
            self._store.bulk_load(input, format, path=path, **kwargs)
            return
        self.bulk_extend(ox.parse(input, format, path=path))

    def remove(self, quad: ox.Quad) -> None:
        if quad not in self._store:
            return
        self._store.remove(quad)
        self._removed([quad])

    def remove_graph(self, graph: ox.NamedNode) -> None:
        quads = list(self._store.quads_for_pattern(None, None, None, graph))
        self._store.remove_graph(graph)
        self._removed(quads)

    def _removed(self, quads: list[ox.Quad]) -> None:
        untyped: set[tuple] = set()
        for q in quads:
            self.properties[q.predicate.value] -= 1
            if q.predicate == _TYPE and (q.subject, q.object) not in untyped:
                untyped.add((q.subject, q.object))
                if not self._typed(q.subject, q.object):
                    self.classes[q.object.value] -= 1


def apply_difference(counts: dict[str, Any], store: CountingStore) -> dict[str, Any]:
    """The counts ``counts`` (triples, per property, per class) after the writes ``store``
    counted; properties and classes left with nothing are dropped."""
    properties = Counter(counts.get("per_property", {}))
    properties.update(store.properties)
    classes = Counter(counts.get("per_class", {}))
    classes.update(store.classes)
    per_property = {p: n for p, n in sorted(properties.items()) if n}
    per_class = {c: n for c, n in sorted(classes.items()) if n}
    if any(n < 0 for n in (*per_property.values(), *per_class.values())):
        raise CountMismatch("a count went below zero: the previous counts were not this store's")
    return {"triples": sum(per_property.values()), "per_class": per_class, "per_property": per_property}


class CountMismatch(RuntimeError):
    """Counts kept during a run differ from those a scan gives (``verify_counts`` setting)."""


__all__ = ["CHUNK", "CountMismatch", "CountingStore", "apply_difference"]
