"""The typedsvc mypy plugin: route checks at the decorator line, before the code runs.

Enable it with ``plugins = typedsvc.mypy`` in mypy.ini (``plugins = ["typedsvc.mypy"]``
in pyproject.toml). It reports, with error code ``typedsvc-url``, the mistakes in
``@typedsvc.http`` and ``@typedsvc.http_error`` that ``typedsvc.DefinitionError`` reports at
import, with the same text: both sides call ``typedsvc._urls``. (Duplicates are checked
within one class; the runtime also compares a class with its bases.)

How it works: the hooks on ``typedsvc.http(...)`` and ``typedsvc.http_error(...)`` read the
literal arguments from the call's argument types and record them on the returned decorator's
type (as extra attributes, which mypy keeps in its cache). The hooks on the decorators'
``__call__`` run when a decorator is applied, wherever it came from (a direct call, an
alias, a variable), and check those arguments against the handler's type.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Final, Literal

from mypy.checker import TypeChecker
from mypy.errorcodes import ErrorCode
from mypy.messages import format_type_bare
from mypy.nodes import (
    ARG_NAMED,
    ARG_NAMED_OPT,
    ARG_OPT,
    ARG_POS,
    ARG_STAR,
    ArgKind,
    Argument,
    Context,
    Decorator,
    ListExpr,
    MypyFile,
    SetExpr,
    StrExpr,
    SymbolNode,
    TupleExpr,
    TypeInfo,
    Var,
)
from mypy.options import Options
from mypy.plugin import FunctionContext, MethodContext, Plugin, ReportConfigContext
from mypy.types import (
    AnyType,
    CallableType,
    ExtraAttrs,
    Instance,
    LiteralType,
    NoneType,
    ProperType,
    RawExpressionType,
    Type,
    TypeOfAny,
    UnboundType,
    UnionType,
    get_proper_type,
)

from typedsvc import _errors, _inputs, _urls

HTTP_FULLNAME: Final = "typedsvc._decorators.http"
ROUTE_CALL_FULLNAME: Final = "typedsvc._decorators.RouteDecorator.__call__"
HTTP_ERROR_FULLNAME: Final = "typedsvc._decorators.http_error"
ERROR_CALL_FULLNAME: Final = "typedsvc._decorators.ErrorDecorator.__call__"
STATIC_FULLNAME: Final = "typedsvc._static.http_static"
STATIC_CALL_FULLNAME: Final = "typedsvc._static.StaticDecorator.__call__"
WEBSOCKET_FULLNAME: Final = "typedsvc._websocket.websocket"
WEBSOCKET_CALL_FULLNAME: Final = "typedsvc._websocket.WebsocketDecorator.__call__"
SERVICE_FULLNAME: Final = "typedsvc._service.Service"
COROUTINE_FULLNAME: Final = "typing.Coroutine"
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

# The markers as aliases (typedsvc.Query[int]) and as long forms (typedsvc.query("name")).
_ALIASES: Final[dict[str, _inputs.Location]] = {
    "typedsvc._params.Query": "query",
    "typedsvc._params.Header": "header",
    "typedsvc._params.Cookie": "cookie",
    "typedsvc._params.Body": "body",
}
_LONG_FORMS: Final[dict[str, _inputs.Location]] = {
    "typedsvc._params.query": "query",
    "typedsvc._params.header": "header",
    "typedsvc._params.cookie": "cookie",
}
ANNOTATED_FULLNAMES: Final = frozenset({"typing.Annotated", "typing_extensions.Annotated"})
_SCALARS: Final[dict[str, _inputs.Scalar]] = {
    "builtins.str": "str",
    "builtins.int": "int",
    "builtins.float": "float",
    "builtins.bool": "bool",
    "uuid.UUID": "uuid",
}
_CONVERSIONS: Final[dict[str, _urls.Conversion]] = {
    "builtins.str": "str",
    "builtins.int": "int",
    "builtins.float": "float",
    "uuid.UUID": "uuid",
}
_KINDS: Final[dict[ArgKind, _urls.ParamKind]] = {
    ARG_POS: "positional_or_keyword",
    ARG_OPT: "positional_or_keyword",
    ARG_STAR: "var_positional",
    ARG_NAMED: "keyword_only",
    ARG_NAMED_OPT: "keyword_only",
    ArgKind.ARG_STAR2: "var_keyword",
}

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
        problems = check(where, _shape(where, handler, decorator, checker), url)
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
        problems = _urls.check_error_handler(_shape(where, handler, decorator, checker), status)
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
        shape = _shape(where, handler, decorator, checker)
        problems = _urls.check_route(shape, url, known)
        for problem in problems:
            checker.fail(problem, at, code=TYPEDSVC_URL)
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
        if symbol is None or symbol.node is not first[1]:
            # Left by an earlier dmypy run, from a node this class no longer has.
            seen[key] = (where, decorator, at)
            return None
        return first[0]


def _checks_version() -> str:
    """A digest of the code that decides what the plugin reports."""
    digest = hashlib.sha256()
    for module in (sys.modules[__name__], _urls, _errors, _inputs):
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


def _shape(
    where: str, handler: CallableType, decorator: Decorator, checker: TypeChecker
) -> _urls.HandlerShape:
    """The handler's type as the pure checks see it."""
    # Positional-only parameters have no name in the type; the definition has it, as long as
    # no other decorator changed the signature first. So do the annotations as written,
    # which tell a typed input (typedsvc.Query[int]) from a plain int.
    definition = decorator.func.arguments
    own_names = len(definition) == len(handler.arg_names)
    params: list[_urls.Param] = []
    for index, (name, kind, typ) in enumerate(
        zip(handler.arg_names, handler.arg_kinds, handler.arg_types, strict=True)
    ):
        param_kind = _KINDS[kind]
        if name is None and kind.is_positional():
            param_kind = "positional_only"
            name = definition[index].variable.name if own_names else f"__arg{index}"
        name = name or f"__arg{index}"
        has_default = kind.is_optional()
        marker = _marker(checker, decorator, definition[index]) if own_names else None
        if marker is _UNREADABLE:
            # Annotated[...] with metadata this plugin cannot read: left unchecked.
            has_default = True
        if isinstance(marker, tuple):
            location, given = marker
            input_type = None if location == "body" else _input_type(typ, checker.options)
            wire = given + name if given == _UNKNOWN_NAME else None
            source = _inputs.InputSource(
                location, wire or _inputs.wire_name(location, name, given), input_type
            )
            params.append(_urls.Param(name, param_kind, has_default, None, None, True, source))
            continue
        annotation, conversion = _conversion(typ, checker.options)
        params.append(_urls.Param(name, param_kind, has_default, annotation, conversion))
    returned = get_proper_type(handler.ret_type)
    is_async = isinstance(returned, Instance) and returned.type.fullname == COROUTINE_FULLNAME
    return _urls.HandlerShape(where, is_async, tuple(params))


# What _marker() found: a marker's (location, name given) or None when there is none.
_Marker = tuple[_inputs.Location, str | None]
_UNREADABLE: Final = "unreadable"
# The wire name of a long form that names it with an expression: one no other can share.
_UNKNOWN_NAME: Final = "\x00"


def _marker(
    checker: TypeChecker, decorator: Decorator, argument: Argument
) -> _Marker | Literal["unreadable"] | None:
    """The input marker on a parameter's annotation as written, if it has one."""
    annotation = argument.type_annotation
    if not isinstance(annotation, UnboundType):
        return None
    fullname = _resolve(checker, annotation.name)
    location = _ALIASES.get(fullname or "")
    if location is not None:
        return location, None
    if fullname not in ANNOTATED_FULLNAMES:
        return None
    if not any(isinstance(arg, RawExpressionType) for arg in annotation.args[1:]):
        return None
    # mypy keeps no expression of Annotated's metadata (typedsvc.query("page-size")): the
    # source has it.
    written = _annotation_source(checker.path, decorator.func.line, argument.variable.name)
    if written is None:
        return _UNREADABLE
    return _long_form(checker, written)


def _long_form(checker: TypeChecker, annotation: ast.expr) -> _Marker | None:
    """The marker of ``Annotated[T, typedsvc.query("name")]`` as written in the source."""
    if not isinstance(annotation, ast.Subscript) or not isinstance(annotation.slice, ast.Tuple):
        return None
    for item in annotation.slice.elts[1:]:
        if not isinstance(item, ast.Call) or len(item.args) != 1 or item.keywords:
            continue
        location = _LONG_FORMS.get(_resolve(checker, _dotted(item.func)) or "")
        if location is None:
            continue
        given = item.args[0]
        if isinstance(given, ast.Constant) and isinstance(given.value, str):
            return location, given.value
        # A name given by an expression (a constant): its text is the runtime's to check.
        return location, _UNKNOWN_NAME
    return None


def _dotted(expression: ast.expr) -> str:
    """``a.b.c`` for a name or an attribute chain; "" for anything else."""
    if isinstance(expression, ast.Name):
        return expression.id
    if isinstance(expression, ast.Attribute):
        head = _dotted(expression.value)
        return f"{head}.{expression.attr}" if head else ""
    return ""


def _resolve(checker: TypeChecker, name: str) -> str | None:
    """The full name of what ``name`` (``Query``, ``ts.Query``) means in the module."""
    head, *rest = name.split(".")
    try:
        node: SymbolNode | None = checker.lookup(head).node
    except KeyError:
        return None
    for part in rest:
        if not isinstance(node, MypyFile):
            return None
        symbol = node.names.get(part)
        node = symbol.node if symbol is not None else None
    return node.fullname if node is not None else None


def _annotation_source(path: str, line: int, parameter: str) -> ast.expr | None:
    """A parameter's annotation as written in the source, from the function at ``line``."""
    functions = _functions(path)
    if functions is None:
        return None
    function = functions.get(line)
    if function is None:
        return None
    arguments = function.args
    for argument in [
        *arguments.posonlyargs,
        *arguments.args,
        *arguments.kwonlyargs,
    ]:
        if argument.arg == parameter and argument.annotation is not None:
            annotation = argument.annotation
            if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
                try:
                    return ast.parse(annotation.value, mode="eval").body
                except SyntaxError:
                    return None
            return annotation
    return None


def _functions(path: str) -> dict[int, ast.FunctionDef | ast.AsyncFunctionDef] | None:
    """The functions of a source file by the line of their ``def``; None if unreadable."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return _parsed(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _parsed(
    path: str, mtime: int, size: int
) -> dict[int, ast.FunctionDef | ast.AsyncFunctionDef] | None:
    # Keyed by the file's time and size too: under dmypy the same file changes.
    try:
        tree = ast.parse(Path(path).read_bytes(), filename=path)
    except (OSError, SyntaxError, ValueError):
        return None
    return {node.lineno: node for node in _definitions(tree.body)}


def _definitions(
    statements: list[ast.stmt],
) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The functions defined in ``statements``, nested ones too.

    Only statements are walked, not expressions: most of a module's nodes are
    expressions, and no function is defined in one that a decorator could route.
    """
    for statement in statements:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            yield statement
        if isinstance(statement, _WITH_BODY):
            yield from _definitions(statement.body)
        if isinstance(statement, _WITH_ELSE):
            yield from _definitions(statement.body)
            yield from _definitions(statement.orelse)
        if isinstance(statement, ast.Try | ast.TryStar):
            for part in (statement.body, statement.orelse, statement.finalbody):
                yield from _definitions(part)
            for handler in statement.handlers:
                yield from _definitions(handler.body)


_WITH_BODY: Final = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.With,
    ast.AsyncWith,
)
_WITH_ELSE: Final = (ast.If, ast.For, ast.AsyncFor, ast.While)


def _input_type(typ: Type, options: Options) -> _inputs.InputType:
    """A query, header or cookie parameter's type, as the runtime's ``input_type`` sees it."""
    proper = get_proper_type(typ)
    shown = format_type_bare(proper, options)
    optional = False
    if isinstance(proper, UnionType):
        items = [get_proper_type(item) for item in proper.items]
        kept = [item for item in items if not isinstance(item, NoneType)]
        optional = len(kept) < len(items)
        proper = kept[0] if len(kept) == 1 else UnionType.make_union(kept)
        proper = get_proper_type(proper)
    is_list = isinstance(proper, Instance) and proper.type.fullname == "builtins.list"
    if is_list and isinstance(proper, Instance):
        proper = get_proper_type(proper.args[0])
    return _inputs.InputType(shown, _scalar(proper), is_list, optional)


def _scalar(proper: ProperType) -> _inputs.Scalar | None:
    """What a value converts to for this type, as the runtime's ``scalar_of`` sees it."""
    if isinstance(proper, Instance):
        scalar = _SCALARS.get(proper.type.fullname)
        if scalar is not None:
            return scalar
        if proper.type.is_enum and _has_str_values(proper.type):
            return "enum"
        return None
    literals = proper.items if isinstance(proper, UnionType) else [proper]
    if all(
        isinstance(item := get_proper_type(literal), LiteralType) and isinstance(item.value, str)
        for literal in literals
    ):
        return "literal"
    return None


def _conversion(typ: Type, options: Options) -> tuple[str | None, _urls.Conversion | None]:
    """How the runtime would convert a group for a parameter of this type."""
    proper = get_proper_type(typ)
    if isinstance(proper, AnyType) and proper.type_of_any == TypeOfAny.unannotated:
        return None, "str"
    shown = format_type_bare(proper, options)
    if isinstance(proper, Instance):
        conversion = _CONVERSIONS.get(proper.type.fullname)
        if conversion is not None:
            return shown, conversion
        if proper.type.is_enum and _has_str_values(proper.type):
            return shown, "enum"
    return shown, None


def _has_str_values(info: TypeInfo) -> bool:
    """Whether every member of an Enum has a str value, as far as mypy knows."""
    if info.has_base("builtins.str"):
        return True
    for name, symbol in info.names.items():
        node = symbol.node
        if name.startswith("_") or not isinstance(node, Var) or node.type is None:
            continue
        if node.is_property or not node.has_explicit_value:
            continue
        value = get_proper_type(node.type)
        if isinstance(value, Instance) and value.last_known_value is not None:
            value = value.last_known_value
        if isinstance(value, LiteralType):
            value = value.fallback
        if not (isinstance(value, Instance) and value.type.fullname == "builtins.str"):
            return False
    return True


def plugin(version: str) -> type[Plugin]:
    """The entry point mypy calls with its version."""
    return TypedsvcPlugin
