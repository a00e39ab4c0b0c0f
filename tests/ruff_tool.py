"""Running this project's ruff on text as if it were a file of the project.

The tests run it on generated revisions: they must come out formatted and lint-clean under
the project's own configuration (``pyproject.toml``), placed where the project keeps them.
ruff comes with the test extra; without it the tests skip, unless ``CI`` is set, in which
case they fail, so that CI can never silently leave the check out.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixture_projects import REPOSITORY_ROOT

CI_ENV = "CI"


def ruff_command(
    has_module: Callable[[str], bool] = lambda name: importlib.util.find_spec(name) is not None,
) -> list[str] | None:
    """How to run ruff from this Python environment, or None when it has none."""
    if has_module("ruff"):
        return [sys.executable, "-m", "ruff"]
    found = shutil.which("ruff", path=str(Path(sys.executable).parent))
    return [found] if found else None


def require_ruff(env: Mapping[str, str], command: list[str] | None) -> list[str]:
    """``command``, or fail (``CI`` set) or skip the test when there is none."""
    if command is not None:
        return command
    reason = "ruff is not installed in this environment (pip install -e '.[test]')"
    if env.get(CI_ENV, "").strip():
        pytest.fail(f"{reason}, and {CI_ENV} is set: the check must run", pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True)
class RuffResult:
    formatted: bool
    format_output: str
    lint_clean: bool
    lint_output: str


def ruff(text: str, as_path: str) -> RuffResult:
    """``ruff format --check`` and ``ruff check`` of ``text``, as the project's file
    ``as_path`` (relative to the repository), with the project's configuration."""
    command = require_ruff(os.environ, ruff_command())

    def run(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *arguments, "--stdin-filename", as_path, "-"],
            input=text,
            capture_output=True,
            text=True,
            encoding="utf-8",
            cwd=REPOSITORY_ROOT,
            check=False,
            timeout=60,
        )

    formatted = run("format", "--check", "--diff")
    checked = run("check", "--no-cache", "--output-format", "concise")
    for result in (formatted, checked):
        if result.returncode not in (0, 1):
            raise RuntimeError(f"ruff failed: {result.stderr}")
    return RuffResult(
        formatted=formatted.returncode == 0,
        format_output=formatted.stdout + formatted.stderr,
        lint_clean=checked.returncode == 0,
        lint_output=checked.stdout + checked.stderr,
    )
