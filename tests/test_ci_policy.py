"""CI never skips silently: missing shared data fails under CI=true, skip reasons are printed,
and .ci/run runs exactly the README's commands (flags live in pyproject's addopts)."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest

from conftest import SHARED_DATA, in_ci, require, shared

ROOT = Path(__file__).resolve().parents[1]
ABSENT = ("no_such_dataset_here", "nothing.csv")  # a path under ../shared/data that does not exist


def test_missing_shared_file_skips_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert not in_ci()
    with pytest.raises(pytest.skip.Exception, match="nothing.csv"):
        shared(*ABSENT)


@pytest.mark.parametrize("value", ["true", "TRUE", "True"])
def test_missing_shared_file_fails_under_ci(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    assert in_ci()
    with pytest.raises(pytest.fail.Exception) as info:
        shared(*ABSENT)
    # the failure names the missing path
    assert str(SHARED_DATA.joinpath(*ABSENT)) in str(info.value)


@pytest.mark.parametrize("value", ["", "false", "0"])
def test_ci_other_values_still_skip(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception):
        require(ROOT / "no_such_file.csv")


def test_present_file_is_returned(monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert require(ROOT / "pyproject.toml") == ROOT / "pyproject.toml"


def test_skip_reasons_are_reported_by_the_readme_command():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    flags = shlex.split(cfg["addopts"])
    # -rs (or a superset such as -ra / -rA / -rfEs) makes the short summary list skips with reasons
    assert any(re.fullmatch(r"-r[a-zA-Z]*[sSaA][a-zA-Z]*", f) for f in flags), flags


def test_ci_script_installs_and_runs_the_readme_command():
    script = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "python -m pip install" in script and "-e '.[test]'" in script
    assert "pip install -e '.[test]' && python -m pytest" in readme
    # the test command itself carries no extra flags: they live in pyproject's addopts
    runs = [ln.strip() for ln in script.splitlines() if re.match(r"\s*python -m pytest\b", ln)]
    assert runs == ["python -m pytest"], runs
    assert re.search(r"^export CI=", script, re.M), "the CI entry point must switch on CI=true"
