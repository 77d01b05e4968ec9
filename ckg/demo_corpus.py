"""The demo corpus generator (moved to :mod:`ckg.corpusgen.small`; this name stays for its callers).

>>> from ckg.demo_corpus import generate
>>> generate.__module__
'ckg.corpusgen.small'
"""

from ckg.corpusgen.small import (  # noqa: F401 (re-exported)
    ABBREVIATIONS,
    COLUMNS,
    TOPICS,
    GeneratedRelease,
    _Corpus,
    generate,
)

__all__ = ["ABBREVIATIONS", "COLUMNS", "TOPICS", "GeneratedRelease", "generate"]
