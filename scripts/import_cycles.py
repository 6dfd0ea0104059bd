"""Import cycles among the modules of pipeline/ and dags/, found by reading their source (nothing is
imported, so it runs without the project's dependencies).

    python scripts/import_cycles.py [--module-level] [--allow MODULE ...]

An import is an edge from the importing module to the module it names: `from pipeline.x import y`
leads to pipeline.x.y when that is a module, else to pipeline.x; `import pipeline.x` to pipeline.x.
Imports inside functions count too (an import moved into a function to dodge a cycle still
shows), unless --module-level is given; imports under `if TYPE_CHECKING:` never run, so they do
not count. Each cycle is printed as one path, `a -> b -> a`, with the line of each import.

--allow MODULE (repeatable): a cycle whose modules all start with one of the given names is
printed as allowed and does not fail the check. Exit 0 with no other cycles, 1 otherwise."""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipeline", "dags")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, *, module_level: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements that run: not under `if TYPE_CHECKING:`; with module_level, not in a
    function either."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                stack.extend(child.orelse)
            elif module_level and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            else:
                stack.append(child)


def _absolute(name: str, statement: ast.ImportFrom, importer: str, is_package: bool) -> str:
    if not statement.level:
        return name
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (statement.level - 1)]
    return ".".join([*base, name] if name else base)


def edges(known: dict[str, Path], *, module_level: bool) -> dict[str, dict[str, int]]:
    """importer -> {imported module: line of its first import}, inside `known` only."""
    graph: dict[str, dict[str, int]] = {name: {} for name in known}
    for importer, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for statement in _imports(tree, module_level=module_level):
            targets: list[str] = []
            if isinstance(statement, ast.Import):
                targets = [alias.name for alias in statement.names]
            else:
                source = _absolute(statement.module or "", statement, importer, is_package)
                for alias in statement.names:
                    submodule = f"{source}.{alias.name}"
                    targets.append(submodule if submodule in known else source)
            for target in targets:
                if target in known and target != importer:
                    graph[importer].setdefault(target, statement.lineno)
    return graph


def components(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                if len(members) > 1:
                    found.append(sorted(members))
    return sorted(found)


def cycle_through(graph: dict[str, dict[str, int]], members: list[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first inside the component)."""
    inside = set(members)
    start = members[0]
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for child in sorted(graph[node]):
                if child not in inside:
                    continue
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    return [start]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--module-level", action="store_true", help="count only the imports outside functions")
    parser.add_argument("--allow", action="append", default=[], metavar="MODULE", help="a cycle to allow (prefix)")
    args = parser.parse_args(argv)
    known = modules()
    graph = edges(known, module_level=args.module_level)
    failed = 0
    for members in components(graph):
        allowed = all(any(m == a or m.startswith(a + ".") for a in args.allow) for m in members)
        cycle = cycle_through(graph, members)
        steps = " -> ".join(
            f"{a} (line {graph[a][b]})" if b else a for a, b in zip(cycle, [*cycle[1:], None], strict=True)
        )
        print(f"{'allowed' if allowed else 'CYCLE'}: {steps}")
        if len(members) > len(cycle) - 1:
            print(f"  (all of {', '.join(members)} are in the same cycle)")
        failed += not allowed
    scope = "module-level imports" if args.module_level else "imports, in functions too"
    print(f"{len(known)} modules, {sum(map(len, graph.values()))} {scope}: {failed} cycle(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
