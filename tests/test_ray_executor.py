"""``--executor ray``: the per-paper stages on a real Ray cluster give the local answer.

A Ray cluster of two nodes (a head and a worker node, 1 CPU each, separate processes) is started
on loopback with ``ray start --block``, token authentication on; builds and trainings of the demo
corpus run on it and are compared with the local executor's: the same concept and topic graphs,
text vectors within 1e-5. A worker killed mid-pipeline (``CKG_FAULT`` at an actor's first batch)
is restarted and the run finishes with the same answer; actors that die every time make the
update fail cleanly, the store left as it was.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import EMBED_TEST_CONFIG, copy_store

if importlib.util.find_spec("ray") is None or importlib.util.find_spec("pyarrow") is None:
    # not imported here: Ray reads its authentication settings when it is first imported (the fixture sets them)
    pytest.skip("Ray Data is not installed (make install installs ray[data])", allow_module_level=True)

RAY = Path(sys.executable).parent / "ray"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    """host:port of a two-node Ray cluster on loopback; the environment a driver needs is set."""
    if not RAY.exists():
        pytest.skip(f"the ray command is not installed beside {sys.executable}")
    temp = Path(tempfile_dir := str(tmp_path_factory.mktemp("ray")))
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token",
           "RAY_AUTH_TOKEN": secrets.token_hex(16)}
    port = _free_port()
    common = ["--block", "--num-cpus=1", "--node-ip-address=127.0.0.1", "--object-store-memory=150000000",
              "--dashboard-agent-listen-port=0", "--metrics-export-port=0"]
    logs = [open(temp / "head.log", "wb"), open(temp / "worker.log", "wb")]
    head = subprocess.Popen([str(RAY), "start", "--head", f"--port={port}", "--include-dashboard=false",
                             "--disable-usage-stats", f"--temp-dir={tempfile_dir}", *common],
                            env=env, stdout=logs[0], stderr=subprocess.STDOUT, start_new_session=True)
    processes = [head]
    address = f"127.0.0.1:{port}"
    try:
        _wait_for(lambda: _status(address, env) >= 1, head, temp / "head.log")
        processes.append(subprocess.Popen([str(RAY), "start", f"--address={address}", *common], env=env,
                                          stdout=logs[1], stderr=subprocess.STDOUT, start_new_session=True))
        _wait_for(lambda: _status(address, env) >= 2, processes[1], temp / "worker.log")
        saved = {k: os.environ.get(k) for k in ("RAY_USAGE_STATS_ENABLED", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
        os.environ.update({k: env[k] for k in saved})
        yield address
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    finally:
        for p in reversed(processes):
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)
        _kill_left(tempfile_dir)
        for log in logs:
            log.close()


def _kill_left(temp: str) -> None:
    """Kill what the cluster left running (its processes name its temporary folder)."""
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and temp.encode() in (proc / "cmdline").read_bytes():
                os.kill(int(proc.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue


def _status(address: str, env: dict) -> int:
    """The nodes ``ray status`` counts as active (0 while the cluster is not up)."""
    out = subprocess.run([str(RAY), "status", f"--address={address}"], env=env, capture_output=True, text=True,
                         timeout=30)
    if out.returncode != 0 or "Active:" not in out.stdout:
        return 0
    active = out.stdout.split("Active:")[1].split("Pending:")[0]
    return sum(1 for line in active.splitlines() if "node_" in line)


def _wait_for(ready, process: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"ray start exited with {process.returncode}: {log.read_text()[-2000:]}")
        if ready():
            return
        time.sleep(1)
    pytest.fail(f"the Ray cluster did not come up in {seconds} s: {log.read_text()[-2000:]}")


def _graph(store: Path, name: str) -> set[str]:
    """The quads of a named graph of a store's current release, as strings."""
    from ckg import resources
    from ckg.store import open_release

    _, db = open_release(store, read_only=True)
    return {str(q) for q in db.quads_for_pattern(None, None, None, resources.graph(name))}


def _annotations(store: Path) -> tuple[set[str], set[str]]:
    from ckg import resources

    return _graph(store, resources.CONCEPTS_GRAPH_NAME), _graph(store, resources.TOPICS_GRAPH_NAME)


def _options(address: str, **executor):
    from ckg.etl.annotate import AnnotationOptions
    from ckg.executor import Executor

    return AnnotationOptions(executor=Executor("ray", address, batch=8, **executor))


@pytest.fixture(scope="module")
def local_build(demo_store):
    """Release 1 of the demo corpus built with the local executor (the session's shared store)."""
    return demo_store


def test_build_on_ray_gives_the_local_concepts_and_topics(ray_cluster, local_build, demo_releases, tmp_path):
    """The CLI with --executor ray --ray-address: a build on the two-node cluster."""
    store = tmp_path / "store"
    env = {**os.environ}
    out = subprocess.run([str(Path(sys.executable).parent / "ckg"), "build", "--store", str(store), "--cord19",
                          str(demo_releases[0]), "--release", "demo-1", "--executor", "ray", "--ray-address",
                          ray_cluster, "--no-progress"], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    concepts, topics = _annotations(store)
    local_concepts, local_topics = _annotations(local_build)
    assert len(local_concepts) > 100 and len(local_topics) > 50
    assert concepts == local_concepts
    assert topics == local_topics
    from ckg.store import read_manifest

    extraction = read_manifest(store)["counts"]["concepts"]["extraction"]
    assert extraction["executor"]["kind"] == "ray" and extraction["executor"]["address"] == ray_cluster
    assert extraction["papers"] == 60


def test_a_worker_killed_mid_pipeline_is_restarted_and_the_build_finishes(ray_cluster, local_build, demo_releases,
                                                                           tmp_path, monkeypatch):
    from ckg.etl.build import build

    once = tmp_path / "killed-once"
    monkeypatch.setenv("CKG_FAULT", "ray.batch:1:KILL")  # the first actor to get a batch dies at once ...
    monkeypatch.setenv("CKG_FAULT_ONCE", str(once))      # ... and only that one
    build(tmp_path / "store", [demo_releases[0]], release="demo-1", annotation=_options(ray_cluster))
    assert once.exists(), "no Ray actor reached the fault: the kill was not tested"
    assert _annotations(tmp_path / "store") == _annotations(local_build)


def test_actors_that_keep_dying_fail_the_update_and_leave_the_store_as_it_was(ray_cluster, local_build,
                                                                               demo_releases, tmp_path, monkeypatch):
    from ckg.etl.build import update
    from ckg.executor import ExecutorError
    from ckg.store import read_manifest

    store = copy_store(local_build, tmp_path / "store")
    before, manifest = _annotations(store), read_manifest(store)
    monkeypatch.setenv("CKG_FAULT", "ray.batch:1:KILL")  # every actor dies at its first batch
    with pytest.raises(ExecutorError, match="Ray pipeline of the concepts stage failed"):
        update(store, [demo_releases[1]], release="demo-2", annotation=_options(ray_cluster, retries=1))
    assert read_manifest(store) == manifest
    assert _annotations(store) == before


def test_training_on_ray_gives_the_local_text_vectors(ray_cluster, trained_demo_store, tmp_path):
    """The text part of the session's locally trained demo store, trained again on Ray (the
    graph part by features, which the text does not depend on)."""
    from ckg.embed import train
    from ckg.embed.artifacts import load_run
    from ckg.embed.config import TrainConfig
    from ckg.executor import Executor

    store, local = trained_demo_store
    config = TrainConfig().override({**EMBED_TEST_CONFIG, "graph.method": "features",
                                     "search.tune_on_citations": False})
    assert config.text == local.config.text
    remote = train(copy_store(store, tmp_path / "ray"), config, incremental=False,
                   executor=Executor("ray", ray_cluster, batch=8))
    a, b = load_run(store, local.run_id), load_run(remote.store)
    rows = [b.row_of()[k] for k in a.papers]
    assert len(rows) == 60 and a.text_mask.sum() > 100
    assert np.array_equal(a.text_mask, b.text_mask[rows])
    assert float(np.abs(a.text_parts - b.text_parts[rows]).max()) < 1e-5
    assert float(np.abs(a.text - b.text[rows]).max()) < 1e-5
    assert remote.counts["text"]["passages_embedded"] == local.counts["text"]["passages_embedded"]
    assert remote.manifest["text"]["executor"]["kind"] == "ray"
