"""url_for(): the path of a route from its handler and values, typed by the handler.

Each value is written back as the route reads it (an int as digits, a bool as ``true``,
an Enum as its value), percent-encoded, and read back with the route's own converter and
pattern before the path is given out: a value the route would refuse is refused here.
Whether a route's url can be written at all is decided when the route is defined.
"""

from __future__ import annotations

import enum
import inspect
import re
import weakref
from collections.abc import Callable, Coroutine, Mapping
from typing import (
    Annotated,
    Any,
    Concatenate,
    Final,
    Literal,
    NamedTuple,
    ParamSpec,
    TypeVar,
    get_args,
    get_origin,
)
from urllib.parse import quote, urlencode

from aiohttp import web

from typedsvc import _errors
from typedsvc._convert import Converter, converter
from typedsvc._params import display, element_type
from typedsvc._service import Service
from typedsvc._signature import describe, handler_name
from typedsvc._specs import ROUTES_ATTR, RouteSpec
from typedsvc._template import Group, template
from typedsvc._urls import compile_url

S = TypeVar("S", bound=Service)
P = ParamSpec("P")
R = TypeVar("R")

# How the router sees a value inside a path (yarl's path_safe): decoded, but "%" and "/".
_KEPT_ENCODED: Final = str.maketrans({"%": "%25", "/": "%2F"})
# Whole path segments that clients resolve away (RFC 3986, section 5.2.4).
_DOT_SEGMENTS: Final = (".", "..")
# Kept as they are in a path's literal text: they mean nothing else there.
_PATH_SAFE: Final = "/:@!$&'()*+,;=~"


def url_for(
    handler: Callable[Concatenate[S, web.Request, P], Coroutine[Any, Any, R]],
    /,
    *args: P.args,
    **values: P.kwargs,
) -> str:
    """The path (and query string) that reaches ``handler`` with ``values``.

    ``handler`` is a route's method, from its class (``Users.get_user``); ``values`` fill
    its url groups and its ``typedsvc.Query`` parameters, as the handler would take them.
    Raises TypeError for a handler that is not a route, a url that cannot be written, a
    name or a type the route does not take, a missing group; ValueError for a value the
    route would not read back.
    """
    route = _route_of(handler)
    return route.path_for({**route.by_position(args), **values} if args else values)


class _Value(NamedTuple):
    """A url group or a query parameter as url_for writes it."""

    name: str
    # What a value must be, and the route's own reading of the text written.
    kind: type | tuple[type, ...]
    type_name: str
    read: Converter | None
    is_list: bool
    # The parameter's type as mypy writes it (the plugin's message is the same text), and
    # the values of a Literal, which mypy checks too.
    shown: str = "str"
    literals: tuple[object, ...] | None = None


class _Route:
    """What url_for needs of one route, worked out at its first use."""

    def __init__(self, spec: RouteSpec, func: Callable[..., object]) -> None:
        self.where = spec.where
        self.url = spec.url
        parameters = inspect.signature(func).parameters
        # After self and the request, as the handler would take them.
        self.positional = [
            name
            for name, param in list(parameters.items())[2:]
            if param.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        ]
        self.defaults = {
            name: param.default
            for name, param in parameters.items()
            if param.default is not inspect.Parameter.empty
        }
        _, annotations = describe(func)
        conversions = {name: (convert, type_name) for name, convert, type_name in spec.conversions}
        self.groups: dict[str, _Value] = {}
        for name in spec.groups:
            convert, type_name = conversions.get(name, (None, "str"))
            self.groups[name] = _group_value(name, annotations.get(name), convert, type_name)
        self.query: dict[str, tuple[str, _Value, bool]] = {}
        for entry in spec.inputs:
            source = entry.source
            if source.location != "query" or source.type is None or source.type.scalar is None:
                continue
            element = element_type(entry.annotation)
            read, type_name = converter(source.type.scalar, element)
            value = _Value(
                entry.name,
                _python_type(element),
                type_name,
                read,
                source.type.is_list,
                display(entry.annotation),
                _literals(element),
            )
            self.query[entry.name] = (source.wire, value, not entry.has_default)
        self.parts = template(spec.url).parts
        self.patterns = {
            part.name: re.compile(part.pattern) for part in self.parts if isinstance(part, Group)
        }
        self.whole = compile_url(spec.url)

    def by_position(self, args: tuple[object, ...]) -> dict[str, object]:
        if len(args) > len(self.positional):
            raise TypeError(_errors.url_for_too_many(self.where, len(self.positional), len(args)))
        return dict(zip(self.positional, args, strict=False))

    def path_for(self, values: Mapping[str, object]) -> str:
        for name in values:
            if name not in self.groups and name not in self.query:
                raise TypeError(_errors.url_for_unknown_name(self.where, name))
        path: list[str] = []
        seen: list[str] = []
        written: dict[str, str] = {}
        for part in self.parts:
            if isinstance(part, str):
                path.append(quote(part, safe=_PATH_SAFE))
                seen.append(part)
                continue
            text = self._group_text(part.name, values)
            pattern = self.patterns[part.name]
            # As the route sees it: a slash in a value is sent encoded and stays in its
            # segment; for a group that takes slashes (a path below a prefix), it is sent
            # as it is.
            kept = text.translate(_KEPT_ENCODED)
            if pattern.fullmatch(kept):
                path.append(quote(text, safe=""))
                segments = [text]
            elif "/" in text and pattern.fullmatch(kept := text.replace("%", "%25")):
                path.append(quote(text, safe="/"))
                segments = text.split("/")
            else:
                raise ValueError(
                    f'"{self.where}": url_for() value {text!r} of url group "{part.name}" '
                    f'does not match its pattern r"{part.pattern}".'
                )
            for segment in segments:
                if segment in _DOT_SEGMENTS:
                    raise ValueError(
                        f'"{self.where}": url_for() value {segment!r} of url group '
                        f'"{part.name}" would be a dot segment, which clients remove from a '
                        "path."
                    )
            written[part.name] = kept
            seen.append(kept)
        self._read_back("".join(seen), written)
        pairs: list[tuple[str, str]] = []
        for name, (wire, value, required) in self.query.items():
            given = values.get(name)
            if given is None:
                if required and name not in values:
                    raise TypeError(_errors.url_for_missing_query(self.where, name))
                continue
            if not value.is_list:
                pairs.append((wire, _write(self.where, value, given)))
            elif isinstance(given, list | tuple):
                items: list[object] | tuple[object, ...] = given  # pyright: ignore[reportUnknownVariableType]
                pairs.extend((wire, _write(self.where, value, item, listed=True)) for item in items)
            else:
                got = type(given).__name__
                raise TypeError(_errors.url_for_wrong_type(self.where, name, value.shown, got))
        query = urlencode(pairs, quote_via=quote)
        return "".join(path) + (f"?{query}" if query else "")

    def _read_back(self, path: str, written: dict[str, str]) -> None:
        """Check that the route reads ``path`` back into the groups' values as written.

        Each group matched its own pattern; together they may not (two groups side by side
        share out the text their own way, a lookaround sees its neighbours).
        """
        match = self.whole.fullmatch(path)
        for name, text in written.items():
            read = match[name] if match is not None else None
            if read != text:
                raise ValueError(
                    f'"{self.where}": url_for() values make the path {path!r}, which the route '
                    f'reads with url group "{name}" as {read!r}, not {text!r}.'
                )

    def _group_text(self, name: str, values: Mapping[str, object]) -> str:
        if name in values:
            given = values[name]
        elif name in self.defaults:
            given = self.defaults[name]
        else:
            raise TypeError(_errors.url_for_missing_group(self.where, name))
        return _write(self.where, self.groups[name], given)


def _route_of(handler: object) -> _Route:
    func = getattr(handler, "__func__", handler)
    specs = [spec for spec in getattr(func, ROUTES_ATTR, ()) if isinstance(spec, RouteSpec)]
    if not specs:
        name = handler_name(func) if callable(func) else repr(func)
        raise TypeError(_errors.url_for_not_a_route(name))
    spec = specs[0]
    if spec.reversal is not None:
        raise TypeError(_errors.url_for_not_reversible(spec.where, spec.url, spec.reversal))
    assert callable(func)
    route = _ROUTES.get(func)
    if route is None:
        route = _ROUTES[func] = _Route(spec, func)
    return route


# Worked out once per handler, at its first url_for().
_ROUTES: Final[weakref.WeakKeyDictionary[Callable[..., object], _Route]] = (
    weakref.WeakKeyDictionary()
)


def _write(where: str, value: _Value, given: object, *, listed: bool = False) -> str:
    """``given`` as the text the route reads back into it (an item of a list, ``listed``)."""
    # A bool is an int to isinstance(), but no int to a route.
    if (
        not isinstance(given, value.kind)
        or (isinstance(given, bool) and value.kind is not bool)
        or (value.literals is not None and given not in value.literals)
    ):
        # As mypy writes the type of a list of such items: list[int].
        got = f"list[{type(given).__name__}]" if listed else type(given).__name__
        raise TypeError(_errors.url_for_wrong_type(where, value.name, value.shown, got))
    if isinstance(given, bool):
        text = "true" if given else "false"
    elif isinstance(given, enum.Enum):
        text = str(given.value)
    else:
        text = str(given)
    if value.read is not None:
        try:
            same = value.read(text) == given
        except ValueError:
            same = False
        if not same:
            raise ValueError(
                f'"{where}": url_for() value {given!r} of "{value.name}" is one the route '
                f"cannot read back ({value.type_name})."
            )
    return text


def _group_value(
    name: str, annotation: object, convert: Converter | None, type_name: str
) -> _Value:
    if convert is None:
        return _Value(name, str, "str", None, False)
    element = element_type(annotation)
    return _Value(
        name,
        _python_type(element),
        type_name,
        convert,
        False,
        display(annotation),
        _literals(element),
    )


def _literals(annotation: object) -> tuple[object, ...] | None:
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return get_args(annotation) if get_origin(annotation) is Literal else None


def _python_type(annotation: object) -> type | tuple[type, ...]:
    """The class (or classes) a value of ``annotation`` must be an instance of."""
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) is Literal:
        return str
    if annotation is float:
        # An int is a float to a type checker, and reads back as one.
        return (int, float)
    return annotation if isinstance(annotation, type) else str
