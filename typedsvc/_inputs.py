"""Typed inputs as the definition checks see them: where each comes from, and its type.

Pure and standard-library only, like ``_urls``: the runtime describes a marked parameter
from its ``Annotated`` annotation, the mypy plugin from the handler's definition and
mypy's types, and both get their messages from :func:`input_problems`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Final, Literal, NamedTuple

from typedsvc import _errors

Location = Literal["query", "header", "cookie", "body"]
# The types a query, header or cookie value converts to.
Scalar = Literal["str", "int", "float", "bool", "uuid", "enum", "literal"]

# A request to these methods carries no body a handler may read.
BODYLESS_METHODS: Final = frozenset({"GET", "HEAD"})


class InputType(NamedTuple):
    """The type of a query, header or cookie parameter, as far as the checks care."""

    # The type as written, for messages.
    shown: str
    # What each value converts to; None when it is not a type the location can take.
    scalar: Scalar | None
    # list[T]: every value of a repeated query parameter.
    is_list: bool = False
    # T | None.
    optional: bool = False


class InputSource(NamedTuple):
    """Where a marked parameter's value comes from: its location and name there."""

    location: Location
    # The name on the wire: the parameter's own (a header's with "-" for "_") or the
    # long form's.
    wire: str
    # None for the body, whose type msgspec judges at import.
    type: InputType | None


def wire_name(location: Location, parameter: str, given: str | None) -> str:
    """The name a parameter's value has on the wire."""
    if given is not None:
        return given
    if location == "header":
        # x_request_id is X-Request-Id: matched in any case, shown as headers are written.
        return "-".join(part.capitalize() for part in parameter.split("_"))
    return parameter


def takes(location: Location, typ: InputType) -> bool:
    """Whether a value at ``location`` converts to ``typ`` (only a query repeats)."""
    return typ.scalar is not None and (not typ.is_list or location == "query")


def input_problems(
    where: str,
    url: str,
    groups: Collection[str],
    inputs: Sequence[tuple[str, InputSource]],
) -> list[str]:
    """Problems of a handler's marked parameters (name, source) with the url's groups.

    Every problem that depends on the signature and the url alone; the route's methods
    are judged apart, by :func:`body_method_problem`.
    """
    problems: list[str] = []
    bodies: list[str] = []
    seen: dict[tuple[Location, str], str] = {}
    for name, source in inputs:
        location = source.location
        if name in groups:
            problems.append(_errors.input_is_a_group(where, url, name, location))
        if source.type is not None and not takes(location, source.type):
            problems.append(
                _errors.unsupported_input_type(where, name, location, source.type.shown)
            )
        if location == "body":
            bodies.append(name)
            continue
        # Header names are case-insensitive on the wire.
        key = (location, source.wire.lower() if location == "header" else source.wire)
        first = seen.setdefault(key, name)
        if first != name:
            problems.append(_errors.duplicate_wire_name(where, first, name, location, source.wire))
    if len(bodies) > 1:
        problems.append(_errors.several_bodies(where, bodies))
    return problems


def body_method_problem(
    where: str, url: str, methods: Sequence[str], inputs: Sequence[tuple[str, InputSource]]
) -> str | None:
    """The problem of a body parameter on a route whose requests carry no body."""
    if not methods or not BODYLESS_METHODS.issuperset(methods):
        return None
    for name, source in inputs:
        if source.location == "body":
            return _errors.body_without_body_method(where, url, name, methods)
    return None
