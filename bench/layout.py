"""How much a process's start moves its speed: two identical raw aiohttp servers, loaded at once.

Both servers serve the same file from bench/.venv-bench, pinned to CPU 0, each loaded by its
own wrk on CPU 1 at the same time (as ./bench/run's paired runs), so the host's moments fall
on both alike. Each start launches a fresh pair; within it, every run gives the ratio of the
second server's req/s to the first's. Were the speed of a process fixed by its code alone,
every start's median would sit at 1.00. Address-space randomization and Python's hash seed
give each process a layout of its own, and ./bench/run therefore starts its servers afresh
every round. Writes bench/results/layout.md.

Usage: .venv/bin/python bench/layout.py [--starts 6] [--runs 4] [--duration 3] [--path /json]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Final

import _common
import _http_servers
import http_bench

RESULTS: Final = _common.ROOT / "bench" / "results" / "layout.md"


def _rps(run: http_bench.Slice) -> float:
    return run.requests / run.duration_us * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=6, help="fresh pairs (default 6)")
    parser.add_argument("--runs", type=int, default=4, help="paired runs a start (default 4)")
    parser.add_argument("--duration", type=int, default=3, help="seconds a run (default 3)")
    parser.add_argument("--path", default="/json", help="the request (default /json)")
    args = parser.parse_args()
    scenario = next((s for s in _http_servers.SCENARIOS if s.path == args.path), None)
    if scenario is None:
        paths = ", ".join(s.path for s in _http_servers.SCENARIOS)
        sys.exit(f"--path must be one of {paths}.")
    wrk = http_bench.ensure_tools()
    http_bench.ensure_bench_venv()
    medians: list[float] = []
    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="typedsvc-layout-") as tmp:
        workdir = Path(tmp)
        script = workdir / "done.lua"
        script.write_text(http_bench.WRK_SCRIPT)
        file = workdir / "aiohttp_main.py"
        file.write_text(_http_servers.aiohttp_source())
        pair: list[http_bench.Server] = []
        for name, port in zip(("first", "second"), http_bench.free_ports(2), strict=True):
            command = http_bench.server_command("aiohttp", file, port, "asyncio", False)
            # Both serve the one file; a Server's own file only names its log (first.log).
            server = http_bench.Server("aiohttp", name, port, workdir / f"{name}.py", command)
            server.checks.append(scenario)
            pair.append(server)
        os.sched_setaffinity(0, {int(http_bench.WRK_CPU)})
        try:
            for start in range(1, args.starts + 1):
                http_bench.start(pair, workdir)
                http_bench.check(pair, "asyncio")
                # Untimed, as ./bench/run's first run of each request.
                http_bench.wrk_runs(wrk, script, pair, scenario, http_bench.WARMUP_S, 32)
                ratios = []
                for _ in range(args.runs):
                    first, second = http_bench.wrk_runs(
                        wrk, script, pair, scenario, args.duration, 32
                    )
                    ratios.append(_rps(second) / _rps(first))
                http_bench.stop(pair)
                medians.append(statistics.median(ratios))
                shown = ", ".join(f"{ratio:.3f}" for ratio in ratios)
                rows.append(f"| {start} | {medians[-1]:.3f} | {shown} |")
                print(f"start {start}: {medians[-1]:.3f} ({shown})", file=sys.stderr)
        finally:
            http_bench.stop(pair)
    text = "\n".join(
        [
            "# Two identical aiohttp servers, started afresh",
            "",
            f"`GET {scenario.path}`, both servers loaded at once on CPU 0, {args.runs} runs of "
            f"{args.duration} s a start; each ratio is the second server's req/s over the "
            "first's. The medians of the starts range from "
            f"{min(medians):.3f} to {max(medians):.3f}.",
            "",
            "| start | median | each run |",
            "|---:|---:|---|",
            *rows,
            "",
            f"- command: `{_common.command_line()}`",
            f"- machine: {_common.machine()}",
            f"- date: {_common.now()}",
            "",
        ]
    )
    _common.write_atomically(RESULTS, text)
    print(text)


if __name__ == "__main__":
    main()
