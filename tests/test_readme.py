"""Every Python example of README.md is type-checked: it is copied into tests/typing.

``tests/typing/readme_examples.py`` holds each ```python block of the README, in a function
of its own (an indented block, a method, inside a service class there), so that mypy
--strict with the plugin and pyright strict check it with the rest of ``tests``. This test
fails when the README and that file differ; ``python tests/test_readme.py`` writes the file.

An HTML comment just before a block steers its copy:

- ``<!-- check: with previous -->``: in the same function as the block before it, whose
  names it uses;
- ``<!-- check: line N mypy-code pyright-rule -->``: line N of the block is an error the
  README shows on purpose; the copy carries the ignore comments that expect it;
- ``<!-- check: file PATH -->``: the block is the whole file PATH of the repository, which
  the checkers and a test of its own run as it is; it is not copied.
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent
README: Final = ROOT / "README.md"
COPY: Final = ROOT / "tests" / "typing" / "readme_examples.py"

_BLOCK: Final = re.compile(r"((?:<!-- check: [^>]*-->\n)*)```python\n(.*?)```", re.DOTALL)
_DIRECTIVE: Final = re.compile(r"<!-- check: ([^>]*?) -->")
_DECORATED: Final = """
    async def decorated(self, request: web.Request) -> str:
        return \"\"
"""
_PRELUDE: Final = '''"""README.md's Python examples, written by tests/test_readme.py: do not edit.

Never executed: mypy --strict (with the plugin) and pyright strict check them.
"""

# ruff: noqa
# Names are redefined from one example to the next, as the README does.
# pyright: reportRedeclaration=false, reportUnusedClass=false, reportUnusedFunction=false
# pyright: reportUnusedVariable=false
# An example that imports, as a module would, does it inside its function here; pyright does
# not count a use in a nested class's annotations there.
# pyright: reportUnusedImport=false

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

import msgspec
from aiohttp import web

import typedsvc
from typedsvc import HttpOptions, Options, ResponseDict

PREFIX = "/api"


async def timing(
    next: typedsvc.Next, service: Any, request: web.Request
) -> typedsvc.ResponseValue:
    started = time.perf_counter()
    try:
        return await next()
    finally:
        print(time.perf_counter() - started)


class ExampleService(typedsvc.Service):
    pass
'''


def expected_copy() -> str:
    """What tests/typing/readme_examples.py must hold for the README as it is."""
    functions: list[list[str]] = []
    for directives, block in _BLOCK.findall(README.read_text(encoding="utf-8")):
        steering = _DIRECTIVE.findall(directives)
        if any(directive.startswith("file ") for directive in steering):
            continue
        lines = block.rstrip("\n").split("\n")
        for directive in steering:
            if directive.startswith("line "):
                _, number, code, rule = directive.split()
                index = int(number) - 1
                lines[index] += f"  # type: ignore[{code}]  # pyright: ignore[{rule}]"
        body = "\n".join(lines)
        decorator = lines[-1].lstrip().startswith("@")
        if body.startswith(" ") or decorator:
            # A method or a decorator, as it stands in a service class.
            body = textwrap.indent(textwrap.dedent(body), "    ")
            if decorator:
                body += _DECORATED
            body = "class Fragment(typedsvc.Service):\n" + body
        if "with previous" in steering and functions:
            functions[-1].append(body)
        else:
            functions.append([body])
    parts = [_PRELUDE]
    for number, bodies in enumerate(functions, 1):
        code = "\n\n".join(bodies)
        parts.append(f"\n\ndef example_{number}() -> None:\n{textwrap.indent(code, '    ')}\n")
    return "".join(parts)


def test_readme_examples_are_copied_for_the_type_checkers() -> None:
    assert COPY.read_text(encoding="utf-8") == expected_copy(), (
        "README.md changed: run python tests/test_readme.py to copy its examples again."
    )


def test_readme_blocks_that_are_files_hold_them_as_they_are() -> None:
    files = [
        (directive.removeprefix("file "), block)
        for directives, block in _BLOCK.findall(README.read_text(encoding="utf-8"))
        for directive in _DIRECTIVE.findall(directives)
        if directive.startswith("file ")
    ]
    assert files, "README.md shows no file"
    for path, block in files:
        assert block == (ROOT / path).read_text(encoding="utf-8"), path


if __name__ == "__main__":
    COPY.write_text(expected_copy(), encoding="utf-8")
    sys.exit(0)
