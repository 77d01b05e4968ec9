"""Counts kept while an update writes (ckg.etl.counting) equal what a scan gives."""

from __future__ import annotations

import random

import pyoxigraph as ox
import pytest

from ckg.etl.build import _counts, _graph_counts
from ckg.etl.counting import CountingStore, CountMismatch, apply_difference
from ckg.terms import RDF

EX = "http://example.org/"


def _quad(rng: random.Random) -> ox.Quad:
    s = ox.NamedNode(EX + f"s{rng.randrange(6)}")
    graph = rng.choice([ox.DefaultGraph(), *(ox.NamedNode(EX + f"g{i}") for i in range(3))])
    if rng.random() < 0.4:
        return ox.Quad(s, RDF.type, ox.NamedNode(EX + f"C{rng.randrange(2)}"), graph)
    return ox.Quad(s, ox.NamedNode(EX + f"p{rng.randrange(3)}"), ox.Literal(str(rng.randrange(3))), graph)


@pytest.mark.parametrize("seed", range(12))
def test_random_writes_are_counted_exactly(seed, tmp_path):
    """Adds, removes, repeats, whole graphs and bulk loads, on a store that holds quads already."""
    rng = random.Random(seed)
    raw = ox.Store()
    raw.extend({_quad(rng) for _ in range(30)})
    before = _graph_counts(raw)
    store = CountingStore(raw)
    for _ in range(40):
        op = rng.randrange(6)
        if op == 0:
            store.add(_quad(rng))
        elif op == 1:
            store.extend([_quad(rng) for _ in range(rng.randrange(1, 8))])  # duplicates within a batch too
        elif op == 2:
            store.remove(_quad(rng))  # often not there
        elif op == 3:
            store.remove_graph(ox.NamedNode(EX + f"g{rng.randrange(3)}"))
        elif op == 4:
            path = tmp_path / f"{rng.random()}.nq"
            path.write_bytes(ox.serialize([_quad(rng) for _ in range(10)], format=ox.RdfFormat.N_QUADS))
            store.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
        else:
            store.bulk_extend(iter([_quad(rng) for _ in range(10)]))
    assert store.exact
    kept = apply_difference(before, store)
    scanned = _graph_counts(raw)
    assert kept == {k: scanned[k] for k in ("triples", "per_class", "per_property")}
    assert _counts(store, before) == {**scanned, "counted_by": "writes"}


def test_writes_it_cannot_follow_fall_back_to_a_scan():
    raw = ox.Store()
    raw.add(ox.Quad(ox.NamedNode(EX + "a"), RDF.type, ox.NamedNode(EX + "C")))
    before = _graph_counts(raw)
    store = CountingStore(raw)
    store.update(f"INSERT DATA {{ <{EX}b> a <{EX}C> }}")
    assert not store.exact
    counts = _counts(store, before)
    assert counts["counted_by"] == "scan" and counts["per_class"] == {EX + "C": 2}


def test_a_wrong_count_is_caught(monkeypatch):
    monkeypatch.setenv("CKG_VERIFY_COUNTS", "1")
    raw = ox.Store()
    raw.add(ox.Quad(ox.NamedNode(EX + "a"), ox.NamedNode(EX + "p"), ox.Literal("x")))
    kept = _graph_counts(raw)
    store = CountingStore(raw)
    store.add(ox.Quad(ox.NamedNode(EX + "b"), ox.NamedNode(EX + "p"), ox.Literal("x")))
    assert _counts(store, kept)["triples"] == 2
    wrong = {**kept, "per_property": {EX + "p": 5}}
    with pytest.raises(CountMismatch, match="differ from a scan: triples 6 against 2"):
        _counts(store, wrong)
    with pytest.raises(CountMismatch, match="below zero"):
        apply_difference({"per_property": {EX + "p": -3}}, store)
