"""``typedsvc check``: every definition mistake of some files or modules, without serving."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from typedsvc._errors import Problem, collecting
from typedsvc._load import CommandError, import_target, services_in


class Report:
    """What checking found: problems with where they are, and what could not be imported."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.failures: list[str] = []
        self.services = 0

    def lines(self) -> list[str]:
        """The problems as ``file:line: message``, by file and line, then the failures."""
        found = sorted(self.problems, key=lambda problem: (problem.file, problem.line))
        lines = [f"{_shown(problem.file)}:{problem.line}: {problem.message}" for problem in found]
        return lines + [f"typedsvc: error: {failure}" for failure in self.failures]

    def summary(self, targets: int) -> str:
        checked = f"{self.services} service{'' if self.services == 1 else 's'}"
        files = (
            f"{targets} file{'' if targets == 1 else 's'} or module{'' if targets == 1 else 's'}"
        )
        if not self.problems and not self.failures:
            return f"typedsvc: {checked} in {files}: no problems."
        found = f"{len(self.problems)} problem{'' if len(self.problems) == 1 else 's'}"
        if self.failures:
            found += f", {len(self.failures)} failed to import"
        return f"typedsvc: {checked} in {files}: {found}."


def check(targets: Sequence[str]) -> Report:
    """Import each target while collecting definition mistakes instead of raising them.

    A route with a mistake is left out of its class and the import goes on, so that one
    run shows every mistake; a target that fails to import for another reason is reported
    as it is and the others are still checked.
    """
    report = Report()
    for target in targets:
        with collecting() as found:
            try:
                module = import_target(target)
            except CommandError as exc:
                report.failures.append(str(exc))
            else:
                report.services += len(services_in(module))
        report.problems.extend(found)
    return report


def _shown(file: str) -> str:
    """A path relative to the working directory when it is below it, as linters print it."""
    try:
        return str(Path(file).resolve().relative_to(Path.cwd()))
    except ValueError:
        return os.path.normpath(file)
