"""What the docs promise stays true.

The README opens with the two commands; the pages of docs/ (all of them, read together) document
every CLI command and subcommand, setting, named query and SPARQL extension function, and carry
the ontology tables; every relative link of the README and the pages leads to a file that exists.
"""

from __future__ import annotations

import re

import click
import pytest

from ckg import queries
from ckg.cli import main
from ckg.ontology import markdown_tables
from ckg.server.functions import function_iris
from ckg.settings import SETTINGS

from conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
PAGES = sorted((REPO / "docs").glob("*.md"))
DOCS = "\n".join(page.read_text(encoding="utf-8") for page in PAGES)


def test_readme_opens_with_the_two_commands():
    commands = re.findall(r"^\s*make (\w+)\s*$", README, flags=re.MULTILINE)
    assert commands[:2] == ["demo", "test"]
    assert README.index("make demo") < 200


def test_ci_runs_the_readme_test_command_with_real_data():
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in ci and "CKG_REAL_DATA=../shared/data" in ci


def test_the_readme_stays_a_front_page_and_the_index_lists_every_page():
    assert len(README.encode("utf-8")) < 12_000  # the reference belongs in docs/
    assert "](docs/README.md)" in README
    index = (REPO / "docs" / "README.md").read_text(encoding="utf-8")
    for page in PAGES:
        if page.name != "README.md":
            assert f"]({page.name})" in index, f"docs/README.md does not list {page.name}"


def test_every_setting_is_documented():
    for setting in SETTINGS.values():
        assert f"`{setting.env}`" in DOCS, setting.env


def test_every_cli_command_is_documented():
    for name in main.commands:
        assert f"`ckg {name}" in DOCS, name


def test_every_cli_subcommand_is_documented():
    groups = {name: command for name, command in main.commands.items() if isinstance(command, click.Group)}
    assert groups  # `ckg concepts`, `ckg vocab`
    for name, group in groups.items():
        for sub in group.commands:
            assert f"`ckg {name} {sub}" in DOCS, f"ckg {name} {sub}"


def test_every_named_query_is_documented():
    for name in queries.names():
        assert f"`{name}`" in DOCS, name


def test_every_sparql_function_is_documented():
    iris = function_iris()
    assert iris
    prose = DOCS.replace(markdown_tables(), "")  # beyond the ontology's own table, which lists them all anyway
    for iri in iris:
        local = re.split(r"[#/]", iri)[-1]
        assert re.search(rf"ckg:{re.escape(local)}(?![\w-])", prose), f"ckg:{local}"


def test_docs_ontology_tables_match_the_ontology():
    assert markdown_tables() in DOCS


LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def _links(path):
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"(?ms)^```.*?^```", "", text)  # no links in code blocks
    text = re.sub(r"`[^`\n]*`", "", text)
    return LINK.findall(text)


def _slug(heading):
    """GitHub's anchor of a heading.

    >>> _slug("Past one machine: the heavy stages on Ray, the queries on another engine")
    'past-one-machine-the-heavy-stages-on-ray-the-queries-on-another-engine'
    >>> _slug("The `ckg search` command")
    'the-ckg-search-command'
    """
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path):
    text = re.sub(r"(?ms)^```.*?^```", "", path.read_text(encoding="utf-8"))
    return {_slug(h) for h in re.findall(r"(?m)^#{1,6} +(.+?) *#*$", text)}


FILES = [REPO / "README.md", *PAGES]


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(REPO)) for p in FILES])
def test_every_relative_link_leads_to_a_file(path):
    for target in _links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, flags=re.I):  # http(s), mailto: not ours to check
            continue
        file, _, anchor = target.partition("#")
        resolved = (path.parent / file).resolve() if file else path
        assert resolved.exists(), f"{path.name}: {target}"
        if anchor and resolved.suffix == ".md":
            assert anchor in _anchors(resolved), f"{path.name}: {target} (no such heading)"
