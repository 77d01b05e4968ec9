"""Shared fixtures: the hand-written mini release, its next release, the demo corpus, real data."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from ckg.settings import get

FIXTURES = Path(__file__).parent / "fixtures"
MINI = FIXTURES / "mini"
REPO = Path(__file__).parent.parent


def real_data_path() -> Path | None:
    value = get("real_data")
    if not value:
        return None
    path = Path(value)
    if not path.is_absolute():
        path = (REPO / path).resolve()
    return path if path.is_dir() else None


@pytest.fixture
def cli():
    """Run ``ckg`` in-process: ``cli("stats", "--store", path)`` (``ok=False`` for an expected failure)."""
    from click.testing import CliRunner

    from ckg.cli import main

    runner = CliRunner()

    def run(*args, ok=True):
        result = runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run


@pytest.fixture(scope="session")
def real_data() -> Path:
    """../shared/data (through $CKG_REAL_DATA); the test is skipped when it is not there."""
    path = real_data_path()
    if path is None:
        pytest.skip("real CORD-19 data not available: set CKG_REAL_DATA to the shared data folder (../shared/data)")
    return path


def real_vocabularies(real: Path) -> list[Path]:
    """The real vocabularies of ../shared/data: MeSH 2015 RDF, Disease Ontology 2015 and its 2025
    infectious-disease slim (which has COVID-19), COVOC."""
    v = real / "vocab"
    return [v / "mesh" / "mesh-2015-descriptors.nt.gz", v / "doid" / "HumanDO-2015-05.obo",
            v / "doid" / "DO_infectious_disease_slim.obo", v / "covoc" / "covoc.obo"]


@pytest.fixture(scope="session")
def real_biorxiv(real_data, tmp_path_factory):
    """The 803 bioRxiv/medRxiv parses of the first CORD-19 release, built with the real
    vocabularies: (store path, RunResult). Read-only use."""
    from ckg.etl.annotate import AnnotationOptions
    from ckg.etl.build import build

    path = tmp_path_factory.mktemp("real") / "store"
    result = build(path, [real_data / "cord19" / "release-2020-03-13"],
                   annotation=AnnotationOptions(vocabularies=real_vocabularies(real_data)))
    return path, result


def write_next_mini_release(out: Path) -> Path:
    """The mini release one week later: paper aaaa0003 withdrawn, aaaa0002's title corrected,
    a new paper aaaa0010 that paper aaaa0001 already cited by title, and a new paper
    aaaa0011 that cites aaaa0002 by DOI. Everything else is byte-identical."""
    shutil.copytree(MINI, out)
    meta = out / "metadata.csv"
    with open(meta, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    col = {c: i for i, c in enumerate(header)}

    def new_row(**values: str) -> list[str]:
        row = [""] * len(header)
        for k, v in values.items():
            row[col[k]] = v
        return row

    kept = []
    for row in rows[1:]:
        if len(row) == len(header) and row[col["cord_uid"]] == "aaaa0003":
            continue
        if len(row) == len(header) and row[col["cord_uid"]] == "aaaa0002" and row[col["source_x"]] == "Elsevier":
            row[col["title"]] = "Beta: clinical outcomes of pneumonia patients in Wuhan, China"
        kept.append(row)
    kept.append(new_row(cord_uid="aaaa0010", source_x="PMC", title="Zeta paper that appears only in the next release of the corpus",
                        doi="10.5555/mini.10", publish_time="2020-05-01", authors="Sharma, Priya; Wang, Lin"))
    sha = "a" * 40
    kept.append(new_row(cord_uid="aaaa0011", sha=sha, source_x="medrxiv", title="Theta follow-up of the Wuhan pneumonia cohort",
                        doi="10.5555/mini.11", publish_time="2020-05-20", authors="Li, Xiang",
                        pdf_json_files=f"document_parses/pdf_json/{sha}.json"))
    with open(meta, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *kept])
    parse = {
        "paper_id": sha,
        "metadata": {"title": "Theta follow-up", "authors": [
            {"first": "Xiang", "middle": [], "last": "Li", "suffix": "", "email": "",
             "affiliation": {"laboratory": "", "institution": "Wuhan Jinyintan Hospital", "location": {"country": "China"}}}]},
        "abstract": [], "body_text": [{"text": "We followed the cohort.", "cite_spans": [], "ref_spans": [], "section": "Results"}],
        "bib_entries": {"BIBREF0": {"ref_id": "b0", "title": "Beta", "authors": [], "year": 2020, "venue": "",
                                    "other_ids": {"DOI": ["10.5555/mini.2"]}}},
        "ref_entries": {}, "back_matter": [],
    }
    (out / "document_parses" / "pdf_json" / f"{sha}.json").write_text(json.dumps(parse), encoding="utf-8")
    return out


@pytest.fixture(scope="session")
def mini_next(tmp_path_factory) -> Path:
    return write_next_mini_release(tmp_path_factory.mktemp("mini-next") / "release")


@pytest.fixture(scope="session")
def mini_store(tmp_path_factory):
    """A store built from the mini release (read-only use: do not modify it in a test)."""
    from ckg.etl.build import build

    path = tmp_path_factory.mktemp("mini-store") / "store"
    result = build(path, [MINI], release="2020-06-01")
    return path, result


@pytest.fixture(scope="session")
def demo_releases(tmp_path_factory) -> tuple[Path, Path]:
    from ckg.demo_corpus import generate

    base = tmp_path_factory.mktemp("demo-corpus")
    generate(base / "r1", papers=60, seed=7, release=1)
    generate(base / "r2", papers=60, seed=7, release=2)
    return base / "r1", base / "r2"


EMBED_TEST_CONFIG = {"text.max_passages": 2, "graph.method": "kge", "graph.epochs": 10, "graph.eval_every": 5,
                     "search.weights": [1.0, 1.0]}
"""Small settings for the embedding tests: two passages per abstract and body, the KGE graph method
(ten epochs; the default features method has its own tests, tests/test_embed_features.py), equal
weights of text and graph."""


@pytest.fixture(scope="session")
def trained_demo_store(tmp_path_factory, demo_releases):
    """A store built from release 1 of the demo corpus with a trained embedding run (read-only use;
    copy it with ``copy_store`` to change it)."""
    from ckg.embed import train
    from ckg.embed.config import TrainConfig
    from ckg.etl.build import build

    path = tmp_path_factory.mktemp("trained-demo") / "store"
    build(path, [demo_releases[0]], release="demo-1")
    result = train(path, TrainConfig().override(EMBED_TEST_CONFIG))
    return path, result


def copy_store(store: Path, to: Path) -> Path:
    """A copy of a store folder (no process may be writing to it)."""
    shutil.copytree(store, to)
    return to


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory, demo_releases):
    """A store built from release 1 of the demo corpus (read-only use)."""
    from ckg.etl.build import build

    path = tmp_path_factory.mktemp("demo-store") / "store"
    build(path, [demo_releases[0]], release="demo-1")
    return path
