"""How far a generated corpus is from real CORD-19: the same statistics on both, side by side.

    python bench/measure_real_shape.py GENERATED_RELEASE [--real ../shared/data] [--parses 3000]
    python bench/measure_real_shape.py --generate 10000 [--seed 7] [--text-scale 1.0]
    python bench/measure_real_shape.py --derive [--real ../shared/data]

The first form measures a release folder (``ckg demo-corpus --shape cord19 OUT``), the second
generates one in a temporary folder first. Real references: a random sample of 1,000 rows of
the final release (2022-06-02) for metadata.csv, the 803 bioRxiv/medRxiv parses of 2020-03-13
for parses (compared with the generated preprints' PDF parses, the same kind of document, and
with all generated parses), the 4,400 papers of April 2020 for duplicate titles. The table is
Markdown. ``--resolve`` also resolves every bibliography entry of the generated release with
ckg's own citation rules (identifiers, exact and fuzzy titles; loads every title: up to ~100k
papers). ``--derive`` prints the tables of ``ckg/corpusgen/shape.py`` from the real data.
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

from ckg.corpusgen import stats


def derive(real: Path) -> None:
    rows = list(csv.DictReader(open(real / "cord19/metadata/metadata-2022-06-sample1000.csv", encoding="utf-8",
                                    newline="")))

    def year(t):
        y = t[:4]
        return "-" if not y.isdigit() else y if int(y) >= 2019 else "old"

    profiles = Counter()
    for r in rows:
        flags = "".join(ch for ch, col in (("D", "doi"), ("C", "pmcid"), ("P", "pubmed_id"), ("W", "who_covidence_id"),
                                            ("X", "arxiv_id"), ("A", "abstract"), ("J", "journal"), ("S", "s2_id"),
                                            ("U", "url"), ("M", "pmc_json_files")) if r[col].strip())
        n_sha = len(r["sha"].split("; ")) if r["sha"] else 0
        profiles[(r["source_x"], r["license"], flags, n_sha, len(r["publish_time"]), year(r["publish_time"]))] += 1
    print("ROW_PROFILES:")
    for key, count in sorted(profiles.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"{count}|" + "|".join(str(x) for x in key))

    def quantiles(values, n=20):
        v = sorted(values)
        return tuple(v[min(len(v) - 1, round(k * (len(v) - 1) / n))] for k in range(n + 1))

    print("ABSTRACT_CHARS =", quantiles([len(r["abstract"]) for r in rows if r["abstract"]]))
    print("AUTHOR_COUNTS =", tuple(sorted(Counter(len([a for a in r["authors"].split("; ") if a.strip()])
                                                  for r in rows).items())))
    print("TITLE_WORDS =", tuple(sorted(Counter(len(r["title"].split()) for r in rows).items())))
    docs = [json.load(open(f)) for f in sorted(glob.glob(str(real / "cord19/release-2020-03-13/*/*.json")))]
    print("BODY_CHARS =", quantiles([sum(len(p["text"]) for p in d["body_text"]) for d in docs]))
    print("BODY_PARAGRAPHS =", quantiles([len(d["body_text"]) for d in docs]))
    print("BIB_ENTRIES =", quantiles([len(d["bib_entries"]) for d in docs]))
    print("REF_ENTRIES =", quantiles([len(d["ref_entries"]) for d in docs]))
    print("ABSTRACT_PARAGRAPHS =", tuple(sorted(Counter(len(d["abstract"]) for d in docs).items())))
    print("BACK_MATTER =", tuple(sorted(Counter(len(d["back_matter"]) for d in docs).items())))


def resolve(root: Path) -> dict:
    """Resolve the bibliography of each generated paper (its PMC parse, else its first PDF parse)
    against the release's papers with ckg's rules; shares of entries by method."""
    from ckg.etl.citations import TitleIndex
    from ckg.etl.normalize import normalize_doi, normalize_title

    rows = list(stats.read_rows(root / "metadata.csv"))
    seen, by_doi, titles = set(), {}, {}
    for row in rows:
        uid = row["cord_uid"]
        if uid in seen:
            continue
        seen.add(uid)
        year = int(row["publish_time"][:4]) if row["publish_time"][:4].isdigit() else None
        if row["doi"]:
            by_doi.setdefault(normalize_doi(row["doi"]), []).append(uid)
        titles.setdefault(normalize_title(row["title"]), []).append((uid, year))
    index = TitleIndex(titles, {d: u[0] for d, u in by_doi.items()})
    methods = Counter()
    for row in rows:
        files = (row["pmc_json_files"] or row["pdf_json_files"]).split("; ")
        if not files[0]:
            continue
        doc = json.loads((root / files[0]).read_text(encoding="utf-8"))
        for entry in doc["bib_entries"].values():
            dois = (entry.get("other_ids") or {}).get("DOI") or []
            doi = normalize_doi(dois[0]) if dois else ""
            if doi and doi in by_doi:
                methods["doi" if len(by_doi[doi]) == 1 else "ambiguous"] += 1
                continue
            method, found = index.lookup(normalize_title(entry.get("title")), entry.get("year"), doi)
            methods[(method or "unresolved") if len(found) <= 1 else "ambiguous"] += 1
    total = sum(methods.values())
    return {k: round(v / total, 4) for k, v in sorted(methods.items())} | {"entries": total}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("release", nargs="?", type=Path, help="a generated release folder")
    parser.add_argument("--real", type=Path, default=Path(os.environ.get("CKG_REAL_DATA", "../shared/data")))
    parser.add_argument("--parses", type=int, default=3000, help="parses to read (an even sample)")
    parser.add_argument("--generate", type=int, help="generate a corpus of this many papers first")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--text-scale", type=float, default=1.0)
    parser.add_argument("--resolve", action="store_true", help="also resolve the generated bibliographies")
    parser.add_argument("--derive", action="store_true", help="print shape.py's tables from the real data")
    parser.add_argument("--json", action="store_true", help="print the statistics as JSON too")
    args = parser.parse_args()
    if not (args.real / "cord19").is_dir():
        print(f"real data not found at {args.real} (give --real or set CKG_REAL_DATA)", file=sys.stderr)
        return 2
    if args.derive:
        derive(args.real)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        root = args.release
        if args.generate:
            from ckg.corpusgen.scale import generate

            result = generate(Path(tmp) / "corpus", papers=args.generate, seed=args.seed, text_scale=args.text_scale)
            print(result.summary(), file=sys.stderr)
            root = result.path
        if root is None:
            parser.error("give a release folder or --generate N")
        real = stats.real_reference(args.real)
        generated = stats.generated_stats(root, parse_limit=args.parses)
        print(stats.compare(real, generated))
        if args.resolve:
            print("\nbibliography entries of the generated release by resolution method:", json.dumps(resolve(root)))
        if args.json:
            print(json.dumps({"real": real, "generated": generated}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
