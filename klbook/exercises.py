"""Self-checks for the book's exercises.

A student writes an answer and asks whether it is right::

    answer = ...            # replace ... with your answer
    check("ex-llr-sign", answer)

:func:`check` answers *correct*, *incorrect* with a hint that does not give
the answer away, or *not answered yet* while the stub is untouched. Each
chapter registers its checks in a module of :mod:`klbook.checks`; the labels
are the ``:label:`` of the exercise in the chapter.

Every call is also recorded (:func:`results`), for the student's own use:
grading does not read it (the instructors' grader reads each answer out of
the run and marks it with checks that students never see).

In the book's repository the checks are written in plain sight, as authors
write them. The klbook wheel that students install holds them *sealed*
(:func:`seal`, :func:`unseal`): the same hints and the same verdicts, but
each expected value and each listed mistake is kept only as a salted hash of
its whole position on a scale whose unit is its tolerance, with the fraction
beside it, so the numbers are not there to read. A sealed check finds the
position from the answer, and only then rebuilds the value to compare it
exactly as the plain check does.
"""

from __future__ import annotations

import hashlib
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
    "SealedChoiceCheck",
    "SealedFunctionCheck",
    "SealedNumericCheck",
    "check",
    "labels",
    "register",
    "registered",
    "reset_results",
    "results",
    "seal",
    "unseal",
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


def registered(label: str) -> Check:
    """Return the check registered for ``label`` (plain or sealed).

    Raises
    ------
    KeyError
        If no exercise has that label.
    """
    _load_all()
    return _REGISTRY[label]


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


# ---------------------------------------------------------------------------
# Sealed checks: what the student wheel holds instead of the plain checks
# ---------------------------------------------------------------------------


def _grid(x: float, rtol: float, atol: float) -> tuple[str, float] | str:
    """Place ``x`` on a scale whose unit is about one tolerance (``atol + rtol * |x|``).

    Returns a fixed key for values off the scale (NaN, infinities, and zero when
    only a relative tolerance is given), else a sign prefix and the position.
    """
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "+inf" if x > 0 else "-inf"
    if rtol > 0 and atol > 0:
        # u(x) = sign(x) log(1 + |x| rtol / atol) / log(1 + rtol): linear near zero
        # (unit atol), logarithmic far from it (unit about rtol |x|).
        z = abs(x) * (rtol / atol)
        u = math.log1p(z) if math.isfinite(z) else math.log(abs(x)) + math.log(rtol / atol)
        return "", math.copysign(u / math.log1p(rtol), x)
    if rtol > 0:
        if x == 0:
            return "0"
        return ("+" if x > 0 else "-"), math.log(abs(x)) / math.log1p(rtol)
    if atol > 0:
        return "", x / atol
    return repr(float(x))


def _ungrid(sign: str, u: float, rtol: float, atol: float) -> float:
    """Invert :func:`_grid`: the number at position ``u`` (with its sign prefix)."""
    if rtol > 0 and atol > 0:
        v = abs(u) * math.log1p(rtol)
        magnitude = (
            math.expm1(v) * (atol / rtol) if v < 700 else math.exp(v - math.log(rtol / atol))
        )
        return math.copysign(magnitude, u)
    if rtol > 0:
        return (-1.0 if sign == "-" else 1.0) * math.exp(u * math.log1p(rtol))
    return u * atol


def _digest(salt: str, slot: str, key: str) -> str:
    return hashlib.sha256(f"{salt}|{slot}|{key}".encode()).hexdigest()[:20]


def _seal_numbers(value: Any, salt: str, slot: str, rtol: float, atol: float) -> dict[str, Any]:
    """Seal each element: the hash of its whole position on the scale, and the fraction.

    The fraction alone (a number in [0, 1)) says nothing of the value; with it, a
    check can rebuild the value from a candidate position whose hash matches, and
    compare exactly as the plain check does.
    """
    array = np.asarray(value, dtype=np.float64)
    sealed = []
    for i, x in enumerate(array.ravel()):
        placed = _grid(float(x), rtol, atol)
        if isinstance(placed, str):
            sealed.append([_digest(salt, f"{slot}.{i}", placed), None])
        else:
            sign, u = placed
            whole = math.floor(u)
            sealed.append([_digest(salt, f"{slot}.{i}", f"{sign}{whole}"), u - whole])
    return {"shape": list(array.shape), "elements": sealed}


def _element_matches(
    x: float, sealed: Sequence[Any], salt: str, slot: str, rtol: float, atol: float
) -> bool:
    """Whether ``x`` is within tolerance of one sealed number."""
    digest, fraction = sealed
    placed = _grid(x, rtol, atol)
    if fraction is None:  # a value off the scale (infinite, or zero with rtol only)
        return isinstance(placed, str) and _digest(salt, slot, placed) == digest
    if isinstance(placed, str):  # off the scale: never within tolerance of a value on it
        return False
    sign, u = placed
    start = math.floor(u - fraction)
    for whole in range(start - 2, start + 3):
        if _digest(salt, slot, f"{sign}{whole}") == digest:
            target = _ungrid(sign, whole + fraction, rtol, atol)
            return bool(np.isclose(x, target, rtol=rtol, atol=atol))
    return False


def _matches(
    value: np.ndarray, sealed: Mapping[str, Any], salt: str, slot: str, rtol: float, atol: float
) -> bool:
    """Whether ``value`` is within tolerance of the sealed numbers, element by element."""
    if list(value.shape) != list(sealed["shape"]):
        return False
    return all(
        _element_matches(float(x), element, salt, f"{slot}.{i}", rtol, atol)
        for i, (x, element) in enumerate(zip(value.ravel(), sealed["elements"], strict=True))
    )


def _salt(label: str) -> str:
    return hashlib.sha256(f"klbook sealed check|{label}".encode()).hexdigest()[:16]


def _encode_arg(value: Any) -> Any:
    """Encode a function check's input as data that :func:`_decode_arg` restores."""
    if isinstance(value, np.ndarray):
        return {"array": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, tuple):
        return {"tuple": [_encode_arg(v) for v in value]}
    if isinstance(value, list):
        return [_encode_arg(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"a function check's input must be numbers, text or arrays, not {value!r}")


def _decode_arg(value: Any) -> Any:
    if isinstance(value, dict) and "array" in value:
        return np.array(value["array"], dtype=value["dtype"])
    if isinstance(value, dict) and "tuple" in value:
        return tuple(_decode_arg(v) for v in value["tuple"])
    if isinstance(value, list):
        return [_decode_arg(v) for v in value]
    return value


@dataclass(frozen=True)
class SealedNumericCheck:
    """A :class:`NumericCheck` whose values are stored only as salted hashes.

    Made by :func:`seal`; judges like the plain check it came from.
    """

    shape: tuple[int, ...]
    hint: str
    rtol: float
    atol: float
    salt: str
    #: (sealed numbers, status, message), in the order the plain check tries them.
    targets: Sequence[tuple[Mapping[str, Any], Status, str]]

    def judge(self, answer: Any) -> tuple[Status, str]:
        """Judge ``answer`` as the plain check would."""
        value = _as_float_array(answer)
        if value is None:
            return "incorrect", (
                f"Not quite: expected a number, got {type(answer).__name__}. " + self.hint
            )
        if value.shape != self.shape:
            what = "a single number" if self.shape == () else f"an array of shape {self.shape}"
            return "incorrect", f"Not quite: expected {what}. {self.hint}"
        if np.isnan(value).any():
            return "incorrect", "Not quite: your answer contains NaN. " + self.hint
        for index, (sealed, status, message) in enumerate(self.targets):
            if _matches(value, sealed, self.salt, str(index), self.rtol, self.atol):
                return status, message
        return "incorrect", f"Not quite: {self.hint}"


@dataclass(frozen=True)
class SealedChoiceCheck:
    """A :class:`ChoiceCheck` whose accepted and mistaken texts are stored as salted hashes."""

    hint: str
    salt: str
    accepted: frozenset[str]
    mistakes: Sequence[tuple[str, str]]

    def judge(self, answer: Any) -> tuple[Status, str]:
        """Judge ``answer`` as the plain check would."""
        text = str(answer).strip().lower()
        if _digest(self.salt, "text", text) in self.accepted:
            return "correct", "Correct."
        for wrong, hint in self.mistakes:
            if _digest(self.salt, "text", text) == wrong:
                return "incorrect", f"Not quite: {hint}"
        return "incorrect", f"Not quite: {self.hint}"


@dataclass(frozen=True)
class SealedFunctionCheck:
    """A :class:`FunctionCheck` whose expected outputs are stored as salted hashes.

    The inputs stay readable (they are practice inputs; the graders use others).
    """

    hint: str
    rtol: float
    atol: float
    salt: str
    #: (encoded arguments, sealed expected output) for each case.
    cases: Sequence[tuple[Sequence[Any], Mapping[str, Any]]]

    def judge(self, answer: Any) -> tuple[Status, str]:
        """Call ``answer`` on each case and compare, as the plain check would."""
        if not callable(answer):
            return "incorrect", "Not quite: expected a function. " + self.hint
        for index, (args, sealed) in enumerate(self.cases):
            try:
                got = answer(*_decode_arg(list(args)))
            except Exception as exc:  # a student's function may raise anything
                return "incorrect", (
                    f"Not quite: your function raised {type(exc).__name__}. " + self.hint
                )
            got_arr = _as_float_array(got)
            if got_arr is None or not _matches(
                got_arr, sealed, self.salt, str(index), self.rtol, self.atol
            ):
                return "incorrect", f"Not quite: {self.hint}"
        return "correct", "Correct."


def seal(label: str, spec: Check) -> dict[str, Any]:
    """Turn a plain check into data that keeps its verdicts and hints but not its values.

    Parameters
    ----------
    label : str
        The exercise's label (it salts the hashes).
    spec : NumericCheck, ChoiceCheck or FunctionCheck
        The plain check.

    Returns
    -------
    dict
        Plain data (numbers, strings, lists, dicts) for :func:`unseal`.

    Raises
    ------
    TypeError
        If ``spec`` is not one of the three plain checks.

    Examples
    --------
    >>> plain = NumericCheck(0.25, hint="Multiply.", mistakes=[(0.5, "Halve it.")])
    >>> sealed = unseal({"demo": seal("demo", plain)})["demo"]
    >>> "0.25" in repr(seal("demo", plain))
    False
    >>> [sealed.judge(x) for x in (0.25, 0.5, 0.3)] == [plain.judge(x) for x in (0.25, 0.5, 0.3)]
    True
    """
    salt = _salt(label)
    if isinstance(spec, NumericCheck):
        rtol, atol = float(spec.rtol), float(spec.atol)
        expected = np.asarray(spec.expected, dtype=np.float64)
        targets: list[tuple[Any, str, str]] = [(expected, "correct", "Correct.")]
        targets += [
            (expected * factor, "correct", f"Correct (in {unit}).")
            for unit, factor in spec.units.items()
        ]
        targets += [(wrong, "incorrect", f"Not quite: {hint}") for wrong, hint in spec.mistakes]
        return {
            "type": "numeric",
            "shape": list(expected.shape),
            "hint": spec.hint,
            "rtol": rtol,
            "atol": atol,
            "salt": salt,
            "targets": [
                [_seal_numbers(value, salt, str(i), rtol, atol), status, message]
                for i, (value, status, message) in enumerate(targets)
            ],
        }
    if isinstance(spec, ChoiceCheck):
        return {
            "type": "choice",
            "hint": spec.hint,
            "salt": salt,
            "accepted": sorted(_digest(salt, "text", a.lower()) for a in spec.accepted),
            "mistakes": [
                [_digest(salt, "text", wrong.lower()), hint]
                for wrong, hint in spec.mistakes.items()
            ],
        }
    if isinstance(spec, FunctionCheck):
        rtol, atol = float(spec.rtol), float(spec.atol)
        return {
            "type": "function",
            "hint": spec.hint,
            "rtol": rtol,
            "atol": atol,
            "salt": salt,
            "cases": [
                [_encode_arg(list(args)), _seal_numbers(want, salt, str(i), rtol, atol)]
                for i, (args, want) in enumerate(spec.cases)
            ],
        }
    raise TypeError(f"{label}: cannot seal a {type(spec).__name__}")


def unseal(data: Mapping[str, Mapping[str, Any]]) -> dict[str, Check]:
    """Rebuild sealed checks from :func:`seal`'s data, by label.

    Raises
    ------
    ValueError
        If an entry is of an unknown type.
    """
    checks: dict[str, Check] = {}
    for label, item in data.items():
        kind = item.get("type")
        if kind == "numeric":
            checks[label] = SealedNumericCheck(
                shape=tuple(item["shape"]),
                hint=item["hint"],
                rtol=item["rtol"],
                atol=item["atol"],
                salt=item["salt"],
                targets=[(sealed, status, message) for sealed, status, message in item["targets"]],
            )
        elif kind == "choice":
            checks[label] = SealedChoiceCheck(
                hint=item["hint"],
                salt=item["salt"],
                accepted=frozenset(item["accepted"]),
                mistakes=[(wrong, hint) for wrong, hint in item["mistakes"]],
            )
        elif kind == "function":
            checks[label] = SealedFunctionCheck(
                hint=item["hint"],
                rtol=item["rtol"],
                atol=item["atol"],
                salt=item["salt"],
                cases=[(args, sealed) for args, sealed in item["cases"]],
            )
        else:
            raise ValueError(f"{label}: unknown sealed check type {kind!r}")
    return checks
