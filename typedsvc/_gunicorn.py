"""Serving a service under gunicorn, with aiohttp's gunicorn worker.

::

    gunicorn 'typedsvc:gunicorn_app("shop:Shop")' --worker-class aiohttp.GunicornWebWorker

gunicorn then decides what ``typedsvc run`` takes from the options: the address, the number
of workers, keep-alive, the access log and how long a stop waits (``--graceful-timeout``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import web

from typedsvc._app import create_app
from typedsvc._service import Service, run_hook


def gunicorn_app(
    service: str | type[Service],
) -> Callable[[], Coroutine[Any, Any, web.Application]]:
    """The application factory gunicorn's aiohttp worker calls, in each worker.

    ``service`` is a Service subclass or its ``"module:ClassName"``. Each worker makes one
    instance; its lifecycle hooks run as under ``typedsvc run``, except that
    ``_started_service`` runs right after ``_start_service``, before the worker accepts
    connections (gunicorn tells the application nothing later).
    """
    service_class = _service_class(service)

    async def application() -> web.Application:
        instance = service_class()
        app = create_app(instance)

        async def started(app: web.Application) -> None:
            await run_hook(instance, "_started_service")

        app.on_startup.append(started)
        return app

    return application


def _service_class(service: str | type[Service]) -> type[Service]:
    # Checked as an object: gunicorn's command line is untyped.
    found: object = service
    if isinstance(service, str):
        module_name, _, name = service.partition(":")
        if not module_name or not name.isidentifier():
            raise ValueError(f'gunicorn_app() takes "module:ServiceClass", got "{service}".')
        module = importlib.import_module(module_name)
        found = getattr(module, name, None)
        if found is None:
            raise ValueError(f'gunicorn_app("{service}"): module "{module_name}" has no "{name}".')
    if not isinstance(found, type) or not issubclass(found, Service):
        shown = found.__qualname__ if isinstance(found, type) else repr(found)
        raise TypeError(f"gunicorn_app() takes a typedsvc.Service subclass, got {shown}.")
    return found
