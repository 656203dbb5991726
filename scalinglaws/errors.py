"""Exceptions raised for user mistakes.

Every error carries the message a person reads (one paragraph naming the file, column, row, rule
and value found) and the same facts as attributes, so the CLI can print the message and exit 2,
and tests or scripts can inspect ``err.column``, ``err.row``, ``err.rule`` and ``err.value``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ScalingLawsError", "DataError", "LawError", "ColumnNotFoundError", "UnitsWarning"]


def _rebuild(cls: type, message: str, attrs: dict[str, Any]) -> "ScalingLawsError":
    return cls(message, **attrs)


class ScalingLawsError(Exception):
    """Base class of every error this package raises on purpose.

    Attributes:
        message: the full human-readable message (also ``str(err)``).
        source: file name as given by the user, ``'<DataFrame>'``, ``'<dict>'`` or ``None``.
        column: the canonical column concerned, or ``None``.
        row: 0-based data row index (``int``) of the first offending row, or ``None``.
        rule: a short name for the rule that was broken, e.g. ``'not positive'``.
        value: the offending value, or ``None``.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        column: str | None = None,
        row: int | None = None,
        rule: str | None = None,
        value: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.column = column
        self.row = None if row is None else int(row)
        self.rule = rule
        self.value = value

    def __str__(self) -> str:  # KeyError subclasses would otherwise quote the message
        return self.message

    def __reduce__(self):  # keep the keyword attributes through pickling (multiprocessing)
        attrs = {k: getattr(self, k) for k in ("source", "column", "row", "rule", "value")}
        return _rebuild, (type(self), self.message, attrs)


class DataError(ScalingLawsError, ValueError):
    """Bad input data: a missing column, an unparseable or out-of-range value, conflicting
    duplicated runs, an empty table, an unreadable file."""


class ColumnNotFoundError(DataError, KeyError):
    """A column asked of a :class:`~scalinglaws.runs.Runs` that it does not hold.

    Also a ``KeyError``, so mapping-style code (``try: runs[name] except KeyError``) works."""


class LawError(ScalingLawsError, ValueError):
    """A law cannot be used with the data given: it needs columns the data lacks, there are
    fewer rows than parameters, and similar."""


class UnitsWarning(UserWarning):
    """A column whose values look written in other units than the raw counts the package takes
    (a params column holding 7.0 for 7B parameters); see ``runs.UNIT_FLOORS``."""
