"""The mypy plugin against the runtime: same messages, stable across incremental runs and dmypy."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import mypy.api
import pytest

import typedsvc

TIMEOUT = 300
CONFIG = "[mypy]\nstrict = True\nplugins = typedsvc.mypy\n"
HEADER = """\
from __future__ import annotations

import enum
from collections.abc import Coroutine, Mapping
from http import HTTPStatus
from typing import Annotated, Any, Dict, List, Literal, NewType, Optional, Union

from aiohttp import web

import typedsvc

Socket = web.WebSocketResponse


class Size(enum.Enum):
    SMALL = 1


class Color(enum.Enum):
    RED = "red"


UserId = NewType("UserId", int)


# Markers through aliases and constants, as a module may define them.
IntQuery = typedsvc.Query[int]
WideQuery = typedsvc.Query[dict[str, int]]
PageSize = Annotated[int, typedsvc.query("page-size")]
PAGE = typedsvc.query(name="page-size")

"""

# Each case is one class body with exactly one route mistake; the class is named by the test.
CASES: dict[str, str] = {
    "group_without_parameter": """
        @typedsvc.http("GET", r"/users/(?P<user_id>\\d+)")
        async def get_user(self, request: web.Request) -> str:
            return ""
    """,
    "parameter_without_group": """
        @typedsvc.http("GET", r"/users")
        async def get_user(self, request: web.Request, user_id: str) -> str:
            return user_id
    """,
    "invalid_regex": """
        @typedsvc.http("GET", r"/search/(?P<q>[^/]+")
        async def search(self, request: web.Request, q: str) -> str:
            return q
    """,
    "unnamed_group": """
        @typedsvc.http("GET", r"/files/([^/]+)")
        async def download(self, request: web.Request) -> str:
            return ""
    """,
    "positional_only_group": """
        @typedsvc.http("GET", r"/users/(?P<user_id>[^/]+)")
        async def get_user(self, request: web.Request, user_id: str, /) -> str:
            return user_id
    """,
    "unsupported_list": """
        @typedsvc.http("GET", r"/users/(?P<ids>[\\d,]+)")
        async def get(self, request: web.Request, ids: list[int]) -> str:
            return ""
    """,
    "unsupported_bytes": """
        @typedsvc.http("GET", r"/users/(?P<raw>[^/]+)")
        async def get(self, request: web.Request, raw: bytes) -> str:
            return ""
    """,
    "unsupported_int_enum": """
        @typedsvc.http("GET", r"/shirts/(?P<size>\\w+)")
        async def get(self, request: web.Request, size: Size) -> str:
            return ""
    """,
    "unsupported_bool": """
        @typedsvc.http("GET", r"/flags/(?P<on>\\w+)")
        async def get(self, request: web.Request, on: bool) -> str:
            return ""
    """,
    "not_async": """
        @typedsvc.http("GET", r"/health")
        def health(self, request: web.Request) -> str:
            return ""
    """,
    "not_async_returning_a_coroutine": """
        @typedsvc.http("GET", r"/health")
        def health(self, request: web.Request) -> Coroutine[Any, Any, str]:
            return self.answer()

        async def answer(self) -> str:
            return ""
    """,
    "no_request": """
        @typedsvc.http("GET", r"/health")
        async def health(self) -> str:
            return ""
    """,
    "error_status_not_an_error": """
        @typedsvc.http_error(200)
        async def oops(self, request: web.Request) -> str:
            return ""
    """,
    # An HTTPStatus is its number, to the plugin as to the runtime.
    "error_status_an_http_status_not_an_error": """
        @typedsvc.http_error(HTTPStatus.OK)
        async def oops(self, request: web.Request) -> str:
            return ""
    """,
    "error_handler_twice_by_http_status": """
        @typedsvc.http_error(HTTPStatus.NOT_FOUND)
        async def first(self, request: web.Request) -> str:
            return ""

        @typedsvc.http_error(404)
        async def second(self, request: web.Request) -> str:
            return ""
    """,
    "error_handler_extra_parameter": """
        @typedsvc.http_error(404)
        async def oops(self, request: web.Request, detail: str) -> str:
            return detail
    """,
    "error_handler_twice": """
        @typedsvc.http_error(404)
        async def first(self, request: web.Request) -> str:
            return ""

        @typedsvc.http_error(404)
        async def second(self, request: web.Request, status_code: int) -> str:
            return ""
    """,
    "static_url_group": """
        @typedsvc.http_static(".", r"/files/(?P<name>[^/]+)")
        async def files(self) -> None:
            pass
    """,
    "static_unnamed_group": """
        @typedsvc.http_static(".", r"/(files|assets)/")
        async def files(self) -> None:
            pass
    """,
    "websocket_group_without_parameter": """
        @typedsvc.websocket(r"/rooms/(?P<room>[^/]+)")
        async def room(self, websocket: web.WebSocketResponse) -> None:
            return None
    """,
    "websocket_parameter_without_group": """
        @typedsvc.websocket(r"/rooms")
        async def room(self, websocket: Socket, request: web.Request, room: str) -> None:
            return None
    """,
    "websocket_not_async": """
        @typedsvc.websocket(r"/rooms")
        def room(self, websocket: web.WebSocketResponse) -> None:
            return None
    """,
    "input_unsupported_type": """
        @typedsvc.http("GET", r"/users")
        async def search(self, request: web.Request, f: typedsvc.Query[dict[str, int]]) -> str:
            return ""
    """,
    # The annotation in the message as mypy writes it, however it was spelled.
    "input_unsupported_typing_dict": """
        @typedsvc.http("GET", r"/users")
        async def search(self, request: web.Request, f: typedsvc.Query[Dict[str, int]]) -> str:
            return ""
    """,
    "input_unsupported_nested_typing_list": """
        @typedsvc.http("GET", r"/users")
        async def search(self, request: web.Request, f: typedsvc.Query[List[List[int]]]) -> str:
            return ""
    """,
    "input_unsupported_abc_mapping": """
        @typedsvc.http("GET", r"/users")
        async def search(self, request: web.Request, f: typedsvc.Query[Mapping[str, int]]) -> str:
            return ""
    """,
    # T | None converts as T: the message names the whole annotation.
    "group_optional_of_what_does_not_convert": """
        @typedsvc.http("GET", r"/users/(?P<user_id>\\d+)")
        async def get_user(self, request: web.Request, user_id: Optional[bytes]) -> str:
            return ""
    """,
    "group_union_of_two": """
        @typedsvc.http("GET", r"/users/(?P<user_id>\\d+)")
        async def get_user(self, request: web.Request, user_id: Union[int, str]) -> str:
            return ""
    """,
    "group_literal": """
        @typedsvc.http("GET", r"/users/(?P<kind>[a-z]+)")
        async def get_user(self, request: web.Request, kind: Literal["a", "b"]) -> str:
            return kind
    """,
    "input_header_list": """
        @typedsvc.http("GET", r"/users")
        async def search(self, request: web.Request, x_tags: typedsvc.Header[list[str]]) -> str:
            return ""
    """,
    "input_cookie_long_form_list": """
        @typedsvc.http("GET", r"/users")
        async def search(
            self, request: web.Request, tags: Annotated[list[str], typedsvc.cookie("t")]
        ) -> str:
            return ""
    """,
    "input_body_on_get": """
        @typedsvc.http(["GET", "HEAD"], r"/users")
        async def search(self, request: web.Request, user: typedsvc.Body[list[int]]) -> str:
            return ""
    """,
    "input_two_bodies": """
        @typedsvc.http("POST", r"/users")
        async def create(
            self, request: web.Request, a: typedsvc.Body[int], b: typedsvc.Body[str]
        ) -> str:
            return ""
    """,
    "input_is_a_group": """
        @typedsvc.http("GET", r"/users/(?P<id>\\d+)")
        async def get(self, request: web.Request, id: typedsvc.Query[int]) -> str:
            return ""
    """,
    "input_one_wire_name_twice": """
        @typedsvc.http("GET", r"/users")
        async def search(
            self,
            request: web.Request,
            page_size: Annotated[int, typedsvc.query("size")] = 1,
            size: typedsvc.Query[int] = 2,
        ) -> str:
            return ""
    """,
    "input_header_names_in_any_case": """
        @typedsvc.http("GET", r"/users")
        async def search(
            self,
            request: web.Request,
            x_id: typedsvc.Header[str],
            other: Annotated[str, typedsvc.header("X-ID")],
        ) -> str:
            return ""
    """,
    "input_optional_literal_list_of_enums_pass_then_fail": """
        @typedsvc.http("GET", r"/users")
        async def search(
            self,
            request: web.Request,
            a: typedsvc.Query[Literal["x", "y"] | None] = None,
            b: typedsvc.Query[list[Color]] = [],
            c: typedsvc.Query[bool] = False,
            d: typedsvc.Query[Literal["x", 1]] = "x",
        ) -> str:
            return ""
    """,
    # A marker inside a union marks nothing: the parameter would never be read.
    "input_marker_inside_a_union": """
        @typedsvc.http("GET", r"/users")
        async def search(self, request: web.Request, n: typedsvc.Query[int] | None = None) -> str:
            return ""
    """,
    "input_marker_inside_optional": """
        @typedsvc.http("GET", r"/users")
        async def search(
            self, request: web.Request, x_id: Optional[typedsvc.Header[str]] = None
        ) -> str:
            return ""
    """,
    # Types in the message as mypy writes them: UserId, not cases.UserId; "...", not Ellipsis.
    "input_unsupported_newtype": """
        @typedsvc.http("GET", r"/users")
        async def search(self, request: web.Request, f: typedsvc.Query[UserId]) -> str:
            return ""
    """,
    "input_unsupported_tuple": """
        @typedsvc.http("GET", r"/users")
        async def search(self, request: web.Request, f: typedsvc.Query[tuple[int, ...]]) -> str:
            return ""
    """,
    # Through an alias or a constant: the plugin reads their definitions, as Python does.
    "input_alias_unsupported_type": """
        @typedsvc.http("GET", r"/users")
        async def search(self, request: web.Request, f: WideQuery = {}) -> str:
            return ""
    """,
    "input_alias_and_constant_one_wire_name_twice": """
        @typedsvc.http("GET", r"/users")
        async def search(
            self,
            request: web.Request,
            limit: IntQuery,
            size: PageSize = 1,
            other: Annotated[int, PAGE] = 2,
        ) -> str:
            return ""
    """,
    "input_alias_inside_a_union": """
        @typedsvc.http("GET", r"/users")
        async def search(self, request: web.Request, limit: IntQuery | None = None) -> str:
            return ""
    """,
    "input_on_websocket": """
        @typedsvc.websocket(r"/rooms")
        async def room(self, websocket: Socket, token: typedsvc.Query[str] = "") -> None:
            return None
    """,
    "input_on_error_handler": """
        @typedsvc.http_error(400)
        async def bad(self, request: web.Request, x_id: typedsvc.Header[str] = "") -> str:
            return ""
    """,
    "duplicate": """
        @typedsvc.http("GET", r"/users")
        async def first(self, request: web.Request) -> str:
            return ""

        @typedsvc.http(["POST", "GET"], r"^/users$")
        async def second(self, request: web.Request) -> str:
            return ""
    """,
}


def class_source(name: str, body: str) -> str:
    return f"class {name}(typedsvc.Service):\n" + textwrap.indent(textwrap.dedent(body), "    ")


def camel(case: str) -> str:
    return "".join(part.title() for part in case.split("_"))


def runtime_message(name: str, body: str) -> str:
    namespace: dict[str, object] = {}
    exec(HEADER, namespace)
    with pytest.raises(typedsvc.DefinitionError) as raised:
        exec(class_source(name, body), namespace)
    return str(raised.value)


def run_mypy(directory: Path, *files: str, cache: Path) -> subprocess.CompletedProcess[str]:
    """Run mypy in this process (so coverage sees the plugin; the mypy command hard-exits)."""
    config = str(directory / "mypy.ini")
    paths = [str(directory / name) for name in files]
    stdout, stderr, status = mypy.api.run(
        ["--config-file", config, "--cache-dir", str(cache), *paths]
    )
    return subprocess.CompletedProcess(["mypy", *paths], status, stdout, stderr)


def plugin_errors(output: str) -> dict[int, str]:
    found: dict[int, str] = {}
    for line in output.splitlines():
        match = re.fullmatch(r"[^:]+:(\d+): error: (.*)  \[typedsvc-url\]", line)
        if match:
            assert int(match[1]) not in found, f"two typedsvc errors on line {match[1]}"
            found[int(match[1])] = match[2]
    return found


@pytest.fixture(scope="module")
def cases_module(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, str]]:
    """One module holding every case; maps the line of each case's last decorator to its case."""
    directory = tmp_path_factory.mktemp("plugin")
    (directory / "mypy.ini").write_text(CONFIG)
    source = HEADER
    lines: dict[int, str] = {}
    for case, body in CASES.items():
        block = "\n\n" + class_source(camel(case), body)
        offset = source.count("\n") + 1
        decorators = [i for i, text in enumerate(block.split("\n")) if "@typedsvc." in text]
        lines[offset + decorators[-1]] = case
        source += block
    (directory / "cases.py").write_text(source)
    return directory, lines


def test_plugin_messages_are_the_runtime_messages(
    cases_module: tuple[Path, dict[int, str]], tmp_path: Path
) -> None:
    directory, lines = cases_module
    result = run_mypy(directory, "cases.py", cache=tmp_path / "cache")
    assert "INTERNAL ERROR" not in result.stdout + result.stderr
    reported = plugin_errors(result.stdout)
    expected = {line: runtime_message(camel(case), CASES[case]) for line, case in lines.items()}
    assert reported == expected


def test_plugin_output_is_the_same_from_cache(
    cases_module: tuple[Path, dict[int, str]], tmp_path: Path
) -> None:
    directory, _ = cases_module
    cache = tmp_path / "cache"
    cold = run_mypy(directory, "cases.py", cache=cache)
    warm = run_mypy(directory, "cases.py", cache=cache)
    assert plugin_errors(cold.stdout)
    assert (warm.returncode, warm.stdout) == (cold.returncode, cold.stdout)


def test_plugin_sees_a_stored_decorator_from_a_cached_module(tmp_path: Path) -> None:
    (tmp_path / "mypy.ini").write_text(CONFIG)
    (tmp_path / "routes.py").write_text(
        'import typedsvc\n\nget_user = typedsvc.http("GET", r"/users/(?P<user_id>\\d+)")\n'
    )
    service = tmp_path / "service.py"
    service.write_text(
        "from aiohttp import web\n\nimport typedsvc\nfrom routes import get_user\n\n\n"
        + class_source(
            "Users", '@get_user\nasync def get(self, request: web.Request) -> str:\n    return ""\n'
        )
    )
    cache = tmp_path / "cache"
    first = run_mypy(tmp_path, "service.py", cache=cache)
    # Only service.py changes: routes.py now comes from the cache.
    service.write_text(service.read_text() + "\n# changed\n")
    second = run_mypy(tmp_path, "service.py", cache=cache)
    expected = {
        8: '"Users.get": url group "user_id" in r"/users/(?P<user_id>\\d+)" has no matching '
        'parameter; add a parameter named "user_id" or rename the group.'
    }
    assert plugin_errors(first.stdout) == expected
    assert plugin_errors(second.stdout) == expected


def test_plugin_works_under_dmypy(
    cases_module: tuple[Path, dict[int, str]], tmp_path: Path
) -> None:
    directory, lines = cases_module
    status = str(tmp_path / "dmypy.json")
    daemon = ("-m", "mypy.dmypy", "--status-file", status)

    def check() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *daemon, "run", "--", "--config-file", "mypy.ini", "cases.py"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )

    try:
        # Unchanged, then after an edit (at the end, so that no line moves): the daemon
        # checks the module again, keeping the handlers' nodes.
        runs = [check(), check()]
        cases = directory / "cases.py"
        cases.write_text(cases.read_text() + "\n\ndef edited() -> int:\n    return 1\n")
        runs.append(check())
    finally:
        subprocess.run(
            [sys.executable, *daemon, "kill"],
            cwd=directory,
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    for run in runs:
        assert set(plugin_errors(run.stdout)) == set(lines), run.stdout + run.stderr


ODD_INPUT = """\
from __future__ import annotations

from typing import Any

from aiohttp import web

import typedsvc


def prefix() -> str:
    return "/v1"


async def handler(self: Any, request: web.Request) -> str:
    return ""


# Applied as a plain call, outside any class.
direct = typedsvc.http("GET", r"/direct/(?P<x>[^/]+)")(handler)
decorators = [typedsvc.http("GET", r"/one"), typedsvc.http("GET", r"/two")]
options: dict[str, Any] = {"ignore_logging": True}
method: Any = "GET"


class NotAService:
    @typedsvc.http("GET", r"/a/(?P<x>[^/]+)")
    async def a(self, request: web.Request) -> str:
        return ""


class Odd(typedsvc.Service):
    @typedsvc.http("GET", f"{prefix()}/users")
    async def f_string(self, request: web.Request, missing: str) -> str:
        return ""

    @decorators[0]
    async def from_a_list(self, request: web.Request) -> str:
        return ""

    @typedsvc.http(method, r"/b", **options)
    async def unknown_method(self, request: web.Request) -> str:
        return ""

    @typedsvc.http(*["GET", r"/c"])
    async def star_args(self, request: web.Request) -> str:
        return ""
"""


def test_plugin_never_crashes_on_odd_input(tmp_path: Path) -> None:
    (tmp_path / "mypy.ini").write_text(CONFIG)
    (tmp_path / "odd.py").write_text(ODD_INPUT)
    result = run_mypy(tmp_path, "odd.py", cache=tmp_path / "cache")
    output = result.stdout + result.stderr
    assert "INTERNAL ERROR" not in output
    assert "Traceback" not in output
    assert result.returncode == 1
    assert plugin_errors(result.stdout) == {}
    assert "[typedsvc-url-literal]" in result.stdout


URL_FOR_SHOP = """\
from __future__ import annotations

import enum
from typing import Literal

from aiohttp import web

import typedsvc
from typedsvc import Query, url_for


class Color(enum.Enum):
    RED = "red"


class Shop(typedsvc.Service):
    @typedsvc.http("GET", r"/items/(?P<item_id>\\d+)")
    async def get_item(self, request: web.Request, item_id: int, q: Query[str] = "") -> str:
        # A handler further down: its decorator is checked after this call.
        return url_for(Shop.later, key=1)

    @typedsvc.http("GET", r"/later/(?P<key>\\w+)")
    async def later(self, request: web.Request, key: str) -> str:
        return key

    @typedsvc.http("GET", r"/search")
    async def search(self, request: web.Request, q: Query[str]) -> str:
        return q

    @typedsvc.http("GET", r"/api/(?:v1|v2)/items")
    async def items(self, request: web.Request) -> str:
        return ""

    async def helper(self, request: web.Request) -> str:
        return ""

    @typedsvc.http("GET", r"/filter")
    async def filter(
        self,
        request: web.Request,
        tag: Query[list[str]] = [],
        color: Query[Color | None] = None,
        mode: Query[Literal["a", "b"]] = "a",
    ) -> str:
        return ""
"""
URL_FOR_CALLS = [
    # Types the route cannot take, written as mypy writes them.
    "url_for(Shop.filter, tag='a')",
    "url_for(Shop.filter, tag=[1])",
    "url_for(Shop.filter, color='red')",
    "url_for(Shop.filter, mode='c')",
    # A bool is an int to mypy, but not to a route.
    "url_for(Shop.get_item, item_id=True)",
    "url_for(Shop.get_item, 1, itemid=1)",
    "url_for(Shop.get_item, q='x')",
    "url_for(Shop.search)",
    "url_for(Shop.helper)",
    "url_for(Shop.items)",
    "url_for(Shop.get_item, item_id='1')",
    "url_for(Shop.get_item, 1, 2)",
    "url_for(Shop.get_item, 1, 'x', 3)",
]


def url_for_errors(output: str) -> dict[tuple[str, int], str]:
    found: dict[tuple[str, int], str] = {}
    for line in output.splitlines():
        match = re.fullmatch(r"([^:]+):(\d+): error: (.*)  \[typedsvc-url-for\]", line)
        if match:
            key = (Path(match[1]).name, int(match[2]))
            assert key not in found, f"two url_for errors on line {key}"
            found[key] = match[3]
    return found


def test_plugin_url_for_messages_are_the_runtime_messages(tmp_path: Path) -> None:
    (tmp_path / "mypy.ini").write_text(CONFIG)
    (tmp_path / "shop.py").write_text(URL_FOR_SHOP)
    calls = "from typing import Any\n\nfrom shop import Shop\nfrom typedsvc import url_for\n\n"
    lines: dict[int, str] = {}
    for number, call in enumerate(URL_FOR_CALLS):
        calls += f"\n\ndef call_{number}() -> Any:\n    return {call}\n"
        lines[calls.count("\n")] = call
    (tmp_path / "calls.py").write_text(calls)
    namespace: dict[str, Any] = {}
    exec(compile(URL_FOR_SHOP, str(tmp_path / "shop.py"), "exec"), namespace)
    expected = {("calls.py", line): _raised(call, namespace) for line, call in lines.items()}
    later = URL_FOR_SHOP.split("\n").index("        return url_for(Shop.later, key=1)") + 1
    expected[("shop.py", later)] = _raised("url_for(Shop.later, key=1)", namespace)
    cache = tmp_path / "cache"
    cold = run_mypy(tmp_path, "shop.py", "calls.py", cache=cache)
    assert url_for_errors(cold.stdout) == expected
    # calls.py changes alone: shop.py and its routes come from the cache.
    (tmp_path / "calls.py").write_text(calls + "\n# changed\n")
    warm = run_mypy(tmp_path, "shop.py", "calls.py", cache=cache)
    assert url_for_errors(warm.stdout) == expected


def _raised(call: str, namespace: dict[str, Any]) -> str:
    with pytest.raises((TypeError, ValueError)) as raised:
        eval(call, namespace)
    return str(raised.value)
