"""The synthetic CORD-19 generator: layout, schema, realism and the release-2 edits."""

from __future__ import annotations

import collections
import csv
import dataclasses
import hashlib
import json
import re
from pathlib import Path

import pytest

from ckg.demo_corpus import ABBREVIATIONS, COLUMNS, TOPICS, GeneratedRelease, generate

PDF_KEYS = ["paper_id", "metadata", "abstract", "body_text", "bib_entries", "ref_entries", "back_matter"]
PMC_KEYS = ["paper_id", "metadata", "body_text", "ref_entries", "back_matter", "bib_entries"]
BIB_KEYS = {"title", "authors", "year", "venue", "volume", "issn", "pages", "other_ids"}


def digest(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def read_rows(root: Path) -> dict:
    with open(root / "metadata.csv", encoding="utf-8", newline="") as handle:
        return {row["cord_uid"]: row for row in csv.DictReader(handle)}


def parse_files(row: dict) -> list:
    return [f for column in ("pdf_json_files", "pmc_json_files") for f in row[column].split("; ") if f]


def first_parse(root: Path, row: dict) -> dict | None:
    files = parse_files(row)
    return json.loads((root / files[0]).read_text(encoding="utf-8")) if files else None


def bib_targets(doc: dict, rows: dict) -> list:
    """(bib entry, cord_uid it names exactly by DOI or title, or None) for each entry of a parse."""
    by_doi = {r["doi"].lower(): uid for uid, r in rows.items() if r["doi"]}
    by_title = {r["title"]: uid for uid, r in rows.items()}
    out = []
    for entry in doc["bib_entries"].values():
        dois = entry["other_ids"].get("DOI") or []
        target = by_doi.get(dois[0].lower()) if dois else None
        out.append((entry, target or by_title.get(entry["title"])))
    return out


@pytest.fixture(scope="module")
def releases(tmp_path_factory):
    base = tmp_path_factory.mktemp("demo")
    one = generate(base / "r1", papers=60, seed=7)
    two = generate(base / "r2", papers=60, seed=7, release=2)
    return one, two


def test_same_arguments_give_identical_files(tmp_path, releases):
    one, _ = releases
    again = generate(tmp_path / "again", papers=60, seed=7)
    assert digest(one.path) == digest(again.path)
    assert again == dataclasses.replace(one, path=again.path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        again.n_pdf_json = 0


def test_different_seed_gives_a_different_corpus(tmp_path, releases):
    one, _ = releases
    other = generate(tmp_path / "other", papers=60, seed=8)
    assert (other.path / "metadata.csv").read_bytes() != (one.path / "metadata.csv").read_bytes()
    assert set(other.papers).isdisjoint(one.papers)


def test_metadata_has_the_final_19_columns(releases):
    one, _ = releases
    raw = (one.path / "metadata.csv").read_bytes()
    assert b"\r\n" not in raw
    with open(one.path / "metadata.csv", encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    assert tuple(table[0]) == COLUMNS and len(COLUMNS) == 19
    assert all(len(row) == 19 for row in table)
    assert [row[0] for row in table[1:]] == one.papers
    rows = read_rows(one.path)
    assert all(re.fullmatch(r"[a-z0-9]{8}", uid) for uid in rows)
    for row in rows.values():
        assert all(re.fullmatch(r"[0-9a-f]{40}", sha) for sha in row["sha"].split("; ") if sha)
        assert row["doi"] == "" or re.fullmatch(r"10\.5555/demo\.\d+", row["doi"])
        assert row["pmcid"] == "" or re.fullmatch(r"PMC\d{7}", row["pmcid"])
        assert row["pubmed_id"] == "" or row["pubmed_id"].isdigit()
        assert row["license"] in {"cc-by", "cc-by-nc", "no-cc", "els-covid", "medrxiv", "biorxiv"}
        assert re.fullmatch(r"\d{4}(-\d{2}-\d{2})?", row["publish_time"])
        assert row["title"] and row["authors"]
    times = [r["publish_time"] for r in rows.values()]
    assert any(len(t) == 4 for t in times) and any(len(t) == 10 for t in times)
    assert {"PMC", "medrxiv"} <= {s for r in rows.values() for s in r["source_x"].split("; ")}
    assert len({r["title"] for r in rows.values()}) == len(rows)


def test_parse_files_exist_and_follow_the_real_schema(releases):
    one, _ = releases
    rows = read_rows(one.path)
    listed, titles_differ = set(), 0
    for row in rows.values():
        for rel in row["pdf_json_files"].split("; ") if row["pdf_json_files"] else []:
            doc = json.loads((one.path / rel).read_text(encoding="utf-8"))
            assert list(doc) == PDF_KEYS
            assert rel == f"document_parses/pdf_json/{doc['paper_id']}.json"
            assert doc["paper_id"] in row["sha"].split("; ")
            assert [p["section"] for p in doc["abstract"]] == ["Abstract"] * len(doc["abstract"])
            assert row["abstract"] == " ".join(p["text"] for p in doc["abstract"])
            for j, (key, entry) in enumerate(doc["bib_entries"].items()):
                assert key == f"BIBREF{j}" and entry["ref_id"] == f"b{j}" and BIB_KEYS < set(entry)
            author = doc["metadata"]["authors"][0]
            assert list(author) == ["first", "middle", "last", "suffix", "affiliation", "email"]
            listed.add(rel)
        if row["pmc_json_files"]:
            rel = row["pmc_json_files"]
            doc = json.loads((one.path / rel).read_text(encoding="utf-8"))
            assert list(doc) == PMC_KEYS and "abstract" not in doc
            assert doc["paper_id"] == row["pmcid"] and rel == f"document_parses/pmc_json/{row['pmcid']}.xml.json"
            for j, (key, entry) in enumerate(doc["bib_entries"].items()):
                assert key == f"BIBREF{j}" and set(entry) == BIB_KEYS and "DOI" in entry["other_ids"]
            assert doc["metadata"]["authors"][0]["email"] is None
            listed.add(rel)
        for doc in filter(None, [first_parse(one.path, row)]):
            titles_differ += doc["metadata"]["title"] != row["title"]  # release 1's misspelt rows
            assert 5 <= len(doc["bib_entries"]) <= 26
            assert 3 <= len(doc["body_text"]) <= 8
            assert {p["section"].split(" ::: ")[-1] for p in doc["body_text"]} <= {
                "Introduction", "Methods", "Results", "Discussion"}
    assert titles_differ <= 3
    on_disk = {str(p.relative_to(one.path)) for p in (one.path / "document_parses").rglob("*.json")}
    assert on_disk == listed
    assert one.n_pdf_json == len([f for f in listed if "/pdf_json/" in f])
    assert one.n_pmc_json == len([f for f in listed if "/pmc_json/" in f])


def test_cite_span_offsets_and_ref_ids_are_right(releases):
    one, _ = releases
    spans = 0
    for path in sorted((one.path / "document_parses").rglob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        cited = set()
        for paragraph in doc["body_text"]:
            for span in paragraph["cite_spans"]:
                mention = span["text"] if "text" in span else span["mention"]
                assert paragraph["text"][span["start"]:span["end"]] == mention
                assert re.fullmatch(r"\[\d+\]|\d+", mention)
                assert span["ref_id"] == f"BIBREF{int(mention.strip('[]')) - 1}"
                assert span["ref_id"] in doc["bib_entries"]
                cited.add(span["ref_id"])
                spans += 1
        assert cited == set(doc["bib_entries"])  # every reference is cited in the body
    assert spans > 200


def test_parse_mix_two_shas_and_metadata_only(releases):
    one, _ = releases
    rows = read_rows(one.path).values()
    two = [r for r in rows if "; " in r["sha"]]
    assert two and all(len(r["pdf_json_files"].split("; ")) == 2 for r in two)
    assert all((one.path / f).is_file() for r in two for f in r["pdf_json_files"].split("; "))
    share = lambda test: sum(1 for r in rows if test(r)) / len(rows)  # noqa: E731
    assert 0.2 <= share(lambda r: not parse_files(r)) <= 0.4
    assert 0.4 <= share(lambda r: r["pdf_json_files"]) <= 0.6
    assert 0.15 <= share(lambda r: r["pmc_json_files"]) <= 0.35
    assert share(lambda r: r["pdf_json_files"] and r["pmc_json_files"]) > 0


def test_bibliographies_point_into_the_corpus(releases):
    one, _ = releases
    rows = read_rows(one.path)
    resolved, without_doi, cited = 0, 0, collections.Counter()
    for uid, row in rows.items():
        doc = first_parse(one.path, row)
        if doc is None:
            continue
        for entry, target in bib_targets(doc, rows):
            if target:
                assert target != uid
                assert entry["year"] <= int(row["publish_time"][:4])
                resolved += 1
                cited[target] += 1
                without_doi += not entry["other_ids"].get("DOI")
    assert resolved > 100 and without_doi > 10
    assert 0 < resolved <= one.in_corpus_citations  # the count also holds titles written with variations
    top, median = cited.most_common(1)[0][1], sorted(cited.values())[len(cited) // 2]
    assert top >= 8 and top >= 3 * median  # a few papers are highly cited


def test_authors_recur_with_varied_names_and_affiliations(releases):
    one, _ = releases
    rows = read_rows(one.path)
    names = collections.Counter(n for r in rows.values() for n in r["authors"].split("; "))
    assert sum(1 for count in names.values() if count >= 3) >= 5
    text = " ".join(names)
    assert any(not n.isascii() for n in names)
    assert re.search(r"\b(van der|van den|de la|da|dos|von) [A-Z]", text)
    assert re.search(r"\w-[A-Z]\w+,", text)  # hyphenated family names
    countries, missing = collections.Counter(), 0
    for row in rows.values():
        for path in parse_files(row):
            doc = json.loads((one.path / path).read_text(encoding="utf-8"))
            for author in doc["metadata"]["authors"]:
                if author["affiliation"]:
                    countries[author["affiliation"]["location"]["country"]] += 1
                else:
                    missing += 1
    assert missing > 0
    assert {"USA", "United States"} & set(countries) and len(countries) >= 10


def test_texts_carry_topic_signal_and_abbreviations(releases):
    one, _ = releases
    rows = read_rows(one.path)
    assert len(TOPICS) == 10 and all(10 <= len(t["concepts"]) <= 15 for t in TOPICS)
    concepts = {c for t in TOPICS for c in t["concepts"]}
    assert {"acute respiratory distress syndrome", "ACE2", "hydroxychloroquine", "basic reproduction number"} <= concepts
    abstracts = [r["abstract"] for r in rows.values() if r["abstract"]]
    assert all(any(c in a for c in concepts) for a in abstracts)
    reused = 0
    for row in rows.values():
        doc = first_parse(one.path, row)
        if doc is None:
            continue
        body = " ".join(p["text"] for p in doc["body_text"])
        for full, abbr in ABBREVIATIONS.items():
            defined = f"{full} ({abbr})"
            if defined in body and abbr in body.split(defined, 1)[1]:
                reused += 1
    assert reused >= 5
    sentence = re.compile(r"^(?:[A-Z0-9]|m[A-Z])(?:[^.]|\.\d)*[A-Za-z0-9)]\.$")  # 'mRNA vaccine ...', '4.26'
    assert all(sentence.match(s) for a in abstracts for s in re.split(r"(?<=\.) ", a))


def test_release_two_is_the_next_release_of_the_same_corpus(releases):
    one, two = releases
    rows1, rows2 = read_rows(one.path), read_rows(two.path)
    removed, added = set(rows1) - set(rows2), set(rows2) - set(rows1)
    assert 1 <= len(removed) <= 6 and 3 <= len(added) <= 9
    assert two.papers[:len(rows1) - len(removed)] == [u for u in one.papers if u in rows2]
    changed = {u for u in set(rows1) & set(rows2) if rows1[u] != rows2[u]}
    assert 3 <= len(changed) <= 9
    changes = {c for u in changed for c in COLUMNS if rows1[u][c] != rows2[u][c]}
    assert {"title", "abstract", "authors", "pmc_json_files"} <= changes
    for uid in set(rows1) & set(rows2) - changed:
        for rel in parse_files(rows1[uid]):
            assert (one.path / rel).read_bytes() == (two.path / rel).read_bytes()
    for uid in removed:
        assert not any((two.path / rel).exists() for rel in parse_files(rows1[uid]))
    # references written in release 1 that only resolve once release 2 adds their target
    late = [(uid, target) for uid in rows1 if first_parse(one.path, rows1[uid])
            for _, target in bib_targets(first_parse(one.path, rows1[uid]), rows2) if target in added]
    assert late
    # new papers cite old ones
    assert any(target in rows1 for uid in added if first_parse(two.path, rows2[uid])
               for _, target in bib_targets(first_parse(two.path, rows2[uid]), rows2))


def test_small_corpora_and_bad_arguments(tmp_path):
    tiny = generate(tmp_path / "tiny", papers=3, seed=1, release=2)
    assert isinstance(tiny, GeneratedRelease) and tiny.release == 2 and tiny.papers
    with pytest.raises(ValueError):
        generate(tmp_path / "x", papers=0)
    with pytest.raises(ValueError):
        generate(tmp_path / "x", release=3)
