"""One bad file must not stop a build: each kind of malformed input is reported, naming its file
(and row or field), and skipped or repaired, while the rest of the build goes on.

Most cases share one build (the "gauntlet": one bad parse per case among good ones); FIFOs,
folders, a text past the bulk loader's line buffer and an update get builds of their own.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import os
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ckg.etl.build import update
from ckg.etl.metadata import FINAL_COLUMNS, iter_rows
from ckg.etl.normalize import MAX_TEXT_BYTES, xml_text
from ckg.etl.report import Report
from ckg.sparql import execute, write
from ckg.store import open_store

from conftest import write_next_mini_release
from fuzzgen import build_quietly, logged_issues, make_unreadable, paper_keys, render, sha_of, valid_parse

PARSES = "document_parses/pdf_json"


def parse_file(case: str) -> str:
    return f"{PARSES}/{sha_of(case)}.json"


def doc_for(case: str) -> dict:
    return valid_parse(sha_of(case), f"The paper of case {case} on coronavirus pneumonia")


def with_value(case: str, path: str, value) -> dict:
    """A valid parse with one value replaced (``path`` as in 'metadata.authors.0.affiliation')."""
    doc = doc_for(case)
    *parents, last = [int(k) if k.isdigit() else k for k in path.split(".")]
    target = doc
    for key in parents:
        target = target[key]
    target[last] = value
    return doc


# Each case: the parse's content (a dict, or bytes) and what the report must say about its file:
# (severity, reason, text the detail contains). A warned parse is still a paper of the store.
CASES = {
    "institution-list": (with_value("institution-list", "metadata.authors.0.affiliation.institution",
                                    ["Wuhan University", "School of Medicine"]),
                         ("warning", "field-type", "metadata.authors[0].affiliation.institution: a list of strings")),
    "country-number": (with_value("country-number", "metadata.authors.0.affiliation.location.country", 42),
                       ("warning", "field-type", "metadata.authors[0].affiliation.location.country: a number")),
    "section-list": (with_value("section-list", "body_text.0.section", ["Introduction", "Background"]),
                     ("warning", "field-type", "body_text[0].section: a list of strings")),
    "section-number": (with_value("section-number", "body_text.1.section", 3),
                       ("warning", "field-type", "body_text[1].section: a number")),
    "bib-year-overflow": (render(with_value("bib-year-overflow", "bib_entries.BIBREF0.year", "__INFINITY__")),
                          ("warning", "field-type", "bib_entries.BIBREF0.year: a number that is not a whole finite")),
    "bib-wrong-types": (with_value("bib-wrong-types", "bib_entries.BIBREF0",
                                   {"ref_id": 7, "title": 12, "year": [2020], "venue": {"name": "Lancet"},
                                    "other_ids": {"DOI": "10.1016/S0140-6736(20)30183-5", "PMID": [31986264]}}),
                        ("warning", "field-type", "bib_entries.BIBREF0.ref_id: a number")),
    "bib-entries-list": (with_value("bib-entries-list", "bib_entries", [{"title": "A list entry", "year": 2019}]),
                         ("warning", "field-type", "bib_entries: a list where an object was expected")),
    "deep-nesting": (render(with_value("deep-nesting", "ref_entries", "__DEEP__")),
                     ("rejected", "malformed-json", "nested too deeply")),
    "surrogate": (with_value("surrogate", "metadata.title", "A lone surrogate \ud800 in a title"),
                  ("warning", "invalid-characters", "metadata.title: 1 character(s)")),
    "control-chars": (with_value("control-chars", "body_text.0.text", "NUL \x00, DEL \x7f, C1 \x85\x9f, ESC \x1b."),
                      ("warning", "invalid-characters", "body_text[0].text: 4 character(s)")),
    "paper-id-number": (with_value("paper-id-number", "paper_id", 42),
                        ("rejected", "parse-structure", "no paper_id (it is a number, not a string)")),
    "metadata-list": (with_value("metadata-list", "metadata", [{"title": "x"}]),
                      ("rejected", "parse-structure", "no metadata object (it is a list)")),
    "authors-strings": (with_value("authors-strings", "metadata.authors", ["Lin M. Wang", "Berg, Anna"]),
                        ("warning", "field-type", "metadata.authors[0]: a string where an object")),
    "middle-number": (with_value("middle-number", "metadata.authors.0.middle", 5),
                      ("warning", "field-type", "metadata.authors[0].middle: a number where a list")),
    "abstract-string": (with_value("abstract-string", "abstract", "An abstract written as one string."),
                        ("warning", "field-type", "abstract: a string where a list")),
    "doi-string": (with_value("doi-string", "bib_entries.BIBREF0.other_ids.DOI", "10.1016/S0140-6736(20)30183-5"),
                   ("warning", "field-type", "bib_entries.BIBREF0.other_ids.DOI: a string where a list")),
    "cite-spans-wrong": (with_value("cite-spans-wrong", "body_text.0.cite_spans", "not a list"), None),
    "utf-16": (json.dumps(doc_for("utf-16")).encode("utf-16"), ("warning", "encoding", "UTF-16, not UTF-8")),
    "latin-1": (json.dumps(doc_for("latin-1")).replace("The paper", "Caf\xe9 paper").encode("latin-1"),
                ("warning", "encoding", "bytes that are not UTF-8 were replaced")),
    "bom": (b"\xef\xbb\xbf" + render(doc_for("bom")), None),
    "empty": (b"", ("rejected", "malformed-json", "empty file")),
    "huge-integer": (render(with_value("huge-integer", "bib_entries.BIBREF0.year", "__HUGE__")).replace(
        b'"__HUGE__"', b"9" * 5000), ("warning", "field-type", "bib_entries.BIBREF0.year")),
    "duplicate-key": (b'{"paper_id": "x", ' + render(doc_for("duplicate-key"))[1:],
                      ("warning", "duplicate-json-key", "repeat a key (the first: 'paper_id')")),
}
GOOD = ["good-1", "good-2"]
ODD_NAME = os.fsdecode(b"odd\xff\x01name.json")  # not UTF-8, with a control character


def metadata_csv(rows: list[list[str] | str]) -> str:
    """A metadata.csv: rows of cells by column name order, or raw lines (broken quoting)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FINAL_COLUMNS)
    for row in rows:
        if isinstance(row, str):
            out.write(row + "\n")
        else:
            writer.writerow(row + [""] * (len(FINAL_COLUMNS) - len(row)))
    return out.getvalue()


def row(cord_uid: str, title: str, abstract: str = "", pdf: str = "") -> list[str]:
    cells = dict.fromkeys(FINAL_COLUMNS, "")
    cells.update(cord_uid=cord_uid, source_x="WHO", title=title, abstract=abstract, publish_time="2020-04-01",
                 authors="Wang, Lin; Berg, Anna", pdf_json_files=pdf)
    return list(cells.values())


ROWS = [
    row("good0001", "A good row before the broken one"),
    'bad00002,,WHO,"An unbalanced quote opens this title,,,,,2020,,,,,,,,,',
    "swal0003,,WHO,A row the quote swallows,,,,,,2020,,,,,,,,,",
    row("swal0004", "A quoted title, whose quote closes the run"),
    row("good0005", "A good row after the broken one"),
    row("ctrl0006", "A title with NUL\x00, DEL\x7f and C1\x80 characters", abstract="ESC\x1b in an abstract"),
    row("path0007", "A row naming a parse outside the release", pdf="../../outside.json"),
]


@pytest.fixture(scope="module")
def gauntlet(tmp_path_factory):
    """One release with a bad parse for every case, the metadata rows above and good parses."""
    base = tmp_path_factory.mktemp("gauntlet")
    release = base / "release"
    (release / PARSES).mkdir(parents=True)
    (release / "metadata.csv").write_text(metadata_csv(ROWS), encoding="utf-8")
    (base / "outside.json").write_bytes(render(doc_for("outside")))
    for case, (content, _) in CASES.items():
        (release / parse_file(case)).write_bytes(content if isinstance(content, bytes) else render(content))
    for case in GOOD:
        (release / parse_file(case)).write_bytes(render(doc_for(case)))
    (release / PARSES / ODD_NAME).write_bytes(render(doc_for("odd-name")))
    store = base / "store"
    result = build_quietly([release], store)
    return store, result, logged_issues(result)


def select(store: Path, sparql: str) -> list[tuple[str, ...]]:
    return [tuple(term.value for term in row) for row in execute(open_store(store, read_only=True), sparql).rows]


def issues_of(issues: list[dict], where: str) -> list[dict]:
    return [i for i in issues if i["where"] == where]


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_bad_parse_is_named_and_the_build_goes_on(gauntlet, case):
    store, result, issues = gauntlet
    expected = CASES[case][1]
    named = issues_of(issues, parse_file(case))
    if expected is None:  # read as it is: nothing to report
        assert named == [] and sha_of(case) in paper_keys(store)
        return
    severity, reason, detail = expected
    assert any(i["severity"] == severity and i["reason"] == reason and detail in i["detail"] for i in named), named
    assert (sha_of(case) in paper_keys(store)) == (severity == "warning")


def test_good_parses_and_rows_are_all_in_the_store(gauntlet):
    store, result, _ = gauntlet
    keys = paper_keys(store)
    assert {sha_of(case) for case in GOOD} <= keys
    assert {"good0001", "good0005", "ctrl0006", "path0007"} <= keys
    rejected = [i for i in logged_issues(result) if i["severity"] == "rejected"]
    assert result.manifest["rejects"]["rejected"] == len(rejected)


def test_a_file_name_that_is_not_text_is_escaped(gauntlet):
    store, _, issues = gauntlet
    paper = f"<https://w3id.org/ckg/resource/paper/{sha_of('odd-name')}>"
    assert select(store, f"SELECT ?f WHERE {{ {paper} ckg:sourceFile ?f }}") == [
        (f"{PARSES}/odd\\udcff\\x01name.json",)]
    assert all(xml_text(i["where"])[1] == 0 for i in issues)


def test_an_unbalanced_quote_is_reported_with_every_line_it_merged(gauntlet):
    _, result, issues = gauntlet
    merged = [i for i in issues if i["reason"] == "csv-merged-rows"]
    assert [i["where"] for i in merged] == ["metadata.csv row 2 (lines 3-5)"]
    assert "an unbalanced quote merged rows" in merged[0]["detail"]
    assert result.manifest["rejects"]["rejected_by_reason"]["csv-merged-rows"] == 1


def test_control_characters_of_a_row_are_removed_and_reported(gauntlet):
    store, _, issues = gauntlet
    (warning,) = [i for i in issues if i["reason"] == "invalid-characters" and i["where"].startswith("metadata.csv")]
    assert warning["where"] == "metadata.csv row 4 (line 7)"
    assert "from column(s) title, abstract" in warning["detail"]
    assert select(store, "SELECT ?t WHERE { <https://w3id.org/ckg/resource/paper/ctrl0006> dcterms:title ?t }") == [
        ("A title with NUL, DEL and C1 characters",)]


def test_a_parse_path_outside_the_release_is_not_read(gauntlet):
    store, _, issues = gauntlet
    (warning,) = [i for i in issues if i["reason"] == "parse-path-outside-release"]
    assert warning["where"] == "metadata.csv row 5 (line 8)" and "../../outside.json" in warning["detail"]
    assert sha_of("outside") not in paper_keys(store)


def test_repaired_values_are_what_the_store_holds(gauntlet):
    store, _, _ = gauntlet
    institutions = select(store, "SELECT ?n WHERE { ?i a ckg:Institution ; foaf:name ?n }")
    assert ("Wuhan University, School of Medicine",) in institutions
    paper = f"<https://w3id.org/ckg/resource/paper/{sha_of('authors-strings')}>"
    names = select(store, f"SELECT ?n WHERE {{ ?x ckg:annotatedSource {paper} ; ckg:annotatedTarget ?a ; "
                          "ckg:authorPosition ?pos . ?a foaf:name ?n } ORDER BY ?pos")
    assert names == [("Lin M. Wang",), ("Anna Berg",)]


def test_every_literal_is_valid_xml_text(gauntlet):
    """NUL, DEL, C1 controls, lone surrogates, U+FFFE/U+FFFF never reach the store: SPARQL XML
    results and RDF/XML exports of every literal are well-formed."""
    store, _, _ = gauntlet
    db = open_store(store, read_only=True)
    literals = select(store, "SELECT ?o WHERE { ?s ?p ?o FILTER(isLiteral(?o)) }")
    assert literals and all(xml_text(value)[1] == 0 for (value,) in literals)
    ET.fromstring(write(execute(db, "SELECT ?s ?o WHERE { ?s ?p ?o FILTER(isLiteral(?o)) }"), "xml"))
    ET.fromstring(write(execute(db, "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(isLiteral(?o)) }"), "rdfxml"))


def test_a_text_past_the_bulk_loaders_line_buffer_is_cut_and_reported(tmp_path):
    """One paragraph of 17 MiB would make an N-Quads line over Oxigraph's 16 MiB buffer."""
    release = tmp_path / "release"
    (release / PARSES).mkdir(parents=True)
    (release / parse_file("huge")).write_bytes(render(with_value("huge", "body_text.0.text", "x" * (17 * 2**20))))
    (release / parse_file("good-1")).write_bytes(render(doc_for("good-1")))
    result = build_quietly([release], tmp_path / "store")
    (warning,) = issues_of(logged_issues(result), parse_file("huge"))
    assert warning["reason"] == "text-truncated" and "body_text[0].text: 17,825,792 characters cut" in warning["detail"]
    ((body,),) = select(tmp_path / "store",
                        f"SELECT ?b WHERE {{ <https://w3id.org/ckg/resource/paper/{sha_of('huge')}> ckg:bodyText ?b }}")
    assert MAX_TEXT_BYTES - 100 < len(body) <= MAX_TEXT_BYTES
    assert paper_keys(tmp_path / "store") == {sha_of("huge"), sha_of("good-1")}


def _build_with_watchdog(inputs: list[Path], store: Path, fifos: list[Path], seconds: float = 60):
    """Build; if the build still runs after ``seconds``, open the FIFOs for writing, every second
    until it ends (a reader blocked on one then gets end-of-file): a build that hangs on a FIFO
    fails the test, not the suite. Returns (result, the FIFOs the watchdog had to unblock)."""
    done = threading.Event()
    unblocked = []

    def watchdog():
        wait = seconds
        while not done.wait(wait):
            wait = 1
            for fifo in fifos:
                try:
                    os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # fails unless a reader waits
                    unblocked.append(fifo)
                except OSError:
                    pass

    thread = threading.Thread(target=watchdog, daemon=True)
    thread.start()
    try:
        return build_quietly(inputs, store), unblocked
    finally:
        done.set()


def test_fifos_and_devices_named_like_parses_are_reported_not_read(tmp_path):
    release = tmp_path / "release"
    (release / PARSES).mkdir(parents=True)
    fifos = [release / PARSES / "x.json", release / parse_file("fifo")]
    for fifo in fifos:
        os.mkfifo(fifo)
    (release / PARSES / "null.json").symlink_to("/dev/null")
    (release / parse_file("good-1")).write_bytes(render(doc_for("good-1")))
    result, unblocked = _build_with_watchdog([release], tmp_path / "store", fifos)
    assert unblocked == [], "the build blocked reading a FIFO"
    issues = logged_issues(result)
    for fifo in fifos:
        (issue,) = issues_of(issues, str(fifo.relative_to(release)))
        assert issue["reason"] == "not-a-regular-file" and "named pipe (FIFO)" in issue["detail"]
    (device,) = issues_of(issues, f"{PARSES}/null.json")
    assert device["reason"] == "not-a-regular-file" and "character device" in device["detail"]
    assert paper_keys(tmp_path / "store") == {sha_of("good-1")}


def test_symlinked_and_unreadable_folders_are_followed_or_reported(tmp_path, monkeypatch):
    release = tmp_path / "release"
    (release / PARSES).mkdir(parents=True)
    (release / parse_file("good-1")).write_bytes(render(doc_for("good-1")))
    elsewhere = tmp_path / "elsewhere"  # a folder of parses outside the release, linked into it
    elsewhere.mkdir()
    (elsewhere / f"{sha_of('linked')}.json").write_bytes(render(doc_for("linked")))
    (release / "document_parses" / "linked").symlink_to(elsewhere, target_is_directory=True)
    (release / "document_parses" / "loop").symlink_to("..", target_is_directory=True)
    locked = release / "document_parses" / "locked"
    locked.mkdir()
    (locked / f"{sha_of('locked')}.json").write_bytes(render(doc_for("locked")))
    make_unreadable(locked, monkeypatch)
    try:
        result = build_quietly([release], tmp_path / "store")
    finally:
        locked.chmod(0o755)
    issues = logged_issues(result)
    assert paper_keys(tmp_path / "store") == {sha_of("good-1"), sha_of("linked")}
    (loop,) = issues_of(issues, "document_parses/loop")
    assert loop["reason"] == "symlink-loop" and loop["severity"] == "warning"
    (unreadable,) = issues_of(issues, "document_parses/locked")
    assert unreadable["reason"] == "unreadable-folder" and unreadable["severity"] == "rejected"
    assert "Permission denied" in unreadable["detail"]


def test_an_update_with_a_bad_parse_goes_on(tmp_path):
    """An update reports a malformed parse of the new release and applies the rest of it."""
    from conftest import MINI

    build_quietly([MINI], tmp_path / "store")
    release = write_next_mini_release(tmp_path / "next")
    bad = release / PARSES / f"{sha_of('bad-in-update')}.json"
    bad.write_bytes(render(with_value("bad-in-update", "metadata.authors.0.affiliation.institution", ["A", "B"]))
                    .replace(b'"title": "The paper', b'"title": "\\u0000The paper'))
    result = update(tmp_path / "store", [release], release="next")
    named = issues_of(logged_issues(result), str(bad.relative_to(release)))
    assert {i["reason"] for i in named} == {"field-type", "invalid-characters"}
    assert {"aaaa0010", "aaaa0011", sha_of("bad-in-update")} <= paper_keys(tmp_path / "store")


# -- readers on their own ----------------------------------------------------------------------


def test_a_cell_past_the_csv_field_limit_rejects_its_row_only(monkeypatch):
    monkeypatch.setattr("ckg.etl.metadata.MAX_CSV_FIELD", 100)
    previous = csv.field_size_limit(100)
    try:
        report = Report()
        text = "cord_uid,title\nabcd1234," + "x" * 200 + "\nefgh5678,A title\n"
        rows = list(iter_rows(io.StringIO(text), "m.csv", report))
    finally:
        csv.field_size_limit(previous)
    assert [r.fields["cord_uid"] for r in rows] == ["efgh5678"]
    assert [(i.reason, i.where) for i in report.examples["csv-field-too-large"]] == [
        ("csv-field-too-large", "m.csv row 1 (line 2)")]


def test_a_utf16_metadata_file_is_read(tmp_path):
    from ckg.etl.metadata import read_metadata

    path = tmp_path / "metadata.csv"
    path.write_text("cord_uid,title\nabcd1234,Café au lait\n", encoding="utf-16")
    report = Report()
    assert [r.fields["title"] for r in read_metadata(path, report)] == ["Café au lait"]
    assert report.examples["encoding"][0].detail == "the file is UTF-16, not UTF-8; read anyway"


def test_a_repeated_column_keeps_the_first():
    report = Report()
    (only,) = iter_rows(io.StringIO("cord_uid,title,title\nabcd1234,First,Second\n"), "m.csv", report)
    assert only.fields["title"] == "First" and report.counts["csv-duplicate-column"] == 1


def test_report_entries_are_valid_text_whatever_the_file_names():
    report = Report()
    report.reject("malformed-json", "pdf_json/bad\udcff\x00.json", "detail " + "y" * 5000)
    (issue,) = report.examples["malformed-json"]
    assert issue.where == "pdf_json/bad\\udcff\\x00.json" and len(issue.detail) == 1000
    json.dumps(report.summary(), ensure_ascii=False).encode("utf-8")


def assembled(release, tmp_path, workers: int):
    """The papers, counts and report lines of assembling a release with ``workers`` worker
    processes (0: all in this process), and the rows the workers assembled."""
    from ckg.etl.assemble import Assembler, discover

    log = tmp_path / f"report-{workers}.jsonl"
    report = Report(log)
    assembler = Assembler(discover([release], report), report, ahead=workers)
    papers = [dataclasses.asdict(p) for p in assembler.papers()]
    report.close()
    return (papers, assembler.counts.as_dict(), log.read_text(encoding="utf-8").splitlines()), \
        assembler.rows_assembled_ahead


def test_rows_assembled_ahead_by_workers_give_the_same_papers_and_report(tmp_path):
    """Every bad parse of the gauntlet, claimed by a row through its sha (so that the worker
    processes assembling rows ahead read it), rows that fail to parse among them, a duplicate
    row: the papers and the report, issue by issue and in order, are those of reading in one
    process."""
    from ckg.etl.assemble import Assembler, Unchanged, discover

    release = tmp_path / "release"
    (release / PARSES).mkdir(parents=True)
    rows = ROWS[:4]  # a good row, then an unbalanced quote that merges three rows into one rejected record
    for i, (case, (content, _)) in enumerate(sorted(CASES.items())):
        (release / parse_file(case)).write_bytes(content if isinstance(content, bytes) else render(content))
        cells = row(f"case{i:04d}", f"The row of case {case}")
        cells[FINAL_COLUMNS.index("sha")] = sha_of(case)
        rows.append(cells)
    rows.append(rows[-1][:])  # a duplicate row: its parse is read ahead and dropped
    (release / "metadata.csv").write_text(metadata_csv(rows), encoding="utf-8")

    (alone, none_ahead), (ahead, rows_ahead) = assembled(release, tmp_path, 0), assembled(release, tmp_path, 2)
    assert alone == ahead
    assert none_ahead == 0 and rows_ahead == alone[1]["rows"] > len(CASES)
    papers, counts, issues = ahead
    assert counts["parses_read"] == len(CASES) - 4 and len(papers) == counts["papers"] == len(CASES) + 1
    reasons = {json.loads(line)["reason"] for line in issues}
    assert {"malformed-json", "parse-structure", "field-type", "encoding", "duplicate-paper"} <= reasons

    # an update's workers fingerprint every row, its parses hashed by their threads (DigestsAhead),
    # ask ``known`` there and assemble only the rows whose fingerprint it does not hold: a row is
    # not read when the fingerprint a worker made is the one made here
    def fingerprints(workers: int, unchanged: dict[str, str]):
        seen: dict[str, str] = {}

        def known(key: str, fingerprint: str):
            seen[key] = fingerprint  # in this process only (a worker has its copy)
            return "" if unchanged.get(key) == fingerprint else None

        report = Report(None)
        assembler = Assembler(discover([release], report), report, known=known, ahead=workers)
        read = sorted(p.key for p in assembler.papers() if not isinstance(p, Unchanged))
        assert assembler.rows_assembled_ahead == (assembler.counts.rows if workers else 0)
        return seen, read, assembler.parses_hashed_ahead

    (alone, read_alone, none_hashed), (_, read_ahead, hashed) = fingerprints(0, {}), fingerprints(2, {})
    assert read_alone == read_ahead and all(alone.values()) and len(alone) > len(CASES) // 2
    assert none_hashed == 0 and hashed == len(CASES)
    some = {k: alone[k] for k in sorted(alone)[::2]}
    assert fingerprints(2, some)[1] == fingerprints(0, some)[1] == sorted(set(read_alone) - set(some))
    assert fingerprints(2, {k: "0" * 40 for k in some})[1] == read_alone  # other fingerprints: read


def _table_in_pieces(broken_at: int | None) -> bytes:
    """A metadata table of a few hundred rows, bad ones among them all along: cells with control
    characters, a byte that is not UTF-8, too many and too few fields, blank lines, abstracts over
    several lines with quotes, rows without identifier or title, duplicates near and far; and,
    at row ``broken_at``, an unbalanced quote (the CSV reader refuses what follows)."""
    lines = [metadata_csv([])]
    for i in range(400):
        cells = row(f"pc{i:06d}", f"Piece row {i}, on coronavirus", abstract=f'Line one of {i}\nline "two"\n\nthree')
        if i % 37 == 5:
            cells = row(f"pc{i:06d}", f"Control\x0c characters\x1b in row {i}")
        if i % 53 == 7:
            cells = row(f"pc{i:06d}", f"Piece row {i}") + ["an extra field"]
        if i % 61 == 9:
            cells = row(f"pc{i:06d}", f"Piece row {i}")[:5]
        if i % 41 == 11:
            cells = row("", f"No identifier {i}")
        if i % 43 == 13:
            cells = row(f"pc{i:06d}", "")
        if i % 29 == 3:
            cells = row(f"pc{i - 1:06d}", f"A duplicate of row {i - 1}")
        if i % 97 == 17:
            cells = row(f"pc{i - 90:06d}", f"A duplicate of row {i - 90}")
        text = metadata_csv([cells]).split("\n", 1)[1]
        if i % 31 == 2:
            text += "\n  \n"
        if broken_at is not None and i == broken_at:
            text = f'pc{i:06d},,WHO,"An unbalanced quote in row {i},,,,,2020,,,,,,,,,\n'
        lines.append(text)
    data = "".join(lines).encode("utf-8")
    return data.replace(b"Piece row 123,", b"Piece row 123 \xff\xfe,")  # not UTF-8


@pytest.mark.parametrize("broken_at", [None, 250])
def test_a_table_read_in_pieces_by_workers_gives_the_papers_and_report_of_one_process(tmp_path, monkeypatch,
                                                                                     broken_at):
    """Workers read a metadata table a piece at a time (1 KB pieces here, about 50 of them) and
    number what they report in the file: the papers and the report, issue by issue and in order,
    are those of reading the table in one process. With an unbalanced quote at row 250, the piece
    that holds it is not sure, and the table is read on from that piece as a whole."""
    from ckg.etl import metadata

    release = tmp_path / "release"
    release.mkdir()
    table = release / "metadata.csv"
    table.write_bytes(_table_in_pieces(broken_at))
    monkeypatch.setattr(metadata, "CHUNK_BYTES", 1024)
    assert len(list(metadata.chunk_ranges(table, 0))) > 30

    (alone, _), (ahead, rows_ahead) = assembled(release, tmp_path, 0), assembled(release, tmp_path, 2)
    assert rows_ahead == alone[1]["rows"]
    assert alone == ahead
    papers, counts, issues = ahead
    reasons = [json.loads(line)["reason"] for line in issues]
    assert {"csv-field-count", "invalid-characters", "encoding", "missing-id", "empty-title",
            "duplicate-paper"} <= set(reasons)
    assert ("csv-merged-rows" in reasons or "csv-syntax" in reasons) == (broken_at is not None)
    numbered = [int(m.group(1)) for line in issues if (m := re.search(r"\.csv row (\d+) \(line", json.loads(line)["where"]))]
    assert 250 < counts["papers"] < 400 and max(numbered) > 350  # numbered in the file, past the first piece
