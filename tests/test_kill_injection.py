"""Kill injection: a build or an update killed at any moment leaves exactly the old store or the new one.

A writer runs in a child process (:mod:`writer_processes`) and is killed

* at every named fault point of its run (:mod:`ckg.faults`: every stage's start and end, the
  first, middle and last paper read, each removal, each bulk load, every step of the commit and
  of the clean-up after it), with SIGKILL and SIGTERM in turn;
* by a watchdog a few milliseconds after a bulk load starts, so that the kill lands inside
  Oxigraph's Rust code;
* by the test, at delays spread over the whole run;
* as the real ``ckg`` command (subprocesses), with SIGTERM and SIGKILL.

After each kill the next command that opens the store must print exactly one ``ckg: recovered``
line on stderr when the run left something behind (none otherwise), hold the old release or the
new one as ``ckg stats`` says, and export exactly the N-Quads of the old store or of an
uninterrupted run: the exports are compared byte for byte after sorting their lines, and nothing
is excluded (the graph holds no time stamps: a run's times are in its manifest). Re-running the
update (or the build) afterwards gives the same export as an uninterrupted one.

The numbers of kills and verified stores are printed at the end (``test_tally``).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from ckg.etl.annotate import AnnotationOptions
from ckg.etl.build import build, update
from ckg.export import export
from ckg.stats import store_stats
from ckg.store import StoreError, needs_recovery

from conftest import MINI, REPO, write_next_mini_release
from writer_processes import finish, kill_stopped, start, wait_stopped

ANNOTATION = AnnotationOptions(processes=1)
TALLY: Counter[str] = Counter()
RECOVERED = "ckg: recovered "


def nquads(path: Path, scratch: Path) -> bytes:
    """The store's export (`ckg export --format nquads`), its lines sorted."""
    out = scratch / "export.nq"
    export(path, "nquads", out)
    data = b"\n".join(sorted(out.read_bytes().splitlines()))
    out.unlink()
    return data


def copy(store: Path, to: Path) -> Path:
    shutil.rmtree(to, ignore_errors=True)
    shutil.copytree(store, to, symlinks=True)
    return to


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The releases, the expected exports (old store, uninterrupted update, uninterrupted build)
    and a store of release r1 to copy before each killed update."""
    base = tmp_path_factory.mktemp("kills")
    r2 = write_next_mini_release(base / "r2")
    scratch = base / "scratch"
    scratch.mkdir()
    old = base / "old"
    build(old, [MINI], release="r1", annotation=ANNOTATION)
    new = copy(old, base / "new")
    update(new, [r2], release="r2", annotation=ANNOTATION)
    return {"base": base, "r1": MINI, "r2": r2, "scratch": scratch, "old": old,
            "exports": {nquads(old, scratch): "r1", nquads(new, scratch): "r2"}}


def verify(path: Path, exports: dict[bytes, str], scratch: Path, *, allow_none: bool = False,
           expect: str | None = None, expect_recovery: bool | None = None) -> str | None:
    """What the next command finds after a kill: one recovery line exactly when something was left
    behind, and the old or the new store (``expect``: that release), or none (a killed build).
    Returns the release found."""
    leftovers = needs_recovery(path)
    if expect_recovery is not None:
        assert leftovers == expect_recovery, f"left behind: {sorted(os.listdir(path))}"
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            release = store_stats(path)["release"]
        except StoreError as exc:
            assert allow_none, f"no store after the kill: {exc}"
            assert "holds no finished build" in str(exc) or "is not a ckg store" in str(exc), str(exc)
            release = None
    lines = err.getvalue().splitlines()
    assert len(lines) == (1 if leftovers else 0) and all(line.startswith(RECOVERED) for line in lines), lines
    assert not needs_recovery(path)
    if release is not None:
        assert exports.get(nquads(path, scratch)) == release, f"the store is neither the old nor the new one ({release})"
    if expect is not None:
        assert release == expect
    TALLY["stores verified"] += 1
    TALLY["recoveries"] += len(lines)
    return release


def trace_of(job: str, store: Path, inputs: list[Path], trace: Path, **kwargs) -> list[str]:
    """The fault points an uninterrupted run reaches, in order."""
    trace.unlink(missing_ok=True)
    assert finish(start(job, store, inputs, trace=trace, **kwargs)) == 0
    return trace.read_text().splitlines()


def kill_plan(points: list[str]) -> list[tuple[str, int, int]]:
    """(point, hit, position in the run) for the first, middle and last hit of every point."""
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(points):
        positions.setdefault(name, []).append(i)
    plan = set()
    for name, where in positions.items():
        for hit in {1, (len(where) + 1) // 2, len(where)}:
            plan.add((name, hit, where[hit - 1]))
    return sorted(plan, key=lambda p: p[2])


def test_an_update_killed_at_every_fault_point(world):
    w = world
    points = trace_of("update", copy(w["old"], w["base"] / "traced"), [w["r2"]], w["base"] / "update.trace", release="r2")
    flip, locked, done = points.index("commit.flipped"), points.index("write.locked"), points.index("finish.done")
    plan = kill_plan(points)
    assert len({p for p, _, _ in plan}) >= 30  # every stage boundary, the loops, the commit and its clean-up
    for n, (name, hit, position) in enumerate(plan):
        action = "KILL" if n % 2 == 0 else "TERM"
        store = copy(w["old"], w["base"] / "victim")
        code = finish(start("update", store, [w["r2"]], fault=f"{name}:{hit}:{action}", release="r2"))
        assert code == (-9 if action == "KILL" else -15), (name, hit, code)
        TALLY[f"kills at named points ({action})"] += 1
        verify(store, w["exports"], w["scratch"], expect="r1" if position < flip else "r2",
               expect_recovery=locked < position < done)
        update(store, [w["r2"]], release="r2", annotation=ANNOTATION)  # re-running it gives the uninterrupted result
        assert w["exports"].get(nquads(store, w["scratch"])) == "r2", (name, hit)
    TALLY["distinct fault points (update)"] = len({p for p, _, _ in plan})


def test_a_build_killed_at_every_fault_point(world):
    w = world
    points = trace_of("build", w["base"] / "traced-build", [w["r1"]], w["base"] / "build.trace", release="r1")
    flip = points.index("commit.flipped")
    plan = kill_plan(points)
    for n, (name, hit, position) in enumerate(plan):
        action = "KILL" if n % 2 == 0 else "TERM"
        store = w["base"] / "victim-build"
        shutil.rmtree(store, ignore_errors=True)
        code = finish(start("build", store, [w["r1"]], fault=f"{name}:{hit}:{action}", release="r1"))
        assert code == (-9 if action == "KILL" else -15), (name, hit, code)
        TALLY[f"kills at named points ({action})"] += 1
        found = verify(store, w["exports"], w["scratch"], allow_none=True)
        assert found == ("r1" if position >= flip else None), (name, hit, found)
        if found is None:
            build(store, [w["r1"]], release="r1", annotation=ANNOTATION)  # the leftovers need no --overwrite
            assert w["exports"].get(nquads(store, w["scratch"])) == "r1"
    TALLY["distinct fault points (build)"] = len({p for p, _, _ in plan})


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A bigger corpus (the demo corpus, 60 papers), for kills inside its bulk loads."""
    from ckg.demo_corpus import generate

    base = tmp_path_factory.mktemp("demo-kills")
    generate(base / "d1", papers=60, seed=7, release=1)
    scratch = base / "scratch"
    scratch.mkdir()
    built = base / "built"
    build(built, [base / "d1"], release="d1", annotation=ANNOTATION)
    return {"base": base, "release": base / "d1", "scratch": scratch, "exports": {nquads(built, scratch): "d1"}}


def test_a_build_killed_inside_its_bulk_loads(demo):
    """A watchdog kills the writer milliseconds after a bulk load starts: inside Oxigraph's Rust code."""
    inside = 0
    for n, (point, delay) in enumerate([("load.bulk:1", d) for d in (0.0005, 0.001, 0.002, 0.003, 0.006, 0.01)]):
        action = "KILL" if n % 2 == 0 else "TERM"
        store = demo["base"] / "victim"
        shutil.rmtree(store, ignore_errors=True)
        trace = demo["base"] / "trace"
        trace.unlink(missing_ok=True)
        code = finish(start("build", store, [demo["release"]], fault=f"{point}:{action}+{delay}", trace=trace,
                            release="d1"))
        TALLY["kills by a watchdog after a bulk load started"] += 1
        if code in (-9, -15):
            last = trace.read_text().splitlines()[-1]
            inside += last == point.split(":")[0]  # no later fault point reached: it died in the bulk load
        found = verify(store, demo["exports"], demo["scratch"], allow_none=True)
        if found is None:
            build(store, [demo["release"]], release="d1", annotation=ANNOTATION)
            assert demo["exports"].get(nquads(store, demo["scratch"])) == "d1"
    TALLY["of them, killed inside the bulk load"] += inside
    assert inside >= 3


PIECE_PER_PAPER = {"CKG_LOAD_PIECE_MB": "0.0005"}  # 524 bytes: the staging file is cut after every paper


def test_a_build_in_pieces_loaded_beside_the_reading_equals_one_file(world, monkeypatch):
    """The loader thread of ckg.etl.staging bulk-loads each paper's piece while the reading goes on:
    the store is the one-file build's, quad for quad, and no staged file is left behind."""
    whole = world["base"] / "whole"
    monkeypatch.setenv("CKG_LOAD_PIECE_MB", "0")
    one = build(whole, [MINI], release="r1", annotation=ANNOTATION)
    monkeypatch.setenv("CKG_LOAD_PIECE_MB", PIECE_PER_PAPER["CKG_LOAD_PIECE_MB"])
    pieces = world["base"] / "pieces"
    cut = build(pieces, [MINI], release="r1", annotation=ANNOTATION)
    assert one.counts["staging"]["pieces"] == 2  # the papers', loaded while the entities are staged, then those
    assert cut.counts["staging"]["pieces"] == one.counts["papers_in_store"] + 2  # a piece a paper, the release's, those
    assert nquads(pieces, world["scratch"]) == nquads(whole, world["scratch"])
    assert world["exports"][nquads(pieces, world["scratch"])] == "r1"
    assert not [p for p in pieces.rglob("staging*")]


def test_a_loader_error_fails_the_build_and_leaves_nothing(world, monkeypatch):
    store = world["base"] / "failed"
    monkeypatch.setenv("CKG_LOAD_PIECE_MB", PIECE_PER_PAPER["CKG_LOAD_PIECE_MB"])
    monkeypatch.setenv("CKG_FAULT", "load.piece:2:RAISE")
    from ckg import faults

    faults.reset()
    with pytest.raises(faults.FaultInjected, match="load.piece"):
        build(store, [MINI], release="r1", annotation=ANNOTATION)
    monkeypatch.delenv("CKG_FAULT")
    faults.reset()
    assert verify(store, world["exports"], world["scratch"], allow_none=True) is None
    assert not [p for p in store.rglob("staging*")]
    build(store, [MINI], release="r1", annotation=ANNOTATION, overwrite=True)
    assert world["exports"][nquads(store, world["scratch"])] == "r1"


def test_a_build_killed_while_a_piece_loads_beside_the_reading(world):
    """SIGKILL or SIGTERM in the loader thread, inside Oxigraph's bulk load of a piece, while the
    main thread reads on: no store is left, nothing to recover but the generation, and the next
    build is the release."""
    for n, (hit, delay) in enumerate([(1, 0.0), (2, 0.0005), (3, 0.002), (4, 0.0)]):
        action = "KILL" if n % 2 == 0 else "TERM"
        store = world["base"] / "piece-victim"
        shutil.rmtree(store, ignore_errors=True)
        code = finish(start("build", store, [MINI], fault=f"load.piece:{hit}:{action}+{delay}", release="r1",
                            env=PIECE_PER_PAPER))
        assert code in (-9, -15)
        TALLY["kills in the loader thread"] += 1
        assert verify(store, world["exports"], world["scratch"], allow_none=True) is None
        build(store, [MINI], release="r1", annotation=ANNOTATION)
        assert world["exports"][nquads(store, world["scratch"])] == "r1"


def test_an_update_killed_at_spread_out_delays(world):
    w = world
    store = copy(w["old"], w["base"] / "timed")
    begun = time.monotonic()
    assert finish(start("update", store, [w["r2"]], release="r2")) == 0
    duration = time.monotonic() - begun
    for k in range(1, 9):
        store = copy(w["old"], w["base"] / "timed")
        child = start("update", store, [w["r2"]], release="r2")
        time.sleep(duration * k / 9)
        sig = signal.SIGKILL if k % 2 else signal.SIGTERM
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, sig)
        code = finish(child)
        TALLY["kills at spread-out delays"] += 1
        verify(store, w["exports"], w["scratch"])
        update(store, [w["r2"]], release="r2", annotation=ANNOTATION)
        assert w["exports"].get(nquads(store, w["scratch"])) == "r2"
        assert code in (0, -9, -15)


# -- the real command ------------------------------------------------------------------------------

def ckg(*args, env=None, **kwargs) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("CKG_FAULT", "CKG_FAULT_TRACE")}
    environment.update({"CKG_PROCESSES": "1", **(env or {})})
    return subprocess.run([sys.executable, "-m", "ckg.cli", *map(str, args)], capture_output=True, text=True,
                          env=environment, cwd=REPO, timeout=300, **kwargs)


def recovery_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(RECOVERED)]


def exported(store: Path, scratch: Path) -> tuple[bytes, subprocess.CompletedProcess]:
    out = scratch / "cli-export.nq"
    done = ckg("export", "--store", store, "--format", "nquads", out)
    assert done.returncode == 0, done.stderr
    return b"\n".join(sorted(out.read_bytes().splitlines())), done


def test_the_ckg_command_killed_by_sigterm_then_stats_export_and_update(world):
    w = world
    store = copy(w["old"], w["base"] / "cli")
    killed = ckg("update", "--store", store, "--cord19", w["r2"], "--release", "r2", env={"CKG_FAULT": "read.paper:3:TERM"})
    assert killed.returncode == -signal.SIGTERM, killed.stderr
    TALLY["kills of the ckg command (SIGTERM)"] += 1
    stats = ckg("stats", "--store", store)
    assert stats.returncode == 0 and len(recovery_lines(stats.stderr)) == 1 and stats.stderr.count("\n") == 1
    assert "the update of release r2" in stats.stderr and "interrupted before its commit point" in stats.stderr
    assert "\nrelease      r1 (generation 000001)\n" in stats.stdout
    data, done = exported(store, w["scratch"])
    assert w["exports"].get(data) == "r1" and recovery_lines(done.stderr) == []
    TALLY["stores verified"] += 1
    again = ckg("update", "--store", store, "--cord19", w["r2"], "--release", "r2")
    assert again.returncode == 0 and recovery_lines(again.stderr) == [], again.stderr
    assert w["exports"].get(exported(store, w["scratch"])[0]) == "r2"


def test_a_build_or_update_whose_row_worker_is_killed_stops_with_an_error(world):
    """The worker processes assembling a build's rows (CKG_PROCESSES above 1) are killed at their
    first batch: the build stops with an error that says so (no traceback, no wait for results
    that will not come), leaves no store behind, and builds when run again. An update's workers
    (they fingerprint the rows) killed alike leave the store at the release it had."""
    w = world
    store = w["base"] / "worker-killed"
    killed = ckg("build", "--store", store, "--cord19", w["r1"], "--release", "r1",
                 env={"CKG_PROCESSES": "2", "CKG_FAULT": "read.assemble:1:KILL"})
    assert killed.returncode == 1, killed.stderr
    assert "a worker process assembling the rows of metadata.csv stopped" in killed.stderr
    assert "Traceback" not in killed.stderr
    TALLY["kills of a build's row workers"] += 1
    assert verify(store, w["exports"], w["scratch"], allow_none=True) is None
    again = ckg("build", "--store", store, "--cord19", w["r1"], "--release", "r1", "--overwrite",
                env={"CKG_PROCESSES": "2"})
    assert again.returncode == 0, again.stderr
    assert verify(store, w["exports"], w["scratch"], expect="r1") == "r1"
    killed = ckg("update", "--store", store, "--cord19", w["r2"], "--release", "r2",
                 env={"CKG_PROCESSES": "2", "CKG_FAULT": "read.assemble:1:KILL"})
    assert killed.returncode == 1 and "Traceback" not in killed.stderr, killed.stderr
    assert "a worker process assembling the rows of metadata.csv stopped" in killed.stderr
    TALLY["kills of an update's row workers"] += 1
    assert verify(store, w["exports"], w["scratch"], expect="r1") == "r1"


def test_the_ckg_command_killed_from_outside_after_its_commit_point(world):
    w = world
    store = copy(w["old"], w["base"] / "cli-outside")
    proc = subprocess.Popen([sys.executable, "-m", "ckg.cli", "update", "--store", str(store), "--cord19", str(w["r2"]),
                             "--release", "r2"], env={**os.environ, "CKG_PROCESSES": "1", "CKG_FAULT": "finish.history:1:STOP"},
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    class Child:  # what writer_processes.wait_stopped needs
        pid = proc.pid

        @staticmethod
        def is_alive():
            return proc.poll() is None

        exitcode = None

    wait_stopped(Child, timeout=120)
    os.kill(proc.pid, signal.SIGTERM)
    os.kill(proc.pid, signal.SIGCONT)
    assert proc.wait(60) == -signal.SIGTERM
    TALLY["kills of the ckg command (SIGTERM)"] += 1
    found = ckg("query", "--store", store, "--sparql", "SELECT (COUNT(*) AS ?n) WHERE { ?p a ckg:Paper }", "--format", "csv")
    assert found.returncode == 0 and found.stdout.splitlines() == ["n", "6"]
    assert len(recovery_lines(found.stderr)) == 1 and "interrupted after its commit point" in found.stderr
    assert w["exports"].get(exported(store, w["scratch"])[0]) == "r2"
    TALLY["stores verified"] += 1


def test_a_killed_ckg_build_is_refused_by_stats_then_built_again(world):
    w = world
    store = w["base"] / "cli-build"
    killed = ckg("build", "--store", store, "--cord19", w["r1"], "--release", "r1", env={"CKG_FAULT": "concepts.start:1:KILL"})
    assert killed.returncode == -signal.SIGKILL
    TALLY["kills of the ckg command (SIGKILL)"] += 1
    stats = ckg("stats", "--store", store)
    assert stats.returncode == 1
    lines = stats.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith(RECOVERED) and "the build of release r1" in lines[0]
    assert lines[1] == (f"Error: {store} holds no finished build: its `ckg build` was interrupted before it committed; "
                        "run `ckg build` again")
    TALLY["stores verified"] += 1
    again = ckg("build", "--store", store, "--cord19", w["r1"], "--release", "r1")
    assert again.returncode == 0, again.stderr
    assert w["exports"].get(exported(store, w["scratch"])[0]) == "r1"


def test_a_server_opening_a_store_recovers_it(world):
    """`ckg serve` opens the store through create_app: it recovers too."""
    from serving import app_on

    w = world
    store = copy(w["old"], w["base"] / "serve")
    child = start("update", store, [w["r2"]], fault="commit.manifest:1:STOP", release="r2")
    wait_stopped(child)
    assert kill_stopped(child) == -9
    TALLY["kills at named points (KILL)"] += 1
    err = io.StringIO()
    with contextlib.redirect_stderr(err), app_on(store, {"engines": 1}) as app:
        body = app.test_client().get("/-/about.json").get_json()
    assert body["store"]["last_run"]["release"] == "r1" and body["store"]["papers"] == 5
    assert len(recovery_lines(err.getvalue())) == 1
    verify(store, w["exports"], w["scratch"], expect="r1", expect_recovery=False)


def test_tally(capsys):
    """The numbers the kill injection reached (printed; run with the other tests of this file)."""
    with capsys.disabled():
        print("\nkill injection: " + ", ".join(f"{k} {v}" for k, v in sorted(TALLY.items())))
