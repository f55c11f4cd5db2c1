"""Typed inputs checked at import: each mistake raises DefinitionError with its exact message.

The same mistakes fail under mypy with the plugin (the ``# type: ignore[typedsvc-url]`` here
would be unused otherwise, which mypy reports), except the body types msgspec judges.
"""

# Classes defined inside tests exist for the error their class body raises.
# pyright: reportUnusedClass=false

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Literal, Optional, TypeAlias

import pytest
from aiohttp import web

import typedsvc
from typedsvc import Body, Cookie, DefinitionError, Header, Query
from typedsvc._service import routes_of
from typedsvc._specs import RouteSpec

if TYPE_CHECKING:
    # Defined for type checkers only, as an import under TYPE_CHECKING is.
    Mode: TypeAlias = Literal["fast", "slow"]


def raises(message: str) -> pytest.RaisesExc[DefinitionError]:
    return pytest.raises(DefinitionError, match=f"^{re.escape(message)}$")


QUERY_TYPES = (
    "use str, int, float, bool, uuid.UUID, a str Enum or a Literal of strs, each also | None, "
    "or a list of one of them."
)
VALUE_TYPES = (
    "use str, int, float, bool, uuid.UUID, a str Enum or a Literal of strs, each also | None."
)


def test_inputs_query_type_it_cannot_take() -> None:
    with raises(
        '"Users.search": typedsvc.Query parameter "filters" is annotated "dict[str, int]", '
        f"which a query parameter cannot be converted to; {QUERY_TYPES}"
    ):

        class Users(typedsvc.Service):
            @typedsvc.http("GET", r"/users")  # type: ignore[typedsvc-url]
            async def search(self, request: web.Request, filters: Query[dict[str, int]]) -> str:
                return ""


def test_inputs_header_takes_no_list() -> None:
    with raises(
        '"Users.search": typedsvc.Header parameter "tags" is annotated "list[str]", which a '
        f"header cannot be converted to; {VALUE_TYPES}"
    ):

        class Users(typedsvc.Service):
            @typedsvc.http("GET", r"/users")  # type: ignore[typedsvc-url]
            async def search(self, request: web.Request, tags: Header[list[str]]) -> str:
                return ""


def test_inputs_cookie_takes_no_list() -> None:
    with raises(
        '"Users.search": typedsvc.Cookie parameter "tags" is annotated "list[str]", which a '
        f"cookie cannot be converted to; {VALUE_TYPES}"
    ):

        class Users(typedsvc.Service):
            @typedsvc.http("GET", r"/users")  # type: ignore[typedsvc-url]
            async def search(self, request: web.Request, tags: Cookie[list[str]]) -> str:
                return ""


def test_inputs_body_on_a_route_without_a_body() -> None:
    with raises(
        '"Users.search": parameter "user" takes the request body, but r"/users" is routed for '
        "GET and HEAD only, whose requests carry no body; route POST, PUT or PATCH to it, or "
        "read the value from the query."
    ):

        class Users(typedsvc.Service):
            @typedsvc.http(["GET", "HEAD"], r"/users")  # type: ignore[typedsvc-url]
            async def search(self, request: web.Request, user: Body[dict[str, int]]) -> str:
                return ""


def test_inputs_two_bodies() -> None:
    with raises(
        '"Users.create": parameters "user" and "extra" both take the request body, and a '
        "request has one; keep one typedsvc.Body parameter and put the values in its type."
    ):

        class Users(typedsvc.Service):
            @typedsvc.http("POST", r"/users")  # type: ignore[typedsvc-url]
            async def create(
                self, request: web.Request, user: Body[dict[str, int]], extra: Body[int]
            ) -> str:
                return ""


def test_inputs_a_url_group_marked_as_query() -> None:
    with raises(
        '"Users.get": parameter "id" is filled by url group "id" in r"/users/(?P<id>\\d+)" and '
        "is also marked typedsvc.Query; remove the marker or rename the group."
    ):

        class Users(typedsvc.Service):
            @typedsvc.http("GET", r"/users/(?P<id>\d+)")  # type: ignore[typedsvc-url]
            async def get(self, request: web.Request, id: Query[int]) -> str:
                return ""


def test_inputs_two_parameters_with_one_wire_name() -> None:
    with raises(
        '"Users.search": parameters "page_size" and "size" both read the query parameter '
        '"size"; give one of them another name.'
    ):

        class Users(typedsvc.Service):
            @typedsvc.http("GET", r"/users")  # type: ignore[typedsvc-url]
            async def search(
                self,
                request: web.Request,
                page_size: Annotated[int, typedsvc.query("size")] = 1,
                size: Query[int] = 2,
            ) -> str:
                return ""


def test_inputs_header_names_compare_without_case() -> None:
    with raises(
        '"Users.search": parameters "x_id" and "other" both read the header "X-ID"; give one '
        "of them another name."
    ):

        class Users(typedsvc.Service):
            @typedsvc.http("GET", r"/users")  # type: ignore[typedsvc-url]
            async def search(
                self,
                request: web.Request,
                x_id: Header[str],
                other: Annotated[str, typedsvc.header("X-ID")],
            ) -> str:
                return ""


class Opaque:
    """A class msgspec knows nothing about."""


def test_inputs_body_type_msgspec_cannot_decode() -> None:
    # Not a plugin error: mypy cannot ask msgspec.
    with raises(
        '"Users.create": typedsvc.Body parameter "user" is annotated "Opaque", which msgspec '
        f"cannot decode JSON into (type {Opaque!r} is not supported); use a TypedDict, a "
        "dataclass, a msgspec.Struct or the types they compose with."
    ):

        class Users(typedsvc.Service):
            @typedsvc.http("POST", r"/users")
            async def create(self, request: web.Request, user: Body[Opaque]) -> str:
                return ""


def test_inputs_on_a_websocket_handler() -> None:
    with raises(
        '"Chat.room": typedsvc.Query parameter "token" of the websocket handler is never '
        "filled: typed inputs are read for @typedsvc.http routes only; read the value from the "
        "request instead."
    ):

        class Chat(typedsvc.Service):
            @typedsvc.websocket(r"/chat")  # type: ignore[typedsvc-url]
            async def room(self, websocket: web.WebSocketResponse, token: Query[str] = "") -> None:
                return None


def test_inputs_on_an_error_handler() -> None:
    with raises(
        '"Users.bad": typedsvc.Header parameter "x_id" of the http_error(400) handler is never '
        "filled: typed inputs are read for @typedsvc.http routes only; read the value from the "
        "request instead."
    ):

        class Users(typedsvc.Service):
            @typedsvc.http_error(400)  # type: ignore[typedsvc-url]
            async def bad(self, request: web.Request, x_id: Header[str] = "") -> str:
                return ""


def test_inputs_route_spec_lists_the_inputs() -> None:
    class Users(typedsvc.Service):
        @typedsvc.http("POST", r"/users/(?P<group>\w+)")
        async def create(
            self,
            request: web.Request,
            group: str,
            user: Body[dict[str, int]],
            dry_run: Query[bool] = False,
            x_request_id: Header[str | None] = None,
        ) -> str:
            return ""

    [(_, spec)] = routes_of(Users).routes
    assert isinstance(spec, RouteSpec)
    assert [
        (entry.name, entry.source.location, entry.source.wire, entry.has_default)
        for entry in spec.inputs
    ] == [
        ("user", "body", "user", False),
        ("dry_run", "query", "dry_run", True),
        ("x_request_id", "header", "X-Request-Id", True),
    ]


def test_inputs_body_type_not_defined_when_the_class_body_runs() -> None:
    with raises(
        '"Users.create": parameter "user" for url r"/users" is annotated "Body[NotYet]", which '
        "is not defined in its module when the class body runs; define or import it at the "
        "module's top level, before the service class."
    ):

        class Users(typedsvc.Service):
            @typedsvc.http("POST", r"/users")
            async def create(
                self,
                request: web.Request,
                user: Body[NotYet],  # type: ignore[name-defined]  # noqa: F821  # pyright: ignore[reportUndefinedVariable, reportUnknownParameterType]
            ) -> str:
                return ""


def test_inputs_optional_input_of_a_type_not_defined_when_the_class_body_runs() -> None:
    # With a default it could pass for a value a middleware passes on, and never get its
    # input: ?mode=slow would leave "fast" without a word. (Mode is the type checkers' only.)
    with raises(
        '"Search.search": parameter "mode" for url r"/search" is annotated "Query[Mode]", '
        "which is not defined in its module when the class body runs; define or import it at "
        "the module's top level, before the service class."
    ):

        class Search(typedsvc.Service):
            @typedsvc.http("GET", r"/search")
            async def search(
                self,
                request: web.Request,
                mode: Query[Mode] = "fast",
            ) -> str:
                return ""


def marker_inside(location: str) -> str:
    return (
        f'"Items.items": parameter "n" for url r"/items" has typedsvc.{location} inside its '
        "annotation, where it marks nothing, so the parameter is never read; put the marker "
        f"outermost: typedsvc.{location}[T | None], not typedsvc.{location}[T] | None."
    )


def optional_query() -> None:
    class Items(typedsvc.Service):
        @typedsvc.http("GET", r"/items")  # type: ignore[typedsvc-url]
        async def items(self, request: web.Request, n: Optional[Query[int]] = None) -> str:  # noqa: UP045
            return ""


def union_query() -> None:
    class Items(typedsvc.Service):
        @typedsvc.http("GET", r"/items")  # type: ignore[typedsvc-url]
        async def items(self, request: web.Request, n: Query[int] | None = None) -> str:
            return ""


def list_of_headers() -> None:
    class Items(typedsvc.Service):
        @typedsvc.http("GET", r"/items")  # type: ignore[typedsvc-url]
        async def items(self, request: web.Request, n: list[Header[str]] | None = None) -> str:
            return ""


@pytest.mark.parametrize(
    ("define", "location"),
    [(optional_query, "Query"), (union_query, "Query"), (list_of_headers, "Header")],
)
def test_inputs_marker_inside_the_annotation_marks_nothing(
    define: Callable[[], None], location: str
) -> None:
    # With its default each would pass for a middleware's value, and never be read.
    with raises(marker_inside(location)):
        define()
