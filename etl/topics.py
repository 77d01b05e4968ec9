"""Topics: a seeded LDA (tomotopy) over every paper's title, abstract and the start of its body.

The topics, their labels and seed words, and the model's settings come from a TOML file
(``etl/data/topics.toml`` by default; ``--topics FILE``). Seed words are anchored with
tomotopy's word priors (``set_word_prior``): a seed word gets ``seed_weight`` on its own topic
and ``other_weight`` on the others, every other word the symmetric ``eta``. Words are weighted
by inverse document frequency (``term_weight = "idf"``): the words every paper uses ("study",
"data", "found") would otherwise make one topic the top topic of most papers (on the demo corpus,
IDF weighting recovers the generated topic of 96% of papers, plain counts of 8%), and one
unlabelled background topic (``background_topics``) takes up the words of methods and
statistics, so that they do not make a labelled topic everyone's second topic; it gets no node
and no edges (on the demo corpus: 58 of 60 papers get their generated topic).

**Determinism and updates.** Up to ``max_training_papers`` papers (20,000 by default), the model
is trained on the whole corpus at every build and update: the papers in key order, one training
thread, the configured seed. The same papers therefore give the same topics, top terms and
probabilities, so an update gives exactly the topic triples of a fresh build of the newer
release. Training is the cost: about 4 s for the 803 full texts of the first CORD-19 release,
40 s for 10,000 papers, hours for a million.

Above that size the model is trained on a **sample**: the ``max_training_papers`` papers whose
keys hash lowest (:func:`training_sample`, a choice that does not depend on the order or the
history of the corpus), and every paper's topics are then **inferred** with it
(``infer_iterations`` Gibbs iterations, one document at a time: a paper's topics depend on the
model and its own text only, so :func:`infer_many` spreads the papers over worker processes
with the same result; ``bench/bench_topic_inference.py`` measures it). The model is kept in
the store's catalog; an update infers the new and changed papers only, until the papers
inferred since training exceed
``retrain_share`` of the corpus, when the model is trained again on the sample of the day. An
update that keeps the model equals a fresh build of the newer release given the same model
(``ckg build --topics-from STORE``); one that retrains equals a plain fresh build.

**Text.** A paper's document is its title, its abstract and the first ``body_chars`` characters
of its body (2,000 by default: about 300 words of the introduction; -1 reads it all). Most of
CORD-19 has no body (61% of the final release), so the papers with one are read much as the
others are, and a topic model of whole texts costs five times the tokens for topics no better:
on the 803 real preprints, title, abstract and 2,000 characters give topics of higher NPMI
coherence (0.061 and 0.070 with two seeds, against -0.030 to 0.048 for whole texts with three),
the clinical-characteristics papers all get the clinical topic either way, and the top topic
changes for 40% of papers, where two seeds of the whole-text model already disagree on 27-32%.
Words are lower-cased runs of letters and digits (inner hyphens and apostrophes
kept: "covid-19", "sars-cov-2"), of at least three characters, not English stop words nor
the words of preprint footers ("peer-reviewed", "medrxiv", "copyright", ...); words longer
than four letters lose a plural -s. Seed phrases become one token where their words follow
each other.

**Edges.** Every paper with text gets its top labelled topic (``ckg:topicRank 1``) and each
other labelled topic whose probability is at least ``threshold``; ``ckg:probability`` is the
topic's share of the paper (its topic distribution, background included), rounded to 3 decimals. Topic nodes carry their label, key (``skos:notation``),
top terms and seed terms. All of it lives in the ``graph/topics`` named graph.

>>> config = load_config()
>>> [t.label for t in config.topics][:3], config.topics[3].key
(['virology', 'epidemiology', 'genomics'], 'clinical-care')
>>> tokenize("The viral loads of SARS-CoV-2 patients (Fig. 2) were high.", config.phrases())
['viral_load', 'sars-cov-2', 'patient', 'high']
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ckg import resources
from ckg.etl.concepts import INVARIANT
from ckg.etl.emit import annotated_edge, decimal, integer, typed
from ckg.etl.workers import batches, imap_batched, start_pool
from ckg.terms import CKG, SKOS

_TOKEN = re.compile(r"[a-z][a-z0-9]*(?:['\-][a-z0-9]+)*")
_SLUG = re.compile(r"[^a-z0-9]+")
BOILERPLATE = frozenset("""
    et al fig figs figure figures table tables supplementary doi preprint preprints medrxiv biorxiv copyright
    holder peer-reviewed reviewed peer license licence funder author authors granted display perpetuity
    available international https http org www cc-by cc-by-nc cc-by-nc-nd cc-by-nd made reserved reuse allowed
    permission rights right also using used however based
""".split())


class TopicConfigError(ValueError):
    """A topic configuration file is malformed."""


def default_config_path() -> Path:
    return Path(str(importlib_resources.files("ckg.etl").joinpath("data", "topics.toml")))


def slug(label: str) -> str:
    """'public health and policy' -> 'public-health-and-policy'."""
    return _SLUG.sub("-", label.lower()).strip("-")


@dataclass(frozen=True)
class TopicSpec:
    label: str
    seed_words: tuple[str, ...]

    @property
    def key(self) -> str:
        return slug(self.label)


@dataclass(frozen=True)
class TopicConfig:
    topics: tuple[TopicSpec, ...]
    seed: int = 7
    iterations: int = 100
    term_weight: str = "idf"
    alpha: float = 0.1
    eta: float = 0.01
    seed_weight: float = 1.0
    other_weight: float = 0.001
    min_word_count: int = 3
    min_doc_count: int = 2
    top_terms: int = 10
    threshold: float = 0.2
    background_topics: int = 1
    max_training_papers: int = 20_000
    infer_iterations: int = 20
    retrain_share: float = 0.2
    body_chars: int = 2000
    path: str = ""

    def phrases(self) -> dict[str, dict[tuple[str, ...], str]]:
        """First word -> (seed phrase words -> token) for the seed phrases of several words."""
        out: dict[str, dict[tuple[str, ...], str]] = {}
        for t in self.topics:
            for seed in t.seed_words:
                words = tuple(_words(seed))
                if len(words) > 1:
                    out.setdefault(words[0], {})[words] = "_".join(words)
        return out

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["topics"] = [{"label": t.label, "key": t.key, "seed_words": list(t.seed_words)} for t in self.topics]
        return d


def load_config(path: Path | None = None) -> TopicConfig:
    """Read a topic configuration (the default one when ``path`` is None)."""
    path = Path(path) if path else default_config_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TopicConfigError(f"{path}: {exc}") from None
    model = data.get("model", {})
    known = {f for f in TopicConfig.__dataclass_fields__ if f not in ("topics", "path")}
    unknown = sorted(set(model) - known)
    if unknown:
        raise TopicConfigError(f"{path}: unknown [model] setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    topics = []
    for i, t in enumerate(data.get("topic", []), start=1):
        if not isinstance(t, dict) or not t.get("label") or not isinstance(t.get("seed_words", []), list):
            raise TopicConfigError(f"{path}: topic {i} needs a label and a list of seed_words")
        topics.append(TopicSpec(str(t["label"]), tuple(str(w) for w in t.get("seed_words", []))))
    if not topics:
        raise TopicConfigError(f"{path}: no [[topic]] defined")
    if not isinstance(model.get("max_training_papers", 1), int) or model.get("max_training_papers", 1) < 1:
        raise TopicConfigError(f"{path}: max_training_papers must be a positive integer")
    if not 0 < float(model.get("retrain_share", 0.2)) <= 1:
        raise TopicConfigError(f"{path}: retrain_share must be in (0, 1]")
    if not isinstance(model.get("body_chars", 2000), int) or isinstance(model.get("body_chars", 2000), bool):
        raise TopicConfigError(f"{path}: body_chars must be an integer (characters of the body read; -1: all of it)")
    if model.get("term_weight", "idf") not in ("one", "idf", "pmi"):
        raise TopicConfigError(f"{path}: term_weight must be one, idf or pmi")
    keys = [t.key for t in topics]
    if len(set(keys)) != len(keys):
        raise TopicConfigError(f"{path}: two topics have the same label key")
    return TopicConfig(tuple(topics), path=str(path.resolve()), **model)


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is", "ies")) and word not in INVARIANT:
        return word[:-1]
    return word


_KEPT: dict[str, str] = {}
"""Each word seen -> the token it becomes ("" when it is left out): words repeat, so a lookup
replaces the length, stop-word and plural tests (cleared when it reaches :data:`_KEPT_MAX`)."""
_KEPT_MAX = 500_000


@functools.cache
def _dropped() -> frozenset[str]:
    """English stop words and preprint boilerplate (spaCy imported on first use)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS) | BOILERPLATE


def _words(text: str) -> list[str]:
    """The words of a text the topic model reads: at least three characters, no stop word nor
    preprint boilerplate, plural -s dropped.

    >>> _words("The viruses of SARS-CoV-2 and their hosts' cells (see Fig. 2)")
    ['viruse', 'sars-cov-2', 'host', 'cell']
    """
    dropped = _dropped()
    kept = _KEPT
    if len(kept) > _KEPT_MAX:
        kept.clear()
    out = []
    for w in _TOKEN.findall(text.lower()):
        token = kept.get(w)
        if token is None:
            token = kept[w] = "" if len(w) < 3 or w in dropped else _singular(w)
        if token:
            out.append(token)
    return out


def document(title: str, abstract: str, body: str, body_chars: int) -> str:
    """The text of a paper the topic model reads: its title, its abstract and the first
    ``body_chars`` characters of its body (cut after the last whole word; all of it when
    ``body_chars`` is negative, none of it when 0).

    >>> document("Title", "Abstract.", "First words of the body", 14)
    'Title Abstract. First words of'
    >>> document("Title", "", "Body", 0), document("Title", "", "Body", -1)
    ('Title ', 'Title  Body')
    """
    if body_chars == 0:
        return f"{title} {abstract}"
    if 0 < body_chars < len(body):
        body = body[:body_chars + 1].rsplit(None, 1)[0] if not body[body_chars].isspace() else body[:body_chars]
    return " ".join((title, abstract, body))


def tokenize(text: str, phrases: dict[str, dict[tuple[str, ...], str]]) -> list[str]:
    """The tokens of a text for the topic model (seed phrases joined by ``_``)."""
    words = _words(text)
    if not phrases:
        return words
    out = []
    i = 0
    while i < len(words):
        candidates = phrases.get(words[i])
        if candidates:
            best = max((p for p in candidates if tuple(words[i:i + len(p)]) == p), key=len, default=None)
            if best:
                out.append(candidates[best])
                i += len(best)
                continue
        out.append(words[i])
        i += 1
    return out


@dataclass
class Topic:
    key: str
    label: str
    seed_words: tuple[str, ...]
    top_terms: list[str]
    missing_seeds: list[str] = field(default_factory=list)


@dataclass
class TopicModelResult:
    topics: list[Topic]
    edges: dict[tuple[str, str], tuple[float, int]]  # (paper, topic) -> (probability, rank)
    documents: int
    tokens: int
    vocabulary: int
    log_likelihood_per_word: float


def _model(documents: list[tuple[str, list[str]]], config: TopicConfig):
    """A tomotopy model with the documents added and the seed priors set: (model, keys, tokens, display)."""
    import tomotopy as tp

    total = len(config.topics) + config.background_topics  # background topics: unlabelled, no node, no edges
    weights = {"one": tp.TermWeight.ONE, "idf": tp.TermWeight.IDF, "pmi": tp.TermWeight.PMI}
    model = tp.LDAModel(tw=weights[config.term_weight], k=total, alpha=config.alpha, eta=config.eta,
                        seed=config.seed, min_cf=config.min_word_count, min_df=config.min_doc_count)
    keys = []
    tokens = 0
    for key, words in documents:
        if words:
            model.add_doc(words)
            keys.append(key)
            tokens += len(words)
    seeds = {}
    for i, t in enumerate(config.topics):
        for s in t.seed_words:
            token = "_".join(_words(s))
            if token:
                seeds.setdefault(token, (i, s))
    for token, (i, _s) in seeds.items():
        model.set_word_prior(token, [config.seed_weight if j == i else config.other_weight for j in range(total)])
    display = {token: s for token, (_i, s) in seeds.items()}
    return model, keys, tokens, display


def _topics_of(model, config: TopicConfig, display: dict[str, str]) -> list[Topic]:
    used = set(model.used_vocabs)
    topics = []
    for i, t in enumerate(config.topics):
        terms = [display.get(w, w.replace("_", " ")) for w, _p in model.get_topic_words(i, top_n=config.top_terms)]
        missing = [s for s in t.seed_words if "_".join(_words(s)) not in used]
        topics.append(Topic(t.key, t.label, t.seed_words, terms, missing))
    return topics


def _edges_of(key: str, distribution, config: TopicConfig) -> dict[tuple[str, str], tuple[float, int]]:
    """A paper's edges from its topic distribution: its top labelled topic and those above the threshold."""
    k = len(config.topics)
    dist = [round(float(p), 3) for p in distribution]
    order = sorted(range(k), key=lambda j: (-dist[j], j))
    return {(key, config.topics[j].key): (dist[j], rank) for rank, j in enumerate(order, start=1)
            if rank == 1 or dist[j] >= config.threshold}


def train(documents: list[tuple[str, list[str]]], config: TopicConfig) -> TopicModelResult:
    """Train the seeded LDA on (paper key, tokens) — in the order given, which must be
    deterministic (the build gives key order) — and read topics and paper edges from it."""
    model, keys, tokens, display = _model(documents, config)
    if not keys:
        return TopicModelResult([Topic(t.key, t.label, t.seed_words, []) for t in config.topics], {}, 0, 0, 0, 0.0)
    model.train(config.iterations, workers=1)
    edges: dict[tuple[str, str], tuple[float, int]] = {}
    for key, doc in zip(keys, model.docs):
        edges.update(_edges_of(key, doc.get_topic_dist(), config))
    return TopicModelResult(_topics_of(model, config, display), edges, len(keys), tokens, len(model.used_vocabs),
                            round(float(model.ll_per_word), 4))


def training_sample(keys, size: int) -> list[str]:
    """The ``size`` paper keys whose BLAKE2b hashes are lowest, in key order: a sample that depends
    on the set of keys only.

    >>> training_sample(["a", "b", "c", "d"], 2) == training_sample(["d", "c", "b", "a"], 2)
    True
    >>> len(training_sample(["a", "b", "c"], 5))
    3
    """
    import hashlib
    import heapq

    lowest = heapq.nsmallest(size, keys, key=lambda k: hashlib.blake2b(k.encode(), digest_size=8).digest())
    return sorted(lowest)


@dataclass
class SampledModel:
    """A model trained on a sample (:func:`train_sample`): its bytes, its topics and statistics."""

    data: bytes
    topics: list[Topic]
    documents: int
    tokens: int
    vocabulary: int
    log_likelihood_per_word: float


def train_sample(documents: list[tuple[str, list[str]]], config: TopicConfig) -> SampledModel:
    """Train the seeded LDA on the sample's (key, tokens), in the order given, to infer papers with."""
    model, keys, tokens, display = _model(documents, config)
    if not keys:
        raise ValueError("no paper of the training sample has text for the topic model")
    model.train(config.iterations, workers=1)
    return SampledModel(model.saves(full=False), _topics_of(model, config, display), len(keys), tokens,
                        len(model.used_vocabs), round(float(model.ll_per_word), 4))


class Inferrer:
    """Topic edges of papers inferred with a sampled model: each document alone (tomotopy's fixed
    seed), a group of them per call (:data:`INFER_GROUP`): each call of tomotopy's ``infer`` costs
    a copy of the model's topic-word counts, which grows with the vocabulary (42,000 words at
    100k generated papers: 5x the inference time of one call per paper), and the edges are the
    same as one call per paper (``tests/test_topics.py``)."""

    def __init__(self, data: bytes, config: TopicConfig) -> None:
        import tomotopy as tp

        self.model = tp.LDAModel.loads(data)
        self.config = config

    def edges(self, key: str, words: list[str]) -> dict[tuple[str, str], tuple[float, int]]:
        """The paper's edges ({} when none of its words is in the model's vocabulary)."""
        if not words:
            return {}
        doc = self.model.make_doc(words)
        if not len(doc):  # none of its words is in the model's vocabulary
            return {}
        self.model.infer(doc, iterations=self.config.infer_iterations, workers=1)
        return _edges_of(key, doc.get_topic_dist(), self.config)

    def edges_many(self, papers: list[tuple[str, list[str]]]) -> list[tuple[str, dict]]:
        """(key, edges) of each (key, words), inferred in one call."""
        docs = [self.model.make_doc(words) if words else None for _key, words in papers]
        known = [doc for doc in docs if doc is not None and len(doc)]  # some word in the vocabulary
        if known:
            self.model.infer(known, iterations=self.config.infer_iterations, workers=1)
        return [(key, _edges_of(key, doc.get_topic_dist(), self.config) if doc is not None and len(doc) else {})
                for (key, _words), doc in zip(papers, docs)]


INFER_GROUP = 64
"""Papers inferred per call of tomotopy's ``infer`` (:class:`Inferrer`)."""


_INFERRER: tuple[Inferrer, dict] | None = None
"""A worker process's inferrer and seed phrases (:func:`infer_many`)."""


def _init_inferrer(data: bytes, config: TopicConfig) -> None:
    global _INFERRER
    _INFERRER = (Inferrer(data, config), config.phrases())


def _infer_group(items: list[tuple[str, str, str, str]]) -> list[tuple[str, dict[tuple[str, str], tuple[float, int]]]]:
    inferrer, phrases = _INFERRER
    chars = inferrer.config.body_chars
    return inferrer.edges_many([(key, tokenize(document(title, abstract, body, chars), phrases))
                                for key, title, abstract, body in items])


def infer_many(items: Iterable[tuple[str, str, str, str]], data: bytes, config: TopicConfig, *,
               processes: int = 1, batch: int = 1024) -> Iterator[tuple[str, dict[tuple[str, str], tuple[float, int]]]]:
    """(key, topic edges) of each (key, title, abstract, body), inferred with the sampled model
    ``data``. A paper's edges depend on the model and its own text only (each document is
    inferred alone, with tomotopy's fixed seed), so with ``processes`` > 1 the papers are spread
    over forked worker processes, ``batch`` at a time (memory stays bounded), with the same
    edges as one process; they come in the order they are done.

    >>> config = load_config()
    >>> docs = [(f"p{i}", "", text, "") for i, text in enumerate(["viral replication in host cells",
    ...         "case fatality and incidence in the population", "mechanical ventilation of patients"] * 4)]
    >>> model = train_sample([(k, tokenize(a, config.phrases())) for k, _t, a, _b in docs], config)
    >>> one = {e: v for _k, d in infer_many(docs, model.data, config) for e, v in d.items()}
    >>> two = {e: v for _k, d in infer_many(docs, model.data, config, processes=2) for e, v in d.items()}
    >>> one == two and len(one) >= len(docs), sorted(k for k, _d in infer_many(docs, model.data, config, processes=2)) == sorted(k for k, *_ in docs)
    (True, True)
    """
    groups = batches(items, INFER_GROUP)
    if processes <= 1:
        _init_inferrer(data, config)
        for group in imap_batched(None, _infer_group, groups, processes=1):
            yield from group
        return
    with start_pool(processes, _init_inferrer, (data, config)) as pool:
        for group in imap_batched(pool, _infer_group, groups, processes=processes,
                                  batch=max(1, batch // INFER_GROUP)):
            yield from group


def topic_quads(topic: Topic) -> list[ox.Quad]:
    """A topic node in the topics graph."""
    g = resources.graph(resources.TOPICS_GRAPH_NAME)
    t = resources.topic(topic.key)
    out = list(typed(t, CKG.Topic, g))
    out.append(ox.Quad(t, SKOS.prefLabel, ox.Literal(topic.label, language="en"), g))
    out.append(ox.Quad(t, SKOS.notation, ox.Literal(topic.key), g))
    if topic.top_terms:
        out.append(ox.Quad(t, CKG.topTerms, ox.Literal(", ".join(topic.top_terms)), g))
    if topic.seed_words:
        out.append(ox.Quad(t, CKG.seedTerms, ox.Literal(", ".join(topic.seed_words)), g))
    return out


def edge_quads(paper_key: str, topic_key: str, probability: float, rank: int) -> list[ox.Quad]:
    """``paper associatedTopic topic`` and its TopicAssociation node."""
    g = resources.graph(resources.TOPICS_GRAPH_NAME)
    p, t = resources.paper(paper_key), resources.topic(topic_key)
    return list(annotated_edge(p, CKG.associatedTopic, t, resources.topic_association(paper_key, topic_key),
                               CKG.TopicAssociation, g,
                               [(CKG.probability, decimal(probability)), (CKG.topicRank, integer(rank))]))
