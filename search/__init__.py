"""Finding papers by what they are about: a BM25 index beside the store (:mod:`ckg.search.lexical`),
the text embeddings of ``ckg train`` (:mod:`ckg.search.semantic`), fused and re-ordered by the
graph (:mod:`ckg.search.service`), measured on TREC-COVID (:mod:`ckg.search.evaluate`).
"""

from ckg.search.service import MODES, Answer, Hit, SearchConfig, SearchError, SearchService, open_service

__all__ = ["MODES", "Answer", "Hit", "SearchConfig", "SearchError", "SearchService", "open_service"]
