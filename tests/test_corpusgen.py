"""The CORD-19-shaped corpus generator (ckg.corpusgen.scale): determinism, streaming, the real
data's distributions, the next release's changes, and a build of a generated corpus."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from ckg.corpusgen import shape, stats
from ckg.corpusgen.papers import Corpus, Settings
from ckg.corpusgen.scale import generate
from ckg.corpusgen.vocab import COLUMNS, TOPICS

ROOT = Path(__file__).resolve().parent.parent


def digest(root: Path) -> dict:
    """Every file of a release (the generator's manifest, with its timings, aside)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and ".corpusgen" not in p.parts}


def rows_by_uid(root: Path) -> dict:
    out: dict = {}
    for row in stats.read_rows(root / "metadata.csv"):
        out.setdefault(row["cord_uid"], []).append(row)
    return out


@pytest.fixture(scope="module")
def corpus10k(tmp_path_factory):
    """Release 1 of a 10,000-paper corpus (short bodies: the distributions tested do not depend on them)."""
    return generate(tmp_path_factory.mktemp("cg") / "r1", papers=10_000, seed=11, text_scale=0.02)


def test_same_arguments_same_bytes_whatever_the_processes(tmp_path):
    one = generate(tmp_path / "a", papers=1_100, seed=3, text_scale=0.02, processes=1)
    two = generate(tmp_path / "b", papers=1_100, seed=3, text_scale=0.02, processes=2)
    assert digest(one.path) == digest(two.path)
    assert one.counts == two.counts
    other = generate(tmp_path / "c", papers=100, seed=4, text_scale=0.02, processes=1)
    assert (other.path / "metadata.csv").read_bytes() != (one.path / "metadata.csv").read_bytes()
    assert not (one.path / ".ckg-corpusgen-parts").exists()
    manifest = json.loads((one.path / ".corpusgen" / "manifest.json").read_text())
    assert manifest["settings"]["papers"] == 1_100 and manifest["counts"]["rows"] == one.counts.rows
    # the parses are exactly what json.dumps(indent=4, ensure_ascii=True) writes, as CORD-19's are
    for path in sorted((one.path / "document_parses").rglob("*.json"))[::9]:
        text = path.read_text(encoding="ascii")
        assert json.dumps(json.loads(text), indent=4, ensure_ascii=True) == text


@pytest.mark.slow  # three generations in subprocesses (~15 s)
def test_streaming_keeps_memory_flat(tmp_path):
    """Generations of 5,000 and 50,000 papers in fresh processes, with small caches (the caches, a
    constant ~200 MB at their default sizes, are all a process keeps): the 50,000-paper one needs
    no more memory than the 5,000-paper one, and a generation with parses keeps a small fraction
    of what it writes."""
    script = textwrap.dedent("""
        import resource, sys
        from ckg.corpusgen import papers
        papers.CACHE_SIZES.update({name: 1000 for name in papers.CACHE_SIZES})
        from ckg.corpusgen.scale import generate
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result = generate(sys.argv[1], papers=int(sys.argv[2]), seed=2, text_scale=0.01,
                          parses=sys.argv[3] == "parses", processes=2)
        main = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(before, main, workers, result.counts.bytes)
    """)

    def run(papers: int, parses: str = "metadata") -> tuple[int, int, int, int]:
        out = subprocess.run([sys.executable, "-c", script, str(tmp_path / f"{papers}-{parses}"), str(papers), parses],
                             capture_output=True, text=True, check=True, cwd=ROOT)
        before, main, workers, written = map(int, out.stdout.split())
        return before * 1024, main * 1024, workers * 1024, written

    _, main_small, workers_small, written_small = run(5_000)
    before, main, workers, written = run(50_000)
    assert written > 9 * written_small and written > 60 * 2**20  # 50,000 rows of metadata
    # the main process only appends the workers' part files (it holds a small fraction of what it
    # copies: under 4 MB of 80 MB before the rare words, 6.8 MB after)
    assert main - before < written / 8, (main - before, written)
    assert workers < workers_small + 8 * 2**20, (workers_small, workers)  # ten times the papers, same memory
    before, main, workers, written = run(1_500, "parses")
    assert written > 40 * 2**20 and workers - before < written / 4, (workers - before, written)


def test_metadata_has_the_final_columns_and_ids(corpus10k):
    with open(corpus10k.path / "metadata.csv", encoding="utf-8", newline="") as handle:
        table = csv.reader(handle)
        assert tuple(next(table)) == COLUMNS and len(COLUMNS) == 19
        assert all(len(row) == 19 for row in table)
    rows = rows_by_uid(corpus10k.path)
    assert len(rows) == 10_000
    first = [r[0] for r in rows.values()]
    assert all(re.fullmatch(r"[0-9a-z]{8}", u) for u in rows)
    assert len({r["doi"] for r in first if r["doi"]}) == sum(1 for r in first if r["doi"])  # DOIs are unique
    assert len({r["pmcid"] for r in first if r["pmcid"]}) == sum(1 for r in first if r["pmcid"])
    for row in first[:2000]:
        for rel in filter(None, row["pdf_json_files"].split("; ") + row["pmc_json_files"].split("; ")):
            assert (corpus10k.path / rel).is_file()
        assert row["sha"].split("; ") == [p.split("/")[-1][:-5] for p in row["pdf_json_files"].split("; ")] \
            or not row["sha"]


# Shares of the real sample (1,000 rows) and how far a 10k corpus may be from them: about three
# binomial standard errors of the real estimate.
TOLERANCE = {
    "any parse share": 0.04, "pdf_json share": 0.04, "pmc_json share": 0.04, "abstract share": 0.05,
    "doi share": 0.05, "pmcid share": 0.05, "pubmed_id share": 0.05, "who_covidence_id share": 0.05,
    "journal share": 0.03, "publish_time year only": 0.05, "year <=2019": 0.03, "year 2020": 0.05,
    "year 2021": 0.05, "year 2022": 0.03, "2+ shas share": 0.015, "authors empty share": 0.015,
    "source_x = WHO": 0.05, "source_x = Medline; PMC": 0.04, "license = unk": 0.05,
}


@pytest.mark.realdata
def test_metadata_distributions_match_the_real_sample(corpus10k, real_data):
    real = stats.metadata_stats(real_data / "cord19" / "metadata" / "metadata-2022-06-sample1000.csv")
    generated = stats.metadata_stats(corpus10k.path / "metadata.csv")
    for key, tolerance in TOLERANCE.items():
        assert abs(real[key] - generated[key]) <= tolerance, (key, real[key], generated[key])
    for key, tolerance in (("abstract chars: p50", 0.1), ("authors per row: mean", 0.1), ("title words: mean", 0.1)):
        assert abs(real[key] - generated[key]) <= tolerance * real[key], (key, real[key], generated[key])


def test_metadata_distributions_without_real_data(corpus10k):
    """The same checks against the numbers measured once (shape.py), for runs without ../shared/data."""
    s = stats.metadata_stats(corpus10k.path / "metadata.csv")
    assert 0.33 <= s["any parse share"] <= 0.41  # 37% of CORD-19's papers have a full text
    assert 0.34 <= s["pdf_json share"] <= 0.40 and 0.27 <= s["pmc_json share"] <= 0.35
    assert 0.72 <= s["abstract share"] <= 0.80
    assert 1300 <= s["abstract chars: p50"] <= 1550
    assert 5.0 <= s["authors per row: mean"] <= 6.3
    assert 0.03 <= s["rows per cord_uid"] - 1 <= 0.06  # rows repeating a cord_uid
    assert 2 <= s["preprint titles also a journal row's (per 1000 papers)"] <= 11  # preprint + journal version
    assert s["papers sharing their title"] < 0.04


def test_parses_look_like_real_parses(corpus10k):
    root = corpus10k.path
    s = stats.parse_stats(stats.release_parse_files(root), limit=1500)
    assert 0.40 <= s["pmc_json share of parses"] <= 0.50
    assert 30 <= s["bib entries per parse: mean"] <= 46  # real CORD-19 parses: ~36
    assert 0.45 <= s["bib entries with a DOI"] <= 0.7
    assert 0.6 <= s["author entries with an institution"] <= 0.8
    pre = stats.parse_stats(stats.release_parse_files(root, preprints_only=True), limit=800)
    assert 0.12 <= pre["bib entries with a DOI"] <= 0.25  # bioRxiv/medRxiv PDF parses: 18%
    assert 0.10 <= pre["bib title with a line number"] <= 0.22  # real: 15%
    assert 0.12 <= pre["bib year missing"] <= 0.23


def test_references_resolve_at_the_intended_rate(corpus10k):
    c = corpus10k.counts
    share = c.in_corpus / c.bib_entries
    assert 0.22 <= share <= 0.38  # in_corpus_share 0.3
    forms = c.in_corpus_by_form
    assert forms["doi"] > forms["title"] > forms["variant"] > 0 and forms.get("variant-short", 0) > 0


def test_texts_name_vocabulary_concepts(corpus10k):
    concepts = {c.lower() for t in TOPICS for c in t["concepts"]}
    rows = [r[0] for r in rows_by_uid(corpus10k.path).values()]
    with_abstract = [r for r in rows if r["abstract"]][:500]
    assert all(any(c in r["abstract"].lower() for c in concepts) for r in with_abstract)
    row = next(r for r in rows if r["pmc_json_files"])
    body = " ".join(p["text"] for p in json.loads((corpus10k.path / row["pmc_json_files"]).read_text())["body_text"])
    assert any(c in body.lower() for c in concepts)


def test_release_two_changes_the_planned_shares():
    """The plan of release 2 (which papers are removed, changed, added) on 100,000 papers."""
    c = Corpus(Settings(papers=100_000, seed=5, changed_share=0.02, removed_share=0.003, new_share=0.015))
    removed = sum(c.removed(i) for i in range(100_000))
    changed = Counter(c.change(i) for i in range(0, 100_000, 5))
    assert 250 <= removed <= 350
    assert 0.017 <= (20_000 - changed[""]) / 20_000 <= 0.023
    assert {"abstract", "author", "date"} <= set(changed)
    assert sum(c.present(i, 2) for i in range(100_000, 103_000)) == 1_500


def test_release_two_of_the_same_corpus(tmp_path):
    options = dict(papers=1_000, seed=9, text_scale=0.02, changed_share=0.06, removed_share=0.01, new_share=0.04)
    one = generate(tmp_path / "r1", release=1, **options)
    two = generate(tmp_path / "r2", release=2, **options)
    a, b = rows_by_uid(one.path), rows_by_uid(two.path)
    removed, added = set(a) - set(b), set(b) - set(a)
    changed = {u for u in set(a) & set(b) if a[u] != b[u]}
    assert len(added) == 40 and two.counts.added == 40
    assert len(removed) == two.counts.removed and 3 <= len(removed) <= 20
    assert len(changed) == two.counts.changed and 35 <= len(changed) <= 90
    assert list(b)[:len(a) - len(removed)] == [u for u in a if u in b]  # same order, new papers last
    for uid in set(a) & set(b) - changed:  # unchanged papers: byte-identical parses
        for row in a[uid][:1]:
            for rel in filter(None, row["pdf_json_files"].split("; ") + row["pmc_json_files"].split("; ")):
                assert (one.path / rel).read_bytes() == (two.path / rel).read_bytes()
    for uid in removed:
        for rel in filter(None, a[uid][0]["pdf_json_files"].split("; ") + [a[uid][0]["pmc_json_files"]]):
            assert not (two.path / rel).exists()
    # release 1 does not depend on release 2's shares
    again = generate(tmp_path / "r1b", release=1, **(options | {"changed_share": 0.2, "new_share": 0.3}))
    assert digest(again.path) == digest(one.path)


@pytest.mark.slow  # a whole build, concepts and topics included (~25 s)
def test_a_generated_corpus_builds_without_unintended_rejects(tmp_path):
    from ckg.etl.build import build

    release = generate(tmp_path / "corpus", papers=2_000, seed=13, text_scale=0.02)
    result = build(tmp_path / "store", [release.path], release="gen-1")
    rejects = result.manifest["rejects"]
    assert rejects["rejected_by_reason"] == {"duplicate-paper": release.counts.duplicate_rows}  # the intended ones
    assert rejects["warnings"] == 0
    assert result.counts["papers_in_store"] == 2_000
    citations = result.counts["citations"]
    assert citations["bib_entries"] == release.counts.bib_entries
    resolved = citations["resolved_entries"]
    assert 0.9 * release.counts.in_corpus <= resolved <= release.counts.in_corpus + 50
    assert citations["outcomes"].get("resolved:title-fuzzy", 0) > 0
    assert result.counts["concepts"]["papers_with_concepts"] >= 0.9 * 2_000


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        generate(tmp_path / "x", papers=0)
    with pytest.raises(ValueError):
        generate(tmp_path / "x", papers=10, release=3)
    with pytest.raises(TypeError):
        generate(tmp_path / "x", papers=10, colour="blue")
    with pytest.raises(ValueError):
        generate(tmp_path / "x", papers=10, new_share=2.0)


def test_shape_tables_are_consistent():
    assert sum(p.weight for p in shape.profiles()) == 1000
    for table in (shape.ABSTRACT_CHARS, shape.BODY_CHARS, shape.BODY_PARAGRAPHS, shape.BIB_ENTRIES):
        assert len(table) == 21 and list(table) == sorted(table)


def test_cli_writes_a_cord19_shaped_release(tmp_path):
    from click.testing import CliRunner

    from ckg.cli import main

    result = CliRunner().invoke(main, ["demo-corpus", str(tmp_path / "c"), "--shape", "cord19", "--papers", "300",
                                       "--text-scale", "0.02", "--processes", "1"])
    assert result.exit_code == 0, result.output
    assert "300 papers" in result.output and (tmp_path / "c" / "metadata.csv").is_file()
    compact = CliRunner().invoke(main, ["demo-corpus", str(tmp_path / "e"), "--shape", "cord19", "--papers", "100",
                                        "--text-scale", "0.02", "--processes", "1", "--compact-json"])
    assert compact.exit_code == 0, compact.output
    parse = next((tmp_path / "e" / "document_parses").rglob("*.json")).read_text()
    assert "\n" not in parse and json.loads(parse)["body_text"]
    bad = CliRunner().invoke(main, ["demo-corpus", str(tmp_path / "d"), "--text-scale", "0.5"])
    assert bad.exit_code != 0 and "--shape cord19" in bad.output


def test_title_vocabulary_grows_like_real_titles(corpus10k):
    """Rare words (ckg.corpusgen.text.RareWords) keep titles' vocabulary growing with the corpus:
    the templates alone gave 821 distinct words in 1,000 paper titles and 3,199 in 26,906
    reference titles, where real CORD-19 has 3,125-3,999 and 20,111."""
    meta = stats.metadata_stats(corpus10k.path / "metadata.csv")
    assert 2_400 <= meta["distinct title words in 1,000 rows"] <= 4_400  # real: 3,999 (2022-06), 3,125 (2020-04)
    parses = stats.parse_stats(stats.release_parse_files(corpus10k.path), limit=800)
    assert 9_000 <= parses["distinct words in 10,000 bib titles"] <= 14_000  # real: 12,130 (803 preprints)


def test_rare_words_are_distinct_and_not_vocabulary_words():
    from ckg.corpusgen.text import RareWords

    rare = RareWords()
    words = [rare.word(k) for k in range(200_000)]
    assert len(set(words)) == len(words)
    assert all(w.isalpha() and w.islower() and w.endswith(("q", "j", "zh")) for w in words)
    names = {n.lower() for t in TOPICS for n in [*t["concepts"], *t["seed_words"]]}
    assert not names & set(words)
    ranks = Counter(rare.rank(k / 10_000) for k in range(10_000))  # the law's quantiles
    assert ranks.most_common(1)[0][0] == 0 and max(ranks) > 1_000_000  # head and tail


@pytest.mark.realdata
def test_frequent_rare_words_name_no_mesh_concept(real_data):
    """The 200,000 most frequent rare words (97% of the rare words drawn) are no name of any
    MeSH 2024 descriptor or entry term, so the generator's rare words add no concepts."""
    from ckg.corpusgen.text import RareWords
    from ckg.etl.vocab import load

    vocabulary = load([real_data / "vocab" / "mesh" / "mesh-2024.nt.gz"])
    names = {name.lower() for concept in vocabulary.concepts for name in concept.names}
    assert len(names) > 100_000
    rare = RareWords()
    hits = sorted(names & {rare.word(k) for k in range(200_000)})
    assert not hits, hits[:20]


def test_body_vocabulary_grows_like_real_bodies():
    """300,000 words of generated bodies hold about 10,000 distinct words (the templates alone: 940
    for any length); the real 803 preprints: 7,929 in 100,000 words, 24,704 in 1,000,000."""
    import random

    from ckg.corpusgen.text import Pools, body

    pools, r, seen, words, i = Pools(11), random.Random(4), set(), 0, 0
    while words < 300_000:
        for _, sentences in body(r, pools, (i % 10,), 2021, 20, 20_000):
            tokens = re.findall(r"[^\W\d_]+", " ".join(sentences).lower())
            words += len(tokens)
            seen.update(tokens)
        i += 1
    assert 8_000 <= len(seen) <= 16_000
