"""The route decorators: check the handler at decoration, record a spec, return it unchanged."""

from __future__ import annotations

import enum
import functools
import inspect
import re
import uuid
from collections.abc import Callable, Coroutine, Sequence, Set
from dataclasses import dataclass
from inspect import CO_COROUTINE, CO_VARARGS, CO_VARKEYWORDS
from types import CodeType, FunctionType
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    Concatenate,
    Final,
    NamedTuple,
    ParamSpec,
    Protocol,
    TypeAlias,
    TypeVar,
    get_args,
    get_origin,
)

import msgspec
from aiohttp import web

from typedsvc import _errors, _params, _urls
from typedsvc._convert import Converter, converter
from typedsvc._errors import DefinitionError
from typedsvc._inputs import InputSource
from typedsvc._types import HttpMethod, ResponseValue

if TYPE_CHECKING:
    from typedsvc._service import Service

S = TypeVar("S", bound="Service")
P = ParamSpec("P")
R = TypeVar("R", bound=ResponseValue)

Handler: TypeAlias = Callable[Concatenate[S, web.Request, P], Coroutine[Any, Any, R]]

ROUTES_ATTR: Final = "__typedsvc_routes__"
ERRORS_ATTR: Final = "__typedsvc_error_handlers__"

_KINDS: Final[dict[str, _urls.ParamKind]] = {
    "POSITIONAL_ONLY": "positional_only",
    "POSITIONAL_OR_KEYWORD": "positional_or_keyword",
    "VAR_POSITIONAL": "var_positional",
    "KEYWORD_ONLY": "keyword_only",
    "VAR_KEYWORD": "var_keyword",
}
_EMPTY: Final = inspect.Parameter.empty


class RouteSpec(NamedTuple):
    """One ``@http`` on one handler, checked and ready to serve.

    A NamedTuple, as the one spec built per route: a frozen dataclass takes a few
    microseconds longer to build, which a class of many routes pays at import.
    """

    where: str
    methods: tuple[str, ...]
    url: str
    # The url's named groups, in order; the pattern is compiled when an app is made.
    groups: tuple[str, ...]
    # (group name, converter, type name for the 400 message); str groups are left out.
    conversions: tuple[tuple[str, Converter, str], ...]
    # Groups whose parameter has no default: always passed, as "" when the group did not match.
    required_groups: tuple[str, ...]
    ignore_logging: bool | frozenset[int]
    # The parameters read from the query, headers, cookies and body.
    inputs: tuple[RouteInput, ...] = ()


class RouteInput(NamedTuple):
    """A handler parameter read from the request (``typedsvc.Query[int]``, ...)."""

    name: str
    source: InputSource
    # The type the marker marks: Query[int] marks int.
    annotation: object
    has_default: bool
    # The body's decoder, made at import: making it is what tells whether msgspec can.
    decoder: msgspec.json.Decoder[Any] | None = None


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    """One ``@http_error`` on one handler."""

    where: str
    status: int
    takes_status_code: bool


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
                raise DefinitionError(problems[0])
            plan = _plan(shape.params, resolved, _urls.url_groups(url).names)
            inputs = _inputs(where, shape.params, resolved)
        spec = RouteSpec(where, methods, url, *plan, ignored, inputs)
        record(func, ROUTES_ATTR, spec)
        return func


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
        if param is not None and param.conversion not in (None, "str"):
            conversions.append((group, *converter(param.conversion, resolved[group])))
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
        msgspec.json.schema(annotation)
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
    key = _code_key(func)
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
def _plan_for(key: _CodeKey, groups: _urls.UrlGroups) -> _Plan | None:
    known = _classes_only(key)
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
        status_code: object = self._status
        where = handler_name(func)
        if isinstance(status_code, bool) or not isinstance(status_code, int):
            raise DefinitionError(_errors.invalid_error_status(where, status_code))
        shape, _ = describe(func, where)
        problems = _urls.check_error_handler(shape, status_code)
        if problems:
            raise DefinitionError(problems[0])
        rest = [p for p in shape.params[2:] if p.kind not in ("var_positional", "var_keyword")]
        takes_status = any(p.name == "status_code" for p in rest) or any(
            p.kind == "var_keyword" for p in shape.params
        )
        record(func, ERRORS_ATTR, ErrorSpec(where, status_code, takes_status))
        return func


def handler_name(func: Callable[..., object]) -> str:
    """``Class.method`` for a method defined in a class body, ignoring enclosing functions."""
    qualname: str = getattr(func, "__qualname__", None) or repr(func)
    owner, _, name = qualname.rpartition(".")
    owner = owner.rpartition(".")[2]
    return f"{owner}.{name}" if owner and owner != "<locals>" else name


def describe(
    func: Callable[..., object], where: str | None = None
) -> tuple[_urls.HandlerShape, dict[str, object]]:
    """The handler's shape for the pure checks, and its resolved parameter annotations.

    ``where`` is the handler's name when the caller has it already.
    """
    key = _code_key(func)
    try:
        known = _classes_only(key) if key is not None else None
    except TypeError:  # an annotation that cannot be hashed
        known = None
    if known is not None:
        # A copy: the caller may change its dict, never the cached one.
        params, resolved = known[0], dict(known[1])
    else:
        found = _read_code_key(key) if key is not None else _parameters(func)
        params, resolved = _describe_each(func, found)
    if isinstance(func, FunctionType) and func.__code__.co_flags & CO_COROUTINE:
        is_async = True
    else:
        is_async = inspect.iscoroutinefunction(func)
    shape = _urls.HandlerShape(where or handler_name(func), is_async, params)
    return shape, resolved


# Many handlers share a signature: (self, request), (self, request, item_id: int). When
# every parameter's annotation is a class (or missing: inspect's empty is a class too),
# equal code keys are the same parameters, as classes compare by identity, and their
# Params are built once. A string annotation's value depends on its module, and equal
# annotations of other kinds (1 and True) display differently: those go one by one.
@functools.lru_cache(maxsize=256)
def _classes_only(key: _CodeKey) -> tuple[tuple[_urls.Param, ...], dict[str, object]] | None:
    found = _read_code_key(key)
    if not all(isinstance(parameter[3], type) for parameter in found):
        return None
    return _describe_each(None, found)


def _describe_each(
    func: Callable[..., object] | None, found: list[_Parameter]
) -> tuple[tuple[_urls.Param, ...], dict[str, object]]:
    """The Params of ``found`` and the resolved annotations; ``func`` evaluates strings."""
    params: list[_urls.Param] = []
    resolved: dict[str, object] = {}
    for name, kind, has_default, written in found:
        if isinstance(written, str):
            assert func is not None
            annotation, ok = resolve_annotation(func, written)
            source = _params.source_of(name, annotation) if ok else None
            conversion = _conversion(annotation) if ok and source is None else None
            param = _urls.Param(name, kind, has_default, written, conversion, ok, source)
        else:
            annotation = written
            try:
                param = _param(name, kind, has_default, written)
            except TypeError:  # an annotation that cannot be hashed
                param = _param.__wrapped__(name, kind, has_default, written)
        if param.resolved:
            resolved[name] = annotation
        params.append(param)
    return tuple(params), resolved


# Handlers repeat their parameters: every one has self and the request, many an
# ``item_id: int``. Their Param is built once; only an evaluated annotation is cached,
# as a string's value depends on the module it is evaluated in. Typed, so that equal
# annotations of other types (1 and True) keep their own display.
@functools.lru_cache(maxsize=1024, typed=True)
def _param(name: str, kind: _urls.ParamKind, has_default: bool, annotation: object) -> _urls.Param:
    display = None if annotation is _EMPTY else _params.display(annotation)
    source = _params.source_of(name, annotation)
    if source is not None:
        return _urls.Param(name, kind, has_default, display, None, True, source)
    return _urls.Param(name, kind, has_default, display, _conversion(annotation), True)


# A parameter: its name, kind, whether it has a default, and its annotation as written.
_Parameter: TypeAlias = tuple[str, _urls.ParamKind, bool, object]


def _parameters(func: Callable[..., object]) -> list[_Parameter]:
    """The parameters ``inspect.signature`` gives, read from the code object when it can.

    A plain function's are read directly: a tenth of the time, which counts for a class
    of many routes. Anything else (a wrapper with ``__wrapped__``, an explicit
    ``__signature__``, a callable object) goes through ``inspect.signature``.
    """
    key = _code_key(func)
    if key is not None:
        return _read_code_key(key)
    return [
        (
            param.name,
            _KINDS[param.kind.name],
            param.default is not inspect.Parameter.empty,
            param.annotation,
        )
        for param in inspect.signature(func).parameters.values()
    ]


# All a plain function's parameters are read from: the names of its parameters, how many
# are positional-only, positional and keyword-only, its *args and **kwargs flags, how many
# positional parameters have a default, the keyword-only ones that have one, and its
# annotations (the return's too). Equal keys, equal parameters.
_CodeKey: TypeAlias = tuple[
    tuple[str, ...], int, int, int, int, int, tuple[str, ...], tuple[str, ...], tuple[object, ...]
]
_STARS: Final = CO_VARARGS | CO_VARKEYWORDS
_STAR_NAMES: Final = {0: 0, CO_VARARGS: 1, CO_VARKEYWORDS: 1, _STARS: 2}


def _code_key(func: Callable[..., object]) -> _CodeKey | None:
    """What a plain function's parameters are read from; None for any other callable."""
    # A function's own attributes are all in its __dict__ (hasattr would raise inside).
    if (
        not isinstance(func, FunctionType)
        or "__wrapped__" in func.__dict__
        or "__signature__" in func.__dict__
    ):
        return None
    code = func.__code__
    annotations = func.__annotations__
    stars = code.co_flags & _STARS
    # co_varnames lists the positional names, the keyword-only ones, then *args and
    # **kwargs when there are, then the other locals.
    count = code.co_argcount + code.co_kwonlyargcount + _STAR_NAMES[stars]
    return (
        code.co_varnames[:count],
        code.co_posonlyargcount,
        code.co_argcount,
        code.co_kwonlyargcount,
        stars,
        len(func.__defaults__ or ()),
        tuple(func.__kwdefaults__ or ()),
        # Names and values apart: two tuples, not one per annotation, for the cache to keep.
        tuple(annotations),
        tuple(annotations.values()),
    )


def _read_code_key(key: _CodeKey) -> list[_Parameter]:
    """The parameters in ``inspect.signature``'s order and terms, from a code key."""
    (
        names,
        positional_only,
        positional,
        keyword_only,
        stars,
        defaults,
        with_default,
        annotated,
        annotations_given,
    ) = key
    first_default = positional - defaults
    annotations = dict(zip(annotated, annotations_given, strict=True))
    empty = inspect.Parameter.empty
    found: list[_Parameter] = []
    for index, name in enumerate(names[:positional]):
        kind: _urls.ParamKind = (
            "positional_only" if index < positional_only else "positional_or_keyword"
        )
        found.append((name, kind, index >= first_default, annotations.get(name, empty)))
    # *args comes after the keyword-only names in co_varnames, before them in a signature.
    star = positional + keyword_only
    if stars & CO_VARARGS:
        found.append((names[star], "var_positional", False, annotations.get(names[star], empty)))
        star += 1
    for name in names[positional : positional + keyword_only]:
        found.append((name, "keyword_only", name in with_default, annotations.get(name, empty)))
    if stars & CO_VARKEYWORDS:
        found.append((names[star], "var_keyword", False, annotations.get(names[star], empty)))
    return found


class _Undeclared:
    """The return type of a function that declares none, or one that does not resolve."""


UNDECLARED: Final = _Undeclared()


def declared_return(func: Callable[..., object]) -> object:
    """The return annotation of ``func``, evaluated; ``UNDECLARED`` when it has none that
    evaluates."""
    annotations: dict[str, object] | None = getattr(func, "__annotations__", None)
    if not isinstance(annotations, dict) or "return" not in annotations:
        return UNDECLARED
    declared = annotations["return"]
    if isinstance(declared, str):
        declared, resolved = resolve_annotation(func, declared)
        if not resolved:
            return UNDECLARED
    return declared


def resolve_annotation(func: Callable[..., object], annotation: str) -> tuple[object, bool]:
    """Evaluate a string annotation of ``func`` (``from __future__ import annotations``).

    Returns the value and True, or the string and False when it does not evaluate.
    """
    namespace = getattr(func, "__globals__", {})
    try:
        return eval(_compiled(annotation), namespace), True
    except Exception:
        return annotation, False


@functools.lru_cache(maxsize=1024)
def _compiled(annotation: str) -> CodeType:
    # A service repeats a few annotations ("int", "web.Request") over all its handlers;
    # compiling each again would cost more than the rest of the checks.
    return compile(annotation, "<annotation>", "eval")


_CONVERSIONS: Final[dict[type, _urls.Conversion]] = {
    _EMPTY: "str",
    str: "str",
    int: "int",
    float: "float",
    uuid.UUID: "uuid",
}


def _conversion(annotation: object) -> _urls.Conversion | None:
    if not isinstance(annotation, type):
        # Annotated[int, ...] converts as int, as mypy (and so the plugin) reads it.
        if get_origin(annotation) is Annotated:
            return _conversion(get_args(annotation)[0])
        return None
    conversion = _CONVERSIONS.get(annotation)
    if conversion is not None:
        return conversion
    if issubclass(annotation, enum.Enum) and all(
        isinstance(member.value, str) for member in annotation
    ):
        return "enum"
    return None


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


def record(func: object, attr: str, spec: object) -> None:
    """Add ``spec`` to what the decorators recorded on ``func`` under ``attr``."""
    specs: tuple[object, ...] = getattr(func, attr, ())
    setattr(func, attr, (*specs, spec))
