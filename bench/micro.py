"""Per-request framework cost without the network, in microseconds, beside aiohttp's own.

    .venv/bin/python bench/micro.py [--iterations 20000]

Measures, on requests made with aiohttp's ``make_mocked_request``:
- route resolution + parameter conversion + the handler + response normalization, for
  typedsvc and for raw aiohttp serving the same handler;
- route resolution alone for services of 1, 100 and 1000 routes (distinct prefixes, and a
  set sharing a long common prefix), hit on the first and the last route.
Writes bench/results/micro.md.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

import typedsvc

RESULTS = Path(__file__).parent / "results" / "micro.md"
ROUNDS = 5


def raw_app() -> web.Application:
    async def resource(request: web.Request) -> web.Response:
        return web.Response(text=f"id = {request.match_info['id']}")

    async def item(request: web.Request) -> web.Response:
        return web.Response(text=f"item {int(request.match_info['n']) + 1}")

    app = web.Application()
    app.router.add_get("/resource/{id}", resource)
    app.router.add_get("/items/{n}", item)
    return app


class Resources(typedsvc.Service):
    options = typedsvc.Options(http=typedsvc.HttpOptions(access_log=False, keepalive_timeout=75))

    @typedsvc.http("GET", r"/resource/(?P<id>[^/]+)")
    async def resource(self, request: web.Request, id: str) -> str:
        return f"id = {id}"

    @typedsvc.http("GET", r"/items/(?P<n>[^/]+)")
    async def item(self, request: web.Request, n: int) -> str:
        return f"item {n + 1}"


def routes_service(count: int, shared: bool) -> tuple[typedsvc.Service, str, str]:
    """A service of ``count`` routes, and a path for its first and its last route."""

    def url(index: int) -> str:
        if shared:
            return rf"/api/v1/catalogue/items/by-name/item{index:04d}/(?P<id>[^/]+)"
        return rf"/r{index}/(?P<id>[^/]+)"

    namespace: dict[str, Any] = {"options": Resources.options}
    for index in range(count):

        async def handler(self: typedsvc.Service, request: web.Request, id: str) -> str:
            return id

        handler.__name__ = handler.__qualname__ = f"route{index}"
        namespace[handler.__name__] = typedsvc.http("GET", url(index))(handler)  # type: ignore[typedsvc-url-literal]
    service = type(f"Routes{count}", (typedsvc.Service,), namespace)()

    def path(index: int) -> str:
        return url(index).replace("(?P<id>[^/]+)", "42")

    return service, path(0), path(count - 1)


async def per_call(iterations: int, call: Callable[[], Awaitable[object]]) -> float:
    """Median microseconds per call over a few rounds."""
    timings = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(iterations):
            await call()
        timings.append((time.perf_counter() - started) / iterations * 1e6)
    return statistics.median(timings)


async def full_path(app: web.Application, path: str, iterations: int) -> float:
    # A mocked request does not take the match_info resolve() returns (aiohttp's server does
    # that itself): give the handler's request the one this path resolves to.
    bare = make_mocked_request("GET", path, app=app)
    match_info = await app.router.resolve(bare)
    request = make_mocked_request("GET", path, app=app, match_info=match_info)

    async def call() -> object:
        resolved = await app.router.resolve(bare)
        return await resolved.handler(request)

    return await per_call(iterations, call)


async def resolve_only(app: web.Application, path: str, iterations: int) -> float:
    request = make_mocked_request("GET", path, app=app)

    async def call() -> object:
        return await app.router.resolve(request)

    return await per_call(iterations, call)


async def main(iterations: int) -> str:
    raw = raw_app()
    ours = typedsvc.create_app(Resources())
    for app in (raw, ours):
        app.freeze()
    lines = [
        "# Per-request framework cost, without the network",
        "",
        f"Median of {ROUNDS} rounds of {iterations} calls, microseconds per request "
        "(`make_mocked_request`, one event loop).",
        "",
        "| path | raw aiohttp (µs) | typedsvc (µs) | typedsvc - aiohttp (µs) |",
        "|---|---:|---:|---:|",
    ]
    for label, path in (("/resource/<id> (str)", "/resource/42"), ("/items/<n> (int)", "/items/7")):
        raw_us = await full_path(raw, path, iterations)
        ours_us = await full_path(ours, path, iterations)
        difference = ours_us - raw_us
        lines.append(
            f"| {label}: resolve + handler + response "
            f"| {raw_us:.2f} | {ours_us:.2f} | {difference:+.2f} |"
        )
    raw_resolve = await resolve_only(raw, "/resource/42", iterations)
    ours_resolve = await resolve_only(ours, "/resource/42", iterations)
    difference = ours_resolve - raw_resolve
    lines.append(
        f"| /resource/<id>: resolve only | {raw_resolve:.2f} | {ours_resolve:.2f} "
        f"| {difference:+.2f} |"
    )
    lines += [
        "",
        "## Route resolution as routes grow (typedsvc)",
        "",
        "| routes | set | first route (µs) | last route (µs) | last / one-route service |",
        "|---:|---|---:|---:|---:|",
    ]
    for shared in (False, True):
        baseline = 0.0
        for count in (1, 100, 1000):
            service, first, last = routes_service(count, shared)
            app = typedsvc.create_app(service)
            app.freeze()
            first_us = await resolve_only(app, first, iterations)
            last_us = await resolve_only(app, last, iterations)
            baseline = baseline or last_us
            label = "shared long prefix" if shared else "distinct prefixes"
            lines.append(
                f"| {count} | {label} | {first_us:.2f} | {last_us:.2f} "
                f"| {baseline / last_us:.2f}x speed |"
            )
    lines += [
        "",
        f"- Python {platform.python_version()}, {platform.machine()}, "
        f"aiohttp {aiohttp.__version__}, typedsvc {typedsvc.__version__}",
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- command: `{Path(sys.executable).name} bench/micro.py --iterations {iterations}`",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20000)
    args = parser.parse_args()
    report = asyncio.run(main(args.iterations))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(report, encoding="utf-8")
    print(report)
