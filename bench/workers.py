"""Measure ``typedsvc run --workers 2`` against ``--workers 1`` on /health, with wrk.

Both servers run at once on their own ports of 127.0.0.1 (the idle one costs nothing),
serving the same service with keep-alive on and the access log off, and are measured in
interleaved rounds: 1, 2, 1, 2, ... The workers are not pinned to CPUs: the point is what
the kernel's SO_REUSEPORT spreading gives. wrk runs on the same machine with one thread,
so on a machine of few CPUs it takes one of the cores the workers would use: the ratio is
bounded by the cores left to the servers, not by typedsvc. Prints a markdown table and
writes it to bench/results/workers.md.

Usage: .venv/bin/python bench/workers.py [--rounds 3] [--duration 5] [--connections 64]
(wrk is installed with apt-get when it is missing.)
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Final

import _common
from http_bench import ensure_tool

RESULTS: Final = _common.RESULTS_DIR / "workers.md"
START_TIMEOUT_S: Final = 30.0
SERVICE: Final = """
    from aiohttp import web

    import typedsvc
    from typedsvc import HttpOptions, Options


    class Health(typedsvc.Service):
        options = Options(
            http=HttpOptions(host="127.0.0.1", keepalive_timeout=75, access_log=False)
        )

        @typedsvc.http("GET", r"/health")
        async def health(self, request: web.Request) -> str:
            return "Healthy"
"""
_RPS: Final = re.compile(r"^Requests/sec:\s+([\d.]+)$", re.MULTILINE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(service: Path, workers: int, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "typedsvc", "run", str(service), "--port", str(port)]
    command += ["--workers", str(workers), "--log-level", "WARNING"]
    process = subprocess.Popen(command, cwd=service.parent, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    # Every worker listens before the parent is ready; a connection proves one does.
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"typedsvc run --workers {workers} exited {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            time.sleep(2.0)  # the other workers start meanwhile
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    sys.exit(f"typedsvc run --workers {workers} did not listen in {START_TIMEOUT_S:.0f} s")


def wrk_rps(wrk: str, port: int, duration: float, connections: int) -> tuple[float, float]:
    """Requests per second, and the share of one core wrk itself used."""
    url = f"http://127.0.0.1:{port}/health"
    command = [wrk, "-t1", f"-c{connections}", f"-d{duration:g}s", url]
    before = _children_cpu()
    result = _common.run(command, timeout=duration + 60)
    used = _children_cpu() - before
    found = _RPS.search(result.stdout)
    if result.returncode != 0 or found is None or "Non-2xx" in result.stdout:
        _common.fail("wrk failed", result)
    return float(found[1]), used / duration


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    wrk = ensure_tool("wrk", "wrk", "the HTTP load generator")
    with tempfile.TemporaryDirectory() as workdir:
        service = Path(workdir) / "health.py"
        service.write_text(textwrap.dedent(SERVICE))
        ports = {count: free_port() for count in (1, 2)}
        servers = {count: start(service, count, port) for count, port in ports.items()}
        try:
            for count in servers:
                wrk_rps(wrk, ports[count], 1.0, args.connections)  # warm-up
            rps: dict[int, list[float]] = {1: [], 2: []}
            wrk_share: dict[int, list[float]] = {1: [], 2: []}
            for _ in range(args.rounds):
                for count in (1, 2):
                    found, share = wrk_rps(wrk, ports[count], args.duration, args.connections)
                    rps[count].append(found)
                    wrk_share[count].append(share)
        finally:
            for process in servers.values():
                stop(process)
    ratios = [two / one for one, two in zip(rps[1], rps[2], strict=True)]
    lines = [
        "# `typedsvc run --workers 2` against `--workers 1`, GET /health",
        "",
        f"- When: {_common.now()}; revision {_common.revision()}",
        f"- Machine: {_common.machine()}; Python {_common.python()}",
        f"- Command: `{_common.command_line()}`",
        f"- wrk -t1 -c{args.connections} -d{args.duration:g}s on the same machine, keep-alive on,"
        f" access log off; {args.rounds} interleaved rounds, medians",
        "",
        "| workers | requests/s (median) | rounds | wrk's CPU (share of one core) |",
        "|---|---|---|---|",
    ]
    for count in (1, 2):
        rounds = ", ".join(f"{value:,.0f}" for value in rps[count])
        share = statistics.median(wrk_share[count])
        lines.append(f"| {count} | {statistics.median(rps[count]):,.0f} | {rounds} | {share:.0%} |")
    lines += [
        "",
        f"Ratio 2 workers / 1 worker: **{statistics.median(ratios):.2f}** (median of the rounds'"
        f" ratios; {', '.join(f'{ratio:.2f}' for ratio in ratios)}).",
        "",
        f"This machine has {os.cpu_count()} CPUs. One worker is one process on one core; two"
        " workers have both cores, less what wrk itself uses (the last column), which is why"
        " the ratio stays below 2 here: on a machine with cores to spare for the load"
        " generator, it would come closer to the number of workers.",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    _common.write_atomically(RESULTS, report)


if __name__ == "__main__":
    main()
