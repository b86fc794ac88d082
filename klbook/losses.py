"""Softmax, log-softmax and the cross-entropy loss computed from logits (chapter 4).

A classifier outputs one real number per class, its *logits* ``z``; the model's
class probabilities are ``softmax(z)``. The loss of one example with true class
``y`` is the cross-entropy of the target with the model,
``−log softmax(z)[y] = logsumexp(z) − z[y]``, computed here from the logits
directly with the log-sum-exp shift, never as ``log(softmax(z))``.

Conventions of this module:

* The class axis of ``cross_entropy_loss`` is the **last** axis: logits have
  shape ``(..., C)``. (PyTorch's ``cross_entropy`` puts the classes on axis 1;
  for the usual 2-D ``(N, C)`` batch the two agree.)
* Logits may be any finite real numbers, ``±1e4`` and beyond. ``-inf`` is
  allowed and means probability exactly 0 (a masked class); ``+inf`` is
  rejected, since it makes the probabilities ``inf/inf``; ``NaN`` is rejected;
  a row whose logits are all ``-inf`` is rejected, since no distribution
  gives every class probability zero.
* Results are float64; a 0-d result is returned as a Python ``float``.

With two classes one logit ``s = z₁ − z₀`` suffices: :func:`softplus` and
:func:`binary_cross_entropy_with_logits` give the loss ``t · softplus(−s) +
(1 − t) · softplus(s)`` without ever taking ``log(sigmoid(s))``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from fractions import Fraction
from typing import Literal, ParamSpec, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from klbook._validation import SUM_TOLERANCE, normalise_axis, scalar_or_array

__all__ = [
    "binary_cross_entropy_with_logits",
    "cross_entropy_loss",
    "cross_entropy_loss_grad",
    "log_softmax",
    "logsumexp",
    "softmax",
    "softplus",
]

Result = float | NDArray[np.float64]
_P = ParamSpec("_P")
_R = TypeVar("_R")
Reduction = Literal["mean", "sum", "none"]
_REDUCTIONS = ("mean", "sum", "none")


# --------------------------------------------------------------------------- #
# Validation (one pass: NaN and +inf are found through the row maxima)
# --------------------------------------------------------------------------- #


def _real_logits(logits: ArrayLike) -> NDArray[np.float64]:
    """Return ``logits`` as a float64 array, any shape, if they are real numbers."""
    try:
        arr = np.asarray(logits)
    except Exception as exc:  # ragged nested lists and the like
        raise ValueError(f"logits must be an array of real numbers ({exc})") from None
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"logits must be an array of real numbers, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise ValueError("logits must be real, got complex values")
    return arr.astype(np.float64, copy=False)


def _as_logits(logits: ArrayLike) -> NDArray[np.float64]:
    """Return ``logits`` as a float64 array of at least one dimension (no value scan)."""
    arr = _real_logits(logits)
    if arr.ndim == 0:
        raise ValueError("logits must have a class axis (at least one dimension), got a scalar")
    return arr


def _row_max(arr: NDArray[np.float64], axis: int) -> NDArray[np.float64]:
    """Row maxima (keepdims), validating the rows on the way.

    ``max`` propagates NaN, so one reduction finds NaN, ``+inf`` and all-``-inf``
    rows without a separate pass over the whole array.
    """
    if arr.shape[axis] == 0:
        raise ValueError(f"logits are empty along the class axis {axis}: there are no classes")
    m = np.max(arr, axis=axis, keepdims=True)
    if np.isnan(m).any():
        raise ValueError("logits contain NaN")
    if np.isposinf(m).any():
        raise ValueError(
            "logits contain +inf, which has no probability (inf/inf); use a large finite "
            "logit, or -inf to give a class probability zero"
        )
    if np.isneginf(m).any():
        raise ValueError(
            "a row of logits is all -inf: no distribution gives every class probability zero"
        )
    return m


def _underflow_is_fine(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``func`` with underflow ignored, whatever the caller's ``np.seterr``.

    ``exp`` of a very negative shifted logit rounding to 0 is the intended
    result (a probability too small for float64), not an error.
    """

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with np.errstate(under="ignore"):
            return func(*args, **kwargs)

    return wrapper


def _shifted(arr: NDArray[np.float64], m: NDArray[np.float64]) -> NDArray[np.float64]:
    """``arr − m`` in a new array; overflow to ``-inf`` (near ``-1.8e308``) is harmless."""
    with np.errstate(over="ignore"):
        return np.subtract(arr, m)


# --------------------------------------------------------------------------- #
# softmax, log_softmax, logsumexp
# --------------------------------------------------------------------------- #


@_underflow_is_fine
def logsumexp(logits: ArrayLike, axis: int = -1) -> Result:
    """Compute the log of a sum of exponentials, ``log Σ_c exp(z_c)``, without overflow.

    Computed as ``m + log Σ_c exp(z_c − m)`` with ``m = max_c z_c``: every
    exponent is then at most 0, so nothing overflows, and the largest term is
    exactly 1, so the log never sees 0.

    Parameters
    ----------
    logits : array_like
        Real numbers; ``-inf`` allowed (contributes nothing), ``+inf`` and NaN not.
    axis : int, default -1
        The axis to sum over; the other axes are a batch.

    Returns
    -------
    float or ndarray
        ``log Σ exp``, with the summed axis removed; a float for a 1-D input.

    Raises
    ------
    ValueError
        If ``logits`` is not real, is a scalar, is empty along ``axis``, or
        contains NaN, ``+inf`` or a row that is all ``-inf``.

    See Also
    --------
    scipy.special.logsumexp : the same without the input checks.

    Examples
    --------
    >>> from klbook.losses import logsumexp
    >>> round(logsumexp([1000.0, 1000.0]) - 1000.0, 6)  # log 2; exp(1000) overflows
    0.693147
    >>> logsumexp([0.0, -float("inf")])
    0.0
    """
    arr = _as_logits(logits)
    ax = normalise_axis(axis, arr.ndim, "logits")
    m = _row_max(arr, ax)
    e = _shifted(arr, m)
    np.exp(e, out=e)
    out = np.log(np.sum(e, axis=ax)) + np.squeeze(m, axis=ax)
    return scalar_or_array(out)


@_underflow_is_fine
def log_softmax(logits: ArrayLike, axis: int = -1) -> NDArray[np.float64]:
    """Log-probabilities ``log softmax(z) = z − logsumexp(z)``, stable for any logits.

    Parameters
    ----------
    logits : array_like
        Real numbers; ``-inf`` allowed (log-probability ``-inf``), ``+inf`` and
        NaN not.
    axis : int, default -1
        The class axis.

    Returns
    -------
    ndarray
        Same shape as ``logits``; every entry ≤ 0 and ``exp`` of each row sums to one.

    Raises
    ------
    ValueError
        If ``logits`` is not real, is a scalar, is empty along ``axis``, or
        contains NaN, ``+inf`` or a row that is all ``-inf``.

    See Also
    --------
    softmax, logsumexp

    Examples
    --------
    >>> from klbook.losses import log_softmax
    >>> log_softmax([0.0, 0.0]).round(6)
    array([-0.693147, -0.693147])
    >>> log_softmax([1e4, 0.0, -1e4])  # log(softmax) would give -inf and NaN
    array([     0., -10000., -20000.])
    """
    arr = _as_logits(logits)
    ax = normalise_axis(axis, arr.ndim, "logits")
    m = _row_max(arr, ax)
    shifted = _shifted(arr, m)
    log_norm = np.log(np.sum(np.exp(shifted), axis=ax, keepdims=True))
    shifted -= log_norm
    return shifted


@_underflow_is_fine
def softmax(logits: ArrayLike, axis: int = -1) -> NDArray[np.float64]:
    """Class probabilities ``exp(z_c) / Σ_k exp(z_k)``, stable for any logits.

    The logits are shifted by their row maximum first (which does not change
    the result), so ``exp`` never overflows; the largest class gets
    ``exp(0) = 1`` before normalising, so a row never sums to zero.

    Parameters
    ----------
    logits : array_like
        Real numbers; ``-inf`` allowed (probability exactly 0), ``+inf`` and
        NaN not.
    axis : int, default -1
        The class axis.

    Returns
    -------
    ndarray
        Same shape as ``logits``: non-negative, each row summing to one (to
        rounding).

    Raises
    ------
    ValueError
        If ``logits`` is not real, is a scalar, is empty along ``axis``, or
        contains NaN, ``+inf`` or a row that is all ``-inf``.

    See Also
    --------
    log_softmax, cross_entropy_loss

    Examples
    --------
    >>> from klbook.losses import softmax
    >>> softmax([0.0, 0.0, 0.0]).round(4)
    array([0.3333, 0.3333, 0.3333])
    >>> softmax([1e4, 0.0])  # exp(1e4) overflows, the shifted form does not
    array([1., 0.])
    >>> softmax([0.0, -float("inf")])
    array([1., 0.])
    """
    arr = _as_logits(logits)
    ax = normalise_axis(axis, arr.ndim, "logits")
    m = _row_max(arr, ax)
    e = _shifted(arr, m)
    np.exp(e, out=e)
    e /= np.sum(e, axis=ax, keepdims=True)
    return e


# --------------------------------------------------------------------------- #
# The cross-entropy loss
# --------------------------------------------------------------------------- #


def _check_smoothing(label_smoothing: float) -> float:
    if isinstance(label_smoothing, bool) or not isinstance(
        label_smoothing, int | float | np.integer | np.floating
    ):
        raise ValueError(f"label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
    eps = float(label_smoothing)
    if not 0.0 <= eps <= 1.0:  # also catches NaN
        raise ValueError(f"label_smoothing must lie in [0, 1], got {label_smoothing!r}")
    return eps


def _targets(
    targets: ArrayLike, shape: tuple[int, ...]
) -> tuple[NDArray[np.intp] | None, NDArray[np.float64] | None]:
    """Classify and validate targets: (class indices, None) or (None, probability rows)."""
    if shape[-1] == 0:
        raise ValueError("logits are empty along the class axis (the last): there are no classes")
    try:
        t = np.asarray(targets)
    except Exception as exc:
        raise ValueError(f"targets must be class indices or probability rows ({exc})") from None
    n_classes = shape[-1]
    if t.shape == shape[:-1]:
        if t.dtype == np.bool_ or not np.issubdtype(t.dtype, np.integer):
            raise ValueError(
                f"targets of shape {t.shape} are class indices and must be integers, got "
                f"dtype {t.dtype} (probability targets need the logits' shape {shape})"
            )
        if t.size and (t.min() < 0 or t.max() >= n_classes):
            bad = t[(t < 0) | (t >= n_classes)].flat[0]
            raise ValueError(
                f"targets holds the class index {int(bad)}, outside 0..{n_classes - 1} "
                f"for {n_classes} classes"
            )
        return t.astype(np.intp, copy=False), None
    if t.shape == shape:
        if t.dtype == np.bool_ or not np.issubdtype(t.dtype, np.number):
            raise ValueError(f"probability targets must be real numbers, got dtype {t.dtype}")
        if np.iscomplexobj(t):
            raise ValueError("probability targets must be real, got complex values")
        p = t.astype(np.float64, copy=False)
        if not np.isfinite(p).all():
            raise ValueError("probability targets contain NaN or an infinite value")
        if (p < 0).any():
            raise ValueError(
                f"probability targets have a negative entry {float(p.min())!r}: "
                "each row must be a distribution over the classes"
            )
        sums = p.sum(axis=-1)
        off = np.abs(sums - 1.0)
        if p.size and (off > SUM_TOLERANCE).any():
            worst = float(np.ravel(sums)[int(np.argmax(off))])
            raise ValueError(
                f"probability targets must sum to one over the class axis (the last); a row "
                f"sums to {worst!r}. klbook never normalises silently"
            )
        return None, p
    raise ValueError(
        f"targets of shape {t.shape} do not fit logits of shape {shape}: give class "
        f"indices of shape {shape[:-1]} or probability rows of shape {shape} "
        "(the class axis is the last one)"
    )


def _check_reduction(reduction: str, allowed: tuple[str, ...] = _REDUCTIONS) -> str:
    if not isinstance(reduction, str) or reduction not in allowed:
        raise ValueError(f"reduction must be one of {allowed}, got {reduction!r}")
    return reduction


def _reduce(per_example: NDArray[np.float64], reduction: str) -> Result:
    """Return the per-example losses as they are ("none"), summed or averaged."""
    if reduction == "none":
        return scalar_or_array(per_example)
    with np.errstate(over="ignore"):  # a total beyond the float range is inf, correctly
        if reduction == "sum":
            return float(np.sum(per_example))
        mean = np.mean(per_example)
        if np.isinf(mean) and np.isfinite(per_example).all():
            # The sum overflowed though the mean cannot (it is at most the largest loss):
            # average the scaled-down losses.
            mean = min(np.sum(per_example / per_example.size), np.max(per_example))
    return float(mean)


@_underflow_is_fine
def cross_entropy_loss(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    label_smoothing: float = 0.0,
    reduction: Reduction = "mean",
) -> Result:
    """Cross-entropy loss of a classifier, from its logits, stably.

    For one example with logits ``z`` (length C) and target distribution ``t``
    over the classes, the loss is the cross-entropy of the target with the
    model ``softmax(z)``:

        loss = −Σ_c t_c log softmax(z)_c = logsumexp(z) − Σ_c t_c z_c.

    For a class index ``y`` (a one-hot target) this is
    ``logsumexp(z) − z[y] = −log softmax(z)[y]``, the negative log-likelihood.
    With label smoothing ε the target is first mixed with the uniform
    distribution, ``(1 − ε) t + ε / C``.

    Parameters
    ----------
    logits : array_like, shape (..., C)
        Real logits, the classes on the **last** axis. ``-inf`` means
        probability 0; ``+inf`` and NaN are rejected.
    targets : array_like, shape (...) or (..., C)
        Either integer class indices in ``0..C-1`` with the logits' shape
        minus the class axis, or probability rows with the logits' shape
        (non-negative, each summing to one; never normalised silently).
    label_smoothing : float, default 0.0
        ε in [0, 1]; the target becomes ``(1 − ε) · target + ε / C``.
    reduction : {"mean", "sum", "none"}, default "mean"
        Average or add the per-example losses, or return them all.

    Returns
    -------
    float or ndarray
        The loss in nats, ≥ 0; an array of shape ``(...)`` for
        ``reduction="none"``. It is ``inf`` where the model gives probability 0
        (a ``-inf`` logit) to a class the target gives probability > 0.

    Raises
    ------
    ValueError
        If the logits are invalid (see :func:`softmax`), the targets' shape
        fits neither form, a class index is not an integer or is out of range,
        a probability row is not a distribution, ``label_smoothing`` lies
        outside [0, 1], ``reduction`` is unknown, or the mean of an empty
        batch is asked for.

    See Also
    --------
    cross_entropy_loss_grad, log_softmax, klbook.measures.cross_entropy

    Notes
    -----
    The semantics are those of PyTorch's ``torch.nn.functional.cross_entropy``
    (logits in, class indices or class probabilities as targets, the same
    label smoothing and reductions), with two differences: the class axis is
    the last one here, axis 1 in PyTorch (they agree for an ``(N, C)`` batch),
    and there is no ``weight`` or ``ignore_index`` argument.

    For class indices no one-hot matrix is built: the loss needs only the row
    log-sum-exp and the picked logit, and with smoothing also the row mean of
    the logits, since ``−Σ_c (ε/C) log softmax(z)_c = ε (logsumexp(z) −
    mean_c z_c)``. All three are taken of the logits shifted by their row
    maximum ``m``, as ``log Σ_c exp(z_c − m) − (z_y − m)`` and so on, so adding
    a constant to a row changes nothing even near the float limit ±1.8e308.
    A row whose logits span more than the float range (``z_y − m`` itself
    overflows) is redone at half scale: the result is accurate to rounding
    wherever it is representable, and ``inf`` only where the true loss exceeds
    the float range.

    Examples
    --------
    >>> import math
    >>> from klbook.losses import cross_entropy_loss
    >>> z = [[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]]
    >>> round(cross_entropy_loss(z, [0, 2]), 6)
    0.634229
    >>> cross_entropy_loss([[0.0, 0.0]], [1]) == math.log(2)
    True
    >>> cross_entropy_loss(z, [0, 2], reduction="none").round(6)
    array([0.169846, 1.098612])
    >>> cross_entropy_loss([1e4, 0.0], 1)  # naive -log(softmax) gives inf
    10000.0
    >>> round(cross_entropy_loss([0.0, 0.0], [0.5, 0.5]), 6)  # probability target
    0.693147
    """
    eps = _check_smoothing(label_smoothing)
    _check_reduction(reduction)
    x = _as_logits(logits)
    index, prob = _targets(targets, x.shape)
    if reduction == "mean" and x.size == 0:
        raise ValueError("the mean loss of an empty batch is undefined; use reduction='sum'")
    n_classes = x.shape[-1]
    if x.size == 0:
        per_example = np.zeros(x.shape[:-1])
    else:
        m = _row_max(x, -1)
        t = None  # the (smoothed) probability target, if the targets are rows
        if prob is not None:
            t = prob if eps == 0.0 else (1.0 - eps) * prob + eps / n_classes
        # Everything below uses the shifted logits s = x − m ≤ 0, never x itself, so a row
        # of logits near ±1.8e308 gives the same loss as the same row near 0. Where a row
        # spans more than the float range, s overflows to -inf; such rows come out inf and
        # are redone at half scale by _wide_row_losses. Overflow here is never an error.
        with np.errstate(over="ignore"):
            s = _shifted(x, m)
            if index is not None:
                s_picked = np.take_along_axis(s, index[..., None], axis=-1)[..., 0]
                s_mean = np.mean(s, axis=-1) if eps > 0.0 else None
                np.exp(s, out=s)
                log_norm = np.log(np.sum(s, axis=-1))
                del s
                per_example = np.zeros_like(log_norm)
                if eps < 1.0:
                    per_example += (1.0 - eps) * (log_norm - s_picked)
                if s_mean is not None:
                    per_example += eps * (log_norm - s_mean)
            else:
                assert t is not None
                log_norm = np.log(np.sum(np.exp(s), axis=-1))
                log_q = s
                log_q -= log_norm[..., None]
                # 0 · log 0 = 0: a class the target rules out adds nothing, even at -inf.
                terms = np.multiply(t, log_q, out=np.zeros_like(log_q), where=t > 0)
                per_example = -np.sum(terms, axis=-1)
                del s, log_q, terms
        wide = ~np.isfinite(per_example)
        if wide.any():
            per_example[wide] = _wide_row_losses(
                x[wide],
                m[wide],
                log_norm[wide],
                None if index is None else index[wide],
                None if t is None else t[wide],
                eps,
            )
        # Rounding can leave -1e-17 where the loss is exactly zero; it is never negative.
        per_example = np.maximum(per_example, 0.0)
    return _reduce(per_example, reduction)


def _wide_row_losses(
    x: NDArray[np.float64],
    m: NDArray[np.float64],
    log_norm: NDArray[np.float64],
    index: NDArray[np.intp] | None,
    t: NDArray[np.float64] | None,
    eps: float,
) -> NDArray[np.float64]:
    """Losses of rows whose shifted logits overflowed, computed at half scale.

    For finite logits ``(m − x) / 2 = m/2 − x/2`` lies in ``[0, 1.8e308]``, so it
    never overflows, and the half-loss is a weighted mean of such numbers (plus
    ``log_norm / 2``), so it never overflows either. Doubling it at the end gives
    ``inf`` when the true loss lies beyond the float range. Every term is
    non-negative, so there is no cancellation. A ``-inf`` logit gives ``d = inf``,
    which is the right answer wherever the target puts mass on it. The few rows
    whose loss lies within rounding of the float limit are settled in exact
    rational arithmetic, so ``inf`` means the true loss exceeds it.
    """
    with np.errstate(over="ignore"):
        d = 0.5 * m - 0.5 * x
        half_norm = 0.5 * log_norm
        if index is not None:
            half = np.zeros_like(log_norm)
            if eps < 1.0:
                d_picked = np.take_along_axis(d, index[..., None], axis=-1)[..., 0]
                half += (1.0 - eps) * (half_norm + d_picked)
            if eps > 0.0:
                half += eps * (half_norm + np.sum(d / x.shape[-1], axis=-1))
        else:
            assert t is not None
            terms = np.multiply(t, d + half_norm[..., None], out=np.zeros_like(d), where=t > 0)
            half = np.sum(terms, axis=-1)
        loss = 2.0 * half
    # Within rounding of the float limit, whether the loss is finite is decided exactly.
    for i in np.flatnonzero(np.abs(half - _HALF_MAX) <= _HALF_MAX * 2.0**-30):
        if index is not None:
            weights = [Fraction(eps) / x.shape[-1]] * x.shape[-1]
            weights[index[i]] += 1 - Fraction(eps)
        else:
            assert t is not None
            weights = [Fraction(w) for w in t[i].tolist()]
        loss[i] = _exact_loss(x[i].tolist(), float(m[i, 0]), float(log_norm[i]), weights)
    return loss


_HALF_MAX = 0.5 * float(np.finfo(np.float64).max)


def _exact_loss(row: list[float], m: float, log_norm: float, weights: list[Fraction]) -> float:
    """``Σ_c w_c (log_norm + m − z_c)`` in exact rationals, rounded once (``inf`` past the max)."""
    base = Fraction(log_norm) + Fraction(m)
    total = sum(
        (w * (base - Fraction(z)) for z, w in zip(row, weights, strict=True) if w), Fraction()
    )
    try:
        return float(total)
    except OverflowError:
        return math.inf


@_underflow_is_fine
def cross_entropy_loss_grad(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    label_smoothing: float = 0.0,
    reduction: Literal["mean", "sum"] = "mean",
) -> NDArray[np.float64]:
    """Gradient of :func:`cross_entropy_loss` with respect to the logits.

    For one example, ``∂ loss / ∂ z_c = softmax(z)_c − t_c``: the model's
    probabilities minus the (smoothed) target. For the mean over a batch of N
    examples every row is divided by N.

    Parameters
    ----------
    logits : array_like, shape (..., C)
        As for :func:`cross_entropy_loss`.
    targets : array_like, shape (...) or (..., C)
        Class indices or probability rows, as for :func:`cross_entropy_loss`.
    label_smoothing : float, default 0.0
        ε in [0, 1], as for :func:`cross_entropy_loss`.
    reduction : {"mean", "sum"}, default "mean"
        The gradient of the mean loss (rows divided by N, the number of
        examples, the product of the batch dimensions) or of the summed loss.

    Returns
    -------
    ndarray
        Same shape as ``logits``; each row sums to zero (to rounding).

    Raises
    ------
    ValueError
        For the same inputs as :func:`cross_entropy_loss`.

    See Also
    --------
    cross_entropy_loss

    Examples
    --------
    >>> from klbook.losses import cross_entropy_loss_grad
    >>> cross_entropy_loss_grad([[0.0, 0.0], [0.0, 0.0]], [0, 1])
    array([[-0.25,  0.25],
           [ 0.25, -0.25]])
    >>> cross_entropy_loss_grad([0.0, 0.0], 0, reduction="sum")
    array([-0.5,  0.5])
    """
    eps = _check_smoothing(label_smoothing)
    _check_reduction(reduction, ("mean", "sum"))
    x = _as_logits(logits)
    index, prob = _targets(targets, x.shape)
    n_examples = int(np.prod(x.shape[:-1]))
    if reduction == "mean" and x.size == 0:
        raise ValueError("the mean loss of an empty batch is undefined; use reduction='sum'")
    if x.size == 0:
        return np.zeros(x.shape)
    grad = softmax(x, axis=-1)
    n_classes = x.shape[-1]
    if index is not None:
        rows = np.take_along_axis(grad, index[..., None], axis=-1)
        np.put_along_axis(grad, index[..., None], rows - (1.0 - eps), axis=-1)
        if eps > 0.0:
            grad -= eps / n_classes
    else:
        assert prob is not None
        grad -= prob if eps == 0.0 else (1.0 - eps) * prob + eps / n_classes
    if reduction == "mean":
        grad /= n_examples
    return grad


# --------------------------------------------------------------------------- #
# Two classes: one logit, the sigmoid and softplus
# --------------------------------------------------------------------------- #


def _as_binary_logits(logits: ArrayLike) -> NDArray[np.float64]:
    """Return one logit per example as float64 (any shape, a scalar included); NaN rejected."""
    arr = _real_logits(logits)
    if np.isnan(arr).any():
        raise ValueError("logits contain NaN")
    return arr


@_underflow_is_fine
def softplus(logits: ArrayLike) -> Result:
    """Compute ``softplus(s) = log(1 + e^s)`` elementwise, without overflow.

    Computed as ``max(s, 0) + log1p(exp(−|s|))``: the exponent is never
    positive, so nothing overflows, and ``log1p`` keeps the small term
    accurate. ``softplus(s) = −log(1 − sigmoid(s))`` and
    ``softplus(−s) = −log sigmoid(s)``, so it is the loss of one logit for a
    binary label (see :func:`binary_cross_entropy_with_logits`).

    Parameters
    ----------
    logits : array_like
        Real numbers, any shape; ``±inf`` allowed (``softplus(−inf) = 0``,
        ``softplus(inf) = inf``), NaN not.

    Returns
    -------
    float or ndarray
        ``log(1 + e^s)`` elementwise, > 0 and > ``s``; a float for a scalar.

    Raises
    ------
    ValueError
        If ``logits`` is not an array of real numbers or contains NaN.

    See Also
    --------
    binary_cross_entropy_with_logits
    numpy.logaddexp : ``np.logaddexp(0, s)`` is the same number.

    Examples
    --------
    >>> import math
    >>> from klbook.losses import softplus
    >>> softplus(0.0) == math.log(2)
    True
    >>> softplus([1000.0, -1000.0])  # log(1 + exp(1000)) overflows
    array([1000.,    0.])
    >>> softplus(-40.0)  # log(1 + 4.2e-18) would round to 0 without log1p
    4.248354255291589e-18
    """
    return scalar_or_array(_softplus(_as_binary_logits(logits)))


def _softplus(s: NDArray[np.float64]) -> NDArray[np.float64]:
    """``max(s, 0) + log1p(exp(−|s|))`` of a checked float array."""
    return np.maximum(s, 0.0) + np.log1p(np.exp(-np.abs(s)))


def _binary_targets(targets: ArrayLike, shape: tuple[int, ...]) -> NDArray[np.float64]:
    """Binary targets: real numbers in [0, 1] with the logits' shape (soft labels allowed)."""
    try:
        t = np.asarray(targets)
    except Exception as exc:
        raise ValueError(f"targets must be an array of numbers in [0, 1] ({exc})") from None
    if t.dtype == np.bool_ or not np.issubdtype(t.dtype, np.number):
        raise ValueError(
            f"targets must be numbers in [0, 1] (0 and 1 for hard labels), got dtype {t.dtype}"
        )
    if np.iscomplexobj(t):
        raise ValueError("targets must be real, got complex values")
    if t.shape != shape:
        raise ValueError(
            f"targets of shape {t.shape} do not fit logits of shape {shape}: give one "
            "target per logit"
        )
    p = t.astype(np.float64, copy=False)
    if np.isnan(p).any():
        raise ValueError("targets contain NaN")
    if p.size and (p.min() < 0.0 or p.max() > 1.0):
        bad = float(p[(p < 0.0) | (p > 1.0)].flat[0])
        raise ValueError(
            f"targets must lie in [0, 1] (the probability of class 1), got {bad!r}. "
            "klbook never clips silently"
        )
    return p


@_underflow_is_fine
def binary_cross_entropy_with_logits(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    reduction: Reduction = "mean",
) -> Result:
    """Binary cross-entropy loss from one logit per example, stably.

    With two classes a softmax needs only the difference of the two logits,
    ``s = z₁ − z₀``, and gives class 1 the probability ``sigmoid(s) = 1 /
    (1 + e^{−s})``. For a target probability ``t`` of class 1 (``t`` = 0 or 1
    for a hard label) the loss is the cross-entropy of ``Bern(t)`` with
    ``Bern(sigmoid(s))``:

        loss = −t log sigmoid(s) − (1 − t) log(1 − sigmoid(s))
             = t · softplus(−s) + (1 − t) · softplus(s),

    computed in the second form (:func:`softplus`), never through
    ``log(sigmoid(s))``. A term whose weight is zero adds nothing, even where
    its softplus is infinite (``0 · inf = 0``, the convention ``0 log 0 = 0``).

    Parameters
    ----------
    logits : array_like
        One real logit per example, any shape; ``+inf`` means class 1 is
        certain and ``-inf`` that class 0 is; NaN is rejected.
    targets : array_like
        The probability of class 1 for each example, in [0, 1], with the
        logits' shape. Never clipped silently.
    reduction : {"mean", "sum", "none"}, default "mean"
        Average or add the per-example losses, or return them all.

    Returns
    -------
    float or ndarray
        The loss in nats, ≥ 0; an array of the logits' shape for
        ``reduction="none"`` (a float for a scalar logit). ``inf`` where the
        model is certain of the class the target rules out.

    Raises
    ------
    ValueError
        If the logits are not real or contain NaN, the targets are not real
        numbers in [0, 1] of the logits' shape, ``reduction`` is unknown, or
        the mean of an empty batch is asked for.

    See Also
    --------
    softplus, cross_entropy_loss : the same loss with two logits ``(0, s)``.
    klbook.measures.binary_cross_entropy : the same from probabilities.

    Notes
    -----
    PyTorch's ``binary_cross_entropy_with_logits`` computes the same loss; it
    also has ``weight`` and ``pos_weight`` arguments, which this function does
    not. Here targets outside [0, 1], NaN and the mean of an empty batch raise
    ``ValueError``. Unlike :func:`cross_entropy_loss`, ``+inf`` is a valid
    logit here: with one logit it means only "class 1 is certain".

    Examples
    --------
    >>> import math
    >>> from klbook.losses import binary_cross_entropy_with_logits as bce
    >>> bce(0.0, 1) == math.log(2)  # sigmoid(0) = 1/2 for either label
    True
    >>> bce([2.0, -1.0], [1, 0], reduction="none").round(6)
    array([0.126928, 0.313262])
    >>> bce(-800.0, 1)  # -log(sigmoid(-800)) would be -log(0) = inf
    800.0
    >>> round(bce([3.0], [0.25]), 6)  # a soft target
    2.298587
    """
    _check_reduction(reduction)
    s = _as_binary_logits(logits)
    t = _binary_targets(targets, s.shape)
    if reduction == "mean" and s.size == 0:
        raise ValueError("the mean loss of an empty batch is undefined; use reduction='sum'")
    # softplus(−s) = −log sigmoid(s), softplus(s) = −log(1 − sigmoid(s)); 0 · inf = 0.
    minus_log_q1, minus_log_q0 = _softplus(-s), _softplus(s)
    per_example = np.multiply(t, minus_log_q1, out=np.zeros_like(s), where=t > 0)
    per_example += np.multiply(1.0 - t, minus_log_q0, out=np.zeros_like(s), where=t < 1)
    return _reduce(per_example, reduction)
