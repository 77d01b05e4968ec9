"""Imported once by the fork server of ``writer_processes``: ckg's modules and the demo vocabulary
(the slow part of a first build: spaCy and the concept gazetteer), without opening a store."""

import tempfile
from pathlib import Path

import pyoxigraph as ox

import ckg.etl.build  # noqa: F401
from ckg.etl.annotate import AnnotationOptions, concepts_stage, topics_stage
from ckg.etl.catalog import Catalog

with tempfile.TemporaryDirectory() as _folder:
    with Catalog(Path(_folder) / "catalog.sqlite") as _catalog:
        concepts_stage(ox.Store(), _catalog, AnnotationOptions(processes=1))  # an in-memory store: no RocksDB
        topics_stage(ox.Store(), _catalog, AnnotationOptions(processes=1))
