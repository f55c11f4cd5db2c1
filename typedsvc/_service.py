"""Service: the base class whose subclasses declare routes as decorated methods."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import weakref
from collections.abc import Generator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import ClassVar, Final, Literal, NamedTuple, TypeVar

from typedsvc import _errors
from typedsvc._errors import DefinitionError, LifecycleHookTimeoutError, reject
from typedsvc._middleware import Middleware
from typedsvc._options import Options
from typedsvc._specs import ERRORS_ATTR, ROUTE_SPECS, ROUTES_ATTR, AnyRoute, ErrorSpec
from typedsvc._urls import route_key

T = TypeVar("T")
LOGGER: Final = logging.getLogger("typedsvc")


@dataclass(frozen=True, slots=True)
class ServiceRoutes:
    """What a Service subclass declares: (attribute, spec) pairs in declaration order."""

    routes: tuple[tuple[str, AnyRoute], ...] = ()
    error_handlers: tuple[tuple[str, ErrorSpec], ...] = ()


# Kept beside the classes rather than on them, so no framework attribute leaks into
# the user's namespace.
_REGISTRY: Final[weakref.WeakKeyDictionary[type[Service], ServiceRoutes]] = (
    weakref.WeakKeyDictionary()
)


class Service:
    """Base class of a typedsvc service.

    Subclasses set ``name`` and ``options`` and declare handlers with
    ``@http`` and ``@http_error``. Routes are collected, and checked for
    duplicates, when the subclass is created.
    """

    name: ClassVar[str] = "service"
    _name_given: ClassVar[bool] = False
    options: ClassVar[Options] = Options()
    # Around every handler and error handler; the first listed is the outermost.
    http_middleware: ClassVar[Sequence[Middleware]] = ()

    async def _start_service(self) -> None:
        """Runs before the server accepts requests; if it raises, the service does not start."""

    async def _started_service(self) -> None:
        """Runs once ``typedsvc run`` listens."""

    async def _stopping_service(self) -> None:
        """Runs when the service stops accepting requests, before requests in flight drain."""

    async def _stop_service(self) -> None:
        """Runs after requests in flight have drained."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        # A name given is inherited; one not given is each class's own.
        if "name" in vars(cls):
            cls._name_given = True
        elif not cls._name_given:
            cls.name = cls.__name__
        # Checked as an object: untyped code can set anything.
        options: object = cls.options
        if not isinstance(options, Options):
            message = (
                f'"{cls.__name__}.options" must be a typedsvc.Options, got '
                f"{type(options).__name__}; write options = Options(http=HttpOptions(...))."
            )
            reject(cls, DefinitionError(message))
            cls.options = Options()
        _check_middleware(cls)
        # Later classes in the MRO override earlier ones by attribute name, and an
        # overridden method keeps the position where it was first declared.
        members: dict[str, object] = {}
        for klass in reversed(cls.__mro__):
            members.update(vars(klass))
        _REGISTRY[cls] = ServiceRoutes(_collect_routes(members), _collect_error_handlers(members))


LifecycleHook = Literal["_start_service", "_started_service", "_stopping_service", "_stop_service"]


_STOP_HOOKS: Final[frozenset[LifecycleHook]] = frozenset({"_stopping_service", "_stop_service"})


class StopFailure(NamedTuple):
    """A stop hook that failed or ran out of time, as one line and as the exception."""

    what: str
    error: Exception


_STOP_FAILURES: ContextVar[list[StopFailure] | None] = ContextVar(
    "typedsvc_stop_failures", default=None
)


async def run_hook(service: Service, hook: LifecycleHook) -> None:
    """Run one of the service's lifecycle hooks, cancelled after its options' timeout.

    A start hook that runs out of time raises LifecycleHookTimeoutError, and one that fails
    raises its exception. A stop hook that does either is logged, and gathered while
    :func:`gathering_stop_failures`, and the stop goes on: raising inside aiohttp's shutdown
    would skip the drain and the hooks after it.
    """
    seconds = service.options.lifecycle_hook_timeout_seconds
    deadline = asyncio.timeout(seconds)
    try:
        try:
            async with deadline:
                await getattr(service, hook)()
        except TimeoutError as exc:
            if not deadline.expired():
                raise  # the hook's own TimeoutError, not its time running out
            # Chained, so that a traceback shows where the hook was when it was cancelled.
            raise LifecycleHookTimeoutError(service.name, hook, seconds) from exc
    except Exception as exc:
        if hook not in _STOP_HOOKS:
            raise
        if isinstance(exc, LifecycleHookTimeoutError):
            # Nothing crashed: the line names the hook and its time, no traceback.
            what = exc.what
            LOGGER.error("%s; going on with the stop.", what)
        else:
            what = f'"{service.name}" failed in {hook}: {type(exc).__name__}: {exc}'
            LOGGER.error(
                '"%s" failed in %s; going on with the stop.', service.name, hook, exc_info=exc
            )
        gathered = _STOP_FAILURES.get()
        if gathered is not None:
            gathered.append(StopFailure(what, exc))


@contextlib.contextmanager
def gathering_stop_failures() -> Generator[list[StopFailure]]:
    """Gather what went wrong in the stop hooks run in this context."""
    gathered: list[StopFailure] = []
    token = _STOP_FAILURES.set(gathered)
    try:
        yield gathered
    finally:
        _STOP_FAILURES.reset(token)


def _check_middleware(cls: type[Service]) -> None:
    middlewares: object = cls.http_middleware
    if isinstance(middlewares, str) or not isinstance(middlewares, Sequence):
        reject(cls, DefinitionError(_errors.middleware_not_a_sequence(cls.__name__)))
        cls.http_middleware = ()
        return
    for index, middleware in enumerate(middlewares):
        if not inspect.iscoroutinefunction(middleware):
            message = _errors.middleware_not_async(cls.__name__, index, middleware)
            reject(cls, DefinitionError(message))


def routes_of(cls: type[Service]) -> ServiceRoutes:
    """The routes and error handlers a Service subclass declares."""
    return _REGISTRY.get(cls, ServiceRoutes())


def _collect_routes(members: dict[str, object]) -> tuple[tuple[str, AnyRoute], ...]:
    routes: list[tuple[str, AnyRoute]] = []
    seen: dict[tuple[str, str], AnyRoute] = {}
    for attr, member in members.items():
        for spec in getattr(member, ROUTES_ATTR, ()):
            if not isinstance(spec, ROUTE_SPECS):
                continue
            duplicates = [
                _errors.duplicate_route(spec.where, spec.url, method, first.where)
                for method in spec.methods
                if (first := seen.setdefault((method, route_key(spec.url)), spec)) is not spec
            ]
            if duplicates:
                reject(member, DefinitionError(*duplicates))
                continue
            routes.append((attr, spec))
    return tuple(routes)


def _collect_error_handlers(members: dict[str, object]) -> tuple[tuple[str, ErrorSpec], ...]:
    handlers: dict[int, tuple[str, ErrorSpec]] = {}
    for attr, member in members.items():
        for spec in _specs(member, ERRORS_ATTR, ErrorSpec):
            if spec.status in handlers:
                first = handlers[spec.status][1].where
                message = _errors.duplicate_error_handler(spec.where, spec.status, first)
                reject(member, DefinitionError(message))
                continue
            handlers[spec.status] = (attr, spec)
    return tuple(handlers.values())


def _specs(member: object, attr: str, kind: type[T]) -> list[T]:
    return [spec for spec in getattr(member, attr, ()) if isinstance(spec, kind)]
