"""The statistics that say how far a generated release is from real CORD-19, and the table of both.

:func:`metadata_stats` reads a ``metadata.csv`` row by row (memory bounded by the number of
distinct values of each statistic, not by the rows); :func:`parse_stats` reads parses (all of
them, or an evenly spread sample of ``limit``). Both return ``{statistic: value}`` with the same
names for real and generated data, so :func:`compare` can print them side by side:

* metadata: the real reference is a random sample of 1,000 rows of the final release
  (``metadata-2022-06-sample1000.csv``); duplicate titles, which a random sample cannot show, are
  measured on the 4,400 papers of April 2020 (``subset-2020-04``);
* parses: the real reference is the 803 bioRxiv/medRxiv parses of the first release
  (``release-2020-03-13``), compared with the generated preprints' PDF parses (same kind of
  document) and with all generated parses.

>>> s = metadata_stats_from_rows([{"cord_uid": "a", "title": "A b c", "abstract": "xy", "authors": "L, F; M, G",
...                                "publish_time": "2021", "source_x": "WHO", "license": "unk"}])
>>> s["rows"], s["abstract share"], s["authors per row: mean"], s["publish_time year only"]
(1, 1.0, 2.0, 1.0)
"""

from __future__ import annotations

import csv
import json
import math
import re
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

csv.field_size_limit(sys.maxsize)

_LINE_NUMBER = re.compile(r"[A-Za-z,;:]\s+\d{2,3}\s+[a-z]")  # "severe 595 fever": a manuscript line number
_SERVER = re.compile(r"\b(?:medrxiv|biorxiv|preprint)\b", re.IGNORECASE)
_WORD = re.compile(r"\w+")
_LETTERS = re.compile(r"[^\W\d_]+")  # a word of letters (the vocabulary statistics)
VOCABULARY_TITLES = 1000       # distinct words of the first 1,000 titles of metadata.csv
VOCABULARY_BIB_TITLES = 10000  # and of the first 10,000 bibliography titles of the parses
VOCABULARY_TEXT_WORDS = 1_000_000  # and of the first million words of their abstracts and bodies


def _quantile(counts: Counter, q: float) -> float:
    """The q-quantile (nearest rank) of values given as a Counter of value -> count."""
    total = sum(counts.values())
    if not total:
        return float("nan")
    rank, seen = max(1, math.ceil(q * total)), 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= rank:
            return value
    return max(counts)


def _mean(counts: Counter) -> float:
    total = sum(counts.values())
    return sum(v * c for v, c in counts.items()) / total if total else float("nan")


def _describe(name: str, counts: Counter, out: dict, qs=(0.1, 0.5, 0.9)) -> None:
    out[f"{name}: mean"] = round(_mean(counts), 2)
    for q in qs:
        out[f"{name}: p{round(q * 100)}"] = _quantile(counts, q)


def norm_title(title: str) -> str:
    """Case, accents and punctuation ignored (for counting duplicate titles)."""
    return " ".join(_WORD.findall(title.lower()))


def read_rows(path: Path) -> Iterable[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def metadata_stats(path: Path) -> dict:
    """Statistics of one ``metadata.csv`` file (streamed)."""
    return metadata_stats_from_rows(read_rows(Path(path)))


def metadata_stats_from_rows(rows: Iterable[dict]) -> dict:
    n = 0
    present: Counter = Counter()
    flags: Counter = Counter()
    abstract_chars: Counter = Counter()
    authors: Counter = Counter()
    title_words: Counter = Counter()
    years: Counter = Counter()
    sources: Counter = Counter()
    licenses: Counter = Counter()
    journals: set = set()
    title_vocabulary: set = set()
    uids: Counter = Counter()
    titles: Counter = Counter()
    preprint_titles: set = set()
    journal_titles: set = set()
    for row in rows:
        n += 1
        g = row.get
        for column in ("doi", "pmcid", "pubmed_id", "who_covidence_id", "arxiv_id", "s2_id", "journal", "url",
                       "abstract", "sha", "pdf_json_files", "pmc_json_files"):
            present[column] += bool((g(column) or "").strip())
        pdf, pmc = bool(g("pdf_json_files")), bool(g("pmc_json_files"))
        flags["any parse"] += pdf or pmc
        flags["pdf and pmc"] += pdf and pmc
        flags["2+ shas"] += "; " in (g("sha") or "")
        flags["pubmed_id float form"] += (g("pubmed_id") or "").endswith(".0")
        abstract = g("abstract") or ""
        if abstract:
            abstract_chars[len(abstract) // 10 * 10] += 1
        names = [a for a in (g("authors") or "").split("; ") if a.strip()]
        authors[len(names)] += 1
        title = g("title") or ""
        title_words[len(title.split())] += 1
        if n <= VOCABULARY_TITLES:
            title_vocabulary.update(w.lower() for w in _LETTERS.findall(title))
        time = (g("publish_time") or "").strip()
        flags["date year only"] += len(time) == 4
        flags["date empty"] += not time
        year = time[:4]
        years["none" if not year.isdigit() else "<=2019" if int(year) <= 2019 else year] += 1
        source = g("source_x") or ""
        sources[source] += 1
        licenses[g("license") or ""] += 1
        if n <= 1000:  # distinct journals of the first 1,000 rows (a number that does not grow with n)
            journals.add(g("journal") or "")
        uid = g("cord_uid") or ""
        uids[uid] += 1
        if uids[uid] > 1:  # a cord_uid's second row is the same paper, not another one with its title
            continue
        key = norm_title(title)
        titles[key] += 1
        if "rxiv" in source.lower():
            preprint_titles.add(key)
        elif key:
            journal_titles.add(key)
    out: dict = {"rows": n}
    if not n:
        return out
    out["rows per cord_uid"] = round(n / len(uids), 4)
    share = lambda k: round(k / n, 4)  # noqa: E731
    out["pdf_json share"] = share(present["pdf_json_files"])
    out["pmc_json share"] = share(present["pmc_json_files"])
    out["any parse share"] = share(flags["any parse"])
    out["pdf and pmc share"] = share(flags["pdf and pmc"])
    out["2+ shas share"] = share(flags["2+ shas"])
    out["abstract share"] = share(present["abstract"])
    _describe("abstract chars", abstract_chars, out)
    out["authors empty share"] = share(authors[0])
    nonzero = Counter({k: v for k, v in authors.items() if k})
    _describe("authors per row", nonzero, out, (0.5, 0.9, 0.99))
    _describe("title words", title_words, out)
    out[f"distinct title words in {min(n, VOCABULARY_TITLES):,} rows"] = len(title_vocabulary)
    out["publish_time year only"] = share(flags["date year only"])
    out["publish_time empty"] = share(flags["date empty"])
    for bucket in ("<=2019", "2020", "2021", "2022"):
        out[f"year {bucket}"] = share(years[bucket])
    for column in ("doi", "pmcid", "pubmed_id", "who_covidence_id", "arxiv_id", "s2_id", "journal", "url"):
        out[f"{column} share"] = share(present[column])
    out["pubmed_id float form (of pubmed_ids)"] = round(flags["pubmed_id float form"] / max(1, present["pubmed_id"]), 4)
    out["distinct journals in 1,000 rows"] = len(journals) if n >= 1000 else round(1000 * len(journals) / n, 1)
    for source, count in sources.most_common():
        if count >= 0.02 * n:
            out[f"source_x = {source}"] = share(count)
    for lic, count in licenses.most_common():
        if count >= 0.01 * n:
            out[f"license = {lic}"] = share(count)
    out["papers sharing their title"] = round(sum(c for t, c in titles.items() if c > 1 and t) / len(uids), 4)
    out["preprint titles also a journal row's (per 1000 papers)"] = round(
        1000 * len(preprint_titles & journal_titles) / len(uids), 2)
    return out


def _parse_files(root: Path) -> list[Path]:
    return sorted(p for p in Path(root).rglob("*.json") if p.is_file())


def parse_stats(files: Iterable[Path], limit: int | None = None) -> dict:
    """Statistics of parse files (an evenly spread sample of ``limit`` of them when given)."""
    files = list(files)
    if limit and len(files) > limit:
        step = len(files) / limit
        files = [files[int(k * step)] for k in range(limit)]
    c = {name: Counter() for name in ("bib", "body paras", "body chars", "abstract paras", "abstract chars",
                                      "authors", "cite spans", "ref entries", "back matter", "bib title words",
                                      "bib authors")}
    entries = Counter()
    kinds = Counter()
    bib_vocabulary: set = set()
    text_vocabulary: set = set()
    text_words = 0
    for path in files:
        doc = json.loads(path.read_text(encoding="utf-8"))
        kinds["pmc_json" if "abstract" not in doc else "pdf_json"] += 1
        bib = doc.get("bib_entries") or {}
        c["bib"][len(bib)] += 1
        for entry in bib.values():
            entries["all"] += 1
            ids = entry.get("other_ids") or {}
            entries["doi"] += bool(ids.get("DOI"))
            entries["year missing"] += entry.get("year") is None
            entries["venue empty"] += not entry.get("venue")
            title = entry.get("title") or ""
            if entries["all"] <= VOCABULARY_BIB_TITLES:
                bib_vocabulary.update(w.lower() for w in _LETTERS.findall(title))
            words = len(title.split())
            c["bib title words"][min(words, 60)] += 1
            c["bib authors"][len(entry.get("authors") or [])] += 1
            entries["title <4 words"] += words < 4
            entries["title >30 words"] += words > 30
            entries["title line number"] += bool(_LINE_NUMBER.search(title))
            entries["title preprint server"] += bool(_SERVER.search(title))
        body = doc.get("body_text") or []
        for p in [*(doc.get("abstract") or []), *body]:
            if text_words >= VOCABULARY_TEXT_WORDS:
                break
            words = _LETTERS.findall(p.get("text") or "")[:VOCABULARY_TEXT_WORDS - text_words]
            text_words += len(words)
            text_vocabulary.update(w.lower() for w in words)
        c["body paras"][len(body)] += 1
        c["body chars"][sum(len(p.get("text") or "") for p in body) // 100 * 100] += 1
        c["cite spans"][sum(len(p.get("cite_spans") or []) for p in body)] += 1
        if "abstract" in doc:
            abstract = doc.get("abstract") or []
            c["abstract paras"][len(abstract)] += 1
            c["abstract chars"][sum(len(p.get("text") or "") for p in abstract) // 10 * 10] += 1
        authors = (doc.get("metadata") or {}).get("authors") or []
        c["authors"][len(authors)] += 1
        entries["author entries"] += len(authors)
        entries["with institution"] += sum(1 for a in authors if ((a.get("affiliation") or {}).get("institution")))
        c["ref entries"][len(doc.get("ref_entries") or {})] += 1
        c["back matter"][len(doc.get("back_matter") or [])] += 1
    out: dict = {"parses": len(files), "pmc_json share of parses": round(kinds["pmc_json"] / max(1, len(files)), 4)}
    if not files:
        return out
    _describe("bib entries per parse", c["bib"], out)
    n = max(1, entries["all"])
    out["bib entries with a DOI"] = round(entries["doi"] / n, 4)
    out["bib year missing"] = round(entries["year missing"] / n, 4)
    out["bib venue empty"] = round(entries["venue empty"] / n, 4)
    out["bib authors per entry: mean"] = round(_mean(c["bib authors"]), 2)
    out["bib title words: mean"] = round(_mean(c["bib title words"]), 2)
    out[f"distinct words in {min(n, VOCABULARY_BIB_TITLES):,} bib titles"] = len(bib_vocabulary)
    out["bib title with a line number"] = round(entries["title line number"] / n, 4)
    out["bib title <4 words"] = round(entries["title <4 words"] / n, 4)
    out["bib title >30 words"] = round(entries["title >30 words"] / n, 4)
    out["bib title names a preprint server"] = round(entries["title preprint server"] / n, 4)
    _describe("authors per parse", c["authors"], out, (0.5, 0.9))
    out["parses without authors"] = round(c["authors"][0] / len(files), 4)
    out["author entries with an institution"] = round(entries["with institution"] / max(1, entries["author entries"]), 4)
    out[f"distinct words in {text_words:,} words of text"] = len(text_vocabulary)
    _describe("body paragraphs", c["body paras"], out)
    _describe("body chars", c["body chars"], out)
    _describe("cite spans per parse", c["cite spans"], out, (0.5,))
    if c["abstract paras"]:
        out["abstract paragraphs (pdf): mean"] = round(_mean(c["abstract paras"]), 2)
        out["abstract chars (pdf): mean"] = round(_mean(c["abstract chars"]), 1)
    out["ref_entries per parse: mean"] = round(_mean(c["ref entries"]), 2)
    out["back_matter per parse: mean"] = round(_mean(c["back matter"]), 2)
    return out


def release_parse_files(root: Path, *, preprints_only: bool = False) -> list[Path]:
    """The parse files a release's metadata.csv names (those of preprint rows only, when asked)."""
    root = Path(root)
    out = []
    for row in read_rows(root / "metadata.csv"):
        if preprints_only and "rxiv" not in (row.get("source_x") or "").lower():
            continue
        for column in ("pdf_json_files",) if preprints_only else ("pdf_json_files", "pmc_json_files"):
            out.extend(root / f for f in (row.get(column) or "").split("; ") if f)
    return out


def real_reference(data: Path) -> dict:
    """The real statistics, from the shared data folder (``../shared/data``)."""
    cord = Path(data) / "cord19"
    out = {"metadata": metadata_stats(cord / "metadata" / "metadata-2022-06-sample1000.csv")}
    subset = metadata_stats(cord / "subset-2020-04" / "metadata.csv")
    for key in ("papers sharing their title", "preprint titles also a journal row's (per 1000 papers)"):
        out["metadata"][key + " [2020-04 subset]"] = subset[key]
    out["parses"] = parse_stats(_parse_files(cord / "release-2020-03-13"))
    return out


def generated_stats(root: Path, *, parse_limit: int | None = 3000) -> dict:
    """The same statistics on a generated release (parses: a sample of ``parse_limit``)."""
    root = Path(root)
    meta = metadata_stats(root / "metadata.csv")
    for key in ("papers sharing their title", "preprint titles also a journal row's (per 1000 papers)"):
        meta[key + " [2020-04 subset]"] = meta[key]
    return {"metadata": meta,
            "parses": parse_stats(release_parse_files(root, preprints_only=True), parse_limit),
            "parses (all kinds)": parse_stats(release_parse_files(root), parse_limit)}


def compare(real: dict, generated: dict) -> str:
    """A Markdown table: each statistic, its real value, the generated value(s)."""
    lines = ["| statistic | real | generated | generated (all parses) |", "|---|---|---|---|"]

    def fmt(v):
        return "" if v is None else f"{v:,}" if isinstance(v, int) else f"{v:g}" if isinstance(v, float) else str(v)

    lines.append("| **metadata.csv** (real: random 1,000 rows of 2022-06-02) | | | |")
    keys = list(real["metadata"]) + [k for k in generated["metadata"] if k not in real["metadata"]]
    for key in keys:
        value = generated["metadata"].get(key)
        if value is None and key.startswith(("source_x =", "license =")):
            value = "< 0.02" if key.startswith("source_x") else "< 0.01"
        lines.append(f"| {key} | {fmt(real['metadata'].get(key))} | {fmt(value)} | |")
    lines.append("| **parses** (real: 803 bioRxiv/medRxiv pdf_json of 2020-03-13; generated: preprint pdf_json) | | | |")
    keys = list(real["parses"]) + [k for k in generated["parses"] if k not in real["parses"]]
    for key in keys:
        lines.append(f"| {key} | {fmt(real['parses'].get(key))} | {fmt(generated['parses'].get(key))} | "
                     f"{fmt(generated.get('parses (all kinds)', {}).get(key))} |")
    return "\n".join(lines)
