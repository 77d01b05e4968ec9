"""Papers' topics, as the evaluation reads them (``?paper ckg:associatedTopic ?topic``).

Topics are written by the concepts-and-topics build stage (:mod:`ckg.etl.topics`):
``ckg:associatedTopic`` edges, their ``ckg:probability`` on a ``ckg:TopicAssociation`` node, and a
``skos:prefLabel`` on each topic node. The named query ``embed-paper-topics`` reads them; a store
without topics gives no rows, and the evaluation then says "no topics in this store".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pyoxigraph as ox

from ckg import queries, resources
from ckg.sparql import run_named


@dataclass
class Topics:
    """Topics of papers: ``of[paper key]`` is the paper's topic IRIs, strongest first."""

    of: dict[str, list[str]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.of)

    def dominant(self, key: str) -> str | None:
        topics = self.of.get(key)
        return topics[0] if topics else None

    def label(self, topic: str | None) -> str:
        if topic is None:
            return "(no topic)"
        return self.labels.get(topic) or topic.rsplit("/", 1)[-1]

    def sizes(self) -> Counter:
        """Papers per dominant topic."""
        return Counter(t[0] for t in self.of.values() if t)


def paper_topics(store: ox.Store) -> Topics:
    """The topics of the store's papers (empty when it has none)."""
    result = run_named(store, queries.get("embed-paper-topics"), {})
    out = Topics()
    weights: dict[str, dict[str, float]] = {}
    for paper, topic, label, weight in result.rows:
        key = resources.key_of(paper, "paper")
        if key is None or not isinstance(topic, ox.NamedNode):
            continue
        if label is not None and topic.value not in out.labels:
            out.labels[topic.value] = label.value
        w = float(weight.value) if weight is not None else 0.0
        weights.setdefault(key, {})
        weights[key][topic.value] = max(w, weights[key].get(topic.value, w))
    for key, ws in weights.items():
        out.of[key] = [t for t, _ in sorted(ws.items(), key=lambda tw: (-tw[1], out.labels.get(tw[0], tw[0]), tw[0]))]
    return out
