"""Citation resolution: which bibliography entries point at a paper of the corpus.

Each entry of a paper's bibliography is resolved by the first rule that decides:

1. **identifier** (``doi``, ``pmid``, ``pmcid``, ``arxiv``): the entry's DOI (then PMID,
   PMC id, arXiv id) equals the identifier of papers of the corpus. One paper: resolved.
   Several (two versions of one preprint share a DOI): ambiguous. Preprint DOIs are compared
   without a version suffix (``...v2``).
2. **title**: the entry's title key equals the title key of papers of the corpus. A title key
   is the normalised title (:func:`ckg.etl.normalize.normalize_title`) without a leading
   "title" label and without a trailing preprint-server name ("... medrxiv"), which PDF
   parses of references often append. Titles of fewer than :data:`MIN_TITLE_WORDS` words are
   not matched (they are generic). When the entry and the paper both have a year they must
   be at most :data:`MAX_YEAR_GAP` apart, except for long titles (:data:`LONG_TITLE_WORDS`
   words or more), which are specific enough on their own (parsed years are often wrong).
3. **title-fuzzy**, for entries of at least :data:`FUZZY_MIN_WORDS` words that no rule above
   decided, against papers of compatible year:

   * one title is the other cut short (a reference title truncated, or followed by debris)
     and the shorter has at least :data:`PARTIAL_MIN_WORDS` words ("Clinical features of
     patients infected with" is too short to say which paper it is);
   * the entry contains the paper's whole title of at least :data:`PARTIAL_MIN_WORDS` words
     (author names or venues glued around a title). The converse, a short entry title found
     inside a longer paper title, is not a match: "CT imaging features of 2019 novel
     coronavirus" is another paper than "Key points of clinical and CT imaging features of
     2019 novel coronavirus ...";
   * the two word sets have a Jaccard similarity of at least :data:`MIN_JACCARD` and the word
     sequences differ only by typos (edit distance of 2 at most), words run together, numbers
     (manuscript line numbers inside a title), short function words, or words that one side
     adds; numbers do not count in the similarity. A word replaced by another word, or moved,
     makes a different paper: "... assay in specificity ..." is not "... assay in
     sensitivity ...".

   A fuzzy match is refused when the entry and the paper both carry a journal DOI and the DOIs
   differ. Preprint DOIs (bioRxiv/medRxiv 10.1101, Research Square, Preprints.org, SSRN, arXiv)
   do not refuse a match, nor does any DOI for an exact title: a reference to the journal
   version of a preprint in the corpus cites the same work.
4. otherwise the entry is **unresolved** (it cites a work outside the corpus).

At every step: several candidate papers make the entry ``ambiguous`` (no edge); a match with
the citing paper itself is counted as ``self`` (PDF parses sometimes turn the paper's own page
footers into references) and makes no edge. Several entries of one paper resolving to the
same paper make one edge, named by its strongest evidence.

**How it scales.** Resolution never compares an entry with every paper, and an update never
resolves every entry again (``bench/bench_citations.py`` measures both):

* *Blocking.* Every title key gets blocking tokens in one global order of words (rare words
  first: a word's *tier* grows with the number of titles using it, ties by the word): the
  minimum of each run of :data:`PARTIAL_MIN_WORDS` words (two titles that share such a run,
  which the prefix and containment rules need, share that run's minimum), and the first
  ``n - ceil(0.8 n) + 1`` of its ``n`` content words (prefix filtering: two word sets of
  Jaccard similarity at least 0.8 share one of them). Candidates are the papers sharing a
  token (and, for the Jaccard rule, of compatible size); the rules above then decide on the
  candidates only, so the result is that of comparing with every paper, whatever the order.
* *State in the catalog.* Each decided entry's outcome and candidate papers, each citing
  paper's edges, and four posting tables: identifiers and title keys of entries and of papers
  (hashed, in buckets), blocking tokens of entries and of papers. A fresh build fills them
  in one pass over the entries, streamed from the catalog in groups by title (worker processes
  take a group each), so a title cited by many entries is analysed and matched once.
* *Updates.* The catalog logs the papers put or deleted since the last resolution (with the
  old version's title, year and identifiers) and the entries deleted. Only the entries of
  new and changed papers are resolved, and the old entries that the change can affect: those
  whose identifier or title key equals one of a new, changed or removed paper, those that
  resolved to (or were ambiguous between) a changed or removed paper, and those that the
  fuzzy rules match with a new paper's title, found through the entries' blocking tokens.
  The result equals a fresh resolution of the new corpus (``tests/test_citations_scale.py``).
"""
from __future__ import annotations

import difflib
import gc
import math
import multiprocessing
import os
import re
import shutil
import sqlite3
import tempfile
import time
import zlib
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ckg.etl.catalog import Catalog

MIN_TITLE_WORDS = 4
LONG_TITLE_WORDS = 8
MAX_YEAR_GAP = 1
FUZZY_MIN_WORDS = 6
PARTIAL_MIN_WORDS = 8
MIN_JACCARD = 0.8
_METHOD_RANK = {"doi": 0, "pmid": 1, "pmcid": 2, "arxiv": 3, "title": 4, "title-fuzzy": 5}

_VERSION = re.compile(r"v\d+$")
_LABEL = re.compile(r"^(?:title\s+)+")
_SERVER_TAIL = re.compile(r"(?:\s+(?:medrxiv|biorxiv|arxiv|ssrn|preprint|preprints|in press))+$")
_SERVER_ENDS = ("medrxiv", "biorxiv", "arxiv", "ssrn", "preprint", "preprints", "press", "\n")


def _doi_key(doi: str) -> str:
    return _VERSION.sub("", doi) if doi.startswith("10.1101/") else doi


def title_key(title_norm: str) -> str:
    """Title key of a normalised title.

    >>> title_key("title the impact of traffic isolation in wuhan medrxiv preprint")
    'the impact of traffic isolation in wuhan'
    """
    if title_norm.startswith("title"):  # the two patterns cannot match otherwise: skip them
        title_norm = _LABEL.sub("", title_norm)
    if title_norm.endswith(_SERVER_ENDS):
        title_norm = _SERVER_TAIL.sub("", title_norm)
    return title_norm.strip()


_PREPRINT_DOI_PREFIXES = ("10.1101/", "10.21203/", "10.20944/", "10.2139/", "10.48550/")


def _dois_conflict(entry_doi: str, paper_doi: str | None) -> bool:
    return bool(entry_doi and paper_doi and _doi_key(paper_doi) != entry_doi
                and not entry_doi.startswith(_PREPRINT_DOI_PREFIXES) and not paper_doi.startswith(_PREPRINT_DOI_PREFIXES))


def _year_ok(a: int | None, b: int | None) -> bool:
    return a is None or b is None or abs(a - b) <= MAX_YEAR_GAP


_FUNCTION_WORDS = frozenset("a an and are as at by for from in into is of on or the to with".split())


def _edit_distance(a: str, b: str, bound: int) -> int:
    """Edit distance counting a swap of two adjacent letters as one edit (optimal string
    alignment), or ``bound + 1`` as soon as it is known to exceed ``bound``.

    >>> _edit_distance("coivd", "covid", 2), _edit_distance("driver", "driven", 2), _edit_distance("abc", "xyz", 1)
    (1, 1, 2)
    """
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        if min(current) > bound:
            return bound + 1
        before, previous = previous, current
    return previous[-1]


def differ_by_edits_only(a: list[str], b: list[str]) -> bool:
    """True when two titles' word sequences differ only by typos (edit distance <= 2), words
    run together, numbers (manuscript line numbers), short function words, or words that one
    side adds; not when a word is replaced by another word or moved ("the role of B cells in
    T cell responses" is not "the role of T cells in B cell responses").

    >>> differ_by_edits_only("novel coronaviurs 301 data driver analysis".split(),
    ...                      "novel coronavirus data driven analysis".split())
    True
    >>> differ_by_edits_only("assay in specificity".split(), "assay in sensitivity".split())
    False
    >>> differ_by_edits_only("novel coronavirusinfected pneumonia".split(), "novel coronavirus infected pneumonia".split())
    True
    >>> differ_by_edits_only("the role of tocilizumab in deaths during covid 19".split(),
    ...                      "the role of covid 19 in deaths during covid 19".split())
    False
    """
    only_a: list[str] = []
    only_b: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op != "equal":
            only_a.extend(a[i1:i2])
            only_b.extend(b[j1:j2])
    only_a = [w for w in only_a if not w.isdigit() and w not in _FUNCTION_WORDS]
    only_b = [w for w in only_b if not w.isdigit() and w not in _FUNCTION_WORDS]
    for x, y in ((only_a, only_b), (only_b, only_a)):
        for w in list(x):
            for i in range(2, len(w) - 1):
                if w[:i] in y and w[i:] in y:  # run together: "coronavirusinfected"
                    x.remove(w)
                    y.remove(w[:i])
                    y.remove(w[i:])
                    break
    for w in [w for w in only_a if len(w) >= 4]:  # "b" for "t" is another word, not a typo
        bound = 1 if len(w) < 6 else 2
        partner = next((v for v in only_b if v != w and _edit_distance(w, v, bound) <= bound), None)
        if partner is not None:  # a typo
            only_a.remove(w)
            only_b.remove(partner)
    return not (only_a and only_b)


def _content_words(words: list[str]) -> frozenset[str]:
    """The words of a title that count in the Jaccard similarity: all but numbers."""
    if any(map(str.isdigit, words)):
        return frozenset(w for w in words if not w.isdigit())
    return frozenset(words)


def _prefix_length(size: int) -> int:
    return size - math.ceil(MIN_JACCARD * size) + 1


def similar(key: str, words: list[str], content: frozenset[str], other: str, size: int | None = None,
            other_words: list[str] | None = None, other_content: frozenset[str] | None = None) -> bool:
    """The fuzzy rules: is the entry title key ``key`` (its words and content words given) the
    paper title key ``other``, cut short, with debris around it, or with edits only? ``size``:
    the number of content words of ``other`` when known (it spares the Jaccard similarity when
    the sizes alone rule it out); ``other_words`` and ``other_content``: its words and content
    words, when the caller compares one title with many entries and keeps them.

    >>> t = "the novel coronavirus uses the ace2 receptor and the tmprss2 protease for entry"
    >>> e = "lin yang and daihai he 2020 " + t + " biorxiv"
    >>> similar(e, e.split(), _content_words(e.split()), t), similar(t, t.split(), _content_words(t.split()), e)
    (True, False)
    """
    if other_words is None:
        other_words = other.split()
    shorter = min(len(words), len(other_words))
    if shorter >= PARTIAL_MIN_WORDS and (other.startswith(key + " ") or key.startswith(other + " ")):
        return True
    if len(other_words) >= PARTIAL_MIN_WORDS and f" {other} " in f" {key} ":
        return True
    n = len(content)
    if n < FUZZY_MIN_WORDS or (size is not None and size < _SIZE_CAP and not MIN_JACCARD * n <= size <= n / MIN_JACCARD):
        return False  # Jaccard similarity >= 0.8 needs 0.8 |a| <= |b| <= |a| / 0.8
    b = _content_words(other_words) if other_content is None else other_content
    return (len(b) >= FUZZY_MIN_WORDS and len(content & b) / len(content | b) >= MIN_JACCARD
            and differ_by_edits_only(words, other_words))


# -- blocking -----------------------------------------------------------------------------------
#
# Resolving an entry looks papers up by keys that every fuzzy match shares (so the rules run on
# a handful of candidates, never on the corpus):
#
# * the prefix and containment rules need a run of PARTIAL_MIN_WORDS words common to the entry
#   and the title, starting the title: papers are keyed by the hash of their first 8 words, an
#   entry looks up each run of 8 of its words;
# * the Jaccard rule needs two word sets of similarity >= 0.8, which share the two first words
#   (in one global order of words) of their ``n - ceil(0.8 n) + 2`` first content words (prefix
#   filtering): papers are keyed by each pair of those words, an entry looks its pairs up, and a
#   paper is a candidate only when its size is compatible.
#
# Updates go the other way, from a new paper to the entries it may match: entries are posted
# under the minimum of each run of 8 words (for the prefix and containment rules) and under the
# same prefix pairs as papers (for the Jaccard rule: a pair of two of a title's rarest words is
# posted by few entries, where each single word of them was posted by thousands at 100k
# papers), each posting with the entry's size and a 32-bit Bloom filter of its words, so that
# most postings are ruled out without reading the entry.

WINDOW = 1  # role of an entry's posting: under the minimum of a run of PARTIAL_MIN_WORDS words
PREFIX = 2  # role of an entry's posting: under one of its prefix-filtering pairs of content words
_SIZE_CAP = 63  # content-word counts in postings are kept up to this (larger ones count as this)
TIER_BASE = 16
"""A word used by fewer than this many titles (papers' and entries') is of tier 0, the rarest;
each doubling of that number is one tier more. The global order of words is (tier, word): it
makes the keys rare (short posting lists); results do not depend on it."""


def order_key(tiers: dict[str, int]):
    """The global order of words: (tier, word)."""
    get = tiers.get
    return lambda w: (get(w, 0), w)


def tier_of(titles: int) -> int:
    """The tier of a word used by that many titles.

    >>> [tier_of(n) for n in (0, 15, 16, 31, 32, 1000)]
    [0, 0, 1, 1, 2, 6]
    """
    return (titles // TIER_BASE).bit_length()


def _hash64(text: str) -> int:
    """A stable 63-bit hash (the keys of the posting tables): CRC-32 above, Adler-32 below."""
    b = text.encode()
    return ((zlib.crc32(b) & 0x7FFFFFFF) << 32) | zlib.adler32(b)


_HASH_CHECK = hash((3141592653, 2718281828, 1414213562))
"""Window and pair keys are Python's hashes of tuples of CRC-32s: stable across processes,
but not promised across Python versions. The catalog records this value; a resolution that
finds another resolves everything again (its stored keys could not be found any more)."""


def _word_hash(word: str) -> int:
    return zlib.crc32(word.encode())


def _fold(bloom: int) -> int:
    """A 64-bit Bloom filter of words (bit: crc32 % 64) as 32 bits (bit: crc32 % 32)."""
    return (bloom | bloom >> 32) & 0xFFFFFFFF


def _ids_hashes(ids: Iterable[tuple[str, str]]) -> list[int]:
    return [_hash64(f"{scheme}\0{value}") for scheme, value in ids if value]


_TOP = "\U0010ffff"  # normalised titles hold no such character (it is no word character)


class _Order:
    """The global order of words: the words of no tier first (in code-point order), then by
    (tier, word); and a memo of words' CRC-32s.

    >>> _Order({"of": 9, "novel": 5, "china": 5}).sort("novel coronavirus in china of 2019".split())
    ['2019', 'coronavirus', 'in', 'china', 'novel', 'of']
    """

    def __init__(self, tiers: dict[str, int]) -> None:
        self.keys = {w: f"{_TOP}{chr(0x100 + t)}{w}" for w, t in tiers.items()}
        self.crcs: dict[str, int] = {}

    def sort(self, words: Iterable[str]) -> list[str]:
        """The distinct words, in the order."""
        get = self.keys.get
        return [k[2:] if k[0] == _TOP else k for k in sorted([get(w, w) for w in set(words)])]

    def crc(self, word: str) -> int:
        h = self.crcs.get(word)
        if h is None:
            if len(self.crcs) >= 2_000_000:
                self.crcs.clear()
            h = self.crcs[word] = zlib.crc32(word.encode())
        return h


def _window_minima(seq: list[int]) -> set[int]:
    """The minimum of each run of PARTIAL_MIN_WORDS values of ``seq``.

    >>> sorted(_window_minima([5, 9, 9, 9, 9, 9, 9, 9, 9, 9, 1]))  # windows: 5 9 9 9 9 9 9 9 | 9 ... | ... | 9 ... 9 1
    [1, 5, 9]
    """
    out: set[int] = set()
    stack = [(0, len(seq) - PARTIAL_MIN_WORDS)]  # ranges of windows (by first position)
    while stack:
        lo, hi = stack.pop()
        if lo > hi:
            continue
        span = seq[lo:hi + PARTIAL_MIN_WORDS]
        m = min(span)
        p = lo + span.index(m)
        out.add(m)  # the minimum of every window holding position p
        stack.append((lo, p - PARTIAL_MIN_WORDS))
        stack.append((p + 1, hi))
    return out


class _Title:
    """What resolution derives from a title key: its words; the hash of the title key; the words
    an entry is posted under as a run's minimum (``tokens``: word -> role) and the entry's
    postings (those words' hashes and its prefix pairs, with their values); the number
    of content words (``n``) and of distinct numbers (``digits``); a 64-bit Bloom filter of its
    words; the keys that find the corpus titles the fuzzy rules may match (``windows``: each
    run of 8 words, computed when first asked; ``pairs``: the prefix-filtering word pairs); and,
    once computed, those matches.

    >>> order = _Order({"of": 9, "the": 9, "in": 9, "and": 8, "coronavirus": 6, "novel": 5, "china": 5})
    >>> t = _Title("clinical characteristics of 2019 novel coronavirus infection in china",
    ...            "clinical characteristics of 2019 novel coronavirus infection in china".split(), order)
    >>> t.n, t.digits, sorted(t.tokens.items()), len(t.windows), len(t.pairs)
    (8, 1, [('2019', 1)], 2, 3)
    >>> len(t.postings)  # under '2019' (a run's minimum) and the 3 pairs of 'characteristics', 'clinical', 'infection'
    4
    """

    __slots__ = ("key", "words", "hash", "n", "digits", "rarest", "tokens", "bloom", "matches", "postings", "_ext",
                 "_windows", "_pairs", "_order")

    def __init__(self, key: str, words: list[str], order: _Order) -> None:
        self.key, self.words, self._order = key, words, order
        self.hash = _hash64(f"title\0{key}")
        self.matches: list[str] | None = None
        self.tokens: dict[str, int] = {}
        self.n = self.digits = self.bloom = 0
        self.rarest = ""
        self.postings: list[tuple[int, int]] = []
        self._ext: list[str] = []
        self._windows: list[int] | None = None
        self._pairs: list[int] | None = None
        if len(words) < FUZZY_MIN_WORDS:
            self._windows = self._pairs = []
            return
        distinct = order.sort(words)
        self.rarest = distinct[0]
        tokens = self.tokens
        if len(words) >= PARTIAL_MIN_WORDS:
            rank = {w: i for i, w in enumerate(distinct)}
            for m in _window_minima([rank[w] for w in words]):
                tokens[distinct[m]] = WINDOW
        content = [w for w in distinct if not w.isdigit()] if any(map(str.isdigit, distinct)) else distinct
        self.n = n = len(content)
        self.digits = len(distinct) - n
        if n >= FUZZY_MIN_WORDS:
            self._ext = content[:_prefix_length(n) + 1]
        bloom = 0
        crc = order.crc
        for w in distinct:
            bloom |= 1 << (crc(w) & 63)
        self.bloom = bloom
        meta = (min(n, _SIZE_CAP) << 34) | _fold(bloom)
        self.postings = [(crc(w), meta | (WINDOW << 32)) for w in tokens]
        self.postings += [(h, meta | (PREFIX << 32)) for h in self.pairs]

    def first_run_minimum(self) -> str:
        """The first word, in the global order, of the title's first PARTIAL_MIN_WORDS words: the
        word under which an entry that starts with them is posted (as its first run's minimum).

        >>> order = _Order({"of": 9, "the": 9, "in": 9, "and": 8, "coronavirus": 6, "novel": 5, "china": 5})
        >>> _Title("x", "clinical characteristics of 2019 novel coronavirus infection in china".split(),
        ...        order).first_run_minimum()
        '2019'
        """
        return self._order.sort(self.words[:PARTIAL_MIN_WORDS])[0]

    @property
    def windows(self) -> list[int]:
        """Keys of each run of 8 words (the first one keys a paper; an entry looks all up)."""
        if self._windows is None:
            words = self.words
            if len(words) < PARTIAL_MIN_WORDS:
                self._windows = []
            else:
                wh = tuple(map(self._order.crc, words))
                self._windows = [hash(wh[i:i + PARTIAL_MIN_WORDS]) for i in range(len(wh) - PARTIAL_MIN_WORDS + 1)]
        return self._windows

    @property
    def pairs(self) -> list[int]:
        """Keys of the pairs of the first ``n - ceil(0.8 n) + 2`` content words."""
        if self._pairs is None:
            ext = list(map(self._order.crc, self._ext))
            self._pairs = [hash((a, b)) for i, a in enumerate(ext) for b in ext[i + 1:]]
        return self._pairs

    def meta(self, roles: int) -> int:
        """The posting value beside an entry's id: size, roles, 32-bit Bloom filter."""
        return (min(self.n, _SIZE_CAP) << 34) | (roles << 32) | _fold(self.bloom)


class _Titles:
    """Titles analysed, memoised (the same work is cited by many papers): a full resolution
    clears it at each group of titles (:func:`_title_groups`), an update keeps up to ``limit``."""

    def __init__(self, order: _Order, limit: int = 100_000) -> None:
        self.order, self.limit = order, limit
        self.cache: dict[str, _Title | None] = {}

    def get(self, title_norm: str | None) -> _Title | None:
        """None for a title too short to match (or none)."""
        if not title_norm:
            return None
        try:
            return self.cache[title_norm]
        except KeyError:
            pass
        key = title_key(title_norm)
        words = key.split()
        info = _Title(key, words, self.order) if len(words) >= MIN_TITLE_WORDS else None
        if len(self.cache) >= self.limit:
            self.cache.clear()
        self.cache[title_norm] = info
        return info


# -- the papers: an index of the corpus (or of the part of it an update needs) -------------------

_SCHEMES = ("doi", "pmid", "pmcid", "arxiv")
_METHODS = ("doi", "pmid", "pmcid", "arxiv", "title", "title-fuzzy")
OUTCOMES = ("unresolved", "self", *(f"resolved:{m}" for m in _METHODS), *(f"ambiguous:{m}" for m in _METHODS))
"""Outcome codes stored in the catalog (their order is part of the catalog's format)."""
_CODE = {o: i for i, o in enumerate(OUTCOMES)}
_UNRESOLVED, _SELF = _CODE["unresolved"], _CODE["self"]
_RESOLVED_METHOD = {_CODE[f"resolved:{m}"]: m for m in _METHODS}
_PENDING = -1  # decide(): the fuzzy matches of the title are not computed yet


def _paper_ids(scheme: str, value: str) -> str:
    return _doi_key(value) if scheme == "doi" else value


def _expand(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For sorted-array ranges [lo, hi) of each probe: (probe index, array index) of every hit."""
    counts = hi - lo
    total = int(counts.sum())
    probe = np.repeat(np.arange(len(lo)), counts)
    return probe, np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(total)


class PaperIndex:
    """Corpus papers by identifier, title key and fuzzy keys, for resolving entries."""

    def __init__(self, papers: Iterable[tuple[str, str | None, int | None]], ids: Iterable[tuple[str, str, str]],
                 order: _Order, on_title=None) -> None:
        """``papers``: (key, normalised title, year); ``ids``: (key, scheme, value). ``on_title``:
        called with each title key (of at least FUZZY_MIN_WORDS words), its analysis and its
        papers."""
        self.by_id: dict[str, list[str]] = {}
        self.doi: dict[str, str] = {}
        for key, scheme, value in sorted(ids):
            slot = self.by_id.setdefault(f"{scheme}\0{_paper_ids(scheme, value)}", [])
            if key not in slot:
                slot.append(key)
            if scheme == "doi":
                self.doi[key] = value
        self.exact: dict[str, list[tuple[str, int | None]]] = {}
        for key, title, year in sorted(papers, key=lambda p: p[0]):
            if title:
                tkey = title_key(title)
                if len(tkey.split()) >= MIN_TITLE_WORDS:
                    self.exact.setdefault(tkey, []).append((key, year))
        self.titles: list[str] = []
        sizes, digits, blooms = array("h"), array("h"), array("Q")
        first, first_pos, pairs, pair_pos = array("q"), array("q"), array("q"), array("q")
        for tkey in self.exact:
            words = tkey.split()
            if len(words) < FUZZY_MIN_WORDS:
                continue
            info = _Title(tkey, words, order)
            position = len(self.titles)
            self.titles.append(tkey)
            sizes.append(info.n)
            digits.append(info.digits)
            blooms.append(info.bloom)
            if info.windows:
                first.append(info.windows[0])
                first_pos.append(position)
            for h in info.pairs:
                pairs.append(h)
                pair_pos.append(position)
            if on_title is not None:
                on_title(tkey, info, self.exact[tkey])
        self.sizes = np.array(sizes, dtype=np.int16)
        self.digits = np.array(digits, dtype=np.int16)
        self.blooms = np.array(blooms, dtype=np.uint64)
        self.first_keys, self.first_pos = self._sorted(first, first_pos)
        self.pair_keys, self.pair_pos = self._sorted(pairs, pair_pos)

    @staticmethod
    def _sorted(keys: array, positions: array) -> tuple[np.ndarray, np.ndarray]:
        k = np.frombuffer(keys, dtype=np.int64) if keys else np.zeros(0, dtype=np.int64)
        p = np.frombuffer(positions, dtype=np.int64) if positions else np.zeros(0, dtype=np.int64)
        order = np.argsort(k, kind="stable")
        return k[order], p[order].astype(np.int32)

    def decide(self, citing: str, title: _Title | None, year: int | None, doi: str, pmid: str, pmcid: str,
               arxiv: str) -> tuple[int, list[str]]:
        """(outcome code, candidate papers but the citing one) of an entry (its DOI as a DOI key);
        (_PENDING, []) when the title's fuzzy matches are needed and not computed yet
        (:meth:`match`)."""
        for scheme, value in (("doi", doi), ("pmid", pmid), ("pmcid", pmcid), ("arxiv", arxiv)):
            if value and (keys := self.by_id.get(f"{scheme}\0{value}")):
                return _decide(scheme, keys, citing)
        if title is None:
            return _UNRESOLVED, []
        papers = self.exact.get(title.key)
        if papers:
            compatible = [k for k, y in papers if _year_ok(year, y)]
            if compatible or len(title.words) < LONG_TITLE_WORDS:
                found = sorted(set(compatible))
            else:
                found = sorted({k for k, _ in papers})
            return _decide("title", found, citing) if found else (_UNRESOLVED, [])
        if len(title.words) < FUZZY_MIN_WORDS:
            return _UNRESOLVED, []
        if title.matches is None:
            return _PENDING, []
        if not title.matches:
            return _UNRESOLVED, []
        found = sorted({k for other in title.matches for k, y in self.exact[other]
                        if _year_ok(year, y) and not _dois_conflict(doi, self.doi.get(k))})
        return _decide("title-fuzzy", found, citing) if found else (_UNRESOLVED, [])

    def match(self, titles: list[_Title]) -> None:
        """Compute the fuzzy matches of the titles (corpus title keys the rules accept), looking
        their keys up in one go."""
        owners, positions = [], []
        keys = [h for t in titles for h in t.windows]
        if keys and len(self.first_keys):
            owner = np.repeat(np.arange(len(titles)), [len(t.windows) for t in titles])
            probe = np.array(keys, dtype=np.int64)
            probe_i, hit = _expand(np.searchsorted(self.first_keys, probe, "left"),
                                   np.searchsorted(self.first_keys, probe, "right"))
            owners.append(owner[probe_i])
            positions.append(self.first_pos[hit])
        keys = [h for t in titles for h in t.pairs]
        if keys and len(self.pair_keys):
            owner = np.repeat(np.arange(len(titles)), [len(t.pairs) for t in titles])
            probe = np.array(keys, dtype=np.int64)
            probe_i, hit = _expand(np.searchsorted(self.pair_keys, probe, "left"),
                                   np.searchsorted(self.pair_keys, probe, "right"))
            o, p = owner[probe_i], self.pair_pos[hit]
            # the length filter, and Bloom filters for "enough words in common"
            n = np.array([t.n for t in titles], dtype=np.float64)[o]
            size = self.sizes[p].astype(np.float64)
            ok = (MIN_JACCARD * n <= size) & (size <= n / MIN_JACCARD)
            o, p, n, size = o[ok], p[ok], n[ok], size[ok]
            common = np.ceil(MIN_JACCARD * np.maximum(n, size))  # words in common, at least
            ours = np.array([t.bloom for t in titles], dtype=np.uint64)[o]
            theirs = self.blooms[p]
            own_digits = np.array([t.digits for t in titles], dtype=np.float64)[o]
            ok = ((_popcount64(ours & ~theirs) <= n - common + own_digits)
                  & (_popcount64(theirs & ~ours) <= size - common + self.digits[p]))
            owners.append(o[ok])
            positions.append(p[ok])
        for t in titles:
            t.matches = []
        if not owners:
            return
        both = np.unique(np.concatenate(owners).astype(np.int64) << 32 | np.concatenate(positions).astype(np.int64))
        sizes = self.sizes
        current, content = -1, frozenset()
        for code in both.tolist():
            i, p = code >> 32, code & 0xFFFFFFFF
            t = titles[i]
            if i != current:
                current, content = i, _content_words(t.words)
            other = self.titles[p]
            if similar(t.key, t.words, content, other, int(sizes[p])):
                t.matches.append(other)


def _decide(method: str, keys: list[str], citing: str) -> tuple[int, list[str]]:
    others = [k for k in keys if k != citing]
    if not others:
        return _SELF, [citing]
    if len(others) > 1:
        return _CODE[f"ambiguous:{method}"], others
    return _CODE[f"resolved:{method}"], others


def _decide_all(index: PaperIndex, entries: list[tuple]) -> list[tuple[int, list[str]]]:
    """decide() for (citing, title, year, doi, pmid, pmcid, arxiv) tuples, the fuzzy matches of
    the titles that need them computed in one go."""
    out = [index.decide(*e) for e in entries]
    pending = [i for i, (code, _) in enumerate(out) if code == _PENDING]
    if pending:
        titles = list({id(entries[i][1]): entries[i][1] for i in pending}.values())
        index.match(titles)
        for i in pending:
            out[i] = index.decide(*entries[i])
    return out


class _Entry:
    """A bibliography entry as the catalog has it (its DOI as a DOI key), its title analysed."""

    __slots__ = ("rowid", "citing", "year", "doi", "pmid", "pmcid", "arxiv", "title")

    def __init__(self, row, titles: _Titles) -> None:
        self.rowid, self.citing, title, self.year, doi, pmid, pmcid, arxiv = row
        self.doi = _doi_key(doi) if doi else ""
        self.pmid, self.pmcid, self.arxiv = pmid or "", pmcid or "", arxiv or ""
        self.title = titles.get(title)

    def args(self) -> tuple:
        return self.citing, self.title, self.year, self.doi, self.pmid, self.pmcid, self.arxiv

    def keys(self) -> list[int]:
        """Identifier and title-key hashes (the entry's exact postings)."""
        out = _ids_hashes(zip(_SCHEMES, (self.doi, self.pmid, self.pmcid, self.arxiv)))
        if self.title is not None:
            out.append(self.title.hash)
        return out

    def postings(self) -> list[tuple[int, int, int]]:
        """(key, id, meta) of the entry's postings: its runs' minima (word hashes) and prefix pairs."""
        t = self.title
        return [] if t is None else [(h, self.rowid, meta) for h, meta in t.postings]

    def probes(self) -> list[int]:
        """The hashes that find the papers this entry may resolve to."""
        out = self.keys()
        if self.title is not None:
            out.extend(self.title.windows)
            out.extend(self.title.pairs)
        return out


_ENTRY_COLUMNS = "rowid, key, title_norm, year, doi, pmid, pmcid, arxiv"


@dataclass
class _Paper:
    """A paper as the catalog has (or had) it: what citation resolution reads of it."""

    rowid: int
    key: str
    title: str | None
    year: int | None
    ids: list[tuple[str, str]]  # (scheme, raw value)

    def identity(self) -> tuple:
        return self.title, self.year, sorted(self.ids)

    def analysed(self, order: _Order) -> _Title | None:
        if not self.title:
            return None
        key = title_key(self.title)
        words = key.split()
        return _Title(key, words, order) if len(words) >= MIN_TITLE_WORDS else None

    def keys(self, info: _Title | None) -> list[int]:
        """Hashes of its identifiers, title key, first 8 words and prefix pairs (``info``: its
        analysed title): the keys that find it from an entry."""
        out = _ids_hashes((s, _paper_ids(s, v)) for s, v in self.ids)
        if info is not None:
            out.append(info.hash)
            if info.windows:
                out.append(info.windows[0])
            out.extend(info.pairs)
        return out


# -- the result -------------------------------------------------------------------------------------


@dataclass
class Resolution:
    """How every entry of the catalog is decided, and the edges: their count by method, and
    what this run added to and dropped from the edges of the run before."""

    entries: Counter[str] = field(default_factory=Counter)  # outcome -> number of entries
    edges_by_method: Counter[str] = field(default_factory=Counter)  # method -> number of edges
    added: Iterable[tuple[str, str]] = ()  # (citing, cited), sorted; streamed from the catalog in a full run
    added_count: int = 0
    dropped: list[tuple[str, str]] = field(default_factory=list)
    mode: str = "full"  # "full", "incremental" or "none" (no entry to resolve)
    work: dict = field(default_factory=dict)  # what the run touched (entries resolved, ...)
    _catalog: Catalog | None = None
    _edges: dict[tuple[str, str], str] | None = None

    @property
    def edges(self) -> dict[tuple[str, str], str]:
        """(citing, cited) -> method of every edge (read from the catalog)."""
        if self._edges is None:
            catalog = self._catalog
            try:
                self._edges = catalog.citation_edges()
            except sqlite3.ProgrammingError:  # the catalog was closed (and committed): read it again
                from ckg.etl.catalog import Catalog

                with Catalog(catalog.path) as again:
                    self._edges = again.citation_edges()
        return self._edges

    def summary(self) -> dict:
        return {
            "bib_entries": sum(self.entries.values()),
            "resolved_entries": sum(n for k, n in self.entries.items() if k.startswith("resolved:")),
            "ambiguous_entries": sum(n for k, n in self.entries.items() if k.startswith("ambiguous:")),
            "unresolved_entries": self.entries.get("unresolved", 0),
            "self_entries": self.entries.get("self", 0),
            "outcomes": dict(sorted((k, n) for k, n in self.entries.items() if n)),
            "edges": sum(self.edges_by_method.values()),
            "edges_by_method": dict(sorted((k, n) for k, n in self.edges_by_method.items() if n)),
        }


# -- posting tables in the catalog --------------------------------------------------------------------

_BUCKET_BITS = 20
_BUCKET_MASK = (1 << _BUCKET_BITS) - 1


def _bucket(h: int) -> int:
    """The row of a 63-bit hash in a bucketed table (CRC-32 bits: Adler-32's low bits are
    not uniform on short texts)."""
    return (h >> 32) & _BUCKET_MASK
_EMPTY = np.zeros((0, 2), dtype="<i8")


class _Postings:
    """A posting table of the catalog: each row an array of int64 pairs. ``bucketed``: the
    keys tables (row = the low bits of a 63-bit hash, pairs (hash, id)); else the words table
    of entries (row = a word's hash, pairs (id, meta))."""

    def __init__(self, db: sqlite3.Connection, table: str, bucketed: bool) -> None:
        self.db, self.table, self.bucketed = db, table, bucketed
        self.cache: dict[int, np.ndarray] = {}

    def rows(self, keys: Iterable[int]) -> dict[int, np.ndarray]:
        """Row -> (k, 2) array, for the given rows (hashes for a bucketed table)."""
        wanted = {_bucket(k) for k in keys} if self.bucketed else set(keys)
        missing = sorted(k for k in wanted if k not in self.cache)
        for chunk in _chunks(missing):
            for k in chunk:
                self.cache[k] = _EMPTY
            for k, blob in self.db.execute(f"SELECT k, v FROM {self.table} WHERE k IN ({','.join('?' * len(chunk))})",
                                           chunk):
                self.cache[k] = np.frombuffer(blob, dtype="<i8").reshape(-1, 2)
        return self.cache

    def lookup(self, hashes: Iterable[int]) -> set[int]:
        """Ids posted under the given hashes (a bucketed table)."""
        hashes = set(hashes)
        rows = self.rows(hashes)
        out: set[int] = set()
        for h in hashes:
            pairs = rows[_bucket(h)]
            if len(pairs):
                out.update(pairs[pairs[:, 0] == h, 1].tolist())
        return out

    def change(self, add: Iterable[tuple[int, int, int]], remove: Iterable[tuple[int, int, int]]) -> None:
        """Add and remove postings (hash, a, b): pair (a, b) in the row of the hash. The rows are
        changed as bytes (most are short: numpy per row cost more than the change), removals
        matched in place."""
        adds: dict[int, list[int]] = defaultdict(list)
        removes: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for h, a, b in add:
            adds[_bucket(h) if self.bucketed else h].extend((a, b))
        for h, a, b in remove:
            removes[_bucket(h) if self.bucketed else h].append((a, b))
        keys = sorted(set(adds) | set(removes))
        current: dict[int, bytes] = {}
        for chunk in _chunks(keys):
            current.update(self.db.execute(f"SELECT k, v FROM {self.table} WHERE k IN ({','.join('?' * len(chunk))})",
                                           chunk))
        writes, deletes = [], []
        for k in keys:
            blob = current.get(k, b"")
            if blob and k in removes:
                pairs = np.frombuffer(blob, dtype="<i8").reshape(-1, 2)
                keep = np.ones(len(pairs), dtype=bool)
                for a, b in removes[k]:
                    keep &= (pairs[:, 0] != a) | (pairs[:, 1] != b)
                blob = pairs[keep].tobytes()
            if k in adds:
                blob += np.array(adds[k], dtype="<i8").tobytes()
            self.cache.pop(k, None)
            if blob:
                writes.append((k, blob))
            else:
                deletes.append((k,))
        self.db.executemany(f"INSERT OR REPLACE INTO {self.table} (k, v) VALUES (?, ?)", writes)
        self.db.executemany(f"DELETE FROM {self.table} WHERE k = ?", deletes)


class _Bulk:
    """All the postings of a table, spilled to temporary files by ranges of rows (memory stays
    bounded whatever the corpus), then written range by range, each sorted by row."""

    PARTS = 16

    def __init__(self, postings: _Postings, folder: Path) -> None:
        self.postings = postings
        self.folder = Path(tempfile.mkdtemp(dir=folder, prefix=f".{postings.table}-"))
        self.files = [open(self.folder / str(i), "wb") for i in range(self.PARTS)]
        self.shift = (_BUCKET_BITS if postings.bucketed else 32) - self.PARTS.bit_length() + 1

    def add(self, keys: bytes, first: bytes, second: bytes) -> None:
        """Postings: the pair (first[i], second[i]) under keys[i] (int64 arrays as bytes)."""
        if not keys:
            return
        k = np.frombuffer(keys, dtype=np.int64)
        records = np.empty((len(k), 3), dtype=np.int64)
        records[:, 0] = (k >> 32) & _BUCKET_MASK if self.postings.bucketed else k
        records[:, 1] = np.frombuffer(first, dtype=np.int64)
        records[:, 2] = np.frombuffer(second, dtype=np.int64)
        parts = (records[:, 0] >> self.shift) & (self.PARTS - 1)  # (pair keys are 64-bit)
        for part in np.unique(parts).tolist():
            self.files[part].write(records[parts == part].tobytes())

    def write(self) -> None:
        """Replace the table's rows with the postings added."""
        db, table = self.postings.db, self.postings.table
        db.execute(f"DELETE FROM {table}")
        self.postings.cache.clear()
        try:
            for i, handle in enumerate(self.files):
                handle.close()
                records = np.fromfile(self.folder / str(i), dtype=np.int64).reshape(-1, 3)
                (self.folder / str(i)).unlink()
                if not len(records):
                    continue
                records = records[np.argsort(records[:, 0], kind="stable")]
                rows = records[:, 0]
                starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
                ends = np.r_[starts[1:], len(rows)]
                pairs = np.ascontiguousarray(records[:, 1:]).astype("<i8")
                db.executemany(f"INSERT INTO {table} (k, v) VALUES (?, ?)",
                               ((int(rows[s]), pairs[s:e].tobytes()) for s, e in zip(starts.tolist(), ends.tolist())))
        finally:
            self.close()

    def close(self) -> None:
        for handle in self.files:
            handle.close()
        shutil.rmtree(self.folder, ignore_errors=True)


# -- resolution -----------------------------------------------------------------------------------

STATE_VERSION = 2  # 2: entries posted under prefix pairs, not prefix words (a catalog of 1 resolves all again)
_STATE = "citations_state"
_WORDS_SAMPLE = 200_000  # bibliography entries sampled for the word tiers
_FULL_SHARE, _FULL_MIN = 0.25, 5_000  # an update that puts or deletes more than this share of the papers
# (and more than that many) resolves all again
_BATCH = 20_000


def resolve(catalog: Catalog, between: Callable[[], None] | None = None) -> Resolution:
    """Resolve the bibliography entries of the catalog against its papers, keep the outcomes and
    edges in the catalog, and return the counts and the edges added and dropped.

    The first run (or one after a change of the catalog's format) resolves every entry; later
    runs resolve the entries of the papers put since, and the old entries those papers (and the
    papers deleted since) can change: the result is the same. A catalog without entries keeps no
    state (:func:`_without_entries`). ``between`` is called between the parts of a first run (a
    build's check that its papers still load: at 1M the run takes half an hour)."""
    if catalog.db.execute("SELECT NOT EXISTS (SELECT 1 FROM bib)").fetchone()[0]:
        return _without_entries(catalog)
    state = catalog.citation_state()
    if state is not None and state.get("version") == STATE_VERSION and state.get("hash") == _HASH_CHECK:
        dirty = catalog.citation_dirty_count()
        if dirty <= _FULL_SHARE * catalog.count() or dirty < _FULL_MIN:
            return _incremental(catalog, state)
    return _full(catalog, between)


def _without_entries(catalog: Catalog) -> Resolution:
    """A catalog without a bibliography entry (a release without parses): nothing to resolve, so
    no state is kept either. The postings of the papers' keys that the first full run writes for
    later updates cost 7 s at 100,000 papers, some 60 s at 1M, for entries that do not exist; the
    run that first finds entries has no state and resolves them all. Edges of a run before go."""
    clock = _Clock()
    catalog.clear_citation_state()
    dropped = sorted(catalog.citation_pairs())
    catalog.replace_citations({})
    clock.lap("edges")
    return Resolution(dropped=dropped, mode="none", work={"entries_resolved": 0, "processes": 1, "seconds": clock.laps},
                      _catalog=catalog)


def _tiers(catalog: Catalog) -> dict[str, int]:
    """Tier of every word used by at least TIER_BASE titles (paper title keys, and a sample of
    the entries' titles weighted up to all entries)."""
    counts: Counter[str] = Counter()
    for (title,) in catalog.db.execute("SELECT title_norm FROM papers WHERE title_norm IS NOT NULL AND title_norm != ''"):
        counts.update(set(title_key(title).split()))
    entries = catalog.db.execute("SELECT COALESCE(MAX(rowid), 0) FROM bib").fetchone()[0]
    step = max(1, entries // _WORDS_SAMPLE)
    sample: Counter[str] = Counter()
    for (title,) in catalog.db.execute("SELECT title_norm FROM bib WHERE rowid % ? = 0 AND title_norm != ''", (step,)):
        sample.update(set(title_key(title).split()))
    for w, n in sample.items():
        counts[w] += n * step
    return {w: tier_of(n) for w, n in counts.items() if n >= TIER_BASE}


class _Clock:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self.last, 3)
        self.last = now


def _full(catalog: Catalog, between: Callable[[], None] | None = None) -> Resolution:
    db = catalog.db
    clock = _Clock()
    catalog.clear_citation_state()
    tiers = _tiers(catalog)
    catalog.put_citation_words(tiers)
    order = _Order(tiers)
    clock.lap("tiers")

    # the papers: the index, and their keys in the catalog (for later updates)
    papers = [_Paper(r, k, t, y, []) for r, k, t, y in db.execute("SELECT rowid, key, title_norm, year FROM papers")]
    by_key = {p.key: p for p in papers}
    ids = db.execute("SELECT key, scheme, value FROM paper_ids").fetchall()
    for key, scheme, value in ids:
        if key in by_key:
            by_key[key].ids.append((scheme, value))
    paper_keys = _Bulk(_Postings(db, "cite_paper_keys", True), catalog.path.parent)
    keys, rowids = array("q"), array("q")
    rowid_of = {p.key: p.rowid for p in papers}

    def flush() -> None:
        if len(keys) > 1_000_000:
            paper_keys.add(keys.tobytes(), keys.tobytes(), rowids.tobytes())
            del keys[:], rowids[:]

    def on_title(tkey: str, info: _Title, holders: list[tuple[str, int | None]]) -> None:
        fuzzy = ([info.windows[0]] if info.windows else []) + info.pairs
        for key, _ in holders:
            for h in fuzzy:
                keys.append(h)
                rowids.append(rowid_of[key])
        flush()

    try:
        index = PaperIndex(((p.key, p.title, p.year) for p in papers), ids, order, on_title)
        for p in papers:
            for h in _ids_hashes((s, _paper_ids(s, v)) for s, v in p.ids):
                keys.append(h)
                rowids.append(p.rowid)
            flush()
        for tkey, holders in index.exact.items():
            h = _hash64(f"title\0{tkey}")
            for key, _ in holders:
                keys.append(h)
                rowids.append(rowid_of[key])
            flush()
        paper_keys.add(keys.tobytes(), keys.tobytes(), rowids.tobytes())
        paper_keys.write()
    finally:
        paper_keys.close()
    del papers, by_key, ids, keys, rowids, rowid_of
    clock.lap("papers")

    # the entries, in one pass (over worker processes for a large catalog): outcomes, edges (to a
    # temporary table), postings (spilled to files, written at the end)
    tally = [0] * len(OUTCOMES)
    db.execute("DROP TABLE IF EXISTS temp.cite_new_edges")
    db.execute("CREATE TEMP TABLE cite_new_edges (citing TEXT, cited TEXT, method TEXT)")
    db.execute("DROP INDEX IF EXISTS cite_outcomes_paper")
    entry_keys = _Bulk(_Postings(db, "cite_entry_keys", True), catalog.path.parent)
    entry_words = _Bulk(_Postings(db, "cite_entry_words", False), catalog.path.parent)
    processes = 0
    try:
        for part in _resolve_all(catalog, index, order):
            if between is not None:
                between()
            processes = max(processes, part.process)
            for code, n in enumerate(part.tally):
                tally[code] += n
            db.executemany("INSERT INTO cite_outcomes (entry, code, paper) VALUES (?, ?, ?)", part.outcomes)
            db.executemany("INSERT INTO cite_new_edges VALUES (?, ?, ?)", part.edges)
            entry_keys.add(part.entry_keys, part.entry_keys, part.entry_ids)
            entry_words.add(part.word_keys, part.word_ids, part.word_metas)
        counts = Counter({OUTCOMES[code]: n for code, n in enumerate(tally) if n})
        del index
        clock.lap("entries")
        db.execute("CREATE INDEX IF NOT EXISTS cite_outcomes_paper ON cite_outcomes(paper)")
        entry_keys.write()
        entry_words.write()
    finally:
        entry_keys.close()
        entry_words.close()
    clock.lap("postings")

    # one edge per (citing, cited), named by its strongest evidence (the entries of a paper may
    # be read in two batches); compared with the edges of the run before
    rank = " ".join(f"WHEN '{m}' THEN {r}" for m, r in _METHOD_RANK.items())
    db.execute("DROP TABLE IF EXISTS temp.cite_previous")
    db.execute("CREATE TEMP TABLE cite_previous AS SELECT citing, cited FROM citations")
    db.execute("DELETE FROM citations")
    db.execute(f"""INSERT INTO citations (citing, cited, method)
        SELECT citing, cited, method FROM (
            SELECT citing, cited, method,
                   ROW_NUMBER() OVER (PARTITION BY citing, cited ORDER BY CASE method {rank} END) AS r
            FROM cite_new_edges) WHERE r = 1 ORDER BY citing, cited""")
    db.execute("DROP TABLE cite_new_edges")
    dropped = db.execute("""SELECT citing, cited FROM cite_previous EXCEPT SELECT citing, cited FROM citations
                            ORDER BY 1, 2""").fetchall()
    added_count = db.execute("""SELECT COUNT(*) FROM (SELECT citing, cited FROM citations
                                EXCEPT SELECT citing, cited FROM cite_previous)""").fetchone()[0]
    methods = Counter(dict(db.execute("SELECT method, COUNT(*) FROM citations GROUP BY method").fetchall()))
    catalog.put_citation_state({"version": STATE_VERSION, "hash": _HASH_CHECK, "entries": dict(counts),
                                "edges": dict(methods)})
    clock.lap("edges")

    def added() -> Iterator[tuple[str, str]]:
        cursor = db.execute("""SELECT citing, cited FROM citations EXCEPT SELECT citing, cited FROM cite_previous
                               ORDER BY 1, 2""")
        while rows := cursor.fetchmany(10_000):
            yield from rows
        db.execute("DROP TABLE IF EXISTS temp.cite_previous")

    return Resolution(entries=counts, edges_by_method=methods, added=_Once(added, added_count), added_count=added_count,
                      dropped=[tuple(r) for r in dropped], mode="full",
                      work={"entries_resolved": sum(counts.values()), "processes": processes or 1,
                            "seconds": clock.laps}, _catalog=catalog)


@dataclass
class _Part:
    """What resolving a range of entries gives: outcome counts (by code), outcome rows (entry,
    code, paper), edges (citing, cited, method) and the entries' postings (int64 arrays as bytes)."""

    tally: list[int]
    outcomes: list[tuple[int, int, str]]
    edges: list[tuple[str, str, str]]
    entry_keys: bytes
    entry_ids: bytes
    word_keys: bytes
    word_ids: bytes
    word_metas: bytes
    process: int = 1


def _resolve_rows(rows: list[tuple], index: PaperIndex, titles: _Titles) -> _Part:
    tally = [0] * len(OUTCOMES)
    entry_keys, entry_ids = array("q"), array("q")
    word_keys, word_ids, word_metas = array("q"), array("q"), array("q")
    get_title = titles.get
    args = []
    for rowid, citing, title, year, doi, pmid, pmcid, arxiv in rows:
        doi = _doi_key(doi) if doi else ""
        pmid, pmcid, arxiv = pmid or "", pmcid or "", arxiv or ""
        if doi or pmid or pmcid or arxiv:
            for h in _ids_hashes((("doi", doi), ("pmid", pmid), ("pmcid", pmcid), ("arxiv", arxiv))):
                entry_keys.append(h)
                entry_ids.append(rowid)
        info = get_title(title)
        if info is not None:
            entry_keys.append(info.hash)
            entry_ids.append(rowid)
            for h, meta in info.postings:
                word_keys.append(h)
                word_ids.append(rowid)
                word_metas.append(meta)
        args.append((citing, info, year, doi, pmid, pmcid, arxiv))
    outcomes: list[tuple[int, int, str]] = []
    edges: dict[tuple[str, str], str] = {}
    for (rowid, citing, *_), (code, found) in zip(rows, _decide_all(index, args)):
        tally[code] += 1
        if code == _UNRESOLVED:
            continue
        outcomes.extend((rowid, code, k) for k in found)
        method = _RESOLVED_METHOD.get(code)
        if method is not None:
            old = edges.get((citing, found[0]))
            if old is None or _METHOD_RANK[method] < _METHOD_RANK[old]:
                edges[(citing, found[0])] = method
    return _Part(tally, outcomes, [(a, b, m) for (a, b), m in edges.items()], entry_keys.tobytes(),
                 entry_ids.tobytes(), word_keys.tobytes(), word_ids.tobytes(), word_metas.tobytes())


PARALLEL_ENTRIES = 200_000
"""A full resolution of at least this many entries runs in worker processes (one per CPU)."""
_CHUNK = 50_000  # entries per task of a worker process
_WORKER: dict = {}  # the index and titles of a worker process (inherited when it is forked)


def _processes() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # (not on Linux)
        return os.cpu_count() or 1


def _title_groups(db: sqlite3.Connection, groups: int) -> list[bytes]:
    """The rowids of the catalog's entries in ``groups`` groups (int64 arrays as bytes, each
    ascending) by a hash of their titles: every entry of one title falls in one group, so the
    title is analysed, and its fuzzy matches computed, once (an entry without a title goes by
    its rowid). 1.44M entries cite 256,176 distinct titles at 100k generated papers; in rowid
    order a worker met each one again after its cache of titles was cleared.

    >>> db = sqlite3.connect(":memory:")
    >>> _ = db.execute("CREATE TABLE bib (title_norm TEXT)")
    >>> _ = db.executemany("INSERT INTO bib VALUES (?)", [("a b",), ("c d",), ("a b",), ("",), (None,), ("c d",)])
    >>> [np.frombuffer(g, dtype=np.int64).tolist() for g in _title_groups(db, 2)]
    [[2, 4, 6], [1, 3, 5]]
    """
    rowids, hashes = array("q"), array("q")
    crc = zlib.crc32
    for rowid, title in db.execute("SELECT rowid, title_norm FROM bib ORDER BY rowid"):
        rowids.append(rowid)
        hashes.append(crc(title.encode()) if title else rowid)
    group = np.frombuffer(hashes, dtype=np.int64) % groups
    ids = np.frombuffer(rowids, dtype=np.int64)[np.argsort(group, kind="stable")]
    bounds = np.r_[0, np.cumsum(np.bincount(group, minlength=groups))].tolist()
    return [ids[a:b].tobytes() for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def _resolve_group(db: sqlite3.Connection, rowids: bytes, index: PaperIndex, titles: _Titles) -> Iterator[_Part]:
    """Resolve the entries of a group of rowids (one title's entries are all in one group: the
    titles analysed are kept for the group only)."""
    titles.cache.clear()
    sql = f"SELECT {_ENTRY_COLUMNS} FROM bib WHERE rowid IN ({{}}) ORDER BY rowid"
    ids = np.frombuffer(rowids, dtype=np.int64).tolist()
    rows: list[tuple] = []
    for chunk in _chunks(ids):
        rows += db.execute(sql.format(",".join("?" * len(chunk))), chunk)
        while len(rows) >= _BATCH:
            yield _resolve_rows(rows[:_BATCH], index, titles)
            del rows[:_BATCH]
    if rows:
        yield _resolve_rows(rows, index, titles)


def _resolve_all(catalog: Catalog, index: PaperIndex, order: _Order) -> Iterator[_Part]:
    """Resolve every entry of the catalog, in parts (a group of titles each, :func:`_title_groups`)."""
    db = catalog.db
    count = db.execute("SELECT COUNT(*) FROM bib").fetchone()[0]
    groups = _title_groups(db, max(1, math.ceil(count / _CHUNK)))
    processes = min(_processes(), len(groups))
    if count < PARALLEL_ENTRIES or processes < 2:
        titles = _Titles(order)
        for rowids in groups:
            yield from _resolve_group(db, rowids, index, titles)
        return
    # worker processes, forked with the index, read the entries from the committed catalog
    catalog.commit()
    tasks = [(str(catalog.path), rowids) for rowids in groups]
    _WORKER.update(index=index, titles=_Titles(order))
    gc.collect()
    gc.freeze()  # the collector would touch (and copy) every object of the index in each worker
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            for part in pool.imap(_work, tasks):
                part.process = processes
                yield part
    finally:
        gc.unfreeze()
        _WORKER.clear()


def _work(task: tuple[str, bytes]) -> _Part:
    path, rowids = task
    db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        parts = list(_resolve_group(db, rowids, _WORKER["index"], _WORKER["titles"]))
    finally:
        db.close()
    if len(parts) == 1:
        return parts[0]
    return _Part([sum(p.tally[i] for p in parts) for i in range(len(OUTCOMES))],
                 [o for p in parts for o in p.outcomes], [e for p in parts for e in p.edges],
                 *(b"".join(getattr(p, name) for p in parts)
                   for name in ("entry_keys", "entry_ids", "word_keys", "word_ids", "word_metas")))


class _Once:
    """An iterable of a known length that runs a generator (once)."""

    def __init__(self, make, length: int) -> None:
        self.make, self.length = make, length

    def __len__(self) -> int:
        return self.length

    def __iter__(self):
        return self.make()


def _chunks(items: list, size: int = 500) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _select_in(db: sqlite3.Connection, sql: str, values: Iterable) -> Iterator[tuple]:
    """Rows of ``sql`` (with one ``IN ({})``) for all the values, in chunks."""
    for chunk in _chunks(sorted(set(values))):
        yield from db.execute(sql.format(",".join("?" * len(chunk))), chunk)


def _papers(db: sqlite3.Connection, column: str, values: Iterable) -> list[_Paper]:
    """Papers of the catalog by key or rowid, with their identifiers."""
    papers = [_Paper(r, k, t, y, []) for r, k, t, y in
              _select_in(db, f"SELECT rowid, key, title_norm, year FROM papers WHERE {column} IN ({{}})", values)]
    by_key = {p.key: p for p in papers}
    for key, scheme, value in _select_in(db, "SELECT key, scheme, value FROM paper_ids WHERE key IN ({})", by_key):
        by_key[key].ids.append((scheme, value))
    return papers


def _entries(db: sqlite3.Connection, column: str, values: Iterable, titles: _Titles) -> list[_Entry]:
    return [_Entry(row, titles) for row in
            _select_in(db, f"SELECT {_ENTRY_COLUMNS} FROM bib WHERE {column} IN ({{}})", values)]


def _popcount64(x: np.ndarray) -> np.ndarray:
    """Bits set in each uint64."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return ((x * np.uint64(0x0101010101010101)) >> np.uint64(56)).astype(np.int64)


def _popcount(x: np.ndarray) -> np.ndarray:
    x = x - ((x >> 1) & 0x55555555)
    x = (x & 0x33333333) + ((x >> 2) & 0x33333333)
    x = (x + (x >> 4)) & 0x0F0F0F0F
    return (x * 0x01010101 & 0xFFFFFFFF) >> 24


def _fuzzy_reach(paper: _Title, words: _Postings) -> set[int]:
    """Entries that the fuzzy rules may match with a paper title: those posted under its rarest
    word that hold all its words (it is contained in them), those posted under one of its words
    whose words it holds all (a title cut short), those posted under one of its prefix pairs of
    a compatible size and enough words in common (Jaccard similarity); the Bloom filters decide
    "holds all" and "enough" up to false positives, which the rules then rule out."""
    checks: dict[int, list[tuple[str, object]]] = defaultdict(list)
    if len(paper.words) >= PARTIAL_MIN_WORDS:
        checks[_word_hash(paper.rarest)].append(("contains", None))
        # an entry that is the title cut short (of PARTIAL_MIN_WORDS words at least) starts with
        # the title's first run of PARTIAL_MIN_WORDS words, so it is posted under that run's
        # minimum: one lookup of a rare word, where every word of the title ("covid-19",
        # "patients") read posting lists that grow with the corpus
        checks[_word_hash(paper.first_run_minimum())].append(("contained", None))
    if paper.n >= FUZZY_MIN_WORDS:
        slack = paper.n - math.ceil(MIN_JACCARD * paper.n) + paper.digits
        for h in paper.pairs:
            checks[h].append(("jaccard", slack))
    rows = words.rows(checks)
    out: set[int] = set()
    bloom, m = _fold(paper.bloom), paper.n
    for h, wanted in checks.items():
        pairs = rows[h]
        if not len(pairs):
            continue
        ids, meta = pairs[:, 0], pairs[:, 1]
        roles, size, entry_bloom = (meta >> 32) & 3, (meta >> 34) & _SIZE_CAP, meta & 0xFFFFFFFF
        keep = np.zeros(len(ids), dtype=bool)
        for kind, slack in wanted:
            if kind == "contains":  # the title inside the entry
                keep |= ((roles & WINDOW) != 0) & ((bloom & ~entry_bloom) & 0xFFFFFFFF == 0)
            elif kind == "contained":  # the entry, cut short, at the start of the title
                keep |= ((roles & WINDOW) != 0) & ((entry_bloom & ~bloom) == 0)
            else:
                sized = size.astype(np.float64)
                ok = (size == _SIZE_CAP) | (m >= _SIZE_CAP) | ((MIN_JACCARD * sized <= m) & (m <= sized / MIN_JACCARD))
                keep |= ((roles & PREFIX) != 0) & ok & (_popcount((bloom & ~entry_bloom) & 0xFFFFFFFF) <= slack)
        out.update(ids[keep].tolist())
    return out


def _index_for(entries: list[_Entry], db: sqlite3.Connection, paper_keys: _Postings, order: _Order) -> PaperIndex:
    """A PaperIndex of the papers that the entries' identifiers, title keys and fuzzy keys reach:
    for these entries it decides as an index of the whole corpus would."""
    rowids = paper_keys.lookup(h for e in entries for h in e.probes())
    papers = _papers(db, "rowid", rowids)
    return PaperIndex(((p.key, p.title, p.year) for p in papers), ((p.key, s, v) for p in papers for s, v in p.ids),
                      order)


def _incremental(catalog: Catalog, state: dict) -> Resolution:
    db = catalog.db
    clock = _Clock()
    order = _Order(catalog.citation_words())
    paper_keys = _Postings(db, "cite_paper_keys", True)
    entry_keys, entry_words = _Postings(db, "cite_entry_keys", True), _Postings(db, "cite_entry_words", False)
    titles = _Titles(order)

    dirty = catalog.citation_dirty()  # key -> the paper as the last run saw it (None: new since)
    before = {k: _Paper(v["rowid"], k, v["title"], v["year"], [tuple(i) for i in v["ids"]])
              for k, v in dirty.items() if v is not None}
    after = {p.key: p for p in _papers(db, "key", dirty)}
    analysed = {id(p): p.analysed(order) for p in (*before.values(), *after.values())}
    dead = [(_Entry((rowid, "", title, None, doi, pmid, pmcid, arxiv), titles), code)
            for rowid, title, doi, pmid, pmcid, arxiv, code in catalog.citation_dead()]
    new = _entries(db, "key", after, titles)

    # 1. the posting tables follow the papers and entries put and deleted
    paper_keys.change(add=[(h, h, p.rowid) for p in after.values() for h in p.keys(analysed[id(p)])],
                      remove=[(h, h, p.rowid) for p in before.values() for h in p.keys(analysed[id(p)])])
    entry_keys.change(add=[(h, h, e.rowid) for e in new for h in e.keys()],
                      remove=[(h, h, e.rowid) for e, _ in dead for h in e.keys()])
    entry_words.change(add=[x for e in new for x in e.postings()], remove=[x for e, _ in dead for x in e.postings()])
    clock.lap("postings")

    # 2. the old entries the change can affect: same identifier or title key as a paper before or
    # after the change, decided by a changed or removed paper, fuzzy matches of a new title
    hashes: list[int] = []
    linked: list[str] = []
    probing: list[_Title] = []
    for key in dirty:
        old, now = before.get(key), after.get(key)
        if old is not None and now is not None and old.identity() == now.identity():
            continue  # title, year and identifiers unchanged: no other entry can decide otherwise
        for p in (old, now):
            if p is not None:
                hashes.extend(_ids_hashes((s, _paper_ids(s, v)) for s, v in p.ids))
                if analysed[id(p)] is not None:
                    hashes.append(analysed[id(p)].hash)
        if old is not None:
            linked.append(key)
        if now is not None and analysed[id(now)] is not None:
            probing.append(analysed[id(now)])
    affected = entry_keys.lookup(hashes)
    affected.update(e for (e,) in _select_in(db, "SELECT entry FROM cite_outcomes WHERE paper IN ({})", linked))
    proposals: dict[int, list[int]] = defaultdict(list)  # entry -> new titles that may match it
    for i, t in enumerate(probing):
        for entry in _fuzzy_reach(t, entry_words):
            proposals[entry].append(i)
    new_rowids = {e.rowid for e in new}
    candidates = set(proposals) - new_rowids - affected
    probed = [(t.key, t.n, t.words, _content_words(t.words)) for t in probing]  # each title is compared many times
    for e in _entries(db, "rowid", candidates, titles):
        t = e.title
        if t is not None:
            content = _content_words(t.words)
            if any(similar(t.key, t.words, content, key, n, words, title_content)
                   for key, n, words, title_content in map(probed.__getitem__, proposals[e.rowid])):
                affected.add(e.rowid)
    affected -= new_rowids
    old_entries = _entries(db, "rowid", affected, titles)
    clock.lap("reach")

    # 3. resolve them, with an index of the papers they can reach
    todo = new + old_entries
    index = _index_for(todo, db, paper_keys, order)
    results = _decide_all(index, [e.args() for e in todo])
    counts = Counter(state["entries"])
    old_codes = dict(_select_in(db, "SELECT entry, MIN(code) FROM cite_outcomes WHERE entry IN ({}) GROUP BY entry",
                                affected))
    for chunk in _chunks(sorted(affected)):
        db.execute(f"DELETE FROM cite_outcomes WHERE entry IN ({','.join('?' * len(chunk))})", chunk)
    for e in old_entries:
        counts[OUTCOMES[old_codes.get(e.rowid, _UNRESOLVED)]] -= 1
    for _, code in dead:
        counts[OUTCOMES[_UNRESOLVED if code is None else code]] -= 1
    rows = []
    for e, (code, found) in zip(todo, results):
        counts[OUTCOMES[code]] += 1
        if code != _UNRESOLVED:
            rows.extend((e.rowid, code, k) for k in found)
    db.executemany("INSERT INTO cite_outcomes (entry, code, paper) VALUES (?, ?, ?)", rows)
    clock.lap("resolve")

    # 4. the edges of every citing paper whose entries were resolved again, put or deleted
    methods = Counter(state["edges"])
    added, dropped = [], []
    for citing in sorted({e.citing for e in todo} | set(dirty)):
        edges: dict[str, str] = {}
        for code, cited in db.execute("SELECT o.code, o.paper FROM bib b JOIN cite_outcomes o ON o.entry = b.rowid "
                                      "WHERE b.key = ?", (citing,)):
            method = _RESOLVED_METHOD.get(code)
            if method is not None and (cited not in edges or _METHOD_RANK[method] < _METHOD_RANK[edges[cited]]):
                edges[cited] = method
        old = dict(db.execute("SELECT cited, method FROM citations WHERE citing = ?", (citing,)))
        if old == edges:
            continue
        methods.subtract(old.values())
        methods.update(edges.values())
        added.extend((citing, c) for c in edges if c not in old)
        dropped.extend((citing, c) for c in old if c not in edges)
        db.execute("DELETE FROM citations WHERE citing = ?", (citing,))
        db.executemany("INSERT INTO citations VALUES (?, ?, ?)", [(citing, c, m) for c, m in sorted(edges.items())])

    catalog.clear_citation_log()
    entries = Counter({k: n for k, n in counts.items() if n})
    methods = Counter({k: n for k, n in methods.items() if n})
    catalog.put_citation_state({"version": STATE_VERSION, "hash": _HASH_CHECK, "entries": dict(entries),
                                "edges": dict(methods)})
    clock.lap("edges")
    work = {"papers_put": len(after), "papers_deleted": len(dirty) - len(after), "entries_new": len(new),
            "entries_deleted": len(dead), "entries_affected": len(affected), "entries_resolved": len(todo),
            "seconds": clock.laps}
    return Resolution(entries=entries, edges_by_method=methods, added=sorted(added), added_count=len(added),
                      dropped=sorted(dropped), mode="incremental", work=work, _catalog=catalog)
