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
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from ckg.etl.catalog import Catalog

MIN_TITLE_WORDS = 4
LONG_TITLE_WORDS = 8
MAX_YEAR_GAP = 1
FUZZY_MIN_WORDS = 6
PARTIAL_MIN_WORDS = 8
MIN_JACCARD = 0.8
_PREFIX_WORDS = 6
_METHOD_RANK = {"doi": 0, "pmid": 1, "pmcid": 2, "arxiv": 3, "title": 4, "title-fuzzy": 5}

_VERSION = re.compile(r"v\d+$")
_LABEL = re.compile(r"^(?:title\s+)+")
_SERVER_TAIL = re.compile(r"(?:\s+(?:medrxiv|biorxiv|arxiv|ssrn|preprint|preprints|in press))+$")


def _doi_key(doi: str) -> str:
    return _VERSION.sub("", doi) if doi.startswith("10.1101/") else doi


def title_key(title_norm: str) -> str:
    """Title key of a normalised title.

    >>> title_key("title the impact of traffic isolation in wuhan medrxiv preprint")
    'the impact of traffic isolation in wuhan'
    """
    return _SERVER_TAIL.sub("", _LABEL.sub("", title_norm)).strip()


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


class TitleIndex:
    """Exact and fuzzy look-up of corpus papers by title key.

    Fuzzy candidates come from three indexes, so that a look-up never scans the corpus:
    the first words of each title (truncation either way), each title's rarest word (a title
    contained in a longer entry title contains that word), and prefix filtering for the
    Jaccard rule (two sets with Jaccard similarity >= t share one of the
    ``|x| - ceil(t |x|) + 1`` rarest words of each, in one global order of words).
    """

    def __init__(self, titles: dict[str, list[tuple[str, int | None]]], dois: dict[str, str] | None = None) -> None:
        self.dois = dois or {}
        self.exact: dict[str, list[tuple[str, int | None]]] = defaultdict(list)
        for norm, papers in titles.items():
            key = title_key(norm)
            if len(key.split()) >= MIN_TITLE_WORDS:
                self.exact[key].extend(papers)
        self.words = {key: _content_words(key.split()) for key in self.exact}
        self.df = Counter(w for key in self.exact for w in set(key.split()))
        self.prefix: dict[str, list[str]] = defaultdict(list)
        self.by_rarest: dict[str, list[str]] = defaultdict(list)
        self.postings: dict[str, list[str]] = defaultdict(list)
        for key in sorted(self.exact):
            words = key.split()
            ordered = self._order(self.words[key])
            if len(words) >= _PREFIX_WORDS:
                self.prefix[" ".join(words[:_PREFIX_WORDS])].append(key)
            if len(words) >= PARTIAL_MIN_WORDS:
                self.by_rarest[min(words, key=lambda w: (self.df.get(w, 0), w))].append(key)
            if len(ordered) >= FUZZY_MIN_WORDS:
                for w in ordered[:_prefix_length(len(ordered))]:
                    self.postings[w].append(key)

    def _order(self, words) -> list[str]:
        return sorted(words, key=lambda w: (self.df.get(w, 0), w))

    def lookup(self, title_norm: str, year: int | None, doi: str = "") -> tuple[str, list[str]]:
        """(method, candidate paper keys): 'title' or 'title-fuzzy' and the papers found."""
        key = title_key(title_norm)
        words = key.split()
        if len(words) < MIN_TITLE_WORDS:
            return "", []
        papers = self.exact.get(key, [])
        if papers:
            compatible = [k for k, y in papers if _year_ok(year, y)]
            if compatible or len(words) < LONG_TITLE_WORDS:
                return "title", sorted(set(compatible))
            return "title", sorted({k for k, _ in papers})
        if len(words) < FUZZY_MIN_WORDS:
            return "", []
        matches = {t for t in self._candidates(words) if self._similar(key, words, t)}
        found = sorted({k for t in matches for k, y in self.exact[t]
                        if _year_ok(year, y) and not _dois_conflict(doi, self.dois.get(k))})
        return ("title-fuzzy", found) if found else ("", [])

    def _candidates(self, words: list[str]) -> set[str]:
        out = set(self.prefix.get(" ".join(words[:_PREFIX_WORDS]), ()))
        for w in set(words):
            out.update(self.by_rarest.get(w, ()))
        distinct = _content_words(words)
        if len(distinct) >= FUZZY_MIN_WORDS:
            low, high = MIN_JACCARD * len(distinct), len(distinct) / MIN_JACCARD
            for w in self._order(distinct)[:_prefix_length(len(distinct))]:
                out.update(k for k in self.postings.get(w, ()) if low <= len(self.words[k]) <= high)
        return out

    def _similar(self, key: str, words: list[str], other: str) -> bool:
        other_words = other.split()
        shorter = min(len(words), len(other_words))
        if shorter >= PARTIAL_MIN_WORDS and (other.startswith(key + " ") or key.startswith(other + " ")):
            return True
        if len(other_words) >= PARTIAL_MIN_WORDS and f" {other} " in f" {key} ":
            return True
        a, b = _content_words(words), self.words[other]
        return (len(a) >= FUZZY_MIN_WORDS and len(b) >= FUZZY_MIN_WORDS and len(a & b) / len(a | b) >= MIN_JACCARD
                and differ_by_edits_only(words, other_words))


def _content_words(words: list[str]) -> frozenset[str]:
    """The words of a title that count in the Jaccard similarity: all but numbers."""
    return frozenset(w for w in words if not w.isdigit())


def _prefix_length(size: int) -> int:
    return size - math.ceil(MIN_JACCARD * size) + 1


@dataclass
class Resolution:
    """The edges found and how every entry was decided."""

    edges: dict[tuple[str, str], str] = field(default_factory=dict)  # (citing, cited) -> method
    entries: Counter[str] = field(default_factory=Counter)  # outcome -> number of entries

    def summary(self) -> dict:
        return {
            "bib_entries": sum(self.entries.values()),
            "resolved_entries": sum(n for k, n in self.entries.items() if k.startswith("resolved:")),
            "ambiguous_entries": sum(n for k, n in self.entries.items() if k.startswith("ambiguous:")),
            "unresolved_entries": self.entries.get("unresolved", 0),
            "self_entries": self.entries.get("self", 0),
            "outcomes": dict(sorted(self.entries.items())),
            "edges": len(self.edges),
            "edges_by_method": dict(sorted(Counter(self.edges.values()).items())),
        }


def resolve(catalog: Catalog) -> Resolution:
    """Resolve every bibliography entry in the catalog against the papers in the catalog."""
    ids, titles = catalog.target_index()
    by_id: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (scheme, value), keys in ids.items():
        slot = by_id[(scheme, _doi_key(value) if scheme == "doi" else value)]
        slot.extend(k for k in keys if k not in slot)
    paper_dois = {k: value for (scheme, value), keys in ids.items() if scheme == "doi" for k in keys}
    index = TitleIndex(titles, paper_dois)

    result = Resolution()
    for citing, _ref, title, year, doi, pmid, pmcid, arxiv in catalog.bib_entries():
        outcome, cited = _resolve_one(citing, title, year, (("doi", _doi_key(doi) if doi else ""), ("pmid", pmid),
                                                            ("pmcid", pmcid), ("arxiv", arxiv)), by_id, index)
        result.entries[outcome] += 1
        if cited is not None:
            method = outcome.split(":", 1)[1]
            old = result.edges.get((citing, cited))
            if old is None or _METHOD_RANK[method] < _METHOD_RANK[old]:
                result.edges[(citing, cited)] = method
    return result


def _decide(method: str, keys: list[str], citing: str) -> tuple[str, str | None]:
    others = [k for k in keys if k != citing]
    if not others:
        return "self", None
    if len(others) > 1:
        return f"ambiguous:{method}", None
    return f"resolved:{method}", others[0]


def _resolve_one(citing, title, year, identifiers, by_id, index: TitleIndex) -> tuple[str, str | None]:
    for scheme, value in identifiers:
        if value and (keys := by_id.get((scheme, value))):
            return _decide(scheme, keys, citing)
    if title:
        method, keys = index.lookup(title, year, identifiers[0][1])
        if keys:
            return _decide(method, keys, citing)
    return "unresolved", None
