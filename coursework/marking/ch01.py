"""Marking checks for chapter 1, the log-likelihood ratio.

References are computed here with the standard library, independently of
klbook and of the practice self-checks in ``klbook/checks/ch01.py``.
"""

from __future__ import annotations

import math

import numpy as np

from coursework.marking import NATS, Function, Numeric


def _llr(k: float, n: float, p: float, q: float) -> float:
    """Return log P(x)/Q(x) in nats for k heads in n flips, one term per outcome."""
    return k * math.log(p / q) + (n - k) * math.log((1 - p) / (1 - q))


# ex-ch1-threshold: the k at which P(x)/Q(x) = 100 (p = 0.8, q = 0.4, n = 50).
# lambda(k) = n log((1-p)/(1-q)) + k log(p(1-q)/(q(1-p))) is a straight line in k.
_N, _P, _Q = 50, 0.8, 0.4
_THRESHOLD = (math.log(100) - _N * math.log((1 - _P) / (1 - _Q))) / math.log(
    (_P / _Q) * ((1 - _Q) / (1 - _P))
)

# ex-ch1-sequence-bits: HHTHHHTHHT, p = 0.8 against q = 0.5, in bits.
_SEQ = "HHTHHHTHHT"
_SEQ_BITS = sum(math.log2(0.8 / 0.5) if c == "H" else math.log2(0.2 / 0.5) for c in _SEQ)

# ex-ch1-llr-function: inputs unlike the practice cases, arrays and n = 2500 included.
_K_ARRAY = np.array([0, 2, 7, 11])
_LLR_CASES = [
    ((3, 8, 0.6, 0.3), _llr(3, 8, 0.6, 0.3)),
    ((0, 4, 0.25, 0.75), _llr(0, 4, 0.25, 0.75)),
    ((20, 20, 0.9, 0.5), _llr(20, 20, 0.9, 0.5)),
    ((1234, 2500, 0.55, 0.45), _llr(1234, 2500, 0.55, 0.45)),
    ((6, 12, 0.3, 0.3), 0.0),
    ((_K_ARRAY, 11, 0.35, 0.6), np.array([_llr(int(k), 11, 0.35, 0.6) for k in _K_ARRAY])),
]

# ex-ch1-accuracy: Pr(the sign rule picks P) for n = 30 flips of p = 0.7 against q = 0.5:
# the LLR is positive exactly when k > n log((1-q)/(1-p)) / log(p(1-q)/(q(1-p))).
_AN, _AP, _AQ = 30, 0.7, 0.5
_TIE = _AN * math.log((1 - _AQ) / (1 - _AP)) / math.log((_AP / _AQ) * ((1 - _AQ) / (1 - _AP)))
_ACCURACY = math.fsum(
    math.comb(_AN, k) * _AP**k * (1 - _AP) ** (_AN - k) for k in range(_AN + 1) if k > _TIE
)

MARKING = {
    "ex-ch1-threshold": Numeric(_THRESHOLD, rtol=1e-3),
    "ex-ch1-sequence-bits": Numeric(_SEQ_BITS, rtol=1e-3, units=NATS),
    "ex-ch1-llr-function": Function(_LLR_CASES, rtol=1e-6, forbid=("klbook",)),
    "ex-ch1-accuracy": Numeric(_ACCURACY, rtol=0.0, atol=2e-3),
}
