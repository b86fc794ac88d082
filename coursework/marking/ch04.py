"""Marking checks for chapter 4, cross-entropy and the cross-entropy loss.

References are computed here with the standard library, independently of
klbook, scipy and the practice self-checks in ``klbook/checks/ch04.py``.
"""

from __future__ import annotations

import math

import numpy as np

from coursework.marking import NATS, Function, Numeric

# ex-ch4-smoothing-margin: softmax(m, 0, ..., 0) equals the smoothed target when
# e^m = (1 - eps + eps/C) / (eps/C), for C = 10, eps = 0.1.
_C, _EPS = 10, 0.1
_MARGIN = math.log((1 - _EPS + _EPS / _C) / (_EPS / _C))

# ex-ch4-wrong-code: extra bits per symbol, H(P, Q) - H(P), from the code lengths.
_P = (1 / 2, 1 / 4, 1 / 8, 1 / 8)
_LENGTHS_Q = (3, 1, 2, 3)  # -log2 Q = (3, 1, 2, 3)
_LENGTHS_P = (1, 2, 3, 3)
_WRONG_CODE = math.fsum(p * (lq - lp) for p, lq, lp in zip(_P, _LENGTHS_Q, _LENGTHS_P, strict=True))

# ex-ch4-gradient: d loss / d z_1 = softmax(z)_1 - 1 for z = (2, 1, 0).
_GRADIENT = math.exp(1) / (math.exp(2) + math.exp(1) + math.exp(0)) - 1


# ex-ch4-stable-nll: -log softmax(z)[y], other inputs, extreme logits included.
def _nll(z: list[float], y: int) -> float:
    top = max(z)
    return top + math.log(math.fsum(math.exp(v - top) for v in z)) - z[y]


_NLL_RAW = [
    ([700.0, 701.0, 702.5], 0),
    ([-1.0e4, 0.0, 1.0e4], 1),
    ([3.0, -2.0, 1.0, 0.0], 3),
    ([1000.0, 1000.0], 1),
    ([-745.0, -744.0], 0),
    ([0.5], 0),
]
_NLL_CASES = [((np.array(z), y), _nll(z, y)) for z, y in _NLL_RAW]

# ex-ch4-bayes-accuracy: classes N(-1.25, 1) and N(1.25, 1), equally likely; the best
# rule is "class 1 when x > 0", right with probability P(N(1.25, 1) > 0) = Phi(1.25).
_BAYES_ACCURACY = 0.5 * math.erfc(-1.25 / math.sqrt(2))

MARKING = {
    "ex-ch4-smoothing-margin": Numeric(_MARGIN, rtol=1e-3),
    "ex-ch4-wrong-code": Numeric(_WRONG_CODE, rtol=1e-3, units=NATS),
    "ex-ch4-gradient": Numeric(_GRADIENT, rtol=1e-3),
    "ex-ch4-stable-nll": Function(_NLL_CASES, rtol=1e-9, forbid=("klbook", "scipy")),
    "ex-ch4-bayes-accuracy": Numeric(_BAYES_ACCURACY, rtol=1e-3),
}
