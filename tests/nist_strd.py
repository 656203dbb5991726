"""The NIST StRD nonlinear-regression problems: a parser for the ``.dat`` files
and the 27 model functions, written in JAX for :class:`scalinglaws.laws.Custom`.

A helper module shared by ``tests/test_nist.py`` and
``benchmarks/nist_report.py``; it holds no tests. The data files are read at
run time from ``<workspace>/shared/data/nist_strd`` (see PROVENANCE.md there);
they are never copied into the repository.

Each ``.dat`` file has a fixed header whose "File Format" block gives the line
numbers (1-based) of the starting values, the certified values and the data;
the parser reads those blocks and checks them against the header's own counts
(number of parameters, number of observations).

Scoring follows the StRD convention: the log relative error
``LRE = -log10(|fitted - certified| / |certified|)``, capped at 11, is the
number of significant digits matched, per parameter.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nist_strd"

# The 27 problems, in the StRD's order (by level of difficulty, then name).
PROBLEMS: tuple[str, ...] = (
    # lower
    "Misra1a", "Chwirut2", "Chwirut1", "Lanczos3", "Gauss1", "Gauss2", "DanWood", "Misra1b",
    # average
    "Kirby2", "Hahn1", "Nelson", "MGH17", "Lanczos1", "Lanczos2", "Gauss3", "Misra1c", "Misra1d",
    "Roszman1", "ENSO",
    # higher
    "MGH09", "Thurber", "BoxBOD", "Rat42", "MGH10", "Eckerle4", "Rat43", "Bennett5",
)

LRE_CAP = 11.0

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


@dataclass(frozen=True)
class Problem:
    """One parsed StRD problem.

    ``y`` is the response the model predicts: for Nelson that is ``log(y)`` of
    the file's column (the model is ``log[y] = ...``); ``X`` maps predictor
    names (``"x"``, or ``"x1"``, ``"x2"``) to 1-D arrays.
    """

    name: str
    difficulty: str  # "Lower" | "Average" | "Higher"
    model_text: str
    param_names: tuple[str, ...]
    start1: np.ndarray
    start2: np.ndarray
    certified: np.ndarray
    certified_sd: np.ndarray
    certified_rss: float
    certified_rsd: float
    dof: int
    n_obs: int
    y: np.ndarray
    X: Mapping[str, np.ndarray] = field(repr=False)
    raw_y: np.ndarray = field(repr=False)

    @property
    def predictors(self) -> tuple[str, ...]:
        return tuple(self.X)

    def start(self, which: int) -> np.ndarray:
        if which not in (1, 2):
            raise ValueError(f"start must be 1 or 2, got {which!r}")
        return self.start1 if which == 1 else self.start2

    def data(self) -> dict[str, np.ndarray]:
        """The mapping for ``sl.fit``: predictors plus the (transformed) response ``y``."""
        return {**self.X, "y": self.y}


def _line_range(text: str, label: str, path: Path) -> tuple[int, int]:
    m = re.search(label + r"\s*\(lines\s+(\d+)\s+to\s+(\d+)\)", text)
    if not m:
        raise ValueError(f"{path}: no '{label} (lines N to M)' in the File Format block")
    return int(m.group(1)), int(m.group(2))


def _floats(s: str) -> list[float]:
    return [float(t) for t in re.findall(_NUM, s)]


def parse(path: str | Path) -> Problem:
    """Parse one StRD ``.dat`` file."""
    path = Path(path)
    text = path.read_text()
    lines = text.splitlines()
    name_m = re.search(r"Dataset Name:\s*(\S+)", text)
    if not name_m:
        raise ValueError(f"{path}: no 'Dataset Name:'")
    name = name_m.group(1)

    s_lo, s_hi = _line_range(text, "Starting Values", path)
    c_lo, c_hi = _line_range(text, "Certified Values", path)
    d_lo, d_hi = _line_range(text, "Data", path)

    # parameter rows: "  b1 =   500   250   2.3894212918E+02  2.7070075241E+00"
    names, s1, s2, cert, sd = [], [], [], [], []
    for ln in lines[s_lo - 1:s_hi]:
        m = re.match(r"\s*(b\d+)\s*=\s*(.*)$", ln)
        if not m:
            raise ValueError(f"{path}: expected a parameter row in the starting-value lines, got {ln!r}")
        vals = _floats(m.group(2))
        if len(vals) != 4:
            raise ValueError(f"{path}: parameter row {ln!r} has {len(vals)} numbers, expected 4")
        names.append(m.group(1))
        s1.append(vals[0]); s2.append(vals[1]); cert.append(vals[2]); sd.append(vals[3])

    cert_block = "\n".join(lines[c_lo - 1:c_hi])

    def field_value(label: str) -> float:
        m = re.search(label + r":\s*(" + _NUM + ")", cert_block)
        if not m:
            raise ValueError(f"{path}: no '{label}:' in the certified-value lines {c_lo}-{c_hi}")
        return float(m.group(1))

    rss = field_value("Residual Sum of Squares")
    rsd = field_value("Residual Standard Deviation")
    dof = int(field_value("Degrees of Freedom"))
    n_obs = int(field_value("Number of Observations"))

    # header checks: parameter count, observation count
    pm = re.search(r"(\d+)\s+Parameters", text)
    if pm and int(pm.group(1)) != len(names):
        raise ValueError(f"{path}: header says {pm.group(1)} parameters, parsed {len(names)}")
    om = re.search(r"(\d+)\s+Observations", text)
    if om and int(om.group(1)) != n_obs:
        raise ValueError(f"{path}: header says {om.group(1)} observations, certified block says {n_obs}")

    # column names from the line just above the data: "Data:   y    x1   x2"
    head = lines[d_lo - 2]
    hm = re.match(r"\s*Data:\s*(.*)$", head)
    if not hm:
        raise ValueError(f"{path}: line {d_lo - 1} should name the data columns, got {head!r}")
    cols = hm.group(1).split()
    rows = [_floats(ln) for ln in lines[d_lo - 1:d_hi] if ln.strip()]
    arr = np.array(rows, dtype=np.float64)
    if arr.shape != (n_obs, len(cols)):
        raise ValueError(f"{path}: data block has shape {arr.shape}, expected ({n_obs}, {len(cols)})")
    if cols[0] != "y":
        raise ValueError(f"{path}: first data column is {cols[0]!r}, expected 'y'")
    raw_y = arr[:, 0]
    X = {c: arr[:, i + 1].copy() for i, c in enumerate(cols[1:])}

    diff_m = re.search(r"(Lower|Average|Higher)\s+Level of Difficulty", text)
    difficulty = diff_m.group(1) if diff_m else "?"
    mt = re.search(r"Model:.*?Parameters[^\n]*\n(.*?)\n\s*\n\s*\n", text, flags=re.S)
    model_text = " ".join(mt.group(1).split()) if mt else ""

    log_response = model_text.lstrip().startswith("log[y]")
    y = np.log(raw_y) if log_response else raw_y.copy()

    return Problem(
        name=name, difficulty=difficulty, model_text=model_text, param_names=tuple(names),
        start1=np.array(s1), start2=np.array(s2), certified=np.array(cert), certified_sd=np.array(sd),
        certified_rss=rss, certified_rsd=rsd, dof=dof, n_obs=n_obs, y=y, X=X, raw_y=raw_y,
    )


def load(name: str, data_dir: str | Path = DATA_DIR) -> Problem:
    return parse(Path(data_dir) / f"{name}.dat")


def available(data_dir: str | Path = DATA_DIR) -> bool:
    d = Path(data_dir)
    return d.is_dir() and all((d / f"{n}.dat").is_file() for n in PROBLEMS)


# ---------------------------------------------------------------------------------------
# The models, exactly as written in each file's header (pure JAX)


def _models() -> dict[str, Callable]:
    from scalinglaws._jax import jnp

    pi = jnp.pi

    def exp1(p, X):  # Misra1a, BoxBOD
        return p["b1"] * (1.0 - jnp.exp(-p["b2"] * X["x"]))

    def chwirut(p, X):
        x = X["x"]
        return jnp.exp(-p["b1"] * x) / (p["b2"] + p["b3"] * x)

    def lanczos(p, X):
        x = X["x"]
        return p["b1"] * jnp.exp(-p["b2"] * x) + p["b3"] * jnp.exp(-p["b4"] * x) + p["b5"] * jnp.exp(-p["b6"] * x)

    def gauss(p, X):
        x = X["x"]
        return (p["b1"] * jnp.exp(-p["b2"] * x)
                + p["b3"] * jnp.exp(-((x - p["b4"]) ** 2) / p["b5"] ** 2)
                + p["b6"] * jnp.exp(-((x - p["b7"]) ** 2) / p["b8"] ** 2))

    def danwood(p, X):
        return p["b1"] * X["x"] ** p["b2"]

    def misra1b(p, X):
        return p["b1"] * (1.0 - (1.0 + p["b2"] * X["x"] / 2.0) ** (-2.0))

    def misra1c(p, X):
        return p["b1"] * (1.0 - (1.0 + 2.0 * p["b2"] * X["x"]) ** (-0.5))

    def misra1d(p, X):
        x = X["x"]
        return p["b1"] * p["b2"] * x * ((1.0 + p["b2"] * x) ** (-1.0))

    def kirby2(p, X):
        x = X["x"]
        return (p["b1"] + p["b2"] * x + p["b3"] * x ** 2) / (1.0 + p["b4"] * x + p["b5"] * x ** 2)

    def cubic_cubic(p, X):  # Hahn1, Thurber
        x = X["x"]
        return ((p["b1"] + p["b2"] * x + p["b3"] * x ** 2 + p["b4"] * x ** 3)
                / (1.0 + p["b5"] * x + p["b6"] * x ** 2 + p["b7"] * x ** 3))

    def nelson(p, X):  # predicts log(y)
        return p["b1"] - p["b2"] * X["x1"] * jnp.exp(-p["b3"] * X["x2"])

    def mgh17(p, X):
        x = X["x"]
        return p["b1"] + p["b2"] * jnp.exp(-x * p["b4"]) + p["b3"] * jnp.exp(-x * p["b5"])

    def roszman1(p, X):
        x = X["x"]
        return p["b1"] - p["b2"] * x - jnp.arctan(p["b3"] / (x - p["b4"])) / pi

    def enso(p, X):
        x = X["x"]
        return (p["b1"] + p["b2"] * jnp.cos(2 * pi * x / 12) + p["b3"] * jnp.sin(2 * pi * x / 12)
                + p["b5"] * jnp.cos(2 * pi * x / p["b4"]) + p["b6"] * jnp.sin(2 * pi * x / p["b4"])
                + p["b8"] * jnp.cos(2 * pi * x / p["b7"]) + p["b9"] * jnp.sin(2 * pi * x / p["b7"]))

    def mgh09(p, X):
        x = X["x"]
        return p["b1"] * (x ** 2 + x * p["b2"]) / (x ** 2 + x * p["b3"] + p["b4"])

    def rat42(p, X):
        return p["b1"] / (1.0 + jnp.exp(p["b2"] - p["b3"] * X["x"]))

    def mgh10(p, X):
        return p["b1"] * jnp.exp(p["b2"] / (X["x"] + p["b3"]))

    def eckerle4(p, X):
        x = X["x"]
        return (p["b1"] / p["b2"]) * jnp.exp(-0.5 * ((x - p["b3"]) / p["b2"]) ** 2)

    def rat43(p, X):
        return p["b1"] / ((1.0 + jnp.exp(p["b2"] - p["b3"] * X["x"])) ** (1.0 / p["b4"]))

    def bennett5(p, X):
        return p["b1"] * (p["b2"] + X["x"]) ** (-1.0 / p["b3"])

    return {
        "Misra1a": exp1, "Chwirut2": chwirut, "Chwirut1": chwirut, "Lanczos3": lanczos, "Gauss1": gauss,
        "Gauss2": gauss, "DanWood": danwood, "Misra1b": misra1b, "Kirby2": kirby2, "Hahn1": cubic_cubic,
        "Nelson": nelson, "MGH17": mgh17, "Lanczos1": lanczos, "Lanczos2": lanczos, "Gauss3": gauss,
        "Misra1c": misra1c, "Misra1d": misra1d, "Roszman1": roszman1, "ENSO": enso, "MGH09": mgh09,
        "Thurber": cubic_cubic, "BoxBOD": exp1, "Rat42": rat42, "MGH10": mgh10, "Eckerle4": eckerle4,
        "Rat43": rat43, "Bennett5": bennett5,
    }


_MODEL_CACHE: dict[str, Callable] = {}


def model(name: str) -> Callable:
    """The JAX model ``fn(p, X)`` of problem ``name``."""
    if not _MODEL_CACHE:
        _MODEL_CACHE.update(_models())
    return _MODEL_CACHE[name]


# problems that share a model formula (and so one law, one compiled solver per data shape)
FAMILIES: dict[str, str] = {
    "Misra1a": "Misra1a/BoxBOD", "BoxBOD": "Misra1a/BoxBOD",
    "Chwirut1": "Chwirut", "Chwirut2": "Chwirut",
    "Lanczos1": "Lanczos", "Lanczos2": "Lanczos", "Lanczos3": "Lanczos",
    "Gauss1": "Gauss", "Gauss2": "Gauss", "Gauss3": "Gauss",
    "Hahn1": "Hahn1/Thurber", "Thurber": "Hahn1/Thurber",
}

_LAW_CACHE: dict[str, object] = {}


def law(problem: Problem):
    """The :class:`scalinglaws.laws.Custom` law of ``problem`` (unbounded parameters).

    One law instance per model formula, reused across calls: the solver is
    compiled once per law and data shape, so fitting Start 1 and Start 2 (and
    Lanczos1-3, Gauss1-3, which share a formula and a data shape) compiles once.
    """
    import scalinglaws as sl

    key = FAMILIES.get(problem.name, problem.name)
    if key not in _LAW_CACHE:
        _LAW_CACHE[key] = sl.laws.Custom(model(problem.name), params=[sl.Param(n) for n in problem.param_names],
                                         inputs=problem.predictors, target="y", positive=False, name=key)
    return _LAW_CACHE[key]


# ---------------------------------------------------------------------------------------
# Scoring


def lre(fitted: float, certified: float, cap: float = LRE_CAP) -> float:
    """Log relative error: the number of significant digits ``fitted`` shares
    with ``certified`` (0 when they differ by 100% or more, ``cap`` at best)."""
    fitted, certified = float(fitted), float(certified)
    if not math.isfinite(fitted):
        return 0.0
    err = abs(fitted - certified)
    if err == 0.0:
        return cap
    rel = err / abs(certified) if certified != 0.0 else err
    return float(min(cap, max(0.0, -math.log10(rel))))


@dataclass(frozen=True)
class Result:
    name: str
    start: int
    params: dict[str, float]
    rss: float
    lres: dict[str, float]
    rss_lre: float
    seconds: float

    @property
    def min_lre(self) -> float:
        return min(self.lres.values())


def fit_problem(problem: Problem, start: int, **fit_kwargs) -> Result:
    """Fit ``problem`` by least squares from its Start 1 or Start 2 with ``sl.fit``."""
    import time
    import warnings

    import scalinglaws as sl

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sl.fit(law(problem), problem.data(), objective=sl.LeastSquares(),
                     starts=problem.start(start)[None, :].copy(), **fit_kwargs)
    dt = time.perf_counter() - t0
    params = {n: float(fit.params[n]) for n in problem.param_names}
    lres = {n: lre(params[n], c) for n, c in zip(problem.param_names, problem.certified)}
    return Result(name=problem.name, start=start, params=params, rss=float(fit.objective), lres=lres,
                  rss_lre=lre(fit.objective, problem.certified_rss), seconds=dt)
