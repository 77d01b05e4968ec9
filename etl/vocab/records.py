"""What a vocabulary file says about one term, before terms of several files are merged.

Identifiers are written as CURIEs with upper-case prefixes so that files agree on them:
``MESH:D011014`` (MSH:, MESH: and bare D-numbers alike), ``UMLS:C0032285`` (UMLS_CUI: and
UMLS: alike), ``DOID:2841``, ``NCIT:C102527``.

>>> curie("MSH:D011014"), curie("UMLS_CUI:C0032285"), curie("mesh:D000086382"), curie("DOID:2841")
('MESH:D011014', 'UMLS:C0032285', 'MESH:D000086382', 'DOID:2841')
>>> curie("http://purl.obolibrary.org/obo/DOID_0080600"), curie("http://id.nlm.nih.gov/mesh/D001249")
('DOID:0080600', 'MESH:D001249')
>>> curie("Wikipedia:Pneumonia") is None, curie("not an id") is None
(True, True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_PREFIX_ALIASES = {"MSH": "MESH", "MESH": "MESH", "UMLS_CUI": "UMLS", "UMLS": "UMLS"}
_MESH_ID = re.compile(r"^[DCQ]\d{6,9}$")
_UMLS_ID = re.compile(r"^C\d{7}$")
_OBO_PURL = re.compile(r"^https?://purl\.obolibrary\.org/obo/([A-Za-z][A-Za-z0-9]*)_(\w+)$")
_MESH_IRI = re.compile(r"^https?://id\.nlm\.nih\.gov/mesh/(?:\d{4}/)?([DCQ]\d{6,9})$")
_CURIE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*):([A-Za-z0-9][\w.\-]*)$")
# Prefixes that are identifiers of concepts (kept as identifiers of a merged concept); other
# cross-references (Wikipedia pages, PubMed ids, ICD codes, SNOMED ...) are ignored.
IDENTIFIER_PREFIXES = frozenset({
    "MESH", "UMLS", "DOID", "MONDO", "HP", "CHEBI", "NCBITAXON", "UBERON", "CL", "GO", "PR", "NCIT",
    "CIDO", "IDO", "OBI", "MAXO", "EFO", "COVOC", "OMIT", "PATO", "CLO", "CHMO", "HANCESTRO", "ORDO",
    "DRUGBANK", "CKGDEMO",
})


def curie(value: str) -> str | None:
    """The normalised CURIE of an identifier or cross-reference, or None when it is not one
    of the identifier kinds ckg keeps (see :data:`IDENTIFIER_PREFIXES`)."""
    value = value.strip()
    if m := _MESH_IRI.match(value):
        return "MESH:" + m.group(1)
    if m := _OBO_PURL.match(value):
        prefix, local = m.group(1), m.group(2)
    elif m := _CURIE.match(value):
        prefix, local = m.group(1), m.group(2)
    elif _MESH_ID.match(value):
        return "MESH:" + value
    else:
        return None
    prefix = _PREFIX_ALIASES.get(prefix.upper(), prefix.upper())
    if prefix == "MESH" and not _MESH_ID.match(local):
        return None
    if prefix == "UMLS" and not _UMLS_ID.match(local):
        return None
    if prefix not in IDENTIFIER_PREFIXES:
        return None
    return f"{prefix}:{local}"


@dataclass
class VocabTerm:
    """One term of one vocabulary file.

    ``id`` is the term's own CURIE; ``xrefs`` are CURIEs of the same thing elsewhere (only the
    kinds in :data:`IDENTIFIER_PREFIXES`); ``synonyms`` are the other names a text may use
    (MeSH entry terms, OBO synonyms of the configured scopes); ``tree_numbers`` are MeSH tree
    numbers (they give a concept its kind); ``kind`` is set only by vocabularies that state it.
    ``entry_terms`` are those synonyms that are MeSH entry terms: MeSH files every term of every
    concept of a descriptor under it, narrower and related concepts included ("Relatives" under
    Family, "Standards" under Reference Standards, "Figs" under Ficus), so an entry term is a
    looser name than an OBO ``EXACT`` synonym (the gazetteer treats single common words among
    them with care, see :mod:`ckg.etl.concepts`)."""

    id: str
    label: str
    source: str
    synonyms: list[str] = field(default_factory=list)
    xrefs: list[str] = field(default_factory=list)
    tree_numbers: list[str] = field(default_factory=list)
    kind: str | None = None  # a kind the file states (ckg's own ``ckg:kind`` OBO property)
    entry_terms: list[str] = field(default_factory=list, repr=False)  # the synonyms that are MeSH entry terms

    @property
    def prefix(self) -> str:
        return self.id.split(":", 1)[0]
