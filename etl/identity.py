"""Identity rules: which key (and so which IRI) a paper, author or institution gets.

The rules are deterministic and local: a key depends only on the mention itself, never on
the rest of the corpus or on reading order, so a rebuild, an incremental update and an
external link always agree on an IRI.

Papers
    the ``cord_uid`` where the row has one; else the first PDF parse's SHA-1 (the parse's
    ``paper_id``); else the PMC id (``PMC123``); else ``doi-`` + the first 16 hex digits of the
    SHA-1 of the normalised DOI; else ``pmid-`` + the PubMed id. A row with none of these is
    rejected.

Authors
    two mentions are the same author when their folded family names are equal and their
    first given names are equal, where a first given name is the first word of the given
    names, reduced to its initial when only an initial is written. So "Wang, Lin",
    "Lin WANG" and "Lin M. Wang" are one author; "L. Wang" is another (an initial is not
    matched to a full name: that would make the key depend on the corpus); middle names,
    suffixes and e-mail addresses are ignored. Homonyms (two people named Lin Wang) share an
    IRI; this is the known limit of name-based identity without ORCIDs.

Institutions
    two affiliations are the same institution when their institution names have the same
    matching key (:func:`ckg.etl.normalize.institution_key`: folded, punctuation and a leading
    "the" dropped, common abbreviations expanded) and their normalised countries are equal
    (an affiliation without a country is keyed by name alone). Laboratory/department and
    address lines do not split or merge institutions.

>>> paper_key(cord_uid="ug7v899j", shas=["d1aafb70c066a2068b02786f8929fd9c900897fb"])
'ug7v899j'
>>> paper_key(shas=["d1aafb70c066a2068b02786f8929fd9c900897fb"], pmcid="PMC35282")
'd1aafb70c066a2068b02786f8929fd9c900897fb'
>>> paper_key(doi="10.1016/0165-2427(82)90049-6")
'doi-c26d7508a8ec24ff'
>>> author_key("Lin", "WANG") == author_key("Lin M.", "Wang") == author_key("lin", "Wang")
True
>>> author_key("J.Robert", "Cantey"), author_key("José", "Núñez-Ruiz")
('cantey_j', 'nunez-ruiz_jose')
>>> institution_key("The Univ. of Bari", "Italy")
'university-of-bari_italy'
"""

from __future__ import annotations

import functools
import hashlib
import re
from urllib.parse import quote

from ckg.etl.normalize import fold, institution_key as _institution_name_key, slug

_CORD_UID = re.compile(r"[a-z0-9]{8}")
_MAX_SLUG = 120


class IdentityError(ValueError):
    """A record has no usable identifier."""


def is_cord_uid(value: str) -> bool:
    return bool(_CORD_UID.fullmatch(value))


def paper_key(*, cord_uid: str = "", shas: list[str] | tuple[str, ...] = (), pmcid: str = "",
              doi: str = "", pmid: str = "") -> str:
    """The paper's key (see the module docstring); :class:`IdentityError` when there is none."""
    if cord_uid:
        if not is_cord_uid(cord_uid):
            raise IdentityError(f"malformed cord_uid {cord_uid!r} (expected 8 characters a-z0-9)")
        return cord_uid
    if shas:
        return shas[0]
    if pmcid:
        return pmcid
    if doi:
        return "doi-" + hashlib.sha1(doi.encode()).hexdigest()[:16]
    if pmid:
        return f"pmid-{pmid}"
    raise IdentityError("no cord_uid, sha, pmcid, doi or pubmed_id")


def _bounded_slug(text: str) -> str:
    """Slug of ``text``; a percent-encoded form for names with no ASCII letters; long values
    are cut and suffixed with a hash so that keys stay bounded and distinct."""
    value = slug(text)
    if not value:
        value = quote(fold(text).replace(" ", "-"), safe="-")
    if len(value) > _MAX_SLUG:
        value = value[:_MAX_SLUG].rstrip("-") + "-" + hashlib.sha1(value.encode()).hexdigest()[:8]
    return value


def first_given_name(given: str) -> str:
    """First word of the given names, or its initial when only an initial is written.

    >>> first_given_name("Tommy R."), first_given_name("J. Robert"), first_given_name("")
    ('tommy', 'j', '')
    """
    words = [w for w in re.split(r"[\s.]+", fold(given)) if w]
    return words[0] if words else ""


@functools.lru_cache(maxsize=1 << 16)  # computed for the paper's graph and again for the catalog; names recur
def author_key(given: str, family: str) -> str:
    """Key of an author mention (see the module docstring)."""
    family_slug = _bounded_slug(family)
    given_slug = slug(first_given_name(given))
    return f"{family_slug}_{given_slug}" if given_slug else family_slug


@functools.lru_cache(maxsize=1 << 16)
def institution_key(name: str, country: str = "") -> str:
    """Key of an affiliation's institution (see the module docstring)."""
    name_slug = _bounded_slug(_institution_name_key(name))
    return f"{name_slug}_{slug(country)}" if country else name_slug
