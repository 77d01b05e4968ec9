"""Search: find papers by what they are about, lexical and semantic, fused, with the graph as a prior.

For a query text, :meth:`SearchService.search` ranks the papers of a store's current release:

* ``bm25``: the plain baseline (:mod:`ckg.search.lexical`: title and abstract, no stemming);
* ``lexical``: BM25 over title, abstract and body (stemmed, stop words out, title boosted);
* ``semantic``: cosine of the query's and the papers' text embeddings (:mod:`ckg.search.semantic`);
* ``fused`` (the default): ``w * lexical + (1 - w) * semantic`` over the union of both sides'
  :attr:`SearchConfig.candidates` best papers, each side's scores scaled to [0, 1] over those
  candidates (BM25 divided by its best score; cosines min-max), ``w`` =
  :attr:`SearchConfig.lexical_weight`. Without embeddings (no ``ckg train`` yet) fused is lexical.

The **graph prior** (``prior_weight`` > 0) re-orders the :attr:`SearchConfig.prior_depth` best
papers by ``score + prior_weight * prior``, where ``prior`` is the mean of three signals in
[0, 1]: citations (``log(1 + ckg:citedByCount)`` over the corpus's highest), PageRank (the
paper's ``ckg:pageRankScore`` over the highest) and concept match (the mean, over the concepts
the query names — a concept label or synonym the store holds, as words of the query — of the
paper's confidence for it, 0 when it lacks it).

Filters (``concept``, ``topic``, ``year``) keep the papers with that concept (or one
``skos:exactMatch`` to it: a MeSH id works), topic or publication year; both sides search
within them.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyoxigraph as ox

from ckg import resources
from ckg.search.lexical import LexicalIndex, SearchIndexError
from ckg.terms import CKG, DCTERMS, SKOS, XSD

MODES = ("fused", "lexical", "semantic", "bm25")
MAX_K = 1000
SCORES_CACHED = 64
"""Queries whose scores :meth:`SearchService.score` keeps (the SPARQL function's cache)."""


class SearchError(ValueError):
    """A search that cannot be answered as asked (the message says why)."""


@dataclass(frozen=True)
class SearchConfig:
    candidates: int = 1000
    """Papers taken from each side before fusing (and the depth of the SPARQL function's scores)."""
    lexical_weight: float = 0.4
    """``w`` of the fused score; chosen on the validation topics of TREC-COVID (docs/search.md)."""
    prior_weight: float = 0.0
    """Weight of the graph prior (0: off)."""
    prior_depth: int = 100
    """How many of the best papers the prior re-orders."""

    def validate(self) -> SearchConfig:
        if not 0 <= self.lexical_weight <= 1:
            raise SearchError(f"the lexical weight must be in [0, 1], got {self.lexical_weight}")
        if self.prior_weight < 0 or self.prior_depth < 1 or self.candidates < 1:
            raise SearchError("the prior weight must be >= 0, the prior depth and candidates >= 1")
        return self


@dataclass
class Hit:
    key: str
    score: float
    lexical: float | None = None
    semantic: float | None = None
    prior: float | None = None
    title: str | None = None
    year: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["iri"] = resources.paper(self.key).value
        return out


@dataclass
class Answer:
    query: str
    mode: str
    hits: list[Hit]
    filters: dict[str, Any] = field(default_factory=dict)
    terms: list[str] = field(default_factory=list)
    concepts: list[str] = field(default_factory=list)
    semantic: str | None = None
    """The embedding run used, or why there is none."""
    took_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"query": self.query, "mode": self.mode, "filters": self.filters, "terms": self.terms,
                "query_concepts": self.concepts, "semantic": self.semantic, "took_ms": round(self.took_ms, 2),
                "results": [h.as_dict() for h in self.hits]}


_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")


def words(text: str) -> list[str]:
    """Lower-cased words (hyphenated compounds kept whole).

    >>> words("SARS-CoV-2 in children's lungs?")
    ['sars-cov-2', 'in', "children's", 'lungs']
    """
    return [w.lower() for w in _WORD.findall(text or "")]


class SearchService:
    """Search over one release of a store (thread-safe for reads)."""

    def __init__(self, store_path: Path | str, *, folder: Path | None = None, store: ox.Store | None = None,
                 config: SearchConfig | None = None) -> None:
        from ckg.store import open_release

        self.store_path = Path(store_path)
        if store is None or folder is None:
            folder, store = open_release(self.store_path, read_only=True)
        self.folder, self.store = Path(folder), store
        self.config = (config or SearchConfig()).validate()
        self.lexical = LexicalIndex(self.folder)
        self._semantic = None
        self._semantic_note: str | None = None
        self._labels: dict[str, set[str]] | None = None
        self._maxima: dict[str, float] | None = None
        self._lock = threading.Lock()
        self._scores: OrderedDict[tuple, dict[str, float]] = OrderedDict()

    # -- the two sides --------------------------------------------------------------------------
    @property
    def semantic(self):
        """The semantic index, or None (with :attr:`semantic_note` saying why)."""
        with self._lock:
            if self._semantic is None and self._semantic_note is None:
                from ckg.embed.errors import EmbeddingError
                from ckg.search.semantic import SemanticIndex

                try:
                    self._semantic = SemanticIndex(self.store_path)
                except EmbeddingError as exc:
                    self._semantic_note = f"no semantic side: {exc}"
            return self._semantic

    @property
    def semantic_note(self) -> str:
        index = self.semantic
        return f"embedding run {index.run_id}" if index is not None else (self._semantic_note or "")

    # -- filters --------------------------------------------------------------------------------
    def _subject(self, value: str, kind: str) -> ox.NamedNode:
        try:
            return resources.from_user(kind, value)
        except ValueError as exc:
            raise SearchError(f"{kind} {value!r} is neither a {kind} key nor an IRI: {exc}") from None

    def filter_keys(self, concept: str | None = None, topic: str | None = None, year: int | None = None) -> set[str] | None:
        """The papers that pass the filters (None: no filter)."""
        sets: list[set[str]] = []
        for value, kind in ((concept, "concept"), (topic, "topic")):
            if value:
                subject = self._subject(value, kind)
                subjects = {subject}
                subjects.update(q.subject for q in self.store.quads_for_pattern(None, SKOS.exactMatch, subject)
                                if isinstance(q.subject, ox.NamedNode))
                keys = set()
                for s in subjects:
                    for q in self.store.quads_for_pattern(None, CKG.annotatedTarget, s):
                        for src in self.store.quads_for_pattern(q.subject, CKG.annotatedSource, None):
                            key = resources.key_of(src.object, "paper")
                            if key:
                                keys.add(key)
                sets.append(keys)
        if year is not None:
            literal = ox.Literal(str(int(year)), datatype=XSD.integer)
            sets.append({k for q in self.store.quads_for_pattern(None, CKG.publicationYear, literal)
                         if (k := resources.key_of(q.subject, "paper"))})
        if not sets:
            return None
        out = sets[0]
        for s in sets[1:]:
            out &= s
        return out

    # -- query concepts and the prior ---------------------------------------------------------
    def _concept_labels(self) -> dict[str, set[str]]:
        with self._lock:
            if self._labels is None:
                labels: dict[str, set[str]] = {}
                for prop in (SKOS.prefLabel, SKOS.altLabel):
                    for q in self.store.quads_for_pattern(None, prop, None):
                        if isinstance(q.subject, ox.NamedNode) and resources.key_of(q.subject, "concept"):
                            label = " ".join(words(q.object.value))
                            if label:
                                labels.setdefault(label, set()).add(q.subject.value)
                self._labels = labels
            return self._labels

    def query_concepts(self, text: str, longest: int = 6) -> list[str]:
        """The concepts the query names (longest match first, left to right), as IRIs."""
        labels = self._concept_labels()
        tokens = words(text)
        out: list[str] = []
        i = 0
        while i < len(tokens):
            for n in range(min(longest, len(tokens) - i), 0, -1):
                found = labels.get(" ".join(tokens[i:i + n]))
                if found:
                    out.extend(sorted(found - set(out)))
                    i += n
                    break
            else:
                i += 1
        return out

    def _maximum(self, predicate: ox.NamedNode) -> float:
        best = 0.0
        for q in self.store.quads_for_pattern(None, predicate, None):
            try:
                best = max(best, float(q.object.value))
            except ValueError:
                continue
        return best

    def _value(self, paper: ox.NamedNode, predicate: ox.NamedNode) -> float:
        for q in self.store.quads_for_pattern(paper, predicate, None):
            try:
                return float(q.object.value)
            except ValueError:
                return 0.0
        return 0.0

    def prior(self, key: str, concepts: list[str]) -> float:
        """The graph prior of a paper for a query naming ``concepts`` (in [0, 1])."""
        with self._lock:
            if self._maxima is None:
                self._maxima = {"citations": self._maximum(CKG.citedByCount), "pagerank": self._maximum(CKG.pageRankScore)}
        paper = resources.paper(key)
        cited = self._value(paper, CKG.citedByCount)
        citations = math.log1p(cited) / math.log1p(self._maxima["citations"]) if self._maxima["citations"] > 0 else 0.0
        pagerank = self._value(paper, CKG.pageRankScore) / self._maxima["pagerank"] if self._maxima["pagerank"] > 0 else 0.0
        match = 0.0
        if concepts:  # the association of a paper and a concept has a known IRI: one lookup each
            for concept in concepts:
                concept_key = resources.key_of(ox.NamedNode(concept), "concept")
                if concept_key:
                    match += self._value(resources.concept_association(key, concept_key), CKG.confidence)
            match /= len(concepts)
        return (citations + pagerank + match) / 3

    # -- ranking --------------------------------------------------------------------------------
    def scored(self, text: str, mode: str = "fused", keys: set[str] | None = None,
               config: SearchConfig | None = None) -> tuple[list[tuple[str, float, float | None, float | None]], list[str]]:
        """(key, score, lexical, semantic) of the candidates of a query, best first, and the
        query's terms; before the prior."""
        config = config or self.config
        if mode not in MODES:
            raise SearchError(f"unknown search mode {mode!r} (known: {', '.join(MODES)})")
        depth = config.candidates
        terms = self.lexical.terms(text, baseline=(mode == "bm25"))
        semantic = self.semantic if mode in ("fused", "semantic") else None
        if mode == "semantic" and semantic is None:
            raise SearchError(f"semantic search needs the store's text embeddings: {self._semantic_note} "
                              "(run `ckg train`)")
        lexical = {} if mode == "semantic" else {
            h.key: h.score for h in self.lexical.search(text, depth, baseline=(mode == "bm25"), keys=keys)}
        if semantic is None:
            best = max(lexical.values(), default=0.0) or 1.0
            ranked = sorted(((k, s / best, s, None) for k, s in lexical.items()), key=lambda r: (-r[1], r[0]))
            return ranked, terms
        vector = semantic.encode(text)
        rows = None
        if keys is not None:
            rows = np.array(sorted(semantic.row[k] for k in keys if k in semantic.row), dtype=np.int64)
        all_scores = semantic.scores(vector)
        cosine = dict(semantic.top(vector, depth, rows, scores=all_scores))
        if mode == "semantic":
            ranked = sorted(((k, c, None, c) for k, c in cosine.items()), key=lambda r: (-r[1], r[0]))
            return ranked, terms
        for key in lexical:  # the lexical side's candidates get their cosine too
            row = semantic.row.get(key)
            if key not in cosine and row is not None and np.isfinite(all_scores[row]):
                cosine[key] = float(all_scores[row])
        low, high = (min(cosine.values()), max(cosine.values())) if cosine else (0.0, 1.0)
        span = (high - low) or 1.0
        best = max(lexical.values(), default=0.0) or 1.0
        w = config.lexical_weight
        ranked = []
        for key in set(lexical) | set(cosine):
            lex = lexical.get(key, 0.0) / best
            sem = (cosine[key] - low) / span if key in cosine else 0.0
            ranked.append((key, w * lex + (1 - w) * sem, lexical.get(key), cosine.get(key)))
        ranked.sort(key=lambda r: (-r[1], r[0]))
        return ranked, terms

    def search(self, text: str, k: int = 10, mode: str = "fused", *, concept: str | None = None,
               topic: str | None = None, year: int | None = None, prior: float | None = None,
               config: SearchConfig | None = None, details: bool = True) -> Answer:
        """The ``k`` best papers for a query (see the module's description)."""
        started = time.perf_counter()
        if not 1 <= k <= MAX_K:
            raise SearchError(f"k must be from 1 to {MAX_K}, got {k}")
        if not (text or "").strip():
            raise SearchError("the query is empty")
        config = config or self.config
        prior_weight = config.prior_weight if prior is None else float(prior)
        if prior_weight < 0:
            raise SearchError(f"the prior weight must be >= 0, got {prior_weight}")
        keys = self.filter_keys(concept, topic, year)
        ranked, terms = self.scored(text, mode, keys, config)
        concepts = self.query_concepts(text)
        hits = [Hit(key, score, lex, sem) for key, score, lex, sem in ranked[:max(k, config.prior_depth)]]
        if prior_weight > 0:
            head = hits[:config.prior_depth]
            for hit in head:
                hit.prior = self.prior(hit.key, concepts)
                hit.score = hit.score + prior_weight * hit.prior
            head.sort(key=lambda h: (-h.score, h.key))
            hits = head + hits[config.prior_depth:]
        hits = hits[:k]
        if details:
            for hit in hits:
                paper = resources.paper(hit.key)
                title = self._text(paper, DCTERMS.title)
                hit.title = title or None
                year_value = self._text(paper, CKG.publicationYear)
                hit.year = int(year_value) if year_value.isdigit() else None
        filters = {k: v for k, v in (("concept", concept), ("topic", topic), ("year", year)) if v not in (None, "")}
        return Answer(text, mode, hits, filters, terms, concepts,
                      self.semantic_note if mode in ("fused", "semantic") else None,
                      (time.perf_counter() - started) * 1000)

    def _text(self, subject: ox.NamedNode, predicate: ox.NamedNode) -> str:
        for q in self.store.quads_for_pattern(subject, predicate, None):
            return q.object.value
        return ""

    def score(self, text: str, paper_iri: str) -> float | None:
        """The fused score (with the configured prior) of a paper for a query, or None when it is
        not among the query's :attr:`SearchConfig.candidates` best (``ckg:search``)."""
        key = resources.key_of(ox.NamedNode(paper_iri), "paper")
        if key is None:
            return None
        cache_key = (text,)
        with self._lock:
            scores = self._scores.get(cache_key)
            if scores is not None:
                self._scores.move_to_end(cache_key)
        if scores is None:
            answer = self.search(text, k=min(self.config.candidates, MAX_K), details=False)
            scores = {h.key: h.score for h in answer.hits}
            with self._lock:
                self._scores[cache_key] = scores
                while len(self._scores) > SCORES_CACHED:
                    self._scores.popitem(last=False)
        return scores.get(key)


def default_config(environ=None) -> SearchConfig:
    """The search settings (``CKG_SEARCH_LEXICAL_WEIGHT``, ``CKG_SEARCH_PRIOR``), checked.

    >>> default_config({"CKG_SEARCH_PRIOR": "0.1"}).prior_weight
    0.1
    """
    from ckg.settings import SETTINGS, get

    values = {}
    for name, attr in (("search_lexical_weight", "lexical_weight"), ("search_prior", "prior_weight")):
        raw = get(name, environ)
        try:
            values[attr] = float(raw)
        except (TypeError, ValueError):
            raise SearchError(f"setting {SETTINGS[name].env} must be a number, got {raw!r}") from None
    return SearchConfig(**values).validate()


def service_or_none(store_path: Path | str, folder: Path, store: ox.Store) -> SearchService | None:
    """The search of a release already open (the endpoint's query processes, ``ckg query``), with
    the settings; None when the release has no search index (``ckg:search`` is then unbound)."""
    try:
        return SearchService(store_path, folder=folder, store=store, config=default_config())
    except SearchIndexError:
        return None


def open_service(store_path: Path | str, config: SearchConfig | None = None) -> SearchService:
    """A :class:`SearchService` over a store's current release; a one-line :class:`SearchError`
    when the release has no search index."""
    try:
        return SearchService(store_path, config=config)
    except SearchIndexError as exc:
        raise SearchError(str(exc)) from None


__all__ = ["Answer", "Hit", "MODES", "SearchConfig", "SearchError", "SearchService", "open_service", "service_or_none",
           "words"]
