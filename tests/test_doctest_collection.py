"""The package's docstring examples run with the README's test command: pytest collects them
(``--doctest-modules`` with ``scalinglaws`` in testpaths), and the key entry points carry real,
runnable examples (not only ``+SKIP`` ones that need a user's file)."""

from __future__ import annotations

import doctest
import shlex
import tomllib
from pathlib import Path

import pytest

import scalinglaws as sl
from scalinglaws import synthetic
from scalinglaws.laws.links import ExpErrorLink, SigmoidLink

ROOT = Path(__file__).resolve().parents[1]


def test_pytest_collects_the_package_doctests():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "--doctest-modules" in shlex.split(cfg["addopts"])
    assert "scalinglaws" in cfg["testpaths"] and "tests" in cfg["testpaths"]


def _runnable_examples(obj) -> int:
    tests = doctest.DocTestFinder(recurse=False).find(obj)
    skip = doctest.OPTIONFLAGS_BY_NAME["SKIP"]
    return sum(1 for t in tests for ex in t.examples if not ex.options.get(skip, False))


@pytest.mark.parametrize("obj", [sl, sl.laws.Chinchilla, sl.laws.DataConstrained, sl.laws.OverTrain,
                                 sl.exchange_multiplier, sl.read_runs, SigmoidLink, ExpErrorLink,
                                 sl.inference_aware_optimum, synthetic],
                         ids=lambda o: getattr(o, "__qualname__", getattr(o, "__name__", str(o))))
def test_key_docstrings_have_runnable_examples(obj):
    assert _runnable_examples(obj) >= 2, obj


def _package_modules():
    import importlib
    import pkgutil

    for info in pkgutil.walk_packages(sl.__path__, prefix="scalinglaws."):
        if not info.name.endswith("__main__"):
            yield importlib.import_module(info.name)


def test_no_module_has_only_skipped_examples():
    """+SKIP is for examples that need a user's file; every module with examples runs some."""
    only_skipped = []
    skip = doctest.OPTIONFLAGS_BY_NAME["SKIP"]
    for mod in [sl, *_package_modules()]:
        examples = [ex for t in doctest.DocTestFinder().find(mod, mod.__name__) for ex in t.examples]
        if examples and all(ex.options.get(skip, False) for ex in examples):
            only_skipped.append(mod.__name__)
    assert only_skipped == []
