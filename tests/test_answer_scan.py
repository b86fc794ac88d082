"""No marking answer in the handout: the release's search for answers in student notebooks.

The rules (coursework/answer_scan.py): an answer shows when a number with at least
three significant digits agrees with it to three digits in its own chapter, four in
another, in any obvious format; a number followed by the other unit of information is
another quantity; answers of at most two significant digits count only with a unit.
These tests write each format out independently, catch the two cases issue 15 found
in the handout of its day, keep the known false alarms quiet, and check the real
student release: no answer anywhere, every exercise still there.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from coursework import answer_scan
from coursework import release as rel

from .coursework_helpers import CHAPTERS, ROOT, labels, marking, read

MARKS = marking.load()
NUMERIC = {
    label: mark
    for label, mark in MARKS.items()
    if isinstance(mark, marking.Numeric) and np.ndim(mark.expected) == 0
}
OWN = {label: chapter for chapter in CHAPTERS for label in labels(read(chapter))}


def _short(x: float) -> bool:
    return math.isclose(float(f"{abs(x):.2g}"), abs(x), rel_tol=1e-9)


def _answers(label: str) -> list[tuple[float, str]]:
    """The answer of ``label`` in each unit its marking check accepts: (value, unit or "")."""
    mark = NUMERIC[label]
    x = float(mark.expected)
    return [(x, ""), *((x * factor, unit) for unit, factor in mark.units.items())]


def _formats(x: float, digits: int) -> list[str]:
    """How a notebook might print ``x`` to ``digits`` significant digits (zeros kept)."""
    fixed = f"{x:#.{digits}g}"
    fixed = fixed if "e" not in fixed else f"{x:.{digits - 1}e}"
    return [
        fixed.rstrip("."),
        f"{x:.{digits - 1}e}",
        f"{x:.{digits - 1}E}",
        f"{100 * x:#.{digits}g}%",
        f"{100 * x:#.{digits}g} %",
        f"{-x:#.{digits}g}",
    ]


def _cell(text: str, where: str = "output") -> nbformat.NotebookNode:
    if where == "source":
        return new_markdown_cell(text)
    cell = new_code_cell("print(result)")
    cell.outputs = [new_output("stream", name="stdout", text=text + "\n")]
    return cell


def _leaks(text: str, own: list[str], where: str = "output") -> list[answer_scan.Leak]:
    nb = new_notebook(cells=[_cell(text, where)])
    return answer_scan.answer_leaks({"toy.ipynb": nb}, MARKS, {"toy.ipynb": own})


LONG = [label for label in NUMERIC if not _short(float(NUMERIC[label].expected))]


@pytest.mark.parametrize("label", LONG)
def test_every_answer_is_found_in_its_own_chapter_at_three_and_four_digits(label: str) -> None:
    for value, unit in _answers(label):
        if _short(value):
            continue
        for digits in (3, 4, 6):
            for text in _formats(value, digits):
                found = _leaks(f"the result: {text}", [label])
                assert {leak.label for leak in found} >= {label}, (text, unit)
                assert label in {f.label for f in found if f.token.strip() == text.strip("-")}


@pytest.mark.parametrize("label", LONG)
def test_another_chapter_needs_four_digits(label: str) -> None:
    value = float(NUMERIC[label].expected)
    four = _formats(value, 4)[0]
    assert label in {leak.label for leak in _leaks(f"x = {four}", [])}
    three = _formats(value, 3)[0]
    assert label not in {leak.label for leak in _leaks(f"x = {three}", [])}


def test_the_two_cases_issue_15_found_are_caught() -> None:
    """Chapter 2 printed KL(0.9 coin || fair coin) = 0.3681 nats when that was the answer
    of ex-ch2-uniform-coin; chapter 5's table showed 0.6534, then the answer of
    ex-ch5-elbo-prior. Marking checks with those answers find both lines."""
    coin = 0.9 * math.log(0.9 / 0.5) + 0.1 * math.log(0.1 / 0.5)
    prior = (0.5, 0.3, 0.2)  # three coins of heads probability 0.2, 0.5, 0.8; 3 heads in 4
    likelihood = [4 * t**3 * (1 - t) for t in (0.2, 0.5, 0.8)]
    evidence = sum(p * lk for p, lk in zip(prior, likelihood, strict=True))
    posterior = [p * lk / evidence for p, lk in zip(prior, likelihood, strict=True)]
    elbo = sum(q * math.log(q / post) for q, post in zip(prior, posterior, strict=True))
    old = {
        "ex-ch2-uniform-coin": marking.Numeric(coin, units=marking.BITS),
        "ex-ch5-elbo-prior": marking.Numeric(elbo, units=marking.BITS),
    }
    assert (f"{coin:.4f}", f"{elbo:.4f}") == ("0.3681", "0.6534")
    two = new_notebook(
        cells=[new_markdown_cell("# Two"), _cell("KL(0.9 coin || fair coin) = 0.3681 nats")]
    )
    table = "prior              [0.5 0.3 0.2]  -2.4270       0.6534  -1.7736"
    five = new_notebook(cells=[_cell(f"header\n{table}")])
    found = answer_scan.answer_leaks(
        {"chapters/02_expected_value.ipynb": two, "chapters/05_kl_in_machine_learning.ipynb": five},
        old,
        {
            "chapters/02_expected_value.ipynb": ["ex-ch2-uniform-coin"],
            "chapters/05_kl_in_machine_learning.ipynb": ["ex-ch5-elbo-prior"],
        },
    )
    assert [(f.notebook, f.cell, f.part, f.line, f.token, f.label) for f in found] == [
        ("chapters/02_expected_value.ipynb", 2, "output", 1, "0.3681", "ex-ch2-uniform-coin"),
        ("chapters/05_kl_in_machine_learning.ipynb", 1, "output", 2, "0.6534", "ex-ch5-elbo-prior"),
    ]
    message = str(found[0])
    assert "chapters/02_expected_value.ipynb: cell 2" in message and "output line 1" in message


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("q = [0.6 0.4]", "0.4 is a probability, not ex-ch2-bits-three's 0.4 bits"),
        ("p = 0.4, q = 0.400", "a bare short number is never an answer"),
        ("n = 2, 10 or 100 flips", "whole numbers with one or two digits"),
        ("KL is about 0.37 nats", "two digits do not give away a longer answer"),
        ("the total, 1.16 nats, favours the model", "1.16 nats is not an answer in bits"),
        ("version 3.1.4 of x2", "no number inside a word or a version"),
    ],
)
def test_known_false_alarms_stay_quiet(line: str, why: str) -> None:
    assert _leaks(line, list(NUMERIC)) == [], why


def test_a_short_answer_counts_with_its_unit() -> None:
    short = [label for label in NUMERIC if _short(float(NUMERIC[label].expected))]
    assert short, "no answer of one or two significant digits to try"
    for label in short:
        value = float(NUMERIC[label].expected)
        assert label in {leak.label for leak in _leaks(f"so it is {value:g} bits", [label])}
        word = answer_scan.unit_of(NUMERIC[label].units) or "bits"
        assert label in {leak.label for leak in _leaks(f"{value:.3f} {word} in all", [label])}
        assert _leaks(f"so it is {value:g}", [label]) == []


def test_prose_captions_and_alt_text_are_searched_too() -> None:
    value = float(NUMERIC[LONG[0]].expected)
    text = _formats(value, 4)[0]
    figure = new_code_cell("plt.show()")
    figure.metadata["mystnb"] = {"image": {"alt": f"A line at {text} lies above"}}
    for cell, part in ((new_markdown_cell(f"We find\n${text}$."), "source"), (figure, "metadata")):
        found = answer_scan.answer_leaks(
            {"toy": new_notebook(cells=[cell])}, MARKS, {"toy": [LONG[0]]}
        )
        assert [(f.part, f.token) for f in found] == [(part, text)]


def _toy_chapter(leak: str) -> nbformat.NotebookNode:
    body = new_code_cell("print(kl)")
    body.outputs = [new_output("stream", name="stdout", text=leak + "\n")]
    figure = new_code_cell("plt.show()")
    figure.metadata["tags"] = ["reveals-answer"]
    figure.metadata["mystnb"] = {"image": {"alt": "A line at 0.77 nats"}}
    figure.outputs = [new_output("display_data", data={"text/plain": "<Figure>"})]
    return new_notebook(
        cells=[
            new_markdown_cell("```{exercise-start}\n:label: ex-toy\n```\nCompute it."),
            new_code_cell('answer = ...\ncheck("ex-toy", answer)'),
            new_markdown_cell("```{exercise-end}\n```"),
            body,
            figure,
        ]
    )


def test_the_release_refuses_a_handout_that_shows_an_answer(tmp_path: Path) -> None:
    source = tmp_path / "chapters" / "01_toy.ipynb"
    source.parent.mkdir()
    marks = {"ex-toy": marking.Numeric(0.7734)}
    nbformat.write(_toy_chapter("KL = 0.7734 nats"), source)
    with pytest.raises(rel.AnswerInHandout) as caught:
        rel.release([source], tmp_path / "student", root=tmp_path, marking=marks)
    assert "chapters/01_toy.ipynb: cell 4" in str(caught.value)
    assert "'0.7734' gives away the answer of ex-toy" in str(caught.value)
    assert not (tmp_path / "student").exists() and not (tmp_path / "student.zip").exists()
    nbformat.write(_toy_chapter("KL = 0.77 nats"), source)
    done = rel.release([source], tmp_path / "student", root=tmp_path, marking=marks)
    student = nbformat.read(done.notebooks[0], as_version=4)
    figure = student.cells[4]
    assert figure.outputs == [] and "mystnb" not in figure.metadata  # alt text left out too


# --- The real release -----------------------------------------------------------------


def _lines(nb: nbformat.NotebookNode) -> list[str]:
    """Every line of a notebook, read independently of the module: sources, text outputs,
    metadata strings."""
    found: list[str] = []

    def strings(value: Any) -> None:
        if isinstance(value, str):
            found.extend(value.splitlines())
        elif isinstance(value, dict):
            for key, item in value.items():
                if key not in ("tags", "image/png"):
                    strings(item)
        elif isinstance(value, list):
            for item in value:
                strings(item)

    for cell in nb.cells:
        strings(cell.source)
        strings(cell.get("outputs", []))
        strings(cell.metadata)
    return found


def test_no_marking_answer_shows_in_the_student_release(student_release: rel.Release) -> None:
    """The release itself refuses to be written otherwise; this reads what it wrote with
    plain string searches: each answer at three digits in its own chapter and four in
    all of them, in its usual formats."""
    notebooks = {
        p.relative_to(student_release.out).as_posix(): p for p in student_release.notebooks
    }
    lines = {name: _lines(nbformat.read(path, as_version=4)) for name, path in notebooks.items()}
    searched = 0
    for label in LONG:
        own = f"chapters/{OWN[label].name}"
        primary = answer_scan.unit_of(NUMERIC[label].units)
        for value, unit in _answers(label):
            if _short(value):
                continue
            mine = (unit or primary).rstrip("s")
            for digits, names in ((3, [own]), (4, list(lines))):
                for text in _formats(abs(value), digits)[:2]:
                    number = r"(?<![\w.])-?" + re.escape(text) + r"(?!\d)"
                    unit_after = re.compile(number + r"\s*(nat|bit)s?\b")
                    for name in names:
                        hits = [
                            line
                            for line in lines[name]
                            if re.search(number, line)
                            and not any(
                                mine and m.group(1) != mine for m in unit_after.finditer(line)
                            )
                        ]
                        assert not hits, f"{label} ({text} {unit or primary}) in {name}: {hits[:2]}"
                        searched += 1
    assert searched > 100
    assert (
        answer_scan.answer_leaks(
            {name: nbformat.read(path, as_version=4) for name, path in notebooks.items()}, MARKS
        )
        == []
    )


def test_the_source_chapters_would_be_refused(tmp_path: Path) -> None:
    """The search is not blind: the chapters with their worked solutions print most
    answers, and the scan finds them in their own chapter."""
    chapters = {p.relative_to(ROOT).as_posix(): read(p) for p in CHAPTERS}
    found = {leak.label for leak in answer_scan.answer_leaks(chapters, MARKS)}
    assert len(found) >= len(LONG) // 2, sorted(found)
