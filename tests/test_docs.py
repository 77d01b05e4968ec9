"""What the README promises stays true: its commands, settings, queries and ontology tables."""

from __future__ import annotations

import re

from ckg import queries
from ckg.cli import main
from ckg.ontology import markdown_tables
from ckg.settings import SETTINGS

from conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands():
    commands = re.findall(r"^\s*make (\w+)\s*$", README, flags=re.MULTILINE)
    assert commands[:2] == ["demo", "test"]
    assert README.index("make demo") < 200


def test_ci_runs_the_readme_test_command_with_real_data():
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in ci and "CKG_REAL_DATA=../shared/data" in ci


def test_every_setting_is_documented():
    for setting in SETTINGS.values():
        assert f"`{setting.env}`" in README, setting.env


def test_every_cli_command_is_documented():
    for name in main.commands:
        assert f"`ckg {name}" in README, name


def test_every_named_query_is_documented():
    for name in queries.names():
        assert f"`{name}`" in README, name


def test_readme_ontology_tables_match_the_ontology():
    assert markdown_tables() in README
