"""Synthetic CORD-19 releases at CORD-19's own shape and size (10k to 1M papers and more).

:func:`generate` writes release 1 or 2 of the corpus ``(papers, seed)`` in CORD-19's final
layout (``metadata.csv`` with the 19 final columns, ``document_parses/pdf_json/<sha>.json``,
``document_parses/pmc_json/<PMCID>.xml.json``), with the distributions measured on the real data
(:mod:`ckg.corpusgen.shape`): sources, licenses, identifiers, dates, abstracts (77% of rows),
authors, parses (37% of papers have a full text: a PDF parse, and most of them a PMC parse too),
bibliographies (about 36 entries, with the DOIs, years and title variants of real parses; about
30% of the entries cite a paper of the corpus), a cord_uid repeated on a second row (4.4% of
rows) and preprints listed again as their journal version. Texts are written from the topics
and concepts of the bundled vocabulary, like the demo corpus's.

Generation streams: papers are written one by one over disjoint shards of consecutive papers,
in ``processes`` worker processes; a shard's metadata rows go to a part file that is appended to
``metadata.csv`` in shard order, so memory stays flat in the corpus size (bounded caches, see
:data:`ckg.corpusgen.papers.CACHE_SIZES`) and the files are the same whatever the number of
processes. Every value is a pure function of the seed and of its place
(:mod:`ckg.corpusgen.hashing`): the same arguments always give the same bytes. What was
generated, how and how fast is written to ``.corpusgen/manifest.json`` (a hidden folder, which
the ETL does not read).

Release 2 is the next weekly release of the same corpus: ``new_share`` papers added (appended),
``changed_share`` changed (title typo corrected, abstract added or completed, PMC parse added,
date made precise, author added), ``removed_share`` removed; papers that do not change have
byte-identical rows and parses in both releases, and some references of release 1 point at
papers that only release 2 adds. Release 1 does not depend on the release-2 shares.

>>> import tempfile
>>> out = generate(tempfile.mkdtemp(), papers=200, seed=5, text_scale=0.05, processes=1)
>>> out.counts.papers, out.counts.rows >= 200, out.counts.pdf_json > 40
(200, True, True)
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import shutil
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from ckg.corpusgen.papers import Corpus, Settings
from ckg.corpusgen.render import PDF_DIR, PMC_DIR, Counts, Renderer
from ckg.corpusgen.vocab import COLUMNS

SHARD = 500  # papers per shard
_PARTS = ".ckg-corpusgen-parts"
MANIFEST = Path(".corpusgen") / "manifest.json"


@dataclass(frozen=True)
class ScaleRelease:
    """What :func:`generate` wrote."""

    path: Path
    release: int
    settings: Settings
    counts: Counts
    seconds: float
    processes: int

    def manifest(self) -> dict:
        import platform

        from ckg import __version__

        return {"generator": "ckg.corpusgen.scale", "ckg": __version__, "python": platform.python_version(),
                "release": self.release, "settings": asdict(self.settings), "processes": self.processes,
                "seconds": round(self.seconds, 2), "counts": asdict(self.counts)}

    def write_manifest(self) -> Path:
        """``.corpusgen/manifest.json`` in the release: what was generated, how, how long it took
        (a hidden folder: the ETL does not read it)."""
        path = self.path / MANIFEST
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(self.manifest(), indent=1) + "\n", encoding="utf-8")
        return path

    def summary(self) -> str:
        c = self.counts
        forms = ", ".join(f"{k} {v:,}" for k, v in sorted(c.in_corpus_by_form.items()))
        lines = [f"wrote release {self.release} of the CORD-19-shaped corpus ({self.settings.papers:,} papers, "
                 f"seed {self.settings.seed}) to {self.path} in {self.seconds:.1f} s ({self.processes} processes)",
                 f"  {c.rows:,} metadata rows ({c.papers:,} papers, {c.duplicate_rows:,} rows repeating a cord_uid), "
                 f"{c.pdf_json:,} pdf_json and {c.pmc_json:,} pmc_json parses, {c.bytes / 2**20:,.0f} MiB",
                 f"  bibliographies read by the ETL: {c.bib_entries:,} entries, {c.in_corpus:,} citing a paper of this "
                 f"release ({forms}), {c.future:,} a paper of another release"]
        if self.release == 2:
            lines.append(f"  since release 1: {c.added:,} added, {c.changed:,} changed, {c.removed:,} removed")
        return "\n".join(lines)


def generate(out_dir, *, papers: int = 10_000, seed: int = 7, release: int = 1, processes: int | None = None,
             progress=None, **options) -> ScaleRelease:
    """Write release ``release`` (1 or 2) of the corpus ``(papers, seed)`` to ``out_dir``.

    ``options`` are the other fields of :class:`ckg.corpusgen.papers.Settings` (``text_scale``,
    ``in_corpus_share``, ``duplicate_rows``, ``twin_pairs``, ``new_share``, ``changed_share``,
    ``removed_share``, ...). ``processes`` defaults to the CPUs available; ``progress(done, total)``
    is called after each shard. ``out_dir`` is created; write each release into its own folder.
    """
    if papers < 1:
        raise ValueError("papers must be at least 1")
    if release not in (1, 2):
        raise ValueError("release must be 1 or 2")
    names = {f.name for f in fields(Settings)}
    unknown = set(options) - names
    if unknown:
        raise TypeError(f"unknown option(s): {', '.join(sorted(unknown))}")
    settings = replace(Settings(papers=papers, seed=seed), **options)
    for name in ("new_share", "changed_share", "removed_share", "duplicate_rows", "twin_pairs", "in_corpus_share"):
        if not 0 <= getattr(settings, name) <= 1:
            raise ValueError(f"{name} must be between 0 and 1")
    if settings.text_scale <= 0:
        raise ValueError("text_scale must be positive")
    start = time.perf_counter()
    out = Path(out_dir)
    (out / PDF_DIR).mkdir(parents=True, exist_ok=True)
    (out / PMC_DIR).mkdir(parents=True, exist_ok=True)
    parts = out / _PARTS
    parts.mkdir(exist_ok=True)
    shards = [(k, lo, min(lo + SHARD, papers)) for k, lo in enumerate(range(0, papers, SHARD))]
    if release == 2:
        added = settings.n_new
        shards += [(len(shards) + k, papers + lo, papers + min(lo + SHARD, added))
                   for k, lo in enumerate(range(0, added, SHARD))]
    tasks = [(settings, release, str(out), k, lo, hi) for k, lo, hi in shards]
    processes = max(1, min(processes or len(os.sched_getaffinity(0)), len(tasks)))
    counts = Counts()
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, 20, 50)  # the caches hold many objects: collect them less often
    with open(out / "metadata.csv", "w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(COLUMNS) + "\n")
        done = 0
        if processes == 1:
            results = map(_shard, tasks)
            pool = None
        else:
            pool = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn").Pool(processes)
            results = pool.imap(_shard, tasks)
        try:
            for k, shard_counts in results:
                part = parts / f"{k:07d}.csv"
                with open(part, encoding="utf-8", newline="") as src:
                    shutil.copyfileobj(src, handle, 1 << 20)
                part.unlink()
                counts.add(shard_counts)
                done += 1
                if progress:
                    progress(done, len(tasks))
        finally:
            gc.set_threshold(*thresholds)
            if pool is not None:
                pool.close()
                pool.join()
    parts.rmdir()
    if release == 2:
        corpus = _corpus(settings)
        counts.removed = sum(1 for i in range(papers) if corpus.removed(i))
    _CACHE.clear()  # the caches of this process (processes=1) are not needed any more
    counts.bytes += (out / "metadata.csv").stat().st_size
    result = ScaleRelease(out, release, settings, counts, time.perf_counter() - start, processes)
    result.write_manifest()
    return result


_CACHE: dict = {}


def _corpus(settings: Settings) -> Corpus:
    """One corpus model per process (its caches serve the shards the process renders)."""
    if _CACHE.get("key") != settings:
        _CACHE.clear()
        _CACHE["key"] = settings
        _CACHE["corpus"] = Corpus(settings)
        _CACHE["renderer"] = Renderer(_CACHE["corpus"])
    return _CACHE["corpus"]


def _shard(task: tuple) -> tuple[int, Counts]:
    import csv

    settings, release, out, k, lo, hi = task
    corpus = _corpus(settings)
    renderer: Renderer = _CACHE["renderer"]
    out = Path(out)
    counts = Counts()
    with open(out / _PARTS / f"{k:07d}.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for i in range(lo, hi):
            if not corpus.present(i, release):
                continue
            rows, files = renderer.paper(i, release, counts)
            writer.writerows(rows)
            for path, text in files:
                data = text.encode("ascii")
                with open(out / path, "wb") as f:
                    f.write(data)
                counts.bytes += len(data)
    return k, counts
