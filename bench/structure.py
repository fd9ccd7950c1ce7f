"""Print the structure figures of campaign/: modules over 400 lines, function sizes, type-ignores
and the package import graph of the domain layer (views and forms left out), with its circles.

Usage: python bench/structure.py [REPO]
tests/test_standards.py holds the same figures to the limits STYLE.md sets.
"""

from __future__ import annotations

import ast
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

WEB = {"views.py", "forms.py"}


@dataclass
class Figures:
    long_modules: dict[str, int] = field(default_factory=dict)
    function_sizes: list[int] = field(default_factory=list)
    type_ignores: int = 0
    graph: dict[str, set[str]] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.function_sizes)

    @property
    def p90(self) -> float:
        return statistics.quantiles(self.function_sizes, n=10)[-1]

    def circles(self) -> list[list[str]]:
        """Return the groups of packages that import each other in a circle."""
        return [group for group in _components(self.graph) if len(group) > 1]


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


def imported_modules(tree: ast.AST, parts: tuple[str, ...]) -> set[str]:
    """Return the dotted names of the modules a module imports (relative ones resolved)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            base = list(parts[: -node.level])
            found.add(".".join(["campaign", *base, *([node.module] if node.module else [])]))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def in_domain_layer(parts: tuple[str, ...]) -> bool:
    """Return whether a module (path parts below campaign/) belongs to a package's domain layer."""
    return len(parts) > 1 and parts[-1] not in WEB and "views" not in parts[:-1]


def measure(repo: Path) -> Figures:
    """Return the figures of the campaign/ package in `repo`."""
    root = repo / "campaign"
    packages = {p.parent.name for p in root.glob("*/__init__.py")} - {"migrations"}
    figures = Figures(graph={p: set() for p in sorted(packages)})
    for path in python_files(root):
        text = path.read_text(encoding="utf-8")
        if (lines := text.count("\n")) > 400:
            figures.long_modules[str(path.relative_to(repo))] = lines
        figures.type_ignores += text.count("type: ignore")
        tree = ast.parse(text)
        figures.function_sizes += function_sizes(tree)
        parts = path.relative_to(root).parts
        if parts[0] in packages and in_domain_layer(parts):
            imported = imported_modules(tree, parts)
            names = {m.split(".")[1] for m in imported if m.startswith("campaign.")}
            figures.graph[parts[0]] |= (names & packages) - {parts[0]}
    return figures


def _components(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components of `graph` (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while (member := stack.pop()) != node:
                group.append(member)
            found.append(sorted([*group, node]))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def main(repo: Path) -> None:
    """Print the figures."""
    figures = measure(repo)
    for name, lines in sorted(figures.long_modules.items()):
        print(f"module over 400 lines: {name} {lines}")
    longest = ", ".join(map(str, sorted(figures.function_sizes)[-5:][::-1]))
    print(
        f"functions: {len(figures.function_sizes)}, median {figures.median:g} lines, "
        f"p90 {figures.p90:g}, longest {longest}"
    )
    print(f"type: ignore comments: {figures.type_ignores}")
    print("package imports (domain layer):")
    for package, uses in figures.graph.items():
        print(f"  {package} -> {', '.join(sorted(uses)) or '-'}")
    for circle in figures.circles():
        print(f"circle: {', '.join(circle)}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
