"""Eagerly evaluated annotations (no `from __future__ import annotations`) act the same."""

import enum
import re
import uuid
from typing import Annotated

import pytest
from aiohttp import web
from conftest import MakeClient, problem

import typedsvc


class Color(enum.Enum):
    RED = "red"


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


class Annotations(typedsvc.Service):
    # Annotated[...] converts as what it wraps; metadata that cannot be hashed is fine.
    @typedsvc.http("GET", r"/a/(?P<n>[^/]+)/(?P<color>[^/]+)")
    async def get(
        self,
        request: web.Request,
        n: Annotated[int, {"unit": "items"}],
        color: Annotated[Color, "a colour"],
        note: Annotated[str, {"doc": "unused"}] = "",
    ) -> str:
        return f"{n + 1} {color.value}{note}"


async def test_annotated_groups_convert_as_what_they_wrap(serve: MakeClient) -> None:
    client = await serve(Annotations())
    response = await client.get("/a/41/red")
    assert await response.text() == "42 red"
    response = await client.get("/a/x/red")
    assert response.status == 400
    response = await client.get("/a/1/blue")
    body = await problem(response)
    assert (body["status"], body["detail"]) == (
        400,
        "url parameter \"color\" must be one of 'red', got 'blue'.",
    )
