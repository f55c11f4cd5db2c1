"""The mypy plugin's checks of ``url_for(Service.handler, ...)`` calls.

A route's facts (its url groups, its ``Query`` parameters, whether its url can be written)
are put on its class's ``TypeInfo.metadata`` when its decorator is checked, so that they
reach other modules through mypy's cache. A call is checked against them, and against
the handler's own parameter types, with the messages url_for() raises at run time.
"""

from __future__ import annotations

from typing import Final, TypedDict

from mypy.checker import TypeChecker
from mypy.errorcodes import ErrorCode
from mypy.messages import format_type_bare
from mypy.nodes import (
    ARG_STAR,
    ARG_STAR2,
    ArgKind,
    CallExpr,
    Decorator,
    Expression,
    FuncDef,
    MemberExpr,
    RefExpr,
    TypeInfo,
)
from mypy.plugin import FunctionContext, FunctionSigContext
from mypy.subtypes import is_subtype
from mypy.types import (
    AnyType,
    CallableType,
    Instance,
    LiteralType,
    Type,
    TypeOfAny,
    UnionType,
    get_proper_type,
)

from typedsvc import _errors, _urls
from typedsvc._template import reverse_problem

URL_FOR_FULLNAME: Final = "typedsvc._url_for.url_for"
SERVICE_FULLNAME: Final = "typedsvc._service.Service"
TYPEDSVC_URL_FOR: Final = ErrorCode(
    "typedsvc-url-for", "Check a typedsvc.url_for() call against its route", "typedsvc"
)
# The key of typedsvc's facts in a class's TypeInfo.metadata.
METADATA: Final = "typedsvc_routes"


class RouteFacts(TypedDict):
    """What a url_for() call is checked against; JSON, as mypy caches it."""

    where: str
    url: str
    groups: list[str]
    query: list[str]
    reversal: str | None


def remember(info: TypeInfo, method: str, facts: RouteFacts | None) -> None:
    """Keep a route's facts on its class; None for a route with problems of its own."""
    routes = info.metadata.setdefault(METADATA, {})
    routes[method] = facts


def facts_of(handler: _urls.HandlerShape, url: str) -> RouteFacts:
    query = [
        param.name
        for param in handler.params
        if param.source is not None and param.source.location == "query"
    ]
    groups = list(_urls.url_groups(url).names)
    return RouteFacts(
        where=handler.where, url=url, groups=groups, query=query, reversal=reverse_problem(url)
    )


class _Target:
    """The route a url_for() call names, with the handler's own signature."""

    def __init__(self, facts: RouteFacts, handler: CallableType) -> None:
        self.facts = facts
        self.handler = handler
        # After self and the request, as the handler takes them.
        names = handler.arg_names[2:]
        kinds = handler.arg_kinds[2:]
        self.types = {
            name: typ for name, typ in zip(names, handler.arg_types[2:], strict=True) if name
        }
        self.required = {
            name for name, kind in zip(names, kinds, strict=True) if name and kind.is_required()
        }
        self.positional = [
            name
            for name, kind in zip(names, kinds, strict=True)
            if name and kind.is_positional() and not kind.is_star()
        ]


def loosen(ctx: FunctionSigContext) -> CallableType:
    """Any values by name or position for a url_for() whose route is known: checked later."""
    if not ctx.args or not ctx.args[0] or not isinstance(_target(ctx.args[0][0]), _Target):
        return ctx.default_signature
    if isinstance(ctx.context, CallExpr) and _unpacks(ctx.context.arg_kinds):
        # Values unpacked from a list or a dict: no name is known here, so mypy checks
        # their types against the handler's signature, as it does without the plugin.
        return ctx.default_signature
    signature = ctx.default_signature
    anything = AnyType(TypeOfAny.special_form)
    return CallableType(
        [anything for _ in signature.arg_types],
        signature.arg_kinds,
        signature.arg_names,
        signature.ret_type,
        signature.fallback,
        name=signature.name,
    )


def check_call(ctx: FunctionContext) -> Type:
    """Report what url_for() would raise for this call, with its text."""
    checker = ctx.api
    if not isinstance(checker, TypeChecker) or not ctx.args or not ctx.args[0]:
        return ctx.default_return_type
    target = _target(ctx.args[0][0])
    if isinstance(target, str):
        checker.fail(_errors.url_for_not_a_route(target), ctx.context, code=TYPEDSVC_URL_FOR)
    if not isinstance(target, _Target):
        return ctx.default_return_type
    facts = target.facts
    where = facts["where"]
    if facts["reversal"] is not None:
        message = _errors.url_for_not_reversible(where, facts["url"], facts["reversal"])
        checker.fail(message, ctx.context, code=TYPEDSVC_URL_FOR)
        return ctx.default_return_type
    if isinstance(ctx.context, CallExpr) and _unpacks(ctx.context.arg_kinds):
        # Checked by mypy against the handler's signature (see loosen()), whose arguments
        # ctx.args follow.
        return ctx.default_return_type
    given: dict[str, Expression] = {}
    for index, expression in enumerate(ctx.args[1]):
        if index >= len(target.positional):
            message = _errors.url_for_too_many(where, len(target.positional), len(ctx.args[1]))
            checker.fail(message, expression, code=TYPEDSVC_URL_FOR)
            break
        given[target.positional[index]] = expression
    for name, expression in zip(ctx.arg_names[2], ctx.args[2], strict=True):
        if name is not None:
            given[name] = expression
    for name, expression in given.items():
        if name not in facts["groups"] and name not in facts["query"]:
            message = _errors.url_for_unknown_name(where, name)
            checker.fail(message, expression, code=TYPEDSVC_URL_FOR)
            continue
        expected = target.types.get(name)
        got = None if expected is None else _misfit(checker, expression, expected)
        if expected is not None and got is not None:
            options = checker.options
            message = _errors.url_for_wrong_type(
                where, name, format_type_bare(expected, options), format_type_bare(got, options)
            )
            checker.fail(message, expression, code=TYPEDSVC_URL_FOR)
    for name in target.required:
        if name in given:
            continue
        if name in facts["groups"]:
            message = _errors.url_for_missing_group(where, name)
        elif name in facts["query"]:
            message = _errors.url_for_missing_query(where, name)
        else:
            continue
        checker.fail(message, ctx.context, code=TYPEDSVC_URL_FOR)
    return ctx.default_return_type


def _unpacks(kinds: list[ArgKind]) -> bool:
    """Whether a call passes values with * or **."""
    return any(kind in (ARG_STAR, ARG_STAR2) for kind in kinds)


def _misfit(checker: TypeChecker, expression: Expression, expected: Type) -> Type | None:
    """The type of a value that is not ``expected``; None when it is."""
    # The call was inferred against a loosened signature, without the parameter's type as
    # context: a literal "asc" was a str, [1] a list[Any]. Inferred again with it, quietly.
    with checker.msg.filter_errors() as watcher:
        in_context = checker.expr_checker.accept(expression, expected)
    fits = not watcher.has_new_errors() and is_subtype(in_context, expected)
    # A bool is an int to mypy, but a route writes True as "true", which its int (or float)
    # does not read back: url_for() refuses it, and so does this.
    if fits and not (_is_bool(in_context) and not _takes_bool(expected)):
        return None
    with checker.msg.filter_errors():
        return checker.expr_checker.accept(expression)


def _is_bool(typ: Type) -> bool:
    proper = get_proper_type(typ)
    if isinstance(proper, LiteralType):
        proper = proper.fallback
    return isinstance(proper, Instance) and proper.type.fullname == "builtins.bool"


def _takes_bool(typ: Type) -> bool:
    proper = get_proper_type(typ)
    items = proper.items if isinstance(proper, UnionType) else [proper]
    return any(_is_bool(item) or isinstance(get_proper_type(item), AnyType) for item in items)


def _target(expression: Expression) -> _Target | str | None:
    """The route ``expression`` (``Users.get_user``) names; its name if it is no route.

    None when it cannot be told: not a method of a Service class named through its class,
    a method decorated otherwise, a route whose url mypy does not know.
    """
    if not isinstance(expression, MemberExpr) or not isinstance(expression.expr, RefExpr):
        return None
    info = expression.expr.node
    if not isinstance(info, TypeInfo) or not info.has_base(SERVICE_FULLNAME):
        return None
    symbol = info.get(expression.name)
    node = symbol.node if symbol is not None else None
    if isinstance(node, FuncDef) and node.info.has_base(SERVICE_FULLNAME):
        return f"{node.info.name}.{node.name}"
    if not isinstance(node, Decorator) or not isinstance(node.func.type, CallableType):
        return None
    # Absent when the handler is no route of http(...), or has a mistake of its own. (A call
    # checked before the route's decorator, in a method above it, is deferred by mypy until
    # the decorated handler's type is known, and the facts with it.)
    facts: RouteFacts | None = node.func.info.metadata.get(METADATA, {}).get(node.func.name)
    return _Target(facts, node.func.type) if facts is not None else None
