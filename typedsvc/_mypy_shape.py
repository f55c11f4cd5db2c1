"""The typedsvc mypy plugin's reading of a handler: its type as the pure checks see it.

Parameters come from mypy's types; whether one is a typed input (``typedsvc.Query[int]``,
``Annotated[int, typedsvc.query("page-size")]``) comes from its annotation as written,
and for a long form's metadata, which mypy does not keep, from the source itself.
"""

from __future__ import annotations

import ast
import functools
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final, Literal

from mypy.checker import TypeChecker
from mypy.messages import format_type_bare
from mypy.nodes import (
    ARG_NAMED,
    ARG_NAMED_OPT,
    ARG_OPT,
    ARG_POS,
    ARG_STAR,
    ArgKind,
    Argument,
    Decorator,
    MypyFile,
    SymbolNode,
    TypeAlias,
    TypeInfo,
    Var,
)
from mypy.options import Options
from mypy.types import (
    AnyType,
    CallableType,
    Instance,
    LiteralType,
    NoneType,
    ProperType,
    Type,
    TypeOfAny,
    UnboundType,
    UnionType,
    get_proper_type,
)

from typedsvc import _inputs, _urls

COROUTINE_FULLNAME: Final = "typing.Coroutine"

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


def shape(
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
        nested = _nested(checker, definition[index].type_annotation) if own_names else None
        params.append(
            _urls.Param(name, param_kind, has_default, annotation, conversion, True, None, nested)
        )
    returned = get_proper_type(handler.ret_type)
    is_async = isinstance(returned, Instance) and returned.type.fullname == COROUTINE_FULLNAME
    if len(decorator.original_decorators) == 1:
        # Routed as defined: a def that returns a coroutine is no coroutine function, which
        # the runtime needs (with another decorator, what it made is routed).
        is_async = is_async and decorator.func.is_coroutine
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
    node = _node(checker, annotation.name)
    fullname = node.fullname if node is not None else None
    location = _ALIASES.get(fullname or "")
    if location is not None:
        return location, None
    if fullname in ANNOTATED_FULLNAMES:
        if len(annotation.args) < 2:
            return None
        # mypy keeps no expression of Annotated's metadata (typedsvc.query("page-size")):
        # the source has it.
        written = _annotation_source(checker.path, decorator.func.line, argument.variable.name)
        if written is None:
            return _UNREADABLE
        return _marker_of(checker, None, written, 0)
    # An alias of a marker (IntQ = typedsvc.Query[int]), as its module writes it.
    return _defined_marker(checker, node, 0)


def _nested(checker: TypeChecker, annotation: Type | None) -> _inputs.Location | None:
    """The location of a marker written inside an annotation (``Query[int] | None``)."""
    if isinstance(annotation, UnboundType):
        args: Sequence[Type] = annotation.args
    elif isinstance(annotation, UnionType):
        args = annotation.items
    else:
        return None
    for arg in args:
        if isinstance(arg, UnboundType):
            node = _node(checker, arg.name)
            location = _ALIASES.get(node.fullname if node is not None else "")
            if location is None:
                found = _defined_marker(checker, node, 0)
                location = found[0] if found is not None else None
            if location is not None:
                return location
        nested = _nested(checker, arg)
        if nested is not None:
            return nested
    return None


# How many aliases deep a marker is looked for (IntQ = Query[int]; Limit = IntQ; ...).
_DEPTH: Final = 4


def _marker_of(
    checker: TypeChecker, module: MypyFile | None, written: ast.expr, depth: int
) -> _Marker | None:
    """The marker of an annotation as written in ``module`` (None: the one checked)."""
    if isinstance(written, ast.Constant) and isinstance(written.value, str):
        try:
            written = ast.parse(written.value, mode="eval").body
        except SyntaxError:
            return None
    if isinstance(written, ast.Name | ast.Attribute):
        return _defined_marker(checker, _node(checker, _dotted(written), module), depth)
    if not isinstance(written, ast.Subscript):
        return None
    head = _node(checker, _dotted(written.value), module)
    fullname = head.fullname if head is not None else ""
    if fullname in _ALIASES:
        return _ALIASES[fullname], None
    if fullname not in ANNOTATED_FULLNAMES or not isinstance(written.slice, ast.Tuple):
        return None
    first, *metadata = written.slice.elts
    # Annotated[typedsvc.Query[int], msgspec.Meta(ge=1)] is one Annotated to Python.
    found = _marker_of(checker, module, first, depth)
    for item in metadata:
        if found is not None:
            break
        found = _long_form(checker, module, item, depth)
    return found


def _long_form(
    checker: TypeChecker, module: MypyFile | None, item: ast.expr, depth: int
) -> _Marker | None:
    """The marker of an item of Annotated's metadata: ``typedsvc.query("name")``, or a
    constant that holds one."""
    if isinstance(item, ast.Name | ast.Attribute):
        definition = _definition(checker, _node(checker, _dotted(item), module), depth)
        return None if definition is None else _long_form(checker, *definition, depth + 1)
    if not isinstance(item, ast.Call):
        return None
    func = _node(checker, _dotted(item.func), module)
    location = _LONG_FORMS.get(func.fullname if func is not None else "")
    if location is None:
        return None
    given = item.args[0] if item.args else None
    for keyword in item.keywords:
        if keyword.arg == "name":
            given = keyword.value
    if isinstance(given, ast.Name | ast.Attribute):
        # A name in a constant (NAME = "page-size").
        definition = _definition(checker, _node(checker, _dotted(given), module), depth)
        given = definition[1] if definition is not None else given
    if isinstance(given, ast.Constant) and isinstance(given.value, str):
        return location, given.value
    if given is None:
        return location, None
    # A name given by an expression (a constant): its text is the runtime's to check.
    return location, _UNKNOWN_NAME


def _defined_marker(checker: TypeChecker, node: SymbolNode | None, depth: int) -> _Marker | None:
    """The marker of an alias (or a constant) as its module defines it."""
    definition = _definition(checker, node, depth)
    return None if definition is None else _marker_of(checker, *definition, depth + 1)


def _definition(
    checker: TypeChecker, node: SymbolNode | None, depth: int
) -> tuple[MypyFile, ast.expr] | None:
    """The module of a module-level alias or variable, and the value it is assigned."""
    if depth >= _DEPTH or not isinstance(node, TypeAlias | Var):
        return None
    module = checker.modules.get(node.fullname.rpartition(".")[0])
    if module is None:
        return None
    try:
        stat = os.stat(module.path)
    except OSError:
        return None
    assigned = _assignments(module.path, stat.st_mtime_ns, stat.st_size)
    value = assigned.get(node.name)
    return None if value is None else (module, value)


@functools.lru_cache(maxsize=64)
def _assignments(path: str, mtime: int, size: int) -> dict[str, ast.expr]:
    """The values assigned to names at a module's top level, the last one of each."""
    try:
        tree = ast.parse(Path(path).read_bytes(), filename=path)
    except (OSError, SyntaxError, ValueError):
        return {}
    found: dict[str, ast.expr] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            continue
        if isinstance(target, ast.Name):
            found[target.id] = value
    return found


def _dotted(expression: ast.expr) -> str:
    """``a.b.c`` for a name or an attribute chain; "" for anything else."""
    if isinstance(expression, ast.Name):
        return expression.id
    if isinstance(expression, ast.Attribute):
        head = _dotted(expression.value)
        return f"{head}.{expression.attr}" if head else ""
    return ""


def resolve(checker: TypeChecker, name: str) -> str | None:
    """The full name of what ``name`` (``Query``, ``ts.Query``) means in the module."""
    node = _node(checker, name)
    return node.fullname if node is not None else None


def _node(checker: TypeChecker, name: str, module: MypyFile | None = None) -> SymbolNode | None:
    """What ``name`` means in ``module``, or in the module checked."""
    head, *rest = name.split(".")
    if not head:
        return None
    node: SymbolNode | None
    if module is None:
        try:
            node = checker.lookup(head).node
        except KeyError:
            return None
    else:
        symbol = module.names.get(head)
        node = symbol.node if symbol is not None else None
    for part in rest:
        if not isinstance(node, MypyFile):
            return None
        symbol = node.names.get(part)
        node = symbol.node if symbol is not None else None
    return node


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
    if isinstance(proper, UnionType):
        # T | None as T: None is an optional group's default, never a group's text.
        kept = [item for item in proper.items if not isinstance(get_proper_type(item), NoneType)]
        if len(kept) == 1 and len(proper.items) == 2:
            return shown, _conversion(kept[0], options)[1]
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
