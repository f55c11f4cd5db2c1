"""Decoration-time errors: each check raises DefinitionError with its exact message at import."""

# Classes defined inside tests exist for the error their class body raises.
# pyright: reportUnusedClass=false

from __future__ import annotations

import enum
import inspect
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web

import typedsvc
from typedsvc import DefinitionError, Options
from typedsvc._service import routes_of
from typedsvc._signature import describe, handler_name
from typedsvc._specs import RouteSpec


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Size(enum.Enum):
    SMALL = 1


def raises(message: str) -> pytest.RaisesExc[DefinitionError]:
    return pytest.raises(DefinitionError, match=f"^{re.escape(message)}$")


def test_definition_error_is_a_type_error() -> None:
    assert issubclass(DefinitionError, TypeError)


def test_http_returns_the_same_function() -> None:
    async def get(self: typedsvc.Service, request: web.Request) -> str:
        return ""

    assert typedsvc.http("GET", r"/x")(get) is get


def test_http_group_without_parameter_fails_at_class_body() -> None:
    with raises(
        '"Users.get_user": url group "user_id" in r"/users/(?P<user_id>\\d+)" has no matching '
        'parameter; add a parameter named "user_id" or rename the group.'
    ):

        class Users(typedsvc.Service):
            @typedsvc.http("GET", r"/users/(?P<user_id>\d+)")  # type: ignore[typedsvc-url]
            async def get_user(self, request: web.Request) -> str:
                return ""


def test_http_parameter_without_group() -> None:
    with raises(
        '"Users.get_user": parameter "user_id" is not filled by any group of r"/users"; '
        'add a group (?P<user_id>...) to the url or give "user_id" a default.'
    ):

        class Users(typedsvc.Service):
            @typedsvc.http("GET", r"/users")  # type: ignore[typedsvc-url]
            async def get_user(self, request: web.Request, user_id: str) -> str:
                return user_id


def test_http_invalid_regex_carries_re_message() -> None:
    with raises(
        '"Users.search": url r"/search/(?P<q>[^/]+" is not a valid regular expression: '
        "missing ), unterminated subpattern at position 8."
    ):

        class Users(typedsvc.Service):
            @typedsvc.http("GET", r"/search/(?P<q>[^/]+")  # type: ignore[typedsvc-url]
            async def search(self, request: web.Request, q: str) -> str:
                return q


def test_http_unnamed_group() -> None:
    with raises(
        '"Users.download": url r"/files/([^/]+)" has an unnamed group; write (?P<name>...) '
        "or make it non-capturing with (?:...)."
    ):

        class Users(typedsvc.Service):
            @typedsvc.http("GET", r"/files/([^/]+)")  # type: ignore[typedsvc-url]
            async def download(self, request: web.Request) -> str:
                return ""


def test_http_not_async() -> None:
    with raises(
        '"Users.health": the handler for r"/health" is not a coroutine function; declare it '
        'as "async def health(self, request, ...)".'
    ):

        class Users(typedsvc.Service):
            @typedsvc.http("GET", r"/health")  # type: ignore[arg-type, typedsvc-url]  # pyright: ignore[reportArgumentType]
            def health(self, request: web.Request) -> str:
                return ""


def test_http_without_request_parameter() -> None:
    with raises(
        '"Users.health": the handler for r"/health" does not take the request as its second '
        'parameter; declare it as "async def health(self, request, ...)".'
    ):

        class Users(typedsvc.Service):
            @typedsvc.http("GET", r"/health")  # type: ignore[arg-type, typedsvc-url]  # pyright: ignore[reportArgumentType]
            async def health(self) -> str:
                return ""


def test_http_unsupported_annotation() -> None:
    with raises(
        '"Users.get": parameter "ids" for url r"/users/(?P<ids>[\\d,]+)" is annotated '
        '"list[int]", which a url group cannot be converted to; use str, int, float, '
        "uuid.UUID or an Enum with str values."
    ):

        class Users(typedsvc.Service):
            @typedsvc.http("GET", r"/users/(?P<ids>[\d,]+)")  # type: ignore[typedsvc-url]
            async def get(self, request: web.Request, ids: list[int]) -> str:
                return ""


def test_http_enum_with_non_str_values_is_unsupported() -> None:
    with raises(
        '"Shop.get": parameter "size" for url r"/shirts/(?P<size>\\w+)" is annotated "Size", '
        "which a url group cannot be converted to; use str, int, float, uuid.UUID or an "
        "Enum with str values."
    ):

        class Shop(typedsvc.Service):
            @typedsvc.http("GET", r"/shirts/(?P<size>\w+)")  # type: ignore[typedsvc-url]
            async def get(self, request: web.Request, size: Size) -> str:
                return ""


def test_http_unresolvable_string_annotation() -> None:
    with raises(
        '"Shop.get": parameter "size" for url r"/shirts/(?P<size>\\w+)" is annotated '
        '"Undefined", which is not defined in its module when the class body runs; define or '
        "import it at the module's top level, before the service class."
    ):

        class Shop(typedsvc.Service):
            @typedsvc.http("GET", r"/shirts/(?P<size>\w+)")  # type: ignore[typedsvc-url]
            async def get(self, request: web.Request, size: Undefined) -> str:  # type: ignore[name-defined]  # noqa: F821  # pyright: ignore[reportUndefinedVariable, reportUnknownParameterType]
                return ""


def test_http_unknown_method() -> None:
    with raises(
        '"Users.get": unknown HTTP method \'FETCH\' for r"/x"; use one of GET, HEAD, POST, '
        "PUT, PATCH, DELETE, OPTIONS."
    ):

        class Users(typedsvc.Service):
            @typedsvc.http("FETCH", r"/x")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
            async def get(self, request: web.Request) -> str:
                return ""


def test_http_method_of_wrong_type() -> None:
    method: Any = 5
    with raises(
        '"Users.get": unknown HTTP method 5 for r"/x"; use one of GET, HEAD, POST, PUT, '
        "PATCH, DELETE, OPTIONS."
    ):

        class Users(typedsvc.Service):
            @typedsvc.http(method, r"/x")
            async def get(self, request: web.Request) -> str:
                return ""


def test_http_empty_method_list() -> None:
    with raises('"Users.get": no HTTP method given for r"/x"; name at least one, like "GET".'):

        class Users(typedsvc.Service):
            @typedsvc.http([], r"/x")
            async def get(self, request: web.Request) -> str:
                return ""


@pytest.mark.parametrize("value", [[99], ["200"], "200", 5, [True]])
def test_http_invalid_ignore_logging(value: Any) -> None:
    with raises(
        '"Users.get": ignore_logging for r"/x" must be True, False or a sequence of status '
        "codes (100-599)."
    ):

        class Users(typedsvc.Service):
            @typedsvc.http("GET", r"/x", ignore_logging=value)
            async def get(self, request: web.Request) -> str:
                return ""


def test_http_same_method_and_url_twice_names_both_handlers() -> None:
    with raises(
        '"Users.second": route GET r"^/users$" is already handled by "Users.first"; remove '
        "one of them or change its url."
    ):

        class Users(typedsvc.Service):
            @typedsvc.http("GET", r"/users")
            async def first(self, request: web.Request) -> str:
                return ""

            @typedsvc.http(["POST", "GET"], r"^/users$")  # type: ignore[typedsvc-url]
            async def second(self, request: web.Request) -> str:
                return ""


def test_http_duplicate_with_a_base_class_route() -> None:
    class Base(typedsvc.Service):
        @typedsvc.http("GET", r"/users")
        async def first(self, request: web.Request) -> str:
            return ""

    with raises(
        '"Users.second": route GET r"/users" is already handled by "Base.first"; remove one '
        "of them or change its url."
    ):

        class Users(Base):
            @typedsvc.http("GET", r"/users")
            async def second(self, request: web.Request) -> str:
                return ""


def test_http_override_in_subclass_replaces_the_route() -> None:
    class Base(typedsvc.Service):
        @typedsvc.http("GET", r"/users")
        async def users(self, request: web.Request) -> str:
            return "base"

        @typedsvc.http("GET", r"/other")
        async def other(self, request: web.Request) -> str:
            return "other"

    class Users(Base):
        @typedsvc.http("GET", r"/users")
        async def users(self, request: web.Request) -> str:
            return "override"

    routes = routes_of(Users).routes
    assert [(attr, spec.where) for attr, spec in routes] == [
        ("users", "Users.users"),
        ("other", "Base.other"),
    ]


def test_http_methods_are_normalized() -> None:
    class Users(typedsvc.Service):
        @typedsvc.http(["get", "POST", "GET"], r"/users")  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
        async def users(self, request: web.Request) -> str:
            return ""

    [(_, spec)] = routes_of(Users).routes
    assert spec.methods == ("GET", "POST")


def test_http_records_conversions_for_annotated_groups() -> None:
    class Things(typedsvc.Service):
        @typedsvc.http(
            "GET", r"/t/(?P<a>[^/]+)/(?P<b>[^/]+)/(?P<c>[^/]+)/(?P<d>[^/]+)/(?P<e>[^/]+)"
        )
        async def thing(
            self, request: web.Request, a: str, b: int, c: float, d: uuid.UUID, e: Color
        ) -> str:
            return ""

    [(_, spec)] = routes_of(Things).routes
    assert isinstance(spec, RouteSpec)
    assert [(name, type_name) for name, _, type_name in spec.conversions] == [
        ("b", "int"),
        ("c", "float"),
        ("d", "UUID"),
        ("e", "one of 'red', 'green'"),
    ]


def test_http_error_invalid_status() -> None:
    with raises(
        '"Users.oops": http_error status 200 is not an HTTP status code; use an int from 400 '
        "to 599."
    ):

        class Users(typedsvc.Service):
            @typedsvc.http_error(200)  # type: ignore[typedsvc-url]
            async def oops(self, request: web.Request) -> str:
                return ""


def test_http_error_status_of_wrong_type() -> None:
    status: Any = "404"
    with raises(
        "\"Users.oops\": http_error status '404' is not an HTTP status code; use an int from "
        "400 to 599."
    ):

        class Users(typedsvc.Service):
            @typedsvc.http_error(status)
            async def oops(self, request: web.Request) -> str:
                return ""


def test_http_error_unknown_parameter() -> None:
    with raises(
        '"Users.oops": the http_error(404) handler takes unknown parameters "detail"; it '
        'receives the request and, when declared, "status_code".'
    ):

        class Users(typedsvc.Service):
            @typedsvc.http_error(404)  # type: ignore[type-var, typedsvc-url]  # pyright: ignore[reportArgumentType, reportUntypedFunctionDecorator]
            async def oops(self, request: web.Request, detail: str) -> str:
                return detail


def test_http_error_not_async() -> None:
    with raises(
        '"Users.oops": the http_error(404) handler is not a coroutine function; declare it as '
        '"async def oops(self, request)".'
    ):

        class Users(typedsvc.Service):
            @typedsvc.http_error(404)  # type: ignore[type-var, typedsvc-url]  # pyright: ignore[reportArgumentType, reportUntypedFunctionDecorator]
            def oops(self, request: web.Request) -> str:
                return ""


def test_http_error_without_request() -> None:
    with raises(
        '"Users.oops": the http_error(404) handler does not take the request as its second '
        'parameter; declare it as "async def oops(self, request)".'
    ):

        class Users(typedsvc.Service):
            @typedsvc.http_error(404)  # type: ignore[type-var, typedsvc-url]  # pyright: ignore[reportArgumentType, reportUntypedFunctionDecorator]
            async def oops(self) -> str:
                return ""


def test_http_error_twice_for_one_status() -> None:
    with raises(
        '"Users.second": http_error(404) is already handled by "Users.first"; keep one '
        "handler per status code."
    ):

        class Users(typedsvc.Service):
            @typedsvc.http_error(404)
            async def first(self, request: web.Request) -> str:
                return ""

            @typedsvc.http_error(404)  # type: ignore[typedsvc-url]
            async def second(self, request: web.Request) -> str:
                return ""


def test_service_options_must_be_options() -> None:
    wrong: Any = {"http": {}}
    with raises(
        '"Users.options" must be a typedsvc.Options, got dict; write options = '
        "Options(http=HttpOptions(...))."
    ):

        class Users(typedsvc.Service):
            options = wrong


def test_service_name_defaults_to_class_name() -> None:
    class Users(typedsvc.Service):
        pass

    class Named(typedsvc.Service):
        name = "named"
        options = Options()

    class Child(Named):
        pass

    # A name not given is each class's own: a subclass of Users is a service of its own.
    class Answered(Users):
        pass

    assert (Users.name, Named.name, Child.name, Answered.name) == (
        "Users",
        "named",
        "named",
        "Answered",
    )


def test_handler_name_strips_enclosing_functions() -> None:
    class Users(typedsvc.Service):
        async def get(self, request: web.Request) -> str:
            return ""

    def outer() -> Callable[[], None]:
        def inner() -> None:
            return None

        return inner

    assert handler_name(Users.get) == "Users.get"
    assert handler_name(outer()) == "inner"
    assert handler_name(len) == "len"


def test_describe_reads_string_annotations() -> None:
    async def handler(self: object, request: web.Request, n: int = 1, *, c: Color) -> None:
        return None

    shape, resolved = describe(handler)
    assert [(p.name, p.kind, p.has_default, p.annotation, p.conversion) for p in shape.params][
        2:
    ] == [
        ("n", "positional_or_keyword", True, "int", "int"),
        ("c", "keyword_only", False, "Color", "enum"),
    ]
    assert resolved["n"] is int


def test_string_annotations_are_evaluated_in_each_module() -> None:
    # The same annotation text means what each module defines it as.
    source = (
        "from __future__ import annotations\n"
        "import typedsvc\n"
        "class Shop(typedsvc.Service):\n"
        "    @typedsvc.http('GET', r'/s/(?P<size>\\w+)')\n"
        "    async def get(self, request, size: Size) -> str:\n"
        "        return ''\n"
    )
    exec(source, {"Size": Color, "__name__": "first"})
    with raises(
        '"Shop.get": parameter "size" for url r"/s/(?P<size>\\w+)" is annotated "Size", '
        "which a url group cannot be converted to; use str, int, float, uuid.UUID or an "
        "Enum with str values."
    ):
        exec(source, {"Size": Size, "__name__": "second"})


@pytest.mark.parametrize("annotation", ["1", "True", "1.0"])
def test_equal_annotations_keep_their_own_text(annotation: str) -> None:
    # 1, True and 1.0 are equal as keys; each handler's message names what it wrote.
    source = (
        "import typedsvc\n"
        "class Shop(typedsvc.Service):\n"
        "    @typedsvc.http('GET', r'/s/(?P<size>\\w+)')\n"
        f"    async def get(self, request, size: {annotation}) -> str:\n"
        "        return ''\n"
    )
    # Without this module's `from __future__ import annotations`: evaluated annotations.
    code = compile(source, "shop.py", "exec", dont_inherit=True)
    for _ in range(2):
        with raises(
            f'"Shop.get": parameter "size" for url r"/s/(?P<size>\\w+)" is annotated '
            f'"{annotation}", which a url group cannot be converted to; use str, int, float, '
            "uuid.UUID or an Enum with str values."
        ):
            exec(code, {"__name__": "shop"})


def test_handlers_with_one_signature_get_their_own_annotations() -> None:
    # Evaluated annotations (no future import): the signature's Params are shared.
    source = (
        "async def first(self, request: web.Request, item_id: int) -> str: ...\n"
        "async def second(self, request: web.Request, item_id: int) -> str: ...\n"
    )
    namespace: dict[str, Any] = {"web": web}
    exec(compile(source, "handlers.py", "exec", dont_inherit=True), namespace)
    shape, resolved = describe(namespace["first"], "A.first")
    resolved["item_id"] = str
    other, other_resolved = describe(namespace["second"], "B.second")
    assert other.where == "B.second"
    assert other.params == shape.params
    assert other_resolved == {
        "self": inspect.Parameter.empty,
        "request": web.Request,
        "item_id": int,
    }


def test_routes_of_one_signature_and_groups_keep_their_own_conversions() -> None:
    # Evaluated annotations (no future import), so that the checks and the plan of the
    # first route are remembered: the others must still get their own Enum, defaults
    # and errors.
    source = (
        "import enum\n"
        "import typedsvc\n"
        "from aiohttp import web\n"
        "class Color(enum.Enum):\n"
        "    RED = 'red'\n"
        "class Size(enum.Enum):\n"
        "    BIG = 'big'\n"
        "class Shop(typedsvc.Service):\n"
        "    @typedsvc.http('GET', r'/a/(?P<kind>[^/]+)')\n"
        "    async def a(self, request: web.Request, kind: Color) -> str: ...\n"
        "    @typedsvc.http('GET', r'/b/(?P<kind>[^/]+)')\n"
        "    async def b(self, request: web.Request, kind: Color) -> str: ...\n"
        "    @typedsvc.http('GET', r'/c/(?P<kind>[^/]+)')\n"
        "    async def c(self, request: web.Request, kind: Size) -> str: ...\n"
        "    @typedsvc.http('GET', r'/d(?:/(?P<kind>[^/]+))?')\n"
        "    async def d(self, request: web.Request, kind: Size = Size.BIG) -> str: ...\n"
    )
    namespace: dict[str, Any] = {"__name__": "shop"}
    exec(compile(source, "shop.py", "exec", dont_inherit=True), namespace)
    specs = dict(routes_of(namespace["Shop"]).routes)
    converted = {}
    for attr, spec in specs.items():
        assert isinstance(spec, RouteSpec)
        [(name, convert, _)] = spec.conversions
        converted[attr] = (name, convert, spec.required_groups)
    assert converted == {
        "a": ("kind", namespace["Color"], ("kind",)),
        "b": ("kind", namespace["Color"], ("kind",)),
        "c": ("kind", namespace["Size"], ("kind",)),
        "d": ("kind", namespace["Size"], ()),
    }
    # The signature of "a" passed with a "kind" group; with another group it still fails.
    with raises(
        '"Shop.e": url group "other" in r"/e/(?P<other>[^/]+)" has no matching parameter; '
        'add a parameter named "other" or rename the group.'
    ):
        exec(
            compile(
                source + "    @typedsvc.http('GET', r'/e/(?P<other>[^/]+)')\n"
                "    async def e(self, request: web.Request, kind: Color) -> str: ...\n",
                "shop.py",
                "exec",
                dont_inherit=True,
            ),
            {"__name__": "shop"},
        )


def test_http_close_names_say_did_you_mean() -> None:
    with raises(
        '"Items.get_item": url group "item_id" in r"/items/(?P<item_id>\\d+)" has no matching '
        'parameter; did you mean the parameter "itemid"? Give the group and the parameter one '
        "name."
    ):

        class Items(typedsvc.Service):
            @typedsvc.http("GET", r"/items/(?P<item_id>\d+)")  # type: ignore[typedsvc-url]
            async def get_item(self, request: web.Request, itemid: int) -> str:
                return str(itemid)


def test_definition_error_holds_every_problem_of_a_route() -> None:
    with pytest.raises(DefinitionError) as raised:

        class Items(typedsvc.Service):
            @typedsvc.http("GET", r"/items/(?P<a>\d+)/(?P<b>\d+)")  # type: ignore[typedsvc-url]
            async def get_item(self, request: web.Request) -> str:
                return ""

    assert str(raised.value) == raised.value.problems[0]
    assert raised.value.problems == (
        '"Items.get_item": url group "a" in r"/items/(?P<a>\\d+)/(?P<b>\\d+)" has no matching '
        'parameter; add a parameter named "a" or rename the group.',
        '"Items.get_item": url group "b" in r"/items/(?P<a>\\d+)/(?P<b>\\d+)" has no matching '
        'parameter; add a parameter named "b" or rename the group.',
    )
