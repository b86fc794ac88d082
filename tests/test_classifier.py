"""Tests of klbook.classifier: the blob data set and softmax-regression training."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from klbook.classifier import (
    DEFAULT_CENTERS,
    SoftmaxRegression,
    make_blobs,
    train_softmax_regression,
)

# --------------------------------------------------------------------------- #
# make_blobs
# --------------------------------------------------------------------------- #


def test_blobs_shape_labels_and_centres():
    X, y = make_blobs(2000, np.random.default_rng(0))
    assert X.shape == (6000, 2)
    assert X.dtype == np.float64
    assert y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [2000, 2000, 2000])
    centers = np.array([X[y == k].mean(axis=0) for k in range(3)])
    spreads = np.array([X[y == k].std(axis=0) for k in range(3)])
    # The sample means and standard deviations are within a few standard errors.
    np.testing.assert_allclose(centers, DEFAULT_CENTERS, atol=5 * 0.8 / np.sqrt(2000))
    np.testing.assert_allclose(spreads, 0.8, rtol=0.1)


def test_blobs_custom_centres_and_scale():
    centers = [[0.0, 0.0, 0.0], [10.0, 10.0, 10.0]]
    X, y = make_blobs(500, np.random.default_rng(1), centers=centers, scale=0.1)
    assert X.shape == (1000, 3)
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [10, 10, 10], atol=0.05)
    assert X[y == 0].std() == pytest.approx(0.1, rel=0.1, abs=0)


def test_blobs_are_deterministic_given_the_seed():
    X1, y1 = make_blobs(30, np.random.default_rng(42))
    X2, y2 = make_blobs(30, np.random.default_rng(42))
    X3, _ = make_blobs(30, np.random.default_rng(43))
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((0, np.random.default_rng(0)), {}, "n_per_class"),
        ((-3, np.random.default_rng(0)), {}, "n_per_class"),
        ((2.5, np.random.default_rng(0)), {}, "n_per_class"),
        ((True, np.random.default_rng(0)), {}, "n_per_class"),
        (
            (10, 0),
            {},
            r"^rng must be a numpy\.random\.Generator \(np\.random\.default_rng\(seed\)\), "
            r"got int$",
        ),
        ((10, np.random.RandomState(0)), {}, "got RandomState$"),
        ((10, np.random.default_rng(0)), {"scale": 0.0}, "scale"),
        ((10, np.random.default_rng(0)), {"scale": -1.0}, "scale"),
        ((10, np.random.default_rng(0)), {"scale": np.inf}, "scale"),
        ((10, np.random.default_rng(0)), {"scale": np.nan}, "scale"),
        ((10, np.random.default_rng(0)), {"centers": [0.0, 1.0]}, "centers"),
        ((10, np.random.default_rng(0)), {"centers": np.zeros((0, 2))}, "centers"),
        ((10, np.random.default_rng(0)), {"centers": [[0.0, np.inf]]}, "centers"),
        ((10, np.random.default_rng(0)), {"centers": [[0.0, np.nan]]}, "centers"),
    ],
)
def test_blobs_reject_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_blobs(*args, **kwargs)


# --------------------------------------------------------------------------- #
# train_softmax_regression
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def blobs():
    return make_blobs(100, np.random.default_rng(2026))


def test_loss_decreases_and_accuracy_is_high(blobs):
    X, y = blobs
    model = train_softmax_regression(X, y, lr=0.5, epochs=200)
    h = model.loss_history
    assert h.shape == (201,)
    assert h[0] == pytest.approx(np.log(3), rel=1e-15, abs=0)  # zero weights: uniform
    # Gradient descent with a small enough step never increases a smooth convex loss.
    assert np.all(np.diff(h) <= 1e-12)
    assert h[-1] < 0.1
    assert (model.predict(X) == y).mean() >= 0.97


def test_predictions_are_consistent(blobs):
    X, y = blobs
    model = train_softmax_regression(X, y, lr=0.5, epochs=50)
    p = model.predict_proba(X)
    assert p.shape == (300, 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p, sp.softmax(X @ model.weights + model.bias, axis=1))
    np.testing.assert_array_equal(model.predict(X), p.argmax(axis=1))
    # The last recorded loss is the loss of the returned parameters.
    want = -np.log(p[np.arange(len(y)), y]).mean()
    assert model.loss_history[-1] == pytest.approx(want, rel=1e-12, abs=0)


def test_one_step_is_the_hand_computed_gradient_step(blobs):
    X, y = blobs
    lr = 0.3
    model = train_softmax_regression(X, y, lr=lr, epochs=1)
    # From W = 0, b = 0 every class has probability 1/3.
    G = (np.full((len(y), 3), 1 / 3) - np.eye(3)[y]) / len(y)
    np.testing.assert_allclose(model.weights, -lr * X.T @ G, rtol=1e-12, atol=0)
    # balanced classes: the bias gradient sums to zero, whatever its scale
    np.testing.assert_allclose(model.bias, -lr * G.sum(axis=0), rtol=0, atol=1e-15)


def test_one_step_on_unbalanced_classes_moves_the_bias_by_the_summed_gradient(blobs):
    # 100, 50 and 20 points: at W = 0, b = 0 the bias gradient Σ_i G_i is 1/3 minus each
    # class's share, which is not zero (a mean over the points would be N = 170 times smaller)
    X, y = blobs
    keep = np.concatenate([np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:50]])
    keep = np.concatenate([keep, np.flatnonzero(y == 2)[:20]])
    X, y = X[keep], y[keep]
    lr = 0.3
    model = train_softmax_regression(X, y, lr=lr, epochs=1)
    share = np.array([100, 50, 20]) / 170
    np.testing.assert_allclose(model.bias, -lr * (1 / 3 - share), rtol=1e-12, atol=0)
    G = (np.full((len(y), 3), 1 / 3) - np.eye(3)[y]) / len(y)
    np.testing.assert_allclose(model.weights, -lr * X.T @ G, rtol=1e-12, atol=0)
    # a second step starts from there: the loss it records is the loss at those parameters
    two = train_softmax_regression(X, y, lr=lr, epochs=2)
    z = X @ model.weights + model.bias
    want = -(sp.log_softmax(z, axis=1)[np.arange(len(y)), y]).mean()
    assert two.loss_history[1] == pytest.approx(want, rel=1e-13, abs=0)
    assert two.loss_history[0] == pytest.approx(np.log(3), rel=1e-15, abs=0)


def test_training_is_deterministic_with_a_seed():
    a = train_softmax_regression(*make_blobs(40, np.random.default_rng(5)), lr=0.5, epochs=30)
    b = train_softmax_regression(*make_blobs(40, np.random.default_rng(5)), lr=0.5, epochs=30)
    np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(a.bias, b.bias)
    np.testing.assert_array_equal(a.loss_history, b.loss_history)


def test_n_classes_adds_an_unseen_class(blobs):
    X, y = blobs
    model = train_softmax_regression(X, y, lr=0.5, epochs=20, n_classes=4)
    assert model.weights.shape == (2, 4)
    assert model.predict_proba(X)[:, 3].max() < 0.25


def test_label_smoothing_keeps_the_loss_above_the_target_entropy(blobs):
    X, y = blobs
    eps = 0.1
    model = train_softmax_regression(X, y, lr=1.0, epochs=300, label_smoothing=eps)
    t = np.array([1 - eps + eps / 3, eps / 3, eps / 3])
    entropy = -(t * np.log(t)).sum()
    assert model.loss_history[-1] > entropy
    assert model.loss_history[-1] < entropy + 0.1
    # Smoothing keeps the weights, and so the confidence, smaller.
    plain = train_softmax_regression(X, y, lr=1.0, epochs=300)
    assert np.abs(model.weights).sum() < np.abs(plain.weights).sum()
    assert model.predict_proba(X).max() < plain.predict_proba(X).max()


@settings(max_examples=20)
@given(st.integers(0, 2**32 - 1), st.floats(0.05, 1.0))
def test_loss_never_increases(seed, lr):
    X, y = make_blobs(20, np.random.default_rng(seed), scale=1.5)
    h = train_softmax_regression(X, y, lr=lr, epochs=40).loss_history
    assert np.all(np.diff(h) <= 1e-12)
    assert np.all(h >= 0)


def test_model_rejects_wrong_feature_count(blobs):
    X, y = blobs
    model = train_softmax_regression(X, y, lr=0.5, epochs=2)
    assert isinstance(model, SoftmaxRegression)
    with pytest.raises(ValueError, match="features"):
        model.predict(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="2-D"):
        model.predict_proba(np.zeros(2))


X0 = np.zeros((4, 2))
Y0 = np.array([0, 1, 2, 1])


@pytest.mark.parametrize(
    ("X", "y", "kwargs", "match"),
    [
        (
            np.zeros(4),
            Y0,
            {},
            r"^X must be a non-empty 2-D array \(points × features\), got \(4,\)$",
        ),
        (np.zeros((0, 2)), np.zeros(0, dtype=int), {}, r"^X must be a non-empty 2-D array"),
        ([[0.0, np.nan]] * 4, Y0, {}, "^X contains NaN$"),
        ([[0.0, np.inf]] * 4, Y0, {}, "^X must be finite$"),
        (X0, [0.0, 1.0, 2.0, 1.0], {}, "^y must hold integer class labels, got dtype float64$"),
        (X0, [True, False, True, False], {}, "^y must hold integer class labels, got dtype bool$"),
        (X0, [0, 1, 2], {}, r"^y must have shape \(4,\) to match X, got \(3,\)$"),
        (X0, [0, 1, -1, 1], {}, r"^y must hold labels 0, 1, 2, \.\.\.; got -1$"),
        (X0, Y0, {"n_classes": 2}, "n_classes"),
        (X0, Y0, {"n_classes": 0}, "n_classes"),
        (X0, Y0, {"n_classes": 3.0}, "n_classes"),
        (X0, Y0, {"lr": 0.0}, "lr"),
        (X0, Y0, {"lr": -0.1}, "lr"),
        (X0, Y0, {"lr": np.nan}, "lr"),
        (X0, Y0, {"lr": np.inf}, "^lr must be a positive finite number, got inf$"),
        (X0, Y0, {"lr": "0.1"}, "lr"),
        (X0, Y0, {"epochs": 0}, "epochs"),
        (X0, Y0, {"epochs": 2.0}, "epochs"),
        (X0, Y0, {"epochs": True}, "epochs"),
        (X0, Y0, {"label_smoothing": 2.0}, "label_smoothing"),
    ],
)
def test_training_rejects_bad_input(X, y, kwargs, match):
    options = {"lr": 0.1, "epochs": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        train_softmax_regression(X, y, **options)


def test_blobs_are_the_centres_plus_the_generators_normal_draws():
    centers = np.array([[0.0, 2.5], [-2.5, -1.5], [2.5, -1.5]])
    X, y = make_blobs(5, np.random.default_rng(3), centers=centers, scale=0.5)
    noise = np.random.default_rng(3).normal(scale=0.5, size=(3, 5, 2))
    np.testing.assert_array_equal(X, (centers[:, None, :] + noise).reshape(-1, 2))
    assert y.tolist() == [0] * 5 + [1] * 5 + [2] * 5 and y.dtype == np.int64


def test_the_smallest_data_set_and_model_are_allowed():
    X, y = make_blobs(1, np.random.default_rng(0))  # one point per class
    assert X.shape == (3, 2) and y.tolist() == [0, 1, 2]
    # one class: nothing to learn, and the loss is 0 from the start
    model = train_softmax_regression(X[:1], y[:1], lr=0.5, epochs=2, n_classes=1)
    assert model.weights.shape == (2, 1)
    assert model.loss_history.tolist() == [0.0, 0.0, 0.0]
    assert model.predict(X).tolist() == [0, 0, 0]


def test_training_records_exactly_epochs_plus_one_losses(blobs):
    X, y = blobs
    for epochs in (1, 2, 5):
        model = train_softmax_regression(X, y, lr=0.5, epochs=epochs)
        assert model.loss_history.shape == (epochs + 1,)
        # and the parameters are those after exactly `epochs` steps
        again = train_softmax_regression(X, y, lr=0.5, epochs=epochs + 1)
        assert not np.array_equal(model.weights, again.weights)
        np.testing.assert_array_equal(model.loss_history, again.loss_history[:-1])


def test_blob_expected_loss_defaults_and_messages():
    from klbook.classifier import blob_bayes_classifier, blob_expected_loss

    bayes = blob_bayes_classifier()
    # the defaults are the book's blobs (σ = 0.8) on a 601-point grid, to the last bit
    assert blob_expected_loss(bayes) == blob_expected_loss(bayes, scale=0.8, points=601)
    assert blob_expected_loss(bayes) != blob_expected_loss(bayes, scale=0.8, points=603)
    with pytest.raises(ValueError) as info:
        blob_expected_loss("model")  # type: ignore[arg-type]
    assert str(info.value) == "model must be a SoftmaxRegression (weights, bias), got str"
    three_d = SoftmaxRegression(np.zeros((3, 3)), np.zeros(3), np.zeros(1))
    with pytest.raises(ValueError) as info:
        blob_expected_loss(three_d)
    assert str(info.value) == (
        "model has weights of shape (3, 3), but these blobs need (2, 3) (dimensions, classes)"
    )


def test_blob_bayes_limits_defaults_are_the_books_blobs():
    from klbook.classifier import blob_bayes_limits

    assert blob_bayes_limits() == blob_bayes_limits(centers=DEFAULT_CENTERS, scale=0.8, points=601)
    assert blob_bayes_limits() != blob_bayes_limits(scale=0.8, points=603)


def test_blob_bayes_limits_accept_the_coarsest_grid():
    from klbook.classifier import blob_bayes_limits

    coarse = blob_bayes_limits(points=101)
    fine = blob_bayes_limits()
    assert coarse.accuracy == pytest.approx(fine.accuracy, rel=1e-4, abs=0)
    with pytest.raises(ValueError, match="points"):
        blob_bayes_limits(points=100)


def test_model_and_blob_messages_in_full():
    model = SoftmaxRegression(np.zeros((2, 3)), np.zeros(3), np.zeros(1))
    for X, message in (
        (np.zeros((4, 3)), "X has 3 features but the model was trained on 2"),
        ([[np.nan, 0.0]], "X contains NaN"),
        (np.zeros(2), "X must be a non-empty 2-D array (points × features), got (2,)"),
    ):
        with pytest.raises(ValueError) as info:
            model.logits(X)
        assert str(info.value) == message
    for centers, message in (
        ([[0.0, np.inf]], "centers must be finite"),
        ([["a", "b"]], "centers must be an array of real numbers, got dtype <U1"),
    ):
        with pytest.raises(ValueError) as info:
            make_blobs(3, np.random.default_rng(0), centers=centers)
        assert str(info.value) == message
