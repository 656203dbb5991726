"""One way to report a result: ``report() -> str``, ``to_dict() -> dict``, ``rows() -> list[dict]``.

Bottom layer: imports nothing of the package. Every result object of the package (allocations,
configurations, frontiers, comparisons, splits, evaluations, recipe fits) mixes in
:class:`Reported`:

- ``to_dict()``: the dataclass fields as JSON-able plain types (numpy arrays become lists,
  numpy scalars Python numbers, non-finite floats ``None``, nested results their own
  ``to_dict()``, laws their name and configuration); fields that are private (``_name``) or
  hidden from ``repr`` are left out;
- ``report()``: a readable multi-line text: a headline (``_headline()``), a body (``_body()``,
  usually the table of ``rows()``), then every note and warning the result carries;
- ``rows()``: one plain dict per row where the result is tabular.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping

import numpy as np

__all__ = ["Reported", "plain", "format_rows", "notes_block"]


def notes_block(notes: Any, warnings: Any, *, sections: tuple[str, str] = ("notes:", "warnings:"),
                indent: str = "  ") -> list[str]:
    """The lines every report ends with: its notes, then its warnings (nothing when there are none)."""
    lines: list[str] = []
    for head, items in zip(sections, (tuple(notes or ()), tuple(warnings or ()))):
        if items:
            lines.append(head)
            lines += [f"{indent}- {x}" for x in items]
    return lines


def plain(v: Any) -> Any:
    """``v`` as JSON-able plain Python types (recursively)."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, (int, np.integer)) and not isinstance(v, np.bool_):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, np.ndarray):
        if v.dtype == object:
            return [plain(x) for x in v.tolist()]
        return plain(v.tolist())
    if isinstance(v, Mapping):
        return {str(plain(k)) if not isinstance(k, str) else k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [plain(x) for x in v]
    if hasattr(v, "to_dict") and callable(v.to_dict):
        return plain(v.to_dict())
    if hasattr(v, "param_names") and hasattr(v, "config") and hasattr(v, "name"):  # a Law
        return {"name": v.name, "config": plain(v.config())}
    if hasattr(v, "name") and hasattr(v, "space") and isinstance(getattr(v, "name"), str):  # an objective
        return {"name": v.name, "space": v.space}
    if hasattr(v, "item"):
        try:
            return plain(v.item())
        except (TypeError, ValueError):
            pass
    return repr(v)


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, (float, np.floating)):
        return "nan" if math.isnan(v) else f"{float(v):.4g}"
    return str(v)


def format_rows(rows: list[dict[str, Any]], columns: Mapping[str, str] | None = None) -> str:
    """A plain-text table of ``rows`` (``columns``: key -> heading, default every key)."""
    if not rows:
        return "(no rows)"
    cols = dict(columns) if columns is not None else {k: k for k in rows[0]}
    cells = [[_cell(r.get(k)) for k in cols] for r in rows]
    heads = list(cols.values())
    width = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
    line = lambda vals: "  ".join(f"{v:>{w}}" for v, w in zip(vals, width))  # noqa: E731
    out = [line(heads), "-" * len(line(heads))]
    out += [line(c) for c in cells]
    return "\n".join(out)


class Reported:
    """Mixin of the package's result dataclasses: ``report``, ``to_dict`` and (tabular) ``rows``."""

    def _headline(self) -> str:
        return type(self).__name__

    def _body(self) -> str:
        rows = getattr(self, "rows", None)
        if callable(rows):
            return format_rows(rows())
        return "\n".join(f"  {k}: {_cell(v)}" for k, v in self.to_dict().items()
                         if not isinstance(v, (list, dict)) and k not in ("type", "notes", "warnings"))

    def report(self) -> str:
        """A readable multi-line text, with every note and warning of the result."""
        lines = [self._headline()]
        body = self._body()
        if body:
            lines.append(body)
        lines += notes_block(getattr(self, "notes", ()), getattr(self, "warnings", ()))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The result's fields as JSON-able plain types (``json.dumps`` works on it)."""
        out: dict[str, Any] = {"type": type(self).__name__}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            if f.name.startswith("_") or not f.repr:
                continue
            out[f.name] = plain(getattr(self, f.name))
        return out
