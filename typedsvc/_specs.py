"""What the decorators record on a handler: one spec per route, read by Service and the app.

The bottom of the definition layer: the decorators write specs, ``Service`` collects them,
``create_app`` serves them, and this module knows none of those.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, NamedTuple, TypeAlias

import msgspec

from typedsvc._convert import Converter
from typedsvc._inputs import InputSource

ROUTES_ATTR: Final = "__typedsvc_routes__"
ERRORS_ATTR: Final = "__typedsvc_error_handlers__"


class RouteSpec(NamedTuple):
    """One ``@http`` on one handler, checked and ready to serve.

    A NamedTuple, as the one spec built per route: a frozen dataclass takes a few
    microseconds longer to build, which a class of many routes pays at import.
    """

    where: str
    methods: tuple[str, ...]
    url: str
    # The url's named groups, in order; the pattern is compiled when an app is made.
    groups: tuple[str, ...]
    # (group name, converter, type name for the 400 message); str groups are left out.
    conversions: tuple[tuple[str, Converter, str], ...]
    # Groups whose parameter has no default: always passed, as "" when the group did not match.
    required_groups: tuple[str, ...]
    ignore_logging: bool | frozenset[int]
    # The parameters read from the query, headers, cookies and body.
    inputs: tuple[RouteInput, ...] = ()
    # Why url_for cannot write a path of the url; None when it can.
    reversal: str | None = None


class RouteInput(NamedTuple):
    """A handler parameter read from the request (``typedsvc.Query[int]``, ...)."""

    name: str
    source: InputSource
    # The type the marker marks: Query[int] marks int.
    annotation: object
    has_default: bool
    # The body's decoder, made at import: making it is what tells whether msgspec can.
    decoder: msgspec.json.Decoder[Any] | None = None


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    """One ``@http_error`` on one handler."""

    where: str
    status: int
    takes_status_code: bool


@dataclass(frozen=True, slots=True)
class StaticSpec:
    """One ``@http_static``: the directory (resolved) and the base url."""

    where: str
    url: str
    pattern: re.Pattern[str]
    directory: Path
    serve_dotfiles: bool
    methods: tuple[str, ...] = ("GET", "HEAD")


@dataclass(frozen=True, slots=True)
class WebsocketSpec:
    """One ``@websocket`` on one handler."""

    where: str
    url: str
    takes_request: bool
    methods: tuple[str, ...] = ("GET",)


AnyRoute: TypeAlias = RouteSpec | StaticSpec | WebsocketSpec
# isinstance() takes a tuple in a third of the time it takes the union.
ROUTE_SPECS: Final = (RouteSpec, StaticSpec, WebsocketSpec)


def record(func: object, attr: str, spec: object) -> None:
    """Add ``spec`` to what the decorators recorded on ``func`` under ``attr``."""
    specs: tuple[object, ...] = getattr(func, attr, ())
    setattr(func, attr, (*specs, spec))
