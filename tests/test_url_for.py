"""url_for(): paths written from a handler and values, read back by the route they name."""

# pyright: reportUnusedClass=false

from __future__ import annotations

import enum
import json
import re
import uuid
from typing import Annotated, Any, Literal

import pytest
from aiohttp import web
from conftest import MakeClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import typedsvc
from typedsvc import Query, url_for
from typedsvc._service import routes_of
from typedsvc._specs import RouteSpec


class Color(enum.Enum):
    RED = "red"
    DARK_BLUE = "dark blue"


class Shop(typedsvc.Service):
    @typedsvc.http("GET", r"^/items/(?P<item_id>\d+)$")
    async def get_item(self, request: web.Request, item_id: int) -> str:
        return str(item_id)

    @typedsvc.http("GET", r"/files/(?P<name>[^/]+)/(?P<version>\d+\.\d+)")
    async def get_file(self, request: web.Request, name: str, version: float) -> str:
        return f"{name} {version}"

    @typedsvc.http("GET", r"/colors/(?P<color>[^/]+)/(?P<key>[0-9a-f-]+)")
    async def get_color(self, request: web.Request, color: Color, key: uuid.UUID) -> str:
        return f"{color} {key}"

    @typedsvc.http("GET", r"/search/?")
    async def search(
        self,
        request: web.Request,
        q: Query[str],
        limit: Query[int] = 20,
        tag: Query[list[str]] = [],  # noqa: B006 - typedsvc passes a list of its own when given
        ratio: Query[float | None] = None,
        exact: Query[bool] = False,
        sort: Query[Literal["asc", "desc"]] = "asc",
        page_size: Annotated[int, typedsvc.query("page-size")] = 10,
    ) -> str:
        return ""

    @typedsvc.http("GET", r"/pages/(?P<page>\d+)")
    async def page(self, request: web.Request, page: int = 1) -> str:
        return str(page)

    @typedsvc.http("GET", r"/pair/(?P<a>\w+)(?P<b>\w+)")
    async def pair(self, request: web.Request, a: str, b: str) -> str:
        return a + b

    @typedsvc.http("GET", r"/api/(?:v1|v2)/users")
    async def users(self, request: web.Request) -> str:
        return ""

    async def not_a_route(self, request: web.Request) -> str:
        return ""


# What callers get without a type checker; tests/typing/check_url_for.py has what mypy
# and pyright say about the same calls.
untyped_url_for: Any = url_for


def raises(kind: type[Exception], message: str) -> pytest.RaisesExc[Exception]:
    return pytest.raises(kind, match=f"^{re.escape(message)}$")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param(url_for(Shop.get_item, item_id=42), "/items/42", id="int"),
        pytest.param(
            url_for(Shop.get_file, name="a b/c?.txt", version=1.5),
            "/files/a%20b%2Fc%3F.txt/1.5",
            id="str-percent-encoded",
        ),
        pytest.param(
            url_for(Shop.get_color, color=Color.DARK_BLUE, key=uuid.UUID(int=1)),
            "/colors/dark%20blue/00000000-0000-0000-0000-000000000001",
            id="enum-and-uuid",
        ),
        pytest.param(url_for(Shop.search, q="x y"), "/search?q=x%20y", id="query-required"),
        pytest.param(
            url_for(Shop.search, q="é", tag=["a", "b&c"], exact=True, page_size=5, ratio=None),
            "/search?q=%C3%A9&tag=a&tag=b%26c&exact=true&page-size=5",
            id="query-lists-bools-wire-names-none-left-out",
        ),
        pytest.param(url_for(Shop.search, q="", sort="desc"), "/search?q=&sort=desc", id="literal"),
        pytest.param(url_for(Shop.get_file, name="a", version=2.0), "/files/a/2.0", id="float"),
        pytest.param(url_for(Shop.get_file, name="...", version=0.5), "/files/.../0.5", id="dots"),
        pytest.param(url_for(Shop.page), "/pages/1", id="group-default"),
        pytest.param(url_for(Shop.pair, a="xy", b="z"), "/pair/xyz", id="groups-side-by-side"),
        pytest.param(url_for(Shop.page, page=3), "/pages/3", id="group-default-given"),
        pytest.param(url_for(Shop.get_item, 7), "/items/7", id="by-position"),
        pytest.param(url_for(Shop.get_file, "a", version=0.5), "/files/a/0.5", id="mixed"),
    ],
)
def test_url_for_writes(path: str, expected: str) -> None:
    assert path == expected


@pytest.mark.parametrize(
    ("call", "kind", "message"),
    [
        pytest.param(
            lambda: untyped_url_for(Shop.not_a_route),
            TypeError,
            'url_for() takes a route\'s handler; "Shop.not_a_route" is not one: decorate it '
            "with @typedsvc.http(...).",
            id="not-a-route",
        ),
        pytest.param(
            lambda: untyped_url_for(Shop.users),
            TypeError,
            '"Shop.users": url_for() cannot write a path for r"/api/(?:v1|v2)/users": it has an '
            "alternation outside its groups; write the url as literal text and named groups.",
            id="not-reversible",
        ),
        pytest.param(
            lambda: untyped_url_for(Shop.get_item, itemid=1),
            TypeError,
            '"Shop.get_item": url_for() got "itemid", which is neither a url group nor a '
            "typedsvc.Query parameter of the handler.",
            id="unknown-name",
        ),
        pytest.param(
            lambda: untyped_url_for(Shop.get_item),
            TypeError,
            '"Shop.get_item": url_for() needs a value for url group "item_id".',
            id="missing-group",
        ),
        pytest.param(
            lambda: untyped_url_for(Shop.search),
            TypeError,
            '"Shop.search": url_for() needs the query parameter "q".',
            id="missing-required-query",
        ),
        pytest.param(
            lambda: untyped_url_for(Shop.get_item, 1, 2),
            TypeError,
            '"Shop.get_item": url_for() takes 1 values by position, got 2.',
            id="too-many-by-position",
        ),
        pytest.param(
            lambda: untyped_url_for(Shop.get_item, item_id="12"),
            TypeError,
            '"Shop.get_item": url_for() value of "item_id" must be int, got str.',
            id="wrong-type",
        ),
        pytest.param(
            lambda: untyped_url_for(Shop.get_item, item_id=True),
            TypeError,
            '"Shop.get_item": url_for() value of "item_id" must be int, got bool.',
            id="bool-is-no-int",
        ),
        pytest.param(
            lambda: untyped_url_for(Shop.search, q="x", tag="a"),
            TypeError,
            '"Shop.search": url_for() value of "tag" must be list[str], got str.',
            id="list-needs-a-list",
        ),
        pytest.param(
            lambda: untyped_url_for(Shop.search, q="x", tag=[1]),
            TypeError,
            '"Shop.search": url_for() value of "tag" must be list[str], got list[int].',
            id="list-item-type",
        ),
        pytest.param(
            lambda: untyped_url_for(Shop.get_item, item_id=-1),
            ValueError,
            '"Shop.get_item": url_for() value \'-1\' of url group "item_id" does not match '
            'its pattern r"\\d+".',
            id="value-outside-the-pattern",
        ),
        pytest.param(
            lambda: untyped_url_for(Shop.get_file, name="a", version=2),
            ValueError,
            '"Shop.get_file": url_for() value \'2\' of url group "version" does not match '
            'its pattern r"\\d+\\.\\d+".',
            id="int-for-a-float-written-as-an-int",
        ),
        pytest.param(
            lambda: untyped_url_for(Shop.get_file, name="a", version=1e20),
            ValueError,
            '"Shop.get_file": url_for() value \'1e+20\' of url group "version" does not '
            'match its pattern r"\\d+\\.\\d+".',
            id="float-in-exponent-form",
        ),
        pytest.param(
            lambda: untyped_url_for(Shop.search, q="x", ratio=float("nan")),
            ValueError,
            '"Shop.search": url_for() value nan of "ratio" is one the route cannot read back '
            "(float).",
            id="nan-cannot-round-trip",
        ),
        pytest.param(
            lambda: untyped_url_for(Shop.pair, a="x", b="yz"),
            ValueError,
            "\"Shop.pair\": url_for() values make the path '/pair/xyz', which the route reads "
            "with url group \"a\" as 'xy', not 'x'.",
            id="groups-side-by-side-read-otherwise",
        ),
        pytest.param(
            lambda: untyped_url_for(Shop.get_file, name="..", version=1.5),
            ValueError,
            '"Shop.get_file": url_for() value \'..\' of url group "name" would be a dot '
            "segment, which clients remove from a path.",
            id="dot-segment",
        ),
        pytest.param(
            lambda: untyped_url_for(Shop.search, q="x", sort="up"),
            TypeError,
            "\"Shop.search\": url_for() value of \"sort\" must be Literal['asc', 'desc'], got str.",
            id="literal-outside-its-values",
        ),
    ],
)
def test_url_for_refuses(call: Any, kind: type[Exception], message: str) -> None:
    with raises(kind, message):
        call()


def test_url_for_reversibility_is_decided_at_import() -> None:
    class Late(typedsvc.Service):
        @typedsvc.http("GET", r"/(?=a)a")
        async def look(self, request: web.Request) -> str:
            return ""

    ((_, spec),) = routes_of(Late).routes
    assert isinstance(spec, RouteSpec)
    assert spec.reversal == "it has a lookaround"


class Echo(typedsvc.Service):
    """Answers with the values it was given, as JSON."""

    @typedsvc.http("GET", r"/echo/(?P<word>[^/]+)/(?P<n>-?\d+)/(?P<color>[a-z ]+)")
    async def echo(
        self,
        request: web.Request,
        word: str,
        n: int,
        color: Color,
        q: Query[str],
        tags: Query[list[str]] = [],  # noqa: B006 - typedsvc passes a list of its own when given
        ratio: Query[float | None] = None,
        flag: Query[bool] = False,
    ) -> str:
        return json.dumps([word, n, color.value, q, tags, ratio, flag])


_SERVED: dict[object, Any] = {}
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    word=TEXT.filter(lambda word: word not in ("", ".", "..")),
    n=st.integers(),
    color=st.sampled_from(Color),
    q=TEXT,
    tags=st.lists(TEXT, max_size=3),
    ratio=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    flag=st.booleans(),
)
async def test_url_for_round_trip_reaches_the_handler_with_equal_values(
    serve: MakeClient,
    word: str,
    n: int,
    color: Color,
    q: str,
    tags: list[str],
    ratio: float | None,
    flag: bool,
) -> None:
    client = _SERVED.get(serve)
    if client is None:
        client = _SERVED[serve] = await serve(Echo())
    path = url_for(Echo.echo, word=word, n=n, color=color, q=q, tags=tags, ratio=ratio, flag=flag)
    response = await client.get(path)
    assert response.status == 200, (path, await response.text())
    assert json.loads(await response.text()) == [word, n, color.value, q, tags, ratio, flag]


class Docs(typedsvc.Service):
    # Groups that take slashes: a path below a prefix.
    @typedsvc.http("GET", r"/docs/(?P<page>[\w./]+)")
    async def page(self, request: web.Request, page: str) -> str:
        return page

    @typedsvc.http("GET", r"/files/(?P<path>.+)")
    async def file(self, request: web.Request, path: str) -> str:
        return path


def test_url_for_group_that_takes_slashes() -> None:
    # Its slashes are sent as they are, where the group would not take them encoded.
    assert url_for(Docs.page, page="guide/intro") == "/docs/guide/intro"
    # One that takes anything gets them encoded, which keeps a segment its own.
    assert url_for(Docs.file, path="a/b c") == "/files/a%2Fb%20c"
    with raises(
        ValueError,
        '"Docs.page": url_for() value \'..\' of url group "page" would be a dot segment, '
        "which clients remove from a path.",
    ):
        url_for(Docs.page, page="guide/../secret")


SEGMENT = st.text(st.characters(categories=["L", "N"]) | st.just("_"), min_size=1, max_size=8)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# .+ takes any text but a line break; "." and ".." are dot segments, which url_for() refuses.
@given(
    segments=st.lists(SEGMENT, min_size=1, max_size=4),
    path=TEXT.filter(lambda text: text not in ("", ".", "..") and "\n" not in text),
)
async def test_url_for_round_trip_of_groups_that_take_slashes(
    serve: MakeClient, segments: list[str], path: str
) -> None:
    client = _SERVED.get((serve, Docs))
    if client is None:
        client = _SERVED[(serve, Docs)] = await serve(Docs())
    page = "/".join(segments)
    for written, expected in (
        (url_for(Docs.page, page=page), page),
        (url_for(Docs.file, path=path), path),
    ):
        response = await client.get(written)
        assert (response.status, await response.text()) == (200, expected), written
