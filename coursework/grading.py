"""Grade submitted notebooks: run each in a sandbox, read its answers, mark them outside.

``python -m coursework grade --out grades/grades.csv submissions/`` (``make grade``).

Submissions live in one folder per student, ``<dir>/<student>/<chapter>.ipynb``,
or in Canvas's flat download (:func:`scan_submissions`). For each, the grader

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
right outputs on inputs the student never saw. Submission files are only
ever read.

A class is graded ``jobs`` notebooks at a time, each in its own sandbox
(:func:`grade`); each notebook's rows go to the results as soon as it is
done (:class:`coursework.results.ResultFiles`: one row per student and
expected exercise, status one of ``correct``, ``incorrect``, ``not
answered`` or ``error``, and a gradebook per student), so a run that is
stopped can be resumed. Files are matched to chapters leniently (Colab's
``Copy of``, numbered copies, Canvas's download names) and every notebook
that matches no chapter is reported (:func:`scan_submissions`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, cast

import nbformat

from coursework import marking as marking_checks
from coursework.probe import Answer, answer_expression, check_calls, decode, install_code
from coursework.release import BOOK_ROOT, checked_labels, exercise_labels
from coursework.results import (
    CSV_COLUMNS,
    STATUSES,
    ExerciseGrade,
    ResultFiles,
    Status,
    csv_text,
    write_csv,
)
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
    "Submissions",
    "chapter_of",
    "default_jobs",
    "find_submissions",
    "grade",
    "grade_notebook",
    "scan_submissions",
    "write_grades",
]

#: The ``sandbox`` column: how the notebook was run.
SANDBOX: Final[str] = "bubblewrap"
NO_SANDBOX: Final[str] = "none (--no-sandbox)"
#: Seconds the grader waits for one answer to be read (a function answer runs then).
PROBE_TIMEOUT: Final[float] = 30.0


class SandboxUnavailable(ValueError):
    """No sandbox can be made, and grading without one was not asked for."""


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


def _cell_name(index: int, count: int, source: str) -> str:
    r"""Name a code cell for a reader: its number, execution count and first line.

    Examples
    --------
    >>> _cell_name(11, 7, "\n# spin\nwhile True:\n    pass")
    "cell 12 (In [7]: '# spin')"
    """
    first = _first_line(source)
    first = first if len(first) <= 60 else first[:57] + "..."
    return f"cell {index + 1} (In [{count}]: {first!r})"


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
    """Grades notebooks, with one environment for the whole run.

    :meth:`grade_bytes` may be called from several threads at once (each
    notebook gets its own kernel in its own sandbox); :meth:`abort` kills
    every kernel still running.

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
        self._lock = threading.Lock()
        self._live: set[Kernel] = set()
        self._aborted = False

    @property
    def label(self) -> str:
        """What the ``sandbox`` column says for this grader's runs."""
        return SANDBOX if self.sandbox else NO_SANDBOX

    def environment(self) -> Environment:
        """Return the run's environment, made on first use (by one thread only)."""
        with self._lock:
            if self._env is None:
                self._env = Environment(self.book, sandbox=self.sandbox, limits=self.limits)
            return self._env

    def points(self, label: str) -> float:
        """Return what a correct answer to ``label`` earns (its marking check's points, or 1)."""
        return float(getattr(self.marking.get(label), "points", 1.0))

    def abort(self) -> None:
        """Kill every running kernel; notebooks not yet started are not run."""
        with self._lock:
            self._aborted = True
            live = list(self._live)
        for kernel in live:
            kernel.kill()

    def close(self) -> None:
        """Kill any kernel still running and remove the run's environment."""
        self.abort()
        with self._lock:
            env, self._env = self._env, None
        if env is not None:
            env.close()

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
        # With no check cell there is nothing to read, and no kernel is started.
        outcome = self._run(nb, data, name, cells) if cells else _Run()
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
        out_of_time = f"the notebook ran out of time ({self.timeout:g} s)"
        try:
            with Kernel(self.environment(), data, name) as kernel, self._tracked(kernel):
                deadline = time.monotonic() + self.timeout
                last = ""
                for count, (index, source) in enumerate(plan, 1):
                    if time.monotonic() >= deadline:
                        outcome.stopped = f"{out_of_time} after {last}"
                        break
                    run = outcome.runs.setdefault(index, _CellRun(index))
                    last = _cell_name(index, count, source)
                    try:
                        reply = kernel.execute(source, timeout=deadline - time.monotonic())
                    except KernelTimeout:
                        run.timed_out = True
                        outcome.stopped = f"{out_of_time} in {last}"
                        break
                    except KernelDied:
                        run.kernel_died = True
                        outcome.stopped = f"the kernel died in {last}"
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

    @contextlib.contextmanager
    def _tracked(self, kernel: Kernel) -> Iterator[None]:
        """Keep ``kernel`` where :meth:`abort` finds it while it runs."""
        with self._lock:
            if self._aborted:
                kernel.kill()
                raise KernelDied("grading was stopped")
            self._live.add(kernel)
        try:
            yield
        finally:
            with self._lock:
                self._live.discard(kernel)

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
        if run.timed_out or run.kernel_died:
            return "error", str(outcome.stopped)
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


#: Canvas's "Download Submissions" names: ``<name>[_LATE]_<user id>_<file id>_<original name>``.
_CANVAS_NAME = re.compile(
    r"^(?P<name>[^_]+?)(?:_late)?_(?P<user>\d+)_(?P<file>\d+)_(?P<rest>.+)$", re.IGNORECASE
)
#: Colab's prefix for a notebook saved from a shared one (once or more).
_COPY_OF = re.compile(r"^(?:copy[ _]of[ _]+)+", re.IGNORECASE)
#: Numbered and named copies: ``x (1)``, ``x-2``, ``x copy``, ``x (copy 2)``, ``x_copy``.
_COPY_SUFFIX = re.compile(
    r"(?:\s*\(\d+\)|-\d+|[\s_]+copy(?:[\s_]*\d+)?|\s*\(copy(?:\s*\d+)?\))$", re.IGNORECASE
)


def canvas_parts(filename: str) -> tuple[str, str, str] | None:
    """Split a Canvas download name into (student, Canvas user id, original name), or None.

    Examples
    --------
    >>> canvas_parts("smithjane_LATE_12345_67890_01_log_likelihood_ratio-1.ipynb")
    ('smithjane', '12345', '01_log_likelihood_ratio-1.ipynb')
    >>> canvas_parts("01_log_likelihood_ratio.ipynb") is None
    True
    """
    match = _CANVAS_NAME.match(filename)
    if match is None:
        return None
    return match["name"], match["user"], match["rest"]


def _plain_stem(stem: str) -> str:
    """Return a file stem without Colab's ``Copy of`` and copy numbers, case-folded."""
    text = _COPY_OF.sub("", stem.strip())
    while True:
        shorter = _COPY_SUFFIX.sub("", text).rstrip()
        if shorter == text:
            return text.casefold()
        text = shorter


def chapter_of(filename: str, chapter_names: Sequence[str]) -> tuple[str, bool] | None:
    """Return the chapter a file is for, and whether its name is exactly the chapter's.

    A name matches a chapter when it is the chapter's file name; or, ignoring
    case, once a Canvas download prefix, Colab's ``Copy of`` and a copy
    number (``(1)``, ``-2``, ``copy``) are taken off, it is the chapter's
    name or starts with it (``01_x_final.ipynb``). Only ``.ipynb`` files match.

    Examples
    --------
    >>> names = ["01_log_likelihood_ratio.ipynb", "02_expected_value.ipynb"]
    >>> chapter_of("Copy of 02_expected_value (1).ipynb", names)
    ('02_expected_value.ipynb', False)
    >>> chapter_of("jane_123_456_01_log_likelihood_ratio-2.ipynb", names)
    ('01_log_likelihood_ratio.ipynb', False)
    >>> chapter_of("01_log_likelihood_ratio.ipynb", names)
    ('01_log_likelihood_ratio.ipynb', True)
    >>> chapter_of("homework.ipynb", names) is None
    True
    """
    if filename in chapter_names:
        return filename, True
    parts = canvas_parts(filename)
    name = parts[2] if parts is not None else filename
    if name in chapter_names:
        return name, False
    path = Path(name)
    if path.suffix.lower() != ".ipynb":
        return None
    plain = _plain_stem(path.stem)
    for chapter in chapter_names:
        if plain == Path(chapter).stem.casefold():
            return chapter, False
    for chapter in chapter_names:
        if plain.startswith(Path(chapter).stem.casefold()):
            return chapter, False
    return None


@dataclass
class Submissions:
    """What :func:`scan_submissions` found in a submissions folder."""

    #: ``{student: {chapter file name: path}}``; an ambiguous chapter maps to why.
    files: dict[str, dict[str, Path | str]] = field(default_factory=dict)
    #: Canvas user ids, by student, where Canvas's file names gave one.
    canvas_ids: dict[str, str] = field(default_factory=dict)
    #: One line per notebook that is not graded, and why.
    warnings: list[str] = field(default_factory=list)
    #: Notebooks of chapters known but not graded in this run (not warned about).
    other_chapters: int = 0


def scan_submissions(
    directory: str | os.PathLike[str],
    chapter_names: Sequence[str],
    other_chapters: Sequence[str] = (),
) -> Submissions:
    """Find each student's notebook for each chapter, and report every other notebook.

    Two layouts are read, also mixed:

    - **one folder per student**, named by the student's identifier, holding
      the notebooks (in the folder or a subfolder of it)::

          submissions/alice/01_log_likelihood_ratio.ipynb
          submissions/bob/chapters/01_log_likelihood_ratio.ipynb

    - **Canvas's download** ("Download Submissions"), a flat folder of files
      named ``<name>[_LATE]_<user id>_<file id>_<the student's file name>``::

          submissions/smithjane_12345_67890_01_log_likelihood_ratio.ipynb

      The student is ``<name>`` (``<name>_<user id>`` if two Canvas users
      share a name) and the Canvas user id goes into the results.

    A file is a chapter's notebook when :func:`chapter_of` says so: Colab's
    ``Copy of 01_….ipynb``, numbered copies (``01_… (1).ipynb``,
    ``01_…-2.ipynb``) and other names that start with the chapter's are
    accepted. A file named exactly as the chapter wins over the others; two
    other candidates for one chapter are reported as ambiguous rather than
    guessed between. Hidden folders (``.ipynb_checkpoints``) are skipped;
    every other notebook that is not graded gets a warning that says why.

    Parameters
    ----------
    directory : path-like
        The submissions folder.
    chapter_names : sequence of str
        File names of the chapters, such as ``"01_log_likelihood_ratio.ipynb"``.
    other_chapters : sequence of str, optional
        File names of the book's other chapters, not graded now: their
        notebooks are counted in ``other_chapters``, not warned about.

    Raises
    ------
    ValueError
        If ``directory`` is not a folder.
    """
    base = Path(directory)
    others = [name for name in other_chapters if name not in chapter_names]
    if not base.is_dir():
        raise ValueError(f"directory: {base} is not a folder of submissions")
    found = Submissions()
    # student -> chapter -> [(path, exact)]
    candidates: dict[str, dict[str, list[tuple[Path, bool]]]] = {}
    ids: dict[str, set[str]] = {}

    def consider(student: str, path: Path, canvas_id: str | None) -> None:
        where = path.relative_to(base).as_posix()
        match = chapter_of(path.name, chapter_names)
        candidates.setdefault(student, {})
        if canvas_id:
            ids.setdefault(student, set()).add(canvas_id)
        if match is None:
            if others and chapter_of(path.name, others) is not None:
                found.other_chapters += 1
                return
            found.warnings.append(
                f"{where}: matches no chapter ({', '.join(chapter_names)}); not graded"
            )
            return
        candidates[student].setdefault(match[0], []).append((path, match[1]))

    flat: list[tuple[Path, tuple[str, str, str]]] = []
    for entry in sorted(base.iterdir()):
        if _is_hidden(entry, base):
            continue
        if entry.is_dir():
            notebooks = sorted(
                p
                for p in entry.rglob("*")
                if p.is_file() and p.suffix.lower() == ".ipynb" and not _is_hidden(p, base)
            )
            candidates.setdefault(entry.name, {})
            for path in notebooks:
                parts = canvas_parts(path.name)
                consider(entry.name, path, parts[1] if parts else None)
        elif entry.is_file() and entry.suffix.lower() == ".ipynb":
            parts = canvas_parts(entry.name)
            if parts is None:
                found.warnings.append(
                    f"{entry.name}: not in a student's folder and not named as in a Canvas "
                    "download (name_userid_fileid_file.ipynb); not graded"
                )
            else:
                flat.append((entry, parts))
    users: dict[str, set[str]] = {}
    for _, (name, user, _) in flat:
        users.setdefault(name, set()).add(user)
    for path, (name, user, _) in flat:
        consider(name if len(users[name]) == 1 else f"{name}_{user}", path, user)
    for student in sorted(candidates):
        mine: dict[str, Path | str] = {}
        for name in chapter_names:
            options = candidates[student].get(name, [])
            exact = [p for p, is_exact in options if is_exact]
            chosen = exact or [p for p, _ in options]
            if len(chosen) == 1:
                mine[name] = chosen[0]
                for other, _ in options:
                    if other != chosen[0]:
                        found.warnings.append(
                            f"{other.relative_to(base).as_posix()}: {chosen[0].name} is "
                            f"graded for {name} instead; not graded"
                        )
            elif chosen:
                listed = ", ".join(p.relative_to(base).as_posix() for p in chosen)
                mine[name] = f"several files could be this chapter: {listed}"
        found.files[student] = mine
        if len(ids.get(student, ())) == 1:
            found.canvas_ids[student] = next(iter(ids[student]))
    return found


def find_submissions(
    directory: str | os.PathLike[str], chapter_names: Sequence[str]
) -> dict[str, dict[str, Path | str]]:
    """Map each student to their notebook for each chapter (:func:`scan_submissions`'s files).

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
    return scan_submissions(directory, chapter_names).files


def default_jobs() -> int:
    """How many notebooks to grade at once by default: the processors this grader may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return max(os.cpu_count() or 1, 1)


def _duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``.

    Examples
    --------
    >>> _duration(42.4), _duration(185), _duration(3725)
    ('42 s', '3 min 05 s', '1 h 02 min')
    """
    whole = round(max(seconds, 0.0))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def _summary(grades: Sequence[ExerciseGrade]) -> str:
    """One notebook's result: ``4/5 points (4 correct, 1 error: ZeroDivisionError ...)``."""
    earned = math.fsum(g.points for g in grades)
    most = math.fsum(g.max_points for g in grades)
    counts = [(s, sum(g.status == s for g in grades)) for s in STATUSES]
    text = ", ".join(f"{n} {s}" for s, n in counts if n)
    problem = next((g.detail for g in grades if g.status == "error"), "")
    if problem:
        problem = problem if len(problem) <= 80 else problem[:77] + "..."
        text += f"; first error: {problem}"
    return f"{earned:g}/{most:g} points ({text})"


@dataclass(frozen=True)
class _Task:
    student: str
    name: str
    labels: tuple[str, ...]
    path: Path
    file: str


def grade(
    submissions: str | os.PathLike[str],
    chapters: Sequence[str | os.PathLike[str]],
    *,
    timeout: float = 120,
    progress: bool = False,
    sandbox: bool = True,
    probe_timeout: float = PROBE_TIMEOUT,
    grader: Grader | None = None,
    jobs: int = 1,
    results: ResultFiles | None = None,
    say: Callable[[str], None] | None = None,
) -> list[ExerciseGrade]:
    """Grade every student's submissions against the source chapters.

    Parameters
    ----------
    submissions : path-like
        The submissions folder (layouts in :func:`scan_submissions`).
    chapters : sequence of path-like
        The source chapters; their ``exercise-start`` labels are the
        exercises expected. Chapters without exercises are skipped.
    timeout : float, default 120
        Seconds each notebook may run (see :class:`Grader`).
    progress : bool, default False
        Report to stderr: a warning for every notebook not graded, and one
        line per notebook graded, ``k/N notebooks, ETA ...`` and its result.
    sandbox : bool, default True
        Run each notebook in bubblewrap; without it the results say so.
    probe_timeout : float, default 30
        Seconds reading one answer may take.
    grader : Grader, optional
        A grader to use (and leave open) instead of a new one.
    jobs : int, default 1
        How many notebooks to run at once, each in its own sandbox.
    results : ResultFiles, optional
        Where each notebook's rows go as soon as it is graded; with
        ``results.resume``, a notebook whose rows are already there (same
        student, chapter, SHA-256 and sandbox) is not run again.
    say : callable, optional
        Where the report goes (default: stderr, when ``progress``).

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
        is not positive, ``jobs`` is not a positive whole number, or no
        sandbox can be made (:class:`SandboxUnavailable`).
    """
    if not chapters:
        raise ValueError("chapters: give at least one source chapter")
    _valid_timeout(timeout)
    _valid_timeout(probe_timeout, "probe_timeout")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive whole number, got {jobs!r}")
    if say is None:
        say = (lambda text: print(text, file=sys.stderr, flush=True)) if progress else _quiet
    expected: list[tuple[str, tuple[str, ...]]] = []
    for chapter in chapters:
        path = Path(chapter)
        labels = exercise_labels(nbformat.read(path, as_version=4))
        if labels:
            expected.append((path.name, tuple(labels)))
    base = Path(submissions)
    book = {p.name for chapter in chapters for p in Path(chapter).parent.glob("*.ipynb")}
    found = scan_submissions(base, [name for name, _ in expected], sorted(book))
    for warning in found.warnings:
        say(f"warning: {warning}")
    if found.other_chapters:
        say(f"skipped {found.other_chapters} notebooks of chapters not graded in this run")
    own = grader is None
    if grader is None:
        grader = Grader(sandbox=sandbox, timeout=timeout, probe_timeout=probe_timeout)
    label = grader.label
    earlier = results.reusable(label) if results is not None and results.resume else {}
    table: dict[tuple[str, str], list[ExerciseGrade]] = {}
    tasks: list[_Task] = []

    def row(
        student: str, name: str, exercise: str, status: str, detail: str, digest: str, file: str
    ) -> ExerciseGrade:
        worth = grader.points(exercise)
        return ExerciseGrade(
            student,
            Path(name).stem,
            exercise,
            cast(Status, status),
            detail,
            digest,
            label,
            worth if status == "correct" else 0.0,
            worth,
            file,
            found.canvas_ids.get(student, ""),
        )

    for student, files in found.files.items():
        for name, labels in expected:
            entry = files.get(name)
            if entry is None:
                why = "no submission for this chapter"
                table[student, name] = [
                    row(student, name, lb, "not answered", why, "", "") for lb in labels
                ]
            elif isinstance(entry, str):
                table[student, name] = [
                    row(student, name, lb, "error", entry, "", "") for lb in labels
                ]
            else:
                file = entry.relative_to(base).as_posix()
                digest = _resumable_digest(entry) if earlier else None
                before = earlier.get((student, Path(name).stem, digest), []) if digest else []
                if [g.exercise for g in before] == list(labels):
                    table[student, name] = [
                        row(student, name, g.exercise, g.status, g.detail, digest, file)
                        for g in before
                    ]
                else:
                    tasks.append(_Task(student, name, labels, entry, file))
    skipped = sum(1 for key in table if isinstance(found.files[key[0]].get(key[1]), Path))
    try:
        if tasks:
            workers = min(jobs, len(tasks))
            note = f", {skipped} already graded (--resume)" if skipped else ""
            say(
                f"grading {len(tasks)} notebooks of {len(found.files)} students with "
                f"{workers} job{'s' if workers > 1 else ''}{note}"
            )
            _run_tasks(grader, tasks, workers, table, row, results, say)
        elif skipped:
            say(f"nothing to grade: all {skipped} notebooks already graded (--resume)")
    finally:
        if own:
            grader.close()
    return [g for student in found.files for name, _ in expected for g in table[student, name]]


def _resumable_digest(path: Path) -> str | None:
    """Return the SHA-256 of a submission, to look up its earlier rows; None if unreadable.

    An unreadable file is not looked up but graded, which records why it failed.
    """
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _quiet(text: str) -> None:
    """Say nothing."""


def _run_tasks(
    grader: Grader,
    tasks: Sequence[_Task],
    workers: int,
    table: dict[tuple[str, str], list[ExerciseGrade]],
    row: Callable[..., ExerciseGrade],
    results: ResultFiles | None,
    say: Callable[[str], None],
) -> None:
    """Grade ``tasks`` on ``workers`` threads, recording and reporting each as it finishes."""
    grader.environment()  # made once, before the clock starts

    def work(task: _Task) -> tuple[_Task, str, list[tuple[str, Status, str]], float]:
        start = time.monotonic()
        try:
            data = task.path.read_bytes()  # the bytes graded are the bytes hashed
        except OSError as exc:
            why = f"the file could not be read ({type(exc).__name__}: {exc})"
            return task, "", [(lb, "error", why) for lb in task.labels], start
        digest = hashlib.sha256(data).hexdigest()
        try:
            verdicts = grader.grade_bytes(data, task.name, task.labels)
        except Exception as exc:  # a fault of the grader's: this notebook only, say so
            why = f"the grader failed on this notebook ({type(exc).__name__}: {exc})"[:300]
            verdicts = [(lb, "error", why) for lb in task.labels]
        return task, digest, verdicts, start

    started = time.monotonic()
    total = len(tasks)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grade") as pool:
        futures = [pool.submit(work, task) for task in tasks]
        try:
            for done, future in enumerate(as_completed(futures), 1):
                task, digest, verdicts, start = future.result()
                grades = [
                    row(task.student, task.name, lb, status, detail, digest, task.file)
                    for lb, status, detail in verdicts
                ]
                table[task.student, task.name] = grades
                if results is not None:
                    results.record(grades)
                now = time.monotonic()
                eta = (now - started) / done * (total - done)
                say(
                    f"{done}/{total} notebooks, ETA {_duration(eta)}: {task.student}/"
                    f"{task.name}: {_summary(grades)} ({now - start:.1f} s)"
                )
        except BaseException:
            for future in futures:
                future.cancel()
            grader.abort()
            raise


def write_grades(grades: Iterable[ExerciseGrade], out: str | os.PathLike[str]) -> Path:
    r"""Write grades as the long CSV (header :data:`CSV_COLUMNS`, ``\n`` line ends, UTF-8).

    The file is written whole, then moved into place: it is never seen half
    written (:func:`coursework.results.write_csv`). A grading run writes its
    files through :class:`coursework.results.ResultFiles`, which also keeps
    earlier results and writes the gradebooks.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(folder.name) / "g.csv"
    >>> row = ExerciseGrade("al", "01_x", "ex-a", "correct", "Correct.", "ab12", SANDBOX, 1.0)
    >>> _ = write_grades([row], path)
    >>> print(path.read_text(), end="")
    student,chapter,exercise,status,points,max_points,detail,sha256,sandbox,file,canvas_id
    al,01_x,ex-a,correct,1,1,Correct.,ab12,bubblewrap,,
    >>> folder.cleanup()
    """
    return write_csv(out, csv_text(CSV_COLUMNS, (g.as_row() for g in grades)))
