"""Middleware: callables around every handler and error handler of a service."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from aiohttp import web

from typedsvc._types import ResponseValue


class Next(Protocol):
    """What a middleware calls to go on: the next middleware, or the handler.

    Keyword values given here reach the handler when it declares parameters of those names.
    """

    def __call__(self, **extra: Any) -> Awaitable[ResponseValue]: ...


class Middleware(Protocol):
    """``async def middleware(next, service, request) -> ResponseValue``."""

    def __call__(
        self, next: Next, service: Any, request: web.Request, /
    ) -> Awaitable[ResponseValue]: ...


Innermost = Callable[[dict[str, Any]], Awaitable[ResponseValue]]


async def through(
    middlewares: Sequence[Middleware],
    service: object,
    request: web.Request,
    innermost: Innermost,
) -> ResponseValue:
    """Call ``innermost`` with the extra values gathered, inside ``middlewares``."""

    async def at(index: int, extra: dict[str, Any]) -> ResponseValue:
        if index == len(middlewares):
            return await innermost(extra)

        def next_(**more: Any) -> Awaitable[ResponseValue]:
            return at(index + 1, {**extra, **more})

        return await middlewares[index](next_, service, request)

    return await at(0, {})


def accepted_names(call: Callable[..., object]) -> frozenset[str] | None:
    """The keyword parameters a handler declares after the request; None when it takes any."""
    parameters = list(inspect.signature(call).parameters.values())[1:]
    if any(param.kind is param.VAR_KEYWORD for param in parameters):
        return None
    keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return frozenset(param.name for param in parameters if param.kind in keyword)


def pick(extra: dict[str, Any], accepts: frozenset[str] | None) -> dict[str, Any]:
    """The values a middleware passed on that the handler declares (url groups win)."""
    if accepts is None:
        return extra
    return {name: value for name, value in extra.items() if name in accepts}
