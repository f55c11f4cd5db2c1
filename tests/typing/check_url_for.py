"""Never executed: url_for() calls under mypy --strict (with the plugin) and pyright.

mypy's plugin reports each mistake with the code typedsvc-url-for; pyright sees the
handler's parameters through url_for's ParamSpec, so names and types are checked there too.
"""

from __future__ import annotations

from typing import Literal, assert_type

from aiohttp import web

import typedsvc
from typedsvc import Query, url_for


class Shop(typedsvc.Service):
    @typedsvc.http("GET", r"/items/(?P<item_id>\d+)")
    async def get_item(
        self,
        request: web.Request,
        item_id: int,
        sort: Query[Literal["asc", "desc"]] = "asc",
        tags: Query[list[str]] = [],  # noqa: B006 - never mutated
    ) -> str:
        return url_for(Shop.get_item, item_id=item_id + 1)


def calls() -> None:
    assert_type(url_for(Shop.get_item, item_id=1, sort="desc", tags=["a"]), str)
    url_for(Shop.get_item, 1)
    url_for(Shop.get_item, itemid=1)  # type: ignore[typedsvc-url-for]  # pyright: ignore[reportCallIssue]
    url_for(Shop.get_item, item_id="1")  # type: ignore[typedsvc-url-for]  # pyright: ignore[reportArgumentType]
    url_for(Shop.get_item, item_id=1, sort="up")  # type: ignore[typedsvc-url-for]  # pyright: ignore[reportArgumentType]
    url_for(Shop.get_item, item_id=1, tags=[1])  # type: ignore[typedsvc-url-for]  # pyright: ignore[reportArgumentType]
    url_for(Shop.get_item)  # type: ignore[typedsvc-url-for]  # pyright: ignore[reportCallIssue]
