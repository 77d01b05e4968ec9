"""A store is always exactly one release: generations, the writer lock, refused updates, recovery.

The kill-injection tests (test_kill_injection.py) stop builds and updates at every stage; the
tests here check the layout, one writer at a time (a second `ckg update`, a SPARQL update), the
updates that stop before writing (a metadata file rejected whole, a mass removal), a killed
build, and stores of the first layout.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
from pathlib import Path

import pytest

from ckg.etl.annotate import AnnotationOptions
from ckg.etl.build import UpdateRefused, build, update
from ckg.export import export
from ckg.stats import store_stats
from ckg.store import (CURRENT_FILE, GENERATIONS_DIR, MARKER_FILE, StoreError, is_store, needs_recovery, open_store,
                       query, read_pointer)
from ckg.writerlock import StoreBusy

from conftest import MINI
from writer_processes import kill_stopped, resume, start, wait_stopped

ANNOTATION = AnnotationOptions(processes=1)


def dump(path: Path, tmp: Path) -> list[str]:
    """The store's quads as sorted N-Quads lines (what `ckg export --format nquads` writes)."""
    out = tmp / f"dump-{os.getpid()}-{len(list(tmp.iterdir()))}.nq"
    export(path, "nquads", out)
    lines = sorted(out.read_text(encoding="utf-8").splitlines())
    out.unlink()
    return lines


def stats_and_stderr(path: Path) -> tuple[dict | StoreError, list[str]]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            result = store_stats(path)
        except StoreError as exc:
            result = exc
    return result, err.getvalue().splitlines()


def generations(path: Path) -> list[str]:
    return sorted(os.listdir(path / GENERATIONS_DIR))


@pytest.fixture
def mini_r1(tmp_path):
    path = tmp_path / "store"
    build(path, [MINI], release="r1", annotation=ANNOTATION)
    return path


def test_a_store_is_one_generation_named_by_current(mini_r1, mini_next, tmp_path):
    path = mini_r1
    assert json.loads((path / CURRENT_FILE).read_text()) == {"generation": "000001", "previous": None}
    assert sorted(p.name for p in (path / GENERATIONS_DIR / "000001").iterdir()) == [
        "catalog.sqlite", "manifest.json", "oxigraph", "search-index"]  # BM25 beside the graph (ckg.search)
    assert os.readlink(path / "manifest.json") == "generations/000001/manifest.json"
    stats = store_stats(path)
    assert (stats["release"], stats["generation"], stats["last_run"]["mode"]) == ("r1", "000001", "build")
    update(path, [mini_next], release="r2", annotation=ANNOTATION)
    assert read_pointer(path).generation == "000002" and read_pointer(path).previous == "000001"
    assert generations(path) == ["000001", "000002"]  # the previous one stays for readers that have it open
    update(path, [mini_next], release="r3", annotation=ANNOTATION)
    assert generations(path) == ["000002", "000003"]  # older ones go
    assert store_stats(path)["release"] == "r3" and not needs_recovery(path)
    assert len(list((path / "manifests").iterdir())) == 3
    assert not (path / GENERATIONS_DIR / "000003" / MARKER_FILE).exists()


def test_a_second_writer_is_refused_with_the_running_ones_pid(mini_r1, mini_next, tmp_path, cli):
    path = mini_r1
    before = dump(path, tmp_path)
    child = start("update", path, [mini_next], fault="load.bulk:1:STOP", release="r2", command="ckg update --release r2")
    wait_stopped(child)
    try:
        busy = f"{path} is being written by pid {child.pid} (ckg update --release r2, started "
        with pytest.raises(StoreBusy) as refused:
            update(path, [mini_next], release="r2b", annotation=ANNOTATION)
        assert str(refused.value).startswith(busy) and str(refused.value).endswith("Z)")
        with pytest.raises(StoreBusy, match="is being written by pid"):
            build(path, [MINI], overwrite=True, annotation=ANNOTATION)
        result = cli("update", "--store", path, "--cord19", mini_next, "--no-progress", ok=False)
        assert result.exit_code == 1 and busy in result.output
        # readers go on reading the old release; they do not touch the running update's generation
        assert needs_recovery(path)
        stats, lines = stats_and_stderr(path)
        assert stats["release"] == "r1" and lines == []
        assert dump(path, tmp_path) == before
    finally:
        assert resume(child) == 0
    assert store_stats(path)["release"] == "r2" and not needs_recovery(path)
    fresh = tmp_path / "fresh"
    build(fresh, [MINI], release="r1", annotation=ANNOTATION)
    update(fresh, [mini_next], release="r2", annotation=ANNOTATION)
    assert dump(path, tmp_path) == dump(fresh, tmp_path)  # the first update's result is intact


ASK = "ASK { <http://example.org/s> <http://example.org/p> 42 }"
INSERT = "INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/s> <http://example.org/p> 42 } }"


def engine(path: Path):
    from ckg.server.engine import EngineContext

    return EngineContext({"store": str(path), "allowlist": [], "updates": True})


def run_query(ctx, sparql: str) -> dict:
    return ctx.handle({"op": "query", "params": {"query": sparql, "formats": {"solutions": ("json", "")}}})


def test_a_sparql_update_is_refused_while_ckg_update_writes(mini_r1, mini_next):
    path = mini_r1
    ctx = engine(path)
    assert run_query(ctx, ASK)["ok"]
    ctx.close()
    child = start("update", path, [mini_next], fault="concepts.start:1:STOP", release="r2",
                  command="ckg update --release r2")
    wait_stopped(child)
    try:
        reply = ctx.handle({"op": "update", "params": {"update": INSERT}})
        assert (reply["ok"], reply["status"]) == (False, 503)
        assert f"is being written by pid {child.pid} (ckg update --release r2, started" in reply["error"]
    finally:
        assert resume(child) == 0
    assert ctx.handle({"op": "update", "params": {"update": INSERT}}) == {"ok": True}
    reply = run_query(ctx, ASK)
    assert reply["ok"] and b"true" in reply["body"]
    ctx.close()
    assert store_stats(path)["release"] == "r2"  # the SPARQL update went into the current release
    assert bool(query(open_store(path, read_only=True), ASK))


def test_failing_sparql_updates_leave_the_store_readable(mini_r1, monkeypatch):
    """A failed update's traceback keeps the read-write database alive unless its frames are
    cleared; re-opening the read-only view beside it could fail with RocksDB "Corruption ...
    MANIFEST". Each re-open checks that no read-write handle is left (RocksDB's lock)."""
    import pyoxigraph as ox

    from ckg.server.engine import EngineContext
    from ckg.store import current_folder

    still_open = []
    reopen = EngineContext.open

    def checked_open(self):
        try:
            ox.Store(str(current_folder(self.path) / "oxigraph"))  # fails while a read-write handle lives
        except OSError as exc:
            still_open.append(str(exc))
        reopen(self)

    monkeypatch.setattr(EngineContext, "open", checked_open)
    ctx = engine(mini_r1)
    for i in range(15):
        reply = ctx.handle({"op": "update", "params": {"update": f"INSERT DATA {{ <x{i}> }}"}})
        assert (reply["ok"], reply["status"]) == (False, 400), reply
        reply = run_query(ctx, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        assert reply["ok"], reply  # the read-only view re-opened cleanly after the failed update
    assert still_open == []
    assert ctx.handle({"op": "update", "params": {"update": INSERT}}) == {"ok": True}
    reply = run_query(ctx, ASK)
    assert reply["ok"] and b"true" in reply["body"]
    ctx.close()


def test_failing_updates_then_a_good_query_over_http(mini_r1):
    from urllib.parse import quote

    from serving import app_on

    token = "t0ken"
    with app_on(mini_r1, {"engines": 1, "update_token": token}) as app:
        client = app.test_client()
        auth = {"Authorization": f"Bearer {token}"}
        for i in range(10):
            r = client.post("/sparql", data=f"INSERT DATA {{ <x{i}> }}".encode(), content_type="application/sparql-update",
                            headers=auth)
            assert r.status_code == 400, r.get_data(as_text=True)
        r = client.get("/sparql?query=" + quote("SELECT (COUNT(*) AS ?n) WHERE { ?s a ckg:Paper }"),
                       headers={"Accept": "text/csv"})
        assert (r.status_code, r.get_data(as_text=True)) == (200, "n\r\n5\r\n")


def metadata_rows() -> list[list[str]]:
    with open(MINI / "metadata.csv", newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize("damage", ["utf-16 without a byte-order mark", "empty"])
def test_an_update_with_a_metadata_file_rejected_whole_writes_nothing(mini_r1, tmp_path, damage, cli):
    """Such a file used to turn every paper of the store into a removal (and exit 0)."""
    path = mini_r1
    before = dump(path, tmp_path)
    release = tmp_path / "bad"
    shutil.copytree(MINI, release)
    meta = release / "metadata.csv"
    if damage.startswith("utf-16"):
        meta.write_bytes(meta.read_text(encoding="utf-8").encode("utf-16-le"))
    else:
        meta.write_bytes(b"")
    with pytest.raises(UpdateRefused, match=r"stopped before writing anything: metadata.csv was rejected whole") as refused:
        update(path, [release], release="bad", annotation=ANNOTATION)
    assert "store, which still holds release r1" in str(refused.value)
    assert dump(path, tmp_path) == before and generations(path) == ["000001"] and not needs_recovery(path)
    assert store_stats(path)["release"] == "r1"
    result = cli("update", "--store", path, "--cord19", release, "--no-progress", ok=False)
    assert result.exit_code == 1 and "metadata.csv was rejected whole" in result.output


def test_a_mass_removal_needs_to_be_allowed(mini_r1, tmp_path, monkeypatch, cli):
    path = mini_r1
    before = dump(path, tmp_path)
    release = tmp_path / "smaller"
    shutil.copytree(MINI, release)
    rows = [r for r in metadata_rows() if r[0] not in ("aaaa0003", "aaaa0008")]
    (release / "document_parses" / "pdf_json" / ("8" * 40 + ".json")).unlink()
    with open(release / "metadata.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    message = ("release smaller would remove 2 of the store's 5 papers (40.0%, more than the 20% that CKG_MAX_REMOVAL "
               "allows); the store still holds release r1")
    with pytest.raises(UpdateRefused) as refused:
        update(path, [release], release="smaller", annotation=ANNOTATION)
    assert message in str(refused.value) and "--allow-mass-removal" in str(refused.value)
    assert dump(path, tmp_path) == before and generations(path) == ["000001"]
    result = cli("update", "--store", path, "--cord19", release, "--no-progress", ok=False)
    assert result.exit_code == 1 and message in result.output
    kept = update(path, [release], release="smaller", keep_removed=True, annotation=ANNOTATION)
    assert kept.counts["changes"]["removed"] == 0
    monkeypatch.setenv("CKG_MAX_REMOVAL", "50")
    done = update(path, [release], release="smaller", annotation=ANNOTATION)
    assert done.counts["changes"]["removed"] == 2
    monkeypatch.delenv("CKG_MAX_REMOVAL")
    update(path, [MINI], release="r1", annotation=ANNOTATION)
    allowed = cli("update", "--store", path, "--cord19", release, "--release", "smaller", "--no-progress",
                  "--allow-mass-removal").output
    assert "2 removed" in allowed and store_stats(path)["release"] == "smaller"


def test_a_killed_build_leaves_no_store_that_stats_accepts(tmp_path, cli):
    path = tmp_path / "store"
    child = start("build", path, [MINI], fault="entities.start:1:STOP", release="r1")
    wait_stopped(child)
    assert kill_stopped(child) == -9
    assert not is_store(path)
    result, lines = stats_and_stderr(path)
    assert isinstance(result, StoreError)
    assert str(result) == (f"{path} holds no finished build: its `ckg build` was interrupted before it committed; "
                           "run `ckg build` again")
    assert len(lines) == 1 and lines[0].startswith(f"ckg: recovered {path}: the build of release r1 (pid {child.pid}, ")
    assert lines[0].endswith("was removed; the store holds no release: run `ckg build` again")
    out = cli("stats", "--store", path, ok=False)
    assert out.exit_code == 1 and "holds no finished build" in out.output
    build(path, [MINI], release="r1", annotation=ANNOTATION)  # no --overwrite needed for the leftovers
    assert store_stats(path)["release"] == "r1"


def test_an_overwriting_build_replaces_the_store_only_when_complete(mini_r1, mini_next, tmp_path):
    path = mini_r1
    before = dump(path, tmp_path)
    (path / "embeddings").mkdir()
    (path / "embeddings" / "current").write_text("run-of-the-old-store\n")
    child = start("build", path, [mini_next], fault="topics.start:1:STOP", release="r2", overwrite=True)
    wait_stopped(child)
    assert kill_stopped(child) == -9
    result, lines = stats_and_stderr(path)
    assert result["release"] == "r1" and len(lines) == 1 and "the build of release r2" in lines[0]
    assert dump(path, tmp_path) == before and (path / "embeddings" / "current").exists()
    build(path, [mini_next], release="r2", overwrite=True, annotation=ANNOTATION)
    assert store_stats(path)["release"] == "r2" and not (path / "embeddings").exists()
    fresh = tmp_path / "fresh"
    build(fresh, [mini_next], release="r2", annotation=ANNOTATION)
    assert dump(path, tmp_path) == dump(fresh, tmp_path)


def to_first_layout(path: Path) -> None:
    """Turn a store into one of the first layout (the database, catalog and manifest at the top)."""
    gen = path / GENERATIONS_DIR / read_pointer(path).generation
    (path / "manifest.json").unlink()
    for name in ("oxigraph", "catalog.sqlite", "manifest.json"):
        (gen / name).rename(path / name)
    shutil.rmtree(path / GENERATIONS_DIR)
    (path / CURRENT_FILE).unlink()


def test_a_store_of_the_first_layout_is_read_then_moved_into_a_generation(mini_r1, mini_next, tmp_path):
    path = mini_r1
    before = dump(path, tmp_path)
    to_first_layout(path)
    assert is_store(path) and not needs_recovery(path)
    stats = store_stats(path)
    assert (stats["release"], stats["generation"]) == ("r1", "legacy")
    assert dump(path, tmp_path) == before
    # a migration killed before its commit point leaves the first-layout store as it was
    child = start("update", path, [mini_next], fault="commit.fsync:1:STOP", release="r2")
    wait_stopped(child)
    assert kill_stopped(child) == -9
    result, lines = stats_and_stderr(path)
    assert (result["release"], result["generation"], len(lines)) == ("r1", "legacy", 1)
    update(path, [mini_next], release="r2", annotation=ANNOTATION)
    assert read_pointer(path).previous == "legacy" and (path / "oxigraph").is_dir()  # kept for open readers
    assert os.readlink(path / "manifest.json") == "generations/000001/manifest.json"
    fresh = tmp_path / "fresh"
    build(fresh, [MINI], release="r1", annotation=ANNOTATION)
    update(fresh, [mini_next], release="r2", annotation=ANNOTATION)
    assert dump(path, tmp_path) == dump(fresh, tmp_path)
    update(path, [mini_next], release="r3", annotation=ANNOTATION)
    assert not (path / "oxigraph").exists() and not (path / "catalog.sqlite").exists()
    assert generations(path) == ["000001", "000002"] and store_stats(path)["release"] == "r3"
