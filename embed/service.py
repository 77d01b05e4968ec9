"""One-call helpers over a store folder, for the CLI (and any caller without a long-lived Index).

:func:`similar` loads the store's current run, answers, and turns "not in the embeddings" into a
precise message: a paper that is in the store but was added after the last ``ckg train`` is told
apart from a paper the store does not have.
"""

from __future__ import annotations

from pathlib import Path

from ckg import resources
from ckg.embed.errors import UnknownPaper
from ckg.embed.search import Index, Neighbour
from ckg.store import open_store
from ckg.terms import CKG, RDF


def similar(store_path: Path, paper: str, k: int = 10, mode: str = "combined") -> tuple[Index, list[Neighbour]]:
    """(the index used, the ``k`` papers most similar to ``paper``) in the store's current run."""
    index = Index.load(store_path)
    try:
        return index, index.similar(paper, k=k, mode=mode)
    except UnknownPaper:
        node = resources.paper_from_user(str(paper))
        key = resources.key_of(node, "paper") or node.value
        store = open_store(store_path, read_only=True)
        if next(iter(store.quads_for_pattern(node, RDF.type, CKG.Paper, None)), None) is not None:
            raise UnknownPaper(f"paper {key} is in the store but not in the embeddings of run {index.run_id}: it was "
                               f"added after that training; run `ckg train --store {store_path}` to embed it") from None
        raise UnknownPaper(f"no paper {key!r} in the store {store_path} (find a key with "
                           f"`ckg query --store {store_path} find-papers --param text=...`)") from None
