"""Response: typedsvc's own typed response value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


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
