"""SECURITY.md names, for each guarantee, the tests that would fail without it: they exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).parent.parent
POLICY: Final = ROOT / "SECURITY.md"
TEST_ID: Final = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def guarantees() -> dict[str, list[tuple[str, str]]]:
    """Each guarantee's heading and the tests listed under it."""
    text = POLICY.read_text(encoding="utf-8")
    section = text.split("## What typedsvc guarantees", 1)[1].split("\n## ", 1)[0]
    found: dict[str, list[tuple[str, str]]] = {}
    for block in section.split("\n### ")[1:]:
        heading, _, body = block.partition("\n")
        found[heading] = TEST_ID.findall(body)
    return found


def defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    }


def test_security_policy_names_tests_for_every_guarantee() -> None:
    listed = guarantees()
    assert len(listed) >= 8
    assert [heading for heading, tests in listed.items() if not tests] == []


def test_security_policy_names_only_tests_that_exist() -> None:
    missing = [
        f"{file}::{name}"
        for tests in guarantees().values()
        for file, name in tests
        if not (ROOT / file).is_file() or name not in defined_tests(ROOT / file)
    ]
    assert missing == []
