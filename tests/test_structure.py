"""Gates on the code's shape: no import circle among the modules of ``augment`` and ``cli``, and
no module over :data:`MODULE_LINES` lines and no function over :data:`FUNCTION_LINES` lines in the
library, the CLI, the benchmarks and the tools (the tests aside)."""

from __future__ import annotations

import ast
import pathlib

import grimp

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("augment", "cli", "benchmarks", "tools")
MODULE_LINES = 400
FUNCTION_LINES = 80
# the layer vocabulary, one kind of layer per function, as neural-tangents' stax is
MODULE_EXCEPTIONS = {"augment/ntk/stax.py"}


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The import circles of ``graph``: its strongly connected components of more than one module
    (Tarjan's algorithm, iterative), each sorted, sorted by their first module."""
    order: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in order:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        order[root] = lowest[root] = len(order)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, imported = work[-1]
            following = next(imported, None)
            if following is not None:
                if following not in order:
                    order[following] = lowest[following] = len(order)
                    stack.append(following)
                    on_stack.add(following)
                    work.append((following, iter(sorted(graph.find_modules_directly_imported_by(following)))))
                elif following in on_stack:
                    lowest[module] = min(lowest[module], order[following])
                continue
            work.pop()
            if work:
                lowest[work[-1][0]] = min(lowest[work[-1][0]], lowest[module])
            if lowest[module] == order[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def test_cycles_finds_a_circle_and_nothing_else() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in [
        ("a", "b"),
        ("b", "c"),
        ("c", "a"),
        ("c", "d"),
        ("d", "e"),
        ("e", "d"),
        ("f", "a"),
    ]:
        graph.add_import(importer=importer, imported=imported)
    assert cycles(graph) == [["a", "b", "c"], ["d", "e"]]


def test_no_import_circle() -> None:
    assert cycles(grimp.build_graph("augment", "cli")) == []


def _sources() -> list[pathlib.Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def _lines(path: pathlib.Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def _function_lines() -> dict[str, int]:
    lengths: dict[str, int] = {}
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{path.relative_to(ROOT).as_posix()}:{node.name}"
                lengths[name] = max(lengths.get(name, 0), (node.end_lineno or node.lineno) - node.lineno + 1)
    return lengths


def _over(measured: dict[str, int], limit: int) -> list[str]:
    """The names in ``measured`` (name -> lines) over ``limit``, with their lengths."""
    return [
        f"{name}: {lines} lines, over {limit}" for name, lines in sorted(measured.items()) if lines > limit
    ]


def test_over_names_what_is_longer_than_the_limit_and_nothing_else() -> None:
    assert _over({"big": 401, "fine": 400, "small": 3}, 400) == ["big: 401 lines, over 400"]


def test_modules_within_their_length() -> None:
    measured = {
        p.relative_to(ROOT).as_posix(): _lines(p)
        for p in _sources()
        if p.relative_to(ROOT).as_posix() not in MODULE_EXCEPTIONS
    }
    assert _over(measured, MODULE_LINES) == []


def test_functions_within_their_length() -> None:
    assert _over(_function_lines(), FUNCTION_LINES) == []
