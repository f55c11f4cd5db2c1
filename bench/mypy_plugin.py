"""Measure what the typedsvc mypy plugin costs: mypy --strict on a generated 500-route service.

Each timed run starts from a fresh, empty ``--cache-dir`` (a cold cache, as on a clean CI
checkout), and runs with and without ``plugins = typedsvc.mypy`` alternate so that drift in
the machine's speed falls on both alike. Writes bench/results/mypy_plugin.md.

Usage: .venv/bin/python bench/mypy_plugin.py [--rounds 3] [--routes 500]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final, NoReturn

RESULTS: Final = Path(__file__).resolve().parent / "results" / "mypy_plugin.md"
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
class Timing:
    """The wall-clock seconds of the timed runs of one configuration."""

    label: str
    seconds: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def best(self) -> float:
        return min(self.seconds)


def service_source(routes: int) -> str:
    """The source of a module with one Service subclass of ``routes`` routes."""
    parts = [_HEADER.format(routes=routes)]
    parts.extend(_ROUTES[i % len(_ROUTES)].format(i=i) for i in range(routes))
    return "".join(parts)


def write_inputs(workdir: Path, routes: int) -> None:
    """Write the service, the canary and the two mypy configurations into ``workdir``."""
    (workdir / SERVICE).write_text(service_source(routes))
    (workdir / CANARY).write_text(_CANARY_SOURCE)
    # The same configuration but for the plugin line; --strict comes on the command line.
    (workdir / WITH_PLUGIN).write_text("[mypy]\nplugins = typedsvc.mypy\n")
    (workdir / WITHOUT_PLUGIN).write_text("[mypy]\n")


def check_runtime(workdir: Path, routes: int) -> None:
    """Import the generated service, so the runtime's checks judge it too."""
    code = (
        "import service\n"
        "from typedsvc._service import routes_of\n"
        "print(len(routes_of(service.Big).routes))\n"
    )
    result = run([sys.executable, "-c", code], workdir)
    if result.returncode != 0 or result.stdout.strip() != str(routes):
        fail("the runtime rejected the generated service", result)


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


def run(command: list[str], workdir: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            command,
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        sys.exit(f"{shlex.join(command)} did not finish in {TIMEOUT_S:.0f} s; it has hung.")


def fail(what: str, result: subprocess.CompletedProcess[str]) -> NoReturn:
    sys.exit(
        f"{what}: {shlex.join(result.args)} exited {result.returncode}.\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )


def timed_mypy(workdir: Path, config: str, cache_dir: Path) -> float:
    """Run mypy on the service from an empty cache; the seconds it took, or exit on errors."""
    shutil.rmtree(cache_dir, ignore_errors=True)
    cache_dir.mkdir()
    command = mypy_command(config, cache_dir, SERVICE)
    start = time.perf_counter()
    result = run(command, workdir)
    seconds = time.perf_counter() - start
    if result.returncode != 0 or not result.stdout.startswith("Success: no issues found"):
        fail("mypy reported errors on the generated service", result)
    return seconds


def check_canary(workdir: Path, cache_dir: Path) -> None:
    """With the plugin, mypy must flag the canary's route with [typedsvc-url]."""
    result = run(mypy_command(WITH_PLUGIN, cache_dir, CANARY), workdir)
    if result.returncode != 1 or "[typedsvc-url]" not in result.stdout:
        fail("the plugin did not report the canary's wrong route", result)


def measure(workdir: Path, rounds: int, warmups: int) -> tuple[Timing, Timing]:
    """Alternate cold-cache runs with and without the plugin; warm-up runs are not kept."""
    cache_dir = workdir / "cache"
    for _ in range(warmups):
        timed_mypy(workdir, WITH_PLUGIN, cache_dir)
        check_canary(workdir, cache_dir)
        timed_mypy(workdir, WITHOUT_PLUGIN, cache_dir)
    with_plugin: list[float] = []
    without_plugin: list[float] = []
    for index in range(rounds):
        with_plugin.append(timed_mypy(workdir, WITH_PLUGIN, cache_dir))
        without_plugin.append(timed_mypy(workdir, WITHOUT_PLUGIN, cache_dir))
        print(
            f"round {index + 1}/{rounds}: with {with_plugin[-1]:.2f} s, "
            f"without {without_plugin[-1]:.2f} s",
            file=sys.stderr,
        )
    return (
        Timing("with `plugins = typedsvc.mypy`", tuple(with_plugin)),
        Timing("without the plugin", tuple(without_plugin)),
    )


def mypy_version() -> str:
    result = run([sys.executable, "-m", "mypy", "--version"], Path.cwd())
    if result.returncode != 0:
        fail("mypy --version failed", result)
    return result.stdout.strip()


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, or "" where there is none."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return ""
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            return value.strip()
    return ""


def report(with_plugin: Timing, without_plugin: Timing, routes: int, warmups: int) -> str:
    """The results as a markdown document."""
    overhead = with_plugin.median / without_plugin.median - 1
    verdict = "met" if overhead <= TARGET_OVERHEAD else "**not met**"
    rows = [
        f"| {timing.label} | {timing.median:.2f} | {timing.best:.2f} | "
        + ", ".join(f"{s:.2f}" for s in timing.seconds)
        + " |"
        for timing in (with_plugin, without_plugin)
    ]
    model = cpu_model()
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    mypy_run = shlex.join(mypy_command("<config>", Path("<fresh empty dir>"), SERVICE)[1:])
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# What the typedsvc mypy plugin costs",
        "",
        f"`mypy --strict` on a generated module of one `typedsvc.Service` subclass with {routes} "
        "routes, each run from a fresh empty `--cache-dir` (cold cache), runs with and without "
        f"the plugin alternating, {len(with_plugin.seconds)} of each, after {warmups} untimed "
        "warm-up run(s) of each. Wall-clock seconds of the whole mypy process.",
        "",
        "| mypy run | median (s) | min (s) | every run (s) |",
        "|---|---:|---:|---|",
        *rows,
        "",
        f"Plugin overhead (median with / median without - 1): **{overhead:+.1%}**; "
        f"target at most {TARGET_OVERHEAD:.0%}: {verdict}.",
        "",
        f"- mypy: {mypy_version()}",
        f"- Python: {platform.python_version()} ({platform.python_implementation()})",
        f"- machine: {machine}" + (f" ({model})" if model else ""),
        f"- date: {now}",
        f"- command: `{shlex.join(sys.orig_argv)}`",
        f"- each mypy run: `{mypy_run}`, where `<config>` holds `[mypy]` and, with the plugin, "
        "`plugins = typedsvc.mypy`",
        "",
    ]
    return "\n".join(lines)


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text)
    partial.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of each (default 3)")
    parser.add_argument("--routes", type=int, default=500, help="routes in the service")
    parser.add_argument("--warmups", type=int, default=1, help="untimed runs of each first")
    args = parser.parse_args()
    if args.rounds < 1 or args.routes < 1 or args.warmups < 0:
        parser.error("--rounds and --routes must be at least 1, --warmups at least 0")
    with tempfile.TemporaryDirectory(prefix="typedsvc-bench-") as tmp:
        workdir = Path(tmp)
        write_inputs(workdir, args.routes)
        check_runtime(workdir, args.routes)
        with_plugin, without_plugin = measure(workdir, args.rounds, args.warmups)
    text = report(with_plugin, without_plugin, args.routes, args.warmups)
    write_atomically(RESULTS, text)
    print(text)


if __name__ == "__main__":
    main()
