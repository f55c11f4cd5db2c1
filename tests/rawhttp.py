"""HTTP/1.1 over a plain socket, for requests no HTTP client would send."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Final

from multidict import CIMultiDict

# Every wait on the server is bounded by this many seconds.
TIMEOUT: Final = 5.0


@dataclass(frozen=True)
class Answer:
    """The first response on a connection, and whether the server then closed it."""

    status: int
    headers: CIMultiDict[str]
    body: bytes
    closed: bool


async def exchange(port: int, data: bytes, *, wait: float = TIMEOUT) -> Answer:
    """Send ``data`` on a new connection and read the response and the end of the connection.

    ``closed`` is whether the server closed the connection within ``wait`` seconds of
    the response.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        status_line, *lines = head.decode("latin-1").split("\r\n")[:-2]
        headers: CIMultiDict[str] = CIMultiDict()
        for line in lines:
            name, _, value = line.partition(":")
            headers.add(name.strip(), value.strip())
        length = int(headers.get("Content-Length", "0"))
        body = await asyncio.wait_for(reader.readexactly(length), TIMEOUT)
        try:
            rest = await asyncio.wait_for(reader.read(), wait)
        except TimeoutError:
            closed = False
        else:
            assert rest == b"", rest
            closed = True
        return Answer(int(status_line.split(" ")[1]), headers, body, closed)
    finally:
        writer.close()
        await writer.wait_closed()
