"""Grading results on disk: one long CSV kept up to date notebook by notebook, and gradebooks.

``python -m coursework grade --out grades/grades.csv submissions/`` writes three files:

- ``grades/grades.csv``, one row per student and exercise (:data:`CSV_COLUMNS`).
  It is rewritten after every notebook the grader finishes, each time whole
  to a temporary file that then replaces it (:func:`write_csv`), so the file
  on disk is always a complete CSV of everything finished so far: a grader
  that is killed loses only the notebooks it was running, and ``--resume``
  picks up from there (:meth:`ResultFiles.reusable`).
- ``grades/grades-gradebook.csv``: one row per student, a ``Student``
  column, one column of points per chapter and a ``Total`` (the form Moodle's
  "Import grades: CSV file" takes; :func:`gradebook_table`).
- ``grades/grades-canvas.csv``: the same numbers in the form Canvas's
  Gradebook import takes: ``Student``, ``ID``, ``SIS User ID``,
  ``SIS Login ID`` and ``Section`` first, a ``Points Possible`` row under the
  header, the total as ``Final Points`` (a column Canvas reads as its own
  and does not import).

The gradebooks are written when the run is complete. No earlier result is
lost: a new run first renames the files of the previous one to timestamped
backups (``grades.20250601-103205.csv``), and a resumed run backs a file up
before it would drop anything of it. The default folder, ``grades/`` at the
top of the repository, is listed in ``.gitignore`` (grades are personal
data) and is not touched by ``make clean``, which removes ``_build/``.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import math
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Final, Literal, cast

__all__ = [
    "CANVAS_IDENTITY",
    "CSV_COLUMNS",
    "STATUSES",
    "ExerciseGrade",
    "ResultFiles",
    "canvas_table",
    "gradebook_table",
    "read_grades",
    "write_csv",
]

Status = Literal["correct", "incorrect", "not answered", "error"]
#: The statuses a grade can have.
STATUSES: Final[tuple[str, ...]] = ("correct", "incorrect", "not answered", "error")

#: Columns of the long CSV, in order.
CSV_COLUMNS: Final[tuple[str, ...]] = (
    "student",
    "chapter",
    "exercise",
    "status",
    "points",
    "max_points",
    "detail",
    "sha256",
    "sandbox",
    "file",
    "canvas_id",
)
#: The identity columns a Canvas gradebook import starts with, in the order it wants.
CANVAS_IDENTITY: Final[tuple[str, ...]] = (
    "Student",
    "ID",
    "SIS User ID",
    "SIS Login ID",
    "Section",
)
#: The first cell of the row of maxima in a Canvas gradebook file.
POINTS_POSSIBLE: Final[str] = "Points Possible"
#: The total's column: "Total" in the gradebook, "Final Points" (read-only) for Canvas.
TOTAL: Final[str] = "Total"
CANVAS_TOTAL: Final[str] = "Final Points"


def _number(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name}: {text!r} is not a number of points")
    return value


def points_text(value: float) -> str:
    """Write points the way a gradebook reads them: ``2``, ``0.5``, ``1.25``.

    Examples
    --------
    >>> points_text(2.0), points_text(0.5), points_text(1 / 3)
    ('2', '0.5', '0.3333')
    """
    rounded = round(float(value), 4)
    return str(int(rounded)) if rounded.is_integer() else f"{rounded:g}"


@dataclass(frozen=True)
class ExerciseGrade:
    """One row of the grades: a student's result on one exercise.

    ``points`` is what the answer earned (``max_points`` when correct, else
    0), ``file`` the graded notebook's path inside the submissions folder and
    ``canvas_id`` the student's Canvas user id when the file name carries one.
    """

    student: str
    chapter: str
    exercise: str
    status: Status
    detail: str = ""
    sha256: str = ""
    sandbox: str = ""
    points: float = 0.0
    max_points: float = 1.0
    file: str = ""
    canvas_id: str = ""

    def as_row(self) -> tuple[str, ...]:
        """Return the CSV row, in the order of :data:`CSV_COLUMNS`."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["points"] = points_text(self.points)
        values["max_points"] = points_text(self.max_points)
        return tuple(str(values[column]) for column in CSV_COLUMNS)

    @classmethod
    def from_row(cls, row: Mapping[str, str]) -> ExerciseGrade:
        """Read a row of the long CSV back (the inverse of :meth:`as_row`).

        Raises
        ------
        ValueError
            If a column is missing, the status is unknown or points are not numbers.
        """
        missing = [c for c in CSV_COLUMNS if row.get(c) is None]
        if missing:
            raise ValueError(f"row: no {', '.join(missing)} column")
        if row["status"] not in STATUSES:
            raise ValueError(f"row: unknown status {row['status']!r}")
        return cls(
            student=row["student"],
            chapter=row["chapter"],
            exercise=row["exercise"],
            status=cast(Status, row["status"]),
            detail=row["detail"],
            sha256=row["sha256"],
            sandbox=row["sandbox"],
            points=_number(row["points"], "points"),
            max_points=_number(row["max_points"], "max_points"),
            file=row["file"],
            canvas_id=row["canvas_id"],
        )


def csv_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    r"""Return CSV text with ``\n`` line ends (what :func:`write_csv` writes)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write_csv(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically: whole, synced, then moved into place.

    Whoever reads ``path`` (or kills the writer) sees the old file or the new
    one, never a part of one.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    with partial.open("w", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(partial, target)
    with contextlib.suppress(OSError):  # make the rename itself durable
        folder = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    return target


def read_grades(path: str | os.PathLike[str]) -> list[ExerciseGrade]:
    """Read a long CSV written by the grader.

    Raises
    ------
    ValueError
        If its header is not :data:`CSV_COLUMNS` (another version of the
        grader wrote it) or a row is malformed.
    """
    with Path(path).open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
            raise ValueError(
                f"{path}: its columns are not those of this grader ({', '.join(CSV_COLUMNS)})"
            )
        return [ExerciseGrade.from_row(row) for row in reader]


def _chapters(grades: Sequence[ExerciseGrade]) -> list[tuple[str, float]]:
    """Each chapter in order of first appearance, with its maximum (the sum of its points)."""
    maxima: dict[str, dict[str, float]] = {}
    for g in grades:
        maxima.setdefault(g.chapter, {}).setdefault(g.exercise, g.max_points)
    return [(chapter, math.fsum(points.values())) for chapter, points in maxima.items()]


def _students(
    grades: Sequence[ExerciseGrade], chapters: Sequence[tuple[str, float]]
) -> dict[str, list[float]]:
    """Each student's points in each of ``chapters`` (0 where a chapter has no rows)."""
    table: dict[str, dict[str, float]] = {}
    for g in grades:
        table.setdefault(g.student, {}).setdefault(g.chapter, 0.0)
        table[g.student][g.chapter] += g.points
    return {s: [earned.get(c, 0.0) for c, _ in chapters] for s, earned in table.items()}


def _with_total(points: Sequence[float]) -> list[str]:
    """Points as a gradebook writes them, then their total."""
    return [*(points_text(p) for p in points), points_text(math.fsum(points))]


def gradebook_table(grades: Sequence[ExerciseGrade]) -> tuple[list[str], list[list[str]]]:
    """Return the gradebook: one row per student, points per chapter and a total.

    Examples
    --------
    >>> rows = [ExerciseGrade("al", "01_x", "ex-a", "correct", points=2, max_points=2),
    ...         ExerciseGrade("al", "01_x", "ex-b", "incorrect", max_points=1),
    ...         ExerciseGrade("bo", "01_x", "ex-a", "error", max_points=2),
    ...         ExerciseGrade("bo", "01_x", "ex-b", "correct", points=1, max_points=1)]
    >>> gradebook_table(rows)
    (['Student', '01_x', 'Total'], [['al', '2', '2'], ['bo', '1', '1']])
    """
    chapters = _chapters(grades)
    header = ["Student", *(c for c, _ in chapters), TOTAL]
    body = [
        [student, *_with_total(points)] for student, points in _students(grades, chapters).items()
    ]
    return header, body


def canvas_table(grades: Sequence[ExerciseGrade]) -> tuple[list[str], list[list[str]]]:
    """Return the gradebook as Canvas imports it: identity columns, ``Points Possible``.

    ``Student`` is the student's name in the submissions (folder name or the
    name part of a Canvas file name) and ``ID`` the Canvas user id when a
    file name gave one; Canvas matches a row by ``ID``, then by ``SIS User
    ID`` or ``SIS Login ID``, then by the student's name.

    Examples
    --------
    >>> rows = [ExerciseGrade("al", "01_x", "ex-a", "correct", points=2, max_points=2,
    ...                       canvas_id="4242")]
    >>> header, body = canvas_table(rows)
    >>> header
    ['Student', 'ID', 'SIS User ID', 'SIS Login ID', 'Section', '01_x', 'Final Points']
    >>> body
    [['Points Possible', '', '', '', '', '2', '2'], ['al', '4242', '', '', '', '2', '2']]
    """
    chapters = _chapters(grades)
    ids: dict[str, str] = {}
    for g in grades:
        if g.canvas_id:
            ids.setdefault(g.student, g.canvas_id)
    header = [*CANVAS_IDENTITY, *(c for c, _ in chapters), CANVAS_TOTAL]
    maxima = [m for _, m in chapters]
    body = [[POINTS_POSSIBLE, *([""] * (len(CANVAS_IDENTITY) - 1)), *_with_total(maxima)]]
    for student, points in _students(grades, chapters).items():
        body.append([student, ids.get(student, ""), "", "", "", *_with_total(points)])
    return header, body


def _stamp(seconds: float) -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(seconds))


def backup_path(path: Path, stamp: str) -> Path:
    """Return a free name for a backup: ``grades.20250601-103205.csv`` (then ``-2``, ...)."""
    candidate = path.with_name(f"{path.stem}.{stamp}{path.suffix}")
    number = 2
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}.{stamp}-{number}{path.suffix}")
        number += 1
    return candidate


class ResultFiles:
    """The three result files of one grading run, kept safe while it runs.

    Parameters
    ----------
    out : path-like
        The long CSV; the gradebooks go beside it as ``<stem>-gradebook.csv``
        and ``<stem>-canvas.csv``.
    resume : bool, default False
        Continue from what ``out`` holds (see :meth:`reusable`) instead of
        starting afresh (which first renames the earlier files to backups).

    Raises
    ------
    ValueError
        If another grader is writing into the same folder, or ``resume`` is
        asked of a file this grader cannot read.
    """

    def __init__(self, out: str | os.PathLike[str], *, resume: bool = False) -> None:
        self.out = Path(out)
        if self.out.suffix.lower() != ".csv":
            raise ValueError(f"out: {self.out} must name a .csv file")
        stem = self.out.stem
        self.gradebook = self.out.with_name(f"{stem}-gradebook.csv")
        self.canvas = self.out.with_name(f"{stem}-canvas.csv")
        self.resume = resume
        #: (earlier file, its backup) for every file kept aside, in order.
        self.backups: list[tuple[Path, Path]] = []
        self.previous: list[ExerciseGrade] = []
        self.rows: list[ExerciseGrade] = []
        self._before: dict[Path, bytes] = {}
        self._lock: int | None = None
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._acquire()
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    @property
    def paths(self) -> tuple[Path, Path, Path]:
        """The long CSV, the gradebook and the Canvas gradebook."""
        return self.out, self.gradebook, self.canvas

    def _acquire(self) -> None:
        folder = os.open(self.out.parent, os.O_RDONLY)
        try:
            fcntl.flock(folder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(folder)
            raise ValueError(
                f"out: another grader is writing into {self.out.parent}; wait for it "
                "or choose another --out"
            ) from None
        self._lock = folder

    def _start(self) -> None:
        for path in self.paths:  # what a killed writer left behind (we hold the lock)
            for stale in path.parent.glob(f".{path.name}.partial-*"):
                stale.unlink(missing_ok=True)
        existing = [p for p in self.paths if p.is_file()]
        if self.resume and self.out.is_file():
            self.previous = read_grades(self.out)
            self._before = {p: p.read_bytes() for p in existing}
            return
        if existing:
            anchor = self.out if self.out.is_file() else existing[0]
            stamp = _stamp(anchor.stat().st_mtime)
            for path in existing:
                backup = backup_path(path, stamp)
                os.replace(path, backup)
                self.backups.append((path, backup))

    def reusable(self, sandbox: str) -> dict[tuple[str, str, str], list[ExerciseGrade]]:
        """Return the earlier rows of each graded notebook, by (student, chapter, SHA-256).

        Only rows of a notebook that was run (its SHA-256 recorded), in the
        same way as this run (the ``sandbox`` column), are offered: a changed
        file has another SHA-256 and is graded again.
        """
        found: dict[tuple[str, str, str], list[ExerciseGrade]] = {}
        for g in self.previous:
            if g.sha256 and g.sandbox == sandbox:
                rows = found.setdefault((g.student, g.chapter, g.sha256), [])
                if any(r.exercise == g.exercise for r in rows):
                    rows.clear()  # the same notebook graded again later in the file: keep that
                rows.append(g)
        return found

    def record(self, rows: Sequence[ExerciseGrade]) -> None:
        """Add one notebook's rows and rewrite the long CSV with everything so far."""
        self.rows.extend(rows)
        write_csv(self.out, csv_text(CSV_COLUMNS, (g.as_row() for g in self.previous + self.rows)))

    def finish(self, grades: Sequence[ExerciseGrade]) -> tuple[Path, Path, Path]:
        """Write the final long CSV (``grades``, in their order) and the two gradebooks."""
        texts = {
            self.out: csv_text(CSV_COLUMNS, (g.as_row() for g in grades)),
            self.gradebook: csv_text(*gradebook_table(grades)),
            self.canvas: csv_text(*canvas_table(grades)),
        }
        kept = {g.as_row() for g in grades}
        for path, text in texts.items():
            before = self._before.get(path)
            if before is None:
                continue
            if path == self.out:
                lost = any(g.as_row() not in kept for g in self.previous)
            else:
                lost = before != text.encode("utf-8")
            if lost:
                stamp = _stamp(time.time())
                backup = backup_path(path, stamp)
                backup.write_bytes(before)
                self.backups.append((path, backup))
        for path, text in texts.items():
            write_csv(path, text)
        return self.paths

    def close(self) -> None:
        """Release the folder for other graders."""
        if self._lock is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock, fcntl.LOCK_UN)
            os.close(self._lock)
            self._lock = None

    def __enter__(self) -> ResultFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
