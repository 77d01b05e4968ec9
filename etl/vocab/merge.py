"""Merge the terms of several vocabulary files into concepts that carry all their identifiers.

Rules, applied to the terms of every file given:

1. Terms with the same id (a DOID in two Disease Ontology files) are one term: their names,
   synonyms, cross-references and tree numbers are united; the first file gives the label.
2. A term joins the concept of a MeSH descriptor or of a UMLS CUI it cross-references when the
   mapping is one-to-one and the names agree: the term cross-references exactly one descriptor
   (one CUI), no other term of its vocabulary cross-references that descriptor (that CUI), and
   one of its names shares at least half of its words with a name of the descriptor (of another
   term with that CUI) where that is loaded. Many Disease Ontology terms point at one broad
   descriptor (16 DOIDs name D008223, Lymphoma), and some map a disease to its broader heading
   (Middle East respiratory syndrome to D018352, Coronavirus Infections): those mappings say
   "narrower than", and merging them would make one concept of several diseases. Supplementary
   concept records (``MESH:C...``) are not merge keys.
3. A concept's key, and so its IRI, is built from its smallest MeSH descriptor id, else its
   smallest DOID, else its smallest other id: ``mesh-D011014``, ``doid-0080600``,
   ``ncit-C102527``. The key is the same whichever of the vocabularies that agree on the
   mapping are loaded (a DOID that maps to D011014 is ``mesh-D011014`` with or without MeSH).
4. The label is the MeSH descriptor's, else the Disease Ontology's, else the first term's; every
   other name and synonym is an alternative label.
5. The kind (:mod:`ckg.etl.vocab.kinds`) comes from the MeSH tree numbers, else from a kind a
   file states, else from the id prefixes of the concept's terms and of the terms that
   cross-reference its descriptor, merged or not: a descriptor its file gives no tree number
   (MeSH 2024 as ``../shared`` has it leaves the 113 heads of trees without one, such as Nervous
   System Diseases, C10) is a condition when Disease Ontology terms point at it.

>>> from ckg.etl.vocab.records import VocabTerm
>>> terms = [VocabTerm("MESH:D011014", "Pneumonia", "MESH", tree_numbers=["C08.381.677"]),
...          VocabTerm("DOID:552", "pneumonia", "DOID", ["acute pneumonia"], ["MESH:D011014", "UMLS:C0032285"]),
...          VocabTerm("MONDO:0005249", "pneumonia", "COVOC", [], ["UMLS:C0032285"]),
...          VocabTerm("DOID:1", "lymphoma a", "DOID", [], ["MESH:D008223"]),
...          VocabTerm("DOID:2", "lymphoma b", "DOID", [], ["MESH:D008223"])]
>>> [(c.key, c.label, c.kind, c.ids, c.umls) for c in merge(terms)]  # doctest: +NORMALIZE_WHITESPACE
[('doid-1', 'lymphoma a', 'condition', ['DOID:1'], []),
 ('doid-2', 'lymphoma b', 'condition', ['DOID:2'], []),
 ('mesh-D011014', 'Pneumonia', 'condition', ['MESH:D011014', 'DOID:552', 'MONDO:0005249'], ['C0032285'])]
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from ckg.etl.vocab.kinds import KINDS, kind_from_prefixes, kind_from_trees
from ckg.etl.vocab.records import VocabTerm

_DESCRIPTOR = re.compile(r"^MESH:D\d+$")


@dataclass
class Concept:
    """A concept of the merged vocabularies."""

    key: str
    label: str
    kind: str
    labels: list[str] = field(default_factory=list)  # the member terms' own names (label first)
    synonyms: list[str] = field(default_factory=list)  # every other name
    ids: list[str] = field(default_factory=list)  # CURIEs: MeSH descriptors first, then DOIDs, then others
    umls: list[str] = field(default_factory=list)  # UMLS CUIs (C0032285)
    tree_numbers: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    # the synonyms that only MeSH entry terms give (no member's label nor any other sort of synonym)
    entry_terms: list[str] = field(default_factory=list, repr=False)

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys([*self.labels, *self.synonyms]))

    @property
    def mesh_ids(self) -> list[str]:
        return [i.split(":", 1)[1] for i in self.ids if _DESCRIPTOR.match(i)]


def _id_rank(curie: str) -> tuple[int, str, int, str]:
    prefix, local = curie.split(":", 1)
    order = 0 if _DESCRIPTOR.match(curie) else 1 if prefix == "DOID" else 2
    digits = re.sub(r"\D", "", local)
    return order, prefix, int(digits) if digits else 0, local


_WORD = re.compile(r"[a-z0-9]+")


def _words(name: str) -> frozenset[str]:
    return frozenset(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
                     for w in _WORD.findall(name.lower()))


def names_agree(a: Iterable[str], b: Iterable[str]) -> bool:
    """True when a name of ``a`` and a name of ``b`` share at least half of their words.

    >>> names_agree(["influenza"], ["Influenza, Human"]), names_agree(["Middle East respiratory syndrome"], ["Coronavirus Infections"])
    (True, False)
    """
    sa, sb = [_words(n) for n in a], [_words(n) for n in b]
    return any(x and y and len(x & y) / len(x | y) >= 0.5 for x in sa for y in sb)


def concept_key(curie: str) -> str:
    """``MESH:D011014`` -> ``mesh-D011014``; ``NCBITAXON:2697049`` -> ``ncbitaxon-2697049``."""
    prefix, local = curie.split(":", 1)
    return f"{prefix.lower()}-{local}"


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _combine(terms: Iterable[VocabTerm]) -> dict[str, VocabTerm]:
    """Rule 1: one term per id. A name stays an entry term only when no file gives it as a label
    or as a synonym of another sort (a 2015 label that 2024 keeps as an entry term is no longer
    a mere entry term)."""
    by_id: dict[str, VocabTerm] = {}
    strong: dict[str, set[str]] = {}
    for t in terms:
        entry = set(t.entry_terms)
        strong.setdefault(t.id, set()).update([t.label, *(s for s in t.synonyms if s not in entry)])
        seen = by_id.get(t.id)
        if seen is None:
            by_id[t.id] = VocabTerm(t.id, t.label, t.source, list(t.synonyms), list(t.xrefs), list(t.tree_numbers),
                                    t.kind, list(t.entry_terms))
            continue
        for name in (t.label, *t.synonyms):
            if name != seen.label and name not in seen.synonyms:
                seen.synonyms.append(name)
        seen.xrefs.extend(x for x in t.xrefs if x not in seen.xrefs)
        seen.tree_numbers.extend(x for x in t.tree_numbers if x not in seen.tree_numbers)
        seen.kind = seen.kind or t.kind
        seen.entry_terms.extend(x for x in t.entry_terms if x not in seen.entry_terms)
    for term_id, term in by_id.items():
        if term.entry_terms:
            term.entry_terms = [s for s in term.entry_terms if s not in strong[term_id] and s in term.synonyms]
    return by_id


def merge(terms: Iterable[VocabTerm]) -> list[Concept]:
    """Concepts of the given terms (rules in the module docstring), sorted by key."""
    by_id = _combine(terms)
    uf = _UnionFind()
    for term_id in by_id:
        uf.find(term_id)
    for kind, pattern in (("MESH", _DESCRIPTOR), ("UMLS", re.compile(r"^UMLS:C\d+$"))):
        claims: dict[str, list[VocabTerm]] = defaultdict(list)
        for t in by_id.values():
            refs = [x for x in t.xrefs if pattern.match(x)]
            if len(refs) == 1 and not pattern.match(t.id):
                claims[refs[0]].append(t)
        for ref, claimants in claims.items():
            per_source: dict[str, int] = defaultdict(int)
            for t in claimants:
                per_source[t.source] += 1
            anchor = by_id.get(ref)
            for t in claimants:
                if per_source[t.source] != 1:
                    continue
                names = [t.label, *t.synonyms]
                others = [[anchor.label, *anchor.synonyms]] if anchor else [
                    [o.label, *o.synonyms] for o in claimants if o is not t]
                if not others or any(names_agree(names, o) for o in others):
                    uf.union(t.id, ref)
    # the prefixes of the terms that cross-reference each MeSH descriptor (merged or not)
    referrers: dict[str, set[str]] = defaultdict(set)
    for t in by_id.values():
        for x in t.xrefs:
            if _DESCRIPTOR.match(x):
                referrers[x].add(t.prefix)
    members: dict[str, list[str]] = defaultdict(list)
    for node in list(uf.parent):
        members[uf.find(node)].append(node)
    concepts = []
    for nodes in members.values():
        own = [n for n in nodes if n in by_id]
        if not own:
            continue
        ids = sorted({n for n in nodes if not n.startswith("UMLS:")}, key=_id_rank)
        umls = sorted({n.split(":", 1)[1] for n in nodes if n.startswith("UMLS:")}
                      | {x.split(":", 1)[1] for n in own for x in by_id[n].xrefs if x.startswith("UMLS:")})
        ordered = sorted(own, key=_id_rank)
        labels = list(dict.fromkeys(by_id[n].label for n in ordered))
        synonyms = [s for s in dict.fromkeys(s for n in ordered for s in by_id[n].synonyms) if s not in labels]
        entry = {s for n in own for s in by_id[n].entry_terms}
        strong = set(labels) | {s for n in own for s in by_id[n].synonyms if s not in by_id[n].entry_terms}
        trees = sorted({tr for n in own for tr in by_id[n].tree_numbers})
        stated = {by_id[n].kind for n in own if by_id[n].kind}
        kind = (kind_from_trees(trees) or next((k for k in KINDS if k in stated), None)
                or kind_from_prefixes([*(by_id[n].prefix for n in own),
                                       *(p for n in own if _DESCRIPTOR.match(n) for p in referrers.get(n, ()))]))
        concepts.append(Concept(key=concept_key(ids[0]), label=labels[0], kind=kind, labels=labels,
                                synonyms=synonyms, ids=ids, umls=umls, tree_numbers=trees,
                                sources=sorted({by_id[n].source for n in own}),
                                entry_terms=[s for s in synonyms if s in entry and s not in strong]))
    return sorted(concepts, key=lambda c: c.key)
