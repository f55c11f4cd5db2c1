"""What both benchmarks share: bounded subprocesses, the facts of a run, atomic result files."""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Final, NoReturn

ROOT: Final = Path(__file__).resolve().parent.parent
RESULTS_DIR: Final = ROOT / "bench" / "results"


def run(
    command: list[str],
    *,
    timeout: float,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` to completion with its output captured; exit if it outlives ``timeout``."""
    try:
        return subprocess.run(
            command,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        sys.exit(f"{shlex.join(command)} did not finish in {timeout:.0f} s; it has hung.")


def fail(what: str, result: subprocess.CompletedProcess[str]) -> NoReturn:
    """Exit with ``what`` went wrong and everything the command printed."""
    sys.exit(
        f"{what}: {shlex.join(result.args)} exited {result.returncode}.\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )


def machine() -> str:
    """The processor, the CPU count and, where /proc/cpuinfo tells it, the CPU's model."""
    text = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return text
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            return f"{text} ({value.strip()})"
    return text


def python() -> str:
    return f"{platform.python_version()} ({platform.python_implementation()})"


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def command_line() -> str:
    """The command that started this process, as it was typed."""
    return shlex.join(sys.orig_argv)


def revision() -> str:
    """The commit of the checkout, and whether typedsvc/ differs from it."""
    head = run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, timeout=60)
    if head.returncode != 0:
        return "unknown (not a git checkout)"
    changed = run(["git", "status", "--porcelain", "--", "typedsvc"], cwd=ROOT, timeout=60)
    dirty = " with uncommitted changes in typedsvc/" if changed.stdout.strip() else ""
    return f"commit {head.stdout.strip()}{dirty}"


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a .tmp file, so a killed run leaves no half table."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text)
    partial.replace(path)


def stop_groups(processes: Sequence[subprocess.Popen[bytes]], timeout: float) -> None:
    """SIGTERM each process's group, then SIGKILL the groups still there after ``timeout`` s.

    Each server a benchmark starts leads its own process group (``start_new_session``), so
    this reaches only it and anything it started.
    """
    for process in processes:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)
