"""One-call helpers over a store folder, for the CLI (and any caller without a long-lived Index).

:func:`similar` loads the store's current run, answers, and turns "not in the embeddings" into a
precise message: a paper that is in the store but was added after the last ``ckg train`` is told
apart from a paper the store does not have. :func:`similarity_backend` is what the SPARQL
endpoint loads for its similarity functions and its ``/api/papers/<paper>/similar``.
"""

from __future__ import annotations

from pathlib import Path

from ckg import resources
from ckg.embed.artifacts import current_run_id
from ckg.embed.errors import NoEmbeddings, UnknownPaper
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


class SimilarityBackend:
    """What the SPARQL endpoint uses (see :func:`ckg.server.functions.load_similarity_backend`):
    the store's current embedding run, loaded once per engine process."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.modes = frozenset(index.modes())

    @property
    def run_id(self) -> str | None:
        return self.index.run_id

    def similarity(self, kind: str, paper1: str, paper2: str) -> float | None:
        """The ``kind`` similarity (combined, text or graph) of two papers given by IRI, or None
        when the run has no such mode or either paper has no vector in it."""
        if kind not in self.modes:
            return None
        return self.index.similarity(paper1, paper2, kind)

    def similar(self, paper: str, k: int = 10, mode: str = "combined") -> list[Neighbour]:
        return self.index.similar(paper, k=k, mode=mode)


def similarity_backend(store_path: Path) -> SimilarityBackend | None:
    """The similarity backend of a store's current embedding run, or None when it has none.

    >>> import tempfile
    >>> similarity_backend(Path(tempfile.mkdtemp())) is None
    True
    """
    if current_run_id(store_path) is None:
        return None
    try:
        return SimilarityBackend(Index.load(store_path))
    except NoEmbeddings:
        return None
