"""The type completeness of typedsvc beside aiohttp and tomodachi, by pyright --verifytypes.

typedsvc and aiohttp are measured in the project's .venv. tomodachi is not a dependency of
typedsvc, so it gets a venv of its own, bench/.venv-verifytypes (created on the first run,
reused after), with the same pyright version as .venv. Prints a markdown table and writes it
to bench/results/verifytypes.md.

Usage: .venv/bin/python bench/verifytypes.py
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

import _common

RESULTS: Final = _common.RESULTS_DIR / "verifytypes.md"
MAIN_VENV: Final = _common.ROOT / ".venv"
SIDE_VENV: Final = _common.ROOT / "bench" / ".venv-verifytypes"
TOMODACHI: Final = "tomodachi==0.29.0"
# What SIDE_VENV was last installed with; a different list installs again.
STAMP: Final = ".bench-requirements"
INSTALL_TIMEOUT_S: Final = 900.0
PYRIGHT_TIMEOUT_S: Final = 600.0
# Set, these make the pyright wrapper run another pyright than the one installed.
_PYRIGHT_OVERRIDES: Final = ("PYRIGHT_PYTHON_FORCE_VERSION", "PYRIGHT_PYTHON_PYLANCE_VERSION")


@dataclass(frozen=True, slots=True)
class Score:
    """One package's --verifytypes result, or why there is none."""

    package: str
    version: str
    venv: Path
    pyright: str
    command: str
    completeness: float | None = None
    known: int = 0
    ambiguous: int = 0
    unknown: int = 0
    error: str = ""


def version_in(venv: Path, distribution: str) -> str:
    """The installed version of ``distribution`` in ``venv``."""
    code = "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))"
    result = _common.run(
        [str(venv / "bin" / "python"), "-c", code, distribution], timeout=PYRIGHT_TIMEOUT_S
    )
    if result.returncode != 0:
        _common.fail(f"{distribution} is not installed in {venv}", result)
    return result.stdout.strip()


def ensure_side_venv(pyright_version: str) -> str:
    """Create or update SIDE_VENV with tomodachi; "" when ready, else pip's error."""
    requirements = [TOMODACHI, "aiohttp", f"pyright[nodejs]=={pyright_version}"]
    stamp = SIDE_VENV / STAMP
    wanted = "\n".join(requirements) + "\n"
    if stamp.is_file() and stamp.read_text() == wanted:
        return ""
    if not (SIDE_VENV / "bin" / "python").exists():
        print(f"Creating {SIDE_VENV}", file=sys.stderr)
        created = _common.run(
            [sys.executable, "-m", "venv", str(SIDE_VENV)], timeout=INSTALL_TIMEOUT_S
        )
        if created.returncode != 0:
            _common.fail(f"could not create {SIDE_VENV}", created)
    print(f"Installing {' '.join(requirements)} into {SIDE_VENV}", file=sys.stderr)
    pip = [str(SIDE_VENV / "bin" / "python"), "-m", "pip", "install"]
    installed = _common.run(
        [*pip, "--disable-pip-version-check", "--quiet", *requirements],
        timeout=INSTALL_TIMEOUT_S,
    )
    if installed.returncode != 0:
        return f"$ {shlex.join(installed.args)}\n{installed.stdout}{installed.stderr}".strip()
    stamp.write_text(wanted)
    return ""


def verify(package: str, venv: Path, workdir: Path) -> Score:
    """Run ``venv``'s pyright --verifytypes on ``package`` with ``venv`` active."""
    command = [
        str(venv / "bin" / "pyright"),
        "--verifytypes",
        package,
        "--ignoreexternal",
        "--outputjson",
    ]
    env = {key: value for key, value in os.environ.items() if key not in _PYRIGHT_OVERRIDES}
    # pyright finds the packages through the python on PATH; without it, every package has
    # "No py.typed file found" (--pythonpath alone is not enough for --verifytypes).
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    shown = f"PATH={venv.relative_to(_common.ROOT)}/bin:$PATH " + shlex.join(
        [str((venv / "bin" / "pyright").relative_to(_common.ROOT)), *command[1:]]
    )
    # An empty directory, so that no pyrightconfig.json or [tool.pyright] changes the result.
    result = _common.run(command, cwd=workdir, env=env, timeout=PYRIGHT_TIMEOUT_S)
    score = Score(package, version_in(venv, package), venv, version_in(venv, "pyright"), shown)
    try:
        output = json.loads(result.stdout)
    except json.JSONDecodeError:
        # pyright exits 1 when the score is under 100 %; anything unparsable is a real failure.
        _common.fail(f"pyright printed no JSON for {package}", result)
    errors = [
        diagnostic["message"]
        for diagnostic in output.get("generalDiagnostics", [])
        if diagnostic.get("severity") == "error"
    ]
    completeness = output.get("typeCompleteness")
    if completeness is None or "pyTypedPath" not in completeness or errors:
        return replace(score, error="; ".join(errors) or "pyright reported no completeness")
    counts = completeness["exportedSymbolCounts"]
    return replace(
        score,
        completeness=float(completeness["completenessScore"]),
        known=int(counts["withKnownType"]),
        ambiguous=int(counts["withAmbiguousType"]),
        unknown=int(counts["withUnknownType"]),
    )


def percent(share: float) -> str:
    """``share`` as a percentage with one decimal, as pyright prints it; only 1.0 is 100.0%."""
    shown = round(share * 100, 1)
    return f"{min(shown, 99.9) if share < 1 else shown:.1f}%"


def row(score: Score) -> str:
    venv = score.venv.relative_to(_common.ROOT)
    if score.completeness is None:
        error = " ".join(score.error.split()).replace("|", "\\|")
        cells = [f"error: {error}", "", "", ""]
    else:
        counts = [score.known, score.ambiguous, score.unknown]
        cells = [percent(score.completeness), *(str(count) for count in counts)]
    return (
        "| " + " | ".join([score.package, score.version, *cells, str(venv), score.pyright]) + " |"
    )


def report(scores: list[Score], install_error: str, side_aiohttp: str) -> str:
    """The results as a markdown document."""
    lines = [
        "# Type completeness: typedsvc beside aiohttp and tomodachi",
        "",
        "`pyright --verifytypes PACKAGE --ignoreexternal`: the share of the package's exported "
        "symbols whose type pyright knows fully (symbols typed by other packages count as known).",
        "",
        "| package | version | completeness | exported: known | ambiguous | unknown | venv "
        "| pyright |",
        "|---|---|---:|---:|---:|---:|---|---|",
        *(row(score) for score in scores),
        "",
    ]
    if install_error:
        lines += [
            f"{TOMODACHI} could not be installed into {SIDE_VENV.relative_to(_common.ROOT)}, so "
            "it has no row. pip said:",
            "",
            "```",
            install_error,
            "```",
            "",
        ]
    lines += [
        *(f"- {score.package}: `{score.command}`" for score in scores),
        f"- Python: {_common.python()}",
        f"- typedsvc: {_common.revision()}",
    ]
    if side_aiohttp:
        lines.append(f"- aiohttp in {SIDE_VENV.relative_to(_common.ROOT)}: {side_aiohttp}")
    lines += [
        f"- machine: {_common.machine()}",
        f"- date: {_common.now()}",
        f"- command: `{_common.command_line()}`",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    pyright_version = version_in(MAIN_VENV, "pyright")
    install_error = ensure_side_venv(pyright_version)
    with tempfile.TemporaryDirectory(prefix="typedsvc-verifytypes-") as tmp:
        workdir = Path(tmp)
        scores = [verify("typedsvc", MAIN_VENV, workdir), verify("aiohttp", MAIN_VENV, workdir)]
        side_aiohttp = ""
        if not install_error:
            scores.append(verify("tomodachi", SIDE_VENV, workdir))
            side_aiohttp = version_in(SIDE_VENV, "aiohttp")
    text = report(scores, install_error, side_aiohttp)
    _common.write_atomically(RESULTS, text)
    print(text)


if __name__ == "__main__":
    main()
