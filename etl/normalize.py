"""Normalisers for the values CORD-19 writes in many forms: text, DOIs, titles, dates, countries.

Each function is pure and deterministic; the identity rules (:mod:`ckg.etl.identity`) and the
citation resolver (:mod:`ckg.etl.citations`) are built on them.

>>> fold("José Núñez-Zoë")
'jose nunez-zoe'
>>> slug("Université de Montréal, Québec")
'universite-de-montreal-quebec'
>>> normalize_doi("https://doi.org/10.1101/2020.01.22.914952.")
'10.1101/2020.01.22.914952'
>>> normalize_title("Clinical Characteristics of 2019 Novel Coronavirus Infection in China.")
'clinical characteristics of 2019 novel coronavirus infection in china'
>>> parse_date("2005 Sep 15"), parse_date("2020"), parse_date("2012 May")
(('2005-09-15', 'date', 2005), ('2020', 'gYear', 2020), ('2012-05', 'gYearMonth', 2012))
>>> normalize_country("U.S.A."), normalize_country("P.R. China"), normalize_country("Deutschland")
('United States', 'China', 'Germany')
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

_NON_SLUG = re.compile(r"[^a-z0-9]+")
_TITLE_DROP = re.compile(r"[^\w\s]|_", re.UNICODE)
_HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")  # not [^>]: that is quadratic on a text full of "<"
_HTML_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);")

# Characters NFKD does not decompose into ASCII.
_TRANSLIT = str.maketrans({
    "ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE", "đ": "d", "Đ": "D",
    "ł": "l", "Ł": "L", "ı": "i", "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D",
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "−": "-",
    "‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "´": "'", "`": "'",
})


def clean_text(value: str | None) -> str:
    """Strip and collapse whitespace; ``None`` becomes ''.

    >>> clean_text("  a\\n  b\\t")
    'a b'
    """
    if not value:
        return ""
    return collapse_space(value)


def collapse_space(value: str) -> str:
    """Runs of whitespace as one space, none at the ends: what ``re.sub(r"\\s+", " ", value).strip()``
    gives (the same characters are whitespace to both: ``str.isspace``), three times as fast.

    >>> collapse_space("  a\\u00a0\\u2028 b\\t")
    'a b'
    """
    if value.isprintable() and "  " not in value and value[:1] != " " and value[-1:] != " ":
        return value  # no whitespace but single inner spaces (2.5 times as fast on parse paragraphs)
    return " ".join(value.split())


# --------------------------------------------------------------------------------------------
# Characters and sizes every literal must respect
# --------------------------------------------------------------------------------------------

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

MAX_FIELD_CHARS = 10_000
"""Most characters of a short text field (a title, a name, an affiliation, a section heading, an
identifier, a bibliography entry's title or venue, a metadata.csv cell other than the abstract
and the authors): real ones stay under 1,500; a longer value is cut, with a warning."""

MAX_TEXT_BYTES = 4 * 2**20
"""Most bytes (UTF-8) of a long text literal (an abstract, a body text, the authors cell): 4 MiB.
Escaped in N-Quads, such a literal stays under half of the 16 MiB line buffer of Oxigraph's bulk
loader; a longer text is cut (a body in the paragraph that reaches the limit), with a warning."""


def has_xml_invalid(value: str) -> bool:
    """True when ``value`` holds a character :func:`xml_text` removes or replaces.

    >>> has_xml_invalid("plain text"), has_xml_invalid("a\\x0cb")
    (False, True)
    """
    return _XML_INVALID.search(value) is not None


def xml_text(value: str) -> tuple[str, int]:
    """``value`` without the characters XML 1.0 does not allow or discourages, and how many were
    removed: C0 controls other than tab, LF and CR, DEL, C1 controls, lone surrogates, U+FFFE and
    U+FFFF. Control characters that Python counts as whitespace (vertical tab, form feed, file
    separators, NEL) become spaces and are not counted: whitespace is collapsed anyway.

    >>> xml_text("a\\x00b\\x0cc\\ud800\\x7f")
    ('ab c', 3)
    """
    if value.isprintable() or not _XML_INVALID.search(value):
        return value, 0  # printable: no control, surrogate or noncharacter (twice as fast as the search)
    removed = 0

    def replace(match: re.Match) -> str:
        nonlocal removed
        if match.group().isspace():
            return " "
        removed += 1
        return ""

    return _XML_INVALID.sub(replace, value), removed


def escape_invalid(value: str) -> str:
    """``value`` with each character :func:`xml_text` would remove written as a Python escape:
    file names and report entries stay readable, unambiguous and valid UTF-8.

    >>> escape_invalid("x\\udcff\\x00.json")
    'x\\\\udcff\\\\x00.json'
    """
    return _XML_INVALID.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), value)


def utf8_size(value: str) -> int:
    """Bytes of ``value`` in UTF-8 (without encoding an ASCII string)."""
    return len(value) if value.isascii() else len(value.encode("utf-8", "surrogatepass"))


def cut_text(value: str, max_chars: int | None = MAX_FIELD_CHARS, max_bytes: int | None = None) -> str:
    """``value`` cut to at most ``max_chars`` characters and ``max_bytes`` bytes of UTF-8 (at a
    character boundary); the value itself when it fits.

    >>> cut_text("abcdef", 4), cut_text("ééé", None, 5)
    ('abcd', 'éé')
    """
    if max_chars is not None and len(value) > max_chars:
        value = value[:max_chars]
    if max_bytes is not None and len(value) * 4 > max_bytes and utf8_size(value) > max_bytes:
        value = value.encode("utf-8", "surrogatepass")[:max_bytes].decode("utf-8", "ignore")
    return value


def fold(value: str) -> str:
    """Lower-case ASCII folding: accents removed, ligatures and dashes transliterated."""
    if value.isascii():
        return collapse_space(value.lower())
    value = unicodedata.normalize("NFKC", value).translate(_TRANSLIT)
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return collapse_space(stripped.lower())


def slug(value: str) -> str:
    """ASCII slug ``[a-z0-9-]``: the folded value with every other run of characters as '-'."""
    return _NON_SLUG.sub("-", fold(value)).strip("-")


# --------------------------------------------------------------------------------------------
# DOIs and other identifiers
# --------------------------------------------------------------------------------------------

_DOI_PREFIX = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/|(?:dx\.)?doi\.org/)", re.IGNORECASE)
_DOI_SYNTAX = re.compile(r"^10\.\d{4,9}/\S+$")


def normalize_doi(value: str | None) -> str:
    """Canonical DOI: lower case, no resolver prefix, no trailing punctuation; '' when invalid.

    >>> normalize_doi("DOI: 10.1016/S0140-6736(20)30183-5")
    '10.1016/s0140-6736(20)30183-5'
    >>> normalize_doi("not a doi")
    ''
    """
    if not value:
        return ""
    doi = unquote(value.strip())
    doi = _DOI_PREFIX.sub("", doi).strip()
    doi = doi.rstrip(".,;:")
    if doi.endswith(")") and doi.count("(") < doi.count(")"):
        doi = doi[:-1]
    doi = doi.lower()
    return doi if _DOI_SYNTAX.match(doi) else ""


_BIORXIV_DOI = re.compile(r"^10\.1101/(?:\d{4}\.\d{2}\.\d{2}\.\d{6,}|\d{5,})$")
_URL_DOI = re.compile(r"doi\.org/(10\.\d{4,9}/[^\s,;]+)", re.IGNORECASE)
_FOOTER_AFTER = re.compile(r"\s*\.?\s*doi:?\s*(?:bio|med)rxiv preprint", re.IGNORECASE)
_FOOTER_BEFORE = "holder for this preprint"


def preprint_dois(text: str) -> list[str]:
    """bioRxiv/medRxiv DOIs (10.1101/...) printed in a preprint's page footers, in order.

    Parses of bioRxiv and medRxiv PDFs carry the paper's own DOI in each page footer
    ("The copyright holder for this preprint ... https://doi.org/10.1101/2020.02.07.937862
    doi: bioRxiv preprint"). Only DOIs in that footer context count (a DOI in a reference
    is another paper's), and only complete ones (line breaks cut some occurrences short).

    >>> preprint_dois("holder for this preprint https://doi.org/10.1101/2020.02.07.937862 doi: bioRxiv preprint "
    ...               "and https://doi.org/10.1101/2020.02")
    ['10.1101/2020.02.07.937862']
    >>> preprint_dois("Guan et al., medRxiv 2020. doi: https://doi.org/10.1101/2020.02.06.20020974. Sun et al.")
    []
    """
    found: list[str] = []
    if "10.1101/" not in text:  # every DOI kept starts so (and the search is a case-blind scan)
        return found
    for match in _URL_DOI.finditer(text):
        doi = normalize_doi(match.group(1))
        if not _BIORXIV_DOI.match(doi):
            continue
        before = text[max(0, match.start() - 250):match.start()].lower()
        if _FOOTER_AFTER.match(text, match.end()) or _FOOTER_BEFORE in before:
            found.append(doi)
    return found


_RXIV = r"(?:bio|med)R[xX]iv"
_NOT_REVIEWED = r"\(which was not (?:peer[- ]reviewed|certified by peer review)\)"
_LICENSED = rf"who has granted {_RXIV} a license to display the preprint in perpetuity"
_BOILERPLATE = re.compile("|".join([  # case as printed; every branch starts with a literal
    rf"[Tt]he copyright holder for this preprint(?:\s*{_NOT_REVIEWED})?(?:\s*is)?(?:\s*the)?(?:\s*author/funder)?"
    rf"(?:,?\s*{_LICENSED})?\s*\.?",
    rf"{_NOT_REVIEWED}(?:\s*[Tt]he copyright holder for this preprint)?(?:\s*is)?(?:\s*the)?\s*\.?",
    rf"https?://doi\.org/10\.1101/\S+?\s*doi:?\s*{_RXIV} preprint",
    rf"{_RXIV} preprint\s*doi:?(?:\s*https?://doi\.org/10\.1101/\S+?(?=[\s;,]|\.?$|\.\s))?",
    rf"doi:?\s*{_RXIV} preprint",
    r"this version posted \w+\.? \d{1,2},? \d{4}\.?",
    rf"author/funder(?:,? {_LICENSED})?\.?",
    rf"{_LICENSED}\.?|who has granted {_RXIV} a license\.?|to display the preprint in perpetuity\.?",
    r"[Ii]t is made available under a\b|is made available under a\b",
    r"CC[- ]BY(?:[- ](?:NC|ND|SA))*(?: \d(?:\.\d)?)?\s*(?:\.\d\s*)?(?:International license\.?)?",
    r"0 International license\.?|International license\.?",
    r"All rights reserved\.",
    r"No reuse allowed without permission\.",
]))
_TRIGGERS = ("copyright holder", "which was not", "rxiv preprint", "version posted", "author/funder", "who has granted",
             "in perpetuity", "made available under", "cc-by", "cc by", "international license", "rights reserved",
             "reuse allowed")
_LEFT_BEFORE = re.compile(r"\b(?:(?:[Ii]t|is|[Tt]he|a)\s+)+(?=[.,;:]?\s*(?:$|[.,;:]))|\bis\s+the\s*(?=\.)")
_LEFTOVER = re.compile(r"(?:(?<=\s)|^)(?:(?:it|is|the|a|under|which|was|not)\b[\s.,;:]*)+$", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]{2,}")


def strip_preprint_boilerplate(text: str) -> str:
    """A paragraph of a preprint's parse without the license footer its PDF pages print
    ("The copyright holder for this preprint (which was not peer-reviewed) is the author/funder,
    who has granted medRxiv a license ... All rights reserved. No reuse allowed without
    permission."), which PDF parsers put into abstracts and bodies, often in pieces. What is left
    of a paragraph that was nothing but such pieces ("is the .") is dropped.

    >>> strip_preprint_boilerplate("We found X. All rights reserved. No reuse allowed without permission. "
    ...                            "author/funder, who has granted medRxiv a license to display the preprint in perpetuity.")
    'We found X.'
    >>> strip_preprint_boilerplate("The copyright holder for this preprint (which was not peer-reviewed) is the .")
    ''
    >>> strip_preprint_boilerplate("0 International license It is made available under a CC-BY-NC-ND 4.0")
    ''
    >>> strip_preprint_boilerplate("Patients were reviewed by the author. It is the first study.")
    'Patients were reviewed by the author. It is the first study.'
    """
    if not text:
        return text
    lowered = text.lower()
    if not any(t in lowered for t in _TRIGGERS):  # most paragraphs: no regex at all
        return text
    cleaned, n = _BOILERPLATE.subn(" ", text)
    if not n:
        return text
    cleaned = " ".join(cleaned.split())
    cleaned = _LEFT_BEFORE.sub("", cleaned)
    cleaned = _LEFTOVER.sub("", cleaned).strip()
    cleaned = re.sub(r"(?<=[.,;:])(?:\s+[.,;:](?=\s|$))+", "", cleaned)  # ". : " where a piece was cut out
    cleaned = re.sub(r"(?<=\w)\s+([.,;:])(?=\s|$)", r"\1", cleaned)
    cleaned = re.sub(r"^[\s.,;:]+", "", cleaned)
    return cleaned if len(_WORD.findall(cleaned)) >= 2 else ""


def normalize_pmcid(value: str | None) -> str:
    """'PMC' + digits, or ''.

    >>> normalize_pmcid("pmc35282"), normalize_pmcid("35282"), normalize_pmcid("x")
    ('PMC35282', 'PMC35282', '')
    """
    if not value:
        return ""
    match = re.fullmatch(r"(?:PMC)?(\d+)", value.strip(), flags=re.IGNORECASE)
    return f"PMC{match.group(1)}" if match else ""


def normalize_pmid(value: str | None) -> str:
    """Digits of a PubMed id; CORD-19's float form '4361535.0' is accepted.

    >>> normalize_pmid("4361535.0"), normalize_pmid(" 123 "), normalize_pmid("abc")
    ('4361535', '123', '')
    """
    if not value:
        return ""
    match = re.fullmatch(r"(\d+)(?:\.0+)?", value.strip())
    return match.group(1).lstrip("0") or "0" if match else ""


def normalize_sha(value: str | None) -> str:
    """A 40-hex-digit SHA-1, lower case, or ''."""
    value = (value or "").strip().lower()
    return value if re.fullmatch(r"[0-9a-f]{40}", value) else ""


def split_multi(value: str | None) -> list[str]:
    """Split CORD-19's multi-valued cells ('a; b') into stripped non-empty parts, keeping order.

    >>> split_multi("PMC; WHO;"), split_multi("")
    (['PMC', 'WHO'], [])
    """
    if not value:
        return []
    parts = []
    for part in value.split(";"):
        part = part.strip()
        if part and part not in parts:
            parts.append(part)
    return parts


# --------------------------------------------------------------------------------------------
# Titles
# --------------------------------------------------------------------------------------------


_TITLE_LABEL = re.compile(r"^\s*(?:title|article title|full title)\s*[:.]\s*", re.IGNORECASE)
_TITLE_TAIL = re.compile(r"\s+(?:running title|running head|short title|short running title)\b.*$", re.IGNORECASE | re.DOTALL)
# Trailing manuscript line numbers (' 2 3'), matched on the reversed title: one anchored match
# there is linear, where searching for them at the end of the title is quadratic in its length.
_TRAILING_NUMBERS_REVERSED = re.compile(r"\s*(?:\d{1,3}\s+)+")


def clean_title(value: str | None) -> str:
    """A title without the front-matter debris PDF extraction leaves around it: a leading
    'Title:' label, a trailing running title, trailing manuscript line numbers.

    >>> clean_title("Title: Genome Detective Coronavirus Typing Tool")
    'Genome Detective Coronavirus Typing Tool'
    >>> clean_title("Bat coronavirus phylogeography Running title: Bat CoV Author affiliations")
    'Bat coronavirus phylogeography'
    >>> clean_title("The RNA pseudoknots are dispensable for replication. 2 3"), clean_title("COVID-19 in 2020")
    ('The RNA pseudoknots are dispensable for replication.', 'COVID-19 in 2020')
    """
    text = clean_text(value)
    text = _TITLE_LABEL.sub("", text)
    cut = _TITLE_TAIL.sub("", text)
    text = cut if cut.strip() else text
    return _without_line_numbers(text).strip()


def _without_line_numbers(text: str) -> str:
    """``text`` without trailing line numbers: two or more numbers of 1-3 digits, or one after
    the title's final punctuation.

    >>> _without_line_numbers("A title 12 13"), _without_line_numbers("A title. 4"), _without_line_numbers("Part 2")
    ('A title', 'A title.', 'Part 2')
    """
    reverse = text[::-1]
    match = _TRAILING_NUMBERS_REVERSED.match(reverse)
    if match is None:
        return text
    before = reverse[match.end():match.end() + 1]
    if len(match.group().split()) >= 2 or (before and before in ".?!"):
        return text[:len(text) - match.end()]
    return text


def normalize_title(value: str | None) -> str:
    """Title key for matching: folded, markup and punctuation removed, whitespace collapsed.

    >>> normalize_title("<i>In vitro</i> &amp; in vivo: the “SARS-CoV-2” spike.")
    'in vitro in vivo the sars cov 2 spike'
    """
    if not value:
        return ""
    text = _HTML_TAG.sub(" ", value)
    text = _HTML_ENTITY.sub(" ", text)
    text = fold(text)
    text = _TITLE_DROP.sub(" ", text)
    return collapse_space(text)


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------

_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}


def parse_date(value: str | None) -> tuple[str, str, int] | None:
    """(lexical value, XSD datatype local name, year) for CORD-19's publish_time forms.

    Forms seen: '2020-03-13', '2020', '2005 Sep 15', '2012 May', '2020 Mar-Apr', '2008 Feb 9'.
    Returns None when no year can be read.

    >>> parse_date("2020 Mar-Apr"), parse_date("spring"), parse_date("2021-02-30")
    (('2020-03', 'gYearMonth', 2020), None, ('2021-02', 'gYearMonth', 2021))
    """
    text = clean_text(value)
    if not text:
        return None
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?", text)
    if match:
        year, month, day = (int(g) for g in match.groups())
        return _ymd(year, month, day)
    match = re.fullmatch(r"(\d{4})(?:\s+([A-Za-z]{3})[A-Za-z]*\.?(?:[-/][A-Za-z]+)?(?:\s+(\d{1,2}))?)?(?:\s.*)?", text)
    if match:
        year = int(match.group(1))
        month = _MONTHS.get((match.group(2) or "").lower()[:3])
        day = int(match.group(3)) if match.group(3) else None
        if month and day:
            return _ymd(year, month, day)
        if month:
            return (f"{year:04d}-{month:02d}", "gYearMonth", year)
        return (f"{year:04d}", "gYear", year)
    match = re.match(r"(\d{4})\b", text)
    if match and 1000 < int(match.group(1)) < 3000:
        year = int(match.group(1))
        return (f"{year:04d}", "gYear", year)
    return None


def _ymd(year: int, month: int, day: int) -> tuple[str, str, int] | None:
    import datetime

    if not 1 <= month <= 12:
        return (f"{year:04d}", "gYear", year)
    try:
        datetime.date(year, month, day)
    except ValueError:
        return (f"{year:04d}-{month:02d}", "gYearMonth", year)
    return (f"{year:04d}-{month:02d}-{day:02d}", "date", year)


# --------------------------------------------------------------------------------------------
# Countries and institutions
# --------------------------------------------------------------------------------------------

_COUNTRY_ALIASES = {
    "usa": "United States", "us": "United States", "u s a": "United States", "u s": "United States",
    "united states": "United States", "united states of america": "United States", "america": "United States",
    "uk": "United Kingdom", "u k": "United Kingdom", "united kingdom": "United Kingdom", "great britain": "United Kingdom",
    "england": "United Kingdom", "scotland": "United Kingdom", "wales": "United Kingdom", "northern ireland": "United Kingdom",
    "britain": "United Kingdom",
    "china": "China", "p r china": "China", "pr china": "China", "prc": "China", "people s republic of china": "China",
    "peoples republic of china": "China", "the people s republic of china": "China", "mainland china": "China",
    "hong kong": "Hong Kong", "hong kong sar": "Hong Kong", "hong kong sar china": "Hong Kong", "hk": "Hong Kong",
    "taiwan": "Taiwan", "republic of china": "Taiwan", "taiwan roc": "Taiwan", "taiwan r o c": "Taiwan",
    "korea": "South Korea", "south korea": "South Korea", "republic of korea": "South Korea", "korea republic of": "South Korea",
    "korea south": "South Korea", "rok": "South Korea",
    "deutschland": "Germany", "germany": "Germany", "federal republic of germany": "Germany",
    "the netherlands": "Netherlands", "netherlands": "Netherlands", "holland": "Netherlands",
    "italia": "Italy", "espana": "Spain", "brasil": "Brazil", "suisse": "Switzerland", "schweiz": "Switzerland",
    "russian federation": "Russia", "russia": "Russia", "viet nam": "Vietnam", "vietnam": "Vietnam",
    "iran islamic republic of": "Iran", "islamic republic of iran": "Iran", "iran": "Iran",
    "uae": "United Arab Emirates", "u a e": "United Arab Emirates", "kingdom of saudi arabia": "Saudi Arabia",
    "ksa": "Saudi Arabia", "czech republic": "Czechia", "czechia": "Czechia", "turkiye": "Turkey",
}


def normalize_country(value: str | None) -> str:
    """Common English short name of a country; unknown names are title-cased as written.

    >>> normalize_country("people's republic of china"), normalize_country("  france ")
    ('China', 'France')
    """
    text = clean_text(value).strip(" .,;")
    if not text:
        return ""
    key = re.sub(r"[^a-z]+", " ", fold(text)).strip()
    if key in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[key]
    if text.islower() or (text.isupper() and len(text) > 3):
        text = text.title()
    return text


_INSTITUTION_ABBREVIATIONS = {
    "univ": "university", "universidad": "university", "universite": "university", "universitat": "university",
    "universita": "university", "universiteit": "university", "inst": "institute", "institut": "institute",
    "instituto": "institute", "istituto": "institute", "natl": "national", "nat": "national", "hosp": "hospital",
    "ctr": "center", "centre": "center", "cent": "center", "dept": "department", "acad": "academy", "sci": "sciences",
    "med": "medical", "coll": "college", "lab": "laboratory", "labs": "laboratories", "res": "research",
    "st": "saint", "&": "and",
}


def institution_key(name: str) -> str:
    """Matching key of an institution name: folded, 'the' and punctuation dropped, common
    abbreviations and language variants expanded.

    >>> institution_key("The Univ. of Hong Kong") == institution_key("University of Hong Kong")
    True
    >>> institution_key("Centre Natl. de la Recherche Scientifique")
    'center national de la recherche scientifique'
    """
    text = fold(name).replace("&", " and ")
    words = [w for w in re.split(r"[^a-z0-9]+", text) if w]
    words = [_INSTITUTION_ABBREVIATIONS.get(w, w) for w in words]
    if words and words[0] == "the":
        words = words[1:]
    return " ".join(words)
