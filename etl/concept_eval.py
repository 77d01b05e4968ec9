"""How well the concept extractor agrees with what people annotated: PubTator gold standards.

The gold standards of biomedical entity normalisation (the BioCreative V CDR corpus, the NCBI
Disease corpus, BioRED) are abstracts in PubTator format, each entity mention annotated with its
span, its type and the MeSH identifier(s) it denotes::

    6794356|t|Tricuspid valve regurgitation and lithium carbonate toxicity in a newborn infant.
    6794356|a|A newborn with massive tricuspid regurgitation, ...
    6794356	0	29	Tricuspid valve regurgitation	Disease	D014262
    6794356	34	51	lithium carbonate	Chemical	D016651

:func:`evaluate` runs ckg's extractor over each abstract (the title as the title, the abstract
as the abstract, no body) and scores it as the BioCreative V CDR task scored normalisation: per
document, the set of MeSH descriptor ids of one entity type, micro precision, recall and F1 over
(document, id) pairs. Entity types: diseases (gold types ``Disease``, ``SpecificDisease``,
``DiseaseClass``, ``Modifier``, ``CompositeMention``, ``DiseaseOrPhenotypicFeature``; a found
concept is a disease when its kind is ``condition``: MeSH trees C and F03) and chemicals
(``Chemical``, ``ChemicalEntity``; kind ``chemical``: MeSH tree D). A composite id
(``D001943|D010051``) counts each id; ``-1`` (no id) and ids that are no MeSH descriptor are
left out; MeSH supplementary concept ids (``C069541``), which a descriptor-level linker cannot
reach, are left out of the score and counted apart. Mention-level figures compare spans too: a
found mention is right when its start, end and one of its ids equal a gold mention's of the
same type.

End to end, :func:`write_release` writes the abstracts as a CORD-19 release (a ``metadata.csv``
whose rows carry each PMID), ``ckg build`` makes a store of it, and :func:`evaluate_store`
scores the ``associatedConcept`` edges that store holds for each gold document the same way
(document level: an edge has no span). The difference from the extractor's figures is what
the build's edge rules (:mod:`ckg.etl.concept_edges`) and its reading of the text change.

>>> import tempfile
>>> from ckg.etl.vocab import DEMO_VOCABULARY, load
>>> gold = Path(tempfile.mkdtemp()) / "gold.PubTator"
>>> _ = gold.write_text("1|t|Asthma and pneumonia\\n1|a|Pneumonia in ARDS.\\n"
...     "1\\t0\\t6\\tAsthma\\tDisease\\tD001249\\n1\\t11\\t20\\tpneumonia\\tDisease\\tD011014\\n"
...     "1\\t21\\t30\\tPneumonia\\tDisease\\tD011014\\n1\\t34\\t38\\tARDS\\tDisease\\tD012128\\n"
...     "1\\t0\\t6\\tCHEM\\tChemical\\tC000001\\n\\n")
>>> result = evaluate(gold, load(DEMO_VOCABULARY))
>>> d = result.types["disease"]
>>> d.tp, d.fp, d.fn, d.precision, d.recall
(3, 0, 0, 1.0, 1.0)
>>> result.supplementary["chemical"], result.mentions["disease"].tp
(1, 4)
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ckg.etl.vocab import Vocabulary

TYPES = {
    "disease": frozenset({"Disease", "SpecificDisease", "DiseaseClass", "Modifier", "CompositeMention",
                          "DiseaseOrPhenotypicFeature"}),
    "chemical": frozenset({"Chemical", "ChemicalEntity"}),
}
"""Entity type -> the PubTator annotation types that are of it."""

KIND_TYPES = {"condition": "disease", "chemical": "chemical"}
"""A concept's kind -> the entity type it is scored as."""

_DESCRIPTOR = re.compile(r"^D\d{6,9}$")
_SUPPLEMENTARY = re.compile(r"^C\d{6,9}$")
_ID_SEPARATORS = re.compile(r"[|;,+]")


class GoldFormatError(ValueError):
    """A PubTator file that cannot be read; the message names the file and line."""


@dataclass
class GoldMention:
    start: int
    end: int
    text: str
    type: str  # "disease" or "chemical"
    ids: tuple[str, ...]  # MeSH descriptor ids (without a MESH: prefix)
    supplementary: tuple[str, ...] = ()


@dataclass
class GoldDocument:
    pmid: str
    title: str = ""
    abstract: str = ""
    mentions: list[GoldMention] = field(default_factory=list)


def _mesh_ids(raw: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(descriptor ids, supplementary ids) of a PubTator id cell ("D001|D002", "MESH:D003", "-1")."""
    descriptors, supplementary = [], []
    for part in _ID_SEPARATORS.split(raw):
        part = part.strip().removeprefix("MESH:").removeprefix("mesh:")
        if _DESCRIPTOR.match(part):
            descriptors.append(part)
        elif _SUPPLEMENTARY.match(part):
            supplementary.append(part)
    return tuple(dict.fromkeys(descriptors)), tuple(dict.fromkeys(supplementary))


def read_pubtator(path: Path) -> Iterator[GoldDocument]:
    """The documents of a PubTator file with their disease and chemical mentions (other types,
    relation lines and mentions without a MeSH id are skipped). :class:`GoldFormatError` names
    the line that is neither a title, an abstract, an annotation nor a relation."""
    path = Path(path)
    try:
        handle = open(path, encoding="utf-8")
    except OSError as exc:
        raise GoldFormatError(f"{path}: cannot read the gold standard: {exc.strerror}") from None
    doc: GoldDocument | None = None
    with handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\n\r")
            where = f"{path.name} line {number}"
            if not line.strip():
                continue
            head = line.split("|", 2)
            if len(head) == 3 and head[1] in ("t", "a") and "\t" not in head[0]:
                pmid, part, text = head
                if doc is not None and doc.pmid != pmid:
                    yield doc
                    doc = None
                if doc is None:
                    doc = GoldDocument(pmid)
                if part == "t":
                    doc.title = text
                else:
                    doc.abstract = text
                continue
            cells = line.split("\t")
            if doc is None or cells[0] != doc.pmid:
                raise GoldFormatError(f"{where}: an annotation of document {cells[0]!r} outside its document "
                                      "(expected 'PMID|t|title', 'PMID|a|abstract', then its annotations)")
            if len(cells) >= 6 and cells[1].isdigit() and cells[2].isdigit():
                kind = next((t for t, names in TYPES.items() if cells[4] in names), None)
                if kind is None:
                    continue
                start, end = int(cells[1]), int(cells[2])
                if not 0 <= start < end:
                    raise GoldFormatError(f"{where}: span {start}-{end} is empty or reversed")
                descriptors, supplementary = _mesh_ids(cells[5])
                doc.mentions.append(GoldMention(start, end, cells[3], kind, descriptors, supplementary))
            elif len(cells) >= 4 and not cells[1].isdigit():
                continue  # a relation line (PMID, relation, id, id)
            else:
                raise GoldFormatError(f"{where}: not a PubTator annotation (PMID, start, end, text, type, id "
                                      f"separated by tabs): {line[:80]!r}")
    if doc is not None:
        yield doc


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return round(self.tp / (self.tp + self.fp), 4) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return round(self.tp / (self.tp + self.fn), 4) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        return round(2 * self.tp / (2 * self.tp + self.fp + self.fn), 4) if self.tp else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1,
                "tp": self.tp, "fp": self.fp, "fn": self.fn}


@dataclass
class Evaluation:
    gold: str
    documents: int
    types: dict[str, Score]  # document-level (document, MeSH id) pairs
    mentions: dict[str, Score]  # mention level: span and id
    supplementary: dict[str, int]  # gold (document, id) pairs with supplementary ids only, left out
    gold_mentions: dict[str, int]
    false_positives: dict[str, Counter]  # type -> MeSH id -> documents
    false_negatives: dict[str, Counter]
    labels: dict[str, str]  # MeSH id -> label (of the vocabulary; gold text where it has none)
    unscored_concepts: int  # found concepts with no MeSH descriptor id or of another kind
    seconds: float = 0.0
    config: dict[str, Any] = field(default_factory=dict)
    found: dict[str, dict[str, set[str]]] = field(default_factory=dict, repr=False)  # PMID -> type -> ids found

    def as_dict(self, top: int = 20) -> dict[str, Any]:
        def tops(counters: dict[str, Counter]) -> dict[str, list[dict[str, Any]]]:
            return {t: [{"id": i, "label": self.labels.get(i, ""), "documents": n} for i, n in c.most_common(top)]
                    for t, c in counters.items()}
        return {"gold": self.gold, "documents": self.documents, "gold_mentions": self.gold_mentions,
                "document_level": {t: s.as_dict() for t, s in self.types.items() if self.gold_mentions[t]},
                # mention level: none for a store (an edge has no span)
                "mention_level": {t: s.as_dict() for t, s in self.mentions.items() if self.gold_mentions[t]},
                "supplementary_pairs_left_out": self.supplementary,
                "unscored_concepts": self.unscored_concepts,
                "top_false_positives": tops(self.false_positives),
                "top_false_negatives": tops(self.false_negatives),
                "seconds": round(self.seconds, 3), "config": self.config}


class _Tally:
    """The scores of a run over a gold standard, document by document: the one scoring code of
    :func:`evaluate` (the extractor's mentions) and :func:`evaluate_store` (a store's edges)."""

    def __init__(self, *, spans: bool = True) -> None:
        self.spans = spans
        self.types = {t: Score() for t in TYPES}
        self.mentions = {t: Score() for t in TYPES}
        self.supplementary = {t: 0 for t in TYPES}
        self.gold_mentions = {t: 0 for t in TYPES}
        self.fps: dict[str, Counter] = {t: Counter() for t in TYPES}
        self.fns: dict[str, Counter] = {t: Counter() for t in TYPES}
        self.labels: dict[str, str] = {}
        self.unscored = 0
        self.documents = 0
        self.found: dict[str, dict[str, set[str]]] = {}

    def add(self, doc: GoldDocument, found_ids: dict[str, set[str]],
            found_spans: set[tuple[int, int, str, str]] = frozenset()) -> None:
        """Score one document: ``found_ids`` (entity type -> MeSH ids found), ``found_spans``
        ((start, end, type, id) of the mentions found, when spans are compared)."""
        self.documents += 1
        self.found[doc.pmid] = {t: set(found_ids.get(t, ())) for t in TYPES}
        gold_ids = {t: set() for t in TYPES}
        only_supplementary = {t: set() for t in TYPES}
        gold_spans = self.gold_spans(doc)
        for m in doc.mentions:
            self.gold_mentions[m.type] += 1
            gold_ids[m.type].update(m.ids)
            if not m.ids:
                only_supplementary[m.type].update(m.supplementary)
            for i in m.ids:
                self.labels.setdefault(i, m.text)
        for t in TYPES:
            found = found_ids.get(t, set())
            self.supplementary[t] += len(only_supplementary[t])
            self.types[t].tp += len(found & gold_ids[t])
            self.types[t].fp += len(found - gold_ids[t])
            self.types[t].fn += len(gold_ids[t] - found)
            self.fps[t].update(found - gold_ids[t])
            self.fns[t].update(gold_ids[t] - found)
            if self.spans:
                gold_pairs = {(s, e, i) for (s, e, k), ids in gold_spans.items() if k == t for i in ids}
                found_pairs = {(s, e, i) for s, e, k, i in found_spans if k == t}
                self.mentions[t].tp += len(found_pairs & gold_pairs)
                self.mentions[t].fp += len(found_pairs - gold_pairs)
                self.mentions[t].fn += len(gold_pairs - found_pairs)

    @staticmethod
    def gold_spans(doc: GoldDocument) -> dict[tuple[int, int, str], set[str]]:
        spans: dict[tuple[int, int, str], set[str]] = {}
        for m in doc.mentions:
            spans.setdefault((m.start, m.end, m.type), set()).update(m.ids)
        return spans

    def result(self, gold: Path, seconds: float, config: dict[str, Any]) -> Evaluation:
        if self.documents == 0:
            raise GoldFormatError(f"{gold}: no document (a PubTator file has 'PMID|t|title' lines)")
        return Evaluation(str(gold), self.documents, self.types, self.mentions if self.spans else {},
                          self.supplementary, self.gold_mentions, self.fps, self.fns, self.labels, self.unscored,
                          seconds, config, self.found)


def evaluate(gold: Path, vocabulary: Vocabulary, *, extractor=None, config=None) -> Evaluation:
    """Score the concept extractor (the gazetteer of ``vocabulary`` unless ``extractor`` is
    given) on the PubTator file ``gold``."""
    import time

    from ckg.etl.concepts import ExtractionConfig, Gazetteer, make_extractor

    start = time.perf_counter()
    config = config or ExtractionConfig()
    if extractor is None:
        extractor = make_extractor(Gazetteer.build(vocabulary, config), config)
    by_key = vocabulary.by_key
    tally = _Tally()
    for doc in read_pubtator(gold):
        gold_spans = tally.gold_spans(doc)
        found_ids: dict[str, set[str]] = {t: set() for t in TYPES}
        found_spans: set[tuple[int, int, str, str]] = set()
        for start_at, end, key in mention_spans(extractor, doc.title, doc.abstract):
            concept = by_key.get(key)
            kind = KIND_TYPES.get(concept.kind) if concept is not None else None
            ids = concept.mesh_ids if concept is not None else []
            if kind is None or not ids:
                tally.unscored += 1
                continue
            found_ids[kind].update(ids)
            for i in ids:
                tally.labels[i] = concept.label
            right = next((i for i in ids if i in gold_spans.get((start_at, end, kind), ())), None)
            found_spans.add((start_at, end, kind, right or ids[0]))
        tally.add(doc, found_ids, found_spans)
    return tally.result(gold, time.perf_counter() - start,
                        {"extractor": getattr(extractor, "name", "?"),
                         "vocabularies": [f.get("path") for f in vocabulary.files]})


def gold_cord_uid(pmid: str) -> str:
    """The cord_uid :func:`write_release` gives a gold document: its PMID zero-padded to the
    eight characters of a cord_uid, or (an id of another shape) ``g`` + seven hex digits of its SHA-1.

    >>> gold_cord_uid("6794356"), gold_cord_uid("12345678"), gold_cord_uid("PMC1")
    ('06794356', '12345678', 'gf4f9a0e')
    """
    if pmid.isdigit() and len(pmid) <= 8:
        return pmid.zfill(8)
    import hashlib

    return "g" + hashlib.sha1(pmid.encode()).hexdigest()[:7]


def write_release(gold: Path, out: Path) -> Path:
    """Write the abstracts of a PubTator file as a CORD-19 release folder that ``ckg build``
    reads: ``out/metadata.csv`` with the final 19 columns, one row per document (``cord_uid``
    from :func:`gold_cord_uid`, ``pubmed_id`` the PMID, the title and the abstract; no parses).
    Returns ``out``.

    >>> import tempfile
    >>> gold = Path(tempfile.mkdtemp()) / "gold.PubTator"
    >>> _ = gold.write_text('6794356|t|Lithium toxicity\\n6794356|a|A newborn, "lithium".\\n')
    >>> release = write_release(gold, gold.parent / "release")
    >>> print((release / "metadata.csv").read_text().splitlines()[1])
    06794356,,PubTator,Lithium toxicity,,,6794356,,"A newborn, ""lithium"".",,,,,,,,,,
    """
    import csv

    from ckg.etl.metadata import FINAL_COLUMNS

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    documents = 0
    with open(out / "metadata.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FINAL_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for doc in read_pubtator(gold):
            documents += 1
            writer.writerow({"cord_uid": gold_cord_uid(doc.pmid), "source_x": "PubTator", "title": doc.title,
                             "pubmed_id": doc.pmid, "abstract": doc.abstract})
    if documents == 0:
        raise GoldFormatError(f"{gold}: no document (a PubTator file has 'PMID|t|title' lines)")
    return out


def evaluate_store(gold: Path, store_path: Path) -> Evaluation:
    """Score the concept edges a store holds (``ckg build`` of the gold abstracts, e.g. of the
    release :func:`write_release` writes) as :func:`evaluate` scores the extractor: per gold
    document, the MeSH descriptor ids (``ckg:meshId``) of the concepts of its paper's
    ``associatedConcept`` edges (named query ``paper-concepts``), of kind condition (diseases)
    or chemical (chemicals). A document's paper is the paper whose PubMed id (``bibo:pmid``) is
    the document's PMID, else the paper keyed :func:`gold_cord_uid`; a document with no paper in
    the store is scored as one with no concept found (``config["documents_not_in_store"]``).
    No spans: document level only."""
    import time

    import pyoxigraph as ox

    from ckg import queries, resources
    from ckg.etl.vocab.kinds import KIND_CLASSES
    from ckg.sparql import run_named
    from ckg.store import open_store
    from ckg.terms import BIBO, CKG, RDF

    start = time.perf_counter()
    store = open_store(Path(store_path), read_only=True)
    paper_concepts = queries.get("paper-concepts")
    kind_of_class = {str(CKG[name].value): kind for kind, name in KIND_CLASSES.items()}
    mesh_of: dict[str, list[str]] = {}
    tally = _Tally(spans=False)
    missing, edges = [], 0
    for doc in read_pubtator(gold):
        papers = [q.subject for q in store.quads_for_pattern(None, BIBO.pmid, ox.Literal(doc.pmid), None)]
        own = resources.paper(gold_cord_uid(doc.pmid))
        if not papers and next(iter(store.quads_for_pattern(own, RDF.type, CKG.Paper, None)), None) is not None:
            papers = [own]
        if not papers:
            missing.append(doc.pmid)
        found_ids: dict[str, set[str]] = {t: set() for t in TYPES}
        for paper in dict.fromkeys(papers):
            for row in run_named(store, paper_concepts, {"paper": paper.value}).rows:
                _paper, concept, label, kind_class = row[0], row[1], row[2], row[3]
                edges += 1
                if concept.value not in mesh_of:
                    mesh_of[concept.value] = sorted(
                        q.object.value for q in store.quads_for_pattern(concept, CKG.meshId, None, None)
                        if _DESCRIPTOR.match(q.object.value))
                ids = mesh_of[concept.value]
                kind = KIND_TYPES.get(kind_of_class.get(kind_class.value, ""))
                if kind is None or not ids:
                    tally.unscored += 1
                    continue
                found_ids[kind].update(ids)
                for i in ids:
                    tally.labels[i] = label.value
        tally.add(doc, found_ids)
    return tally.result(gold, time.perf_counter() - start,
                        {"store": str(store_path), "edges": edges, "documents_not_in_store": len(missing),
                         "not_in_store": missing[:20]})


def evaluate_files(gold: list[Path], vocab: list[Path], *, extractor: str = "gazetteer",
                   store: Path | None = None) -> list[Evaluation]:
    """:func:`evaluate` on each gold file, with one extractor built from the vocabulary files
    (none given: ``$CKG_VOCAB``, else ckg's demo vocabulary); with ``store``,
    :func:`evaluate_store` on each (the store's edges: no vocabulary is read)."""
    if store is not None:
        return [evaluate_store(g, store) for g in gold]
    from ckg.etl.concepts import ExtractionConfig, Gazetteer, make_extractor
    from ckg.etl.vocab import default_vocabularies, load

    vocabulary = load([Path(p) for p in vocab] or default_vocabularies())
    config = ExtractionConfig(extractor=extractor)
    built = make_extractor(Gazetteer.build(vocabulary, config), config)
    return [evaluate(g, vocabulary, extractor=built, config=config) for g in gold]


def mention_spans(extractor, title: str, abstract: str) -> list[tuple[int, int, str]]:
    """(start, end, concept key) of the concept mentions the extractor finds in a PubTator
    document, in PubTator's offsets (the abstract starts one character after the title)."""
    from ckg.etl.concepts import _sections

    abstract_at = _sections(title, abstract, "")[1][1]
    shift = abstract_at - (len(title) + 1)
    return [(s - shift, e - shift, key) if s >= abstract_at else (s, e, key)
            for s, e, key in extractor.mention_spans(title, abstract, "")]


def format_evaluation(result: Evaluation, top: int = 10) -> str:
    """The evaluation as a text report: scores per type, then the commonest mistakes."""
    lines = [f"gold standard  {result.gold}: {result.documents:,} documents; "
             + ", ".join(f"{n:,} {t} mentions" for t, n in result.gold_mentions.items()),
             "", f"{'type':<10} {'level':<9} {'P':>6} {'R':>6} {'F1':>6} {'TP':>7} {'FP':>7} {'FN':>7}"]
    for t in TYPES:
        if not result.gold_mentions[t]:
            lines.append(f"{t:<10} not annotated in this gold standard")
            continue
        for level, s in (("document", result.types[t]), ("mention", result.mentions.get(t))):
            if s is None:
                continue
            lines.append(f"{t:<10} {level:<9} {s.precision:>6.3f} {s.recall:>6.3f} {s.f1:>6.3f} "
                         f"{s.tp:>7,} {s.fp:>7,} {s.fn:>7,}")
    lines.append("")
    store = result.config.get("store")
    if store:
        lines.append(f"scored: the concept edges of store {store} ({result.config.get('edges', 0):,} edges of the gold "
                     f"documents' papers; {result.config.get('documents_not_in_store', 0):,} documents not in the "
                     "store); document: (document, MeSH descriptor id) pairs, as BioCreative V CDR scored "
                     "normalisation")
    else:
        lines.append("document: (document, MeSH descriptor id) pairs, as BioCreative V CDR scored normalisation; "
                     "mention: the same span and id")
    left = ", ".join(f"{n:,} {t}" for t, n in result.supplementary.items())
    lines.append(f"left out: gold pairs with a MeSH supplementary id only ({left}); "
                 f"{result.unscored_concepts:,} {'edges' if store else 'mentions'} of concepts with no MeSH "
                 "descriptor or of another kind")
    for name, counters in (("false positives", result.false_positives), ("false negatives", result.false_negatives)):
        for t, c in counters.items():
            if top and c and result.gold_mentions[t]:
                lines.append(f"top {name} ({t}): " + "; ".join(
                    f"{i} {result.labels.get(i, '')!r} x{n}" for i, n in c.most_common(top)))
    return "\n".join(lines)
