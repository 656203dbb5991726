"""The package imports one way: a module imports only from layers below it or its own layer.

Every module's imports are read with ``ast`` (module-level and inside functions alike, relative
and absolute), resolved to the package's top-level module they reach, and checked against the
layer order written in docs/layers.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "scalinglaws"

#: bottom (0) to top; a module may import from its own layer or any lower one
LAYERS = {
    "errors": 0, "_jax": 0, "_numerics": 0, "_report": 0,
    "runs": 1,
    "flops": 2, "architecture": 2,
    "laws": 3,
    "fitting": 4,
    "optimize": 5,
    "evals": 6,
    "plot": 7, "synthetic": 7, "report": 7,
    "cli": 8, "__main__": 8,
}
ROOT_LAYER = 9  # ``import scalinglaws`` pulls in everything: only the shell may do it
NAMES = {v: k for k, v in [("bottom (errors, _jax, _numerics, _report)", 0), ("runs", 1), ("flops/architecture", 2),
                           ("laws", 3), ("fitting", 4), ("optimize", 5), ("evals", 6),
                           ("plot/synthetic", 7), ("cli", 8), ("the package root", 9)]}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _targets(module: str, is_package: bool, tree: ast.AST) -> list[tuple[int, str]]:
    """(line, absolute dotted name) of every import of the package in ``tree``."""
    out = []
    here = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "scalinglaws"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "scalinglaws":
                continue
            if mod == "scalinglaws":  # from scalinglaws import x / from . import x at the root
                out += [(node.lineno, f"scalinglaws.{a.name}") for a in node.names]
            else:
                out.append((node.lineno, mod))
    return out


def _layer(dotted: str) -> int | None:
    parts = dotted.split(".")
    if len(parts) == 1:
        return ROOT_LAYER
    return LAYERS.get(parts[1])


def violations(module: str, source: str, is_package: bool = False) -> list[str]:
    """Messages for every import in ``source`` (the text of ``module``) that breaks the order."""
    parts = module.split(".")
    if len(parts) == 1:  # the package root re-exports the layers; it is the top of the graph
        return []
    own = LAYERS.get(parts[1])
    if own is None:
        return [f"{module}: not in the layer map of tests/test_layers.py (add it, and a line to docs/layers.md)"]
    out = []
    for line, target in _targets(module, is_package, ast.parse(source)):
        layer = _layer(target)
        tparts = target.split(".")
        if layer is None:
            out.append(f"{module}:{line} imports {target}, which is not in the layer map")
        elif len(tparts) > 1 and tparts[1] in ("cli", "__main__") and parts[1] not in ("cli", "__main__"):
            out.append(f"{module}:{line} imports {target}: nothing but the shell imports cli")
        elif layer > own and not (layer == ROOT_LAYER and own == LAYERS["cli"]):
            out.append(f"{module}:{line} imports {target} (layer {NAMES[layer]}) from the lower layer "
                       f"{NAMES[own]}")
    return out


def _modules():
    return sorted(PKG.rglob("*.py"))


def test_every_module_imports_downward_only():
    problems = []
    for path in _modules():
        problems += violations(_module_name(path), path.read_text(), path.name == "__init__.py")
    assert not problems, "imports against the layer order:\n" + "\n".join(problems)


def test_no_module_named_like_a_test_file():
    bad = [str(p.relative_to(ROOT)) for p in _modules() if p.name.startswith("test_") or p.name.endswith("_test.py")]
    assert not bad, f"product modules named like test files: {bad}"


@pytest.mark.parametrize("module, source, needle", [
    ("scalinglaws.laws.joint", "def f():\n    from ..fitting.api import fit\n", "scalinglaws.fitting.api"),
    ("scalinglaws.laws.links", "from ..optimize import best_config\n", "scalinglaws.optimize"),
    ("scalinglaws.fitting.recipes", "import scalinglaws.evals.passk\n", "scalinglaws.evals.passk"),
    ("scalinglaws.optimize.best_config", "def g():\n    from scalinglaws.evals import pass_at_k\n",
     "scalinglaws.evals"),
    ("scalinglaws.plot", "from .cli import main\n", "nothing but the shell imports cli"),
    ("scalinglaws.runs", "from . import laws\n", "scalinglaws.laws"),
    ("scalinglaws.evals.compare", "import scalinglaws as sl\n", "scalinglaws (layer the package root)"),
])
def test_the_check_catches_upward_imports(module, source, needle):
    found = violations(module, source)
    assert len(found) == 1 and needle in found[0], found


def test_downward_and_same_layer_imports_pass():
    assert violations("scalinglaws.evals.compare", "from ..fitting import solver\nfrom .passk import pass_at_k\n") == []
    assert violations("scalinglaws.optimize", "from .best_config import best_config\n", is_package=True) == []
    assert violations("scalinglaws.cli", "def f():\n    import scalinglaws as sl\n    from . import plot\n") == []


def _third_party_importers(top: str) -> list[str]:
    """Modules of the package that import the third-party package ``top`` (anywhere in the file)."""
    out = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            if any(n.split(".")[0] == top for n in names):
                out.append(_module_name(path))
                break
    return sorted(out)


def test_arviz_and_numpyro_stay_behind_their_modules():
    # arviz 0.23 and 1.x differ: one adapter holds every arviz call; numpyro only in the Bayesian fit
    assert _third_party_importers("arviz") == ["scalinglaws.fitting._arviz"]
    assert _third_party_importers("numpyro") == ["scalinglaws.fitting.bayes"]
