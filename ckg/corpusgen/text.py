"""Titles, abstracts and bodies of a scale corpus.

Sentences come from pools written once per process from the templates of
:mod:`ckg.corpusgen.words` (per topic, section and era: papers before 2020 do not name
COVID-19), filled with the topic's concepts of the bundled vocabulary and its seed words; a
text is a draw of pool sentences, so a million papers cost draws, not template filling. A
concept is written in full, defined with its abbreviation ("acute respiratory distress syndrome
(ARDS)") or abbreviated.

>>> pools = Pools(seed=7)
>>> import random
>>> r = random.Random(1)
>>> title = make_title(r, pools, topics=(3,), year=2021, words=14)
>>> 8 <= len(title.split()) <= 24
True
>>> text = abstract(r, pools, (3,), 2021, 1400)
>>> 1000 < len(text) < 1900
True
>>> rare = RareWords()
>>> [rare.word(k) for k in (0, 1, 84, 85, 10**6)]
['babaq', 'babaj', 'bafuq', 'bafuj', 'mobazerj']
>>> rare.fill(random.Random(2), f"Effect of {TAIL} on {TAIL_CAP} cohorts")
'Effect of bobomoj on Bidizoj cohorts'
"""

from __future__ import annotations

import functools
import random
import re
import string

from ckg.corpusgen.hashing import rng
from ckg.corpusgen.vocab import ABBREVIATIONS, PANDEMIC_ONLY, TOPICS
from ckg.corpusgen.words import (
    DISCUSSION,
    INTRO,
    METHODS,
    MORE_DESIGNS,
    MORE_PLACES,
    MORE_POPULATIONS,
    RESULTS,
    STRUCTURED_ABSTRACT,
    QUALIFIERS,
    SHORT_TITLES,
    SUBTITLES,
    TAILS,
    TITLE_CORES,
)

SECTIONS = ("Introduction", "Methods", "Results", "Discussion")
_TEMPLATES = (INTRO, METHODS, RESULTS, DISCUSSION)
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_POOL = 240  # sentences per (topic, section, era)
TAIL, TAIL_CAP = "\x00", "\x01"  # where a title takes a rare word (written lower-case, capitalised)
_MARKS = re.compile(f"[{TAIL}{TAIL_CAP}]")
TAIL_SHARE = {"w": 0.9, "c": 0.7, "place": 0.8, "population": 0.6}  # of a title's fields
TEXT_RARE = 0.6  # in abstracts and bodies, that share times this
_SMALL = {"a", "an", "and", "as", "at", "by", "for", "from", "in", "of", "on", "or", "the", "to", "with", "versus"}
_FIELDS = {t: tuple(f for _, f, _, _ in string.Formatter().parse(t) if f)
           for t in (*INTRO, *METHODS, *RESULTS, *DISCUSSION, *TITLE_CORES, *SUBTITLES, *QUALIFIERS, *SHORT_TITLES, *TAILS)}


def cap(text: str) -> str:
    """Upper-case the first letter unless the first word is written like 'mRNA' or 'IgG'."""
    if not text or not text[0].islower():
        return text
    first = text.split(" ", 1)[0]
    if not first[1:].islower() and any(c.isupper() for c in first[1:]):
        return text
    return text[0].upper() + text[1:]


def title_case(title: str) -> str:
    words = title.split(" ")
    return " ".join(w if (i and w in _SMALL) or any(c.isupper() for c in w) else cap(w)
                    for i, w in enumerate(words))


@functools.lru_cache(maxsize=None)
def concepts(topic: int, pandemic: bool) -> tuple:
    return tuple(c for c in TOPICS[topic]["concepts"] if pandemic or c not in PANDEMIC_ONLY)


class RareWords:
    """Made-up words of a vocabulary of 10^8 ranked by frequency (Zipf-Mandelbrot: the share of rank
    ``k`` is proportional to ``(k + Q) ** -S``), the long tail of a corpus' words.

    A word is its rank written with consonant-vowel syllables and an ending ('q', 'j', 'zh') that
    no English or Latin medical word has, so that no rare word is taken for a vocabulary's concept
    (a real-data test checks the frequent ones against MeSH). S and Q are fitted to the real
    reference titles of ``release-2020-03-13``: with about 3 rare words a title (the shares
    :data:`TAIL_SHARE` of a title's fields), the first 1,000 / 5,000 / 26,906 reference titles of
    a 20,000-paper release hold 2,815 / 7,754 / 18,143 distinct words (real: 3,445 / 8,871 /
    20,111), its first 1,000 paper titles 2,859 (real: 3,999 in the 2022-06 sample, 3,125 in the
    2020-04 subset).
    """

    S, Q, N = 1.65, 1000.0, 10 ** 8
    _ONSETS = "bdfgklmnprstvz"
    _SYLLABLES = tuple(c + v for c in _ONSETS for v in "aeiou")
    _ENDINGS = ("q", "j", "zh", "nq", "rj", "lzh")

    def __init__(self) -> None:
        self._a = self.Q ** (1 - self.S)
        self._span = self._a - (self.N + self.Q) ** (1 - self.S)
        self._power = 1 / (1 - self.S)
        self.word = functools.lru_cache(maxsize=4096)(self._word)  # the head of the law (memory flat)

    def rank(self, u: float) -> int:
        """The rank at quantile ``u`` of the law (0 the most frequent)."""
        return int((self._a - u * self._span) ** self._power - self.Q)

    def _word(self, rank: int) -> str:
        """Rank -> word, one-to-one (the syllables are ``rank // 6`` in bijective base 70, at least
        two of them; the ending is ``rank % 6``)."""
        n, ending = divmod(rank, len(self._ENDINGS))
        n += len(self._SYLLABLES) + 1  # two syllables at least
        syllables = []
        while n:
            n, d = divmod(n - 1, len(self._SYLLABLES))
            syllables.append(self._SYLLABLES[d])
        return "".join(reversed(syllables)) + self._ENDINGS[ending]

    def fill(self, r: random.Random, text: str) -> str:
        """``text`` with each :data:`TAIL` / :data:`TAIL_CAP` mark replaced by a rare word."""
        def word(mark: re.Match) -> str:
            w = self.word(self.rank(r.random()))
            return w.capitalize() if mark.group() == TAIL_CAP else w
        return _MARKS.sub(word, text)


RARE = RareWords()


class Filler:
    """Fills one template: concepts and seed words of the given topics, places, numbers; with
    ``rare``, marks where rare words go (:data:`TAIL_SHARE`)."""

    def __init__(self, r: random.Random, topics: tuple, pandemic: bool, abbreviate: bool,
                 rare: float = 0.0) -> None:
        self.r, self.topics, self.pandemic, self.abbreviate = r, topics, pandemic, abbreviate
        self.rare = {name: share * rare for name, share in TAIL_SHARE.items()}

    def concept(self) -> str:
        return self.r.choice(concepts(self.r.choice(self.topics), self.pandemic))

    def term(self, concept: str) -> str:
        abbr = ABBREVIATIONS.get(concept)
        if not abbr or not self.abbreviate:
            return concept
        u = self.r.random()
        return concept if u < 0.7 else f"{concept} ({abbr})" if u < 0.88 else abbr

    def fill(self, template: str, year: int) -> str:
        r = self.r
        values: dict = {}
        for name in _FIELDS[template]:
            if name in values:
                continue
            if name in ("c", "c2", "C"):
                raw = self.concept()
                while raw in values.values() and len(concepts(self.topics[0], self.pandemic)) > 2:
                    raw = self.concept()
                term = self.term(raw)
                if r.random() < self.rare["c"]:
                    values[name] = f"{TAIL_CAP if name == 'C' else TAIL} {term}"
                else:
                    values[name] = cap(term) if name == "C" else term
            elif name in ("w", "W"):
                if r.random() < self.rare["w"]:
                    values[name] = TAIL_CAP if name == "W" else TAIL
                else:
                    word = r.choice(TOPICS[r.choice(self.topics)]["seed_words"])
                    values[name] = cap(word) if name == "W" else word
            elif name == "place":
                values[name] = TAIL_CAP if r.random() < self.rare["place"] else r.choice(MORE_PLACES)
            elif name == "population":
                values[name] = r.choice(MORE_POPULATIONS)
                if r.random() < self.rare["population"]:
                    values[name] = f"{TAIL} {values[name]}"
            elif name == "design":
                values[name] = r.choice(MORE_DESIGNS)
            elif name == "outbreak":
                values[name] = "the COVID-19 pandemic" if self.pandemic else r.choice(
                    ("recent coronavirus outbreaks", "the SARS epidemic", "seasonal epidemics"))
            elif name == "n":
                values[name] = str(int(24 * 200 ** r.random()))
            elif name in ("p", "p2"):
                values[name] = f"{r.uniform(2, 80):.1f}"
            elif name == "d":
                values[name] = str(r.randint(3, 28))
            elif name == "or_":
                ratio = r.uniform(1.2, 4.5)
                values.update(or_=f"{ratio:.2f}", lo=f"{1 + (ratio - 1) * r.uniform(0.2, 0.8):.2f}",
                              hi=f"{ratio + r.uniform(0.3, 1.8):.2f}")
            elif name in ("lo", "hi"):
                continue
            elif name in ("year", "year2"):
                values.update(year=str(year - r.randint(1, 4)), year2=str(year))
            elif name == "period":
                start = r.randint(0, 8)
                study = year - (r.random() < 0.5)
                values[name] = f"{_MONTHS[start]} and {_MONTHS[r.randint(start + 1, 11)]} {study}"
            else:
                raise KeyError(name)
        return template.format(**values)


class Pools:
    """Sentence pools per (topic, section, era), written from the seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.pools: dict = {}
        for topic in range(len(TOPICS)):
            for era, pandemic in enumerate((False, True)):
                r = rng(seed, 21, topic, era)
                year = 2021 if pandemic else 2015
                for section, templates in zip(SECTIONS, _TEMPLATES):
                    filler = Filler(r, (topic,), pandemic, abbreviate=True, rare=TEXT_RARE)
                    self.pools[topic, section, era] = tuple(
                        cap(filler.fill(r.choice(templates), year)) for _ in range(_POOL))

    def sentence(self, r: random.Random, topics: tuple, section: str, year: int) -> str:
        return r.choice(self.pools[r.choice(topics), section, int(year >= 2020)])


def make_title(r: random.Random, pools: Pools, topics: tuple, year: int, words: int, rare: bool = True) -> str:
    """A title of about ``words`` words: a short one, or a statement with a subtitle naming a design,
    a place, a population or a number; with rare words (or, ``rare=False``, the marks where they
    go, for :meth:`RareWords.fill` to fill later)."""
    filler = Filler(r, topics, year >= 2020, abbreviate=False, rare=1.0)
    if words <= 7:
        title = cap(filler.fill(r.choice(SHORT_TITLES), year))
    else:
        best, gap = "", 99
        for _ in range(3):
            title = cap(filler.fill(r.choice(TITLE_CORES), year))
            end = "?" if title.endswith("?") else ""
            title = title[:-1] if end else title
            title += filler.fill(r.choice(TAILS if words <= 12 or end else SUBTITLES), year)
            if len(title.split()) + 5 <= words:
                title += filler.fill(r.choice(QUALIFIERS), year)
            title += end
            if abs(len(title.split()) - words) < gap:
                best, gap = title, abs(len(title.split()) - words)
            if gap <= 2:
                break
        title = best
    if rare:
        title = RARE.fill(r, title)
    return cap(title_case(title)) if r.random() < 0.3 else cap(title)


def abstract(r: random.Random, pools: Pools, topics: tuple, year: int, chars: float) -> str:
    """An abstract of about ``chars`` characters: background, methods, results, conclusions."""
    rand = r.random
    structured = rand() < 0.2
    era = int(year >= 2020)
    parts = []
    for section, share, label in zip(SECTIONS, (0.2, 0.25, 0.35, 0.2), STRUCTURED_ABSTRACT):
        budget, text = chars * share, []
        options = [pools.pools[t, section, era] for t in topics]
        while budget > 40 or not text:
            pool = options[int(rand() * len(options))]
            sentence = pool[int(rand() * len(pool))]
            text.append(sentence)
            budget -= len(sentence) + 1
        parts.append((label if structured else "") + " ".join(text))
    return RARE.fill(r, " ".join(parts))


def body(r: random.Random, pools: Pools, topics: tuple, year: int, paragraphs: int, chars: float) -> list:
    """[(section, [sentence, ...]), ...]: ``paragraphs`` paragraphs of about ``chars`` characters
    in all, the sections in order (introduction 15%, methods 25%, results 35%, discussion 25%)."""
    paragraphs = max(1, paragraphs)
    bounds = (round(0.15 * paragraphs), round(0.40 * paragraphs), round(0.75 * paragraphs))
    rand = r.random
    weights = [r.expovariate(1.0) + 0.15 for _ in range(paragraphs)]
    scale = chars / sum(weights)
    era = int(year >= 2020)
    choices = {section: [pools.pools[t, section, era] for t in topics] for section in SECTIONS}
    fill = RARE.fill
    out = []
    for k, weight in enumerate(weights):
        section = SECTIONS[(k >= bounds[0]) + (k >= bounds[1]) + (k >= bounds[2])]
        options = choices[section]
        budget, sentences = weight * scale, []
        while budget > 60 or not sentences:
            pool = options[int(rand() * len(options))]
            sentence = pool[int(rand() * len(pool))]
            sentences.append(fill(r, sentence))
            budget -= len(sentence) + 1
        out.append((section, sentences))
    return out
