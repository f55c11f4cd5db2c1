"""openapi(): the document a service's routes and types describe, valid OpenAPI 3.1."""

from __future__ import annotations

import enum
import json
import re
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import pytest
from aiohttp import web
from conftest import MakeClient
from openapi_spec_validator import validate
from served import write
from test_cli import run_cli
from test_examples import load, service
from test_http import Errors, Returns, Routes
from test_inputs import Constrained, Search, Users
from typing_extensions import TypedDict

import typedsvc
from typedsvc import Body, Header, HttpOptions, JsonResponse, Options, Query


class Kind(enum.Enum):
    BOOK = "book"
    FILM = "film"


class Item(TypedDict):
    id: int
    kind: Kind


class NewItem(msgspec.Struct):
    kind: Kind
    title: str


class Catalogue(typedsvc.Service):
    name = "catalogue"

    @typedsvc.http("GET", r"/items/(?P<item_id>\d+)")
    async def get_item(self, request: web.Request, item_id: int) -> JsonResponse[Item]:
        """One item.

        Answered 404 when there is none.
        """
        return JsonResponse({"id": item_id, "kind": Kind.BOOK})

    @typedsvc.http(["POST", "PUT"], r"/items")
    async def add(
        self, request: web.Request, item: Body[NewItem], dry_run: Query[bool] = False
    ) -> JsonResponse[Item] | None:
        return None

    @typedsvc.http("GET", r"/by-kind/(?P<kind>[a-z]+)/?")
    async def by_kind(
        self, request: web.Request, kind: Kind, x_trace: Header[uuid.UUID | None] = None
    ) -> str:
        return kind.value

    @typedsvc.http("GET", r"/names/(?P<name>[^/]+)")
    async def by_name(self, request: web.Request, name: str) -> bytes:
        return name.encode()

    @typedsvc.http("DELETE", r"/items")
    async def clear(self, request: web.Request) -> typedsvc.ResponseDict:
        return {"status": 204}

    @typedsvc.http_error(404)
    async def missing(self, request: web.Request) -> JsonResponse[dict[str, str]]:
        return JsonResponse({"error": "not found"})


def test_openapi_document_of_a_service() -> None:
    document = typedsvc.openapi(Catalogue)
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["info"] == {"title": "catalogue", "version": "0.1.0"}
    assert list(document["paths"]) == [
        "/items/{item_id}",
        "/items",
        "/by-kind/{kind}",
        "/names/{name}",
    ]
    missing = {
        "description": 'Answered by "Catalogue.missing".',
        "content": {
            "application/json": {
                "schema": {"type": "object", "additionalProperties": {"type": "string"}}
            }
        },
    }
    assert document["paths"]["/items/{item_id}"] == {
        "get": {
            "operationId": "Catalogue.get_item",
            "summary": "One item.",
            "description": "Answered 404 when there is none.",
            "parameters": [
                {"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "responses": {
                "2XX": {
                    "description": "The handler's JSON.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Item"}}
                    },
                },
                "400": {
                    "description": "An input is missing or malformed.",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    },
                },
                "404": missing,
            },
        }
    }
    items = document["paths"]["/items"]
    assert list(items) == ["post", "put", "delete"]
    post = items["post"]
    assert post["operationId"] == "Catalogue.add.POST"
    assert items["put"]["operationId"] == "Catalogue.add.PUT"
    assert post["parameters"] == [
        {"name": "dry_run", "in": "query", "required": False, "schema": {"type": "boolean"}}
    ]
    assert post["requestBody"] == {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewItem"}}},
    }
    assert sorted(post["responses"]) == ["204", "2XX", "400", "404", "413", "415", "422"]
    assert items["delete"]["responses"] == {
        "404": missing,
        "default": {"description": "A response the handler builds."},
    }
    assert set(document["components"]["schemas"]) == {
        "InvalidInput",
        "Item",
        "Kind",
        "NewItem",
        "Problem",
    }
    assert document["components"]["schemas"]["Kind"] == {
        "title": "Kind",
        "enum": ["book", "film"],
    }


def test_openapi_path_parameters_and_urls_that_are_more_than_text_and_groups() -> None:
    paths = typedsvc.openapi(Catalogue())["paths"]
    by_kind = paths["/by-kind/{kind}"]["get"]
    # The url's optional trailing slash: the template is what most paths look like.
    assert by_kind["x-typedsvc-regex"] == r"/by-kind/(?P<kind>[a-z]+)/?"
    assert by_kind["parameters"] == [
        {
            "name": "kind",
            "in": "path",
            "required": True,
            "schema": {"$ref": "#/components/schemas/Kind"},
        },
        {
            "name": "X-Trace",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "format": "uuid"},
        },
    ]
    # A str group is matched by its own pattern.
    name = paths["/names/{name}"]["get"]
    assert "x-typedsvc-regex" not in name
    assert name["parameters"] == [
        {
            "name": "name",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": "^(?:[^/]+)$"},
        }
    ]
    assert name["responses"]["200"] == {
        "description": "The handler's text.",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }


@pytest.mark.parametrize(
    "made",
    [
        pytest.param(lambda: Catalogue(), id="catalogue"),
        pytest.param(lambda: Routes(), id="routes"),
        pytest.param(lambda: Returns(), id="returns"),
        pytest.param(lambda: Errors(), id="errors"),
        pytest.param(lambda: Search(), id="search"),
        pytest.param(lambda: Users(), id="users"),
        pytest.param(lambda: service(load("http_service"), "ExampleService"), id="example"),
        pytest.param(
            lambda: service(load("transport_service"), "TransportService"), id="transport"
        ),
        pytest.param(lambda: service(load("json_api"), "UsersApi"), id="json-api"),
    ],
)
def test_openapi_documents_are_valid(made: Any) -> None:
    document = typedsvc.openapi(made())
    validate(document)
    # Every {name} of a template is a path parameter, and the other way round.
    for path, item in document["paths"].items():
        for operation in item.values():
            declared = {p["name"] for p in operation.get("parameters", ()) if p["in"] == "path"}
            assert declared == {part.split("}")[0] for part in path.split("{")[1:]}, path


async def test_openapi_served_at_its_url(serve: MakeClient) -> None:
    class Served(Catalogue):
        options = Options(http=HttpOptions(openapi_url="/openapi.json"))

    client = await serve(Served())
    response = await client.get("/openapi.json")
    assert response.headers["Content-Type"] == "application/json"
    assert await response.json() == typedsvc.openapi(Served)
    assert response.headers["Server"] == "typedsvc"


async def test_openapi_not_served_without_its_url(serve: MakeClient) -> None:
    client = await serve(Catalogue())
    assert (await client.get("/openapi.json")).status == 404


@pytest.mark.parametrize("url", ["openapi.json", "/openapi.json?x=1", "", 5])
def test_openapi_url_must_be_a_path(url: object) -> None:
    message = f'HttpOptions.openapi_url must be a path such as "/openapi.json", got {url!r}.'
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        HttpOptions(openapi_url=url)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def test_cli_openapi_prints_the_document(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "json_api.py"
    result = run_cli("openapi", str(example), cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout) == typedsvc.openapi(service(load("json_api"), "UsersApi"))


def test_cli_openapi_needs_one_service(tmp_path: Path) -> None:
    target = write(
        tmp_path / "two.py",
        """
        import typedsvc

        class First(typedsvc.Service):
            pass

        class Second(typedsvc.Service):
            pass
        """,
    )
    result = run_cli("openapi", str(target), cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f'typedsvc: error: "{target}" defines 2 services (First, Second); name one with '
        "--service.\n"
    )
    chosen = run_cli("openapi", str(target), "--service", "Second", cwd=tmp_path)
    assert json.loads(chosen.stdout)["info"]["title"] == "Second"
    unknown = run_cli("openapi", str(target), "--service", "Third", cwd=tmp_path)
    assert (unknown.returncode, unknown.stderr) == (
        2,
        f'typedsvc: error: "{target}" defines no service class named "Third".\n',
    )


def test_openapi_text_responses_have_the_options_content_type() -> None:
    class Pages(typedsvc.Service):
        options = Options(http=HttpOptions(content_type="text/html"))

        @typedsvc.http("GET", r"/")
        async def index(self, request: web.Request) -> str:
            return "<p>"

        @typedsvc.http_error(404)
        async def missing(self, request: web.Request) -> bytes:
            return b"<p>missing"

    operation = typedsvc.openapi(Pages)["paths"]["/"]["get"]
    assert operation["responses"] == {
        "200": {
            "description": "The handler's text.",
            "content": {"text/html": {"schema": {"type": "string"}}},
        },
        "404": {
            "description": 'Answered by "Pages.missing".',
            "content": {"text/html": {"schema": {"type": "string"}}},
        },
    }


class Odd(typedsvc.Service):
    @typedsvc.http("GET", r"/odd/(?P<n>\d+)")
    async def odd(  # pyright: ignore[reportUnknownParameterType] - its return type is unknown
        self,
        request: web.Request,
        n: Annotated[int, "a group's doc"],
        sort: Query[Literal["asc", "desc"] | None] = None,
    ) -> NotDefinedAnywhere:  # type: ignore[name-defined]  # noqa: F821  # pyright: ignore[reportUndefinedVariable]
        return ""


def test_openapi_wrapped_and_unresolvable_annotations() -> None:
    operation = typedsvc.openapi(Odd)["paths"]["/odd/{n}"]["get"]
    assert [parameter["schema"] for parameter in operation["parameters"]] == [
        {"type": "integer"},
        {"enum": ["asc", "desc"]},
    ]
    assert operation["responses"]["default"] == {"description": "A response the handler builds."}


class Note(msgspec.Struct):
    text: str
    extra: object = None


class Unknown:
    """A class msgspec knows nothing of."""


class Loose(typedsvc.Service):
    @typedsvc.http("POST", r"/notes")
    async def add(self, request: web.Request, note: Body[Note]) -> JsonResponse[dict[str, object]]:
        return JsonResponse({"text": note.text, "extra": note.extra})

    @typedsvc.http("POST", r"/meta")
    async def meta(
        self, request: web.Request, meta: Body[dict[str, object]]
    ) -> JsonResponse[list[object]]:
        keys: list[object] = [*meta]
        return JsonResponse(keys)

    @typedsvc.http("GET", r"/odd")
    async def odd(self, request: web.Request) -> JsonResponse[Unknown]:
        return JsonResponse(Unknown())


def test_openapi_object_is_any_json_and_a_class_msgspec_cannot_encode_is_said_so() -> None:
    # msgspec decodes and encodes object as any JSON value but has no schema of its own for
    # it; a class it does not know it cannot encode (the handler answers 500).
    document = typedsvc.openapi(Loose)
    validate(document)
    any_json = {"description": "Any JSON value."}
    assert document["components"]["schemas"]["Note"]["properties"]["extra"] == {
        **any_json,
        "default": None,
    }
    paths = document["paths"]

    def json_of(operation: dict[str, Any]) -> dict[str, Any]:
        return operation["responses"]["2XX"]["content"]["application/json"]  # type: ignore[no-any-return]

    assert json_of(paths["/notes"]["post"])["schema"] == {
        "type": "object",
        "additionalProperties": any_json,
    }
    body = paths["/meta"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"type": "object", "additionalProperties": any_json}
    assert json_of(paths["/meta"]["post"])["schema"] == {"type": "array", "items": any_json}
    assert json_of(paths["/odd"]["get"])["schema"] == {
        "description": "Unknown: a class msgspec cannot encode as JSON."
    }


async def test_body_of_object_takes_any_json(serve: MakeClient) -> None:
    client = await serve(Loose())
    response = await client.post("/notes", json={"text": "a", "extra": [1, {"b": None}]})
    assert await response.json() == {"text": "a", "extra": [1, {"b": None}]}
    response = await client.post("/meta", json={"z": 1, "a": [True]})
    assert await response.json() == ["z", "a"]


class Overlapping(typedsvc.Service):
    @typedsvc.http("GET", r"/one")
    @typedsvc.http("GET", r"/two")
    async def both(self, request: web.Request) -> str:
        return "both"

    @typedsvc.http("GET", r"/a/(?P<x>\d+)")
    async def by_number(self, request: web.Request, x: int) -> str:
        return "number"

    @typedsvc.http("GET", r"/a/(?P<x>[a-z]+)")
    async def by_name(self, request: web.Request, x: str) -> str:
        return "name"

    @typedsvc.http("GET", r"/b/(?P<n>\d+)")
    async def get_b(self, request: web.Request, n: int) -> str:
        return "b"

    @typedsvc.http("DELETE", r"/b/(?P<s>[a-z]+)")
    async def delete_b(self, request: web.Request, s: str) -> None:
        return None


def test_openapi_routes_that_share_a_path_or_a_handler() -> None:
    document = typedsvc.openapi(Overlapping)
    validate(document)
    paths = document["paths"]
    # A handler of two routes: operationIds are unique, numbered in the order the routes
    # were declared (the decorator nearest the handler first).
    assert (paths["/two"]["get"]["operationId"], paths["/one"]["get"]["operationId"]) == (
        "Overlapping.both",
        "Overlapping.both.2",
    )
    # One path and method, two routes: the first declared has it, and names the other.
    assert paths["/a/{x}"]["get"]["operationId"] == "Overlapping.by_number"
    assert paths["/a/{x}"]["get"]["x-typedsvc-also"] == [
        {"operationId": "Overlapping.by_name", "x-typedsvc-regex": "/a/(?P<x>[a-z]+)"}
    ]
    # Templates that differ in their parameters' names alone are one path.
    assert "/b/{s}" not in paths
    assert paths["/b/{n}"]["delete"]["operationId"] == "Overlapping.delete_b"
    [parameter] = paths["/b/{n}"]["delete"]["parameters"]
    assert (parameter["name"], parameter["schema"]) == (
        "n",
        {"type": "string", "pattern": "^(?:[a-z]+)$"},
    )


class Documented(typedsvc.Service):
    @typedsvc.http("GET", r"/ping")
    async def ping(self, request: web.Request) -> str:
        """Answers pong."""
        return "pong"


class Redeclared(Documented):
    @typedsvc.http("GET", r"/ping")
    async def ping(self, request: web.Request) -> str:
        return "pong, and more"


def test_openapi_summary_is_the_handlers_own_docstring() -> None:
    assert typedsvc.openapi(Documented)["paths"]["/ping"]["get"]["summary"] == "Answers pong."
    # Not the docstring of the handler it overrides.
    assert "summary" not in typedsvc.openapi(Redeclared)["paths"]["/ping"]["get"]


def test_openapi_publishes_msgspec_constraints_of_every_input() -> None:
    document = typedsvc.openapi(Constrained)
    validate(document)
    parameters = document["paths"]["/items/{item_id}/{code}"]["get"]["parameters"]
    page_size = {"type": "integer", "minimum": 1, "maximum": 100}
    code = {"type": "string", "maxLength": 3}
    assert {p["name"]: p["schema"] for p in parameters} == {
        "item_id": {"type": "integer", "maximum": 9},
        # A str group's own pattern beside its type's constraints.
        "code": {**code, "pattern": "^(?:\\w+)$"},
        "limit": page_size,
        "size": page_size,
        "tags": {"type": "array", "items": code},
        "X-Code": code,
        "o": {"type": "string", "pattern": "^[a-z]+$"},
    }


def test_url_for_refuses_a_value_outside_its_constraints() -> None:
    assert typedsvc.url_for(Constrained.items, item_id=9, code="ab", limit=3) == (
        "/items/9/ab?limit=3"
    )
    with pytest.raises(
        ValueError,
        match=re.escape(
            '"Constrained.items": url_for() value 300 of "limit" is one the route cannot read back '
            "(int >= 1 and <= 100)."
        ),
    ):
        typedsvc.url_for(Constrained.items, item_id=9, code="ab", limit=300)
