"""Read OBO 1.2/1.4 files (Disease Ontology, COVOC, any OBO Foundry ontology) term by term.

Each ``[Term]`` stanza gives a :class:`~ckg.etl.vocab.records.VocabTerm`: its ``id``, its
``name``, its synonyms of the wanted scopes (EXACT by default: RELATED, BROAD and NARROW
synonyms name other things too often), cross-references to identifiers (``xref: MSH:D...``,
``MESH:D...``, ``UMLS_CUI:C...``, ``UMLS:C...``, also in ``property_value: skos:exactMatch``), and
a COVOC-style ``preferred_..._label`` property as one more name, and ckg's own
``property_value: ckg:kind "chemical"`` (used by the vocabulary ckg ships). Obsolete terms and other stanza
types are skipped. The file is streamed: only the current stanza is held.

>>> text = '''format-version: 1.2
... ontology: doid
...
... [Term]
... id: DOID:552
... name: pneumonia
... synonym: "acute pneumonia" EXACT []
... synonym: "lung inflammation" RELATED []
... xref: MSH:D011014
... xref: UMLS_CUI:C0032285
... xref: SNOMEDCT_2010_1_31:233604007
...
... [Term]
... id: DOID:0000000
... name: obsolete thing
... is_obsolete: true
... '''
>>> [t for t in read_obo_lines(text.splitlines())]   # doctest: +NORMALIZE_WHITESPACE
[VocabTerm(id='DOID:552', label='pneumonia', source='DOID', synonyms=['acute pneumonia'],
           xrefs=['MESH:D011014', 'UMLS:C0032285'], tree_numbers=[], kind=None)]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from ckg.etl.vocab.kinds import KINDS
from ckg.etl.vocab.records import VocabTerm, curie

_SYNONYM = re.compile(r'^"((?:[^"\\]|\\.)*)"\s*(EXACT|RELATED|BROAD|NARROW)?')
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r"\\(.)")


def _unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def _strip_comment(value: str) -> str:
    """Drop a trailing ``! comment`` and ``{qualifiers}`` (outside quotes)."""
    out, quoted, escaped = [], False, False
    for ch in value:
        if escaped:
            out.append(ch)
            escaped = False
            continue
        if ch == "\\":
            escaped = True
            out.append(ch)
            continue
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "!{":
            break
        out.append(ch)
    return "".join(out).strip()


def read_obo(path: Path, *, synonym_scopes: Iterable[str] = ("EXACT",)) -> Iterator[VocabTerm]:
    """The terms of an OBO file."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        yield from read_obo_lines(handle, synonym_scopes=synonym_scopes, default_source=Path(path).stem)


def read_obo_lines(lines: Iterable[str], *, synonym_scopes: Iterable[str] = ("EXACT",),
                   default_source: str = "obo") -> Iterator[VocabTerm]:
    scopes = {s.upper() for s in synonym_scopes}
    source = default_source
    stanza: str | None = None  # None while in the header
    fields: dict[str, list[str]] = {}

    def finish() -> VocabTerm | None:
        if stanza != "Term" or fields.get("is_obsolete", ["false"])[0].lower() == "true":
            return None
        own = curie(fields.get("id", [""])[0]) or _plain_id(fields.get("id", [""])[0])
        names = fields.get("name", [])
        if not own or not names:
            return None
        synonyms = []
        for raw in fields.get("synonym", []):
            m = _SYNONYM.match(raw)
            if m and (m.group(2) or "EXACT") in scopes:
                synonyms.append(_unescape(m.group(1)).strip())
        for raw in fields.get("property_value", []):
            key = raw.split(" ", 1)[0]
            if key.endswith("_label") and (m := _QUOTED.search(raw)):  # COVOC's preferred_covoc_label
                synonyms.append(_unescape(m.group(1)).strip())
        xrefs = []
        for raw in fields.get("xref", []):
            if (x := curie(raw.split(" ", 1)[0])) and x != own:
                xrefs.append(x)
        for raw in fields.get("property_value", []):
            if raw.startswith(("skos:exactMatch", "http://www.w3.org/2004/02/skos/core#exactMatch")):
                m = _QUOTED.search(raw)
                target = m.group(1) if m else raw.split(" ")[1] if " " in raw else ""
                if (x := curie(target)) and x != own:
                    xrefs.append(x)
        kind = None
        for raw in fields.get("property_value", []):
            if raw.startswith("ckg:kind") and (m := _QUOTED.search(raw)) and m.group(1) in KINDS:
                kind = m.group(1)
        label = _unescape(names[0]).strip()
        return VocabTerm(id=own, label=label, source=source,
                         synonyms=list(dict.fromkeys(s for s in synonyms if s and s != label)),
                         xrefs=list(dict.fromkeys(xrefs)), kind=kind)

    for raw_line in lines:
        line = raw_line.rstrip("\n").strip()
        if not line or line.startswith("!"):
            continue
        if line.startswith("[") and line.endswith("]"):
            if (term := finish()) is not None:
                yield term
            stanza, fields = line[1:-1], {}
            continue
        tag, sep, value = line.partition(":")
        if not sep:
            continue
        tag, value = tag.strip(), value.strip()
        if stanza is None:
            if tag == "ontology":
                source = value.split("/", 1)[0].upper()
            continue
        if tag in ("synonym", "property_value"):
            fields.setdefault(tag, []).append(value)
        else:
            fields.setdefault(tag, []).append(_strip_comment(value))
    if (term := finish()) is not None:
        yield term


def _plain_id(value: str) -> str | None:
    """An id of a prefix ckg does not know as an identifier kind: kept as the term's own id
    (upper-cased prefix) when it looks like an OBO id (``PREFIX:local`` with a digit in the
    local part; IRIs and ids such as ``Hong:Kong`` are not terms of an ontology).

    >>> _plain_id("XCO:0000123"), _plain_id("Hong:Kong"), _plain_id("http://dbpedia.org/resource/China")
    ('XCO:0000123', None, None)
    """
    m = re.match(r"^([A-Za-z][A-Za-z0-9_]*):([\w.\-]*\d[\w.\-]*)$", value.strip())
    return f"{m.group(1).upper()}:{m.group(2)}" if m else None
