"""Testing services: serve one in the test's own process and talk to it over HTTP.

::

    async def test_get_item() -> None:
        async with typedsvc.testing.serve(Shop()) as client:
            response = await client.get(typedsvc.url_for(Shop.get_item, item_id=1))
            assert response.status == 200

The service listens on a free port of 127.0.0.1 as ``typedsvc run`` would serve it: its
lifecycle hooks run, its middleware and error handlers answer, and leaving the block drains
requests in flight before ``_stop_service`` runs. With pytest, the ``typedsvc_client``
fixture (installed with typedsvc) serves a service for the length of a test.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Callable
from typing import Any, Concatenate, Generic, ParamSpec, Protocol, TypeVar

import aiohttp
from aiohttp import web
from yarl import URL

from typedsvc._serve import app_runner
from typedsvc._service import Service, gathering_stop_failures, run_hook

__all__ = ["Client", "ClientFactory", "clients", "serve"]

S = TypeVar("S", bound=Service)
S_co = TypeVar("S_co", bound=Service, covariant=True)
P = ParamSpec("P")
R = TypeVar("R")


def _as(
    method: Callable[Concatenate[aiohttp.ClientSession, P], R],
) -> Callable[[Callable[..., Any]], Callable[Concatenate[Client[Any], P], R]]:
    """Give a method of Client the signature of the session's method it calls."""

    def typed(func: Callable[..., Any]) -> Callable[Concatenate[Client[Any], P], R]:
        return func

    return typed


class Client(Generic[S_co]):
    """An HTTP client of one served service: ``get``, ``post``... take a path.

    A path is relative to the service (``"/items/1"``, or what ``typedsvc.url_for`` gives);
    the methods are those of the ``aiohttp.ClientSession`` in ``session``, with its
    types, so ``await client.get(path)`` is an ``aiohttp.ClientResponse``.
    """

    def __init__(self, service: S_co, app: web.Application, port: int, timeout: float) -> None:
        self.service = service
        self.app = app
        self.port = port
        self.base_url: URL = URL.build(scheme="http", host="127.0.0.1", port=port)
        self.session: aiohttp.ClientSession = aiohttp.ClientSession(
            base_url=self.base_url,
            # A server on an IP address: a default jar would drop the cookies it sets.
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            timeout=aiohttp.ClientTimeout(total=timeout),
        )

    # Each is the session's method of that name, as aiohttp declares it.
    @_as(aiohttp.ClientSession.request)
    def request(self, *args: Any, **kwargs: Any) -> Any:
        return self.session.request(*args, **kwargs)

    @_as(aiohttp.ClientSession.get)
    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self.session.get(*args, **kwargs)

    @_as(aiohttp.ClientSession.post)
    def post(self, *args: Any, **kwargs: Any) -> Any:
        return self.session.post(*args, **kwargs)

    @_as(aiohttp.ClientSession.put)
    def put(self, *args: Any, **kwargs: Any) -> Any:
        return self.session.put(*args, **kwargs)

    @_as(aiohttp.ClientSession.patch)
    def patch(self, *args: Any, **kwargs: Any) -> Any:
        return self.session.patch(*args, **kwargs)

    @_as(aiohttp.ClientSession.delete)
    def delete(self, *args: Any, **kwargs: Any) -> Any:
        return self.session.delete(*args, **kwargs)

    @_as(aiohttp.ClientSession.head)
    def head(self, *args: Any, **kwargs: Any) -> Any:
        return self.session.head(*args, **kwargs)

    @_as(aiohttp.ClientSession.options)
    def options(self, *args: Any, **kwargs: Any) -> Any:
        return self.session.options(*args, **kwargs)

    @_as(aiohttp.ClientSession.ws_connect)
    def ws_connect(self, *args: Any, **kwargs: Any) -> Any:
        return self.session.ws_connect(*args, **kwargs)

    def url(self, path: str) -> URL:
        """The absolute URL of ``path`` on the service, for clients of one's own."""
        return self.base_url.join(URL(path))


@contextlib.asynccontextmanager
async def serve(service: S, *, request_timeout: float = 30.0) -> AsyncGenerator[Client[S]]:
    """Serve ``service`` on a free port of 127.0.0.1 for the ``async with`` block.

    ``request_timeout`` bounds each request the client makes, in seconds. An exception raised by a
    lifecycle hook propagates as it is (a stop hook's once the stop has ended), and a hook that
    runs out of time raises ``LifecycleHookTimeoutError``.
    """
    runner = app_runner(service)
    # Runs _start_service; _stopping_service and _stop_service run in cleanup().
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        await run_hook(service, "_started_service")
        port: int = runner.addresses[0][1]
        client = Client(service, runner.app, port, request_timeout)
        async with client.session:
            yield client
    finally:
        with gathering_stop_failures() as failures:
            await runner.cleanup()
    # Past the finally only when the block raised nothing: a stop hook's failure must not
    # hide the test's own.
    if failures:
        raise failures[0].error


class ClientFactory(Protocol):
    """The ``typedsvc_client`` pytest fixture: ``await typedsvc_client(MyService())``."""

    async def __call__(self, service: S, *, request_timeout: float = 30.0) -> Client[S]: ...


@contextlib.asynccontextmanager
async def clients() -> AsyncGenerator[ClientFactory]:
    """A factory of served clients, all stopped when the block ends (the fixture's body)."""
    async with contextlib.AsyncExitStack() as stack:

        async def make(service: S, *, request_timeout: float = 30.0) -> Client[S]:
            return await stack.enter_async_context(serve(service, request_timeout=request_timeout))

        yield make
