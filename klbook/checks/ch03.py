"""Self-checks for chapter 3, the coin-sequence limit.

Every expected answer is computed here from its formula, not pasted in.
"""

from __future__ import annotations

import math

import numpy as np

from klbook.exercises import BITS, NATS_FROM_BITS, FunctionCheck, NumericCheck

__all__ = ["CHECKS"]


def _kl(p: list[float], q: list[float], log=math.log) -> float:
    """KL(P‖Q) by its definition, with the natural log unless ``log`` is given."""
    return sum(pi * log(pi / qi) for pi, qi in zip(p, q, strict=True) if pi > 0)


def _phi(x: float) -> float:
    """Return the standard normal distribution function at x."""
    return 0.5 * math.erfc(-x / math.sqrt(2))


# The chapter's coins: truth P (heads 0.7) and model Q (heads 0.4).
_P1, _Q1 = 0.7, 0.4
_P = [_P1, 1 - _P1]
_Q = [_Q1, 1 - _Q1]

# --- ex-ch3-limit-under-q: flips from Q, L_N -> -KL(Q‖P) (nats) -------------------------
LIMIT_UNDER_Q = NumericCheck(
    expected=-_kl(_Q, _P),
    hint=(
        "Under Q the fractions of heads and tails converge to Q's probabilities; put "
        "those limits into L_N and compare the result with a KL divergence."
    ),
    units=BITS,
    mistakes=[
        (_kl(_Q, _P), "check the sign: L_N has P on top, and the data now favour Q."),
        (_kl(_P, _Q), "that is the limit when the flips come from P."),
        (
            -_kl(_P, _Q),
            "the sign is right, but the weights must be the probabilities of "
            "the coin that produced the flips.",
        ),
    ],
)

# --- ex-ch3-die-bits: four-sided die, counts exactly N p, log2 ratio (bits) -------------
DIE4_P = [1 / 2, 1 / 4, 1 / 8, 1 / 8]
DIE4_Q = [1 / 8, 1 / 2, 1 / 4, 1 / 8]
DIE4_COUNTS = [8, 4, 2, 2]
_N4 = sum(DIE4_COUNTS)


def _log2_prob(counts: list[int], probs: list[float]) -> float:
    return sum(c * math.log2(p) for c, p in zip(counts, probs, strict=True))


_DIE4_LLR = _log2_prob(DIE4_COUNTS, DIE4_P) - _log2_prob(DIE4_COUNTS, DIE4_Q)

DIE_BITS = NumericCheck(
    expected=_DIE4_LLR,
    hint="Add up c_i · log2(p_i / q_i) over the four faces.",
    units=NATS_FROM_BITS,
    mistakes=[
        (-_DIE4_LLR, "that is log2 Q^N(x)/P^N(x): P goes on top."),
        (
            _N4 * _kl(DIE4_Q, DIE4_P, log=math.log2),
            "that is N · KL(Q‖P): the counts come from P, so P's probabilities are the weights.",
        ),
        (_DIE4_LLR / _N4, "that is the value per roll; the question asks for all N rolls."),
        (_log2_prob(DIE4_COUNTS, DIE4_P), "that is log2 P^N(x) alone; subtract log2 Q^N(x)."),
        (_log2_prob(DIE4_COUNTS, DIE4_Q), "that is log2 Q^N(x) alone."),
    ],
)

# --- ex-ch3-wrong-way: normal approximation of Pr(L_N < 0) at N = 100 -----------------
_N_WRONG = 100
_KL = _kl(_P, _Q)
_SIGMA = math.sqrt(sum(p * (math.log(p / q) - _KL) ** 2 for p, q in zip(_P, _Q, strict=True)))
_A, _B = math.log(_P[0] / _Q[0]), math.log(_P[1] / _Q[1])
_K_MAX = math.ceil(-_N_WRONG * _B / (_A - _B)) - 1  # largest head count with L_N < 0
_EXACT_WRONG = sum(
    math.comb(_N_WRONG, k) * _P1**k * (1 - _P1) ** (_N_WRONG - k) for k in range(_K_MAX + 1)
)
_NORMAL_WRONG = _phi(-math.sqrt(_N_WRONG) * _KL / _SIGMA)

WRONG_WAY = NumericCheck(
    expected=_NORMAL_WRONG,
    hint=(
        "Standardise: how many standard deviations σ/√N below the mean KL is 0? Then use "
        "the standard normal distribution function."
    ),
    rtol=0.02,
    atol=0.0,
    mistakes=[
        (
            _EXACT_WRONG,
            "that is the exact binomial probability (well done); the exercise "
            "asks first for the normal approximation.",
        ),
        (_phi(-_KL / _SIGMA), "that uses the spread of a single flip; L_N averages N flips."),
        (
            _phi(-math.sqrt(_N_WRONG) * _KL / _SIGMA**2),
            "use the standard deviation σ, not the variance σ², in the denominator.",
        ),
        (1 - _NORMAL_WRONG, "that is the probability that L_N points the right way."),
    ],
)

# --- ex-ch3-running-die: a function returning the running normalised LLR --------------


def _running(rolls: list[int], p: list[float], q: list[float]) -> list[float]:
    total, out = 0.0, []
    for n, face in enumerate(rolls, start=1):
        total += math.log(p[face] / q[face])
        out.append(total / n)
    return out


_CASES_RAW = [
    ([0, 2, 1, 0], [0.5, 0.25, 0.25], [0.25, 0.25, 0.5]),
    ([5, 5, 4, 0, 3, 5, 1, 2, 5, 4], [0.1, 0.1, 0.1, 0.1, 0.2, 0.4], [1 / 6] * 6),
    ([1], [0.9, 0.1], [0.5, 0.5]),
]

RUNNING_DIE = FunctionCheck(
    cases=[
        ((np.array(r), np.array(p), np.array(q)), np.array(_running(r, p, q)))
        for r, p, q in _CASES_RAW
    ],
    hint=(
        "Return one value per roll (an array as long as rolls): the cumulative sum of "
        "log(p[x]/q[x]) divided by 1, 2, …, n, in nats."
    ),
)

# --- ex-ch3-martingale-spread: sd of R_100 = P^N/Q^N under Q ---------------------------
_N_MART = 100
_BASE = sum(p * p / q for p, q in zip(_P, _Q, strict=True))  # E_Q[(P/Q)^2] per flip
_BASE_SWAPPED = sum(q * q / p for p, q in zip(_P, _Q, strict=True))  # E_P[(Q/P)^2]

MARTINGALE_SPREAD = NumericCheck(
    expected=math.sqrt(_BASE**_N_MART - 1),
    rtol=0.01,
    hint=(
        "The mean of a product of independent factors is the product of their means: "
        "find E_Q[(P(X)/Q(X))^2] for one flip, raise it to the power N, and remember "
        "that E_Q[R_N] = 1."
    ),
    mistakes=[
        (_BASE**_N_MART - 1, "that is the variance; the question asks for the standard deviation."),
        (
            math.sqrt(_BASE_SWAPPED**_N_MART - 1),
            "under Q the factor (P/Q)^2 is weighted by Q's probabilities: q (p/q)^2 = p^2/q.",
        ),
        (
            math.sqrt(_N_MART * (_BASE - 1)),
            "the factors multiply, so their second moments multiply too; they do not add.",
        ),
    ],
)

CHECKS = {
    "ex-ch3-limit-under-q": LIMIT_UNDER_Q,
    "ex-ch3-die-bits": DIE_BITS,
    "ex-ch3-wrong-way": WRONG_WAY,
    "ex-ch3-running-die": RUNNING_DIE,
    "ex-ch3-martingale-spread": MARTINGALE_SPREAD,
}
