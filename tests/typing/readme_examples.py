"""README.md's Python examples, written by tests/test_readme.py: do not edit.

Never executed: mypy --strict (with the plugin) and pyright strict check them.
"""

# ruff: noqa
# Names are redefined from one example to the next, as the README does.
# pyright: reportRedeclaration=false, reportUnusedClass=false, reportUnusedFunction=false
# pyright: reportUnusedVariable=false
# An example that imports, as a module would, does it inside its function here; pyright does
# not count a use in a nested class's annotations there.
# pyright: reportUnusedImport=false

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

import msgspec
from aiohttp import web

import typedsvc
from typedsvc import HttpOptions, Options, ResponseDict

PREFIX = "/api"


async def timing(
    next: typedsvc.Next, service: Any, request: web.Request
) -> typedsvc.ResponseValue:
    started = time.perf_counter()
    try:
        return await next()
    finally:
        print(time.perf_counter() - started)


class ExampleService(typedsvc.Service):
    pass


def example_1() -> None:
    from aiohttp import web

    import typedsvc
    from typedsvc import HttpOptions, Options, ResponseDict


    class ExampleService(typedsvc.Service):
        name = "http-example"
        options = Options(http=HttpOptions(host="127.0.0.1", port=9700, keepalive_timeout=5))

        @typedsvc.http("GET", r"/resource/(?P<id>[^/]+?)/?")
        async def resource(self, request: web.Request, id: str) -> str:
            return f"id = {id}"

        @typedsvc.http("GET", r"/items/(?P<item_id>[^/]+)")
        async def item(self, request: web.Request, item_id: int) -> tuple[int, str]:
            return 200, f"item {item_id + 0} of {item_id + 1} items"

        @typedsvc.http("GET", r"/health")
        async def health_check(self, request: web.Request) -> ResponseDict:
            return {"body": "Healthy", "status": 200, "headers": {"Cache-Control": "no-store"}}

        @typedsvc.http_error(status_code=404)
        async def error_404(self, request: web.Request) -> str:
            return "error 404"


def example_2() -> None:
    class Fragment(typedsvc.Service):
        @typedsvc.http("GET", r"/events")
        async def events(self, request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)  # Server and, when closing, Connection: close
            await response.write(b"data: hello\n\n")
            return response


def example_3() -> None:
    class User(msgspec.Struct):
        id: int
        name: str


    class NewUser(msgspec.Struct):
        name: str


    class Users(typedsvc.Service):
        @typedsvc.http("GET", r"/users")
        async def search(
            self,
            request: web.Request,
            q: typedsvc.Query[str],
            limit: typedsvc.Query[int] = 20,
            tag: typedsvc.Query[list[str]] = [],  # noqa: B006 - never mutated
            x_request_id: typedsvc.Header[str | None] = None,
            session: typedsvc.Cookie[str | None] = None,
        ) -> typedsvc.JsonResponse[list[User]]:
            return typedsvc.JsonResponse([User(1, q)][:limit])

        @typedsvc.http("POST", r"/users")
        async def create(
            self, request: web.Request, user: typedsvc.Body[NewUser]
        ) -> typedsvc.JsonResponse[User]:
            return typedsvc.JsonResponse(User(2, user.name), status=201)

    class Fragment(typedsvc.Service):
        @typedsvc.http("GET", r"/pages")
        async def pages(
            self,
            request: web.Request,
            size: Annotated[int, typedsvc.query("page-size")] = 10,
            trace: Annotated[str | None, typedsvc.header("X-B3-TraceId")] = None,
            theme: Annotated[Literal["dark", "light"], typedsvc.cookie("ui-theme")] = "light",
        ) -> str:
            return f"{size} {trace} {theme}"

    class Answered(Users):
        @typedsvc.http_error(400)
        async def bad_request(self, request: web.Request) -> typedsvc.JsonResponse[list[str]]:
            return typedsvc.JsonResponse(
                [f"{error.name}: {error.message}" for error in typedsvc.input_errors(request)]
            )


def example_4() -> None:
    class Shop(typedsvc.Service):
        @typedsvc.http("GET", r"/items/(?P<item_id>\d+)")
        async def get_item(
            self, request: web.Request, item_id: int, tag: typedsvc.Query[list[str]] = []
        ) -> str:
            return f"item {item_id}"


    typedsvc.url_for(Shop.get_item, item_id=42, tag=["a b", "c"])  # "/items/42?tag=a%20b&tag=c"


def example_5() -> None:
    class Fragment(typedsvc.Service):
        @typedsvc.http("GET", f"{PREFIX}/users")  # type: ignore[typedsvc-url-literal]
        async def decorated(self, request: web.Request) -> str:
            return ""



def example_6() -> None:
    class Users(typedsvc.Service):
        @typedsvc.http("GET", r"/users/(?P<user_id>\d+)")  # type: ignore[type-var]  # pyright: ignore[reportArgumentType]
        async def get_user(self, request: web.Request, user_id: int) -> dict[str, int]:
            return {"id": user_id}


def example_7() -> None:
    class Fragment(typedsvc.Service):
        async def get_user(self, request: web.Request, user_id: int) -> web.Response:
            return web.json_response({"id": user_id})


def example_8() -> None:
    options = Options(http=HttpOptions(port=8080, keepalive_timeout=30, client_max_size="10M"))


def example_9() -> None:
    class Site(typedsvc.Service):
        @typedsvc.http_static("public", r"/public")
        async def public_files(self) -> None:
            pass


def example_10() -> None:
    class Chat(typedsvc.Service):
        @typedsvc.websocket(r"/rooms/(?P<room>\w+)")
        async def room(
            self, websocket: web.WebSocketResponse, request: web.Request, room: str
        ) -> typedsvc.WebsocketCallbacks:
            async def receive(data: str | bytes) -> None:
                await websocket.send_str(f"{room}: {data!r}")

            async def close() -> None: ...

            return receive, close


def example_11() -> None:
    async def authenticate(
        next: typedsvc.Next, service: Any, request: web.Request
    ) -> typedsvc.ResponseValue:
        if "Authorization" not in request.headers:
            return 401, "401: log in first"  # short-circuit with any ResponseValue
        return await next(user="ada")  # handlers that declare `user` receive it


    class Users(typedsvc.Service):
        http_middleware = (timing, authenticate)  # the first listed is the outermost


def example_12() -> None:
    options = Options(http=HttpOptions(real_ip_from=("10.0.0.0/8",)))


def example_13() -> None:
    app = typedsvc.create_app(ExampleService())
    web.run_app(app, host="127.0.0.1", port=9700)


def example_14() -> None:
    options = Options(
        http=HttpOptions(
            port=9700,
            readiness_url="/ready",
            stop_delay_seconds=5,
            termination_grace_period_seconds=20,
        )
    )
