"""Response and JsonResponse: typedsvc's own typed response values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True, slots=True)
class Response:
    """A response a handler returns: body, status and headers in one typed value.

    ``status`` None means 200, or the error's status when an ``http_error``
    handler returns it. ``content_type`` and ``charset`` combine into one
    Content-Type header; either one left out falls back to the service options.
    """

    body: str | bytes = b""
    status: int | None = None
    reason: str | None = None
    headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None
    content_type: str | None = None
    charset: str | None = None


@dataclass(frozen=True, slots=True)
class JsonResponse(Generic[T_co]):
    """A JSON response whose body is ``value``, encoded by msgspec.

    ``value`` is anything msgspec encodes: dicts, lists, TypedDicts, dataclasses,
    ``msgspec.Struct``, datetimes, UUIDs, enums. The return annotation
    ``JsonResponse[User]`` is what the OpenAPI document publishes for the response.
    """

    value: T_co
    status: int = 200
    headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None
