"""Size floors of the shipped packages (issue 29): no module over 400 lines, no function over 60.

Read from the source with ``ast`` (no model, no import of the packages): a module's lines are
its physical lines; a function's are from its ``def`` (decorators included) to its last line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("assistant", "index", "ui")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def _functions(path: Path | str) -> list[tuple[str, int]]:
    """``(qualified name, lines)`` of every function and method of ``path`` (or of source text)."""
    out = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([child.lineno] + [d.lineno for d in child.decorator_list])
                out.append((f"{prefix}{child.name}", child.end_lineno - first + 1))
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(path.read_text(encoding="utf-8") if isinstance(path, Path) else path), "")
    return out


def test_the_packages_have_modules_to_measure():
    assert len(_modules()) > 50


@pytest.mark.parametrize("limit", [MAX_MODULE_LINES])
def test_no_module_is_over_400_lines(limit):
    long = {str(p.relative_to(ROOT)): n for p in _modules() if (n := len(p.read_text(encoding="utf-8").splitlines())) > limit}
    assert long == {}, f"modules over {limit} lines: {long}"


@pytest.mark.parametrize("limit", [MAX_FUNCTION_LINES])
def test_no_function_is_over_60_lines(limit):
    long = {f"{p.relative_to(ROOT)}:{name}": n for p in _modules() for name, n in _functions(p) if n > limit}
    assert long == {}, f"functions over {limit} lines: {long}"


def test_the_function_measure_counts_decorators_and_nested_functions():
    source = "@a\n@b\ndef f():\n    def g():\n        return 1\n    return g\nclass C:\n    def m(self):\n        pass\n"
    assert dict(_functions(source)) == {"f": 6, "f.g": 2, "C.m": 2}
