"""http_static: files under one directory, served at a base url, never anything outside it."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

from aiohttp import web

from typedsvc import _errors, _urls
from typedsvc._decorators import ROUTES_ATTR, handler_name, record
from typedsvc._errors import DefinitionError
from typedsvc._urls import decode_path_value

if TYPE_CHECKING:
    from typedsvc._service import Service

S = TypeVar("S", bound="Service")

FILENAME: Final = _urls.STATIC_FILENAME
# Kept encoded by the router's path (yarl's path_safe): an encoded slash in a file name is
# never a directory separator, and an encoded backslash is refused like a plain one.
_ENCODED_SEPARATORS: Final = re.compile(r"%2[fF]|%5[cC]")

StaticHandler = Callable[[S], Coroutine[Any, Any, None]]


@dataclass(frozen=True, slots=True)
class StaticSpec:
    """One ``@http_static``: the directory (resolved) and the base url."""

    where: str
    url: str
    pattern: re.Pattern[str]
    directory: Path
    serve_dotfiles: bool
    methods: tuple[str, ...] = ("GET", "HEAD")

    def match(self, path: str) -> dict[str, str] | None:
        """The file part of ``path`` (still percent-encoded) when ``path`` is under the url."""
        if FILENAME in self.pattern.groupindex:
            found = self.pattern.fullmatch(path)
            return None if found is None else {FILENAME: found[FILENAME] or ""}
        found = self.pattern.match(path)
        if found is None:
            return None
        base, rest = path[: found.end()], path[found.end() :]
        # A base without a trailing slash is a directory: /public is not /publicfoo.txt.
        if rest and not rest.startswith("/") and not base.endswith("/"):
            return None
        return {FILENAME: rest}

    def file_for(self, name: str) -> Path | None:
        """The regular file ``name`` denotes inside the directory, or None."""
        if _ENCODED_SEPARATORS.search(name):
            return None
        name = decode_path_value(name)
        if "\x00" in name or "\\" in name:
            return None
        parts = name.removeprefix("/").split("/")
        for part in parts:
            if part in ("", ".", ".."):
                return None
            if part.startswith(".") and not self.serve_dotfiles:
                return None
        try:
            # strict: every part must exist; symlinks are followed, then judged by the target.
            path = self.directory.joinpath(*parts).resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not path.is_relative_to(self.directory) or not path.is_file():
            return None
        inside = path.relative_to(self.directory).parts
        if not self.serve_dotfiles and any(part.startswith(".") for part in inside):
            # A symlink that leads to a dotfile is refused like the dotfile itself.
            return None
        return path

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = self.file_for(request.match_info[FILENAME])
        if path is None:
            raise web.HTTPNotFound()
        return web.FileResponse(path)


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
        url = self._url
        where = handler_name(func)
        problems = _urls.check_static_url(where, url)
        if problems:
            raise DefinitionError(problems[0])
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
        return func
