"""Self-checks for the book's exercises.

A student writes an answer and asks whether it is right::

    answer = ...            # replace ... with your answer
    check("ex-llr-sign", answer)

:func:`check` answers *correct*, *incorrect* with a hint that does not give
the answer away, or *not answered yet* while the stub is untouched. Each
chapter registers its checks in a module of :mod:`klbook.checks`; the labels
are the ``:label:`` of the exercise in the chapter.

Every call is also recorded (:func:`results`), which is how a grading run
learns what a submitted notebook achieved.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

__all__ = [
    "BITS",
    "ChoiceCheck",
    "Feedback",
    "FunctionCheck",
    "NumericCheck",
    "check",
    "labels",
    "register",
    "reset_results",
    "results",
]

Status = Literal["correct", "incorrect", "not answered"]


@dataclass(frozen=True)
class Feedback:
    """What :func:`check` says about one answer; shows as a one-line message."""

    label: str
    status: Status
    message: str

    @property
    def correct(self) -> bool:
        """Whether the answer was accepted."""
        return self.status == "correct"

    def __repr__(self) -> str:
        return self.message

    __str__ = __repr__


class Check(Protocol):
    """Anything that can judge an answer: returns (status, message)."""

    def judge(self, answer: Any) -> tuple[Status, str]:
        """Judge ``answer``."""
        ...


def _as_float_array(answer: Any) -> np.ndarray | None:
    try:
        arr = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return arr


@dataclass(frozen=True)
class NumericCheck:
    """Accept a number (or array) close to ``expected``.

    Parameters
    ----------
    expected : float or array_like
        The right answer, in the exercise's main unit.
    hint : str
        Said for a wrong answer that matches no known mistake. Must not give
        the answer away.
    rtol, atol : float
        Tolerances, as in :func:`numpy.isclose`.
    units : mapping of str to float, optional
        Other accepted units and the factor that converts the main unit into
        them, e.g. ``{"bits": 1 / math.log(2)}`` when the answer is in nats.
    mistakes : sequence of (value, hint), optional
        Typical wrong answers with a hint aimed at each.

    Examples
    --------
    >>> import math
    >>> c = NumericCheck(math.log(2), hint="Use natural logs.",
    ...                  units={"bits": 1 / math.log(2)})
    >>> c.judge(0.6931)[0], c.judge(1.0)[0], c.judge(0.5)[0]
    ('correct', 'correct', 'incorrect')
    """

    expected: Any
    hint: str
    rtol: float = 1e-3
    atol: float = 1e-9
    units: Mapping[str, float] = field(default_factory=dict)
    mistakes: Sequence[tuple[Any, str]] = ()

    def _close(self, value: np.ndarray, target: Any) -> bool:
        target_arr = np.asarray(target, dtype=np.float64)
        if value.shape != target_arr.shape:
            return False
        return bool(np.all(np.isclose(value, target_arr, rtol=self.rtol, atol=self.atol)))

    def judge(self, answer: Any) -> tuple[Status, str]:
        """Judge ``answer`` against the expected value, units and mistakes."""
        value = _as_float_array(answer)
        expected_shape = np.shape(self.expected)
        if value is None:
            return "incorrect", (
                f"Not quite: expected a number, got {type(answer).__name__}. " + self.hint
            )
        if value.shape != expected_shape:
            what = (
                "a single number"
                if expected_shape == ()
                else (f"an array of shape {expected_shape}")
            )
            return "incorrect", f"Not quite: expected {what}. {self.hint}"
        if np.isnan(value).any():
            return "incorrect", "Not quite: your answer contains NaN. " + self.hint
        if self._close(value, self.expected):
            return "correct", "Correct."
        for unit, factor in self.units.items():
            if self._close(value, np.asarray(self.expected, dtype=np.float64) * factor):
                return "correct", f"Correct (in {unit})."
        for wrong, hint in self.mistakes:
            if self._close(value, wrong):
                return "incorrect", f"Not quite: {hint}"
        return "incorrect", f"Not quite: {self.hint}"


@dataclass(frozen=True)
class ChoiceCheck:
    """Accept one of a few spellings of a short text answer (case-insensitive).

    Examples
    --------
    >>> c = ChoiceCheck(("Q", "model"), hint="Which distribution has the zero?")
    >>> c.judge("q")[0], c.judge("P")[0]
    ('correct', 'incorrect')
    """

    accepted: Sequence[str]
    hint: str
    mistakes: Mapping[str, str] = field(default_factory=dict)

    def judge(self, answer: Any) -> tuple[Status, str]:
        """Judge ``answer`` against the accepted spellings."""
        text = str(answer).strip().lower()
        if text in {a.lower() for a in self.accepted}:
            return "correct", "Correct."
        for wrong, hint in self.mistakes.items():
            if text == wrong.lower():
                return "incorrect", f"Not quite: {hint}"
        return "incorrect", f"Not quite: {self.hint}"


@dataclass(frozen=True)
class FunctionCheck:
    """Judge an answer that is a function, by calling it on test inputs.

    ``cases`` pairs argument tuples with the expected return value.
    """

    cases: Sequence[tuple[tuple[Any, ...], Any]]
    hint: str
    rtol: float = 1e-6
    atol: float = 1e-12

    def judge(self, answer: Any) -> tuple[Status, str]:
        """Call ``answer`` on each case and compare."""
        if not callable(answer):
            return "incorrect", "Not quite: expected a function. " + self.hint
        for args, want in self.cases:
            try:
                got = answer(*args)
            except Exception as exc:  # a student's function may raise anything
                return "incorrect", (
                    f"Not quite: your function raised {type(exc).__name__}. " + self.hint
                )
            got_arr = _as_float_array(got)
            if (
                got_arr is None
                or got_arr.shape != np.shape(want)
                or not np.all(np.isclose(got_arr, want, rtol=self.rtol, atol=self.atol))
            ):
                return "incorrect", f"Not quite: {self.hint}"
        return "correct", "Correct."


_REGISTRY: dict[str, Check] = {}
_RESULTS: dict[str, Status] = {}
_LOADED = False


def register(label: str, spec: Check) -> None:
    """Register the check for the exercise labelled ``label``."""
    if label in _REGISTRY and _REGISTRY[label] is not spec:
        raise ValueError(f"an exercise labelled {label!r} is registered twice")
    _REGISTRY[label] = spec


def _load_all() -> None:
    global _LOADED
    if _LOADED:
        return
    import klbook.checks as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{pkg.__name__}.{info.name}")
        for label, spec in getattr(module, "CHECKS", {}).items():
            register(label, spec)
    _LOADED = True


def labels() -> list[str]:
    """Labels of every exercise that has a self-check, sorted.

    Examples
    --------
    >>> isinstance(labels(), list)
    True
    """
    _load_all()
    return sorted(_REGISTRY)


def _unanswered(answer: Any) -> bool:
    return answer is Ellipsis or answer is None


def check(label: str, answer: Any) -> Feedback:
    """Check ``answer`` for the exercise labelled ``label``.

    Parameters
    ----------
    label : str
        The exercise's label, as printed in the exercise stub.
    answer : object
        Your answer. Leave it as ``...`` until you have one.

    Returns
    -------
    Feedback
        Shows as "Correct.", "Not quite: <hint>" or "Not answered yet …".

    Raises
    ------
    ValueError
        If no exercise has that label.

    Examples
    --------
    >>> from klbook.exercises import NumericCheck, register, check
    >>> register("demo-half", NumericCheck(0.5, hint="Count the outcomes."))
    >>> check("demo-half", ...)
    Not answered yet: replace ... with your answer and run the cell again.
    >>> check("demo-half", 0.4)
    Not quite: Count the outcomes.
    >>> check("demo-half", 1 / 2)
    Correct.
    """
    _load_all()
    if label not in _REGISTRY:
        raise ValueError(
            f"no exercise is labelled {label!r}; labels look like "
            f"{', '.join(repr(x) for x in sorted(_REGISTRY)[:3])}"
        )
    if _unanswered(answer):
        status: Status = "not answered"
        message = "Not answered yet: replace ... with your answer and run the cell again."
    else:
        status, message = _REGISTRY[label].judge(answer)
    _RESULTS[label] = status
    return Feedback(label, status, message)


def results() -> dict[str, Status]:
    """Return the last status of every exercise checked in this session, by label."""
    return dict(_RESULTS)


def reset_results() -> None:
    """Forget every recorded result (the registry stays)."""
    _RESULTS.clear()


# A convenience for check modules: nats-to-bits as an accepted alternative.
BITS: Mapping[str, float] = {"bits": 1 / math.log(2)}
NATS_FROM_BITS: Mapping[str, float] = {"nats": math.log(2)}
