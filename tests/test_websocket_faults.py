"""@websocket under dropped connections: clients that vanish without a close frame.

Real servers on 127.0.0.1 and real sockets, no mocks. A thousand connections are opened in
bursts of a hundred and each burst is dropped at once: with a TCP reset or a plain FIN right
after the handshake, with a reset after an echoed frame or in the middle of a frame, or through
aiohttp's own client with its connector closed under the websocket. Then clients drop while the
service is in the middle of sending to them, on open or in reply to a message. The guarantees:
close is called exactly once per connection (per connection id), receive is given only whole
frames, and nothing is left behind: no task, no file descriptor, no error or traceback logged
for what is only a client going away.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
import logging
import os
import secrets
import socket
import struct
from asyncio.trsock import TransportSocket
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import Final, Literal

import aiohttp
import pytest
from aiohttp import WSCloseCode, web
from conftest import MakeClient

import typedsvc
from typedsvc import WebsocketCallbacks
from typedsvc.testing import Client

BURSTS: Final = 10
BURST_SIZE: Final = 100
# Every wait is bounded by this many seconds; a guarantee that needs longer has failed.
TIMEOUT: Final = 5.0
# How a client leaves, without a close frame: RST or FIN right after the handshake, RST after
# an echoed frame, RST or FIN in the middle of a frame (after a FIN the server surely reads the
# half frame; a RST may discard it unread), or aiohttp's client, reset when its session's
# connector closes the connection under the websocket.
Drop = Literal["rst", "fin", "rst-after-echo", "rst-mid-frame", "fin-mid-frame", "aiohttp"]
DROPS: Final[tuple[Drop, ...]] = (
    "rst",
    "fin",
    "rst-after-echo",
    "rst-mid-frame",
    "fin-mid-frame",
    "aiohttp",
)
# The drops that first send a whole frame, which receive must get.
SENDING: Final[frozenset[Drop]] = frozenset({"rst-after-echo", "aiohttp"})

# Clients dropped in the middle of a send: fewer, since each holds a full socket buffer.
MID_SEND_BURSTS: Final = 4
MID_SEND_BURST_SIZE: Final = 50
When = Literal["on-open", "in-reply"]
WHENS: Final[tuple[When, ...]] = ("on-open", "in-reply")
# The service streams FLOOD_FRAMES frames of CHUNK, far more than a client that never reads
# takes: it is still sending, blocked on its full write buffer, when the client drops.
CHUNK: Final = b"x" * 65536
FLOOD_FRAMES: Final = 10_000
# The receive buffer of the clients that do not read, so the kernel holds little of the flood.
SMALL_RCVBUF: Final = 4096

HAS_PROC_FD: Final = os.path.isdir("/proc/self/fd")
needs_proc_fd = pytest.mark.skipif(not HAS_PROC_FD, reason="no /proc/self/fd to count in")

ACCEPT_MAGIC: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Tracked(typedsvc.Service):
    """Counts, per connection id, the calls of its handlers and callbacks."""

    def __init__(self) -> None:
        self.opened: Counter[str] = Counter()
        self.returned: Counter[str] = Counter()
        self.closed: Counter[str] = Counter()
        self.close_codes: Counter[int | None] = Counter()
        self.flooded: Counter[str] = Counter()
        self.received: defaultdict[str, list[str | bytes]] = defaultdict(list)

    @typedsvc.websocket(r"/echo/(?P<conn>[^/]+)")
    async def echo(self, websocket: web.WebSocketResponse, conn: str) -> WebsocketCallbacks:
        self.opened[conn] += 1
        return self.callbacks(websocket, conn)

    @typedsvc.websocket(r"/flood/(?P<conn>[^/]+)")
    async def flood_on_open(
        self, websocket: web.WebSocketResponse, conn: str
    ) -> WebsocketCallbacks:
        self.opened[conn] += 1
        await flood(websocket)
        self.flooded[conn] += 1
        return self.callbacks(websocket, conn)

    def callbacks(self, websocket: web.WebSocketResponse, conn: str) -> WebsocketCallbacks:
        """Echo each text frame, or flood the client when it sends "flood"."""

        async def receive(data: str | bytes) -> None:
            self.received[conn].append(data)
            if data == "flood":
                await flood(websocket)
                self.flooded[conn] += 1
            else:
                await websocket.send_str(f"echo {data!s}")

        async def close() -> None:
            self.closed[conn] += 1
            self.close_codes[websocket.close_code] += 1

        self.returned[conn] += 1
        return receive, close


async def flood(websocket: web.WebSocketResponse) -> None:
    """Send more than a client that does not read can take."""
    for _ in range(FLOOD_FRAMES):
        await websocket.send_bytes(CHUNK)


async def settle(condition: Callable[[], bool]) -> None:
    """Wait, at most TIMEOUT seconds, for ``condition``; the caller asserts it afterwards."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(TIMEOUT):
            # Polled: a count of tasks or file descriptors has no event to wait on.
            while not condition():  # noqa: ASYNC110
                await asyncio.sleep(0.01)


def open_fds() -> int:
    """The number of file descriptors this process has open (the server's among them)."""
    return len(os.listdir("/proc/self/fd"))


def reset_on_close(sock: socket.socket | TransportSocket) -> None:
    """Make closing ``sock`` send a TCP RST, not a FIN (SO_LINGER on, with a zero timeout)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def client_frame(text: str) -> bytes:
    """A short masked text frame, as a client must send it (RFC 6455, 5.2 and 5.3)."""
    payload = text.encode()
    assert len(payload) < 126
    mask = secrets.token_bytes(4)
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    return bytes([0x81, 0x80 | len(payload)]) + mask + masked


class RawWebsocket:
    """A websocket client by hand: a socket, the upgrade request, and frames built here."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port: int, path: str, rcvbuf: int | None = None) -> RawWebsocket:
        """Connect to ``path`` and complete the upgrade; ``rcvbuf`` sizes SO_RCVBUF."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if rcvbuf is not None:
                # Before connecting, so that the window offered in the handshake is small.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
            reader, writer = await asyncio.open_connection(sock=sock)
        except BaseException:
            sock.close()
            raise
        raw = cls(reader, writer)
        try:
            await raw.upgrade(path)
        except BaseException:
            await raw.drop(reset=True)
            raise
        return raw

    async def upgrade(self, path: str) -> None:
        """Send the upgrade request for ``path`` and check the 101 answer (RFC 6455, 4.2.2)."""
        key = base64.b64encode(secrets.token_bytes(16))
        self.writer.write(
            b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Key: " + key + b"\r\n\r\n"
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        accept = base64.b64encode(hashlib.sha1(key + ACCEPT_MAGIC).digest())
        assert head.startswith(b"HTTP/1.1 101 "), head
        assert b"\r\nSec-WebSocket-Accept: " + accept + b"\r\n" in head, head

    async def read_text(self) -> str:
        """One short text frame from the server (unmasked, RFC 6455, 5.1)."""
        head = await self.reader.readexactly(2)
        assert head[0] == 0x81, head
        assert head[1] < 126, head
        return (await self.reader.readexactly(head[1])).decode()

    async def drop(self, *, reset: bool) -> None:
        """End the TCP connection without a close frame: RST when ``reset``, else FIN."""
        if reset:
            reset_on_close(self.writer.get_extra_info("socket"))
        self.writer.transport.abort()
        # abort() closes the socket on the loop's next iteration.
        await self.writer.wait_closed()


async def connect_and_drop(client: Client[Tracked]) -> dict[str, list[str | bytes]]:
    """Open BURSTS bursts of BURST_SIZE websockets, dropping each burst at once.

    Each burst is all open on the server side before any of it drops, and the next starts once
    the server has called close for all of it (or TIMEOUT has passed). Returns, per connection
    id, the frames its client sent whole.
    """
    service = client.service
    sent: dict[str, list[str | bytes]] = {}
    for burst in range(BURSTS):
        conns: dict[str, Drop] = {f"b{burst}c{i}": DROPS[i % len(DROPS)] for i in range(BURST_SIZE)}
        sent |= {conn: [f"hello {conn}"] if how in SENDING else [] for conn, how in conns.items()}
        async with (
            asyncio.timeout(TIMEOUT),
            aiohttp.ClientSession(base_url=client.base_url) as session,
        ):
            drops = await asyncio.gather(
                *(open_one(client.port, session, conn, how) for conn, how in conns.items())
            )
            assert all(service.opened[conn] == 1 for conn in conns)
            await asyncio.gather(*(drop() for drop in drops))
        # Leaving the block closed the session's connector, and with it its websockets.
        await settle(functools.partial(all_closed, service, conns))
    return sent


def all_closed(service: Tracked, conns: Iterable[str]) -> bool:
    """Whether ``service`` has had close called for every connection of ``conns``."""
    return all(service.closed[conn] for conn in conns)


async def open_one(
    port: int, session: aiohttp.ClientSession, conn: str, how: Drop
) -> Callable[[], Awaitable[None]]:
    """Open the websocket of ``conn``; return what drops it the way ``how`` says."""
    path = f"/echo/{conn}"
    if how == "aiohttp":
        ws = await session.ws_connect(path)
        await ws.send_str(f"hello {conn}")
        assert await ws.receive_str() == f"echo hello {conn}"
        reset_on_close(ws.get_extra_info("socket"))
        return _dropped_with_the_session
    raw = await RawWebsocket.connect(port, path)
    if how == "rst-after-echo":
        raw.writer.write(client_frame(f"hello {conn}"))
        assert await raw.read_text() == f"echo hello {conn}"
    elif how in ("rst-mid-frame", "fin-mid-frame"):
        frame = client_frame(f"never whole {conn}")
        raw.writer.write(frame[: len(frame) // 2])
        await raw.writer.drain()
    return functools.partial(raw.drop, reset=how.startswith("rst"))


async def _dropped_with_the_session() -> None:
    """An aiohttp websocket drops when its session closes its connector, at the burst's end."""


async def drop_mid_send(client: Client[Tracked], when: When) -> list[str]:
    """Drop clients, burst by burst, while the service floods them; return their ids.

    Each client reads the head of the first frame, so the flood has begun, reads no more, and
    drops with a reset: the service is in the middle of its flood, waiting for its full write
    buffer to drain. Returns once the server's tasks for them have ended (or after TIMEOUT).
    """
    before = asyncio.all_tasks()
    conns: list[str] = []
    for burst in range(MID_SEND_BURSTS):
        burst_conns = [f"b{burst}c{i}" for i in range(MID_SEND_BURST_SIZE)]
        conns += burst_conns
        async with asyncio.timeout(TIMEOUT):
            raws = await asyncio.gather(*(flooded(client.port, conn, when) for conn in burst_conns))
            await asyncio.gather(*(raw.drop(reset=True) for raw in raws))
    await settle(lambda: asyncio.all_tasks() <= before)
    return conns


async def flooded(port: int, conn: str, when: When) -> RawWebsocket:
    """A websocket that has the head of a flood it will never read."""
    path = f"/flood/{conn}" if when == "on-open" else f"/echo/{conn}"
    raw = await RawWebsocket.connect(port, path, rcvbuf=SMALL_RCVBUF)
    if when == "in-reply":
        raw.writer.write(client_frame("flood"))
    # A binary frame of CHUNK's length: 0x82, then 127 and the length in 64 bits.
    assert await raw.reader.readexactly(10) == b"\x82\x7f" + struct.pack("!Q", len(CHUNK))
    return raw


def assert_quiet(caplog: pytest.LogCaptureFixture) -> None:
    """No ERROR record, and no traceback in any record."""
    errors = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, f"{len(errors)} ERROR records, the first: {errors[:1]}"
    tracebacks = [
        f"{r.name}: {r.getMessage()}" for r in caplog.records if r.exc_info or r.stack_info
    ]
    assert not tracebacks, (
        f"{len(tracebacks)} records with a traceback, the first: {tracebacks[:1]}"
    )
    assert "Traceback" not in caplog.text


async def test_websocket_close_called_once_per_dropped_connection(serve: MakeClient) -> None:
    service = Tracked()
    sent = await connect_and_drop(await serve(service))
    await asyncio.sleep(0.05)  # a second close would have come by now
    assert len(sent) == BURSTS * BURST_SIZE
    assert service.opened == Counter(sent.keys())
    assert service.closed == Counter(sent.keys())
    # No close frame reached the server: every connection ended abnormally.
    assert service.close_codes == {WSCloseCode.ABNORMAL_CLOSURE: len(sent)}


async def test_websocket_receive_gets_only_whole_frames_from_dropped_clients(
    serve: MakeClient,
) -> None:
    service = Tracked()
    sent = await connect_and_drop(await serve(service))
    assert service.received == {conn: frames for conn, frames in sent.items() if frames}


async def test_websocket_dropped_connections_leave_no_tasks(serve: MakeClient) -> None:
    client = await serve(Tracked())
    before = asyncio.all_tasks()
    await connect_and_drop(client)
    await settle(lambda: asyncio.all_tasks() == before)
    assert [task.get_coro() for task in asyncio.all_tasks() - before] == []
    assert len(asyncio.all_tasks()) == len(before)


@needs_proc_fd
async def test_websocket_dropped_connections_leave_no_file_descriptors(
    serve: MakeClient,
) -> None:
    client = await serve(Tracked())
    before = open_fds()
    await connect_and_drop(client)
    # The sessions are closed; a server-side socket closes a loop iteration or two after
    # aiohttp sees its connection lost.
    await settle(lambda: open_fds() == before)
    assert open_fds() == before


async def test_websocket_dropped_connections_log_no_errors(
    serve: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    service = Tracked()
    with caplog.at_level(logging.WARNING):
        sent = await connect_and_drop(await serve(service))
        await settle(lambda: service.closed == Counter(sent.keys()))
    assert_quiet(caplog)


@pytest.mark.parametrize("when", WHENS)
async def test_websocket_client_dropped_mid_send_ends_its_connection_once(
    serve: MakeClient, when: When
) -> None:
    service = Tracked()
    conns = await drop_mid_send(await serve(service), when)
    await asyncio.sleep(0.05)  # a second close would have come by now
    assert service.opened == Counter(conns)
    # Nobody read the flood: every flood was cut off in the middle.
    assert service.flooded == Counter()
    if when == "on-open":
        # A handler cut off before it returned gave no close callback to call.
        assert service.returned == Counter()
        assert service.closed == Counter()
    else:
        assert service.returned == Counter(conns)
        assert service.closed == Counter(conns)
        assert service.received == {conn: ["flood"] for conn in conns}


@pytest.mark.parametrize("when", WHENS)
async def test_websocket_client_dropped_mid_send_leaves_no_tasks(
    serve: MakeClient, when: When
) -> None:
    client = await serve(Tracked())
    before = asyncio.all_tasks()
    await drop_mid_send(client, when)
    await settle(lambda: asyncio.all_tasks() == before)
    assert [task.get_coro() for task in asyncio.all_tasks() - before] == []
    assert len(asyncio.all_tasks()) == len(before)


@needs_proc_fd
@pytest.mark.parametrize("when", WHENS)
async def test_websocket_client_dropped_mid_send_leaves_no_file_descriptors(
    serve: MakeClient, when: When
) -> None:
    client = await serve(Tracked())
    before = open_fds()
    await drop_mid_send(client, when)
    await settle(lambda: open_fds() == before)
    assert open_fds() == before


@pytest.mark.parametrize("when", WHENS)
async def test_websocket_client_dropped_mid_send_logs_no_errors(
    serve: MakeClient, caplog: pytest.LogCaptureFixture, when: When
) -> None:
    client = await serve(Tracked())
    with caplog.at_level(logging.DEBUG, logger="typedsvc"):
        conns = await drop_mid_send(client, when)
    assert_quiet(caplog)
    handler = "Tracked.flood_on_open" if when == "on-open" else "Tracked.echo"
    assert [r.getMessage() for r in caplog.records if r.name == "typedsvc"] == [
        f'"{handler}": the client went away while being sent to.'
    ] * len(conns)
