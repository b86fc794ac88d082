"""Self-checks for chapter 2, expected value and KL as the expected log-likelihood ratio.

Every expected answer is computed here from its formula, not pasted in.
"""

from __future__ import annotations

import math

import numpy as np

from klbook.exercises import BITS, FunctionCheck, NumericCheck

__all__ = ["CHECKS"]

LN2 = math.log(2)


def _kl(p: list[float], q: list[float], log=math.log) -> float:
    """KL(P‖Q) by its definition, with the natural log unless ``log`` is given."""
    return sum(pi * log(pi / qi) for pi, qi in zip(p, q, strict=True) if pi > 0)


# --- ex-ch2-uniform-coin: KL(Bern(p) ‖ fair coin) = ln 2 − H(p), at p = 0.8 (nats) ----
# (p = 0.8, not the 0.9 coin whose KL the chapter prints in its asymmetry section)
_P_COIN = 0.8
_H_COIN = -(_P_COIN * math.log(_P_COIN) + (1 - _P_COIN) * math.log(1 - _P_COIN))
_COIN = [_P_COIN, 1 - _P_COIN]
_FAIR = [0.5, 0.5]

UNIFORM_COIN = NumericCheck(
    expected=LN2 - _H_COIN,
    hint=(
        "Write KL(P‖U) = Σ p_i log p_i − Σ p_i log(1/2) and recognise both sums; "
        "give the result in nats."
    ),
    units=BITS,
    mistakes=[
        (_kl(_FAIR, _COIN), "that is KL(U‖P), with the fair coin as the truth; P comes first."),
        (
            _P_COIN * math.log(_P_COIN / 0.5),
            "you have only the heads term; tails contributes too.",
        ),
        (_H_COIN - LN2, "check the sign: KL is never negative."),
        (_H_COIN, "that is the entropy H(p) on its own."),
        (_kl(_COIN, _FAIR, log=math.log10), "use the natural log (nats), not log base 10."),
    ],
)

# --- ex-ch2-bits-three: KL(P‖Q) in bits for three outcomes -----------------------------
P_THREE = [0.6, 0.3, 0.1]
Q_THREE = [0.3, 0.3, 0.4]

BITS_THREE = NumericCheck(
    expected=_kl(P_THREE, Q_THREE, log=math.log2),
    hint="Weight each log2(P(x)/Q(x)) by P(x) and add the three terms.",
    mistakes=[
        (
            _kl(Q_THREE, P_THREE, log=math.log2),
            "that is KL(Q‖P): the weights and the numerator come from P, the truth.",
        ),
        (
            _kl(P_THREE, Q_THREE),
            "that is the answer in nats; the question asks for bits (log base 2).",
        ),
        (
            _kl(Q_THREE, P_THREE),
            "that is KL(Q‖P) in nats: swap the arguments back and use log base 2.",
        ),
        (
            sum(math.log2(p / q) for p, q in zip(P_THREE, Q_THREE, strict=True)),
            "each log ratio must be weighted by P(x) before adding.",
        ),
        (
            _kl(P_THREE, Q_THREE, log=math.log10),
            "use log base 2 for bits, not log base 10.",
        ),
    ],
)

# --- ex-ch2-mc-function: a Monte Carlo KL estimator written by the student --------------


def _mc(samples: list[int], p: list[float], q: list[float]) -> float:
    return sum(math.log(p[x] / q[x]) for x in samples) / len(samples)


_CASES_RAW = [
    ([0, 0, 1, 2], [0.5, 0.25, 0.25], [0.25, 0.25, 0.5]),
    ([1, 1, 1], [0.2, 0.8], [0.5, 0.5]),
    ([2, 0, 0, 1, 0], P_THREE, Q_THREE),
    ([3], [0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]),
]

MC_FUNCTION = FunctionCheck(
    cases=[((np.array(s), np.array(p), np.array(q)), _mc(s, p, q)) for s, p, q in _CASES_RAW],
    hint=(
        "Index p and q with the array of samples, take the natural log of the ratio for "
        "every sample, and return the mean of those log ratios as one number."
    ),
)

# --- ex-ch2-samples-needed: n for a standard error of 0.01 nats -------------------------
P_LOADED = [0.1, 0.1, 0.1, 0.1, 0.2, 0.4]
Q_FAIR = [1 / 6] * 6
TARGET_SE = 0.01

_KL_LOADED = _kl(P_LOADED, Q_FAIR)
_VAR_LOADED = sum(p * math.log(p / q) ** 2 for p, q in zip(P_LOADED, Q_FAIR, strict=True)) - (
    _KL_LOADED**2
)

SAMPLES_NEEDED = NumericCheck(
    expected=math.ceil(_VAR_LOADED / TARGET_SE**2),
    hint=(
        "The standard error is σ/√n with σ² = Var_P[log P(X)/Q(X)] = E_P[λ²] − (E_P[λ])²; "
        "solve σ/√n ≤ 0.01 for the smallest whole n."
    ),
    rtol=0,
    atol=0.25,
    mistakes=[
        (
            _VAR_LOADED / TARGET_SE**2,
            "a number of samples is a whole number: round up to the next integer.",
        ),
        (
            math.ceil(math.sqrt(_VAR_LOADED) / TARGET_SE**2),
            "you used σ where the formula needs the variance σ².",
        ),
        (
            math.ceil((_VAR_LOADED + _KL_LOADED**2) / TARGET_SE**2),
            "E_P[λ²] is not the variance: subtract the square of the mean.",
        ),
        (
            math.ceil(_VAR_LOADED / TARGET_SE),
            "the target standard error must be squared when you solve for n.",
        ),
    ],
)

# --- ex-ch2-quadratic: KL(P‖Q) ≈ Σ (Q − P)² / (2P); for coins (p − q)² / (2p(1 − p)) ---
_P_NEAR, _Q_NEAR = 0.3, 0.33
_DELTA = _Q_NEAR - _P_NEAR
_NEAR_P = [_P_NEAR, 1 - _P_NEAR]
_NEAR_Q = [_Q_NEAR, 1 - _Q_NEAR]

QUADRATIC = NumericCheck(
    expected=sum((qi - pi) ** 2 / (2 * pi) for pi, qi in zip(_NEAR_P, _NEAR_Q, strict=True)),
    hint=(
        "Expand log(Q/P) = log(1 + δ/P) to second order, use Σ δ = 0, and evaluate the "
        "quadratic term for the two outcomes of the coin, in nats."
    ),
    rtol=3e-3,
    units=BITS,
    mistakes=[
        (
            _kl(_NEAR_P, _NEAR_Q),
            "that is the exact KL; the question asks for the quadratic approximation.",
        ),
        (
            _DELTA**2 / (2 * _Q_NEAR * (1 - _Q_NEAR)),
            "the denominator holds the truth P, p(1 − p), not the model's q(1 − q).",
        ),
        (
            _DELTA**2 / (_P_NEAR * (1 - _P_NEAR)),
            "the second-order term of log(1 + u) is −u²/2: keep the factor 1/2.",
        ),
        (
            _DELTA**2 / (2 * _P_NEAR),
            "tails contribute a quadratic term too: add (q − p)²/(2(1 − p)).",
        ),
        (
            _DELTA / (2 * _P_NEAR * (1 - _P_NEAR)),
            "the difference q − p must be squared.",
        ),
    ],
)

CHECKS = {
    "ex-ch2-uniform-coin": UNIFORM_COIN,
    "ex-ch2-bits-three": BITS_THREE,
    "ex-ch2-mc-function": MC_FUNCTION,
    "ex-ch2-samples-needed": SAMPLES_NEEDED,
    "ex-ch2-quadratic": QUADRATIC,
}
