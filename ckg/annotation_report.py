"""What a store's papers are about: concept coverage, the top concepts, the topics (``ckg concepts``).

Read from the store with the named queries ``top-concepts`` and ``topics`` and one count, so
it describes the graph as it is (whatever built it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ckg import queries
from ckg.sparql import run_named
from ckg.store import open_store, query


def _value(term) -> Any:
    return None if term is None else term.value


def annotation_report(path: Path, *, top: int = 20) -> dict[str, Any]:
    """Papers, papers with at least one concept, the ``top`` concepts by papers, the topics."""
    store = open_store(Path(path), read_only=True)
    papers = int(next(iter(query(store, "SELECT (COUNT(?p) AS ?n) WHERE { ?p a ckg:Paper }")))["n"].value)
    with_concepts = int(next(iter(query(
        store, "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p ckg:associatedConcept ?c }")))["n"].value)
    concepts = []
    for row in run_named(store, queries.get("top-concepts"), {}, limit=top).rows:
        concept, label, kind, mesh, n = (_value(t) for t in row)
        concepts.append({"concept": concept, "label": label, "kind": kind.rsplit("#", 1)[-1], "mesh_id": mesh,
                         "papers": int(n)})
    topics = []
    for row in run_named(store, queries.get("topics"), {}).rows:
        topic, label, terms, top_of, n = (_value(t) for t in row)
        topics.append({"topic": topic, "label": label, "top_terms": terms.split(", ") if terms else [],
                       "top_topic_of": int(top_of or 0), "papers": int(n)})
    return {"papers": papers, "papers_with_concepts": with_concepts,
            "share_with_concepts": round(with_concepts / papers, 4) if papers else None,
            "top_concepts": concepts, "topics": topics}


def format_annotation_report(report: dict[str, Any]) -> str:
    share = report["share_with_concepts"]
    lines = [f"papers with at least one concept: {report['papers_with_concepts']:,} of {report['papers']:,}"
             + (f" ({share:.1%})" if share is not None else ""), "", f"top {len(report['top_concepts'])} concepts by papers"]
    for i, c in enumerate(report["top_concepts"], start=1):
        mesh = f" {c['mesh_id']}" if c["mesh_id"] else ""
        lines.append(f"  {i:>3}. {c['papers']:>6,}  {c['label']} ({c['kind']}{mesh})")
    lines += ["", "topics (papers whose top topic it is / all papers with it): top terms"]
    for t in report["topics"]:
        lines.append(f"  {t['label']} ({t['top_topic_of']:,} / {t['papers']:,}): {', '.join(t['top_terms'])}")
    return "\n".join(lines)
