"""http_middleware: around every handler and error handler, first listed outermost."""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
import pytest
from aiohttp import web
from conftest import MakeClient
from rawhttp import exchange

import typedsvc
from typedsvc import Body, DefinitionError, Next, Query, ResponseValue

# What each middleware saw, in order (aiohttp warns about plain str keys on a request).
TRAIL = web.RequestKey("trail", list[str])


async def outer(next: Next, service: Any, request: web.Request) -> ResponseValue:
    request[TRAIL] = [*request.get(TRAIL, []), "outer"]
    value = await next()
    return f"outer({value})" if isinstance(value, str) else value


async def inner(next: Next, service: Any, request: web.Request) -> ResponseValue:
    request[TRAIL] = [*request.get(TRAIL, []), "inner"]
    if request.headers.get("X-Block"):
        return 403, "blocked"
    return await next(user="ada", unused="x")


async def failing(next: Next, service: Any, request: web.Request) -> ResponseValue:
    if request.headers.get("X-Fail"):
        raise RuntimeError("middleware failed")
    return await next()


class Wrapped(typedsvc.Service):
    http_middleware = (outer, inner, failing)

    @typedsvc.http("GET", r"/hello/(?P<name>[^/]+)")
    async def hello(self, request: web.Request, name: str, user: str = "nobody") -> str:
        trail: list[str] = request[TRAIL]
        return f"{name}:{user}:{'/'.join(trail)}"

    @typedsvc.http("GET", r"/plain")
    async def plain(self, request: web.Request) -> str:
        return "plain"

    @typedsvc.http("GET", r"/double/(?P<n>-?\d+)")
    async def double(self, request: web.Request, n: int) -> str:
        return str(n * 2)

    @typedsvc.http("GET", r"/any")
    async def any_values(self, request: web.Request, /, **values: str) -> str:
        return ",".join(f"{k}={v}" for k, v in sorted(values.items()))

    @typedsvc.http_error(404)
    async def not_found(self, request: web.Request, user: str = "nobody") -> str:
        return f"missing for {user}"

    @typedsvc.http_error(500)
    async def failed(self, request: web.Request, status_code: int) -> str:
        return f"failed {status_code}"


@pytest.mark.parametrize(
    ("path", "headers", "status", "body"),
    [
        pytest.param(
            "/hello/bob", {}, 200, "outer(bob:ada:outer/inner)", id="order-and-extra-values"
        ),
        pytest.param("/plain", {}, 200, "outer(plain)", id="extra-values-not-declared"),
        pytest.param("/double/-7", {}, 200, "outer(-14)", id="converted-url-group"),
        pytest.param("/any", {}, 200, "outer(unused=x,user=ada)", id="kwargs-take-every-value"),
        pytest.param("/hello/bob", {"X-Block": "1"}, 403, "blocked", id="short-circuit"),
        pytest.param("/missing", {}, 404, "outer(missing for ada)", id="around-error-handlers"),
        # The 500 handler runs inside the same middleware, which fails again: a plain 500.
        pytest.param(
            "/plain", {"X-Fail": "1"}, 500, "500: Internal Server Error", id="middleware-raises"
        ),
    ],
)
async def test_http_middleware(
    serve: MakeClient, path: str, headers: dict[str, str], status: int, body: str
) -> None:
    client = await serve(Wrapped())
    response = await client.get(path, headers=headers)
    assert (response.status, await response.text()) == (status, body)


async def test_http_middleware_failure_is_logged(
    serve: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = await serve(Wrapped())
    with caplog.at_level(logging.ERROR, logger="typedsvc"):
        await (await client.get("/plain", headers={"X-Fail": "1"})).read()
    # The handler's middleware fails, then the 500 handler's does too.
    assert [r.getMessage() for r in caplog.records if r.name == "typedsvc"] == [
        '"Wrapped.plain" raised an exception; answered 500.',
        '"Wrapped.failed" raised an exception; answered 500.',
    ]


async def test_http_middleware_url_groups_win_over_extra_values(serve: MakeClient) -> None:
    async def rename(next: Next, service: Any, request: web.Request) -> ResponseValue:
        return await next(name="from-middleware")

    class Groups(typedsvc.Service):
        http_middleware = (rename,)

        @typedsvc.http("GET", r"/hello/(?P<name>[^/]+)")
        async def hello(self, request: web.Request, name: str) -> str:
            return name

    client = await serve(Groups())
    assert await (await client.get("/hello/bob")).text() == "bob"


def test_http_middleware_must_be_a_sequence() -> None:
    message = (
        '"Bad.http_middleware" must be a list or tuple of middleware; write '
        "http_middleware = [first, second]."
    )
    with pytest.raises(DefinitionError, match=f"^{re.escape(message)}$"):

        class Bad(typedsvc.Service):  # pyright: ignore[reportUnusedClass]
            http_middleware = outer  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]


def test_http_middleware_must_be_async() -> None:
    def sync(next: Next, service: Any, request: web.Request) -> ResponseValue:
        return "x"

    message = (
        '"Bad.http_middleware" entry 1 ("test_http_middleware_must_be_async.<locals>.sync") is '
        'not a coroutine function; declare it as "async def middleware(next, service, request)".'
    )
    with pytest.raises(DefinitionError, match=f"^{re.escape(message)}$"):

        class Bad(typedsvc.Service):  # pyright: ignore[reportUnusedClass]
            http_middleware = (outer, sync)  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]


class NewNote(msgspec.Struct):
    text: str


async def authenticate(next: Next, service: Any, request: web.Request) -> ResponseValue:
    if "Authorization" not in request.headers:
        return 401, "401: log in first"
    try:
        return await next()
    except web.HTTPBadRequest:
        request[TRAIL] = ["saw the 400"]
        raise


class Guarded(typedsvc.Service):
    http_middleware = (authenticate,)

    @typedsvc.http("POST", r"/notes/(?P<note_id>\d+)")
    async def add(
        self, request: web.Request, note_id: int, note: Body[NewNote], dry: Query[bool] = False
    ) -> str:
        return note.text


class GuardedWithHandler(Guarded):
    @typedsvc.http_error(400)
    async def bad_request(self, request: web.Request) -> str:
        return f"400: {','.join(request.get(TRAIL, []))}"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param("/notes/1", b'{"text": 1}', id="body-that-does-not-fit"),
        pytest.param("/notes/1", b"not json", id="body-not-json"),
        pytest.param("/notes/1?dry=maybe", b'{"text": "a"}', id="query"),
        # An int of more digits than Python converts.
        pytest.param("/notes/" + "1" * 5000, b'{"text": "a"}', id="group"),
    ],
)
async def test_http_middleware_runs_before_the_inputs_are_read(
    serve: MakeClient, path: str, body: bytes
) -> None:
    # An authenticating middleware answers before a body is read or an input is checked.
    client = await serve(Guarded())
    json_body = {"Content-Type": "application/json"}
    response = await client.post(path, data=body, headers=json_body)
    assert (response.status, await response.text()) == (401, "401: log in first")


async def test_http_middleware_answers_before_a_body_arrives(serve: MakeClient) -> None:
    client = await serve(Guarded())
    port = client.url("/").port
    assert port is not None
    # 4 bytes of 100: reading the body would wait for the rest.
    head = b"POST /notes/1 HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
    answer = await exchange(port, head + b"Content-Length: 100\r\n\r\n" + b'{"te', wait=0.1)
    assert (answer.status, answer.body) == (401, b"401: log in first")


async def test_http_middleware_sees_an_invalid_inputs_400_come_out_of_next(
    serve: MakeClient,
) -> None:
    client = await serve(GuardedWithHandler())
    headers = {"Content-Type": "application/json", "Authorization": "Bearer t"}
    response = await client.post("/notes/1?dry=maybe", data=b'{"text": "a"}', headers=headers)
    assert (response.status, await response.text()) == (400, "400: saw the 400")
    response = await client.post("/notes/1", data=b'{"text": "a"}', headers=headers)
    assert (response.status, await response.text()) == (200, "a")
