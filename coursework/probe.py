"""How the grader reads an answer out of a student's kernel, and what it reads.

The kernel side is :mod:`coursework.probe_kernel`, sent as source. This module
builds the request (:func:`install_code`, :func:`answer_expression`) and
decodes the reply into an :class:`Answer` in the grader's own process. The
reply is JSON, checked field by field; it is never unpickled or evaluated.

Examples
--------
>>> answer = decode('{"kind": "array", "shape": [], "data": [0.5]}')
>>> answer.kind, float(answer.array)
('array', 0.5)
>>> decode('{"kind": "text", "text": "Q"}').text
'Q'
>>> decode("not json").kind
'error'
"""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np

__all__ = [
    "MODULE_NAME",
    "Answer",
    "answer_expression",
    "decode",
    "encode_argument",
    "install_code",
]

#: The name under which the kernel side is installed in ``sys.modules``.
MODULE_NAME: Final[str] = "_klbook_grader"
#: Longest reply the grader reads (characters of JSON).
_MAX_REPLY: Final[int] = 4_000_000
_MAX_ITEMS: Final[int] = 100_000

Kind = Literal["unanswered", "text", "array", "object", "error", "function"]


@dataclass(frozen=True)
class Answer:
    """One answer as the grader read it from a run.

    ``kind`` is ``unanswered`` (the stub's ``...`` or ``None``), ``text``,
    ``array`` (any number or array, as float64), ``object`` (something else;
    ``text`` names its type), ``error`` (reading it raised; ``text`` says
    what) or ``function`` (``results`` holds one :class:`Answer` per marking
    input, ``uses`` what it used of the packages the exercise forbids,
    ``tampered`` whether it switched off the watch on its calls).
    """

    kind: Kind
    array: np.ndarray | None = None
    text: str = ""
    results: tuple[Answer, ...] = ()
    uses: tuple[str, ...] = ()
    tampered: str = ""

    def practice_value(self) -> Any:
        """Return the value a practice self-check would have been given (for its hint)."""
        if self.kind == "unanswered":
            return ...
        if self.kind == "text":
            return self.text
        if self.kind == "array" and self.array is not None:
            return float(self.array) if self.array.ndim == 0 else self.array
        # Any other object: a stand-in whose type has the reported name.
        return type(self.text or "object", (), {})()

    def describe(self) -> str:
        """Describe in a few words a value that is not a number (for a detail column)."""
        if self.kind == "object":
            return f"a {self.text}" if self.text else "an object"
        if self.kind == "text":
            return "a text"
        return self.kind


_BROKEN = Answer("error", text="the grader could not read the answer (malformed reply)")


def install_code(source: str | None = None) -> str:
    """Code that installs the kernel side afresh, touching none of the student's names."""
    if source is None:
        source = (Path(__file__).with_name("probe_kernel.py")).read_text(encoding="utf-8")
    setup = (
        "import sys, types\n"
        f"module = types.ModuleType({MODULE_NAME!r})\n"
        "exec(compile(SOURCE, '<klbook grader>', 'exec'), module.__dict__)\n"
        f"sys.modules[{MODULE_NAME!r}] = module\n"
    )
    return f"exec({setup!r}, {{'SOURCE': {source!r}}})"


def answer_expression(expression: str, spec: dict[str, Any]) -> str:
    """Return the user expression that reads ``expression`` (a check call's argument).

    Raises
    ------
    ValueError
        If ``expression`` is not a single Python expression.

    Examples
    --------
    >>> answer_expression("answer", {"mode": "value"})[:39]
    "__import__('sys').modules['_klbook_grad"
    >>> answer_expression("answer); import os; (1", {"mode": "value"})
    Traceback (most recent call last):
    ...
    ValueError: expression: not a single Python expression: 'answer); import os; (1'
    """
    try:
        tree = ast.parse(f"lambda: ({expression})", mode="eval")
    except SyntaxError:
        tree = None
    if tree is None or not isinstance(tree.body, ast.Lambda):
        raise ValueError(f"expression: not a single Python expression: {expression!r}")
    text = json.dumps(spec, allow_nan=True, separators=(",", ":"))
    return f"__import__('sys').modules[{MODULE_NAME!r}].report((lambda: ({expression})), {text!r})"


def encode_argument(value: Any) -> Any:
    """Write a marking input as JSON the kernel side turns back into the same object.

    NumPy arrays keep their dtype, tuples stay tuples, non-finite floats survive.

    Examples
    --------
    >>> encode_argument((np.array([1, 2]), 0.5, math.inf))
    {'tuple': [{'array': [1, 2], 'dtype': 'int64'}, 0.5, {'float': 'inf'}]}
    """
    if isinstance(value, np.ndarray):
        return {"array": encode_argument(value.tolist()), "dtype": str(value.dtype)}
    if isinstance(value, tuple):
        return {"tuple": [encode_argument(v) for v in value]}
    if isinstance(value, list):
        return [encode_argument(v) for v in value]
    if isinstance(value, np.generic):
        return encode_argument(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return {"float": repr(value)}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"a marking input must be numbers, text, lists or arrays, not {value!r}")


def _number(x: Any) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise ValueError("not a number")
    return float(x)


def _value(raw: Any, *, depth: int = 0) -> Answer:
    if not isinstance(raw, dict):
        return _BROKEN
    kind = raw.get("kind")
    if kind == "unanswered":
        return Answer("unanswered")
    if kind in ("text", "object", "error"):
        text = raw.get("text" if kind == "text" else ("type" if kind == "object" else "error"))
        return Answer(kind, text=str(text)[:10_000]) if isinstance(text, str) else _BROKEN
    if kind == "array":
        shape, data = raw.get("shape"), raw.get("data")
        if not (isinstance(shape, list) and isinstance(data, list) and len(data) <= _MAX_ITEMS):
            return _BROKEN
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
            return _BROKEN
        if math.prod(shape) != len(data) or len(shape) > 32:
            return _BROKEN
        try:
            values = [_number(x) for x in data]
        except ValueError:
            return _BROKEN
        return Answer("array", array=np.array(values, dtype=np.float64).reshape(shape))
    if kind == "function" and depth == 0:
        results, uses, tampered = raw.get("results"), raw.get("uses"), raw.get("tampered", "")
        if not isinstance(results, list) or not isinstance(uses, list):
            return _BROKEN
        return Answer(
            "function",
            results=tuple(_value(r, depth=1) for r in results),
            uses=tuple(str(u)[:200] for u in uses[:20]),
            tampered=str(tampered)[:300],
        )
    return _BROKEN


def decode(text: str) -> Answer:
    """Decode the kernel side's JSON reply; anything malformed is an ``error`` answer."""
    if not isinstance(text, str) or len(text) > _MAX_REPLY:
        return Answer("error", text="the answer is too large to read")
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return _BROKEN
    return _value(raw)


def check_calls(source: str, labels: Sequence[str]) -> dict[str, str]:
    r"""Return the expression each ``check("label", <expression>)`` in ``source`` passes.

    The last call of a label wins. Cells that are not plain Python (IPython
    magics) are read line by line.

    Examples
    --------
    >>> check_calls('answer = 1\ncheck("ex-a", answer)\ncheck("ex-b", 2 * x)', ["ex-a", "ex-b"])
    {'ex-a': 'answer', 'ex-b': '2 * x'}
    """
    found: dict[str, str] = {}
    try:
        trees = [ast.parse(source)]
    except SyntaxError:
        trees = []
        for line in source.splitlines():
            try:
                trees.append(ast.parse(line.strip()))
            except SyntaxError:
                continue
    calls: list[tuple[int, int, int, str, str]] = []
    for number, tree in enumerate(trees):
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            first = node.args[0]
            if (
                name == "check"
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and first.value in labels
            ):
                where = (number, node.lineno, node.col_offset)
                calls.append((*where, first.value, ast.unparse(node.args[1])))
    for *_, label, expression in sorted(calls):
        found[label] = expression
    return found
