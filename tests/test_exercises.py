"""klbook.exercises: the self-check engine and the registered checks of every chapter."""

from __future__ import annotations

import math

import numpy as np
import pytest

from klbook import exercises
from klbook.exercises import (
    BITS,
    ChoiceCheck,
    Feedback,
    FunctionCheck,
    NumericCheck,
    check,
    labels,
    register,
    reset_results,
    results,
)


@pytest.fixture(autouse=True)
def _clean_results():
    reset_results()
    yield
    reset_results()


def test_numeric_check_accepts_within_tolerance_and_other_units():
    c = NumericCheck(math.log(2), hint="h", units=BITS)
    assert c.judge(math.log(2) * (1 + 1e-4))[0] == "correct"
    assert c.judge(1.0) == ("correct", "Correct (in bits).")
    assert c.judge(0.5)[0] == "incorrect"


def test_numeric_check_names_known_mistakes_with_their_hint():
    c = NumericCheck(0.51, hint="generic", mistakes=[(0.37, "swap the arguments")])
    assert c.judge(0.37) == ("incorrect", "Not quite: swap the arguments")
    assert c.judge(0.1) == ("incorrect", "Not quite: generic")


def test_numeric_check_rejects_wrong_types_and_shapes_without_raising():
    c = NumericCheck(0.5, hint="h")
    assert c.judge("half")[0] == "incorrect"
    assert "a single number" in c.judge([0.5, 0.5])[1]
    assert "NaN" in c.judge(math.nan)[1]
    arr = NumericCheck([0.1, 0.9], hint="h")
    assert arr.judge(np.array([0.1, 0.9]))[0] == "correct"
    assert "shape (2,)" in arr.judge(0.1)[1]


def test_hints_do_not_give_the_answer_away():
    c = NumericCheck(0.123456, hint="Think about the support.")
    status, message = c.judge(0.9)
    assert status == "incorrect" and "0.123" not in message


def test_choice_check_is_case_and_space_insensitive():
    c = ChoiceCheck(("Q", "the model"), hint="h", mistakes={"P": "P is the truth"})
    assert c.judge("  q ")[0] == "correct"
    assert c.judge("The Model")[0] == "correct"
    assert c.judge("p") == ("incorrect", "Not quite: P is the truth")


def test_function_check_calls_the_function():
    c = FunctionCheck([((2,), 4), ((3,), 9)], hint="square it")
    assert c.judge(lambda x: x * x)[0] == "correct"
    assert c.judge(lambda x: 2 * x) == ("incorrect", "Not quite: square it")
    assert "raised ZeroDivisionError" in c.judge(lambda x: 1 / 0)[1]
    assert "expected a function" in c.judge(4)[1]


def test_check_records_results_and_reports_unanswered():
    register("test-only-half", NumericCheck(0.5, hint="h"))
    fb = check("test-only-half", ...)
    assert isinstance(fb, Feedback) and fb.status == "not answered" and not fb.correct
    assert repr(fb).startswith("Not answered yet")
    assert results() == {"test-only-half": "not answered"}
    assert check("test-only-half", None).status == "not answered"
    assert check("test-only-half", 0.4).status == "incorrect"
    assert check("test-only-half", 0.5).correct
    assert results()["test-only-half"] == "correct"


def test_unknown_label_is_a_clear_error():
    with pytest.raises(ValueError, match="no exercise is labelled 'no-such-exercise'"):
        check("no-such-exercise", 1.0)


def test_registering_a_label_twice_is_an_error():
    register("test-only-twice", NumericCheck(1.0, hint="h"))
    with pytest.raises(ValueError, match="registered twice"):
        register("test-only-twice", NumericCheck(2.0, hint="h"))


def test_every_chapter_registers_its_checks():
    found = labels()
    chapter_labels = [x for x in found if x.startswith("ex-")]
    assert chapter_labels, "no chapter registered a self-check"
    for label in chapter_labels:
        spec = exercises._REGISTRY[label]
        assert spec.hint.strip(), f"{label}: an empty hint helps nobody"
        assert spec.judge(object())[0] == "incorrect"


def test_registered_mistakes_are_not_accepted_as_correct():
    for label in labels():
        spec = exercises._REGISTRY[label]
        for wrong, hint in getattr(spec, "mistakes", ()) if isinstance(spec, NumericCheck) else ():
            status, message = spec.judge(wrong)
            assert status == "incorrect", f"{label}: the mistake {wrong!r} is accepted"
            assert hint in message
