"""README.md's "Catalogue of laws" lists every public law class of ``sl.laws`` and nothing else,
so it cannot drift: a new law without an entry (or an entry for a removed one) fails here.

Each entry must also name the law's default input columns and target, its public parameters,
and a source (an arXiv id), or say that the form is this package's own.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import scalinglaws as sl
from scalinglaws.laws.base import Law

ROOT = Path(__file__).resolve().parents[1]


def catalogue() -> dict[str, str]:
    """{class name: the text of its bullet} from README.md's catalogue section."""
    text = (ROOT / "README.md").read_text()
    assert "\n## Catalogue of laws\n" in text, "README.md has no '## Catalogue of laws' section"
    section = text.split("\n## Catalogue of laws\n", 1)[1].split("\n## ", 1)[0]
    section = section.split("\n### ", 1)[0]  # the objectives subsection is not part of the list
    entries = {}
    for bullet in re.split(r"\n- ", "\n" + section)[1:]:
        m = re.match(r"`(\w+)\(", bullet)
        assert m, f"catalogue bullet does not start with `Law(...)`: {bullet[:60]!r}"
        assert m.group(1) not in entries, f"{m.group(1)} listed twice"
        entries[m.group(1)] = bullet.split("\n\n", 1)[0]
    return entries


def public_laws() -> dict[str, type]:
    return {n: getattr(sl.laws, n) for n in sl.laws.__all__
            if inspect.isclass(getattr(sl.laws, n)) and issubclass(getattr(sl.laws, n), Law)
            and getattr(sl.laws, n) is not Law}


def test_catalogue_lists_every_public_law_and_only_those():
    listed, laws = set(catalogue()), set(public_laws())
    assert laws - listed == set(), f"laws missing from README's catalogue: {sorted(laws - listed)}"
    assert listed - laws == set(), f"catalogue entries that are not public laws: {sorted(listed - laws)}"
    assert len(laws) >= 20  # 17 before the vocabulary and MoE laws, plus those three


def test_each_entry_names_columns_parameters_and_a_source():
    entries = catalogue()
    for name, cls in public_laws().items():
        text = entries[name]
        if cls is sl.laws.Custom:
            assert "inputs" in text and "target" in text
            continue
        law = cls()
        cols = text.split("Columns:", 1)
        assert len(cols) == 2, f"{name}: no 'Columns:'"
        for c in (*law.inputs, law.target):
            assert re.search(rf"\b{c}\b", cols[1]), f"{name}: column {c!r} not in its entry"
        for p in law.public_names:
            assert re.search(rf"\b{re.escape(p)}\b", text), f"{name}: parameter {p!r} not in its entry"
        assert re.search(r"arXiv\s+\d{4}\.\d{4,5}", text) or re.search(r"This\s+package's", text), f"{name}: no source"
