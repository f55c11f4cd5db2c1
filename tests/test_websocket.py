"""@websocket: frames to receive, close called once however the connection ends."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import aiohttp
import pytest
from aiohttp import WSCloseCode, web
from aiohttp.test_utils import TestClient, TestServer
from conftest import MakeClient

import typedsvc
from typedsvc import DefinitionError, WebsocketCallbacks

TIMEOUT = 5


class Chat(typedsvc.Service):
    def __init__(self) -> None:
        self.received: list[str | bytes] = []
        self.closed: list[str] = []
        self.all_closed = asyncio.Event()

    @typedsvc.websocket(r"/rooms/(?P<room>[^/]+)")
    async def room(
        self, websocket: web.WebSocketResponse, request: web.Request, room: str
    ) -> WebsocketCallbacks:
        await websocket.send_str(f"welcome to {room} from {request.headers['User-Agent']}")

        async def receive(data: str | bytes) -> None:
            self.received.append(data)
            if data == "boom":
                raise RuntimeError("receive failed")
            if isinstance(data, str):
                await websocket.send_str(data.upper())
            else:
                await websocket.send_bytes(data[::-1])

        async def close() -> None:
            self.closed.append(room)
            self.all_closed.set()

        return receive, close

    @typedsvc.websocket(r"/only-receive")
    async def only_receive(self, websocket: web.WebSocketResponse) -> WebsocketCallbacks:
        async def receive(data: str | bytes) -> None:
            await websocket.send_str(f"got {data!r}")

        return receive

    @typedsvc.websocket(r"/nothing")
    async def nothing(self, websocket: web.WebSocketResponse) -> None:
        await websocket.send_str("hello and goodbye")

    @typedsvc.websocket(r"/failing")
    async def failing(self, websocket: web.WebSocketResponse) -> WebsocketCallbacks:
        raise RuntimeError("handler failed")

    @typedsvc.http("GET", r"/health")
    async def health(self, request: web.Request) -> str:
        return "ok"


async def wait_closed(service: Chat) -> None:
    async with asyncio.timeout(TIMEOUT):
        await service.all_closed.wait()
    await asyncio.sleep(0.05)  # a second call would have happened by now


async def test_websocket_text_and_binary_frames(serve: MakeClient) -> None:
    service = Chat()
    client = await serve(service)
    async with client.ws_connect("/rooms/lobby", headers={"User-Agent": "tester"}) as ws:
        assert await ws.receive_str(timeout=TIMEOUT) == "welcome to lobby from tester"
        await ws.send_str("hi")
        assert await ws.receive_str(timeout=TIMEOUT) == "HI"
        await ws.send_bytes(b"\x01\x02")
        assert await ws.receive_bytes(timeout=TIMEOUT) == b"\x02\x01"
    await wait_closed(service)
    assert service.received == ["hi", b"\x01\x02"]
    assert service.closed == ["lobby"]


async def test_websocket_subprotocols_offered_are_declined_quietly(
    serve: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    # A service's websockets speak no subprotocol: the handshake names none (RFC 6455,
    # 4.2.2), and a client offering some is no warning in the service's log.
    service = Chat()
    client = await serve(service)
    with caplog.at_level(logging.DEBUG):
        async with client.ws_connect(
            "/rooms/lobby", protocols=("chat", "superchat"), headers={"User-Agent": "tester"}
        ) as ws:
            assert ws.protocol is None
            assert await ws.receive_str(timeout=TIMEOUT) == "welcome to lobby from tester"
            await ws.send_str("hi")
            assert await ws.receive_str(timeout=TIMEOUT) == "HI"
        await wait_closed(service)
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


async def test_websocket_close_called_once_on_abrupt_disconnect(serve: MakeClient) -> None:
    service = Chat()
    client = await serve(service)
    port = client.port
    assert port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"GET /rooms/abrupt HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: raw\r\n"
        b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    assert head.startswith(b"HTTP/1.1 101 ")
    # No close frame: the TCP connection just ends.
    writer.transport.abort()
    await wait_closed(service)
    assert service.closed == ["abrupt"]


async def test_websocket_receive_error_closes_1011_and_service_goes_on(
    serve: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    service = Chat()
    client = await serve(service)
    with caplog.at_level(logging.ERROR, logger="typedsvc"):
        async with client.ws_connect("/rooms/errors") as ws:
            await ws.receive_str(timeout=TIMEOUT)
            await ws.send_str("boom")
            message = await ws.receive(timeout=TIMEOUT)
            assert message.type is aiohttp.WSMsgType.CLOSE
            assert ws.close_code == WSCloseCode.INTERNAL_ERROR
        await wait_closed(service)
    assert service.closed == ["errors"]
    assert [r.getMessage() for r in caplog.records if r.name == "typedsvc"] == [
        '"Chat.room" raised an exception; closed the websocket (1011).'
    ]
    assert (await client.get("/health")).status == 200


async def test_websocket_handler_error_closes_1011(serve: MakeClient) -> None:
    client = await serve(Chat())
    async with client.ws_connect("/failing") as ws:
        message = await ws.receive(timeout=TIMEOUT)
        assert message.type is aiohttp.WSMsgType.CLOSE
        assert ws.close_code == WSCloseCode.INTERNAL_ERROR


async def test_websocket_receive_only_and_none(serve: MakeClient) -> None:
    client = await serve(Chat())
    async with client.ws_connect("/only-receive") as ws:
        await ws.send_str("x")
        assert await ws.receive_str(timeout=TIMEOUT) == "got 'x'"
    async with client.ws_connect("/nothing") as ws:
        assert await ws.receive_str(timeout=TIMEOUT) == "hello and goodbye"
        await ws.send_str("dropped")


async def test_websocket_plain_get_is_426(serve: MakeClient) -> None:
    client = await serve(Chat())
    response = await client.get("/rooms/lobby")
    assert response.status == 426
    assert response.headers["Upgrade"] == "websocket"
    assert (
        await response.text()
        == "426: /rooms/lobby is a websocket; connect with a websocket client."
    )


async def test_websocket_server_shutdown_closes_1001() -> None:
    service = Chat()
    client = TestClient(TestServer(typedsvc.create_app(service), host="127.0.0.1"))
    await client.start_server()
    ws = await client.ws_connect("/rooms/shutdown")
    await ws.receive_str(timeout=TIMEOUT)
    closing = asyncio.create_task(client.server.close())
    message = await ws.receive(timeout=TIMEOUT)
    await closing
    assert message.type is aiohttp.WSMsgType.CLOSE
    assert ws.close_code == WSCloseCode.GOING_AWAY
    assert service.closed == ["shutdown"]
    await ws.close()
    await client.close()


def raises(message: str) -> pytest.RaisesExc[DefinitionError]:
    return pytest.raises(DefinitionError, match=f"^{re.escape(message)}$")


def test_websocket_group_without_parameter() -> None:
    with raises(
        '"Bad.room": url group "room" in r"/rooms/(?P<room>[^/]+)" has no matching parameter; '
        'add a parameter named "room" or rename the group.'
    ):

        class Bad(typedsvc.Service):  # pyright: ignore[reportUnusedClass]
            @typedsvc.websocket(r"/rooms/(?P<room>[^/]+)")  # type: ignore[typedsvc-url]
            async def room(self, websocket: web.WebSocketResponse) -> None:
                return None


def test_websocket_not_async() -> None:
    with raises(
        '"Bad.room": the websocket handler for r"/rooms" is not a coroutine function; '
        'declare it as "async def room(self, websocket, ...)".'
    ):

        class Bad(typedsvc.Service):  # pyright: ignore[reportUnusedClass]
            @typedsvc.websocket(r"/rooms")  # type: ignore[arg-type, typedsvc-url]  # pyright: ignore[reportArgumentType]
            def room(self, websocket: web.WebSocketResponse) -> None:
                return None


def test_websocket_without_socket_parameter() -> None:
    with raises(
        '"Bad.room": the websocket handler for r"/rooms" does not take the websocket as its '
        'second parameter; declare it as "async def room(self, websocket, ...)".'
    ):

        class Bad(typedsvc.Service):  # pyright: ignore[reportUnusedClass]
            @typedsvc.websocket(r"/rooms")  # type: ignore[arg-type, typedsvc-url]  # pyright: ignore[reportArgumentType]
            async def room(self) -> None:
                return None


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        pytest.param(
            ("not", "callables"),
            '"Untyped.odd" returned a tuple that is not (receive, close); return (receive, '
            "close), receive alone, or None.",
            id="tuple",
        ),
        pytest.param(
            42,
            '"Untyped.odd" returned int, not (receive, close); return (receive, close), receive '
            "alone, or None.",
            id="int",
        ),
    ],
)
async def test_websocket_handler_returning_something_else_closes_1011(
    serve: MakeClient, caplog: pytest.LogCaptureFixture, returned: object, message: str
) -> None:
    class Untyped(typedsvc.Service):
        @typedsvc.websocket(r"/odd")
        async def odd(self, websocket: web.WebSocketResponse) -> Any:
            return returned

    client = await serve(Untyped())
    with caplog.at_level(logging.ERROR, logger="typedsvc"):
        async with client.ws_connect("/odd") as ws:
            received = await ws.receive(timeout=TIMEOUT)
            assert received.type is aiohttp.WSMsgType.CLOSE
            assert ws.close_code == WSCloseCode.INTERNAL_ERROR
    [record] = [r for r in caplog.records if r.name == "typedsvc"]
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == message
