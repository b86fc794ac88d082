"""The website without solutions (``make book-student``).

The public website shows every worked solution behind a "Solution" toggle:
anyone can open it. For a course that marks the exercises, build this one
instead. It is made from a copy of the book's sources under ``--out``:

- every chapter is replaced by its student notebook (the release's: every
  cell tagged ``solution`` removed, revealing outputs cleared), so the
  solutions' code cells and outputs are not in the HTML at all, not folded;
- the copy's ``_config.yml`` sets sphinx-exercise's ``hide_solutions``, which
  drops any solution directive written in a Markdown page.

The repository's own ``_config.yml`` and chapters are not touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final

import nbformat
import yaml

from coursework.release import BOOK_ROOT, student_notebook

__all__ = ["NOT_SOURCES", "build_student_site", "student_sources"]

#: What is never part of the book's sources: builds, caches, the environment, classes' work.
NOT_SOURCES: Final[tuple[str, ...]] = (
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
    "grades",
)
#: What the copy of the sources leaves out: the above, and the code that is not the book.
_IGNORE: Final = shutil.ignore_patterns(
    *NOT_SOURCES, "tests", "benchmarks", "coursework", "klbook", ".ci"
)


def student_sources(
    out: str | os.PathLike[str], root: str | os.PathLike[str] | None = None
) -> Path:
    """Copy the book's sources to ``out``, chapters as student notebooks, solutions hidden.

    Returns
    -------
    Path
        The copy (``out`` itself), ready for ``jupyter-book build``.
    """
    source = Path(root) if root is not None else BOOK_ROOT
    target = Path(out)
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=_IGNORE)
    for chapter in sorted((target / "chapters").glob("*.ipynb")):
        nb = nbformat.read(chapter, as_version=4)
        nbformat.write(student_notebook(nb), chapter)
    config_path = target / "_config.yml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    sphinx = config.setdefault("sphinx", {})
    sphinx.setdefault("config", {})["hide_solutions"] = True
    config_path.write_text(
        "# A copy for the website without solutions (python -m coursework book-student).\n"
        + yaml.safe_dump(config, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    return target


def build_student_site(
    out: str | os.PathLike[str], root: str | os.PathLike[str] | None = None
) -> Path:
    """Build the website without solutions into ``<out>/html``; return that folder.

    Raises
    ------
    ValueError
        If the build fails (its log's end is in the message).
    """
    base = Path(out)
    src = student_sources(base / "src", root)
    exe = Path(sys.executable).with_name("jupyter-book")
    proc = subprocess.run(
        [
            str(exe) if exe.exists() else "jupyter-book",
            "build",
            str(src),
            "--path-output",
            str(base),
        ],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    html = base / "_build" / "html"
    if proc.returncode != 0 or not (html / "index.html").is_file():
        log = (proc.stdout + proc.stderr)[-3000:]
        raise ValueError(f"the website without solutions did not build:\n{log}")
    final = base / "html"
    if final.exists():
        shutil.rmtree(final)
    html.rename(final)
    return final
