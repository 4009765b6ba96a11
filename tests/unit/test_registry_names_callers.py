"""No part of the package indexes the whole registry for a few names.

``Registry.names()`` builds a Series over every unit (about 0.5 s for the nation's
665,000 codes, on every page, trace, chase and report that called it);
``Registry.names_of(codes)`` looks up only the codes asked for.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "huizong"


def names_calls(src: Path = SRC) -> list[str]:
    """``file:line`` of every ``<anything>.names()`` call without arguments."""
    found = []
    for path in sorted(src.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "names"
                and not node.args
                and not node.keywords
            ):
                found.append(f"{path.relative_to(src)}:{node.lineno}")
    return found


def test_no_caller_indexes_every_unit_for_names() -> None:
    assert names_calls() == []


def test_the_check_finds_a_call(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("x = registry.names().get('1309')\ny = r.names_of(['1'])\n")
    assert names_calls(tmp_path) == ["m.py:1"]
