"""Read MeSH descriptors from NLM's MeSH RDF in N-Triples (``mesh.nt``, optionally gzipped).

NLM publishes MeSH as RDF in its own vocabulary (``meshv:``, http://id.nlm.nih.gov/mesh/vocab#).
A descriptor (``meshv:TopicalDescriptor``, ``GeographicalDescriptor``, ``CheckTag``,
``PublicationType``) has an ``rdfs:label``, a ``meshv:identifier`` (D-number) and
``meshv:treeNumber`` links to tree-number nodes (``http://id.nlm.nih.gov/mesh/C08.381.677``).
Its entry terms hang from its concepts: descriptor ``meshv:concept``/``meshv:preferredConcept``
concept ``meshv:term``/``meshv:preferredTerm`` term ``meshv:prefLabel``/``meshv:altLabel``.
Extracts that hold descriptors only (like ../shared/data's 2015 file) have no concepts and terms;
concepts and terms may be blank nodes (ckg's demo vocabulary writes them so).

The full file is millions of triples; it is streamed line by line and only what the gazetteer
needs is kept: pass 1 keeps descriptors (label, D-number, tree numbers) and the IRIs of their
concepts; when the file has concepts, pass 2 keeps the IRIs of those concepts' terms and pass 3
the labels of those terms. Supplementary concept records, qualifiers and every other triple
are skipped as they are read.

>>> import tempfile, os
>>> nt = '''<http://id.nlm.nih.gov/mesh/D001249> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://id.nlm.nih.gov/mesh/vocab#TopicalDescriptor> .
... <http://id.nlm.nih.gov/mesh/D001249> <http://www.w3.org/2000/01/rdf-schema#label> "Asthma"@en .
... <http://id.nlm.nih.gov/mesh/D001249> <http://id.nlm.nih.gov/mesh/vocab#treeNumber> <http://id.nlm.nih.gov/mesh/C08.127.108> .
... <http://id.nlm.nih.gov/mesh/D001249> <http://id.nlm.nih.gov/mesh/vocab#concept> <http://id.nlm.nih.gov/mesh/M0001942> .
... <http://id.nlm.nih.gov/mesh/M0001942> <http://id.nlm.nih.gov/mesh/vocab#term> <http://id.nlm.nih.gov/mesh/T003990> .
... <http://id.nlm.nih.gov/mesh/T003990> <http://id.nlm.nih.gov/mesh/vocab#prefLabel> "Asthma, Bronchial"@en .
... '''
>>> path = os.path.join(tempfile.mkdtemp(), "mini.nt")
>>> _ = open(path, "w").write(nt)
>>> list(read_mesh_nt(path))  # doctest: +NORMALIZE_WHITESPACE
[VocabTerm(id='MESH:D001249', label='Asthma', source='MESH', synonyms=['Asthma, Bronchial'], xrefs=[],
           tree_numbers=['C08.127.108'], kind=None)]
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

from ckg.etl.vocab.records import VocabTerm

MESH = "http://id.nlm.nih.gov/mesh/"
MESHV = "http://id.nlm.nih.gov/mesh/vocab#"
_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
_LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
_DESCRIPTOR_TYPES = {f"<{MESHV}{t}>" for t in ("TopicalDescriptor", "GeographicalDescriptor", "CheckTag",
                                                  "PublicationType")}
_P = {name: f"<{MESHV}{name}>" for name in ("identifier", "treeNumber", "concept", "preferredConcept", "term",
                                            "preferredTerm", "prefLabel", "altLabel")}
_LITERAL = re.compile(r'^"((?:[^"\\]|\\.)*)"(?:@([A-Za-z\-]+)|\^\^<[^>]*>)?\s*\.\s*$')
_ESCAPES = re.compile(r'\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)')


def _open(path: Path):
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def _unescape(text: str) -> str:
    def one(m: re.Match) -> str:
        e = m.group(1)
        if e[0] in "uU":
            return chr(int(e[1:], 16))
        return {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}.get(e, e)

    return _ESCAPES.sub(one, text) if "\\" in text else text


def _triples(path: Path, predicates: set[str]) -> Iterator[tuple[str, str, str]]:
    """(subject, predicate, object) of the lines whose predicate is one of ``predicates``; IRIs
    keep their angle brackets, literals are given as their unescaped English/plain text."""
    with _open(path) as handle:
        for line in handle:
            parts = line.split(" ", 2)
            if len(parts) < 3 or parts[1] not in predicates:
                continue
            obj = parts[2]
            if obj.startswith("<"):
                yield parts[0], parts[1], obj[: obj.index(">") + 1]
            elif obj.startswith("_:"):
                yield parts[0], parts[1], obj.split()[0]
            elif (m := _LITERAL.match(obj)) and (m.group(2) is None or m.group(2).lower().startswith("en")):
                yield parts[0], parts[1], _unescape(m.group(1))


def _local(iri: str) -> str:
    """'<http://id.nlm.nih.gov/mesh/2024/C08.127>' -> 'C08.127'."""
    return iri.strip("<>").rsplit("/", 1)[-1]


def read_mesh_nt(path: Path) -> Iterator[VocabTerm]:
    """The descriptors of a MeSH N-Triples file (plain or gzipped), in D-number order."""
    path = Path(path)
    descriptors: dict[str, dict] = {}
    concepts_of: dict[str, list[str]] = {}
    pass1 = {_TYPE, _LABEL, _P["identifier"], _P["treeNumber"], _P["concept"], _P["preferredConcept"]}
    kinds: dict[str, bool] = {}
    labels: dict[str, str] = {}
    identifiers: dict[str, str] = {}
    trees: dict[str, list[str]] = {}
    for s, p, o in _triples(path, pass1):
        if _local(s)[:1] != "D":  # descriptors only: not records, concepts, terms, tree numbers
            continue
        if p == _TYPE:
            if o in _DESCRIPTOR_TYPES:
                kinds[s] = True
        elif p == _LABEL:
            labels.setdefault(s, o)
        elif p == _P["identifier"]:
            if o.startswith("D"):
                identifiers[s] = o
        elif p == _P["treeNumber"]:
            trees.setdefault(s, []).append(_local(o))
        else:
            concepts_of.setdefault(s, []).append(o)
    for s in kinds:
        ident = identifiers.get(s) or _local(s)
        if s in labels:
            descriptors[s] = {"id": ident, "label": labels[s], "trees": sorted(set(trees.get(s, [])))}
    del labels, identifiers, trees, kinds
    concept_iris = {c for s in descriptors for c in concepts_of.get(s, [])}
    synonyms: dict[str, list[str]] = {s: [] for s in descriptors}
    if concept_iris:
        terms_of: dict[str, list[str]] = {}
        for s, _p, o in _triples(path, {_P["term"], _P["preferredTerm"]}):
            if s in concept_iris:
                terms_of.setdefault(s, []).append(o)
        term_iris = {t for ts in terms_of.values() for t in ts}
        term_labels: dict[str, list[str]] = {}
        for s, _p, o in _triples(path, {_P["prefLabel"], _P["altLabel"]}):
            if s in term_iris:
                term_labels.setdefault(s, []).append(o)
        for s in descriptors:
            for c in concepts_of.get(s, []):
                for t in terms_of.get(c, []):
                    synonyms[s].extend(term_labels.get(t, []))
    for s in sorted(descriptors, key=lambda d: descriptors[d]["id"]):
        d = descriptors[s]
        names = [n for n in dict.fromkeys(synonyms[s]) if n != d["label"]]
        yield VocabTerm(id="MESH:" + d["id"], label=d["label"], source="MESH", synonyms=names,
                        tree_numbers=d["trees"], entry_terms=list(names))
