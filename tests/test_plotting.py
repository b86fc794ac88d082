"""klbook.plotting: the book's figure style."""

from __future__ import annotations

import base64
import io

import matplotlib as mpl
import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pytest

from klbook.plotting import (
    COLORS,
    DIVERGING_CMAP,
    MAX_FIGURE_WIDTH,
    PALETTE,
    SEQUENTIAL_CMAP,
    use_book_style,
)


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


def _inline_png(shell, fig):
    """What a notebook stores for ``fig``: the PNG's bytes and the output's metadata."""
    data, metadata = shell.display_formatter.format(fig, include=["image/png"])
    png = data["image/png"]
    return (base64.b64decode(png) if isinstance(png, str) else png), metadata.get("image/png", {})


def test_inline_figures_are_whole_untagged_sharp_and_keep_a_margin(styled, ipython_shell):
    from PIL import Image

    use_book_style()
    fig, ax = plt.subplots(figsize=(4.0, 3.0))
    ax.plot([0, 1], [0, 1], label="a line")
    ax.set(title="A title", xlabel="x label", ylabel="y label")
    ax.legend()
    png, metadata = _inline_png(ipython_shell, fig)
    image = Image.open(io.BytesIO(png))
    # The whole figure (no "tight" crop, which costs a second draw) at twice the book's
    # 100 dpi, shown at half its pixels: two image pixels per CSS pixel on the website.
    assert image.size == (800, 600)
    assert metadata == {"width": 400, "height": 300}
    assert "Software" not in image.info
    # Constrained layout keeps every label inside, with a white margin round the ink.
    ink = np.asarray(image.convert("L")) < 250
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    margins = [rows[0], image.size[1] - 1 - rows[-1], cols[0], image.size[0] - 1 - cols[-1]]
    assert min(margins) >= 8, f"ink within {min(margins)} px of the edge: {margins}"


def test_inline_figures_are_byte_identical_when_drawn_again(styled, ipython_shell):
    use_book_style()
    pngs = []
    for _ in range(2):
        fig, ax = plt.subplots()
        ax.plot([0, 1, 2], [0, 1, 0.5], label="a line")
        ax.legend()
        pngs.append(_inline_png(ipython_shell, fig))
        plt.close(fig)
    assert pngs[0] == pngs[1]


def test_text_is_readable_on_a_phone_at_the_widest_figure(styled):
    """No text below 11 pt; at MAX_FIGURE_WIDTH it is still 8 CSS px in a 358 px column."""
    from matplotlib.font_manager import FontProperties

    sizes = {
        key: FontProperties(size=mpl.rcParams[key]).get_size_in_points()
        for key in [
            "font.size",
            "axes.titlesize",
            "axes.labelsize",
            "legend.fontsize",
            "xtick.labelsize",
            "ytick.labelsize",
        ]
    }
    smallest = min(sizes.values())
    assert smallest >= 11, sizes
    phone_column = 358  # CSS px of a 390 px phone's page column (tests/test_browser.py)
    css_px_per_inch = 100  # the figure's 100 dpi, shown at its natural size
    width_px = MAX_FIGURE_WIDTH * css_px_per_inch
    text_px = smallest / 72 * css_px_per_inch * phone_column / width_px
    assert text_px >= 8, f"{smallest} pt text is {text_px:.2f} CSS px on a phone"
    assert mpl.rcParams["figure.figsize"][0] <= MAX_FIGURE_WIDTH
