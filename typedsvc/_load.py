"""What a command names: a .py file or a dotted module, imported, and the services in it."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Final

from typedsvc._errors import DefinitionError
from typedsvc._service import Service

_PACKAGE: Final = str(Path(__file__).parent) + os.sep


class CommandError(Exception):
    """A problem with what the user asked for; printed as one line, exit status 2."""


def load_services(target: str) -> list[type[Service]]:
    """Import ``target`` (a file path or a module name) and return the services it defines."""
    services = services_in(import_target(target))
    if not services:
        raise CommandError(f'"{target}" defines no typedsvc.Service subclass.')
    return services


def services_in(module: ModuleType) -> list[type[Service]]:
    """The Service subclasses defined in ``module`` (not those it imports)."""
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Service)
        and value is not Service
        and value.__module__ == module.__name__
    ]


def import_target(target: str) -> ModuleType:
    path = Path(target)
    if target.endswith(".py") or path.is_file():
        return _import_file(target, path)
    if not all(part.isidentifier() for part in target.split(".")):
        # No module name ("./app", ".", ""): importlib would answer in its own terms.
        if path.is_dir() and target:
            raise CommandError(
                f'cannot import "{target}": a directory; name a Python file or a module.'
            )
        raise CommandError(f'cannot find "{target}": no such file, and no module of that name.')
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (exc.name == target or target.startswith(exc.name + ".")):
            raise CommandError(
                f'cannot find "{target}": no such file, and no module of that name.'
            ) from None
        raise CommandError(_import_failure(target, exc)) from None
    except DefinitionError:
        raise
    except Exception as exc:
        raise CommandError(_import_failure(target, exc)) from None


def _import_file(target: str, path: Path) -> ModuleType:
    if not path.is_file():
        raise CommandError(f'cannot find "{target}": no such file.')
    name = path.stem if path.stem.isidentifier() and path.stem not in sys.modules else "__service__"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CommandError(f'cannot import "{target}": not a Python file.')
    module = importlib.util.module_from_spec(spec)
    # The file's own directory comes first, as with `python FILE`, so sibling imports work.
    sys.path.insert(0, str(path.resolve().parent))
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except DefinitionError:
        raise
    except Exception as exc:
        raise CommandError(_import_failure(target, exc)) from None
    return module


def _import_failure(target: str, exc: Exception) -> str:
    if isinstance(exc, SyntaxError):
        end = "" if exc.msg.endswith((".", "?", "!")) else "."
        return f'"{exc.filename}", line {exc.lineno}: {exc.msg}{end}'
    frames = traceback.extract_tb(exc.__traceback__)
    # The user's line that led to it, rather than where inside typedsvc it was raised.
    own = [frame for frame in frames if not frame.filename.startswith(_PACKAGE)] or frames
    where = f' ("{own[-1].filename}", line {own[-1].lineno})' if own else ""
    return f'importing "{target}" failed: {type(exc).__name__}: {exc}{where}.'
