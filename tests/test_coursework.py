"""Tests of the instructors' coursework tools: the student release and the grader.

Everything about the chapters is discovered from the notebooks (exercise
labels, stubs, solutions); nothing here names a chapter's exercise. One
student release is made per session and shared; grading runs a handful of
fabricated submissions built from one chapter, each in the grader's sandbox
(tests/test_sandbox.py throws hostile ones at it).
"""

from __future__ import annotations

import copy
import csv
import importlib
import json
import math
import pkgutil
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

import klbook.checks
from coursework import grading
from coursework import release as rel
from coursework.__main__ import main as coursework_main
from klbook import exercises

# An independent reading of the exercise format (not the module's code).
from .coursework_helpers import _CHECK, _SOL_START, CHAPTER_IDS, CHAPTERS, ROOT, require_sandbox
from .coursework_helpers import labels as _labels
from .coursework_helpers import read as _read
from .coursework_helpers import stub_cells as _stub_cells
from .coursework_helpers import tags as _tags
from .coursework_helpers import tree_digest as _tree_digest

STUB_LINE = "answer = ...  # replace ... with your answer"
STUB = re.compile(r"^answer = \.\.\.", re.M)


def _texts(cell: Any) -> list[str]:
    """Every text a cell shows: its source and its text outputs."""
    out = [str(cell.get("source", ""))]
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            out.append(output["text"])
        elif output.get("output_type") == "error":
            out.append(f"{output['ename']}: {output['evalue']}")
            out.extend(output.get("traceback", []))
        else:
            for mime, value in output.get("data", {}).items():
                if mime.startswith("text/") or mime == "application/json":
                    out.append(value if isinstance(value, str) else json.dumps(value))
    return out


def _trivial(line: str) -> bool:
    return (
        sum(c.isalnum() for c in line) < 3
        or line.startswith(("```", ":::", "~~~"))
        or re.match(r"^:[\w-]+:", line) is not None
        or re.fullmatch(r"Correct( \(in [^)]*\))?\.", line) is not None
    )


def _occurs(secret: str, text: str) -> bool:
    return re.search(r"(?<![\w.])" + re.escape(secret) + r"(?!\w)", text) is not None


def _secret_lines(nb: nbformat.NotebookNode) -> set[str]:
    public = [c.source for c in nb.cells if "solution" not in _tags(c)]
    lines = set()
    for cell in nb.cells:
        if "solution" in _tags(cell):
            for text in _texts(cell):
                for line in (raw.strip() for raw in text.splitlines()):
                    if not _trivial(line) and not any(_occurs(line, src) for src in public):
                        lines.add(line)
    return lines


# --- Fixtures -----------------------------------------------------------------------


# ``student_release``: one release of every chapter, from tests/conftest.py.


def _student(release: rel.Release, chapter: Path) -> nbformat.NotebookNode:
    return _read(release.out / chapter.relative_to(ROOT))


# --- Reading the exercise structure -------------------------------------------------


def test_exercise_labels_in_reading_order_with_any_fence() -> None:
    nb = new_notebook(
        cells=[
            new_markdown_cell("```{exercise-start}\n:label: ex-b\n```\nFirst."),
            new_markdown_cell("```{exercise-end}\n```"),
            new_markdown_cell("```{solution-start} ex-b\n:class: dropdown\n```"),
            new_markdown_cell(":::{exercise-start}\n:class: hard\n:label: ex-a\n:::\nSecond."),
        ]
    )
    assert rel.exercise_labels(nb) == ["ex-b", "ex-a"]


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (
            ["```{exercise-start}\n:label: ex-a\n```", "```{exercise-start}\n:label: ex-a\n```"],
            "two exercises",
        ),
        (["```{exercise-start}\n```\nNo label."], "no :label:"),
    ],
)
def test_exercise_labels_rejects_duplicates_and_missing_labels(
    cells: list[str], message: str
) -> None:
    nb = new_notebook(cells=[new_markdown_cell(c) for c in cells])
    with pytest.raises(ValueError, match=message):
        rel.exercise_labels(nb)


def test_checked_labels() -> None:
    assert rel.checked_labels("check('ex-a', answer)\ncheck( \"ex-b\" , 1)") == ["ex-a", "ex-b"]
    assert rel.checked_labels("recheck = 1\nanswer = ...") == []


def _toy_chapter() -> nbformat.NotebookNode:
    """A small chapter in the book's exercise format, with a leaking body cell."""
    body = new_code_cell("print(f'{0.7 * 3:.4f}')")
    body.outputs = [new_output("stream", name="stdout", text="2.1000\n")]
    body.execution_count = 1
    plot = new_code_cell("x = 2")
    plot.outputs = [new_output("execute_result", data={"text/plain": "2"}, execution_count=2)]
    plot.execution_count = 2
    plot.metadata["tags"] = ["reveals-answer"]
    stub = new_code_cell(f'{STUB_LINE}\ncheck("ex-toy", answer)')
    stub.outputs = [
        new_output(
            "execute_result",
            data={"text/plain": "Not answered yet: replace ... with your answer."},
            execution_count=3,
        )
    ]
    stub.execution_count = 3
    sol_code = new_code_cell('answer = 0.7 * 3\nprint(f"{answer:.4f}")\ncheck("ex-toy", answer)')
    sol_code.outputs = [
        new_output("stream", name="stdout", text="2.1000\n"),
        new_output("execute_result", data={"text/plain": "Correct."}, execution_count=4),
    ]
    sol_code.execution_count = 4
    cells = [
        new_markdown_cell("# Toy"),
        body,
        plot,
        new_markdown_cell("```{exercise-start}\n:label: ex-toy\n```\nCompute 0.7 times 3."),
        stub,
        new_markdown_cell("```{exercise-end}\n```"),
        new_markdown_cell("```{solution-start} ex-toy\n:class: dropdown\n```"),
        new_markdown_cell("Multiply the probability by the number of flips."),
        sol_code,
        new_markdown_cell("```{solution-end}\n```"),
    ]
    for cell in cells[6:]:
        cell.metadata["tags"] = ["solution"]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def test_secret_lines_skip_trivial_and_public_lines() -> None:
    found = rel.secret_lines(_toy_chapter())
    assert "answer = 0.7 * 3" in found
    assert "Multiply the probability by the number of flips." in found
    assert "2.1000" in found  # a solution's printed number is a secret
    assert 'check("ex-toy", answer)' not in found  # the stub shows it anyway
    assert "Correct." not in found
    assert not any(line.startswith(("```", ":class:")) for line in found)
    assert found == sorted(_secret_lines(_toy_chapter()))


def test_student_notebook_removes_solutions_and_revealing_outputs() -> None:
    source = _toy_chapter()
    before = nbformat.writes(source)
    student = rel.student_notebook(source)
    assert nbformat.writes(source) == before, "the source notebook must not change"
    assert all("solution" not in _tags(c) for c in student.cells)
    assert [c.id for c in student.cells] == [c.id for c in source.cells[:6]]
    body, plot, stub = student.cells[1], student.cells[2], student.cells[4]
    assert plot.outputs == [] and plot.execution_count is None  # tagged reveals-answer
    assert body.outputs == [], "the defensive scan clears an output equal to the solution's"
    assert stub.outputs[0]["data"]["text/plain"].startswith("Not answered yet")
    nbformat.validate(student)


def test_preprocessor_reports_scan_cleared_cells() -> None:
    toy = _toy_chapter()
    leaking = toy.cells[1].id
    processor = rel.StudentVersionPreprocessor()
    processor.preprocess(toy, {})
    assert processor.scan_cleared == [leaking]


# --- The release of the real chapters -----------------------------------------------


def test_release_writes_every_chapter_readme_wheel_pins_and_zip(
    student_release: rel.Release,
) -> None:
    paths = sorted(p.relative_to(student_release.out) for p in student_release.notebooks)
    assert paths == sorted(p.relative_to(ROOT) for p in CHAPTERS)
    assert student_release.wheel is not None and student_release.requirements is not None
    readme = student_release.readme.read_text(encoding="utf-8")
    wheel = student_release.wheel.name
    for words in (
        "pip install",
        "check(",
        "Restart",
        "Hand",
        f"python3 -m venv .venv\n.venv/bin/python -m pip install -r requirements.txt {wheel}\n",
        f"py -m venv .venv\n.venv\\Scripts\\python -m pip install -r requirements.txt {wheel}\n",
        ".venv/bin/python -m jupyter lab",
        ".venv\\Scripts\\python -m jupyter lab",
    ):
        assert words in readme, words
    assert "copy of the course repository" not in readme
    for chapter in CHAPTERS:
        assert chapter.relative_to(ROOT).as_posix() in readme
        for label in _labels(_read(chapter)):
            assert f"`{label}`" in readme
    with zipfile.ZipFile(student_release.zip_path) as zf:
        infos = zf.infolist()
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in infos)
        names = {i.filename: zf.read(i) for i in infos}
    top = student_release.out.name
    kept = [p.relative_to(student_release.out).as_posix() for p in student_release.notebooks]
    kept += ["README.md", "requirements.txt", wheel]
    expected = {f"{top}/{k}": (student_release.out / k).read_bytes() for k in kept}
    assert names == expected


def test_release_requirements_are_the_books_pins_of_what_students_need(
    student_release: rel.Release,
) -> None:
    assert student_release.requirements is not None
    book: dict[str, str] = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            book[re.sub(r"[-_.]+", "-", name).lower()] = version.strip()
    pinned = {}
    for line in student_release.requirements.read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split(";")[0].split("==")
            pinned[re.sub(r"[-_.]+", "-", name).lower()] = version.strip()
    for name, version in pinned.items():
        assert book.get(name) == version, name
    for needed in ("numpy", "scipy", "matplotlib", "jupyterlab", "ipykernel"):
        assert needed in pinned
    for instructors_only in ("jupyter-book", "pytest", "nbval", "playwright", "ruff", "sphinx"):
        assert instructors_only not in pinned
    lines = student_release.requirements.read_text().splitlines()
    assert "klbook" not in pinned and not any(line.startswith("-") for line in lines)


def test_release_holds_no_marking_check_and_no_readable_answer(
    student_release: rel.Release,
) -> None:
    """The wheel is klbook and its dist-info only; its self-checks are sealed, so no
    expected value or listed mistake of a practice check can be read in it."""
    assert student_release.wheel is not None
    with zipfile.ZipFile(student_release.wheel) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    assert all(n.startswith(("klbook/", "klbook-")) for n in files), sorted(files)
    assert "klbook/notebooks.py" not in files and "klbook/coursework.py" not in files
    text = "\n".join(data.decode("utf-8", "replace") for data in files.values())
    for word in ("coursework", "MARKING", "solution-start", "{exercise-start}"):
        assert word not in text, word
    checks = {n: d.decode() for n, d in files.items() if n.startswith("klbook/checks/ch")}
    assert checks and all("unseal(" in source for source in checks.values())
    shown = 0
    for label in exercises.labels():
        spec = exercises.registered(label)
        values = []
        if isinstance(spec, exercises.NumericCheck):
            values = [spec.expected, *(w for w, _ in spec.mistakes)]
        elif isinstance(spec, exercises.FunctionCheck):
            values = [want for _, want in spec.cases]
        for value in values:
            for x in np.asarray(value, dtype=float).ravel():
                if not np.isfinite(x) or abs(x - round(x, 4)) < 1e-9 or abs(x) < 1e-3:
                    continue  # short decimals (0.4, 0.625) are inputs too; look for the rest
                for form in (f"{x:.4f}", f"{x:.6g}", repr(float(x))):
                    for name, source in checks.items():
                        assert form not in source, f"{label}: {form} in {name}"
                shown += 1
    assert shown > 15, "too few values compared: the test would pass on anything"


def test_release_is_deterministic(tmp_path: Path) -> None:
    """Same chapters, same bytes: whatever the order given and whenever it runs."""
    frozen = tmp_path / "src"
    (frozen / "chapters").mkdir(parents=True)
    copies = []
    for chapter in CHAPTERS[:2]:
        copies.append(frozen / "chapters" / chapter.name)
        copies[-1].write_bytes(chapter.read_bytes())
    first = rel.release(copies, tmp_path / "one" / "student", root=frozen)
    again = rel.release(reversed(copies), tmp_path / "two" / "student", root=frozen)
    assert again.zip_path.read_bytes() == first.zip_path.read_bytes()
    assert _tree_digest(again.out) == _tree_digest(first.out)


def test_release_replaces_an_earlier_release_but_nothing_else(tmp_path: Path) -> None:
    out = tmp_path / "student"
    rel.release(CHAPTERS[:1], out, root=ROOT)
    (out / "stale.ipynb").write_text("{}")
    rel.release(CHAPTERS[:1], out, root=ROOT)
    assert not (out / "stale.ipynb").exists()
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not an earlier student release"):
        rel.release(CHAPTERS[:1], other, root=ROOT)
    assert (other / "notes.txt").read_text() == "keep me"


def test_release_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="notebooks: give at least one"):
        rel.release([], tmp_path / "a", root=ROOT)
    with pytest.raises(ValueError, match="not under the root"):
        rel.release(CHAPTERS[:1], tmp_path / "b", root=tmp_path)
    with pytest.raises(ValueError, match="given twice"):
        rel.release(CHAPTERS[:1] * 2, tmp_path / "c", root=ROOT)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="not a folder"):
        rel.release(CHAPTERS[:1], tmp_path / "file", root=ROOT)


def test_release_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    out = tmp_path / "student"
    assert coursework_main(["release", "--out", str(out), str(CHAPTERS[0])]) == 0
    assert (out / "README.md").is_file() and (tmp_path / "student.zip").is_file()
    missing = str(tmp_path / "missing")
    assert coursework_main(["grade", "--out", str(tmp_path / "g.csv"), missing]) == 2


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_student_release_leaks_no_solution_text(
    student_release: rel.Release, chapter: Path
) -> None:
    source = _read(chapter)
    secrets = _secret_lines(source)
    for cell in _student(student_release, chapter).cells:
        assert "solution" not in _tags(cell)
        for text in _texts(cell):
            leaked = [s for s in secrets if _occurs(s, text)]
            assert not leaked, f"cell {cell.get('id')} shows solution text {leaked[:3]}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_student_release_keeps_every_exercise_and_stub(
    student_release: rel.Release, chapter: Path
) -> None:
    source = _read(chapter)
    labels = _labels(source)
    student = _student(student_release, chapter)
    assert _labels(student) == labels
    stubs, source_stubs = _stub_cells(student), _stub_cells(source)
    for label in labels:
        assert label in stubs, f"{label}: the stub cell is missing"
        assert STUB.search(stubs[label].source), f"{label}: no `answer = ...` in the stub"
        # The stub is handed out as it is, its harmless "Not answered yet" output included.
        assert stubs[label] == source_stubs[label]


# --- The exercises of the source chapters --------------------------------------------


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_chapter_exercises_follow_the_format(chapter: Path) -> None:
    """Stubs are untagged and answered "Not answered yet"; solutions are tagged throughout."""
    nb = _read(chapter)
    labels = _labels(nb)
    assert labels == rel.exercise_labels(nb)
    stubs = _stub_cells(nb)
    registered = exercises.labels()
    inside: str | None = None
    solved = set()
    for cell in nb.cells:
        src = cell.source
        starts = _SOL_START.findall(src) if cell.cell_type == "markdown" else []
        if starts:
            inside = starts[0]
            solved.add(inside)
        if inside is not None:
            assert "solution" in _tags(cell), f"untagged cell in the solution of {inside}"
        if cell.cell_type == "markdown" and "{solution-end}" in src:
            inside = None
    assert inside is None, "a solution-start without a solution-end"
    for label in labels:
        assert label in registered, f"{label} has no self-check in klbook/checks"
        assert label in solved, f"{label} has no worked solution"
        assert label in stubs, f"{label} has no untagged stub cell"
        stored = "".join(t for t in _texts(stubs[label])[1:])
        assert stored.startswith("Not answered yet"), f"{label}: stub output {stored!r}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_reference_solutions_pass_their_checks(chapter: Path) -> None:
    """Every solution cell that calls check shows "Correct" in its stored outputs.

    nbval re-runs each chapter and compares these outputs, so they are what a
    fresh kernel computes.
    """
    nb = _read(chapter)
    confirmed = set()
    for cell in nb.cells:
        if cell.cell_type != "code" or "solution" not in _tags(cell):
            continue
        called = _CHECK.findall(cell.source)
        if not called:
            continue
        shown = "\n".join(_texts(cell)[1:])
        assert re.search(r"^Correct\b", shown, re.M), f"{called}: solution shows {shown!r}"
        assert "Not quite" not in shown and "Not answered" not in shown
        confirmed.update(called)
    assert set(_labels(nb)) <= confirmed


ALL_LABELS = [label for chapter in CHAPTERS for label in _labels(_read(chapter))]


@pytest.mark.parametrize("label", ALL_LABELS or ["(no exercises yet)"])
def test_untouched_stub_is_not_answered(label: str) -> None:
    if not ALL_LABELS:
        pytest.skip("no chapter has exercises yet")
    feedback = exercises.check(label, ...)
    assert feedback.status == "not answered"
    assert str(feedback).startswith("Not answered yet")
    assert exercises.results()[label] == "not answered"


def _mistakes(spec: Any) -> list[tuple[Any, str]]:
    if isinstance(spec, exercises.NumericCheck):
        return list(spec.mistakes)
    if isinstance(spec, exercises.ChoiceCheck):
        return list(spec.mistakes.items())
    return []


def _all_specs() -> dict[str, Any]:
    """Every registered self-check, read from the CHECKS of klbook/checks/*.py."""
    specs: dict[str, Any] = {}
    for info in pkgutil.iter_modules(klbook.checks.__path__):
        module = importlib.import_module(f"klbook.checks.{info.name}")
        specs.update(getattr(module, "CHECKS", {}))
    return specs


def _spec(label: str) -> Any:
    return _all_specs()[label]


@pytest.mark.parametrize("label", ALL_LABELS or ["(no exercises yet)"])
def test_typical_wrong_answers_get_their_hint(label: str) -> None:
    if not ALL_LABELS:
        pytest.skip("no chapter has exercises yet")
    spec = _spec(label)
    for value, hint in _mistakes(spec):
        feedback = exercises.check(label, value)
        assert feedback.status == "incorrect", f"mistake {value!r} is accepted"
        assert str(feedback) == f"Not quite: {hint}"
    wrong = _wrong_value(spec)
    feedback = exercises.check(label, wrong)
    assert feedback.status == "incorrect"
    assert str(feedback).startswith("Not quite: ")
    assert len(str(feedback)) > len("Not quite: ") + 10, "a wrong answer gets a real hint"


@pytest.mark.parametrize("label", ALL_LABELS or ["(no exercises yet)"])
def test_hints_do_not_give_the_number_away(label: str) -> None:
    if not ALL_LABELS:
        pytest.skip("no chapter has exercises yet")
    spec = _spec(label)
    if not isinstance(spec, exercises.NumericCheck) or np.ndim(spec.expected) != 0:
        return
    expected = float(spec.expected)
    if expected == round(expected):
        return  # a whole number may well appear in a hint ("base 2")
    for digits in (2, 3, 4):
        assert f"{expected:.{digits}f}" not in spec.hint


def _wrong_value(spec: Any) -> Any:
    """An answer that matches neither the expected value nor a known mistake."""
    if isinstance(spec, exercises.NumericCheck):
        expected = np.asarray(spec.expected, dtype=np.float64)
        wrong = expected * 3.0 + 17.25
        return float(wrong) if wrong.ndim == 0 else wrong.tolist()
    if isinstance(spec, exercises.ChoiceCheck):
        return "no such choice zzz"
    return lambda *args: float("nan")


# --- Grading fabricated submissions ---------------------------------------------------


def _grading_chapter() -> Path | None:
    """The first chapter with the most variety: at least three exercises if any has."""
    with_ex = [(c, len(_labels(_read(c)))) for c in CHAPTERS]
    for minimum in (3, 1):
        for chapter, count in with_ex:
            if count >= minimum:
                return chapter
    return None


GRADING_CHAPTER = _grading_chapter()
needs_exercises = pytest.mark.skipif(GRADING_CHAPTER is None, reason="no chapter has exercises")


def _fill(source: str, value: str) -> str:
    assert "answer = ..." in source
    return source.replace("answer = ...", f"answer = {value}", 1)


def _value_source(value: Any) -> str:
    if callable(value):
        return 'lambda *args: float("nan")'
    return repr(value)


def _trimmed(student: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, dict[str, Any]]:
    """The student notebook cut down to an import cell and the exercise stubs.

    Stubs do not depend on the chapter's body (the release guarantees they
    run as handed out), so this keeps grading tests fast.
    """
    stubs = _stub_cells(student)
    nb = copy.deepcopy(student)
    nb.cells = [new_code_cell("from klbook.exercises import check")] + [
        copy.deepcopy(stubs[label]) for label in _labels(student)
    ]
    return nb, {label: nb.cells[i + 1] for i, label in enumerate(_labels(student))}


def _wrong_answer(label: str) -> tuple[str, str | None]:
    """Source of a wrong answer for ``label`` and the hint it should get (if known)."""
    spec = _spec(label)
    mistakes = _mistakes(spec)
    if mistakes:
        value, hint = mistakes[0]
        value = value.tolist() if isinstance(value, np.ndarray) else value
        value = float(value) if isinstance(value, np.floating) else value
        return repr(value), f"Not quite: {hint}"
    return _value_source(_wrong_value(spec)), None


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == grading.CSV_COLUMNS
        return list(reader)


@pytest.fixture(scope="module")
def graded(
    student_release: rel.Release, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[list[dict[str, str]], dict[str, Any]]]:
    """Grade fabricated submissions of one chapter through the command line, sandboxed."""
    require_sandbox()
    assert GRADING_CHAPTER is not None
    chapter = GRADING_CHAPTER
    labels = _labels(_read(chapter))
    subs = tmp_path_factory.mktemp("submissions")
    student = _student(student_release, chapter)

    def put(who: str, nb: nbformat.NotebookNode | str, name: str = chapter.name) -> None:
        target = subs / who / name
        target.parent.mkdir(parents=True, exist_ok=True)
        text = nb if isinstance(nb, str) else nbformat.writes(nb)
        target.write_text(text, encoding="utf-8")

    put("correct", _read(chapter))  # the source chapter, solutions and all
    put("empty", _trimmed(student)[0])  # the release's stubs, untouched (they run as handed out)
    put("broken", nbformat.writes(student)[:300])  # cut off: not JSON
    (subs / "absent").mkdir()  # handed in nothing
    put("absent", student, name=".ipynb_checkpoints/x.ipynb")  # ignored: hidden folder
    # Mixed, on the trimmed notebook: the first stub raises, the second is deleted,
    # the rest hold wrong answers whose stored outputs falsely claim "Correct.".
    mixed, stubs = _trimmed(student)
    hints = {}
    for i, label in enumerate(labels):
        cell = stubs[label]
        if i == 0:
            cell.source = _fill(cell.source, "1 / 0")
        else:
            value, hints[label] = _wrong_answer(label)
            cell.source = _fill(cell.source, value)
            cell.outputs = [
                new_output("execute_result", data={"text/plain": "Correct."}, execution_count=9)
            ]
    if len(labels) > 1:
        mixed.cells.remove(stubs[labels[1]])
        hints.pop(labels[1], None)
    put("mixed", mixed)
    before = _tree_digest(subs)
    out = tmp_path_factory.mktemp("grades") / "grades.csv"
    code = coursework_main(
        ["grade", "--out", str(out), "--chapters", str(chapter), "--timeout", "300", str(subs)]
    )
    assert code == 0
    info = {"labels": labels, "chapter": chapter.stem, "hints": hints, "digests": before}
    assert _tree_digest(subs) == before, "grading changed or added submission files"
    yield _rows(out), info


def _by_student(rows: list[dict[str, str]], who: str) -> dict[str, dict[str, str]]:
    return {r["exercise"]: r for r in rows if r["student"] == who}


@needs_exercises
def test_grades_have_one_row_per_student_and_exercise(graded: Any) -> None:
    rows, info = graded
    students = ["absent", "broken", "correct", "empty", "mixed"]
    expected = [(s, info["chapter"], label) for s in students for label in info["labels"]]
    assert [(r["student"], r["chapter"], r["exercise"]) for r in rows] == expected
    assert {r["status"] for r in rows} <= set(grading.STATUSES)


@needs_exercises
def test_grades_record_each_graded_files_sha256_and_the_sandbox(graded: Any) -> None:
    rows, info = graded
    for row in rows:
        assert row["sandbox"] == grading.SANDBOX
        if row["student"] == "absent":
            assert row["sha256"] == ""
        else:
            name = f"{row['student']}/{row['chapter']}.ipynb"
            assert row["sha256"] == info["digests"][name]


@needs_exercises
def test_grades_of_complete_empty_broken_and_absent_submissions(graded: Any) -> None:
    rows, info = graded
    for label in info["labels"]:
        assert _by_student(rows, "correct")[label]["status"] == "correct"
        assert _by_student(rows, "correct")[label]["detail"].startswith("Correct")
        assert _by_student(rows, "empty")[label]["status"] == "not answered"
        assert _by_student(rows, "empty")[label]["detail"].startswith("Not answered yet")
        broken = _by_student(rows, "broken")[label]
        assert broken["status"] == "error"
        assert "does not parse" in broken["detail"]
        absent = _by_student(rows, "absent")[label]
        assert (absent["status"], absent["detail"]) == (
            "not answered",
            "no submission for this chapter",
        )


@needs_exercises
def test_grades_judge_each_exercise_despite_errors_and_deleted_stubs(graded: Any) -> None:
    rows, info = graded
    labels, mine = info["labels"], _by_student(rows, "mixed")
    first = mine[labels[0]]
    assert first["status"] == "error"
    assert first["detail"].startswith("ZeroDivisionError")
    if len(labels) > 1:
        assert mine[labels[1]]["status"] == "not answered"
        assert "missing" in mine[labels[1]]["detail"]
    for label in labels[2:]:
        # The stored "Correct." is ignored: the notebook is re-run.
        assert mine[label]["status"] == "incorrect"
        assert mine[label]["detail"].startswith("Not quite: ")
        if info["hints"].get(label):
            assert mine[label]["detail"] == info["hints"][label]


@needs_exercises
def test_grading_survives_an_infinite_loop_and_a_dying_kernel(tmp_path: Path) -> None:
    require_sandbox()
    assert GRADING_CHAPTER is not None
    labels = _labels(_read(GRADING_CHAPTER))
    value, _ = _wrong_answer(labels[0])
    head = [
        new_code_cell("from klbook.exercises import check"),
        new_code_cell(f'answer = {value}\ncheck("{labels[0]}", answer)'),
    ]
    rest = [new_code_cell(f'answer = ...\ncheck("{label}", answer)') for label in labels[1:]]
    # The loop never ends but sleeps: a busy one would take a core from the other tests
    # for the whole timeout, and the grader stops both kinds the same way.
    loop = "import time\nwhile True:\n    time.sleep(0.05)"
    for who, stopper in (("loop", loop), ("dies", "import os\nos._exit(1)")):
        nb = new_notebook(cells=[*head, new_code_cell(stopper), *rest])
        (tmp_path / who).mkdir()
        nbformat.write(nb, tmp_path / who / GRADING_CHAPTER.name)
    before = _tree_digest(tmp_path)
    grades = grading.grade(tmp_path, [GRADING_CHAPTER], timeout=8)
    assert _tree_digest(tmp_path) == before
    # The cell that stopped the run is named by its number, execution count and first line.
    for who, why in (
        ("loop", "the notebook ran out of time (8 s) in cell 3 (In [3]: 'import time')"),
        ("dies", "the kernel died in cell 3 (In [3]: 'import os')"),
    ):
        mine = {g.exercise: g for g in grades if g.student == who}
        assert mine[labels[0]].status == "incorrect", mine[labels[0]]
        for number, label in enumerate(labels[1:], 4):
            assert mine[label].status == "error"
            assert mine[label].detail == f"{why} before cell {number} ran"


def test_grade_without_notebooks_runs_no_kernel(tmp_path: Path) -> None:
    source = tmp_path / "01_toy.ipynb"
    nbformat.write(_toy_chapter(), source)
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    (tmp_path / "subs" / "ann" / "01_toy (1).ipynb").write_text("{}")
    (tmp_path / "subs" / "ann" / "01_toy-final.ipynb").write_text("{}")
    (tmp_path / "subs" / "ben" / "nested").mkdir(parents=True)
    (tmp_path / "subs" / "ben" / "nested" / "01_toy.ipynb").write_text('{"cells": 3}')
    (tmp_path / "subs" / "cal").mkdir()
    grades = grading.grade(tmp_path / "subs", [source], timeout=5, sandbox=False)  # no kernel
    got = {g.student: (g.status, g.detail) for g in grades}
    assert got["ann"][0] == "error" and "several files" in got["ann"][1]
    assert got["ben"][0] == "error" and "not a notebook" in got["ben"][1]
    assert got["cal"] == ("not answered", "no submission for this chapter")
    out = grading.write_grades(grades, tmp_path / "deep" / "grades.csv")
    assert [r["student"] for r in _rows(out)] == ["ann", "ben", "cal"]


def test_find_submissions_layout(tmp_path: Path) -> None:
    (tmp_path / "zed" / "work").mkdir(parents=True)
    (tmp_path / "zed" / "work" / "02_b.ipynb").write_text("{}")
    (tmp_path / "zed" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "zed" / ".ipynb_checkpoints" / "01_a.ipynb").write_text("{}")
    (tmp_path / "amy").mkdir()
    (tmp_path / "amy" / "01_a.ipynb").write_text("{}")
    (tmp_path / "amy" / "01_a (copy).ipynb").write_text("{}")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "loose.ipynb").write_text("{}")
    found = grading.find_submissions(tmp_path, ["01_a.ipynb", "02_b.ipynb"])
    assert list(found) == ["amy", "zed"]
    assert found["amy"] == {"01_a.ipynb": tmp_path / "amy" / "01_a.ipynb"}
    assert found["zed"] == {"02_b.ipynb": tmp_path / "zed" / "work" / "02_b.ipynb"}
    with pytest.raises(ValueError, match="directory"):
        grading.find_submissions(tmp_path / "loose.ipynb", ["01_a.ipynb"])


@pytest.mark.parametrize("timeout", [0, -1, math.nan, math.inf])
def test_grade_rejects_bad_timeouts(tmp_path: Path, timeout: float) -> None:
    source = tmp_path / "01_toy.ipynb"
    nbformat.write(_toy_chapter(), source)
    with pytest.raises(ValueError, match="timeout"):
        grading.grade(tmp_path, [source], timeout=timeout)
    with pytest.raises(ValueError, match="timeout"):
        grading.grade_notebook(source, ["ex-toy"], timeout=timeout)


def test_grade_rejects_missing_chapters_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="chapters"):
        grading.grade(tmp_path, [])
    source = tmp_path / "01_toy.ipynb"
    nbformat.write(_toy_chapter(), source)
    with pytest.raises(ValueError, match="directory"):
        grading.grade(tmp_path / "nope", [source])


def test_grader_refuses_to_run_without_a_sandbox_unless_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without bubblewrap the grader stops before running anything; --no-sandbox runs the
    notebook anyway, warns, and says so in every row of the CSV."""
    source = tmp_path / "01_toy.ipynb"
    nbformat.write(_toy_chapter(), source)
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    toy = _toy_chapter()
    toy.cells = [new_code_cell("answer = 2.1\nprint('Correct.')")]
    nbformat.write(toy, tmp_path / "subs" / "ann" / "01_toy.ipynb")
    monkeypatch.setattr(grading, "sandbox_problem", lambda: "bwrap is not installed")
    out = tmp_path / "g.csv"
    args = ["grade", "--out", str(out), str(tmp_path / "subs"), "--chapters", str(source)]
    assert coursework_main(args) == 2
    err = capsys.readouterr().err
    assert "bwrap is not installed" in err and "--no-sandbox" in err
    assert not out.exists()
    assert coursework_main([*args[:1], "--no-sandbox", "--timeout", "60", *args[1:]]) == 0
    err = capsys.readouterr().err
    assert err.count("WARNING: --no-sandbox") == 2  # before and after the run
    rows = _rows(out)
    assert [r["sandbox"] for r in rows] == [grading.NO_SANDBOX]
    # The toy chapter has no marking check: the grader says so instead of guessing.
    assert rows[0]["status"] == "not answered" and "stub is missing" in rows[0]["detail"]


def test_grading_without_a_sandbox_still_marks_outside_the_kernel(tmp_path: Path) -> None:
    """--no-sandbox changes where the kernel runs, not how answers are read and marked:
    a notebook that rebinds check to print is marked by the value it computed."""
    from coursework.marking import Numeric

    source = tmp_path / "01_toy.ipynb"
    nbformat.write(_toy_chapter(), source)
    subs = tmp_path / "subs"
    for who, value in (("ann", "0.7 * 3"), ("bob", "2.2")):
        nb = _toy_chapter()
        nb.cells = [new_code_cell(f"answer = {value}\ncheck = print\ncheck('ex-toy', answer)")]
        (subs / who).mkdir(parents=True)
        nbformat.write(nb, subs / who / "01_toy.ipynb")
    worth = Numeric(2.1, points=2.5)  # the exercise's points come from its marking check
    with grading.Grader(sandbox=False, timeout=60, marking={"ex-toy": worth}) as grader:
        grades = grading.grade(subs, [source], grader=grader)
    assert {g.student: g.status for g in grades} == {"ann": "correct", "bob": "incorrect"}
    assert {g.sandbox for g in grades} == {grading.NO_SANDBOX}
    assert [(g.points, g.max_points) for g in grades] == [(2.5, 2.5), (0.0, 2.5)]
    from coursework.results import canvas_table, gradebook_table

    assert gradebook_table(grades)[1] == [["ann", "2.5", "2.5"], ["bob", "0", "0"]]
    assert canvas_table(grades)[1][0][-2:] == ["2.5", "2.5"]
    for bad in (0, -1, math.nan, math.inf, True, "2"):
        with pytest.raises(ValueError, match="points"):
            Numeric(2.1, points=bad)  # type: ignore[arg-type]


def test_the_klbook_distribution_leaves_the_instructors_package_out() -> None:
    """pyproject.toml's klbook wheel (pip install .) packages klbook*, never coursework."""
    import fnmatch
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    assert any(fnmatch.fnmatch("klbook.checks", pattern) for pattern in include)
    for package in ("coursework", "coursework.marking"):
        assert not any(fnmatch.fnmatch(package, pattern) for pattern in include), package
