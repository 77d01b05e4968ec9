"""The papers of a scale corpus: each one a pure function of the corpus settings and its number.

Papers ``0 .. n-1`` are release 1; papers from ``n`` on are the future, added by later
releases (release 2 adds ``n .. n + new - 1``). A paper's :class:`Core` (year, topics, kind) is
cheap, so that a citing paper can try many candidate targets; its :class:`Head` (title,
identifiers, authors, journal, row profile) is what a metadata row and a reference to it need.
Pairs of slots ``(2k, 2k+1)`` are sometimes a preprint and its journal version: two papers, two
cord_uids, two DOIs, one title (CORD-19 lists both).

>>> c = Corpus(Settings(papers=1000, seed=3))
>>> h = c.head(10); h.uid == c.head(10).uid and len(h.uid) == 8
True
>>> len({c.head(i).uid for i in range(1000)})
1000
"""

from __future__ import annotations

import functools
import hashlib
import math
import random
from dataclasses import dataclass

from ckg.corpusgen import shape
from ckg.corpusgen.hashing import Permutation, Scramble, Stream, Weighted, base36, mix, rng
from ckg.corpusgen.people import People
from ckg.corpusgen.text import RARE, Pools, cap, make_title
from ckg.corpusgen.words import (
    CULTURES,
    GENERIC_TITLES,
    JOURNAL_FIELDS,
    JOURNAL_PREFIXES,
    JOURNAL_SUFFIXES,
    JOURNALS,
)

# stream names (the second number of every hash)
_CORE, _HEAD, _PAIR, _UID, _IDS, _TOPIC, _EXT, _POP, _RELEASE = range(30, 39)
FUTURE = 0.02  # papers beyond release 1 that its references may already cite (a share of n)
CACHE_SIZES = {"core": 100_000, "person": 50_000, "lab": 50_000, "institution": 20_000, "cited": 200_000,
               "outside": 200_000, "names_json": 30_000}
"""Entries of each cache of a process: what bounds its memory (about 500 MB when all are full,
whatever the corpus size; caching the cited and outside works makes a large corpus's references
several times cheaper)."""


@dataclass(frozen=True)
class Settings:
    """What a scale corpus is made of (release 1 depends on these; release 2 also on the shares)."""

    papers: int = 10_000
    seed: int = 7
    text_scale: float = 1.0          # body length, as a share of real bodies
    in_corpus_share: float = 0.3     # share of references that cite a paper of the corpus (or of its future)
    duplicate_rows: float = shape.DUPLICATE_UID_ROWS
    twin_pairs: float = shape.TWIN_PAIRS_PER_ROW
    generic_titles: float = shape.GENERIC_TITLES
    new_share: float = 0.01          # release 2: papers added, as a share of release 1
    changed_share: float = 0.01      # release 2: papers changed
    removed_share: float = 0.001     # release 2: papers removed
    title_typos: float = 0.005       # rows whose title has a typo (release 2 corrects some)
    parses: bool = True              # False: a metadata-only release (no parse files, empty parse columns)
    compact_json: bool = False       # parses without the real files' indentation (about half the bytes)

    @property
    def n_new(self) -> int:
        return round(self.new_share * self.papers)


@dataclass(slots=True)
class Core:
    year: int
    topics: tuple
    profile: shape.Profile
    pair: int  # 0: no pair; 1: a preprint with a journal version next; 2: the journal version


@dataclass(slots=True)
class Head:
    i: int
    uid: str
    core: Core
    title: str
    doi: str
    pmcid: str
    pmid: str
    date: str
    journal: str
    authors: tuple
    shas: tuple
    has_pmc: bool
    has_abstract: bool
    generic: bool
    typo_title: str  # the row's title with a typo ("" = none)
    duplicate_row: bool
    who: str
    arxiv: str
    s2: str

    @property
    def year(self) -> int:
        return self.core.year

    @property
    def source(self) -> str:
        return self.core.profile.sources

    @property
    def preprint(self) -> bool:
        return self.core.profile.preprint


class Corpus:
    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.seed = settings.seed
        self.n = settings.papers
        self.future = max(2, math.ceil(FUTURE * self.n))
        self.domain = self.n + self.future  # papers a reference of release 1 can cite
        self.universe = self.n + max(self.future, settings.n_new)
        self.pools = Pools(self.seed)
        self.people = People(self.seed, n_people=int(1.6 * self.domain) + 80,  # not the universe: release 1
                             n_institutions=max(300, self.domain // 30), cache=CACHE_SIZES)  # is release 2's

        profiles = shape.profiles()
        self.all_profiles = Weighted(profiles, [p.weight for p in profiles])
        pre = [p for p in profiles if p.preprint and p.year not in ("old", "-")]
        self.preprint_profiles = Weighted(pre, [p.weight for p in pre])
        journal = [p for p in profiles if not p.preprint and p.has("D") and p.year not in ("old", "-")
                   and "WHO" != p.sources]
        self.journal_profiles = Weighted(journal, [p.weight for p in journal])
        self.old_years = Weighted([y for y, _ in shape.OLD_YEARS], [c for _, c in shape.OLD_YEARS])
        self.author_counts = Weighted([k for k, _ in shape.AUTHOR_COUNTS], [c for _, c in shape.AUTHOR_COUNTS])
        self.preprint_author_counts = Weighted([k for k, _ in shape.AUTHOR_COUNTS_PREPRINT],
                                               [c for _, c in shape.AUTHOR_COUNTS_PREPRINT])
        self.title_words = Weighted([k for k, _ in shape.TITLE_WORDS], [c for _, c in shape.TITLE_WORDS])
        self.uid_scramble = Scramble(1 << 40, mix(self.seed, _UID))
        self.id_scramble = Scramble(8_999_999, mix(self.seed, _IDS))
        self.popularity = Permutation(self.domain, mix(self.seed, _POP))
        # bounded caches (memory stays flat in the corpus size): cores for choosing cited papers;
        # what references need is cached by the renderer
        self.core = functools.lru_cache(maxsize=CACHE_SIZES["core"])(self._core)
        self.head = self._head
        self.external = self._external
        self.external_titles = functools.lru_cache(maxsize=None)(self._external_titles)

    # -- cores -------------------------------------------------------------------------------

    def pair_kind(self, i: int) -> int:
        if Stream(self.seed, _PAIR, i // 2).u() >= 2 * self.s.twin_pairs:
            return 0
        return 1 + (i & 1)

    def _core(self, i: int) -> Core:
        """A paper's topic is ``i % 10`` (so a citing paper can pick a paper of its topic directly);
        a second topic, its year and its row profile come from a hash."""
        pair = self.pair_kind(i)
        s = Stream(self.seed, _CORE, i)
        if pair == 2:  # the journal version of the preprint before it
            first = self.core(i - 1)
            year = min(2022, first.year + (s.u() < 0.4))
            return Core(year, first.topics, self.journal_profiles.pick(s.u()), 2)
        profile = (self.preprint_profiles if pair == 1 else self.all_profiles).pick(s.u())
        if profile.year == "old":
            year = self.old_years.pick(s.u())
        elif profile.year == "-":
            year = 2020 + s.below(3)
        else:
            year = int(profile.year)
        if i >= self.n and year < 2022 and s.u() < 0.7:
            year = 2022  # papers of later releases are mostly new
        topic = i % 10
        v = s.u()
        second = int(v * 28.57) if v < 0.35 else topic  # a second topic for a third of the papers
        return Core(year, (topic,) if second == topic else (topic, topic, second), profile, pair)

    # -- heads -------------------------------------------------------------------------------

    def uid(self, i: int) -> str:
        return base36(self.uid_scramble(i), 8)

    def front(self, i: int) -> tuple:
        """What a reference to paper ``i`` needs, cheaper than its whole :meth:`head`:
        (random stream left where the head goes on, core, generic, title, authors, id code, DOI,
        PMID, journal)."""
        core = self.core(i)
        p = core.profile
        r = rng(self.seed, _HEAD, i)
        u = r.random
        generic = u() < self.s.generic_titles and core.pair == 0
        if core.pair == 2:
            twin = self.front(i - 1)
            title, authors = twin[3], twin[4]
            if u() < 0.3:
                title = title.lower().capitalize() if title != title.lower().capitalize() else title.title()
        elif generic:
            title = r.choice(GENERIC_TITLES)
            authors = self.authors(r, core.topics[0], max_authors=2)
        else:
            title = make_title(r, self.pools, core.topics, core.year, self.title_words.pick(u()))
            authors = self.authors(r, core.topics[0], preprint=p.preprint)
        code = self.id_code(i)
        doi = self.doi(r, core, code) if p.has("D") else ""
        pmid = str(10_000_000 + self.id_code(i, 1) * 3 % 29_000_000) if p.has("P") else ""
        if pmid and u() < 0.67:
            pmid += ".0"  # the float form of CORD-19's late releases
        journal = self.journal(r, p) if p.has("J") else ""
        return r, core, generic, title, authors, code, doi, pmid, journal

    def _head(self, i: int) -> Head:
        r, core, generic, title, authors, code, doi, pmid, journal = self.front(i)
        p = core.profile
        u = r.random
        pmcid = f"PMC{1_000_000 + code}" if p.has("C") or (core.pair == 2 and p.has("M")) else ""
        date = self.date(r, core.year, p.date_length)
        shas = tuple(hashlib.sha1(f"ckg-scale:{self.seed}:{i}:{k}".encode()).hexdigest() for k in range(p.n_sha))
        typo = typo_of(r, title) if not generic and u() < self.s.title_typos else ""
        who = ""
        if p.has("W"):
            v = u()
            who = (f"#covidwho-{1_000_000 + code % 800_000}" if v < 0.38 else
                   f"#ppcovidwho-{100_000 + code % 400_000}" if v < 0.43 else f"#{10_000 + code % 1_100_000}")
        arxiv = f"{core.year % 100:02d}{1 + r.randrange(12):02d}.{code % 100_000:05d}" if p.has("X") else ""
        s2 = f"{100_000_000 + self.id_code(i, 2) * 7 % 150_000_000}.0" if p.has("S") else ""
        return Head(i, self.uid(i), core, title, doi, pmcid, pmid, date, journal, authors, shas,
                    p.has("M"), p.has("A") and not generic, generic, typo,
                    u() < self.s.duplicate_rows and core.pair == 0, who, arxiv, s2)

    def id_code(self, i: int, kind: int = 0) -> int:
        """A number below 8,999,999 proper to paper ``i`` (distinct for distinct papers)."""
        return self.id_scramble(i + kind * 3_000_000)

    def authors(self, r: random.Random, topic: int, max_authors: int = 999, preprint: bool = False) -> tuple:
        """People of one lab of the topic (a productive lab more often), then of its neighbours,
        then from anywhere."""
        k = min((self.preprint_author_counts if preprint else self.author_counts).pick(r.random()), max_authors)
        if not k:
            return ()
        labs = self.people.labs_of_topic()
        m = int(labs * r.random() ** 1.6)
        chosen: list = []
        lab = 0
        while len(chosen) < k and lab < 6:
            base = self.people.lab_id(topic, m + lab) * 8
            start = r.randrange(8)
            take = [base + (start + j) % 8 for j in range(8)]
            for person in take[: (k - len(chosen)) if lab else max(1, min(8, k))]:
                if r.random() < 0.85 and person not in chosen:
                    chosen.append(person)
            lab += 1
        while len(chosen) < k:
            person = r.randrange(self.people.n_people)
            if person not in chosen:
                chosen.append(person)
        return tuple(chosen[:k])

    def doi(self, s: random.Random, core: Core, code: int) -> str:
        year = core.year
        if core.profile.preprint:
            if "ArXiv" in core.profile.sources:
                return f"10.48550/arxiv.{year % 100:02d}{1 + s.randrange(12):02d}.{code % 100_000:05d}"
            month, day = 1 + s.randrange(12), 1 + s.randrange(28)
            if "MedRxiv" in core.profile.sources:
                return f"10.1101/{year}.{month:02d}.{day:02d}.{20_000_000 + code % 10_000_000}"
            return f"10.1101/{year}.{month:02d}.{day:02d}.{code % 1_000_000:06d}"
        u = s.random()
        if u < 0.2 or "Elsevier" in core.profile.sources:
            return f"10.1016/j.{s.choice(_ELSEVIER)}.{year}.{code:07d}"
        for prefix, share, form in _PUBLISHERS:
            u -= share
            if u < 0.2:
                return form.format(p=prefix, y=year, y2=year % 100, c=code, j=s.choice(_ELSEVIER))
        return f"10.{1000 + code % 9000}/{s.choice(_ELSEVIER)}.{code:07d}"

    @staticmethod
    def date(s: random.Random, year: int, length: int) -> str:
        if length == 0:
            return ""
        if length == 4:
            return str(year)
        month = 1 + s.randrange(6 if year == 2022 else 12)
        return f"{year}-{month:02d}-{1 + s.randrange(28):02d}"

    def journal(self, s: random.Random, profile: shape.Profile) -> str:
        if profile.preprint:
            return ("medRxiv" if "MedRxiv" in profile.sources else "bioRxiv" if "BioRxiv" in profile.sources
                    else "")
        u = s.random()
        if u < 0.12:
            name = JOURNALS[int(len(JOURNALS) * s.random() ** 2.5)]
        else:
            name = (f"{s.choice(JOURNAL_PREFIXES)} {JOURNAL_FIELDS[int(len(JOURNAL_FIELDS) * s.random() ** 1.5)]}"
                    f"{s.choice(JOURNAL_SUFFIXES)}")
        if profile.sources == "WHO" and s.random() < 0.5:  # the WHO database's own abbreviations
            name = ". ".join(w.lower() if k else w for k, w in enumerate(name.split(" ")))
        return name

    # -- releases ----------------------------------------------------------------------------

    def removed(self, i: int) -> bool:
        """Release 2 no longer lists paper ``i`` (of release 1)."""
        return i < self.n and Stream(self.seed, _RELEASE, 1, i).u() < self.s.removed_share

    def change(self, i: int, head: Head | None = None) -> str:
        """What release 2 changes in paper ``i`` ("" for nothing)."""
        if i >= self.n or self.removed(i):
            return ""
        s = Stream(self.seed, _RELEASE, 2, i)
        if s.u() >= self.s.changed_share:
            return ""
        h = head or self.head(i)
        kinds = [kind for kind, ok in (
            ("title", bool(h.typo_title)),
            ("abstract", not h.has_abstract and not h.generic),
            ("pmc", bool(h.pmcid) and not h.has_pmc),
            ("date", len(h.date) == 4),
            ("author", 0 < len(h.authors) < 40),
        ) if ok]
        return s.pick(kinds) if kinds else "abstract"

    def present(self, i: int, release: int) -> bool:
        if release == 1:
            return i < self.n
        return (i < self.n and not self.removed(i)) or self.n <= i < self.n + self.s.n_new

    # -- citations ---------------------------------------------------------------------------

    def targets(self, r, i: int, wanted: int) -> list:
        """Papers ``i`` cites (from release 1 and its future): earlier or same-year papers, three
        in four of its own topic, drawn by a heavy-tailed popularity (a paper's popularity rank
        is drawn with probability ~ rank^(-2/3): the top 1% of papers get about a fifth of the
        citations)."""
        core = self.core(i)
        topics = core.topics
        domain = self.domain
        out: list = []
        for _ in range(wanted * 8):
            if len(out) >= wanted:
                break
            j = self.popularity(int(domain * r.random() ** 3))
            if r.random() < 0.75:  # the paper of the same popularity rank in a topic of the citing paper
                j += r.choice(topics) - j % 10
                if j >= domain:
                    j -= 10
            if j == i or j < 0 or j in out or self.core(j).year > core.year:
                continue
            out.append(j)
        return out

    def _external(self, k: int) -> tuple:
        """(title, authors [(initials, last)], year, venue, doi, pmid, topic) of an outside work:
        a title of the topic's pool of outside titles with rare words of its own (and a subtitle
        for some), so that a million outside works cost draws, not template filling."""
        r = rng(self.seed, _EXT, k)
        u = r.random
        topic = k % 10
        year = 1985 + int(38 * u() ** 0.45)
        pool = self.external_titles(topic, int(year >= 2020))
        title = cap(RARE.fill(r, pool[int(u() * len(pool))]))
        if u() < 0.2 and ":" not in title:
            title += SUBTITLES_PLAIN[int(u() * len(SUBTITLES_PLAIN))].format(n=24 + int(u() * 3000))
        authors = []
        letters = "ABCDEFGHIJKLMNOPRSTVWY"
        for _ in range(1 + int(7 * u() ** 2)):
            family = CULTURES[int(u() * len(CULTURES))].family
            initials = letters[int(u() * 22)] + (letters[int(u() * 22)] if u() < 0.4 else "")
            authors.append((initials, family[int(len(family) * u() ** 2)]))
        venue = JOURNALS[int(len(JOURNALS) * u() ** 2)] if u() < 0.6 else (
            f"{JOURNAL_PREFIXES[int(u() * len(JOURNAL_PREFIXES))]} {JOURNAL_FIELDS[int(u() * len(JOURNAL_FIELDS))]}")
        doi = f"10.{1000 + k % 8000}/ext.{year}.{k:07d}" if u() < 0.85 else ""
        pmid = str(1_000_000 + k * 7 % 30_000_000) if u() < 0.3 else ""
        return title, tuple(authors), year, venue, doi, pmid, topic

    def _external_titles(self, topic: int, era: int) -> tuple:
        r = rng(self.seed, _EXT, -1 - topic, era)
        year = 2021 if era else 2012
        return tuple(make_title(r, self.pools, (topic,), year, self.title_words.pick(r.random()) - 2,  # shorter,
                                rare=False)
                     for _ in range(_EXTERNAL_TITLES))  # as references' titles are (older papers)


_EXTERNAL_TITLES = 1500
SUBTITLES_PLAIN = (": a systematic review", ": a cohort study", ": a randomized trial", " in {n} patients",
                   ": a case report", ": a multicenter study", ": results from a national survey",
                   ": an update", " ({n} cases)", ": lessons learned", ": a modelling analysis",
                   ": a prospective study of {n} participants", ": review of the literature", ": a pilot study")


def typo_of(s: random.Random, title: str) -> str:
    """The title with two adjacent letters of its longest word swapped."""
    words = title.split(" ")
    k = max(range(len(words)), key=lambda j: (len(words[j]), -j))
    word = words[k]
    if len(word) < 4:
        return ""
    j = 1 + s.randrange(len(word) - 2)
    if word[j] == word[j + 1]:
        return ""
    words[k] = word[:j] + word[j + 1] + word[j] + word[j + 2:]
    return " ".join(words)


_ELSEVIER = ("jinf", "ijid", "jcv", "antiviral", "vaccine", "cmi", "puhe", "bbrc", "jhin", "ajic", "psychres",
             "jad", "bbi", "lfs", "biopha", "scitotenv", "envres", "chest", "jaci", "jacc", "ejim", "tmaid",
             "idm", "meegid", "virusres", "jviromet", "ijantimicag", "ijsu", "annemergmed", "ajem", "clinimag",
             "radi", "ebiom", "eclinm", "lanwpc", "jbi", "jmii", "jiph", "socscimed", "healthpol")
_PUBLISHERS = (  # (prefix, share, DOI form) after Elsevier's 10.1016, shares of the 2022 sample
    ("10.1007", 0.108, "{p}/s{c:05d}-0{y2}-{c:07d}"), ("10.3390", 0.056, "{p}/ijerph{c:07d}"),
    ("10.1186", 0.048, "{p}/s{c:05d}-0{y2}-{c:07d}-x"), ("10.1038", 0.038, "{p}/s41{c:07d}-0{y2}-0148-4"),
    ("10.1111", 0.035, "{p}/{j}.{c:07d}"), ("10.3389", 0.032, "{p}/fpubh.{y}.{c:07d}"),
    ("10.1002", 0.032, "{p}/jmv.{c:07d}"), ("10.1177", 0.030, "{p}/0{c:07d}"),
    ("10.1371", 0.03, "{p}/journal.pone.{c:07d}"), ("10.1136", 0.02, "{p}/bmj.m{c:07d}"),
    ("10.1093", 0.02, "{p}/cid/ciaa{c:07d}"), ("10.1080", 0.02, "{p}/22221751.{y}.{c:07d}"),
    ("10.2196", 0.015, "{p}/{c:07d}"), ("10.7759", 0.015, "{p}/cureus.{c:07d}"),
    ("10.1056", 0.008, "{p}/nejmoa{c:07d}"), ("10.1001", 0.008, "{p}/jama.{y}.{c:07d}"),
)
