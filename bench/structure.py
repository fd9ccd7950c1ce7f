"""Print the structure figures of campaign/: modules over 400 lines, function sizes, type-ignores
and the package import graph of the domain layer (views and forms left out).

Usage: python bench/structure.py [REPO]
"""

from __future__ import annotations

import ast
import statistics
import sys
from pathlib import Path

WEB = {"views.py", "forms.py"}


def python_files(root: Path) -> list[Path]:
    """Return the package's modules, migrations left out."""
    return sorted(p for p in root.rglob("*.py") if "migrations" not in p.parts)


def function_sizes(tree: ast.AST) -> list[int]:
    """Return the number of lines of every function, from `def` to its last line."""
    return [
        (node.end_lineno or node.lineno) - node.lineno + 1
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def imported_packages(tree: ast.AST, parts: tuple[str, ...]) -> set[str]:
    """Return the campaign packages a module imports."""
    found = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            base = list(parts[: -node.level])
            names = [".".join(["campaign", *base, *([node.module] if node.module else [])])]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            bits = name.split(".")
            if bits[0] == "campaign" and len(bits) > 1:
                found.add(bits[1])
    return found


def main(repo: Path) -> None:
    """Print the figures."""
    root = repo / "campaign"
    packages = {p.parent.name for p in root.glob("*/__init__.py")} - {"migrations"}
    sizes: list[int] = []
    ignores = 0
    graph: dict[str, set[str]] = {p: set() for p in sorted(packages)}
    for path in python_files(root):
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        ignores += text.count("type: ignore")
        if lines > 400:
            print(f"module over 400 lines: {path.relative_to(repo)} {lines}")
        tree = ast.parse(text)
        sizes += function_sizes(tree)
        parts = path.relative_to(root).parts
        domain = path.name not in WEB and "views" not in parts[:-1]
        if len(parts) > 1 and parts[0] in packages and domain:
            graph[parts[0]] |= imported_packages(tree, parts) & packages - {parts[0]}
    cuts = statistics.quantiles(sizes, n=10)
    longest = sorted(sizes)[-5:]
    print(
        f"functions: {len(sizes)}, median {statistics.median(sizes):g} lines, p90 {cuts[-1]:g}, "
        f"longest {', '.join(map(str, reversed(longest)))}"
    )
    print(f"type: ignore comments: {ignores}")
    print("package imports (domain layer):")
    for package, uses in graph.items():
        print(f"  {package} -> {', '.join(sorted(uses)) or '-'}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
