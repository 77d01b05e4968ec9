"""Authors and institutions of a scale corpus, each a pure function of its number.

People work in labs of eight (person ``k`` in lab ``k // 8``); a lab has a topic (``lab % 10``),
an institution, a department and a culture its members' names mostly come from, so that
co-authors recur, institutions have many authors and names look like CORD-19's (a Zipf head of
very common names, Wang and Zhang first, and a long tail). Institutions are numbered per country
and get distinct names (a scrambled mixed-radix code of pattern, city, field and adjective).

>>> ppl = People(seed=7, n_people=8000, n_institutions=300)
>>> ppl.person(12) == ppl.person(12), ppl.person(12).lab
(True, 1)
>>> name, settlement, region, country = ppl.institution(ppl.person(12).institution)
>>> bool(name) and country in COUNTRIES
True
"""

from __future__ import annotations

import functools
from typing import NamedTuple

from ckg.corpusgen.hashing import Permutation, Stream, Weighted, mix
from ckg.corpusgen.words import (
    COUNTRIES,
    CULTURES,
    INSTITUTION_ADJECTIVES,
    INSTITUTION_FIELDS,
    INSTITUTION_PATTERNS,
    LABORATORIES,
)

LAB_SIZE = 8
TOPICS = 10
_PERSON, _LAB, _INST, _NAME = 11, 12, 13, 14


class Person(NamedTuple):
    first: str
    middle: tuple  # initials, without dots
    last: str
    lab: int
    institution: int  # index into People.institution
    laboratory: str


class People:
    def __init__(self, seed: int, n_people: int, n_institutions: int, cache: dict | None = None) -> None:
        cache = cache or {}
        self.seed = seed
        self.n_labs = max(TOPICS * 2, -(-n_people // LAB_SIZE))
        self.n_labs += (-self.n_labs) % TOPICS  # a whole number of labs per topic
        self.n_people = self.n_labs * LAB_SIZE
        self.cultures = Weighted(range(len(CULTURES)), [c.weight for c in CULTURES])
        # institutions: a share of the total per country, as the cultures' labs need them
        share: dict[str, float] = {}
        for c in CULTURES:
            for k in c.countries:
                share[k] = share.get(k, 0.0) + c.weight / len(c.countries)
        total = sum(share.values())
        self.countries = sorted(share)
        self.per_country = {k: max(3, round(n_institutions * share[k] / total)) for k in self.countries}
        self.offsets, start = {}, 0
        for k in self.countries:
            self.offsets[k] = start
            start += self.per_country[k]
        self.n_institutions = start
        self._inst_country = [k for k in self.countries for _ in range(self.per_country[k])]
        self._inst_order = {k: Permutation(self.per_country[k], mix(seed, _INST, j)) for j, k in enumerate(self.countries)}
        self.institution = functools.lru_cache(maxsize=cache.get("institution", 20_000))(self._institution)
        self.lab = functools.lru_cache(maxsize=cache.get("lab", 50_000))(self._lab)
        self.person = functools.lru_cache(maxsize=cache.get("person", 50_000))(self._person)

    # -- labs --------------------------------------------------------------------------------

    def _lab(self, g: int) -> tuple:
        """(culture, institution, laboratory) of lab ``g``."""
        s = Stream(self.seed, _LAB, g)
        culture = CULTURES[self.cultures.pick(s.u())]
        country = s.pick(culture.countries)
        n = self.per_country[country]
        institution = self.offsets[country] + self._inst_order[country](int(n * s.u() ** 2.2))
        return culture, institution, s.pick(LABORATORIES)

    def labs_of_topic(self) -> int:
        return self.n_labs // TOPICS

    def lab_id(self, topic: int, m: int) -> int:
        """The ``m``-th lab of a topic."""
        return topic + TOPICS * (m % self.labs_of_topic())

    # -- people ------------------------------------------------------------------------------

    def _person(self, k: int) -> Person:
        # 128 bits cut into fields (cheaper than a stream of draws: a paper needs ~6 people)
        h = mix(self.seed, _PERSON, k)
        h2 = mix(h)
        g = k // LAB_SIZE
        lab_culture, institution, laboratory = self.lab(g)
        culture = lab_culture if (h & 1023) < 768 else CULTURES[self.cultures.pick(((h >> 10) & 1023) / 1024)]
        first = name_bits(h >> 20, culture.given, culture.syllables, "", given=True)
        last = name_bits(h2, culture.family, culture.syllables, culture.family_endings, given=False)
        u = ((h2 >> 40) & 1023) / 1024
        middle = () if culture.name == "chinese" or u < 0.55 else (
            (chr(65 + (h2 >> 50) % 26),) if u < 0.93 else (chr(65 + (h2 >> 50) % 26), chr(65 + (h2 >> 56) % 26)))
        if (h >> 52) & 15 < 2:  # a visitor from another institution (1 in 8)
            institution = (h >> 56) * self.n_institutions >> 8
        return Person(first, middle, last, g, institution, laboratory if (h >> 60) < 13 else "")

    def _institution(self, m: int) -> tuple:
        """(name, settlement, region, country key) of institution ``m``."""
        country = self._inst_country[m]
        j = m - self.offsets[country]
        cities = COUNTRIES[country][1]
        patterns = [p for p, _ in INSTITUTION_PATTERNS]
        radix = (len(cities), len(patterns), len(INSTITUTION_FIELDS), len(INSTITUTION_ADJECTIVES))
        space = radix[0] * radix[1] * radix[2] * radix[3]
        code = Permutation(space, mix(self.seed, _INST, m))(j) if j < space else j
        city_k, code = code % radix[0], code // radix[0]
        pattern_k, code = code % radix[1], code // radix[1]
        field_k, code = code % radix[2], code // radix[2]
        adj_k = code % radix[3]
        city, region = cities[city_k]
        name = patterns[pattern_k].format(city=city, field=INSTITUTION_FIELDS[field_k],
                                          adj=INSTITUTION_ADJECTIVES[adj_k])
        return name, city, region, country


def name_bits(h: int, common: tuple, syllables: tuple, endings: tuple, *, given: bool) -> str:
    """A common name (Zipf: the first names of the list most often) or a rarer made-up one, from
    the bits of ``h`` (40 are used)."""
    if (h & 1023) < (614 if given else 512):
        u = ((h >> 10) & 1023) / 1024
        return common[int(len(common) * u * u)]
    a, b = syllables[(h >> 20) % len(syllables)], (h >> 30) & 1023
    if given or not any(endings):
        b = syllables[b % len(syllables)]
        return (a + b).capitalize() if len(a + b) > 3 else (a + b + a).capitalize()
    return a.capitalize() + endings[b % len(endings)]
