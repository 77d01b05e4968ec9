"""Joining rows and parses into papers, with every bad record reported (file and row/key) and skipped."""

from __future__ import annotations

from ckg.etl.assemble import Assembler, discover
from ckg.etl.report import Report

from conftest import MINI


def assemble(paths):
    report = Report()
    assembler = Assembler(discover(paths, report), report)
    papers = {p.key: p for p in assembler.papers()}
    return papers, assembler, report


def test_mini_release_papers_and_rejects():
    papers, assembler, report = assemble([MINI])
    assert sorted(papers) == ["9" * 40, "aaaa0001", "aaaa0002", "aaaa0003", "aaaa0008"]
    assert assembler.counts.as_dict() == {"rows": 7, "papers": 5, "with_metadata_and_parse": 2, "metadata_only": 2,
                                          "parse_only": 1, "parses_read": 5, "unchanged_not_read": 0}
    assert report.by_reason("rejected") == {"csv-field-count": 1, "duplicate-paper": 1, "empty-title": 1,
                                            "malformed-json": 1, "missing-id": 1}
    where = {r: [i.where for i in report.examples[r]] for r in report.examples}
    assert where["csv-field-count"] == ["metadata.csv row 4 (line 5)"]
    assert where["missing-id"] == ["metadata.csv row 5 (line 6)"]
    assert where["empty-title"] == ["metadata.csv row 6 (line 7)"]
    assert where["duplicate-paper"] == ["metadata.csv row 7 (line 8)"]
    assert where["malformed-json"] == ["document_parses/pdf_json/" + "8" * 40 + ".json"]
    assert report.by_reason("warning") == {"author-entry-dropped": 1, "not-a-parse": 1}


def test_row_joined_with_two_pdf_parses_and_a_pmc_parse():
    p = assemble([MINI])[0]["aaaa0001"]
    assert p.shas == ["1" * 40, "2" * 40] and p.pmcid == "PMC100001" and p.pmid == "100001"
    assert p.title == "Alpha study of coronavirus spike binding to ACE2 receptors"
    assert p.abstract == "The spike protein binds ACE2. We measured binding affinity in cell lines."  # 'Abstract ' dropped
    # PMC parse first: body, bibliography and (structured) authors come from it
    assert p.body.startswith("Introduction\nThe spike protein of the virus binds the ACE2 receptor")
    assert [b.ref_id for b in p.bib] == ["BIBREF0", "BIBREF1", "BIBREF2", "BIBREF3"]
    assert [a.display_name for a in p.authors] == ["Lin Wang", "John A. Smith", "Zoë Müller"]
    assert p.source_files == ["metadata.csv", "document_parses/pmc_json/PMC100001.xml.json",
                              "document_parses/pdf_json/" + "1" * 40 + ".json",
                              "document_parses/pdf_json/" + "2" * 40 + ".json"]
    assert p.sources == ["PMC", "WHO"] and p.url == "https://example.org/alpha" and p.s2_id == "555"
    assert p.issued == ("2020-02-10", "date", 2020) and p.has_full_text


def test_metadata_only_paper_and_author_string():
    p = assemble([MINI])[0]["aaaa0003"]
    assert not p.has_full_text and p.body == "" and p.bib == []
    assert [(a.given, a.family) for a in p.authors] == [("Zoë", "Müller"), ("Anna", "van der Berg")]
    assert p.issued == ("2019", "gYear", 2019)


def test_paper_with_a_broken_parse_keeps_its_metadata():
    p = assemble([MINI])[0]["aaaa0008"]
    assert p.title == "Eta preprint whose parse is broken" and not p.has_full_text
    assert [a.family for a in p.authors] == ["Rossi"]


def test_parse_only_preprint_gets_doi_and_date_from_its_footer():
    p = assemble([MINI])[0]["9" * 40]
    assert p.doi == "10.1101/2020.02.01.000009" and p.doi_from_text
    assert p.issued == ("2020-02-01", "date", 2020)
    assert p.source_files == ["document_parses/pdf_json/" + "9" * 40 + ".json"]


def test_metadata_file_alone_reads_the_parses_it_names(tmp_path):
    papers, assembler, report = assemble([MINI / "metadata.csv"])
    assert "9" * 40 not in papers  # not named by any row
    assert papers["aaaa0001"].has_full_text and assembler.counts.parses_read == 4


def test_a_paper_in_two_inputs_is_read_once(tmp_path):
    copy = tmp_path / "again.csv"
    copy.write_text((MINI / "metadata.csv").read_text(encoding="utf-8"), encoding="utf-8")
    papers, _, report = assemble([MINI, copy])
    assert len(papers) == 5
    duplicates = [i.where for i in report.examples["duplicate-paper"]]
    assert duplicates[:2] == ["metadata.csv row 7 (line 8)", "again.csv row 1 (line 2)"]
    # the in-file duplicate, then again.csv's rows of the five papers read from metadata.csv (aaaa0002 twice)
    assert report.counts["duplicate-paper"] == 1 + 5
    assert report.counts["empty-title"] == 2  # a rejected record is rejected again, not called a duplicate


def test_row_without_cord_uid_duplicating_a_paper_by_sha(tmp_path):
    csv = tmp_path / "metadata-2020-03.csv"
    csv.write_text("sha,title,doi\n" + "3" * 40 + ",Beta old era row,10.5555/mini.2\n", encoding="utf-8")
    papers, _, report = assemble([MINI, csv])
    assert "3" * 40 not in papers
    assert any("as paper aaaa0002" in i.detail for i in report.examples["duplicate-paper"])
