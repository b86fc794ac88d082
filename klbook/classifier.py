"""A seeded synthetic data set and a small softmax-regression trainer (chapter 4).

:func:`make_blobs` draws a 2-D, 3-class data set of Gaussian blobs;
:func:`train_softmax_regression` fits the linear classifier
``p(y | x) = softmax(x W + b)`` to it by full-batch gradient descent on the
mean cross-entropy loss, using :mod:`klbook.losses` for the loss and its
gradient. Plain NumPy, short enough to read in one sitting.

The blobs' own class probabilities P(y | x) are known, since the densities
are: :func:`blob_bayes_classifier` gives them (for blobs of equal covariance
they are exactly a softmax of linear logits), and :func:`blob_bayes_limits`
integrates them over the plane to give the conditional entropy H(Y | X), the
floor under the expected cross-entropy loss of any classifier, and the best
accuracy any classifier can reach.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike, NDArray

from klbook._validation import as_real_array
from klbook.losses import (
    cross_entropy_loss,
    cross_entropy_loss_grad,
    log_softmax,
    logsumexp,
    softmax,
)

__all__ = [
    "BayesLimits",
    "SoftmaxRegression",
    "blob_bayes_classifier",
    "blob_bayes_limits",
    "blob_expected_loss",
    "make_blobs",
    "train_softmax_regression",
]

#: Default blob centres: three corners of a triangle around the origin.
DEFAULT_CENTERS: tuple[tuple[float, float], ...] = ((0.0, 2.5), (-2.5, -1.5), (2.5, -1.5))


def make_blobs(
    n_per_class: int,
    rng: np.random.Generator,
    *,
    centers: ArrayLike = DEFAULT_CENTERS,
    scale: float = 0.8,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Draw a synthetic classification data set: one Gaussian blob per class.

    Class ``k`` has ``n_per_class`` points drawn from a normal distribution
    centred at ``centers[k]`` with standard deviation ``scale`` on every axis.

    Parameters
    ----------
    n_per_class : int
        Points per class, ≥ 1.
    rng : numpy.random.Generator
        The source of randomness, e.g. ``np.random.default_rng(0)``; the same
        seed gives the same data.
    centers : array_like, shape (C, d), optional
        One centre per class; by default three well-separated 2-D centres.
    scale : float, default 0.8
        Standard deviation of each blob, > 0.

    Returns
    -------
    X : ndarray, shape (C * n_per_class, d)
        The points, class by class.
    y : ndarray of int, shape (C * n_per_class,)
        The class of each point, ``0..C-1``.

    Raises
    ------
    ValueError
        If ``n_per_class`` is not a positive integer, ``rng`` is not a NumPy
        ``Generator``, ``centers`` is not a finite (C, d) array or ``scale`` is
        not positive and finite.

    Examples
    --------
    >>> import numpy as np
    >>> from klbook.classifier import make_blobs
    >>> X, y = make_blobs(4, np.random.default_rng(0))
    >>> X.shape, y.tolist()
    ((12, 2), [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
    """
    if isinstance(n_per_class, bool) or not isinstance(n_per_class, Integral) or n_per_class < 1:
        raise ValueError(f"n_per_class must be a positive integer, got {n_per_class!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got "
            f"{type(rng).__name__}"
        )
    c, sigma = _blob_parameters(centers, scale)
    n = int(n_per_class)
    noise = rng.normal(scale=sigma, size=(c.shape[0], n, c.shape[1]))
    X = (c[:, None, :] + noise).reshape(-1, c.shape[1])
    y = np.repeat(np.arange(c.shape[0], dtype=np.int64), n)
    return X, y


def _blob_parameters(centers: ArrayLike, scale: float) -> tuple[NDArray[np.float64], float]:
    """Check the blobs' centres, shape (C, d) and finite, and their scale, > 0 and finite."""
    c = as_real_array(centers, "centers")
    if c.ndim != 2 or c.shape[0] < 1 or c.shape[1] < 1:
        raise ValueError(f"centers must have shape (classes, dimensions), got {c.shape}")
    if not np.isfinite(c).all():
        raise ValueError("centers must be finite")
    if isinstance(scale, bool) or not isinstance(scale, Real) or not 0 < float(scale) < np.inf:
        raise ValueError(f"scale must be a positive finite number, got {scale!r}")
    return c, float(scale)


@dataclass(frozen=True)
class SoftmaxRegression:
    """A fitted linear softmax classifier, ``p(y | x) = softmax(x W + b)``.

    Attributes
    ----------
    weights : ndarray, shape (d, C)
        W, one column per class.
    bias : ndarray, shape (C,)
        b, one entry per class.
    loss_history : ndarray, shape (epochs + 1,)
        The mean cross-entropy loss (nats) on the training data before the
        first step and after each step; empty for a model that was not
        trained (:func:`blob_bayes_classifier`).

    See Also
    --------
    train_softmax_regression : fits one to data.

    Examples
    --------
    Usually :func:`train_softmax_regression` builds the model; here the
    parameters are written by hand, so that class ``k`` wins where the
    feature ``x_k`` is largest:

    >>> import numpy as np
    >>> from klbook.classifier import SoftmaxRegression
    >>> model = SoftmaxRegression(
    ...     weights=np.array([[2.0, 0.0], [0.0, 2.0]]),
    ...     bias=np.zeros(2),
    ...     loss_history=np.array([np.log(2.0)]),
    ... )
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    >>> model.predict(X).tolist()
    [0, 1, 0]
    >>> model.predict_proba(X).round(4).tolist()
    [[0.8808, 0.1192], [0.1192, 0.8808], [0.5, 0.5]]
    """

    weights: NDArray[np.float64]
    bias: NDArray[np.float64]
    loss_history: NDArray[np.float64]

    def logits(self, X: ArrayLike) -> NDArray[np.float64]:
        """Return the logits (unnormalised log-probabilities) ``X W + b``.

        Parameters
        ----------
        X : array_like, shape (n, d)
            Finite features, one row per point, with the ``d`` features the
            model was trained on.

        Returns
        -------
        ndarray, shape (n, C)
            One logit per point and class; ``softmax`` of a row gives the
            class probabilities (:meth:`predict_proba`).

        Raises
        ------
        ValueError
            If ``X`` is not a non-empty, finite 2-D array or has the wrong
            number of features.

        Examples
        --------
        >>> import numpy as np
        >>> from klbook.classifier import SoftmaxRegression
        >>> model = SoftmaxRegression(
        ...     np.array([[1.0, -1.0]]), np.array([0.0, 0.5]), np.array([0.0])
        ... )
        >>> model.logits([[2.0], [0.0]]).tolist()
        [[2.0, -1.5], [0.0, 0.5]]
        """
        x = _features(X, "X")
        if x.shape[1] != self.weights.shape[0]:
            raise ValueError(
                f"X has {x.shape[1]} features but the model was trained on {self.weights.shape[0]}"
            )
        return x @ self.weights + self.bias

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        """Return the class probabilities ``p(y | x) = softmax(x W + b)`` of each row.

        Parameters
        ----------
        X : array_like, shape (n, d)
            Finite features, one row per point, with the ``d`` features the
            model was trained on.

        Returns
        -------
        ndarray, shape (n, C)
            Row ``i`` is the model's distribution over the ``C`` classes for
            point ``i``: non-negative and summing to one.

        Raises
        ------
        ValueError
            If ``X`` is not a non-empty, finite 2-D array or has the wrong
            number of features.

        Examples
        --------
        >>> import numpy as np
        >>> from klbook.classifier import SoftmaxRegression
        >>> model = SoftmaxRegression(
        ...     np.array([[1.0, -1.0]]), np.array([0.0, 0.0]), np.array([0.0])
        ... )
        >>> p = model.predict_proba([[0.0], [1.0]])
        >>> p.round(4).tolist()
        [[0.5, 0.5], [0.8808, 0.1192]]
        >>> p.sum(axis=1).round(12).tolist()
        [1.0, 1.0]
        """
        return softmax(self.logits(X), axis=-1)

    def predict(self, X: ArrayLike) -> NDArray[np.int64]:
        """Return the most probable class of each row of ``X``.

        The class with the largest logit, which is also the one with the
        largest probability (softmax preserves order); ties go to the lowest
        class index.

        Parameters
        ----------
        X : array_like, shape (n, d)
            Finite features, one row per point, with the ``d`` features the
            model was trained on.

        Returns
        -------
        ndarray of int64, shape (n,)
            The predicted class of each point, in ``0..C-1``.

        Raises
        ------
        ValueError
            If ``X`` is not a non-empty, finite 2-D array or has the wrong
            number of features.

        Examples
        --------
        >>> import numpy as np
        >>> from klbook.classifier import SoftmaxRegression
        >>> model = SoftmaxRegression(
        ...     np.array([[1.0, -1.0]]), np.array([0.0, 0.0]), np.array([0.0])
        ... )
        >>> model.predict([[2.0], [-0.5], [0.0]]).tolist()   # a tie goes to class 0
        [0, 1, 0]
        """
        return np.argmax(self.logits(X), axis=-1).astype(np.int64)


def _features(X: ArrayLike, name: str) -> NDArray[np.float64]:
    x = as_real_array(X, name)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (points × features), got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} must be finite")
    return x


def train_softmax_regression(
    X: ArrayLike,
    y: ArrayLike,
    *,
    lr: float,
    epochs: int,
    n_classes: int | None = None,
    label_smoothing: float = 0.0,
) -> SoftmaxRegression:
    """Fit ``p(y | x) = softmax(x W + b)`` by full-batch gradient descent.

    The weights start at zero (the loss is convex in W and b, so there are no
    poor local minima to get stuck in) and each epoch takes one step down the
    gradient of the mean cross-entropy loss ``L``. With ``G = ∂L/∂Z`` the
    gradient with respect to the logits ``Z = X W + b`` (softmax minus the
    target, over N), the chain rule gives ``∂L/∂W = Xᵀ G`` and
    ``∂L/∂b = Σ_i G_i``.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Finite features, one row per point.
    y : array_like of int, shape (N,)
        Class labels in ``0..n_classes-1``.
    lr : float
        Learning rate (step size), > 0.
    epochs : int
        Number of gradient steps, ≥ 1.
    n_classes : int, optional
        Number of classes; ``max(y) + 1`` when omitted.
    label_smoothing : float, default 0.0
        ε in [0, 1], passed to :func:`klbook.losses.cross_entropy_loss`.

    Returns
    -------
    SoftmaxRegression
        The weights, bias and loss history, with ``predict_proba`` and
        ``predict``.

    Raises
    ------
    ValueError
        If ``X`` is not a finite 2-D array, ``y`` is not integer labels of
        matching length in range, or ``lr``, ``epochs`` or ``n_classes`` is
        invalid.

    Examples
    --------
    >>> import numpy as np
    >>> from klbook.classifier import make_blobs, train_softmax_regression
    >>> X, y = make_blobs(50, np.random.default_rng(1))
    >>> model = train_softmax_regression(X, y, lr=0.5, epochs=100)
    >>> bool(model.loss_history[-1] < model.loss_history[0])
    True
    >>> float((model.predict(X) == y).mean()) > 0.95
    True
    """
    x = _features(X, "X")
    labels = np.asarray(y)
    if labels.dtype == np.bool_ or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"y must hold integer class labels, got dtype {labels.dtype}")
    if labels.shape != (x.shape[0],):
        raise ValueError(f"y must have shape ({x.shape[0]},) to match X, got {labels.shape}")
    if labels.min() < 0:
        raise ValueError(f"y must hold labels 0, 1, 2, ...; got {int(labels.min())}")
    if n_classes is None:
        n_classes = int(labels.max()) + 1
    if isinstance(n_classes, bool) or not isinstance(n_classes, Integral) or n_classes < 1:
        raise ValueError(f"n_classes must be a positive integer, got {n_classes!r}")
    if labels.max() >= n_classes:
        raise ValueError(f"y holds the label {int(labels.max())}, but n_classes is {n_classes}")
    if isinstance(lr, bool) or not isinstance(lr, Real) or not 0 < float(lr) < np.inf:
        raise ValueError(f"lr must be a positive finite number, got {lr!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, Integral) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")

    W = np.zeros((x.shape[1], int(n_classes)))
    b = np.zeros(int(n_classes))
    history = np.empty(int(epochs) + 1)
    for epoch in range(int(epochs) + 1):
        Z = x @ W + b
        history[epoch] = cross_entropy_loss(Z, labels, label_smoothing=label_smoothing)
        if epoch == epochs:
            break
        G = cross_entropy_loss_grad(Z, labels, label_smoothing=label_smoothing)
        W -= float(lr) * (x.T @ G)
        b -= float(lr) * G.sum(axis=0)
    return SoftmaxRegression(weights=W, bias=b, loss_history=history)


# --------------------------------------------------------------------------- #
# What the blobs allow: the true P(y | x), H(Y | X) and the Bayes accuracy
# --------------------------------------------------------------------------- #


def blob_bayes_classifier(
    *, centers: ArrayLike = DEFAULT_CENTERS, scale: float = 0.8
) -> SoftmaxRegression:
    """Return the blobs' true class probabilities P(y | x), as a softmax regression.

    The classes are equally likely (as :func:`make_blobs` draws them) and
    class ``k`` has the density N(x; μ_k, σ² I). By Bayes' rule
    P(k | x) ∝ exp(−|x − μ_k|² / (2σ²)). Expanding the square, the term
    −|x|² / (2σ²) is the same for every class, because every blob has the
    same covariance σ² I, so it cancels in the normalisation, and what is
    left is a softmax of logits that are **linear** in x:

        z_k(x) = x · μ_k / σ² − |μ_k|² / (2σ²),

    that is ``weights = centers.T / σ²`` and ``bias = −|μ_k|² / (2σ²)``.
    (With different covariances the quadratic terms would not cancel and the
    logits would be quadratic in x.)

    Parameters
    ----------
    centers : array_like, shape (C, d), optional
        The blob centres μ_k, as given to :func:`make_blobs`.
    scale : float, default 0.8
        The blobs' standard deviation σ on every axis, > 0.

    Returns
    -------
    SoftmaxRegression
        The Bayes classifier: ``predict_proba`` gives P(y | x) and ``predict``
        the most probable class; its ``loss_history`` is empty.

    Raises
    ------
    ValueError
        If ``centers`` is not a finite (C, d) array or ``scale`` is not
        positive and finite.

    See Also
    --------
    blob_bayes_limits : H(Y | X) and the best accuracy of these blobs.

    Examples
    --------
    >>> import numpy as np
    >>> from klbook.classifier import blob_bayes_classifier
    >>> bayes = blob_bayes_classifier(centers=[[-1.0], [1.0]], scale=1.0)
    >>> bayes.weights.tolist(), bayes.bias.tolist()
    ([[-1.0, 1.0]], [-0.5, -0.5])
    >>> bayes.predict_proba([[0.0], [1.0]]).round(4).tolist()  # 1 / (1 + e^-2)
    [[0.5, 0.5], [0.1192, 0.8808]]
    """
    c, sigma = _blob_parameters(centers, scale)
    variance = sigma * sigma
    return SoftmaxRegression(
        weights=c.T / variance,
        bias=-np.sum(c * c, axis=1) / (2.0 * variance),
        loss_history=np.empty(0),
    )


@dataclass(frozen=True)
class BayesLimits:
    """What no classifier of the blobs can beat (returned by :func:`blob_bayes_limits`).

    Attributes
    ----------
    conditional_entropy : float
        H(Y | X) = E_X[H(P(· | X))] in nats: the smallest expected
        cross-entropy loss of any classifier, reached by P(y | x) itself.
    accuracy : float
        The Bayes accuracy E_X[max_k P(k | X)]: the largest probability of
        predicting the right class that any classifier reaches.

    Examples
    --------
    >>> from klbook.classifier import BayesLimits
    >>> BayesLimits(conditional_entropy=0.0, accuracy=1.0).accuracy
    1.0
    """

    conditional_entropy: float
    accuracy: float


def blob_bayes_limits(
    *, centers: ArrayLike = DEFAULT_CENTERS, scale: float = 0.8, points: int = 601
) -> BayesLimits:
    """H(Y | X) and the Bayes accuracy of the blobs, by integrating over the plane.

    With equally likely classes and densities N(x; μ_k, σ² I), the joint
    density is p(x, k) = N(x; μ_k, σ² I) / C. On a grid of ``points`` values
    per axis that reaches 10σ beyond every centre the function sums

        H(Y | X) = ∫ p(x) H(P(· | x)) dx,   H(P(· | x)) = −Σ_k P(k | x) log P(k | x),
        accuracy = ∫ max_k p(x, k) dx,

    each term times the area of a grid cell. The first integrand is smooth,
    so the sum converges very fast (to about 1e-15 on the default grid for the
    default blobs); the second has kinks along the decision boundaries, so its
    error shrinks like the square of the grid step: below 1e-5 for the
    default blobs and grid, and below 1e-4 whenever the centres lie within
    10σ of each other.

    Parameters
    ----------
    centers : array_like, shape (C, d), optional
        The blob centres, as given to :func:`make_blobs`; ``d`` must be 1 or
        2 (the grid has ``points ** d`` nodes).
    scale : float, default 0.8
        The blobs' standard deviation σ on every axis, > 0.
    points : int, default 601
        Grid nodes per axis, at least 101.

    Returns
    -------
    BayesLimits
        ``conditional_entropy`` H(Y | X) in nats and the Bayes ``accuracy``.

    Raises
    ------
    ValueError
        If ``centers`` is not a finite (C, d) array with d = 1 or 2, ``scale``
        is not positive and finite, or ``points`` is not an integer ≥ 101.

    See Also
    --------
    blob_bayes_classifier : P(y | x) itself.

    Notes
    -----
    Two facts bound one number by the other: Jensen's inequality and
    max_k P(k | x) ≥ exp(−H(P(· | x))) give accuracy ≥ exp(−H(Y | X)), and
    Fano's inequality gives H(Y | X) ≤ h(e) + e log(C − 1) for the error
    e = 1 − accuracy (Cover and Thomas, 2006, section 2.10).

    Examples
    --------
    Two blobs in one dimension at ±1 with σ = 1: the best rule is the sign
    of x, right with probability Φ(1) = 0.841345.

    >>> from klbook.classifier import blob_bayes_limits
    >>> limits = blob_bayes_limits(centers=[[-1.0], [1.0]], scale=1.0)
    >>> round(limits.accuracy, 4), round(limits.conditional_entropy, 4)
    (0.8413, 0.3563)
    >>> far = blob_bayes_limits(centers=[[-50.0], [50.0]], scale=1.0)
    >>> far.accuracy == 1.0 or round(far.accuracy, 12), far.conditional_entropy < 1e-12
    (True, True)
    """
    entropy_sum = 0.0
    accuracy_sum = 0.0
    for _, log_joint in _grid(centers, scale, points):
        log_px = logsumexp(log_joint, axis=-1)
        log_post = log_joint - log_px[:, None]  # log P(k | x), all finite
        entropy_x = -np.sum(np.exp(log_post) * log_post, axis=1)
        entropy_sum += float(np.sum(np.exp(log_px) * entropy_x))
        accuracy_sum += float(np.sum(np.exp(np.max(log_joint, axis=1))))
    cell = _grid_cell(centers, scale, points)
    return BayesLimits(
        conditional_entropy=max(entropy_sum * cell, 0.0),
        accuracy=min(accuracy_sum * cell, 1.0),
    )


def blob_expected_loss(
    model: SoftmaxRegression,
    *,
    centers: ArrayLike = DEFAULT_CENTERS,
    scale: float = 0.8,
    points: int = 601,
) -> float:
    """Return a model's expected cross-entropy loss over the blobs, by integration.

    For a point drawn from the blobs (a class k, each equally likely, then
    x from N(μ_k, σ² I)) the model's loss is −log Q(k | x). Its expectation

        E[−log Q(Y | X)] = Σ_k (1/C) ∫ N(x; μ_k, σ² I) (−log Q(k | x)) dx
                         = H(Y | X) + E_X[KL(P(· | X) ‖ Q(· | X))]

    is what a test set's mean loss estimates; it is at least H(Y | X), with
    equality only for the Bayes classifier. Computed on the grid of
    :func:`blob_bayes_limits` (the integrand is smooth, so the sum converges
    fast), with ``log_softmax`` of the model's logits.

    Parameters
    ----------
    model : SoftmaxRegression
        A linear softmax classifier for ``d``-dimensional points and ``C``
        classes, e.g. from :func:`train_softmax_regression`.
    centers : array_like, shape (C, d), optional
        The blob centres, as given to :func:`make_blobs`; d = 1 or 2.
    scale : float, default 0.8
        The blobs' standard deviation σ on every axis, > 0.
    points : int, default 601
        Grid nodes per axis, at least 101.

    Returns
    -------
    float
        The expected loss in nats.

    Raises
    ------
    ValueError
        If ``model`` is not a :class:`SoftmaxRegression` whose weights have
        shape (d, C) for these blobs, or if ``centers``, ``scale`` or
        ``points`` is invalid (as for :func:`blob_bayes_limits`).

    Examples
    --------
    >>> from klbook.classifier import (
    ...     blob_bayes_classifier, blob_bayes_limits, blob_expected_loss
    ... )
    >>> blobs = dict(centers=[[-1.0], [1.0]], scale=1.0)
    >>> bayes = blob_bayes_classifier(**blobs)
    >>> floor = blob_bayes_limits(**blobs).conditional_entropy
    >>> abs(blob_expected_loss(bayes, **blobs) - floor) < 1e-12
    True
    >>> import numpy as np
    >>> from klbook.classifier import SoftmaxRegression
    >>> guess = SoftmaxRegression(np.zeros((1, 2)), np.zeros(2), np.empty(0))
    >>> round(blob_expected_loss(guess, **blobs), 6)  # log 2: no better than a coin
    0.693147
    """
    if not isinstance(model, SoftmaxRegression):
        raise ValueError(
            f"model must be a SoftmaxRegression (weights, bias), got {type(model).__name__}"
        )
    c, _ = _blob_parameters(centers, scale)
    if np.shape(model.weights) != (c.shape[1], c.shape[0]):
        raise ValueError(
            f"model has weights of shape {np.shape(model.weights)}, but these blobs need "
            f"{(c.shape[1], c.shape[0])} (dimensions, classes)"
        )
    total = 0.0
    for x, log_joint in _grid(centers, scale, points):
        minus_log_q = -log_softmax(model.logits(x), axis=-1)
        total += float(np.sum(np.exp(log_joint) * minus_log_q))
    return total * _grid_cell(centers, scale, points)


def _grid_axes(
    centers: ArrayLike, scale: float, points: int
) -> tuple[NDArray[np.float64], float, list[NDArray[np.float64]]]:
    """Check the input; return centres, σ and axes of ``points`` nodes 10σ past the centres."""
    c, sigma = _blob_parameters(centers, scale)
    dim = c.shape[1]
    if dim > 2:
        raise ValueError(
            f"centers must be 1- or 2-dimensional for grid integration, got {dim} dimensions"
        )
    if isinstance(points, bool) or not isinstance(points, Integral) or points < 101:
        raise ValueError(f"points must be an integer ≥ 101, got {points!r}")
    low, high = c.min(axis=0) - 10.0 * sigma, c.max(axis=0) + 10.0 * sigma
    return c, sigma, [np.linspace(low[j], high[j], int(points)) for j in range(dim)]


def _grid_cell(centers: ArrayLike, scale: float, points: int) -> float:
    """Return the length (1-D) or area (2-D) of one grid cell."""
    _, _, axes = _grid_axes(centers, scale, points)
    return float(np.prod([axis[1] - axis[0] for axis in axes]))


def _grid(
    centers: ArrayLike, scale: float, points: int
) -> Iterator[tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """Yield blocks of grid nodes ``x`` and ``log p(x, k) = log N(x; μ_k, σ² I) − log C``."""
    c, sigma, axes = _grid_axes(centers, scale, points)
    n_classes, dim = c.shape
    bayes = blob_bayes_classifier(centers=c, scale=sigma)
    variance = sigma * sigma
    log_norm = 0.5 * dim * np.log(2.0 * np.pi * variance) + np.log(n_classes)
    # A block of grid rows at a time: points**2 nodes times C classes at once is large.
    step = len(axes[0]) if dim == 1 else max(1, 40_000 // len(axes[1]))
    for start in range(0, len(axes[0]), step):
        rows = axes[0][start : start + step]
        if dim == 1:
            x = rows[:, None]
        else:
            x0, x1 = np.meshgrid(rows, axes[1])
            x = np.column_stack([x0.ravel(), x1.ravel()])
        # log p(x, k) = z_k(x) − |x|² / (2σ²) − log_norm, with z the Bayes logits.
        z = bayes.logits(x)
        yield x, z - (np.sum(x * x, axis=1) / (2.0 * variance) + log_norm)[:, None]
