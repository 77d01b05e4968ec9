"""Readers: metadata.csv in every era, document parses, author lists."""

from __future__ import annotations

import io
import json

import pytest

from ckg.etl.authors import authors_from_parse, parse_author_string
from ckg.etl.metadata import FINAL_COLUMNS, MetadataFormatError, canonical_header, iter_rows
from ckg.etl.parses import ParseError, ParseIndex, read_parse, scan
from ckg.etl.report import Report

from conftest import MINI


def rows_of(text: str, report: Report | None = None):
    return list(iter_rows(io.StringIO(text), "m.csv", report or Report()))


def test_headers_of_every_era_map_to_the_final_columns():
    march = "sha,source_x,title,doi,pmcid,pubmed_id,license,abstract,publish_time,authors,journal," \
            "Microsoft Academic Paper ID,WHO #Covidence,has_full_text,full_text_file"
    assert canonical_header(march.split(",")) == [
        "sha", "source_x", "title", "doi", "pmcid", "pubmed_id", "license", "abstract", "publish_time", "authors",
        "journal", "mag_id", "who_covidence_id", "has_full_text", "full_text_file"]
    assert canonical_header(list(FINAL_COLUMNS)) == list(FINAL_COLUMNS)


def test_multiline_quoted_fields_report_the_physical_line():
    report = Report()
    text = 'cord_uid,title,abstract\nabcd1234,"T1","line one\nline two"\nbad,row\nefgh5678,T2,x\n'
    rows = rows_of(text, report)
    assert [(r.row, r.line, r.fields["cord_uid"]) for r in rows] == [(1, 2, "abcd1234"), (3, 5, "efgh5678")]
    assert rows[0].fields["abstract"] == "line one\nline two"
    assert report.counts == {"csv-field-count": 1}
    assert report.examples["csv-field-count"][0].where == "m.csv row 2 (line 4)"


def test_a_table_without_title_or_ids_is_not_metadata():
    with pytest.raises(MetadataFormatError, match="header needs 'title'"):
        rows_of("name,age\nx,1\n")
    with pytest.raises(MetadataFormatError, match="empty file"):
        rows_of("")


def test_author_strings_in_both_orders():
    authors = parse_author_string("Xiang, Zichun; Gonzalez, Richard; Tong, Tommy R.; et al.")
    assert [(a.given, a.middle, a.family) for a in authors] == [
        ("Zichun", (), "Xiang"), ("Richard", (), "Gonzalez"), ("Tommy", ("R.",), "Tong")]
    authors = parse_author_string("Samuel Minot; Stephen D Turner; Lin WANG")
    assert [(a.given, a.family) for a in authors] == [("Samuel", "Minot"), ("Stephen", "Turner"), ("Lin", "WANG")]


def test_unreadable_author_names_are_reported():
    report = Report()
    assert [a.family for a in parse_author_string("Smith, Jo; 1234; Doe, Jane", report, "m.csv row 1")] == ["Smith", "Doe"]
    assert report.counts == {"author-name-unreadable": 1}


def test_parse_author_lists_are_mended_and_affiliations_kept():
    report = Report()
    raw = [
        {"first": "Wei-Jie", "middle": [], "last": "Guan", "suffix": "",
         "affiliation": {"laboratory": "State Key Laboratory", "institution": "Guangzhou Medical University",
                         "location": {"settlement": "Guangzhou", "country": "P.R. China"}}},
        {"first": "Ze", "middle": [], "last": "Chen 23$", "suffix": "", "affiliation": {}},
        {"first": "Mick", "middle": ["Bailey"], "last": "", "suffix": "", "affiliation": {}},
        {"first": "§", "middle": [], "last": "", "suffix": "", "affiliation": {}},
    ]
    authors = authors_from_parse(raw, report, "p.json")
    assert [a.display_name for a in authors] == ["Wei-Jie Guan", "Ze Chen", "Mick Bailey"]
    aff = authors[0].affiliations[0]
    assert (aff.institution, aff.country, aff.settlement, aff.laboratory) == (
        "Guangzhou Medical University", "China", "Guangzhou", "State Key Laboratory")
    assert report.counts == {"author-entry-dropped": 1}


def test_parse_author_names_broken_by_pdf_extraction_are_mended():
    """Patterns seen in the real bioRxiv parses (names changed)."""
    report = Report()
    raw = [
        {"first": "Eamon", "middle": ["B"], "last": "O&apos;dea"},         # an HTML entity in a name
        {"first": "Eric", "middle": ["D &apos;"], "last": "Ortenzio"},      # a particle split off
        {"first": "Peter", "middle": ["R"], "last": ""}, {"first": "Hoyt", "middle": [], "last": ""},
        {"first": "Nicola", "middle": ["J"], "last": ""}, {"first": "Stonehouse", "middle": [], "last": "A#"},
        {"first": "Gerardo", "middle": [], "last": "Chowell Affiliations"},
        {"first": "", "middle": [], "last": "Author&apos;s Affiliation"},
        {"first": "M", "middle": ["A"], "last": "Hons"},
    ]
    authors = authors_from_parse(raw, report, "p.json")
    assert [(a.given, a.middle, a.family) for a in authors] == [
        ("Eamon", ("B",), "O'dea"), ("Eric", (), "D'Ortenzio"), ("Peter", ("R",), "Hoyt"),
        ("Nicola", ("J",), "Stonehouse"), ("Gerardo", (), "Chowell")]
    assert report.counts == {"author-entry-dropped": 2}


def test_read_pdf_parse_with_footer_doi():
    doc = read_parse(MINI / "document_parses" / "pdf_json" / ("9" * 40 + ".json"))
    assert doc.kind == "pdf_json" and doc.paper_id == "9" * 40
    assert doc.title == "Delta preprint on ACE2 expression in the lung"
    assert doc.own_doi == "10.1101/2020.02.01.000009"
    assert doc.abstract == ["ACE2 is expressed in lung tissue."]
    assert doc.body[0] == ("Introduction", "ACE2 expression was measured.")
    assert [b.title for b in doc.bib] == ["Alpha study of coronavirus spike binding to ACE2 receptors medRxiv",
                                         "Delta preprint on ACE2 expression in the lung"]


def test_read_pmc_parse():
    doc = read_parse(MINI / "document_parses" / "pmc_json" / "PMC100001.xml.json")
    assert doc.kind == "pmc_json" and doc.abstract == []
    assert [(b.ref_id, b.doi, b.year) for b in doc.bib][:2] == [("BIBREF0", "10.5555/mini.2", 2020), ("BIBREF1", "", 2019)]


@pytest.mark.parametrize("content, message", [
    ('{"paper_id": "x", ', "malformed JSON"),
    ("[1, 2]", "top level is not an object"),
    ('{"metadata": {}}', "no paper_id"),
    ('{"paper_id": "abc"}', "no metadata object"),
])
def test_unusable_parses_say_why(tmp_path, content, message):
    path = tmp_path / "p.json"
    path.write_text(content)
    with pytest.raises(ParseError, match=message):
        read_parse(path)


def test_scan_indexes_parses_by_name_and_content(tmp_path):
    (tmp_path / "a" / "pdf_json").mkdir(parents=True)
    (tmp_path / "b").mkdir()
    sha = "ab" * 20
    (tmp_path / "a" / "pdf_json" / f"{sha}.json").write_text("{}")
    (tmp_path / "b" / f"{sha}.json").write_text("{}")  # the same sha again, in another subset
    (tmp_path / "b" / "PMC123.xml.json").write_text("{}")
    (tmp_path / "b" / "sample.json").write_text(json.dumps({"paper_id": "cd" * 20, "metadata": {}}))
    (tmp_path / "b" / "broken.json").write_text("{")
    report = Report()
    index = ParseIndex()
    scan(tmp_path, index, report)
    assert sorted(index.by_sha) == [sha, "cd" * 20]
    assert index.by_sha[sha] == tmp_path / "a" / "pdf_json" / f"{sha}.json"
    assert list(index.by_pmcid) == ["PMC123"]
    assert report.counts == {"duplicate-parse": 1, "malformed-json": 1}


def test_preprint_license_footers_are_not_part_of_the_text(tmp_path):
    """bioRxiv/medRxiv PDF parses carry each page's license footer inside the paragraphs; a parse
    whose footers name its DOI loses them (and a paragraph that was nothing else), others keep
    their text as it is."""
    import json

    from ckg.etl.parses import read_parse

    footer = ("The copyright holder for this preprint (which was not peer-reviewed) is the . "
              "https://doi.org/10.1101/2020.02.07.937862 doi: bioRxiv preprint")
    doc = {"paper_id": "a" * 40, "metadata": {"title": "T", "authors": []},
           "abstract": [{"text": "We found X. All rights reserved. No reuse allowed without permission.", "section": "Abstract"}],
           "body_text": [{"text": footer + " Results were clear.", "section": "Results"},
                         {"text": "author/funder. All rights reserved. No reuse allowed without permission.", "section": ""},
                         {"text": "Patients were reviewed by the author.", "section": "Methods"}],
           "bib_entries": {}, "ref_entries": {}, "back_matter": []}
    path = tmp_path / ("a" * 40 + ".json")
    path.write_text(json.dumps(doc))
    parsed = read_parse(path)
    assert parsed.own_doi == "10.1101/2020.02.07.937862"  # read from the footers before they go
    assert parsed.abstract == ["We found X."]
    assert [t for _, t in parsed.body] == ["Results were clear.", "Patients were reviewed by the author."]
    doc["body_text"][0]["text"] = "Results were clear."  # no footer naming a DOI: not a preprint's PDF
    path.write_text(json.dumps(doc))
    assert read_parse(path).abstract == ["We found X. All rights reserved. No reuse allowed without permission."]


def test_whitespace_is_collapsed_as_the_regular_expression_did_for_every_code_point():
    """normalize.collapse_space (str.split) replaced re.sub(r"\\s+", " ", v).strip() in the readers'
    hot path: the same characters must count as whitespace, or a paper's text, and its content
    hash, would change with the code that read it."""
    import re
    import sys

    from ckg.etl.normalize import clean_text, collapse_space

    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    space = re.compile(r"\s+")
    for ch in chars:
        for value in (f" a{ch}{ch}b {ch}", f"a{ch}b c", f"{ch}a b", f"a  b{ch}"):  # the last three: printable fast path
            assert collapse_space(value) == space.sub(" ", value).strip(), (hex(ord(ch)), value)
    assert clean_text("  Severe\u00a0acute\n\trespiratory  ") == "Severe acute respiratory"
    assert clean_text(None) == ""


def test_xml_text_removes_what_its_expression_matches_for_every_code_point():
    """xml_text returns a printable value without searching it (str.isprintable): no character the
    expression matches may be printable, or a control character would reach the store."""
    import sys

    from ckg.etl.normalize import _XML_INVALID, xml_text

    for c in range(sys.maxunicode + 1):
        ch = chr(c)
        value = f"a{ch}b"
        if _XML_INVALID.match(ch):
            assert xml_text(value) == (("a b", 0) if ch.isspace() else ("ab", 1)), hex(c)
        else:
            assert xml_text(value) == (value, 0), hex(c)
