"""Routing by literal prefix picks exactly the route that trying every route in order picks."""

from __future__ import annotations

import re

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import typedsvc
from typedsvc._urls import literal_prefix

PIECES = ["/", "a", "b", "ab", r"\d+", "[^/]+", "(?P<x>[ab]+)", "x?", r"\.", "(?:a|b)", ".*", "|"]
urls = st.lists(st.sampled_from(PIECES), min_size=1, max_size=5).map("".join)
paths = st.text(alphabet="/ab1.x", max_size=8).map(lambda tail: "/" + tail)


@pytest.mark.parametrize(
    ("url", "prefix"),
    [
        (r"/health", "/health"),
        (r"^/users/(?P<id>\d+)$", "/users/"),
        (r"/a\.b/c", "/a.b/c"),
        (r"/x?", "/"),
        (r"/ab*", "/a"),
        (r"/a+", "/a"),
        (r"/a{2}", "/"),
        (r"/a|/b", ""),
        (r"(/a|/b)", ""),
        (r"/(a|b)/c", "/"),
        (r"/[|]x|y", ""),
        (r"/[]|]x", "/"),
        (r"/files/[^/]+", "/files/"),
        (r"(?i)/abc", ""),
        (r"/v1/\d+", "/v1/"),
        (r"/\-x", "/-x"),
    ],
)
def test_literal_prefix(url: str, prefix: str) -> None:
    assert literal_prefix(url) == prefix


def compiles(url: str) -> bool:
    try:
        re.compile(url)
    except re.error:
        return False
    return True


@settings(max_examples=400, deadline=None)
@given(url=urls, path=paths)
def test_literal_prefix_starts_every_match(url: str, path: str) -> None:
    assume(compiles(url))
    if re.fullmatch(url, path):
        assert path.startswith(literal_prefix(url))


def service_with(route_urls: list[str]) -> typedsvc.Service:
    """A service with one GET route per url, in order; each answers with its index."""
    namespace: dict[str, object] = {}
    for index, url in enumerate(route_urls):

        async def handler(self: typedsvc.Service, request: web.Request, /, **groups: str) -> str:
            return ""

        handler.__name__ = handler.__qualname__ = f"route{index}"
        namespace[f"route{index}"] = typedsvc.http("GET", url)(handler)  # type: ignore[typedsvc-url-literal]
    service_class = type("Generated", (typedsvc.Service,), namespace)
    service: typedsvc.Service = service_class()
    return service


@settings(max_examples=300, deadline=None)
@given(route_urls=st.lists(urls, min_size=1, max_size=8, unique=True), path=paths)
async def test_dispatch_picks_the_first_matching_route(route_urls: list[str], path: str) -> None:
    assume(all(map(compiles, route_urls)))
    app = typedsvc.create_app(service_with(route_urls))
    [resource] = app.router.resources()
    request = make_mocked_request("GET", path, app=app)
    # The path as the router sees it ("//" is no path at all to yarl, for one).
    seen = request.rel_url.path_safe
    match_info, _ = await resource.resolve(request)
    expected = next((i for i, url in enumerate(route_urls) if re.fullmatch(url, seen)), None)
    if expected is None:
        assert match_info is None
    else:
        assert match_info is not None
        assert list(resource).index(match_info.route) // 2 == expected
