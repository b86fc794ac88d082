"""Grade submitted notebooks: run each in a sandbox, read its answers, mark them outside.

``python -m coursework grade --out _build/grades.csv submissions/`` (``make grade``).

Submissions live in one folder per student, ``<dir>/<student>/<chapter>.ipynb``
(:func:`find_submissions`). For each, the grader

1. reads the file once (its SHA-256 goes into the results) and finds, in the
   submitted code cells, the last cell that calls ``check("<label>", <expr>)``
   for each exercise the source chapter expects;
2. starts a fresh kernel in a bubblewrap sandbox (:mod:`coursework.sandbox`)
   whose klbook is the student wheel, and runs the code cells top to bottom,
   a cell that raises not stopping the run, within a time limit for the
   whole notebook;
3. right after each check cell runs, asks the kernel for the value of
   ``<expr>`` as a Jupyter *user expression* (:mod:`coursework.probe`): a
   number, array or text is written down as JSON; a function answer is called
   on the exercise's marking inputs, which the grader sends, and its outputs
   are written down. Nothing the notebook prints is read;
4. marks each answer in its own process with the exercise's marking check
   (:mod:`coursework.marking`), which students never see.

So nothing a submission prints, patches or registers (``check``, the
self-checks' record, ``print``, IPython hooks) can earn a mark: only a value
that the marking check accepts can, and for a function exercise that means
right outputs on inputs the student never saw. The CSV has one row per
student and expected exercise: ``student, chapter, exercise, status, detail,
sha256, sandbox``, status one of ``correct``, ``incorrect``, ``not answered``
or ``error``. Submission files are only ever read.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal, cast

import nbformat

from coursework import marking as marking_checks
from coursework.probe import Answer, answer_expression, check_calls, decode, install_code
from coursework.release import BOOK_ROOT, checked_labels, exercise_labels
from coursework.sandbox import (
    Environment,
    Kernel,
    KernelDied,
    KernelTimeout,
    Limits,
    sandbox_problem,
)

__all__ = [
    "CSV_COLUMNS",
    "NO_SANDBOX",
    "SANDBOX",
    "STATUSES",
    "ExerciseGrade",
    "Grader",
    "SandboxUnavailable",
    "find_submissions",
    "grade",
    "grade_notebook",
    "write_grades",
]

Status = Literal["correct", "incorrect", "not answered", "error"]
#: The statuses a grade can have.
STATUSES: Final[tuple[str, ...]] = ("correct", "incorrect", "not answered", "error")
#: Columns of the grades CSV, in order.
CSV_COLUMNS: Final[tuple[str, ...]] = (
    "student",
    "chapter",
    "exercise",
    "status",
    "detail",
    "sha256",
    "sandbox",
)
#: The ``sandbox`` column: how the notebook was run.
SANDBOX: Final[str] = "bubblewrap"
NO_SANDBOX: Final[str] = "none (--no-sandbox)"
#: Seconds the grader waits for one answer to be read (a function answer runs then).
PROBE_TIMEOUT: Final[float] = 30.0


class SandboxUnavailable(ValueError):
    """No sandbox can be made, and grading without one was not asked for."""


@dataclass(frozen=True)
class ExerciseGrade:
    """One row of the grades: a student's result on one exercise."""

    student: str
    chapter: str
    exercise: str
    status: Status
    detail: str = ""
    sha256: str = ""
    sandbox: str = ""

    def as_row(self) -> tuple[str, ...]:
        """Return the CSV row, in the order of :data:`CSV_COLUMNS`."""
        return (
            self.student,
            self.chapter,
            self.exercise,
            self.status,
            self.detail,
            self.sha256,
            self.sandbox,
        )


@dataclass
class _CellRun:
    """How one code cell of a submission fared."""

    index: int  # position in the submitted notebook, from 0
    error: str | None = None
    timed_out: bool = False
    kernel_died: bool = False


@dataclass
class _Run:
    """The outcome of running one submission."""

    runs: dict[int, _CellRun] = field(default_factory=dict)
    answers: dict[str, Answer] = field(default_factory=dict)
    unread: dict[str, str] = field(default_factory=dict)  # label -> why it was not read
    stopped: str | None = None  # why the remaining cells did not run
    failed: str | None = None  # why nothing could be judged at all


def _first_line(text: str) -> str:
    lines = [line for line in str(text).splitlines() if line.strip()]
    return lines[0].strip() if lines else ""


def _valid_timeout(value: float, name: str = "timeout") -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")


def _read_submission(data: bytes) -> nbformat.NotebookNode:
    """Parse a submitted notebook, or raise saying why it is not one."""
    raw = json.loads(data.decode("utf-8"))  # a JSONDecodeError says where
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise ValueError("the file is JSON but not a notebook (no list of cells)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbformat's complaints about missing cell ids
        nb = nbformat.reads(json.dumps(raw), as_version=4)
    for cell in nb.cells:
        cell["source"] = str(cell.get("source", ""))
        cell["cell_type"] = str(cell.get("cell_type", ""))
    return nb


def _check_cells(nb: nbformat.NotebookNode, labels: Sequence[str]) -> dict[str, tuple[int, str]]:
    """For each label, the last code cell that checks it and the expression it passes."""
    found: dict[str, tuple[int, str]] = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        named = [label for label in checked_labels(cell.source) if label in labels]
        if not named:
            continue
        expressions = check_calls(cell.source, named)
        for label in named:
            found[label] = (index, expressions.get(label, "answer"))
    return found


class Grader:
    """Grades notebooks one after another, with one environment for the whole run.

    Parameters
    ----------
    sandbox : bool, default True
        Run kernels in bubblewrap. Without it the grader runs students' code
        with the grader's own rights (say so in the results).
    timeout : float, default 120
        Seconds each notebook may run, once its kernel has started.
    probe_timeout : float, default 30
        Seconds reading one answer may take (a function answer runs then).
    limits : Limits, optional
        Resource limits of each kernel.
    book : path-like, optional
        The book's repository (its ``klbook/`` makes the student wheel).
    marking : mapping, optional
        Marking checks by label (default: :func:`coursework.marking.load`).

    Raises
    ------
    SandboxUnavailable
        If ``sandbox`` is true and bubblewrap cannot run here.
    ValueError
        If a timeout is not a positive number.
    """

    def __init__(
        self,
        *,
        sandbox: bool = True,
        timeout: float = 120,
        probe_timeout: float = PROBE_TIMEOUT,
        limits: Limits | None = None,
        book: str | os.PathLike[str] | None = None,
        marking: Mapping[str, marking_checks.Marking] | None = None,
    ) -> None:
        _valid_timeout(timeout)
        _valid_timeout(probe_timeout, "probe_timeout")
        if sandbox:
            problem = sandbox_problem()
            if problem is not None:
                raise SandboxUnavailable(
                    f"no sandbox: {problem}. Grading runs students' code; to run it without "
                    "a sandbox anyway, pass --no-sandbox"
                )
        self.sandbox = sandbox
        self.timeout = float(timeout)
        self.probe_timeout = float(probe_timeout)
        self.limits = limits or Limits(cpu_seconds=int(timeout + probe_timeout * 4) + 30)
        self.book = Path(book) if book is not None else BOOK_ROOT
        self.marking = dict(marking) if marking is not None else marking_checks.load()
        self._env: Environment | None = None

    @property
    def label(self) -> str:
        """What the ``sandbox`` column says for this grader's runs."""
        return SANDBOX if self.sandbox else NO_SANDBOX

    def environment(self) -> Environment:
        """Return the run's environment, made on first use."""
        if self._env is None:
            self._env = Environment(self.book, sandbox=self.sandbox, limits=self.limits)
        return self._env

    def close(self) -> None:
        """Remove the run's environment."""
        if self._env is not None:
            self._env.close()
            self._env = None

    def __enter__(self) -> Grader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one notebook -------------------------------------------------------------------

    def grade_bytes(
        self, data: bytes, name: str, labels: Sequence[str]
    ) -> list[tuple[str, Status, str]]:
        """Grade one submitted notebook given as bytes; one (label, status, detail) per label."""
        try:
            nb = _read_submission(data)
        except Exception as exc:  # broken JSON, not a notebook, unknown format
            reason = f"the notebook does not parse ({type(exc).__name__}: {_first_line(str(exc))})"
            return [(label, "error", reason[:200]) for label in labels]
        cells = _check_cells(nb, labels)
        if not cells:  # nothing to read: no kernel needed
            return [(label, *self._judge(label, None, _Run())) for label in labels]
        outcome = self._run(nb, data, name, cells)
        return [(label, *self._judge(label, cells.get(label), outcome)) for label in labels]

    def _reading(self, label: str, expression: str) -> dict[str, str] | None:
        mark = self.marking.get(label)
        if mark is None:
            return None
        try:
            return {"answer": answer_expression(expression, mark.spec())}
        except ValueError:
            return {"answer": answer_expression("answer", mark.spec())}

    def _run(
        self,
        nb: nbformat.NotebookNode,
        data: bytes,
        name: str,
        cells: Mapping[str, tuple[int, str]],
    ) -> _Run:
        """Run the code cells of ``nb`` in a fresh kernel, reading answers after check cells."""
        outcome = _Run()
        after: dict[int, list[tuple[str, str]]] = {}
        for label, (index, expression) in cells.items():
            after.setdefault(index, []).append((label, expression))
        plan = [
            (index, str(cell.source))
            for index, cell in enumerate(nb.cells)
            if cell.cell_type == "code" and str(cell.source).strip()
        ]
        install = install_code()
        try:
            with Kernel(self.environment(), data, name) as kernel:
                deadline = time.monotonic() + self.timeout
                for index, source in plan:
                    if time.monotonic() >= deadline:
                        outcome.stopped = f"the notebook ran out of time ({self.timeout:g} s)"
                        break
                    run = outcome.runs.setdefault(index, _CellRun(index))
                    try:
                        reply = kernel.execute(source, timeout=deadline - time.monotonic())
                    except KernelTimeout:
                        run.timed_out = True
                        outcome.stopped = f"the notebook ran out of time ({self.timeout:g} s)"
                        break
                    except KernelDied:
                        run.kernel_died = True
                        outcome.stopped = f"the kernel died in cell {index + 1}"
                        break
                    if reply.get("status") == "error":
                        run.error = f"{reply.get('ename', 'Error')}: {reply.get('evalue', '')}"
                    elif reply.get("status") != "ok":
                        run.error = f"the cell did not run ({reply.get('status')})"
                    if run.error is None and not self._read_answers(
                        kernel, install, index, after.get(index, []), outcome
                    ):
                        break
        except (KernelTimeout, KernelDied, OSError) as exc:  # a kernel that cannot start
            reason = f"{type(exc).__name__}: {_first_line(str(exc))}".rstrip(": ")
            if not outcome.runs:
                outcome.failed = f"the notebook could not be run ({reason})"
            elif outcome.stopped is None:
                outcome.stopped = f"running the notebook failed ({reason})"
        return outcome

    def _read_answers(
        self,
        kernel: Kernel,
        install: str,
        index: int,
        labels: Sequence[tuple[str, str]],
        outcome: _Run,
    ) -> bool:
        """Read the answers checked in cell ``index``; False if the kernel is lost."""
        for label, expression in labels:
            reading = self._reading(label, expression)
            if reading is None:
                outcome.unread[label] = "no marking check for this exercise (ask the instructor)"
                continue
            try:
                reply = kernel.execute(
                    install, silent=True, timeout=self.probe_timeout, user_expressions=reading
                )
            except KernelTimeout:
                outcome.unread[label] = (
                    f"reading the answer did not finish within {self.probe_timeout:g} s"
                )
                outcome.stopped = f"the kernel stopped answering after cell {index + 1}"
                return False
            except KernelDied:
                outcome.unread[label] = "the kernel died while the answer was read"
                outcome.stopped = f"the kernel died after cell {index + 1}"
                return False
            value = (reply.get("user_expressions") or {}).get("answer")
            if reply.get("status") != "ok" or not isinstance(value, dict):
                why = f"{reply.get('ename', '')}: {reply.get('evalue', '')}".strip(": ")
                outcome.unread[label] = f"the kernel refused to give the answer ({why})"
            elif value.get("status") == "ok":
                text = (value.get("data") or {}).get("text/plain")
                outcome.answers[label] = decode(text) if isinstance(text, str) else decode("")
            else:
                why = f"{value.get('ename', 'Error')}: {value.get('evalue', '')}"
                outcome.answers[label] = Answer("error", text=why[:300])
        return True

    def _judge(self, label: str, cell: tuple[int, str] | None, outcome: _Run) -> tuple[Status, str]:
        """Status and detail of exercise ``label`` after running a submission."""
        if outcome.failed is not None:
            return "error", outcome.failed
        if cell is None:
            return "not answered", "no cell calls check for this exercise (the stub is missing)"
        index = cell[0]
        where = f"cell {index + 1}"
        run = outcome.runs.get(index)
        if run is None:
            return "error", f"{outcome.stopped or 'the notebook stopped'} before {where} ran"
        if run.timed_out:
            return "error", f"{where} did not finish: {outcome.stopped}"
        if run.kernel_died:
            return "error", f"the kernel died in {where}"
        if run.error is not None:
            return "error", f"{_first_line(run.error)} ({where})"
        if label in outcome.unread:
            return "error", f"{outcome.unread[label]} ({where})"
        answer = outcome.answers.get(label)
        if answer is None:
            return "error", f"the answer of {where} was not read"
        mark = self.marking[label]
        try:
            from klbook.exercises import registered

            practice = registered(label)
        except (ImportError, KeyError):
            practice = None
        status, detail = mark.judge(answer, practice)
        return status, detail


def grade_notebook(
    path: str | os.PathLike[str],
    labels: Sequence[str],
    *,
    timeout: float = 120,
    sandbox: bool = True,
) -> list[tuple[str, Status, str]]:
    """Run one submitted notebook and judge each expected exercise.

    Parameters
    ----------
    path : path-like
        The submitted notebook (only read).
    labels : sequence of str
        The exercises expected of it (from the source chapter).
    timeout : float, default 120
        Seconds the whole notebook may run, once its kernel has started.
    sandbox : bool, default True
        Run the kernel in bubblewrap.

    Returns
    -------
    list of (label, status, detail)
        One entry per expected label, in the order given.

    Raises
    ------
    ValueError
        If ``timeout`` is not a positive finite number, or no sandbox can be made.
    """
    _valid_timeout(timeout)
    data = Path(path).read_bytes()
    with Grader(sandbox=sandbox, timeout=timeout) as grader:
        return grader.grade_bytes(data, Path(path).name, labels)


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
    sandbox: bool = True,
    probe_timeout: float = PROBE_TIMEOUT,
    grader: Grader | None = None,
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
        Seconds each notebook may run (see :class:`Grader`).
    progress : bool, default False
        Print one line per notebook to stderr.
    sandbox : bool, default True
        Run each notebook in bubblewrap; without it the results say so.
    probe_timeout : float, default 30
        Seconds reading one answer may take.
    grader : Grader, optional
        A grader to use (and leave open) instead of a new one.

    Returns
    -------
    list of ExerciseGrade
        One per student and expected exercise: students sorted, chapters in
        the order given, exercises in reading order. A chapter a student did
        not hand in gives "not answered" rows.

    Raises
    ------
    ValueError
        If no chapter is given, ``submissions`` is not a folder, a timeout
        is not positive, or no sandbox can be made (:class:`SandboxUnavailable`).
    """
    if not chapters:
        raise ValueError("chapters: give at least one source chapter")
    _valid_timeout(timeout)
    _valid_timeout(probe_timeout, "probe_timeout")
    expected: list[tuple[str, list[str]]] = []
    for chapter in chapters:
        path = Path(chapter)
        labels = exercise_labels(nbformat.read(path, as_version=4))
        if labels:
            expected.append((path.name, labels))
    table = find_submissions(submissions, [name for name, _ in expected])
    own = grader is None
    if grader is None:
        grader = Grader(sandbox=sandbox, timeout=timeout, probe_timeout=probe_timeout)
    grades: list[ExerciseGrade] = []
    try:
        for student, files in table.items():
            for name, labels in expected:
                chapter = Path(name).stem
                entry = files.get(name)
                digest = ""
                if entry is None:
                    rows: list[tuple[str, Status, str]] = [
                        (label, "not answered", "no submission for this chapter")
                        for label in labels
                    ]
                elif isinstance(entry, str):
                    rows = [(label, "error", entry) for label in labels]
                else:
                    start = time.perf_counter()
                    data = entry.read_bytes()
                    digest = hashlib.sha256(data).hexdigest()
                    rows = grader.grade_bytes(data, name, labels)
                    if progress:
                        took = time.perf_counter() - start
                        print(f"{student}/{name}: {took:.1f} s", file=sys.stderr)
                grades.extend(
                    ExerciseGrade(
                        student, chapter, label, cast(Status, status), detail, digest, grader.label
                    )
                    for label, status, detail in rows
                )
    finally:
        if own:
            grader.close()
    return grades


def write_grades(grades: Iterable[ExerciseGrade], out: str | os.PathLike[str]) -> Path:
    r"""Write grades as CSV (header :data:`CSV_COLUMNS`, ``\n`` line ends, UTF-8).

    The file is written whole, then moved into place: it is never seen half written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(folder.name) / "g.csv"
    >>> row = ExerciseGrade("al", "01_x", "ex-a", "correct", "Correct.", "ab12", SANDBOX)
    >>> _ = write_grades([row], path)
    >>> print(path.read_text(), end="")
    student,chapter,exercise,status,detail,sha256,sandbox
    al,01_x,ex-a,correct,Correct.,ab12,bubblewrap
    >>> folder.cleanup()
    """
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    with partial.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(g.as_row() for g in grades)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(partial, path)
    return path
