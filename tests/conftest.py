"""Shared fixtures: the repository root and one strict build of the book per session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))

# Kernels started by the tests inherit this: set ordering must not vary.
os.environ.setdefault("PYTHONHASHSEED", "0")

settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

#: What the strict build copies: the book's sources, not caches or builds.
_IGNORE = shutil.ignore_patterns(
    ".venv",
    "_build",
    ".git",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".ruff_cache",
    ".ipynb_checkpoints",
    "*.egg-info",
    "submissions",
)


@dataclass(frozen=True)
class BuiltSite:
    """The result of one strict build: where it ran, what it said, where the HTML is."""

    source: Path
    html: Path
    returncode: int
    log: str


def _jupyter_book() -> str:
    exe = Path(sys.executable).with_name("jupyter-book")
    return str(exe) if exe.exists() else "jupyter-book"


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    """Copy the book to a temporary folder and build it with -W -n (warnings fail).

    The copy keeps the working tree's own _build untouched and proves the
    build needs nothing beyond the committed sources.
    """
    source = tmp_path_factory.mktemp("book") / "src"
    shutil.copytree(ROOT, source, ignore=_IGNORE)
    proc = subprocess.run(
        [_jupyter_book(), "build", ".", "-W", "-n", "--keep-going"],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    return BuiltSite(source, source / "_build" / "html", proc.returncode, proc.stdout + proc.stderr)
