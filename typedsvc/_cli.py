"""The ``typedsvc`` command: ``typedsvc run FILE_OR_MODULE`` serves the services defined there."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import json
import logging
import os
import signal
import sys
import traceback
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Final, NoReturn

from aiohttp import web

import typedsvc
from typedsvc._app import create_app
from typedsvc._errors import DefinitionError
from typedsvc._openapi import openapi
from typedsvc._service import LifecycleHook, Service, run_hook

LOGGER: Final = logging.getLogger("typedsvc")
EXIT_FAILURE: Final = 1
EXIT_USAGE: Final = 2


class CommandError(Exception):
    """A problem with what the user asked for; printed as one line, exit status 2."""


class StartError(Exception):
    """A service could not start or listen; printed as one line, exit status 1."""


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point of the ``typedsvc`` console script and of ``python -m typedsvc``."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "openapi":
        _print_openapi(args.target, args.service)
    if args.command != "run":
        parser.print_help(sys.stderr)
        sys.exit(EXIT_USAGE)
    try:
        services = load_services(args.target)
        if args.port is not None and len(services) > 1:
            names = ", ".join(service.__name__ for service in services)
            raise CommandError(
                f'--port needs a file with one service; "{args.target}" defines '
                f"{len(services)} ({names})."
            )
        loop_factory = _loop_factory(args.loop)
    except (CommandError, DefinitionError) as exc:
        print(f"typedsvc: error: {exc}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(serve(services, host=args.host, port=args.port))
    except StartError as exc:
        print(f"typedsvc: error: {exc}", file=sys.stderr)
        sys.exit(EXIT_FAILURE)
    sys.exit(0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="typedsvc", description="Serve typedsvc services over HTTP."
    )
    parser.add_argument("--version", action="version", version=f"typedsvc {typedsvc.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser("run", help="serve every Service defined in a file or module")
    run.add_argument("target", metavar="FILE_OR_MODULE", help="a .py file or a dotted module name")
    run.add_argument("--host", help="address to listen on (default: the service's options)")
    run.add_argument(
        "--port", type=_port, help="port to listen on, 0 for any free one (default: the options)"
    )
    run.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    run.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
    )
    document = commands.add_parser(
        "openapi", help="print the OpenAPI 3.1 document of a service as JSON"
    )
    document.add_argument(
        "target", metavar="FILE_OR_MODULE", help="a .py file or a dotted module name"
    )
    document.add_argument(
        "--service", metavar="NAME", help="the service class, when the file defines several"
    )
    return parser


def _print_openapi(target: str, name: str | None) -> NoReturn:
    """``typedsvc openapi``: print one service's document and exit."""
    try:
        services = load_services(target)
        if name is not None:
            services = [service for service in services if service.__name__ == name]
            if not services:
                raise CommandError(f'"{target}" defines no service class named "{name}".')
        if len(services) > 1:
            names = ", ".join(service.__name__ for service in services)
            raise CommandError(
                f'"{target}" defines {len(services)} services ({names}); name one with --service.'
            )
    except (CommandError, DefinitionError) as exc:
        print(f"typedsvc: error: {exc}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    print(json.dumps(openapi(services[0]), indent=2))
    sys.exit(0)


def _port(text: str) -> int:
    port = int(text) if text.isdigit() else -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port from 0 to 65535")
    return port


def load_services(target: str) -> list[type[Service]]:
    """Import ``target`` (a file path or a module name) and return the services it defines."""
    module = _import(target)
    services = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Service)
        and value is not Service
        and value.__module__ == module.__name__
    ]
    if not services:
        raise CommandError(f'"{target}" defines no typedsvc.Service subclass.')
    return services


def _import(target: str) -> ModuleType:
    path = Path(target)
    if target.endswith(".py") or path.is_file():
        return _import_file(target, path)
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
    where = f' ("{frames[-1].filename}", line {frames[-1].lineno})' if frames else ""
    return f'importing "{target}" failed: {type(exc).__name__}: {exc}{where}.'


def _loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    if name == "asyncio":
        return None
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        raise CommandError(
            '--loop uvloop needs the uvloop package; install it with "pip install uvloop".'
        ) from None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


async def serve(
    services: Sequence[type[Service]], *, host: str | None = None, port: int | None = None
) -> None:
    """Serve ``services`` until SIGINT or SIGTERM, then drain in-flight requests and return."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, _on_signal, stop, signum)
    runners: list[web.AppRunner] = []
    try:
        started = [service_class() for service_class in services]
        for service in started:
            runners.append(await _start(service, host, port))
        for service in started:
            await _hook(service, "_started_service")
        await stop.wait()
        LOGGER.info("stopping: no new connections, waiting for requests in flight")
    finally:
        await asyncio.gather(*(runner.cleanup() for runner in runners))
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    LOGGER.info("stopped")


async def _hook(
    service: Service, hook: LifecycleHook, run: Callable[[], Awaitable[None]] | None = None
) -> None:
    """Run a lifecycle hook (or what runs it); a failure stops typedsvc with one line."""
    try:
        await (run() if run is not None else run_hook(service, hook))
    except Exception as exc:
        LOGGER.error('"%s" failed in %s', service.name, hook, exc_info=exc)
        raise StartError(
            f'"{service.name}" failed in {hook}: {type(exc).__name__}: {exc}'
        ) from None


def _on_signal(stop: asyncio.Event, signum: int) -> None:
    if stop.is_set():  # pragma: no cover - os._exit leaves no coverage data behind
        # A second signal: the user does not want to wait for the drain. Unwinding the
        # loop would cancel aiohttp's shutdown halfway and log its errors, so leave at once.
        LOGGER.warning("%s again: exiting without waiting", signal.Signals(signum).name)
        logging.shutdown()
        os._exit(EXIT_FAILURE)
    LOGGER.info("%s received", signal.Signals(signum).name)
    stop.set()


async def _start(service: Service, host: str | None, port: int | None) -> web.AppRunner:
    options = service.options.http
    runner = web.AppRunner(
        create_app(service), shutdown_timeout=options.termination_grace_period_seconds
    )
    # Runs the service's _start_service.
    await _hook(service, "_start_service", runner.setup)
    host = host if host is not None else options.host
    port = port if port is not None else options.port
    site = web.TCPSite(runner, host, port, reuse_port=options.reuse_port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        # asyncio wraps a failed bind in its own wording; the errno's text is the clear part.
        if isinstance(exc.errno, int) and exc.errno > 0:
            reason = os.strerror(exc.errno)
        else:
            reason = exc.strerror or str(exc)
        raise StartError(f'"{service.name}" cannot listen on {host}:{port}: {reason}.') from None
    for address in runner.addresses:
        LOGGER.info('"%s" listening on http://%s:%d', service.name, address[0], address[1])
    return runner
