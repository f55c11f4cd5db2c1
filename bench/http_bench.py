"""HTTP throughput of typedsvc beside raw aiohttp and tomodachi 0.29.0, measured with wrk.

Every server runs from bench/.venv-bench (tomodachi==0.29.0, uvloop, typedsvc installed
editable with --no-deps, and .venv's versions of aiohttp, its libraries and msgspec), so all
share one interpreter and one aiohttp; tomodachi never lands in .venv. Each server is its
own process pinned to CPU 0 (``taskset -c 0``) and wrk is pinned to CPU 1. Rounds are
interleaved: every scenario runs on aiohttp, typedsvc and tomodachi back to back, then the
next scenario, then the next round; within a round, each server's run is made of 1 s slices
taken in turn with the other servers' (A B C, C B A, A B C ...), so that a slow few seconds
of the host fall on all of them. Every round starts the servers afresh, so that the median
is over several memory layouts of each process. Prints a markdown table and writes it to
bench/results/latest.md, or latest-uvloop.md with --loop uvloop (--quick, a smoke test of
this script, writes bench/results/quick.md).

Usage: ./bench/run [--rounds 3] [--duration 5] [--connections 32] [--loop asyncio|uvloop]
       [--quick]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Final, Literal, NoReturn

import _common
import _http_servers
from _http_servers import RouteSet, Scenario

Label = Literal["aiohttp", "typedsvc", "tomodachi"]

RESULTS: Final = _common.RESULTS_DIR / "latest.md"
UVLOOP_RESULTS: Final = _common.RESULTS_DIR / "latest-uvloop.md"
QUICK_RESULTS: Final = _common.RESULTS_DIR / "quick.md"
MAIN_VENV: Final = _common.ROOT / ".venv"
BENCH_VENV: Final = _common.ROOT / "bench" / ".venv-bench"
TOMODACHI: Final = "tomodachi==0.29.0"
# What BENCH_VENV was last installed with; a different text installs again.
STAMP: Final = ".bench-requirements"
SERVER_CPU: Final = "0"
WRK_CPU: Final = "1"
INSTALL_TIMEOUT_S: Final = 900.0
START_TIMEOUT_S: Final = 120.0
STOP_TIMEOUT_S: Final = 15.0
CHECK_TIMEOUT_S: Final = 10.0
# Beyond its own -d, the time a wrk run may take before it counts as hung.
WRK_SLACK_S: Final = 60.0
WARMUP_S: Final = 1
# The length of a slice: a run of --duration seconds is that many slices, each server's in
# turn with the others' (wrk's -d takes whole seconds).
SLICE_S: Final = 1
ROUTE_COUNTS: Final = (1, 100, 1000)
SHAPES: Final[tuple[_http_servers.Shape, ...]] = ("distinct", "common")
TARGET_VS_AIOHTTP: Final = 0.95
TARGET_VS_TOMODACHI: Final = 2.0
TARGET_ROUTING: Final = 0.9
# Scenarios whose typedsvc / aiohttp ratio has a target, and the target.
AIOHTTP_TARGETS: Final = {
    _http_servers.HEALTH.key: TARGET_VS_AIOHTTP,
    _http_servers.RESOURCE.key: TARGET_VS_AIOHTTP,
    _http_servers.HEADERS.key: TARGET_VS_AIOHTTP,
    _http_servers.JSON.key: TARGET_VS_AIOHTTP,
    # msgspec decodes and validates at once: the typed body should beat hand-written code.
    _http_servers.USERS_CREATE.key: 1.0,
    _http_servers.USERS_SEARCH.key: TARGET_VS_AIOHTTP,
}
# Loaded at once, each by its own wrk, after a request's runs one by one.
PAIRED: Final[tuple[Label, Label]] = ("aiohttp", "typedsvc")
# The requests whose issue targets a ratio to raw aiohttp get a paired run too.
PAIRED_SECTIONS: Final = frozenset({"scenarios", "inputs"})
RESULT_MARK: Final = "BENCH-RESULT "
# Runs after wrk's own report: one line of JSON with exact numbers, so nothing is parsed
# from wrk's rounded text. wrk's times are microseconds.
WRK_SCRIPT: Final = f"""\
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{RESULT_MARK}{{"requests": %d, "duration_us": %d, "p99_us": %f, "connect": %d, '
    .. '"read": %d, "write": %d, "status": %d, "timeout": %d}}\\n',
    summary.requests, summary.duration, latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""
_SERVER_HEADERS: Final[dict[Label, str]] = {
    "aiohttp": "Python/",
    "typedsvc": "typedsvc",
    "tomodachi": "tomodachi",
}


@dataclass(frozen=True, slots=True)
class Settings:
    rounds: int
    duration: int
    connections: int
    loop: Literal["asyncio", "uvloop"]
    quick: bool

    @property
    def results(self) -> Path:
        if self.quick:
            return QUICK_RESULTS
        return UVLOOP_RESULTS if self.loop == "uvloop" else RESULTS


@dataclass(slots=True)
class Server:
    """One server process: what it runs, where it listens, and how it must answer."""

    label: Label
    name: str
    port: int
    file: Path
    command: list[str]
    access_log: bool = False
    process: subprocess.Popen[bytes] | None = None
    checks: list[Scenario] = field(default_factory=list)

    @property
    def log(self) -> Path:
        return self.file.with_suffix(".log")


@dataclass(frozen=True, slots=True)
class Group:
    """One comparison: the same request on several servers, loaded back to back."""

    section: Literal["scenarios", "inputs", "access log", "routing"]
    scenario: Scenario
    servers: tuple[Server, ...]


@dataclass(frozen=True, slots=True)
class Slice:
    """One wrk invocation against one server, and what the server spent meanwhile."""

    requests: int
    duration_us: int
    p99_us: float
    socket_errors: int
    cpu_s: float
    wall_s: float
    steal_s: float


@dataclass(frozen=True, slots=True)
class Run:
    """One server's run in one round: the sum of its slices."""

    rps: float
    p99_ms: float
    socket_errors: int
    # The server's CPU time (user + system) per request, and its share of the wall time:
    # near 1 when the server kept CPU 0 busy, lower when something else ran there.
    cpu_us: float
    cpu_share: float
    # The share of the wall time the hypervisor ran something else on CPU 0 (steal time).
    steal_share: float

    @classmethod
    def of(cls, slices: Sequence[Slice]) -> Run:
        """A run of ``slices``: req/s over their summed time, the median of their p99s."""
        requests = sum(part.requests for part in slices)
        cpu = sum(part.cpu_s for part in slices)
        wall = sum(part.wall_s for part in slices)
        return cls(
            rps=requests / (sum(part.duration_us for part in slices) / 1e6),
            p99_ms=statistics.median(part.p99_us for part in slices) / 1000,
            socket_errors=sum(part.socket_errors for part in slices),
            cpu_us=cpu / requests * 1e6,
            cpu_share=cpu / wall,
            steal_share=sum(part.steal_s for part in slices) / wall,
        )


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(
        prog="./bench/run", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3; --quick: 1)")
    parser.add_argument("--duration", type=int, help="seconds per wrk run (default 5; --quick: 2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk -c (default 32)")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke-test this script: 1 round of 2 s runs on a subset of the scenarios",
    )
    args = parser.parse_args(argv)
    rounds = args.rounds if args.rounds is not None else 1 if args.quick else 3
    duration = args.duration if args.duration is not None else 2 if args.quick else 5
    if rounds < 1 or duration < 1 or args.connections < 1:
        parser.error("--rounds, --duration and --connections must be at least 1")
    return Settings(rounds, duration, args.connections, args.loop, args.quick)


def ensure_tools() -> str:
    """The path of wrk, installed with apt-get when it is missing; exit if it cannot be."""
    if shutil.which("taskset") is None:
        sys.exit(
            "taskset is not on PATH; it pins servers and wrk to their CPUs. It is part of "
            "util-linux: apt-get install -y util-linux."
        )
    return ensure_tool("wrk", "wrk", "the HTTP load generator")


def ensure_tool(command: str, package: str, what: str) -> str:
    """The path of ``command``, installed with apt-get when it is missing; exit if it cannot be."""
    found = shutil.which(command)
    if found is not None:
        return found
    how = f"apt-get update && apt-get install -y {package}"
    problem = "apt-get is not available" if shutil.which("apt-get") is None else ""
    if not problem and os.geteuid() != 0:
        problem = "this script is not running as root"
    if not problem:
        print(f"{command} is not on PATH; installing it: {how}", file=sys.stderr)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for step in (["apt-get", "update"], ["apt-get", "install", "-y", package]):
            result = _common.run(step, timeout=INSTALL_TIMEOUT_S, env=env)
            if result.returncode != 0:
                problem = f"`{shlex.join(step)}` failed:\n{result.stdout}{result.stderr}"
                break
        found = shutil.which(command)
        if found is not None:
            return found
        problem = problem or f"apt-get installed a {command} that is not on PATH"
    sys.exit(
        f"{command}, {what}, is missing and could not be installed ({problem}).\n"
        f"Install it, then run the benchmark again:\n"
        f"  Debian or Ubuntu: sudo sh -c '{how}'\n"
        "  (the benchmarks need Linux: they pin CPUs with taskset and read /proc)"
    )


def version_in(venv: Path, distribution: str) -> str:
    """The installed version of ``distribution`` in ``venv``."""
    code = "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))"
    result = _common.run(
        [str(venv / "bin" / "python"), "-c", code, distribution], timeout=CHECK_TIMEOUT_S * 6
    )
    if result.returncode != 0:
        _common.fail(f"{distribution} is not installed in {venv}", result)
    return result.stdout.strip()


# What the aiohttp and typedsvc servers run on a request, at .venv's versions: what the tests
# run and a user installs today. Left unpinned, BENCH_VENV kept what it was created with (in
# one run, multidict 6.9.1 beside .venv's 7.2.1), and multidict's speed is part of both sides'.
SHARED_DISTRIBUTIONS: Final = (
    "aiohttp",
    "multidict",
    "yarl",
    "propcache",
    "frozenlist",
    "aiosignal",
    # typedsvc's other runtime dependencies; typedsvc itself goes in with --no-deps.
    "msgspec",
    "typing-extensions",
)


def ensure_bench_venv() -> None:
    """Create or update BENCH_VENV: tomodachi, uvloop, typedsvc editable, and the libraries
    the servers share at .venv's versions."""
    requirements = [
        TOMODACHI,
        "uvloop",
        *(f"{name}=={version_in(MAIN_VENV, name)}" for name in SHARED_DISTRIBUTIONS),
    ]
    pyproject = (_common.ROOT / "pyproject.toml").read_text()
    wanted = "\n".join([*requirements, f"-e {_common.ROOT} --no-deps", pyproject]) + "\n"
    stamp = BENCH_VENV / STAMP
    if stamp.is_file() and stamp.read_text() == wanted:
        return
    if not (BENCH_VENV / "bin" / "python").exists():
        print(f"Creating {BENCH_VENV}", file=sys.stderr)
        created = _common.run(
            [sys.executable, "-m", "venv", str(BENCH_VENV)], timeout=INSTALL_TIMEOUT_S
        )
        if created.returncode != 0:
            _common.fail(f"could not create {BENCH_VENV}", created)
    pip = [str(BENCH_VENV / "bin" / "python"), "-m", "pip", "install"]
    pip += ["--disable-pip-version-check", "--quiet"]
    for step in (requirements, ["--no-deps", "-e", str(_common.ROOT)]):
        print(f"Installing {' '.join(step)} into {BENCH_VENV}", file=sys.stderr)
        installed = _common.run([*pip, *step], timeout=INSTALL_TIMEOUT_S)
        if installed.returncode != 0:
            _common.fail(f"could not install into {BENCH_VENV}", installed)
    stamp.write_text(wanted)


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports that nothing listens on at 127.0.0.1 right now."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def plan(settings: Settings, workdir: Path) -> tuple[list[Server], list[Group]]:
    """Write every server's file into ``workdir``; the servers and the comparisons to run."""
    route_sets = [
        RouteSet(shape, count)
        for shape in SHAPES
        for count in ROUTE_COUNTS
        if not settings.quick or count != 100
    ]
    ports = iter(free_ports(5 + 2 * len(route_sets)))
    made: list[Server] = []

    def add(
        label: Label, name: str, source: Callable[[int], str], access_log: bool = False
    ) -> Server:
        port = next(ports)
        file = workdir / f"{name}.py"
        file.write_text(source(port))
        command = server_command(label, file, port, settings.loop, access_log)
        made.append(Server(label, name, port, file, command, access_log))
        return made[-1]

    trio = (
        add("aiohttp", "aiohttp_main", lambda port: _http_servers.aiohttp_source()),
        add("typedsvc", "typedsvc_main", partial(_http_servers.typedsvc_source, access_log=False)),
        add("tomodachi", "tomodachi_main", _http_servers.tomodachi_source),
    )
    logged = (
        add("aiohttp", "aiohttp_access_log", lambda port: _http_servers.aiohttp_source(), True),
        add(
            "typedsvc",
            "typedsvc_access_log",
            partial(_http_servers.typedsvc_source, access_log=True),
            True,
        ),
    )
    chosen = (
        (_http_servers.HEALTH, _http_servers.JSON) if settings.quick else _http_servers.SCENARIOS
    )
    groups = [Group("scenarios", scenario, trio) for scenario in chosen]
    groups.extend(Group("inputs", scenario, trio[:2]) for scenario in _http_servers.INPUT_SCENARIOS)
    groups.append(Group("access log", _http_servers.HEALTH, logged))
    for routes in route_sets:
        name = f"{routes.shape}_{routes.count}"
        pair = (
            add("aiohttp", f"aiohttp_{name}", partial(_aiohttp_routes, routes=routes)),
            add(
                "typedsvc",
                f"typedsvc_{name}",
                partial(_http_servers.typedsvc_routes_source, routes=routes),
            ),
        )
        last = routes.count - 1
        hits = [0] if last == 0 else [last] if settings.quick else [0, last]
        groups.extend(Group("routing", routes.scenario(index), pair) for index in hits)
    for group in groups:
        for server in group.servers:
            server.checks.append(group.scenario)
    return made, groups


def _aiohttp_routes(port: int, routes: RouteSet) -> str:
    return _http_servers.aiohttp_routes_source(routes)


def server_command(label: Label, file: Path, port: int, loop: str, access_log: bool) -> list[str]:
    """The command that serves ``file`` on ``port`` from BENCH_VENV."""
    bin = BENCH_VENV / "bin"
    if label == "aiohttp":
        command = [str(bin / "python"), str(file), "--port", str(port), "--loop", loop]
        return [*command, "--access-log"] if access_log else command
    if label == "typedsvc":
        return [str(bin / "typedsvc"), "run", str(file), "--port", str(port), "--loop", loop]
    # tomodachi takes the port from the service's options only, and the file relative to
    # the working directory (the file's). --production: no watcher restarting on changes.
    return [str(bin / "tomodachi"), "run", "--production", "--loop", loop, file.name]


def server_env() -> dict[str, str]:
    # PYTHON* (dev mode, asyncio debug, tracemalloc ...) and TOMODACHI_* settings of the
    # caller would change what is measured, for some servers only.
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "TOMODACHI_", "VIRTUAL_ENV"))
    }


def start(all_servers: list[Server], workdir: Path) -> None:
    """Start every server on SERVER_CPU and wait until each accepts connections."""
    env = server_env()
    for server in all_servers:
        command = ["taskset", "-c", SERVER_CPU, *server.command]
        server.process = spawn(command, server.log, workdir, env)
    deadline = time.monotonic() + START_TIMEOUT_S
    for server in all_servers:
        while not accepts(server.port):
            if not _alive(server):
                _server_failed(server, "exited before it accepted connections")
            if time.monotonic() > deadline:
                _server_failed(server, f"did not accept connections in {START_TIMEOUT_S:.0f} s")
            time.sleep(0.1)


def spawn(command: list[str], log: Path, cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start a server in a process group of its own, its output going to ``log``."""
    with log.open("wb") as output:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _alive(server: Server) -> bool:
    return server.process is not None and server.process.poll() is None


def _server_failed(server: Server, what: str) -> NoReturn:
    log = server.log.read_text(errors="replace")[-4000:] if server.log.exists() else ""
    sys.exit(
        f"{server.name} ({server.label}, port {server.port}) {what}.\n"
        f"command: {shlex.join(server.command)}\nits output (last 4000 characters):\n{log}"
    )


def stop(all_servers: list[Server]) -> None:
    """End every server this script started: SIGTERM, then SIGKILL after STOP_TIMEOUT_S."""
    started = [server.process for server in all_servers if server.process is not None]
    _common.stop_groups(started, STOP_TIMEOUT_S)


def check(all_servers: list[Server], loop: str) -> None:
    """Exit unless every server answers each of its requests as expected, over keep-alive,
    runs uvloop exactly when asked, and writes an access log line exactly when it should."""
    for server in all_servers:
        if server.process is None:
            _server_failed(server, "was never started")
        # taskset execs the server, so the pid is the server's own.
        maps = Path(f"/proc/{server.process.pid}/maps").read_text()
        if ("/uvloop/" in maps) != (loop == "uvloop"):
            state = "has" if "/uvloop/" in maps else "has not"
            _server_failed(server, f"{state} loaded uvloop, with --loop {loop}")
        for scenario in server.checks:
            problems = _answer_problems(server, scenario)
            if problems:
                what = f"{scenario.method} {scenario.path}"
                _server_failed(server, f"answered {what} wrongly: {problems}")
    # stderr is line-buffered in the servers, so an access line is there by now or never.
    time.sleep(0.5)
    for server in all_servers:
        first = server.checks[0]
        logged = f"{first.method} {first.path}" in server.log.read_text(errors="replace")
        if logged != server.access_log:
            state = "writes" if logged else "does not write"
            _server_failed(server, f"{state} an access log line, against its settings")


def _answer_problems(server: Server, scenario: Scenario) -> str:
    """What is wrong with ``server``'s answer to ``scenario``; "" when nothing is."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=CHECK_TIMEOUT_S)
    with closing(connection):
        connection.request(
            scenario.method,
            scenario.path,
            body=scenario.request_body or None,
            headers=dict(scenario.request_headers),
        )
        response = connection.getresponse()
        body = response.read()
    problems = []
    if response.status != scenario.status:
        problems.append(f"status {response.status}, not {scenario.status}")
    same = json.loads(body) == json.loads(scenario.body) if scenario.json_body else None
    if not same and body != scenario.body:
        problems.append(f"body {body!r}, not {scenario.body!r}")
    for name, value in scenario.headers:
        if response.getheader(name) != value:
            problems.append(f"header {name}: {response.getheader(name)!r}, not {value!r}")
    served_by = response.getheader("Server", "")
    if not served_by.startswith(_SERVER_HEADERS[server.label]):
        problems.append(f"Server header {served_by!r}: another program answers on the port")
    if response.will_close:
        problems.append("the connection closes after the response: keep-alive is off")
    return "; ".join(problems)


def sliced_runs(
    wrk: str, script: Path, servers: Sequence[Server], scenario: Scenario, settings: Settings
) -> list[Run]:
    """One run of ``settings.duration`` s per server, in 1 s slices taken in turn."""
    slices: list[list[Slice]] = [[] for _ in servers]
    order = list(zip(servers, slices, strict=True))
    for number in range(settings.duration // SLICE_S):
        # A B C, then C B A: a drift of the host's speed within the round favours no server.
        for server, taken in order if number % 2 == 0 else order[::-1]:
            taken.extend(wrk_runs(wrk, script, (server,), scenario, SLICE_S, settings.connections))
    return [Run.of(taken) for taken in slices]


def wrk_runs(
    wrk: str,
    script: Path,
    servers: Sequence[Server],
    scenario: Scenario,
    seconds: int,
    conns: int,
) -> list[Slice]:
    """Load each of ``servers`` with its own wrk, all at once; one Slice per server."""
    for server in servers:
        if not _alive(server):
            _server_failed(server, "has exited")
    load = ["taskset", "-c", WRK_CPU, wrk, "-t1", f"-c{conns}", f"-d{seconds}s", "--latency"]
    script = _request_script(script, scenario)
    commands = [
        [*load, "-s", str(script), f"http://127.0.0.1:{server.port}{scenario.path}"]
        for server in servers
    ]
    cpu_before = [_cpu_seconds(server) for server in servers]
    steal_before, wall_before = _steal(), time.monotonic()
    loads = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for command in commands
    ]
    try:
        outputs = [running.communicate(timeout=seconds + WRK_SLACK_S) for running in loads]
    except subprocess.TimeoutExpired:
        for running in loads:
            running.kill()
        sys.exit(f"wrk did not finish in {seconds + WRK_SLACK_S:.0f} s; it has hung.")
    wall = time.monotonic() - wall_before
    steal = _steal() - steal_before
    taken: list[Slice] = []
    for server, command, running, (stdout, stderr), before in zip(
        servers, commands, loads, outputs, cpu_before, strict=True
    ):
        cpu = _cpu_seconds(server) - before
        result = subprocess.CompletedProcess(command, running.returncode, stdout, stderr)
        taken.append(_slice_of(result, server, scenario, cpu, wall, steal))
    return taken


def _request_script(done: Path, scenario: Scenario) -> Path:
    """``done`` (the script that reports), with the scenario's method, headers and body."""
    if scenario.method == "GET" and not scenario.request_body and not scenario.request_headers:
        return done
    script = done.with_name(f"request-{scenario.key}.lua")
    if not script.exists():
        lines = [f"wrk.method = {_lua(scenario.method)}"]
        lines += [
            f"wrk.headers[{_lua(name)}] = {_lua(value)}" for name, value in scenario.request_headers
        ]
        if scenario.request_body:
            lines.append(f"wrk.body = {_lua(scenario.request_body.decode())}")
        script.write_text("\n".join(lines) + "\n" + done.read_text())
    return script


def _lua(text: str) -> str:
    """A Lua string literal of ``text`` (a JSON string literal is one)."""
    return json.dumps(text)


def _slice_of(
    result: subprocess.CompletedProcess[str],
    server: Server,
    scenario: Scenario,
    cpu: float,
    wall: float,
    steal: float,
) -> Slice:
    """What one wrk run measured; exits on non-2xx or a dead server."""
    if result.returncode != 0:
        _common.fail("wrk failed", result)
    if not _alive(server):
        _server_failed(server, f"exited while loaded with {scenario.method} {scenario.path}")
    lines = [line for line in result.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if not lines:
        _common.fail("wrk printed no result line", result)
    numbers = json.loads(lines[-1].removeprefix(RESULT_MARK))
    if numbers["status"] or not numbers["requests"]:
        _common.fail(
            f"{server.name} answered {numbers['status']} of {numbers['requests']} requests to "
            f"{scenario.method} {scenario.path} with a status that is not 2xx or 3xx",
            result,
        )
    errors = sum(numbers[kind] for kind in ("connect", "read", "write", "timeout"))
    return Slice(
        requests=numbers["requests"],
        duration_us=numbers["duration_us"],
        p99_us=numbers["p99_us"],
        socket_errors=errors,
        cpu_s=cpu,
        wall_s=wall,
        steal_s=steal,
    )


def _steal() -> float:
    """Seconds the hypervisor has taken SERVER_CPU for something else (0 on bare metal)."""
    for line in Path("/proc/stat").read_text().splitlines():
        fields = line.split()
        # cpuN user nice system idle iowait irq softirq steal ...
        if fields[0] == f"cpu{SERVER_CPU}" and len(fields) > 8:
            return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    return 0.0


def _cpu_seconds(server: Server) -> float:
    """The CPU time (user + system) ``server`` has used so far."""
    if server.process is None:
        _server_failed(server, "was never started")
    stat = Path(f"/proc/{server.process.pid}/stat").read_text()
    # After the command name in parentheses, fields[0] is field 3 of proc(5); utime and
    # stime are fields 14 and 15, in clock ticks.
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


Results = dict[tuple[int, str], list[Run]]


def measure(
    settings: Settings,
    all_servers: list[Server],
    groups: list[Group],
    workdir: Path,
    wrk: str,
    script: Path,
    revision: str,
) -> Results:
    """Every group on each of its servers in turn, for ``settings.rounds`` rounds, each
    round on servers started for it."""
    results: Results = {}
    for round_number in range(1, settings.rounds + 1):
        # A process's memory layout (where address-space randomization puts its heap and
        # libraries, the order Python's hash seed gives its dicts) moves its speed by a few
        # percent for as long as it lives: the median ratio of two identical aiohttp servers
        # went from 0.97 to 1.04 over six starts (bench/layout.py). Fresh processes each
        # round make the rounds' median one over several layouts, not one draw a run.
        if round_number > 1:
            stop(all_servers)
            now = _common.revision()
            if now != revision:
                sys.exit(
                    f"The checkout changed during the run ({revision} when it started, "
                    f"{now} now): the rounds would serve different code."
                )
        print(f"Starting {len(all_servers)} servers in {workdir}", file=sys.stderr)
        start(all_servers, workdir)
        check(all_servers, settings.loop)
        for index, group in enumerate(groups):
            for server in group.servers:
                # Untimed: connections, caches and the allocator settle first.
                wrk_runs(wrk, script, (server,), group.scenario, WARMUP_S, settings.connections)
            runs = sliced_runs(wrk, script, group.servers, group.scenario, settings)
            for server, run in zip(group.servers, runs, strict=True):
                results.setdefault((index, server.label), []).append(run)
                print(
                    f"round {round_number}/{settings.rounds} {group.section}: "
                    f"{group.scenario.title}: {server.label} {run.rps:,.0f} req/s, "
                    f"p99 {run.p99_ms:.2f} ms",
                    file=sys.stderr,
                )
            if group.section in PAIRED_SECTIONS:
                pair = [server for server in group.servers if server.label in PAIRED]
                runs = [
                    Run.of([part])
                    for part in wrk_runs(
                        wrk, script, pair, group.scenario, settings.duration, settings.connections
                    )
                ]
                for server, run in zip(pair, runs, strict=True):
                    results.setdefault((index, f"paired {server.label}"), []).append(run)
                print(
                    f"round {round_number}/{settings.rounds} paired: {group.scenario.title}: "
                    + ", ".join(
                        f"{server.label} {run.rps:,.0f} req/s"
                        for server, run in zip(pair, runs, strict=True)
                    ),
                    file=sys.stderr,
                )
    return results


def median_rps(runs: list[Run]) -> float:
    return statistics.median(run.rps for run in runs)


def median_p99(runs: list[Run]) -> float:
    return statistics.median(run.p99_ms for run in runs)


def median_cpu(runs: list[Run]) -> float:
    return statistics.median(run.cpu_us for run in runs)


def median_ratio(top: list[Run], bottom: list[Run]) -> float:
    """The median over rounds of ``top`` / ``bottom`` req/s, each pair from the same round."""
    return statistics.median(a.rps / b.rps for a, b in zip(top, bottom, strict=True))


def median_cpu_ratio(top: list[Run], bottom: list[Run]) -> float:
    """As median_ratio, from CPU time per request: ``bottom``'s cost / ``top``'s."""
    return statistics.median(b.cpu_us / a.cpu_us for a, b in zip(top, bottom, strict=True))


def mark(value: float, target: float) -> str:
    return f"**{value:.2f}** {'✓' if value >= target else '✗'} (≥ {target:g})"


@dataclass(slots=True)
class Verdicts:
    """Every target, met or not, for the summary."""

    lines: list[str] = field(default_factory=list)
    missed: int = 0

    def add(self, what: str, value: float, target: float) -> None:
        if value >= target:
            self.lines.append(f"- met: {what} = {value:.3f} (target ≥ {target:g})")
            return
        self.missed += 1
        short = (1 - value / target) * 100
        self.lines.append(
            f"- **missed**: {what} = {value:.3f}, {short:.1f} % below the target of {target:g}"
        )


def scenario_table(groups: list[Group], results: Results, verdicts: Verdicts) -> list[str]:
    lines = [
        "| scenario | aiohttp req/s | typedsvc req/s | tomodachi req/s | aiohttp p99 "
        "| typedsvc p99 | tomodachi p99 | typedsvc / aiohttp | typedsvc / tomodachi |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for index, group in enumerate(groups):
        if group.section != "scenarios":
            continue
        runs = {label: results[index, label] for label in ("aiohttp", "typedsvc", "tomodachi")}
        vs_aiohttp = median_ratio(runs["typedsvc"], runs["aiohttp"])
        vs_tomodachi = median_ratio(runs["typedsvc"], runs["tomodachi"])
        title = group.scenario.title
        target = AIOHTTP_TARGETS.get(group.scenario.key)
        if target is not None:
            aiohttp_cell = mark(vs_aiohttp, target)
            verdicts.add(f"typedsvc / aiohttp on {title}", vs_aiohttp, target)
        else:
            aiohttp_cell = f"{vs_aiohttp:.2f}"
        verdicts.add(f"typedsvc / tomodachi on {title}", vs_tomodachi, TARGET_VS_TOMODACHI)
        lines.append(
            "| "
            + " | ".join(
                [
                    title,
                    *(f"{median_rps(r):,.0f}" for r in runs.values()),
                    *(f"{median_p99(r):.2f} ms" for r in runs.values()),
                    aiohttp_cell,
                    mark(vs_tomodachi, TARGET_VS_TOMODACHI),
                ]
            )
            + " |"
        )
    return lines


def cpu_table(groups: list[Group], results: Results) -> list[str]:
    lines = [
        "| scenario | aiohttp CPU µs/req | typedsvc CPU µs/req | tomodachi CPU µs/req "
        "| typedsvc / aiohttp by CPU | typedsvc / tomodachi by CPU |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for index, group in enumerate(groups):
        if group.section != "scenarios":
            continue
        runs = {label: results[index, label] for label in ("aiohttp", "typedsvc", "tomodachi")}
        cells = [
            group.scenario.title,
            *(f"{median_cpu(r):.1f}" for r in runs.values()),
            f"{median_cpu_ratio(runs['typedsvc'], runs['aiohttp']):.2f}",
            f"{median_cpu_ratio(runs['typedsvc'], runs['tomodachi']):.2f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def paired_table(groups: list[Group], results: Results) -> list[str]:
    lines = [
        "| scenario | aiohttp req/s | typedsvc req/s | typedsvc / aiohttp | in each round |",
        "|---|---:|---:|---:|---|",
    ]
    for index, group in enumerate(groups):
        if group.section not in PAIRED_SECTIONS:
            continue
        aiohttp, typedsvc = results[index, "paired aiohttp"], results[index, "paired typedsvc"]
        each = ", ".join(f"{a.rps / b.rps:.2f}" for a, b in zip(typedsvc, aiohttp, strict=True))
        lines.append(
            f"| {group.scenario.title} | {median_rps(aiohttp):,.0f} | {median_rps(typedsvc):,.0f} "
            f"| {median_ratio(typedsvc, aiohttp):.2f} | {each} |"
        )
    return lines


def pair_table(groups: list[Group], results: Results, section: str) -> list[str]:
    lines = [
        "| request | aiohttp req/s | typedsvc req/s | aiohttp p99 | typedsvc p99 "
        "| typedsvc / aiohttp | CPU µs/req aiohttp, typedsvc | by CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for index, group in enumerate(groups):
        if group.section != section:
            continue
        aiohttp, typedsvc = results[index, "aiohttp"], results[index, "typedsvc"]
        lines.append(
            f"| {group.scenario.title} (`{group.scenario.path}`) "
            f"| {median_rps(aiohttp):,.0f} | {median_rps(typedsvc):,.0f} "
            f"| {median_p99(aiohttp):.2f} ms | {median_p99(typedsvc):.2f} ms "
            f"| {median_ratio(typedsvc, aiohttp):.2f} "
            f"| {median_cpu(aiohttp):.1f}, {median_cpu(typedsvc):.1f} "
            f"| {median_cpu_ratio(typedsvc, aiohttp):.2f} |"
        )
    return lines


def inputs_verdicts(groups: list[Group], results: Results, verdicts: Verdicts) -> list[str]:
    """The targets of the typed-input requests, typedsvc / aiohttp."""
    lines = []
    for index, group in enumerate(groups):
        if group.section != "inputs":
            continue
        target = AIOHTTP_TARGETS[group.scenario.key]
        ratio = median_ratio(results[index, "typedsvc"], results[index, "aiohttp"])
        verdicts.add(f"typedsvc / aiohttp on {group.scenario.title}", ratio, target)
        lines.append(f"- {group.scenario.title}: typedsvc / aiohttp {mark(ratio, target)}")
    return lines


def routing_scale(groups: list[Group], results: Results, verdicts: Verdicts) -> list[str]:
    """Per shape: the last route of the largest service against the one-route service."""
    keys = {group.scenario.key: index for index, group in enumerate(groups)}
    largest = max(ROUTE_COUNTS)
    lines = []
    for shape in SHAPES:
        one = keys[f"{shape}-1-first"]
        last = keys[f"{shape}-{largest}-last"]
        ratios = {
            label: median_ratio(results[last, label], results[one, label])
            for label in ("typedsvc", "aiohttp")
        }
        what = f"typedsvc, {shape} prefixes: last of {largest} routes / one-route service"
        verdicts.add(what, ratios["typedsvc"], TARGET_ROUTING)
        lines.append(
            f"- {shape} prefixes, last route of {largest} / the one-route service: typedsvc "
            f"{mark(ratios['typedsvc'], TARGET_ROUTING)}; raw aiohttp {ratios['aiohttp']:.2f}"
        )
    return lines


def every_round(groups: list[Group], results: Results) -> list[str]:
    lines = [
        "| section | request | server | req/s in each round | p99 (ms) in each round "
        "| server CPU share in each round | CPU 0 steal in each round |",
        "|---|---|---|---|---|---|---|",
    ]
    for index, group in enumerate(groups):
        for server in group.servers:
            runs = results[index, server.label]
            errors = sum(run.socket_errors for run in runs)
            note = f" ({errors} socket errors)" if errors else ""
            lines.append(
                f"| {group.section} | `{group.scenario.path}` | {server.label}{note} "
                f"| {', '.join(f'{run.rps:,.0f}' for run in runs)} "
                f"| {', '.join(f'{run.p99_ms:.2f}' for run in runs)} "
                f"| {', '.join(f'{run.cpu_share:.0%}' for run in runs)} "
                f"| {', '.join(f'{run.steal_share:.0%}' for run in runs)} |"
            )
    return lines


def report(
    settings: Settings,
    groups: list[Group],
    results: Results,
    facts: dict[str, str],
    all_servers: list[Server],
    workdir: Path,
) -> str:
    """The results as a markdown document."""
    verdicts = Verdicts()
    scenarios = scenario_table(groups, results, verdicts)
    scale = routing_scale(groups, results, verdicts)
    quick = (
        "**Quick run (`--quick`): a smoke test of the script, 1 round of short runs on a "
        "subset of the scenarios. Not a measurement.**\n\n"
        if settings.quick
        else ""
    )
    errors = sum(run.socket_errors for runs in results.values() for run in runs)
    lines = [
        "# HTTP throughput: typedsvc beside raw aiohttp and tomodachi",
        "",
        quick + f"wrk, 1 thread, {settings.connections} keep-alive connections, "
        f"{settings.duration} s per run (after one untimed {WARMUP_S} s run), "
        f"event loop **{settings.loop}**. Each server is its own process pinned to CPU "
        f"{SERVER_CPU}, wrk is pinned to CPU {WRK_CPU}. {settings.rounds} round(s), each on "
        "servers started for it (a process's memory layout sets its speed within a few "
        "percent for its whole life), interleaved: each request runs on aiohttp, typedsvc "
        "(and tomodachi) back to back, "
        "then the next request, then the next round; within a round each server's run is "
        f"made of {SLICE_S} s slices taken in turn with the other servers' (A B C, C B A, ...), "
        "and its p99 is the median of its slices'. req/s and p99 latency are medians over "
        "the rounds; a ratio is the median of the ratios within each round (both runs "
        "minutes apart at most), so it need not equal the ratio of the medians shown. "
        "Access logs are off and keep-alive is on in every server unless said otherwise.",
        "",
        "## Scenarios",
        "",
        *scenarios,
        "",
        "The server's CPU time (user + system, from /proc) per request, and the ratios it "
        "gives (the other server's cost / typedsvc's): the cost of each framework, which "
        "other load on CPU 0 disturbs less than req/s. The targets are judged on req/s.",
        "",
        *cpu_table(groups, results),
        "",
        "## Paired: aiohttp and typedsvc loaded at once",
        "",
        f"After the runs one by one of each scenario and each typed-input request, in every "
        f"round: the aiohttp and typedsvc "
        f"servers both on CPU {SERVER_CPU} at the same time, each loaded by its own wrk on "
        f"CPU {WRK_CPU} with the settings above. The two share whatever the machine gives "
        "CPU 0 during those seconds, so a slow moment of the host (steal, a neighbour) "
        "slows both alike and leaves their ratio alone; the ratio is the share of the CPU "
        "each needs per request. A check on the ratios above, which the targets are judged "
        "on.",
        "",
        *paired_table(groups, results),
        "",
        "## Typed inputs",
        "",
        "A JSON body validated into a `msgspec.Struct` and answered as `JsonResponse[User]`, "
        "against raw aiohttp's `await request.json()`, each field checked by hand and "
        "`web.json_response`; and three query parameters (`Query[str]`, `Query[int]`, "
        "`Query[list[str]]`) against `request.query` read and converted by hand. Both answer "
        "the same; the same servers as the scenarios above.",
        "",
        *pair_table(groups, results, "inputs"),
        "",
        *inputs_verdicts(groups, results, verdicts),
        "",
        "## Access logs on (GET /health)",
        "",
        "The same services with an access log line per request, written to a file "
        "(aiohttp's `aiohttp.access` logger, typedsvc's `access_log=True`).",
        "",
        *pair_table(groups, results, "access log"),
        "",
        "## Routing scale",
        "",
        f"Services of {', '.join(map(str, ROUTE_COUNTS))} routes with one str group each: "
        "distinct prefixes (`/r0/(?P<id>[^/]+)` ... `/r999/...`) and a long common prefix "
        "that differs only before the group (`/api/v1/catalogue/items/by-name/item0000/"
        "(?P<id>[^/]+)` ...), each hit on its first and its last route.",
        "",
        *pair_table(groups, results, "routing"),
        "",
        *scale,
        "",
        "## Targets",
        "",
        *verdicts.lines,
        "",
        f"{len(verdicts.lines) - verdicts.missed} of {len(verdicts.lines)} targets met."
        + (f" wrk counted {errors} socket errors in all (see below)." if errors else ""),
        "",
        "## Every round",
        "",
        "Server CPU share: the server's CPU time over the wall time of the run; near 100 % "
        "when the server kept CPU 0 busy, lower when something else took CPU 0 or wrk was "
        "slow. CPU 0 steal: the share of the run the hypervisor gave CPU 0 to another "
        "machine; runs with much of it are slower for no fault of the server.",
        "",
        *every_round(groups, results),
        "",
        "## How it ran",
        "",
        f"- command: `{facts['command']}`",
        f"- each load: `{facts['wrk command']}`",
        *(f"- {key}: {value}" for key, value in facts.items() if key.endswith("version")),
        f"- load average (1, 5, 15 min) before the servers started: "
        f"{facts['load average before']}; after the last run: {facts['load average after']} "
        "(a loaded server and wrk make about 2; more means something else ran too)",
        f"- typedsvc: {facts['revision']} (each round's servers started from it)",
        f"- machine: {_common.machine()}",
        f"- date: {_common.now()}",
        "- servers (files generated by `bench/_http_servers.py`, run from "
        f"`{BENCH_VENV.relative_to(_common.ROOT)}`):",
        *(
            f"  - `taskset -c {SERVER_CPU} {_shown(server.command, workdir)}`"
            + (" in TMP" if server.label == "tomodachi" else "")
            for server in all_servers
        ),
        "",
    ]
    return "\n".join(lines)


def _shown(command: list[str], workdir: Path) -> str:
    """``command`` with the bench venv relative to the checkout and the temporary dir as TMP."""
    text = shlex.join(command).replace(str(workdir), "TMP")
    return text.replace(str(BENCH_VENV), str(BENCH_VENV.relative_to(_common.ROOT)))


def facts(settings: Settings, wrk: str) -> dict[str, str]:
    """The command, the load, and the versions of everything measured."""
    wrk_version = _common.run([wrk, "-v"], timeout=CHECK_TIMEOUT_S)
    versions = {
        name: version_in(BENCH_VENV, name)
        for name in ("typedsvc", "aiohttp", "multidict", "yarl", "msgspec", "tomodachi", "uvloop")
    }
    python = _common.run(
        [
            str(BENCH_VENV / "bin" / "python"),
            "-c",
            "import platform; print(platform.python_version())",
        ],
        timeout=CHECK_TIMEOUT_S,
    )
    uvloop_note = "" if settings.loop == "uvloop" else " (installed, not used)"
    return {
        "command": os.environ.get("TYPEDSVC_BENCH_COMMAND", "").strip() or _common.command_line(),
        "wrk command": f"taskset -c {WRK_CPU} wrk -t1 -c{settings.connections} "
        f"-d{SLICE_S}s --latency -s done.lua http://127.0.0.1:PORT/PATH, a slice "
        f"({settings.duration // SLICE_S} a run); a paired run: the same with "
        f"-d{settings.duration}s, one wrk for each of the two servers",
        "wrk version": (wrk_version.stdout + wrk_version.stderr).strip().splitlines()[0],
        "Python version": f"{python.stdout.strip()} (all servers)",
        "typedsvc version": versions["typedsvc"],
        "aiohttp version": f"{versions['aiohttp']} (multidict {versions['multidict']}, "
        f"yarl {versions['yarl']}), msgspec {versions['msgspec']}",
        "tomodachi version": versions["tomodachi"],
        "uvloop version": versions["uvloop"] + uvloop_note,
        # Read before the first servers import typedsvc; measure() stops if it changes.
        "revision": _common.revision(),
    }


def _load_average() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    settings = parse_args()
    # A SIGTERM unwinds like Ctrl-C, so the servers are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if not {0, 1} <= os.sched_getaffinity(0):
        sys.exit("This benchmark needs CPUs 0 and 1: servers run on CPU 0 and wrk on CPU 1.")
    wrk = ensure_tools()
    ensure_bench_venv()
    known = facts(settings, wrk)
    all_servers: list[Server] = []
    with tempfile.TemporaryDirectory(prefix="typedsvc-http-bench-") as tmp:
        workdir = Path(tmp)
        script = workdir / "done.lua"
        script.write_text(WRK_SCRIPT)
        try:
            all_servers, groups = plan(settings, workdir)
            known["load average before"] = _load_average()
            # This script waits while wrk runs; keep even that off the servers' CPU.
            os.sched_setaffinity(0, {int(WRK_CPU)})
            results = measure(
                settings, all_servers, groups, workdir, wrk, script, known["revision"]
            )
            known["load average after"] = _load_average()
        finally:
            stop(all_servers)
    text = report(settings, groups, results, known, all_servers, workdir)
    _common.write_atomically(settings.results, text)
    print(text)
    print(f"Written to {settings.results.relative_to(_common.ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
