"""Measure what the typedsvc mypy plugin costs: mypy --strict on a generated 500-route service.

Each timed run starts from a fresh, empty ``--cache-dir`` (a cold cache, as on a clean CI
checkout); runs with and without ``plugins = typedsvc.mypy`` alternate, so that drift in the
machine's speed falls on both alike. Prints a markdown table and writes it to
bench/results/mypy_plugin.md.

Usage: .venv/bin/python bench/mypy_plugin.py [--rounds 3] [--routes 500] [--warmups 1]
"""

from __future__ import annotations

import argparse
import resource
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import _common

RESULTS: Final = _common.RESULTS_DIR / "mypy_plugin.md"
TYPED_INPUTS_RESULTS: Final = _common.RESULTS_DIR / "mypy_plugin-typed-inputs.md"
TARGET_OVERHEAD: Final = 0.15
# No mypy run of one module should take this long; past it the run has hung.
TIMEOUT_S: Final = 600.0
SERVICE: Final = "service.py"
CANARY: Final = "canary.py"
WITH_PLUGIN: Final = "with_plugin.ini"
WITHOUT_PLUGIN: Final = "without_plugin.ini"

_HEADER: Final = '''\
"""A generated service with {routes} routes, to time the typedsvc mypy plugin."""

import enum
import uuid

from aiohttp import web

import typedsvc


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Big(typedsvc.Service):
'''

# Cycled through by route number. Every one is correct: mypy must report nothing and the
# runtime must accept the class. Braces of regex quantifiers are doubled for str.format.
_ROUTES: Final[tuple[str, ...]] = (
    """
    @typedsvc.http("GET", r"/r{i}/(?P<item_id>\\d+)/(?P<name>[^/]+)")
    async def r{i}(self, request: web.Request, item_id: int, name: str) -> str:
        return name
""",
    """
    @typedsvc.http("POST", r"/r{i}/(?P<name>[^/]+)")
    async def r{i}(self, request: web.Request, name: str) -> tuple[int, str]:
        return 201, name
""",
    """
    @typedsvc.http("GET", r"/r{i}/(?P<ref>[0-9a-f-]{{36}})")
    async def r{i}(self, request: web.Request, ref: uuid.UUID) -> str:
        return ref.hex
""",
    """
    @typedsvc.http("GET", r"/r{i}/(?P<color>[a-z]+)")
    async def r{i}(self, request: web.Request, color: Color) -> typedsvc.ResponseDict:
        return {{"body": color.value, "status": 200}}
""",
    """
    @typedsvc.http(["PUT", "PATCH"], r"/r{i}/(?P<item_id>\\d+)/(?P<ratio>[0-9.]+)")
    async def r{i}(
        self, request: web.Request, item_id: int, ratio: float
    ) -> typedsvc.ResponseDict:
        return {{"body": f"{{item_id * ratio}}", "headers": {{"Cache-Control": "no-store"}}}}
""",
    """
    @typedsvc.http("GET", r"/r{i}(?:/(?P<page>\\d+))?")
    async def r{i}(self, request: web.Request, page: int = 0) -> tuple[int, str]:
        return 200, str(page)
""",
)

# With --typed-inputs: the same module, its routes reading typed inputs instead.
_INPUT_HEADER: Final = """
from typing import Annotated, TypedDict

from typedsvc import Body, Cookie, Header, JsonResponse, Query


class NewUser(TypedDict):
    name: str
    email: str


class User(TypedDict):
    id: int
    name: str
    email: str

"""
_INPUT_ROUTES: Final[tuple[str, ...]] = (
    """
    @typedsvc.http("GET", r"/r{i}")
    async def r{i}(
        self,
        request: web.Request,
        q: Query[str],
        limit: Query[int] = 20,
        tag: Query[list[str]] = [],
    ) -> str:
        return q
""",
    """
    @typedsvc.http("POST", r"/r{i}")
    async def r{i}(self, request: web.Request, user: Body[NewUser]) -> JsonResponse[User]:
        return JsonResponse({{"id": 1, **user}}, status=201)
""",
    """
    @typedsvc.http("GET", r"/r{i}/(?P<item_id>\\d+)")
    async def r{i}(
        self, request: web.Request, item_id: int, x_request_id: Header[str | None] = None
    ) -> str:
        return str(item_id)
""",
    """
    @typedsvc.http("GET", r"/r{i}/page")
    async def r{i}(
        self,
        request: web.Request,
        size: Annotated[int, typedsvc.query("page-size")] = 10,
        session: Cookie[str | None] = None,
    ) -> str:
        return str(size)
""",
    """
    @typedsvc.http(["PUT", "PATCH"], r"/r{i}/(?P<item_id>\\d+)")
    async def r{i}(
        self, request: web.Request, item_id: int, counts: Body[dict[str, int]]
    ) -> None:
        return None
""",
    """
    @typedsvc.http("GET", r"/r{i}/find")
    async def r{i}(
        self,
        request: web.Request,
        color: Query[Color | None] = None,
        exact: Query[bool] = False,
        ref: Query[uuid.UUID | None] = None,
    ) -> str:
        return str(exact)
""",
)

# A wrong route: with the plugin loaded, mypy must report it, which proves the plugin ran.
_CANARY_SOURCE: Final = """\
from aiohttp import web

import typedsvc


class Canary(typedsvc.Service):
    @typedsvc.http("GET", r"/users/(?P<user_id>\\d+)")
    async def get_user(self, request: web.Request) -> str:
        return ""
"""


@dataclass(frozen=True, slots=True)
class Run:
    """One mypy process: its wall-clock seconds, and the CPU seconds it used (user + system)."""

    wall: float
    cpu: float


@dataclass(frozen=True, slots=True)
class Timing:
    """The timed runs of one configuration."""

    label: str
    runs: tuple[Run, ...]

    @property
    def median(self) -> float:
        return statistics.median(run.wall for run in self.runs)

    @property
    def best(self) -> float:
        return min(run.wall for run in self.runs)

    @property
    def median_cpu(self) -> float:
        return statistics.median(run.cpu for run in self.runs)


def service_source(routes: int, *, typed_inputs: bool = False) -> str:
    """The source of a module with one Service subclass of ``routes`` routes.

    With ``typed_inputs``, the routes read query parameters, headers, cookies and bodies.
    """
    header = _HEADER.format(routes=routes)
    shapes = _ROUTES
    if typed_inputs:
        head, _, service = header.partition("\nclass Big(")
        header = head + _INPUT_HEADER + "\nclass Big(" + service
        shapes = _INPUT_ROUTES
    parts = [header]
    parts.extend(shapes[i % len(shapes)].format(i=i) for i in range(routes))
    return "".join(parts)


def write_inputs(workdir: Path, routes: int, *, typed_inputs: bool = False) -> None:
    """Write the service, the canary and the two mypy configurations into ``workdir``."""
    (workdir / SERVICE).write_text(service_source(routes, typed_inputs=typed_inputs))
    (workdir / CANARY).write_text(_CANARY_SOURCE)
    # Alike but for the plugin line; --strict comes on the command line.
    (workdir / WITH_PLUGIN).write_text("[mypy]\nplugins = typedsvc.mypy\n")
    (workdir / WITHOUT_PLUGIN).write_text("[mypy]\n")


def check_runtime(workdir: Path, routes: int) -> None:
    """Import the generated service, so that the runtime's checks judge it too."""
    code = (
        "import service\n"
        "from typedsvc._service import routes_of\n"
        "print(len(routes_of(service.Big).routes))\n"
    )
    result = _common.run([sys.executable, "-c", code], cwd=workdir, timeout=TIMEOUT_S)
    if result.returncode != 0 or result.stdout.strip() != str(routes):
        _common.fail(f"the runtime did not accept the {routes} generated routes", result)


def mypy_command(config: str, cache_dir: Path, target: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "mypy",
        "--strict",
        "--config-file",
        config,
        "--cache-dir",
        str(cache_dir),
        target,
    ]


def children_cpu() -> float:
    """CPU seconds used so far by this process's finished children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_mypy(workdir: Path, config: str, cache_dir: Path) -> Run:
    """Run mypy on the service from an empty cache and time it; exit on any error."""
    shutil.rmtree(cache_dir, ignore_errors=True)
    cache_dir.mkdir()
    command = mypy_command(config, cache_dir, SERVICE)
    cpu_before = children_cpu()
    start = time.perf_counter()
    result = _common.run(command, cwd=workdir, timeout=TIMEOUT_S)
    wall = time.perf_counter() - start
    cpu = children_cpu() - cpu_before
    if result.returncode != 0 or not result.stdout.startswith("Success: no issues found"):
        _common.fail("mypy reported errors on the generated service", result)
    return Run(wall, cpu)


def check_canary(workdir: Path, cache_dir: Path) -> None:
    """With the plugin, mypy must flag the canary's route with [typedsvc-url]."""
    command = mypy_command(WITH_PLUGIN, cache_dir, CANARY)
    result = _common.run(command, cwd=workdir, timeout=TIMEOUT_S)
    if result.returncode != 1 or "[typedsvc-url]" not in result.stdout:
        _common.fail("the plugin did not report the canary's wrong route", result)


def measure(workdir: Path, rounds: int, warmups: int) -> tuple[Timing, Timing]:
    """Alternate cold-cache runs with and without the plugin; warm-up runs are not kept."""
    cache_dir = workdir / "cache"
    for _ in range(warmups):
        timed_mypy(workdir, WITH_PLUGIN, cache_dir)
        check_canary(workdir, cache_dir)
        timed_mypy(workdir, WITHOUT_PLUGIN, cache_dir)
    with_plugin: list[Run] = []
    without_plugin: list[Run] = []
    for index in range(rounds):
        with_plugin.append(timed_mypy(workdir, WITH_PLUGIN, cache_dir))
        without_plugin.append(timed_mypy(workdir, WITHOUT_PLUGIN, cache_dir))
        print(
            f"round {index + 1}/{rounds}: with {with_plugin[-1].wall:.2f} s, "
            f"without {without_plugin[-1].wall:.2f} s",
            file=sys.stderr,
        )
    return (
        Timing("with `plugins = typedsvc.mypy`", tuple(with_plugin)),
        Timing("without the plugin", tuple(without_plugin)),
    )


def mypy_version() -> str:
    result = _common.run([sys.executable, "-m", "mypy", "--version"], timeout=TIMEOUT_S)
    if result.returncode != 0:
        _common.fail("mypy --version failed", result)
    return result.stdout.strip()


def report(
    with_plugin: Timing, without_plugin: Timing, routes: int, warmups: int, typed_inputs: bool
) -> str:
    """The results as a markdown document."""
    overhead = with_plugin.median / without_plugin.median - 1
    cpu_overhead = with_plugin.median_cpu / without_plugin.median_cpu - 1
    verdict = "met" if overhead <= TARGET_OVERHEAD else "**not met**"
    rows = [
        f"| {timing.label} | {timing.median:.2f} | {timing.best:.2f} | {timing.median_cpu:.2f} | "
        + ", ".join(f"{run.wall:.2f}" for run in timing.runs)
        + " |"
        for timing in (with_plugin, without_plugin)
    ]
    mypy_run = shlex.join(mypy_command("CONFIG", Path("EMPTY"), SERVICE)[1:])
    lines = [
        "# What the typedsvc mypy plugin costs",
        "",
        f"`mypy --strict` on a generated module of one `typedsvc.Service` subclass with {routes} "
        + ("routes that read typed inputs (Query, Header, Cookie, Body), " if typed_inputs else "")
        + "routes, each run from a fresh empty `--cache-dir` (cold cache), runs with and without "
        f"the plugin alternating, {len(with_plugin.runs)} of each, after {warmups} untimed "
        "warm-up run(s) of each. Seconds of the whole mypy process: wall clock, and CPU (user "
        "+ system), which other load on the machine disturbs less.",
        "",
        "| mypy run | median (s) | min (s) | median CPU (s) | every run (s) |",
        "|---|---:|---:|---:|---|",
        *rows,
        "",
        f"Plugin overhead (median with / median without - 1): **{overhead:+.1%}**; "
        f"target at most {TARGET_OVERHEAD:.0%}: {verdict}. In CPU time: {cpu_overhead:+.1%}.",
        "",
        f"- typedsvc: {_common.revision()}",
        f"- mypy: {mypy_version()}",
        f"- Python: {_common.python()}",
        f"- machine: {_common.machine()}",
        f"- date: {_common.now()}",
        f"- command: `{_common.command_line()}`",
        f"- each mypy run: `python {mypy_run}`, where CONFIG holds `[mypy]` and, with the "
        "plugin, `plugins = typedsvc.mypy`, and EMPTY is a new empty directory",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="What the typedsvc mypy plugin costs.")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of each (default 3)")
    parser.add_argument("--routes", type=int, default=500, help="routes in the service (500)")
    parser.add_argument("--warmups", type=int, default=1, help="untimed runs of each first (1)")
    parser.add_argument(
        "--typed-inputs",
        action="store_true",
        help="routes that read query, header, cookie and body inputs",
    )
    args = parser.parse_args()
    if args.rounds < 1 or args.routes < 1 or args.warmups < 0:
        parser.error("--rounds and --routes must be at least 1, --warmups at least 0")
    with tempfile.TemporaryDirectory(prefix="typedsvc-bench-") as tmp:
        workdir = Path(tmp)
        write_inputs(workdir, args.routes, typed_inputs=args.typed_inputs)
        check_runtime(workdir, args.routes)
        with_plugin, without_plugin = measure(workdir, args.rounds, args.warmups)
    text = report(with_plugin, without_plugin, args.routes, args.warmups, args.typed_inputs)
    _common.write_atomically(TYPED_INPUTS_RESULTS if args.typed_inputs else RESULTS, text)
    print(text)


if __name__ == "__main__":
    main()
