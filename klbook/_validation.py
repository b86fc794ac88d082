"""Input checks shared by klbook's public functions.

Every check raises :class:`ValueError` with a message that names the argument
and says what is wrong with it. Nothing here normalises or repairs input.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__: list[str] = []

#: How far a probability vector's sum may stray from one (rounding, not error).
SUM_TOLERANCE = 1e-8


def as_real_array(x: ArrayLike, name: str) -> NDArray[np.float64]:
    """Return ``x`` as a float64 array, or raise if it is not real numbers."""
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged nested lists and the like
        raise ValueError(f"{name} must be an array of real numbers ({exc})") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise ValueError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise ValueError(f"{name} must be real, got complex values")
    arr = arr.astype(np.float64, copy=False)
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN")
    return arr


def _first_bad(mask: NDArray[np.bool_]) -> tuple[int, ...] | int:
    idx = np.unravel_index(int(np.argmax(mask)), mask.shape)
    idx = tuple(int(i) for i in idx)
    return idx[0] if len(idx) == 1 else idx


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


def as_distribution(x: ArrayLike, name: str, axis: int) -> NDArray[np.float64]:
    """Return ``x`` as an array of probability vectors along ``axis``.

    Raises if ``x`` is not at least one-dimensional, is empty along ``axis``,
    has a negative, infinite or NaN entry, or does not sum to one along ``axis``
    (within :data:`SUM_TOLERANCE`).
    """
    arr = as_real_array(x, name)
    if arr.ndim == 0:
        raise ValueError(
            f"{name} must be a probability vector (at least one dimension), got a scalar"
        )
    try:
        length = arr.shape[axis]
    except IndexError:
        raise ValueError(
            f"axis {axis} is out of range for {name} with {arr.ndim} dimension(s)"
        ) from None
    if length == 0:
        raise ValueError(f"{name} is empty along axis {axis}: a distribution needs outcomes")
    if np.isinf(arr).any():
        raise ValueError(f"{name} contains an infinite value")
    negative = arr < 0
    if negative.any():
        flat = int(np.argmax(negative))
        value = float(arr.flat[flat])
        raise ValueError(
            f"{name} has a negative entry {value!r} at index {_first_bad(negative)}: "
            "probabilities cannot be negative"
        )
    sums = arr.sum(axis=axis)
    off = np.abs(sums - 1.0) > SUM_TOLERANCE
    if np.any(off):
        worst = float(np.ravel(sums)[int(np.argmax(np.ravel(np.abs(sums - 1.0))))])
        raise ValueError(
            f"{name} does not sum to one along axis {axis} (a sum is {worst!r}); "
            "klbook never normalises silently: divide by the sum yourself if you "
            "meant to"
        )
    return arr


def broadcast_pair(
    p: NDArray[np.float64],
    q: NDArray[np.float64],
    names: tuple[str, str] = ("p", "q"),
    axis: int | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Broadcast two arrays, raising a clear error if their shapes do not fit.

    With ``axis`` given, the two arrays must also have the same number of
    outcomes along that axis (broadcasting a single outcome is not allowed
    there, since that would compare distributions over different sets).
    """
    a, b = names
    if axis is not None and p.shape[axis] != q.shape[axis]:
        raise ValueError(
            f"{a} and {b} must have the same number of outcomes along axis {axis}; "
            f"got {p.shape[axis]} and {q.shape[axis]} (shapes {p.shape} and {q.shape})"
        )
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
    return arr.astype(np.int64)


def scalar_or_array(x: NDArray[np.float64]) -> float | NDArray[np.float64]:
    """Return a Python float for a 0-d result, the array otherwise."""
    if np.ndim(x) == 0:
        return float(x)
    return x
