"""CITATION.cff: valid YAML with the fields CFF 1.2.0 requires, the package's version, and a
title and year for every reference (and an arXiv identifier where the paper is on arXiv)."""

from pathlib import Path
import re

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _load():
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def test_required_fields_and_version():
    c = _load()
    for key in ("cff-version", "message", "title", "authors", "type", "version"):
        assert c.get(key), key
    assert c["cff-version"] == "1.2.0"
    version = re.search(r'^version\s*=\s*"([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    assert str(c["version"]) == version


def test_references_have_titles_years_and_ids():
    refs = _load()["references"]
    assert len(refs) >= 10
    for r in refs:
        assert r.get("title") and isinstance(r.get("year"), int), r
        assert r.get("authors"), r
        ids = [i["value"] for i in r.get("identifiers", [])]
        assert all(re.fullmatch(r"arXiv:\d{4}\.\d{5}", v) for v in ids), ids
        assert ids or r.get("journal"), r
    titles = {r["title"] for r in refs}
    assert "Training Compute-Optimal Large Language Models" in titles
