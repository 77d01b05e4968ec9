"""Fuzzing the readers: a seeded release of malformed parses and metadata rows, mixed with good
ones (:mod:`fuzzgen`), always builds; every bad record is counted and named in the report (its
file, or its metadata.csv line); every good record's paper is in the store; no literal of the
store holds a character XML cannot carry.

The corpus is small (40 demo papers, half their parses and a third of their rows broken, a
dozen parse-only papers, FIFOs, a symbolic-link loop, a linked and an unreadable folder), so one
seed takes a few seconds; a second seed runs with the slow tests.
"""

from __future__ import annotations

import pytest

from ckg.demo_corpus import generate
from ckg.etl.normalize import MAX_TEXT_BYTES, xml_text
from ckg.store import open_store, query

from fuzzgen import build_quietly, check_build, fuzz_release


@pytest.fixture(scope="module")
def demo_base(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("fuzz-base") / "release", papers=40, seed=11).path


def literal_problems(store) -> list[str]:
    rows = query(open_store(store, read_only=True), "SELECT ?s ?o WHERE { ?s ?p ?o FILTER(isLiteral(?o)) }")
    return [f"{row['s'].value}: {row['o'].value[:60]!r}" for row in rows
            if xml_text(row["o"].value)[1] or len(row["o"].value) > MAX_TEXT_BYTES]


@pytest.mark.parametrize("seed", [1, 2, *(pytest.param(s, marks=pytest.mark.slow) for s in range(3, 7))])
def test_a_fuzzed_release_builds_and_names_every_bad_record(demo_base, tmp_path, monkeypatch, seed):
    expected = fuzz_release(demo_base, tmp_path / "release", seed, monkeypatch=monkeypatch)
    assert expected.bad_files and expected.bad_lines and expected.in_store  # the seed does break things
    result = build_quietly([tmp_path / "release"], tmp_path / "store")
    assert check_build(result, tmp_path / "store", expected) == []
    assert literal_problems(tmp_path / "store") == []
