"""Read MeSH descriptors from NLM's descriptor XML (``descYYYY.xml``, optionally gzipped).

Each ``DescriptorRecord`` gives its ``DescriptorUI`` (D-number), ``DescriptorName/String``,
``TreeNumberList/TreeNumber`` and, as synonyms, the ``String`` of every ``Term`` of every
``Concept`` (the entry terms); ``ConceptUMLSUI`` (in releases that had it) gives UMLS CUIs.
The file is streamed with ``iterparse``: each record is dropped once read.

>>> import io
>>> xml = b'''<DescriptorRecordSet LanguageCode="eng"><DescriptorRecord DescriptorClass="1">
...  <DescriptorUI>D011014</DescriptorUI><DescriptorName><String>Pneumonia</String></DescriptorName>
...  <TreeNumberList><TreeNumber>C08.381.677</TreeNumber></TreeNumberList>
...  <ConceptList><Concept PreferredConceptYN="Y"><ConceptUI>M0017416</ConceptUI>
...   <ConceptName><String>Pneumonia</String></ConceptName><ConceptUMLSUI>C0032285</ConceptUMLSUI>
...   <TermList><Term><TermUI>T032721</TermUI><String>Pneumonia</String></Term>
...             <Term><TermUI>T032722</TermUI><String>Pneumonias</String></Term></TermList>
...  </Concept></ConceptList></DescriptorRecord></DescriptorRecordSet>'''
>>> list(read_mesh_xml(io.BytesIO(xml)))  # doctest: +NORMALIZE_WHITESPACE
[VocabTerm(id='MESH:D011014', label='Pneumonia', source='MESH', synonyms=['Pneumonias'],
           xrefs=['UMLS:C0032285'], tree_numbers=['C08.381.677'], kind=None)]
"""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ckg.etl.vocab.records import VocabTerm


def _open(source: Path | BinaryIO) -> BinaryIO:
    if not isinstance(source, (str, Path)):
        return source
    with open(source, "rb") as probe:
        magic = probe.read(2)
    return gzip.open(source, "rb") if magic == b"\x1f\x8b" else open(source, "rb")


def read_mesh_xml(source: Path | BinaryIO) -> Iterator[VocabTerm]:
    """The descriptors of a MeSH descriptor XML file, in file order."""
    handle = _open(source)
    try:
        for _event, elem in ET.iterparse(handle, events=("end",)):
            if elem.tag != "DescriptorRecord":
                continue
            ui = (elem.findtext("DescriptorUI") or "").strip()
            label = (elem.findtext("DescriptorName/String") or "").strip()
            if ui and label:
                trees = sorted({t.text.strip() for t in elem.iterfind("TreeNumberList/TreeNumber") if t.text})
                terms = [t.text.strip() for t in elem.iterfind("ConceptList/Concept/TermList/Term/String") if t.text]
                cuis = [c.text.strip() for c in elem.iterfind("ConceptList/Concept/ConceptUMLSUI") if c.text]
                names = [t for t in dict.fromkeys(terms) if t != label]
                yield VocabTerm(id="MESH:" + ui, label=label, source="MESH", synonyms=names,
                                xrefs=[f"UMLS:{c}" for c in dict.fromkeys(cuis)], tree_numbers=trees,
                                entry_terms=list(names))
            elem.clear()
    finally:
        if isinstance(source, (str, Path)):
            handle.close()
