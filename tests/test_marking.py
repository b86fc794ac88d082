"""The marking checks (coursework/marking), judged in the grader's process, without a kernel.

The kernel side of the grader (coursework/probe_kernel.py) is plain Python: here
it runs in this process, so that the same code path that reads an answer out of
a student's kernel is tested against every exercise in a fraction of a second.
"""

from __future__ import annotations

import inspect
import json
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import klbook
from klbook import exercises

from .coursework_helpers import (
    CHAPTER_IDS,
    CHAPTERS,
    labels,
    marking,
    probe,
    read,
    solution_function,
)

MARKS = marking.load()
ALL = [(chapter, label) for chapter in CHAPTERS for label in labels(read(chapter))]
IDS = [label for _, label in ALL]
FUNCTIONS = [(c, label) for c, label in ALL if isinstance(MARKS.get(label), marking.Function)]


def _kernel_side() -> types.ModuleType:
    module = types.ModuleType(probe.MODULE_NAME)
    exec(
        compile(Path(probe.__file__).with_name("probe_kernel.py").read_text(), "k", "exec"),
        module.__dict__,
    )
    return module


KERNEL = _kernel_side()


def _read(value: Any, mark: Any) -> probe.Answer:
    """Read ``value`` as the grader reads an answer out of a kernel, JSON round trip included."""
    report = KERNEL.report(lambda: value, json.dumps(mark.spec()))
    return probe.decode(repr(report))


def _solution(chapter: Path, label: str) -> Callable[..., Any]:
    source, name = solution_function(read(chapter), label)
    space: dict[str, Any] = {"np": np, "math": __import__("math")}
    exec(source, space)
    return space[name]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_every_exercise_has_a_practice_and_a_marking_check(chapter: Path) -> None:
    practice = set(exercises.labels())
    for label in labels(read(chapter)):
        assert label in practice, f"{label}: no practice self-check in klbook/checks"
        assert label in MARKS, f"{label}: no marking check in coursework/marking"


def test_marking_checks_are_for_exercises_that_exist() -> None:
    assert set(MARKS) <= set(IDS), set(MARKS) - set(IDS)


@pytest.mark.parametrize(("chapter", "label"), ALL, ids=IDS)
def test_marking_agrees_with_the_practice_check(chapter: Path, label: str) -> None:
    """What the practice check accepts the marking check accepts; its mistakes it rejects."""
    mark, practice = MARKS[label], exercises.registered(label)
    if isinstance(mark, marking.Numeric):
        assert practice.judge(mark.expected)[0] == "correct", "the two references differ"
        assert mark.judge(_read(practice.expected, mark))[0] == "correct"
        for wrong, hint in practice.mistakes:
            status, detail = mark.judge(_read(wrong, mark), practice)
            assert status == "incorrect", f"the mistake {wrong!r} is accepted"
            assert detail == f"Not quite: {hint}"
        wrong = np.asarray(mark.expected, dtype=np.float64) * 3 + 17.25
        assert mark.judge(_read(wrong, mark))[0] == "incorrect"
        for unit, factor in mark.units.items():
            scaled = np.asarray(mark.expected, dtype=np.float64) * factor
            assert mark.judge(_read(scaled, mark)) == ("correct", f"Correct (in {unit}).")
    elif isinstance(mark, marking.Function):
        right = _solution(chapter, label)
        assert practice.judge(right)[0] == "correct", "the worked solution fails its self-check"
        assert mark.judge(_read(right, mark)) == ("correct", "Correct.")
        assert mark.judge(_read(lambda *args: 0.0, mark))[0] == "incorrect"
        assert mark.judge(_read(3.0, mark))[0] == "incorrect"
    else:
        assert isinstance(mark, marking.Choice)
        assert practice.judge(mark.accepted[0])[0] == "correct"
        for wrong in getattr(practice, "mistakes", {}):
            assert mark.judge(_read(wrong, mark))[0] == "incorrect"
    assert mark.judge(_read(..., mark))[0] == "not answered"


@pytest.mark.parametrize(("chapter", "label"), FUNCTIONS, ids=[lb for _, lb in FUNCTIONS])
def test_function_marking_inputs_differ_from_the_practice_cases(chapter: Path, label: str) -> None:
    shown = {
        json.dumps(probe.encode_argument(tuple(args)))
        for args, _ in exercises.registered(label).cases
    }
    marked = [json.dumps(probe.encode_argument(tuple(args))) for args, _ in MARKS[label].cases]
    assert len(marked) >= 4
    assert not shown & set(marked), "a marking input is one the students can read"


def _klbook_functions() -> list[Callable[..., Any]]:
    found = []
    for name in klbook.__all__:
        obj = getattr(klbook, name)
        if inspect.isfunction(obj):
            found.append(obj)
    return found


def test_returning_klbooks_function_is_marked_as_such() -> None:
    """Where an exercise forbids klbook, the klbook function that computes the answer (the one
    the student is asked to write) is marked "Not accepted", and so is a function of the
    student's that calls klbook on the way, even by a name built at run time."""
    caught = 0
    for chapter, label in FUNCTIONS:
        mark = MARKS[label]
        if "klbook" not in mark.forbid:
            continue
        for candidate in _klbook_functions():
            try:
                outputs = [candidate(*args) for args, _ in mark.cases]
                if not all(
                    np.allclose(np.asarray(got, dtype=float), want, rtol=mark.rtol, atol=mark.atol)
                    for got, (_, want) in zip(outputs, mark.cases, strict=True)
                ):
                    continue
            except Exception:  # most klbook functions do not fit the exercise
                continue
            status, detail = mark.judge(_read(candidate, mark))
            assert (status, detail.split(":")[0]) == ("incorrect", "Not accepted"), candidate
            assert candidate.__name__ in detail
            caught += 1
        right = _solution(chapter, label)

        def sneaky(*args: Any, _right: Callable[..., Any] = right) -> Any:
            getattr(sys.modules["klbook"], "kl_" + "divergence")([0.5, 0.5], [0.5, 0.5])
            return _right(*args)

        status, detail = mark.judge(_read(sneaky, mark))
        assert status == "incorrect" and "klbook" in detail, detail
    assert caught >= 1, "no klbook function answers any function exercise: the test is vacuous"


def test_a_function_that_switches_off_the_watch_is_not_accepted() -> None:
    chapter, label = next((c, lb) for c, lb in FUNCTIONS if "klbook" in MARKS[lb].forbid)
    right = _solution(chapter, label)

    def blind(*args: Any) -> Any:
        sys.setprofile(None)
        return right(*args)

    status, detail = MARKS[label].judge(_read(blind, MARKS[label]))
    assert status == "incorrect" and "profile hook" in detail


def test_an_answer_the_kernel_side_cannot_read_is_an_error_not_a_mark() -> None:
    mark = marking.Numeric(0.5)
    assert mark.judge(probe.decode('{"kind": "array", "shape": [2], "data": [1]}'))[0] == "error"
    assert mark.judge(probe.decode("[]"))[0] == "error"
    assert mark.judge(probe.decode("x" * 5_000_000))[0] == "error"

    def broken() -> Any:
        raise NameError("name 'answer' is not defined")

    read = probe.decode(repr(KERNEL.report(broken, json.dumps(mark.spec()))))
    assert mark.judge(read) == (
        "error",
        "reading the answer raised NameError: name 'answer' is not defined",
    )
