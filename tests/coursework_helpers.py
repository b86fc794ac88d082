"""Shared helpers of the coursework tests: reading the chapters' exercises, honest
answers for them, trimmed notebooks, and the sandbox requirement.

Everything about an exercise is discovered from the source chapters and the
marking checks; nothing here names an exercise.
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
if not (ROOT / "coursework").is_dir():  # make mutate's scratch copy holds klbook and tests only
    pytest.skip("the instructors' package is not in this copy", allow_module_level=True)

# Test modules import the instructors' package through here, after the check above.
from coursework import grading, marking, probe, sandbox, site  # noqa: E402
from coursework.sandbox import sandbox_problem  # noqa: E402

__all__ = ["grading", "marking", "probe", "sandbox", "site"]

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
CHAPTER_IDS = [p.stem for p in CHAPTERS]

_EX_LABEL = re.compile(
    r"\{exercise-start\}[^\n]*\n(?:[ \t]*:[\w-]+:[^\n]*\n)*?[ \t]*:label:\s*(\S+)"
)
_SOL_START = re.compile(r"\{solution-start\}\s*(\S+)")
_CHECK = re.compile(r"check\(\s*[\"']([^\"']+)[\"']")


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def labels(nb: nbformat.NotebookNode) -> list[str]:
    """Exercise labels in reading order (an independent reading of the format)."""
    return [
        m.group(1)
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for m in _EX_LABEL.finditer(cell.source)
    ]


def stub_cells(nb: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    """The untagged code cell that calls check(label, ...) for each label."""
    stubs = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and "solution" not in tags(cell):
            for label in _CHECK.findall(cell.source):
                stubs.setdefault(label, cell)
    return stubs


def solution_cells(nb: nbformat.NotebookNode, label: str) -> list[nbformat.NotebookNode]:
    """The cells of the worked solution of ``label``."""
    inside, found = False, []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and label in _SOL_START.findall(cell.source):
            inside = True
        elif inside and cell.cell_type == "markdown" and "{solution-end}" in cell.source:
            break
        elif inside:
            found.append(cell)
    return found


def solution_function(nb: nbformat.NotebookNode, label: str) -> tuple[str, str]:
    """The worked solution's function for a function exercise: (its source, its name)."""
    defs: dict[str, str] = {}
    answered = ""
    for cell in solution_cells(nb, label):
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                defs[node.name] = ast.get_source_segment(cell.source, node) or ""
            elif (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Name)
                and any(isinstance(t, ast.Name) and t.id == "answer" for t in node.targets)
            ):
                answered = node.value.id
    name = answered if answered in defs else (list(defs)[-1] if defs else "")
    if not name:
        raise LookupError(f"{label}: no function in the worked solution")
    return defs[name], name


IMPORTS = "import math\n\nimport numpy as np\n\nfrom klbook.exercises import check"


def honest_source(nb: nbformat.NotebookNode, label: str, mark: Any) -> str:
    """Code that sets ``answer`` to a right answer of ``label`` (from the marking check or
    the worked solution's function)."""
    if isinstance(mark, marking.Function):
        source, name = solution_function(nb, label)
        return f"{source}\n\n\nanswer = {name}"
    if isinstance(mark, marking.Choice):
        return f"answer = {mark.accepted[0]!r}"
    expected = np.asarray(mark.expected, dtype=np.float64)
    if expected.ndim == 0:
        return f"answer = {float(expected)!r}"
    return f"answer = np.array({expected.tolist()!r})"


def check_cell(label: str, source: str) -> nbformat.NotebookNode:
    return new_code_cell(f'{source}\ncheck("{label}", answer)')


def trimmed(cells: list[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    """A small notebook: the chapter's imports, then the given cells."""
    nb = new_notebook(cells=[new_code_cell(IMPORTS), *cells])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def require_sandbox() -> None:
    """Skip (or, with KLBOOK_REQUIRE_SANDBOX=1 as in CI, fail) where bubblewrap cannot run."""
    problem = sandbox_problem()
    if problem is None:
        return
    if os.environ.get("KLBOOK_REQUIRE_SANDBOX") == "1":
        pytest.fail(f"KLBOOK_REQUIRE_SANDBOX=1 but {problem}")
    pytest.skip(f"the grader's sandbox cannot run here: {problem}")


def grading_chapter() -> Path:
    """The first chapter whose exercises include a number and a function to write."""
    marks = marking.load()
    for chapter in CHAPTERS:
        kinds = {type(marks.get(label)) for label in labels(read(chapter))}
        if marking.Numeric in kinds and marking.Function in kinds:
            return chapter
    raise LookupError("no chapter has both a numeric and a function exercise")


def klbook_function_for(mark: Any) -> str | None:
    """The name of a public klbook function that computes a function exercise's marking
    outputs (the one the exercise asks the student to write), or None."""
    import inspect

    import klbook

    for name in klbook.__all__:
        candidate = getattr(klbook, name)
        if not inspect.isfunction(candidate):
            continue
        try:
            outputs = [candidate(*args) for args, _ in mark.cases]
            if all(
                np.allclose(np.asarray(got, dtype=float), want, rtol=mark.rtol, atol=mark.atol)
                for got, (_, want) in zip(outputs, mark.cases, strict=True)
            ):
                return name
        except Exception:  # most klbook functions do not fit the exercise
            continue
    return None
