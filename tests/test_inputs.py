"""Typed inputs served: query, header, cookie and body parameters, and the problems clients get."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import functools
import json
import uuid
import weakref
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Literal, ParamSpec, TypeVar

import msgspec
import pytest
from aiohttp import web
from conftest import Client, MakeClient, problem
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rawhttp import exchange
from typing_extensions import TypedDict

import typedsvc
from typedsvc import Body, Cookie, Header, HttpOptions, JsonResponse, Options, Query

UUID = "12345678-1234-5678-1234-567812345678"
P = ParamSpec("P")
R = TypeVar("R")


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Search(typedsvc.Service):
    @typedsvc.http("GET", r"/search")
    async def search(
        self,
        request: web.Request,
        q: Query[str],
        limit: Query[int] = 20,
        tag: Query[list[str]] = [],  # noqa: B006 - typedsvc passes a list of its own when given
        ratio: Query[float | None] = None,
        exact: Query[bool] = False,
        color: Query[Color | None] = None,
        sort: Query[Literal["asc", "desc"]] = "asc",
        id: Query[uuid.UUID | None] = None,
        page_size: Annotated[int, typedsvc.query("page-size")] = 10,
    ) -> str:
        return repr((q, limit, tag, ratio, exact, color, sort, id, page_size))

    @typedsvc.http("GET", r"/headers")
    async def headers(
        self,
        request: web.Request,
        x_request_id: Header[str],
        x_count: Header[int] = 0,
        trace: Annotated[str | None, typedsvc.header("X-B3-TraceId")] = None,
        session: Cookie[str | None] = None,
        theme: Annotated[Literal["dark", "light"], typedsvc.cookie("ui-theme")] = "light",
    ) -> str:
        return repr((x_request_id, x_count, trace, session, theme))

    @typedsvc.http("GET", r"/items/(?P<n>[^/]+)")
    async def item(self, request: web.Request, n: int, scale: Query[int] = 1) -> str:
        return str(n * scale)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("q=ada", "('ada', 20, [], None, False, None, 'asc', None, 10)", id="defaults"),
        pytest.param(
            f"q=ada&limit=5&tag=a&tag=b&ratio=0.5&exact=TRUE&color=green&sort=desc&id={UUID}"
            "&page-size=3",
            f"('ada', 5, ['a', 'b'], 0.5, True, <Color.GREEN: 'green'>, 'desc', UUID('{UUID}'), 3)",
            id="every-type",
        ),
        pytest.param(
            "q=%C3%A9t%C3%A9&limit=-3&exact=0&tag=",
            "('été', -3, [''], None, False, None, 'asc', None, 10)",
            id="decoded-negative-empty",
        ),
        pytest.param("q=a&exact=1", "('a', 20, [], None, True, None, 'asc', None, 10)", id="one"),
        pytest.param("q=a&exact=False", "('a', 20, [], None, False, None, 'asc', None, 10)"),
        # A name repeated for a single value: the first one counts.
        pytest.param("q=a&q=b", "('a', 20, [], None, False, None, 'asc', None, 10)", id="first"),
    ],
)
async def test_inputs_query_values_convert(serve: MakeClient, query: str, expected: str) -> None:
    client = await serve(Search())
    response = await client.get(f"/search?{query}")
    assert (response.status, await response.text()) == (200, expected)


class Numbers(typedsvc.Service):
    @typedsvc.http("GET", r"/sum")
    async def total(self, request: web.Request, n: Query[list[int]] = []) -> str:  # noqa: B006 - typedsvc passes a list of its own when given
        return str(sum(n))


async def test_inputs_repeated_query_values_each_convert(serve: MakeClient) -> None:
    client = await serve(Numbers())
    valid = await client.get("/sum?n=1&n=2&n=39")
    assert (valid.status, await valid.text()) == (200, "42")
    # Every value that does not convert is listed, not only the first.
    invalid = await client.get("/sum?n=1&n=x&n=2.5")
    errors = (await invalid.json())["errors"]
    assert {(error["in"], error["name"]) for error in errors} == {("query", "n")}
    assert (invalid.status, [error["message"] for error in errors]) == (
        400,
        [
            "query parameter \"n\" must be int, got 'x'.",
            "query parameter \"n\" must be int, got '2.5'.",
        ],
    )


async def test_inputs_headers_and_cookies_convert(serve: MakeClient) -> None:
    client = await serve(Search())
    response = await client.get(
        "/headers",
        headers={
            "x-request-id": "r1",
            "X-COUNT": "7",
            "x-b3-traceid": "t1",
            "Cookie": "session=s1; ui-theme=dark",
        },
    )
    assert (response.status, await response.text()) == (200, "('r1', 7, 't1', 's1', 'dark')")


async def test_inputs_every_invalid_input_is_listed(serve: MakeClient) -> None:
    client = await serve(Search())
    response = await client.get(
        "/search?limit=ten&tag=a&exact=yes&color=blue&sort=up&id=x&ratio=nan&page-size=1.5"
    )
    messages = [
        'query parameter "q" is required.',
        "query parameter \"limit\" must be int, got 'ten'.",
        "query parameter \"ratio\" must be float, got 'nan'.",
        "query parameter \"exact\" must be true, false, 1 or 0, got 'yes'.",
        "query parameter \"color\" must be one of 'red', 'green', got 'blue'.",
        "query parameter \"sort\" must be one of 'asc', 'desc', got 'up'.",
        "query parameter \"id\" must be UUID, got 'x'.",
        "query parameter \"page-size\" must be int, got '1.5'.",
    ]
    names = ["q", "limit", "ratio", "exact", "color", "sort", "id", "page-size"]
    assert await problem(response) == {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": "8 inputs are invalid: " + " ".join(messages),
        "errors": [
            {"in": "query", "name": name, "message": message}
            for name, message in zip(names, messages, strict=True)
        ],
    }


async def test_inputs_header_and_cookie_bytes_that_are_not_utf_8_are_replaced(
    serve: MakeClient,
) -> None:
    # As yarl does in the query: aiohttp would hand over lone surrogates, which neither a
    # str body nor a JSON encoder takes.
    client = await serve(Search())
    port = client.port
    assert port is not None
    answer = await exchange(
        port,
        b"GET /headers HTTP/1.1\r\nHost: t\r\nX-Request-Id: a\xffb\r\n"
        b"Cookie: session=c\xfe\r\n\r\n",
    )
    assert (answer.status, answer.body.decode()) == (
        200,
        "('a\ufffdb', 0, None, 'c\ufffd', 'light')",
    )


async def test_inputs_missing_and_bad_headers_and_cookies(serve: MakeClient) -> None:
    client = await serve(Search())
    response = await client.get("/headers", headers={"X-Count": "many", "Cookie": "ui-theme=blue"})
    body = await problem(response)
    assert body["errors"] == [
        {"in": "header", "name": "X-Request-Id", "message": 'header "X-Request-Id" is required.'},
        {
            "in": "header",
            "name": "X-Count",
            "message": "header \"X-Count\" must be int, got 'many'.",
        },
        {
            "in": "cookie",
            "name": "ui-theme",
            "message": "cookie \"ui-theme\" must be one of 'dark', 'light', got 'blue'.",
        },
    ]


async def test_inputs_an_int_of_more_digits_than_python_converts_is_a_400(
    serve: MakeClient,
) -> None:
    # int() refuses more than 4300 digits (sys.get_int_max_str_digits()).
    digits = "1" * 5000
    shown = "1" * 60 + "..."
    client = await serve(Search())
    response = await client.get(f"/search?q=a&limit={digits}", headers={"X-Count": digits})
    assert (await problem(response))["errors"] == [
        {
            "in": "query",
            "name": "limit",
            "message": f"query parameter \"limit\" must be int, got '{shown}'.",
        }
    ]
    response = await client.get("/headers", headers={"X-Request-Id": "r", "X-Count": digits})
    assert (await problem(response))["errors"] == [
        {
            "in": "header",
            "name": "X-Count",
            "message": f"header \"X-Count\" must be int, got '{shown}'.",
        }
    ]


async def test_inputs_path_and_query_errors_together(serve: MakeClient) -> None:
    client = await serve(Search())
    ok = await client.get("/items/4?scale=3")
    assert await ok.text() == "12"
    response = await client.get("/items/four?scale=x")
    assert (await problem(response))["errors"] == [
        {"in": "path", "name": "n", "message": "url parameter \"n\" must be int, got 'four'."},
        {
            "in": "query",
            "name": "scale",
            "message": "query parameter \"scale\" must be int, got 'x'.",
        },
    ]


class Address(TypedDict):
    street: str
    zip: int


class NewUser(TypedDict):
    name: str
    email: str
    address: Address


@dataclasses.dataclass
class Point:
    x: float
    y: float


class Tags(msgspec.Struct):
    tags: list[str]
    at: datetime.datetime


class Users(typedsvc.Service):
    @typedsvc.http("POST", r"/users")
    async def create(self, request: web.Request, user: Body[NewUser]) -> JsonResponse[NewUser]:
        return JsonResponse(user, status=201)

    @typedsvc.http("PUT", r"/points/(?P<id>\d+)")
    async def point(self, request: web.Request, id: int, point: Body[Point]) -> str:
        return f"{id}: {point!r}"

    @typedsvc.http("PATCH", r"/tags")
    async def tags(self, request: web.Request, body: Body[Tags | None] = None) -> str:
        return repr(body)

    @typedsvc.http("POST", r"/limited")
    async def limited(self, request: web.Request, q: Query[int], items: Body[list[int]]) -> str:
        return str(sum(items) * q)


NEW_USER = b'{"name": "Ada", "email": "ada@example.com", "address": {"street": "x", "zip": 1}}'


@pytest.mark.parametrize(
    ("method", "path", "content_type", "body", "status", "text"),
    [
        pytest.param(
            "POST",
            "/users",
            "application/json",
            NEW_USER,
            201,
            '{"name":"Ada","email":"ada@example.com","address":{"street":"x","zip":1}}',
            id="typeddict",
        ),
        pytest.param(
            "PUT",
            "/points/3",
            "application/json; charset=utf-8",
            b'{"x": 1, "y": 2.5}',
            200,
            "3: Point(x=1.0, y=2.5)",
            id="dataclass",
        ),
        pytest.param(
            "PATCH",
            "/tags",
            "application/merge-patch+json",
            b'{"tags": ["a"], "at": "2026-11-30T12:00:00Z"}',
            200,
            "Tags(tags=['a'], at=datetime.datetime(2026, 11, 30, 12, 0, "
            "tzinfo=datetime.timezone.utc))",
            id="struct-plus-json",
        ),
        pytest.param("PATCH", "/tags", None, b"", 200, "None", id="optional-body-absent"),
    ],
)
async def test_inputs_body_decodes(
    serve: MakeClient,
    method: str,
    path: str,
    content_type: str | None,
    body: bytes,
    status: int,
    text: str,
) -> None:
    client = await serve(Users())
    headers = {"Content-Type": content_type} if content_type else {}
    response = await client.request(method, path, data=body, headers=headers)
    assert (response.status, await response.text()) == (status, text)


def one_error(status: int, location: str, name: str, message: str) -> dict[str, object]:
    return {
        "type": "about:blank",
        "title": {400: "Bad Request", 415: "Unsupported Media Type", 422: "Unprocessable Entity"}[
            status
        ],
        "status": status,
        "detail": message,
        "errors": [{"in": location, "name": name, "message": message}],
    }


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        pytest.param(
            "application/json",
            b'{"name": "Ada", "email": "a", "address": {"street": "x", "zip": "1"}}',
            one_error(422, "body", "$.address.zip", "Expected `int`, got `str`."),
            id="wrong-type-nested",
        ),
        pytest.param(
            "application/json",
            b'{"name": "Ada", "email": "a"}',
            one_error(422, "body", "$", "Object missing required field `address`."),
            id="missing-field",
        ),
        pytest.param(
            "application/json",
            b'{"name": ',
            one_error(
                400, "body", "$", "the request body is not valid JSON: Input data was truncated."
            ),
            id="not-json",
        ),
        pytest.param(
            "application/json",
            b'{"name": "Ad\xff", "email": "a", "address": {"street": "x", "zip": 1}}',
            one_error(
                400,
                "body",
                "$",
                "the request body is not valid JSON: Invalid UTF-8 encoded string.",
            ),
            id="not-utf-8",
        ),
        pytest.param(
            "text/plain",
            NEW_USER,
            one_error(
                415,
                "header",
                "Content-Type",
                "the request body must be JSON (Content-Type: application/json or a type ending "
                'in "+json"), got "text/plain".',
            ),
            id="not-json-content-type",
        ),
        pytest.param(
            None,
            NEW_USER,
            one_error(
                415,
                "header",
                "Content-Type",
                "the request body must be JSON (Content-Type: application/json or a type ending "
                'in "+json"), got "application/octet-stream".',
            ),
            id="no-content-type",
        ),
        # As sent, not as aiohttp reads a header it cannot parse.
        pytest.param(
            "garbage",
            NEW_USER,
            one_error(
                415,
                "header",
                "Content-Type",
                "the request body must be JSON (Content-Type: application/json or a type ending "
                'in "+json"), got "garbage".',
            ),
            id="unparsable-content-type",
        ),
        pytest.param(
            "/+json",
            NEW_USER,
            one_error(
                415,
                "header",
                "Content-Type",
                "the request body must be JSON (Content-Type: application/json or a type ending "
                'in "+json"), got "/+json".',
            ),
            id="suffix-without-a-type",
        ),
        pytest.param(
            "application/json",
            b"",
            one_error(400, "body", "$", "the request body is required."),
            id="no-body",
        ),
    ],
)
async def test_inputs_body_problems(
    serve: MakeClient, content_type: str | None, body: bytes, expected: dict[str, object]
) -> None:
    client = await serve(Users())
    headers = {"Content-Type": content_type} if content_type else {}
    response = await client.post("/users", data=body, headers=headers)
    assert response.status == expected["status"]
    assert await problem(response) == expected


@pytest.mark.parametrize(
    ("head", "status", "body"),
    [
        pytest.param(b"PATCH /tags", 200, b"None", id="optional"),
        pytest.param(
            b"POST /users",
            400,
            json.dumps(
                one_error(400, "body", "$", "the request body is required."), separators=(",", ":")
            ).encode(),
            id="required",
        ),
    ],
)
async def test_inputs_a_chunked_body_of_no_chunks_is_no_body(
    serve: MakeClient, head: bytes, status: int, body: bytes
) -> None:
    client = await serve(Users())
    port = client.port
    assert port is not None
    answer = await exchange(
        port,
        head + b" HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    )
    assert (answer.status, answer.body) == (status, body)


@pytest.mark.parametrize(
    ("query", "content_type", "body", "status"),
    [
        pytest.param("q=x", "text/plain", b"[1]", 400, id="400-over-415"),
        pytest.param("q=x", "application/json", b'["a"]', 400, id="400-over-422"),
        pytest.param("q=2", "text/plain", b"[1]", 415, id="415"),
        pytest.param("q=2", "application/json", b'["a"]', 422, id="422"),
    ],
)
async def test_inputs_status_of_several_problems(
    serve: MakeClient, query: str, content_type: str, body: bytes, status: int
) -> None:
    client = await serve(Users())
    response = await client.post(
        f"/limited?{query}", data=body, headers={"Content-Type": content_type}
    )
    assert (await problem(response))["status"] == status


async def test_inputs_body_over_client_max_size_is_413(serve: MakeClient) -> None:
    class Small(Users):
        options = Options(http=HttpOptions(client_max_size=16))

    client = await serve(Small())
    response = await client.post(
        "/limited?q=1", data=b"[" + b"1," * 20 + b"1]", headers={"Content-Type": "application/json"}
    )
    assert response.status == 413


class Handled(Search):
    @typedsvc.http_error(400)
    async def bad_request(self, request: web.Request) -> JsonResponse[list[dict[str, str]]]:
        return JsonResponse(
            [
                {"where": error.location, "what": error.name, "status": str(error.status)}
                for error in typedsvc.input_errors(request)
            ]
        )


async def test_inputs_an_error_handler_reads_the_errors(serve: MakeClient) -> None:
    client = await serve(Handled())
    response = await client.get("/search?limit=x")
    assert response.status == 400
    assert response.headers["Content-Type"] == "application/json"
    assert await response.json() == [
        {"where": "query", "what": "q", "status": "400"},
        {"where": "query", "what": "limit", "status": "400"},
    ]


async def test_inputs_errors_of_a_handler_own_400_are_empty(serve: MakeClient) -> None:
    class Raises(Handled):
        @typedsvc.http("GET", r"/raise")
        async def raises(self, request: web.Request) -> str:
            raise web.HTTPBadRequest()

    client = await serve(Raises())
    response = await client.get("/raise")
    assert (response.status, await response.json()) == (400, [])


async def test_inputs_middleware_values_still_reach_the_handler(serve: MakeClient) -> None:
    async def user(
        next: typedsvc.Next, service: Any, request: web.Request
    ) -> typedsvc.ResponseValue:
        return await next(user="ada", q="from middleware")

    class WithUser(typedsvc.Service):
        http_middleware = (user,)

        @typedsvc.http("GET", r"/me")
        async def me(self, request: web.Request, q: Query[str], user: str = "") -> str:
            return f"{user} {q}"

        @typedsvc.http("POST", r"/notes/(?P<n>\d+)")
        async def note(
            self, request: web.Request, n: int, note: Body[dict[str, int]], user: str = ""
        ) -> str:
            return f"{user} {n} {note}"

    client = await serve(WithUser())
    # The query wins over a middleware value of the same name, as url groups do.
    assert await (await client.get("/me?q=query")).text() == "ada query"
    posted = await client.post("/notes/7", json={"a": 1})
    assert await posted.text() == "ada 7 {'a': 1}"


DEFAULT_TAGS: list[str] = []


def logged(handler: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    @functools.wraps(handler)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return await handler(*args, **kwargs)

    return wrapper


def hides_signature(handler: Any) -> Any:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        return await handler(*args, **kwargs)

    # The route typedsvc found on the handler, without functools.wraps' __wrapped__.
    wrapper.__dict__.update(handler.__dict__)
    return wrapper


async def test_inputs_an_absent_optional_input_is_the_handlers_own_default(
    serve: MakeClient,
) -> None:
    # The very object the signature holds, as a call that left the argument out would pass,
    # also through a decorator that keeps the signature (functools.wraps) and one that
    # hides it, whose handler is called without the argument.
    class Defaults(typedsvc.Service):
        @typedsvc.http("GET", r"/plain")
        async def plain(
            self, request: web.Request, q: Query[str], tag: Query[list[str]] = DEFAULT_TAGS
        ) -> str:
            return f"{q} {tag is DEFAULT_TAGS}"

        @typedsvc.http("GET", r"/wrapped")
        @logged
        async def wrapped(
            self, request: web.Request, q: Query[str], tag: Query[list[str]] = DEFAULT_TAGS
        ) -> str:
            return f"{q} {tag is DEFAULT_TAGS}"

        @hides_signature
        @typedsvc.http("GET", r"/hidden")
        async def hidden(
            self, request: web.Request, q: Query[str], tag: Query[list[str]] = DEFAULT_TAGS
        ) -> str:
            return f"{q} {tag is DEFAULT_TAGS}"

    client = await serve(Defaults())
    for path in ("/plain", "/wrapped", "/hidden"):
        assert await (await client.get(f"{path}?q=a")).text() == "a True"
        assert await (await client.get(f"{path}?q=a&tag=x")).text() == "a False"
    assert DEFAULT_TAGS == []


async def test_inputs_body_whole_floats_are_ints(serve: MakeClient) -> None:
    # JSON has one number type: 1.0 is an integer to JSON Schema, so to the OpenAPI document.
    client = await serve(Users())
    response = await client.post(
        "/limited?q=2", data=b"[1.0, 2, 3e0]", headers={"Content-Type": "application/json"}
    )
    assert (response.status, await response.text()) == (200, "12")
    fraction = await client.post(
        "/limited?q=2", data=b"[1.5]", headers={"Content-Type": "application/json"}
    )
    assert (await problem(fraction))["errors"] == [
        {
            "in": "body",
            "name": "$[0]",
            "message": "Expected `int`, got `float`.",
        }
    ]


class Slot(msgspec.Struct, tag=True):
    n: int


class Gap(msgspec.Struct, tag=True):
    width: float


class Order(msgspec.Struct):
    id: int
    qty_by_slot: dict[int, int] = {}
    ratio: int | float = 0
    extra: Any = None
    parts: list[Slot | Gap] = []
    pair: tuple[int, float] = (0, 0.0)


class Orders(typedsvc.Service):
    @typedsvc.http("POST", r"/orders")
    async def create(self, request: web.Request, order: Body[Order]) -> JsonResponse[Order]:
        return JsonResponse(order)


@pytest.mark.parametrize(
    ("sent", "decoded"),
    [
        # Where an int is taken, and there only: a float, int | float or Any keeps 2.0.
        (
            '{"id": 1.0, "ratio": 2.0, "extra": [3.0], "pair": [4.0, 5.0]}',
            {"id": 1, "ratio": 2.0, "extra": [3.0], "pair": [4, 5.0]},
        ),
        # An int key, as msgspec's JSON decoder takes it ("7"), beside a whole float value.
        ('{"id": 1, "qty_by_slot": {"7": 2.0}}', {"id": 1, "qty_by_slot": {"7": 2}}),
        ('{"id": 1.0, "qty_by_slot": {"7": 2}}', {"id": 1, "qty_by_slot": {"7": 2}}),
        # In a tagged union, by the tag; every item, not the first alone.
        (
            '{"id": 1, "parts": [{"type": "Gap", "width": 3.0}, {"type": "Slot", "n": 4.0}, '
            '{"type": "Slot", "n": 5.0}]}',
            {
                "id": 1,
                "parts": [
                    {"type": "Gap", "width": 3.0},
                    {"type": "Slot", "n": 4},
                    {"type": "Slot", "n": 5},
                ],
            },
        ),
        # The largest integer every float up to which is exact.
        ('{"id": 9007199254740992.0}', {"id": 9007199254740992}),
    ],
)
async def test_inputs_body_whole_floats_are_ints_where_an_int_is_taken(
    serve: MakeClient, sent: str, decoded: dict[str, object]
) -> None:
    client = await serve(Orders())
    response = await client.post(
        "/orders", data=sent.encode(), headers={"Content-Type": "application/json"}
    )
    answered = await response.json()
    # As JSON text: 2 == 2.0 in Python.
    shown = json.dumps({key: answered[key] for key in decoded})
    assert (response.status, shown) == (200, json.dumps(decoded))


@pytest.mark.parametrize(
    ("sent", "name", "message"),
    [
        # A float that stands for several integers is none a client wrote.
        ('{"id": 12345678901234567.0}', "$.id", "Expected `int`, got `float`."),
        ('{"id": 1e23}', "$.id", "Expected `int`, got `float`."),
        (
            '{"id": 1.0, "qty_by_slot": {"7": 2.5}}',
            "$.qty_by_slot[...]",
            "Expected `int`, got `float`.",
        ),
        (
            '{"id": 1, "qty_by_slot": {"x": 2}}',
            "$.qty_by_slot",
            "Expected `int`, got `str`, in a key.",
        ),
    ],
)
async def test_inputs_body_float_and_key_errors(
    serve: MakeClient, sent: str, name: str, message: str
) -> None:
    client = await serve(Orders())
    response = await client.post(
        "/orders", data=sent.encode(), headers={"Content-Type": "application/json"}
    )
    assert await problem(response) == one_error(422, "body", name, message)


async def test_inputs_a_json_value_msgspec_cannot_encode_is_a_500_naming_the_handler(
    serve: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(typedsvc.Service):
        @typedsvc.http("GET", r"/broken")
        async def broken(self, request: web.Request) -> JsonResponse[object]:
            return JsonResponse(object())

    client = await serve(Broken())
    response = await client.get("/broken")
    assert (response.status, await response.text()) == (500, "500: Internal Server Error")
    assert [record.getMessage() for record in caplog.records if record.name == "typedsvc"] == [
        '"Broken.broken" returned a JsonResponse whose value msgspec cannot encode as JSON '
        "(Encoding objects of type object is unsupported); answered 500."
    ]


async def test_inputs_a_body_nested_too_deeply_is_a_400(serve: MakeClient) -> None:
    class Anything(typedsvc.Service):
        @typedsvc.http("POST", r"/any")
        async def any(self, request: web.Request, body: Body[Any]) -> str:
            return "decoded"

    client = await serve(Anything())
    deep = b"[" * 100_000 + b"]" * 100_000
    response = await client.post("/any", data=deep, headers={"Content-Type": "application/json"})
    assert await problem(response) == one_error(
        400, "body", "$", "the request body is nested too deeply to decode."
    )


_SERVED: weakref.WeakKeyDictionary[MakeClient, dict[str, Client]] = weakref.WeakKeyDictionary()
QUERY_NAMES = ["q", "limit", "tag", "ratio", "exact", "color", "sort", "id", "page-size", "other"]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pairs=st.lists(st.tuples(st.sampled_from(QUERY_NAMES), st.text(max_size=30)), max_size=8),
    body=st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(st.text(max_size=8), inner, max_size=4)
            ),
            max_leaves=20,
        ).map(lambda value: json.dumps(value).encode()),
    ),
)
async def test_inputs_whatever_a_client_sends_is_never_a_500(
    serve: MakeClient, pairs: list[tuple[str, str]], body: bytes
) -> None:
    # One server of each for all the examples: the fixture serves a test, not an example.
    served = _SERVED.setdefault(serve, {})
    if not served:
        served["search"] = await serve(Search())
        served["users"] = await serve(Users())
    client, users = served["search"], served["users"]
    found = await client.get("/search", params=pairs)
    assert found.status in (200, 400), await found.text()
    created = await users.post(
        "/users", params=pairs, data=body, headers={"Content-Type": "application/json"}
    )
    assert created.status in (201, 400, 422), await created.text()


# The readers are written per route: a name is data there, whatever it holds.
ODD = 'we\'ird "name"\\\n)'


async def test_inputs_wire_names_of_any_text(serve: MakeClient) -> None:
    odd = ODD

    class Odd(typedsvc.Service):
        @typedsvc.http("GET", r"/odd")
        async def odd_names(
            self, request: web.Request, value: Annotated[int, typedsvc.query(ODD)]
        ) -> str:
            return str(value)

    client = await serve(Odd())
    assert await (await client.get("/odd", params={odd: "7"})).text() == "7"
    missing = await client.get("/odd")
    assert (await problem(missing))["errors"] == [
        {"in": "query", "name": odd, "message": f'query parameter "{odd}" is required.'}
    ]


PageSize = Annotated[int, msgspec.Meta(ge=1, le=100)]
Code = Annotated[str, msgspec.Meta(max_length=3)]


class Constrained(typedsvc.Service):
    @typedsvc.http("GET", r"/items/(?P<item_id>\d+)/(?P<code>\w+)")
    async def items(
        self,
        request: web.Request,
        item_id: Annotated[int, msgspec.Meta(le=9)],
        code: Code,
        limit: Query[PageSize] = 20,
        size: Query[PageSize | None] = None,
        tags: Query[list[Code]] = [],  # noqa: B006 - typedsvc passes a list of its own when given
        x_code: Header[Code | None] = None,
        other: Annotated[str, msgspec.Meta(pattern="^[a-z]+$"), typedsvc.query("o")] = "",
    ) -> str:
        return f"{item_id} {code} {limit} {size} {tags} {x_code} {other}"


async def test_inputs_msgspec_constraints_are_met_by_every_input(serve: MakeClient) -> None:
    # The constraints of a Body's types hold for the other inputs and url groups too.
    client = await serve(Constrained())
    fine = await client.get("/items/9/abc?limit=100&size=1&tags=a&o=xy", headers={"X-Code": "b"})
    assert (fine.status, await fine.text()) == (200, "9 abc 100 1 ['a'] b xy")
    response = await client.get(
        "/items/12/abcd?limit=0&size=1000&tags=a&tags=abcd&o=Xy", headers={"X-Code": "abcd"}
    )
    expected = [
        ("path", "item_id", "url parameter \"item_id\" must be int <= 9, got '12'."),
        ("path", "code", "url parameter \"code\" must be str of at most 3 characters, got 'abcd'."),
        ("query", "limit", "query parameter \"limit\" must be int >= 1 and <= 100, got '0'."),
        ("query", "size", "query parameter \"size\" must be int >= 1 and <= 100, got '1000'."),
        (
            "query",
            "tags",
            "query parameter \"tags\" must be str of at most 3 characters, got 'abcd'.",
        ),
        ("query", "o", "query parameter \"o\" must be str matching '^[a-z]+$', got 'Xy'."),
        ("header", "X-Code", "header \"X-Code\" must be str of at most 3 characters, got 'abcd'."),
    ]
    assert (await problem(response))["errors"] == [
        {"in": where, "name": name, "message": message} for where, name, message in expected
    ]


async def test_inputs_body_without_a_content_type_is_a_415_saying_so(serve: MakeClient) -> None:
    client = await serve(Users())
    response = await client.post("/users", data=NEW_USER, skip_auto_headers=["Content-Type"])
    assert await problem(response) == one_error(
        415,
        "header",
        "Content-Type",
        "the request body must be JSON (Content-Type: application/json or a type ending in "
        '"+json"), got none.',
    )


class Sorted(typedsvc.Service):
    # Literals joined in a union are one, as mypy reads them.
    @typedsvc.http("GET", r"/sorted")
    async def sorted(
        self,
        request: web.Request,
        sort: Query[Literal["asc"] | Literal["desc"]] = "asc",
        order: Query[Literal["x"] | Literal["y"] | None] = None,
    ) -> str:
        return f"{sort} {order}"


async def test_inputs_literals_joined_in_a_union_are_one(serve: MakeClient) -> None:
    client = await serve(Sorted())
    response = await client.get("/sorted?sort=desc&order=y")
    assert (response.status, await response.text()) == (200, "desc y")
    assert await problem(await client.get("/sorted?sort=up")) == one_error(
        400, "query", "sort", "query parameter \"sort\" must be one of 'asc', 'desc', got 'up'."
    )
