"""Citation resolution rules, each shown on a small corpus."""

from __future__ import annotations

import pytest

from ckg.etl.catalog import Catalog
from ckg.etl.citations import resolve
from ckg.etl.records import BibEntry, Paper
from ckg.store import catalog_file


def paper(key, title, year=2020, doi="", bib=()):
    return Paper(key=key, title=title, doi=doi, issued=(str(year), "gYear", year) if year else None, bib=list(bib))


@pytest.fixture
def corpus(tmp_path):
    def run(*papers):
        with Catalog(tmp_path / "c.sqlite") as catalog:
            for p in papers:
                catalog.put_paper(p, "h", "r", "r")
            catalog.commit()
            return resolve(catalog)
    return run


TARGET = "Clinical characteristics of 2019 novel coronavirus infection in China"


def test_by_doi_ignoring_preprint_versions(corpus):
    result = corpus(
        paper("a", TARGET, doi="10.1101/2020.02.06.20020974"),
        paper("b", "Citing paper one", bib=[BibEntry("b0", "whatever", 2020, doi="10.1101/2020.02.06.20020974v2")]),
    )
    assert result.edges == {("b", "a"): "doi"}


def test_by_exact_title_with_year_check_for_short_titles(corpus):
    result = corpus(
        paper("a", TARGET),
        paper("s", "Coronavirus disease outbreak in Wuhan", year=2020),
        paper("b", "Citing paper", bib=[
            BibEntry("b0", "Clinical Characteristics of 2019 Novel Coronavirus Infection in China.", 2002),  # long: year ignored
            BibEntry("b1", "Coronavirus disease outbreak in Wuhan", 2015),  # short title, years 5 apart: no match
        ]),
    )
    assert result.edges == {("b", "a"): "title"}
    assert result.entries["unresolved"] == 1


def test_fuzzy_titles(corpus):
    long_title = "Preliminary estimation of the basic reproduction number of novel coronavirus 2019-nCoV in China from 2019 to 2020"
    result = corpus(
        paper("a", long_title),
        paper("c", "The novel coronavirus uses the ACE2 receptor and the TMPRSS2 protease for entry into target cells"),
        paper("b", "Citing paper", bib=[
            BibEntry("b0", "Preliminary estimation of the basic reproduction number of novel coronavirus", 2020),  # truncated
            BibEntry("b1", "Lin Yang and Daihai He 2020 The novel coronavirus uses the ACE2 receptor and the TMPRSS2 "
                           "protease for entry into target cells bioRxiv", 2020),  # debris around the title
        ]),
        paper("d", "Other citing paper", bib=[
            BibEntry("b0", "Preliminary estimation of the basic reproduction 301 number of novel coronaviurs 2019-nCoV "
                           "in China from 2019 to 2020", None),  # a line number and a typo
        ]),
    )
    assert result.edges == {("b", "a"): "title-fuzzy", ("b", "c"): "title-fuzzy", ("d", "a"): "title-fuzzy"}


def test_fuzzy_refuses_replaced_words_short_prefixes_and_conflicting_journal_dois(corpus):
    result = corpus(
        paper("a", "The role of enzyme linked immunosorbent assay in sensitivity during the pandemic", doi="10.5555/a"),
        paper("k", "Key points of clinical and CT imaging features of 2019 novel coronavirus imported pneumonia"),
        paper("m", "Modelling the epidemic trend of the 2019 novel coronavirus outbreak in China and beyond", doi="10.5555/m"),
        paper("b", "Citing paper", bib=[
            BibEntry("b0", "The role of enzyme linked immunosorbent assay in specificity during the pandemic", 2020),
            BibEntry("b1", "CT imaging features of 2019 novel coronavirus", 2020),
            BibEntry("b2", "Modelling the epidemic trend of the 2019 novel coronavirus outbreak", 2020, doi="10.5555/other"),
        ]),
    )
    assert result.edges == {}
    assert result.entries["unresolved"] == 3


def test_ambiguous_and_self(corpus):
    result = corpus(
        paper("a", TARGET, doi="10.1101/2020.02.06.20020974"),
        paper("a2", TARGET, doi="10.1101/2020.02.06.20020974"),  # two versions of one preprint
        paper("b", "Citing paper with its own title in its references", bib=[
            BibEntry("b0", "", None, doi="10.1101/2020.02.06.20020974"),
            BibEntry("b1", "Citing paper with its own title in its references", 2020),
        ]),
    )
    assert result.edges == {}
    assert result.entries == {"ambiguous:doi": 1, "self": 1}


def test_one_edge_per_pair_named_by_the_strongest_evidence(corpus):
    result = corpus(
        paper("a", TARGET, doi="10.5555/a"),
        paper("b", "Citing paper", bib=[BibEntry("b0", TARGET, 2020), BibEntry("b1", "x", None, doi="10.5555/a")]),
    )
    assert result.edges == {("b", "a"): "doi"}
    assert result.summary()["resolved_entries"] == 2 and result.summary()["edges"] == 1


def test_resolver_against_the_demo_corpus_ground_truth(tmp_path):
    """The generator knows which references point into the corpus; the resolver finds them all,
    and nothing else (DOIs, exact titles and misprinted titles)."""
    from ckg.demo_corpus import generate
    from ckg.etl.build import build

    for release in (1, 2):
        generated = generate(tmp_path / f"r{release}", papers=120, seed=3, release=release)
        result = build(tmp_path / f"s{release}", [generated.path])
        with Catalog(catalog_file(tmp_path / f"s{release}")) as catalog:
            found = set(catalog.citation_edges())
        assert found == set(generated.citations)
        assert result.counts["citations"]["edges"] == len(generated.citations)


def test_a_first_run_calls_between_after_each_part_and_stops_at_its_error(tmp_path, monkeypatch):
    """A build resolves while its papers load in a thread (etl.build._stage_derived): ``between``
    raises a failed load's error between the parts of the resolution, not half an hour later."""
    from ckg.etl import citations

    monkeypatch.setattr(citations, "_BATCH", 2)  # a part every two entries
    citing = [paper(f"c{i}", f"Citing paper number {i}", bib=[BibEntry(f"b{j}", TARGET, 2020) for j in range(3)])
              for i in range(4)]
    calls = []

    def between():
        calls.append(len(calls))
        if len(calls) == 3:
            raise OSError(28, "No space left on device")

    with Catalog(tmp_path / "c.sqlite") as catalog:
        for p in [paper("a", TARGET), *citing]:
            catalog.put_paper(p, "h", "r", "r")
        catalog.commit()
        with pytest.raises(OSError, match="No space left"):
            resolve(catalog, between=between)
        assert calls == [0, 1, 2]  # 12 entries in parts of 2: stopped at the third of six
        calls.clear()
        result = resolve(catalog, between=lambda: calls.append(len(calls)))
    assert len(calls) == 6 and result.edges == {(f"c{i}", "a"): "title" for i in range(4)}
