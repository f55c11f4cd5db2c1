"""The route decorators: check the handler at decoration, record a spec, return it unchanged."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Coroutine, Sequence, Set
from inspect import CO_COROUTINE
from typing import Any, Concatenate, ParamSpec, Protocol, TypeAlias, TypeVar

import msgspec
from aiohttp import web

from typedsvc import _errors, _params, _urls
from typedsvc._convert import Converter, constrained, converter
from typedsvc._errors import DefinitionError, checked
from typedsvc._json_schema import known
from typedsvc._service import Service
from typedsvc._signature import CodeKey, classes_only, code_key, describe, handler_name
from typedsvc._specs import ERRORS_ATTR, ROUTES_ATTR, ErrorSpec, RouteInput, RouteSpec, record
from typedsvc._template import reverse_problem
from typedsvc._types import HttpMethod, ResponseValue

S = TypeVar("S", bound=Service)
P = ParamSpec("P")
R = TypeVar("R", bound=ResponseValue)

Handler: TypeAlias = Callable[Concatenate[S, web.Request, P], Coroutine[Any, Any, R]]


def http(
    method: HttpMethod | Sequence[HttpMethod],
    url: str,
    *,
    ignore_logging: bool | Sequence[int] = False,
) -> RouteDecorator:
    """Route requests whose path fully matches the regex ``url`` to the decorated method.

    Named groups of ``url`` are passed as keyword arguments, converted by the
    parameter's annotation (str, int, float, uuid.UUID or a str Enum). Raises
    :class:`DefinitionError` at decoration when the url and the handler disagree.
    """
    return RouteDecorator(method, url, ignore_logging)


class RouteDecorator:
    """What ``http(...)`` returns: applied to a method, it checks it and records the route.

    The mypy plugin hooks ``__call__`` to run the same checks at the decorator line.
    """

    __slots__ = ("_ignore_logging", "_method", "_url")

    def __init__(
        self,
        method: HttpMethod | Sequence[HttpMethod],
        url: str,
        ignore_logging: bool | Sequence[int],
    ) -> None:
        self._method = method
        self._url = url
        self._ignore_logging = ignore_logging

    def __call__(self, func: Handler[S, P, R]) -> Handler[S, P, R]:
        checked(func, self._record)
        return func

    def _record(self, func: Callable[..., object]) -> None:
        url = self._url
        where = handler_name(func)
        method = self._method
        # One method given as a known upper-case name, the usual case, needs no checking.
        if isinstance(method, str) and method in _errors.HTTP_METHODS:
            methods: tuple[str, ...] = (method,)
        else:
            methods = _methods(where, url, method)
        rule = self._ignore_logging
        ignored = rule if isinstance(rule, bool) else _ignore_logging(where, url, rule)
        plan = _known_plan(func, url)
        # A handler with inputs has annotations that are not classes: never a known plan.
        inputs: tuple[RouteInput, ...] = ()
        if plan is None:
            shape, resolved = describe(func, where)
            problems = _urls.check_route(shape, url, methods)
            if problems:
                raise DefinitionError(*problems)
            plan = _plan(shape.params, resolved, _urls.url_groups(url).names)
            inputs = _inputs(where, shape.params, resolved)
        spec = RouteSpec(where, methods, url, *plan, ignored, inputs, reverse_problem(url))
        record(func, ROUTES_ATTR, spec)


# A route's groups, conversions and required groups (see RouteSpec).
_Plan: TypeAlias = tuple[tuple[str, ...], tuple[tuple[str, Converter, str], ...], tuple[str, ...]]


def _plan(
    params: tuple[_urls.Param, ...], resolved: dict[str, object], groups: tuple[str, ...]
) -> _Plan:
    """How a checked route passes its groups to its handler."""
    by_name = {param.name: param for param in params}
    conversions: list[tuple[str, Converter, str]] = []
    required: list[str] = []
    for group in groups:
        param = by_name.get(group)
        if param is None or not param.has_default:
            required.append(group)
        if param is None or param.conversion is None:
            continue
        # T | None converts as T.
        converted = _params.element_type(resolved[group])
        if param.conversion != "str" or constrained(converted):
            conversions.append((group, *converter(param.conversion, converted)))
    return groups, tuple(conversions), tuple(required)


def _inputs(
    where: str, params: tuple[_urls.Param, ...], resolved: dict[str, object]
) -> tuple[RouteInput, ...]:
    """The parameters of a checked route that are read from the request."""
    inputs: list[RouteInput] = []
    for param in params:
        if param.source is None:
            continue
        found = _params.marker_of(resolved[param.name])
        assert found is not None
        marked = found[1]
        decoder = None
        if param.source.location == "body":
            decoder = body_decoder(where, param.name, marked)
        inputs.append(RouteInput(param.name, param.source, marked, param.has_default, decoder))
    return tuple(inputs)


def body_decoder(where: str, parameter: str, annotation: object) -> msgspec.json.Decoder[Any]:
    """msgspec's JSON decoder into ``annotation``; DefinitionError when msgspec has none."""
    try:
        # The schema rejects what the decoder would only fail on at run time (a class
        # msgspec does not know), and OpenAPI needs it anyway.
        msgspec.json.schema(annotation, schema_hook=known)
        return msgspec.json.Decoder(annotation)
    except TypeError as exc:
        # msgspec's reason is its last line; the lines before it suggest hooks.
        reason = str(exc).strip().splitlines()[-1]
        shown = _params.display(annotation)
        raise DefinitionError(
            _errors.unreadable_body_type(where, parameter, shown, reason)
        ) from None


def _known_plan(func: Callable[..., object], url: str) -> _Plan | None:
    """The plan of a route whose handler's signature and url's groups passed together
    before; None when they did not, or when the route needs a closer look."""
    key = code_key(func)
    if key is None or not func.__code__.co_flags & CO_COROUTINE:
        return None
    try:
        return _plan_for(key, _urls.url_groups(url))
    except (re.error, TypeError):  # an invalid url; an annotation that cannot be hashed
        return None


# The checks pass or fail on a handler's parameters and a url's groups alone, the names
# aside, and a plan depends on nothing else: routes sharing both, as
# (self, request, item_id: int) on "/a/(?P<item_id>\d+)" and "/b/(?P<item_id>\d+)" do,
# are checked and planned once. The caches stay small: a class whose routes share nothing
# would otherwise keep a thousand keys alive for the garbage collector to walk (with 1024
# entries, bench/define.py's class with distinct names took a quarter longer to define).
@functools.lru_cache(maxsize=256)
def _plan_for(key: CodeKey, groups: _urls.UrlGroups) -> _Plan | None:
    known = classes_only(key)
    if known is None:
        return None
    params, resolved = known
    if not _urls.route_fits(_urls.HandlerShape("", True, params), groups):
        return None
    return _plan(params, resolved, groups.names)


class _ErrorHandler(Protocol):
    """An error handler: ``async def handler(self, request)``."""

    def __call__(
        self, service: Any, request: web.Request, /
    ) -> Coroutine[Any, Any, ResponseValue]: ...


class _StatusErrorHandler(Protocol):
    """An error handler that also takes the status: ``(self, request, status_code: int)``."""

    def __call__(
        self, service: Any, request: web.Request, /, status_code: int
    ) -> Coroutine[Any, Any, ResponseValue]: ...


# One signature bound to both shapes, so the handler keeps its exact type (names, self
# binding). Overloads would work for the checkers, but make mypy try the plugin's hook
# once per overload, and a diagnostic during such a try discards that overload.
ErrorHandlerT = TypeVar("ErrorHandlerT", bound=_ErrorHandler | _StatusErrorHandler)


def http_error(status_code: int) -> ErrorDecorator:
    """Answer responses of ``status_code`` (404/405 from routing, raised errors, 500).

    The method receives the request and, when it declares it, ``status_code``.
    """
    return ErrorDecorator(status_code)


class ErrorDecorator:
    """What ``http_error(...)`` returns: applied to a method, it checks and records it."""

    __slots__ = ("_status",)

    def __init__(self, status_code: int) -> None:
        self._status = status_code

    def __call__(self, func: ErrorHandlerT) -> ErrorHandlerT:
        checked(func, self._record)
        return func

    def _record(self, func: Callable[..., object]) -> None:
        status_code: object = self._status
        where = handler_name(func)
        if isinstance(status_code, bool) or not isinstance(status_code, int):
            raise DefinitionError(_errors.invalid_error_status(where, status_code))
        # An HTTPStatus is its number, in messages and as a key.
        status_code = int(status_code)
        shape, _ = describe(func, where)
        problems = _urls.check_error_handler(shape, status_code)
        if problems:
            raise DefinitionError(*problems)
        rest = [p for p in shape.params[2:] if p.kind not in ("var_positional", "var_keyword")]
        takes_status = any(p.name == "status_code" for p in rest) or any(
            p.kind == "var_keyword" for p in shape.params
        )
        record(func, ERRORS_ATTR, ErrorSpec(where, status_code, takes_status))


def _methods(where: str, url: str, method: object) -> tuple[str, ...]:
    """Upper-cased, de-duplicated methods; lower case is accepted at runtime."""
    candidates = [method] if isinstance(method, str) else _items(method)
    if candidates is None:
        raise DefinitionError(_errors.unknown_method(where, url, method))
    if not candidates:
        raise DefinitionError(_errors.no_methods(where, url))
    methods: list[str] = []
    for candidate in candidates:
        name = candidate.upper() if isinstance(candidate, str) else None
        if name not in _errors.HTTP_METHODS:
            raise DefinitionError(_errors.unknown_method(where, url, candidate))
        if name not in methods:
            methods.append(name)
    return tuple(methods)


def _ignore_logging(where: str, url: str, value: object) -> frozenset[int]:
    """The status codes of ``ignore_logging=[...]`` (a bool needs no checking)."""
    items = _items(value)
    if items is None or not all(
        isinstance(code, int) and not isinstance(code, bool) and 100 <= code <= 599
        for code in items
    ):
        raise DefinitionError(_errors.invalid_ignore_logging(where, url))
    return frozenset(code for code in items if isinstance(code, int))


def _items(value: object) -> list[object] | None:
    """The items of a sequence (not a str) or a set; None for anything else."""
    if isinstance(value, str) or not isinstance(value, Sequence | Set):
        return None
    return list(value)  # pyright: ignore[reportUnknownArgumentType]
