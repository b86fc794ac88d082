"""Self-checks for chapter 1, the log-likelihood ratio.

Every expected value is computed here from its formula, with the standard
library only, so that the checks do not merely repeat klbook's own code.

Examples
--------
>>> import math
>>> from klbook.exercises import check
>>> check("ex-ch1-threshold", THRESHOLD_HEADS)
Correct.
>>> check("ex-ch1-threshold", 33)
Not quite: the answer need not be a whole number: keep the fraction.
>>> check("ex-ch1-sequence-bits", SEQUENCE_LLR_BITS)
Correct.
>>> check("ex-ch1-sequence-bits", SEQUENCE_LLR_BITS * math.log(2))
Correct (in nats).
>>> check("ex-ch1-sequence-bits", -SEQUENCE_LLR_BITS).status
'incorrect'
>>> check("ex-ch1-llr-function", _coin_llr)
Correct.
>>> check("ex-ch1-llr-function", lambda k, n, p, q: -_coin_llr(k, n, p, q)).status
'incorrect'
>>> check("ex-ch1-accuracy", ACCURACY_FROM_P)
Correct.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from klbook.exercises import NATS_FROM_BITS, FunctionCheck, NumericCheck

__all__ = ["CHECKS"]


def _coin_llr(k: Any, n: Any, p: float, q: float) -> Any:
    """Log-likelihood ratio log P/Q in nats of ``k`` heads in ``n`` flips (eq. ch1-llr-coin)."""
    k = np.asarray(k, dtype=np.float64)
    llr = k * math.log(p / q) + (n - k) * math.log((1 - p) / (1 - q))
    return float(llr) if np.ndim(llr) == 0 else llr


def _heads_for_log_ratio(log_ratio: float, n: int, p: float, q: float) -> float:
    """Solve n log((1-p)/(1-q)) + k log(p(1-q)/(q(1-p))) = log_ratio for k."""
    slope = math.log(p * (1 - q) / (q * (1 - p)))
    return (log_ratio + n * math.log((1 - q) / (1 - p))) / slope


def _binomial_tail(k_min: int, n: int, p: float) -> float:
    """Pr(K >= k_min) for K ~ Binomial(n, p)."""
    return math.fsum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(k_min, n + 1))


# Exercise ex-ch1-threshold: P(x)/Q(x) = 100 with p = 0.8, q = 0.4, n = 50.
_T_N, _T_P, _T_Q = 50, 0.8, 0.4
THRESHOLD_HEADS = _heads_for_log_ratio(math.log(100), _T_N, _T_P, _T_Q)

# Exercise ex-ch1-sequence-bits: HHTHHHTHHT under p = 0.8 against q = 0.5, in bits.
_SEQUENCE = "HHTHHHTHHT"
_S_K, _S_N, _S_P, _S_Q = _SEQUENCE.count("H"), len(_SEQUENCE), 0.8, 0.5
SEQUENCE_LLR_BITS = _coin_llr(_S_K, _S_N, _S_P, _S_Q) / math.log(2)

# Exercise ex-ch1-accuracy: n = 30 flips of p = 0.7, decided against q = 0.5.
_A_N, _A_P, _A_Q = 30, 0.7, 0.5
_A_KSTAR = _heads_for_log_ratio(0.0, _A_N, _A_P, _A_Q)
_A_FIRST_FOR_P = math.floor(_A_KSTAR) + 1  # smallest k with a positive LLR (k* is not whole)
ACCURACY_FROM_P = _binomial_tail(_A_FIRST_FOR_P, _A_N, _A_P)

CHECKS = {
    "ex-ch1-threshold": NumericCheck(
        THRESHOLD_HEADS,
        hint=(
            "write log P(x)/Q(x) as a straight line in k, set it equal to the log of the "
            "required ratio and solve for k; use one logarithm base throughout."
        ),
        mistakes=[
            (
                _heads_for_log_ratio(0.0, _T_N, _T_P, _T_Q),
                "that is where the two coins tie (ratio 1, LLR 0); the question asks for a "
                "ratio of 100.",
            ),
            (
                _heads_for_log_ratio(-math.log(100), _T_N, _T_P, _T_Q),
                "at that k the sequence is 100 times more probable under Q than under P: "
                "check which coin is in the numerator.",
            ),
            (
                _heads_for_log_ratio(math.log10(100), _T_N, _T_P, _T_Q),
                "you mixed logarithm bases: log 100 must use the same base as the coin terms.",
            ),
            (
                float(round(THRESHOLD_HEADS)),
                "the answer need not be a whole number: keep the fraction.",
            ),
        ],
    ),
    "ex-ch1-sequence-bits": NumericCheck(
        SEQUENCE_LLR_BITS,
        hint=(
            "count heads and tails, add one log ratio per flip, and say in which unit your "
            "number is (log base 2 gives bits)."
        ),
        units=NATS_FROM_BITS,
        mistakes=[
            (
                -SEQUENCE_LLR_BITS,
                "the sign is flipped: the coin in the numerator (P, p = 0.8) goes first.",
            ),
            (
                -SEQUENCE_LLR_BITS * math.log(2),
                "the sign is flipped: the coin in the numerator (P, p = 0.8) goes first.",
            ),
            (
                SEQUENCE_LLR_BITS * math.log(2) ** 2,
                "the conversion went the wrong way: bits = nats / ln 2, so a value in bits "
                "is larger than the same value in nats.",
            ),
            (
                SEQUENCE_LLR_BITS / math.log(2),
                "the conversion went the wrong way: a value already in bits should not be "
                "divided by ln 2 again.",
            ),
            (
                SEQUENCE_LLR_BITS * math.log10(2),
                "that looks like base-10 logarithms; use base 2 for bits.",
            ),
            (
                _S_K * math.log2(_S_P / _S_Q),
                "the tails carry evidence too: add their term.",
            ),
        ],
    ),
    "ex-ch1-llr-function": FunctionCheck(
        cases=[
            ((7, 10, 0.8, 0.5), _coin_llr(7, 10, 0.8, 0.5)),
            ((0, 5, 0.3, 0.6), _coin_llr(0, 5, 0.3, 0.6)),
            ((5, 10, 0.5, 0.5), 0.0),
            ((1400, 2000, 0.7, 0.5), _coin_llr(1400, 2000, 0.7, 0.5)),
            ((np.array([0, 5, 10]), 10, 0.7, 0.5), _coin_llr(np.array([0, 5, 10]), 10, 0.7, 0.5)),
        ],
        hint=(
            "return log P(x) − log Q(x) in nats, with the coin p in the numerator; compute it "
            "as a sum of logarithms (a product of 2000 probabilities underflows) and make it "
            "work for an array k too."
        ),
    ),
    "ex-ch1-accuracy": NumericCheck(
        ACCURACY_FROM_P,
        hint=(
            "find the k for which the LLR is positive, then add the binomial probabilities "
            "of those k under the coin that produced the flips."
        ),
        rtol=0.0,
        atol=2e-3,
        mistakes=[
            (
                _binomial_tail(_A_FIRST_FOR_P - 1, _A_N, _A_P),
                "one k too many: at that number of heads the LLR is still negative.",
            ),
            (
                _binomial_tail(_A_FIRST_FOR_P + 1, _A_N, _A_P),
                "one k too few: the smallest number of heads with a positive LLR counts too.",
            ),
            (
                1 - _binomial_tail(_A_FIRST_FOR_P, _A_N, _A_Q),
                "that is the accuracy for sequences from the fair coin Q; the flips come from P.",
            ),
            (
                1 - ACCURACY_FROM_P,
                "that is the probability of the wrong decision.",
            ),
        ],
    ),
}
