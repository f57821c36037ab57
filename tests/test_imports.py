"""The package's module structure: every public module imports, the estimators know nothing
about files or the command line, and no module reaches into another package's private names."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import ising_rg

PACKAGE_DIR = Path(ising_rg.__file__).parent


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(ising_rg.__path__, "ising_rg."))


def _loaded_after(modules: list[str]) -> set[str]:
    """The ising_rg modules loaded by a fresh interpreter after importing ``modules``."""
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print('\\n'.join(m for m in sys.modules if m.startswith('ising_rg')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    return set(result.stdout.split())


def test_every_public_module_imports():
    public = [name for name in _modules() if not name.rsplit(".", 1)[1].startswith("_")]
    assert {"ising_rg.paper", "ising_rg.seeding", "ising_rg.checks", "ising_rg.cli"} <= set(public)
    assert set(public) <= _loaded_after(public)


def test_the_estimators_import_neither_io_nor_the_cli():
    rbm_modules = [name for name in _modules() if name.startswith("ising_rg.rbm.")]
    loaded = _loaded_after(rbm_modules)
    assert set(rbm_modules) <= loaded
    reached = {m for m in loaded if m == "ising_rg.cli" or m.startswith(("ising_rg.io",
                                                                          "ising_rg.cli."))}
    assert not reached, reached


def _imported_names(tree: ast.AST) -> list[tuple[str, str]]:
    """(module, name) of every ``from ising_rg... import name`` and ``import ising_rg...``."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ising_rg"):
            out += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            out += [(alias.name, "") for alias in node.names if alias.name.startswith("ising_rg")]
    return out


def _package_of(dotted: str) -> str:
    """The package a dotted name belongs to: itself if it is a package, else its parent."""
    return dotted if PACKAGE_DIR.parent.joinpath(*dotted.split(".")).is_dir() else (
        dotted.rsplit(".", 1)[0])


def test_no_module_reaches_into_another_packages_private_names():
    offences = []
    for path in PACKAGE_DIR.rglob("*.py"):
        here = ".".join(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
        for module, name in _imported_names(ast.parse(path.read_text())):
            parts = module.split(".") + ([name] if name else [])
            for depth in range(1, len(parts)):
                private = parts[depth].startswith("_") and not parts[depth].startswith("__")
                owner = _package_of(".".join(parts[:depth]))
                if private and not (here + ".").startswith(owner + "."):
                    offences.append(f"{here} imports {module} {name}")
    assert not offences, offences
