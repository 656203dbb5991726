"""The one resolver of "a Fit, or a Law plus ``params=``" for every solver in :mod:`scalinglaws.optimize`."""

from __future__ import annotations

from typing import Any, Mapping

from ..errors import LawError
from ..laws.base import Law

__all__ = ["resolve_law"]


def resolve_law(fit_or_law: Any, params: Mapping[str, float] | None, fn: str,
                what: str = "a Fit or a Law") -> tuple[Law, dict[str, float], Any]:
    """(law, internal parameters, the Fit or None) from a Fit or a Law plus ``params``.

    A Fit is duck-typed (anything with ``.law`` and ``.internal``), so this layer needs
    nothing of :mod:`scalinglaws.fitting`. ``params`` may use public or internal names.
    Raises :class:`~scalinglaws.LawError` naming ``fn`` for a Law without ``params`` or
    anything else (``what`` says what was expected)."""
    if isinstance(fit_or_law, Law):
        if params is None:
            raise LawError(f"`{fn}(law, ...)`: pass the law's parameters as params={{...}} "
                           f"(public names {list(fit_or_law.public_names)} or internal ones).",
                           rule="missing parameters")
        return fit_or_law, fit_or_law.from_public(params), None
    if hasattr(fit_or_law, "law") and hasattr(fit_or_law, "internal"):
        return fit_or_law.law, dict(fit_or_law.internal), fit_or_law
    raise LawError(f"`{fn}`: expected {what}, got {type(fit_or_law).__name__}.", rule="bad argument")
