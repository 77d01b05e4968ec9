"""One paper of a scale corpus as CORD-19 publishes it: metadata rows and JSON parses.

The parses are written as text directly, in exactly the layout of the real files
(``json.dumps(doc, indent=4, ensure_ascii=True)``: the tests check it), which is several times
faster than building dictionaries and serialising them with the standard library (whose
indented encoder is pure Python).

A paper's bibliography is planned once (which papers of the corpus and which outside works it
cites, in which order) and written per parse with that parse's kind of noise: a PMC parse's
references are clean and nearly all carry their DOI; a PDF parse's lose DOIs, years and venues
and carry the title variants real PDF extraction makes (manuscript line numbers inside the
title, a title cut short or followed by the venue, a typo, two words run together, a preprint
server's name), at the rates measured on real parses (:mod:`ckg.corpusgen.shape`).
"""

from __future__ import annotations

import functools
import json
import random
from dataclasses import dataclass, field

from ckg.corpusgen import shape
from ckg.corpusgen.hashing import Permutation, Stream, mix, rng
from ckg.corpusgen.papers import CACHE_SIZES, Corpus, Head
from ckg.corpusgen.text import RARE, abstract, body
from ckg.corpusgen.words import (
    BACK_MATTER,
    COUNTRIES,
    CULTURES,
    JUNK_REFERENCES,
    PDF_HEADINGS,
    PMC_HEADINGS,
    PREPRINT_FOOTER,
    SUPPLEMENT,
)

E = json.encoder.encode_basestring_ascii
IND = tuple(" " * (4 * k) for k in range(12))
I1, I2, I3, I4, I5, I6 = IND[1:7]
PDF_DIR = "document_parses/pdf_json"
PMC_DIR = "document_parses/pmc_json"
_RENDER, _BIB, _NOISE = 50, 51, 52

# Per parse kind: (share of references showing a DOI they have, PMID, year missing, venue empty,
# title quirks: line numbers, cut short, venue glued on, long debris, preprint server, typo,
# words run together, case/markup, junk entries)
_NOISE_RATES = {
    "pmc": (shape.BIB_DOI_PMC, 0.15, 0.02, 0.03, 0.0, 0.005, 0.0, 0.0, 0.0, 0.004, 0.0, 0.01, 0.0),
    "pdf": (shape.BIB_DOI_JOURNAL_PDF, 0.02, shape.BIB_YEAR_MISSING, shape.BIB_VENUE_EMPTY,
            0.02, 0.04, 0.05, 0.012, 0.0, 0.015, 0.015, 0.02, 0.035),
    "preprint": (shape.BIB_DOI_PREPRINT_PDF, 0.017, shape.BIB_YEAR_MISSING, shape.BIB_VENUE_EMPTY,
                 0.14, 0.04, 0.06, 0.018, 0.03, 0.015, 0.015, 0.03, 0.035),
}


@dataclass
class Counts:
    """What a shard wrote (summed over shards)."""

    rows: int = 0
    papers: int = 0
    duplicate_rows: int = 0
    pdf_json: int = 0
    pmc_json: int = 0
    bytes: int = 0
    bib_entries: int = 0
    in_corpus: int = 0           # entries (of the parse the ETL reads) citing a paper of this release
    in_corpus_by_form: dict = field(default_factory=dict)  # doi / title / variant / variant-short
    future: int = 0              # entries citing a paper not (or no longer) in this release
    changed: int = 0
    removed: int = 0
    added: int = 0

    def add(self, other: Counts) -> None:
        for name in ("rows", "papers", "duplicate_rows", "pdf_json", "pmc_json", "bytes", "bib_entries",
                     "in_corpus", "future", "changed", "removed", "added"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for k, v in other.in_corpus_by_form.items():
            self.in_corpus_by_form[k] = self.in_corpus_by_form.get(k, 0) + v


def _initials_and_name(h: int) -> tuple:
    family = CULTURES[h % len(CULTURES)].family
    initials = _LETTERS[(h >> 8) % 22] + (_LETTERS[(h >> 16) % 22] if (h >> 24) % 10 < 4 else "")
    return initials, family[int(len(family) * (((h >> 32) & 1023) / 1024) ** 2)]


_LETTERS = "ABCDEFGHIJKLMNOPRSTVWY"


def _work(target, title: str, names: tuple, year: int, venue: str, doi: str, pmid: str, volume: str, h: int) -> tuple:
    """A cited work, with what its bibliography entries write: (target paper or None, title,
    author names, year, venue, DOI, PMID, volume (digits), pages (PDF form), pages (PMC form))."""
    if h % 5 == 0:
        pages = pmc_pages = f"e{100 + h % 9900}"
    else:
        first = 1 + (h >> 8) % 2000
        last = first + 3 + (h >> 20) % 13
        pages, pmc_pages = f"{first}--{last}", f"{first}-{last}"
    return target, title, names, year, venue, doi, pmid, volume, pages, pmc_pages


class Renderer:
    def __init__(self, corpus: Corpus) -> None:
        self.c = corpus
        self.seed = corpus.seed
        self.n_external = max(2_000, corpus.n)
        self.external_order = Permutation(self.n_external, mix(self.seed, _BIB))
        self.target_work = functools.lru_cache(maxsize=CACHE_SIZES["cited"])(self._target_work)
        self.external_work = functools.lru_cache(maxsize=CACHE_SIZES["outside"])(self._external_work)
        self.names_json = functools.lru_cache(maxsize=CACHE_SIZES["names_json"])(_bib_authors)

    # -- one paper ---------------------------------------------------------------------------

    def paper(self, i: int, release: int, counts: Counts) -> tuple[list, list]:
        """(metadata rows, [(path, text)]) of paper ``i`` in ``release``."""
        c = self.c
        h = c.head(i)
        change = c.change(i, h) if release == 2 else ""
        counts.changed += bool(change)
        counts.added += release == 2 and i >= c.n
        # separate streams for the abstract, the row and the parses, so that a change of one
        # (release 2) leaves the others byte-identical
        r_text = rng(self.seed, _RENDER, i, 1)
        r_row = rng(self.seed, _RENDER, i, 2)
        r_parse = rng(self.seed, _RENDER, i, 3)
        edit = Stream(self.seed, _RENDER, i, 4)
        full_abstract = ""
        if not h.generic:
            full_abstract = abstract(r_text, c.pools, h.core.topics, h.year,
                                     shape.from_quantiles(r_text.random(), shape.ABSTRACT_CHARS))
        row_abstract = full_abstract if h.has_abstract or change == "abstract" else ""
        if change == "abstract" and h.has_abstract:  # an abstract completed
            row_abstract += " " + RARE.fill(rng(self.seed, _RENDER, i, 5), c.pools.pools[
                h.core.topics[0], "Discussion", int(h.year >= 2020)][edit.below(240)])
        elif row_abstract and "Elsevier" in h.source and r_text.random() < 0.1:
            row_abstract = "Abstract " + row_abstract
        authors = h.authors
        if change == "author":
            authors = authors + (edit.below(c.people.n_people),)
        has_pmc = h.has_pmc or change == "pmc"
        files = []
        if not c.s.parses:
            has_pmc = False
        elif h.shas or has_pmc:
            pdf_abstract = full_abstract if h.has_abstract or r_parse.random() < 0.5 else ""
            files = self.parses(r_parse, h, authors, pdf_abstract, has_pmc, release, counts)
        rows = [self.row(r_row, h, release, change, row_abstract, authors, has_pmc, edit)]
        if h.duplicate_row:
            rows.append(self.duplicate_row(r_row, h, row_abstract, authors))
            counts.duplicate_rows += 1
        counts.rows += len(rows)
        counts.papers += 1
        return rows, files

    # -- metadata rows -----------------------------------------------------------------------

    def author_cell(self, r: random.Random, authors: tuple) -> str:
        u = r.random()
        dots, initials_only = u < 0.4, u > 0.93
        names = []
        for k in authors:
            p = self.c.people.person(k)
            middle = " ".join(m + "." if dots else m for m in p.middle)
            first = f"{p.first[0]}." if initials_only else p.first
            names.append(f"{p.last}, {first}" + (f" {middle}" if middle else ""))
        return "; ".join(names)

    def urls(self, r: random.Random, h: Head, pmcid: str) -> str:
        if not h.core.profile.has("U"):
            return ""
        urls = []
        if pmcid:
            urls.append(f"https://www.ncbi.nlm.nih.gov/pmc/articles/{pmcid}/")
        elif h.pmid:
            urls.append(f"https://www.ncbi.nlm.nih.gov/pubmed/{h.pmid.split('.')[0]}/")
        if h.doi:
            urls.append(f"https://doi.org/{h.doi}")
        if "Elsevier" in h.source and h.doi:
            pii = f"S{h.i:017d}"
            urls += [f"https://api.elsevier.com/content/article/pii/{pii}",
                     f"https://www.sciencedirect.com/science/article/pii/{pii}"]
        if h.arxiv:
            urls.append(f"https://arxiv.org/abs/{h.arxiv}")
        if "MedRxiv" in h.source and h.doi:
            urls.append(f"http://medrxiv.org/cgi/content/short/{h.doi[8:]}v1?rss=1")
        if not urls:
            return ""
        r.shuffle(urls)
        return "; ".join(urls)

    def row(self, r, h: Head, release: int, change: str, text_abstract: str, authors: tuple, has_pmc: bool,
            edit: Stream) -> list:
        title = h.typo_title if h.typo_title and not (release == 2 and change == "title") else h.title
        date = h.date
        if change == "date" and release == 2:
            date = f"{h.year}-{1 + edit.below(6 if h.year == 2022 else 12):02d}-{1 + edit.below(28):02d}"
        shas = h.shas if self.c.s.parses else ()
        pdfs = "; ".join(f"{PDF_DIR}/{sha}.json" for sha in shas)
        pmc = f"{PMC_DIR}/{h.pmcid}.xml.json" if has_pmc else ""
        return [h.uid, "; ".join(shas), h.source, title, h.doi, h.pmcid, h.pmid, h.core.profile.license,
                text_abstract, date, self.author_cell(r, authors), h.journal, "", h.who, h.arxiv, pdfs, pmc,
                self.urls(r, h, h.pmcid), h.s2]

    def duplicate_row(self, r, h: Head, text_abstract: str, authors: tuple) -> list:
        """The same paper sent by another source: same cord_uid, other identifiers and dates, no
        parse (the ETL keeps the first row of a cord_uid and reports this one)."""
        source = r.choice(("PMC", "WHO", "Medline", "Elsevier; PMC", "PMC; WHO"))
        pmcid = f"PMC{1_000_000 + self.c.id_code(h.i, 2)}" if "PMC" in source else ""
        doi = h.doi if r.random() < 0.5 else ""
        title = h.title if r.random() < 0.8 else h.title.upper()
        lic = "unk" if source == "WHO" else r.choice(("no-cc", "cc-by", "els-covid"))
        date = str(h.year) if len(h.date) == 10 else f"{h.year}-{1 + r.randrange(12):02d}-{1 + r.randrange(28):02d}"
        url = f"https://www.ncbi.nlm.nih.gov/pmc/articles/{pmcid}/" if pmcid else (
            f"https://doi.org/{doi}" if doi else "")
        return [h.uid, "", source, title, doi, pmcid, "", lic, text_abstract if r.random() < 0.6 else "", date,
                self.author_cell(r, authors), h.journal, "", "", "", "", "", url, ""]

    # -- parses ------------------------------------------------------------------------------

    def parses(self, r, h: Head, authors: tuple, text_abstract: str, has_pmc: bool, release: int,
               counts: Counts) -> list:
        c = self.c
        u = r.random()
        scale = c.s.text_scale
        paragraphs = max(1, round(shape.from_quantiles(u, shape.BODY_PARAGRAPHS) * scale))
        chars = shape.from_quantiles(min(1.0, max(0.0, u + r.uniform(-0.1, 0.1))), shape.BODY_CHARS) * scale
        content = body(r, c.pools, h.core.topics, h.year, paragraphs, chars)
        refs = self.bibliography(r, h)
        n_figures = round(shape.from_quantiles(r.random(), shape.REF_ENTRIES))
        citations = place_citations(r, content, len(refs), n_figures)
        back = [r.choice(BACK_MATTER) for _ in range(_pick_count(r, shape.BACK_MATTER))]
        files = []
        # the parse the ETL reads the bibliography of: the PMC parse, else the first PDF parse
        main_kind = "pmc" if has_pmc else ("preprint" if h.preprint else "pdf")
        pdf_abstract = text_abstract
        for k, sha in enumerate(h.shas):
            kind = "preprint" if h.preprint else "pdf"
            if k == 0 or r.random() < 0.6:  # a second PDF: another copy of the paper, or its supplement
                text = self.document(h, sha, authors, pdf_abstract, content, citations, refs, n_figures, back,
                                     kind, counts if main_kind == kind and k == 0 else None, release, copy=k)
            else:
                text = self.supplement(r, h, sha)
            files.append((f"{PDF_DIR}/{sha}.json", text))
            counts.pdf_json += 1
        if has_pmc:
            text = self.document(h, h.pmcid, authors, "", content, citations, refs, max(0, n_figures // 2), [],
                                 "pmc", counts, release)
            files.append((f"{PMC_DIR}/{h.pmcid}.xml.json", text))
            counts.pmc_json += 1
        if c.s.compact_json:
            files = [(path, compact(text)) for path, text in files]
        return files

    def bibliography(self, r, h: Head) -> list:
        """The works paper ``h`` cites (:func:`_work` tuples), in the order of its reference list."""
        c = self.c
        rand = r.random
        n_bib = max(1, round(shape.from_quantiles(rand(), shape.BIB_ENTRIES) * (1.0 if h.preprint else 1.1)))
        year_factor = 0.4 if h.year < 2020 else 0.9 if h.year == 2020 else 1.2
        wanted = min(n_bib, round(n_bib * c.s.in_corpus_share * year_factor * (0.5 + rand())))
        refs = [self.target_work(j) for j in c.targets(r, h.i, wanted)]
        taken: set = set()
        topics = h.core.topics
        n_external = self.n_external
        order = self.external_order
        year = h.year
        while len(refs) < n_bib:
            for _ in range(8):
                k = order(int(n_external * rand() ** 3))
                if rand() < 0.7:  # an outside work of the same popularity in a topic of the paper
                    k += topics[int(rand() * len(topics))] - k % 10
                    if k >= n_external:
                        k -= 10
                if k not in taken:
                    work = self.external_work(k)
                    if work[3] <= year:
                        break
            taken.add(k)
            refs.append(work)
        r.shuffle(refs)
        return refs

    def _target_work(self, j: int) -> tuple:
        c = self.c
        _, core, _, title, authors, _, doi, pmid, journal = c.front(j)
        names = []
        for position, person in enumerate(authors[:6]):
            if position and position < len(authors) - 1:  # the first and last authors are the paper's own
                names.append(_initials_and_name(mix(self.seed, _BIB, j, position)))  # (cheaper: a reference's
                continue  # co-authors are not read by the ETL)
            p = c.people.person(person)
            names.append((p.first[0] + "".join(p.middle), p.last))
        return _work(j, title, tuple(names), core.year, journal, doi, pmid.split(".")[0],
                     str(max(1, core.year - 1950 + (j % 7))), mix(self.seed, _BIB, j))

    def _external_work(self, k: int) -> tuple:
        title, names, year, venue, doi, pmid, _ = self.c.external(k)
        return _work(None, title, names, year, venue, doi, pmid, str(1 + k % 120), mix(self.seed, _BIB, -k))

    def document(self, h: Head, paper_id: str, authors: tuple, text_abstract: str, content: list,
                 citations: list, refs: list, n_figures: int, back: list, kind: str, counts: Counts | None,
                 release: int, copy: int = 0) -> str:
        """The JSON text of one full parse."""
        pmc = kind == "pmc"
        r = rng(self.seed, _NOISE, h.i, 1 if pmc else 0, copy)
        title = h.title
        if not pmc and r.random() < 0.04:
            title = ""  # PDF extraction found no title
        out = ['{\n    "paper_id": ', E(paper_id), ',\n    "metadata": {\n        "title": ', E(title),
               ',\n        "authors": ', self.authors_json(r, authors, pmc, h), "\n    },\n"]
        if not pmc:
            out.append('    "abstract": ')
            out.append(abstract_json(r, text_abstract))
            out.append(",\n")
        out.append('    "body_text": ')
        out.append(body_json(r, h, content, citations, n_figures, pmc, kind == "preprint"))
        bib = self.bib_json(r, refs, kind, counts, release)
        figures = ref_entries_json(r, h, n_figures, pmc)
        back_json = paragraphs_json([(t, "Acknowledgements" if k == 0 else "") for k, t in enumerate(back)], 1)
        if pmc:
            out += [',\n    "ref_entries": ', figures, ',\n    "back_matter": ', back_json, ',\n    "bib_entries": ',
                    bib, "\n}"]
        else:
            out += [',\n    "bib_entries": ', bib, ',\n    "ref_entries": ', figures, ',\n    "back_matter": ',
                    back_json, "\n}"]
        return "".join(out)

    def supplement(self, r, h: Head, sha: str) -> str:
        """A second PDF of the paper: its supplementary material (short, few references)."""
        texts = [SUPPLEMENT[k % len(SUPPLEMENT)].format(
            k=k + 1, population="participants", w="the outcome", c="the exposure", c2="covariates")
            for k in range(1 + r.randrange(3))]
        return ('{\n    "paper_id": ' + E(sha) + ',\n    "metadata": {\n        "title": "",\n        "authors": []\n'
                '    },\n    "abstract": [],\n    "body_text": ' + paragraphs_json([(t, "") for t in texts], 1)
                + ',\n    "bib_entries": {},\n    "ref_entries": {},\n    "back_matter": []\n}')

    def authors_json(self, r, authors: tuple, pmc: bool, h: Head) -> str:
        if not authors or (not pmc and r.random() < shape.PARSE_AUTHORLESS):
            return "[]"
        items = []
        for position, k in enumerate(authors):
            p = self.c.people.person(k)
            middle = [m + "." for m in p.middle] if pmc else list(p.middle)
            affiliation = "{}"
            if r.random() < shape.AFFILIATED:
                name, settlement, region, country = self.c.people.institution(p.institution)
                spellings = COUNTRIES[country][0]
                spelled = spellings[0] if r.random() < 0.6 else r.choice(spellings)
                u = r.random()
                location = ([("country", E(spelled))] if u < 0.25 else
                            [("settlement", E(settlement)), ("country", E(spelled))] if u < 0.6 or not region else
                            [("settlement", E(settlement)), ("region", E(region)), ("country", E(spelled))])
                affiliation = obj([("laboratory", E(p.laboratory)), ("institution", E(name)),
                                   ("location", obj(location, 5))], 4)
            if pmc:
                fields = [("first", E(p.first)), ("middle", str_list(middle, 4)), ("last", E(p.last)),
                          ("suffix", '""'), ("email", "null"), ("affiliation", affiliation)]
            else:
                email = ""
                if position == 0 and r.random() < 0.3:
                    email = f"{_ascii(p.first).lower()}.{_ascii(p.last).lower()}@example.org"
                fields = [("first", E(p.first)), ("middle", str_list(middle, 4)), ("last", E(p.last)),
                          ("suffix", '""'), ("affiliation", affiliation), ("email", E(email))]
            items.append(obj(fields, 3))
        return array(items, 2)

    def bib_json(self, r, refs: list, kind: str, counts: Counts | None, release: int) -> str:
        rates = _NOISE_RATES[kind]
        p_doi, p_pmid, p_year, p_venue = rates[:4]
        p_doi = min(1.0, p_doi / 0.8)  # of works that have a DOI (about 80% of those cited)
        p_pmid *= 5
        quirks = rates[4:12]
        p_junk = rates[12]
        pmc = kind == "pmc"
        rand = r.random
        present = self.c.present
        items = []
        for j, ref in enumerate(refs):
            target = ref[0]
            form = ""
            if not pmc and target is None and rand() < p_junk:
                e_title, authors, year, e_venue, doi, pmid, e_volume, e_pages = (
                    E(JUNK_REFERENCES[int(rand() * len(JUNK_REFERENCES))]), "[]", "null", '""', "", "", '""', '""')
            else:
                doi = ref[5] if ref[5] and rand() < p_doi else ""
                if doi and rand() < 0.1:
                    doi = doi.upper()
                pmid = ref[6] if ref[6] and not doi and rand() < p_pmid else ""
                title, form = quirk(r, ref[1], ref[4], ref[7], quirks)
                e_title = E(title)
                year = "null" if rand() < p_year else str(ref[3] - (rand() < 0.03))
                e_venue = '""' if rand() < p_venue else E(ref[4])
                e_volume = f'"{ref[7]}"' if pmc or rand() < 0.7 else '""'
                e_pages = f'"{ref[9] if pmc else ref[8]}"'
                authors = self.names_json(ref[2], pmc)
            if counts is not None:
                counts.bib_entries += 1
                if target is not None:
                    if present(target, release):
                        counts.in_corpus += 1
                        how = "doi" if doi else (form or "title")
                        counts.in_corpus_by_form[how] = counts.in_corpus_by_form.get(how, 0) + 1
                    else:
                        counts.future += 1
            if doi or pmc:
                ids = f'{{\n{I4}"DOI": [\n{I5}{E(doi)}\n{I4}]' if doi else f'{{\n{I4}"DOI": []'
                ids += f',\n{I4}"PMID": [\n{I5}"{pmid}"\n{I4}]\n{I3}}}' if pmid else f"\n{I3}}}"
            elif pmid:
                ids = f'{{\n{I4}"PMID": [\n{I5}"{pmid}"\n{I4}]\n{I3}}}'
            else:
                ids = "{}"
            head = f'{I2}"BIBREF{j}": {{\n' if pmc else f'{I2}"BIBREF{j}": {{\n{I3}"ref_id": "b{j}",\n'
            items.append(f'{head}{I3}"title": {e_title},\n{I3}"authors": {authors},\n{I3}"year": {year},\n'
                         f'{I3}"venue": {e_venue},\n{I3}"volume": {e_volume},\n{I3}"issn": "",\n'
                         f'{I3}"pages": {e_pages},\n{I3}"other_ids": {ids}\n{I2}}}')
        return "{\n" + ",\n".join(items) + f"\n{I1}}}" if items else "{}"


def _bib_authors(names: tuple, pmc: bool) -> str:
    """The ``authors`` of a bibliography entry (PDF parses split initials, PMC parses join them)."""
    if not names:
        return "[]"
    parts = []
    for initials, last in names:
        if pmc:
            first, middle = E(initials), "[]"
        else:
            first = E(initials[0])
            middle = "[]" if len(initials) == 1 else (
                "[\n" + ",\n".join(I6 + E(ch) for ch in initials[1:]) + f"\n{I5}]")
        parts.append(f'{I4}{{\n{I5}"first": {first},\n{I5}"middle": {middle},\n{I5}"last": {E(last)},\n'
                     f'{I5}"suffix": ""\n{I4}}}')
    return "[\n" + ",\n".join(parts) + f"\n{I3}]"


# -- bibliography noise ------------------------------------------------------------------------

def quirk(r: random.Random, title: str, venue: str, volume: str, rates: tuple) -> tuple[str, str]:
    """A reference's title as a parse writes it, and what was done to it ("" = nothing)."""
    numbers, cut, glued, debris, server, typo, joined, case = rates
    words = title.split(" ")
    u = r.random()
    if (u := u - numbers) < 0 and len(words) >= 4:
        k = 1 + r.randrange(len(words) - 1)
        line = 100 + r.randrange(800)
        words.insert(k, str(line))
        if r.random() < 0.3 and k + 3 < len(words):
            words.insert(k + 3, str(line + 1))
        return " ".join(words), "variant"
    if (u := u - cut) < 0 and len(words) >= 6:
        k = max(3, len(words) - 1 - r.randrange(min(6, len(words) - 3)))
        return " ".join(words[:k]), "variant" if k >= 8 else "variant-short"
    if (u := u - glued) < 0:
        return f"{title} {venue} {volume}".strip(), "variant"
    if (u := u - debris) < 0:
        return (f"{title} The copyright holder for this preprint is the author/funder, who has granted a license "
                f"to display the preprint in perpetuity. It is made available under a CC-BY-NC-ND 4.0 "
                f"International license"), "variant"
    if (u := u - server) < 0:
        return f"{title} {r.choice(('medRxiv', 'bioRxiv', 'medRxiv preprint'))}", "variant"
    if (u := u - typo) < 0:
        long = [k for k, w in enumerate(words) if len(w) >= 6 and w.isalpha()]
        if long:
            k = r.choice(long)
            w = words[k]
            j = 1 + r.randrange(len(w) - 2)
            words[k] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
            return " ".join(words), "variant"
    if (u := u - joined) < 0 and len(words) >= 3:
        k = r.randrange(len(words) - 1)
        if words[k].isalpha() and words[k + 1].isalpha():
            return " ".join(words[:k] + [words[k] + words[k + 1].lower()] + words[k + 2:]), "variant"
    if (u := u - case) < 0:
        v = r.random()
        return (title.lower() if v < 0.4 else title.upper() if v < 0.6 else title + "." if v < 0.8
                else title.replace(words[-1], f"<i>{words[-1]}</i>")), "title"
    return title, ""


# -- body ----------------------------------------------------------------------------------------

def place_citations(r: random.Random, content: list, n_refs: int, n_figures: int) -> list:
    """Per paragraph, ``{sentence: [reference numbers] or a figure number (an int)}``: references
    numbered in order of first citation, mostly in introductions and discussions, a few cited
    again; figures and tables called in results paragraphs."""
    slots = []
    results = []
    for p, (section, sentences) in enumerate(content):
        if section in ("Introduction", "Discussion"):
            slots += [(p, s) for s in range(len(sentences))]
        else:
            slots += [(p, s) for s in range((p % 3) % len(sentences), len(sentences), 3)]
            if section == "Results":
                results += [(p, s) for s in range(len(sentences) - 1, -1, -4)]
    if not slots:
        slots = [(0, 0)]
    marks: list = [{} for _ in content]
    if n_refs <= len(slots):
        chosen = sorted(r.sample(range(len(slots)), n_refs))
    else:
        chosen = sorted(int(r.random() * len(slots)) for _ in range(n_refs))
    number = 0
    for position in chosen:
        number += 1
        p, s = slots[position]
        marks[p].setdefault(s, []).append(number)
        if r.random() < 0.03:
            p2, s2 = slots[position + int(r.random() * (len(slots) - position))]
            marks[p2].setdefault(s2, []).append(1 + int(r.random() * number))
    figure = 0
    for p, s in results:
        if figure >= n_figures:
            break
        if s not in marks[p]:
            marks[p][s] = figure
            figure += 1
    return marks


def body_json(r, h: Head, content: list, citations: list, n_figures: int, pmc: bool, preprint: bool) -> str:
    items = []
    rand = r.random
    headings = PMC_HEADINGS if pmc else PDF_HEADINGS
    for (section, sentences), marks in zip(content, citations):
        options = headings[section]
        heading = options[int(rand() * len(options))]
        if not marks:
            items.append(paragraph(" ".join(sentences), (), (), heading))
            continue
        pieces, spans, ref_spans, pos, done = [], [], [], 0, 0
        for k in sorted(marks):
            if k > done:  # the sentences before this one, unmarked
                run = " ".join(sentences[done:k])
                pieces.append(run)
                pos += len(run)
            if pos:
                pieces.append(" ")
                pos += 1
            sentence = sentences[k]
            core = sentence[:-1]
            pieces.append(core)
            pos += len(core)
            refs = marks[k]
            if type(refs) is int:  # a figure or table
                figure = refs
                table = figure % 3 == 0
                mark = f"Table {figure // 3 + 1}" if table else f"Fig. {figure - figure // 3}"
                ref_spans.append(f'{I4}{{\n{I5}"start": {pos + 2},\n{I5}"end": {pos + 2 + len(mark)},\n'
                                 f'{I5}"text": "{mark}",\n{I5}"ref_id": "{"TABREF" if table else "FIGREF"}{figure}"\n'
                                 f'{I4}}}')
                pieces.append(f" ({mark})")
                pos += len(mark) + 3
            elif pmc:  # "(3, 4)": each number is a span ("mention")
                pieces.append(" (")
                pos += 2
                for j, ref in enumerate(refs):
                    if j:
                        pieces.append(", ")
                        pos += 2
                    mention = str(ref)
                    spans.append(f'{I4}{{\n{I5}"start": {pos},\n{I5}"end": {pos + len(mention)},\n'
                                 f'{I5}"mention": "{mention}",\n{I5}"ref_id": "BIBREF{ref - 1}"\n{I4}}}')
                    pieces.append(mention)
                    pos += len(mention)
                pieces.append(")")
                pos += 1
            else:  # "[3] [4]": each bracket is a span ("text")
                for ref in refs:
                    mark = f"[{ref}]"
                    pos += 1
                    spans.append(f'{I4}{{\n{I5}"start": {pos},\n{I5}"end": {pos + len(mark)},\n'
                                 f'{I5}"text": "{mark}",\n{I5}"ref_id": "BIBREF{ref - 1}"\n{I4}}}')
                    pieces.append(" " + mark)
                    pos += len(mark)
            pieces.append(sentence[-1])
            pos += 1
            done = k + 1
        if done < len(sentences):
            pieces.append(" " + " ".join(sentences[done:]))
        items.append(paragraph("".join(pieces), spans, ref_spans, heading))
        if preprint and rand() < 0.04 and h.doi:
            items.append(paragraph(PREPRINT_FOOTER.format(doi=h.doi, server="medRxiv" if "Med" in h.source
                                                          else "bioRxiv"), (), (), "(which was not peer-reviewed)"))
    return "[\n" + ",\n".join(items) + "\n" + I1 + "]"


def paragraph(text: str, spans: list, ref_spans: list, section: str) -> str:
    """One element of ``body_text`` (spans already rendered at level 4)."""
    cite = "[\n" + ",\n".join(spans) + "\n" + IND[3] + "]" if spans else "[]"
    refs = "[\n" + ",\n".join(ref_spans) + "\n" + IND[3] + "]" if ref_spans else "[]"
    return (f'{IND[2]}{{\n{IND[3]}"text": {E(text)},\n{IND[3]}"cite_spans": {cite},\n{IND[3]}"ref_spans": {refs},\n'
            f'{IND[3]}"section": {E(section)}\n{IND[2]}}}')


def paragraphs_json(texts: list, level: int) -> str:
    """A list of plain paragraphs ((text, section) pairs) at ``level``."""
    if not texts:
        return "[]"
    a, b = IND[level + 1], IND[level + 2]
    items = [f'{a}{{\n{b}"text": {E(t)},\n{b}"cite_spans": [],\n{b}"ref_spans": [],\n{b}"section": {E(s)}\n{a}}}'
             for t, s in texts]
    return "[\n" + ",\n".join(items) + "\n" + IND[level] + "]"


def abstract_json(r: random.Random, text: str) -> str:
    """A PDF parse's abstract: the abstract in paragraphs (none when the parser missed it)."""
    if not text:
        return "[]"
    n = _pick_count(r, shape.ABSTRACT_PARAGRAPHS)
    if n == 0:
        return "[]"
    sentences = text.split(". ")
    size = -(-len(sentences) // min(n, len(sentences)))
    parts = [". ".join(sentences[k:k + size]) for k in range(0, len(sentences), size)]
    parts = [p if p.endswith(".") else p + "." for p in parts]
    if n > len(parts) or r.random() < 0.6:  # what else the parser took for the abstract
        parts.append(r.choice(_ABSTRACT_EXTRA))
        if r.random() < 0.4:
            parts.append(r.choice(_ABSTRACT_EXTRA))
    return paragraphs_json([(p, "Abstract") for p in parts], 1)


_ABSTRACT_EXTRA = (
    "The copyright holder for this preprint (which was not peer-reviewed) is the author/funder, who has granted "
    "medRxiv a license to display the preprint in perpetuity. All rights reserved. No reuse allowed without "
    "permission.",
    "Author summary: We describe what this study adds to the evidence and why it matters for patients, "
    "clinicians and public health agencies during the ongoing outbreak.",
    "Keywords: epidemiology; public health; clinical outcomes; surveillance; modelling",
    "One Sentence Summary: A large study quantifies the association described above and its consequences.")


def ref_entries_json(r: random.Random, h: Head, n: int, pmc: bool) -> str:
    items = []
    for k in range(n):
        table = k % 3 == 0
        label = f"Table {k // 3 + 1}" if table else f"Figure {k - k // 3}"
        what = r.choice(_TABLES if table else _FIGURES)
        text = f"{label}: {what}"
        fields = [("text", E(text))] + ([] if pmc else [("latex", "null")]) + [("type", '"table"' if table else '"figure"')]
        items.append((f"{'TABREF' if table else 'FIGREF'}{k}", obj(fields, 2)))
    return obj(items, 1)


_TABLES = ("Characteristics of the participants", "Baseline characteristics by group", "Results of the regression model",
           "Sensitivity analyses", "Studies included in the review", "Primers and probes used in this study")
_FIGURES = ("Flow chart of the study", "Distribution of outcomes by group", "Epidemic curve by date of onset",
            "Phylogenetic tree of the sequences", "Forest plot of the pooled estimates", "Model fit to the observed data")


# -- JSON text ---------------------------------------------------------------------------------

def compact(text: str) -> str:
    """An indented parse without its indentation and line breaks (JSON strings hold none: they
    are escaped)."""
    for level in range(8, 0, -1):
        text = text.replace("\n" + IND[level], "")
    return text.replace("\n", "")


def obj(fields: list, level: int) -> str:
    """A JSON object at ``level`` from (key, rendered value) pairs, as ``json.dumps(indent=4)``."""
    if not fields:
        return "{}"
    a = IND[level + 1]
    return "{\n" + ",\n".join(f'{a}"{k}": {v}' for k, v in fields) + "\n" + IND[level] + "}"


def array(items: list, level: int) -> str:
    """A JSON array at ``level`` of values already rendered at ``level + 1``."""
    if not items:
        return "[]"
    a = IND[level + 1]
    return "[\n" + ",\n".join(a + v for v in items) + "\n" + IND[level] + "]"


def str_list(values: list, level: int) -> str:
    if not values:
        return "[]"
    a = IND[level + 1]
    return "[\n" + ",\n".join(a + E(v) for v in values) + "\n" + IND[level] + "]"


def _pick_count(r: random.Random, table: tuple) -> int:
    total = sum(c for _, c in table)
    u = r.random() * total
    for value, count in table:
        u -= count
        if u < 0:
            return value
    return table[-1][0]


_TRANSLIT = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "ı": "i", "æ": "ae"})


def _ascii(text: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum())
