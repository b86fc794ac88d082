"""Grading a class: files matched to chapters, results that survive, gradebooks, parallel runs.

The kernel-free tests read submission folders, gradebooks and the result files
directly. One small class (trimmed notebooks of two chapters, a Canvas download
name, a Colab copy, a misnamed file) is graded for real through the command line,
in the sandbox, three times: with ``--jobs 2`` in one go, and serially in a run that
is killed with SIGKILL as soon as its first notebook's rows are on disk, then
resumed. Both ways must give the same files, byte for byte, and the numbers the
answers planted in the class call for.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from coursework import results
from coursework.__main__ import main as coursework_main
from coursework.__main__ import resolve_chapters

from .coursework_helpers import (
    CHAPTERS,
    ROOT,
    check_cell,
    grading,
    honest_source,
    labels,
    marking,
    read,
    require_sandbox,
    trimmed,
)

NAMES = ["01_log_likelihood_ratio.ipynb", "02_expected_value.ipynb"]


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# --- Which file is which chapter ------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "chapter", "exact"),
    [
        ("01_log_likelihood_ratio.ipynb", NAMES[0], True),
        ("Copy of 01_log_likelihood_ratio.ipynb", NAMES[0], False),
        ("Copy of Copy of 02_expected_value.ipynb", NAMES[1], False),
        ("01_log_likelihood_ratio (1).ipynb", NAMES[0], False),
        ("Copy of 02_expected_value (3).ipynb", NAMES[1], False),
        ("02_expected_value-2.ipynb", NAMES[1], False),
        ("02_expected_value copy.ipynb", NAMES[1], False),
        ("02_EXPECTED_VALUE.IPYNB", NAMES[1], False),
        ("01_log_likelihood_ratio_final.ipynb", NAMES[0], False),
        ("smithjane_12345_67890_01_log_likelihood_ratio.ipynb", NAMES[0], False),
        ("smithjane_LATE_12345_67890_02_expected_value-1.ipynb", NAMES[1], False),
        ("smithjane_12345_67890_Copy_of_02_expected_value.ipynb", NAMES[1], False),
        ("homework.ipynb", None, False),
        ("01_log_likelihood_ratio.py", None, False),
        ("smithjane_12345_67890_notes.ipynb", None, False),
    ],
)
def test_chapter_of_accepts_colab_numbered_and_canvas_names(
    filename: str, chapter: str | None, exact: bool
) -> None:
    found = grading.chapter_of(filename, NAMES)
    assert found == (None if chapter is None else (chapter, exact))


def _touch(path: Path, text: str = "{}") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_scan_reads_folders_and_a_canvas_download_and_reports_every_other_notebook(
    tmp_path: Path,
) -> None:
    a, b = NAMES
    _touch(tmp_path / "alice" / a)
    _touch(tmp_path / "alice" / f"Copy of {a}")  # the exact name wins; the copy is reported
    _touch(tmp_path / "alice" / "scratch.ipynb")
    _touch(tmp_path / "bob" / "work" / f"Copy of {b}")
    _touch(tmp_path / "carl" / f"{a[:-6]} (1).ipynb")
    _touch(tmp_path / "carl" / f"{a[:-6]}-2.ipynb")  # two copies: ambiguous, not guessed
    _touch(tmp_path / "carl" / ".ipynb_checkpoints" / a)  # hidden: skipped silently
    _touch(tmp_path / f"doejo_LATE_111_901_{a}")
    _touch(tmp_path / f"doejo_111_902_{b[:-6]}-1.ipynb")
    _touch(tmp_path / f"lee_222_903_{a}")  # two Canvas users called lee
    _touch(tmp_path / f"lee_333_904_{a}")
    _touch(tmp_path / "loose.ipynb")
    _touch(tmp_path / "doejo_111_905_essay.ipynb")
    found = grading.scan_submissions(tmp_path, NAMES)
    assert found.files == {
        "alice": {a: tmp_path / "alice" / a},
        "bob": {b: tmp_path / "bob" / "work" / f"Copy of {b}"},
        "carl": {
            a: f"several files could be this chapter: carl/{a[:-6]} (1).ipynb, "
            f"carl/{a[:-6]}-2.ipynb"
        },
        "doejo": {
            a: tmp_path / f"doejo_LATE_111_901_{a}",
            b: tmp_path / f"doejo_111_902_{b[:-6]}-1.ipynb",
        },
        "lee_222": {a: tmp_path / f"lee_222_903_{a}"},
        "lee_333": {a: tmp_path / f"lee_333_904_{a}"},
    }
    assert found.canvas_ids == {"doejo": "111", "lee_222": "222", "lee_333": "333"}
    reported = "\n".join(found.warnings)
    for name in (f"alice/Copy of {a}", "alice/scratch.ipynb", "loose.ipynb", "doejo_111_905_essay"):
        assert name in reported, name
    assert len(found.warnings) == 4, found.warnings
    assert ".ipynb_checkpoints" not in reported
    # Grading one chapter: the other chapter's notebooks are counted, not warned about.
    only_a = grading.scan_submissions(tmp_path, [a], other_chapters=NAMES)
    assert only_a.other_chapters == 2  # bob's and doejo's b
    assert len(only_a.warnings) == 4


def test_the_chapters_option_takes_lists_and_never_swallows_the_submissions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    assert resolve_chapters(None) == [p.relative_to(ROOT) for p in CHAPTERS]
    first, second = (p.relative_to(ROOT) for p in CHAPTERS[:2])
    assert resolve_chapters([f"{CHAPTERS[1].stem[:2]},{first}"]) == [second, first]
    assert resolve_chapters([str(first), CHAPTERS[1].stem]) == [first, second]
    with pytest.raises(ValueError, match="names no chapter"):
        resolve_chapters(["99"])
    with pytest.raises(ValueError, match="ambiguous"):
        resolve_chapters(["0"])
    # The command line: submissions after --chapters stay the submissions folder.
    subs = tmp_path / "subs"
    _touch(subs / "ann" / first.name, "not json")
    out = tmp_path / "g" / "grades.csv"
    args = ["grade", "--no-sandbox", "--out", str(out), "--chapters", f"{first},{second}"]
    assert coursework_main([*args, str(subs)]) == 0
    graded = {row["chapter"] for row in csv.DictReader(out.open())}
    assert graded == {first.stem, second.stem}
    assert coursework_main([*args, "--jobs", "0", str(subs)]) == 2
    # The old spelling, chapters then the folder with spaces, is refused, not misread.
    with pytest.raises(SystemExit):
        coursework_main(["grade", "--chapters", str(first), str(second), str(subs)])


# --- Gradebooks and result files ------------------------------------------------------


def _grade(student: str, chapter: str, exercise: str, status: str, worth: float = 1.0, **kw: Any):
    earned = worth if status == "correct" else 0.0
    return results.ExerciseGrade(
        student, chapter, exercise, status, points=earned, max_points=worth, **kw
    )


def test_gradebooks_have_a_column_per_chapter_a_total_and_canvas_s_columns() -> None:
    grades = [
        _grade("al", "01_a", "ex-1", "correct", 2.0, canvas_id="9001"),
        _grade("al", "01_a", "ex-2", "correct"),
        _grade("al", "02_b", "ex-3", "incorrect", 0.5),
        _grade("bo", "01_a", "ex-1", "error", 2.0),
        _grade("bo", "01_a", "ex-2", "correct"),
        _grade("bo", "02_b", "ex-3", "correct", 0.5),
        _grade("cy", "01_a", "ex-1", "not answered", 2.0),
        _grade("cy", "01_a", "ex-2", "not answered"),
        _grade("cy", "02_b", "ex-3", "not answered", 0.5),
    ]
    header, body = results.gradebook_table(grades)
    assert header == ["Student", "01_a", "02_b", "Total"]
    assert body == [["al", "3", "0", "3"], ["bo", "1", "0.5", "1.5"], ["cy", "0", "0", "0"]]
    header, body = results.canvas_table(grades)
    assert header == [*results.CANVAS_IDENTITY, "01_a", "02_b", "Final Points"]
    assert body[0] == ["Points Possible", "", "", "", "", "3", "0.5", "3.5"]
    assert body[1:] == [
        ["al", "9001", "", "", "", "3", "0", "3"],
        ["bo", "", "", "", "", "1", "0.5", "1.5"],
        ["cy", "", "", "", "", "0", "0", "0"],
    ]


def test_a_new_run_keeps_the_earlier_files_and_a_second_grader_is_refused(
    tmp_path: Path,
) -> None:
    out = tmp_path / "grades" / "week1.csv"
    first = results.ResultFiles(out)
    assert first.paths == (
        out,
        out.with_name("week1-gradebook.csv"),
        out.with_name("week1-canvas.csv"),
    )
    rows = [_grade("al", "01_a", "ex-1", "correct", sha256="ab", sandbox="s")]
    first.record(rows)
    assert results.read_grades(out) == rows  # on disk as soon as a notebook is done
    with pytest.raises(ValueError, match="another grader"):
        results.ResultFiles(out)
    first.finish(rows)
    first.close()
    earlier = {p: p.read_bytes() for p in first.paths}
    second = results.ResultFiles(out)
    second.close()
    assert [p for p in first.paths if p.exists()] == []
    assert sorted(src for src, _ in second.backups) == sorted(first.paths)
    for src, backup in second.backups:
        assert backup.parent == src.parent and backup.suffix == ".csv"
        assert backup.read_bytes() == earlier[src]
    third = results.ResultFiles(out)  # nothing to keep: the second run wrote nothing
    third.close()
    assert third.backups == []


def test_resume_reuses_only_unchanged_notebooks_and_keeps_what_it_drops(tmp_path: Path) -> None:
    out = tmp_path / "grades.csv"
    old = [
        _grade("al", "01_a", "ex-1", "correct", sha256="aa", sandbox="bubblewrap"),
        _grade("bo", "01_a", "ex-1", "incorrect", sha256="bb", sandbox="bubblewrap"),
        _grade("cy", "01_a", "ex-1", "correct", sha256="cc", sandbox="none (--no-sandbox)"),
    ]
    results.write_csv(out, results.csv_text(results.CSV_COLUMNS, (g.as_row() for g in old)))
    before = out.read_bytes()
    with results.ResultFiles(out, resume=True) as files:
        assert files.backups == []  # resuming renames nothing
        assert files.reusable("bubblewrap") == {
            ("al", "01_a", "aa"): [old[0]],
            ("bo", "01_a", "bb"): [old[1]],
        }
        bob_again = _grade("bo", "01_a", "ex-1", "correct", sha256="b2", sandbox="bubblewrap")
        files.record([bob_again])  # bo handed in a new file
        assert results.read_grades(out) == [*old, bob_again]  # nothing dropped while running
        files.finish([old[0], bob_again, old[2]])
    assert [src for src, _ in files.backups] == [out]  # bo's old row is gone from the file...
    assert files.backups[0][1].read_bytes() == before  # ...and kept in the backup
    assert results.read_grades(out) == [old[0], bob_again, old[2]]


def test_resume_takes_a_notebook_s_latest_rows(tmp_path: Path) -> None:
    """A file resumed twice may hold a notebook twice (its chapter gained an exercise
    between the runs): the later, complete rows are the ones offered."""
    out = tmp_path / "grades.csv"
    first = [_grade("al", "01_a", "ex-1", "incorrect", sha256="aa", sandbox="s")]
    again = [
        _grade("al", "01_a", "ex-1", "correct", sha256="aa", sandbox="s"),
        _grade("al", "01_a", "ex-2", "correct", sha256="aa", sandbox="s"),
    ]
    text = results.csv_text(results.CSV_COLUMNS, (g.as_row() for g in first + again))
    results.write_csv(out, text)
    with results.ResultFiles(out, resume=True) as files:
        assert files.reusable("s") == {("al", "01_a", "aa"): again}


class _StandInGrader:
    """Marks every exercise correct without a kernel (the scan and the bookkeeping only)."""

    label = "stand-in"

    def points(self, exercise: str) -> float:
        return 1.0

    def environment(self) -> None:
        return None

    def grade_bytes(self, data: bytes, name: str, labels: Any) -> list[tuple[str, str, str]]:
        return [(label, "correct", "Correct.") for label in labels]

    def abort(self) -> None:
        return None


@pytest.mark.parametrize("resume", [False, True])
def test_an_unreadable_submission_gets_error_rows_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, resume: bool
) -> None:
    chapter = CHAPTERS[0]
    sub = tmp_path / "submissions"
    for student in ("al", "bo", "cy"):
        (sub / student).mkdir(parents=True)
        shutil.copy(chapter, sub / student / chapter.name)
    out = tmp_path / "grades.csv"
    if resume:  # an earlier run graded al, so this run looks up every file's digest
        with results.ResultFiles(out) as files:
            files.finish(grading.grade(sub, [chapter], grader=_StandInGrader(), jobs=1))
    unreadable = sub / "bo" / chapter.name
    real_read_bytes = Path.read_bytes

    def read_bytes(path: Path) -> bytes:
        if path == unreadable:
            raise PermissionError(13, "Permission denied", str(path))
        return real_read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with results.ResultFiles(out, resume=resume) as files:
        rows = grading.grade(sub, [chapter], grader=_StandInGrader(), results=files)
    statuses = {(g.student, g.status) for g in rows}
    assert statuses == {("al", "correct"), ("bo", "error"), ("cy", "correct")}
    bo = [g for g in rows if g.student == "bo"]
    assert [g.exercise for g in bo] == labels(read(chapter))
    assert all(
        g.detail.startswith("the file could not be read (PermissionError: ") and g.sha256 == ""
        for g in bo
    )


def test_resume_refuses_a_file_of_another_format(tmp_path: Path) -> None:
    out = tmp_path / "grades.csv"
    out.write_text("student,chapter,exercise,status,detail,sha256,sandbox\n")
    with pytest.raises(ValueError, match="columns"):
        results.ResultFiles(out, resume=True)
    assert out.read_text().startswith("student,chapter,exercise,status,detail")


# --- A small class, graded for real ---------------------------------------------------


class SmallClass:
    """Two chapters, trimmed; five students in three layouts; answers planted so that the
    gradebook's numbers are known in advance."""

    def __init__(self, folder: Path) -> None:
        marks = marking.load()
        self.chapters = [folder / "chapters" / p.name for p in CHAPTERS[:2]]
        self.subs = folder / "submissions"
        self.expected: dict[str, dict[str, float]] = {}
        self.maxima: dict[str, float] = {}
        for source, copy in zip(CHAPTERS[:2], self.chapters, strict=True):
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(source.read_bytes())
        first, second = (read(p) for p in CHAPTERS[:2])
        one, two = labels(first), labels(second)
        self.maxima = {
            CHAPTERS[0].stem: sum(marks[lb].points for lb in one),
            CHAPTERS[1].stem: sum(marks[lb].points for lb in two),
        }

        def honest(nb: Any, label: str) -> nbformat.NotebookNode:
            return check_cell(label, honest_source(nb, label, marks[label]))

        def wrong(label: str) -> nbformat.NotebookNode:
            return check_cell(label, "answer = 'zzz'")

        def put(where: str, cells: list[nbformat.NotebookNode]) -> None:
            path = self.subs / where
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(trimmed(cells), path)

        a, b = CHAPTERS[0].name, CHAPTERS[1].name
        put(f"alice/{a}", [honest(first, lb) for lb in one])
        put(f"alice/{b}", [honest(second, lb) for lb in two])
        # Canvas download, late, resubmitted: the first exercise right, the others wrong.
        put(
            f"bobsmith_LATE_4242_777_{a[:-6]}-1.ipynb",
            [honest(first, one[0]), *(wrong(lb) for lb in one[1:])],
        )
        # Colab's copy: an error, then the stubs.
        put(
            f"carol/Copy of {b}",
            [new_code_cell("1 / 0"), *(check_cell(lb, "answer = ...") for lb in two)],
        )
        put("dave/homework.ipynb", [honest(first, lb) for lb in one])  # matches no chapter
        put(f"erin/{a}", [wrong(lb) for lb in one])
        points = {lb: marks[lb].points for lb in one + two}
        c1, c2 = CHAPTERS[0].stem, CHAPTERS[1].stem
        self.expected = {
            "alice": {c1: sum(points[lb] for lb in one), c2: sum(points[lb] for lb in two)},
            "bobsmith": {c1: points[one[0]], c2: 0.0},
            "carol": {c1: 0.0, c2: 0.0},
            "dave": {c1: 0.0, c2: 0.0},
            "erin": {c1: 0.0, c2: 0.0},
        }
        self.notebooks = 5  # alice 2, bobsmith, carol, erin

    def command(self, out: Path, *extra: str) -> list[str]:
        chapters = ",".join(str(p) for p in self.chapters)
        return [
            sys.executable,
            "-m",
            "coursework",
            "grade",
            str(self.subs),
            "--chapters",
            chapters,
            "--out",
            str(out),
            "--timeout",
            "120",
            *extra,
        ]


@pytest.fixture(scope="module")
def small_class(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_sandbox()
    folder = tmp_path_factory.mktemp("class")
    klass = SmallClass(folder)
    before = {p: p.read_bytes() for p in sorted(klass.subs.rglob("*")) if p.is_file()}
    # In one go, two notebooks at a time.
    parallel = folder / "parallel" / "grades.csv"
    one_go = subprocess.run(
        klass.command(parallel, "--jobs", "2"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # One at a time, killed as soon as the first notebook's rows are on disk, then resumed.
    serial = folder / "serial" / "grades.csv"
    # The killed grader's temporary folder, which its kernels' command lines name. A short
    # one: under a deep TMPDIR the grader would move to /tmp (socket paths must fit 107
    # bytes) and the kernels would not be found by this folder's name.
    scratch = Path(tempfile.mkdtemp(prefix="kg-", dir="/tmp"))
    killed = subprocess.Popen(
        klass.command(serial, "--jobs", "1"),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TMPDIR": str(scratch)},
    )
    deadline = time.monotonic() + 300
    on_disk = ""
    while time.monotonic() < deadline and killed.poll() is None:
        if serial.exists():
            on_disk = serial.read_text()
            if len(_rows(on_disk)) > 1:
                break
        time.sleep(0.02)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=60)
    time.sleep(1)
    orphans = _processes_under(scratch)
    left = sorted(p.name for p in serial.parent.iterdir())
    at_kill = serial.read_text()
    resumed = subprocess.run(
        klass.command(serial, "--jobs", "1", "--resume"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    yield {
        "class": klass,
        "one_go": one_go,
        "parallel": parallel,
        "serial": serial,
        "killed": killed,
        "left_at_kill": left,
        "orphans": orphans,
        "at_kill": at_kill,
        "resumed": resumed,
        "before": before,
    }
    shutil.rmtree(scratch, ignore_errors=True)


def _processes_under(folder: Path) -> list[str]:
    """Command lines of the processes that name ``folder`` (a grader's kernels do)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if str(folder) in cmdline:
                found.append(f"{entry.name}: {cmdline[:200]}")
    return found


def _files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.parent.iterdir())}


def test_the_killed_run_kept_what_it_finished(small_class: dict[str, Any]) -> None:
    killed, klass = small_class["killed"], small_class["class"]
    assert killed.returncode == -signal.SIGKILL
    rows = list(csv.DictReader(io.StringIO(small_class["at_kill"])))
    assert rows, "no notebook's rows were on disk when the grader was killed"
    graded = {(r["student"], r["chapter"]) for r in rows}
    assert len(graded) < klass.notebooks, "the grader finished before it was killed"
    assert {r["sha256"] != "" for r in rows} == {True}
    # Only the long CSV: no gradebook from an unfinished run, no half-written file left.
    assert small_class["left_at_kill"] == ["grades.csv"]
    # The kernel it was running died with it (killed as the next kernel starts, before
    # bwrap's --die-with-parent may have taken hold: the sandbox's own watchdog sees to it).
    assert small_class["orphans"] == []


def test_resuming_gives_the_same_files_as_one_parallel_run(small_class: dict[str, Any]) -> None:
    one_go, resumed = small_class["one_go"], small_class["resumed"]
    assert one_go.returncode == 0, one_go.stderr[-3000:]
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "already graded (--resume)" in resumed.stderr
    parallel, serial = _files(small_class["parallel"]), _files(small_class["serial"])
    assert sorted(parallel) == ["grades-canvas.csv", "grades-gradebook.csv", "grades.csv"]
    if serial != parallel:  # name the rows that differ, with their details
        rows = {
            name: {
                (r["student"], r["chapter"], r["exercise"]): (r["status"], r["detail"])
                for r in csv.DictReader(io.StringIO(files["grades.csv"].decode()))
            }
            for name, files in (("serial", serial), ("parallel", parallel))
        }
        differ = {
            key: (rows["serial"].get(key), rows["parallel"].get(key))
            for key in rows["serial"].keys() | rows["parallel"].keys()
            if rows["serial"].get(key) != rows["parallel"].get(key)
        }
        pytest.fail(f"resumed and parallel runs differ (serial, parallel): {differ}")
    for path, data in small_class["before"].items():
        assert path.read_bytes() == data, f"{path} changed"


def test_the_gradebooks_hold_the_planted_points(small_class: dict[str, Any]) -> None:
    klass = small_class["class"]
    out = small_class["parallel"]
    chapters = [p.stem for p in CHAPTERS[:2]]
    book = _rows(out.with_name("grades-gradebook.csv").read_text())
    assert book[0] == ["Student", *chapters, "Total"]
    got = {row[0]: [float(x) for x in row[1:]] for row in book[1:]}
    assert list(got) == sorted(klass.expected)
    for student, earned in klass.expected.items():
        want = [earned[c] for c in chapters]
        assert got[student] == [*want, sum(want)], student
    canvas = _rows(out.with_name("grades-canvas.csv").read_text())
    assert canvas[0] == [*results.CANVAS_IDENTITY, *chapters, "Final Points"]
    maxima = [klass.maxima[c] for c in chapters]
    assert canvas[1][:5] == ["Points Possible", "", "", "", ""]
    assert [float(x) for x in canvas[1][5:]] == [*maxima, sum(maxima)]
    ids = {row[0]: row[1] for row in canvas[2:]}
    assert ids == {"alice": "", "bobsmith": "4242", "carol": "", "dave": "", "erin": ""}
    assert [[float(x) for x in row[5:]] for row in canvas[2:]] == list(got.values())


def test_the_long_csv_records_files_ids_and_points(small_class: dict[str, Any]) -> None:
    klass = small_class["class"]
    rows = list(csv.DictReader(small_class["parallel"].open()))
    bob = [r for r in rows if r["student"] == "bobsmith" and r["file"]]
    assert {r["file"] for r in bob} == {f"bobsmith_LATE_4242_777_{CHAPTERS[0].stem}-1.ipynb"}
    assert {r["canvas_id"] for r in rows if r["student"] == "bobsmith"} == {"4242"}
    carol = [r for r in rows if r["student"] == "carol" and r["chapter"] == CHAPTERS[1].stem]
    assert {r["file"] for r in carol} == {f"carol/Copy of {CHAPTERS[1].name}"}
    assert {r["status"] for r in carol} == {"not answered"}
    for r in rows:
        assert float(r["points"]) == (float(r["max_points"]) if r["status"] == "correct" else 0)
    assert {r["student"] for r in rows} == set(klass.expected)


def test_the_run_reports_progress_and_the_misnamed_file(small_class: dict[str, Any]) -> None:
    klass = small_class["class"]
    err = small_class["one_go"].stderr
    assert "warning: dave/homework.ipynb: matches no chapter" in err
    lines = [line for line in err.splitlines() if " notebooks, ETA " in line]
    assert [line.split(" notebooks")[0] for line in lines] == [
        f"{k}/{klass.notebooks}" for k in range(1, klass.notebooks + 1)
    ]
    assert any("bobsmith/" in line and "points (" in line for line in lines)
    assert "with 2 jobs" in err


def test_a_long_tmpdir_still_leaves_room_for_the_kernels_sockets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under a deep TMPDIR (pytest's, a CI runner's) the run's folder moves to /tmp."""
    from coursework.sandbox import grading_folder

    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    folder = grading_folder()
    try:
        assert folder.parent == Path("/tmp")
        assert len(str(folder / "kernel-12345678" / "sockets" / "k-1")) <= 107
    finally:
        folder.rmdir()
    short = tmp_path / "t"
    short.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(short) if len(str(short)) < 50 else "/tmp")
    folder = grading_folder()
    try:
        assert folder.parent == Path(tempfile.tempdir)
    finally:
        folder.rmdir()
