"""Shared fixtures: the repository root, one strict build of the book and one student
release per session, and the order in which `make test` runs the test files."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

if TYPE_CHECKING:
    from coursework.release import Release

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))

# Kernels started by the tests inherit this: set ordering must not vary.
os.environ.setdefault("PYTHONHASHSEED", "0")

settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


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
    build needs nothing beyond the committed sources. Under pytest-xdist the
    workers share one build: the first to arrive builds while holding a lock
    in the session's common temporary folder, the others wait and reuse it.
    """
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # shared by every worker of this session
    root = base / "strict-build"
    root.mkdir(exist_ok=True)
    with open(root / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = root / "result.json"
        source = root / "src"
        if not result.exists():
            shutil.rmtree(source, ignore_errors=True)
            # The book's sources, not caches or builds (imported here: the mutation
            # run's copy of the tests has no coursework package).
            from coursework.site import NOT_SOURCES

            shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCES))
            proc = subprocess.run(
                [_jupyter_book(), "build", ".", "-W", "-n", "--keep-going"],
                cwd=source,
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            record = {"returncode": proc.returncode, "log": proc.stdout + proc.stderr}
            result.write_text(json.dumps(record), encoding="utf-8")
        record = json.loads(result.read_text(encoding="utf-8"))
    return BuiltSite(source, source / "_build" / "html", record["returncode"], record["log"])


@pytest.fixture(scope="session")
def student_release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    """One student release of every chapter (``make student``), read by the coursework tests."""
    from coursework import release  # imports nbconvert: only for the tests that need it

    return release.release(CHAPTERS, tmp_path_factory.mktemp("release") / "student", root=ROOT)


#: The order in which `make test` hands test files to its pytest-xdist workers
#: (--dist loadfile --no-loadscope-reorder): the longest first, each on a worker of its
#: own, then the many short files that fill the workers' last minutes evenly. The
#: strict build's own test comes late: it would only wait for the build the browser
#: tests start. Files not named keep their collection order, after these.
SCHEDULE = (
    "tests/test_browser.py",
    "tests/test_pdf.py",
    "tests/test_sandbox.py",
    "tests/test_grading_class.py",
    "tests/test_coursework.py",
    "tests/test_student_runs.py",
    "chapters/*.ipynb",
    "tests/test_student_site.py",
    "tests/test_notebooks.py",
    "tests/test_project.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Order the items file by file as SCHEDULE says (a stable sort: nothing else moves)."""

    def rank(item: pytest.Item) -> int:
        path = Path(str(item.path)).resolve()
        for i, pattern in enumerate(SCHEDULE):
            if path.is_relative_to(ROOT) and path.relative_to(ROOT).match(pattern):
                return i
        return len(SCHEDULE)

    items.sort(key=rank)
