"""Static files, a websocket, middleware and lifecycle hooks.

Run it with `typedsvc run examples/transport_service.py` (http://127.0.0.1:9701).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from aiohttp import web

import typedsvc
from typedsvc import HttpOptions, Next, Options, ResponseValue, WebsocketCallbacks

LOGGER = logging.getLogger("transport-example")


async def timing(next: Next, service: Any, request: web.Request) -> ResponseValue:
    """Outermost: measure every handler and error handler."""
    started = time.perf_counter()
    try:
        return await next()
    finally:
        LOGGER.debug("%s took %.2f ms", request.path, (time.perf_counter() - started) * 1000)


async def authenticate(next: Next, service: Any, request: web.Request) -> ResponseValue:
    """Short-circuit without a token; pass the user on to handlers that declare ``user``."""
    token = request.headers.get("Authorization", "")
    if request.path.startswith("/private") and token != "Bearer secret":
        return 401, "401: send Authorization: Bearer secret"
    return await next(user="ada" if token else "anonymous")


class TransportService(typedsvc.Service):
    name = "transport-example"
    options = Options(http=HttpOptions(host="127.0.0.1", port=9701, keepalive_timeout=5))
    http_middleware = (timing, authenticate)

    def __init__(self) -> None:
        self.connected = 0

    async def _start_service(self) -> None:
        LOGGER.info("starting: open connections, warm caches")

    async def _stop_service(self) -> None:
        LOGGER.info("stopped after %d websocket connections", self.connected)

    # GET /public/index.html serves examples/public/index.html.
    @typedsvc.http_static("public", r"/public")
    async def public_files(self) -> None:
        pass

    @typedsvc.http("GET", r"/private/hello")
    async def hello(self, request: web.Request, user: str = "nobody") -> str:
        return f"hello {user}"

    @typedsvc.websocket(r"/echo/(?P<channel>\w+)")
    async def echo(self, websocket: web.WebSocketResponse, channel: str) -> WebsocketCallbacks:
        self.connected += 1
        await websocket.send_str(f"joined {channel}")

        async def receive(data: str | bytes) -> None:
            if isinstance(data, str):
                await websocket.send_str(f"{channel}: {data}")
            else:
                await websocket.send_bytes(data)

        async def close() -> None:
            LOGGER.info("left %s", channel)

        return receive, close
