"""klbook: the helper package of the KL divergence and cross-entropy course book.

The chapters tell the story; klbook holds the reusable, tested logic they
import. Conventions everywhere: ``p`` (P) is the truth and ``q`` (Q) the model,
``kl_divergence(p, q)`` is KL(P‖Q), logs are natural (nats) unless ``base=2``
(bits), and input that is not what a function needs raises ``ValueError``.

Submodules: :mod:`~klbook.measures` (entropy, cross-entropy, KL),
:mod:`~klbook.sequences` (coin-sequence probabilities and log ratios),
:mod:`~klbook.expectation`, :mod:`~klbook.simulation`,
:mod:`~klbook.error_exponents` (telling two coins apart: error rates, typical
sets), :mod:`~klbook.losses`,
:mod:`~klbook.classifier`, :mod:`~klbook.gaussian`, :mod:`~klbook.plotting`
(the figure style) and :mod:`~klbook.exercises` (self-checks).

Examples
--------
>>> import klbook
>>> klbook.kl_divergence([0.5, 0.5], [0.5, 0.5])
0.0
"""

from klbook import (
    classifier,
    error_exponents,
    expectation,
    gaussian,
    losses,
    measures,
    sequences,
    simulation,
)
from klbook.classifier import *  # noqa: F403
from klbook.error_exponents import *  # noqa: F403
from klbook.expectation import *  # noqa: F403
from klbook.gaussian import *  # noqa: F403
from klbook.losses import *  # noqa: F403
from klbook.measures import *  # noqa: F403
from klbook.sequences import *  # noqa: F403
from klbook.simulation import *  # noqa: F403

__version__ = "0.1.0"

__all__ = [
    name
    for module in (
        measures,
        sequences,
        expectation,
        simulation,
        error_exponents,
        losses,
        classifier,
        gaussian,
    )
    for name in module.__all__
]
