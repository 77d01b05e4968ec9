"""Split a text into passages that fit a model's input, and pick a capped, evenly spaced subset.

A passage is a run of whole paragraphs (the body text separates them by blank lines) of at most
``max_tokens`` word pieces; a paragraph longer than that is cut into windows of ``max_tokens``
pieces at token boundaries. The caller passes the tokenizer as a function giving, for each of a
list of texts, the character spans of its tokens (a Hugging Face fast tokenizer's offsets), so
passages are slices of the original text. Each passage keeps its token count: a part's vector is
the token-weighted mean of its passages' vectors, so a short tail passage weighs little.

>>> import re
>>> def words(texts):  # a toy tokenizer: one token per word
...     return [[m.span() for m in re.finditer(r"\\S+", t)] for t in texts]
>>> text = "one two three\\n\\nfour five\\n\\nsix seven eight nine ten eleven"
>>> [(p.text, p.tokens) for p in split(text, words, max_tokens=5)]
[('one two three\\n\\nfour five', 5), ('six seven eight nine ten', 5), ('eleven', 1)]
>>> [p.text for p in select(split(text, words, max_tokens=2), 3)]
['one two', 'four five', 'ten eleven']
>>> split("", words, max_tokens=5)
[]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

TokenSpans = Callable[[list[str]], Sequence[Sequence[tuple[int, int]]]]
"""texts -> for each text, the (start, end) character span of each of its tokens."""

_PARAGRAPHS = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class Passage:
    text: str
    tokens: int


def split(text: str, token_spans: TokenSpans, max_tokens: int) -> list[Passage]:
    """The passages of a text, in order, each at most ``max_tokens`` tokens."""
    if max_tokens < 1:
        raise ValueError("max_tokens must be >= 1")
    paragraphs = [p.strip() for p in _PARAGRAPHS.split(text or "") if p.strip()]
    if not paragraphs:
        return []
    units: list[Passage] = []
    for paragraph, spans in zip(paragraphs, token_spans(paragraphs)):
        spans = [s for s in spans if s[1] > s[0]]
        if not spans:
            continue
        if len(spans) <= max_tokens:
            units.append(Passage(paragraph, len(spans)))
            continue
        for start in range(0, len(spans), max_tokens):
            window = spans[start:start + max_tokens]
            units.append(Passage(paragraph[window[0][0]:window[-1][1]], len(window)))
    passages: list[Passage] = []
    current: list[Passage] = []
    count = 0
    for unit in units:
        if current and count + unit.tokens > max_tokens:
            passages.append(Passage("\n\n".join(u.text for u in current), count))
            current, count = [], 0
        current.append(unit)
        count += unit.tokens
    if current:
        passages.append(Passage("\n\n".join(u.text for u in current), count))
    return passages


def select(passages: list[Passage], limit: int) -> list[Passage]:
    """At most ``limit`` passages, evenly spaced from the first to the last (0: all of them).

    >>> [p.text for p in select([Passage(str(i), 1) for i in range(10)], 4)]
    ['0', '3', '6', '9']
    >>> [p.text for p in select([Passage(str(i), 1) for i in range(10)], 1)]
    ['0']
    """
    n = len(passages)
    if limit <= 0 or n <= limit:
        return list(passages)
    if limit == 1:
        return [passages[0]]
    picks = sorted({round(i * (n - 1) / (limit - 1)) for i in range(limit)})
    return [passages[i] for i in picks]
