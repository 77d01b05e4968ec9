"""Benchmark: citation resolution (:mod:`ckg.etl.citations`) at scale, fresh and incremental.

A synthetic corpus stands in for CORD-19's bibliographies (real parses carry about 36 entries,
the bench ~15 by default): papers and a pool of three times as many works outside the corpus,
titles drawn word by word from a Zipf vocabulary whose head is the most frequent words of real
reference titles (the 26,906 entries of the 803 bioRxiv parses of 2020-03-13) and whose size
grows with the corpus as real vocabularies do. Bibliography entries cite works with a
power-law popularity (a quarter of them papers of the corpus), carry identifiers on about
18% of entries (DOIs, some with a preprint version suffix; PMIDs, PMC ids, arXiv ids), and
their titles come as references print them: exact, re-cased and punctuated, truncated,
with author names or venues around them, with typos, words run together, manuscript line
numbers, a function word dropped, or short and generic; years are missing on 17% and
sometimes off by one or wrong. Some papers cite themselves (page footers parsed as
references), some preprints come in two versions with one DOI.

The update is the next release: +1% new papers (works of the pool, so that old entries that
cited them outside the corpus now resolve, by DOI, exact or fuzzy title), 1% changed papers
(title corrected, DOI added or replaced, year changed, bibliography changed) and 0.1% removed.

For each size the bench writes the catalog (not timed), then measures in child processes (time
and peak resident memory, ``ru_maxrss``): the fresh resolution, the update's resolution, and a
fresh resolution of the updated catalog, which must give exactly the update's edges and
counts. With ``--old`` (default for sizes up to 20,000 papers) the resolver of ``--old-ref``
(the last commit before the scalable resolver) runs on the same catalog, and its edges and
counts must equal the new resolver's.

    python bench/bench_citations.py [--sizes 10000 100000] [--entries 15] [--old-ref dc277e7]

Results are printed and written to ``bench/out/bench_citations.json``; the 1M-paper /
13M-entry figures are projected from the largest size measured (linear in entries).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The most frequent words of the 26,906 real reference titles (803 bioRxiv/medRxiv parses of
# 2020-03-13), most frequent first; the rest of the vocabulary is synthetic.
HEAD_WORDS = (
    "of the and in a for coronavirus to with virus by novel is protein 2019 human from on respiratory rna an "
    "china analysis disease infection cell cells was influenza transmission not 1 sars pneumonia wuhan syndrome "
    "ncov this 2 outbreak viral which acute gene using as clinical patients data study associated receptor "
    "expression structure infected severe mers epidemic health model vaccine immune response covid 19 cov middle "
    "east host binding genome sequence evolution identification characterization antibody spike replication "
    "mice mouse bat bats detection assay rapid pcr real time dynamics estimating estimation reproduction number "
    "early phylogenetic molecular activity function role mechanism infections viruses surveillance public risk "
    "factors global epidemiology epidemiological modeling control prevention hospital children adults mortality "
    "case cases report review systematic meta new high cross species specific potential therapeutic drug "
    "inhibitor inhibitors treatment antiviral pathogenesis innate interferon lung airway epithelial t b "
    "nucleocapsid membrane envelope enzyme angiotensin converting 2019ncov characteristics features outcomes "
    "evidence united states world organization emerging"
).split()

_SYLLABLES = [c + v for c in "bcdfghjklmnprstvz" for v in "aeiou"]  # 85 syllables


def _synthetic_word(rank: int) -> str:
    """A distinct made-up word for each rank: three syllables (four past 614,125 ranks), the
    rank scrambled so that neighbouring ranks do not look alike."""
    digits = 3 if rank < len(_SYLLABLES) ** 3 else 4
    n = (rank * 2654435761) % len(_SYLLABLES) ** digits
    out = []
    for _ in range(digits):
        n, r = divmod(n, len(_SYLLABLES))
        out.append(_SYLLABLES[r])
    return "".join(out)


class Vocabulary:
    """Words drawn with Zipf probabilities ~ 1 / (rank + 2.7) over ``size`` words."""

    def __init__(self, size: int, rng: random.Random) -> None:
        import numpy as np

        self.size = size
        weights = 1.0 / (np.arange(size) + 2.7) ** 1.0
        self.cdf = np.cumsum(weights / weights.sum())
        self.np_rng = np.random.default_rng(rng.getrandbits(32))
        self.buffer: list[int] = []

    def word(self) -> str:
        if not self.buffer:
            self.buffer = self.cdf.searchsorted(self.np_rng.random(65536)).tolist()
        rank = self.buffer.pop()
        return HEAD_WORDS[rank] if rank < len(HEAD_WORDS) else _synthetic_word(rank)

    def title(self, rng: random.Random) -> list[str]:
        length = max(3, min(40, int(rng.lognormvariate(2.45, 0.38))))
        return [self.word() for _ in range(length)]

    def phrase(self, rng: random.Random) -> str:
        """A concept of 1 to 3 words, from a list of ~size/50 concepts with Zipf popularity."""
        if not hasattr(self, "concepts"):
            r = random.Random(rng.getrandbits(32))
            self.concepts = [" ".join(self.word() for _ in range(r.choice((1, 1, 2, 2, 3))))
                             for _ in range(max(200, self.size // 50))]
        return self.concepts[int(len(self.concepts) * rng.random() ** 2)]


# Title templates of the kind the CORD-19-shaped generators use (ckg.corpusgen): few templates,
# short lists of populations, designs and places, concepts from a short list: many titles share
# most of their words, the hard case for blocking.
_TEMPLATES = ("{c} and {c2} in {pop} a {design}", "the role of {c} in {w} during {outbreak}",
              "impact of {c} on {w} among {pop}", "clinical characteristics of {n} {pop} with {c}",
              "association between {c} and {c2} in {pop}", "trends in {w} and {c} in {place} from {year} to {year2}",
              "{c} versus {c2} for {w}", "predictors of {w} in {pop} with {c}", "effect of {c} on {w} in {n} {pop}",
              "changes in {w} after {c} in {place}", "{c} in {pop} lessons from {place}",
              "patterns of {c} and {w} in {place} {year}", "is {c} associated with {w}")
_POPULATIONS = ("hospitalised patients", "health care workers", "children", "older adults", "pregnant women",
                "university students", "outpatients", "nursing home residents", "the general population",
                "people living with hiv", "adolescents", "intensive care patients", "kidney transplant recipients",
                "cancer patients", "veterans", "migrants", "athletes", "military personnel")
_DESIGNS = ("retrospective cohort study", "prospective cohort study", "cross sectional study",
            "systematic review and meta analysis", "case series", "modelling study", "randomised controlled trial",
            "multicentre observational study", "narrative review", "population based survey", "case control study",
            "qualitative study", "scoping review", "single centre study", "pilot study", "secondary analysis")
_PLACES = ("wuhan", "lombardy", "new york", "madrid", "sao paulo", "seoul", "london", "tehran", "chicago", "boston",
           "daegu", "kisumu", "oxford", "quebec", "bogota", "chengdu", "guangzhou", "lagos", "delhi", "lima")


def _template_title(vocab: Vocabulary, rng: random.Random, year: int | None) -> list[str]:
    y = year or 2020
    values = {"c": vocab.phrase(rng), "c2": vocab.phrase(rng), "w": vocab.phrase(rng),
              "pop": rng.choice(_POPULATIONS), "design": rng.choice(_DESIGNS), "place": rng.choice(_PLACES),
              "outbreak": rng.choice(("the covid 19 pandemic", "recent coronavirus outbreaks", "seasonal epidemics")),
              "n": str(rng.randint(12, 3000)), "year": str(y - rng.randint(1, 6)), "year2": str(y)}
    title = rng.choice(_TEMPLATES).format(**values)
    if rng.random() < 0.4:
        title += " a " + rng.choice(_DESIGNS)
    return title.split()


@dataclass
class Work:
    """A citable work: a paper of the corpus or a work outside it."""

    words: list[str]
    year: int | None
    doi: str = ""
    pmid: str = ""
    pmcid: str = ""
    arxiv: str = ""
    key: str = ""  # paper key when it is (or becomes) a paper of the corpus

    @property
    def title(self) -> str:
        return " ".join(self.words)


@dataclass
class Corpus:
    """The papers of a release (key -> Paper) and the generator state for the next release."""

    papers: dict = field(default_factory=dict)
    works: dict = field(default_factory=dict)  # key -> Work of each paper
    pool: list = field(default_factory=list)  # works outside the corpus, by popularity rank


def _year(rng: random.Random) -> int:
    return rng.choice((2020, 2020, 2020, 2021, 2021, 2022)) if rng.random() < 0.6 else rng.randint(1970, 2019)


def _doi(rng: random.Random, year: int | None, preprint: bool) -> str:
    if preprint:
        return f"10.1101/{year or 2020}.{rng.randint(1, 12):02d}.{rng.randint(1, 28):02d}.{rng.randint(10**7, 10**8 - 1)}"
    return f"10.{rng.randint(1000, 9999)}/{rng.choice('jsmabc')}.{rng.randint(10**5, 10**7)}"


def _new_work(vocab: Vocabulary, rng: random.Random, templates: float = 0.0) -> Work:
    year = _year(rng)
    preprint = year >= 2020 and rng.random() < 0.2
    words = _template_title(vocab, rng, year) if rng.random() < templates else vocab.title(rng)
    return Work(words, year, doi=_doi(rng, year, preprint) if rng.random() < 0.9 else "",
                pmid=str(rng.randint(10**6, 4 * 10**7)) if rng.random() < 0.5 else "",
                pmcid=f"PMC{rng.randint(10**5, 9 * 10**6)}" if rng.random() < 0.2 else "",
                arxiv=f"{rng.randint(15, 22)}{rng.randint(1, 12):02d}.{rng.randint(10000, 99999)}" if rng.random() < 0.01 else "")


_DEBRIS_BEFORE = ["lin yang and daihai he 2020", "zhang l wang y", "et al", "li q guan x wu p", "in press",
                  "smith j", "chen n zhou m dong x", "available at", "doi"]
_DEBRIS_AFTER = ["biorxiv", "medrxiv", "the lancet", "nature", "j virol", "n engl j med", "preprint",
                 "plos one 15 e0230405", "2020", "accessed 2020 march 10", "emerg infect dis"]


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(len(word) - 1)
    kind = rng.random()
    if kind < 0.5:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind < 0.8:
        return word[:i] + rng.choice("aeioustnr") + word[i + 1:]
    return word[:i] + word[i + 1:]


def _variant(words: list[str], rng: random.Random) -> str:
    """The title as a reference list prints it."""
    x = rng.random()
    w = list(words)
    if x < 0.50:
        return " ".join(w)
    if x < 0.60:  # re-cased, punctuated: normalises to the same title
        return (" ".join(w).title() + ".") if rng.random() < 0.5 else " ".join(w).upper().replace(" ", ", ", 1)
    if x < 0.68 and len(w) > 8:  # truncated
        return " ".join(w[:rng.randint(6, len(w) - 1)])
    if x < 0.76:  # debris around the title
        before = rng.choice(_DEBRIS_BEFORE) + " " if rng.random() < 0.6 else ""
        after = " " + rng.choice(_DEBRIS_AFTER) if rng.random() < 0.7 else ""
        return before + " ".join(w) + after
    if x < 0.83:  # typos
        for _ in range(rng.choice((1, 1, 2))):
            i = rng.randrange(len(w))
            w[i] = _typo(w[i], rng)
        return " ".join(w)
    if x < 0.86 and len(w) > 2:  # words run together
        i = rng.randrange(len(w) - 1)
        w[i:i + 2] = [w[i] + w[i + 1]]
        return " ".join(w)
    if x < 0.88:  # a manuscript line number
        w.insert(rng.randrange(len(w) + 1), str(rng.randint(100, 999)))
        return " ".join(w)
    if x < 0.91:  # a function word dropped or added
        fw = [i for i, t in enumerate(w) if t in ("of", "the", "and", "in", "a", "for")]
        if fw:
            del w[rng.choice(fw)]
        else:
            w.insert(rng.randrange(len(w) + 1), "the")
        return " ".join(w)
    if x < 0.95:  # a word replaced (another paper as far as the rules go)
        w[rng.randrange(len(w))] = rng.choice(HEAD_WORDS)
        return " ".join(w)
    return " ".join(w[:rng.randint(1, 4)])  # short, generic


_GENERIC = ["data not shown", "world health organization", "personal communication", "ibid",
            "coronavirus disease 2019 covid 19 situation report", "r core team r a language and environment",
            "copyright holder for this preprint", "unpublished data"]


def _entry(ref: str, work: Work | None, rng: random.Random):
    from ckg.etl.records import BibEntry

    if work is None:
        return BibEntry(ref, rng.choice(_GENERIC), rng.choice((None, 2020, 2019)))
    y = rng.random()
    year = work.year if y < 0.70 else None if y < 0.87 else (work.year or 2020) + rng.choice((-1, 1)) if y < 0.95 \
        else rng.randint(1990, 2021)
    ids = {}
    r = rng.random()
    if r < 0.15 and work.doi:
        ids["doi"] = work.doi + ("v2" if work.doi.startswith("10.1101/") and rng.random() < 0.3 else "")
    elif r < 0.165 and work.pmid:
        ids["pmid"] = work.pmid
    elif r < 0.17 and work.pmcid:
        ids["pmcid"] = work.pmcid
    elif r < 0.175 and work.arxiv:
        ids["arxiv"] = work.arxiv
    elif r < 0.18:  # an identifier of nothing we know
        ids["doi"] = _doi(rng, year, False)
    return BibEntry(ref, _variant(work.words, rng), year, **ids)


class Generator:
    """The synthetic corpus: ``papers`` papers (and a pool of 3 times as many works outside the
    corpus), ``entries`` bibliography entries per paper with a bibliography on average (a fifth
    of the papers have none), a share ``templates`` of the titles written from templates."""

    def __init__(self, papers: int, seed: int = 7, entries: float = 15.0, templates: float = 0.0) -> None:
        self.rng = random.Random(seed)
        self.n = papers
        self.entries = entries
        self.templates = templates
        works = papers * 4
        self.vocab = Vocabulary(max(20_000, int(10 * works ** 0.75)), self.rng)
        self.serial = 0

    def _key(self) -> str:
        self.serial += 1
        return f"p{self.serial:08d}"

    def _bib(self, corpus: Corpus, key: str, own: Work, cite_pool: list[Work]) -> list:
        rng = self.rng
        count = 0 if rng.random() < 0.2 else max(1, int(rng.expovariate(1 / self.entries)))
        out = []
        for i in range(count):
            x = rng.random()
            if x < 0.02:
                work = own  # the paper's own footer parsed as a reference
            elif x < 0.05:
                work = None
            else:  # popularity: a power law over the works in popularity order
                work = cite_pool[int(len(cite_pool) * rng.random() ** 2.5)]
            out.append(_entry(f"b{i}", work, rng))
        return out

    def _paper(self, work: Work, bib: list):
        from ckg.etl.records import Paper

        return Paper(key=work.key, title=work.title if self.rng.random() < 0.7 else work.title.capitalize(),
                     doi=work.doi, pmid=work.pmid, pmcid=work.pmcid, arxiv_id=work.arxiv,
                     issued=(str(work.year), "gYear", work.year) if work.year else None, bib=bib)

    def first_release(self) -> Corpus:
        rng = self.rng
        corpus = Corpus()
        for _ in range(self.n):
            w = _new_work(self.vocab, rng, self.templates)
            w.key = self._key()
            corpus.works[w.key] = w
            if rng.random() < 0.005 and w.doi.startswith("10.1101/"):  # a second version of a preprint
                twin = replace(w, key=self._key(), words=list(w.words))
                corpus.works[twin.key] = twin
        corpus.pool = [_new_work(self.vocab, rng, self.templates) for _ in range(3 * self.n)]
        self._cite_pool = self._citable(corpus)
        for key, w in corpus.works.items():
            corpus.papers[key] = self._paper(w, self._bib(corpus, key, w, self._cite_pool))
        return corpus

    def _citable(self, corpus: Corpus) -> list[Work]:
        """Works in citation-popularity order: corpus papers and pool works interleaved (a
        quarter of the citations go to papers of the corpus)."""
        papers = list(corpus.works.values())
        self.rng.shuffle(papers)
        out, i, j = [], 0, 0
        while i < len(papers) or j < len(corpus.pool):
            if i < len(papers) and (self.rng.random() < 0.25 or j >= len(corpus.pool)):
                out.append(papers[i])
                i += 1
            else:
                out.append(corpus.pool[j])
                j += 1
        return out

    def next_release(self, corpus: Corpus, new: float = 0.01, changed: float = 0.01, removed: float = 0.001):
        """(papers to put: new and changed, keys to remove) of the next release; ``corpus`` is
        updated to it."""
        rng = self.rng
        keys = sorted(corpus.papers)
        gone = rng.sample(keys, max(1, int(removed * len(keys))))
        rest = sorted(set(keys) - set(gone))
        put = []
        for key in rng.sample(rest, max(1, int(changed * len(keys)))):
            w = corpus.works[key]
            p = corpus.papers[key]
            x = rng.random()
            if x < 0.3:  # title corrected or reworded
                w.words = list(w.words)
                i = rng.randrange(len(w.words))
                w.words[i] = _typo(w.words[i], rng) if rng.random() < 0.5 else rng.choice(HEAD_WORDS)
                p = self._paper(w, p.bib)
            elif x < 0.5:  # a DOI added or replaced
                w.doi = _doi(rng, w.year, False)
                p = self._paper(w, p.bib)
            elif x < 0.6:
                w.year = (w.year or 2020) + 1
                p = self._paper(w, p.bib)
            else:  # the bibliography re-parsed
                p = self._paper(w, self._bib(corpus, key, w, self._cite_pool))
            corpus.papers[key] = p
            put.append(p)
        popular = [w for w in self._cite_pool[: len(self._cite_pool) // 10] if not w.key]
        fresh = [w for w in corpus.pool if not w.key]
        for i in range(max(1, int(new * len(keys)))):
            source = popular if i % 2 == 0 and popular else fresh
            w = source.pop(rng.randrange(len(source)))
            if w.key:
                continue
            w.key = self._key()
            corpus.works[w.key] = w
            p = self._paper(w, self._bib(corpus, w.key, w, self._cite_pool))
            corpus.papers[w.key] = p
            put.append(p)
        for key in gone:
            del corpus.papers[key]
            corpus.works[key].key = ""
            del corpus.works[key]
        return put, gone


# -- measuring ----------------------------------------------------------------------------------


def write_catalog(path: Path, papers, release: str = "r1") -> int:
    """A catalog of the papers (not timed); returns the number of bibliography entries."""
    from ckg.etl.catalog import Catalog

    entries = 0
    with Catalog(path) as catalog:
        for p in papers:
            catalog.put_paper(p, "h", release, release)
            entries += len(p.bib)
    return entries


def copy_catalog(source: Path, target: Path) -> None:
    """A consistent copy (the write-ahead log included)."""
    import sqlite3

    target.unlink(missing_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _old_module(ref: str, work: Path):
    """etl/citations.py of the commit ``ref`` (the resolver before this bench's), imported."""
    import importlib.util

    text = subprocess.run(["git", "-C", str(ROOT), "show", f"{ref}:etl/citations.py"], check=True,
                          capture_output=True, text=True).stdout
    path = work / f"old_citations_{ref}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("old_citations", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_citations"] = module  # (dataclasses look their module up)
    spec.loader.exec_module(module)
    return module


def _digest(edges) -> str:
    import hashlib

    h = hashlib.sha256()
    for (a, b), m in sorted(edges.items()):
        h.update(f"{a}\t{b}\t{m}\n".encode())
    return h.hexdigest()


def _cpu() -> float:
    """CPU seconds of this process and of its (waited) worker processes."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _step(step: str, catalog_path: Path, old_ref: str) -> dict:
    """One measured resolution, in this (child) process: 'new' (incremental when the catalog has
    resolution state), 'fresh' (the state dropped first) or 'old' (the resolver of ``old_ref``)."""
    from ckg.etl.catalog import Catalog

    with Catalog(catalog_path) as catalog:
        if step == "old":
            module = _old_module(old_ref, catalog_path.parent)
            cpu, wall = _cpu(), time.perf_counter()
            result = module.resolve(catalog)
            cpu, wall = _cpu() - cpu, time.perf_counter() - wall
            return {"cpu_s": round(cpu, 2), "wall_s": round(wall, 2), "summary": result.summary(),
                    "edges_sha256": _digest(result.edges), "mode": "old"}
        from ckg.etl.citations import resolve

        if step == "fresh":
            catalog.clear_citation_state()
        cpu, wall = _cpu(), time.perf_counter()
        result = resolve(catalog)
        for _ in result.added:  # what the build stage does with them (streamed in a full run)
            pass
        cpu, wall = _cpu() - cpu, time.perf_counter() - wall
        out = {"cpu_s": round(cpu, 2), "wall_s": round(wall, 2), "summary": result.summary(),
               "edges_sha256": _digest(catalog.citation_edges()), "mode": result.mode, "work": result.work,
               "edges_added": result.added_count, "edges_dropped": len(result.dropped)}
    return out


def measure(step: str, catalog_path: Path, old_ref: str) -> dict:
    """Run a step in a child process: its time, and its peak resident memory."""
    out = catalog_path.with_suffix(f".{step}.json")
    subprocess.run([sys.executable, __file__, "--step", step, "--catalog", str(catalog_path), "--old-ref", old_ref,
                    "--result", str(out)], check=True)
    return json.loads(out.read_text())


def bench_size(papers: int, templates: float, args, work: Path) -> dict:
    gen = Generator(papers, seed=args.seed, entries=args.entries, templates=templates)
    start = time.perf_counter()
    corpus = gen.first_release()
    first = work / f"c{papers}-r1.sqlite"
    entries = write_catalog(first, corpus.papers.values())
    row = {"papers": len(corpus.papers), "entries": entries, "templates": templates,
           "generate_s": round(time.perf_counter() - start, 1)}
    print(f"[{papers:,} papers, templates {templates}] {len(corpus.papers):,} papers, {entries:,} entries written "
          f"({row['generate_s']} s); resolving", flush=True)
    updated = work / f"c{papers}-r2.sqlite"
    copy_catalog(first, updated)
    row["fresh"] = measure("new", updated, args.old_ref)
    old = args.old if args.old is not None else papers <= 20_000
    if old:
        row["old_fresh"] = measure("old", first, args.old_ref)
        row["old_equal"] = (row["old_fresh"]["edges_sha256"] == row["fresh"]["edges_sha256"]
                            and row["old_fresh"]["summary"] == row["fresh"]["summary"])
    put, gone = gen.next_release(corpus, new=0.01, changed=0.01, removed=0.001)
    from ckg.etl.catalog import Catalog

    with Catalog(updated) as catalog:  # the next release, as apply_release writes it (not timed)
        for p in put:
            catalog.put_paper(p, "h2", "r1", "r2")
        catalog.delete_papers(gone)
    check = work / f"c{papers}-r2-fresh.sqlite"
    copy_catalog(updated, check)
    row["update_changes"] = {"put": len(put), "removed": len(gone)}
    row["update"] = measure("new", updated, args.old_ref)
    row["update_fresh"] = measure("fresh", check, args.old_ref)
    row["update_equal"] = (row["update"]["edges_sha256"] == row["update_fresh"]["edges_sha256"]
                           and row["update"]["summary"] == row["update_fresh"]["summary"])
    if old:
        row["old_update"] = measure("old", check, args.old_ref)
        row["old_update_equal"] = (row["old_update"]["edges_sha256"] == row["update"]["edges_sha256"]
                                   and row["old_update"]["summary"] == row["update"]["summary"])
    for path in (first, updated, check):
        for extra in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            extra.unlink(missing_ok=True)
    return row


def project(row: dict, papers: int = 1_000_000, entries: int = 13_000_000) -> dict:
    """Linear projection of the largest measurement to ``papers`` papers and ``entries`` entries:
    a fresh resolution in proportion to the entries, an update to the papers (its change is a
    share of them)."""
    f, u = entries / row["entries"], papers / row["papers"]
    return {"papers": papers, "entries": entries,
            "fresh_cpu_s": round(row["fresh"]["cpu_s"] * f), "fresh_wall_s": round(row["fresh"]["wall_s"] * f),
            "measured_at": {"papers": row["papers"], "entries": row["entries"]},
            "update_cpu_s": round(row["update"]["cpu_s"] * u), "update_wall_s": round(row["update"]["wall_s"] * u),
            "fresh_peak_mb_upper_bound": round(row["fresh"]["maxrss_mb"] * f)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000], help="papers in each corpus")
    parser.add_argument("--entries", type=float, default=15.0, help="bibliography entries per paper with one")
    parser.add_argument("--templates", type=float, nargs="*", default=[0.0, 0.5],
                        help="shares of titles written from templates (one corpus per share and size)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--old-ref", default="dc277e7", help="commit of the resolver to compare with")
    parser.add_argument("--old", action=argparse.BooleanOptionalAction, default=None,
                        help="also run the old resolver (default: for sizes up to 20,000 papers)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "bench_citations.json"))
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--catalog", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:  # a child process: one measured step
        out = _step(args.step, Path(args.catalog), args.old_ref)
        out["maxrss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        Path(args.result).write_text(json.dumps(out))
        return 0

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-citations-") as tmp:
        for templates in args.templates:
            for size in args.sizes:
                rows.append(bench_size(size, templates, args, Path(tmp)))
    report = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                          "load_average": os.getloadavg()},
              "settings": {"entries": args.entries, "templates": args.templates, "seed": args.seed,
                           "old_ref": args.old_ref},
              "sizes": rows,
              "projection": [project(max((r for r in rows if r["templates"] == t), key=lambda r: r["entries"]))
                             | {"templates": t} for t in args.templates]}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))

    print(f"\n{'tpl':>4} {'papers':>8} {'entries':>10} {'run':<24} {'cpu s':>8} {'wall s':>8} {'peak MB':>8}  equal")
    for r in rows:
        lines = [("fresh (new)", r["fresh"], r.get("old_equal")), ("fresh (old)", r.get("old_fresh"), None),
                 ("update (new)", r["update"], r["update_equal"]), ("fresh of update (new)", r["update_fresh"], None),
                 ("update (old: all again)", r.get("old_update"), r.get("old_update_equal"))]
        for name, m, equal in lines:
            if m:
                print(f"{r['templates']:>4} {r['papers']:>8,} {r['entries']:>10,} {name:<24} {m['cpu_s']:>8} {m['wall_s']:>8} "
                      f"{m['maxrss_mb']:>8}  {'' if equal is None else equal}")
        if r.get("old_fresh"):
            print(f"{'':>24} old/new: fresh {r['old_fresh']['wall_s'] / max(r['fresh']['wall_s'], 1e-9):.1f}x wall, "
                  f"{r['old_fresh']['cpu_s'] / max(r['fresh']['cpu_s'], 1e-9):.1f}x cpu; update "
                  f"{r['old_update']['wall_s'] / max(r['update']['wall_s'], 1e-9):.1f}x wall, "
                  f"{r['old_update']['cpu_s'] / max(r['update']['cpu_s'], 1e-9):.1f}x cpu")
    for p in report["projection"]:
        print(f"templates {p['templates']}: projected to {p['papers']:,} papers / {p['entries']:,} entries (linear): "
              f"fresh {p['fresh_wall_s']} s wall ({p['fresh_cpu_s']} s cpu), "
              f"update {p['update_wall_s']} s wall")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
