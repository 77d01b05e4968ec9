"""Every docstring example in the package runs (the examples are documentation we ship)."""

import doctest
import importlib
import pkgutil

import pytest

import ckg


def _modules():
    names = [ckg.__name__]
    for info in pkgutil.walk_packages(ckg.__path__, prefix="ckg."):
        names.append(info.name)
    for sub in ("ckg.etl", "ckg.ontology", "ckg.queries", "ckg.server", "ckg.embed", "ckg.search"):
        package = importlib.import_module(sub)
        names.extend(i.name for i in pkgutil.walk_packages(package.__path__, prefix=sub + "."))
        names.append(sub)
    return sorted(set(names))


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed"


def test_doctests_cover_the_core_modules():
    names = _modules()
    for expected in ("ckg.terms", "ckg.etl.normalize", "ckg.etl.identity", "ckg.etl.citations", "ckg.queries",
                     "ckg.server.guard", "ckg.server.functions", "ckg.etl.ranking",
                     "ckg.embed.passages", "ckg.embed.metrics", "ckg.search.lexical"):
        assert expected in names
