"""Measure what defining a 1000-route Service class costs, import-time checks included.

The module is the one bench/mypy_plugin.py generates (six route shapes: int, float, str,
uuid.UUID and Enum groups, one to three methods, an optional group). Each sample runs in a
fresh Python process, so that no cache of an earlier sample (re's pattern cache, say) helps:
the process imports typedsvc, aiohttp and the standard modules the module uses and compiles
its source untimed, then times running it, which defines the class and runs every route's
checks. Beside it: the same module with every decorator replaced by one that returns the
function as it is (what Python itself spends on a class of 1000 methods), re.compile() of
the same urls alone (what the checks would cost if they compiled each url), and
create_app() on the class (start-up, not import). Prints a markdown table and writes it to
bench/results/define.md.

The class repeats six signatures, and typedsvc remembers the checks of a signature and a
url's groups that passed together. Beside it, in fresh processes of its own: the same
routes with the group and parameter names of each made its own, so that no two routes
share a signature and nothing checked before is reused.

Usage: .venv/bin/python bench/define.py [--samples 7] [--routes 1000]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Final

import _common
import mypy_plugin

RESULTS: Final = _common.RESULTS_DIR / "define.md"
TARGET_MS: Final = 50.0
TIMEOUT_S: Final = 120.0

# Run in a fresh process per sample; prints {"define": s, "plain": s, "app": s, "routes": n}.
_SAMPLE: Final = """\
import enum, json, sys, time, uuid
import typedsvc
from aiohttp import web  # imported by the module; loading aiohttp is not typedsvc's cost
from typedsvc._service import routes_of

source = open(sys.argv[1]).read()
code = compile(source, "service.py", "exec")
plain_code = compile(
    source.replace("@typedsvc.http(", "@plain("), "plain.py", "exec"
)


def plain(*args, **kwargs):
    return lambda func: func


start = time.perf_counter()
namespace = {"__name__": "service"}
exec(code, namespace)
define = time.perf_counter() - start

start = time.perf_counter()
exec(plain_code, {"__name__": "plain", "plain": plain})
plain_time = time.perf_counter() - start

import re

urls = [
    spec.url for _, spec in routes_of(namespace["Big"]).routes
]
re.purge()
start = time.perf_counter()
for url in urls:
    re.compile(url)
regex = time.perf_counter() - start

service = namespace["Big"]()
start = time.perf_counter()
typedsvc.create_app(service)
app = time.perf_counter() - start
print(json.dumps({
    "define": define,
    "plain": plain_time,
    "regex": regex,
    "app": app,
    "routes": len(routes_of(namespace["Big"]).routes),
}))
"""


# The names of groups and parameters in mypy_plugin's routes.
_NAMES: Final = re.compile(r"\b(item_id|name|ref|color|ratio|page)\b")


def distinct_source(source: str) -> str:
    """``source`` with each route's group and parameter names suffixed with its number."""
    head, *routes = source.split("    @typedsvc.http(")
    return head + "".join(
        "    @typedsvc.http(" + _NAMES.sub(rf"\1_{index}", route)
        for index, route in enumerate(routes)
    )


def sample(source: Path) -> dict[str, float]:
    """One fresh process's timings, in seconds."""
    result = _common.run([sys.executable, "-c", _SAMPLE, str(source)], timeout=TIMEOUT_S)
    if result.returncode != 0:
        _common.fail("defining the generated service failed", result)
    timings: dict[str, float] = json.loads(result.stdout)
    return timings


def report(
    samples: list[dict[str, float]],
    distinct: list[dict[str, float]],
    typed: list[dict[str, float]],
    routes: int,
) -> str:
    def median_ms(key: str) -> float:
        return statistics.median(s[key] for s in samples) * 1000

    define, plain, app = median_ms("define"), median_ms("plain"), median_ms("app")
    verdict = "met" if define < TARGET_MS else "NOT met"

    def row(what: str, ms: float) -> str:
        return f"| {what} | {ms:.1f} | {ms / routes * 1000:.1f} |"

    return "\n".join(
        [
            f"# Defining a {routes}-route Service class",
            "",
            f"- command: `{_common.command_line()}`",
            f"- typedsvc: {_common.revision()}",
            f"- Python: {_common.python()}",
            f"- machine: {_common.machine()}",
            f"- date: {_common.now()}",
            f"- samples: {len(samples)}, each in a fresh process; medians below",
            "",
            "| what | total ms | per route µs |",
            "|---|---:|---:|",
            row("class definition with typedsvc's checks", define),
            row("the same class, decorators that do nothing", plain),
            row("typedsvc's share (difference)", define - plain),
            row(
                "the same routes, no two sharing a signature (own processes)",
                statistics.median(s["define"] for s in distinct) * 1000,
            ),
            row(
                "as many routes that read typed inputs (Query, Header, Cookie, Body; own "
                "processes)",
                statistics.median(s["define"] for s in typed) * 1000,
            ),
            row("for comparison: re.compile() of the same urls", median_ms("regex")),
            row("create_app() on it (start-up, not import)", app),
            "",
            f"Target: defining and checking under {TARGET_MS:.0f} ms: **{verdict}** "
            f"({define:.1f} ms; min {min(s['define'] for s in samples) * 1000:.1f}, "
            f"max {max(s['define'] for s in samples) * 1000:.1f}).",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=7, help="fresh processes (default 7)")
    parser.add_argument("--routes", type=int, default=1000, help="routes (default 1000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="typedsvc-define-") as tmp:
        source = Path(tmp) / "service.py"
        source.write_text(mypy_plugin.service_source(args.routes))
        unshared = Path(tmp) / "distinct.py"
        unshared.write_text(distinct_source(source.read_text()))
        inputs = Path(tmp) / "typed_inputs.py"
        inputs.write_text(mypy_plugin.service_source(args.routes, typed_inputs=True))
        samples: list[dict[str, float]] = []
        distinct: list[dict[str, float]] = []
        typed: list[dict[str, float]] = []
        for _ in range(args.samples):
            samples.append(sample(source))
            distinct.append(sample(unshared))
            typed.append(sample(inputs))
    if any(s["routes"] != args.routes for s in samples + distinct + typed):
        sys.exit(f"expected {args.routes} routes, the class had {samples[0]['routes']:.0f}")
    text = report(samples, distinct, typed, args.routes)
    _common.write_atomically(RESULTS, text)
    print(text)


if __name__ == "__main__":
    main()
