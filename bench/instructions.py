"""Instructions a server executes per request, typedsvc beside raw aiohttp, under callgrind.

    .venv/bin/python bench/instructions.py [--requests 1000] [--loop asyncio|uvloop]

req/s on a shared machine moves by several percent from one second to the next, while the
count of instructions a server runs to answer a request stays the same from run to run. So
this script serves the requests of bench/run's scenarios from the same server files (raw
aiohttp, typedsvc), each in its own process under valgrind's callgrind, and counts only
while ``--requests`` requests are answered (``callgrind_control -i on``, then ``off``), one
after another over one keep-alive connection, after an untimed warm-up. PYTHONHASHSEED is
fixed, so that dict layouts are the same in every run. The ratio aiohttp / typedsvc of
these counts is typedsvc's cost in user-space code; the system calls (the same for both)
are not counted. Writes
bench/results/instructions.md.

valgrind: Debian's package, installed with apt-get when missing, as bench/run does with wrk.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import _common
import _http_servers
import http_bench
from _http_servers import Scenario

RESULTS: Final = _common.RESULTS_DIR / "instructions.md"
UVLOOP_RESULTS: Final = _common.RESULTS_DIR / "instructions-uvloop.md"
WARMUP_REQUESTS: Final = 300
# Under valgrind a server starts and answers about 50 times slower than without.
START_TIMEOUT_S: Final = 300.0
CONTROL_TIMEOUT_S: Final = 120.0
SOCKET_TIMEOUT_S: Final = 60.0
LABELS: Final[tuple[http_bench.Label, ...]] = ("aiohttp", "typedsvc")
MEASURED: Final = (*_http_servers.SCENARIOS, *_http_servers.INPUT_SCENARIOS)


@dataclass(frozen=True, slots=True)
class Settings:
    requests: int
    loop: Literal["asyncio", "uvloop"]

    @property
    def results(self) -> Path:
        return UVLOOP_RESULTS if self.loop == "uvloop" else RESULTS


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(
        prog="bench/instructions.py",
        description=__doc__,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    parser.add_argument(
        "--requests", type=int, default=1000, help="requests counted per scenario (1000)"
    )
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    args = parser.parse_args(argv)
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    return Settings(args.requests, args.loop)


def send(port: int, scenario: Scenario, count: int) -> None:
    """``count`` requests of ``scenario`` over one keep-alive connection; exit on a wrong
    answer."""
    headers = [("Host", "127.0.0.1"), *scenario.request_headers]
    if scenario.request_body:
        headers.append(("Content-Length", str(len(scenario.request_body))))
    fields = "".join(f"{name}: {value}\r\n" for name, value in headers)
    line = f"{scenario.method} {scenario.path} HTTP/1.1\r\n"
    request = f"{line}{fields}\r\n".encode() + scenario.request_body
    with socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT_S) as sock:
        pending = b""
        for _ in range(count):
            sock.sendall(request)
            head, pending = _read_until(sock, pending, b"\r\n\r\n")
            status = head.split(b"\r\n", 1)[0]
            length = _content_length(head)
            while len(pending) < length:
                pending += _received(sock)
            body, pending = pending[:length], pending[length:]
            expected = f"HTTP/1.1 {scenario.status}".encode()
            if scenario.json_body:
                same = json.loads(body) == json.loads(scenario.body)
            else:
                same = body == scenario.body
            if not status.startswith(expected) or not same:
                what = f"{scenario.method} {scenario.path}"
                sys.exit(f"{what} answered {status!r} with {body!r}")


def _read_until(sock: socket.socket, pending: bytes, mark: bytes) -> tuple[bytes, bytes]:
    while mark not in pending:
        pending += _received(sock)
    head, _, rest = pending.partition(mark)
    return head, rest


def _received(sock: socket.socket) -> bytes:
    data = sock.recv(65536)
    if not data:
        sys.exit("the server closed the connection: keep-alive is off, or it failed")
    return data


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    sys.exit(f"a response without Content-Length: {head!r}")


def control(pid: int, *arguments: str) -> None:
    result = _common.run(["callgrind_control", *arguments, str(pid)], timeout=CONTROL_TIMEOUT_S)
    if result.returncode != 0:
        _common.fail("callgrind_control failed", result)


def totals(dump: Path) -> int:
    """The instructions a callgrind dump counted."""
    deadline = time.monotonic() + CONTROL_TIMEOUT_S
    while time.monotonic() < deadline:
        if dump.exists():
            for line in dump.read_text().splitlines():
                if line.startswith("totals:"):
                    return int(line.split()[1])
        time.sleep(0.2)
    sys.exit(f"callgrind wrote no totals to {dump} in {CONTROL_TIMEOUT_S:.0f} s")


def count(
    label: http_bench.Label, file: Path, settings: Settings, workdir: Path
) -> dict[str, float]:
    """Instructions per request for each scenario, from one server process under callgrind."""
    port = http_bench.free_ports(1)[0]
    out = workdir / f"{label}.callgrind"
    log = workdir / f"{label}.log"
    command = http_bench.server_command(label, file, port, settings.loop, access_log=False)
    env = {**http_bench.server_env(), "PYTHONHASHSEED": "0"}
    valgrind = ["valgrind", "--tool=callgrind", "--instr-atstart=no"]
    process = http_bench.spawn(
        [*valgrind, f"--callgrind-out-file={out}", *command], log, workdir, env
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not http_bench.accepts(port):
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"{label} did not start under valgrind:\n{log.read_text()[-4000:]}")
            time.sleep(0.5)
        found: dict[str, float] = {}
        for number, scenario in enumerate(MEASURED, 1):
            send(port, scenario, WARMUP_REQUESTS)
            control(process.pid, "--instr=on")
            send(port, scenario, settings.requests)
            control(process.pid, "--instr=off")
            control(process.pid, "--dump")
            found[scenario.key] = totals(Path(f"{out}.{number}")) / settings.requests
            print(f"{label} {scenario.title}: {found[scenario.key]:,.0f}", file=sys.stderr)
        return found
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=START_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def report(settings: Settings, counts: dict[str, dict[str, float]], facts: list[str]) -> str:
    lines = [
        "# Instructions per request: typedsvc beside raw aiohttp",
        "",
        f"callgrind's count of instructions a server ran while it answered {settings.requests} "
        f"requests one after another over one keep-alive connection (after {WARMUP_REQUESTS} "
        f"untimed), divided by {settings.requests}; event loop **{settings.loop}**. The same "
        "server files as `./bench/run`. User-space instructions only: the system calls, the "
        "same for both servers, are not counted. The ratio is aiohttp's count / typedsvc's: "
        "unlike req/s it does not move with the machine's speed, and with the kernel's time "
        "added alike to both, the req/s ratio should come out nearer 1.",
        "",
        "| scenario | aiohttp | typedsvc | typedsvc - aiohttp | aiohttp / typedsvc |",
        "|---|---:|---:|---:|---:|",
    ]
    for scenario in MEASURED:
        ours = counts["typedsvc"][scenario.key]
        raw = counts["aiohttp"][scenario.key]
        lines.append(
            f"| {scenario.title} | {raw:,.0f} | {ours:,.0f} | {ours - raw:+,.0f} "
            f"| {raw / ours:.3f} |"
        )
    return "\n".join([*lines, "", "## How it ran", "", *facts, ""])


def main() -> None:
    settings = parse_args()
    http_bench.ensure_tool("valgrind", "valgrind", "counts the instructions of each server")
    http_bench.ensure_bench_venv()
    facts = [
        f"- command: `{_common.command_line()}`",
        f"- valgrind: {_common.run(['valgrind', '--version'], timeout=60).stdout.strip()}",
        f"- typedsvc: {_common.revision()}",
        f"- Python {_common.python()}, aiohttp "
        f"{http_bench.version_in(http_bench.BENCH_VENV, 'aiohttp')}",
        f"- machine: {_common.machine()}",
        f"- date: {_common.now()}",
    ]
    counts: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="typedsvc-instructions-") as tmp:
        workdir = Path(tmp)
        sources = {
            "aiohttp": _http_servers.aiohttp_source(),
            "typedsvc": _http_servers.typedsvc_source(0, access_log=False),
        }
        for label in LABELS:
            file = workdir / f"{label}_main.py"
            file.write_text(sources[label])
            counts[label] = count(label, file, settings, workdir)
    text = report(settings, counts, facts)
    _common.write_atomically(settings.results, text)
    print(text)
    print(f"Written to {settings.results.relative_to(_common.ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
