"""The ckg OWL ontology (``ckg.ttl``), shipped as package data.

The Turtle file beside this module is the single source of truth for every class and
property IRI that ckg emits; :mod:`ckg.terms` reads it.

>>> path().name
'ckg.ttl'
>>> 'ckg:Paper a owl:Class' in path().read_text()
True
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

ONTOLOGY_IRI = "https://w3id.org/ckg/ontology"


def path() -> Path:
    """Path of the ontology's Turtle file."""
    return Path(str(resources.files(__name__).joinpath("ckg.ttl")))


def to_rdfxml(out: Path) -> Path:
    """Write the ontology as RDF/XML (the format owlready2 and Protégé-era tools read)."""
    import pyoxigraph as ox

    from ckg.terms import PREFIXES

    triples = ox.parse(path=str(path()), format=ox.RdfFormat.TURTLE)
    out = Path(out)
    out.write_bytes(ox.serialize(triples, format=ox.RdfFormat.RDF_XML, prefixes=PREFIXES))
    return out


def markdown_tables() -> str:
    """The ontology's classes and properties as Markdown tables (the README shows this text).

    >>> print(markdown_tables().splitlines()[0])
    | class | is a | meaning |
    """
    import pyoxigraph as ox

    from ckg.terms import PREFIXES, declared

    store = ox.Store()
    store.load(path=str(path()), format=ox.RdfFormat.TURTLE)
    rdfs = "http://www.w3.org/2000/01/rdf-schema#"
    rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

    def short(iri: str) -> str:
        for prefix, base in PREFIXES.items():
            if iri.startswith(base) and "/" not in iri[len(base):]:
                return f"{prefix}:{iri[len(base):]}"
        return f"<{iri}>"

    def objects(iri: str, prop: str) -> list[str]:
        ns = rdf if prop == "type" else rdfs
        return sorted(q.object.value for q in store.quads_for_pattern(ox.NamedNode(iri), ox.NamedNode(ns + prop), None))

    def comment(iri: str) -> str:
        return " ".join(objects(iri, "comment")).replace("|", "\\|")

    ckg_ns = PREFIXES["ckg"]
    kinds = declared()
    ours = sorted((i for i in kinds if i.startswith(ckg_ns)), key=lambda i: i.lower())
    lines = ["| class | is a | meaning |", "|---|---|---|"]
    for iri in ours:
        if kinds[iri] == "Class":
            lines.append(f"| `{short(iri)}` | {', '.join(f'`{short(s)}`' for s in objects(iri, 'subClassOf'))} | {comment(iri)} |")
    lines += ["", "| property | kind | domain → range | also written as | meaning |", "|---|---|---|---|---|"]
    for iri in ours:
        if kinds[iri] not in ("Class", "NamedIndividual"):
            domain = ", ".join(short(d) for d in objects(iri, "domain")) or "any"
            range_ = ", ".join(short(r) for r in objects(iri, "range")) or "any"
            supers = ", ".join(f"`{short(s)}`" for s in objects(iri, "subPropertyOf"))
            lines.append(f"| `{short(iri)}` | {kinds[iri]} | {domain} → {range_} | {supers} | {comment(iri)} |")
    functions = [i for i in ours if kinds[i] == "NamedIndividual"]
    if functions:
        lines += ["", "| SPARQL function | is a | meaning |", "|---|---|---|"]
        for iri in functions:
            types = [t for t in objects(iri, "type") if t in kinds and kinds[t] == "Class"]
            lines.append(f"| `{short(iri)}` | {', '.join(f'`{short(t)}`' for t in types)} | {comment(iri)} |")
    external = sorted((i for i in kinds if not i.startswith(ckg_ns) and kinds[i] in ("DatatypeProperty",)), key=short)
    lines += ["", "Standard properties used directly: " + ", ".join(f"`{short(i)}`" for i in external) + "."]
    return "\n".join(lines)
