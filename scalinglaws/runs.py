"""Run logs in, one validated immutable table out: :func:`read_runs` and :class:`Runs`.

This is the only module besides the CLI that imports pandas. Everything downstream sees
:class:`Runs`: canonical column names, float64 numpy arrays (never int64: FLOPs exceed 2**63),
read-only, with the original row index of every row kept for error messages.

Nothing is dropped or repaired silently: a bad value raises :class:`DataError` naming the file,
column, row (and CSV line), rule and value; exact duplicate rows give a warning and are kept.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import operator
import warnings
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from .errors import ColumnNotFoundError, DataError, LawError

__all__ = ["CANONICAL_COLUMNS", "CATEGORICAL_COLUMNS", "Runs", "read_runs"]

CANONICAL_COLUMNS: tuple[str, ...] = (
    "params", "tokens", "flops", "loss", "accuracy", "samples", "inference_tokens", "queries",
    "hidden_size", "n_layers", "ffn_size", "n_heads", "n_kv_heads", "vocab_size", "seq_len",
    "group", "seed", "difficulty", "problem", "correct", "unique_tokens", "model",
    "sample_index", "weight",
)  # fmt: skip
CATEGORICAL_COLUMNS = frozenset({"group", "problem", "model"})  # kept as str, never parsed
SCALE_COLUMNS = ("params", "tokens", "flops")
TARGET_COLUMNS = ("loss", "accuracy", "correct")
POSITIVE_COLUMNS = frozenset({
    "params", "tokens", "flops", "loss", "samples", "inference_tokens", "queries", "hidden_size",
    "n_layers", "ffn_size", "n_heads", "n_kv_heads", "vocab_size", "seq_len", "unique_tokens",
})  # fmt: skip
_CANON = frozenset(CANONICAL_COLUMNS)
_LINE_SUFFIXES = (".csv", ".tsv")  # one header line, so data row i sits on line i + 2
_SUFFIX_EXP = {"k": 3, "m": 6, "b": 9, "g": 9, "t": 12}
_SPECIAL = {"": np.nan, "nan": np.nan, "na": np.nan, "n/a": np.nan, "null": np.nan,
            "none": np.nan, "inf": np.inf, "+inf": np.inf, "-inf": -np.inf,
            "infinity": np.inf, "+infinity": np.inf, "-infinity": -np.inf}  # fmt: skip
# A number with optional thousands separators and exponent, then an optional K/M/B/G/T suffix.
_NUMBER_RE = (r"^([+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+))"
              r"(?:[eE]([+-]?\d+))?\s*([kKmMbBgGtT])?$")  # fmt: skip


def _fmt(value: Any) -> str:
    """A value as a message shows it: numbers plainly, text quoted."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return repr(value)


def _freeze(a: np.ndarray) -> np.ndarray:
    """A read-only view (the caller's array keeps its own flags)."""
    v = a.view()
    v.flags.writeable = False
    return v


@dataclasses.dataclass(frozen=True)
class _Where:
    """Where data came from, for messages: source, whether it has CSV lines, column origins."""

    source: str
    origin: Mapping[str, str]
    row_ids: np.ndarray | None = None

    def row(self, i: int) -> tuple[int, str]:
        r = int(i if self.row_ids is None else self.row_ids[i])
        lines = self.source.lower().endswith(_LINE_SUFFIXES)
        return r, f"row {r} (line {r + 2})" if lines else f"row {r}"

    def col(self, name: str) -> str:
        user = self.origin.get(name, name)
        return f"column '{name}'" + (f" (mapped from '{user}')" if str(user) != name else "")

    def error(self, name: str, i: int, rule: str, value: Any, what: str, why: str) -> DataError:
        r, rtext = self.row(i)
        return DataError(f"{self.source}: {self.col(name)}, {rtext}: value {_fmt(value)} {what}; "
                         f"{why}.", source=self.source, column=name, row=r, rule=rule, value=value)


# --------------------------------------------------------------------------- the table
@dataclasses.dataclass(frozen=True, eq=False)
class Runs:
    """A validated, immutable table of runs with canonical column names.

    Build it with :func:`read_runs`; the constructor only normalises dtypes (float64, or str
    objects for ``group``/``problem``/``model``) and freezes the arrays, it does not validate
    values. ``row_ids`` holds the original 0-based data row of each row and survives
    :meth:`select`; ``origin`` maps canonical names to the user's column names.
    """

    columns: Mapping[str, np.ndarray]
    source: str = "<Runs>"
    notes: tuple[str, ...] = ()
    row_ids: np.ndarray | None = None
    origin: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        cols, n = {}, None
        given = dict(self.columns)
        for name in given:
            if name not in _CANON:
                raise ValueError(f"Runs: {name!r} is not a canonical column; "
                                 f"canonical: {', '.join(CANONICAL_COLUMNS)}")
        for name in (c for c in CANONICAL_COLUMNS if c in given):
            a = np.asarray(given[name])
            if name in CATEGORICAL_COLUMNS:
                a = a if a.dtype == object else a.astype(str).astype(object)
            elif a.dtype != np.float64:
                a = a.astype(np.float64)
            if a.ndim != 1 or (n is not None and len(a) != n):
                raise ValueError(f"Runs: column {name!r} has shape {a.shape}; all columns must "
                                 f"be 1-D of one length ({n})")
            n = len(a)
            cols[name] = _freeze(a)
        n = (len(self.row_ids) if self.row_ids is not None else 0) if n is None else n
        ids = np.arange(n, dtype=np.int64) if self.row_ids is None else np.asarray(self.row_ids)
        if ids.shape != (n,):
            raise ValueError(f"Runs: row_ids has shape {ids.shape}, expected ({n},)")
        object.__setattr__(self, "columns", MappingProxyType(cols))
        object.__setattr__(self, "row_ids", _freeze(ids.astype(np.int64, copy=False)))
        object.__setattr__(self, "notes", tuple(self.notes))
        object.__setattr__(self, "origin", MappingProxyType(dict(self.origin)))

    def __len__(self) -> int:
        return len(self.row_ids)

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.columns[name]
        except (KeyError, TypeError):
            raise ColumnNotFoundError(
                f"{self.source}: no column {name!r}; available: {', '.join(self.names) or 'none'}.",
                source=self.source, column=str(name), rule="missing column") from None

    @property
    def names(self) -> tuple[str, ...]:
        """Canonical names of the columns present, in canonical order."""
        return tuple(self.columns)

    def __repr__(self) -> str:
        notes = f", {len(self.notes)} note(s)" if self.notes else ""
        return f"Runs({self.source!r}, {len(self)} rows, columns: {', '.join(self.names)}{notes})"

    def _where(self) -> _Where:
        return _Where(self.source, self.origin, self.row_ids)

    def select(self, mask_or_indices: Any) -> "Runs":
        """The rows picked by a boolean mask or integer indices, as a new :class:`Runs`.

        ``row_ids`` follow the rows, so messages still name the original rows; notes are kept."""
        idx = np.asarray(mask_or_indices)
        if idx.dtype == bool:
            if idx.shape != (len(self),):
                raise ValueError(f"select: boolean mask has shape {idx.shape}, "
                                 f"expected ({len(self)},)")
            idx = np.flatnonzero(idx)
        elif idx.size == 0:
            idx = np.zeros(0, dtype=np.intp)
        elif idx.dtype.kind not in "iu":
            raise TypeError(f"select: expected a boolean mask or integer indices, got {idx.dtype}")
        cols = {k: v[idx] for k, v in self.columns.items()}
        return dataclasses.replace(self, columns=cols, row_ids=self.row_ids[idx])

    def drop_highest(self, column: str, k: int) -> "Runs":
        """Drop the ``k`` rows with the largest ``column`` values (Epoch's convention).

        Keeps the rows with ``value < sorted(values)[-k]``, so ties at the threshold are all
        dropped; the note added says how many rows went and where the cut was."""
        values, k = self[column], operator.index(k)
        if column in CATEGORICAL_COLUMNS:
            raise ValueError(f"drop_highest: column {column!r} is not numeric")
        if not 0 <= k <= len(self):
            raise ValueError(f"drop_highest: k={k} must lie in [0, {len(self)}] (the row count)")
        if k == 0:
            return self
        cut = np.partition(values, len(values) - k)[len(values) - k]  # == sorted(values)[-k]
        keep = values < cut
        dropped = len(self) - int(keep.sum())
        ties = f" ({dropped - k} more than {k} because of ties)" if dropped != k else ""
        note = (f"dropped the {dropped} row(s) with the highest {column} ({column} >= {cut:.6g})"
                f"{ties}: kept {column} < sorted({column})[-{k}] (Epoch's convention)")
        out = self.select(keep)
        return dataclasses.replace(out, notes=out.notes + (note,))

    def with_columns(self, **arrays: Any) -> "Runs":
        """A new :class:`Runs` with columns added or replaced, parsed and validated as
        :func:`read_runs` does (canonical names only, one value per row)."""
        cols, origin = dict(self.columns), dict(self.origin)
        where = _Where(self.source, {}, self.row_ids)
        for name, values in arrays.items():
            _check_canonical(name, self.source)
            values = values if isinstance(values, pd.Series) else np.asarray(values)
            if values.shape != (len(self),):
                raise ValueError(f"with_columns: {name!r} has shape {values.shape}, "
                                 f"expected ({len(self)},)")
            cols[name] = _parse_column(name, values, where, copy=True)[0]
            origin.pop(name, None)
        return dataclasses.replace(self, columns=cols, origin=origin)

    def data_hash(self) -> str:
        """sha256 (hex) of the columns: sorted names, float64 little-endian bytes or UTF-8 text
        (NUL-separated). Stable across processes and platforms; ignores notes and row_ids."""
        h = hashlib.sha256(b"scalinglaws.Runs/1\0%d\0" % len(self))
        for name in sorted(self.columns):
            a = self.columns[name]
            h.update(name.encode() + b"\0")
            if a.dtype == object:
                h.update(b"s" + "\0".join(a.tolist()).encode("utf-8", "surrogatepass"))
            else:
                h.update(b"f" + np.ascontiguousarray(a, dtype="<f8").tobytes())
        return h.hexdigest()

    def to_dict(self) -> dict[str, np.ndarray]:
        """Column name -> array (the read-only arrays themselves; ``.copy()`` to modify)."""
        return dict(self.columns)

    def require(self, names: str | Iterable[str], *, law: str) -> None:
        """Raise :class:`LawError` unless every column in ``names`` is present."""
        names = (names,) if isinstance(names, str) else tuple(names)
        missing = [n for n in names if n not in self.columns]
        if missing:
            need = ", ".join(repr(n) for n in missing)
            raise LawError(
                f"law '{law}' needs column(s) {need} which {self.source} lacks; available: "
                f"{', '.join(self.names) or 'none'}. Map a column of yours with "
                f"columns={{'{missing[0]}': 'Your Column'}}.",
                source=self.source, column=missing[0], rule="missing column")


# --------------------------------------------------------------------------- parsing
def _check_canonical(name: Any, source: str, hint: str = "") -> None:
    if name not in _CANON:
        raise DataError(f"{source}: {name!r} is not a canonical column name{hint}; canonical "
                        f"names are: {', '.join(CANONICAL_COLUMNS)}.", source=source,
                        column=str(name), rule="unknown canonical column", value=name)


def _numpy(values: Any) -> np.ndarray:
    """A column as a numpy array without copying where possible (pandas NA -> NaN/None)."""
    if not isinstance(values, pd.Series):
        return np.asarray(values)
    if isinstance(values.dtype, np.dtype):
        return values.to_numpy()
    if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    return values.to_numpy(dtype=object, na_value=None)


def _parse_text(text: pd.Series, allow_bool: bool) -> tuple[np.ndarray, np.ndarray]:
    """Parse stripped strings that float() rejected: '1,000', '1.3B', '300M', 'true', 'n/a'.

    Returns (values, unparseable mask). Suffixes are applied as a decimal exponent, so '1.3B'
    is exactly float('1.3e9')."""
    text = text.reset_index(drop=True)
    low = text.str.lower()
    out = np.full(len(text), np.nan)
    done = low.isin(_SPECIAL.keys()).to_numpy()
    out[done] = low[done].map(_SPECIAL).to_numpy(dtype=np.float64)
    if allow_bool:
        tf = low.isin(("true", "false")).to_numpy()
        out[tf] = (low[tf] == "true").to_numpy(dtype=np.float64)
        done |= tf
    rest = np.flatnonzero(~done)
    m = text.iloc[rest].str.extract(_NUMBER_RE)
    ok = m[0].notna().to_numpy()
    if ok.any():
        m = m[ok]
        exp = pd.to_numeric(m[1]).fillna(0) + m[2].str.lower().map(_SUFFIX_EXP).fillna(0)
        num = m[0].str.replace(",", "", regex=False) + "e" + exp.astype(np.int64).astype(str)
        out[rest[ok]] = num.astype(np.float64).to_numpy()
    bad = np.zeros(len(text), dtype=bool)
    bad[rest[~ok]] = True
    return out, bad


def _parse_objects(raw: np.ndarray, name: str, where: _Where) -> tuple[np.ndarray, int]:
    """Text or mixed cells to float64; returns (values, number of cells needing the slow path)."""
    try:  # plain numbers and numeric strings ('1.5e9', ' 3e20 '): float() semantics, exact
        return raw.astype(np.float64), 0
    except (ValueError, TypeError, OverflowError):
        pass
    s = pd.Series(raw.astype(object, copy=False), copy=False)
    out = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    todo = np.flatnonzero(np.isnan(out) & s.notna().to_numpy())
    if todo.size:
        vals, bad = _parse_text(s.iloc[todo].astype(str).str.strip(), name == "correct")
        if bad.any():
            i = int(todo[np.argmax(bad)])
            extra = " or true/false" if name == "correct" else ""
            raise where.error(name, i, "unparseable number", raw[i], "is not a number",
                              "write plain numbers (1.5e9, 1,000), a K/M/B/G/T suffix "
                              f"(1.3B = 1.3e9, 300M, 2T){extra}")
        out[todo] = vals
    return out, int(todo.size)


def _parse_column(name: str, values: Any, where: _Where, *, copy: bool) -> tuple[np.ndarray, int]:
    """One user column to its canonical array, validated; returns (array, slow-path count)."""
    raw = _numpy(values)
    if raw.ndim != 1:
        raise DataError(f"{where.source}: {where.col(name)} has shape {raw.shape}; expected one "
                        "value per row.", source=where.source, column=name, rule="not 1-D")
    if name in CATEGORICAL_COLUMNS:
        missing = pd.isna(raw) if raw.dtype == object else np.zeros(len(raw), dtype=bool)
        if raw.dtype == object or raw.dtype.kind in "US":
            missing = missing | (raw == "")
        if missing.any():
            i = int(np.argmax(missing))
            raise where.error(name, i, "missing or non-finite value", raw[i], "is missing",
                              f"every row needs a {name} label")
        return raw.astype(str).astype(object), 0
    slow = 0
    if raw.dtype.kind == "b":
        if name != "correct":
            raise where.error(name, 0, "unparseable number", raw[0], "is a boolean, not a "
                              "number", "only 'correct' takes true/false")
        arr = raw.astype(np.float64)
    elif raw.dtype.kind in "fiu":
        arr = raw.astype(np.float64, copy=copy)
    elif raw.dtype.kind in "OUS":
        arr, slow = _parse_objects(raw, name, where)
    else:
        raise where.error(name, 0, "unparseable number", raw[0],
                          f"has type {raw.dtype}, not a number", "give numbers")
    _check_values(name, arr, where, raw)
    return arr, slow


_RANGE_RULES = {  # name -> (is_bad, rule, what, why)
    "accuracy": (lambda a: (a < 0) | (a > 1), "accuracy outside [0, 1]", "is outside [0, 1]",
                 "accuracy is a fraction (0.42, not 42%)"),
    "correct": (lambda a: (a != 0) & (a != 1), "correct not 0/1", "is not 0 or 1",
                "correct must be 0/1 or true/false"),
    "weight": (lambda a: a < 0, "negative weight", "is negative", "weight must be >= 0"),
}


def _check_values(name: str, arr: np.ndarray, where: _Where, raw: np.ndarray | None = None):
    """Raise for the first non-finite value, then for the first value breaking the range rule."""
    shown = arr if raw is None else raw
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.argmax(bad))
        raise where.error(name, i, "missing or non-finite value", shown[i],
                          "is missing or not finite", "every value in a used column must be a "
                          "finite number (nothing is dropped or filled in silently)")
    if name in POSITIVE_COLUMNS:
        rule = (lambda a: a <= 0, "not positive", "is not positive",
                f"{name} must be > 0, as must params, tokens, flops, loss and every count or size")
    else:
        rule = _RANGE_RULES.get(name)
    if rule is not None:
        bad = rule[0](arr)
        if bad.any():
            i = int(np.argmax(bad))
            value = arr[i] if raw is None or raw.dtype.kind in "fiub" else raw[i]
            raise where.error(name, i, rule[1], value, rule[2], rule[3])


# --------------------------------------------------------------------------- sources
class _Table:
    """A source's column names and a loader for the columns wanted: name -> values, row count."""

    def __init__(self, label: str, names: list, load, owned: bool) -> None:
        self.label, self.names, self._load, self.owned = label, names, load, owned

    def load(self, wanted: list, text: set) -> tuple[dict, int]:
        return self._load(wanted, text)


def _frame_table(df: pd.DataFrame, label: str, owned: bool) -> _Table:
    def load(wanted, text):
        dup = [c for c in wanted if (df.columns == c).sum() > 1]
        if dup:
            raise DataError(f"{label}: column name {dup[0]!r} appears more than once.",
                            source=label, column=str(dup[0]), rule="duplicate column name")
        return {c: df[c] for c in wanted}, len(df)
    return _Table(label, list(df.columns), load, owned)


def _dict_table(data: Mapping, label: str) -> _Table:
    def load(wanted, text):
        cols = {c: data[c] if isinstance(data[c], (np.ndarray, pd.Series))
                else np.asarray(data[c], dtype=object) for c in wanted}
        lengths = {c: len(v) if np.ndim(v) == 1 else -1 for c, v in cols.items()}
        n = next(iter(lengths.values()), 0)
        for c, m in lengths.items():
            if m != n:
                raise DataError(f"{label}: column {c!r} has {m if m >= 0 else 'no'} 1-D values "
                                f"but other columns have {n}; all columns must be the same "
                                "length.", source=label, column=str(c), rule="ragged columns")
        return cols, n
    return _Table(label, list(data.keys()), load, owned=False)


def _file_table(path: Path, label: str) -> _Table:
    suffix = path.suffix.lower()
    if not path.is_file():
        raise DataError(f"{label}: no such file.", source=label, rule="file not found")
    if suffix in (".csv", ".tsv"):
        sep = "\t" if suffix == ".tsv" else ","
        names = pd.read_csv(path, sep=sep, nrows=0).columns.tolist()

        def load(wanted, text):
            df = pd.read_csv(path, sep=sep, usecols=wanted, low_memory=False,
                             float_precision="round_trip", dtype={c: str for c in text})
            return {c: df[c] for c in wanted}, len(df)
        return _Table(label, names, load, owned=True)
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        names = list(pq.read_schema(path).names)

        def load(wanted, text):
            df = pd.read_parquet(path, columns=list(wanted))
            return {c: df[c] for c in wanted}, len(df)
        return _Table(label, names, load, owned=True)
    if suffix in (".jsonl", ".ndjson"):
        try:
            df = pd.read_json(path, lines=True, dtype=False, convert_dates=False,
                              precise_float=True)
        except ValueError:  # e.g. an integer beyond 64 bits: Python's json handles any number
            with open(path, encoding="utf-8") as f:
                df = pd.DataFrame.from_records([json.loads(ln) for ln in f if ln.strip()])
        return _frame_table(df, label, owned=True)
    if suffix == ".json":
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if isinstance(data, list) and all(isinstance(r, dict) for r in data):
            return _frame_table(pd.DataFrame.from_records(data), label, owned=True)
        if isinstance(data, dict) and all(isinstance(v, list) for v in data.values()):
            return _dict_table(data, label)
        raise DataError(f"{label}: expected a list of records [{{...}}, ...] or an object of "
                        "column lists {\"col\": [...]}.", source=label, rule="unreadable file")
    raise DataError(f"{label}: unsupported file type {suffix or '(none)'!r}; use .csv, .tsv, "
                    ".parquet, .jsonl/.ndjson or .json.", source=label, rule="unsupported file type")


@contextlib.contextmanager
def _reading(label: str):
    """Turn I/O and parser failures into DataError naming the file."""
    try:
        yield
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, json.JSONDecodeError) as e:
        raise DataError(f"{label}: cannot read the file: {e}", source=label,
                        rule="unreadable file") from e
    except pd.errors.EmptyDataError:
        raise DataError(f"{label}: the file is empty (no header, no rows).", source=label,
                        rule="no rows") from None


def _open(source: Any) -> _Table:
    if isinstance(source, pd.DataFrame):
        return _frame_table(source, "<DataFrame>", owned=False)
    if isinstance(source, Mapping):
        return _dict_table(source, "<dict>")
    if isinstance(source, (str, Path)):
        with _reading(str(source)):
            return _file_table(Path(source), str(source))
    raise TypeError(f"read_runs: expected a file path, a pandas DataFrame or a dict of arrays, "
                    f"got {type(source).__name__}")


# --------------------------------------------------------------------------- read_runs
def _suggest(names: list) -> str:
    """File columns that look canonical up to case, spaces or dashes."""
    norm = {str(c).strip().lower().replace(" ", "_").replace("-", "_"): c for c in names}
    near = {c: norm[c] for c in CANONICAL_COLUMNS if c in norm and norm[c] != c}
    return (" (did you mean columns=" + repr(near) + "?)") if near else ""


def _near(user: Any, names: list) -> str:
    """A file column equal to ``user`` up to case and surrounding spaces."""
    key = str(user).strip().lower()
    near = [c for c in names if str(c).strip().lower() == key]
    return f" (did you mean {near[0]!r}?)" if near else ""


def _choose(names: list, mapping: Mapping, label: str) -> dict[str, Any]:
    """canonical name -> user column: the explicit mapping, then columns named canonically."""
    chosen: dict[str, Any] = {}
    for canon, user in mapping.items():
        hint = ""
        if canon not in _CANON and user in _CANON:
            hint = (" (columns= maps canonical name -> your column name: did you mean "
                    f"{{{user!r}: {canon!r}}}?)")
        _check_canonical(canon, label, hint)
        if user not in names:
            raise DataError(
                f"{label}: column {user!r} (given for '{canon}') is not in the data"
                f"{_near(user, names)}; its columns are: "
                f"{', '.join(repr(c) for c in names)}.",
                source=label, column=canon, rule="missing column", value=user)
        chosen[canon] = user
    claimed = set(chosen.values())
    for c in names:
        if c in _CANON and c not in chosen and c not in claimed:
            chosen[c] = c
    return {c: chosen[c] for c in CANONICAL_COLUMNS if c in chosen}


def _derive(cols: dict, notes: list, source: str) -> None:
    """With exactly two of params/tokens/flops, compute the third from C = 6ND (float64)."""
    if sum(c in cols for c in SCALE_COLUMNS) != 2:
        return
    if "flops" not in cols:
        name, formula, value = "flops", "6 * params * tokens", 6.0 * cols["params"] * cols["tokens"]
    elif "tokens" not in cols:
        name, formula, value = "tokens", "flops / (6 * params)", cols["flops"] / (6.0 * cols["params"])
    else:
        name, formula, value = "params", "flops / (6 * tokens)", cols["flops"] / (6.0 * cols["tokens"])
    bad = ~(np.isfinite(value) & (value > 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(f"{source}: row {i}: {name} derived as {formula} is {_fmt(value[i])}, "
                        "outside float64's range; check the units of params, tokens and flops.",
                        source=source, column=name, row=i, rule="not positive", value=value[i])
    cols[name] = value
    notes.append(f"{name} derived as {formula} (C = 6ND)")


def _group_ids(arrays: list[np.ndarray], n: int) -> np.ndarray | None:
    """Dense int64 ids of the distinct key tuples, or None when every row is distinct."""
    gid = None
    for a in arrays:
        codes, uniq = pd.factorize(a)
        codes = codes.astype(np.int64, copy=False)
        gid = codes if gid is None else pd.factorize(gid * len(uniq) + codes)[0]
        if gid.max() + 1 == n:
            return None
    return gid.astype(np.int64, copy=False)


def _check_duplicates(cols: dict, where: _Where) -> None:
    """Same inputs but different targets -> DataError; exact repeats -> UserWarning (kept).

    The inputs ("keys") are every column except the targets and weight, so a column that tells
    runs apart (seed, sample_index, unique_tokens, ...) is always taken into account."""
    keys = [c for c in cols if c not in TARGET_COLUMNS and c != "weight"]
    n = len(next(iter(cols.values())))
    gid = _group_ids([cols[k] for k in keys], n) if keys and n > 1 else None
    if gid is None:
        return
    rows = np.flatnonzero(np.bincount(gid)[gid] > 1)
    if not rows.size:
        return
    rows = rows[np.argsort(gid[rows], kind="stable")]  # grouped; file order inside a group
    start = np.r_[True, gid[rows[1:]] != gid[rows[:-1]]]
    first = rows[np.maximum.accumulate(np.where(start, np.arange(len(rows)), 0))]
    later = ~start

    def show(i: int) -> str:
        shown = ", ".join(f"{k}={_fmt(cols[k][i])}" for k in keys[:6])
        return shown + (", ..." if len(keys) > 6 else "")

    for t in (c for c in TARGET_COLUMNS if c in cols):
        v = cols[t]
        clash = np.flatnonzero(later & (v[rows] != v[first]))
        if clash.size:
            j = clash[np.argmin(rows[clash])]
            (ra, ta), (rb, tb) = where.row(first[j]), where.row(rows[j])
            raise DataError(
                f"{where.source}: {ta} and {tb} are the same run ({show(rows[j])}) but differ in "
                f"{where.col(t)}: {_fmt(v[first[j]])} vs {_fmt(v[rows[j]])}; duplicated runs "
                "with conflicting values are ambiguous. Remove or fix one, or add a column that "
                "tells them apart (seed for repeated training runs, sample_index for repeated "
                "samples).", source=where.source, column=t, row=rb,
                rule="duplicated run with conflicting values", value=v[rows[j]])
    order = np.argsort(rows[later], kind="stable")
    pairs = list(zip(first[later][order], rows[later][order]))
    shown = "; ".join(f"{where.row(b)[1]} repeats {where.row(a)[1]}" for a, b in pairs[:5])
    warnings.warn(
        f"{where.source}: {len(pairs)} row(s) exactly repeat an earlier row (same "
        f"{', '.join(keys)} and targets): {shown}{'; ...' if len(pairs) > 5 else ''}. They are "
        "kept and each counts in a fit; remove them if they are accidental copies.",
        UserWarning, stacklevel=3)


def read_runs(source: Any, columns: Mapping[str, Any] | None = None, *,
              derive: bool = True) -> Runs:
    """Read run logs into a validated :class:`Runs`.

    Args:
        source: a path (``str`` or ``Path``) to a .csv, .tsv, .parquet, .jsonl/.ndjson or .json
            (list of records, or an object of column lists) file; a pandas DataFrame; or a dict
            mapping column name -> sequence.
        columns: canonical name -> your column name, e.g.
            ``{"params": "Model Size", "flops": "Training FLOP"}``. Columns already named
            canonically are picked up too; other columns are ignored.
        derive: with exactly two of params/tokens/flops, compute the third from C = 6ND and
            say so in ``notes``.

    Numbers may be written '1.5e9', ' 3e20 ', '1,000' or with a K/M/B/G/T suffix ('1.3B',
    '300M', '2T'; case-insensitive); ``correct`` also takes true/false. Numeric columns become
    float64, ``group``/``problem``/``model`` stay text.

    Raises:
        DataError: naming the file, column, row (and CSV line), rule and value: an unknown
            canonical name, a missing column, an unparseable, missing, non-finite or
            out-of-range value, runs duplicated with conflicting targets, no rows.
    """
    if columns is not None and not isinstance(columns, Mapping):
        raise TypeError("read_runs: columns= must be a mapping canonical name -> your column "
                        f"name, got {type(columns).__name__}")
    table = _open(source)
    label = table.label
    chosen = _choose(table.names, dict(columns or {}), label)
    if not any(c in chosen for c in SCALE_COLUMNS + TARGET_COLUMNS):
        raise DataError(
            f"{label}: nothing to work with: read_runs needs at least one of params, tokens, "
            f"flops (model scale) or loss, accuracy, correct (a target), and found "
            f"{', '.join(chosen) or 'no canonical column'}{_suggest(table.names)}. The data's "
            f"columns are: {', '.join(repr(c) for c in table.names)}; map yours with e.g. "
            "columns={'params': 'Model Size', 'loss': 'Final Loss'}.",
            source=label, rule="no usable columns")
    text = {u for c, u in chosen.items() if c in CATEGORICAL_COLUMNS}
    with _reading(label):
        data, n = table.load(list(dict.fromkeys(chosen.values())), text)
    if n == 0:
        raise DataError(f"{label}: no rows (only a header); read_runs needs at least one run.",
                        source=label, rule="no rows")
    where = _Where(label, {c: str(u) for c, u in chosen.items()})
    cols, notes = {}, []
    for canon, user in chosen.items():
        cols[canon], slow = _parse_column(canon, data[user], where, copy=not table.owned)
        if slow:
            notes.append(f"{canon}: {slow} value(s) parsed from text such as '1,000', '1.3B' "
                         "(= 1.3e9) or 'true'")
    _check_duplicates(cols, where)
    if derive:
        _derive(cols, notes, label)
    return Runs(cols, source=label, notes=tuple(notes), origin=where.origin)
