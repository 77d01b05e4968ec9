"""Author lists: CORD-19's ``authors`` strings and the parses' structured entries.

``metadata.csv`` writes authors as ``Last, First M.; Last, First`` (most releases) or
``First M. Last; First Last`` (some early bioRxiv rows). Parses of PDFs carry structured
entries (first, middle[], last, suffix, affiliation) that are sometimes broken by the PDF
extraction: a name split over two entries, an entry with no family name, a running header
taken for a name. Entries that cannot be a name are dropped and each drop is reported.

>>> [a.display_name for a in parse_author_string("Madani, Tariq A; Al-Ghamdi, Aisha A")]
['Tariq A Madani', 'Aisha A Al-Ghamdi']
>>> [(a.given, a.middle, a.family) for a in parse_author_string("Karyn Meltz Steinberg; Erwin van den Born")]
[('Karyn', ('Meltz',), 'Steinberg'), ('Erwin', (), 'van den Born')]
"""

from __future__ import annotations

import html
import re
from typing import Any

from ckg.etl.normalize import clean_text, normalize_country
from ckg.etl.records import Affiliation, AuthorMention
from ckg.etl.report import Report

_PARTICLES = {"van", "von", "de", "der", "den", "del", "della", "di", "da", "du", "la", "le", "dos", "das",
              "do", "ter", "ten", "bin", "ibn", "al", "el", "st", "st.", "mac", "zu", "vander"}
_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "v", "2nd", "3rd"}
_NOT_A_NAME = re.compile(r"[\d@;:()\[\]{}<>|=+*#/\\]")
# words of author-note sentences ("Drs Guan, Ni and Hu contributed equally") taken for names
_NOT_NAME_WORDS = {"contributed", "equally", "corresponding", "author", "authors", "author's", "and", "et", "al",
                   "correspondence", "affiliation", "affiliations", "university", "department", "institute",
                   "hospital", "laboratory", "preprint", "copyright", "hons"}
_NOTE_GIVEN = {"drs", "drs."}
_TRAILING_NOTES = {"affiliation", "affiliations"}
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_MAX_NAME_WORDS = 5
_MAX_NAME_CHARS = 300  # a longer "name" is a sentence or debris


def is_plausible_family_name(value: str) -> bool:
    """A family name has 2+ letters, no digits or markup, and a few words at most.

    >>> is_plausible_family_name("Skewes-Cox"), is_plausible_family_name("Open Access Citation ; Hosking")
    (True, False)
    >>> is_plausible_family_name("Ó"), is_plausible_family_name("")
    (False, False)
    """
    value = value.strip()
    return (
        len(_LETTER.findall(value)) >= 2
        and not _NOT_A_NAME.search(value)
        and len(value.split()) <= _MAX_NAME_WORDS
        and not any(w.lower() in _NOT_NAME_WORDS for w in value.split())
    )


def _split_given(given: str) -> tuple[str, tuple[str, ...]]:
    words = given.split()
    if not words:
        return "", ()
    return words[0], tuple(words[1:])


def parse_author_name(text: str) -> AuthorMention | None:
    """One name, 'Last, First M.' or 'First M. Last'; None when it cannot be a name.

    >>> parse_author_name("Vliet, Albert van der").family
    'Vliet'
    >>> m = parse_author_name("Martin Luther King Jr.")
    >>> (m.given, m.middle, m.family, m.suffix)
    ('Martin', ('Luther',), 'King', 'Jr.')
    >>> parse_author_name("et al.") is None
    True
    """
    text = clean_text(text)
    if not text or len(text) > _MAX_NAME_CHARS or text.lower().rstrip(".") in {"et al", "anonymous", "unknown"}:
        return None
    suffix = ""
    if "," in text:
        family, _, rest = (p.strip() for p in text.partition(","))
        rest_parts = [p.strip() for p in rest.split(",") if p.strip()]
        if rest_parts and rest_parts[-1].lower() in _SUFFIXES:
            suffix = rest_parts.pop()
        given, middle = _split_given(" ".join(rest_parts))
    else:
        words = text.split()
        if len(words) > 1 and words[-1].lower() in _SUFFIXES:
            suffix = words.pop()
        if len(words) == 1:
            given, middle, family = "", (), words[0]
        else:
            i = len(words) - 1
            while i > 1 and words[i - 1].lower() in _PARTICLES:
                i -= 1
            family = " ".join(words[i:])
            given, middle = _split_given(" ".join(words[:i]))
    if not is_plausible_family_name(family):
        return None
    return AuthorMention(given=given, family=family, middle=middle, suffix=suffix)


def parse_author_string(value: str, report: Report | None = None, where: str = "") -> list[AuthorMention]:
    """Authors of a metadata ``authors`` cell, in order."""
    authors = []
    for part in (value or "").split(";"):
        if not part.strip():
            continue
        mention = parse_author_name(part)
        if mention is None:
            if report is not None and part.strip().lower().rstrip(".") != "et al":
                report.warn("author-name-unreadable", where, f"not a person's name: {part.strip()[:80]!r}")
            continue
        authors.append(mention)
    return authors


def _text(value: Any) -> str:
    """A cleaned string; '' for anything else (a parse's fields are type-checked when read,
    :mod:`ckg.etl.parses`; this keeps direct callers from failing on raw entries)."""
    return clean_text(value) if isinstance(value, str) else ""


def _affiliation(raw: Any) -> tuple[Affiliation, ...]:
    if not isinstance(raw, dict):
        return ()
    institution = _text(raw.get("institution"))
    if not institution:
        return ()
    location = raw.get("location") if isinstance(raw.get("location"), dict) else {}
    return (
        Affiliation(
            institution=institution.strip(" ,;."),
            country=normalize_country(_text(location.get("country"))),
            settlement=(_text(location.get("settlement")) or _text(location.get("addrLine"))).strip(" ,;"),
            region=_text(location.get("region")).strip(" ,;"),
            laboratory=_text(raw.get("laboratory")),
        ),
    )


_FOOTNOTE_MARKS = re.compile(r"[\d#*†‡§$¶⇤+^&]+")


def _clean_part(value: Any) -> str:
    """A name part without the footnote marks and numbers PDF extraction glues to names, with
    HTML entities decoded first (the parses write "O&apos;dea").

    >>> _clean_part("O&apos;dea"), _clean_part("Ortenzio1,2*"), _clean_part(None)
    ("O'dea", 'Ortenzio', '')
    """
    if not isinstance(value, str):
        return ""
    return clean_text(_FOOTNOTE_MARKS.sub(" ", html.unescape(value))).strip(" ,;()")


def _name_parts(entry: dict) -> tuple[str, tuple[str, ...], str, str]:
    first = _clean_part(entry.get("first"))
    raw_middle = entry.get("middle") if isinstance(entry.get("middle"), list) else [entry.get("middle")]
    middle = tuple(m for m in map(_clean_part, raw_middle) if m)
    last = _clean_part(entry.get("last"))
    suffix = _clean_part(entry.get("suffix"))
    return first, middle, last, suffix


def authors_from_parse(entries: Any, report: Report, where: str) -> list[AuthorMention]:
    """Authors of a parse's ``metadata.authors`` list.

    PDF extraction breaks names in a few regular ways, which are mended: footnote marks and
    numbers glued to a name are removed; a given name alone followed by a family name alone
    ("Sarah" + "Gold") or by another given name alone ("Emma" + "Warner"; "Nicola" ["J"] +
    "Stonehouse" with a stray initial "A" as family name) is one person; a
    given name with a middle name and no family name ("Mick" ["Bailey"]) takes the last
    middle name as the family name. Other entries without a plausible family name are
    dropped and reported.

    >>> r = Report()
    >>> raw = [{"first": "Sarah", "last": ""}, {"first": "", "last": "Gold"}, {"first": "Emma"}, {"first": "Warner"},
    ...        {"first": "Nicola", "middle": ["J"]}, {"first": "Stonehouse", "last": "A#"},
    ...        {"first": "M", "middle": ["P"], "last": "Open Access Citation ; Hosking"},
    ...        {"first": "Giuseppe", "last": "Fiermonte", "affiliation": {"institution": "University of Bari",
    ...         "location": {"settlement": "Bari", "country": "Italy"}}}]
    >>> [(a.display_name, [f.institution for f in a.affiliations]) for a in authors_from_parse(raw, r, "x.json")]
    [('Sarah Gold', []), ('Emma Warner', []), ('Nicola J Stonehouse', []), ('Giuseppe Fiermonte', ['University of Bari'])]
    >>> r.counts["author-entry-dropped"]
    1
    """
    if not isinstance(entries, list):
        return []
    parts = [(_name_parts(e), e) for e in entries if isinstance(e, dict)]
    authors: list[AuthorMention] = []
    i = 0
    while i < len(parts):
        (first, middle, last, suffix), raw = parts[i]
        if first and not last and i + 1 < len(parts):
            (n_first, n_middle, n_last, n_suffix), n_raw = parts[i + 1]
            if n_last and not n_first and not n_middle:
                last, suffix = n_last, n_suffix or suffix
            elif (n_first and not n_middle and len(_LETTER.findall(n_last)) <= 1 and is_plausible_family_name(n_first)
                  and all(len(m.rstrip(".")) == 1 for m in middle)):
                last = n_first
            if last:
                raw = raw if _affiliation(raw.get("affiliation")) else n_raw
                i += 1
        while last.split() and last.split()[-1].lower() in _TRAILING_NOTES:  # "Chowell Affiliations"
            last = last.rsplit(None, 1)[0] if " " in last else ""
        if middle and middle[-1].endswith("'") and last:  # "Eric" ["D '"] "Ortenzio": D'Ortenzio
            middle, last = middle[:-1], middle[-1].replace(" ", "") + last
        if first and middle and not last and len(middle[-1]) > 1 and "." not in middle[-1]:
            middle, last = middle[:-1], middle[-1]
        i += 1
        if not is_plausible_family_name(last) or first.lower() in _NOTE_GIVEN:
            shown = " ".join(p for p in (first, *middle, last) if p) or "(empty)"
            report.warn("author-entry-dropped", where, f"author entry {shown[:80]!r} has no plausible family name")
            continue
        authors.append(AuthorMention(given=first, family=last, middle=middle, suffix=suffix,
                                     affiliations=_affiliation(raw.get("affiliation"))))
    return authors
