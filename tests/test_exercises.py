"""klbook.exercises: the self-check engine and the registered checks of every chapter."""

from __future__ import annotations

import math
from pathlib import Path

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


# --- Sealed checks: what the student wheel holds ----------------------------------------


def _probe_values(spec) -> list:
    """Answers on both sides of every edge a check has, and answers of the wrong kind:
    each accepted value and each mistake, then just inside and just outside its
    tolerance, and far from it."""
    if isinstance(spec, FunctionCheck):
        outputs = [want for _, want in spec.cases]
        calls = {"n": 0}

        def right(*args):
            calls["n"] += 1
            return outputs[(calls["n"] - 1) % len(outputs)]

        def off(*args):
            calls["n"] += 1
            want = np.asarray(outputs[(calls["n"] - 1) % len(outputs)], dtype=float)
            return want + 3 * (spec.atol + spec.rtol * np.abs(want)) + 1e-3

        return [right, off, lambda *args: 1 / 0, lambda *args: "text", 3.0]
    if isinstance(spec, ChoiceCheck):
        return [
            *spec.accepted,
            *(a.upper() + "  " for a in spec.accepted),
            *spec.mistakes,
            "no such choice",
            4,
        ]
    expected = np.asarray(spec.expected, dtype=np.float64)
    targets = [expected, *(expected * f for f in spec.units.values())]
    targets += [np.asarray(w, dtype=np.float64) for w, _ in spec.mistakes]
    values: list = ["text", math.nan, [1.0, 2.0], None]
    for target in targets:
        if not np.all(np.isfinite(target)):
            values.append(float(target) if target.ndim == 0 else target.tolist())
            continue
        width = spec.atol + spec.rtol * np.abs(target)
        for shift in (0.0, 0.5, -0.5, 0.999, -0.999, 1.001, -1.001, 2.5, -3.0, 40.0):
            value = target + shift * width
            values.append(float(value) if value.ndim == 0 else value.tolist())
    return values


def test_sealed_checks_judge_as_the_plain_ones_do():
    """Every registered check, sealed (as the student wheel holds it), gives the same
    status and message as the plain check the authors wrote, answer for answer."""
    compared = 0
    for label in labels():
        plain = exercises.registered(label)
        sealed = exercises.unseal({label: exercises.seal(label, plain)})[label]
        assert type(sealed).__name__ == "Sealed" + type(plain).__name__
        assert sealed.hint == plain.hint
        for value in _probe_values(plain):
            assert sealed.judge(value) == plain.judge(value), (label, value)
            compared += 1
    assert compared > 200


def test_a_sealed_check_keeps_no_value_in_plain_sight():
    plain = NumericCheck(0.123456789, hint="h", units=BITS, mistakes=[(0.987654321, "m")])
    data = repr(exercises.seal("demo-sealed", plain))
    for hidden in ("0.1234", "0.9876", "0.1781"):  # the value, a mistake, the value in bits
        assert hidden not in data
    assert "'hint': 'h'" in data and "'Not quite: m'" in data  # hints stay readable


def test_the_wheels_checks_give_the_verdicts_of_the_editable_ones(tmp_path):
    """The klbook wheel (python -m coursework release) installed in a folder of its own,
    asked in a fresh interpreter: same verdicts as the repository's plain checks."""
    import json
    import subprocess
    import sys
    import zipfile

    root = Path(__file__).resolve().parent.parent
    if not (root / "coursework").is_dir():
        pytest.skip("the instructors' package is not in this copy (make mutate's scratch copy)")
    from coursework.wheel import build_student_wheel

    wheel = build_student_wheel(root, tmp_path / "dist")
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(tmp_path / "site")
    cases = []
    for label in (x for x in labels() if x.startswith("ex-")):  # not the tests' own labels
        plain = exercises.registered(label)
        if isinstance(plain, NumericCheck):
            for value in _probe_values(plain):
                if value is None or isinstance(value, float | str | list):
                    cases.append((label, value, list(plain.judge(value))))
    code = (
        "import json, sys\n"
        "import klbook.exercises as ex\n"
        "assert ex.__file__.startswith(sys.argv[1]), ex.__file__\n"
        "cases = json.load(sys.stdin)\n"
        "print(json.dumps([list(ex.registered(l).judge(v)) for l, v, _ in cases]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "site")],
        input=json.dumps(cases, allow_nan=True),
        env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout) == [want for _, _, want in cases]
    assert len(cases) > 100
