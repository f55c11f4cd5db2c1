"""Serving services in this process until SIGINT or SIGTERM, then draining what is in flight."""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Final

from aiohttp import web

from typedsvc._app import SERVICE_KEY, create_app
from typedsvc._errors import LifecycleHookTimeoutError
from typedsvc._load import CommandError
from typedsvc._readiness import READINESS_KEY
from typedsvc._service import LifecycleHook, Service, gathering_stop_failures, run_hook

LOGGER: Final = logging.getLogger("typedsvc")
EXIT_FAILURE: Final = 1


class StartError(Exception):
    """A service could not start or listen, or did not stop cleanly; one line, exit status 1."""


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
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
    services: Sequence[type[Service]],
    *,
    host: str | None = None,
    port: int | None = None,
    ports: Mapping[str, int] | None = None,
    worker_ready_fd: int | None = None,
) -> None:
    """Serve ``services`` until SIGINT or SIGTERM, then drain in-flight requests and return.

    A worker of ``--workers`` gets its services' ``ports`` from the parent, shares them with
    SO_REUSEPORT and tells the parent it listens by writing to ``worker_ready_fd``.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, _on_signal, stop, signum)
    runners: list[web.AppRunner] = []
    with gathering_stop_failures() as failures:
        try:
            starting = _start_all(services, host, port, ports, worker_ready_fd, runners)
            if await _unless_stopped(starting, stop):
                # A start hook can wait long (on a database, say), and a stop signal must
                # not wait for it: what had started stops as after serving.
                LOGGER.info("stopping before the start has finished")
            else:
                await stop.wait()
                await _stop_delay(runners)
                LOGGER.info("stopping: no new connections, waiting for requests in flight")
        finally:
            await asyncio.gather(*(runner.cleanup() for runner in runners))
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
    LOGGER.info("stopped")
    if failures:
        # Exit status 1, as for a start that fails: whatever the hook left undone (a flush, a
        # deregistration) may be lost, which a supervisor, and --workers' parent, must see as
        # a failure. 2 means a usage error, and a status of its own would tell them no more.
        causes = "; ".join(failure.what for failure in failures)
        raise StartError(f"stopped, but not cleanly: {causes}.")


async def _start_all(
    services: Sequence[type[Service]],
    host: str | None,
    port: int | None,
    ports: Mapping[str, int] | None,
    worker_ready_fd: int | None,
    runners: list[web.AppRunner],
) -> None:
    """Start and listen for each service, adding its runner to ``runners`` as it listens."""
    started = [service_class() for service_class in services]
    for service in started:
        # A service the parent did not know of (a class renamed or added under --reload)
        # listens where its options say.
        chosen = ports.get(type(service).__name__) if ports is not None else port
        runners.append(await _start(service, host, chosen, worker_ready_fd is not None))
    for service in started:
        await _hook(service, "_started_service")
    if worker_ready_fd is not None:
        os.write(worker_ready_fd, b"1")
        os.close(worker_ready_fd)


async def _unless_stopped(work: Coroutine[None, None, None], stop: asyncio.Event) -> bool:
    """Run ``work`` to its end, or cancel it once ``stop`` is set; whether it was cancelled.

    A failure of ``work`` is raised, as is the cancellation of this task itself.
    """
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((task, stopped), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        if not task.done():
            task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
        return True
    return False


async def _hook(
    service: Service, hook: LifecycleHook, run: Callable[[], Awaitable[None]] | None = None
) -> None:
    """Run a lifecycle hook (or what runs it); a failure stops typedsvc with one line."""
    try:
        await (run() if run is not None else run_hook(service, hook))
    except LifecycleHookTimeoutError as exc:
        # No traceback, unlike a hook that raises: nothing crashed, and the line names the
        # hook and its time (code that serves in-process gets the chained traceback).
        LOGGER.error("%s; stopping.", exc.what)
        raise StartError(str(exc)) from None
    except Exception as exc:
        LOGGER.error('"%s" failed in %s', service.name, hook, exc_info=exc)
        raise StartError(
            f'"{service.name}" failed in {hook}: {type(exc).__name__}: {exc}'
        ) from None


async def _stop_delay(runners: list[web.AppRunner]) -> None:
    """Answer 503 on readiness at once; serve on for the longest stop_delay_seconds."""
    delay = 0.0
    for runner in runners:
        app = runner.app
        assert app is not None
        app[READINESS_KEY].stop()
        delay = max(delay, app[SERVICE_KEY].options.http.stop_delay_seconds)
    if delay:
        LOGGER.info("stopping: not ready; serving %gs more before the drain", delay)
        await asyncio.sleep(delay)


def _on_signal(stop: asyncio.Event, signum: int) -> None:
    # Tested with a real `typedsvc run` (tests/test_lifecycle.py), but os._exit leaves no
    # coverage data behind.
    if stop.is_set():  # pragma: no cover
        # A second signal: the user does not want to wait for the drain. Unwinding the
        # loop would cancel aiohttp's shutdown halfway and log its errors, so leave at once.
        LOGGER.warning("%s again: exiting without waiting", signal.Signals(signum).name)
        logging.shutdown()
        os._exit(EXIT_FAILURE)
    LOGGER.info("%s received", signal.Signals(signum).name)
    stop.set()


def listening_url(host: str, port: int) -> str:
    """The url of a listening address, an IPv6 one in brackets (RFC 3986, 3.2.2)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def app_runner(service: Service) -> web.AppRunner:
    """The aiohttp runner of ``service``'s application, whose stop gives requests in flight
    up to ``termination_grace_period_seconds``."""
    # aiohttp's drain waits shutdown_timeout for the handlers in flight, then ends their body
    # reads and waits as long again before it cancels them: half the grace period each.
    grace = service.options.http.termination_grace_period_seconds
    return web.AppRunner(create_app(service), shutdown_timeout=grace / 2)


async def _start(
    service: Service, host: str | None, port: int | None, worker: bool
) -> web.AppRunner:
    options = service.options.http
    runner = app_runner(service)
    # Runs the service's _start_service.
    await _hook(service, "_start_service", runner.setup)
    host = host if host is not None else options.host
    port = port if port is not None else options.port
    site = web.TCPSite(runner, host, port, reuse_port=options.reuse_port or worker)
    try:
        await site.start()
    except asyncio.CancelledError:
        # A stop signal during the bind: the service has started, so it stops as well.
        await runner.cleanup()
        raise
    except OSError as exc:
        await runner.cleanup()
        # asyncio wraps a failed bind in its own wording; the errno's text is the clear part.
        if isinstance(exc.errno, int) and exc.errno > 0:
            reason = os.strerror(exc.errno)
        else:
            reason = exc.strerror or str(exc)
        raise StartError(f'"{service.name}" cannot listen on {host}:{port}: {reason}.') from None
    for address in runner.addresses:
        LOGGER.info('"%s" listening on %s', service.name, listening_url(address[0], address[1]))
    return runner
