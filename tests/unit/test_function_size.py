"""The pipeline stays readable: no function in app/pipeline runs over 60 lines (issue 8)."""

from __future__ import annotations

import ast
from pathlib import Path

PIPELINE = Path(__file__).resolve().parents[2] / "app" / "pipeline"
MAX_LINES = 60


def long_functions(root: Path, limit: int = MAX_LINES) -> list[str]:
    found: list[str] = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > limit:
                    found.append(f"{path.name}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_no_pipeline_function_is_over_the_limit() -> None:
    assert list(PIPELINE.glob("*.py")), "the pipeline package moved?"
    assert long_functions(PIPELINE) == []


def test_the_check_sees_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    (tmp_path / "m.py").write_text(f"async def long() -> None:\n{body}\n")
    assert long_functions(tmp_path) == [f"m.py:1 long ({MAX_LINES + 1} lines)"]
