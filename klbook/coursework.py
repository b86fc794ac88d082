"""Coursework: hand the chapters out without solutions, and grade what comes back.

Two commands (``make student`` and ``make grade``)::

    python -m klbook.coursework release --out _build/student chapters/*.ipynb
    python -m klbook.coursework grade --out _build/grades.csv submissions/

**Release.** Each chapter becomes a student notebook at the same relative
path under ``--out``: every cell tagged ``solution`` is removed (source and
outputs), the exercises and their answer stubs stay, and the stored outputs
stay too, except where they would reveal an answer. The rule for outputs:

1. a code cell tagged ``reveals-answer`` loses its outputs (an author's
   explicit mark), and
2. a defensive scan clears the outputs of any other cell whose text output
   contains a line of solution text (a *secret line*, see
   :func:`secret_lines`); the release reports every such cell.

A README for students and a zip of the lot (``<out>.zip``, fixed timestamps)
complete the release. The same input always gives the same bytes.

**Grade.** Submissions live in one folder per student,
``<dir>/<student>/<chapter>.ipynb``, with the chapter's file name (for
example ``01_log_likelihood_ratio.ipynb``). Each notebook is copied to a
temporary folder and run there, top to bottom, in a fresh kernel, with a time
limit for the whole notebook; a cell that raises does not stop the run.
After every code cell the grader runs a probe that reads
:func:`klbook.exercises.results` behind a random marker, so an answer judged
before a crash, a hang or a dead kernel still counts. The exercises expected
of a chapter are the ``exercise-start`` labels of the source chapter. The CSV
has one row per student and exercise: ``student, chapter, exercise, status,
detail`` with status one of ``correct``, ``incorrect``, ``not answered`` or
``error``. Submission files are only ever read.
"""

from __future__ import annotations

import argparse
import copy
import csv
import io
import json
import math
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, cast

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor

from coursework.notebooks import KERNEL_ENV, strip_execution_metadata

__all__ = [
    "CSV_COLUMNS",
    "REVEALS_TAG",
    "SOLUTION_TAG",
    "STATUSES",
    "ExerciseGrade",
    "Release",
    "StudentVersionPreprocessor",
    "checked_labels",
    "exercise_labels",
    "find_submissions",
    "grade",
    "grade_notebook",
    "main",
    "release",
    "secret_lines",
    "student_notebook",
    "write_grades",
]

#: Tag of every cell that belongs to a worked solution (markers included).
SOLUTION_TAG: Final[str] = "solution"
#: Tag of a kept cell whose stored outputs would give an answer away.
REVEALS_TAG: Final[str] = "reveals-answer"
#: The statuses a grade can have.
STATUSES: Final[tuple[str, ...]] = ("correct", "incorrect", "not answered", "error")
#: Columns of the grades CSV, in order.
CSV_COLUMNS: Final[tuple[str, ...]] = ("student", "chapter", "exercise", "status", "detail")

#: Where :func:`release` records that a folder is a release it may overwrite.
_RELEASE_MARKER: Final[str] = ".klbook-student-release"
#: Timestamp of every zip entry (the earliest a zip file can hold).
_ZIP_DATE: Final[tuple[int, int, int, int, int, int]] = (1980, 1, 1, 0, 0, 0)
#: Output MIME types whose text is scanned for solution text.
_TEXT_MIME: Final[tuple[str, ...]] = (
    "text/plain",
    "text/markdown",
    "text/html",
    "text/latex",
    "application/json",
)

_DIRECTIVE_START = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})\{(?P<name>[\w-]+)\}(?P<arg>[^\n]*)$")
_OPTION = re.compile(r"^\s*:(?P<key>[\w-]+):\s*(?P<value>.*?)\s*$")
_CHECK_CALL = re.compile(r"\bcheck\(\s*(?P<q>['\"])(?P<label>[^'\"\n]+)(?P=q)")
_FEEDBACK = re.compile(r"^(Correct\b.*|Not quite:.*|Not answered yet\b.*)$")
_CORRECT_LINE = re.compile(r"^Correct( \(in [^)]*\))?\.$")
_STRUCTURE_LINE = re.compile(r"^(`{3,}|~{3,}|:{3,}|:[\w-]+:)")


# ---------------------------------------------------------------------------
# Reading the exercise structure of a notebook
# ---------------------------------------------------------------------------


def _tags(cell: Mapping[str, Any]) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _directive_labels(source: str, directive: str) -> list[str]:
    """Labels of the ``directive`` blocks in a markdown source, in order."""
    found: list[str] = []
    lines = source.splitlines()
    for i, line in enumerate(lines):
        match = _DIRECTIVE_START.match(line)
        if match is None or match["name"] != directive:
            continue
        label = match["arg"].strip()
        for option in lines[i + 1 :]:
            opt = _OPTION.match(option)
            if opt is None:
                break
            if opt["key"] == "label":
                label = opt["value"]
        found.append(label)
    return found


def exercise_labels(nb: nbformat.NotebookNode) -> list[str]:
    r"""Return the labels of a notebook's exercises, in reading order.

    An exercise is a gated ``{exercise-start}`` directive in a markdown cell;
    its label is its ``:label:`` option.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook (version 4).

    Returns
    -------
    list of str
        The labels, in the order the exercises appear.

    Raises
    ------
    ValueError
        If an exercise has no label, or two exercises share one.

    Examples
    --------
    >>> from nbformat.v4 import new_markdown_cell, new_notebook
    >>> cell = new_markdown_cell("```{exercise-start}\n:label: ex-a\n```\nWhy?")
    >>> exercise_labels(new_notebook(cells=[cell]))
    ['ex-a']
    """
    labels: list[str] = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for label in _directive_labels(cell.source, "exercise-start"):
            if not label:
                raise ValueError(f"nb: the exercise in cell {index + 1} has no :label:")
            if label in labels:
                raise ValueError(f"nb: two exercises are labelled {label!r}")
            labels.append(label)
    return labels


def checked_labels(source: str) -> list[str]:
    r"""Return the labels that a code cell passes to ``check(...)``, in order.

    Examples
    --------
    >>> checked_labels('answer = 0.5\ncheck("ex-a", answer)')
    ['ex-a']
    >>> checked_labels("x = 1")
    []
    """
    return [m["label"] for m in _CHECK_CALL.finditer(source)]


def _output_texts(cell: Mapping[str, Any]) -> list[str]:
    """Every text a code cell's outputs show (streams, text data, errors)."""
    texts: list[str] = []
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            texts.append(str(output.get("text", "")))
        elif kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            for mime in _TEXT_MIME:
                if mime in data:
                    value = data[mime]
                    texts.append(value if isinstance(value, str) else json.dumps(value))
        elif kind == "error":
            texts.append(f"{output.get('ename', '')}: {output.get('evalue', '')}")
    return texts


def _cell_texts(cell: Mapping[str, Any]) -> list[str]:
    return [str(cell.get("source", "")), *_output_texts(cell)]


def _contains(text: str, secret: str) -> bool:
    """Whether ``secret`` occurs in ``text`` as a whole token run, not inside a word."""
    pattern = r"(?<![\w.])" + re.escape(secret) + r"(?![\w])"
    return re.search(pattern, text) is not None


def _is_trivial(line: str) -> bool:
    return (
        sum(ch.isalnum() for ch in line) < 3
        or _STRUCTURE_LINE.match(line) is not None
        or _CORRECT_LINE.match(line) is not None
    )


def secret_lines(nb: nbformat.NotebookNode) -> list[str]:
    r"""Return the lines of solution text that must not reach a student.

    A *secret line* is a line, stripped of surrounding space, of the source
    or of a text output of a cell tagged ``solution``, unless it is trivial
    (fewer than three letters or digits, a MyST fence or option line such as
    ``:class: dropdown``, or a bare "Correct." from a self-check) or it
    already occurs in the source of a cell that is not a solution (the
    exercise stub's ``check("label", answer)``, say), which every student sees
    anyway.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The source chapter, with its solutions.

    Returns
    -------
    list of str
        The secret lines, sorted and without duplicates.

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell, new_notebook
    >>> stub = new_code_cell('answer = ...\ncheck("ex-a", answer)')
    >>> sol = new_code_cell('answer = 0.25 * 2\ncheck("ex-a", answer)')
    >>> sol.metadata["tags"] = ["solution"]
    >>> secret_lines(new_notebook(cells=[stub, sol]))
    ['answer = 0.25 * 2']
    """
    public = [str(cell.source) for cell in nb.cells if SOLUTION_TAG not in _tags(cell)]
    found: set[str] = set()
    for cell in nb.cells:
        if SOLUTION_TAG not in _tags(cell):
            continue
        for text in _cell_texts(cell):
            for raw in text.splitlines():
                line = raw.strip()
                if _is_trivial(line) or any(_contains(src, line) for src in public):
                    continue
                found.add(line)
    return sorted(found)


# ---------------------------------------------------------------------------
# Release
# ---------------------------------------------------------------------------


class StudentVersionPreprocessor(Preprocessor):
    """Turn a chapter into its student version (an nbconvert preprocessor).

    Removes every cell tagged ``solution`` and clears the outputs of cells
    tagged ``reveals-answer`` (both through nbconvert's
    :class:`~nbconvert.preprocessors.TagRemovePreprocessor`), then clears the
    outputs of any remaining cell whose text outputs contain a secret line
    (:func:`secret_lines`). The ids of the cells cleared by that scan are
    kept in :attr:`scan_cleared`; per-cell execution timestamps are dropped.
    """

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.scan_cleared: list[str] = []

    def preprocess(
        self, nb: nbformat.NotebookNode, resources: dict[str, Any]
    ) -> tuple[nbformat.NotebookNode, dict[str, Any]]:
        """Return the student version of ``nb`` (which is modified in place)."""
        secrets_ = secret_lines(nb)
        remover = TagRemovePreprocessor(
            remove_cell_tags={SOLUTION_TAG}, remove_all_outputs_tags={REVEALS_TAG}
        )
        nb, resources = remover.preprocess(nb, resources)
        self.scan_cleared = []
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not cell.outputs:
                continue
            if any(_contains(text, s) for text in _output_texts(cell) for s in secrets_):
                cell.outputs = []
                cell.execution_count = None
                self.scan_cleared.append(str(cell.get("id", f"#{index + 1}")))
        strip_execution_metadata(nb)
        return nb, resources


def student_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return the student version of a chapter; ``nb`` itself is not changed.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The source chapter, with solutions.

    Returns
    -------
    nbformat.NotebookNode
        A copy without solution cells and without revealing outputs.

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell, new_notebook
    >>> sol = new_code_cell("answer = 2")
    >>> sol.metadata["tags"] = ["solution"]
    >>> nb = new_notebook(cells=[new_code_cell("x = 1"), sol])
    >>> [c.source for c in student_notebook(nb).cells]
    ['x = 1']
    >>> len(nb.cells)
    2
    """
    student, _ = StudentVersionPreprocessor().preprocess(copy.deepcopy(nb), {})
    return student


@dataclass(frozen=True)
class Release:
    """What :func:`release` wrote."""

    out: Path
    notebooks: tuple[Path, ...]
    readme: Path
    zip_path: Path
    #: Cells (``notebook: cell id``) whose outputs the defensive scan cleared.
    scan_cleared: tuple[str, ...] = ()


def _notebook_bytes(nb: nbformat.NotebookNode) -> bytes:
    text = nbformat.writes(nb)
    if not text.endswith("\n"):
        text += "\n"
    return text.encode("utf-8")


_README = """\
# Student notebooks: KL divergence and cross-entropy

These are the chapters of the course book as Jupyter notebooks, with the
worked solutions taken out. Each chapter ends with exercises; you answer them
in the notebook and the notebook tells you at once whether you are right.

## Setting up

You need Python 3.11 or newer and the course's helper package `klbook`
(the notebooks import it, and the self-checks live in it). From a copy of
the course repository:

```console
python -m venv .venv
.venv/bin/python -m pip install -r requirements.txt   # klbook, Jupyter and the rest
.venv/bin/jupyter lab
```

then open the notebooks in this folder. (If your instructor set up a Jupyter
server or a virtual machine with `klbook` installed, just use that.)

## Answering and self-checking

Inside each exercise there is a cell like

```python
answer = ...  # replace ... with your answer
check("ex-...", answer)
```

Replace `...` with your answer (a number, an array, a short text or a
function, as the exercise asks) and run the cell. It answers

- "Correct." when you are right,
- "Not quite: ..." with a hint when you are not (try again as often as you
  like), and
- "Not answered yet ..." while the `...` is still there.

Run the notebook from the top (Kernel, then Restart Kernel and Run All
Cells) before you check, so that every variable the exercise needs exists.

## Handing in

Hand in the notebook files themselves, **keeping their names** (for example
`{example}`), the way your instructor tells you. Before
you do:

- Restart the kernel and run all cells: the notebook must run from top to
  bottom without errors. Grading re-runs it that way in a fresh kernel, so
  the outputs saved in the file do not count; only what the code computes.
- Keep every `check("ex-...", answer)` cell. An exercise whose check cell is
  missing counts as not answered.
- Do not leave code that waits for input or runs for minutes: grading stops
  a notebook that runs too long.

## What is here

| Notebook | Exercises |
| --- | --- |
{table}
"""


def _readme(rows: Sequence[tuple[str, Sequence[str]]]) -> str:
    table = "\n".join(
        f"| `{path}` | {', '.join(f'`{label}`' for label in labels) or '(none)'} |"
        for path, labels in rows
    )
    example = Path(rows[0][0]).name if rows else "01_chapter.ipynb"
    return _README.format(table=table, example=example)


def _write_zip(zip_path: Path, members: Sequence[tuple[str, bytes]]) -> None:
    """Write a zip whose bytes depend only on ``members`` (names and contents)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in sorted(members):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so that the permission bits below mean what they say
            info.external_attr = 0o100644 << 16
            zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    zip_path.write_bytes(buffer.getvalue())


def _prepare_out(out: Path) -> None:
    """Make ``out`` an empty folder, removing only an earlier release."""
    if out.exists():
        if not out.is_dir():
            raise ValueError(f"out: {out} exists and is not a folder")
        if any(out.iterdir()):
            if not (out / _RELEASE_MARKER).is_file():
                raise ValueError(
                    f"out: {out} is not empty and is not an earlier student release; "
                    "choose a new or empty folder"
                )
            shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def release(
    notebooks: Iterable[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    root: str | os.PathLike[str] | None = None,
) -> Release:
    """Write the student release of ``notebooks`` to ``out`` and ``<out>.zip``.

    Parameters
    ----------
    notebooks : iterable of path-like
        The source chapters, with solutions.
    out : path-like
        The release folder. It must be new, empty, or an earlier release
        (which is replaced as a whole).
    root : path-like, optional
        The folder the notebooks' relative paths are taken from (the current
        directory when omitted): ``<root>/chapters/01_x.ipynb`` is written to
        ``<out>/chapters/01_x.ipynb``.

    Returns
    -------
    Release
        The paths written and any cells the defensive scan cleared.

    Raises
    ------
    ValueError
        If no notebook is given, a notebook is not under ``root``, two
        notebooks map to the same path, a notebook has an exercise without
        a label, or ``out`` holds something other than a release.

    Examples
    --------
    >>> import tempfile, pathlib, nbformat
    >>> from nbformat.v4 import new_code_cell, new_notebook
    >>> folder = tempfile.TemporaryDirectory()
    >>> tmp = pathlib.Path(folder.name)
    >>> sol = new_code_cell("answer = 2")
    >>> sol.metadata["tags"] = ["solution"]
    >>> nbformat.write(new_notebook(cells=[new_code_cell("x = 1"), sol]), tmp / "ch.ipynb")
    >>> result = release([tmp / "ch.ipynb"], tmp / "student", root=tmp)
    >>> [c.source for c in nbformat.read(result.notebooks[0], as_version=4).cells]
    ['x = 1']
    >>> result.zip_path.name
    'student.zip'
    >>> folder.cleanup()
    """
    base = Path(root if root is not None else Path.cwd()).resolve()
    sources = [Path(p) for p in notebooks]
    if not sources:
        raise ValueError("notebooks: give at least one chapter notebook")
    out_dir = Path(out)
    planned: dict[Path, Path] = {}
    for src in sources:
        try:
            rel = src.resolve().relative_to(base)
        except ValueError:
            raise ValueError(f"notebooks: {src} is not under the root folder {base}") from None
        if rel in planned:
            raise ValueError(f"notebooks: {src} is given twice")
        planned[rel] = src
    members: list[tuple[str, bytes]] = []
    rows: list[tuple[str, list[str]]] = []
    cleared: list[str] = []
    built: list[tuple[Path, bytes]] = []
    for rel, src in sorted(planned.items()):
        nb = nbformat.read(src, as_version=4)
        labels = exercise_labels(nb)
        processor = StudentVersionPreprocessor()
        student, _ = processor.preprocess(nb, {})
        nbformat.validate(student)
        data = _notebook_bytes(student)
        built.append((rel, data))
        rows.append((rel.as_posix(), labels))
        cleared.extend(f"{rel.as_posix()}: cell {cid}" for cid in processor.scan_cleared)
    readme = _readme(rows).encode("utf-8")
    _prepare_out(out_dir)
    written: list[Path] = []
    for rel, data in built:
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append(target)
        members.append((f"{out_dir.name}/{rel.as_posix()}", data))
    (out_dir / "README.md").write_bytes(readme)
    members.append((f"{out_dir.name}/README.md", readme))
    (out_dir / _RELEASE_MARKER).write_text(
        "Written by `python -m klbook.coursework release`; the folder is replaced on the next "
        "release.\n",
        encoding="utf-8",
    )
    zip_path = out_dir.with_name(out_dir.name + ".zip")
    _write_zip(zip_path, members)
    return Release(out_dir, tuple(written), out_dir / "README.md", zip_path, tuple(cleared))


# ---------------------------------------------------------------------------
# Grading
# ---------------------------------------------------------------------------

Status = Literal["correct", "incorrect", "not answered", "error"]
#: The statuses a self-check itself records (see :func:`klbook.exercises.results`).
_JUDGED: Final[frozenset[str]] = frozenset({"correct", "incorrect", "not answered"})


@dataclass(frozen=True)
class ExerciseGrade:
    """One row of the grades: a student's result on one exercise."""

    student: str
    chapter: str
    exercise: str
    status: Status
    detail: str = ""

    def as_row(self) -> tuple[str, str, str, str, str]:
        """Return the CSV row, in the order of :data:`CSV_COLUMNS`."""
        return (self.student, self.chapter, self.exercise, self.status, self.detail)


@dataclass
class _CellRun:
    """How one code cell of a submission fared."""

    index: int  # position in the submitted notebook, from 0
    outputs: list[Any] = field(default_factory=list)
    error: str | None = None
    timed_out: bool = False
    kernel_died: bool = False


@dataclass
class _Run:
    """The outcome of running one submission."""

    runs: dict[int, _CellRun] = field(default_factory=dict)
    results: dict[str, str] = field(default_factory=dict)
    stopped: str | None = None  # why the remaining cells did not run
    failed: str | None = None  # why nothing could be judged at all


#: Metadata key that marks the grader's probe cells in the executed copy.
_PROBE_KEY: Final[str] = "klbook_grade_probe"
#: Seconds a probe may take; probes run even when the notebook's budget is spent.
_PROBE_TIMEOUT: Final[float] = 30.0


def _probe_source(marker: str) -> str:
    return (
        "import builtins as _klg_builtins, json as _klg_json, klbook.exercises as _klg_ex\n"
        f"_klg_builtins.print({marker!r} + _klg_json.dumps(_klg_ex.results(), sort_keys=True))"
    )


def _probe_results(cell: nbformat.NotebookNode, marker: str) -> dict[str, str] | None:
    text = "".join(
        str(o.get("text", ""))
        for o in cell.get("outputs", [])
        if o.get("output_type") == "stream" and o.get("name") == "stdout"
    )
    for line in text.splitlines():
        if line.startswith(marker):
            try:
                value = json.loads(line[len(marker) :])
            except json.JSONDecodeError:
                return None
            if isinstance(value, dict):
                return {str(k): str(v) for k, v in value.items()}
    return None


def _first_line(text: str) -> str:
    lines = [line for line in str(text).splitlines() if line.strip()]
    return lines[0].strip() if lines else ""


def _run_submission(nb: nbformat.NotebookNode, workdir: Path, timeout: float) -> _Run:
    """Run the code cells of ``nb`` in a fresh kernel with cwd ``workdir``."""
    marker = f"KLBOOK-GRADE-{secrets.token_hex(8)}:"
    outcome = _Run()
    exec_nb = nbformat.v4.new_notebook()
    plan: list[tuple[int, bool]] = []  # (index in nb, is probe)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not str(cell.source).strip():
            continue
        exec_nb.cells.append(nbformat.v4.new_code_cell(str(cell.source)))
        plan.append((index, False))
        probe = nbformat.v4.new_code_cell(_probe_source(marker))
        probe.metadata[_PROBE_KEY] = True
        exec_nb.cells.append(probe)
        plan.append((index, True))
    deadline = math.inf

    def cell_timeout(cell: Any = None) -> float:
        if cell is not None and cell.get("metadata", {}).get(_PROBE_KEY):
            return _PROBE_TIMEOUT  # a probe reports what already ran, whatever the budget
        return max(deadline - time.monotonic(), 0.001)

    client = NotebookClient(
        exec_nb,
        kernel_name="python3",
        allow_errors=True,
        record_timing=False,
        timeout_func=cell_timeout,
        interrupt_on_timeout=False,
        shutdown_kernel="immediate",
        startup_timeout=120,
        resources={"metadata": {"path": str(workdir)}},
    )
    env = {**os.environ, **KERNEL_ENV}
    try:
        # The kernel's own stderr (ipykernel's start-up notices) is of no use to a grader.
        with client.setup_kernel(env=env, cwd=str(workdir), stderr=subprocess.DEVNULL):
            deadline = time.monotonic() + timeout
            for position, (index, is_probe) in enumerate(plan):
                cell = exec_nb.cells[position]
                if not is_probe and time.monotonic() >= deadline:
                    outcome.stopped = f"the notebook ran out of time ({timeout:g} s)"
                    break
                run = outcome.runs.setdefault(index, _CellRun(index))
                try:
                    client.execute_cell(cell, position)
                except CellTimeoutError:
                    if is_probe:
                        outcome.stopped = f"the kernel stopped answering after cell {index + 1}"
                    else:
                        run.timed_out = True
                        outcome.stopped = f"the notebook ran out of time ({timeout:g} s)"
                    break
                except DeadKernelError:
                    if not is_probe:
                        run.kernel_died = True
                    outcome.stopped = f"the kernel died in cell {index + 1}"
                    break
                if is_probe:
                    found = _probe_results(cell, marker)
                    if found is not None:
                        outcome.results = found
                    continue
                run.outputs = list(cell.outputs)
                for output in cell.outputs:
                    if output.get("output_type") == "error":
                        run.error = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
    except Exception as exc:  # a kernel that cannot start or a broken connection
        reason = f"{type(exc).__name__}: {_first_line(str(exc))}".rstrip(": ")
        if not outcome.runs:
            outcome.failed = f"the notebook could not be run ({reason})"
        elif outcome.stopped is None:
            outcome.stopped = f"running the notebook failed ({reason})"
    return outcome


def _feedback(run: _CellRun) -> str:
    lines = [
        line.strip()
        for text in _output_texts({"outputs": run.outputs})
        for line in text.splitlines()
        if _FEEDBACK.match(line.strip())
    ]
    return lines[-1] if lines else ""


def _judge(label: str, nb: nbformat.NotebookNode, outcome: _Run) -> tuple[Status, str]:
    """Status and detail of exercise ``label`` after running submission ``nb``."""
    if outcome.failed is not None:
        return "error", outcome.failed
    cells = [
        index
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and label in checked_labels(str(cell.source))
    ]
    status = outcome.results.get(label)
    if not cells:
        if status in _JUDGED:
            return cast(Status, status), "checked, though no cell names the exercise"
        return "not answered", "no cell calls check for this exercise (the stub is missing)"
    last = cells[-1]
    where = f"cell {last + 1}"
    run = outcome.runs.get(last)
    if run is None:
        return "error", f"{outcome.stopped or 'the notebook stopped'} before {where} ran"
    if run.timed_out:
        return "error", f"{where} did not finish: {outcome.stopped}"
    if run.kernel_died:
        return "error", f"the kernel died in {where}"
    if run.error is not None:
        return "error", f"{_first_line(run.error)} ({where})"
    if status in _JUDGED:
        return cast(Status, status), _feedback(run)
    return "not answered", f"{where} ran but did not call check for this exercise"


def _read_submission(path: Path) -> nbformat.NotebookNode:
    """Read a submitted notebook, or raise saying why it is not one."""
    raw = json.loads(path.read_text(encoding="utf-8"))  # a JSONDecodeError says where
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise ValueError("the file is JSON but not a notebook (no list of cells)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbformat's complaints about missing cell ids
        nb = nbformat.reads(json.dumps(raw), as_version=4)
    for cell in nb.cells:
        cell["source"] = str(cell.get("source", ""))
        cell["cell_type"] = str(cell.get("cell_type", ""))
    return nb


def grade_notebook(
    path: str | os.PathLike[str],
    labels: Sequence[str],
    *,
    timeout: float = 120,
) -> list[tuple[str, Status, str]]:
    """Run one submitted notebook and judge each expected exercise.

    The file is copied to a fresh temporary folder, which is also the
    kernel's working directory; the submission itself is only read.

    Parameters
    ----------
    path : path-like
        The submitted notebook.
    labels : sequence of str
        The exercises expected of it (from the source chapter).
    timeout : float, default 120
        Seconds the whole notebook may run, once its kernel has started.

    Returns
    -------
    list of (label, status, detail)
        One entry per expected label, in the order given.

    Raises
    ------
    ValueError
        If ``timeout`` is not a positive finite number.
    """
    if not (isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    src = Path(path)
    with tempfile.TemporaryDirectory(prefix="klbook-grade-") as tmp:
        workdir = Path(tmp)
        copy_path = workdir / "submission.ipynb"
        shutil.copyfile(src, copy_path)
        try:
            nb = _read_submission(copy_path)
        except Exception as exc:  # broken JSON, not a notebook, unknown format
            reason = f"the notebook does not parse ({type(exc).__name__}: {_first_line(str(exc))})"
            return [(label, "error", reason[:200]) for label in labels]
        outcome = _run_submission(nb, workdir, timeout)
    return [(label, *_judge(label, nb, outcome)) for label in labels]


def _is_hidden(path: Path, base: Path) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in path.relative_to(base).parts)


def find_submissions(
    directory: str | os.PathLike[str], chapter_names: Sequence[str]
) -> dict[str, dict[str, Path | str]]:
    """Map each student to their notebook for each chapter.

    The layout is one folder per student, named by the student's identifier,
    holding the chapter notebooks under their release names::

        submissions/
            alice/01_log_likelihood_ratio.ipynb
            bob/01_log_likelihood_ratio.ipynb
            bob/02_expected_value.ipynb

    A notebook may sit in a subfolder of the student's folder; hidden folders
    (``.ipynb_checkpoints``) are ignored. A file whose name starts with the
    chapter's name (``01_log_likelihood_ratio (1).ipynb``) is accepted when
    there is no exact match.

    Parameters
    ----------
    directory : path-like
        The submissions folder.
    chapter_names : sequence of str
        File names of the chapters, such as ``"01_log_likelihood_ratio.ipynb"``.

    Returns
    -------
    dict
        ``{student: {chapter_name: path}}``; a chapter whose file is ambiguous
        maps to a string saying why. Chapters with no file are left out.

    Raises
    ------
    ValueError
        If ``directory`` is not a folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = tempfile.TemporaryDirectory()
    >>> tmp = pathlib.Path(folder.name)
    >>> (tmp / "alice").mkdir()
    >>> _ = (tmp / "alice" / "01_x.ipynb").write_text("{}")
    >>> subs = find_submissions(tmp, ["01_x.ipynb", "02_y.ipynb"])
    >>> sorted(subs), sorted(subs["alice"])
    (['alice'], ['01_x.ipynb'])
    >>> folder.cleanup()
    """
    base = Path(directory)
    if not base.is_dir():
        raise ValueError(f"directory: {base} is not a folder of submissions")
    found: dict[str, dict[str, Path | str]] = {}
    for student_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        if _is_hidden(student_dir, base):
            continue
        files = sorted(
            p for p in student_dir.rglob("*.ipynb") if p.is_file() and not _is_hidden(p, base)
        )
        mine: dict[str, Path | str] = {}
        for name in chapter_names:
            stem = Path(name).stem
            exact = [p for p in files if p.name == name]
            loose = [p for p in files if p.name != name and p.stem.startswith(stem)]
            candidates = exact or loose
            if len(candidates) == 1:
                mine[name] = candidates[0]
            elif candidates:
                listed = ", ".join(p.relative_to(student_dir).as_posix() for p in candidates)
                mine[name] = f"several files could be this chapter: {listed}"
        found[student_dir.name] = mine
    return found


def grade(
    submissions: str | os.PathLike[str],
    chapters: Sequence[str | os.PathLike[str]],
    *,
    timeout: float = 120,
    progress: bool = False,
) -> list[ExerciseGrade]:
    """Grade every student's submissions against the source chapters.

    Parameters
    ----------
    submissions : path-like
        The submissions folder (layout in :func:`find_submissions`).
    chapters : sequence of path-like
        The source chapters; their ``exercise-start`` labels are the
        exercises expected. Chapters without exercises are skipped.
    timeout : float, default 120
        Seconds each notebook may run (see :func:`grade_notebook`).
    progress : bool, default False
        Print one line per notebook to stderr.

    Returns
    -------
    list of ExerciseGrade
        One per student and expected exercise: students sorted, chapters in
        the order given, exercises in reading order. A chapter a student did
        not hand in gives "not answered" rows.

    Raises
    ------
    ValueError
        If no chapter is given, ``submissions`` is not a folder, or
        ``timeout`` is not positive.
    """
    if not chapters:
        raise ValueError("chapters: give at least one source chapter")
    if not (isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    expected: list[tuple[str, list[str]]] = []
    for chapter in chapters:
        path = Path(chapter)
        labels = exercise_labels(nbformat.read(path, as_version=4))
        if labels:
            expected.append((path.name, labels))
    table = find_submissions(submissions, [name for name, _ in expected])
    grades: list[ExerciseGrade] = []
    for student, files in table.items():
        for name, labels in expected:
            chapter = Path(name).stem
            entry = files.get(name)
            if entry is None:
                rows = [
                    (label, "not answered", "no submission for this chapter") for label in labels
                ]
            elif isinstance(entry, str):
                rows = [(label, "error", entry) for label in labels]
            else:
                start = time.perf_counter()
                rows = grade_notebook(entry, labels, timeout=timeout)
                if progress:
                    took = time.perf_counter() - start
                    print(f"{student}/{name}: {took:.1f} s", file=sys.stderr)
            grades.extend(
                ExerciseGrade(student, chapter, label, cast(Status, status), detail)
                for label, status, detail in rows
            )
    return grades


def write_grades(grades: Iterable[ExerciseGrade], out: str | os.PathLike[str]) -> Path:
    r"""Write grades as CSV (header :data:`CSV_COLUMNS`, ``\n`` line ends, UTF-8).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(folder.name) / "g.csv"
    >>> _ = write_grades([ExerciseGrade("al", "01_x", "ex-a", "correct", "Correct.")], path)
    >>> print(path.read_text(), end="")
    student,chapter,exercise,status,detail
    al,01_x,ex-a,correct,Correct.
    >>> folder.cleanup()
    """
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(g.as_row() for g in grades)
    return path


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def _default_chapters() -> list[Path]:
    here = sorted(Path("chapters").glob("*.ipynb"))
    if here:
        return here
    return sorted((Path(__file__).resolve().parent.parent / "chapters").glob("*.ipynb"))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``release`` and ``grade`` (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m klbook.coursework", description=__doc__.splitlines()[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="write the student release (no solutions) and a zip")
    rel.add_argument("--out", type=Path, default=Path("_build/student"))
    rel.add_argument("notebooks", nargs="+", type=Path)
    grd = sub.add_parser("grade", help="run submitted notebooks and write a CSV of results")
    grd.add_argument("--out", type=Path, default=Path("_build/grades.csv"))
    grd.add_argument(
        "--chapters",
        nargs="+",
        type=Path,
        help="source chapters (default: chapters/*.ipynb)",
    )
    grd.add_argument(
        "--timeout", type=float, default=120, help="seconds each notebook may run (default 120)"
    )
    grd.add_argument("submissions", type=Path, help="folder with one subfolder per student")
    args = parser.parse_args(argv)
    try:
        if args.command == "release":
            result = release(args.notebooks, args.out)
            for cell in result.scan_cleared:
                print(
                    f"cleared outputs that show solution text: {cell} "
                    f"(tag it {REVEALS_TAG!r} to make this explicit)",
                    file=sys.stderr,
                )
            print(
                f"wrote {len(result.notebooks)} notebooks and README.md to {result.out}, "
                f"and {result.zip_path}",
                file=sys.stderr,
            )
        else:
            chapters = args.chapters or _default_chapters()
            grades = grade(args.submissions, chapters, timeout=args.timeout, progress=True)
            path = write_grades(grades, args.out)
            counts = {s: sum(g.status == s for g in grades) for s in STATUSES}
            summary = ", ".join(f"{n} {s}" for s, n in counts.items())
            print(f"wrote {len(grades)} rows to {path} ({summary})", file=sys.stderr)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
