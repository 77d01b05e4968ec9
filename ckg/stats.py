"""Statistics of a store: what it holds now, counted live, and what its last run recorded.

>>> from ckg.terms import CKG
>>> short(CKG.Paper.value), short("http://purl.org/dc/terms/title")
('ckg:Paper', 'dcterms:title')
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ckg.store import LEGACY, StoreError, open_release, query, read_manifest
from ckg.terms import PREFIXES


def short(iri: str) -> str:
    """A prefixed name for an IRI in one of ckg's namespaces, else the IRI."""
    for prefix, base in PREFIXES.items():
        if iri.startswith(base) and "/" not in iri[len(base):] and "#" not in iri[len(base):]:
            return f"{prefix}:{iri[len(base):]}"
    return iri


def store_stats(path: Path) -> dict[str, Any]:
    """Triples, named graphs, instances per class and triples per property, the release the store
    holds and the run that made it."""
    folder, store = open_release(Path(path))
    classes = {short(r["c"].value): int(r["n"].value) for r in query(
        store, "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c ORDER BY DESC(?n) ?c")}
    properties = {short(r["p"].value): int(r["n"].value) for r in query(
        store, "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p ORDER BY DESC(?n) ?p")}
    out: dict[str, Any] = {
        "store": str(Path(path).resolve()),
        "generation": LEGACY if folder == Path(path) else folder.name,
        "release": None,
        "triples": len(store),
        "named_graphs": sum(1 for _ in store.named_graphs()),
        "classes": classes,
        "properties": properties,
    }
    try:
        manifest = read_manifest(path, folder)
    except StoreError:
        manifest = None
    if manifest:
        out["release"] = manifest.get("release")
        counts = manifest.get("counts", {})
        out["last_run"] = {
            "mode": manifest.get("mode"),
            "release": manifest.get("release"),
            "finished_at": manifest.get("finished_at"),
            "papers_in_store": counts.get("papers_in_store"),
            "changes": counts.get("changes"),
            "citations": {k: v for k, v in counts.get("citations", {}).items() if k != "outcomes"},
            "rejected": manifest.get("rejects", {}).get("rejected_by_reason"),
            "warnings": manifest.get("rejects", {}).get("warnings_by_reason"),
            "seconds": manifest.get("timings_s", {}).get("total"),
        }
    return out


def format_stats(stats: dict[str, Any]) -> str:
    lines = [f"store        {stats['store']}",
             f"release      {stats.get('release') or 'unknown (no manifest)'} (generation {stats.get('generation')})",
             f"triples      {stats['triples']:,}", f"named graphs {stats['named_graphs']:,}"]
    run = stats.get("last_run")
    if run:
        lines.append(f"last run     {run['mode']} of release {run['release']} at {run['finished_at']} "
                     f"({run['seconds']} s): {run['papers_in_store']:,} papers")
        cites = run.get("citations") or {}
        if cites:
            lines.append(f"citations    {cites.get('edges', 0):,} edges from {cites.get('bib_entries', 0):,} bibliography "
                         f"entries ({cites.get('resolved_entries', 0):,} resolved, {cites.get('ambiguous_entries', 0):,} "
                         f"ambiguous, {cites.get('unresolved_entries', 0):,} unresolved)")
        if run.get("rejected"):
            lines.append("rejected     " + ", ".join(f"{k} {v}" for k, v in run["rejected"].items()))
        if run.get("warnings"):
            lines.append("warnings     " + ", ".join(f"{k} {v}" for k, v in run["warnings"].items()))
    lines.append("\ninstances per class")
    lines.extend(f"  {n:>10,}  {c}" for c, n in stats["classes"].items())
    lines.append("\ntriples per property")
    lines.extend(f"  {n:>10,}  {p}" for p, n in stats["properties"].items())
    return "\n".join(lines)
