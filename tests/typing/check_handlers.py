"""Never executed: checked by mypy --strict (with the plugin) and pyright strict.

``assert_type`` pins what a decorated handler keeps; each ``# type: ignore[code]`` and
``# pyright: ignore[rule]`` marks what must be rejected. Both checkers report unused
ignores as errors, so a negative case that stops failing breaks the build.
"""

from __future__ import annotations

from typing import assert_type

from aiohttp import web

import typedsvc
from typedsvc import Response, ResponseDict


class Users(typedsvc.Service):
    @typedsvc.http("GET", r"/users/(?P<user_id>\d+)")
    async def get_user(self, request: web.Request, user_id: int, page: int = 1) -> str:
        return str(user_id + page)

    # An optional group's None default: the group converts as int.
    @typedsvc.http("GET", r"/pages(?:/(?P<page>\d+))?")
    async def page(self, request: web.Request, page: int | None = None) -> str:
        return str(page)

    @typedsvc.http(["GET", "POST"], r"/items")
    async def items(self, request: web.Request) -> ResponseDict:
        return {"body": b"", "status": 201, "headers": [("Set-Cookie", "a=1")]}

    @typedsvc.http("GET", r"/tuple")
    async def as_tuple(self, request: web.Request) -> tuple[int, str, dict[str, str]]:
        return 200, "ok", {"X-A": "1"}

    @typedsvc.http("GET", r"/response")
    async def as_response(self, request: web.Request) -> Response:
        return Response(body="ok", status=201, content_type="text/html")

    @typedsvc.http("GET", r"/aiohttp")
    async def as_aiohttp(self, request: web.Request) -> web.Response:
        return web.json_response({})

    @typedsvc.http("DELETE", r"/nothing")
    async def nothing(self, request: web.Request) -> None:
        return None

    @typedsvc.http_error(404)
    async def not_found(self, request: web.Request) -> str:
        return "no"

    @typedsvc.http_error(500)
    async def failed(self, request: web.Request, status_code: int) -> tuple[int, str]:
        return status_code, "failed"


async def handlers_keep_their_signature(users: Users, request: web.Request) -> None:
    assert_type(await users.get_user(request, user_id=1), str)
    assert_type(await users.get_user(request, 1, page=2), str)
    assert_type(await users.items(request), ResponseDict)
    assert_type(await users.not_found(request), str)
    assert_type(await users.failed(request, status_code=500), tuple[int, str])
    assert_type(await users.nothing(request), None)
    await users.get_user(request, user_id="1")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    await users.get_user(request, usr=1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


class Rejected(typedsvc.Service):
    # A return type outside ResponseValue.
    @typedsvc.http("GET", r"/int")  # type: ignore[type-var]  # pyright: ignore[reportArgumentType]
    async def returns_int(self, request: web.Request) -> int:
        return 1

    # A generic dict is not a ResponseDict: ResponseValue holds no Mapping.
    @typedsvc.http("GET", r"/dict")  # type: ignore[type-var]  # pyright: ignore[reportArgumentType]
    async def returns_dict(self, request: web.Request) -> dict[str, str]:
        return {"body": "x"}

    @typedsvc.http("GET", r"/typo")
    async def misspelled_key(self, request: web.Request) -> ResponseDict:
        return {"bdy": "x"}  # type: ignore[typeddict-unknown-key]  # pyright: ignore[reportReturnType]

    # A handler that is not a coroutine function.
    @typedsvc.http("GET", r"/sync")  # type: ignore[arg-type, typedsvc-url]  # pyright: ignore[reportArgumentType]
    def sync(self, request: web.Request) -> str:
        return ""

    # The second parameter must accept the request.
    @typedsvc.http("GET", r"/request")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    async def wrong_request(self, request: int) -> str:
        return ""

    @typedsvc.http("FETCH", r"/fetch")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    async def unknown_method(self, request: web.Request) -> str:
        return ""

    @typedsvc.http_error(404)  # type: ignore[type-var, typedsvc-url]  # pyright: ignore[reportArgumentType, reportUntypedFunctionDecorator]
    async def error_with_extra(self, request: web.Request, detail: str) -> str:
        return detail

    @typedsvc.http_error(404)  # type: ignore[type-var]  # pyright: ignore[reportArgumentType, reportUntypedFunctionDecorator]
    async def error_status_as_str(self, request: web.Request, status_code: str) -> str:
        return status_code


class NotAService:
    @typedsvc.http("GET", r"/x")  # type: ignore[type-var]  # pyright: ignore[reportArgumentType]
    async def handler(self, request: web.Request) -> str:
        return ""


@typedsvc.http("GET", r"/x")  # type: ignore[type-var]  # pyright: ignore[reportArgumentType]
async def not_a_method(request: web.Request, other: web.Request) -> str:
    return ""


def responses_are_typed() -> None:
    Response(body=1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Response(status="200")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    typedsvc.HttpOptions(port="80")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


async def logging_middleware(
    next: typedsvc.Next, service: typedsvc.Service, request: web.Request
) -> typedsvc.ResponseValue:
    return await next(user="ada")


async def middleware_without_service(
    next: typedsvc.Next, request: web.Request
) -> typedsvc.ResponseValue:
    return await next()


class WithMiddleware(typedsvc.Service):
    http_middleware = (logging_middleware,)


class WithWrongMiddleware(typedsvc.Service):
    http_middleware = (middleware_without_service,)  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]


class WithStatic(typedsvc.Service):
    @typedsvc.http_static("public", r"/public/")
    async def files(self) -> None:
        pass

    @typedsvc.http_static("public", r"/other/")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    async def takes_request(self, request: web.Request) -> None:
        pass


class Sockets(typedsvc.Service):
    @typedsvc.websocket(r"/ok/(?P<room>\w+)")
    async def ok(self, websocket: web.WebSocketResponse, room: str) -> typedsvc.WebsocketCallbacks:
        return None

    @typedsvc.websocket(r"/int")  # type: ignore[type-var]  # pyright: ignore[reportArgumentType]
    async def returns_int(self, websocket: web.WebSocketResponse) -> int:
        return 1

    @typedsvc.websocket(r"/request-first")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    async def request_first(self, request: web.Request) -> None:
        return None
