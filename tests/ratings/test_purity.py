"""``ratings`` is a pure numeric library: numpy, scipy and the standard library only."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import ratings

PACKAGE = Path(ratings.__file__).parent
ALLOWED_THIRD_PARTY = {"numpy", "scipy"}
LAZY_ONLY = {"pyarrow"}  # Parquet input, imported inside a function
FORBIDDEN = {"flask", "sqlalchemy", "arena", "pandas", "choix"}


def _imports(tree: ast.AST) -> list[tuple[str, bool]]:
    """(top-level module, imported at module level) for every import statement."""
    out = []
    top_level = {id(node) for node in getattr(tree, "body", [])}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name.split(".")[0], id(node) in top_level) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.module.split(".")[0], id(node) in top_level))
    return out


def test_sources_import_only_numpy_scipy_and_stdlib() -> None:
    for path in PACKAGE.glob("*.py"):
        for module, top in _imports(ast.parse(path.read_text())):
            assert module not in FORBIDDEN, f"{path.name} imports {module}"
            if module in sys.stdlib_module_names or module in ALLOWED_THIRD_PARTY:
                continue
            assert module in LAZY_ONLY and not top, f"{path.name} imports {module}"


def test_importing_ratings_loads_no_web_or_dataframe_stack() -> None:
    code = (
        "import sys, ratings, ratings.cli; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'sqlalchemy', 'arena', 'pandas', 'pyarrow')]; print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=PACKAGE.parent,
    )
    assert out.stdout.strip() == "[]"


def test_modules_stay_small() -> None:
    for path in PACKAGE.glob("*.py"):
        assert len(path.read_text().splitlines()) <= 400, path.name
