"""The book's figure style: readable, colour-blind safe, reproducible.

Call :func:`use_book_style` once at the top of a chapter. It sets

* the Okabe–Ito palette, which stays distinguishable under the common forms
  of colour blindness, as the colour cycle;
* an opaque white background, so figures read in the site's dark mode too;
* sizes and fonts readable on a phone (no text below 11 pt);
* sharp PNG output for the inline backend: "retina" PNGs with twice the
  pixels of the figure at the book's 100 dpi, and their ``width`` and
  ``height`` in the output's metadata set to half the pixels, so that the
  website (myst-nb writes them on the ``<img>``) and Jupyter show the figure
  at its natural size, with two pixels per CSS pixel on high-resolution
  screens. The PNG carries no ``Software`` tag, so figures are byte-for-byte
  stable across matplotlib upgrades, and the inline backend's default
  ``bbox_inches="tight"`` crop is off: constrained layout already fits the
  figure, and the crop costs a second full draw of every figure (about a
  third of a chapter's plotting time).

How wide a figure may be
------------------------
A figure shows at 100 CSS px per inch of ``figsize`` (6.4 in is 640 px),
shrunk to fit the page column: 688 px on a desktop, 358 px on a 390 px
phone. Text of ``s`` points on a figure ``w`` inches wide is then
``s * 358 / (72 * w)`` CSS px on a phone. For the book's smallest text
(11 pt) to stay at least 8 px there, **a figure is at most 6.8 in wide**
(:data:`MAX_FIGURE_WIDTH`; the default 6.4 in gives 8.5 px). A figure with
several panels side by side keeps that width (two panels of 3.2 in, not a
9 in figure) or stacks its panels, and no text is set below 11 pt
(``fontsize=`` in a chapter included). ``tests/test_page_width.py`` checks
the stored figures' widths.
"""

from __future__ import annotations

from typing import Final

import matplotlib as mpl
from cycler import cycler

__all__ = [
    "COLORS",
    "DIVERGING_CMAP",
    "MAX_FIGURE_WIDTH",
    "PALETTE",
    "SEQUENTIAL_CMAP",
    "use_book_style",
]

#: Okabe & Ito (2008) colours, by name.
COLORS: Final[dict[str, str]] = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}

#: The colour cycle, in the order lines are drawn.
PALETTE: Final[tuple[str, ...]] = (
    COLORS["blue"],
    COLORS["orange"],
    COLORS["green"],
    COLORS["vermillion"],
    COLORS["sky"],
    COLORS["purple"],
    COLORS["black"],
)

#: The widest figure, in inches, whose 11 pt text stays 8 CSS px or more on a phone.
MAX_FIGURE_WIDTH: Final[float] = 6.8

#: Perceptually uniform maps that stay readable for colour-blind readers.
SEQUENTIAL_CMAP: Final[str] = "cividis"
DIVERGING_CMAP: Final[str] = "PuOr_r"

_RC: Final[dict[str, object]] = {
    "axes.prop_cycle": cycler(color=list(PALETTE)),
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    # 11 pt is the smallest text: 8.5 CSS px on a phone for a 6.4 in figure (see above).
    "legend.fontsize": 11,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 2.0,
    "image.cmap": SEQUENTIAL_CMAP,
    "figure.constrained_layout.use": True,
    # The inline PNG is the whole figure (no "tight" crop, which draws every figure
    # twice), so the layout itself keeps a white margin of about 8 px round the ink.
    "figure.constrained_layout.w_pad": 0.08,
    "figure.constrained_layout.h_pad": 0.08,
}


def use_book_style() -> None:
    """Apply the book's matplotlib style and deterministic, sharp inline PNG output.

    Safe to call outside Jupyter: the inline-backend part is skipped there.

    Examples
    --------
    >>> import matplotlib as mpl
    >>> from klbook.plotting import use_book_style, PALETTE
    >>> use_book_style()
    >>> mpl.rcParams["axes.prop_cycle"].by_key()["color"][0] == PALETTE[0]
    True
    >>> mpl.rcParams["savefig.transparent"]
    False
    """
    mpl.rcParams.update(_RC)
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the book
        return
    if get_ipython() is None:
        return
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("retina", metadata={"Software": None}, bbox_inches=None)
