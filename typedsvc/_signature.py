"""A handler's signature as the checks see it: read once, from the code object when it can.

``describe()`` gives the pure checks a :class:`~typedsvc._urls.HandlerShape` and the
resolved annotations; the readers below it are what keeps defining a class of many routes
fast (see bench/define.py).
"""

from __future__ import annotations

import enum
import functools
import inspect
import uuid
from collections.abc import Callable
from inspect import CO_COROUTINE, CO_VARARGS, CO_VARKEYWORDS
from types import CodeType, FunctionType, NoneType, UnionType
from typing import Annotated, Final, Literal, TypeAlias, Union, get_args, get_origin

from typedsvc import _params, _urls

_KINDS: Final[dict[str, _urls.ParamKind]] = {
    "POSITIONAL_ONLY": "positional_only",
    "POSITIONAL_OR_KEYWORD": "positional_or_keyword",
    "VAR_POSITIONAL": "var_positional",
    "KEYWORD_ONLY": "keyword_only",
    "VAR_KEYWORD": "var_keyword",
}
_EMPTY: Final = inspect.Parameter.empty


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
    key = code_key(func)
    try:
        known = classes_only(key) if key is not None else None
    except TypeError:  # an annotation that cannot be hashed
        known = None
    if known is not None:
        # A copy: the caller may change its dict, never the cached one.
        params, resolved = known[0], dict(known[1])
    else:
        found = read_code_key(key) if key is not None else _parameters(func)
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
def classes_only(key: CodeKey) -> tuple[tuple[_urls.Param, ...], dict[str, object]] | None:
    found = read_code_key(key)
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
            nested = _params.nested_marker(annotation) if ok and source is None else None
            # As mypy writes the type (Optional[int] is "int | None"); as written when it
            # does not evaluate.
            shown = _params.display(annotation) if ok else written
            param = _urls.Param(name, kind, has_default, shown, conversion, ok, source, nested)
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
    nested = _params.nested_marker(annotation)
    return _urls.Param(
        name, kind, has_default, display, _conversion(annotation), True, None, nested
    )


# A parameter: its name, kind, whether it has a default, and its annotation as written.
_Parameter: TypeAlias = tuple[str, _urls.ParamKind, bool, object]


def _parameters(func: Callable[..., object]) -> list[_Parameter]:
    """The parameters ``inspect.signature`` gives, read from the code object when it can.

    A plain function's are read directly: a tenth of the time, which counts for a class
    of many routes. Anything else (a wrapper with ``__wrapped__``, an explicit
    ``__signature__``, a callable object) goes through ``inspect.signature``.
    """
    key = code_key(func)
    if key is not None:
        return read_code_key(key)
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
CodeKey: TypeAlias = tuple[
    tuple[str, ...], int, int, int, int, int, tuple[str, ...], tuple[str, ...], tuple[object, ...]
]
_STARS: Final = CO_VARARGS | CO_VARKEYWORDS
_STAR_NAMES: Final = {0: 0, CO_VARARGS: 1, CO_VARKEYWORDS: 1, _STARS: 2}


def code_key(func: Callable[..., object]) -> CodeKey | None:
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


def read_code_key(key: CodeKey) -> list[_Parameter]:
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
        value = eval(_compiled(annotation), namespace)
        if isinstance(value, str):
            # Quoted as well (n: "int"), as code written before the import often is.
            value = eval(_compiled(value), namespace)
    except Exception:
        return annotation, False
    return value, True


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
        # T | None as T: None is an optional group's default, never a group's text.
        if get_origin(annotation) in (Union, UnionType):
            members = [arg for arg in get_args(annotation) if arg is not NoneType]
            if len(members) == 1 and len(get_args(annotation)) == 2:
                return _conversion(members[0])
        return None
    conversion = _CONVERSIONS.get(annotation)
    if conversion is not None:
        return conversion
    if issubclass(annotation, enum.Enum) and all(
        isinstance(member.value, str) for member in annotation
    ):
        return "enum"
    return None


def type_text(annotation: object) -> str:
    """An annotation as a user writes it: ``list[str]``, ``int | None``, ``User``."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return type_text(args[0])
    if annotation is NoneType or annotation is None:
        return "None"
    if origin is Union or origin is UnionType:
        return " | ".join(type_text(arg) for arg in args)
    if origin is Literal:
        return f"Literal[{', '.join(map(repr, args))}]"
    if origin is not None:
        name = getattr(origin, "__name__", None) or repr(origin)
        return f"{name}[{', '.join(type_text(arg) for arg in args)}]"
    if isinstance(annotation, type):
        return annotation.__qualname__
    return repr(annotation).removeprefix("typing.")
