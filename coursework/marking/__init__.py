"""Marking checks: how the grader judges each exercise. Never shipped to students.

Every exercise has two checks:

- the **practice self-check** in ``klbook/checks/chNN.py`` (``NumericCheck``,
  ``ChoiceCheck``, ``FunctionCheck``), which students run in the notebook
  for instant feedback and which ships, sealed, in their klbook wheel; and
- the **marking check** here, in ``coursework/marking/chNN.py``, which only
  the grader sees. It judges the answer read out of the student's kernel
  (:mod:`coursework.probe`) in the grader's own process.

How to add a marking check for a new exercise
---------------------------------------------

1. Write the exercise and its practice self-check as the instructors' page
   says (label ``ex-chN-...``, self-check in ``klbook/checks/chNN.py``).
2. In ``coursework/marking/chNN.py`` (same chapter number; create it by
   copying another chapter's module if it does not exist), add an entry to
   the ``MARKING`` dict under the same label:

   - ``Numeric(expected, rtol=1e-3, atol=1e-9, units=BITS)`` for a number
     or an array. Compute ``expected`` here from the formula, with ``math``
     or NumPy, **not** with the klbook function the chapter teaches and not
     by importing the practice check (a second, independent derivation is
     what catches a wrong practice check). ``units`` lists other accepted
     units as ``{name: factor}``; ``BITS`` and ``NATS`` are ready-made.
   - ``Choice(("Q", "the model"))`` for a short text answer (compared
     without case and surrounding spaces).
   - ``Function(cases=[((arg, ...), expected), ...], forbid=("klbook",))``
     for "write a function" exercises. Choose marking inputs **different
     from the practice check's cases** (students can read those), include
     edge cases the exercise asks for (large ``n``, array arguments, extreme
     logits), and compute each expected output with a reference written
     here. Inputs may be numbers, text, tuples, lists and NumPy arrays.
     ``forbid`` names the packages the exercise says not to use ("without
     calling klbook": ``("klbook",)``; "NumPy only, not klbook or scipy":
     ``("klbook", "scipy")``): a function that is, wraps, names or calls
     anything of those packages is marked incorrect and the detail says so.
     ``rtol``/``atol`` default to 1e-6/1e-12.

   Every kind takes ``points=`` (default 1): what a correct answer earns in
   the gradebook (``incorrect``, ``not answered`` and ``error`` earn 0). A
   chapter's maximum is the sum of its exercises' points, so
   ``Function(..., points=3)`` makes a function exercise worth three
   single-number ones.

3. Run ``.venv/bin/python -m pytest tests/test_marking.py -q -p no:randomly``.
   It fails for an exercise of a chapter that lacks a practice or a marking
   check, checks that each marking check accepts what the practice check
   accepts (the expected value, and the worked solution's function on the
   marking inputs) and rejects the practice check's listed mistakes, and
   that a function exercise that forbids klbook rejects klbook's own
   function.

Example (a new exercise of chapter 2)::

    import math

    from coursework.marking import BITS, Numeric

    _P = [1 / 6] * 6
    _Q = [1 / 10] * 5 + [1 / 2]

    MARKING = {
        "ex-ch2-fair-die": Numeric(
            math.fsum(p * math.log(p / q) for p, q in zip(_P, _Q)), units=BITS
        ),
    }

What a marking check says (the ``status`` and ``detail`` of a grade):
``correct``; ``incorrect`` with the hint the practice check gives for that
answer (or, for a function, how many marking inputs it got wrong, or which
forbidden function it used); ``not answered`` while the answer is ``...``;
``error`` when the answer could not be read.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from coursework.probe import Answer, encode_argument
from coursework.results import Status

__all__ = [
    "BITS",
    "NATS",
    "Choice",
    "Function",
    "Marking",
    "Numeric",
    "Verdict",
    "load",
]

#: A marking check's verdict: a status and the detail the grades show.
Verdict = tuple[Status, str]

#: Accept an answer in nats as bits too (the factor turns nats into bits).
BITS: Mapping[str, float] = {"bits": 1 / math.log(2)}
#: Accept an answer in bits as nats too.
NATS: Mapping[str, float] = {"nats": math.log(2)}


class Marking(Protocol):
    """Anything that can mark an answer read from a run."""

    #: What a correct answer earns in the gradebook (every other status earns 0).
    points: float

    def spec(self) -> dict[str, Any]:
        """Return what the kernel side must do to read the answer (JSON-able)."""
        ...

    def judge(self, answer: Answer, practice: Any = None) -> Verdict:
        """Mark ``answer``; ``practice`` is the exercise's practice self-check, for hints."""
        ...


def _valid_points(points: float) -> None:
    """Raise ValueError unless ``points`` is a positive finite number."""
    if isinstance(points, bool) or not isinstance(points, int | float):
        raise ValueError(f"points must be a number, got {points!r}")
    if not (math.isfinite(points) and points > 0):
        raise ValueError(f"points must be positive and finite, got {points!r}")


def _unread(answer: Answer) -> Verdict | None:
    """Return the verdict for an answer that is missing or unreadable, else None."""
    if answer.kind == "unanswered":
        return "not answered", "Not answered yet: the answer is still ..."
    if answer.kind == "error":
        return "error", f"reading the answer raised {answer.text}"
    return None


def _practice_hint(practice: Any, answer: Answer, fallback: str) -> str:
    """Return what the practice self-check tells a student about this (wrong) answer."""
    judge = getattr(practice, "judge", None)
    if judge is not None:
        try:
            status, message = judge(answer.practice_value())
        except Exception:  # a hint is a courtesy, never a verdict
            status, message = "correct", ""
        if status == "incorrect" and message:
            return str(message)
    return fallback


def _close(value: np.ndarray, target: Any, rtol: float, atol: float) -> bool:
    target_arr = np.asarray(target, dtype=np.float64)
    if value.shape != target_arr.shape:
        return False
    return bool(np.all(np.isclose(value, target_arr, rtol=rtol, atol=atol)))


def _as_numbers(answer: Answer) -> np.ndarray | None:
    if answer.kind == "array":
        return answer.array
    if answer.kind == "text":  # "0.5" is a number, as it is for the practice check
        try:
            return np.asarray(answer.text, dtype=np.float64)
        except (TypeError, ValueError):
            return None
    return None


@dataclass(frozen=True)
class Numeric:
    """A number or an array within a tolerance of ``expected`` (or of it in other units).

    Examples
    --------
    >>> mark = Numeric(math.log(2), units=BITS)
    >>> mark.judge(Answer("array", array=np.array(0.6931)))
    ('correct', 'Correct.')
    >>> mark.judge(Answer("array", array=np.array(1.0)))
    ('correct', 'Correct (in bits).')
    >>> mark.judge(Answer("array", array=np.array(0.5)))[0]
    'incorrect'
    >>> mark.judge(Answer("unanswered"))[0]
    'not answered'
    """

    expected: Any
    rtol: float = 1e-3
    atol: float = 1e-9
    units: Mapping[str, float] = field(default_factory=dict)
    points: float = 1.0

    def __post_init__(self) -> None:
        _valid_points(self.points)

    def spec(self) -> dict[str, Any]:
        """Read the value itself."""
        return {"mode": "value"}

    def judge(self, answer: Answer, practice: Any = None) -> Verdict:
        """Mark a number or array answer."""
        unread = _unread(answer)
        if unread is not None:
            return unread
        value = _as_numbers(answer)
        shape = np.shape(self.expected)
        what = "a single number" if shape == () else f"an array of shape {shape}"
        if value is None:
            hint = _practice_hint(practice, answer, f"Not quite: expected {what}.")
            return "incorrect", hint
        if value.shape == shape and not np.isnan(value).any():
            if _close(value, self.expected, self.rtol, self.atol):
                return "correct", "Correct."
            for unit, factor in self.units.items():
                scaled = np.asarray(self.expected, dtype=np.float64) * factor
                if _close(value, scaled, self.rtol, self.atol):
                    return "correct", f"Correct (in {unit})."
        fallback = f"Not quite: expected {what}" + (
            "." if value.shape != shape else ", and this one is not within the tolerance."
        )
        return "incorrect", _practice_hint(practice, answer, fallback)


@dataclass(frozen=True)
class Choice:
    """A short text answer, one of ``accepted`` (case and surrounding spaces ignored).

    Examples
    --------
    >>> Choice(("Q", "the model")).judge(Answer("text", text=" q "))
    ('correct', 'Correct.')
    """

    accepted: Sequence[str]
    points: float = 1.0

    def __post_init__(self) -> None:
        _valid_points(self.points)

    def spec(self) -> dict[str, Any]:
        """Read the value itself."""
        return {"mode": "value"}

    def judge(self, answer: Answer, practice: Any = None) -> Verdict:
        """Mark a text answer."""
        unread = _unread(answer)
        if unread is not None:
            return unread
        if answer.kind == "text" and answer.text.strip().lower() in {
            a.strip().lower() for a in self.accepted
        }:
            return "correct", "Correct."
        if answer.kind == "array" and answer.array is not None and answer.array.ndim == 0:
            as_text = f"{float(answer.array):g}"
            if as_text in {a.strip().lower() for a in self.accepted}:
                return "correct", "Correct."
        return "incorrect", _practice_hint(practice, answer, "Not quite.")


def _show_args(args: tuple[Any, ...]) -> str:
    shown = []
    for arg in args:
        text = (
            np.array2string(arg, separator=", ", threshold=6)
            if isinstance(arg, np.ndarray)
            else repr(arg)
        )
        shown.append(text)
    return ", ".join(shown)


@dataclass(frozen=True)
class Function:
    """A function answer, called by the kernel side on the marking inputs.

    Parameters
    ----------
    cases : sequence of (args, expected)
        Marking inputs (a tuple of arguments) and the reference output for
        each, computed independently of klbook.
    rtol, atol : float
        Tolerances of :func:`numpy.isclose`.
    forbid : sequence of str
        Top-level packages the function must not be, wrap, name or call.

    Examples
    --------
    >>> mark = Function(cases=[((2.0,), 4.0), ((3.0,), 9.0)])
    >>> right = Answer("function", results=(
    ...     Answer("array", array=np.array(4.0)), Answer("array", array=np.array(9.0))))
    >>> mark.judge(right)
    ('correct', 'Correct.')
    >>> mark.judge(Answer("function", results=right.results, uses=("klbook.sq",)))[1]
    'Not accepted: the function uses klbook.sq, which the exercise forbids.'
    """

    cases: Sequence[tuple[tuple[Any, ...], Any]]
    rtol: float = 1e-6
    atol: float = 1e-12
    forbid: Sequence[str] = ()
    points: float = 1.0

    def __post_init__(self) -> None:
        _valid_points(self.points)

    def spec(self) -> dict[str, Any]:
        """Call the function on the marking inputs, watching for forbidden packages."""
        return {
            "mode": "function",
            "cases": [[encode_argument(a) for a in args] for args, _ in self.cases],
            "forbid": list(self.forbid),
        }

    def judge(self, answer: Answer, practice: Any = None) -> Verdict:
        """Mark a function answer from its outputs on the marking inputs."""
        unread = _unread(answer)
        if unread is not None:
            return unread
        hint = str(getattr(practice, "hint", "") or "")
        if answer.kind != "function":
            return "incorrect", f"Not quite: expected a function, got {answer.describe()}."
        if answer.tampered:
            return "incorrect", f"Not accepted: {answer.tampered}."
        if answer.uses:
            used = ", ".join(answer.uses[:3])
            return "incorrect", (
                f"Not accepted: the function uses {used}, which the exercise forbids."
            )
        if len(answer.results) != len(self.cases):
            return "error", "the grader could not read the function's outputs"
        wrong: list[str] = []
        for (args, expected), got in zip(self.cases, answer.results, strict=True):
            if got.kind == "error":
                wrong.append(f"({_show_args(args)}) raised {got.text.split(':')[0]}")
            elif got.kind != "array" or got.array is None:
                wrong.append(f"({_show_args(args)}) returned {got.describe()}")
            elif not _close(got.array, expected, self.rtol, self.atol):
                wrong.append(f"({_show_args(args)}) is wrong")
        if not wrong:
            return "correct", "Correct."
        message = f"Not quite: wrong on {len(wrong)} of {len(self.cases)} marking inputs"
        message += f" (first: {wrong[0]})."
        return "incorrect", message + (f" {hint}" if hint else "")


def load() -> dict[str, Marking]:
    """Every marking check, by label, from the ``MARKING`` dicts of this package's modules.

    Raises
    ------
    ValueError
        If two modules mark the same label.
    """
    found: dict[str, Marking] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for label, mark in getattr(module, "MARKING", {}).items():
            if label in found:
                raise ValueError(f"two marking modules mark {label!r}")
            found[label] = mark
    return found
