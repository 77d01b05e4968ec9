"""Vocabularies: MeSH (RDF N-Triples, descriptor XML) and OBO files, merged into concepts.

:func:`load` reads the given files (format told by name and content, see :func:`detect_format`),
merges their terms (:mod:`ckg.etl.vocab.merge`) and returns a :class:`Vocabulary`: the concepts
with their names, identifiers and kinds, which is what the concept gazetteer is built from.
:func:`describe` gives what a build's manifest records of each file (path, format, size,
SHA-256, terms read).

Without ``--vocab`` a build uses the small vocabulary ckg ships (:data:`DEMO_VOCABULARY`,
written for the demo corpus, with real MeSH, Disease Ontology and NCBI Taxonomy identifiers);
real builds use the official files (``ckg vocab fetch mesh|doid``).

>>> vocab = load(DEMO_VOCABULARY)
>>> c = vocab.by_key["mesh-D011014"]
>>> c.label, c.kind, c.ids, c.umls
('Pneumonia', 'condition', ['MESH:D011014', 'DOID:552'], ['C0032285'])
>>> vocab.by_key["mesh-D001249"].names[:2]
['Asthma', 'asthma']
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

from ckg.etl.vocab.merge import Concept, merge
from ckg.etl.vocab.records import VocabTerm

FORMATS = ("mesh-nt", "mesh-xml", "obo", "lexicon")


def _data(name: str) -> Path:
    return Path(str(importlib_resources.files(__name__).joinpath("data", name)))


DEMO_VOCABULARY: tuple[Path, ...] = (_data("demo-mesh.nt"), _data("demo-diseases.obo"), _data("demo-covid.obo"))
"""The vocabulary ckg ships (written for the demo corpus; real identifiers)."""


def default_vocabularies() -> list[Path]:
    """The vocabulary files used when none is given: ``$CKG_VOCAB`` (paths separated by the
    platform's path separator), else :data:`DEMO_VOCABULARY`."""
    import os

    from ckg.settings import get

    return [Path(p) for p in (get("vocab") or "").split(os.pathsep) if p] or list(DEMO_VOCABULARY)


class VocabularyError(ValueError):
    """A vocabulary file is missing or of an unknown format."""


def detect_format(path: Path) -> str:
    """'mesh-nt', 'mesh-xml' or 'obo', from the file name, else from the first bytes; 'lexicon'
    for a learned lexicon (:mod:`ckg.etl.lexicon`), from its first line.

    >>> detect_format(DEMO_VOCABULARY[0]), detect_format(DEMO_VOCABULARY[1])
    ('mesh-nt', 'obo')
    """
    path = Path(path)
    if not path.is_file():
        raise VocabularyError(f"{path}: no such vocabulary file")
    from ckg.etl.lexicon import is_lexicon

    if is_lexicon(path):
        return "lexicon"
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".nt"):
        return "mesh-nt"
    if name.endswith(".xml"):
        return "mesh-xml"
    if name.endswith(".obo"):
        return "obo"
    import gzip

    with open(path, "rb") as probe:
        head = probe.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    with opener(path, "rb") as handle:
        head_text = handle.read(8192).decode("utf-8", "replace")
    start = "\n".join(line for line in head_text.splitlines() if not line.startswith("#")).lstrip()
    if start.startswith("<?xml") or start.startswith("<DescriptorRecordSet"):
        return "mesh-xml"
    if start.startswith("<http"):
        return "mesh-nt"
    if start.startswith(("format-version:", "[Term]", "ontology:")):
        return "obo"
    raise VocabularyError(f"{path}: not a MeSH N-Triples, MeSH XML or OBO file, nor a ckg concept lexicon")


def read_terms(path: Path, *, synonym_scopes: Iterable[str] = ("EXACT",)) -> Iterator[VocabTerm]:
    """The terms of one vocabulary file, whatever its format."""
    fmt = detect_format(path)
    if fmt == "lexicon":
        return iter(())  # no terms: a lexicon is applied to the gazetteer (see load)
    if fmt == "mesh-nt":
        from ckg.etl.vocab.mesh_rdf import read_mesh_nt

        return read_mesh_nt(path)
    if fmt == "mesh-xml":
        from ckg.etl.vocab.mesh_xml import read_mesh_xml

        return read_mesh_xml(path)
    from ckg.etl.vocab.obo import read_obo

    return read_obo(path, synonym_scopes=synonym_scopes)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class Vocabulary:
    """Concepts merged from one or more vocabulary files."""

    concepts: list[Concept]
    files: list[dict[str, Any]] = field(default_factory=list)
    lexicon: list = field(default_factory=list)  # learned entries (ckg.etl.lexicon.LexiconEntry), in file order

    def __post_init__(self) -> None:
        self.by_key = {c.key: c for c in self.concepts}

    def __len__(self) -> int:
        return len(self.concepts)


def describe(path: Path) -> dict[str, Any]:
    """What a manifest records of a vocabulary file."""
    path = Path(path)
    return {"path": str(path.resolve()), "format": detect_format(path), "bytes": path.stat().st_size,
            "sha256": sha256(path)}


def load(paths: Iterable[Path], *, synonym_scopes: Iterable[str] = ("EXACT",)) -> Vocabulary:
    """Read and merge vocabulary files (the first file's labels win where two files name one term);
    learned lexicons among them are kept apart, for the gazetteer to apply."""
    from ckg.etl.lexicon import LexiconError, read_lexicon

    paths = [Path(p) for p in paths]
    if not paths:
        raise VocabularyError("no vocabulary file given")
    terms: list[VocabTerm] = []
    lexicon: list = []
    files = []
    for path in paths:
        info = describe(path)
        if info["format"] == "lexicon":
            try:
                entries = read_lexicon(path).entries
            except LexiconError as exc:
                raise VocabularyError(str(exc)) from None
            lexicon.extend(entries)
            info["entries"] = len(entries)
        else:
            before = len(terms)
            terms.extend(read_terms(path, synonym_scopes=synonym_scopes))
            info["terms"] = len(terms) - before
        files.append(info)
    if not terms:
        raise VocabularyError("no vocabulary file among " + ", ".join(str(p) for p in paths)
                              + " (a lexicon is applied to a vocabulary's names: give one too)")
    return Vocabulary(merge(terms), files, lexicon)


__all__ = ["Concept", "DEMO_VOCABULARY", "FORMATS", "Vocabulary", "VocabularyError", "VocabTerm", "describe",
           "detect_format", "load", "read_terms"]
