"""Helpers for the server tests: a store with concept/topic edges, and a real `ckg serve` process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox

from ckg import resources
from ckg.terms import CKG, RDF, SKOS

REPO = Path(__file__).parent.parent
MESH_PNEUMONIA = "http://id.nlm.nih.gov/mesh/D011014"
SUBJECT_GRAPH = ox.NamedNode("https://w3id.org/ckg/resource/graph/test-subjects")
C1, T1, T2 = resources.from_user("concept", "c1"), resources.from_user("topic", "t1"), resources.from_user("topic", "t2")
SHA9 = "9" * 40


def paper(key: str) -> ox.NamedNode:
    return resources.paper(key)


def subject_quads() -> list[ox.Quad]:
    """Concept and topic edges as the concepts/topics issue will write them (added by hand here).

    Citations of the mini corpus: aaaa0001 is cited by aaaa0002 and SHA9; aaaa0002 and aaaa0003
    by aaaa0001. Concept c1 (= MeSH Pneumonia): aaaa0001, aaaa0002, aaaa0003. Topic t1:
    aaaa0002, SHA9. Topic t2: aaaa0001.
    """
    g = SUBJECT_GRAPH
    quads = [
        ox.Quad(C1, RDF.type, CKG.Concept, g), ox.Quad(C1, SKOS.exactMatch, ox.NamedNode(MESH_PNEUMONIA), g),
        ox.Quad(C1, ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel"), ox.Literal("pneumonia", language="en"), g),
        ox.Quad(T1, RDF.type, CKG.Topic, g), ox.Quad(T2, RDF.type, CKG.Topic, g),
    ]
    for key in ("aaaa0001", "aaaa0002", "aaaa0003"):
        quads.append(ox.Quad(paper(key), CKG.associatedConcept, C1, g))
    for key in ("aaaa0002", SHA9):
        quads.append(ox.Quad(paper(key), CKG.associatedTopic, T1, g))
    quads.append(ox.Quad(paper("aaaa0001"), CKG.associatedTopic, T2, g))
    # hostile data: the pages must not turn it into a link
    quads.append(ox.Quad(paper("aaaa0002"), ox.NamedNode("http://schema.org/url"), ox.Literal("javascript:alert(1)"), g))
    annotation = ox.NamedNode("https://w3id.org/ckg/resource/paper/aaaa0001/concept/c1")
    quads += [ox.Quad(annotation, CKG.annotatedSource, paper("aaaa0001"), g),
              ox.Quad(annotation, CKG.annotatedProperty, CKG.associatedConcept, g),
              ox.Quad(annotation, CKG.annotatedTarget, C1, g),
              ox.Quad(annotation, ox.NamedNode("http://example.org/weights#score"),  # the concepts issue names its own
                      ox.Literal("0.9", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal")), g)]
    return quads


def build_subject_store(path: Path) -> Path:
    """The mini corpus's store plus :func:`subject_quads`."""
    from ckg.etl.build import build
    from ckg.etl.signals import apply_signals
    from ckg.store import open_store

    from conftest import MINI

    from ckg import resources

    build(path, [MINI], release="2020-06-01")
    store = open_store(path)
    # the server tests work with the subjects below only, not with what the build's concept
    # extraction and topic model found (tests/test_annotate.py covers those)
    for name in (resources.CONCEPTS_GRAPH_NAME, resources.TOPICS_GRAPH_NAME):
        store.remove_graph(resources.graph(name))
    store.extend(subject_quads())
    apply_signals(store)  # the name keys and counts the named queries read, for these subjects
    store.flush()
    del store
    return path


class Server:
    """A running `ckg serve` subprocess: its base URL and the lines it printed."""

    def __init__(self, proc: subprocess.Popen, url: str, lines: list[str]) -> None:
        self.proc, self.url, self.lines = proc, url, lines

    @property
    def sparql(self) -> str:
        return self.url + "sparql"


def ok_json(response):
    """The JSON body of a 200 answer (the assertion shows the body otherwise)."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type == "application/json"
    return response.get_json()


def error(response, status: int) -> str:
    """The message of a JSON error answer with this status."""
    assert (response.status_code, response.content_type) == (status, "application/json"), response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == status
    return body["error"]


@contextmanager
def app_on(store: Path, config: dict | None = None):
    """The Flask app of ``ckg serve`` on a store (in-process, for a test client); its query
    processes are stopped on exit."""
    from ckg.server import create_app

    app = create_app(store, config or {})
    try:
        yield app
    finally:
        app.extensions["ckg"].close()


@contextmanager
def ckg_serve(store: Path, *args: str, env: dict[str, str] | None = None, startup_s: float = 60.0):
    """Start `ckg serve --store STORE --port 0 ARGS` and yield a :class:`Server` once it is ready."""
    command = [sys.executable, "-m", "ckg.cli", "serve", "--store", str(store), "--host", "127.0.0.1", "--port", "0",
               *args]
    environment = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment,
                            start_new_session=True)
    lines: list[str] = []
    ready = threading.Event()
    found: list[str] = []

    def read() -> None:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("ckg serve: http://") and not found:
                found.append(line.split()[2])
                ready.set()
        ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + startup_s
        while not found and proc.poll() is None and time.monotonic() < deadline:
            ready.wait(0.1)
        if not found:
            raise RuntimeError(f"ckg serve did not start within {startup_s} s: " + "\n".join(lines[-20:]))
        yield Server(proc, found[0], lines)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        reader.join(timeout=5)
