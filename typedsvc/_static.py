"""http_static: files under one directory, served at a base url, never anything outside it."""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, Final, TypeVar

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter

from typedsvc import _errors, _urls
from typedsvc._errors import DefinitionError, checked
from typedsvc._service import Service
from typedsvc._signature import handler_name
from typedsvc._specs import ROUTES_ATTR, StaticSpec, record
from typedsvc._urls import decode_path_value

S = TypeVar("S", bound=Service)

FILENAME: Final = _urls.STATIC_FILENAME
# Kept encoded by the router's path (yarl's path_safe): an encoded slash in a file name is
# never a directory separator, and an encoded backslash is refused like a plain one.
_ENCODED_SEPARATORS: Final = re.compile(r"%2[fF]|%5[cC]")

StaticHandler = Callable[[S], Coroutine[Any, Any, None]]


def static_match(spec: StaticSpec) -> Callable[[str], dict[str, str] | None]:
    """The matcher of a static route: the file part of a path (still percent-encoded)
    when the path is under the url."""
    pattern = spec.pattern

    if FILENAME in pattern.groupindex:

        def named(path: str) -> dict[str, str] | None:
            found = pattern.fullmatch(path)
            return None if found is None else {FILENAME: found[FILENAME] or ""}

        return named

    def below(path: str) -> dict[str, str] | None:
        found = pattern.match(path)
        if found is None:
            return None
        base, rest = path[: found.end()], path[found.end() :]
        # A base without a trailing slash is a directory: /public is not /publicfoo.txt.
        if rest and not rest.startswith("/") and not base.endswith("/"):
            return None
        return {FILENAME: rest}

    return below


def file_for(spec: StaticSpec, name: str) -> Path | None:
    """The regular file ``name`` denotes inside the spec's directory, or None."""
    if _ENCODED_SEPARATORS.search(name):
        return None
    name = decode_path_value(name)
    if "\x00" in name or "\\" in name:
        return None
    parts = name.removeprefix("/").split("/")
    for part in parts:
        if part in ("", ".", ".."):
            return None
        if part.startswith(".") and not spec.serve_dotfiles:
            return None
    directory = spec.directory
    try:
        # strict: every part must exist; symlinks are followed, then judged by the target.
        path = directory.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not path.is_relative_to(directory) or not path.is_file():
        return None
    inside = path.relative_to(directory).parts
    if not spec.serve_dotfiles and any(part.startswith(".") for part in inside):
        # A symlink that leads to a dotfile is refused like the dotfile itself.
        return None
    return path


def static_handler(spec: StaticSpec) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The aiohttp handler of a static route: the file, or 404."""

    async def handle(request: web.Request) -> web.StreamResponse:
        path = file_for(spec, request.match_info[FILENAME])
        if path is None:
            raise web.HTTPNotFound()
        return _FileResponse(path)

    return handle


class _FileResponse(web.FileResponse):
    """aiohttp's file response, for a client that has gone by the time its file is sent.

    asyncio's ``sendfile()`` raises RuntimeError("Transport is closing") for a connection
    the client has reset (with pipelined requests still queued, say) but that asyncio has
    not yet let go; aiohttp takes a ConnectionError there for a client that left, and logs
    anything else as an unhandled exception, traceback and all.
    """

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        try:
            return await super().prepare(request)
        except RuntimeError:
            transport = request.transport
            if transport is not None and not transport.is_closing():
                raise
            raise ConnectionResetError("the client closed the connection") from None


def http_static(
    path: str | os.PathLike[str], url: str, *, serve_dotfiles: bool = False
) -> StaticDecorator:
    """Serve the files under the directory ``path`` for GET and HEAD at the base url ``url``.

    A relative ``path`` is relative to the directory of the file that defines the
    service. The rest of the request path after ``url`` names the file, or a
    ``(?P<filename>...)`` group of ``url`` does. The decorated method is never called.
    """
    return StaticDecorator(path, url, serve_dotfiles)


class StaticDecorator:
    """What ``http_static(...)`` returns: applied to a method, it checks and records the route."""

    __slots__ = ("_path", "_serve_dotfiles", "_url")

    def __init__(self, path: str | os.PathLike[str], url: str, serve_dotfiles: bool) -> None:
        self._path = path
        self._url = url
        self._serve_dotfiles = serve_dotfiles

    def __call__(self, func: StaticHandler[S]) -> StaticHandler[S]:
        checked(func, self._record)
        return func

    def _record(self, func: Callable[..., object]) -> None:
        url = self._url
        where = handler_name(func)
        problems = _urls.check_static_url(where, url)
        if problems:
            raise DefinitionError(*problems)
        pattern = _urls.compile_url(url)
        text = os.fspath(self._path)
        code_file = Path(func.__code__.co_filename)
        base = code_file.parent if code_file.is_file() else Path.cwd()
        directory = (base / text).resolve()
        # Judged once resolved: "/..", "//" and "/tmp/.." are the root too.
        if not text.strip() or directory == Path(directory.anchor):
            raise DefinitionError(_errors.static_directory_root(where, url, text))
        if not directory.is_dir():
            raise DefinitionError(_errors.static_directory_missing(where, url, str(directory)))
        spec = StaticSpec(where, url, pattern, directory, self._serve_dotfiles)
        record(func, ROUTES_ATTR, spec)
