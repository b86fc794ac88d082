"""Tests of the blobs' Bayes limits in klbook.classifier.

``blob_bayes_classifier`` is checked against Bayes' rule with scipy's normal
densities; ``blob_bayes_limits`` against scipy's quadrature: ``cubature`` for
H(Y | X), and for the accuracy an iterated integral whose inner integral is
exact (a difference of normal CDFs between the decision boundaries).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats
from scipy.special import expit, logsumexp, xlogy

import klbook
from klbook.classifier import (
    DEFAULT_CENTERS,
    BayesLimits,
    SoftmaxRegression,
    blob_bayes_classifier,
    blob_bayes_limits,
    blob_expected_loss,
    make_blobs,
    train_softmax_regression,
)

# --------------------------------------------------------------------------- #
# Independent references
# --------------------------------------------------------------------------- #


def _entropy_reference(centers, scale):
    """H(Y | X) by scipy.integrate.cubature (1-D: quad) of p(x) H(P(· | x))."""
    c = np.asarray(centers, float)
    n_classes, dim = c.shape

    def integrand(x):
        x = np.atleast_2d(x)
        sq = np.sum((x[:, None, :] - c[None]) ** 2, axis=-1)
        log_joint = (
            -sq / (2 * scale**2) - 0.5 * dim * np.log(2 * np.pi * scale**2) - np.log(n_classes)
        )
        log_px = logsumexp(log_joint, axis=1)
        post = np.exp(log_joint - log_px[:, None])
        return np.exp(log_px) * -np.sum(xlogy(post, post), axis=1)

    low, high = c.min(axis=0) - 12 * scale, c.max(axis=0) + 12 * scale
    if dim == 1:
        value, _ = integrate.quad(
            lambda x: integrand(np.array([[x]]))[0], low[0], high[0], epsabs=1e-14, limit=200
        )
        return value
    result = integrate.cubature(integrand, low, high, rtol=1e-12, atol=1e-14)
    assert result.status == "converged"
    return float(result.estimate)


def _accuracy_reference_2d(centers, scale):
    """Σ_k P(X in class k's region, Y = k), with the inner integral over x₂ exact.

    Class k wins where (μ_k − μ_j)·x ≥ (|μ_k|² − |μ_j|²)/2 for every j: for a
    fixed x₁ that is an interval of x₂, so the inner integral is a difference
    of normal CDFs; scipy.integrate.quad does the outer one, told where the
    boundary lines cross (the only kinks).
    """
    c = np.asarray(centers, float)
    n_classes = c.shape[0]
    total = 0.0
    for k in range(n_classes):
        others = [j for j in range(n_classes) if j != k]
        a = np.array([c[k, 0] - c[j, 0] for j in others])
        b = np.array([c[k, 1] - c[j, 1] for j in others])
        e = np.array([(c[k] @ c[k] - c[j] @ c[j]) / 2 for j in others])
        assert np.all((a != 0) | (b != 0)), "the reference needs distinct centres"

        def inner(x1, a=a, b=b, e=e, k=k):
            vertical = b == 0  # a boundary x₁ = e/a: class k wins on one side only
            if np.any(a[vertical] * x1 < e[vertical]):
                return 0.0
            with np.errstate(divide="ignore", invalid="ignore"):
                bound = (e - a * x1) / b
            lo = np.max(bound[b > 0], initial=-np.inf)
            hi = np.min(bound[b < 0], initial=np.inf)
            if hi <= lo:
                return 0.0
            mass = stats.norm.cdf(hi, c[k, 1], scale) - stats.norm.cdf(lo, c[k, 1], scale)
            return stats.norm.pdf(x1, c[k, 0], scale) * mass

        breaks = [e[i] / a[i] for i in range(len(others)) if b[i] == 0]
        for i, j in itertools.combinations(range(len(others)), 2):
            det = a[i] * b[j] - a[j] * b[i]
            if det != 0:
                breaks.append((e[i] * b[j] - e[j] * b[i]) / det)
        low, high = c[k, 0] - 12 * scale, c[k, 0] + 12 * scale
        breaks = [x for x in breaks if low < x < high]
        value, _ = integrate.quad(
            inner, low, high, points=breaks or None, epsabs=1e-13, epsrel=1e-12, limit=500
        )
        total += value / n_classes
    return total


def _two_blobs_1d(a, scale):
    """Exact accuracy Φ(a/σ) and H(Y | X) (scipy quad) of blobs at ±a."""
    accuracy = stats.norm.cdf(a / scale)

    def integrand(x):
        p1 = expit(2 * a * x / scale**2)
        h = -(xlogy(p1, p1) + xlogy(1 - p1, 1 - p1))
        px = 0.5 * (stats.norm.pdf(x, -a, scale) + stats.norm.pdf(x, a, scale))
        return px * h

    entropy, _ = integrate.quad(integrand, -a - 12 * scale, a + 12 * scale, epsabs=1e-14)
    return accuracy, entropy


# --------------------------------------------------------------------------- #
# blob_bayes_classifier
# --------------------------------------------------------------------------- #


def test_bayes_classifier_is_bayes_rule_with_normal_densities():
    rng = np.random.default_rng(3)
    centers = rng.uniform(-3, 3, size=(4, 2))
    scale = 1.3
    X = rng.uniform(-6, 6, size=(500, 2))
    dens = np.column_stack(
        [stats.multivariate_normal(mu, scale**2 * np.eye(2)).pdf(X) for mu in centers]
    )
    expected = dens / dens.sum(axis=1, keepdims=True)
    got = blob_bayes_classifier(centers=centers, scale=scale).predict_proba(X)
    np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-15)


def test_bayes_classifier_of_two_blobs_is_a_sigmoid_of_a_linear_logit():
    a, scale = 1.5, 0.7
    x = np.linspace(-5, 5, 41)[:, None]
    bayes = blob_bayes_classifier(centers=[[-a], [a]], scale=scale)
    np.testing.assert_allclose(
        bayes.predict_proba(x)[:, 1], expit(2 * a * x[:, 0] / scale**2), rtol=1e-13
    )
    assert bayes.loss_history.shape == (0,)


def test_bayes_classifier_defaults_are_make_blobs_defaults():
    bayes = blob_bayes_classifier()
    np.testing.assert_allclose(bayes.weights, np.array(DEFAULT_CENTERS).T / 0.8**2)


def test_bayes_classifier_on_a_large_sample_reaches_the_limits():
    # Monte Carlo link between make_blobs, the classifier and the integrals.
    X, y = make_blobs(20_000, np.random.default_rng(11), scale=1.0)
    bayes = blob_bayes_classifier(scale=1.0)
    limits = blob_bayes_limits(scale=1.0)
    losses = klbook.cross_entropy_loss(bayes.logits(X), y, reduction="none")
    hits = bayes.predict(X) == y
    assert abs(losses.mean() - limits.conditional_entropy) < 4 * losses.std() / np.sqrt(y.size)
    assert abs(hits.mean() - limits.accuracy) < 4 * hits.std() / np.sqrt(y.size)


# --------------------------------------------------------------------------- #
# blob_bayes_limits against scipy
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(("a", "scale"), [(1.0, 1.0), (0.3, 1.0), (2.0, 0.5), (7.0, 1.4)])
def test_limits_of_two_blobs_in_1d(a, scale):
    accuracy, entropy = _two_blobs_1d(a, scale)
    limits = blob_bayes_limits(centers=[[-a], [a]], scale=scale)
    assert limits.conditional_entropy == pytest.approx(entropy, rel=1e-10, abs=1e-14)
    assert limits.accuracy == pytest.approx(accuracy, abs=1e-4)


def test_limits_of_two_blobs_in_2d_match_the_1d_projection():
    # Only the distance between two isotropic blobs matters: rotate and shift them.
    a, scale = 1.2, 0.9
    u = np.array([math.cos(0.7), math.sin(0.7)])
    centers = np.array([[0.4, -1.0] - a * u, [0.4, -1.0] + a * u])
    accuracy, entropy = _two_blobs_1d(a, scale)
    limits = blob_bayes_limits(centers=centers, scale=scale)
    assert limits.conditional_entropy == pytest.approx(entropy, rel=1e-10, abs=0)
    assert limits.accuracy == pytest.approx(accuracy, abs=1e-5)


def test_limits_of_the_chapters_blobs_against_scipy():
    # Chapter 4 quotes H(Y|X) = 0.043 nats and a best accuracy of 98.5 %.
    limits = blob_bayes_limits(scale=1.0)
    assert limits.conditional_entropy == pytest.approx(
        _entropy_reference(DEFAULT_CENTERS, 1.0), rel=1e-11
    )
    assert limits.accuracy == pytest.approx(_accuracy_reference_2d(DEFAULT_CENTERS, 1.0), abs=1e-5)
    assert round(limits.conditional_entropy, 3) == 0.043
    assert round(limits.accuracy, 3) == 0.985


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_limits_of_random_blobs_in_2d_against_scipy(seed):
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-4, 4, size=(int(rng.integers(2, 5)), 2))
    scale = float(rng.uniform(0.6, 2.0))
    limits = blob_bayes_limits(centers=centers, scale=scale)
    assert limits.conditional_entropy == pytest.approx(
        _entropy_reference(centers, scale), rel=1e-9, abs=1e-13
    )
    assert limits.accuracy == pytest.approx(_accuracy_reference_2d(centers, scale), abs=1e-4)


def test_accuracy_error_shrinks_like_the_square_of_the_grid_step():
    accuracy, _ = _two_blobs_1d(1.0, 1.0)
    errors = [
        abs(blob_bayes_limits(centers=[[-1.0], [1.0]], scale=1.0, points=n).accuracy - accuracy)
        for n in (301, 601, 1201)
    ]
    assert errors[0] > errors[1] > errors[2]
    for coarse, fine in itertools.pairwise(errors):
        assert 2.5 < coarse / fine < 6.5  # halving the step divides the error by about 4


# --------------------------------------------------------------------------- #
# blob_expected_loss
# --------------------------------------------------------------------------- #


def _expected_loss_reference(model, centers, scale):
    """Σ_k (1/C) ∫ N(x; μ_k) (−log Q(k | x)) dx by scipy.integrate.cubature."""
    c = np.asarray(centers, float)
    n_classes = c.shape[0]

    def integrand(x):
        z = x @ model.weights + model.bias
        minus_log_q = logsumexp(z, axis=1)[:, None] - z
        dens = np.column_stack(
            [stats.multivariate_normal(mu, scale**2 * np.eye(2)).pdf(x) for mu in c]
        )
        return np.sum(dens * minus_log_q, axis=1) / n_classes

    low, high = c.min(axis=0) - 12 * scale, c.max(axis=0) + 12 * scale
    result = integrate.cubature(integrand, low, high, rtol=1e-11, atol=1e-13)
    assert result.status == "converged"
    return float(result.estimate)


def test_expected_loss_of_the_bayes_classifier_is_the_conditional_entropy():
    for scale in (0.6, 1.0, 2.5):
        bayes = blob_bayes_classifier(scale=scale)
        floor = blob_bayes_limits(scale=scale).conditional_entropy
        assert blob_expected_loss(bayes, scale=scale) == pytest.approx(floor, rel=1e-12, abs=0)


def test_expected_loss_of_a_trained_model_against_scipy():
    X, y = make_blobs(100, np.random.default_rng(5), scale=1.0)
    model = train_softmax_regression(X, y, lr=0.5, epochs=200)
    got = blob_expected_loss(model, scale=1.0)
    assert got == pytest.approx(
        _expected_loss_reference(model, DEFAULT_CENTERS, 1.0), rel=1e-9, abs=0
    )
    assert got > blob_bayes_limits(scale=1.0).conditional_entropy


def test_expected_loss_of_large_weights_against_scipy():
    # Sharp transitions between classes: the grid must still resolve them.
    model = SoftmaxRegression(
        weights=np.array([[0.5, -5.0, 4.5], [7.0, -4.0, -3.0]]),
        bias=np.array([3.0, -1.0, -2.0]),
        loss_history=np.empty(0),
    )
    got = blob_expected_loss(model, scale=1.0)
    assert got == pytest.approx(
        _expected_loss_reference(model, DEFAULT_CENTERS, 1.0), rel=1e-8, abs=0
    )


def test_expected_loss_against_the_mean_loss_on_a_large_sample():
    X, y = make_blobs(30_000, np.random.default_rng(8), scale=1.0)
    model = SoftmaxRegression(
        weights=np.array([[0.0, -2.0, 2.0], [2.5, -1.5, -1.0]]),
        bias=np.array([0.5, -0.2, -0.3]),
        loss_history=np.empty(0),
    )
    losses = klbook.cross_entropy_loss(model.logits(X), y, reduction="none")
    expected = blob_expected_loss(model, scale=1.0)
    assert abs(losses.mean() - expected) < 4 * losses.std() / np.sqrt(y.size)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), scale=st.floats(0.4, 2.5))
def test_expected_loss_is_never_below_the_floor(seed, scale):
    # E[−log Q(Y|X)] = H(Y|X) + E_X KL(P(·|X) ‖ Q(·|X)) ≥ H(Y|X), Gibbs' inequality.
    rng = np.random.default_rng(seed)
    model = SoftmaxRegression(rng.normal(size=(2, 3)), rng.normal(size=3), np.empty(0))
    floor = blob_bayes_limits(scale=scale, points=201).conditional_entropy
    assert blob_expected_loss(model, scale=scale, points=201) >= floor - 1e-12


def test_expected_loss_ignores_a_shift_of_every_logit():
    model = SoftmaxRegression(np.array([[1.0, 0.0, -1.0], [0.5, 0.5, 0.0]]), np.zeros(3), [])
    shifted = SoftmaxRegression(model.weights + 3.0, model.bias - 7.0, [])
    assert blob_expected_loss(shifted, scale=1.0) == pytest.approx(
        blob_expected_loss(model, scale=1.0), rel=1e-12
    )


@pytest.mark.parametrize(
    ("model", "kwargs", "match"),
    [
        ("not a model", {}, "SoftmaxRegression"),
        (SoftmaxRegression(np.zeros((3, 3)), np.zeros(3), []), {}, "shape"),
        (SoftmaxRegression(np.zeros((2, 2)), np.zeros(2), []), {}, "shape"),
        (SoftmaxRegression(np.zeros((2, 3)), np.zeros(3), []), {"scale": -1.0}, "scale"),
        (SoftmaxRegression(np.zeros((2, 3)), np.zeros(3), []), {"points": 50}, "points"),
    ],
)
def test_expected_loss_rejects_bad_input(model, kwargs, match):
    with pytest.raises(ValueError, match=match):
        blob_expected_loss(model, **kwargs)


# --------------------------------------------------------------------------- #
# Properties
# --------------------------------------------------------------------------- #


def test_identical_blobs_leave_nothing_to_learn():
    limits = blob_bayes_limits(centers=[[1.0, 2.0]] * 3, scale=0.5)
    assert limits.conditional_entropy == pytest.approx(math.log(3), rel=1e-12, abs=0)
    assert limits.accuracy == pytest.approx(1 / 3, rel=1e-12, abs=0)


def test_far_apart_blobs_are_certain():
    limits = blob_bayes_limits(centers=[[-40.0, 0.0], [40.0, 0.0], [0.0, 60.0]], scale=1.0)
    assert limits.conditional_entropy < 1e-12
    assert limits.accuracy == pytest.approx(1.0, abs=1e-12)


def test_limits_do_not_depend_on_the_unit_of_length():
    a = blob_bayes_limits(centers=DEFAULT_CENTERS, scale=0.8)
    b = blob_bayes_limits(centers=np.array(DEFAULT_CENTERS) * 1000.0, scale=800.0)
    assert b.conditional_entropy == pytest.approx(a.conditional_entropy, rel=1e-11, abs=0)
    assert b.accuracy == pytest.approx(a.accuracy, rel=1e-11, abs=0)


@settings(max_examples=25, deadline=None)
@given(
    n_classes=st.integers(2, 4),
    dim=st.integers(1, 2),
    seed=st.integers(0, 2**32 - 1),
    scale=st.floats(0.3, 3.0),
)
def test_limits_obey_the_bounds_between_entropy_and_error(n_classes, dim, seed, scale):
    centers = np.random.default_rng(seed).uniform(-4, 4, size=(n_classes, dim))
    limits = blob_bayes_limits(centers=centers, scale=scale, points=201)
    h, acc = limits.conditional_entropy, limits.accuracy
    tol = 1e-3  # the accuracy on a 201-point grid
    assert 0.0 <= h <= math.log(n_classes) + 1e-12
    assert 1 / n_classes - tol <= acc <= 1.0
    # max_k P(k|x) ≥ exp(−H(P(·|x))) and Jensen: accuracy ≥ exp(−H(Y|X)).
    assert acc >= math.exp(-h) - tol
    # Fano: H(Y|X) ≤ h(e) + e log(C − 1), e the Bayes error.
    e = min(max(1 - acc, 0.0), 1.0)
    binary = -(xlogy(e, e) + xlogy(1 - e, 1 - e))
    assert h <= binary + e * math.log(n_classes - 1) + 10 * tol


def test_limits_are_a_frozen_pair_of_floats():
    limits = blob_bayes_limits(scale=1.0)
    assert isinstance(limits, BayesLimits)
    assert isinstance(limits.conditional_entropy, float)
    assert isinstance(limits.accuracy, float)
    with pytest.raises(AttributeError):
        limits.accuracy = 1.0  # type: ignore[misc]


# --------------------------------------------------------------------------- #
# Bad input
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"centers": [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]}, "1- or 2-dimensional"),
        ({"centers": [0.0, 1.0]}, "shape"),
        ({"centers": np.zeros((0, 2))}, "shape"),
        ({"centers": [[0.0, math.nan]]}, "NaN"),
        ({"centers": [[0.0, math.inf]]}, "finite"),
        ({"scale": 0.0}, "scale"),
        ({"scale": -1.0}, "scale"),
        ({"scale": math.inf}, "scale"),
        ({"scale": True}, "scale"),
        ({"points": 100}, "points"),
        ({"points": 300.0}, "points"),
        ({"points": True}, "points"),
    ],
)
def test_limits_reject_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        blob_bayes_limits(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"centers": [[0.0, math.nan]]}, "NaN"),
        ({"centers": "abc"}, "real numbers"),
        ({"scale": 0.0}, "scale"),
    ],
)
def test_bayes_classifier_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        blob_bayes_classifier(**kwargs)


def test_exported():
    assert klbook.blob_expected_loss is blob_expected_loss
    assert klbook.blob_bayes_limits is blob_bayes_limits
    assert klbook.blob_bayes_classifier is blob_bayes_classifier
