"""A handler's parameters read from its code object agree with inspect.signature."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import pytest

from typedsvc._signature import _parameters  # pyright: ignore[reportPrivateUsage]


def positional(self: Any, request: object, a: int, b: str = "x") -> None: ...
def only_positional(self: Any, request: object, /, a: int, *, b: str = "x") -> None: ...
def star_args(self: Any, *args: int, c: int, d: float = 1.0, **kwargs: str) -> None: ...
def kwargs_only(self: Any, request: object, **groups: str) -> None: ...
def defaults_mixed(
    a: int, b: int = 1, /, c: int = 2, *d: int, e: int, f: int = 3, **g: int
) -> None: ...
def nothing() -> None: ...
async def coroutine(self: Any, request: object, user_id: int) -> str:
    return ""


@functools.wraps(positional)
def wrapped(*args: Any, **kwargs: Any) -> None: ...


class Callable_:
    def __call__(self, request: object, x: int = 1) -> None: ...


def expected(func: Callable[..., object]) -> list[tuple[str, str, bool, object]]:
    return [
        (p.name, p.kind.name.lower(), p.default is not p.empty, p.annotation)
        for p in inspect.signature(func).parameters.values()
    ]


@pytest.mark.parametrize(
    "func",
    [
        positional,
        only_positional,
        star_args,
        kwargs_only,
        defaults_mixed,
        nothing,
        coroutine,
        wrapped,
        Callable_(),
        functools.partial(positional, None),
    ],
)
def test_parameters_agree_with_inspect_signature(func: Callable[..., object]) -> None:
    assert _parameters(func) == expected(func)
