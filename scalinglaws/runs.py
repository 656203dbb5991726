"""Run logs in, one validated immutable table out: :func:`read_runs` and :class:`Runs`.

This is the only module besides the CLI that imports pandas. Everything downstream sees
:class:`Runs`: canonical column names, read-only float64 numpy arrays (never int64: FLOPs exceed
2**63) or str arrays for labels, and the original row index of every row for messages.

Nothing is dropped or repaired silently: a bad value raises :class:`DataError` naming the file,
column, row (and CSV line), rule and value; exact duplicate rows give a warning and are kept.
"""

from __future__ import annotations

import contextlib
import csv
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

from .errors import ColumnNotFoundError, DataError, LawError, UnitsWarning

try:  # optional: a fast exact parser for numbers stored as text
    import pyarrow as _pa
    import pyarrow.compute as _pc
except ImportError:  # pragma: no cover
    _pa = _pc = None

__all__ = ["CANONICAL_COLUMNS", "CATEGORICAL_COLUMNS", "Runs", "as_runs", "read_runs"]

CANONICAL_COLUMNS: tuple[str, ...] = (
    "params", "tokens", "flops", "loss", "accuracy", "samples", "inference_tokens", "queries",
    "hidden_size", "n_layers", "ffn_size", "n_heads", "n_kv_heads", "vocab_size", "seq_len",
    "group", "seed", "run", "difficulty", "problem", "correct", "unique_tokens", "model",
    "sample_index", "weight", "answer",
    "d_over_sqrt_n", "mlp_attention_ratio", "reference_loss", "aspect_ratio", "parallel_streams",
    "vocab_params", "characters", "normalized_loss", "experts", "granularity",
)  # fmt: skip
# kept as str, never parsed; ``run`` is a training run's id (several rows of one run are its
# checkpoints: same params, growing tokens), text or integers alike ('007' stays '007')
CATEGORICAL_COLUMNS = frozenset({"group", "run", "problem", "model", "answer"})
SCALE_COLUMNS = ("params", "tokens", "flops")
TARGET_COLUMNS = ("loss", "accuracy", "correct", "answer")
# the scale columns and the loss, which nearly every fit reads (a loss law as its target, a link as
# its input): a bad value there is fixed in the file, and read_runs offers exclude= only for the
# other columns it picks up by their names (accuracy and correct included: only some laws read them)
CORE_COLUMNS = SCALE_COLUMNS + ("loss",)
# raw counts below these look like a column written in millions or billions (7.0 meaning 7B):
# read_runs warns (UnitsWarning). No real language-model run has under 10,000 parameters, a
# million training tokens or 1e10 training FLOPs (6 x 1e4 x 1e6 = 6e10).
UNIT_FLOORS = {"params": 1e4, "tokens": 1e6, "flops": 1e10}
POSITIVE_COLUMNS = frozenset({
    "params", "tokens", "flops", "loss", "samples", "inference_tokens", "queries", "hidden_size",
    "n_layers", "ffn_size", "n_heads", "n_kv_heads", "vocab_size", "seq_len", "unique_tokens",
    "d_over_sqrt_n", "mlp_attention_ratio", "reference_loss", "aspect_ratio",
    "vocab_params", "characters", "granularity",
})  # fmt: skip
_CANON = frozenset(CANONICAL_COLUMNS)
_SUFFIX_EXP = {"k": 3, "m": 6, "b": 9, "g": 9, "t": 12}
_SPECIAL = {"": np.nan, "nan": np.nan, "na": np.nan, "n/a": np.nan, "null": np.nan,
            "none": np.nan, "inf": np.inf, "+inf": np.inf, "-inf": -np.inf,
            "infinity": np.inf, "+infinity": np.inf, "-infinity": -np.inf}  # fmt: skip
# A number with optional thousands separators and exponent, then an optional K/M/B/G/T suffix.
_NUMBER_RE = (r"^([+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+))"
              r"(?:[eE]([+-]?\d+))?\s*([kKmMbBgGtT])?$")  # fmt: skip


def _fmt(value: Any) -> str:
    """A value as messages show it: numbers plainly (5.76e+23, -3.2), text quoted."""
    if isinstance(value, (bool, np.bool_, int, np.integer)):
        return str(value if isinstance(value, (bool, np.bool_)) else int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return repr(str(value)) if isinstance(value, str) else repr(value)


def _freeze(a: np.ndarray) -> np.ndarray:
    """A read-only view; the caller's array keeps its own flags."""
    v = a.view()
    v.flags.writeable = False
    return v


@dataclasses.dataclass(frozen=True)
class _Where:
    """Where values came from, for messages: the source, the user's names, the row ids."""

    source: str
    origin: Mapping[str, str]
    row_ids: np.ndarray | None = None

    def row(self, i: int) -> tuple[int, str]:
        r = int(i if self.row_ids is None else self.row_ids[i])
        lines = self.source.lower().endswith((".csv", ".tsv"))  # header on line 1
        return r, f"row {r} (line {r + 2})" if lines else f"row {r}"

    def col(self, name: str) -> str:
        user = self.origin.get(name, name)
        return f"column '{name}'" + (f" (mapped from '{user}')" if user != name else "")

    def error(self, name: str, i: int, rule: str, value: Any, what: str, why: str) -> DataError:
        r, rtext = self.row(i)
        return DataError(f"{self.source}: {self.col(name)}, {rtext}: value {_fmt(value)} {what}; "
                         f"{why}.", source=self.source, column=name, row=r, rule=rule, value=value)


@dataclasses.dataclass(frozen=True, eq=False)
class Runs:
    """A validated, immutable table of runs under canonical column names.

    Build it with :func:`read_runs`. The constructor only normalises dtypes (float64, or str
    objects for ``group``/``run``/``problem``/``model``/``answer``) and freezes the arrays; it does not validate
    values. ``row_ids`` holds each row's original 0-based data row and survives :meth:`select`;
    ``origin`` maps canonical names to the user's column names; ``notes`` records what was
    derived or dropped; ``extra`` names the non-canonical numeric columns kept for custom laws
    (``read_runs(..., extra=("x", "y"))``).
    """

    columns: Mapping[str, np.ndarray]
    source: str = "<Runs>"
    notes: tuple[str, ...] = ()
    row_ids: np.ndarray | None = None
    origin: Mapping[str, str] = dataclasses.field(default_factory=dict)
    extra: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        given, cols, n = dict(self.columns), {}, None
        extra = tuple(self.extra)
        for name in given:
            if name not in extra:
                _check_canonical(name, self.source)
        for name in [c for c in CANONICAL_COLUMNS if c in given] + [c for c in extra if c in given]:
            a = np.asarray(given[name])
            if name in CATEGORICAL_COLUMNS:
                a = a if a.dtype == object else a.astype(str).astype(object)
            a = a if name in CATEGORICAL_COLUMNS else a.astype(np.float64, copy=False)
            if a.ndim != 1 or (n is not None and len(a) != n):
                raise ValueError(f"Runs: column {name!r} has shape {a.shape}; every column must "
                                 f"be 1-D with one value per row ({n})")
            cols[name], n = _freeze(a), len(a)
        ids = np.asarray(np.arange(n or 0) if self.row_ids is None else self.row_ids, np.int64)
        if ids.ndim != 1 or (n is not None and len(ids) != n):
            raise ValueError(f"Runs: row_ids has shape {ids.shape}, expected ({n},)")
        object.__setattr__(self, "columns", MappingProxyType(cols))
        object.__setattr__(self, "row_ids", _freeze(ids))
        object.__setattr__(self, "notes", tuple(self.notes))
        object.__setattr__(self, "origin", MappingProxyType(dict(self.origin)))
        object.__setattr__(self, "extra", tuple(c for c in extra if c in cols))

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

    def select(self, mask_or_indices: Any) -> Runs:
        """The rows picked by a boolean mask or integer indices, as a new :class:`Runs`.

        ``row_ids`` follow the rows, so messages still name the original rows; notes are kept."""
        idx = np.asarray(mask_or_indices)
        if idx.dtype == bool:
            if idx.shape != (len(self),):
                raise ValueError(f"select: mask has shape {idx.shape}, expected ({len(self)},)")
            idx = np.flatnonzero(idx)
        elif idx.size == 0:
            idx = idx.astype(np.intp)
        elif idx.dtype.kind not in "iu":
            raise TypeError(f"select: expected a boolean mask or integer indices, got {idx.dtype}")
        cols = {k: v[idx] for k, v in self.columns.items()}
        return dataclasses.replace(self, columns=cols, row_ids=self.row_ids[idx])

    def drop_highest(self, column: str, k: int) -> Runs:
        """Drop the ``k`` rows with the largest ``column`` values, Epoch's convention: keep the
        rows with ``value < sorted(values)[-k]`` (ties at the cut all go; the note says so)."""
        values, k, n = self[column], operator.index(k), len(self)
        if column in CATEGORICAL_COLUMNS or not 0 <= k <= n:
            raise ValueError(f"drop_highest: needs a numeric column and 0 <= k <= {n}; "
                             f"got {column!r}, k={k}")
        if k == 0:
            return self
        cut = np.partition(values, n - k)[n - k]  # == sorted(values)[-k]
        out = self.select(values < cut)
        gone = n - len(out)
        ties = f" ({gone - k} more than {k} because of ties)" if gone != k else ""
        note = (f"dropped the {gone} row(s) with the highest {column} ({column} >= {cut:.6g})"
                f"{ties}: kept {column} < sorted({column})[-{k}] (Epoch's convention)")
        return dataclasses.replace(out, notes=out.notes + (note,))

    def with_columns(self, **arrays: Any) -> Runs:
        """A new :class:`Runs` with columns added or replaced, parsed and validated as
        :func:`read_runs` does (canonical names only, one value per row)."""
        cols, origin = dict(self.columns), dict(self.origin)
        where = _Where(self.source, {}, self.row_ids)
        for name, values in arrays.items():
            _check_canonical(name, self.source)
            values = values if isinstance(values, pd.Series) else _asarray(values)
            if values.shape != (len(self),):
                raise ValueError(f"with_columns: {name!r} has shape {values.shape}, "
                                 f"expected ({len(self)},)")
            cols[name] = _parse_column(name, values, where, copy=True)[0]
            origin.pop(name, None)
        return dataclasses.replace(self, columns=cols, origin=origin)

    def data_hash(self) -> str:
        """sha256 (hex) of the columns: sorted names, then float64 little-endian bytes or UTF-8
        text (NUL-separated). Stable across processes and platforms; ignores notes, row_ids."""
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
            raise LawError(
                f"law '{law}' needs column(s) {', '.join(repr(n) for n in missing)} which "
                f"{self.source} lacks; available: {', '.join(self.names) or 'none'}. Map a "
                f"column of yours with columns={{'{missing[0]}': 'Your Column'}}.",
                source=self.source, column=missing[0], rule="missing column")


# --------------------------------------------------------------------------- parsing values
def _check_canonical(name: Any, source: str, hint: str = "") -> None:
    if name not in _CANON:
        raise DataError(f"{source}: {name!r} is not a canonical column name{hint}; canonical "
                        f"names are: {', '.join(CANONICAL_COLUMNS)}.", source=source,
                        column=str(name), rule="unknown canonical column", value=name)


def _asarray(values: Any) -> np.ndarray:
    try:
        return np.asarray(values)
    except ValueError:  # ragged nested lists
        return np.asarray(list(values), dtype=object)


def _numpy(values: Any) -> np.ndarray:
    """A column as a numpy array, without a copy where possible (pandas NA -> NaN or None)."""
    if not isinstance(values, pd.Series):
        return values
    if isinstance(values.dtype, np.dtype):
        return values.to_numpy()
    if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    return values.to_numpy(dtype=object, na_value=None)


def _parse_text(text: pd.Series, allow_bool: bool) -> tuple[np.ndarray, np.ndarray]:
    """Parse stripped strings that float() rejects ('1,000', '1.3B', '300M', 'true', 'n/a').

    Returns (values, unparseable mask). A suffix adds to the decimal exponent, so '1.3B' is
    exactly float('1.3e9'), not 1.3 * 1e9."""
    text = text.reset_index(drop=True)
    low = text.str.lower()
    out = np.full(len(text), np.nan)
    done = low.isin(_SPECIAL.keys()).to_numpy()
    out[done] = low[done].map(_SPECIAL).to_numpy(dtype=np.float64)
    if allow_bool:
        tf = low.isin(("true", "false")).to_numpy()
        out[tf], done = (low[tf] == "true").to_numpy(dtype=np.float64), done | tf
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


def _floats(chunk: np.ndarray) -> np.ndarray:
    """Numeric text to float64, correctly rounded: Arrow's parser (fast) where it takes the
    chunk, else float() per cell. Raises ValueError/TypeError on anything else."""
    if _pa is not None:
        try:
            arr = _pa.array(chunk, type=_pa.string(), from_pandas=True)
            return _pc.cast(arr, _pa.float64()).to_numpy(zero_copy_only=False)
        except (_pa.ArrowInvalid, _pa.ArrowTypeError):
            pass
    return chunk.astype(np.float64)


_FLOAT_MAX = int(np.finfo(np.float64).max)


def _parse_objects(raw: np.ndarray, name: str, where: _Where) -> tuple[np.ndarray, int]:
    """Text or mixed cells to float64; returns (values, number of cells parsed from text).

    float() semantics first ('1.5e9', ' 3e20 ': exact), chunk by chunk, so that only the chunks
    holding a '1.3B' or '1,000' take the slower vectorised text path."""
    out, todo, step = np.empty(len(raw)), [], 1 << 16
    for lo in range(0, len(raw), step):
        try:
            out[lo:lo + step] = _floats(raw[lo:lo + step])
        except (ValueError, TypeError, OverflowError):
            todo.append(np.arange(lo, min(lo + step, len(raw))))
    if not todo:
        return out, 0
    todo = np.concatenate(todo)
    sub = pd.Series(raw[todo].astype(object), copy=False)
    try:
        num = pd.to_numeric(sub, errors="coerce")
    except OverflowError:  # an integer beyond float64 (e.g. 10**400 from JSON)
        j = next((int(j) for j in todo if isinstance(raw[j], (int, np.integer)) and abs(int(raw[j])) > _FLOAT_MAX),
                 None)
        if j is None:
            raise
        digits = str(abs(int(raw[j])))
        raise where.error(name, j, "number out of float64 range", f"{digits[0]}.{digits[1:4]}e+{len(digits) - 1}",
                          "is beyond float64's range (about 1.8e308)", "check its units") from None
    num = num.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    again = np.flatnonzero(np.isnan(num) & sub.notna().to_numpy())  # None stays NaN: missing
    vals, bad = _parse_text(sub.iloc[again].astype(str).str.strip(), name == "correct")
    if bad.any():
        i = int(todo[again[np.argmax(bad)]])
        raise where.error(name, i, "unparseable number", raw[i], "is not a number",
                          "write plain numbers (1.5e9, 1,000) or use a K/M/B/G/T suffix "
                          f"(1.3B = 1.3e9, 300M, 2T){' or true/false' * (name == 'correct')}")
    num[again] = vals
    out[todo] = num
    return out, int(again.size)


def _parse_column(name: str, values: Any, where: _Where, *, copy: bool) -> tuple[np.ndarray, int]:
    """One user column to its canonical array, validated; returns (array, cells parsed from
    text). ``copy``: copy numeric arrays the caller still owns (a user's DataFrame or dict)."""
    raw = _numpy(values)
    if raw.ndim != 1:
        raise DataError(f"{where.source}: {where.col(name)} has shape {raw.shape}; expected one "
                        "value per row.", source=where.source, column=name, rule="not 1-D")
    if name in CATEGORICAL_COLUMNS:
        text = raw.dtype == object and pd.api.types.infer_dtype(raw, skipna=False) == "string"
        labels = raw if text else raw.astype(str).astype(object)
        missing = pd.isna(raw) | (labels == "") if raw.dtype.kind in "OUS" else pd.isna(raw)
        if missing.any():
            i = int(np.argmax(missing))
            raise where.error(name, i, "missing or non-finite value", raw[i], "is missing",
                              f"every row needs a {name} label")
        return labels, 0
    slow = 0
    if raw.dtype.kind == "b" and name == "correct":
        arr = raw.astype(np.float64)
    elif raw.dtype.kind in "fiu":
        arr = raw.astype(np.float64, copy=copy)
    elif raw.dtype.kind in "OUS":
        arr, slow = _parse_objects(raw, name, where)
    else:
        raise where.error(name, 0, "unparseable number", raw[0], f"has type {raw.dtype}, "
                          "not a number", "only 'correct' takes true/false; give numbers")
    _check_values(name, arr, where, raw)
    return arr, slow


_RANGE_RULES = {  # name -> (is_bad, rule, what, why); POSITIVE_COLUMNS get "not positive"
    "accuracy": (lambda a: (a < 0) | (a > 1), "accuracy outside [0, 1]", "is outside [0, 1]",
                 "accuracy is a fraction (0.42, not 42%)"),
    "correct": (lambda a: (a != 0) & (a != 1), "correct not 0/1", "is not 0 or 1",
                "correct must be 0/1 or true/false"),
    "weight": (lambda a: a < 0, "negative weight", "is negative", "weight must be >= 0"),
    "parallel_streams": (lambda a: a < 1, "parallel streams below 1", "is below 1",
                         "parallel_streams counts streams P >= 1"),
    "experts": (lambda a: a < 1, "experts below 1", "is below 1",
                "experts counts experts E >= 1 (E = 1 is the dense model)"),
}


def _check_values(name: str, arr: np.ndarray, where: _Where, raw: np.ndarray) -> None:
    """Raise for the first non-finite value, then for the first value breaking the range rule."""
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.argmax(bad))
        raise where.error(name, i, "missing or non-finite value", raw[i], "is missing or not "
                          "finite", "every value in a used column must be a finite number "
                          "(nothing is dropped or filled in silently)")
    rule = _RANGE_RULES.get(name)
    if name in POSITIVE_COLUMNS:
        rule = (lambda a: a <= 0, "not positive", "is not positive",
                "params, tokens, flops, loss and every count or size must be > 0")
    if rule is not None and (bad := rule[0](arr)).any():
        i = int(np.argmax(bad))
        raise where.error(name, i, rule[1], raw[i] if raw.dtype.kind in "OUS" else arr[i],
                          rule[2], rule[3])


# --------------------------------------------------------------------------- sources
# A source is (label, column names, load(wanted, text_columns) -> ({name: values}, n), owned);
# owned: the arrays loaded are ours (read from a file), so numeric columns need no copy.
def _frame(df: pd.DataFrame, label: str, owned: bool):
    def load(wanted, text):
        for c in wanted:
            if (df.columns == c).sum() > 1:
                raise DataError(f"{label}: column name {c!r} appears more than once.",
                                source=label, column=str(c), rule="duplicate column name")
        return {c: df[c] for c in wanted}, len(df)
    return label, list(df.columns), load, owned


def _dict(data: Mapping, label: str):
    def load(wanted, text):
        cols = {c: data[c] if isinstance(data[c], pd.Series) else _asarray(data[c])
                for c in wanted}
        n = len(cols[wanted[0]]) if np.ndim(cols[wanted[0]]) == 1 else None
        for c, v in cols.items():
            if np.ndim(v) != 1 or len(v) != n:
                raise DataError(f"{label}: column {c!r} has shape {np.shape(v)}; every column "
                                "must be a 1-D sequence, all of one length.", source=label,
                                column=str(c), rule="ragged columns", value=np.shape(v))
        return cols, n
    return label, list(data.keys()), load, False


def _file(path: Path, label: str):
    suffix = path.suffix.lower()
    if not path.is_file():
        raise DataError(f"{label}: no such file.", source=label, rule="file not found")
    if suffix in (".csv", ".tsv"):
        sep = "\t" if suffix == ".tsv" else ","

        def load(wanted, text):  # labels stay text ('007' is not 7)
            for c in wanted:  # pandas renames a repeated header 'loss' to 'loss.1': ask, not guess
                if header.count(c) > 1:
                    raise DataError(f"{label}: column name {c!r} appears {header.count(c)} times in the "
                                    "header; rename them so that the column to read is unambiguous.",
                                    source=label, column=str(c), rule="duplicate column name", value=c)
            # No usecols: with it pandas silently drops extra fields of a malformed line.
            # index_col=False: a trailing delimiter must not shift the columns; lost data
            # (ParserWarning) is an error.
            with warnings.catch_warnings():
                warnings.simplefilter("error", pd.errors.ParserWarning)
                df = pd.read_csv(path, sep=sep, index_col=False, low_memory=False,
                                 dtype=dict.fromkeys(text, str))
            return {c: df[c] for c in wanted}, len(df)
        names = pd.read_csv(path, sep=sep, index_col=False, nrows=0).columns.tolist()
        with open(path, newline="", encoding="utf-8") as f:
            header = next(csv.reader(f, delimiter=sep), [])
        return label, names, load, True
    if suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise DataError(f"{label}: reading parquet needs pyarrow (pip install "
                            "'scalinglaws[parquet]').", source=label, rule="unreadable file")

        def load(wanted, text):
            df = pd.read_parquet(path, columns=list(wanted))
            return {c: df[c] for c in wanted}, len(df)
        return label, list(pq.read_schema(path).names), load, True
    if suffix in (".jsonl", ".ndjson"):
        try:
            df = pd.read_json(path, lines=True, dtype=False, precise_float=True)
        except ValueError:  # e.g. an integer beyond 64 bits; Python's json reads any number
            with open(path, encoding="utf-8") as f:
                df = pd.DataFrame.from_records([json.loads(ln) for ln in f if ln.strip()])
        return _frame(df, label, owned=True)
    if suffix == ".json":
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if isinstance(data, list) and all(isinstance(r, dict) for r in data):
            return _frame(pd.DataFrame.from_records(data), label, owned=True)
        if isinstance(data, dict) and all(isinstance(v, list) for v in data.values()):
            return _dict(data, label)
        raise DataError(f"{label}: expected a list of records [{{...}}, ...] or an object of "
                        "column lists {\"col\": [...]}.", source=label, rule="unreadable file")
    raise DataError(f"{label}: unsupported file type {suffix or '(none)'!r}; use .csv, .tsv, "
                    ".parquet, .jsonl/.ndjson or .json.", source=label,
                    rule="unsupported file type")


@contextlib.contextmanager
def _reading(label: str):
    """Turn I/O and parser failures into a DataError naming the file."""
    try:
        yield
    except pd.errors.EmptyDataError:
        raise DataError(f"{label}: the file is empty (no header, no rows).", source=label,
                        rule="no rows") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.ParserWarning,
            json.JSONDecodeError) as e:
        raise DataError(f"{label}: cannot read the file: {' '.join(str(e).split())}",
                        source=label, rule="unreadable file") from e


def _open(source: Any):
    if isinstance(source, pd.DataFrame):
        return _frame(source, "<DataFrame>", owned=False)
    if isinstance(source, Mapping):
        return _dict(source, "<dict>")
    if isinstance(source, (str, Path)):
        with _reading(str(source)):
            return _file(Path(source), str(source))
    raise TypeError("read_runs: expected a file path, a pandas DataFrame or a dict of arrays, "
                    f"got {type(source).__name__}")


# --------------------------------------------------------------------------- read_runs
def _choose(names: list, mapping: Mapping, label: str, exclude: frozenset = frozenset()) -> dict[str, Any]:
    """canonical name -> user column: the explicit mapping, then columns named canonically (less
    those in ``exclude``)."""
    chosen: dict[str, Any] = {}
    for canon, user in mapping.items():
        hint = (" (columns= maps canonical name -> your column name: did you mean "
                f"{{{user!r}: {canon!r}}}?)") if canon not in _CANON and user in _CANON else ""
        _check_canonical(canon, label, hint)
        if user not in names:
            # headers written 'x, y' carry the space: ' y' is meant by 'y' (and a shell strips it)
            spaced = [c for c in names if isinstance(c, str) and c.strip() == str(user).strip()]
            if len(spaced) == 1:
                chosen[canon] = spaced[0]
                continue
            near = [c for c in names if str(c).strip().lower() == str(user).strip().lower()]
            raise DataError(
                f"{label}: column {user!r} (given for '{canon}') is not in the data"
                f"{f' (did you mean {near[0]!r}?)' if near else ''}; its columns are: "
                f"{', '.join(repr(c) for c in names)}.",
                source=label, column=canon, rule="missing column", value=user)
        chosen[canon] = user
    taken = set(mapping.values()) | set(chosen.values())
    for c in names:
        name = c.strip() if isinstance(c, str) else c
        if name in _CANON and name not in chosen and c not in taken and name not in exclude:
            chosen[name] = c
    return {c: chosen[c] for c in CANONICAL_COLUMNS if c in chosen}


def _derive(cols: dict, notes: list, where: _Where) -> None:
    """With exactly two of params/tokens/flops, compute the third from C = 6ND in float64."""
    if sum(c in cols for c in SCALE_COLUMNS) != 2:
        return
    n, d, c = cols.get("params"), cols.get("tokens"), cols.get("flops")
    with np.errstate(over="ignore", under="ignore"):
        if c is None:
            name, formula, value = "flops", "6 * params * tokens", 6.0 * n * d
        elif d is None:
            name, formula, value = "tokens", "flops / (6 * params)", c / (6.0 * n)
        else:
            name, formula, value = "params", "flops / (6 * tokens)", c / (6.0 * d)
    if (bad := ~(np.isfinite(value) & (value > 0))).any():  # over- or underflow
        i = int(np.argmax(bad))
        raise where.error(name, i, "derived value out of range", value[i], f"(derived as "
                          f"{formula}) is outside float64's range", "check the units of params, "
                          "tokens and flops")
    cols[name] = value
    notes.append(f"{name} derived as {formula} (C = 6ND)")


def _duplicate_groups(arrays: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(rows, ids): the rows whose key tuple occurs more than once and an exact group id for each,
    or None. A 64-bit row hash and one sort find candidates in O(n log n) without a 10-million
    entry hash table; the exact grouping runs on the candidates only."""
    h = np.zeros(n, dtype=np.uint64)
    for a in arrays:
        h = h * np.uint64(0x100000001B3) ^ pd.util.hash_array(a)
    s = np.sort(h)
    rows = np.flatnonzero(np.isin(h, s[1:][s[1:] == s[:-1]]))
    if not rows.size:
        return None
    gid = np.zeros(len(rows), dtype=np.int64)
    for a in arrays:
        codes, uniq = pd.factorize(a[rows])
        gid = pd.factorize(gid * len(uniq) + codes)[0]
    keep = np.bincount(gid)[gid] > 1  # hash collisions fall out here
    return (rows[keep], gid[keep]) if keep.any() else None


def _check_duplicates(cols: dict, where: _Where) -> None:
    """Same inputs but different targets -> DataError; exact repeats -> UserWarning (kept).

    The inputs (keys) are every column except the targets and ``weight``, so any column that
    tells runs apart (seed, sample_index, unique_tokens, ...) counts."""
    keys = [c for c in cols if c not in TARGET_COLUMNS and c != "weight"]
    n = len(next(iter(cols.values())))
    found = _duplicate_groups([cols[k] for k in keys], n) if keys and n > 1 else None
    if found is None:
        return
    rows, gid = found
    order = np.lexsort((rows, gid))  # grouped; file order inside each group
    rows, gid = rows[order], gid[order]
    start = np.r_[True, gid[1:] != gid[:-1]]
    first = rows[np.maximum.accumulate(np.where(start, np.arange(len(rows)), 0))]
    show = ", ".join(f"{k}={{}}" for k in keys[:6]) + (", ..." if len(keys) > 6 else "")
    for t in (c for c in TARGET_COLUMNS if c in cols):
        v = cols[t]
        clash = np.flatnonzero(~start & (v[rows] != v[first]))
        if clash.size:
            j = clash[np.argmin(rows[clash])]
            a, b = first[j], rows[j]
            same = show.format(*(_fmt(cols[k][b]) for k in keys[:6]))
            raise DataError(
                f"{where.source}: {where.row(a)[1]} and {where.row(b)[1]} are the same run "
                f"({same}) but differ in {where.col(t)}: {_fmt(v[a])} vs {_fmt(v[b])}; "
                "duplicated runs with conflicting values are ambiguous. Remove or fix one, or add "
                "a column that tells them apart (seed for repeated training runs, sample_index "
                "for repeated samples, group for several datasets or model families).", source=where.source, column=t, row=where.row(b)[0],
                rule="duplicated run with conflicting values", value=v[b])
    later = np.argsort(rows[~start], kind="stable")
    pairs = list(zip(first[~start][later], rows[~start][later]))
    shown = "; ".join(f"{where.row(b)[1]} repeats {where.row(a)[1]}" for a, b in pairs[:5])
    warnings.warn(
        f"{where.source}: {len(pairs)} row(s) exactly repeat an earlier row (same "
        f"{', '.join(keys)} and targets): {shown}{'; ...' * (len(pairs) > 5)}. They are kept "
        "and each counts in a fit; remove them if they are accidental copies.",
        UserWarning, stacklevel=3)


def read_runs(source: Any, columns: Mapping[str, Any] | None = None, *,
              derive: bool = True, extra: Iterable[str] = (), exclude: Iterable[str] = ()) -> Runs:
    """Read run logs into a validated :class:`Runs`.

    Args:
        source: a path (``str`` or ``Path``) to a .csv, .tsv, .parquet, .jsonl/.ndjson or .json
            file (a list of records, or an object of column lists); a pandas DataFrame; or a
            dict mapping column name -> sequence.
        columns: canonical name -> your column name, e.g.
            ``{"params": "Model Size", "flops": "Training FLOP"}``. Columns already named
            canonically are picked up too; all other columns are ignored.
        derive: with exactly two of params/tokens/flops, compute the third from C = 6ND and
            say so in ``notes``.
        exclude: canonical names *not* to pick up from columns that happen to be named so (e.g. an
            ``n_layers`` column with gaps that the fit does not need); mapped columns stay.
        extra: non-canonical column names to keep as well (the inputs and target of a custom
            law, e.g. ``("x", "y")``): parsed as numbers and checked finite, nothing more. With
            extra columns the duplicated-run check is skipped (a custom table has no notion of
            a run).

    Numbers may be written '1.5e9', ' 3e20 ', '1,000' or with a K/M/B/G/T suffix ('1.3B',
    '300M', '2T'; any case); ``correct`` also takes true/false. Numeric columns become float64;
    ``group``, ``run``, ``problem``, ``model`` and ``answer`` stay text. ``run`` names the training
    run a row comes from, so that the rows of one run are its checkpoints (``seed`` tells repeated
    runs of one configuration apart); see :mod:`scalinglaws.fitting.checkpoints`.

    Raises:
        DataError: naming the file, column, row (and CSV line), rule and value: an unknown
            canonical name, a missing column, an unparseable, missing, non-finite or
            out-of-range value, runs duplicated with conflicting targets, no rows.

    From a dict (flops follow from C = 6ND, and the notes say so):

    >>> runs = read_runs({"params": [1e8, 4e8], "tokens": ["2B", "8B"], "loss": [3.1, 2.8]})
    >>> len(runs), runs.names
    (2, ('params', 'tokens', 'flops', 'loss'))
    >>> runs["flops"].tolist()
    [1.2e+18, 1.92e+19]
    >>> runs.notes[-1]
    'flops derived as 6 * params * tokens (C = 6ND)'

    From your own column names (a file works the same way, e.g. Epoch's
    ``svg_extracted_data.csv``):

    >>> table = {"Model Size": [7e10], "Training FLOP": [5.88e23], "loss": [1.94]}
    >>> read_runs(table, columns={"params": "Model Size", "flops": "Training FLOP"})["tokens"].tolist()
    [1400000000000.0]
    >>> read_runs("svg_extracted_data.csv", columns={"params": "Model Size", "flops": "Training FLOP"})  # doctest: +SKIP
    """
    if columns is not None and not isinstance(columns, Mapping):
        raise TypeError("read_runs: columns= must map canonical name -> your column name, "
                        f"got {type(columns).__name__}")
    label, names, load, owned = _open(source)
    exclude = frozenset(str(c) for c in ([exclude] if isinstance(exclude, str) else exclude))
    for c in exclude:
        _check_canonical(c, label, " (exclude= takes canonical names)")
    chosen = _choose(names, dict(columns or {}), label, exclude)
    extra = tuple(dict.fromkeys(str(c) for c in extra if c not in _CANON))
    for c in extra:
        if c not in names:
            raise DataError(f"{label}: column {c!r} is not in the data; its columns are: "
                            f"{', '.join(repr(c) for c in names)}.", source=label, column=c,
                            rule="missing column", value=c)
        chosen[c] = c
    if not extra and not any(c in chosen for c in SCALE_COLUMNS + TARGET_COLUMNS):
        norm = {str(c).strip().lower().replace(" ", "_"): c for c in names}
        near = {c: norm[c] for c in CANONICAL_COLUMNS if c in norm and c not in chosen}
        raise DataError(
            f"{label}: nothing to work with: read_runs needs at least one of params, tokens, "
            f"flops (model scale) or loss, accuracy, correct (a target) and found "
            f"{', '.join(chosen) or 'no canonical column'}"
            f"{f' (did you mean columns={near!r}?)' if near else ''}. The data's columns are: "
            f"{', '.join(repr(c) for c in names)}; map yours with e.g. "
            "columns={'params': 'Model Size', 'loss': 'Final Loss'}.",
            source=label, rule="no usable columns")
    text = {u for c, u in chosen.items() if c in CATEGORICAL_COLUMNS}
    with _reading(label):
        data, n = load(list(dict.fromkeys(chosen.values())), text)
    if n == 0:
        raise DataError(f"{label}: no rows (only a header); read_runs needs at least one run.",
                        source=label, rule="no rows")
    where = _Where(label, {c: str(u) for c, u in chosen.items()})
    cols, notes = {}, []
    mapped = set(dict(columns or {}))
    for canon, user in chosen.items():
        try:
            cols[canon], slow = _parse_column(canon, data[user], where, copy=not owned)
        except DataError as e:
            if canon in mapped or canon in extra:
                raise
            raise _named_only_error(e, canon, chosen, data, where, skip=mapped | set(extra)) from None
        if slow:
            notes.append(f"{canon}: {slow} value(s) parsed from text such as '1,000', '1.3B' "
                         "(= 1.3e9) or 'true'")
    _check_units(cols, where)
    _check_6nd(cols, where)
    if not extra:
        _check_duplicates(cols, where)
    if derive:
        _derive(cols, notes, where)
    return Runs(cols, source=label, notes=tuple(notes), origin=where.origin, extra=extra)


def _named_only_error(e: DataError, canon: str, chosen: Mapping[str, Any], data: Mapping, where: _Where,
                      skip: set) -> DataError:
    """``e`` for a column read only because it is named canonically, with what to do about it: leave
    it out (``exclude=``) unless it is a core column (scale or target), whose bad rows need fixing;
    every other canonically named column that would fail too is named at once."""
    others = _failing(chosen, data, where, skip=skip | {canon})
    core = [c for c in [canon] + others if c in CORE_COLUMNS]
    optional = [c for c in [canon] + others if c not in CORE_COLUMNS]
    parts = [e.message, f"The column was read because it is named '{canon}'."]
    if canon in CORE_COLUMNS:
        parts.append(f"'{canon}' is a core column (one of {', '.join(CORE_COLUMNS)}) that fits read, so "
                     f"fix or remove the bad row(s) in {where.source} rather than leaving the column out.")
    if len(core) > 1 or (core and canon not in CORE_COLUMNS):
        fix = [c for c in core if c != canon]
        parts.append(f"{'Other ' if canon in CORE_COLUMNS else ''}core column(s) "
                     f"{', '.join(repr(c) for c in fix)} fail too and need fixing in the file as well.")
    if optional:
        them = "them" if len(optional) > 1 else "it"
        lead = (f"Other columns read for their names fail too: {', '.join(repr(c) for c in optional)}"
                if canon in CORE_COLUMNS else
                (f"Other columns read for their names fail too: {', '.join(repr(c) for c in optional[1:])}"
                 if len(optional) > 1 else ""))
        parts.append((lead + ". " if lead else "") + f"If you do not need {them}, leave {them} out with "
                     f"read_runs(..., exclude=[{', '.join(repr(c) for c in optional)}]) "
                     f"(CLI: {' '.join('--exclude ' + c for c in optional)}).")
    return DataError(" ".join(parts), source=e.source, column=e.column, row=e.row, rule=e.rule, value=e.value)


def _power(x: float) -> str:
    """1e4 -> '1e4' (a power of ten as written in prose)."""
    return f"1e{int(round(np.log10(x)))}"


def _check_units(cols: Mapping[str, np.ndarray], where: _Where) -> None:
    """Warn when a scale column given by the user holds only values below its floor in
    :data:`UNIT_FLOORS`: it looks written in millions or billions (7.0 meaning 7B)."""
    for name, floor in UNIT_FLOORS.items():
        a = cols.get(name)
        if a is None or not len(a) or (top := float(np.max(a))) >= floor:
            continue
        i = int(np.argmax(a))
        user = where.origin.get(name, name)
        unit = {"params": "parameters", "tokens": "tokens", "flops": "FLOPs"}[name]
        warnings.warn(
            f"{where.source}: {where.col(name)}: every value is below {_power(floor)} (the largest, {_fmt(top)}, is in "
            f"{where.row(i)[1]}), not a plausible number of {unit}: the column looks written in millions, billions "
            f"or trillions ({_fmt(top)} meaning {top:g}B?). read_runs takes raw counts (C = 6ND and published "
            f"coefficients assume them): multiply the column by its unit (1e6, 1e9 or 1e12) before reading (in "
            f"pandas: df[{user!r}] *= 1e9, then read_runs(df, ...)) or write the values with a suffix "
            f"('{top:g}B'). Rule: {name} < {_power(floor)}.", UnitsWarning, stacklevel=3)


def _check_6nd(cols: Mapping[str, np.ndarray], where: _Where) -> None:
    """Warn when params, tokens and flops are all given and flops is off 6 * params * tokens by
    more than a factor of ten in some row (units that differ, or a whole run's FLOPs beside a
    checkpoint's tokens); C = 6ND counts every run's compute within tens of percent."""
    if not all(c in cols for c in SCALE_COLUMNS) or not len(cols["flops"]):
        return
    n, d, c = cols["params"], cols["tokens"], cols["flops"]
    with np.errstate(all="ignore"):
        off = np.abs(np.log10(c) - np.log10(6.0 * n) - np.log10(d))
    if not (bad := off > 1.0).any():
        return
    i = int(np.argmax(off))
    ratio = float(c[i] / (6.0 * n[i] * d[i]))
    warnings.warn(
        f"{where.source}: {where.col('flops')} disagrees with 6 * params * tokens (C = 6ND) by more than a factor "
        f"of 10 in {int(bad.sum())} of {len(c)} rows; the most in {where.row(i)[1]}: flops {_fmt(float(c[i]))} vs "
        f"6ND {_fmt(float(6.0 * n[i] * d[i]))} (ratio {ratio:.3g}). Check the three columns' units, or whether "
        f"flops is the whole run's while tokens is a checkpoint's; exclude=['flops'] (CLI: --exclude flops) derives "
        f"it from params and tokens. Rule: |log10(flops / 6ND)| <= 1.", UnitsWarning, stacklevel=3)


def _failing(chosen: Mapping[str, Any], data: Mapping, where: _Where, skip: set) -> list[str]:
    """The canonically named columns (not in ``skip``) whose values would not pass validation."""
    out = []
    for canon, user in chosen.items():
        if canon in skip:
            continue
        try:
            _parse_column(canon, data[user], where, copy=True)
        except DataError:
            out.append(canon)
    return out


def pooled_groups(runs: Runs, fitted: str) -> str | None:
    """A sentence when ``runs`` hold several labels in column ``group`` (datasets, model families)
    that ``fitted`` (e.g. "one law was fitted") treats as one pool; None otherwise."""
    if "group" not in runs.columns:
        return None
    labels = list(dict.fromkeys(runs["group"].tolist()))
    if len(labels) < 2:
        return None
    shown = ", ".join(repr(g) for g in labels[:4]) + (", ..." if len(labels) > 4 else "")
    return f"the runs hold {len(labels)} groups in column 'group' ({shown}); {fitted} to all of them pooled"


def as_runs(data: Any, *, fn: str = "fit", extra: Iterable[str] = ()) -> Runs:
    """The one coercion of user data to :class:`Runs`, used by every function that takes runs.

    ``Runs`` pass through unchanged; a file path, a DataFrame or a mapping of arrays goes
    through :func:`read_runs`, so every value is validated the same way wherever it enters
    (errors name the column and row). ``extra`` keeps non-canonical columns (a custom law's).
    Anything else raises :class:`DataError` naming ``fn``.
    """
    if isinstance(data, Runs):
        missing = [c for c in extra if c not in data.columns and c not in _CANON]
        if missing:
            raise DataError(f"{data.source}: `{fn}` needs column(s) {missing}, which these Runs "
                            f"lack; available: {', '.join(data.names) or 'none'}.",
                            source=data.source, column=missing[0], rule="missing column")
        return data
    if isinstance(data, (str, Path, pd.DataFrame, Mapping)):
        return read_runs(data, extra=extra)
    raise DataError(f"`{fn}(runs=...)`: expected Runs (from read_runs), a file path, a DataFrame "
                    f"or a mapping of column name -> array; got {type(data).__name__}.",
                    rule="bad runs", value=type(data).__name__)
