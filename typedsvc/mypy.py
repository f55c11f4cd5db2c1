"""The typedsvc mypy plugin: route checks at the decorator line, before the code runs.

Enable it with ``plugins = typedsvc.mypy`` in mypy.ini (``plugins = ["typedsvc.mypy"]``
in pyproject.toml). It reports, with error code ``typedsvc-url``, the mistakes in
``@typedsvc.http`` and ``@typedsvc.http_error`` that ``typedsvc.DefinitionError`` reports at
import, with the same text: both sides call ``typedsvc._urls``. (Duplicates are checked
within one class; the runtime also compares a class with its bases.) With error code
``typedsvc-url-for``, it reports what ``typedsvc.url_for()`` would raise for a call
(see ``typedsvc._mypy_url_for``).

How it works: the hooks on ``typedsvc.http(...)`` and ``typedsvc.http_error(...)`` read the
literal arguments from the call's argument types and record them on the returned decorator's
type (as extra attributes, which mypy keeps in its cache). The hooks on the decorators'
``__call__`` run when a decorator is applied, wherever it came from (a direct call, an
alias, a variable), and check those arguments against the handler's type.
"""

from __future__ import annotations

import hashlib
import http
import inspect
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

from mypy.checker import TypeChecker
from mypy.errorcodes import ErrorCode
from mypy.nodes import (
    Context,
    Decorator,
    ListExpr,
    SetExpr,
    StrExpr,
    TupleExpr,
    TypeInfo,
)
from mypy.options import Options
from mypy.plugin import (
    FunctionContext,
    FunctionSigContext,
    MethodContext,
    Plugin,
    ReportConfigContext,
)
from mypy.types import (
    CallableType,
    ExtraAttrs,
    FunctionLike,
    Instance,
    LiteralType,
    Type,
    get_proper_type,
)

from typedsvc import _errors, _inputs, _mypy_shape, _mypy_url_for, _template, _urls
from typedsvc._mypy_shape import shape
from typedsvc._mypy_url_for import URL_FOR_FULLNAME

HTTP_FULLNAME: Final = "typedsvc._decorators.http"
ROUTE_CALL_FULLNAME: Final = "typedsvc._decorators.RouteDecorator.__call__"
HTTP_ERROR_FULLNAME: Final = "typedsvc._decorators.http_error"
ERROR_CALL_FULLNAME: Final = "typedsvc._decorators.ErrorDecorator.__call__"
STATIC_FULLNAME: Final = "typedsvc._static.http_static"
STATIC_CALL_FULLNAME: Final = "typedsvc._static.StaticDecorator.__call__"
WEBSOCKET_FULLNAME: Final = "typedsvc._websocket.websocket"
WEBSOCKET_CALL_FULLNAME: Final = "typedsvc._websocket.WebsocketDecorator.__call__"
SERVICE_FULLNAME: Final = "typedsvc._service.Service"
# Extra attributes of a decorator's type that carry its literal arguments.
URL: Final = "__typedsvc_url__"
METHODS: Final = "__typedsvc_methods__"
STATUS: Final = "__typedsvc_status__"
RECORDED: Final = frozenset({URL, METHODS, STATUS})

TYPEDSVC_URL: Final = ErrorCode(
    "typedsvc-url", "Check a typedsvc url against its handler's parameters", "typedsvc"
)
TYPEDSVC_URL_LITERAL: Final = ErrorCode(
    "typedsvc-url-literal", "A typedsvc url that mypy cannot know statically", "typedsvc"
)

# Per class: (method, url key) or ("http_error", status) -> (handler name, its Decorator
# node, the decorator expression).
_Seen = dict[tuple[str, str], tuple[str, Decorator, Context]]


class TypedsvcPlugin(Plugin):
    """Checks ``@typedsvc.http`` and ``@typedsvc.http_error`` on methods of Service subclasses."""

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        # Kept between runs of dmypy; an entry from a node a class no longer has is replaced.
        self._seen: dict[str, _Seen] = {}
        self._checks_version = _checks_version()

    def report_config_data(self, ctx: ReportConfigContext) -> str:
        # mypy keeps each module's errors in its cache: when the checks change (typedsvc is
        # upgraded or edited), cached results must be thrown away.
        return self._checks_version

    def get_function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        if fullname == HTTP_FULLNAME:
            return _record_route
        if fullname == HTTP_ERROR_FULLNAME:
            return _record_error_status
        if fullname == STATIC_FULLNAME:
            return lambda ctx: _record_url(ctx, 1, "http_static")
        if fullname == WEBSOCKET_FULLNAME:
            return lambda ctx: _record_url(ctx, 0, "websocket")
        if fullname == URL_FOR_FULLNAME:
            return _mypy_url_for.check_call
        return None

    def get_function_signature_hook(
        self, fullname: str
    ) -> Callable[[FunctionSigContext], FunctionLike] | None:
        if fullname == URL_FOR_FULLNAME:
            return _mypy_url_for.loosen
        return None

    def get_method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        if fullname == ROUTE_CALL_FULLNAME:
            return self._check_route
        if fullname == ERROR_CALL_FULLNAME:
            return self._check_error_handler
        if fullname == STATIC_CALL_FULLNAME:
            return lambda ctx: self._check_url(
                ctx, ("GET", "HEAD"), lambda where, _, url: _urls.check_static_url(where, url)
            )
        if fullname == WEBSOCKET_CALL_FULLNAME:
            return lambda ctx: self._check_url(
                ctx, ("GET",), lambda _, shape, url: _urls.check_websocket(shape, url)
            )
        return None

    def _check_url(
        self,
        ctx: MethodContext,
        methods: tuple[str, ...],
        check: Callable[[str, _urls.HandlerShape, str], list[str]],
    ) -> Type:
        """``@http_static`` and ``@websocket``: ``check`` the url, then look for duplicates."""
        url = _recorded(ctx.type).get(URL)
        target = _target(ctx)
        if target is None or not isinstance(url, str):
            return ctx.default_return_type
        checker, info, decorator, handler = target
        where = f"{info.name}.{decorator.func.name}"
        at = _decorator_expression(checker, decorator, ctx.type)
        problems = check(where, shape(where, handler, decorator, checker), url)
        for problem in problems:
            checker.fail(problem, at, code=TYPEDSVC_URL)
        if not problems:
            self._check_methods(checker, info, methods, url, where, decorator, at)
        return ctx.default_return_type

    def _check_methods(
        self,
        checker: TypeChecker,
        info: TypeInfo,
        methods: Sequence[str],
        url: str,
        where: str,
        decorator: Decorator,
        at: Context,
    ) -> None:
        for method in methods:
            first = self._first_holder(info, (method, _urls.route_key(url)), where, decorator, at)
            if first is not None:
                message = _errors.duplicate_route(where, url, method, first)
                checker.fail(message, at, code=TYPEDSVC_URL)

    def _check_error_handler(self, ctx: MethodContext) -> Type:
        recorded = _recorded(ctx.type)
        target = _target(ctx)
        if target is None:
            return ctx.default_return_type
        checker, info, decorator, handler = target
        where = f"{info.name}.{decorator.func.name}"
        at = _decorator_expression(checker, decorator, ctx.type)
        known = recorded.get(STATUS)
        status = known if isinstance(known, int) else None
        problems = _urls.check_error_handler(shape(where, handler, decorator, checker), status)
        for problem in problems:
            checker.fail(problem, at, code=TYPEDSVC_URL)
        if not problems and status is not None:
            first = self._first_holder(info, ("http_error", str(status)), where, decorator, at)
            if first is not None:
                message = _errors.duplicate_error_handler(where, status, first)
                checker.fail(message, at, code=TYPEDSVC_URL)
        return ctx.default_return_type

    def _check_route(self, ctx: MethodContext) -> Type:
        recorded = _recorded(ctx.type)
        target = _target(ctx)
        if target is None:
            return ctx.default_return_type
        url, methods = recorded.get(URL), recorded.get(METHODS)
        if not isinstance(url, str):
            # Reported once where the url was given (typedsvc-url-literal).
            return ctx.default_return_type
        checker, info, decorator, handler = target
        where = f"{info.name}.{decorator.func.name}"
        at = _decorator_expression(checker, decorator, ctx.type)
        known = methods.split(",") if isinstance(methods, str) else []
        handler_shape = shape(where, handler, decorator, checker)
        problems = _urls.check_route(handler_shape, url, known)
        for problem in problems:
            checker.fail(problem, at, code=TYPEDSVC_URL)
        facts = None if problems else _mypy_url_for.facts_of(handler_shape, url)
        _mypy_url_for.remember(info, decorator.func.name, facts)
        if not problems and known:
            self._check_methods(checker, info, known, url, where, decorator, at)
        return ctx.default_return_type

    def _first_holder(
        self, info: TypeInfo, key: tuple[str, str], where: str, decorator: Decorator, at: Context
    ) -> str | None:
        """The handler that took ``key`` (a route, or an error status) first in this class.

        None when this decorator is the first, or is seen again.
        """
        seen = self._seen.setdefault(info.fullname, {})
        first = seen.setdefault(key, (where, decorator, at))
        if first[2] is at:
            return None
        symbol = info.names.get(first[1].func.name)
        if (
            symbol is None
            or symbol.node is not first[1]
            or not any(first[2] is expression for expression in first[1].decorators)
        ):
            # Left by an earlier dmypy run: from a node this class no longer has, or from a
            # decorator expression its handler no longer has (dmypy keeps the node of a
            # handler it parses again, with the new expressions in it).
            seen[key] = (where, decorator, at)
            return None
        return first[0]


def _checks_version() -> str:
    """A digest of the code that decides what the plugin reports."""
    digest = hashlib.sha256()
    for module in (
        sys.modules[__name__],
        _mypy_shape,
        _mypy_url_for,
        _urls,
        _errors,
        _inputs,
        _template,
    ):
        digest.update(Path(inspect.getfile(module)).read_bytes())
    return digest.hexdigest()[:16]


def _target(ctx: MethodContext) -> tuple[TypeChecker, TypeInfo, Decorator, CallableType] | None:
    """The checker, class, decorator node and handler type of a decorator applied in a Service."""
    decorator = ctx.context
    checker = ctx.api
    if not isinstance(decorator, Decorator) or not isinstance(checker, TypeChecker):
        return None
    info = checker.scope.active_class()
    if info is None or not info.has_base(SERVICE_FULLNAME):
        # Not a method of a Service: the decorator's own type rejects that.
        return None
    handler = get_proper_type(ctx.arg_types[0][0]) if ctx.arg_types and ctx.arg_types[0] else None
    if not isinstance(handler, CallableType):
        return None
    return checker, info, decorator, handler


def _record_route(ctx: FunctionContext) -> Type:
    """On ``http(method, url)``: put the literal methods and url on the returned type."""
    returned = get_proper_type(ctx.default_return_type)
    if not isinstance(returned, Instance) or len(ctx.arg_types) < 2 or not ctx.arg_types[1]:
        return ctx.default_return_type
    url = _literal_str(ctx.arg_types[1][0])
    if url is None:
        ctx.api.fail(_errors.url_not_literal("http"), ctx.context, code=TYPEDSVC_URL_LITERAL)
    record: dict[str, str | int] = {}
    if url is not None:
        record[URL] = url
    methods = _methods(ctx)
    if methods is not None:
        record[METHODS] = ",".join(methods)
    return _with_record(ctx, returned, record)


def _record_url(ctx: FunctionContext, index: int, decorator: str) -> Type:
    """On ``http_static(path, url)`` and ``websocket(url)``: put the literal url on the type."""
    returned = get_proper_type(ctx.default_return_type)
    if not isinstance(returned, Instance) or len(ctx.arg_types) <= index:
        return ctx.default_return_type
    url = _literal_str(ctx.arg_types[index][0]) if ctx.arg_types[index] else None
    if url is None:
        ctx.api.fail(_errors.url_not_literal(decorator), ctx.context, code=TYPEDSVC_URL_LITERAL)
        return _with_record(ctx, returned, {})
    return _with_record(ctx, returned, {URL: url})


def _record_error_status(ctx: FunctionContext) -> Type:
    """On ``http_error(status)``: put the literal status on the returned type."""
    returned = get_proper_type(ctx.default_return_type)
    if not isinstance(returned, Instance) or not ctx.arg_types or not ctx.arg_types[0]:
        return ctx.default_return_type
    status = get_proper_type(ctx.arg_types[0][0])
    if isinstance(status, Instance) and status.last_known_value is not None:
        status = status.last_known_value
    value = status.value if isinstance(status, LiteralType) else None
    if isinstance(status, LiteralType) and status.is_enum_literal():
        # An enum literal's value is its member's name: HTTPStatus.NOT_FOUND is 404.
        member = getattr(http.HTTPStatus, str(value), None)
        is_status = status.fallback.type.fullname == "http.HTTPStatus"
        value = int(member) if is_status and isinstance(member, http.HTTPStatus) else None
    record: dict[str, str | int] = {}
    if isinstance(value, int) and not isinstance(value, bool):
        record[STATUS] = value
    return _with_record(ctx, returned, record)


def _with_record(ctx: FunctionContext, returned: Instance, record: dict[str, str | int]) -> Type:
    """``returned`` carrying ``record`` as literal-typed extra attributes, which mypy caches."""
    attrs: dict[str, Type] = {}
    for name, value in record.items():
        fallback = "builtins.str" if isinstance(value, str) else "builtins.int"
        attrs[name] = LiteralType(value, ctx.api.named_generic_type(fallback, []))
    recorded = Instance(returned.type, returned.args, returned.line, returned.column)
    recorded.extra_attrs = ExtraAttrs(attrs)
    return recorded


def _recorded(typ: Type) -> dict[str, str | int]:
    """What ``_with_record`` put on a decorator's type: the literal arguments mypy knew."""
    decorator = get_proper_type(typ)
    record: dict[str, str | int] = {}
    if not isinstance(decorator, Instance) or decorator.extra_attrs is None:
        return record
    for name, attr in decorator.extra_attrs.attrs.items():
        literal = get_proper_type(attr)
        if name in RECORDED and isinstance(literal, LiteralType):
            value = literal.value
            if isinstance(value, str | int) and not isinstance(value, bool):
                record[name] = value
    return record


def _literal_str(typ: Type) -> str | None:
    """The value of a str literal type, or of a str inferred from a literal or Final."""
    proper = get_proper_type(typ)
    if isinstance(proper, Instance) and proper.last_known_value is not None:
        proper = proper.last_known_value
    if isinstance(proper, LiteralType) and isinstance(proper.value, str):
        return proper.value
    return None


def _methods(ctx: FunctionContext) -> list[str] | None:
    """The methods of ``http(method, ...)`` upper-cased, or None when not all are literals."""
    if not ctx.arg_types[0]:
        return None
    single = _literal_str(ctx.arg_types[0][0])
    if single is not None:
        return [single.upper()]
    expression = ctx.args[0][0]
    if not isinstance(expression, ListExpr | TupleExpr | SetExpr):
        return None
    methods: list[str] = []
    for item in expression.items:
        if not isinstance(item, StrExpr):
            return None
        methods.append(item.value.upper())
    return methods


def _decorator_expression(checker: TypeChecker, decorator: Decorator, typ: Type) -> Context:
    """The decorator expression whose type is ``typ``, to report at its own line."""
    for expression in decorator.decorators:
        if checker.has_type(expression) and checker.lookup_type(expression) is typ:
            return expression
    return decorator


def plugin(version: str) -> type[Plugin]:
    """The entry point mypy calls with its version."""
    return TypedsvcPlugin
