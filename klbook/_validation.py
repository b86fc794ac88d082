"""Input checks shared by klbook's public functions.

Every check raises :class:`ValueError` with a message that names the argument
and says what is wrong with it. Nothing here normalises or repairs input.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__: list[str] = []

#: How far a probability vector's sum may stray from one (rounding, not error).
SUM_TOLERANCE = 1e-8

#: The largest count accepted: every whole number up to 2**53 is exact in float64.
MAX_COUNT = 2**53

#: Below this, a probability in a denominator could make a ratio p/q overflow.
TINY_PROBABILITY = 1e-300


def as_real_array(x: ArrayLike, name: str) -> NDArray[np.float64]:
    """Return ``x`` as a float64 array, or raise if it is not real numbers."""
    arr = _as_numeric(x, name)
    arr = arr.astype(np.float64, copy=False)
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN")
    return arr


def _first_bad(mask: NDArray[np.bool_]) -> tuple[int, ...] | int:
    idx = np.unravel_index(int(np.argmax(mask)), mask.shape)
    idx = tuple(int(i) for i in idx)
    return idx[0] if len(idx) == 1 else idx


def _as_numeric(x: ArrayLike, name: str) -> NDArray[Any]:
    """Return ``x`` as an array of real numbers in its own dtype."""
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged nested lists and the like
        raise ValueError(f"{name} must be an array of real numbers ({exc})") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise ValueError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise ValueError(f"{name} must be real, got complex values")
    return arr


def is_axis_index(axis: object) -> bool:
    """Whether ``axis`` is an integer that may index an axis (a bool may not, nor 1.0)."""
    return isinstance(axis, Integral) and not isinstance(axis, bool)


def as_axis(axis: Any) -> int:
    """Return ``axis`` as an int, or raise if it is not an integer (range is not checked).

    Examples
    --------
    >>> as_axis(np.int64(-1))
    -1
    >>> as_axis(True)
    Traceback (most recent call last):
    ...
    ValueError: axis must be an integer, got True
    """
    if not is_axis_index(axis):
        raise ValueError(f"axis must be an integer, got {axis!r}")
    return int(axis)


def normalise_axis(axis: Any, ndim: int, names: str) -> int:
    """Return ``axis`` as a non-negative index into ``ndim`` dimensions, or raise.

    Examples
    --------
    >>> normalise_axis(-1, 2, "p")
    1
    >>> normalise_axis(1.0, 2, "p")
    Traceback (most recent call last):
    ...
    ValueError: axis must be an integer, got 1.0
    """
    axis = as_axis(axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of range for {names} with {ndim} dimension(s)")
    return axis % ndim


def sum_tolerance(dtype: np.dtype[Any], length: int) -> float:
    """How far a sum of ``length`` probabilities stored as ``dtype`` may stray from one.

    :data:`SUM_TOLERANCE` for float64 and exact types; for a less precise float
    type (float32, float16) the rounding of the stored entries themselves, up
    to ``length`` units in the last place of one.

    Examples
    --------
    >>> sum_tolerance(np.dtype(np.float64), 1000)
    1e-08
    >>> round(sum_tolerance(np.dtype(np.float32), 1000), 6)
    0.000119
    """
    if np.issubdtype(dtype, np.floating):
        eps = float(np.finfo(dtype).eps)
        if eps > float(np.finfo(np.float64).eps):
            return max(SUM_TOLERANCE, length * eps)
    return SUM_TOLERANCE


def check_distribution(
    arr: NDArray[np.float64], name: str, axis: int, tolerance: float = SUM_TOLERANCE
) -> float:
    """Raise unless ``arr`` holds probability vectors along ``axis``; return its minimum.

    Two passes over the data in the common case: the sums along ``axis`` (a NaN
    or an infinity makes a sum non-finite) and the minimum (a negative entry).
    The slower search for what exactly is wrong runs only when something is.
    """
    if arr.shape[axis] == 0:
        raise ValueError(f"{name} is empty along axis {axis}: a distribution needs outcomes")
    if arr.size == 0:
        return 0.0
    # inf - inf or an overflowing sum is reported below, as what is wrong with the input
    with np.errstate(invalid="ignore", over="ignore"):
        sums = arr.sum(axis=axis)
    if not np.isfinite(sums).all():
        if np.isnan(arr).any():
            raise ValueError(f"{name} contains NaN")
        if np.isinf(arr).any():
            raise ValueError(f"{name} contains an infinite value")
    smallest = float(arr.min())
    if smallest < 0:
        negative = arr < 0
        value = float(arr.flat[int(np.argmax(negative))])
        raise ValueError(
            f"{name} has a negative entry {value!r} at index {_first_bad(negative)}: "
            "probabilities cannot be negative"
        )
    deviation = np.abs(sums - 1.0)
    if not (deviation <= tolerance).all():
        worst = float(np.ravel(sums)[int(np.argmax(np.ravel(deviation)))])
        raise ValueError(
            f"{name} does not sum to one along axis {axis} (a sum is {worst!r}); "
            "klbook never normalises silently: divide by the sum yourself if you "
            "meant to"
        )
    return smallest


def rows_minimum(block: NDArray[np.float64], tolerance: float) -> float | None:
    """Return the smallest entry of ``block`` if each row is a distribution, else None.

    The quick check of a block of rows (the last axis holds the outcomes) that
    the fused path of :mod:`klbook.measures` makes while the block is in cache:
    the minimum and the row sums, no message. A NaN fails both comparisons, an
    infinity the sums. On None the caller runs :func:`check_distribution` on
    the whole array, which says what is wrong.

    Examples
    --------
    >>> rows_minimum(np.array([[0.25, 0.75], [1.0, 0.0]]), 1e-8)
    0.0
    >>> rows_minimum(np.array([[0.5, 0.6]]), 1e-8) is None
    True
    """
    smallest = float(block.min())
    with np.errstate(invalid="ignore", over="ignore"):  # a bad sum is simply not one
        sums = block.sum(axis=-1)
    if smallest >= 0 and bool((np.abs(sums - 1.0) <= tolerance).all()):
        return smallest
    return None


def _vector(x: ArrayLike, name: str) -> tuple[NDArray[np.float64], np.dtype[Any]]:
    raw = _as_numeric(x, name)
    if raw.ndim == 0:
        raise ValueError(
            f"{name} must be a probability vector (at least one dimension), got a scalar"
        )
    return raw.astype(np.float64, copy=False), raw.dtype


def distribution(x: ArrayLike, name: str, axis: Any) -> tuple[NDArray[np.float64], int, float]:
    """Validate one array of probability vectors along ``axis``.

    Returns the float64 array, the axis as a non-negative index and the
    smallest entry (0.0 tells the caller that some outcome has probability 0).
    """
    arr, dtype = _vector(x, name)
    ax = normalise_axis(axis, arr.ndim, name)
    smallest = check_distribution(arr, name, ax, sum_tolerance(dtype, arr.shape[ax]))
    return arr, ax, smallest


def distribution_pair(
    p: ArrayLike, q: ArrayLike, axis: Any, names: tuple[str, str] = ("p", "q")
) -> tuple[NDArray[np.float64], NDArray[np.float64], int, float, float]:
    """Validate two arrays of probability vectors that are compared along ``axis``.

    The shapes are aligned first, as NumPy broadcasting aligns them (from the
    right), so that ``axis`` means the same dimension of both arrays and of the
    result. Both must have the same number of outcomes along it: broadcasting a
    single outcome would compare distributions over different sets. The other
    dimensions broadcast. Returns the two arrays (not yet broadcast, each with
    the result's number of dimensions), the axis as a non-negative index and
    the smallest entry of each.
    """
    a, b = names
    pa, pdtype = _vector(p, a)
    qa, qdtype = _vector(q, b)
    ndim = max(pa.ndim, qa.ndim)
    ax = normalise_axis(axis, ndim, f"{a} and {b}")
    shape_p, shape_q = pa.shape, qa.shape
    pa = pa.reshape((1,) * (ndim - pa.ndim) + pa.shape)
    qa = qa.reshape((1,) * (ndim - qa.ndim) + qa.shape)
    for name, arr in ((a, pa), (b, qa)):
        if arr.shape[ax] == 0:
            raise ValueError(f"{name} is empty along axis {axis}: a distribution needs outcomes")
    if pa.shape[ax] != qa.shape[ax]:
        raise ValueError(
            f"{a} and {b} must have the same number of outcomes along axis {axis}; "
            f"got {pa.shape[ax]} and {qa.shape[ax]} (shapes {shape_p} and {shape_q}, "
            "aligned from the right as NumPy broadcasting aligns them)"
        )
    try:
        np.broadcast_shapes(pa.shape, qa.shape)
    except ValueError:
        raise ValueError(
            f"{a} and {b} have shapes {shape_p} and {shape_q}, which do not broadcast"
        ) from None
    length = pa.shape[ax]
    pmin = check_distribution(pa, a, ax, sum_tolerance(pdtype, length))
    qmin = check_distribution(qa, b, ax, sum_tolerance(qdtype, length))
    return pa, qa, ax, pmin, qmin


def as_probabilities(x: ArrayLike, name: str) -> NDArray[np.float64]:
    """Return ``x`` as an array of numbers in [0, 1] (elementwise probabilities)."""
    arr = as_real_array(x, name)
    bad = (arr < 0) | (arr > 1)
    if bad.any():
        where = _first_bad(bad)
        value = float(arr[np.unravel_index(int(np.argmax(bad)), arr.shape)])
        kind = "negative" if value < 0 else "greater than 1"
        at = f" at index {where}" if arr.ndim else ""
        raise ValueError(
            f"{name} must hold probabilities in [0, 1]; it has a {kind} value {value!r}{at}"
        )
    return arr


def as_distribution(x: ArrayLike, name: str, axis: Any) -> NDArray[np.float64]:
    """Return ``x`` as an array of probability vectors along ``axis``.

    Raises if ``x`` is not at least one-dimensional, is empty along ``axis``,
    has a negative, infinite or NaN entry, or does not sum to one along ``axis``
    (within :func:`sum_tolerance`).
    """
    return distribution(x, name, axis)[0]


def broadcast_pair(
    p: NDArray[np.float64], q: NDArray[np.float64], names: tuple[str, str] = ("p", "q")
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Broadcast two arrays, raising a clear error if their shapes do not fit.

    For two distributions compared along an axis, :func:`distribution_pair`
    also checks that they have the same outcomes.
    """
    a, b = names
    try:
        return np.broadcast_arrays(p, q)  # type: ignore[return-value]
    except ValueError:
        raise ValueError(
            f"{a} and {b} have shapes {p.shape} and {q.shape}, which do not broadcast"
        ) from None


def log_base(base: Any) -> float:
    """Return ``log(base)``, the divisor that converts nats to ``base`` units.

    ``None`` means natural logarithms (nats) and returns 1.0.
    """
    if base is None:
        return 1.0
    if isinstance(base, bool) or not isinstance(base, Real):
        raise ValueError(f"base must be a positive real number other than 1, got {base!r}")
    value = float(base)
    if not math.isfinite(value) or value <= 0 or value == 1:
        raise ValueError(f"base must be a positive real number other than 1, got {base!r}")
    return math.log(value)


def as_counts(x: ArrayLike, name: str) -> NDArray[np.int64]:
    """Return ``x`` as an array of non-negative whole numbers."""
    arr = as_real_array(x, name)
    if np.isinf(arr).any():
        raise ValueError(f"{name} must be finite whole numbers, got an infinite value")
    if (arr < 0).any():
        raise ValueError(f"{name} must be non-negative, got {float(arr.min())!r}")
    if (arr != np.round(arr)).any():
        raise ValueError(f"{name} must be whole numbers, got a fractional value")
    if arr.size and float(arr.max()) > MAX_COUNT:
        raise ValueError(
            f"{name} must be at most 2**53 (counts are exact integers), got {float(arr.max())!r}"
        )
    return arr.astype(np.int64)


def scalar_or_array(x: NDArray[np.float64]) -> float | NDArray[np.float64]:
    """Return a Python float for a 0-d result, the array otherwise."""
    if np.ndim(x) == 0:
        return float(x)
    return x
