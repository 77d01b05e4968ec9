"""Synthetic CORD-19 releases for demos, tests and benchmarks (not part of the graph's core).

Two generators share the word lists (:mod:`~ckg.corpusgen.vocab`: topics, concepts of the
bundled vocabulary, templates):

* :mod:`ckg.corpusgen.small`: the demo corpus (``ckg demo``, the tests' fixtures,
  ``ckg.demo_corpus``): tens to a few thousand papers, planned whole in memory, byte-stable.
* :mod:`ckg.corpusgen.scale`: corpora at CORD-19's own shape and size, 10k to 1M papers and
  more (``ckg demo-corpus --shape cord19``), streamed to disk paper by paper over disjoint shards
  in worker processes, deterministic per seed, with a next weekly release for update timings.
  Its parts: :mod:`~ckg.corpusgen.shape` (the distributions measured on the real data),
  :mod:`~ckg.corpusgen.hashing` (randomness addressed by position), :mod:`~ckg.corpusgen.words`
  (names, places, institutions, journals, templates), :mod:`~ckg.corpusgen.people` (authors and
  institutions), :mod:`~ckg.corpusgen.text` (titles, abstracts, bodies),
  :mod:`~ckg.corpusgen.papers` (each paper as a function of its number, the releases' plan),
  :mod:`~ckg.corpusgen.render` (metadata rows and JSON parses).
* :mod:`ckg.corpusgen.stats`: the statistics that compare a release with real CORD-19 data
  (``bench/measure_real_shape.py``, ``ckg demo-corpus --compare-real``).
"""
