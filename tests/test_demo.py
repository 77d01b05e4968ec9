"""`ckg demo` (what `make demo` runs) builds, updates and shows the demo graph."""

from __future__ import annotations

import pytest

from ckg.demo import run_demo
from ckg.embed import Index
from ckg.store import read_manifest

from conftest import EMBED_TEST_CONFIG


def test_demo_builds_updates_and_answers(tmp_path):
    lines: list[str] = []
    store = run_demo(tmp_path / "demo", papers=40, echo=lines.append, embeddings=False)
    text = "\n".join(lines)
    assert "build demo-1: 40 papers (40 new" in text
    assert "update demo-2:" in text and "removed" in text
    assert "== most-cited-papers" in text and "== paper-authors" in text and "== author-coauthors" in text
    for name in ("paper-concepts", "paper-topics", "top-concepts", "topics", "concept-cooccurrence", "papers-with-concepts",
                 "topic-papers", "customised-citation-counts"):
        assert f"== {name}" in text, name
    assert "concept edges to" in text and "topic edges" in text
    # the top concepts are concepts of ckg's demo vocabulary with their kind
    top = text.split("== top-concepts")[1].splitlines()
    assert top[3].startswith("ckgr:concept/") and "ckg:" in top[3]
    manifest = read_manifest(store)
    assert manifest["mode"] == "update" and manifest["release"] == "demo-2"
    changes = manifest["counts"]["changes"]
    assert changes["new"] > 0 and changes["removed"] > 0 and changes["changed"] > 0
    assert manifest["counts"]["concepts"]["extraction"]["papers"] == changes["new"] + changes["changed"]
    # the most-cited table has a first row with a paper and a count
    table = text.split("== most-cited-papers")[1].splitlines()
    assert table[3].split()[:2][0] == "100" and table[3].split()[1].startswith("ckgr:paper/")
    assert table[3].split()[-1].isdigit()


def test_training_progress_is_a_line_per_stage_or_bars():
    import io

    from ckg.demo import TrainProgress

    def feed(progress):
        progress("text_model", 0)
        progress("text_total", 3)
        progress("passages_total", 8)
        for n in (2, 2, 2, 2):
            progress("passages", n)
        progress("text", 3)
        progress("graph", 0)
        progress("graph", 1)
        progress.close()

    out = io.StringIO()
    feed(TrainProgress(out, False, "tiny-model", "features"))
    lines = out.getvalue().splitlines()
    assert all(line.startswith("training: ") for line in lines)
    assert lines[0] == "training: loading the text model (tiny-model)"
    assert lines[1].endswith("embedding the text of 3 papers")
    assert [line.split()[3] for line in lines if "text passages" in line] == ["2/8", "4/8", "6/8", "8/8"]
    assert "text done: 3/3 papers, 8 passages in" in lines[-2] and lines[-2].endswith("graph vectors (features)")
    assert lines[-1].startswith("training: graph done in ")
    bars = io.StringIO()
    feed(TrainProgress(bars, True, "tiny-model", "features"))
    assert "text passages" in bars.getvalue() and "8/8" in bars.getvalue() and "papers 3/3" in bars.getvalue()
    silent = TrainProgress(None, False, "m", "g")
    feed(silent)  # nowhere to say it: nothing happens


@pytest.mark.slow
def test_demo_trains_embeddings_and_shows_similar_papers(tmp_path):
    import io

    lines: list[str] = []
    progress = io.StringIO()
    store = run_demo(tmp_path / "demo", papers=30, echo=lines.append, embed_settings=EMBED_TEST_CONFIG,
                     progress=progress)
    shown = progress.getvalue()  # not a terminal: a line per stage
    assert "training: loading the text model" in shown and "; embedding the text of" in shown
    assert "text passages" in shown and "graph vectors (TransE, at most 10 epochs)" in shown
    assert "training: graph done in" in shown and "\r" not in shown
    text = "\n".join(lines)
    index = Index.load(store)
    assert f"trained embeddings (run {index.run_id})" in text
    top = text.split("== most-cited-papers")[1].splitlines()[3].split()[1].removeprefix("ckgr:paper/")
    for mode in ("combined", "text"):
        shown = text.split(f"== papers most similar to {top} ({mode})")[1].splitlines()[1:6]
        expected = index.similar(top, k=5, mode=mode)
        assert [line.split()[2] for line in shown] == [n.paper for n in expected]
        assert [float(line.split()[1]) for line in shown] == pytest.approx([n.score for n in expected], abs=1e-3)
