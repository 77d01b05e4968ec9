"""ckg: an open, self-hostable knowledge graph of the COVID-19 research literature (CORD-19).

Sub-packages: :mod:`ckg.etl` (CORD-19 readers, normalisers, triple emission, store loading),
:mod:`ckg.ontology` (the OWL ontology), :mod:`ckg.queries` (named SPARQL queries).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ckg")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
