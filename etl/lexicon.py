"""A learned lexicon: what the people who annotated abstracts call a concept, and what they never do.

A vocabulary says what a concept is called; human annotation says what a text means when it
uses a name. The lexicon is learned from gold standards in PubTator format (see
:mod:`ckg.etl.concept_eval`) and read beside the vocabularies (give its file as one more
``--vocab``); the gazetteer applies it after the vocabularies' names (:meth:`ckg.etl.concepts.Gazetteer.build`):

- a **link** entry sends a phrase to a MeSH descriptor: the one the annotators chose for that
  wording in most of its mentions ("dyskinesia" in a drug paper is Dyskinesia, Drug-Induced,
  D004409, where MeSH's own label makes it Dyskinesias, D020820; "nephrotoxicity" is Kidney
  Diseases, for which MeSH has no such entry term). It adds names MeSH lacks and overrides the
  vocabulary's choice for a name both have;
- a **block** entry drops a phrase the gazetteer matches in the training abstracts but the
  annotators seldom marked as that concept ("death", "water", "body weight"): the learned
  counterpart of the hand-made stop list;
- a **modifier** entry sends a word followed by any of the ``GENERIC_HEADS`` to a descriptor
  ("renal" -> Kidney Diseases, learned from "renal damage" and "renal dysfunction", so that
  "renal lesions" and "renal involvement" are found too); the phrases it makes only fill gaps:
  a vocabulary name or a link of the same wording wins;
- a **prefix** entry says a word before the name of a condition adds a descriptor of its own:
  "hemorrhagic cystitis" is Hemorrhage and Cystitis, so "hemorrhagic myocarditis" is Hemorrhage
  and Myocarditis. Learned from the composite mentions (two ids) of a word and a wording linked
  to one of them; kept when the word adds that id in most of the mentions of the word and a
  wording linked to one id, or before a mention of one id, left out of it
  (``prefix_min_support`` of them at least): "recurrent", mostly left out or just part of a
  name, is no prefix.

:func:`learn` derives it: links from the gold mentions that carry one descriptor id (a phrase
is linked when at least ``min_support`` mentions carry the same id and that id is at least
``min_share`` of them); blocks by running the extractor, links applied, over the same
abstracts and keeping the disease and chemical phrases found in at least ``block_min_documents``
documents whose concept the annotators gave in at most ``block_precision`` of them (only in
corpora that annotate that entity type: the NCBI Disease corpus says nothing of chemicals). Documents
whose PMID is in ``exclude`` are left out (the development sets one reports on, and corpora
that reuse each other's abstracts: BioRED holds abstracts of the BioCreative V CDR corpus).

The file is tab-separated UTF-8, ``#`` lines first (what it was learned from, and how)::

    # ckg concept lexicon 1
    # learned from: CDR_TrainingSet.PubTator.txt sha256=... documents=500
    phrase	action	mesh_id	type	support	share
    dyskinesia	link	D004409	disease	21	0.84
    death	block	D003643	disease	0	0.0

>>> import tempfile
>>> from pathlib import Path
>>> path = Path(tempfile.mkdtemp()) / "lexicon.tsv"
>>> Lexicon([LexiconEntry("heart attack", "link", "D009203", "disease", 3, 1.0)], ["example"]).write(path)
>>> is_lexicon(path), read_lexicon(path).entries[0].mesh_id
(True, 'D009203')
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

MAGIC = "# ckg concept lexicon"
HEADER = f"{MAGIC} 1"
MIN_MODIFIER_CHARS = 3
COLUMNS = ("phrase", "action", "mesh_id", "type", "support", "share")
ACTIONS = ("link", "block", "modifier", "prefix")

GENERIC_HEADS = ("abnormality", "abnormalities", "complication", "complications", "damage", "deficit", "deficits",
                 "disease", "diseases", "disorder", "disorders", "dysfunction", "dysfunctions", "impairment",
                 "impairments", "injury", "injuries", "involvement", "lesion", "lesions", "loss", "problem",
                 "problems", "symptom", "symptoms", "toxicity", "toxicities")
"""Nouns that say "something is wrong with" whatever the word before them names: "renal lesions",
"visual deficits", "cardiac involvement", "gastrointestinal toxicity" or "symptoms" (not "failure"
or "insufficiency", which people annotate as conditions of their own: "renal failure" is Renal
Insufficiency, not Kidney Diseases). A link of the same wording wins ("hepatotoxicity", "renal
toxicity")."""


class LexiconError(ValueError):
    """A lexicon file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class LexiconEntry:
    phrase: str  # as the annotators wrote it; the gazetteer normalises it like any name
    action: str  # "link", "block", "modifier" or "prefix"
    mesh_id: str  # the descriptor (D-number) linked to, or the one the blocked phrase matched
    type: str  # "disease" or "chemical"
    support: int  # link, modifier: mentions with that id; block: documents where the phrase was found
    share: float  # link, modifier: the id's share of the mentions; block: documents where it was right


@dataclass
class LearnSettings:
    min_support: int = 1
    min_share: float = 0.5
    block_min_documents: int = 1
    block_precision: float = 0.2
    prefix_min_support: int = 2


@dataclass
class Lexicon:
    entries: list[LexiconEntry]
    provenance: list[str] = field(default_factory=list)  # the header's lines: sources and settings

    @property
    def links(self) -> list[LexiconEntry]:
        return [e for e in self.entries if e.action == "link"]

    @property
    def blocks(self) -> list[LexiconEntry]:
        return [e for e in self.entries if e.action == "block"]

    @property
    def modifiers(self) -> list[LexiconEntry]:
        return [e for e in self.entries if e.action == "modifier"]

    @property
    def prefixes(self) -> list[LexiconEntry]:
        return [e for e in self.entries if e.action == "prefix"]

    def write(self, path: Path) -> None:
        lines = [HEADER, *(f"# {line}" for line in self.provenance), "\t".join(COLUMNS)]
        for e in sorted(self.entries, key=lambda e: (e.action, e.phrase.lower(), e.mesh_id)):
            lines.append("\t".join([e.phrase, e.action, e.mesh_id, e.type, str(e.support), f"{e.share:.3f}"]))
        Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def is_lexicon(path: Path) -> bool:
    """Whether a file starts with the lexicon header."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.readline().startswith(MAGIC)
    except (OSError, UnicodeDecodeError):
        return False


def read_lexicon(path: Path) -> Lexicon:
    """A lexicon file; :class:`LexiconError` names the line that is not an entry."""
    path = Path(path)
    entries, provenance = [], []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\n\r")
            if number == 1:
                if not line.startswith(MAGIC):
                    raise LexiconError(f"{path} line 1: not a ckg concept lexicon (expected {HEADER!r})")
                continue
            if line.startswith("#"):
                provenance.append(line[1:].strip())
                continue
            if not line.strip() or line == "\t".join(COLUMNS):
                continue
            cells = line.split("\t")
            where = f"{path.name} line {number}"
            if len(cells) != len(COLUMNS):
                raise LexiconError(f"{where}: {len(cells)} tab-separated cells, expected {len(COLUMNS)} "
                                   f"({', '.join(COLUMNS)})")
            phrase, action, mesh_id, kind, support, share = cells
            if action not in ACTIONS:
                raise LexiconError(f"{where}: action {action!r} is none of {', '.join(ACTIONS)}")
            try:
                entries.append(LexiconEntry(phrase, action, mesh_id, kind, int(support), float(share)))
            except ValueError:
                raise LexiconError(f"{where}: support {support!r} or share {share!r} is not a number") from None
    return Lexicon(entries, provenance)


def wording(text: str) -> str:
    """The key a mention's text is learned under: its words in lower case, but for short capital
    words, which the extractor matches with their case (:func:`ckg.etl.concepts.is_symbol`):
    "HIT" (heparin-induced thrombocytopenia) must not become a link of the word "hit".

    >>> wording("Heart  Attack"), wording("HIT"), wording("MAP kinase")
    ('heart attack', 'HIT', 'MAP kinase')
    """
    from ckg.etl.concepts import is_symbol

    return " ".join(w if is_symbol(w) else w.lower() for w in text.split())


def learn(gold: Iterable[Path], vocabulary, *, exclude: Iterable[str] = (),
          settings: LearnSettings | None = None) -> Lexicon:
    """Learn links and blocks from the PubTator files ``gold`` (documents whose PMID is in
    ``exclude`` left out), for the extractor of ``vocabulary``.

    >>> import tempfile
    >>> from ckg.etl.vocab import DEMO_VOCABULARY, load
    >>> gold = Path(tempfile.mkdtemp()) / "train.PubTator"
    >>> _ = gold.write_text("1|t|Heart attack\\n1|a|Asthma.\\n1\\t0\\t12\\tHeart attack\\tDisease\\tD009203\\n\\n"
    ...                     "2|t|Asthma\\n2|a|No.\\n\\n3|t|Asthma\\n3|a|No.\\n\\n")
    >>> lexicon = learn([gold], load(DEMO_VOCABULARY))
    >>> [(e.phrase, e.action, e.mesh_id, e.support, e.share) for e in lexicon.entries]
    [('heart attack', 'link', 'D009203', 1, 1.0), ('asthma', 'block', 'D001249', 3, 0.0)]
    """
    from ckg.etl.concept_eval import KIND_TYPES, mention_spans, read_pubtator
    from ckg.etl.concepts import ExtractionConfig, Gazetteer, make_extractor
    from ckg.etl.vocab import Vocabulary, sha256

    settings = settings or LearnSettings()
    excluded = set(exclude)
    gold = [Path(p) for p in gold]
    documents = []  # (document, the entity types its corpus annotates)
    provenance = []
    for path in gold:
        all_docs = list(read_pubtator(path))
        annotated = {m.type for d in all_docs for m in d.mentions}
        docs = [d for d in all_docs if d.pmid not in excluded]
        provenance.append(f"learned from: {path.name} sha256={sha256(path)} documents={len(docs)} "
                          f"types={','.join(sorted(annotated))}")
        documents.extend((d, annotated) for d in docs)
    provenance.append(f"documents left out (excluded PMIDs): {len(excluded)} given")
    provenance.append("settings: " + " ".join(f"{k}={v}" for k, v in asdict(settings).items()))

    # links: the id most mentions of a wording carry; modifiers: the id most mentions of a word
    # and a generic head carry
    ids: dict[str, Counter] = defaultdict(Counter)
    modified: dict[str, Counter] = defaultdict(Counter)
    types: dict[str, str] = {}
    heads = set(GENERIC_HEADS)
    for doc, _types in documents:
        for m in doc.mentions:
            words = wording(m.text).split()
            one = m.ids[0] if len(m.ids) == 1 else ""  # a composite mention or one without a descriptor: counts against
            ids[" ".join(words)][one] += 1
            if len(words) == 2 and words[1] in heads and words[0].isalpha() and len(words[0]) >= MIN_MODIFIER_CHARS:
                modified[words[0]][one] += 1
            if one:
                types[one] = m.type

    def best_of(counted: dict[str, Counter], action: str, min_support: int, keep=lambda mesh_id: True) -> list[LexiconEntry]:
        entries = []
        for key, counter in counted.items():
            best, n = counter.most_common(1)[0]
            share = n / sum(counter.values())
            if best and n >= min_support and share >= settings.min_share and keep(best):
                entries.append(LexiconEntry(key, action, best, types[best], n, round(share, 3)))
        return entries

    # prefixes: a word before a wording linked to one id, where the mention carries that id and
    # one more (the word's); counted against the mentions of the word and such a wording with its id alone
    single = {key: counter.most_common(1)[0][0] for key, counter in ids.items()}
    prefixed: dict[str, Counter] = defaultdict(Counter)
    for doc, _types in documents:
        text = doc.title + " " + doc.abstract
        for m in doc.mentions:
            before = text[max(0, m.start - 40):m.start]
            if m.type == "disease" and len(m.ids) == 1 and before.endswith(" ") and before.split():
                prefixed[wording(before.split()[-1])][""] += 1  # the word left out of the mention: no prefix there
            words = wording(m.text).split()
            if len(words) < 2 or len(m.ids) > 2 or not words[0].isalpha() or len(words[0]) < MIN_MODIFIER_CHARS:
                continue
            rest = single.get(" ".join(words[1:]))
            if not rest or rest not in m.ids:
                continue
            other = [i for i in m.ids if i != rest]
            prefixed[words[0]][other[0] if other else ""] += 1
            if other:
                types[other[0]] = m.type

    # a modifier names a class of conditions (a descriptor with narrower ones: Kidney Diseases,
    # Vision Disorders), seen with two mentions at least: "systemic disease" once is no reason
    # to call every "systemic lesion" Mastocytosis, Systemic
    parents = {t[:i] for c in vocabulary.concepts for t in c.tree_numbers for i, ch in enumerate(t) if ch == "."}
    classes = {i for c in vocabulary.concepts if parents.intersection(c.tree_numbers) for i in c.mesh_ids}
    links = (best_of(ids, "link", settings.min_support)
             + best_of(modified, "modifier", max(2, settings.min_support), classes.__contains__)
             + best_of(prefixed, "prefix", max(settings.prefix_min_support, settings.min_support)))

    # blocks: phrases found, links applied, whose concept the annotators seldom gave
    linked = Vocabulary(vocabulary.concepts, vocabulary.files, lexicon=links)
    config = ExtractionConfig()
    extractor = make_extractor(Gazetteer.build(linked, config), config)
    found: dict[str, Counter] = defaultdict(Counter)  # lower phrase -> right / all documents
    seen: dict[str, tuple[str, str]] = {}
    link_keys = {e.phrase for e in links if e.action == "link"}
    for doc, annotated in documents:
        gold_ids = {t: set() for t in ("disease", "chemical")}
        for m in doc.mentions:
            gold_ids[m.type].update(m.ids)
        text = doc.title + " " + doc.abstract
        in_doc: dict[str, bool] = {}
        for start, end, key in mention_spans(extractor, doc.title, doc.abstract):
            concept = vocabulary.by_key.get(key)
            kind = KIND_TYPES.get(concept.kind) if concept is not None else None
            if kind not in annotated or not concept.mesh_ids:
                continue  # only what the corpus annotates can be learned as never annotated (NCBI: no chemicals)
            phrase = wording(text[start:end])
            right = bool(set(concept.mesh_ids) & gold_ids[kind])
            in_doc[phrase] = in_doc.get(phrase, False) or right
            seen.setdefault(phrase, (concept.mesh_ids[0], kind))
        for phrase, right in in_doc.items():
            found[phrase]["all"] += 1
            found[phrase]["right"] += right
    blocks = []
    for phrase, c in found.items():
        precision = c["right"] / c["all"]
        if phrase not in link_keys and c["all"] >= settings.block_min_documents and precision <= settings.block_precision:
            mesh_id, kind = seen[phrase]
            blocks.append(LexiconEntry(phrase, "block", mesh_id, kind, c["all"], round(precision, 3)))
    modifiers = sum(e.action == "modifier" for e in links)
    prefixes = sum(e.action == "prefix" for e in links)
    provenance.append(f"entries: {len(links) - modifiers - prefixes} links, {len(blocks)} blocks, "
                      f"{modifiers} modifiers, {prefixes} prefixes")
    return Lexicon(links + blocks, provenance)


def learn_files(gold: list[Path], vocab: list[Path], out: Path, *, exclude: list[Path] = (), **settings) -> Lexicon:
    """:func:`learn` from PubTator files for the vocabulary files given (none: ``$CKG_VOCAB``,
    else ckg's demo vocabulary), the abstracts of the ``exclude`` files left out; written to ``out``."""
    from ckg.etl.concept_eval import read_pubtator
    from ckg.etl.vocab import default_vocabularies, load

    vocabulary = load([Path(p) for p in vocab] or default_vocabularies())
    excluded = {d.pmid for path in exclude for d in read_pubtator(path)}
    lexicon = learn(gold, vocabulary, exclude=excluded, settings=LearnSettings(**settings))
    lexicon.provenance.insert(0, "vocabularies: " + ", ".join(f"{Path(f['path']).name} sha256={f['sha256']}"
                                                                for f in vocabulary.files))
    lexicon.provenance.insert(1, "left out: " + (", ".join(Path(p).name for p in exclude) or "nothing"))
    lexicon.write(out)
    return lexicon


__all__ = ["Lexicon", "LexiconEntry", "LexiconError", "LearnSettings", "is_lexicon", "learn", "learn_files", "wording",
           "read_lexicon"]
