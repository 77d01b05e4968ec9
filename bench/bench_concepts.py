"""Benchmark: concept extraction speed, single process and parallel, against plain tokenisation.

The input is the 803 full texts of the first CORD-19 release (bioRxiv/medRxiv, 2020-03-13),
read with ckg's own readers (title, abstract, body text, as a build gives them to extraction).
Every figure is measured in the same run:

* baseline: spaCy's blank English tokenizer over the same texts, one process (the least any
  spaCy-based extraction must do);
* extraction: ckg's gazetteer extractor (piece tokenizer, the vocabulary's ~43,000 phrases
  matched on the token table, scispacy's abbreviation detection on token offsets), one process,
  then N processes;
* the same extraction the way extractor version 4 ran it (``v4 path``: spaCy's tokenizer on the
  whole text into a Doc, spaCy's PhraseMatcher, scispacy's span functions for abbreviations;
  ``GazetteerExtractor(legacy=True)``),
  each process count right before the current one, with a gazetteer (and spaCy vocabulary) of
  its own, so that neither gets the other's new words; the two must find the same mentions;
* optionally (``--build``) a whole build of the release with concepts and topics.

Ratios are extraction time / baseline time (how much matching and abbreviations add to
tokenising), speed-up over one process, and ``x v4`` (the v4 path's time / this one's: how many
times faster the current extractor is, same run, same process count).

    python bench/bench_concepts.py [--real ../shared/data] [--processes 1 2 4] [--build]
    python bench/bench_concepts.py --release GENERATED --limit 5000 --processes 1 2   # synthetic texts

Vocabularies: the MeSH RDF, the Disease Ontology (2015 and the infectious-disease slim) and
COVOC from ../shared/data.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from ckg.etl.assemble import Assembler, discover
from ckg.etl.concepts import ExtractionConfig, Gazetteer, GazetteerExtractor, _sections, blank_pipeline, extract_many
from ckg.etl.report import Report
from ckg.etl.vocab import load


V4 = " (v4 path)"


def vocabularies(real: Path) -> list[Path]:
    v = real / "vocab"
    return [v / "mesh" / "mesh-2015-descriptors.nt.gz", v / "doid" / "HumanDO-2015-05.obo",
            v / "doid" / "DO_infectious_disease_slim.obo", v / "covoc" / "covoc.obo"]


def read_texts(release: Path, limit: int | None = None) -> list[tuple[str, str, str, str]]:
    """The papers of a release as extraction gets them; with ``limit``, its first papers with a body."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Report(Path(tmp) / "report.jsonl")
        papers = []
        for p in Assembler(discover([release], report), report).papers():
            if limit is None or p.body:
                papers.append((p.key, p.title, p.abstract, p.body))
            if limit is not None and len(papers) >= limit:
                break
        report.close()
    return papers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real", default=os.environ.get("CKG_REAL_DATA"), help="the shared data folder")
    parser.add_argument("--processes", type=int, nargs="*", default=None,
                        help="process counts to measure (default: 1, 2 and the number of CPUs)")
    parser.add_argument("--build", action="store_true", help="also time a whole build with concepts and topics")
    parser.add_argument("--release", type=Path, default=None,
                        help="another release to read the texts from (a generated one: `ckg demo-corpus --shape "
                             "cord19`); default: the real 2020-03-13")
    parser.add_argument("--limit", type=int, default=None, help="with --release: its first N papers with a body")
    parser.add_argument("--lexicon", default=None,
                        help="a learned lexicon (ckg concepts learn): also time the gold-standard configuration "
                             "(MeSH 2024 + the 2015 descriptors + the Disease Ontology + this lexicon) in the same run")
    args = parser.parse_args()
    if not args.real or not (Path(args.real) / "cord19" / "release-2020-03-13").is_dir():
        print("real data not found (set CKG_REAL_DATA=../shared/data or give --real): nothing measured",
              file=sys.stderr)
        return 0
    real = Path(args.real)
    release = args.release or real / "cord19" / "release-2020-03-13"
    cpus = os.cpu_count() or 1
    counts = args.processes or sorted({1, 2, cpus})

    texts = read_texts(release, args.limit if args.release else None)
    words = 0
    nlp = blank_pipeline()
    start = time.perf_counter()
    for _key, title, abstract, body in texts:
        text, _ = _sections(title, abstract, body)
        nlp.make_doc(text)
    baseline_s = time.perf_counter() - start
    from ckg.etl.concepts import _WORDS

    words = sum(len(_WORDS.findall(_sections(*t[1:])[0])) for t in texts)

    start = time.perf_counter()
    vocab = load(vocabularies(real))
    gazetteer = Gazetteer.build(vocab)
    setup_s = time.perf_counter() - start
    legacy_gazetteer = Gazetteer.build(vocab)  # a spaCy vocabulary of its own

    rows = [{"run": "baseline: tokenize", "processes": 1, "seconds": round(baseline_s, 2)}]
    config = ExtractionConfig()
    outputs: dict[tuple[str, int], list] = {}

    def measure(run: str, gaz: Gazetteer, n: int, **extra) -> None:
        # a fresh extractor per run (the workers of a run with several processes are forked from
        # it), on the gazetteer's spaCy vocabulary: new words enter a vocabulary once, in its first run
        fresh = GazetteerExtractor(gaz, legacy=run.endswith(V4))
        start = time.perf_counter()
        found = sorted(extract_many(texts, fresh, config, processes=n), key=lambda kf: kf[0])
        rows.append({"run": run, "processes": n, "seconds": round(time.perf_counter() - start, 2),
                     "mentions": sum(sum(sum(c) for c in f.mentions.values()) for _k, f in found), **extra})
        outputs[(run, n)] = [(k, f.mentions, f.words) for k, f in found]

    for n in counts:
        measure("extract concepts" + V4, legacy_gazetteer, n)
        measure("extract concepts", gazetteer, n)
    if args.lexicon:
        v = real / "vocab"
        gold_vocab = load([v / "mesh" / "mesh-2024.nt.gz", v / "mesh" / "mesh-2015-descriptors.nt.gz",
                           v / "doid" / "HumanDO-2015-05.obo", Path(args.lexicon)])
        gold_gazetteer, gold_legacy = Gazetteer.build(gold_vocab), Gazetteer.build(gold_vocab)
        for n in counts:
            measure("MeSH 2024 + lexicon" + V4, gold_legacy, n, phrases=len(gold_gazetteer.phrases))
            measure("MeSH 2024 + lexicon", gold_gazetteer, n, phrases=len(gold_gazetteer.phrases))
    for r in rows:
        r["papers_per_s"] = round(len(texts) / r["seconds"], 1)
        r["words_per_s"] = round(words / r["seconds"])
        r["x_baseline_time"] = round(r["seconds"] / baseline_s, 2)
        single = next((x["seconds"] for x in rows if x["run"] == r["run"] and x["processes"] == 1), None)
        if single and r["run"] != "baseline: tokenize":
            r["speedup_vs_1"] = round(single / r["seconds"], 2)
        same = next((x["seconds"] for x in rows if x["run"] == "extract concepts" and x["processes"] == r["processes"]), None)
        if same and r["run"] == "MeSH 2024 + lexicon":
            r["x_current_extractor_time"] = round(r["seconds"] / same, 2)
        v4 = next((x for x in rows if x["run"] == r["run"] + V4 and x["processes"] == r["processes"]), None)
        if v4:
            r["x_v4_path"] = round(v4["seconds"] / r["seconds"], 2)
            r["same_as_v4_path"] = outputs[(r["run"], r["processes"])] == outputs[(v4["run"], v4["processes"])]

    print(f"{len(texts)} papers, {words:,} words; {cpus} CPUs; vocabulary: {len(vocab):,} concepts, "
          f"{len(gazetteer.phrases):,} phrases, loaded and compiled in {setup_s:.1f} s")
    print(f"{'run':<29} {'procs':>5} {'s':>7} {'papers/s':>9} {'words/s':>10} {'x baseline':>10} {'speed-up':>8} "
          f"{'x 4 vocab':>9} {'x v4':>5} {'same':>5}")
    for r in rows:
        print(f"{r['run']:<29} {r['processes']:>5} {r['seconds']:>7} {r['papers_per_s']:>9} {r['words_per_s']:>10,} "
              f"{r['x_baseline_time']:>10} {r.get('speedup_vs_1', ''):>8} {r.get('x_current_extractor_time', ''):>9} "
              f"{r.get('x_v4_path', ''):>5} {str(r.get('same_as_v4_path', '')):>5}")
    result = {"papers": len(texts), "words": words, "cpus": cpus, "vocabulary_setup_s": round(setup_s, 2), "runs": rows}

    if args.build:
        from ckg.etl.annotate import AnnotationOptions
        from ckg.etl.build import build

        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            run = build(Path(tmp) / "store", [release], annotation=AnnotationOptions(vocabularies=vocabularies(real)))
            total = time.perf_counter() - start
        t = run.manifest["timings_s"]
        print(f"build of the release with concepts and topics: {total:.1f} s "
              f"(concepts {t['concepts']} s, topics {t['topics']} s, the rest {total - t['concepts'] - t['topics']:.1f} s)")
        result["build"] = {"seconds": round(total, 2), "timings_s": t,
                           "extraction": run.manifest["counts"]["concepts"]["extraction"]}
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
