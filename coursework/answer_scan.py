"""Find the marking answers in the student notebooks: the release fails where one shows.

A student notebook must not hand out an exercise's answer: not in its prose, its
code, a stored output, a figure's caption or alt text. The release
(:func:`coursework.release.release`) asks :func:`answer_leaks` about every line
of every student notebook, for every number the marking checks accept
(:mod:`coursework.marking`), and refuses to write anything if one appears.

What counts as an appearance of an answer ``a`` (and of ``a`` in each unit its
marking check also accepts, such as bits for an answer in nats):

- In the notebook of the exercise's own chapter, a number written with **at
  least three significant digits** that agrees with ``a`` to within half a
  unit of ``a``'s third significant digit, in any of its obvious forms:
  ``0.3681``, ``0.368``, ``0.36806420``, ``-0.368`` (signs are ignored: a
  printed ``-0.368`` gives ``0.368`` away as well), ``3.681e-01``, ``36.8%``
  and ``36.8 %`` (a percentage is read as its hundredth), ``3,844``. Such a
  number is close enough to be marked correct (the marking checks'
  tolerances are no looser than that window) or reveals the answer's first
  three digits.
- In the other chapters' notebooks, the same at **four significant digits**:
  a number with at least four significant digits within half a unit of
  ``a``'s fourth. (Across five chapters, dozens of answers and thousands of
  printed numbers, agreements to three digits happen by chance: chapter 1's
  total log-likelihood ratio of 1.16 nats is not chapter 5's answer of
  1.164 bits.)
- A number directly followed by a unit of information (``nats``, ``bits``)
  other than the answer's is a different quantity and never matches.
- An answer that has **at most two significant digits** (``0.4``, ``10``,
  ``0.25``) is searched for only as a number immediately followed by a unit
  of information (``0.4 bits``, ``10 nats``): bare, such numbers are
  everywhere (a probability of 0.4, a count of 10) and say nothing about the
  exercise.

The unit of an answer is known when its marking check accepts the other one
too (an answer in nats that may also be given in bits); otherwise any unit
word matches. Numbers with fewer significant digits than the rule asks for
never match (``0.37`` does not give away ``0.3681``); trailing zeros of a
whole number are not significant (``4000`` has one significant digit). Text
answers (:class:`~coursework.marking.Choice`) and the outputs of function
exercises on the secret marking inputs (:class:`~coursework.marking.Function`)
are not searched: a short text such as ``"Q"`` is in every cell, and a
function's outputs on inputs no student sees give nothing away.

Examples
--------
>>> targets = answer_targets({"ex-a": _Numeric(0.36806)})
>>> [str(m.token) for m in find_in_line("KL = 0.3681 nats, or 36.8 %", targets)]
['0.3681', '36.8 %']
>>> find_in_line("a probability of 0.37, or 0.3 and 0.4", targets)
[]
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "Leak",
    "Target",
    "Token",
    "answer_leaks",
    "answer_targets",
    "find_in_line",
    "notebook_lines",
    "number_tokens",
    "unit_of",
]

#: A number: digits with optional thousands separators, a decimal part, an exponent
#: and a percent sign. Not inside a word or another number (``x2``, ``1.2.3``).
_NUMBER = re.compile(
    r"(?<![\w.])"
    r"(?P<mantissa>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)"
    r"(?:[eE](?P<exponent>[-+\u2212]?\d+))?"
    r"(?P<percent>\s?%)?"
    r"(?![\w.]\d)"
)
#: What may follow a short answer for it to count: a unit of information.
_UNIT = re.compile(r"\s*(?:nats?|bits?)\b", re.IGNORECASE)
#: How close a number must come to an answer, in units of the answer's third digit.
_WINDOW = 0.5
#: Relative slack for the floating-point comparisons at the window's edge.
_SLACK = 1e-9


@dataclass(frozen=True)
class Token:
    """A number as written in a line of text."""

    text: str
    value: float  # the number it stands for (a percentage already divided by 100)
    digits: int  # significant digits written
    half_unit: float  # half the place value of its last written digit
    end: int  # where it ends in the line

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Target:
    """One number that must not appear: an exercise's answer, in one unit."""

    label: str
    value: float
    unit: str = ""  # "nats" or "bits" when known, else ""
    converted: bool = False  # the answer in another unit its marking check accepts

    @property
    def short(self) -> bool:
        """Whether the answer has at most two significant digits (0.4, 10, 0.25)."""
        size = abs(self.value)
        return math.isclose(float(f"{size:.2g}"), size, rel_tol=_SLACK)

    def window(self, digits: int = 3) -> float:
        """Half a unit of the answer's ``digits``-th significant digit."""
        return _WINDOW * 10.0 ** (math.floor(math.log10(abs(self.value))) - digits + 1)

    def describe(self) -> str:
        """Return the answer as a reader would write it: ``0.368064``, ``0.27807 (in bits)``."""
        return f"{self.value:.6g}" + (f" (in {self.unit})" if self.converted else "")


@dataclass(frozen=True)
class Match:
    """A number in a line that gives away a target."""

    token: Token
    target: Target


@dataclass(frozen=True)
class Leak:
    """Where a student notebook shows a marking answer."""

    notebook: str
    cell: int  # counted from 1, every cell
    cell_id: str
    part: str  # "source", "output" or "metadata"
    line: int  # counted from 1, within that part of the cell
    text: str
    token: str
    label: str
    answer: str
    column: int = 0  # where the number starts in the line, from 0

    def context(self, width: int = 40) -> str:
        """Return the line around the number, at most ``width`` characters either side."""
        start = max(self.column - width, 0)
        end = self.column + len(self.token) + width
        text = self.text[start:end].strip()
        return ("..." if start > 0 else "") + text + ("..." if end < len(self.text) else "")

    def __str__(self) -> str:
        shown = self.context()
        return (
            f"{self.notebook}: cell {self.cell} (id {self.cell_id}), {self.part} line "
            f"{self.line}: {self.token!r} gives away the answer of {self.label} "
            f"({self.answer}): {shown}"
        )


def number_tokens(line: str) -> Iterator[Token]:
    """Yield every number written in ``line``.

    Examples
    --------
    >>> [(t.text, t.value, t.digits) for t in number_tokens("x2 = 0.0370, 4,000 or 3.1e-02 %")]
    [('0.0370', 0.037, 3), ('4,000', 4000.0, 1), ('3.1e-02 %', 0.00031, 2)]
    """
    for match in _NUMBER.finditer(line):
        mantissa = match["mantissa"].replace(",", "")
        exponent = int(match["exponent"].replace("\u2212", "-")) if match["exponent"] else 0
        whole, _, decimals = mantissa.partition(".")
        digits = (whole + decimals).lstrip("0")
        if "." not in mantissa:
            digits = digits.rstrip("0")  # 4000: one significant digit
            place = len(whole) - len(whole.rstrip("0")) if whole.strip("0") else 0
        else:
            place = -len(decimals)
        scale = 0.01 if match["percent"] else 1.0
        try:
            value = float(f"{mantissa}e{exponent}") * scale
        except (ValueError, OverflowError):
            continue
        if not math.isfinite(value):
            continue
        half = 0.5 * 10.0 ** (place + exponent) * scale
        yield Token(match.group(0), value, len(digits), half, match.end())


def unit_of(units: Mapping[str, float]) -> str:
    """Return the unit of an answer whose marking check also accepts ``units`` (or "")."""
    names = {_unit_name(u) for u in units}
    if names == {"bit"}:
        return "nats"
    if names == {"nat"}:
        return "bits"
    return ""


def _unit_name(word: str) -> str:
    return word.strip().lower().removesuffix("s")


def answer_targets(marks: Mapping[str, Any]) -> list[Target]:
    """Every number the marking checks accept as an answer, in every unit they accept.

    Only numeric marking checks (those with an ``expected`` value) give targets;
    zero, non-finite and non-numeric values are skipped.

    Examples
    --------
    >>> [t.describe() for t in answer_targets({"ex-a": _Numeric(0.5, {"bits": 2.0})})]
    ['0.5', '1 (in bits)']
    """
    targets: list[Target] = []
    for label, mark in marks.items():
        expected = getattr(mark, "expected", None)
        if expected is None:
            continue
        try:
            values = np.asarray(expected, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            continue
        units: Mapping[str, float] = getattr(mark, "units", {}) or {}
        own = unit_of(units)
        for value in values:
            if not math.isfinite(value) or value == 0:
                continue
            targets.append(Target(label, float(value), own))
            for unit, factor in units.items():
                targets.append(Target(label, float(value) * float(factor), unit, True))
    return targets


def find_in_line(
    line: str, targets: Sequence[Target], own: Collection[str] | None = None
) -> list[Match]:
    """Return each number of ``line`` that gives away one of ``targets`` (see the module).

    ``own`` holds the labels of the exercises of the chapter the line is in
    (three significant digits for them, four for the others); ``None``
    treats every target as the chapter's own.
    """
    found: list[Match] = []
    for token in number_tokens(line):
        size = abs(token.value)
        after = _UNIT.match(line, token.end)
        unit = _unit_name(after.group(0)) if after else ""
        named: set[str] = set()
        for target in targets:
            answer = abs(target.value)
            if target.label in named or (unit and target.unit and unit != _unit_name(target.unit)):
                continue  # one report per answer; "1.16 nats" is not an answer in bits
            if target.short:
                close = abs(size - answer) <= token.half_unit * (1 + _SLACK) + answer * _SLACK
                hit = close and bool(unit)
            else:
                digits = 3 if own is None or target.label in own else 4
                window = target.window(digits) * (1 + _SLACK)
                hit = token.digits >= digits and abs(size - answer) <= window
            if hit:
                found.append(Match(token, target))
                named.add(target.label)
    return found


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a metadata value (captions, alt text), depth first."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def notebook_lines(cell: Mapping[str, Any]) -> Iterator[tuple[str, int, str]]:
    """Yield ``(part, line number, line)`` for every line a cell shows or carries.

    The parts are the cell's ``source``; its ``output`` (streams, every text
    representation of a result, errors and their tracebacks), numbered
    across all its outputs; and its ``metadata`` strings other than tags
    (figure captions and alt text, which the website shows).
    """
    for number, line in enumerate(str(cell.get("source", "")).splitlines(), 1):
        yield "source", number, line
    texts: list[str] = []
    for output in cell.get("outputs", []) or []:
        kind = output.get("output_type")
        if kind == "stream":
            texts.append(str(output.get("text", "")))
        elif kind in ("execute_result", "display_data"):
            for mime, value in (output.get("data") or {}).items():
                if mime.startswith("text/") or mime.endswith("json"):
                    texts.append(value if isinstance(value, str) else "\n".join(_strings(value)))
        elif kind == "error":
            texts.append(f"{output.get('ename', '')}: {output.get('evalue', '')}")
            texts.extend(str(line) for line in output.get("traceback", []) or [])
    for number, line in enumerate("\n".join(texts).splitlines(), 1):
        yield "output", number, line
    metadata = {k: v for k, v in (cell.get("metadata") or {}).items() if k != "tags"}
    lines = [line for text in _strings(metadata) for line in text.splitlines()]
    for number, line in enumerate(lines, 1):
        yield "metadata", number, line


def answer_leaks(
    notebooks: Mapping[str, Mapping[str, Any]],
    marks: Mapping[str, Any],
    own: Mapping[str, Collection[str]] | None = None,
) -> list[Leak]:
    r"""Return every place where a student notebook shows a marking answer.

    Parameters
    ----------
    notebooks : mapping
        The student notebooks (as handed out) by the name to report, such as
        ``chapters/02_expected_value.ipynb``.
    marks : mapping
        The marking checks by exercise label (:func:`coursework.marking.load`).
    own : mapping, optional
        The exercise labels of each notebook's own chapter, by the same names;
        by default the labels of the exercises in the notebook itself.

    Returns
    -------
    list of Leak
        In the order of the notebooks, cells and lines; empty when no answer shows.

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell, new_notebook
    >>> cell = new_code_cell("print(kl)")
    >>> cell.outputs = [{"output_type": "stream", "name": "stdout", "text": "KL = 0.3681\n"}]
    >>> leaks = answer_leaks({"ch.ipynb": new_notebook(cells=[cell])},
    ...                      {"ex-a": _Numeric(0.36806)}, own={"ch.ipynb": ["ex-a"]})
    >>> print(str(leaks[0]).replace(cell.id, "ID").replace(": '", ":\n'"))
    ch.ipynb: cell 1 (id ID), output line 1:
    '0.3681' gives away the answer of ex-a (0.36806): KL = 0.3681
    """
    from coursework.release import exercise_labels

    targets = answer_targets(marks)
    leaks: list[Leak] = []
    for name, nb in notebooks.items():
        if own is not None and name in own:
            labels: Collection[str] = set(own[name])
        else:
            labels = set(exercise_labels(nb))  # type: ignore[arg-type]
        for index, cell in enumerate(nb.get("cells", [])):
            for part, number, line in notebook_lines(cell):
                for match in find_in_line(line, targets, labels):
                    leaks.append(
                        Leak(
                            name,
                            index + 1,
                            str(cell.get("id", "")),
                            part,
                            number,
                            line,
                            match.token.text,
                            match.target.label,
                            match.target.describe(),
                            match.token.end - len(match.token.text),
                        )
                    )
    return leaks


@dataclass(frozen=True)
class _Numeric:
    """A stand-in for a numeric marking check in the examples above."""

    expected: float
    units: Mapping[str, float] | None = None
