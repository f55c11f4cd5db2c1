"""The typedsvc mypy plugin: route checks at the decorator line, before the code runs.

Enable it with ``plugins = typedsvc.mypy`` in mypy.ini (``plugins = ["typedsvc.mypy"]``
in pyproject.toml). It reports, with error code ``typedsvc-url``, every mistake that
``typedsvc.DefinitionError`` reports at import, with the same text: both sides call
``typedsvc._urls.check_route``.

How it works: the hook on ``typedsvc.http(...)`` reads the methods and the url from the
call's argument types and records them on the returned ``RouteDecorator`` type (as an
extra attribute, which mypy keeps in its cache). The hook on ``RouteDecorator.__call__``
runs when that decorator is applied, wherever it came from (a direct call, an alias,
a variable), and checks the url against the handler's type.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Final

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
    Context,
    Decorator,
    ListExpr,
    SetExpr,
    StrExpr,
    TupleExpr,
    TypeInfo,
    Var,
)
from mypy.options import Options
from mypy.plugin import FunctionContext, MethodContext, Plugin
from mypy.types import (
    AnyType,
    CallableType,
    ExtraAttrs,
    Instance,
    LiteralType,
    Type,
    TypeOfAny,
    get_proper_type,
)

from typedsvc import _errors, _urls

HTTP_FULLNAME: Final = "typedsvc._decorators.http"
ROUTE_CALL_FULLNAME: Final = "typedsvc._decorators.RouteDecorator.__call__"
SERVICE_FULLNAME: Final = "typedsvc._service.Service"
COROUTINE_FULLNAME: Final = "typing.Coroutine"
# The extra attribute of a RouteDecorator type that carries its route as JSON.
ROUTE_ATTR: Final = "__typedsvc_route__"

TYPEDSVC_URL: Final = ErrorCode(
    "typedsvc-url", "Check a typedsvc url against its handler's parameters", "typedsvc"
)
TYPEDSVC_URL_LITERAL: Final = ErrorCode(
    "typedsvc-url-literal", "A typedsvc url that mypy cannot know statically", "typedsvc"
)

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

# Per class: (method, url key) -> (handler name, its Decorator node, the decorator expression).
_Seen = dict[tuple[str, str], tuple[str, Decorator, Context]]


class TypedsvcPlugin(Plugin):
    """Checks ``@typedsvc.http`` routes on methods of ``typedsvc.Service`` subclasses."""

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        # Kept between runs of dmypy; entries of nodes no longer in a class are dropped.
        self._seen: dict[str, _Seen] = {}

    def get_function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        if fullname == HTTP_FULLNAME:
            return _record_route
        return None

    def get_method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        if fullname == ROUTE_CALL_FULLNAME:
            return self._check_route
        return None

    def _check_route(self, ctx: MethodContext) -> Type:
        route = _route_of(ctx.type)
        decorator = ctx.context
        checker = ctx.api
        if route is None or not isinstance(decorator, Decorator):
            return ctx.default_return_type
        if not isinstance(checker, TypeChecker):
            return ctx.default_return_type
        info = checker.scope.active_class()
        handler = get_proper_type(ctx.arg_types[0][0]) if ctx.arg_types[0] else None
        if info is None or not info.has_base(SERVICE_FULLNAME):
            # Not a method of a Service: the decorator's own type rejects that.
            return ctx.default_return_type
        if not isinstance(handler, CallableType) or route.url is None:
            return ctx.default_return_type
        where = f"{info.name}.{decorator.func.name}"
        at = _decorator_expression(checker, decorator, ctx.type)
        shape = _shape(where, handler, decorator, checker.options)
        problems = _urls.check_route(shape, route.url)
        for problem in problems:
            checker.fail(problem, at, code=TYPEDSVC_URL)
        if not problems and route.methods is not None:
            self._check_duplicate(checker, info, where, route, decorator, at)
        return ctx.default_return_type

    def _check_duplicate(
        self,
        checker: TypeChecker,
        info: TypeInfo,
        where: str,
        route: _Route,
        decorator: Decorator,
        at: Context,
    ) -> None:
        assert route.url is not None
        assert route.methods is not None
        seen = self._seen.setdefault(info.fullname, {})
        for key, (_, node, _) in list(seen.items()):
            symbol = info.names.get(node.func.name)
            if symbol is None or symbol.node is not node:
                del seen[key]
        for method in route.methods:
            key = (method, _urls.route_key(route.url))
            first = seen.setdefault(key, (where, decorator, at))
            if first[2] is not at:
                message = _errors.duplicate_route(where, route.url, method, first[0])
                checker.fail(message, at, code=TYPEDSVC_URL)


class _Route:
    """The methods and url recorded on a RouteDecorator type; None where mypy cannot know."""

    __slots__ = ("methods", "url")

    def __init__(self, methods: list[str] | None, url: str | None) -> None:
        self.methods = methods
        self.url = url


def _record_route(ctx: FunctionContext) -> Type:
    """On ``http(method, url)``: put the literal methods and url on the returned type."""
    returned = get_proper_type(ctx.default_return_type)
    if not isinstance(returned, Instance) or len(ctx.arg_types) < 2 or not ctx.arg_types[1]:
        return ctx.default_return_type
    url = _literal_str(ctx.arg_types[1][0])
    if url is None:
        ctx.api.fail(_errors.url_not_literal("http"), ctx.context, code=TYPEDSVC_URL_LITERAL)
    methods = _methods(ctx)
    recorded = Instance(returned.type, returned.args, returned.line, returned.column)
    text = json.dumps({"methods": methods, "url": url})
    str_type = ctx.api.named_generic_type("builtins.str", [])
    recorded.extra_attrs = ExtraAttrs({ROUTE_ATTR: LiteralType(text, str_type)})
    return recorded


def _route_of(typ: Type) -> _Route | None:
    decorator = get_proper_type(typ)
    if not isinstance(decorator, Instance) or decorator.extra_attrs is None:
        return None
    recorded = decorator.extra_attrs.attrs.get(ROUTE_ATTR)
    text = _literal_str(recorded) if recorded is not None else None
    if text is None:
        return None
    data = json.loads(text)
    return _Route(data["methods"], data["url"])


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
    where: str, handler: CallableType, decorator: Decorator, options: Options
) -> _urls.HandlerShape:
    """The handler's type as the pure checks see it."""
    # Positional-only parameters have no name in the type; the definition has it, as long as
    # no other decorator changed the signature first.
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
        annotation, conversion = _conversion(typ, options)
        params.append(
            _urls.Param(
                name=name or f"__arg{index}",
                kind=param_kind,
                has_default=kind.is_optional(),
                annotation=annotation,
                conversion=conversion,
            )
        )
    returned = get_proper_type(handler.ret_type)
    is_async = isinstance(returned, Instance) and returned.type.fullname == COROUTINE_FULLNAME
    return _urls.HandlerShape(where, is_async, tuple(params))


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
