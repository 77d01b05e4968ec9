"""CORD-19-shaped releases for the benchmarks: ckg.corpusgen.scale when it is there, else the demo corpus."""

from __future__ import annotations

import inspect
import time
from pathlib import Path

from scale_tables import folder_bytes


def generate_release(out: Path, papers: int, seed: int, release: int, generator: str = "auto") -> dict:
    """Write a CORD-19-shaped release: ``ckg.corpusgen.scale`` (streamed, for 10k to 1M papers)
    when it exists and ``generator`` is auto or scale, else ``ckg.demo_corpus.generate``."""
    fn, name = None, "demo_corpus"
    if generator in ("auto", "scale"):
        try:
            from ckg.corpusgen import scale as scale_generator
            candidate = getattr(scale_generator, "generate", None)
            if candidate is not None and {"papers", "seed", "release"} <= set(inspect.signature(candidate).parameters):
                fn, name = candidate, "corpusgen.scale"
        except ImportError:
            if generator == "scale":
                raise
    if fn is None:
        from ckg.demo_corpus import generate as fn
    start = time.perf_counter()
    fn(out, papers=papers, seed=seed, release=release)
    return {"generator": name, "seconds": round(time.perf_counter() - start, 2), "bytes": folder_bytes(out)}
