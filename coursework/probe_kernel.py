"""The grader's side of a student's kernel: read one answer and write it down as JSON.

The grader never imports this module. It sends this file's *source* to the
sandboxed kernel of a submission (as a module named ``_klbook_grader``,
installed afresh before every read) and evaluates
``_klbook_grader.report(lambda: (<the expression the check cell passes>), spec)``
as a Jupyter *user expression* of an execute request. The reply carries the
JSON text this module writes; the grader decodes and judges it in its own
process (:mod:`coursework.probe`, :mod:`coursework.marking`). Nothing the
submission prints is read, and nothing in the kernel says whether an answer
is right: the expected values never enter the kernel.

For a function answer the spec holds the marking inputs: the function is
called on each (with fresh copies) and its outputs are written down. While it
runs, a profile hook notes every call into a package the exercise forbids
(``klbook``, say), and the function's code, globals and closure are searched
for objects of those packages. A submission controls its kernel and can
defeat these notes; what it cannot do is learn the expected outputs.

Standard library and NumPy only: this runs with the student's packages.
"""

import functools
import json
import os
import sys
import types

#: Most numbers an answer may hold, and most characters of a text answer.
MAX_ITEMS = 100_000
MAX_TEXT = 10_000


class Report:
    """A JSON text whose ``repr`` is the text itself (so a user expression shows it as is)."""

    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


def encode(value, *, unanswered=True):
    """Write ``value`` as a JSON-able dict: unanswered, text, array or object."""
    if unanswered and (value is Ellipsis or value is None):
        return {"kind": "unanswered"}
    if isinstance(value, str):
        return {"kind": "text", "text": value[:MAX_TEXT]}
    if callable(value) or isinstance(value, (bytes, bytearray, dict, set, frozenset)):
        return {"kind": "object", "type": type(value).__name__[:80]}
    try:
        import numpy as np

        array = np.asarray(value, dtype=np.float64)
    except Exception:  # any object may refuse to become numbers
        return {"kind": "object", "type": type(value).__name__[:80]}
    if array.size > MAX_ITEMS:
        return {"kind": "object", "type": f"array of {array.size} numbers (too many)"}
    data = [float(x) for x in array.ravel().tolist()]
    return {"kind": "array", "shape": [int(n) for n in array.shape], "data": data}


def decode_argument(arg):
    """Turn a JSON-tagged marking input back into the object the function receives."""
    if isinstance(arg, dict) and "array" in arg:
        import numpy as np

        return np.array(decode_argument(arg["array"]), dtype=arg.get("dtype", "float64"))
    if isinstance(arg, dict) and "tuple" in arg:
        return tuple(decode_argument(a) for a in arg["tuple"])
    if isinstance(arg, list):
        return [decode_argument(a) for a in arg]
    if isinstance(arg, dict) and "float" in arg:
        return float(arg["float"])  # "nan", "inf", "-inf"
    return arg


def _top(name):
    return str(name).split(".")[0]


def _package_dirs(forbid):
    """Return the folders of the forbidden packages, each ending with a separator."""
    import importlib.util

    dirs = []
    for name in forbid:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        for folder in (spec.submodule_search_locations or []) if spec else []:
            dirs.append(os.path.join(os.path.realpath(folder), ""))
            dirs.append(os.path.join(folder, ""))
    return tuple(dirs)


def _code_names(code, depth=0):
    names = set(code.co_names)
    if depth < 8:
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                names |= _code_names(const, depth + 1)
    return names


def static_uses(obj, forbid, depth=0, seen=None):
    """Objects of a forbidden package that ``obj`` is, wraps, or names in its code."""
    seen = set() if seen is None else seen
    if id(obj) in seen or depth > 4:
        return []
    seen.add(id(obj))
    if isinstance(obj, types.ModuleType):
        return [obj.__name__] if _top(obj.__name__) in forbid else []
    if not callable(obj):
        return []
    module = getattr(obj, "__module__", None)
    if isinstance(module, str) and _top(module) in forbid:
        return [f"{module}.{getattr(obj, '__qualname__', type(obj).__name__)}"]
    found = []
    inner = []
    if isinstance(obj, functools.partial):
        inner.append(obj.func)
    if isinstance(obj, types.MethodType):
        inner.append(obj.__func__)
    wrapped = getattr(obj, "__wrapped__", None)
    if wrapped is not None:
        inner.append(wrapped)
    code = getattr(obj, "__code__", None)
    if isinstance(code, types.CodeType):
        space = getattr(obj, "__globals__", None) or {}
        inner.extend(space[name] for name in sorted(_code_names(code)) if name in space)
        for cell in getattr(obj, "__closure__", None) or ():
            try:
                inner.append(cell.cell_contents)
            except ValueError:  # an empty cell
                pass
    elif not isinstance(obj, type) and not isinstance(obj, types.BuiltinFunctionType):
        call = getattr(type(obj), "__call__", None)  # noqa: B004 - the method, to read its code
        if call is not None:
            inner.append(call)
    for item in inner:
        found.extend(static_uses(item, forbid, depth + 1, seen))
    return found


def call_all(function, cases, forbid):
    """Call ``function`` on every marking input; note what it used of ``forbid``."""
    forbid = tuple(forbid)
    # A dict keeps the order found: what the function is or names, then what it calls.
    uses = dict.fromkeys(static_uses(function, forbid)) if forbid else {}
    dirs = _package_dirs(forbid) if forbid else ()
    results = []
    tampered = ""

    def tracer(frame, event, arg):
        if event == "call":
            if dirs and frame.f_code.co_filename.startswith(dirs):
                module = frame.f_globals.get("__name__", "?")
                uses.setdefault(f"{module}.{frame.f_code.co_qualname}")
        elif event == "c_call" and forbid:
            module = getattr(arg, "__module__", None) or ""
            if _top(module) in forbid:
                uses.setdefault(f"{module}.{getattr(arg, '__qualname__', '?')}")

    for args in cases:
        args = [decode_argument(a) for a in args]
        before = sys.getprofile()
        sys.setprofile(tracer)
        try:
            result = encode(function(*args), unanswered=False)
        except BaseException as exc:  # a student's function may raise anything
            result = {"kind": "error", "error": f"{type(exc).__name__}: {exc}"[:300]}
        finally:
            if sys.getprofile() is not tracer:
                tampered = "the function changed the profile hook that watches its calls"
            sys.setprofile(before)
        results.append(result)
    return {
        "kind": "function",
        "results": results,
        "uses": list(uses)[:20],
        "tampered": tampered,
    }


def report(thunk, spec):
    """Evaluate the answer and write it down: the grader's only reading of it."""
    spec = json.loads(spec)
    try:
        value = thunk()
    except BaseException as exc:  # the answer expression is the student's
        found = {"kind": "error", "error": f"{type(exc).__name__}: {exc}"[:300]}
    else:
        if spec.get("mode") == "function" and callable(value):
            found = call_all(value, spec.get("cases", []), spec.get("forbid", []))
        elif spec.get("mode") == "function" and not (value is Ellipsis or value is None):
            found = {"kind": "object", "type": type(value).__name__[:80]}
        else:
            found = encode(value)
    return Report(json.dumps(found, allow_nan=True, separators=(",", ":")))
