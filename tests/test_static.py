"""http_static: definition errors at import, and files served on 127.0.0.1, never one outside."""

# Classes defined inside tests exist for the error their class body raises.
# pyright: reportUnusedClass=false

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import re
import socket
import struct
from pathlib import Path

import pytest
from aiohttp import web
from conftest import Client, MakeClient

import typedsvc
from typedsvc import DefinitionError
from typedsvc._service import routes_of
from typedsvc._specs import StaticSpec

NOT_FOUND: bytes = b"404: Not Found"


def raises(message: str) -> pytest.RaisesExc[DefinitionError]:
    return pytest.raises(DefinitionError, match=f"^{re.escape(message)}$")


def static_spec(cls: type[typedsvc.Service]) -> StaticSpec:
    """The spec the class's only route recorded."""
    [(_, spec)] = routes_of(cls).routes
    assert isinstance(spec, StaticSpec)
    return spec


@pytest.fixture
def public(tmp_path: Path) -> Path:
    """A directory to serve, with secrets beside it and links out of it."""
    (tmp_path / "secret.txt").write_text("SECRET beside the directory")
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "secret.txt").write_text("SECRET in another directory")
    directory = tmp_path / "public"
    files = {
        "a.txt": "alpha",
        "a.css": "body { color: red }",
        "a.json": '{"a": 1}',
        "foo.txt": "foo",
        "a b.txt": "with a space",
        "100%.txt": "with a percent sign",
        "café.txt": "served as café",
        # On Windows a backslash separates directories; here it is only a character.
        "back\\slash.txt": "with a backslash",
        ".env": "dotfile",
        ".git/config": "in a dot-directory",
        "sub/b.txt": "beta",
    }
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    os.symlink(directory / "a.txt", directory / "inside-link")
    os.symlink(tmp_path / "secret.txt", directory / "outside-link")
    os.symlink(tmp_path / "private", directory / "outside-dir")
    os.symlink(directory / "loop", directory / "loop")
    return directory


def site(directory: Path, *, serve_dotfiles: bool = False) -> typedsvc.Service:
    class Site(typedsvc.Service):
        @typedsvc.http_static(directory, r"/public", serve_dotfiles=serve_dotfiles)
        async def files(self) -> None: ...

        @typedsvc.http_static(str(directory), r"/files/(?P<filename>[^/]+\.txt)")
        async def text_files(self) -> None: ...

    return Site()


async def raw_request(client: Client, target: str, method: str = "GET") -> tuple[int, bytes]:
    """Send ``target`` as written: aiohttp's client would normalise "..", "%2e" and backslashes."""
    assert client.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    try:
        request = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        writer.write(request.encode())
        response = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


# Definition errors ---------------------------------------------------------------------


def test_http_static_returns_the_same_function(tmp_path: Path) -> None:
    async def files(self: typedsvc.Service) -> None: ...

    assert typedsvc.http_static(tmp_path, r"/public")(files) is files


@pytest.mark.parametrize("path", [pytest.param("", id="empty"), pytest.param("/", id="root")])
def test_http_static_refuses_the_file_system_root(path: str) -> None:
    with raises(
        f'"Site.files": http_static directory "{path}" for r"/public" would serve the whole '
        "file system; name the directory that holds the files."
    ):

        class Site(typedsvc.Service):
            @typedsvc.http_static(path, r"/public")
            async def files(self) -> None: ...


@pytest.mark.parametrize("path", ["/..", "//", "/.", "/tmp/.."])
def test_http_static_refuses_a_path_that_resolves_to_the_root(path: str) -> None:
    with raises(
        f'"Site.files": http_static directory "{path}" for r"/public" would serve the whole '
        "file system; name the directory that holds the files."
    ):

        class Site(typedsvc.Service):
            @typedsvc.http_static(path, r"/public")
            async def files(self) -> None: ...


def missing_message(directory: Path) -> str:
    return (
        f'"Site.files": http_static directory "{directory}" for r"/public" does not exist or is '
        "not a directory; create it or fix the path (relative paths start at the service's file)."
    )


def test_http_static_refuses_a_missing_directory(tmp_path: Path) -> None:
    with raises(missing_message((tmp_path / "missing").resolve())):

        class Site(typedsvc.Service):
            @typedsvc.http_static(tmp_path / "missing", r"/public")
            async def files(self) -> None: ...


def test_http_static_missing_relative_directory_names_its_absolute_path() -> None:
    with raises(missing_message((Path(__file__).parent / "no-such-dir").resolve())):

        class Site(typedsvc.Service):
            @typedsvc.http_static("no-such-dir", r"/public")
            async def files(self) -> None: ...


def test_http_static_refuses_a_file_as_directory(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("not a directory")
    with raises(missing_message((tmp_path / "file.txt").resolve())):

        class Site(typedsvc.Service):
            @typedsvc.http_static(tmp_path / "file.txt", r"/public")
            async def files(self) -> None: ...


@pytest.mark.parametrize(
    ("url", "message"),
    [
        pytest.param(
            r"/public/(",
            '"Site.files": url r"/public/(" is not a valid regular expression: '
            "missing ), unterminated subpattern at position 8.",
            id="invalid-regex",
        ),
        pytest.param(
            r"/files/(?P<name>[^/]+)",
            '"Site.files": http_static url r"/files/(?P<name>[^/]+)" has the group "name"; '
            "only (?P<filename>...) may name a part of it, the file.",
            id="group-other-than-filename",
        ),
        pytest.param(
            r"/files/([^/]+)",
            '"Site.files": url r"/files/([^/]+)" has an unnamed group; '
            "write (?P<name>...) or make it non-capturing with (?:...).",
            id="unnamed-group",
        ),
    ],
)
def test_http_static_refuses_a_bad_url(tmp_path: Path, url: str, message: str) -> None:
    with raises(message):

        class Site(typedsvc.Service):
            @typedsvc.http_static(tmp_path, url)  # type: ignore[typedsvc-url-literal]
            async def files(self) -> None: ...


def test_http_static_refuses_the_same_url_twice(tmp_path: Path) -> None:
    with raises(
        '"Site.again": route GET r"/public" is already handled by "Site.files"; '
        "remove one of them or change its url."
    ):

        class Site(typedsvc.Service):
            @typedsvc.http_static(tmp_path, r"/public")
            async def files(self) -> None: ...

            @typedsvc.http_static(tmp_path, r"/public")  # type: ignore[typedsvc-url]
            async def again(self) -> None: ...


def test_http_static_refuses_the_url_of_an_earlier_get_route(tmp_path: Path) -> None:
    with raises(
        '"Site.files": route GET r"/public" is already handled by "Site.page"; '
        "remove one of them or change its url."
    ):

        class Site(typedsvc.Service):
            @typedsvc.http("GET", r"/public")
            async def page(self, request: web.Request) -> str:
                return "page"

            @typedsvc.http_static(tmp_path, r"/public")  # type: ignore[typedsvc-url]
            async def files(self) -> None: ...


def test_http_static_url_refuses_a_later_get_route(tmp_path: Path) -> None:
    with raises(
        '"Site.page": route GET r"/public" is already handled by "Site.files"; '
        "remove one of them or change its url."
    ):

        class Site(typedsvc.Service):
            @typedsvc.http_static(tmp_path, r"/public")
            async def files(self) -> None: ...

            @typedsvc.http("GET", r"/public")  # type: ignore[typedsvc-url]
            async def page(self, request: web.Request) -> str:
                return "page"


# Where the directory is ----------------------------------------------------------------


def test_http_static_absolute_directory_is_resolved(tmp_path: Path) -> None:
    (tmp_path / "public").mkdir()

    class Site(typedsvc.Service):
        @typedsvc.http_static(tmp_path / "public" / ".." / "public", r"/public")
        async def files(self) -> None: ...

    assert static_spec(Site).directory == (tmp_path / "public").resolve()


def test_http_static_relative_directory_starts_at_the_defining_file() -> None:
    class Site(typedsvc.Service):
        @typedsvc.http_static(".", r"/tests")
        async def files(self) -> None: ...

    assert static_spec(Site).directory == Path(__file__).resolve().parent


SERVICE_MODULE = """
import typedsvc


class Assets(typedsvc.Service):
    @typedsvc.http_static("assets", r"/assets")
    async def assets(self) -> None: ...
"""


async def test_http_static_relative_directory_of_an_imported_module(
    serve: MakeClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "x.txt").write_text("beside the module")
    (tmp_path / "module.py").write_text(SERVICE_MODULE)
    # Somewhere without an "assets" directory: the path must not start at the working directory.
    monkeypatch.chdir(tmp_path / "assets")
    spec = importlib.util.spec_from_file_location("typedsvc_static_assets", tmp_path / "module.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cls: type[typedsvc.Service] = module.Assets
    assert static_spec(cls).directory == (tmp_path / "assets").resolve()
    client = await serve(cls())
    response = await client.get("/assets/x.txt")
    assert (response.status, await response.text()) == (200, "beside the module")


def test_http_static_relative_directory_without_a_source_file_starts_at_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "assets").mkdir()
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(SERVICE_MODULE, "<generated>", "exec"), namespace)
    cls = namespace["Assets"]
    assert isinstance(cls, type)
    assert issubclass(cls, typedsvc.Service)
    assert static_spec(cls).directory == (tmp_path / "assets").resolve()


# Serving -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "body"),
    [
        pytest.param("/public/a.txt", b"alpha", id="file"),
        pytest.param("/public/sub/b.txt", b"beta", id="nested-file"),
        pytest.param("/public/inside-link", b"alpha", id="symlink-to-a-file-inside"),
        pytest.param("/public/a%20b.txt", b"with a space", id="encoded-space"),
        pytest.param("/public/100%25.txt", b"with a percent sign", id="encoded-percent"),
        pytest.param("/public/caf%C3%A9.txt", "served as café".encode(), id="utf8"),
        pytest.param("/public/foo.txt?x=/../secret.txt", b"foo", id="query-string-ignored"),
        pytest.param("/files/a.txt", b"alpha", id="filename-group"),
    ],
)
async def test_http_static_serves_files(
    serve: MakeClient, public: Path, target: str, body: bytes
) -> None:
    client = await serve(site(public))
    assert await raw_request(client, target) == (200, body)


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("/public/../secret.txt", id="dotdot"),
        pytest.param("/public/sub/../../secret.txt", id="dotdot-in-the-middle"),
        pytest.param("/public/sub/../a.txt", id="dotdot-staying-inside"),
        pytest.param("/public/sub/..", id="dotdot-at-the-end"),
        pytest.param("/public/..", id="dotdot-alone"),
        pytest.param("/public/./a.txt", id="dot-segment"),
        pytest.param("/public/%2e%2e/secret.txt", id="encoded-dotdot"),
        pytest.param("/public/%2E%2E/secret.txt", id="encoded-dotdot-upper-case"),
        pytest.param("/public/.%2e/secret.txt", id="half-encoded-dotdot"),
        pytest.param("/public/sub/%2e%2e/a.txt", id="encoded-dotdot-staying-inside"),
        pytest.param("/public/%2e%2e%2fsecret.txt", id="encoded-dotdot-and-slash"),
        pytest.param("/public/sub/..%2f..%2fsecret.txt", id="dotdot-encoded-slash"),
        pytest.param("/public/sub%2fb.txt", id="encoded-slash-in-a-name"),
        pytest.param("/public/sub%2Fb.txt", id="encoded-slash-upper-case"),
        pytest.param("/public/back%5cslash.txt", id="encoded-backslash"),
        pytest.param("/public/sub%5Cb.txt", id="encoded-backslash-as-separator"),
        pytest.param("/public/back\\slash.txt", id="backslash"),
        pytest.param("/public/sub\\b.txt", id="backslash-as-separator"),
        pytest.param("/public/..\\secret.txt", id="dotdot-backslash"),
        pytest.param("/public/a.txt%00", id="encoded-nul"),
        pytest.param("/public/a.txt%00.css", id="encoded-nul-before-extension"),
        pytest.param("/public//etc/passwd", id="absolute-path"),
        pytest.param("/public/%2fetc%2fpasswd", id="encoded-absolute-path"),
        pytest.param("/public/outside-link", id="symlink-to-a-file-outside"),
        pytest.param("/public/outside-dir/secret.txt", id="symlink-to-a-directory-outside"),
        pytest.param("/public/loop", id="symlink-loop"),
        pytest.param("/public/sub", id="directory"),
        pytest.param("/public/sub/", id="directory-with-slash"),
        pytest.param("/public", id="base-url"),
        pytest.param("/public/", id="base-url-with-slash"),
        pytest.param("/public/.env", id="dotfile"),
        pytest.param("/public/.git/config", id="file-in-a-dot-directory"),
        pytest.param("/public/missing.txt", id="missing-file"),
        pytest.param("/files/a.css", id="filename-group-no-match"),
        pytest.param("/files/sub/b.txt", id="filename-group-no-slash"),
        pytest.param("/files/..%2fsecret.txt", id="filename-group-encoded-slash"),
        pytest.param("/files/%2e%2e%2fsecret.txt", id="filename-group-encoded-dotdot"),
    ],
)
async def test_http_static_refuses_traversal(serve: MakeClient, public: Path, target: str) -> None:
    client = await serve(site(public))
    assert await raw_request(client, target) == (404, NOT_FOUND)


async def test_http_static_nul_byte_is_refused_before_routing(
    serve: MakeClient, public: Path
) -> None:
    # aiohttp's parser answers 400 for a raw NUL in the path; typedsvc never sees it.
    client = await serve(site(public))
    status, body = await raw_request(client, "/public/a.txt\x00")
    assert status == 400
    assert b"alpha" not in body


async def test_http_static_base_url_is_a_directory_boundary(
    serve: MakeClient, public: Path
) -> None:
    client = await serve(site(public))
    outside = await client.get("/publicfoo.txt")
    inside = await client.get("/public/foo.txt")
    assert (outside.status, await outside.read()) == (404, NOT_FOUND)
    assert (inside.status, await inside.text()) == (200, "foo")


@pytest.mark.parametrize(
    ("target", "status", "body"),
    [
        pytest.param("/public/.env", 200, b"dotfile", id="dotfile"),
        pytest.param("/public/.git/config", 200, b"in a dot-directory", id="dot-directory"),
        pytest.param("/public/../secret.txt", 404, NOT_FOUND, id="dotdot"),
        pytest.param("/public/%2e%2e/secret.txt", 404, NOT_FOUND, id="encoded-dotdot"),
        pytest.param("/public/sub/..", 404, NOT_FOUND, id="dotdot-at-the-end"),
        pytest.param("/public/./a.txt", 404, NOT_FOUND, id="dot-segment"),
    ],
)
async def test_http_static_serve_dotfiles(
    serve: MakeClient, public: Path, target: str, status: int, body: bytes
) -> None:
    client = await serve(site(public, serve_dotfiles=True))
    assert await raw_request(client, target) == (status, body)


# Responses -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        pytest.param("a.css", "text/css", id="css"),
        pytest.param("a.json", "application/json", id="json"),
        pytest.param("a.txt", "text/plain", id="txt"),
    ],
)
async def test_http_static_response_headers(
    serve: MakeClient, public: Path, name: str, content_type: str
) -> None:
    client = await serve(site(public))
    response = await client.get(f"/public/{name}")
    assert response.status == 200
    assert await response.read() == (public / name).read_bytes()
    assert response.content_type == content_type
    assert response.headers["ETag"]
    assert response.headers["Last-Modified"]
    assert response.headers["Server"] == "typedsvc"


async def test_http_static_range_is_206(serve: MakeClient, public: Path) -> None:
    client = await serve(site(public))
    response = await client.get("/public/a.txt", headers={"Range": "bytes=1-3"})
    assert (response.status, await response.read()) == (206, b"lph")
    assert response.headers["Content-Range"] == "bytes 1-3/5"
    assert response.headers["Server"] == "typedsvc"


async def test_http_static_if_none_match_is_304(serve: MakeClient, public: Path) -> None:
    client = await serve(site(public))
    first = await client.get("/public/a.txt")
    again = await client.get("/public/a.txt", headers={"If-None-Match": first.headers["ETag"]})
    assert (again.status, await again.read()) == (304, b"")
    assert again.headers["Server"] == "typedsvc"


async def test_http_static_head_has_length_and_no_body(serve: MakeClient, public: Path) -> None:
    client = await serve(site(public))
    response = await client.head("/public/a.txt")
    assert (response.status, await response.read()) == (200, b"")
    assert response.headers["Content-Length"] == "5"
    assert response.headers["Server"] == "typedsvc"


async def test_http_static_other_method_is_405(serve: MakeClient, public: Path) -> None:
    client = await serve(site(public))
    response = await client.post("/public/a.txt")
    assert response.status == 405
    assert response.headers["Allow"] == "GET,HEAD"
    assert response.headers["Server"] == "typedsvc"


def site_with_error_handlers(directory: Path) -> typedsvc.Service:
    class Site(typedsvc.Service):
        @typedsvc.http_static(directory, r"/public")
        async def files(self) -> None: ...

        @typedsvc.http_error(404)
        async def not_found(self, request: web.Request) -> str:
            return "no such file"

        @typedsvc.http_error(405)
        async def not_allowed(self, request: web.Request, status_code: int) -> str:
            return f"{status_code}: read only"

    return Site()


@pytest.mark.parametrize(
    ("method", "target", "status", "body"),
    [
        pytest.param("GET", "/public/missing.txt", 404, b"no such file", id="missing-file"),
        pytest.param("GET", "/public/%2e%2e/secret.txt", 404, b"no such file", id="traversal"),
        pytest.param("GET", "/public/.env", 404, b"no such file", id="dotfile"),
        pytest.param("GET", "/publicfoo.txt", 404, b"no such file", id="no-route"),
        pytest.param("POST", "/public/a.txt", 405, b"405: read only", id="other-method"),
    ],
)
async def test_http_static_errors_go_to_error_handlers(
    serve: MakeClient, public: Path, method: str, target: str, status: int, body: bytes
) -> None:
    client = await serve(site_with_error_handlers(public))
    assert await raw_request(client, target, method) == (status, body)


async def test_http_static_error_handler_405_keeps_allow(serve: MakeClient, public: Path) -> None:
    client = await serve(site_with_error_handlers(public))
    response = await client.post("/public/a.txt")
    assert (response.status, await response.text()) == (405, "405: read only")
    assert response.headers["Allow"] == "GET,HEAD"
    assert response.headers["Server"] == "typedsvc"


async def test_http_static_decodes_a_file_name_once(serve: MakeClient, public: Path) -> None:
    (public / "%41.txt").write_text("literal percent name")
    (public / "A.txt").write_text("decoded twice")
    client = await serve(site(public))
    assert await raw_request(client, "/public/%%34%31.txt") == (200, b"literal percent name")


async def test_http_static_symlink_to_a_dotfile_is_refused(serve: MakeClient, public: Path) -> None:
    os.symlink(public / ".env", public / "env-link")
    hidden = await serve(site(public))
    shown = await serve(site(public, serve_dotfiles=True))
    assert await raw_request(hidden, "/public/env-link") == (404, b"404: Not Found")
    assert await raw_request(shown, "/public/env-link") == (200, b"dotfile")


async def test_http_static_client_that_resets_with_requests_queued_is_no_error(
    serve: MakeClient, public: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # asyncio's sendfile raises RuntimeError("Transport is closing") for the files of the
    # requests still queued when the client reset the connection.
    client = await serve(site(public))
    assert client.port is not None
    with caplog.at_level(logging.DEBUG):
        for _ in range(5):
            _, writer = await asyncio.open_connection("127.0.0.1", client.port)
            writer.write(b"GET /public/a.txt HTTP/1.1\r\nHost: t\r\n\r\n" * 50)
            await writer.drain()
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        # The server then serves a request of its own, after whatever was queued.
        assert (await client.get("/public/a.txt")).status == 200
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
