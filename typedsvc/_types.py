"""Type aliases shared across typedsvc: methods, headers, and what a handler may return."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, TypeAlias

from aiohttp import web
from typing_extensions import TypedDict

from typedsvc._response import JsonResponse, Response

HttpMethod: TypeAlias = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

# A sequence of pairs lets a header such as Set-Cookie repeat.
Headers: TypeAlias = Mapping[str, str] | Sequence[tuple[str, str]]


class ResponseDict(TypedDict, total=False):
    """The dict form of a response; every key is optional."""

    body: str | bytes
    status: int
    headers: Headers
    content_type: str
    charset: str


ResponseValue: TypeAlias = (
    str
    | bytes
    | ResponseDict
    | tuple[int, str | bytes]
    | tuple[int, str | bytes, Headers]
    | Response
    | JsonResponse[object]
    | web.StreamResponse
    | None
)
