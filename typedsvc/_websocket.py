"""websocket: a handler called per connection, returning what receives frames and the close."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Concatenate, Final, ParamSpec, TypeAlias, TypeVar

from aiohttp import WSCloseCode, WSMsgType, hdrs, web

from typedsvc import _urls
from typedsvc._errors import DefinitionError, reject
from typedsvc._service import Service
from typedsvc._signature import describe, handler_name
from typedsvc._specs import ROUTES_ATTR, WebsocketSpec, record

LOGGER: Final = logging.getLogger("typedsvc")

Receive: TypeAlias = Callable[[str | bytes], Awaitable[None]]
Close: TypeAlias = Callable[[], Awaitable[None]]
# What a websocket handler returns: a receive callable and a close callable, or only the
# receive callable, or None (frames are then read and dropped).
WebsocketCallbacks: TypeAlias = tuple[Receive, Close] | Receive | None

S = TypeVar("S", bound=Service)
P = ParamSpec("P")
W = TypeVar("W", bound=WebsocketCallbacks)
WebsocketHandler: TypeAlias = Callable[
    Concatenate[S, web.WebSocketResponse, P], Coroutine[Any, Any, W]
]


def websocket(url: str) -> WebsocketDecorator:
    """Accept websocket connections at the regex ``url`` with the decorated method.

    The method is called once per connection with the websocket (to send frames),
    the request when it declares a ``request`` parameter, and the url's named groups
    (as str). It returns ``(receive, close)``: ``receive`` gets every text frame as
    str and binary frame as bytes, ``close`` is called once when the connection ends.
    """
    return WebsocketDecorator(url)


class WebsocketDecorator:
    """What ``websocket(...)`` returns: applied to a method, it checks and records the route."""

    __slots__ = ("_url",)

    def __init__(self, url: str) -> None:
        self._url = url

    def __call__(self, func: WebsocketHandler[S, P, W]) -> WebsocketHandler[S, P, W]:
        url = self._url
        where = handler_name(func)
        shape, _ = describe(func, where)
        problems = _urls.check_websocket(shape, url)
        if problems:
            reject(func, DefinitionError(*problems))
            return func
        # The request, when declared, is passed by name.
        takes_request = any(p.name == "request" for p in shape.params[2:])
        spec = WebsocketSpec(where, url, takes_request)
        record(func, ROUTES_ATTR, spec)
        return func


class OpenWebsockets:
    """The connections a service has open, to close them (1001) when it shuts down."""

    def __init__(self, finish: Callable[[web.Request, web.StreamResponse], None]) -> None:
        self._open: set[web.WebSocketResponse] = set()
        # Sets the service's response headers; the handshake is sent before any handler returns.
        self._finish = finish

    async def close_all(self) -> None:
        for socket in list(self._open):
            await socket.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")

    def handler(
        self, spec: WebsocketSpec, call: Callable[..., Awaitable[WebsocketCallbacks]]
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """The aiohttp handler for one websocket route."""
        where = spec.where

        async def handle(request: web.Request) -> web.StreamResponse:
            socket = web.WebSocketResponse()
            handshake = _declining_subprotocols(request)
            if not socket.can_prepare(handshake).ok:
                raise web.HTTPUpgradeRequired(
                    text=f"426: {request.path} is a websocket; connect with a websocket client.",
                    headers={"Upgrade": "websocket"},
                )
            self._finish(request, socket)
            await socket.prepare(handshake)
            self._open.add(socket)
            close: Close | None = None
            try:
                kwargs: dict[str, object] = dict(request.match_info)
                if spec.takes_request:
                    kwargs["request"] = request
                receive, close = _callbacks(where, await call(socket, **kwargs))
                async for message in socket:
                    if message.type in (WSMsgType.TEXT, WSMsgType.BINARY) and receive:
                        await receive(message.data)
            except Exception as exc:
                if went_away(exc, request):
                    # A send to a client that went away ends the connection as a drop does;
                    # as an error, every client leaving mid-send would log a traceback.
                    LOGGER.debug('"%s": the client went away while being sent to.', where)
                else:
                    LOGGER.exception(
                        '"%s" raised an exception; closed the websocket (1011).', where
                    )
                    await socket.close(code=WSCloseCode.INTERNAL_ERROR, message=b"internal error")
            finally:
                self._open.discard(socket)
                if close is not None:
                    try:
                        await close()
                    except Exception:
                        LOGGER.exception('"%s" close callback raised an exception.', where)
                if not socket.closed:
                    await socket.close()
            return socket

        return handle


def _declining_subprotocols(request: web.Request) -> web.Request:
    """``request`` for aiohttp's handshake, without the subprotocols its client offers.

    A service's websockets speak none, so the handshake names none (RFC 6455, 4.2.2), and
    the client decides whether to go on. aiohttp would say so in a WARNING for each such
    client, twice (can_prepare() and prepare() each shake hands).
    """
    if hdrs.SEC_WEBSOCKET_PROTOCOL not in request.headers:
        return request
    headers = request.headers.copy()
    del headers[hdrs.SEC_WEBSOCKET_PROTOCOL]
    return request.clone(headers=headers)


def went_away(exc: Exception, request: web.Request) -> bool:
    """Whether ``exc`` comes from reading or writing the lost or closing connection of
    ``request``: the client left, no fault of the service."""
    transport = request.transport
    return isinstance(exc, ConnectionError) and (transport is None or transport.is_closing())


def _callbacks(where: str, value: WebsocketCallbacks) -> tuple[Receive | None, Close | None]:
    """The receive and close callables a handler returned."""
    if value is None:
        return None, None
    if callable(value):
        return value, None
    # Checked as an object: untyped code can return anything.
    returned: object = value
    if not isinstance(returned, tuple):
        raise TypeError(
            f'"{where}" returned {type(returned).__name__}, not (receive, close); return '
            "(receive, close), receive alone, or None."
        )
    parts: tuple[object, ...] = returned
    if len(parts) != 2 or not all(callable(part) for part in parts):
        raise TypeError(
            f'"{where}" returned a tuple that is not (receive, close); return (receive, close), '
            "receive alone, or None."
        )
    return value
