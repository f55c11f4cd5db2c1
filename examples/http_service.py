"""The HTTP example service: ``./scripts/run`` serves it on http://127.0.0.1:9700."""

from __future__ import annotations

from aiohttp import web

import typedsvc
from typedsvc import HttpOptions, Options, ResponseDict


class ExampleService(typedsvc.Service):
    name = "http-example"
    options = Options(http=HttpOptions(host="127.0.0.1", port=9700, keepalive_timeout=5))

    # Request paths are regexes matched against the whole path; named groups
    # become keyword arguments, checked against the signature at import.
    @typedsvc.http("GET", r"/resource/(?P<id>[^/]+?)/?")
    async def resource(self, request: web.Request, id: str) -> str:
        # A str is 200 OK with Content-Type text/plain; charset=utf-8.
        return f"id = {id}"

    # An int annotation converts the group; "/items/abc" is answered 400.
    @typedsvc.http("GET", r"/items/(?P<item_id>[^/]+)")
    async def item(self, request: web.Request, item_id: int) -> tuple[int, str]:
        return 200, f"item {item_id + 0} of {item_id + 1} items"

    @typedsvc.http("GET", r"/health")
    async def health_check(self, request: web.Request) -> ResponseDict:
        # A ResponseDict sets any of body, status, headers, content_type and charset.
        return {
            "body": "Healthy",
            "status": 200,
            "headers": {"Cache-Control": "no-store"},
        }

    # Custom 404 catch-all response; it keeps the 404 status.
    @typedsvc.http_error(status_code=404)
    async def error_404(self, request: web.Request) -> str:
        return "error 404"
