"""Readiness: whether a service takes new work, for load balancers and Kubernetes probes.

``HttpOptions(readiness_url="/ready")`` answers 200 while the service serves and 503 from the
moment a stop signal arrives; ``stop_delay_seconds`` keeps the service serving that long
after the signal, so that balancers see the 503 and stop sending before the drain begins.
"""

from __future__ import annotations

from typing import Final

from aiohttp import web

from typedsvc._routing import AiohttpHandler

# Probes are polled: a cache must never answer one.
_HEADERS: Final = {"Cache-Control": "no-store"}


class Readiness:
    """One application's readiness: ready until :meth:`stop` is called."""

    def __init__(self) -> None:
        self.stopping = False

    def stop(self) -> None:
        self.stopping = True

    def handler(self) -> AiohttpHandler:
        async def ready(request: web.Request) -> web.StreamResponse:
            if self.stopping:
                return web.Response(status=503, text="stopping", headers=_HEADERS)
            return web.Response(text="ready", headers=_HEADERS)

        return ready


READINESS_KEY: Final = web.AppKey("typedsvc_readiness", Readiness)
