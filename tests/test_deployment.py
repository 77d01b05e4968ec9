"""The deployment files: the Dockerfile and compose file run the install and the command this
project tests (the image itself cannot be built here: no registry for base images), and the
license and citation files agree with the package."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import yaml

import ckg
from ckg.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def _command_is_valid(args: list[str]) -> None:
    """A `ckg ...` command line click accepts (parsed, not run)."""
    assert args[0] == "ckg"
    command = main.get_command(None, args[1])
    assert command is not None, args
    command.make_context(args[1], list(args[2:]))


def test_the_image_installs_as_make_install_does():
    docker, makefile = _dockerfile(), (ROOT / "Makefile").read_text()
    torch = re.search(r"torch==([\d.]+)", makefile).group(1)
    pinned = re.search(r"(?m)^torch==([\d.]+)$", (ROOT / "constraints.txt").read_text()).group(1)
    assert f"torch=={torch}" in docker and torch == pinned
    assert "pip install -c constraints.txt ." in docker and "-c constraints.txt -e '.[dev,ray]'" in makefile
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    copied = set(re.findall(r"(?m)^COPY (\w+) \1$", docker))
    assert {folder for folder in packages.values() if "/" not in folder} <= copied  # every package's folder
    for name in ("pyproject.toml", "constraints.txt", "README.md"):
        assert name in re.search(r"(?m)^COPY (.*) \./$", docker).group(1)
    # the pages' npm libraries: the versions make webassets installs, where the server looks for them
    # (server/pages.py: <sys.prefix>/node/node_modules; the image's Python is /usr/local)
    pins = "\n".join(re.findall(r"(?m)^(?:SWAGGER_UI|ECHARTS|DATATABLES)\s*:=.*$", makefile))
    wanted = set(re.findall(r"[\w.-]+@\d+\.\d+\.\d+", pins))
    assert wanted and wanted == set(re.findall(r"[\w.-]+@\d+\.\d+\.\d+", docker))
    assert "COPY --from=webassets /web/node_modules /usr/local/node/node_modules" in docker


def test_the_image_and_compose_serve_the_volume_with_a_valid_command():
    cmd = re.search(r"(?m)^CMD (\[.*\])$", _dockerfile()).group(1)
    args = yaml.safe_load(cmd)
    _command_is_valid(args)
    assert args[args.index("--store") + 1].startswith("/data/") and "VOLUME [\"/data\"]" in _dockerfile()
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    service = compose["services"]["ckg"]
    assert service["command"] == args and "8000:8000" in service["ports"]
    assert any(v.endswith(":/data") for v in service["volumes"])
    for key in service["environment"]:
        from ckg.settings import SETTINGS

        assert any(s.env == key for s in SETTINGS.values()), key  # only settings ckg reads
    assert compose["services"]["virtuoso"]["profiles"] == ["virtuoso"]
    usage = [line[2:].strip() for line in _dockerfile().splitlines() if line.startswith("#   docker run")]
    assert len(usage) == 2
    for line in usage:  # the commands the Dockerfile's comment shows: `docker run ... IMAGE [ckg ...]`
        words = shlex.split(line)
        named = [i for i, w in enumerate(words) if w == "ckg"]  # the image, then the command if given
        _command_is_valid(words[named[1]:] if len(named) > 1 else args)


def test_license_and_citation_agree_with_the_package():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"]["text"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text and "END OF TERMS AND CONDITIONS" in text
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and citation["license"] == "Apache-2.0"
    assert citation["version"] == project["version"] == ckg.__version__
    assert any("CORD-19" in ref["title"] for ref in citation["references"])
