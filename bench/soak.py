"""Soak the example services under keep-alive load, watching their memory and descriptors.

examples/http_service.py and examples/json_api.py are served as they are, each by its own
``typedsvc run FILE --port N`` on 127.0.0.1 (both keep connections alive for 5 s idle and
write an access log line per request, to stderr). Both are loaded at once for --duration
seconds, each by its own wrk with a Lua script that rotates through the example's routes:
GETs with str and int groups, a ResponseDict, the OpenAPI document, a search with query
parameters and a header, and a POST of a JSON body; every user the POST creates is read
back and then deleted, so the example's in-memory store stays small. Once a second the
script reads each server's RSS and open descriptors from /proc.

Targets, per server: no answer outside 2xx (counted by the Lua script, exactly), no socket
error, RSS after the warm-up within 10 % of its first sample after the warm-up, open
descriptors after the warm-up flat (max - min at most 2) and back to their idle count after
the load, exit status 0 on SIGTERM, and no WARNING, ERROR, CRITICAL, Traceback or Exception
line in the server's output (--logs DIR keeps it; it is deleted otherwise). Prints a
markdown report, writes it to bench/results/soak.md and exits 1 if a target is missed.

Usage: .venv/bin/python bench/soak.py [--duration 60] [--warmup 10] [--connections 32]
       [--logs DIR]
(wrk is installed with apt-get when it is missing.)
"""

from __future__ import annotations

import argparse
import http.client
import importlib.metadata
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, NoReturn

import _common
from http_bench import RESULT_MARK, accepts, ensure_tool, free_ports, spawn

RESULTS: Final = _common.RESULTS_DIR / "soak.md"
EXAMPLES: Final = _common.ROOT / "examples"
START_TIMEOUT_S: Final = 30.0
STOP_TIMEOUT_S: Final = 15.0
CHECK_TIMEOUT_S: Final = 10.0
# Beyond its own -d, the time a wrk run may take before it counts as hung.
WRK_SLACK_S: Final = 30.0
# After the load, how long the server may take to close the connections wrk left.
SETTLE_S: Final = 5.0
RSS_TARGET: Final = 0.10
FD_SPREAD_TARGET: Final = 2
# Lines of a server's output that mean something went wrong; access log lines are INFO.
_TROUBLE: Final = re.compile(r"\b(WARNING|ERROR|CRITICAL)\b|^Traceback|Exception", re.MULTILINE)
# How many troubling lines the report quotes per server.
QUOTED_LINES: Final = 20
USERS_PATH: Final = "/users/"
NEW_USER: Final = json.dumps(
    {"name": "Ada Lovelace", "email": "ada@example.com", "age": 36, "tags": ["math", "poetry"]}
)
JSON_HEADERS: Final = (("Content-Type", "application/json"),)


@dataclass(frozen=True, slots=True)
class Call:
    """One request of a rotation; every answer must be 2xx."""

    method: str
    path: str
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Example:
    """An example file, and the requests its wrk rotates through."""

    name: str
    file: Path
    calls: tuple[Call, ...]
    # json_api.py: read back and delete each user the POST creates (two more slots a turn).
    users: bool = False


EXAMPLE_SERVICES: Final = (
    Example(
        "http_service",
        EXAMPLES / "http_service.py",
        (
            Call("GET", "/health"),
            Call("GET", "/resource/soak"),
            Call("GET", "/resource/soak-2/"),
            Call("GET", "/items/42"),
            Call("GET", "/items/7"),
        ),
    ),
    Example(
        "json_api",
        EXAMPLES / "json_api.py",
        (
            Call("POST", "/users", NEW_USER, JSON_HEADERS),
            Call("GET", "/users?q=Ada&page-size=5&tag=math", headers=(("X-Request-Id", "soak"),)),
            Call("GET", "/openapi.json"),
        ),
        users=True,
    ),
)

# The rotation itself; soak.py puts FIXED (the example's calls), USERS (the users' path, or
# nil) and MARK above it. done() runs after wrk's own report and prints one line of JSON
# with exact counts, so nothing is parsed from wrk's rounded text; its times are µs.
_WRK_SCRIPT: Final = """\
statuses = {}
threads = {}
local prepared = {}
local turn = 0
local created = {first = 1, last = 0}
local read = {first = 1, last = 0}

local function push(queue, id)
  queue.last = queue.last + 1
  queue[queue.last] = id
end

local function pop(queue)
  if queue.first > queue.last then return nil end
  local id = queue[queue.first]
  queue[queue.first] = nil
  queue.first = queue.first + 1
  return id
end

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  -- Formatted here, not at load, so that they carry the Host header wrk sets by now.
  for _, call in ipairs(FIXED) do
    table.insert(prepared, wrk.format(call[1], call[2], call[3], call[4]))
  end
end

function request()
  turn = turn + 1
  local slots = #prepared + (USERS and 2 or 0)
  local slot = turn % slots + 1
  if slot <= #prepared then return prepared[slot] end
  -- Read back a user whose creation was answered, or delete one that was read back: never
  -- a user that may not exist yet, so every answer is 2xx, and the store holds only the
  -- users in flight.
  local queue, method = created, "GET"
  if slot == slots then queue, method = read, "DELETE" end
  local id = pop(queue)
  if id == nil then return prepared[turn % #prepared + 1] end
  return wrk.format(method, USERS .. id)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if USERS == nil then return end
  if status == 201 then
    local id = (headers["Location"] or headers["location"] or ""):match("(%d+)$")
    if id then push(created, id) end
  elseif status == 200 and body:sub(1, 6) == '{"id":' then
    push(read, body:match('^{"id":(%d+)'))
  end
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(counts) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    MARK .. '{"requests": %d, "duration_us": %d, "p50_us": %f, "p99_us": %f, '
    .. '"connect": %d, "read": %d, "write": %d, "timeout": %d, "statuses": {%s}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.timeout, table.concat(parts, ", ")))
end
"""


@dataclass(frozen=True, slots=True)
class Settings:
    duration: int
    warmup: int
    connections: int
    logs: Path | None


@dataclass(frozen=True, slots=True)
class Sample:
    rss_kib: int
    fds: int


@dataclass(frozen=True, slots=True)
class Load:
    """What one wrk run counted."""

    requests: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    socket_errors: int
    statuses: dict[int, int]

    @property
    def non_2xx(self) -> int:
        return sum(count for status, count in self.statuses.items() if not 200 <= status < 300)


@dataclass(slots=True)
class Server:
    """One example served by ``typedsvc run``, and what was seen of it."""

    example: Example
    port: int
    log: Path
    command: list[str]
    process: subprocess.Popen[bytes] | None = None
    idle: Sample | None = None
    after: Sample | None = None
    # One a second from the start of the load; index i was taken i s after it.
    samples: list[Sample] = field(default_factory=list)
    load: Load | None = None
    users_left: int | None = None


def parse_args() -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (default 60)")
    parser.add_argument(
        "--warmup", type=int, default=10, help="first seconds left out of the targets (default 10)"
    )
    parser.add_argument(
        "--connections", type=int, default=32, help="wrk -c for each server (default 32)"
    )
    parser.add_argument(
        "--logs", type=Path, help="keep the servers' output here (default: a temporary directory)"
    )
    args = parser.parse_args()
    if args.connections < 1 or args.warmup < 0:
        parser.error("--connections must be at least 1 and --warmup at least 0")
    # The targets compare samples after the warm-up: there must be at least two.
    if args.duration < args.warmup + 2:
        parser.error("--duration must be at least --warmup + 2")
    return Settings(args.duration, args.warmup, args.connections, args.logs)


def lua_script(example: Example) -> str:
    """The wrk script that loads ``example``: its calls, then the rotation."""
    rows = []
    for call in example.calls:
        headers = ", ".join(
            f"[{json.dumps(name)}] = {json.dumps(value)}" for name, value in call.headers
        )
        body = json.dumps(call.body) if call.body else "nil"
        rows.append(
            f"  {{{json.dumps(call.method)}, {json.dumps(call.path)}, {{{headers}}}, {body}}},"
        )
    users = json.dumps(USERS_PATH) if example.users else "nil"
    header = ["local FIXED = {", *rows, "}", f"local USERS = {users}"]
    header.append(f"local MARK = {json.dumps(RESULT_MARK)}")
    return "\n".join(header) + "\n" + _WRK_SCRIPT


def start(servers: list[Server]) -> None:
    """Start every server and wait until each accepts connections."""
    for server in servers:
        server.process = spawn(server.command, server.log, _common.ROOT, dict(os.environ))
    deadline = time.monotonic() + START_TIMEOUT_S
    for server in servers:
        while not accepts(server.port):
            if not alive(server):
                failed(server, "exited before it accepted connections")
            if time.monotonic() > deadline:
                failed(server, f"did not accept connections in {START_TIMEOUT_S:.0f} s")
            time.sleep(0.1)


def alive(server: Server) -> bool:
    return server.process is not None and server.process.poll() is None


def failed(server: Server, what: str) -> NoReturn:
    """Exit, saying that ``server`` ``what``, with the end of its output."""
    log = server.log.read_text(errors="replace")[-4000:] if server.log.exists() else ""
    sys.exit(
        f"{server.example.name} (port {server.port}) {what}.\n"
        f"command: {shlex.join(server.command)}\nits output (last 4000 characters):\n{log}"
    )


def stop(servers: list[Server]) -> None:
    """SIGTERM every server started, then SIGKILL those still there after STOP_TIMEOUT_S."""
    _common.stop_groups(
        [server.process for server in servers if server.process is not None], STOP_TIMEOUT_S
    )


def check(server: Server) -> None:
    """Exit unless every request of the rotation is answered 2xx over one kept-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=CHECK_TIMEOUT_S)
    with closing(connection):
        for call in server.example.calls:
            location = ask(server, connection, call)
            if server.example.users and call.method == "POST":
                if not location.startswith(USERS_PATH):
                    failed(server, f"answered {call.method} {call.path} with Location {location!r}")
                ask(server, connection, Call("GET", location))
                ask(server, connection, Call("DELETE", location))


def ask(server: Server, connection: http.client.HTTPConnection, call: Call) -> str:
    """Send ``call``; exit unless it is answered 2xx and kept alive; its Location header."""
    connection.request(
        call.method, call.path, body=call.body.encode() or None, headers=dict(call.headers)
    )
    response = connection.getresponse()
    body = response.read()
    what = f"{call.method} {call.path}"
    if not 200 <= response.status < 300:
        failed(server, f"answered {what} with {response.status}: {body[:500]!r}")
    if response.will_close:
        failed(server, f"closes the connection after {what}: keep-alive is off")
    return response.getheader("Location", "")


def count_users(server: Server) -> int:
    """How many users json_api.py holds, after the load."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=CHECK_TIMEOUT_S)
    with closing(connection):
        connection.request("GET", "/users?page-size=1000000000")
        response = connection.getresponse()
        users = json.loads(response.read())
    if response.status != 200 or not isinstance(users, list):
        failed(server, f"answered the count of users with {response.status}")
    return len(users)


def sample(server: Server) -> Sample:
    """The server's resident memory and open file descriptors, now; exits if it has gone."""
    if server.process is None:
        failed(server, "was never started")
    proc = Path("/proc") / str(server.process.pid)
    try:
        status = (proc / "status").read_text()
        fds = len(os.listdir(proc / "fd"))
    except FileNotFoundError:
        failed(server, "has exited")
    found = re.search(r"^VmRSS:\s+(\d+) kB$", status, re.MULTILINE)
    if found is None:
        failed(server, "has no VmRSS in /proc/PID/status: it has exited")
    return Sample(int(found[1]), fds)


@contextmanager
def running(commands: list[list[str]]) -> Iterator[list[subprocess.Popen[str]]]:
    """Start every command; kill those still running on the way out, also on an error."""
    started: list[subprocess.Popen[str]] = []
    try:
        for command in commands:
            started.append(
                subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
                process.wait()


def soak(settings: Settings, servers: list[Server], wrk: str, workdir: Path) -> list[list[str]]:
    """Load every server at once, sampling each once a second; the wrk commands."""
    commands = []
    for server in servers:
        script = workdir / f"{server.example.name}.lua"
        script.write_text(lua_script(server.example))
        commands.append(
            [
                wrk,
                "-t1",
                f"-c{settings.connections}",
                f"-d{settings.duration}s",
                "--latency",
                "-s",
                str(script),
                f"http://127.0.0.1:{server.port}/",
            ]
        )
    with running(commands) as loads:
        began = time.monotonic()
        for tick in range(settings.duration):
            time.sleep(max(0.0, began + tick - time.monotonic()))
            for server in servers:
                server.samples.append(sample(server))
        outputs = []
        for load in loads:
            try:
                left = began + settings.duration + WRK_SLACK_S - time.monotonic()
                outputs.append(load.communicate(timeout=max(0.1, left)))
            except subprocess.TimeoutExpired:
                sys.exit(f"wrk did not finish in {settings.duration + WRK_SLACK_S:.0f} s; it hung.")
    for server, command, load, (stdout, stderr) in zip(
        servers, commands, loads, outputs, strict=True
    ):
        result = subprocess.CompletedProcess(command, load.returncode, stdout, stderr)
        if load.returncode != 0:
            _common.fail("wrk failed", result)
        server.load = parse_load(result)
    return commands


def parse_load(result: subprocess.CompletedProcess[str]) -> Load:
    """The counts of the line the Lua script's done() printed."""
    marked = [line for line in result.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if not marked:
        _common.fail("wrk printed no result line", result)
    found = json.loads(marked[0].removeprefix(RESULT_MARK))
    return Load(
        requests=found["requests"],
        duration_s=found["duration_us"] / 1e6,
        p50_ms=found["p50_us"] / 1000,
        p99_ms=found["p99_us"] / 1000,
        socket_errors=sum(found[key] for key in ("connect", "read", "write", "timeout")),
        statuses={int(status): count for status, count in found["statuses"].items()},
    )


def settle(server: Server) -> Sample:
    """A sample once the server has closed the connections wrk left, or after SETTLE_S."""
    idle = server.idle.fds if server.idle is not None else 0
    deadline = time.monotonic() + SETTLE_S
    now = sample(server)
    while now.fds > idle and time.monotonic() < deadline:
        time.sleep(0.1)
        now = sample(server)
    return now


class Verdicts:
    """Targets met or missed, as report lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.missed = 0

    def add(self, met: bool, what: str) -> None:
        self.missed += not met
        self.lines.append(f"- **{'PASS' if met else 'FAIL'}** {what}")


def judge(settings: Settings, server: Server, verdicts: Verdicts) -> list[str]:
    """The table row of ``server``, its verdicts added to ``verdicts``."""
    load, idle, after, name = server.load, server.idle, server.after, server.example.name
    if load is None or idle is None or after is None:
        failed(server, "was never loaded")
    kept = server.samples[settings.warmup :]
    first, last = kept[0].rss_kib, kept[-1].rss_kib
    rss = [one.rss_kib for one in kept]
    fds = [one.fds for one in kept]
    deviation = max(abs(value - first) for value in rss) / first
    trouble = troubling_lines(server.log)
    counted = sum(load.statuses.values())
    verdicts.add(
        load.non_2xx == 0 and counted == load.requests,
        f"{name}: {load.non_2xx} answers outside 2xx of {counted:,} counted by status, "
        f"{load.requests:,} by wrk (target 0, and the same counts)",
    )
    verdicts.add(load.socket_errors == 0, f"{name}: {load.socket_errors} socket errors (target 0)")
    verdicts.add(
        deviation <= RSS_TARGET,
        f"{name}: RSS after the warm-up at most {deviation:.2%} from its first sample "
        f"(target {RSS_TARGET:.0%})",
    )
    verdicts.add(
        max(fds) - min(fds) <= FD_SPREAD_TARGET,
        f"{name}: open descriptors after the warm-up {min(fds)} to {max(fds)} "
        f"(target: max - min at most {FD_SPREAD_TARGET})",
    )
    verdicts.add(
        after.fds <= idle.fds,
        f"{name}: {after.fds} open descriptors after the load, {idle.fds} before "
        "it (target: back to the count before)",
    )
    code = server.process.returncode if server.process is not None else None
    verdicts.add(code == 0, f"{name}: exited {code} on SIGTERM after the load (target 0)")
    verdicts.add(
        not trouble,
        f"{name}: {len(trouble)} WARNING, ERROR, CRITICAL, Traceback or Exception lines in "
        "the server's output (target 0)",
    )
    statuses = ", ".join(f"{status}: {count:,}" for status, count in sorted(load.statuses.items()))
    return [
        f"| {name} | {load.requests:,} | {load.requests / load.duration_s:,.0f} "
        f"| {load.p50_ms:.2f} / {load.p99_ms:.2f} ms | {statuses} | {load.non_2xx} "
        f"| {load.socket_errors} | {mib(idle.rss_kib)} | {mib(first)} | {mib(min(rss))} "
        f"| {mib(max(rss))} | {mib(last)} | {deviation:.2%} | {idle.fds} "
        f"| {min(fds)} / {max(fds)} | {after.fds} |"
    ]


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f}"


def troubling_lines(log: Path) -> list[str]:
    text = log.read_text(errors="replace")
    return [line for line in text.splitlines() if _TROUBLE.search(line)]


def series(settings: Settings, servers: list[Server]) -> list[str]:
    """RSS and descriptors every 5 s, to show a trend that the extremes hide."""
    ticks = list(range(0, settings.duration, 5))
    if ticks[-1] != settings.duration - 1:
        ticks.append(settings.duration - 1)
    lines = [
        "| s | " + " | ".join(f"{s.example.name} RSS MiB | fds" for s in servers) + " |",
        "|---:|" + "---:|---:|" * len(servers),
    ]
    for tick in ticks:
        cells = [f"{mib(s.samples[tick].rss_kib)} | {s.samples[tick].fds}" for s in servers]
        mark = " (warm-up)" if tick < settings.warmup else ""
        lines.append(f"| {tick}{mark} | " + " | ".join(cells) + " |")
    return lines


def report(
    settings: Settings, servers: list[Server], facts: dict[str, str], verdicts: Verdicts
) -> str:
    rows: list[str] = []
    for server in servers:
        rows += judge(settings, server, verdicts)
    quoted: list[str] = []
    for server in servers:
        trouble = troubling_lines(server.log)
        size = server.log.stat().st_size
        quoted.append(
            f"- {server.example.name}: {size / 1e6:.1f} MB of output, "
            f"{len(trouble)} troubling lines"
            + (f"; the first {min(len(trouble), QUOTED_LINES)}:" if trouble else ".")
        )
        if trouble:
            quoted += ["", "```", *trouble[:QUOTED_LINES], "```", ""]
    users = [
        f"json_api.py held {server.users_left} users after the load (each created user is "
        "read back and deleted; those in flight when wrk stopped remain)."
        for server in servers
        if server.users_left is not None
    ]
    lines = [
        "# Soak: the example services under keep-alive load",
        "",
        f"{settings.duration} s of load on `examples/http_service.py` and `examples/json_api.py` "
        f"at once, each served as it is by `typedsvc run FILE --port N` on 127.0.0.1 (keep-alive "
        "on, 5 s idle timeout; access log on, to stderr) and loaded by its own "
        f"`wrk -t1 -c{settings.connections}` with a Lua script that rotates through its "
        "routes. RSS and open descriptors were read from /proc once a second; the first "
        f"{settings.warmup} s are warm-up, left out of the targets.",
        "",
        "Rotations: http_service: "
        + ", ".join(f"`{c.method} {c.path}`" for c in EXAMPLE_SERVICES[0].calls)
        + "; json_api: "
        + ", ".join(f"`{c.method} {c.path}`" for c in EXAMPLE_SERVICES[1].calls)
        + f" (the POST with a {len(NEW_USER)}-byte JSON body and `Content-Type: "
        "application/json`, the search with `X-Request-Id`), then `GET /users/<id>` of a user "
        "whose creation was answered and `DELETE /users/<id>` of one that was read back (or "
        "the next request of the rotation while there is none).",
        "",
        "| service | requests | req/s | p50 / p99 | statuses | non-2xx | socket errors "
        "| RSS idle MiB | RSS first MiB | min | max | last | max deviation from first "
        "| fds idle | fds min / max | fds after |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "RSS first, min, max and last, and fds min / max, are over the samples after the "
        "warm-up; idle is before the load, after is once the load has ended and the server "
        f"closed its connections (at most {SETTLE_S:.0f} s later).",
        "",
        *users,
        "",
        "## Targets",
        "",
        *verdicts.lines,
        "",
        f"{len(verdicts.lines) - verdicts.missed} of {len(verdicts.lines)} targets met.",
        "",
        "## Every 5 s",
        "",
        *series(settings, servers),
        "",
        "## Server output",
        "",
        *quoted,
        "",
        "## How it ran",
        "",
        f"- command: `{facts['command']}`",
        *(f"- load: `{command}`" for command in facts["loads"].splitlines()),
        *(f"- server: `{command}`" for command in facts["servers"].splitlines()),
        f"- wrk: {facts['wrk']}",
        f"- typedsvc {facts['typedsvc']}, aiohttp {facts['aiohttp']}, Python {_common.python()}",
        f"- typedsvc: {facts['revision']} (when the servers started)",
        f"- load average (1, 5, 15 min) before: {facts['load before']}; after: "
        f"{facts['load after']}",
        f"- machine: {_common.machine()}",
        f"- date: {_common.now()}",
        "",
    ]
    return "\n".join(lines)


def _load_average() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    settings = parse_args()
    # A SIGTERM unwinds like Ctrl-C, so the servers and wrk are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    wrk = ensure_tool("wrk", "wrk", "the HTTP load generator")
    wrk_version = _common.run([wrk, "-v"], timeout=CHECK_TIMEOUT_S)
    facts = {
        "command": _common.command_line(),
        "wrk": (wrk_version.stdout + wrk_version.stderr).strip().splitlines()[0],
        "typedsvc": importlib.metadata.version("typedsvc"),
        "aiohttp": importlib.metadata.version("aiohttp"),
        # Read before the servers import typedsvc: the checkout may change during the run.
        "revision": _common.revision(),
    }
    verdicts = Verdicts()
    with tempfile.TemporaryDirectory(prefix="typedsvc-soak-") as tmp:
        workdir = Path(tmp)
        logs = settings.logs or workdir
        logs.mkdir(parents=True, exist_ok=True)
        servers = [
            Server(
                example,
                port,
                logs / f"{example.name}.log",
                [sys.executable, "-m", "typedsvc", "run", str(example.file), "--port", str(port)],
            )
            for example, port in zip(
                EXAMPLE_SERVICES, free_ports(len(EXAMPLE_SERVICES)), strict=True
            )
        ]
        try:
            facts["load before"] = _load_average()
            start(servers)
            for server in servers:
                check(server)
            # The server closes the checks' connections only once it reads their FIN.
            time.sleep(1.0)
            for server in servers:
                server.idle = sample(server)
            print(
                f"Loading {len(servers)} servers for {settings.duration} s; output in {logs}",
                file=sys.stderr,
            )
            loads = soak(settings, servers, wrk, workdir)
            facts["load after"] = _load_average()
            for server in servers:
                server.after = settle(server)
                if server.example.users:
                    server.users_left = count_users(server)
        finally:
            stop(servers)
        facts["loads"] = "\n".join(shlex.join(load).replace(tmp, "TMP") for load in loads)
        facts["servers"] = "\n".join(
            shlex.join(server.command).replace(str(_common.ROOT) + "/", "") for server in servers
        )
        text = report(settings, servers, facts, verdicts)
    _common.write_atomically(RESULTS, text)
    print(text)
    print(f"Written to {RESULTS.relative_to(_common.ROOT)}", file=sys.stderr)
    if verdicts.missed:
        sys.exit(1)


if __name__ == "__main__":
    main()
