"""Routing: a service's routes as aiohttp resources, found without trying every regex.

A service is one ``ServiceResource`` indexed at "/" that holds every route in
declaration order, plus a ``Shortcut`` for each literal part of its urls, so that
aiohttp's index reaches the service at the first step of its walk up the path.
Only aiohttp's public resource interfaces are used.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

from aiohttp import hdrs, web
from aiohttp.web_urldispatcher import (
    AbstractResource,
    AbstractRoute,
    ResourceRoute,
    UrlMappingMatchInfo,
)
from yarl import URL

from typedsvc._access_log import RouteLogging
from typedsvc._urls import decode_path_value, literal_parts

AiohttpHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Matcher = Callable[[str], dict[str, str] | None]
Resolved = tuple[UrlMappingMatchInfo | None, set[str]]
# A route as resolution tries it: its literal prefix, its matcher, its routes by method
# and those methods.
Entry = tuple[str, Matcher, dict[str, AbstractRoute], frozenset[str]]


class PrefixIndex:
    """Which routes may match a path, found by their literal prefixes.

    Prefixes are kept by length: a path is looked up once per distinct prefix length
    (a slice and a dict lookup each), and only tried against the routes whose prefix it
    starts with. The cost grows with the number of distinct lengths, not of routes.
    """

    def __init__(self) -> None:
        self._by_length: dict[int, dict[str, list[int]]] = {}
        self._lengths: list[int] = []
        # The prefix of each route, by route number, and the same sorted, made when needed.
        self._prefixes: list[str] = []
        self._sorted: list[tuple[str, int]] | None = None

    def add(self, prefix: str) -> None:
        """Add the next route: routes are numbered in the order they are added."""
        table = self._by_length.setdefault(len(prefix), {})
        table.setdefault(prefix, []).append(len(self._prefixes))
        self._prefixes.append(prefix)
        self._sorted = None
        self._lengths = sorted(self._by_length)

    def under(self, key: str) -> list[int]:
        """The routes that may match a path starting with ``key``, in declaration order.

        They are those whose prefix starts ``key`` (a candidate for every such path) and
        those whose longer prefix extends it; a path's candidates among them are the
        ones whose prefix it starts with.
        """
        found = self.candidates(key)
        if self._sorted is None:
            self._sorted = sorted((prefix, index) for index, prefix in enumerate(self._prefixes))
        # The prefixes that start with the key sit together in sorted order.
        for prefix, index in self._sorted[bisect.bisect_left(self._sorted, (key, -1)) :]:
            if not prefix.startswith(key):
                break
            if len(prefix) > len(key):
                found.append(index)
        return sorted(found)

    def prefixes(self) -> list[str]:
        """Every prefix a route was added with."""
        return list(dict.fromkeys(self._prefixes))

    def candidates(self, path: str) -> list[int]:
        """The routes that may match ``path``, in declaration order."""
        found: list[int] = []
        lists = 0
        size = len(path)
        by_length = self._by_length
        for length in self._lengths:
            if length > size:
                break
            routes = by_length[length].get(path[:length])
            if routes is not None:
                found.extend(routes)
                lists += 1
        if lists > 1:
            found.sort()
        return found


class _ExactPath:
    """How a path that some route spells out in full resolves, worked out at start-up.

    Every route whose regex matches the path is tried once, in declaration order: the
    first one of each method answers it, and the methods of all of them make the 405.
    """

    __slots__ = ("allowed", "by_method")

    def __init__(self) -> None:
        self.by_method: dict[str, tuple[dict[str, str], AbstractRoute]] = {}
        self.allowed: frozenset[str] = frozenset()

    def add(self, values: dict[str, str], routes: dict[str, AbstractRoute]) -> None:
        for method, route in routes.items():
            self.by_method.setdefault(method, (values, route))
        self.allowed |= routes.keys()


class _TypedsvcResource(AbstractResource):
    """What a service's resources share: regex routes (no url_for) under a sub-app prefix."""

    def __init__(self) -> None:
        super().__init__()
        self._prefix = ""

    def url_for(self, **kwargs: str) -> URL:
        raise NotImplementedError("typedsvc routes are regexes and cannot build urls.")

    def add_prefix(self, prefix: str) -> None:
        self._prefix = prefix.rstrip("/") + self._prefix

    def raw_match(self, path: str) -> bool:
        return False

    def get_info(self) -> dict[str, Any]:  # type: ignore[override]  # aiohttp's _InfoDict is private  # pyright: ignore[reportIncompatibleMethodOverride]
        return {"prefix": self._prefix}


class ServiceResource(_TypedsvcResource):
    """All routes of one service, tried in declaration order against the whole path.

    When it and its shortcuts are all its router holds, it also answers the paths no
    route takes (404, or 405 with Allow) through ``unmatched``, so those responses get
    the service's headers and error handlers like every other. Beside other resources
    it leaves them to aiohttp, which may find a match in a resource tried after it.
    """

    def __init__(self, router: web.UrlDispatcher, unmatched: AiohttpHandler) -> None:
        super().__init__()
        self._entries: list[Entry] = []
        self._index = PrefixIndex()
        self._exact_urls: list[str] = []
        self._router = router
        self._unmatched = Route(hdrs.METH_ANY, unmatched, self, RouteLogging(False))
        # Both set by freeze(), when no more routes or resources can be added; until
        # then every path goes through the regexes. The shortcuts read ``exact`` too.
        self.exact: dict[str, _ExactPath] = {}
        self.answers_unmatched = False

    def shortcuts(self) -> list[Shortcut]:
        """A resource for each literal part of the routes' urls that aiohttp can index.

        aiohttp looks a path up in its index, then the path without its last segment,
        and so on up to "/". A shortcut at "/users" lets it reach the service at
        "/users/42" one step before "/", and at "/health" at once.
        """
        keys = [prefix[: prefix.rfind("/")] for prefix in self._index.prefixes() if "/" in prefix]
        keys.extend(self._exact_urls)
        # aiohttp indexes a path without its trailing slashes, reads "{" as the start of a
        # variable, and "/" is the service's own key.
        trimmed = (key.rstrip("/") for key in keys)
        wanted = dict.fromkeys(key for key in trimmed if key and "{" not in key)
        return [Shortcut(self, key) for key in wanted]

    def add(
        self,
        url: str,
        match: Matcher,
        methods: Sequence[str],
        handler: AiohttpHandler,
        ignore_logging: bool | frozenset[int] = False,
        *,
        whole_path: bool = True,
    ) -> None:
        """Add a route: ``match`` gives the match_info of a path it takes, or None.

        ``whole_path`` is False for a static route, whose url also takes the paths below it.
        """
        prefix, exact = literal_parts(url)
        self._index.add(prefix)
        if exact and whole_path:
            self._exact_urls.append(prefix)
        self.exact = {}
        answered = list(methods)
        if "GET" in answered and "HEAD" not in answered:
            answered.append("HEAD")
        logging_rule = RouteLogging(ignore_logging)
        routes: dict[str, AbstractRoute] = {
            method: Route(method, handler, self, logging_rule) for method in answered
        }
        self._entries.append((prefix, match, routes, frozenset(routes)))

    def freeze(self) -> None:
        exact: dict[str, _ExactPath] = {}
        for path in self._exact_urls:
            if path in exact:
                continue
            resolved = exact[path] = _ExactPath()
            for index in self._index.candidates(path):
                _, match, routes, _ = self._entries[index]
                values = match(path)
                if values is not None:
                    resolved.add(values, routes)
        self.exact = exact
        self.answers_unmatched = all(
            other is self or (isinstance(other, Shortcut) and other.service is self)
            for other in self._router.resources()
        )

    @property
    def canonical(self) -> str:
        # Indexed at the root, so aiohttp tries resources added beside ours first.
        return self._prefix or "/"

    def __len__(self) -> int:
        return sum(len(routes) for _, _, routes, _ in self._entries)

    def __iter__(self) -> Iterator[AbstractRoute]:
        for _, _, routes, _ in self._entries:
            yield from routes.values()

    async def resolve(self, request: web.Request) -> Resolved:
        return self.resolve_now(request)

    def entries_under(self, key: str) -> tuple[Entry, ...]:
        """The routes that may match a path starting with ``key`` (see PrefixIndex.under)."""
        return tuple(self._entries[index] for index in self._index.under(key))

    def resolve_now(self, request: web.Request, entries: Sequence[Entry] | None = None) -> Resolved:
        """The route of the service that takes the request, as ``resolve()`` gives it.

        ``entries`` narrows the routes tried, for a shortcut that knows where the path starts.
        """
        if self._prefix:
            below = self._path(request)
            if below is None:  # pragma: no cover - aiohttp asks a sub-app only below its prefix
                return None, set()
            path = below
        else:
            # The usual service, not below a sub-app prefix: the request's path as it is.
            path = request.rel_url.path_safe
        method = request.method
        resolved = self.exact.get(path)
        if resolved is not None:
            found = resolved.by_method.get(method)
            if found is not None:
                # UrlMappingMatchInfo copies the values into itself: the shared dict stays.
                return UrlMappingMatchInfo(*found), set()
            return self._no_match(set(resolved.allowed))
        allowed: set[str] = set()
        if entries is None:
            every = self._entries
            entries = [every[index] for index in self._index.candidates(path)]
        for prefix, match, routes, methods in entries:
            # Only a shortcut's routes can fail this: the index checked the others.
            if not path.startswith(prefix):
                continue
            values = match(path)
            if values is None:
                continue
            route = routes.get(method)
            if route is None:
                allowed |= methods
                continue
            return UrlMappingMatchInfo(values, route), allowed
        return self._no_match(allowed)

    def _no_match(self, allowed: set[str]) -> Resolved:
        if not self.answers_unmatched:
            return None, allowed
        # _unmatched() works the methods out again: a 405 is rare, a match on every request.
        return UrlMappingMatchInfo({}, self._unmatched), allowed

    def _path(self, request: web.Request) -> str | None:
        """The request's path below the sub-app prefix; None when it is not below it."""
        # path_safe is decoded except for %2F and %25, so an encoded slash stays
        # inside its segment while the regex is matched.
        path = request.rel_url.path_safe
        if not self._prefix:
            return path
        if not path.startswith(self._prefix):  # pragma: no cover - as in resolve_now()
            return None
        return path[len(self._prefix) :] or "/"

    def allowed_methods(self, request: web.Request) -> set[str]:
        """The methods of the routes that take the request's path (empty: none takes it)."""
        path = self._path(request)
        allowed: set[str] = set()
        if path is None:  # pragma: no cover - resolve_now() matched it below the prefix
            return allowed
        for index in self._index.candidates(path):
            _, match, _, methods = self._entries[index]
            if match(path) is not None:
                allowed |= methods
        return allowed


def regex_matcher(pattern: re.Pattern[str]) -> Matcher:
    """Match the whole path; the named groups, percent-decoded, are the match_info."""
    fullmatch = pattern.fullmatch

    def match(path: str) -> dict[str, str] | None:
        found = fullmatch(path)
        if found is None:
            return None
        values = found.groupdict()
        if "%" in path or None in values.values():
            # A group that took no part in the match is left out, so its default applies.
            return {
                name: decode_path_value(value)
                for name, value in values.items()
                if value is not None
            }
        return values

    return match


async def unmatched(request: web.Request) -> web.StreamResponse:
    """What a service answers for a path no route of it takes: 405 with Allow, or 404."""
    route = request.match_info.route
    resource = route.resource
    assert isinstance(resource, ServiceResource)
    allowed = resource.allowed_methods(request)
    if allowed:
        raise web.HTTPMethodNotAllowed(request.method, allowed)
    raise web.HTTPNotFound()


class Route(ResourceRoute):
    """An aiohttp route that also carries its access-log rule."""

    def __init__(
        self,
        method: str,
        handler: AiohttpHandler,
        resource: AbstractResource,
        logging_rule: RouteLogging,
    ) -> None:
        super().__init__(method, handler, resource)
        self.typedsvc_logging = logging_rule


class Shortcut(_TypedsvcResource):
    """Where aiohttp's index meets a service before "/": it resolves as the service does.

    It has no routes of its own. Beside resources that are not the service's it finds
    nothing, so that aiohttp's order between them and the service stays as it was.
    """

    def __init__(self, service: ServiceResource, key: str) -> None:
        super().__init__()
        self.service = service
        self._key = key
        self._entries = service.entries_under(key)

    @property
    def canonical(self) -> str:
        return self._prefix + self._key

    def get_info(self) -> dict[str, Any]:  # type: ignore[override]  # aiohttp's _InfoDict is private
        return {**super().get_info(), "shortcut_to": self._key}

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[AbstractRoute]:
        return iter(())

    def __repr__(self) -> str:
        return f"<typedsvc shortcut {self.canonical!r}>"

    async def resolve(self, request: web.Request) -> Resolved:
        service = self.service
        if not service.answers_unmatched:
            return None, set()
        if not self._prefix:
            # A path that a route spells out in full, looked up here as resolve_now() would:
            # most requests end here, each spared the 900 instructions of calling it.
            resolved = service.exact.get(request.rel_url.path_safe)
            if resolved is not None:
                found = resolved.by_method.get(request.method)
                if found is not None:
                    return UrlMappingMatchInfo(*found), set()
        return service.resolve_now(request, self._entries)
