"""Served behaviour of @http routes through a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import enum
import logging
import uuid
from types import MappingProxyType
from typing import Any, Final

import pytest
from aiohttp import web
from aiohttp.http import SERVER_SOFTWARE
from conftest import MakeClient, problem

import typedsvc
from typedsvc import HttpOptions, JsonResponse, Options, Response, ResponseDict


class Color(enum.StrEnum):
    RED = "red"
    GREEN = "green"


class Routes(typedsvc.Service):
    name = "routes"

    @typedsvc.http("GET", r"/health")
    async def health(self, request: web.Request) -> str:
        return "ok"

    @typedsvc.http("GET", r"^/anchored$")
    async def anchored(self, request: web.Request) -> str:
        return "anchored"

    @typedsvc.http("GET", r"/files/(?P<name>[^/]+)")
    async def file(self, request: web.Request, name: str) -> str:
        return f"name={name}"

    @typedsvc.http("GET", r"/path/(?P<rest>.+)")
    async def path(self, request: web.Request, rest: str) -> str:
        return f"rest={rest}"

    @typedsvc.http("GET", r"/overlap/special")
    async def special(self, request: web.Request) -> str:
        return "special"

    @typedsvc.http("GET", r"/overlap/(?P<x>[^/]+)")
    async def general(self, request: web.Request, x: str) -> str:
        return f"general {x}"

    @typedsvc.http("POST", r"/items")
    async def create(self, request: web.Request) -> tuple[int, str]:
        return 201, "created"

    @typedsvc.http("PUT", r"/items")
    async def replace(self, request: web.Request) -> str:
        return "replaced"

    @typedsvc.http(["GET", "DELETE"], r"/things/(?P<thing_id>\d+)")
    async def thing(self, request: web.Request, thing_id: int) -> str:
        return f"{request.method} {thing_id + 1}"

    @typedsvc.http("GET", r"/convert/(?P<f>[^/]+)/(?P<u>[^/]+)/(?P<c>[^/]+)")
    async def convert(self, request: web.Request, f: float, u: uuid.UUID, c: Color) -> str:
        return f"{f * 2} {u.hex} {c.name}"

    @typedsvc.http("GET", r"/int/(?P<n>[^/]+)")
    async def integer(self, request: web.Request, n: int) -> str:
        return str(n * 2)

    @typedsvc.http("GET", r"/page(?:/(?P<page>\d+))?")
    async def page(self, request: web.Request, page: int = 1) -> str:
        return f"page {page}"

    @typedsvc.http("GET", r"/opt(?:/(?P<tag>\w+))?")
    async def optional(self, request: web.Request, tag: str) -> str:
        return f"tag={tag!r}"

    @typedsvc.http("GET", r"/count(?:/(?P<n>\d+))?")
    async def count(self, request: web.Request, n: int) -> str:
        return f"n={n!r}"

    @typedsvc.http("GET", r"/maybe(?:/(?P<n>\d+))?")
    async def maybe(self, request: web.Request, n: int | None = None) -> str:
        return f"n={n!r}"

    @typedsvc.http("GET", r"/kw/(?P<a>\w+)/(?P<b>\w+)")
    # With **kwargs, mypy matches Concatenate's prefix only against positional-only parameters.
    async def keywords(self, request: web.Request, /, **groups: str) -> str:
        return ",".join(f"{k}={v}" for k, v in sorted(groups.items()))

    @typedsvc.http("GET", r"/head-only")
    async def head_only(self, request: web.Request) -> str:
        return "body that HEAD does not send"


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        pytest.param("/health", 200, "ok", id="plain"),
        pytest.param("/health?x=1&y=/other", 200, "ok", id="query-string-ignored"),
        pytest.param("/health/", 404, "404: Not Found", id="whole-path-only"),
        pytest.param("/healthy", 404, "404: Not Found", id="no-prefix-match"),
        pytest.param("/x/health", 404, "404: Not Found", id="no-suffix-match"),
        pytest.param("/anchored", 200, "anchored", id="anchors-optional"),
        pytest.param("/files/a%20b", 200, "name=a b", id="percent-decoded"),
        pytest.param("/files/a%2Fb", 200, "name=a/b", id="encoded-slash-stays-in-segment"),
        pytest.param("/files/100%25", 200, "name=100%", id="encoded-percent"),
        pytest.param("/files/%%34%31", 200, "name=%41", id="decoded-once"),
        pytest.param("/files/caf%C3%A9", 200, "name=café", id="utf8-decoded"),
        pytest.param("/path/a/b%2Fc", 200, "rest=a/b/c", id="greedy-group-across-segments"),
        pytest.param("/overlap/special", 200, "special", id="declaration-order-wins"),
        pytest.param("/overlap/other", 200, "general other", id="later-route-still-matches"),
        pytest.param("/things/41", 200, "GET 42", id="int-converted"),
        pytest.param(
            "/convert/1.5/12345678-1234-5678-1234-567812345678/red",
            200,
            "3.0 12345678123456781234567812345678 RED",
            id="float-uuid-enum-converted",
        ),
        pytest.param("/page", 200, "page 1", id="missing-optional-group-uses-default"),
        pytest.param("/page/3", 200, "page 3", id="optional-group-present"),
        pytest.param("/opt", 200, "tag=''", id="missing-optional-group-without-default"),
        # T | None converts as T; None is the default an absent group leaves.
        pytest.param("/maybe", 200, "n=None", id="missing-optional-group-of-t-or-none"),
        pytest.param("/maybe/5", 200, "n=5", id="optional-group-of-t-or-none-converted"),
        pytest.param("/kw/x/y", 200, "a=x,b=y", id="kwargs-get-every-group"),
    ],
)
async def test_http_routing(serve: MakeClient, path: str, status: int, body: str) -> None:
    client = await serve(Routes())
    response = await client.get(path)
    assert (response.status, await response.text()) == (status, body)
    assert response.headers["Server"] == "typedsvc"


async def test_http_url_group_annotation_quoted_as_well_converts(serve: MakeClient) -> None:
    # Quoted under `from __future__ import annotations` too, as code from before it often is.
    class Quoted(typedsvc.Service):
        @typedsvc.http("GET", r"/q/(?P<n>\d+)")
        async def q(self, request: web.Request, n: "int") -> str:  # noqa: UP037
            return repr(n + 1)

    client = await serve(Quoted())
    response = await client.get("/q/41")
    assert (response.status, await response.text()) == (200, "42")


async def test_http_url_group_named_like_a_python_keyword_reaches_kwargs(
    serve: MakeClient,
) -> None:
    class Keywords(typedsvc.Service):
        @typedsvc.http("GET", r"/k/(?P<class>[a-z]+)/(?P<n>\d+)")
        async def k(self, request: web.Request, /, **values: str) -> str:
            return repr(sorted(values.items()))

    client = await serve(Keywords())
    response = await client.get("/k/abc/7")
    assert (response.status, await response.text()) == (200, "[('class', 'abc'), ('n', '7')]")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        pytest.param("/int/abc", "url parameter \"n\" must be int, got 'abc'.", id="int"),
        pytest.param(
            "/int/1_000", "url parameter \"n\" must be int, got '1_000'.", id="int-underscore"
        ),
        pytest.param("/int/+5", "url parameter \"n\" must be int, got '+5'.", id="int-plus"),
        # A group that took no part in the match, for a parameter without a default, is "".
        pytest.param("/count", "url parameter \"n\" must be int, got ''.", id="int-missing"),
        pytest.param(
            "/int/%D9%A3", "url parameter \"n\" must be int, got '\u0663'.", id="int-arabic"
        ),
        pytest.param(
            "/convert/nan/12345678-1234-5678-1234-567812345678/red",
            "url parameter \"f\" must be float, got 'nan'.",
            id="float-nan",
        ),
        pytest.param(
            # Exponent notation, but more than a float holds: float() would make it inf.
            "/convert/-1e999/12345678-1234-5678-1234-567812345678/red",
            "url parameter \"f\" must be float, got '-1e999'.",
            id="float-overflow",
        ),
        pytest.param(
            "/convert/1/not-a-uuid/red",
            "url parameter \"u\" must be UUID, got 'not-a-uuid'.",
            id="uuid",
        ),
        pytest.param(
            "/convert/1/12345678-1234-5678-1234-567812345678/blue",
            "url parameter \"c\" must be one of 'red', 'green', got 'blue'.",
            id="enum",
        ),
        pytest.param(
            "/int/" + "x" * 100,
            'url parameter "n" must be int, got \'' + "x" * 60 + "...'.",
            id="long-value-shortened",
        ),
    ],
)
async def test_http_conversion_failure_is_400(serve: MakeClient, path: str, message: str) -> None:
    client = await serve(Routes())
    response = await client.get(path)
    name = message.split('"')[1]
    assert await problem(response) == {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": message,
        "errors": [{"in": "path", "name": name, "message": message}],
    }


async def test_http_get_route_answers_head(serve: MakeClient) -> None:
    client = await serve(Routes())
    response = await client.head("/head-only")
    assert response.status == 200
    assert response.headers["Content-Length"] == str(len(b"body that HEAD does not send"))
    assert await response.read() == b""


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        pytest.param("POST", "/health", "GET,HEAD", id="get-route"),
        pytest.param("GET", "/items", "POST,PUT", id="two-routes-same-path"),
        pytest.param("PATCH", "/things/1", "DELETE,GET,HEAD", id="method-list"),
    ],
)
async def test_http_wrong_method_is_405_with_allow(
    serve: MakeClient, method: str, path: str, allow: str
) -> None:
    client = await serve(Routes())
    response = await client.request(method, path)
    assert response.status == 405
    assert response.headers["Allow"] == allow


@pytest.mark.parametrize(
    ("method", "path", "status", "body", "allow"),
    [
        pytest.param("GET", "/nowhere", 404, "404: Not Found", None, id="no-route"),
        pytest.param("GET", "/health/", 404, "404: Not Found", None, id="no-trailing-slash"),
        pytest.param("POST", "/health", 405, "405: Method Not Allowed", "GET,HEAD", id="exact"),
        pytest.param("POST", "/files/x", 405, "405: Method Not Allowed", "GET,HEAD", id="regex"),
    ],
)
async def test_http_paths_no_route_takes_are_answered_with_service_headers(
    serve: MakeClient, method: str, path: str, status: int, body: str, allow: str | None
) -> None:
    client = await serve(Routes())
    response = await client.request(method, path)
    assert (response.status, await response.text()) == (status, body)
    assert response.headers.get("Allow") == allow
    assert response.headers["Server"] == "typedsvc"


async def test_http_methods_dispatch_to_their_handler(serve: MakeClient) -> None:
    client = await serve(Routes())
    created = await client.post("/items")
    replaced = await client.put("/items")
    deleted = await client.delete("/things/1")
    assert (created.status, await created.text()) == (201, "created")
    assert await replaced.text() == "replaced"
    assert await deleted.text() == "DELETE 2"


class Returns(typedsvc.Service):
    options = Options(http=HttpOptions(server_header="returns/1.0", charset="utf-8"))

    @typedsvc.http("GET", r"/str")
    async def text(self, request: web.Request) -> str:
        return "héllo"

    @typedsvc.http("GET", r"/bytes")
    async def raw(self, request: web.Request) -> bytes:
        return b"\x00\x01"

    @typedsvc.http("GET", r"/none")
    async def nothing(self, request: web.Request) -> None:
        return None

    @typedsvc.http("GET", r"/dict")
    async def as_dict(self, request: web.Request) -> ResponseDict:
        return {
            "body": '{"a": 1}',
            "status": 202,
            "headers": [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")],
            "content_type": "application/json",
        }

    @typedsvc.http("GET", r"/tuple")
    async def as_tuple(self, request: web.Request) -> tuple[int, str, dict[str, str]]:
        return 418, "teapot", {"X-Tea": "green"}

    @typedsvc.http("GET", r"/response")
    async def as_response(self, request: web.Request) -> Response:
        return Response(body="<p>", status=201, reason="Made", content_type="text/html")

    @typedsvc.http("GET", r"/aiohttp")
    async def as_aiohttp(self, request: web.Request) -> web.Response:
        return web.json_response({"a": 1}, status=203)

    @typedsvc.http("GET", r"/stream")
    async def stream(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=206)
        response.content_type = "text/plain"
        await response.prepare(request)
        await response.write(b"part1,")
        await response.write(b"part2")
        await response.write_eof()
        return response

    @typedsvc.http("GET", r"/invalid")
    async def invalid(self, request: web.Request) -> Any:
        return 42

    @typedsvc.http("GET", r"/redirect")
    async def redirect(self, request: web.Request, to: typedsvc.Query[str]) -> ResponseDict:
        return {"status": 303, "headers": {"Location": to}}

    @typedsvc.http("GET", r"/aiohttp-redirect")
    async def aiohttp_redirect(self, request: web.Request, to: typedsvc.Query[str]) -> web.Response:
        return web.Response(status=303, headers={"Location": to})

    @typedsvc.http("GET", r"/raise-forbidden")
    async def forbidden(self, request: web.Request) -> str:
        raise web.HTTPUnauthorized(text="who are you", headers={"WWW-Authenticate": "Basic"})

    @typedsvc.http("GET", r"/crash")
    async def crash(self, request: web.Request) -> str:
        raise RuntimeError("secret detail")


@pytest.mark.parametrize(
    ("path", "status", "content_type", "body"),
    [
        pytest.param("/str", 200, "text/plain; charset=utf-8", "héllo".encode(), id="str"),
        pytest.param("/bytes", 200, "text/plain; charset=utf-8", b"\x00\x01", id="bytes"),
        pytest.param("/none", 204, None, b"", id="none"),
        pytest.param(
            "/dict", 202, "application/json; charset=utf-8", b'{"a": 1}', id="response-dict"
        ),
        pytest.param("/tuple", 418, "text/plain; charset=utf-8", b"teapot", id="tuple"),
        pytest.param("/response", 201, "text/html; charset=utf-8", b"<p>", id="response"),
        pytest.param("/aiohttp", 203, "application/json; charset=utf-8", b'{"a": 1}', id="aiohttp"),
        pytest.param("/stream", 206, "text/plain", b"part1,part2", id="prepared-stream"),
    ],
)
async def test_http_return_forms(
    serve: MakeClient, path: str, status: int, content_type: str | None, body: bytes
) -> None:
    client = await serve(Returns())
    response = await client.get(path)
    assert response.status == status
    assert response.headers.get("Content-Type") == content_type
    assert await response.read() == body
    assert response.headers["Server"] == "returns/1.0"


async def test_http_response_dict_headers_repeat_and_tuple_headers(serve: MakeClient) -> None:
    client = await serve(Returns())
    cookies = await client.get("/dict")
    tea = await client.get("/tuple")
    made = await client.get("/response")
    assert cookies.headers.getall("Set-Cookie") == ["a=1", "b=2"]
    assert tea.headers["X-Tea"] == "green"
    assert made.reason == "Made"


async def test_http_invalid_return_value_is_500_and_logged(
    serve: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = await serve(Returns())
    with caplog.at_level(logging.ERROR, logger="typedsvc"):
        response = await client.get("/invalid")
    assert (response.status, await response.text()) == (500, "500: Internal Server Error")
    assert [r.getMessage() for r in caplog.records if r.name == "typedsvc"] == [
        '"Returns.invalid" returned int, which is not a typedsvc.ResponseValue; answered 500.'
    ]


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        pytest.param(
            "/redirect",
            "\"Returns.redirect\" returned a header 'Location' whose value holds a line break "
            "or another control character, which HTTP forbids there (a line break would start "
            "a header of its own); answered 500.",
            id="built",
        ),
        pytest.param(
            "/aiohttp-redirect",
            "\"Returns.aiohttp_redirect\" returned a header 'Location' whose value holds a line "
            "break or another control character, which HTTP forbids there (a line break would "
            "start a header of its own); answered 500.",
            id="aiohttp",
        ),
    ],
)
async def test_http_header_with_line_break_from_a_handler_is_500_and_logged(
    serve: MakeClient, caplog: pytest.LogCaptureFixture, path: str, problem: str
) -> None:
    client = await serve(Returns())
    with caplog.at_level(logging.ERROR, logger="typedsvc"):
        response = await client.get(path, params={"to": "/home\r\nSet-Cookie: admin=1"})
    assert (response.status, await response.text()) == (500, "500: Internal Server Error")
    assert "Set-Cookie" not in response.headers
    assert [r.getMessage() for r in caplog.records if r.name == "typedsvc"] == [problem]
    safe = await client.get(path, params={"to": "/home"}, allow_redirects=False)
    assert safe.headers["Location"] == "/home"


# Headers with a value that is no str, as untyped code could give them.
UNTYPED_HEADERS: Any = {"X-Count": 1}


class Gives(typedsvc.Service):
    """Returns whatever the test put in ``value``, as untyped code could."""

    value: object = None

    @typedsvc.http("GET", r"/value")
    async def give(self, request: web.Request) -> Any:
        return self.value


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        pytest.param(
            {"headers": {"X-Count": 1}},
            "headers whose names and values are not all str, which is not a typedsvc.ResponseValue",
            id="headers-value-int",
        ),
        pytest.param(
            {"headers": MappingProxyType({"X-Count": 1})},
            "headers whose names and values are not all str, which is not a typedsvc.ResponseValue",
            id="mapping-headers-value-int",
        ),
        pytest.param(
            {"headers": {"X-A": b"1"}},
            "headers whose names and values are not all str, which is not a typedsvc.ResponseValue",
            id="headers-value-bytes",
        ),
        pytest.param(
            {"headers": {"Location": "/a\r\nSet-Cookie: admin=1"}},
            "a header 'Location' whose value holds a line break or another control "
            "character, which HTTP forbids there (a line break would start a header of its own)",
            id="header-value-crlf",
        ),
        pytest.param(
            {"headers": {"X-A\nB": "1"}},
            "a header 'X-A\\nB' whose name holds a line break or another control "
            "character, which HTTP forbids there (a line break would start a header of its own)",
            id="header-name-lf",
        ),
        pytest.param(
            (200, "x", [("X-A", "a\0")]),
            "a header 'X-A' whose value holds a line break or another control "
            "character, which HTTP forbids there (a line break would start a header of its own)",
            id="tuple-header-nul",
        ),
        pytest.param(
            Response(headers=MappingProxyType({"X-A": "\r"})),
            "a header 'X-A' whose value holds a line break or another control "
            "character, which HTTP forbids there (a line break would start a header of its own)",
            id="mapping-header-cr",
        ),
        pytest.param(
            {"headers": {"X-A": "a\x1fb"}},
            "a header 'X-A' whose value holds a line break or another control "
            "character, which HTTP forbids there (a line break would start a header of its own)",
            id="header-value-control",
        ),
        pytest.param(
            Response(content_type="text/\n"),
            "a header 'Content-Type' whose value holds a line break or another control "
            "character, which HTTP forbids there (a line break would start a header of its own)",
            id="content-type-lf",
        ),
        pytest.param(
            {"charset": "utf\x1f"},
            "a header 'Content-Type' whose value holds a line break or another control "
            "character, which HTTP forbids there (a line break would start a header of its own)",
            id="charset-control",
        ),
        pytest.param(
            web.Response(headers={"X-A": "a\x1fb"}),
            "a header 'X-A' whose value holds a line break or another control "
            "character, which HTTP forbids there (a line break would start a header of its own)",
            id="aiohttp-header-value-control",
        ),
        pytest.param(
            web.Response(headers=UNTYPED_HEADERS),
            "headers whose names and values are not all str, which is not a typedsvc.ResponseValue",
            id="aiohttp-header-value-int",
        ),
        pytest.param(
            web.Response(reason="Fine\x7f"),
            "a reason 'Fine\\x7f' that holds a line break or another control character, which "
            "HTTP forbids there",
            id="aiohttp-reason-del",
        ),
        # Values of the union that HTTP cannot carry: not said to be outside it.
        pytest.param(
            Response("\u20ac", charset="ascii"),
            "a str body that cannot be sent as ascii: 'ascii' codec can't encode character "
            "'\\u20ac' in position 0: ordinal not in range(128)",
            id="str-body-not-in-its-charset",
        ),
        pytest.param(
            {"body": "x", "status": 600},
            "a response with status 600, outside 200-599",
            id="status-600",
        ),
        # Framing of their own: a client on a kept-alive connection would read the next
        # answer as the rest of this one, or the rest of this one as the next.
        pytest.param(
            Response("x", headers={"content-length": "100"}),
            "a header 'Content-Length' of '100' for a body of 1 bytes; leave it out: the "
            "body's length is sent",
            id="content-length-not-the-bodys",
        ),
        pytest.param(
            (200, "x", [("Content-Length", "1"), ("Content-Length", "1")]),
            "a header 'Content-Length' of '1', '1' for a body of 1 bytes; leave it out: the "
            "body's length is sent",
            id="content-length-twice",
        ),
        pytest.param(
            (200, "x", {"Transfer-Encoding": "chunked"}),
            "a header 'Transfer-Encoding', which a body given whole does not have; leave it "
            "out (for a stream, return a web.StreamResponse)",
            id="transfer-encoding",
        ),
    ],
)
async def test_http_response_aiohttp_refuses_to_send_is_500_naming_why(
    serve: MakeClient, caplog: pytest.LogCaptureFixture, value: object, problem: str
) -> None:
    service = Gives()
    service.value = value
    client = await serve(service)
    with caplog.at_level(logging.ERROR, logger="typedsvc"):
        response = await client.get("/value")
        text = await response.text()
    assert (response.status, text) == (500, "500: Internal Server Error")
    logged = [r.getMessage() for r in caplog.records if r.name == "typedsvc"]
    assert logged == [f'"Gives.give" returned {problem}; answered 500.']


class RefusesToPrepare(web.Response):
    async def prepare(self, request: web.BaseRequest) -> None:
        raise ValueError("not today")


async def test_http_response_failing_to_prepare_for_another_reason_is_its_exception(
    serve: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    service = Gives()
    service.value = RefusesToPrepare(text="fine headers")
    client = await serve(service)
    with caplog.at_level(logging.ERROR, logger="typedsvc"):
        response = await client.get("/value")
        text = await response.text()
    assert (response.status, text) == (500, "500: Internal Server Error")
    [record] = [r for r in caplog.records if r.name == "typedsvc"]
    assert record.getMessage() == '"Gives.give" raised an exception; answered 500.'
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "not today"


async def test_http_raised_http_exception_keeps_body_and_headers(serve: MakeClient) -> None:
    client = await serve(Returns())
    response = await client.get("/raise-forbidden")
    assert (response.status, await response.text()) == (401, "who are you")
    assert response.headers["WWW-Authenticate"] == "Basic"
    assert response.headers["Server"] == "returns/1.0"


async def test_http_uncaught_exception_is_plain_500_and_service_keeps_serving(
    serve: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = await serve(Returns())
    with caplog.at_level(logging.ERROR, logger="typedsvc"):
        response = await client.get("/crash")
        body = await response.text()
    assert (response.status, body) == (500, "500: Internal Server Error")
    assert "secret" not in body
    assert "Traceback" not in body
    [record] = [r for r in caplog.records if r.name == "typedsvc"]
    assert record.getMessage() == '"Returns.crash" raised an exception; answered 500.'
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)
    after = await client.get("/str")
    assert after.status == 200


class Errors(typedsvc.Service):
    @typedsvc.http("GET", r"/only-get")
    async def only_get(self, request: web.Request) -> str:
        return "get"

    @typedsvc.http("GET", r"/forbidden")
    async def forbidden(self, request: web.Request) -> str:
        raise web.HTTPForbidden(reason="Nope")

    @typedsvc.http("GET", r"/crash")
    async def crash(self, request: web.Request) -> str:
        raise ValueError("boom")

    @typedsvc.http("GET", r"/n/(?P<n>[^/]+)")
    async def number(self, request: web.Request, n: int) -> str:
        return str(n)

    @typedsvc.http("GET", r"/conflict")
    async def conflict(self, request: web.Request) -> str:
        raise web.HTTPConflict(text="no handler for 409")

    @typedsvc.http_error(404)
    async def not_found(self, request: web.Request) -> str:
        return f"nothing at {request.path}"

    @typedsvc.http_error(405)
    async def not_allowed(self, request: web.Request, status_code: int) -> ResponseDict:
        return {"body": f"{status_code}: try another method", "headers": {"X-Extra": "1"}}

    @typedsvc.http_error(403)
    async def forbidden_handler(self, request: web.Request) -> tuple[int, str]:
        # An explicit status wins over the error's.
        return 451, "unavailable"

    @typedsvc.http_error(400)
    async def bad_request(self, request: web.Request) -> Response:
        return Response(body="bad input", content_type="text/x-error")

    @typedsvc.http_error(500)
    async def internal(self, request: web.Request, status_code: int) -> str:
        return f"sorry ({status_code})"


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        pytest.param("GET", "/missing", 404, "nothing at /missing", id="routing-404"),
        pytest.param("POST", "/only-get", 405, "405: try another method", id="routing-405"),
        pytest.param("GET", "/forbidden", 451, "unavailable", id="raised-403-explicit-status"),
        pytest.param("GET", "/crash", 500, "sorry (500)", id="uncaught-exception"),
        pytest.param("GET", "/n/x", 400, "bad input", id="conversion-400"),
    ],
)
async def test_http_error_handlers_answer(
    serve: MakeClient, method: str, path: str, status: int, body: str
) -> None:
    client = await serve(Errors())
    response = await client.request(method, path)
    assert (response.status, await response.text()) == (status, body)
    assert response.headers["Server"] == "typedsvc"


async def test_http_error_405_keeps_allow(serve: MakeClient) -> None:
    client = await serve(Errors())
    response = await client.post("/only-get")
    assert response.headers["Allow"] == "GET,HEAD"
    assert response.headers["X-Extra"] == "1"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


async def test_http_error_handler_response_keeps_its_content_type(serve: MakeClient) -> None:
    client = await serve(Errors())
    response = await client.get("/n/x")
    assert response.headers["Content-Type"] == "text/x-error; charset=utf-8"


async def test_http_error_status_without_handler_is_untouched(serve: MakeClient) -> None:
    client = await serve(Errors())
    response = await client.get("/conflict")
    assert (response.status, await response.text()) == (409, "no handler for 409")


class FailingErrors(typedsvc.Service):
    @typedsvc.http("GET", r"/crash")
    async def crash(self, request: web.Request) -> str:
        raise ValueError("boom")

    @typedsvc.http("GET", r"/gone")
    async def gone(self, request: web.Request) -> str:
        raise web.HTTPGone()

    @typedsvc.http("GET", r"/ok")
    async def ok(self, request: web.Request) -> str:
        return "ok"

    @typedsvc.http_error(404)
    async def not_found(self, request: web.Request) -> str:
        raise RuntimeError("the error handler fails")

    @typedsvc.http_error(410)
    async def gone_handler(self, request: web.Request) -> Any:
        return object()

    @typedsvc.http_error(500)
    async def internal(self, request: web.Request) -> str:
        raise web.HTTPServiceUnavailable(text="try later")

    @typedsvc.http("GET", r"/teapot")
    async def teapot(self, request: web.Request) -> str:
        raise web.HTTPBadRequest(text="no tea")

    @typedsvc.http_error(400)
    async def bad(self, request: web.Request) -> web.Response:
        return web.Response(status=400, headers={"X-Why": request.path + "\r\nX-Evil: 1"})


@pytest.mark.parametrize(
    ("path", "status", "body", "log"),
    [
        pytest.param(
            "/missing",
            500,
            "500: Internal Server Error",
            '"FailingErrors.not_found" raised an exception; answered 500.',
            id="raising-error-handler",
        ),
        pytest.param(
            "/gone",
            500,
            "500: Internal Server Error",
            '"FailingErrors.gone_handler" returned object, which is not a '
            "typedsvc.ResponseValue; answered 500.",
            id="invalid-value-from-error-handler",
        ),
        pytest.param(
            "/crash",
            503,
            "try later",
            '"FailingErrors.crash" raised an exception; answered 500.',
            id="error-handler-raising-http-exception-answers-with-it",
        ),
        pytest.param(
            "/teapot",
            500,
            "500: Internal Server Error",
            "\"FailingErrors.bad\" returned a header 'X-Why' whose value holds a line break or "
            "another control character, which HTTP forbids there (a line break would start a "
            "header of its own); answered 500.",
            id="error-handler-header-with-line-break",
        ),
    ],
)
async def test_http_failing_error_handler_falls_back(
    serve: MakeClient,
    caplog: pytest.LogCaptureFixture,
    path: str,
    status: int,
    body: str,
    log: str,
) -> None:
    client = await serve(FailingErrors())
    with caplog.at_level(logging.ERROR, logger="typedsvc"):
        response = await client.get(path)
        text = await response.text()
    assert (response.status, text) == (status, body)
    assert [r.getMessage() for r in caplog.records if r.name == "typedsvc"] == [log]
    assert (await client.get("/ok")).status == 200


class Limits(typedsvc.Service):
    options = Options(http=HttpOptions(client_max_size="1K"))

    @typedsvc.http("POST", r"/upload")
    async def upload(self, request: web.Request) -> str:
        return f"{len(await request.read())} bytes"

    @typedsvc.http("POST", r"/ignore-body")
    async def ignore_body(self, request: web.Request) -> str:
        return "not read"


@pytest.mark.parametrize("path", ["/upload", "/ignore-body"])
async def test_http_body_over_client_max_size_is_413(serve: MakeClient, path: str) -> None:
    client = await serve(Limits())
    small = await client.post("/upload", data=b"x" * 1024)
    large = await client.post(path, data=b"x" * 1025)
    assert (small.status, await small.text()) == (200, "1024 bytes")
    assert large.status == 413


async def test_http_chunked_body_over_client_max_size_is_413(serve: MakeClient) -> None:
    client = await serve(Limits())

    async def chunks() -> Any:
        for _ in range(4):
            yield b"x" * 512

    response = await client.post("/upload", data=chunks())
    assert response.status == 413


class AccessLog(typedsvc.Service):
    @typedsvc.http("GET", r"/quiet", ignore_logging=True)
    async def quiet(self, request: web.Request) -> str:
        return "quiet"

    @typedsvc.http("GET", r"/quiet-crash", ignore_logging=True)
    async def quiet_crash(self, request: web.Request) -> str:
        raise RuntimeError("logged anyway")

    @typedsvc.http("GET", r"/some/(?P<code>\d+)", ignore_logging=[200, 201])
    async def some(self, request: web.Request, code: int) -> tuple[int, str]:
        return code, "x"

    @typedsvc.http("GET", r"/loud")
    async def loud(self, request: web.Request) -> str:
        return "loud"


async def access_lines(caplog: pytest.LogCaptureFixture, count: int) -> list[str]:
    # aiohttp writes the access line after the response is sent: wait for it, bounded.
    for _ in range(100):
        lines = [r.getMessage() for r in caplog.records if r.name == "typedsvc.access"]
        if len(lines) >= count:
            return lines
        await asyncio.sleep(0.01)
    return [r.getMessage() for r in caplog.records if r.name == "typedsvc.access"]


async def test_http_access_log_honours_ignore_logging(
    serve: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="typedsvc.access")
    client = await serve(AccessLog())
    for path in ("/quiet", "/quiet-crash", "/some/200", "/some/201", "/some/202", "/loud"):
        await (await client.get(path, headers={"User-Agent": "tester"})).read()
    lines = await access_lines(caplog, 3)
    paths = [line.split('"')[1] for line in lines]
    assert paths == ["GET /quiet-crash", "GET /some/202", "GET /loud"]
    assert lines[-1].startswith('127.0.0.1 "GET /loud" 200 ')
    assert lines[-1].endswith('ms "tester"')
    record = [r for r in caplog.records if r.name == "typedsvc.access"][-1]
    assert (record.__dict__["status"], record.__dict__["method"]) == (200, "GET")


async def test_http_access_log_off(serve: MakeClient, caplog: pytest.LogCaptureFixture) -> None:
    class Silent(AccessLog):
        options = Options(http=HttpOptions(access_log=False))

    caplog.set_level(logging.INFO, logger="typedsvc.access")
    client = await serve(Silent())
    await (await client.get("/loud")).read()
    await asyncio.sleep(0.05)
    assert [r for r in caplog.records if r.name == "typedsvc.access"] == []


async def test_create_app_rejects_a_class() -> None:
    service: Any = Routes
    with pytest.raises(
        TypeError,
        match=r"^create_app\(\) takes a Service instance, not the class; write "
        r"create_app\(Routes\(\)\)\.$",
    ):
        typedsvc.create_app(service)


async def test_create_app_rejects_other_objects() -> None:
    service: Any = object()
    with pytest.raises(TypeError, match=r"^create_app\(\) takes a typedsvc.Service, got object\.$"):
        typedsvc.create_app(service)


async def test_create_app_leaves_room_for_other_aiohttp_routes(serve: MakeClient) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    app = typedsvc.create_app(Errors())

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(text="metrics")

    app.router.add_get("/metrics", metrics)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        extra = await client.get("/metrics")
        ours = await client.get("/only-get")
        missing = await client.get("/nowhere")
        assert (await extra.text(), await ours.text()) == ("metrics", "get")
        assert (missing.status, await missing.text()) == (404, "nothing at /nowhere")


async def test_create_app_routes_added_after_it_keep_aiohttp_order() -> None:
    from aiohttp.test_utils import TestClient, TestServer

    app = typedsvc.create_app(Routes())

    async def root(request: web.Request) -> web.Response:
        return web.Response(text="root")

    async def named(request: web.Request) -> web.Response:
        return web.Response(text=f"named {request.match_info['name']}")

    async def files(request: web.Request) -> web.Response:
        return web.Response(text="aiohttp files")

    # "/" and "/{name}" are tried after the service, "/files/{x}" before it.
    app.router.add_get("/", root)
    app.router.add_get("/{name}", named)
    app.router.add_get("/files/{x}", files)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        texts = [await (await client.get(path)).text() for path in ("/", "/x", "/health")]
        assert texts == ["root", "named x", "ok"]
        assert await (await client.get("/files/a")).text() == "aiohttp files"
        # Nothing takes it: aiohttp answers, as it does for its own routes.
        missing = await client.get("/a/b/c")
        assert missing.status == 404
        assert missing.headers["Server"] == SERVER_SOFTWARE


async def test_create_app_serves_under_a_sub_app_prefix() -> None:
    from aiohttp.test_utils import TestClient, TestServer

    parent = web.Application()
    parent.add_subapp("/api/", typedsvc.create_app(Routes()))
    async with TestClient(TestServer(parent, host="127.0.0.1")) as client:
        inside = await client.get("/api/files/x")
        outside = await client.get("/files/x")
        assert (inside.status, await inside.text()) == (200, "name=x")
        assert outside.status == 404


def test_create_app_exposes_routes_through_aiohttp_interfaces() -> None:
    app = typedsvc.create_app(Routes())
    resource, *shortcuts = app.router.resources()
    routes = list(resource)
    assert len(resource) == len(routes) == len(list(app.router.routes()))
    assert [(route.method, route.handler.__name__) for route in routes][:3] == [
        ("GET", "handle"),
        ("HEAD", "handle"),
        ("GET", "handle"),
    ]
    assert resource.get_info() == {"prefix": ""}
    assert resource.canonical == "/"
    assert not resource.raw_match("/health")
    with pytest.raises(
        NotImplementedError, match=r"^typedsvc routes are regexes and cannot build urls\.$"
    ):
        resource.url_for()
    # One shortcut per literal part of a url, so that aiohttp's index finds the service early.
    assert sorted(shortcut.canonical for shortcut in shortcuts) == [
        "/anchored",
        "/convert",
        "/files",
        "/head-only",
        "/health",
        "/int",
        "/items",
        "/kw",
        "/overlap",
        "/overlap/special",
        "/path",
        "/things",
    ]
    for shortcut in shortcuts:
        assert (len(shortcut), list(shortcut), shortcut.raw_match("/health")) == (0, [], False)
        assert shortcut.get_info() == {"prefix": "", "shortcut_to": shortcut.canonical}
        assert repr(shortcut) == f"<typedsvc shortcut {shortcut.canonical!r}>"
        with pytest.raises(
            NotImplementedError, match=r"^typedsvc routes are regexes and cannot build urls\.$"
        ):
            shortcut.url_for()


async def test_http_server_header_a_handler_sets_is_kept(serve: MakeClient) -> None:
    class Own(typedsvc.Service):
        @typedsvc.http("GET", r"/aiohttp")
        async def made(self, request: web.Request) -> web.Response:
            return web.Response(text="x", headers={"Server": "mine"})

        @typedsvc.http("GET", r"/dict")
        async def given(self, request: web.Request) -> ResponseDict:
            return {"body": "x", "headers": {"Server": "mine"}}

        @typedsvc.http("GET", r"/raised")
        async def raised(self, request: web.Request) -> str:
            raise web.HTTPConflict(headers={"Server": "mine"})

    client = await serve(Own())
    for path in ("/aiohttp", "/dict", "/raised"):
        response = await client.get(path)
        assert response.headers.getall("Server") == ["mine"], path


async def test_http_server_header_on_a_returned_aiohttp_response(serve: MakeClient) -> None:
    # No handler of this service is declared to return a response it prepared, so no
    # on_response_prepare signal is there to set the header, and with keep-alive on no
    # response needs the closing verdict: returning it sets it.
    class Made(typedsvc.Service):
        options = Options(http=HttpOptions(keepalive_timeout=30))

        @typedsvc.http("GET", r"/json")
        async def json(self, request: web.Request) -> web.Response:
            return web.json_response({"a": 1}, status=201)

    client = await serve(Made())
    response = await client.get("/json")
    assert (response.status, await response.json()) == (201, {"a": 1})
    assert response.headers.getall("Server") == ["typedsvc"]


async def test_http_empty_server_header_leaves_aiohttp_default(serve: MakeClient) -> None:
    class Plain(typedsvc.Service):
        options = Options(http=HttpOptions(server_header=""))

        @typedsvc.http("GET", r"/x")
        async def x(self, request: web.Request) -> str:
            return "x"

    client = await serve(Plain())
    response = await client.get("/x")
    assert response.headers["Server"].startswith("Python/")


async def test_http_access_log_shows_the_real_status_of_a_streamed_response(
    serve: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="typedsvc.access")
    client = await serve(Returns())
    await (await client.get("/stream")).read()
    [line] = await access_lines(caplog, 1)
    assert line.startswith('127.0.0.1 "GET /stream" 206 ')


class RaisesUnsendable(typedsvc.Service):
    @typedsvc.http("GET", r"/header")
    async def header(self, request: web.Request) -> str:
        raise web.HTTPConflict(headers={"X-Echo": request.query.get("v", "")})

    @typedsvc.http("GET", r"/handled")
    async def handled(self, request: web.Request) -> str:
        raise web.HTTPBadRequest(headers={"X-Echo": request.query.get("v", "")})

    @typedsvc.http("GET", r"/interim")
    async def interim(self, request: web.Request) -> str:
        exc = web.HTTPException()
        exc.set_status(100)
        raise exc

    @typedsvc.http_error(400)
    async def bad_request(self, request: web.Request) -> JsonResponse[list[str]]:
        return JsonResponse(["bad"])


ECHOED_LINE_BREAK: Final = (
    "a header 'X-Echo' whose value holds a line break or another control character, which "
    "HTTP forbids there (a line break would start a header of its own)"
)


@pytest.mark.parametrize(
    ("path", "log"),
    [
        pytest.param(
            "/header?v=a%0d%0aSet-Cookie:%20x=1",
            f'"RaisesUnsendable.header" raised HTTPConflict with {ECHOED_LINE_BREAK}; '
            "answered 500.",
            id="header-without-error-handler",
        ),
        # Refused before its error handler runs, which would copy the header.
        pytest.param(
            "/handled?v=a%0d%0aSet-Cookie:%20x=1",
            f'"RaisesUnsendable.handled" raised HTTPBadRequest with {ECHOED_LINE_BREAK}; '
            "answered 500.",
            id="header-with-error-handler",
        ),
        pytest.param(
            "/interim",
            '"RaisesUnsendable.interim" raised HTTPException with a response with status 100, '
            "an interim status that is no answer (200-599); answered 500.",
            id="interim-status",
        ),
    ],
)
async def test_http_raised_exception_http_cannot_carry_is_a_500_naming_the_handler(
    serve: MakeClient, caplog: pytest.LogCaptureFixture, path: str, log: str
) -> None:
    client = await serve(RaisesUnsendable())
    with caplog.at_level(logging.ERROR, logger="typedsvc"):
        response = await client.get(path)
        assert (response.status, await response.text()) == (500, "500: Internal Server Error")
        assert "Set-Cookie" not in response.headers
        # The connection goes on: a 500 like any other.
        assert (await client.get("/header?v=fine")).status == 409
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [log]
