"""Eagerly evaluated annotations (no `from __future__ import annotations`) act the same."""

import re
import uuid

import pytest
from aiohttp import web
from conftest import MakeClient

import typedsvc


class Eager(typedsvc.Service):
    @typedsvc.http("GET", r"/e/(?P<n>[^/]+)/(?P<u>[^/]+)")
    async def get(self, request: web.Request, n: int, u: uuid.UUID) -> str:
        return f"{n + 1} {u.hex[:4]}"


async def test_eager_annotations_convert(serve: MakeClient) -> None:
    client = await serve(Eager())
    response = await client.get("/e/1/12345678-1234-5678-1234-567812345678")
    assert await response.text() == "2 1234"


def test_eager_unsupported_annotation_is_named_as_written() -> None:
    message = (
        '"Users.get": parameter "ids" for url r"/u/(?P<ids>[^/]+)" is annotated "list[int]", '
        "which a url group cannot be converted to; use str, int, float, uuid.UUID or an Enum "
        "with str values."
    )
    with pytest.raises(typedsvc.DefinitionError, match=f"^{re.escape(message)}$"):

        class Users(typedsvc.Service):  # pyright: ignore[reportUnusedClass]
            @typedsvc.http("GET", r"/u/(?P<ids>[^/]+)")  # type: ignore[typedsvc-url]
            async def get(self, request: web.Request, ids: list[int]) -> str:
                return ""


def test_eager_unsupported_class_annotation_uses_its_name() -> None:
    message = (
        '"Users.get": parameter "b" for url r"/u/(?P<b>[^/]+)" is annotated "bytes", '
        "which a url group cannot be converted to; use str, int, float, uuid.UUID or an Enum "
        "with str values."
    )
    with pytest.raises(typedsvc.DefinitionError, match=f"^{re.escape(message)}$"):

        class Users(typedsvc.Service):  # pyright: ignore[reportUnusedClass]
            @typedsvc.http("GET", r"/u/(?P<b>[^/]+)")  # type: ignore[typedsvc-url]
            async def get(self, request: web.Request, b: bytes) -> str:
                return ""
