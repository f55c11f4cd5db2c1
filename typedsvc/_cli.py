"""The ``typedsvc`` command: run, check, routes and openapi on a file or module of services."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, NoReturn

import typedsvc
from typedsvc._check import check
from typedsvc._errors import DefinitionError
from typedsvc._listing import route_rows, table
from typedsvc._load import CommandError, load_services
from typedsvc._openapi import openapi
from typedsvc._reload import Reloader, free_port, watchfiles_module
from typedsvc._serve import StartError, loop_factory, serve
from typedsvc._service import Service
from typedsvc._workers import Supervisor, reserve_ports, reuse_port_problem, worker_count

EXIT_FAILURE: Final = 1
EXIT_USAGE: Final = 2


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point of the ``typedsvc`` console script and of ``python -m typedsvc``."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "openapi":
        _print_openapi(args.target, args.service)
    if args.command == "check":
        _check(args.targets)
    if args.command == "routes":
        _print_routes(args.target, as_json=args.json)
    if args.command != "run":
        parser.print_help(sys.stderr)
        sys.exit(EXIT_USAGE)
    _run(args)


def _run(args: argparse.Namespace) -> NoReturn:
    """``typedsvc run``: serve in this process, or supervise ``--workers`` processes."""
    supervising = args.workers > 1 and args.worker is None
    try:
        services = load_services(args.target)
        if args.port is not None and len(services) > 1:
            names = ", ".join(service.__name__ for service in services)
            raise CommandError(
                f'--port needs a file with one service; "{args.target}" defines '
                f"{len(services)} ({names})."
            )
        if args.port is None:
            _one_port_each(services)
        loops = loop_factory(args.loop)
        problem = reuse_port_problem() if supervising else None
        if problem is not None:
            raise CommandError(problem)
        if args.reload and args.workers > 1:
            raise CommandError("--reload runs one process, for development; leave out --workers.")
        watchfiles = watchfiles_module() if args.reload else None
    except (CommandError, DefinitionError) as exc:
        print(f"typedsvc: error: {exc}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    tag = f"[worker {args.worker}] " if args.worker is not None else ""
    logging.basicConfig(
        level=args.log_level.upper(),
        format=f"%(asctime)s {tag}%(levelname)s %(name)s: %(message)s",
    )
    if supervising:
        sys.exit(_supervise(args, services))
    if watchfiles is not None:
        sys.exit(_reload(args, services, watchfiles))
    ports = dict(args.bind) if args.bind else None
    try:
        with asyncio.Runner(loop_factory=loops) as runner:
            runner.run(
                serve(
                    services,
                    host=args.host,
                    port=args.port,
                    ports=ports,
                    worker_ready_fd=args.ready_fd,
                )
            )
    except StartError as exc:
        print(f"typedsvc: error: {exc}", file=sys.stderr)
        sys.exit(EXIT_FAILURE)
    sys.exit(0)


def _one_port_each(services: list[type[Service]]) -> None:
    """Refuse two services of one file on one port: with SO_REUSEPORT (the default on Linux)
    both would listen, and each get a share of the other's connections."""
    named: dict[int, str] = {}
    for service in services:
        port = service.options.http.port
        other = named.setdefault(port, service.__name__)
        if port != 0 and other != service.__name__:
            raise CommandError(
                f'"{other}" and "{service.__name__}" both listen on port {port}; give each '
                "service a port of its own (HttpOptions(port=...))."
            )


def _child_command(args: argparse.Namespace, ports: dict[str, int]) -> list[str]:
    """``typedsvc run`` as a --workers parent or a reloader starts it, on given ports."""
    command = [sys.executable, "-m", "typedsvc", "run", args.target]
    command += ["--loop", args.loop, "--log-level", args.log_level]
    if args.host is not None:
        command += ["--host", args.host]
    return command + [f"--bind={name}={port}" for name, port in ports.items()]


def _reload(args: argparse.Namespace, services: list[type[Service]], watchfiles: Any) -> int:
    # The child listens where the file says, as it is when it starts, but for --port and a
    # port 0, for which the free port chosen here is kept over restarts, and with it the url.
    ports: dict[str, int] = {}
    for service in services:
        options = service.options.http
        port = args.port if args.port is not None else options.port
        host = args.host if args.host is not None else options.host
        if port == 0 or args.port is not None:
            ports[service.__name__] = port or free_port(host)
    target = Path(args.target)
    root = target.resolve().parent if target.is_file() else Path.cwd()
    reloader = Reloader(_child_command(args, ports), root, watchfiles)
    return asyncio.run(reloader.run())


def _supervise(args: argparse.Namespace, services: list[type[Service]]) -> int:
    ports, held = reserve_ports(services, args.host, args.port)
    command = _child_command(args, ports)
    # How long a worker may take to stop before the parent kills it: the stop delay, the
    # drain, and the two stop hooks with their time.
    drain = max(
        service.options.http.termination_grace_period_seconds
        + service.options.http.stop_delay_seconds
        + 2 * service.options.lifecycle_hook_timeout_seconds
        for service in services
    )
    try:
        return asyncio.run(Supervisor(command, args.workers, drain).run())
    finally:
        for sock in held:
            sock.close()


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
        "--workers",
        type=_workers_argument,
        default=1,
        metavar="N",
        help="processes sharing the port with SO_REUSEPORT; auto: one per CPU (default: 1)",
    )
    run.add_argument(
        "--reload",
        action="store_true",
        help="restart when a Python file changes, for development (needs watchfiles)",
    )
    # How a --workers parent starts its workers: not for users.
    run.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    run.add_argument("--ready-fd", type=int, help=argparse.SUPPRESS)
    run.add_argument("--bind", type=_bind, action="append", help=argparse.SUPPRESS)
    run.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
    )
    checking = commands.add_parser(
        "check",
        help="import files or modules and report every route definition mistake, without serving",
    )
    checking.add_argument(
        "targets", metavar="FILE_OR_MODULE", nargs="+", help="a .py file or a dotted module name"
    )
    listing = commands.add_parser(
        "routes", help="list every route of a file or module, with its parameters"
    )
    listing.add_argument(
        "target", metavar="FILE_OR_MODULE", help="a .py file or a dotted module name"
    )
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
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
    _emit(json.dumps(openapi(services[0]), indent=2))
    sys.exit(0)


def _check(targets: list[str]) -> NoReturn:
    """``typedsvc check``: print every problem as ``file:line: message``; exit 0 or 2."""
    report = check(targets)
    _emit("\n".join([*report.lines(), report.summary(len(targets))]))
    sys.exit(EXIT_USAGE if report.problems or report.failures else 0)


def _print_routes(target: str, *, as_json: bool) -> NoReturn:
    try:
        services = load_services(target)
    except (CommandError, DefinitionError) as exc:
        print(f"typedsvc: error: {exc}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    rows = route_rows(services)
    _emit(json.dumps(rows, indent=2) if as_json else table(rows))
    sys.exit(0)


def _emit(text: str) -> None:
    """Print ``text`` to stdout; a reader that stops early (``| head``) ends the command with
    status 1, without a traceback."""
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would try the flush again at exit, and report that it failed.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_FAILURE)


def _workers_argument(text: str) -> int:
    try:
        return worker_count(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of workers (1 or more, or auto)"
        ) from None


def _bind(text: str) -> tuple[str, int]:
    name, _, port = text.rpartition("=")
    return name, int(port)


def _port(text: str) -> int:
    port = int(text) if text.isdigit() else -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port from 0 to 65535")
    return port
