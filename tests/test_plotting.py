"""klbook.plotting: the book's figure style."""

from __future__ import annotations

import base64
import io

import matplotlib as mpl
import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pytest

from klbook.plotting import COLORS, DIVERGING_CMAP, PALETTE, SEQUENTIAL_CMAP, use_book_style


@pytest.fixture
def styled():
    with mpl.rc_context():
        use_book_style()
        yield
    plt.close("all")


def test_palette_is_okabe_ito(styled):
    okabe_ito = {"#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#000000"}
    assert set(PALETTE) <= okabe_ito | {COLORS["yellow"]}
    assert mpl.rcParams["axes.prop_cycle"].by_key()["color"] == list(PALETTE)


def test_palette_colours_are_distinct_in_lightness_or_hue(styled):
    rgb = [mcolors.to_rgb(c) for c in PALETTE]
    assert len(set(rgb)) == len(rgb)


def test_colormaps_exist_and_are_colour_blind_friendly_choices(styled):
    assert SEQUENTIAL_CMAP in ("cividis", "viridis")
    assert mpl.colormaps[SEQUENTIAL_CMAP] is not None
    assert mpl.colormaps[DIVERGING_CMAP] is not None
    assert mpl.rcParams["image.cmap"] == SEQUENTIAL_CMAP


def test_figures_have_an_opaque_white_background(styled):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    buf.seek(0)
    image = plt.imread(buf)
    assert image.shape[2] in (3, 4)
    if image.shape[2] == 4:
        assert image[..., 3].min() == pytest.approx(1.0), "transparent pixels in a figure"
    assert tuple(image[0, 0, :3]) == pytest.approx((1.0, 1.0, 1.0))


def test_use_book_style_outside_ipython_is_harmless(styled):
    use_book_style()  # a second call, no IPython: must not raise
    assert mpl.rcParams["savefig.transparent"] is False


@pytest.fixture
def ipython_shell():
    """An IPython shell for this test only, as a notebook kernel has."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        yield shell
    finally:
        InteractiveShell.clear_instance()


def test_inline_figures_are_whole_untagged_and_keep_a_margin(styled, ipython_shell):
    from PIL import Image

    use_book_style()
    fig, ax = plt.subplots(figsize=(4.0, 3.0))
    ax.plot([0, 1], [0, 1], label="a line")
    ax.set(title="A title", xlabel="x label", ylabel="y label")
    ax.legend()
    data, _ = ipython_shell.display_formatter.format(fig, include=["image/png"])
    png = data["image/png"]
    image = Image.open(io.BytesIO(base64.b64decode(png) if isinstance(png, str) else png))
    # The whole figure at the book's dpi: no "tight" crop (which costs a second draw).
    assert image.size == (400, 300)
    assert "Software" not in image.info
    # Constrained layout keeps every label inside, with a white margin round the ink.
    ink = np.asarray(image.convert("L")) < 250
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    margins = [rows[0], image.size[1] - 1 - rows[-1], cols[0], image.size[0] - 1 - cols[-1]]
    assert min(margins) >= 4, f"ink within {min(margins)} px of the edge: {margins}"
