"""Measure ``typedsvc check`` on a module of 1000 routes, against importing it.

The module is the one bench/mypy_plugin.py generates (plain routes, and with
``--typed-inputs`` routes that read query parameters, headers, cookies and bodies). Each
sample is a fresh process, timed from outside, start-up included: ``typedsvc check
service.py`` against ``python -c "import service"``, which runs the same definition checks
(raising at the first mistake instead of collecting them all). Prints a markdown table and
writes it to bench/results/check.md.

Usage: .venv/bin/python bench/check.py [--samples 7] [--routes 1000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Final

import _common
import mypy_plugin

RESULTS: Final = _common.RESULTS_DIR / "check.md"
TIMEOUT_S: Final = 120.0


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    result = _common.run(command, cwd=cwd, timeout=TIMEOUT_S)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        _common.fail("a sample failed", result)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=7)
    parser.add_argument("--routes", type=int, default=1000)
    args = parser.parse_args()
    typedsvc = str(Path(sys.executable).parent / "typedsvc")
    rows: list[str] = []
    for typed_inputs in (False, True):
        with tempfile.TemporaryDirectory() as workdir:
            cwd = Path(workdir)
            source = mypy_plugin.service_source(args.routes, typed_inputs=typed_inputs)
            (cwd / "service.py").write_text(source)
            check = [typedsvc, "check", "service.py"]
            load = [sys.executable, "-c", "import service"]
            # Warm the file system cache and write the bytecode of service.py once.
            timed(load, cwd)
            checks: list[float] = []
            imports: list[float] = []
            for _ in range(args.samples):
                checks.append(timed(check, cwd))
                imports.append(timed(load, cwd))
        kind = "typed inputs" if typed_inputs else "plain routes"
        checked, imported = statistics.median(checks), statistics.median(imports)
        rows.append(
            f"| {args.routes} {kind} | {checked:.3f} s | {imported:.3f} s "
            f"| {checked / imported:.2f} | {checked - imported:+.3f} s |"
        )
    lines = [
        f"# `typedsvc check` on a module of {args.routes} routes",
        "",
        f"- When: {_common.now()}; revision {_common.revision()}",
        f"- Machine: {_common.machine()}; Python {_common.python()}",
        f"- Command: `{_common.command_line()}`",
        f"- Wall time of fresh processes, start-up included; median of {args.samples}",
        "",
        '| module | `typedsvc check service.py` | `python -c "import service"` | ratio '
        "| difference |",
        "|---|---|---|---|---|",
        *rows,
        "",
        "The difference is the command itself: its start-up (argparse, the CLI's own modules)"
        " and collecting the problems instead of raising the first.",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    _common.write_atomically(RESULTS, report)


if __name__ == "__main__":
    main()
