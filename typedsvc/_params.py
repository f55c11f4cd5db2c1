"""The input markers: Query, Header, Cookie and Body, and their long forms.

Each marker is a generic alias over ``typing.Annotated``: ``Query[int]`` is
``Annotated[int, Input("query")]``, so mypy, pyright and the IDE see a plain ``int`` while
typedsvc reads where the value comes from. The long forms name the value on the wire:
``Annotated[int, typedsvc.query("page-size")]``.
"""

from __future__ import annotations

import collections.abc
import enum
import types
import uuid
from dataclasses import dataclass
from typing import (
    Annotated,
    Final,
    Literal,
    NewType,
    TypeAlias,
    TypeVar,
    Union,
    get_args,
    get_origin,
)

from typedsvc._inputs import InputSource, InputType, Location, Scalar, wire_name

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Input:
    """Where a handler parameter's value comes from, and its name there.

    ``name`` None means the parameter's own name (for a header, with ``_`` as ``-``).
    """

    location: Location
    name: str | None = None


def query(name: str) -> Input:
    """A query parameter named ``name`` on the wire: ``Annotated[int, query("page-size")]``."""
    return Input("query", name)


def header(name: str) -> Input:
    """A header named ``name`` (any case): ``Annotated[str, header("X-Request-ID")]``."""
    return Input("header", name)


def cookie(name: str) -> Input:
    """A cookie named ``name``: ``Annotated[str, cookie("session-id")]``."""
    return Input("cookie", name)


Query: TypeAlias = Annotated[T, Input("query")]
"""A query-string parameter of the parameter's name: ``limit: Query[int] = 20``."""
Header: TypeAlias = Annotated[T, Input("header")]
"""A request header, the parameter's name with ``_`` as ``-``: ``x_request_id: Header[str]``."""
Cookie: TypeAlias = Annotated[T, Input("cookie")]
"""A cookie of the parameter's name: ``session: Cookie[str | None] = None``."""
Body: TypeAlias = Annotated[T, Input("body")]
"""The JSON request body, decoded and validated into T: ``user: Body[NewUser]``."""


def marker_of(annotation: object) -> tuple[Input, object] | None:
    """The marker of an ``Annotated`` annotation and the type it marks, or None."""
    if get_origin(annotation) is not Annotated:
        return None
    marked, *metadata = get_args(annotation)
    for item in metadata:
        if isinstance(item, Input):
            # Python merges Query[Annotated[int, msgspec.Meta(ge=1)]] into one Annotated:
            # the marked type keeps the rest of it.
            others = tuple(other for other in metadata if not isinstance(other, Input))
            return item, Annotated[(marked, *others)] if others else marked
    return None


def nested_marker(annotation: object) -> Location | None:
    """The location of a marker inside ``annotation`` (in a union, a list...), where it
    marks nothing; None when there is none. Only for an annotation without a marker."""
    for arg in get_args(annotation):
        found = marker_of(arg)
        if found is not None:
            return found[0].location
        nested = nested_marker(arg)
        if nested is not None:
            return nested
    return None


def source_of(parameter: str, annotation: object) -> InputSource | None:
    """Where a parameter annotated ``annotation`` takes its value from; None for a group."""
    found = marker_of(annotation)
    if found is None:
        return None
    marker, marked = found
    wire = wire_name(marker.location, parameter, marker.name)
    typ = None if marker.location == "body" else input_type(marked)
    return InputSource(marker.location, wire, typ)


def input_type(annotation: object) -> InputType:
    """A query, header or cookie parameter's type, as the checks see it."""
    shown = display(annotation)
    inner, optional = _without_none(annotation)
    is_list = get_origin(inner) is list
    if is_list:
        args = get_args(inner)
        inner = args[0] if len(args) == 1 else None
    return InputType(shown, scalar_of(inner), is_list, optional)


def element_type(annotation: object) -> object:
    """The type each value converts to: T of T, T | None, list[T] and list[T] | None."""
    inner, _ = _without_none(annotation)
    if get_origin(inner) is list:
        args = get_args(inner)
        return args[0] if args else inner
    return inner


def scalar_of(annotation: object) -> Scalar | None:
    """What a value converts to for this type; None when it is not one that converts."""
    if get_origin(annotation) is Annotated:
        # Annotated[int, msgspec.Meta(ge=1)] converts as int, then meets its constraints.
        return scalar_of(get_args(annotation)[0])
    if annotation is bool:
        return "bool"
    if isinstance(annotation, type):
        if annotation in _SCALARS:
            return _SCALARS[annotation]
        if issubclass(annotation, enum.Enum) and all(
            isinstance(member.value, str) for member in annotation
        ):
            return "enum"
        return None
    if get_origin(annotation) is Literal and all(
        isinstance(value, str) for value in get_args(annotation)
    ):
        return "literal"
    return None


_SCALARS: Final[dict[type, Scalar]] = {str: "str", int: "int", float: "float", uuid.UUID: "uuid"}


def _without_none(annotation: object) -> tuple[object, bool]:
    """``T`` and True for ``T | None`` (or Optional[T]); the annotation and False otherwise.

    Literals joined in a union (``Literal["a"] | Literal["b"]``) are one, as mypy reads them.
    """
    if get_origin(annotation) in (Union, types.UnionType):
        members = [member for member in get_args(annotation) if member is not type(None)]
        optional = len(members) < len(get_args(annotation))
        if all(get_origin(member) is Literal for member in members):
            values = tuple(value for member in members for value in get_args(member))
            return Literal[values], optional
        if optional:
            if len(members) == 1:
                return members[0], True
            return Union[tuple(members)], True  # noqa: UP007 - built from a tuple at run time
    return annotation, False


_CALLABLE: Final[object] = collections.abc.Callable


def display(annotation: object) -> str:
    """An annotation as mypy displays it in messages (``format_type_bare``), so that the
    plugin's message and the runtime's are one text: ``int | None`` for ``Optional[int]``,
    ``dict[str, int]`` for ``Dict[str, int]``, a class by its own name."""
    if annotation is None or annotation is types.NoneType:
        return "None"
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        return display(args[0])
    if origin is Union or origin is types.UnionType:
        return " | ".join(display(arg) for arg in args)
    if origin is Literal:
        return f"Literal[{', '.join(map(repr, args))}]"
    if origin is _CALLABLE and len(args) == 2 and isinstance(args[0], list):
        parameters: list[object] = args[0]  # pyright: ignore[reportUnknownVariableType]
        return f"Callable[[{', '.join(map(display, parameters))}], {display(args[1])}]"
    if isinstance(origin, type) and args:
        return f"{origin.__name__}[{', '.join(display(arg) for arg in args)}]"
    if isinstance(annotation, type) and not args:
        return annotation.__name__
    if annotation is Ellipsis:
        return "..."
    if isinstance(annotation, TypeVar | NewType):
        # As mypy names them: T, not ~T; UserId, not its module's path to it.
        return annotation.__name__
    return repr(annotation).replace("typing.", "")
