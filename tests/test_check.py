"""``typedsvc check`` and ``typedsvc routes`` as real subprocesses."""

from __future__ import annotations

import json
import shlex
import sys
import textwrap
from pathlib import Path
from typing import Final

import yaml
from served import write
from test_cli import run_cli

from typedsvc._errors import (
    duplicate_route,
    error_handler_not_async,
    group_and_parameter_apart,
    group_without_parameter,
    static_directory_missing,
)

MISTAKES: Final = r"""
    from aiohttp import web

    import typedsvc


    class Shop(typedsvc.Service):
        options = 3

        @typedsvc.http("GET", r"/items/(?P<item_id>\d+)")
        async def get_item(self, request: web.Request, itemid: int) -> str:
            return ""

        @typedsvc.http("GET", r"/x/(?P<a>\d+)/(?P<b>\d+)")
        async def two(self, request: web.Request) -> str:
            return ""

        @typedsvc.http("GET", r"/health")
        async def health(self, request: web.Request) -> str:
            return ""

        @typedsvc.http("GET", r"/health")
        async def health_again(self, request: web.Request) -> str:
            return ""

        @typedsvc.http_error(404)
        def not_found(self, request: web.Request) -> str:
            return ""

        @typedsvc.websocket(r"/ws/(?P<room>\w+)")
        async def chat(self, websocket: web.WebSocketResponse) -> None:
            pass

        @typedsvc.http_static("no-such-directory", r"/static/")
        async def files(self) -> None:
            pass


    # The routes with mistakes are left out; the rest of the module still runs.
    assert [spec.where for _, spec in typedsvc._service.routes_of(Shop).routes] == [
        "Shop.health"
    ]
"""

ROOT: Final = Path(__file__).resolve().parent.parent
FINE: Final = r"""
    import uuid
    from typing import Annotated, Literal

    from aiohttp import web

    import typedsvc
    from typedsvc import Body, Cookie, Header, Query


    class Shop(typedsvc.Service):
        @typedsvc.http("GET", r"/items/(?P<item_id>\d+)")
        async def get_item(
            self,
            request: web.Request,
            item_id: int,
            x_token: Header[str],
            session: Cookie[str | None] = None,
        ) -> str:
            return ""

        @typedsvc.http(["PUT", "POST"], r"/things/(?P<key>[0-9a-f-]+)")
        async def put_thing(
            self,
            request: web.Request,
            key: uuid.UUID,
            body: Body[dict[str, int]],
            sort: Query[Literal["a", "b"]] = "a",
            page_size: Annotated[int, typedsvc.query("page-size")] = 10,
        ) -> str:
            return ""

        @typedsvc.http("GET", r"/a|/b")
        async def either(self, request: web.Request) -> str:
            return ""

        @typedsvc.websocket(r"/ws")
        async def chat(self, websocket: web.WebSocketResponse) -> None:
            pass
"""


def test_check_reports_every_problem_with_file_and_line(tmp_path: Path) -> None:
    write(tmp_path / "shop.py", MISTAKES)
    result = run_cli("check", "shop.py", cwd=tmp_path)
    url = r"/x/(?P<a>\d+)/(?P<b>\d+)"
    assert result.stdout.splitlines() == [
        'shop.py:7: "Shop.options" must be a typedsvc.Options, got int; write '
        "options = Options(http=HttpOptions(...)).",
        "shop.py:10: "
        + group_and_parameter_apart(
            "Shop.get_item", r"/items/(?P<item_id>\d+)", "item_id", "itemid"
        ),
        "shop.py:14: " + group_without_parameter("Shop.two", url, "a"),
        "shop.py:14: " + group_without_parameter("Shop.two", url, "b"),
        "shop.py:22: " + duplicate_route("Shop.health_again", "/health", "GET", "Shop.health"),
        "shop.py:26: " + error_handler_not_async("Shop.not_found", 404),
        "shop.py:30: " + group_without_parameter("Shop.chat", r"/ws/(?P<room>\w+)", "room"),
        "shop.py:34: "
        + static_directory_missing("Shop.files", "/static/", str(tmp_path / "no-such-directory")),
        "typedsvc: 1 service in 1 file or module: 8 problems.",
    ]
    assert result.returncode == 2
    assert result.stderr == ""


def test_check_reports_the_line_of_the_decorator_mypy_reports(tmp_path: Path) -> None:
    # Not the first decorator's line, nor the def's in a wrapper's module.
    write(
        tmp_path / "wrapping.py",
        """
        import functools


        def logged(func):
            @functools.wraps(func)
            async def wrapper(*args, **kwargs):
                return await func(*args, **kwargs)

            return wrapper


        def tag(func):
            return func
        """,
    )
    write(
        tmp_path / "shop.py",
        r"""
        from aiohttp import web

        import typedsvc
        from wrapping import logged, tag


        class Shop(typedsvc.Service):
            @tag
            @typedsvc.http(
                "GET", r"/items/(?P<item_id>\d+)"
            )
            @logged
            async def get_item(self, request: web.Request) -> str:
                return ""
        """,
    )
    result = run_cli("check", "shop.py", cwd=tmp_path)
    assert result.stdout.splitlines() == [
        "shop.py:10: "
        + group_without_parameter("Shop.get_item", r"/items/(?P<item_id>\d+)", "item_id"),
        "typedsvc: 1 service in 1 file or module: 1 problem.",
    ]


def test_check_passes_files_without_services_and_modules(tmp_path: Path) -> None:
    write(tmp_path / "shop.py", FINE)
    write(tmp_path / "helpers.py", "VALUE = 1\n")
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "api.py", FINE)
    result = run_cli("check", "shop.py", "helpers.py", "pkg.api", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "typedsvc: 2 services in 3 files or modules: no problems.\n",
        "",
    )


def test_check_reports_what_fails_to_import_and_checks_the_rest(tmp_path: Path) -> None:
    write(tmp_path / "shop.py", MISTAKES)
    write(tmp_path / "broken.py", "import typedsvc\n\nraise RuntimeError('no database')\n")
    result = run_cli("check", "broken.py", "missing", "shop.py", cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert lines[-3:] == [
        'typedsvc: error: importing "broken.py" failed: RuntimeError: no database '
        f'("{tmp_path / "broken.py"}", line 3).',
        'typedsvc: error: cannot find "missing": no such file, and no module of that name.',
        "typedsvc: 1 service in 3 files or modules: 8 problems, 2 failed to import.",
    ]
    assert len(lines) == 11
    assert result.returncode == 2


def test_check_names_the_users_line_when_typedsvc_raises_at_import(tmp_path: Path) -> None:
    source = textwrap.dedent(FINE) + "\n\ntypedsvc.url_for(Shop.get_item, item_id=-1)\n"
    write(tmp_path / "shop.py", source)
    result = run_cli("check", "shop.py", cwd=tmp_path)
    written = (tmp_path / "shop.py").read_text().splitlines()
    line = written.index("typedsvc.url_for(Shop.get_item, item_id=-1)") + 1
    assert result.stdout.splitlines()[0] == (
        'typedsvc: error: importing "shop.py" failed: ValueError: "Shop.get_item": url_for() '
        'value \'-1\' of url group "item_id" does not match its pattern r"\\d+". '
        f'("{tmp_path / "shop.py"}", line {line}).'
    )


def test_routes_lists_each_route_with_its_parameters(tmp_path: Path) -> None:
    write(tmp_path / "shop.py", FINE)
    result = run_cli("routes", "shop.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["METHOD", "URL", "HANDLER", "PARAMETERS", "URL_FOR"]
    assert [row.split("  ")[0].strip() for row in rows] == ["GET", "PUT,POST", "GET", "WS"]
    columns = [header.index(name) for name in ("URL", "HANDLER", "PARAMETERS", "URL_FOR")]
    cells = [
        [row[start:end].strip() for start, end in zip([0, *columns], [*columns, None], strict=True)]
        for row in rows
    ]
    assert cells == [
        [
            "GET",
            r"/items/(?P<item_id>\d+)",
            "Shop.get_item",
            'item_id: int (path), x_token: str (header "X-Token"), session?: str | None (cookie)',
            "yes",
        ],
        [
            "PUT,POST",
            r"/things/(?P<key>[0-9a-f-]+)",
            "Shop.put_thing",
            "key: UUID (path), body: dict[str, int] (body), sort?: Literal['a', 'b'] (query), "
            'page_size?: int (query "page-size")',
            "yes",
        ],
        ["GET", "/a|/b", "Shop.either", "-", "no: it has an alternation outside its groups"],
        ["WS", "/ws", "Shop.chat", "-", "no: a websocket route"],
    ]


def test_routes_json_is_for_machines(tmp_path: Path) -> None:
    write(tmp_path / "shop.py", FINE)
    result = run_cli("routes", "shop.py", "--json", cwd=tmp_path)
    rows = json.loads(result.stdout)
    assert rows[0] == {
        "service": "Shop",
        "kind": "http",
        "methods": ["GET"],
        "url": r"/items/(?P<item_id>\d+)",
        "handler": "Shop.get_item",
        "parameters": [
            {
                "name": "item_id",
                "source": "path",
                "wire_name": "item_id",
                "type": "int",
                "required": True,
            },
            {
                "name": "x_token",
                "source": "header",
                "wire_name": "X-Token",
                "type": "str",
                "required": True,
            },
            {
                "name": "session",
                "source": "cookie",
                "wire_name": "session",
                "type": "str | None",
                "required": False,
            },
        ],
        "not_reversible": None,
    }
    assert [(row["kind"], row["not_reversible"]) for row in rows] == [
        ("http", None),
        ("http", None),
        ("http", "it has an alternation outside its groups"),
        ("websocket", "a websocket route"),
    ]


def test_routes_of_a_file_without_services_exits_2(tmp_path: Path) -> None:
    write(tmp_path / "helpers.py", "VALUE = 1\n")
    result = run_cli("routes", "helpers.py", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (
        2,
        "",
        'typedsvc: error: "helpers.py" defines no typedsvc.Service subclass.\n',
    )


def test_pre_commit_hook_runs_typedsvc_check(tmp_path: Path) -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (hook,) = hooks
    assert (hook["id"], hook["pass_filenames"]) == ("typedsvc-check", False)
    # As pre-commit runs it: the entry, then the hook's args, in the project's environment.
    entry = shlex.split(hook["entry"])
    assert entry[0] == "typedsvc"
    command = [str(Path(sys.executable).parent / entry[0]), *entry[1:]]
    write(tmp_path / "shop.py", MISTAKES)
    failing = run_cli("shop.py", cwd=tmp_path, command=command)
    assert (failing.returncode, failing.stdout.splitlines()[-1]) == (
        2,
        "typedsvc: 1 service in 1 file or module: 8 problems.",
    )
    write(tmp_path / "shop.py", FINE)
    assert run_cli("shop.py", cwd=tmp_path, command=command).returncode == 0
