"""The demo corpus: a small deterministic synthetic CORD-19 release, for demos and tests.

(For corpora at CORD-19's own shape and size, 10k to 1M papers, see :mod:`ckg.corpusgen.scale`.)

:func:`generate` writes a release in CORD-19's final published layout::

    out_dir/metadata.csv                                  the 19 final columns
    out_dir/document_parses/pdf_json/<sha>.json           PDF parses, keyed by sha1
    out_dir/document_parses/pmc_json/<PMCID>.xml.json     PMC parses (no "abstract" key)

All text is written here from templates (nothing is copied from CORD-19); the parses follow
the real files' JSON schema, key order and formatting (4-space indent, ASCII escapes).
Papers belong to ten :data:`TOPICS` whose seed words and biomedical concepts fill the
sentences, so topic models and concept matchers find real signal; authors recur in
co-author groups; bibliographies point at other papers of the corpus (by DOI, exact title or
a harmlessly varied title) or at made-up external works, with power-law popularity.

``release=2`` is the next weekly release of the same corpus: about 5% of the papers
withdrawn, 10% changed (title corrected, abstract added, a PMC parse appearing, an author
added) and 10% added, some of them cited by bibliography entries that were already in
release 1. Papers that do not change are byte-identical in both releases. The same
arguments always give byte-identical files.

>>> import tempfile
>>> rel = generate(tempfile.mkdtemp(), papers=20, seed=3)
>>> len(rel.papers), rel.n_pdf_json >= 10, rel.in_corpus_citations > 0
(20, True, True)
>>> (rel.path / "metadata.csv").read_text(encoding="utf-8").split(",")[:3]
['cord_uid', 'sha', 'source_x']
"""

from __future__ import annotations

import bisect
import csv
import functools
import hashlib
import json
import random
import string
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ckg.corpusgen.vocab import ABBREVIATIONS, COLUMNS, TOPICS  # noqa: F401 (re-exported)
from ckg.corpusgen.vocab import (
    PANDEMIC_ONLY as _PANDEMIC_ONLY,
    TITLE_TEMPLATES as _TITLE_TEMPLATES,
    INTRO as _INTRO,
    METHODS as _METHODS,
    RESULTS as _RESULTS,
    DISCUSSION as _DISCUSSION,
    SECTIONS as _SECTIONS,
    PMC_METHOD_HEADINGS as _PMC_METHOD_HEADINGS,
    DESIGNS as _DESIGNS,
    POPULATIONS as _POPULATIONS,
    PLACES as _PLACES,
    MONTHS as _MONTHS,
    JOURNALS as _JOURNALS,
    SOURCES as _SOURCES,
    NAMES as _NAMES,
    FIXED_PEOPLE as _FIXED_PEOPLE,
    INSTITUTIONS as _INSTITUTIONS,
    COUNTRY_SPELLINGS as _COUNTRY_SPELLINGS,
    DEPARTMENTS as _DEPARTMENTS,
)

_PDF_DIR = "document_parses/pdf_json"
_PMC_DIR = "document_parses/pmc_json"
_FIELDS = {t: tuple(f for _, f, _, _ in string.Formatter().parse(t) if f)
           for t in (*_TITLE_TEMPLATES, *_INTRO, *_METHODS, *_RESULTS, *_DISCUSSION)}


@dataclass(frozen=True)
class GeneratedRelease:
    """What :func:`generate` wrote."""

    path: Path
    release: int
    papers: list[str]  # cord_uids of the release, in metadata.csv order
    n_pdf_json: int
    n_pmc_json: int
    in_corpus_citations: int  # bib entries (counted once per paper) citing a paper of this release
    citations: frozenset = frozenset()  # the true (citing cord_uid, cited cord_uid) pairs of this release
    topics: dict = field(default_factory=dict)  # cord_uid -> label of the paper's main topic (TOPICS)


@dataclass(slots=True)
class _Person:
    first: str
    middle: tuple
    last: str
    institution: int
    department: str
    topic: int


@dataclass(slots=True)
class _Paper:
    idx: int
    uid: str
    title: str
    year: int
    date: str
    topic: int
    topic2: int | None
    authors: tuple
    shas: tuple = ()
    has_pmc: bool = False
    pmcid: str = ""
    pmid: str = ""
    doi: str = ""
    source: str = ""
    license: str = ""
    journal: str = ""
    s2_id: str = ""
    who_id: str = ""
    weight: float = 1.0
    dotted: bool = True
    # release edits
    withdrawn: bool = False
    r1_title: str = ""          # the uncorrected title of release 1 ("" = same as title)
    r1_no_abstract: bool = False
    r2_pmc: bool = False        # a PMC parse appears in release 2
    r2_author: int = -1         # a person added to the author list in release 2
    # citations: number of bib entries and in-corpus targets (papers of the universe)
    n_bib: int = 0
    cites: tuple = ()


def generate(out_dir, *, papers: int = 60, seed: int = 7, release: int = 1) -> GeneratedRelease:
    """Write release ``release`` (1 or 2) of the synthetic corpus ``(papers, seed)`` to ``out_dir``.

    ``out_dir`` is created; files of the same names are overwritten, other files are left alone,
    so write each release into its own empty folder.
    """
    if papers < 1:
        raise ValueError("papers must be at least 1")
    if release not in (1, 2):
        raise ValueError("release must be 1 or 2")
    return _Corpus(papers, seed).write(Path(out_dir), release)


def _key(title: str) -> str:
    """Loose title key used to keep titles unique (case, accents and punctuation ignored)."""
    text = unicodedata.normalize("NFKD", title.lower())
    kept = "".join(c if c.isalnum() else " " for c in text if not unicodedata.combining(c))
    return " ".join(kept.split())


def _cap(text: str) -> str:
    """Upper-case the first letter unless the first word is an abbreviation like 'mRNA'."""
    first = text.split(" ", 1)[0]
    if not text or not text[0].islower() or any(c.isupper() for c in first[1:]):
        return text
    return text[0].upper() + text[1:]


def _title_case(title: str) -> str:
    small = {"a", "an", "and", "as", "at", "by", "for", "from", "in", "of", "on", "or", "the", "to", "with"}
    words = title.split(" ")
    return " ".join(w if (i and w in small) or any(c.isupper() for c in w) else _cap(w)
                    for i, w in enumerate(words))


_TRANSLIT = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "ı": "i", "æ": "ae"})


def _ascii(text: str) -> str:
    """ASCII letters of a name, for e-mail addresses: 'Søren' -> 'Soren'."""
    text = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    return "".join(c for c in text if c.isascii() and c.isalnum())


def _weighted(rng: random.Random, items, weights):
    return rng.choices(items, weights=weights, k=1)[0]


class _Writer:
    """Fills sentence templates for one text; defines an abbreviation once, then reuses it."""

    def __init__(self, rng: random.Random, paper: _Paper, abbreviate: bool):
        self.rng, self.paper, self.abbreviate = rng, paper, abbreviate
        self.defined: set = set()

    def concept(self, topic: int) -> str:
        return self.rng.choice(_concepts(topic, self.paper.year >= 2020))

    def term(self, concept: str) -> str:
        abbr = ABBREVIATIONS.get(concept)
        if not abbr or not self.abbreviate:
            return concept
        if concept in self.defined:
            return abbr
        self.defined.add(concept)
        return f"{concept} ({abbr})"

    def fill(self, template: str, *, title: bool = False) -> str:
        rng, p = self.rng, self.paper
        topics = [p.topic] if p.topic2 is None else [p.topic, p.topic, p.topic2]
        values = {}
        for name in _FIELDS[template]:
            if name in ("c", "c2"):
                other = values.get("c2_raw" if name == "c" else "c_raw")
                for _ in range(8):
                    raw = self.concept(rng.choice(topics))
                    if raw != other:
                        break
                values[name + "_raw"] = raw
                values[name] = raw if title else self.term(raw)
            elif name in ("w", "w2"):
                values[name] = rng.choice(TOPICS[rng.choice(topics)]["seed_words"])
            elif name == "or_":
                ratio = rng.uniform(1.2, 4.5)
                values.update(or_=f"{ratio:.2f}", lo=f"{1 + (ratio - 1) * rng.uniform(0.2, 0.8):.2f}",
                              hi=f"{ratio + rng.uniform(0.3, 1.8):.2f}")
            elif name in ("lo", "hi"):
                continue
            else:
                values[name] = self._simple(name)
        return template.format(**values)

    def _simple(self, name: str) -> str:
        rng, year = self.rng, self.paper.year
        if name == "place":
            return rng.choice(_PLACES)
        if name == "population":
            return rng.choice(_POPULATIONS)
        if name == "design":
            return rng.choice(_DESIGNS)
        if name == "outbreak":
            return "the COVID-19 pandemic" if year >= 2020 else "recent coronavirus outbreaks"
        if name == "year":
            return str(year if year < 2020 else rng.randint(2020, year))
        if name == "n":
            return str(rng.randint(24, 4800))
        if name == "p":
            return f"{rng.uniform(2, 80):.1f}"
        if name == "d":
            return str(rng.randint(3, 28))
        if name == "period":
            study_year = year if year < 2020 or rng.random() < 0.5 else max(2020, year - 1)
            m1 = rng.randint(0, 8)
            return f"{_MONTHS[m1]} and {_MONTHS[rng.randint(m1 + 1, 11)]} {study_year}"
        raise KeyError(name)


@functools.lru_cache(maxsize=None)
def _concepts(topic: int, pandemic: bool) -> tuple:
    concepts = TOPICS[topic]["concepts"]
    return tuple(c for c in concepts if pandemic or c not in _PANDEMIC_ONLY)


class _Corpus:
    """The plan of one synthetic corpus: release 1, release 2 and everything both share."""

    def __init__(self, n: int, seed: int):
        self.n, self.seed = n, seed
        self.n_new = max(1, round(0.10 * n))
        self.size = n + self.n_new  # papers [n, size) exist only from release 2 on
        self.n_external = max(200, 3 * n)
        self.title_keys: set = set()
        self.external = functools.lru_cache(maxsize=8192)(self._external)
        self._plan_people()
        self._plan_papers()
        self._plan_edits()
        self._plan_citations()

    def _rng(self, *parts) -> random.Random:
        return random.Random(":".join(str(x) for x in ("ckg-demo", self.seed, *parts)))

    # -- planning ---------------------------------------------------------------------------

    def _plan_people(self) -> None:
        rng = self._rng("people")
        count = max(40, int(self.n * 1.5))
        self.people: list[_Person] = []
        seen = set()
        while len(self.people) < count:
            k = len(self.people)
            if k < len(_FIXED_PEOPLE):
                first, last = _FIXED_PEOPLE[k]
            else:
                firsts, lasts = rng.choice(_NAMES)
                first, last = rng.choice(firsts), rng.choice(lasts)
            u = rng.random()
            middle = () if u < 0.6 else tuple(rng.sample(string.ascii_uppercase, 1 if u < 0.93 else 2))
            if (first, middle, last) in seen:
                continue
            seen.add((first, middle, last))
            topic = rng.randrange(len(TOPICS))
            self.people.append(_Person(first, middle, last, rng.randrange(len(_INSTITUTIONS)),
                                       _DEPARTMENTS[topic] if rng.random() < 0.7 else "", topic))
        # co-author groups of about eight people per topic
        self.groups: list[list[list[int]]] = []
        for topic in range(len(TOPICS)):
            members = [i for i, person in enumerate(self.people) if person.topic == topic]
            self.groups.append([members[k:k + 8] for k in range(0, len(members), 8)] or [[0]])

    def _plan_papers(self) -> None:
        self.papers: list[_Paper] = []
        uids: set = set()
        kinds = self._parse_kinds(range(self.n), "r1") | self._parse_kinds(range(self.n, self.size), "new")
        for i in range(self.size):
            rng = self._rng("paper", i)
            topic = rng.randrange(len(TOPICS))
            topic2 = rng.randrange(len(TOPICS)) if rng.random() < 0.35 else None
            topic2 = None if topic2 == topic else topic2
            year = _weighted(rng, (0, 2020, 2021, 2022), (15, 45, 30, 10)) or rng.randint(2003, 2019)
            month, day = rng.randint(1, 6 if year == 2022 else 12), rng.randint(1, 28)
            date = f"{year}-{month:02d}-{day:02d}" if rng.random() < 0.88 else str(year)
            n_sha, has_pmc = kinds[i]
            sources = [s for s in _SOURCES if (year >= 2020 or "rxiv" not in s[0])
                       and (not has_pmc or "PMC" in s[0])]
            source, lic, _ = _weighted(rng, sources, [s[2] for s in sources])
            paper = _Paper(i, self._uid(i, uids), "", year, date, topic, topic2, self._authors(rng, topic),
                           source=source, license=lic, weight=min(rng.paretovariate(1.1), 60.0),
                           dotted=rng.random() < 0.5)
            paper.shas = tuple(hashlib.sha1(f"ckg-demo-pdf:{self.seed}:{i}:{k}".encode()).hexdigest()
                               for k in range(n_sha))
            paper.has_pmc = has_pmc
            if "PMC" in source or rng.random() < 0.15:
                paper.pmcid = f"PMC{7_000_000 + (self.seed * 104_729 + i * 7_919) % 2_999_999}"
            if "MedLine" in source or "PMC" in source or rng.random() < 0.3:
                paper.pmid = str(30_000_000 + (self.seed * 7_927 + i * 104_723) % 9_999_991)
            if "WHO" not in source or rng.random() < 0.6:
                paper.doi = f"10.5555/demo.{i + 1}"
            if "rxiv" in source:
                paper.journal = "medRxiv" if source.startswith("medrxiv") else "bioRxiv"
            elif "WHO" not in source or rng.random() < 0.7:
                paper.journal = rng.choice(_JOURNALS)
            paper.s2_id = str(rng.randint(10**8, 2 * 10**8)) if rng.random() < 0.7 else ""
            paper.who_id = f"#{rng.randint(1000, 99999)}" if "WHO" in source else ""
            paper.title = self._unique_title(rng, paper)
            self.papers.append(paper)

    def _parse_kinds(self, block: range, name: str) -> dict:
        """(number of shas, has a PMC parse) per paper, in fixed proportions for the block:
        30% metadata only, 45% PDF only, 20% PMC only, 5% both; about 5% with two PDFs."""
        rng = self._rng("kinds", name)
        ids = list(block)
        rng.shuffle(ids)
        n = len(ids)
        meta, both, pmc = round(0.30 * n), max(1, round(0.05 * n)), round(0.20 * n)
        labels = (["meta"] * meta + ["both"] * both + ["pmc"] * pmc + ["pdf"] * n)[:n]
        two = max(1, round(0.05 * n))
        kinds = {}
        for i, label in zip(ids, labels):
            n_sha = 0 if label in ("meta", "pmc") else 1
            if n_sha and two:
                n_sha, two = 2, two - 1
            kinds[i] = (n_sha, label in ("pmc", "both"))
        return kinds

    def _uid(self, i: int, used: set) -> str:
        alphabet = string.digits + string.ascii_lowercase
        for attempt in range(100):
            value = int(hashlib.sha1(f"ckg-demo-uid:{self.seed}:{i}:{attempt}".encode()).hexdigest(), 16)
            uid = "".join(alphabet[(value >> (6 * k)) % 36] for k in range(8))
            if uid not in used:
                used.add(uid)
                return uid
        raise RuntimeError("cord_uid space exhausted")

    def _authors(self, rng: random.Random, topic: int) -> tuple:
        groups = self.groups[topic]
        group = groups[int(len(groups) * rng.random() ** 1.5)]
        k = _weighted(rng, range(1, 9), (4, 8, 14, 18, 18, 14, 12, 12))
        chosen = rng.sample(group, min(k, len(group)))
        while len(chosen) < k or (len(chosen) > 1 and rng.random() < 0.25 and len(chosen) < 8):
            extra = rng.randrange(len(self.people))  # a collaborator from elsewhere
            if extra not in chosen:
                chosen.append(extra)
        return tuple(chosen)

    def _unique_title(self, rng: random.Random, paper: _Paper) -> str:
        writer = _Writer(rng, paper, abbreviate=False)
        for attempt in range(50):
            title = _cap(writer.fill(rng.choice(_TITLE_TEMPLATES), title=True))
            if attempt >= 10:
                title += f" ({rng.choice(_PLACES)}, {paper.year})"
            if rng.random() < 0.3:
                title = _title_case(title)
            if _key(title) not in self.title_keys:
                self.title_keys.add(_key(title))
                return title
        raise RuntimeError("could not find a unique title")

    def _plan_edits(self) -> None:
        """Choose release 2's withdrawn and changed papers among release 1's."""
        rng = self._rng("edits")
        ids = list(range(self.n))
        rng.shuffle(ids)
        n_withdrawn = max(1, round(0.05 * self.n)) if self.n >= 2 else 0
        for i in ids[:n_withdrawn]:
            self.papers[i].withdrawn = True
        rest = ids[n_withdrawn:]
        eligible = {
            "title": lambda p: True,
            "abstract": lambda p: not p.shas,
            "pmc": lambda p: not p.shas and not p.has_pmc and bool(p.pmcid),
            "author": lambda p: len(p.authors) < 8,
        }
        kinds = list(eligible)
        used: set = set()
        n_changed = max(round(0.10 * self.n), min(4, self.n // 3))  # every kind of edit from 12 papers on
        for k in range(n_changed):
            kind = kinds[k % len(kinds)]
            pick = next((i for i in rest if i not in used and eligible[kind](self.papers[i])), None)
            if pick is None:
                kind, pick = "title", next((i for i in rest if i not in used), None)
            if pick is None:
                break
            used.add(pick)
            paper = self.papers[pick]
            if kind == "title":
                paper.r1_title = self._typo(rng, paper.title)
            elif kind == "abstract":
                paper.r1_no_abstract = True
            elif kind == "pmc":
                paper.r2_pmc = True
            else:
                pool = [x for g in self.groups[paper.topic] if any(a in g for a in paper.authors)
                        for x in g if x not in paper.authors]
                pool = pool or [x for x in range(len(self.people)) if x not in paper.authors]
                paper.r2_author = rng.choice(pool)

    @staticmethod
    def _typo(rng: random.Random, title: str) -> str:
        """The title with two adjacent letters of its longest word swapped (corrected in release 2)."""
        words = title.split(" ")
        k = max(range(len(words)), key=lambda j: (len(words[j]), -j))
        word = words[k]
        j = rng.randrange(1, max(2, len(word) - 2))
        if len(word) >= 4 and word[j] != word[j + 1]:
            words[k] = word[:j] + word[j + 1] + word[j] + word[j + 2:]
        else:
            words[k] = word + word[-1]
        return " ".join(words)

    def _plan_citations(self) -> None:
        """Pick each parsed paper's in-corpus references: earlier or same-year papers, mostly of
        the same topic, drawn in proportion to a heavy-tailed popularity weight."""
        by_year = sorted(range(self.size), key=lambda i: (self.papers[i].year, i))
        pools = [self._pool([i for i in by_year if self.papers[i].topic == t]) for t in range(len(TOPICS))]
        everyone = self._pool(by_year)
        for paper in self.papers:
            if not (paper.shas or paper.has_pmc or paper.r2_pmc):
                continue
            rng = self._rng("cites", paper.idx)
            paper.n_bib = rng.randint(5, 25)
            wanted = round(paper.n_bib * rng.uniform(0.25, 0.55))
            targets: list = []
            for _ in range(wanted * 5):
                if len(targets) >= wanted:
                    break
                u = rng.random()
                years, cum, ids = (pools[paper.topic] if u < 0.7 else
                                   pools[paper.topic2] if u < 0.8 and paper.topic2 is not None else everyone)
                k = bisect.bisect_right(years, paper.year)
                if k == 0:
                    continue
                j = min(bisect.bisect_right(cum, rng.random() * cum[k - 1], 0, k), k - 1)
                if ids[j] != paper.idx and ids[j] not in targets:
                    targets.append(ids[j])
            paper.cites = tuple(targets)
        # Make sure release 1 holds at least one reference that only resolves in release 2.
        old = [p for p in self.papers[:self.n] if p.shas or p.has_pmc]
        if not any(t >= self.n for p in old for t in p.cites):
            rng = self._rng("late")
            for new in sorted(self.papers[self.n:], key=lambda p: (p.year, p.idx)):
                citers = [p for p in old if p.year >= new.year]
                if citers:
                    citer = rng.choice(citers)
                    citer.cites += (new.idx,)
                    citer.n_bib += 1
                    break

    def _pool(self, ids: list) -> tuple:
        cum, total = [], 0.0
        for i in ids:
            total += self.papers[i].weight
            cum.append(total)
        return [self.papers[i].year for i in ids], cum, ids

    # -- external works ---------------------------------------------------------------------

    def _external(self, k: int) -> dict:
        rng = self._rng("external", k)
        year = rng.randint(1995, 2019) if rng.random() < 0.6 else rng.randint(2020, 2022)
        stub = _Paper(-1, "", "", year, "", k % len(TOPICS), None, ())
        writer = _Writer(rng, stub, abbreviate=False)
        for _ in range(50):
            title = _cap(writer.fill(rng.choice(_TITLE_TEMPLATES), title=True))
            if _key(title) not in self.title_keys:
                break
        authors = []
        for _ in range(rng.randint(1, 6)):
            firsts, lasts = rng.choice(_NAMES)
            middle = rng.choice(string.ascii_uppercase) if rng.random() < 0.4 else ""
            authors.append((rng.choice(firsts)[0], middle, rng.choice(lasts)))
        doi = f"10.5555/ext.{k + 1}" if rng.random() < 0.6 else ""
        pmid = str(rng.randint(10**7, 3 * 10**7)) if not doi and rng.random() < 0.3 else ""
        return {"title": title, "authors": authors, "year": year, "venue": rng.choice(_JOURNALS),
                "volume": str(rng.randint(1, 120)), "pages": self._pages(rng), "doi": doi, "pmid": pmid}

    @staticmethod
    def _pages(rng: random.Random) -> str:
        first = rng.randint(1, 2000)
        if rng.random() < 0.2:
            return f"e{rng.randint(100, 9999)}"
        return f"{first}--{first + rng.randint(3, 15)}"

    # -- texts -------------------------------------------------------------------------------

    def _texts(self, paper: _Paper) -> tuple:
        """(abstract paragraphs, body paragraphs); a body paragraph is (section, PMC section,
        [(sentence without its final punctuation, punctuation, [reference numbers])])."""
        rng = self._rng("text", paper.idx)
        abbreviate = rng.random() < 0.7
        writer = _Writer(rng, paper, abbreviate)
        if rng.random() < 0.3:  # two paragraphs: background and methods, then results
            plans = ([(_INTRO, 2), (_METHODS, 2)],
                     [(_RESULTS, rng.randint(3, 4)), (_DISCUSSION, rng.randint(1, 2))])
        else:  # one paragraph of 4-8 sentences
            plans = ([(_INTRO, rng.randint(1, 2)), (_METHODS, rng.randint(1, 2)),
                      (_RESULTS, rng.randint(1, 3)), (_DISCUSSION, 1)],)
        abstract = [" ".join(_cap(writer.fill(t)) for pool, k in plan for t in rng.sample(pool, k))
                    for plan in plans]
        writer = _Writer(rng, paper, abbreviate)  # the body defines its abbreviations again
        body = []
        counts = (rng.randint(1, 2), rng.randint(0, 2), rng.randint(1, 2), rng.randint(1, 2))
        for (section, pool), count in zip(_SECTIONS, counts):
            for _ in range(count):
                sentences = [_cap(writer.fill(t)) for t in rng.sample(pool, rng.randint(3, 6))]
                pmc_section = section
                if section == "Methods":
                    pmc_section = f"{rng.choice(_PMC_METHOD_HEADINGS)} ::: Methods"
                elif section == "Results":
                    pmc_section = f"{_cap(rng.choice(TOPICS[paper.topic]['seed_words']))} ::: Results"
                body.append((section, pmc_section, [(s[:-1], s[-1], []) for s in sentences]))
        self._place_citations(rng, body, paper.n_bib)
        return abstract, body

    @staticmethod
    def _place_citations(rng: random.Random, body: list, n_bib: int) -> None:
        """Number references in order of first citation, mostly in Introduction and Discussion."""
        if not n_bib:
            return
        slots = [sentence for section, _, sentences in body for sentence in sentences
                 if section in ("Introduction", "Discussion") or rng.random() < 0.4]
        slots = slots or [body[0][2][0]]
        if n_bib <= len(slots):
            chosen = sorted(rng.sample(range(len(slots)), n_bib))
            per_slot = {c: 1 for c in chosen}
        else:
            per_slot = {c: 1 for c in range(len(slots))}
            for _ in range(n_bib - len(slots)):
                per_slot[rng.randrange(len(slots))] += 1
        number = 0
        for position, sentence in enumerate(slots):
            if position in per_slot:
                sentence[2].extend(range(number + 1, number + 1 + per_slot[position]))
                number += per_slot[position]
            elif number and rng.random() < 0.3:
                sentence[2].append(rng.randint(1, number))  # a reference cited again

    # -- documents ---------------------------------------------------------------------------

    def _bib(self, paper: _Paper) -> list:
        """The paper's references in BIBREF order: (cited paper's index or None, fields).

        In-corpus references carry the cited paper's DOI (65%, sometimes upper-cased), or no DOI
        and its exact title (20%), or no DOI and a harmlessly varied title (15%)."""
        rng = self._rng("bib", paper.idx)
        entries = [("in", t) for t in paper.cites]
        per_topic = max(1, self.n_external // len(TOPICS))
        taken: set = set()
        while len(entries) < paper.n_bib:
            for _ in range(30):
                topic = paper.topic if rng.random() < 0.8 else rng.randrange(len(TOPICS))
                k = topic + len(TOPICS) * int(per_topic * rng.random() ** 2.5)
                if k not in taken and self.external(k)["year"] <= paper.year:
                    break
            while k in taken:
                k += len(TOPICS)
            taken.add(k)
            entries.append(("ext", k))
        rng.shuffle(entries)
        out = []
        for kind, ref in entries:
            if kind == "ext":
                work = dict(self.external(ref))
                work["year"] = min(work["year"], paper.year)
                out.append((None, work))
                continue
            target = self.papers[ref]
            u = rng.random()
            title, doi = target.title, target.doi
            if not doi or u >= 0.65:
                doi = ""
                if u >= 0.85:
                    title = self._variant(rng, title)
            elif rng.random() < 0.15:
                doi = doi.upper()
            authors = [(self.people[a].first[0], "".join(self.people[a].middle), self.people[a].last)
                       for a in target.authors[:6]]
            out.append((ref, {"title": title, "authors": authors, "year": target.year,
                              "venue": target.journal, "volume": str(target.year - 1990),
                              "pages": self._pages(self._rng("pages", ref)), "doi": doi, "pmid": ""}))
        return out

    @staticmethod
    def _variant(rng: random.Random, title: str) -> str:
        """The same title as a reference list might misprint it; normalised titles still match."""
        kind = rng.randrange(5)
        if kind == 0:
            return title.lower()
        if kind == 1:
            return title + "."
        if kind == 2 and ": " in title:
            return title.replace(": ", " - ", 1)
        if kind == 2:
            return title.replace("-", "\u2010") if "-" in title else title.upper()
        words = title.split(" ")
        k = max(range(len(words)), key=lambda j: len(words[j]))
        words[k] = f"<i>{words[k]}</i>" if kind == 3 else f"\u201c{words[k]}\u201d"
        return " ".join(words)

    def _authors_json(self, rng: random.Random, ids: tuple, pmc: bool) -> list:
        out = []
        for position, a in enumerate(ids):
            person = self.people[a]
            affiliation = {}
            if rng.random() < 0.8:
                name, settlement, region, country = _INSTITUTIONS[person.institution]
                spellings = _COUNTRY_SPELLINGS[country]
                location = {"settlement": settlement}
                if region:
                    location["region"] = region
                location["country"] = spellings[0] if rng.random() < 0.6 else rng.choice(spellings)
                affiliation = {"laboratory": person.department, "institution": name, "location": location}
            email = ""
            if position == 0 and rng.random() < 0.3:
                email = f"{_ascii(person.first).lower()}.{_ascii(person.last).lower()}@example.org"
            middle = [m + "." for m in person.middle] if pmc else list(person.middle)
            if pmc:
                out.append({"first": person.first, "middle": middle, "last": person.last, "suffix": "",
                            "email": None, "affiliation": affiliation})
            else:
                out.append({"first": person.first, "middle": middle, "last": person.last, "suffix": "",
                            "affiliation": affiliation, "email": email})
        return out

    @staticmethod
    def _paragraph(section: str, sentences: list, pmc: bool) -> dict:
        text, spans = "", []
        for k, (sentence, punct, refs) in enumerate(sentences):
            text += (" " if k else "") + sentence
            if refs and pmc:  # PMC style: "(3, 4)", each span covering a number ("mention")
                text += " ("
                for j, ref in enumerate(refs):
                    text += ", " if j else ""
                    spans.append({"start": len(text), "end": len(text) + len(str(ref)),
                                  "mention": str(ref), "ref_id": f"BIBREF{ref - 1}"})
                    text += str(ref)
                text += ")"
            elif refs:  # PDF style: "[3] [4]"
                for ref in refs:
                    mark = f"[{ref}]"
                    text += " "
                    spans.append({"start": len(text), "end": len(text) + len(mark), "text": mark,
                                  "ref_id": f"BIBREF{ref - 1}"})
                    text += mark
            text += punct
        return {"text": text, "cite_spans": spans, "ref_spans": [], "section": section}

    @staticmethod
    def _bib_json(bib: list, pmc: bool) -> dict:
        out = {}
        for j, (_, work) in enumerate(bib):
            # PDF parses split initials ("M", ["D"]); PMC parses join them ("MD", [])
            authors = [{"first": first + middle if pmc else first, "middle": list(middle) if not pmc else [],
                        "last": last, "suffix": ""} for first, middle, last in work["authors"]]
            dois = [work["doi"]] if work["doi"] else []
            other_ids = {"DOI": dois} if pmc or dois else {}
            if work["pmid"]:
                other_ids["PMID"] = [work["pmid"]]
            entry = {} if pmc else {"ref_id": f"b{j}"}
            pages = work["pages"].replace("--", "-") if pmc else work["pages"]
            entry.update(title=work["title"], authors=authors, year=work["year"], venue=work["venue"],
                         volume=work["volume"], issn="", pages=pages, other_ids=other_ids)
            out[f"BIBREF{j}"] = entry
        return out

    # -- writing -----------------------------------------------------------------------------

    def present(self, paper: _Paper, release: int) -> bool:
        return paper.idx < self.n if release == 1 else not paper.withdrawn

    def write(self, out: Path, release: int) -> GeneratedRelease:
        (out / _PDF_DIR).mkdir(parents=True, exist_ok=True)
        (out / _PMC_DIR).mkdir(parents=True, exist_ok=True)
        uids, n_pdf, n_pmc, in_corpus, pairs, topics = [], 0, 0, 0, set(), {}
        with open(out / "metadata.csv", "w", encoding="utf-8", newline="") as handle:
            rows = csv.writer(handle, lineterminator="\n")
            rows.writerow(COLUMNS)
            for paper in self.papers:
                if not self.present(paper, release):
                    continue
                has_pmc = paper.has_pmc or (release == 2 and paper.r2_pmc)
                abstract_paras, body = self._texts(paper)
                abstract = "" if release == 1 and paper.r1_no_abstract else " ".join(abstract_paras)
                if paper.shas or has_pmc:
                    bib = self._bib(paper)
                    cited = [ref for ref, _ in bib if ref is not None and self.present(self.papers[ref], release)]
                    in_corpus += len(cited)
                    pairs.update((paper.uid, self.papers[ref].uid) for ref in cited)
                    authors = self._release_authors(paper, release)
                    for sha in paper.shas:
                        self._dump(out / _PDF_DIR / f"{sha}.json",
                                   self._document(paper, sha, authors, abstract_paras, body, bib, pmc=False))
                        n_pdf += 1
                    if has_pmc:
                        self._dump(out / _PMC_DIR / f"{paper.pmcid}.xml.json",
                                   self._document(paper, paper.pmcid, authors, None, body, bib, pmc=True))
                        n_pmc += 1
                rows.writerow(self._row(paper, release, abstract, has_pmc))
                uids.append(paper.uid)
                topics[paper.uid] = TOPICS[paper.topic]["label"]
        return GeneratedRelease(out, release, uids, n_pdf, n_pmc, in_corpus, frozenset(pairs), topics)

    @staticmethod
    def _release_authors(paper: _Paper, release: int) -> tuple:
        return paper.authors + ((paper.r2_author,) if release == 2 and paper.r2_author >= 0 else ())

    def _document(self, paper, paper_id, authors, abstract, body, bib, *, pmc: bool) -> dict:
        rng = self._rng("affiliations", paper.idx, "pmc" if pmc else "pdf")
        metadata = {"title": paper.title, "authors": self._authors_json(rng, authors, pmc)}
        body_json = [self._paragraph(pmc_section if pmc else section, sentences, pmc)
                     for section, pmc_section, sentences in body]
        if pmc:
            return {"paper_id": paper_id, "metadata": metadata, "body_text": body_json, "ref_entries": {},
                    "back_matter": [], "bib_entries": self._bib_json(bib, True)}
        abstract_json = [{"text": t, "cite_spans": [], "ref_spans": [], "section": "Abstract"}
                         for t in abstract]
        return {"paper_id": paper_id, "metadata": metadata, "abstract": abstract_json, "body_text": body_json,
                "bib_entries": self._bib_json(bib, False), "ref_entries": {}, "back_matter": []}

    @staticmethod
    def _dump(path: Path, document: dict) -> None:
        path.write_text(json.dumps(document, indent=4, ensure_ascii=True), encoding="utf-8")

    def _row(self, paper: _Paper, release: int, abstract: str, has_pmc: bool) -> list:
        names = []
        for a in self._release_authors(paper, release):
            person = self.people[a]
            middle = " ".join(m + ("." if paper.dotted else "") for m in person.middle)
            names.append(f"{person.last}, {person.first}" + (f" {middle}" if middle else ""))
        urls = []
        if paper.doi and "PMC" not in paper.source.split("; ")[0]:
            urls.append(f"https://doi.org/{paper.doi}")
        if paper.pmcid and "PMC" in paper.source:
            urls.append(f"https://www.ncbi.nlm.nih.gov/pmc/articles/{paper.pmcid}/")
        title = paper.r1_title if release == 1 and paper.r1_title else paper.title
        return [paper.uid, "; ".join(paper.shas), paper.source, title, paper.doi, paper.pmcid, paper.pmid,
                paper.license, abstract, paper.date, "; ".join(names), paper.journal, "", paper.who_id, "",
                "; ".join(f"{_PDF_DIR}/{sha}.json" for sha in paper.shas),
                f"{_PMC_DIR}/{paper.pmcid}.xml.json" if has_pmc else "", "; ".join(urls), paper.s2_id]
