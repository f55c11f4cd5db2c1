"""Routing by literal prefix picks exactly the route that trying every route in order picks."""

from __future__ import annotations

import re

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from conftest import MakeClient
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import typedsvc
from typedsvc._routing import PrefixIndex
from typedsvc._urls import literal_parts

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
    assert literal_parts(url)[0] == prefix


@pytest.mark.parametrize(
    ("url", "path"),
    [
        (r"/health", "/health"),
        (r"^/health$", "/health"),
        (r"/a\.b/\-c", "/a.b/-c"),
        (r"/", "/"),
        (r"/trailing/", "/trailing/"),
        (r"/a\$", "/a$"),
        (r"/x?", None),
        (r"/a+", None),
        (r"/users/(?P<id>\d+)", None),
        (r"/a|/b", None),
        (r"/a$/b", None),
        (r"/a\d", None),
        (r"(?i)/a", None),
    ],
)
def test_exact_path(url: str, path: str | None) -> None:
    assert exact_path(url) == path


def exact_path(url: str) -> str | None:
    """The one path a url matches when it is plain text, as routing reads it."""
    prefix, complete = literal_parts(url)
    return prefix if complete else None


@settings(max_examples=400, deadline=None)
@given(url=urls, path=paths)
def test_exact_path_is_the_only_match(url: str, path: str) -> None:
    assume(compiles(url))
    exact = exact_path(url)
    if exact is not None:
        assert (re.fullmatch(url, path) is not None) == (path == exact)
        assert re.fullmatch(url, exact)


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
        assert path.startswith(literal_parts(url)[0])


@settings(max_examples=300, deadline=None)
@given(route_urls=st.lists(urls, min_size=1, max_size=8), path=paths, cut=st.integers(0, 9))
def test_candidates_under_a_key_are_the_candidates(
    route_urls: list[str], path: str, cut: int
) -> None:
    index = PrefixIndex()
    prefixes = [literal_parts(url)[0] for url in route_urls]
    for prefix in prefixes:
        index.add(prefix)
    # A shortcut only sees paths that start with its key, and tries the routes under
    # it whose prefix the path starts with.
    key = path[:cut]
    tried = [number for number in index.under(key) if path.startswith(prefixes[number])]
    assert tried == index.candidates(path)


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
    routes = list(app.router.routes())
    # The path as the router sees it ("//" is no path at all to yarl, for one).
    seen = make_mocked_request("GET", path, app=app).rel_url.path_safe
    # aiohttp answers an empty path 404 itself, asking no resource.
    assume(seen)
    expected = next((i for i, url in enumerate(route_urls) if re.fullmatch(url, seen)), None)
    # Unfrozen, every path goes through the regexes; frozen, the paths that a url spells
    # out are looked up, and a path no route takes is answered by the service itself.
    for frozen in (False, True):
        if frozen:
            app.freeze()
        for method in ("GET", "POST"):
            match_info = await app.router.resolve(make_mocked_request(method, path, app=app))
            if method == "GET" and expected is not None:
                assert routes.index(match_info.route) // 2 == expected
            elif frozen:
                assert match_info.route.method == "*"
                assert match_info.http_exception is None
            else:
                assert match_info.http_exception is not None
                assert match_info.http_exception.status == (405 if expected is not None else 404)


class Remembers(typedsvc.Service):
    @typedsvc.http("GET", r"/seen")
    async def seen(self, request: web.Request) -> str:
        before = sorted(request.match_info)
        # Allowed by aiohttp: the match_info is the request's own dict.
        request.match_info["seen"] = "yes"
        return repr(before)


async def test_a_path_spelled_out_gets_a_match_info_of_its_own_per_request(
    serve: MakeClient,
) -> None:
    # The values of such a path are worked out once, at start-up, and shared by its requests.
    client = await serve(Remembers())
    for _ in range(2):
        response = await client.get("/seen")
        assert (response.status, await response.text()) == (200, "[]")
