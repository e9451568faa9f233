"""Conventions of docs/architecture.md that a linter does not check: no function in edgesr/ over 80 lines."""

import ast
from pathlib import Path

import edgesr

LIMIT = 80


def test_no_function_is_longer_than_the_limit():
    root = Path(edgesr.__file__).parent
    long = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > LIMIT:
                    long.append(f"{path.relative_to(root.parent)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, "functions over 80 lines: " + "; ".join(long)
