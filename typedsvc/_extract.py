"""A route's arguments read from a request: url groups, query, headers, cookies and body.

Everything that can be worked out from the route is worked out once, when the application
is made: a converter per value, msgspec's decoder for the body. Every invalid input of a
request is collected before the request is answered (see ``_problems``).
"""

from __future__ import annotations

import functools
import inspect
import keyword
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import CodeType
from typing import Any, Final, NamedTuple, Protocol, TypeAlias

from aiohttp import web

from typedsvc._body import JsonBody
from typedsvc._convert import Converter, converter, to_int, to_text
from typedsvc._inputs import Location
from typedsvc._params import element_type
from typedsvc._problems import (
    InputError,
    InputLocation,
    problem,
)
from typedsvc._specs import RouteInput
from typedsvc._types import ResponseValue

# Conversions of url groups: (group name, converter, what the text must be).
GroupConversions = Sequence[tuple[str, Converter, str]]

_MAX_ECHOED_VALUE: Final = 60
_NOUNS: Final[dict[InputLocation, str]] = {
    "path": "url parameter",
    "query": "query parameter",
    "header": "header",
    "cookie": "cookie",
}


def group_arguments(
    match_info: Mapping[str, object],
    conversions: GroupConversions,
    required: Sequence[str],
    group_count: int,
    request: web.Request,
) -> dict[str, object]:
    """A handler's keyword arguments from its url groups, converted to the parameters' types.

    Raises the 400 of every group that does not convert.
    """
    try:
        return _groups(match_info, conversions, required, group_count)
    except ValueError:
        # Rare: go over the groups again, to list each one that fails.
        errors: list[InputError] = []
        _groups(match_info, conversions, required, group_count, errors)
        raise problem(request, errors) from None


def _groups(
    match_info: Mapping[str, object],
    conversions: GroupConversions,
    required: Sequence[str],
    group_count: int,
    errors: list[InputError] | None = None,
) -> dict[str, object]:
    """The url groups, converted; the first that does not convert raises ValueError, or
    with ``errors`` each one adds its InputError there."""
    kwargs: dict[str, object] = dict(match_info)
    if len(kwargs) < group_count:
        for name in required:
            # An optional group without a default still gets a value: the empty string.
            kwargs.setdefault(name, "")
    for name, convert, type_name in conversions:
        # From kwargs: a required group that took no part in the match is "" there.
        text = kwargs.get(name)
        if isinstance(text, str):
            try:
                kwargs[name] = convert(text)
            except ValueError:
                if errors is None:
                    raise
                errors.append(_bad_value("path", name, text, type_name))
    return kwargs


class _Value(NamedTuple):
    """A query parameter, header or cookie as the reader takes it."""

    name: str
    wire: str
    # None for a str from the query, which needs no converting.
    convert: Converter | None
    type_name: str
    is_list: bool
    required: bool


class Reader:
    """Reads every argument of one route's handler from a request.

    Made once per route with inputs. ``reader.read(request, match_info)`` gives the
    keyword arguments of a route without a body, ``await reader.read_body(...)`` those of
    one with a body (``has_body``); both raise the problem that lists every invalid input.
    Reading without a body takes no coroutine: it is most routes with inputs.
    ``reader.caller(handler)`` reads a route without a body and calls the handler at once.
    """

    __slots__ = ("_body", "_conversions", "_values", "has_body", "read")

    def __init__(
        self,
        conversions: GroupConversions,
        required: Sequence[str],
        group_count: int,
        inputs: Sequence[RouteInput],
    ) -> None:
        # None when the route has no url group to read.
        self._conversions = (conversions, required, group_count) if group_count else None
        values: dict[Location, list[_Value]] = {"query": [], "header": [], "cookie": []}
        self._body: JsonBody | None = None
        for entry in inputs:
            source = entry.source
            if source.location == "body":
                assert entry.decoder is not None
                self._body = JsonBody(
                    entry.name, entry.annotation, entry.decoder, not entry.has_default
                )
                continue
            assert source.type is not None
            assert source.type.scalar is not None
            convert: Converter | None
            # yarl has made U+FFFD of a query's bytes that are not UTF-8 already.
            text = str if source.location == "query" else to_text
            convert, type_name = converter(source.type.scalar, element_type(entry.annotation), text)
            if convert is str:
                convert = None
            values[source.location].append(
                _Value(
                    entry.name,
                    source.wire,
                    convert,
                    type_name,
                    source.type.is_list,
                    not entry.has_default,
                )
            )
        self.has_body = self._body is not None
        self._values = values
        # Written for this route: see inputs_reader().
        self.read: InputsReader = inputs_reader(self._conversions, values)

    def caller(self, call: Callable[..., Awaitable[ResponseValue]]) -> InputsCaller | None:
        """Reads the inputs of a route without a body, then calls ``call`` with them (see
        inputs_caller())."""
        assert not self.has_body
        return inputs_caller(self._conversions, self._values, call)

    async def read_body(
        self, request: web.Request, match_info: Mapping[str, object]
    ) -> dict[str, object]:
        """The handler's keyword arguments, the body's included."""
        errors: list[InputError] = []
        kwargs = self.read(request, match_info, errors)
        assert self._body is not None
        await self._body.read(request, kwargs, errors)
        if errors:
            refused = problem(request, errors)
            if request.content.exception() is not None:
                # A body aiohttp could not read: where it ends, and the next request on the
                # connection begins, is unknown.
                refused.force_close()
            raise refused
        return kwargs


class InputsReader(Protocol):
    """Reads the inputs of one route but its body, into the handler's keyword arguments.

    Without ``errors`` it raises the problem of the invalid ones; with it, it adds them there.
    """

    def __call__(
        self,
        request: web.Request,
        match_info: Mapping[str, object],
        errors: list[InputError] | None = None,
        /,
    ) -> dict[str, object]: ...


# Reads the inputs of one route without a body and calls its handler with them.
InputsCaller: TypeAlias = Callable[[web.Request], Awaitable[ResponseValue]]


_LOCATIONS: Final[tuple[tuple[Location, str], ...]] = (
    ("query", "request.query"),
    ("header", "request.headers"),
    ("cookie", "request.cookies"),
)


def inputs_reader(
    conversions: tuple[GroupConversions, Sequence[str], int] | None,
    values: Mapping[Location, Sequence[_Value]],
) -> InputsReader:
    """A function that reads a route's url groups, query, headers and cookies, written for
    them when the application is made.

    It is the code one would write by hand for these inputs (a ``get``, a ``None`` test, a
    conversion in ``try``), so a request pays no loop over a generic description of them
    and one Python call for all: for three query parameters, half the time of a loop.
    """
    lines = ["def read(request, match_info, errors=None, /):"]
    lines.append("    found = [] if errors is None else errors")
    namespace = _namespace(conversions)
    lines += _reading(conversions, values, namespace, into_locals=False)
    lines += [
        "    if found and errors is None:",
        "        raise problem(request, found)",
        "    return kwargs",
    ]
    read: InputsReader = _compiled(lines, namespace, "read", "inputs")
    return read


def groups_caller(
    conversions: GroupConversions,
    required: Sequence[str],
    groups: Sequence[str],
    call: Callable[..., Awaitable[ResponseValue]],
) -> InputsCaller | None:
    """A function that reads a route's url groups and calls ``call`` with each by name:
    ``call(request, n=to_int(match_info["n"]))``, the call one would write by hand.

    A request whose match left a group out, or whose group does not convert, goes to
    group_arguments(), which fills in what is missing or raises the problem that lists every
    bad group. Against converting a copy of match_info and unpacking it into the call, about
    4,500 instructions a request for one int group and 1,000 for a str one (2 % and 0.5 % of
    such a request, bench/instructions.py). None for a group named like a Python keyword,
    which only a handler taking ``**kwargs`` can have: such a route passes a dict.
    """
    if any(keyword.iskeyword(name) for name in groups):
        return None
    namespace: dict[str, Any] = {
        "call": call,
        "group_arguments": group_arguments,
        "conversions": conversions,
        "required": required,
        "group_count": len(groups),
    }
    general = (
        "call(request, **group_arguments(match_info, conversions, required, group_count, request))"
    )
    lines = [
        "def invoke(request, /):",
        "    match_info = request.match_info",
        "    if len(match_info) < group_count:",
        f"        return {general}",
    ]
    converted = {name: convert for name, convert, _ in conversions}
    reads: list[str] = []
    for index, name in enumerate(groups, 1):
        if name in converted:
            namespace[f"convert_{index}"] = converted[name]
            reads.append(f"        arg_{index} = convert_{index}(match_info[{name!r}])")
        else:
            lines.append(f"    arg_{index} = match_info[{name!r}]")
    if reads:
        lines += ["    try:", *reads, "    except ValueError:", f"        return {general}"]
    passed = ", ".join(f"{name}=arg_{index}" for index, name in enumerate(groups, 1))
    lines.append(f"    return call(request, {passed})")
    invoke: InputsCaller = _compiled(lines, namespace, "invoke", "url groups")
    return invoke


def inputs_caller(
    conversions: tuple[GroupConversions, Sequence[str], int] | None,
    values: Mapping[Location, Sequence[_Value]],
    call: Callable[..., Awaitable[ResponseValue]],
) -> InputsCaller | None:
    """A function that reads the inputs as ``inputs_reader()``'s does, then calls ``call``
    with them: ``call(request, q=..., limit=...)``, the call one would write by hand.

    Each input goes into a local variable passed by name, which spares filling a dict and
    unpacking it into the call: about 2,500 instructions a request, 1 % of a GET with three
    query parameters (bench/instructions.py). An optional input the request lacks is passed
    as its parameter's default. None when the signature does not show that default (a
    decorator without ``functools.wraps`` hides it): such a route passes a dict.
    """
    try:
        parameters = inspect.signature(call).parameters
    except (TypeError, ValueError):  # pragma: no cover - a handler is a Python function
        return None
    namespace = _namespace(conversions)
    namespace["call"] = call
    lines = ["def invoke(request, /):", "    found = []"]
    if conversions is not None:
        lines.append("    match_info = request.match_info")
    passed: list[str] = []
    for index, value in enumerate(_each(values), 1):
        if not value.required:
            parameter = parameters.get(value.name)
            if parameter is None or parameter.default is inspect.Parameter.empty:
                return None
            namespace[f"default_{index}"] = parameter.default
            lines.append(f"    arg_{index} = default_{index}")
        passed.append(f"{value.name}=arg_{index}")
    lines += _reading(conversions, values, namespace, into_locals=True)
    groups = ["**kwargs"] if conversions is not None else []
    lines += [
        "    if found:",
        "        raise problem(request, found)",
        f"    return call(request, {', '.join([*groups, *passed])})",
    ]
    invoke: InputsCaller = _compiled(lines, namespace, "invoke", "inputs")
    return invoke


def _namespace(
    conversions: tuple[GroupConversions, Sequence[str], int] | None,
) -> dict[str, Any]:
    # Any: the exec defines a function, which nothing can type before it runs.
    return {
        "groups": _groups,
        "conversions": conversions,
        "problem": problem,
        "missing": _missing_error,
        "bad": _bad_value,
        "convert_all": _convert_all,
        "to_int": to_int,
    }


def _each(values: Mapping[Location, Sequence[_Value]]) -> list[_Value]:
    """The inputs in the order the code reads them, which numbers them."""
    return [value for location, _ in _LOCATIONS for value in values[location]]


def _reading(
    conversions: tuple[GroupConversions, Sequence[str], int] | None,
    values: Mapping[Location, Sequence[_Value]],
    namespace: dict[str, Any],
    *,
    into_locals: bool,
) -> list[str]:
    """The lines that read the url groups into ``kwargs``, and each input into
    ``kwargs[name]`` or, ``into_locals``, into ``arg_<n>``; errors go to ``found``."""
    if conversions is not None:
        lines = ["    kwargs = groups(match_info, *conversions, found)"]
    else:
        # The caller passes each input by name: without groups it has no dict to fill.
        lines = [] if into_locals else ["    kwargs = {}"]
    index = 0
    for location, source in _LOCATIONS:
        if not values[location]:
            continue
        lines.append(f"    found_in = {source}")
        for name, wire, convert, type_name, is_list, required in values[location]:
            index += 1
            # Names and text go in as literals (repr), functions through the namespace.
            field, where = repr(wire), repr(location)
            target = f"arg_{index}" if into_locals else f"kwargs[{name!r}]"
            namespace[f"convert_{index}"] = convert
            namespace[f"type_{index}"] = type_name
            absent = f"found.append(missing({where}, {field}))" if required else "pass"
            if is_list:
                lines += [
                    f"    texts = found_in.getall({field}, None)",
                    "    if texts is None:",
                    f"        {absent}",
                    "    else:",
                ]
                if convert is None:
                    lines.append(f"        {target} = texts")
                else:
                    lines += [
                        f"        converted = convert_all({field}, convert_{index},"
                        f" type_{index}, texts, found)",
                        "        if converted is not None:",
                        f"            {target} = converted",
                    ]
                continue
            lines += [
                f"    text = found_in.get({field})",
                "    if text is None:",
                f"        {absent}",
            ]
            if convert is None:
                lines += ["    else:", f"        {target} = text"]
                continue
            lines += ["    else:", "        try:"]
            if convert is to_int:
                # The usual int, ASCII digits, without a call to to_int(). (int() refuses
                # more than 4300 digits with a ValueError too.)
                lines += [
                    "            if text.isdigit() and text.isascii():",
                    f"                {target} = int(text)",
                    "            else:",
                    f"                {target} = convert_{index}(text)",
                ]
            else:
                lines.append(f"            {target} = convert_{index}(text)")
            lines += [
                "        except ValueError:",
                f"            found.append(bad({where}, {field}, text, type_{index}))",
            ]
    return lines


def _compiled(lines: list[str], namespace: dict[str, Any], name: str, reads: str) -> Any:
    # The file name a traceback through the code shows: "<typedsvc inputs invoke>".
    exec(_code("\n".join(lines), f"<typedsvc {reads} {name}>"), namespace)
    return namespace[name]


@functools.lru_cache(maxsize=1024)
def _code(source: str, filename: str) -> CodeType:
    # Routes of one shape (the same group and input names, the same conversions) have one
    # source, each route's functions coming in through its namespace: compiled once, a
    # route costs an exec() of a few microseconds at start-up instead of a compile() of
    # about a hundred (bench/define.py: create_app() of 1000 routes).
    return compile(source, filename, "exec")


def _convert_all(
    wire: str,
    convert: Converter,
    type_name: str,
    texts: list[str],
    errors: list[InputError],
) -> list[object] | None:
    """Every value of a repeated query parameter, converted; None, with an error for each
    that does not convert, when one does not."""
    converted: list[object] = []
    for text in texts:
        try:
            converted.append(convert(text))
        except ValueError:
            errors.append(_bad_value("query", wire, text, type_name))
    return converted if len(converted) == len(texts) else None


def _missing_error(location: InputLocation, name: str) -> InputError:
    return InputError(location, name, f'{_NOUNS[location]} "{name}" is required.')


def _bad_value(location: InputLocation, name: str, text: str, type_name: str) -> InputError:
    shown = text if len(text) <= _MAX_ECHOED_VALUE else text[:_MAX_ECHOED_VALUE] + "..."
    message = f'{_NOUNS[location]} "{name}" must be {type_name}, got {shown!r}.'
    return InputError(location, name, message)
