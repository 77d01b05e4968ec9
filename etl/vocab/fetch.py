"""Download the current official vocabulary files (``ckg vocab fetch mesh|doid``).

========  =======================================================================  ================
name      official file                                                            format
========  =======================================================================  ================
``mesh``  https://nlmpubs.nlm.nih.gov/projects/mesh/rdf/mesh.nt.gz (NLM, MeSH RDF)  MeSH N-Triples
``doid``  http://purl.obolibrary.org/obo/doid.obo (Human Disease Ontology)         OBO
========  =======================================================================  ================

The file is streamed to a temporary name beside its destination and renamed once complete and
recognised as a vocabulary (an HTML error page is not kept); a ``<file>.source.json`` beside it
records the URL, the time, the size and the SHA-256. ``url`` fetches another URL under the
same name (a mirror, a year-specific MeSH file, a descriptor XML file).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ckg.etl.vocab import VocabularyError, detect_format

SOURCES: dict[str, str] = {
    "mesh": "https://nlmpubs.nlm.nih.gov/projects/mesh/rdf/mesh.nt.gz",
    "doid": "http://purl.obolibrary.org/obo/doid.obo",
}


class FetchError(OSError):
    """A download failed or did not give a vocabulary file."""


@dataclass
class Fetched:
    name: str
    url: str
    path: Path
    bytes: int
    sha256: str
    format: str


def fetch(name: str, out_dir: Path, *, url: str | None = None, timeout: float = 60.0,
          progress: Callable[[int], None] | None = None) -> Fetched:
    """Download vocabulary ``name`` (``mesh`` or ``doid``) into ``out_dir``."""
    if name not in SOURCES:
        raise FetchError(f"unknown vocabulary {name!r}; known: {', '.join(SOURCES)}")
    url = url or SOURCES[name]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    filename = url.rstrip("/").rsplit("/", 1)[-1] or f"{name}.dat"
    target = out_dir / filename
    partial = out_dir / (filename + ".part")
    digest = hashlib.sha256()
    size = 0
    request = urllib.request.Request(url, headers={"User-Agent": "ckg-vocab-fetch"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, open(partial, "wb") as out:
            for block in iter(lambda: response.read(1 << 20), b""):
                out.write(block)
                digest.update(block)
                size += len(block)
                if progress:
                    progress(len(block))
    except urllib.error.HTTPError as exc:
        partial.unlink(missing_ok=True)
        raise FetchError(f"could not download {url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        partial.unlink(missing_ok=True)
        reason = getattr(exc, "reason", None) or exc
        raise FetchError(f"could not download {url}: {reason}") from None
    try:
        fmt = detect_format(partial)  # by content: the name ends in .part
    except (VocabularyError, OSError, EOFError):
        partial.unlink(missing_ok=True)
        raise FetchError(f"{url} did not give a MeSH N-Triples, MeSH XML or OBO file") from None
    os.replace(partial, target)
    info = {"name": name, "url": url, "fetched_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "bytes": size, "sha256": digest.hexdigest(), "format": fmt}
    Path(str(target) + ".source.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return Fetched(name, url, target, size, digest.hexdigest(), fmt)
