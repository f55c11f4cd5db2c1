"""Exceptions, and the text of every route-definition error.

Exception tree::

    TypeError
     └── DefinitionError             a mistake in a route definition, raised at import
    TimeoutError
     └── LifecycleHookTimeoutError   a lifecycle hook ran out of time

The message functions below are shared by the runtime checks and the mypy plugin,
so that a mistake reads the same at import and under mypy. ``typedsvc check`` imports a
service while :func:`collecting`: then every mistake is gathered, with where it is, instead
of the first one raised. This module imports only the standard library.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import sys
from collections.abc import Callable, Generator, Iterable
from contextvars import ContextVar
from types import FrameType
from typing import Final, NamedTuple

SUPPORTED_CONVERSIONS: Final = "str, int, float, uuid.UUID or an Enum with str values"
HTTP_METHODS: Final = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class DefinitionError(TypeError):
    """A route definition is wrong: raised while the class body executes.

    Its message is the first problem found; ``problems`` holds every one.
    """

    def __init__(self, message: str, *more: str) -> None:
        super().__init__(message)
        self.problems: tuple[str, ...] = (message, *more)


# Tracebacks name it as users import it.
DefinitionError.__module__ = "typedsvc"


class LifecycleHookTimeoutError(TimeoutError):
    """A lifecycle hook did not finish within ``Options.lifecycle_hook_timeout_seconds``.

    A TimeoutError, so that code which waits on a service catches it as any other timeout.
    """

    def __init__(self, service: str, hook: str, seconds: float) -> None:
        self.service: str = service
        self.hook: str = hook
        self.seconds: float = seconds
        # The clause that typedsvc run's log lines go on from ("; stopping.").
        self.what: str = (
            f'"{service}" did not finish {hook} within {seconds:g} s '
            "(Options.lifecycle_hook_timeout_seconds)"
        )
        super().__init__(f"{self.what}.")


LifecycleHookTimeoutError.__module__ = "typedsvc"


class Problem(NamedTuple):
    """A definition mistake found by ``typedsvc check``, and where it is."""

    file: str
    line: int
    message: str


_COLLECTED: ContextVar[list[Problem] | None] = ContextVar("typedsvc_collected", default=None)


@contextlib.contextmanager
def collecting() -> Generator[list[Problem]]:
    """Gather definition mistakes instead of raising them, for ``typedsvc check``.

    A route with a mistake is left out of its class, and the import goes on.
    """
    found: list[Problem] = []
    token = _COLLECTED.set(found)
    try:
        yield found
    finally:
        _COLLECTED.reset(token)


def checked(func: Callable[..., object], record: Callable[[Callable[..., object]], None]) -> None:
    """Run a decorator's ``record(func)``: its checks, then its spec put on ``func``.

    A DefinitionError it raises is raised, or gathered while :func:`collecting`.
    """
    try:
        record(func)
    except DefinitionError as error:
        reject(func, error, _applied_at())


def reject(at: object, error: DefinitionError, where: tuple[str, int] | None = None) -> None:
    """Raise ``error`` about ``at`` (a handler or a class); while collecting, gather it, at
    ``where`` (a file and line) or where ``at`` is defined."""
    found = _COLLECTED.get()
    if found is None:
        raise error
    file, line = where or location(at)
    found.extend(Problem(file, line, message) for message in error.problems)


_PACKAGE: Final = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _applied_at() -> tuple[str, int] | None:
    """The file and line of the decorator being applied, as mypy reports it: the first frame
    outside typedsvc is the class body, at the decorator's own line (not the def's, nor
    that of another decorator above it, and not inside a wrapper's module)."""
    frame: FrameType | None = sys._getframe(2)  # pyright: ignore[reportPrivateUsage]
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame = frame.f_back
    return None if frame is None else (frame.f_code.co_filename, frame.f_lineno)


def location(at: object) -> tuple[str, int]:
    """The file and line of a function (its first decorator's line) or a class."""
    code = getattr(at, "__code__", None)
    if code is not None:
        return code.co_filename, code.co_firstlineno
    if isinstance(at, type):
        try:
            _, line = inspect.findsource(at)
            return inspect.getsourcefile(at) or "?", line + 1
        except (TypeError, OSError):
            pass
    return getattr(inspect.getmodule(at), "__file__", None) or "?", 0


def quote_url(url: str) -> str:
    """Quote a url as it would be written in source, as a raw string."""
    if '"' not in url:
        return f'r"{url}"'
    if "'" not in url:
        return f"r'{url}'"
    return repr(url)


def invalid_regex(where: str, url: str, reason: str, position: int | None) -> str:
    at = f" at position {position}" if position is not None else ""
    return f'"{where}": url {quote_url(url)} is not a valid regular expression: {reason}{at}.'


def unnamed_group(where: str, url: str) -> str:
    return (
        f'"{where}": url {quote_url(url)} has an unnamed group; '
        "write (?P<name>...) or make it non-capturing with (?:...)."
    )


def group_and_parameter_apart(where: str, url: str, group: str, parameter: str) -> str:
    return (
        f'"{where}": url group "{group}" in {quote_url(url)} has no matching parameter; '
        f'did you mean the parameter "{parameter}"? Give the group and the parameter one name.'
    )


def group_without_parameter(where: str, url: str, group: str) -> str:
    return (
        f'"{where}": url group "{group}" in {quote_url(url)} has no matching parameter; '
        f'add a parameter named "{group}" or rename the group.'
    )


def group_positional_only(where: str, url: str, group: str) -> str:
    return (
        f'"{where}": url group "{group}" in {quote_url(url)} matches a positional-only '
        f'parameter; move "{group}" after the "/" marker so it can be passed by name.'
    )


def parameter_without_group(where: str, url: str, parameter: str) -> str:
    return (
        f'"{where}": parameter "{parameter}" is not filled by any group of {quote_url(url)}; '
        f'add a group (?P<{parameter}>...) to the url or give "{parameter}" a default.'
    )


def unsupported_annotation(where: str, url: str, parameter: str, annotation: str) -> str:
    return (
        f'"{where}": parameter "{parameter}" for url {quote_url(url)} is annotated '
        f'"{annotation}", which a url group cannot be converted to; '
        f"use {SUPPORTED_CONVERSIONS}."
    )


def unresolved_annotation(where: str, url: str, parameter: str, annotation: str) -> str:
    return (
        f'"{where}": parameter "{parameter}" for url {quote_url(url)} is annotated '
        f'"{annotation}", which is not defined in its module when the class body runs; '
        "define or import it at the module's top level, before the service class."
    )


def not_async(where: str, url: str, kind: str = "handler", second: str = "request") -> str:
    """For ``@http`` (and ``@websocket``, with kind "websocket handler", second "websocket")."""
    name = where.rpartition(".")[2]
    return (
        f'"{where}": the {kind} for {quote_url(url)} is not a coroutine function; '
        f'declare it as "async def {name}(self, {second}, ...)".'
    )


def missing_request(where: str, url: str, kind: str = "handler", second: str = "request") -> str:
    name = where.rpartition(".")[2]
    return (
        f'"{where}": the {kind} for {quote_url(url)} does not take the {second} as its second '
        f'parameter; declare it as "async def {name}(self, {second}, ...)".'
    )


def unknown_method(where: str, url: str, method: object) -> str:
    return (
        f'"{where}": unknown HTTP method {method!r} for {quote_url(url)}; '
        f"use one of {', '.join(HTTP_METHODS)}."
    )


def no_methods(where: str, url: str) -> str:
    return f'"{where}": no HTTP method given for {quote_url(url)}; name at least one, like "GET".'


def url_not_literal(decorator: str) -> str:
    return (
        f"the url of typedsvc.{decorator}(...) is not known before the code runs, so mypy "
        "cannot check it; pass a str literal or a Final str constant, or silence this with "
        '"# type: ignore[typedsvc-url-literal]" (the check at import still runs).'
    )


def duplicate_route(where: str, url: str, method: str, first: str) -> str:
    return (
        f'"{where}": route {method} {quote_url(url)} is already handled by "{first}"; '
        "remove one of them or change its url."
    )


def static_url_group(where: str, url: str, group: str) -> str:
    return (
        f'"{where}": http_static url {quote_url(url)} has the group "{group}"; only '
        "(?P<filename>...) may name a part of it, the file."
    )


def static_directory_root(where: str, url: str, path: str) -> str:
    return (
        f'"{where}": http_static directory "{path}" for {quote_url(url)} would serve the whole '
        "file system; name the directory that holds the files."
    )


def static_directory_missing(where: str, url: str, directory: str) -> str:
    return (
        f'"{where}": http_static directory "{directory}" for {quote_url(url)} does not exist '
        "or is not a directory; create it or fix the path (relative paths start at the "
        "service's file)."
    )


def middleware_not_a_sequence(service: str) -> str:
    return (
        f'"{service}.http_middleware" must be a list or tuple of middleware; '
        "write http_middleware = [first, second]."
    )


def middleware_not_async(service: str, index: int, middleware: object) -> str:
    name = getattr(middleware, "__qualname__", type(middleware).__name__)
    return (
        f'"{service}.http_middleware" entry {index} ("{name}") is not a coroutine function; '
        'declare it as "async def middleware(next, service, request)".'
    )


def invalid_ignore_logging(where: str, url: str) -> str:
    return (
        f'"{where}": ignore_logging for {quote_url(url)} must be True, False '
        "or a sequence of status codes (100-599)."
    )


def invalid_error_status(where: str, status: object) -> str:
    return (
        f'"{where}": http_error status {status!r} is not an HTTP status code; '
        "use an int from 400 to 599."
    )


def error_handler_parameters(where: str, status: int | str, extra: Iterable[str]) -> str:
    names = ", ".join(f'"{name}"' for name in extra)
    return (
        f'"{where}": the http_error({status}) handler takes unknown parameters {names}; '
        'it receives the request and, when declared, "status_code".'
    )


def error_handler_not_async(where: str, status: int | str) -> str:
    name = where.rpartition(".")[2]
    return (
        f'"{where}": the http_error({status}) handler is not a coroutine function; '
        f'declare it as "async def {name}(self, request)".'
    )


def error_handler_missing_request(where: str, status: int | str) -> str:
    name = where.rpartition(".")[2]
    return (
        f'"{where}": the http_error({status}) handler does not take the request as its second '
        f'parameter; declare it as "async def {name}(self, request)".'
    )


def duplicate_error_handler(where: str, status: int, first: str) -> str:
    return (
        f'"{where}": http_error({status}) is already handled by "{first}"; '
        "keep one handler per status code."
    )


# Typed inputs: how the messages name each location and its marker.
_LOCATION_NOUNS: Final = {
    "query": "query parameter",
    "header": "header",
    "cookie": "cookie",
    "body": "request body",
}
_MARKERS: Final = {
    "query": "typedsvc.Query",
    "header": "typedsvc.Header",
    "cookie": "typedsvc.Cookie",
    "body": "typedsvc.Body",
}
SUPPORTED_INPUTS: Final = (
    "str, int, float, bool, uuid.UUID, a str Enum or a Literal of strs, each also | None"
)


def _names(names: Iterable[str]) -> str:
    quoted = [f'"{name}"' for name in names]
    return ", ".join(quoted[:-1]) + f" and {quoted[-1]}" if len(quoted) > 1 else quoted[0]


def unsupported_input_type(where: str, parameter: str, location: str, annotation: str) -> str:
    supported = SUPPORTED_INPUTS
    if location == "query":
        supported += ", or a list of one of them"
    return (
        f'"{where}": {_MARKERS[location]} parameter "{parameter}" is annotated "{annotation}", '
        f"which a {_LOCATION_NOUNS[location]} cannot be converted to; use {supported}."
    )


def input_is_a_group(where: str, url: str, parameter: str, location: str) -> str:
    return (
        f'"{where}": parameter "{parameter}" is filled by url group "{parameter}" in '
        f"{quote_url(url)} and is also marked {_MARKERS[location]}; remove the marker or "
        "rename the group."
    )


def duplicate_wire_name(where: str, first: str, second: str, location: str, wire: str) -> str:
    return (
        f'"{where}": parameters {_names((first, second))} both read the '
        f'{_LOCATION_NOUNS[location]} "{wire}"; give one of them another name.'
    )


def several_bodies(where: str, parameters: Iterable[str]) -> str:
    names = list(parameters)
    every = "both" if len(names) == 2 else "all"
    return (
        f'"{where}": parameters {_names(names)} {every} take the request body, and a request '
        "has one; keep one typedsvc.Body parameter and put the values in its type."
    )


def body_without_body_method(where: str, url: str, parameter: str, methods: Iterable[str]) -> str:
    shown = " and ".join(methods)
    return (
        f'"{where}": parameter "{parameter}" takes the request body, but {quote_url(url)} is '
        f"routed for {shown} only, whose requests carry no body; route POST, PUT or PATCH "
        "to it, or read the value from the query."
    )


def marker_inside(where: str, url: str, parameter: str, location: str) -> str:
    marker = _MARKERS[location]
    return (
        f'"{where}": parameter "{parameter}" for url {quote_url(url)} has {marker} inside its '
        f"annotation, where it marks nothing, so the parameter is never read; put the marker "
        f"outermost: {marker}[T | None], not {marker}[T] | None."
    )


def input_outside_route(where: str, parameter: str, location: str, handler: str) -> str:
    return (
        f'"{where}": {_MARKERS[location]} parameter "{parameter}" of the {handler} is never '
        "filled: typed inputs are read for @typedsvc.http routes only; read the value from "
        "the request instead."
    )


def unreadable_body_type(where: str, parameter: str, annotation: str, reason: str) -> str:
    return (
        f'"{where}": typedsvc.Body parameter "{parameter}" is annotated "{annotation}", which '
        f"msgspec cannot decode JSON into ({reason}); use a TypedDict, a dataclass, a "
        "msgspec.Struct or the types they compose with."
    )


def url_for_not_a_route(name: str) -> str:
    return (
        f'url_for() takes a route\'s handler; "{name}" is not one: decorate it with '
        "@typedsvc.http(...)."
    )


def url_for_not_reversible(where: str, url: str, reason: str) -> str:
    return (
        f'"{where}": url_for() cannot write a path for {quote_url(url)}: {reason}; write the '
        "url as literal text and named groups."
    )


def url_for_unknown_name(where: str, name: str) -> str:
    return (
        f'"{where}": url_for() got "{name}", which is neither a url group nor a '
        "typedsvc.Query parameter of the handler."
    )


def url_for_missing_group(where: str, name: str) -> str:
    return f'"{where}": url_for() needs a value for url group "{name}".'


def url_for_missing_query(where: str, name: str) -> str:
    return f'"{where}": url_for() needs the query parameter "{name}".'


def url_for_wrong_type(where: str, name: str, expected: str, got: str) -> str:
    return f'"{where}": url_for() value of "{name}" must be {expected}, got {got}.'


def url_for_too_many(where: str, takes: int, got: int) -> str:
    return f'"{where}": url_for() takes {takes} values by position, got {got}.'
