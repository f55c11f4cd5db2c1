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

from typedsvc._inputs import Scalar

Converter: TypeAlias = Callable[[str], object]

_INT_RE: Final = re.compile(r"-?[0-9]+")
_FLOAT_RE: Final = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_BOOLS: Final = {"true": True, "1": True, "false": False, "0": False}


def converter(scalar: Scalar, annotation: object) -> tuple[Converter, str]:
    """How to turn text into a value of ``annotation``, and what the text must be.

    ``scalar`` is what the checks found ``annotation`` converts to (``Annotated[...]``
    and ``T | None`` around it are looked through).
    """
    if scalar == "str":
        return str, "str"
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
