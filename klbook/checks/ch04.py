"""Self-checks for chapter 4, cross-entropy and the cross-entropy loss.

Every expected answer is computed here from its formula, not pasted in.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import logsumexp

from klbook.exercises import NATS_FROM_BITS, FunctionCheck, NumericCheck

__all__ = ["CHECKS"]


def _kl(p: list[float], q: list[float], log=math.log) -> float:
    """KL(P‖Q) by its definition, with the natural log unless ``log`` is given."""
    return sum(pi * log(pi / qi) for pi, qi in zip(p, q, strict=True) if pi > 0)


# --- ex-ch4-smoothing-margin: the logit gap that minimises the smoothed loss ----------
# Logits (m, 0, ..., 0), C classes, smoothing eps: the loss is smallest when
# softmax(z) equals the smoothed target, i.e. e^m = (1 - eps + eps/C) / (eps/C).
_C, _EPS = 10, 0.1
_TRUE = 1 - _EPS + _EPS / _C
_OTHER = _EPS / _C

SMOOTHING_MARGIN = NumericCheck(
    expected=math.log(_TRUE / _OTHER),
    hint=(
        "The loss is KL(P_ε‖Q) + H(P_ε), smallest when Q equals the smoothed target; "
        "compare the probability of the true class with that of any other class."
    ),
    mistakes=[
        (
            math.log((1 - _EPS) / _EPS),
            "the smoothed target gives the true class 1 − ε + ε/C and each other class ε/C.",
        ),
        (
            math.log((1 - _EPS) / (_EPS / (_C - 1))),
            "this book's smoothing mixes with the uniform distribution over all C classes "
            "(ε/C each, the true class included), not ε/(C − 1) over the others.",
        ),
        (
            math.log(_C * (1 - _EPS) / _EPS),
            "almost: check the ratio of the two target probabilities again (there is a + 1).",
        ),
        (
            math.log2(_TRUE / _OTHER),
            "a logit gap is a natural log of a probability ratio, not log base 2.",
        ),
        (math.inf, "with ε > 0 the minimum is at a finite gap."),
    ],
)

# --- ex-ch4-wrong-code: extra bits per symbol when coding P with Q's code -------------
P_CODE = [1 / 2, 1 / 4, 1 / 8, 1 / 8]
Q_CODE = [1 / 8, 1 / 2, 1 / 4, 1 / 8]
_H_P = -sum(p * math.log2(p) for p in P_CODE)
_H_PQ = -sum(p * math.log2(q) for p, q in zip(P_CODE, Q_CODE, strict=True))

WRONG_CODE = NumericCheck(
    expected=_H_PQ - _H_P,
    hint=(
        "Work out the average code length with Q's code words under P's frequencies, "
        "then subtract the best possible average length."
    ),
    units=NATS_FROM_BITS,
    mistakes=[
        (_H_PQ, "that is the whole average length H(P, Q); the question asks for the extra."),
        (_H_P, "that is H(P), the length of the best code for P."),
        (
            _kl(Q_CODE, P_CODE, log=math.log2),
            "that is KL(Q‖P): the symbols arrive with P's frequencies, so P weights the sum.",
        ),
    ],
)

# --- ex-ch4-gradient: d loss / d z_y for z = (2, 1, 0), true class index 1 -------------
_Z_GRAD = np.array([2.0, 1.0, 0.0])
_Y_GRAD = 1
_SOFTMAX = np.exp(_Z_GRAD - logsumexp(_Z_GRAD))

GRADIENT = NumericCheck(
    expected=float(_SOFTMAX[_Y_GRAD] - 1.0),
    hint="The gradient with respect to the logits is the model's probabilities minus the target.",
    mistakes=[
        (float(_SOFTMAX[_Y_GRAD]), "you have softmax; subtract the target's entry too."),
        (float(1.0 - _SOFTMAX[_Y_GRAD]), "check the sign: it is softmax minus the target."),
        (float(_SOFTMAX[0]), "that is the entry of class 0; the true class has index 1."),
        (
            float(_SOFTMAX[0] - 1.0),
            "that is the entry of class 0; the true class has index 1 (Python counts from 0).",
        ),
    ],
)

# --- ex-ch4-stable-nll: a stable -log softmax(z)[y] for one example ---------------------
_NLL_CASES = [
    (np.array([1.0, 2.0, 3.0]), 0),
    (np.array([1.0, 2.0, 3.0]), 2),
    (np.array([1000.0, 0.0, -1000.0]), 0),
    (np.array([1000.0, 0.0, -1000.0]), 2),
    (np.array([0.0, -800.0]), 1),
    (np.array([-1000.0, -1000.0, -1000.0]), 1),
    (np.array([5.0]), 0),
]

STABLE_NLL = FunctionCheck(
    cases=[((z, y), float(logsumexp(z) - z[y])) for z, y in _NLL_CASES],
    hint=(
        "Subtract the largest logit before exponentiating, and add it back outside the log; "
        "try logits such as [1000, 0, -1000] and [0, -800]."
    ),
)

# --- ex-ch4-bayes-accuracy: the best accuracy for N(-1.25, 1) against N(1.25, 1) --------
# Equal priors and variances: P(1 | x) = sigmoid(2.5 x), the rule "x > 0" is best, and it
# is right with probability Phi(1.25) for either class.
_HALF_GAP = 1.25


def _normal_cdf(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


BAYES_ACCURACY = NumericCheck(
    expected=_normal_cdf(_HALF_GAP),
    hint=(
        "Find where P(1 | x) = 1/2, then ask how often a point of class 1 lands on its own "
        "side of that boundary (and a point of class 0 on its side)."
    ),
    mistakes=[
        (
            _normal_cdf(2 * _HALF_GAP),
            "2.5 is the distance between the centres; the boundary sits halfway between them.",
        ),
        (
            1.0 - _normal_cdf(_HALF_GAP),
            "that is the probability of a mistake; the question asks for the accuracy.",
        ),
        (
            1.0 / (1.0 + math.exp(-2.0 * _HALF_GAP * _HALF_GAP)),
            "that is P(1 | x) at the centre x = 1.25; the accuracy averages over every x.",
        ),
        (0.5, "the blobs overlap only a little: the best rule does much better than a coin."),
    ],
)

CHECKS = {
    "ex-ch4-smoothing-margin": SMOOTHING_MARGIN,
    "ex-ch4-wrong-code": WRONG_CODE,
    "ex-ch4-gradient": GRADIENT,
    "ex-ch4-stable-nll": STABLE_NLL,
    "ex-ch4-bayes-accuracy": BAYES_ACCURACY,
}
