"""Text to typed values: url groups, query parameters, headers and cookies.

Each converter raises ValueError for text that does not convert; its description says
what the text must be, for the message a client gets.
"""

from __future__ import annotations

import enum
import math
import re
import uuid
from collections.abc import Callable
from typing import Annotated, Final, TypeAlias, get_args, get_origin

import msgspec

from typedsvc._inputs import Scalar

Converter: TypeAlias = Callable[[str], object]

_INT_RE: Final = re.compile(r"-?[0-9]+")
_FLOAT_RE: Final = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_BOOLS: Final = {"true": True, "1": True, "false": False, "0": False}


def converter(scalar: Scalar, annotation: object, text: Converter = str) -> tuple[Converter, str]:
    """How to turn text into a value of ``annotation``, and what the text must be.

    ``scalar`` is what the checks found ``annotation`` converts to (``Annotated[...]``
    and ``T | None`` around it are looked through). msgspec's constraints on it
    (``Annotated[int, msgspec.Meta(ge=1)]``) are checked too, by msgspec.
    """
    convert, described = _plain(scalar, annotation, text)
    said = _constraints(annotation)
    if not said:
        return convert, described

    def constrained(text: str) -> object:
        value = convert(text)
        try:
            msgspec.convert(value, annotation)
        except msgspec.ValidationError:
            raise ValueError(text) from None
        return value

    return constrained, f"{described} {said}"


def constrained(annotation: object) -> bool:
    """Whether ``annotation`` carries msgspec constraints that a value must meet."""
    return bool(_constraints(annotation))


def _constraints(annotation: object) -> str:
    """msgspec's constraints on ``annotation`` in words (">= 1 and <= 100"); "" for none."""
    if get_origin(annotation) is not Annotated:
        return ""
    said: list[str] = []
    for meta in get_args(annotation)[1:]:
        if not isinstance(meta, msgspec.Meta):
            continue
        for bound, sign in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            value = getattr(meta, bound)
            if value is not None:
                said.append(f"{sign} {value}")
        if meta.multiple_of is not None:
            said.append(f"a multiple of {meta.multiple_of}")
        if meta.min_length is not None:
            said.append(f"of at least {meta.min_length} characters")
        if meta.max_length is not None:
            said.append(f"of at most {meta.max_length} characters")
        if meta.pattern is not None:
            said.append(f"matching {meta.pattern!r}")
    return " and ".join(said)


def _plain(scalar: Scalar, annotation: object, text: Converter) -> tuple[Converter, str]:
    """``text`` is how a str is read: as it is, or without what is not UTF-8 (to_text)."""
    if scalar == "str":
        return text, "str"
    if scalar == "int":
        return to_int, "int"
    if scalar == "float":
        return to_float, "float"
    if scalar == "bool":
        return to_bool, "true, false, 1 or 0"
    if scalar == "uuid":
        return uuid.UUID, "UUID"
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if scalar == "enum":
        assert isinstance(annotation, type)
        assert issubclass(annotation, enum.Enum)
        members = ", ".join(repr(member.value) for member in annotation)
        return annotation, f"one of {members}"
    values: tuple[str, ...] = get_args(annotation)
    return _one_of(frozenset(values)), f"one of {', '.join(map(repr, values))}"


def to_int(text: str) -> int:
    """An int from ASCII digits with an optional ``-``."""
    # int() also takes spaces, "+", "_" separators and non-ASCII digits; a value in a url
    # should not. ASCII digits alone, the common case, need no regex.
    if not (text.isascii() and text.isdigit()) and not _INT_RE.fullmatch(text):
        raise ValueError(text)
    return int(text)


def to_text(text: str) -> str:
    """A header's or cookie's text with each byte that is not UTF-8 made U+FFFD, as yarl does
    in a query: aiohttp keeps them as lone surrogates, which no encoder takes."""
    if text.isascii():
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def to_float(text: str) -> float:
    """A float in decimal or exponent notation."""
    # float() also takes "nan", "inf" and spaces, which no url should mean, and makes inf of
    # a number too large for a float.
    if not _FLOAT_RE.fullmatch(text):
        raise ValueError(text)
    value = float(text)
    if math.isinf(value):
        raise ValueError(text)
    return value


def to_bool(text: str) -> bool:
    """``true``/``1`` or ``false``/``0``, in any case."""
    value = _BOOLS.get(text.lower())
    if value is None:
        raise ValueError(text)
    return value


def _one_of(values: frozenset[str]) -> Converter:
    def convert(text: str) -> str:
        if text not in values:
            raise ValueError(text)
        return text

    return convert
