"""bench/scale_stage.py: the child process of the scale benchmark's builds and updates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ckg.terms import CKG

from conftest import MINI

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "scale_stage.py"


def test_a_build_without_annotation_leaves_out_concepts_and_topics_only(tmp_path, mini_store):
    """``--no-annotation`` (the metadata-only goal's build, measured as such) skips the concepts
    and topics stages and nothing else: the same papers, authors and citations as a whole build,
    no concept or topic edges, and each stage's start and end in the events file."""
    events = tmp_path / "events.txt"
    done = subprocess.run([sys.executable, str(SCRIPT), "build", "--store", str(tmp_path / "store"),
                           "--cord19", str(MINI), "--release", "r1", "--events", str(events), "--no-annotation"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    manifest = json.loads(done.stdout.strip().splitlines()[-1])["manifest"]
    counts = manifest["counts"]
    assert counts["concepts"] == counts["topics"] == {"skipped": "bench/scale_stage.py --no-annotation"}
    properties = counts["per_property"]
    assert CKG.associatedConcept.value not in properties and CKG.associatedTopic.value not in properties
    whole = mini_store[1].manifest["counts"]  # the same release built whole
    assert whole["per_property"][CKG.associatedConcept.value] > 0
    for prop in (CKG.authoredBy, CKG.cites, CKG.affiliatedWith):
        assert properties[prop.value] == whole["per_property"][prop.value] > 0
    assert counts["papers_in_store"] == whole["papers_in_store"]
    stages = [line.split()[1:] for line in events.read_text().splitlines()]
    for stage in ("read_and_emit", "load", "concepts", "topics", "search_index", "count"):
        assert [stage, "start"] in stages and [stage, "end"] in stages
