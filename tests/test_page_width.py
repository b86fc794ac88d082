"""The chapters as stored fit the web page: checked without building or a browser.

A chapter's page column holds about 81 characters of code at 1280 px
(tests/test_browser.py measures the rendered boxes); these tests read the
notebooks, so a chapter's author sees a fault in a second, with its cell:

* every code line and every printed line is at most 79 characters;
* every figure is a sharp (retina) PNG no wider than ``MAX_FIGURE_WIDTH``
  (``klbook.plotting``: its text stays 8 CSS px or more on a phone) and has a
  caption in ``metadata.mystnb.figure``, besides its alt text;
* the exercise stub's "Not answered yet" output is removed from the website
  (tag ``remove-output``); the student notebooks keep it.
"""

from __future__ import annotations

import base64
import struct

import nbformat
import pytest

from klbook.plotting import MAX_FIGURE_WIDTH

from .conftest import CHAPTERS

MAX_LINE = 79
ids = [p.stem for p in CHAPTERS]
#: Tags with which myst-nb leaves a cell's output off the website.
HIDDEN_OUTPUT_TAGS = {"remove-output", "remove-cell"}


def _cells(path):
    return list(enumerate(nbformat.read(path, as_version=4).cells))


def _long_lines(text: str) -> list[tuple[int, int]]:
    """(line number from 1, length) of every line longer than MAX_LINE."""
    return [(n, len(line)) for n, line in enumerate(text.splitlines(), 1) if len(line) > MAX_LINE]


def _printed(output) -> str:
    if output.output_type == "stream":
        return output.text
    if output.output_type in ("execute_result", "display_data"):
        return output.get("data", {}).get("text/plain", "")
    if output.output_type == "error":
        return "\n".join(output.get("traceback", []))
    return ""


def _png_size(data: str) -> tuple[int, int]:
    """Width and height in pixels, from the PNG's header."""
    raw = base64.b64decode(data[:64])
    assert raw[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", raw[16:24])


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_code_lines_fit_the_column(path) -> None:
    faults = [
        f"cell {i}, line {n}: {length} characters"
        for i, cell in _cells(path)
        if cell.cell_type == "code"
        for n, length in _long_lines(cell.source)
    ]
    assert faults == [], (
        f"{path.name}: code lines over {MAX_LINE} characters (ruff format --line-length "
        f"{MAX_LINE}; chapters/ruff.toml):\n  " + "\n  ".join(faults)
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_printed_lines_fit_the_column(path) -> None:
    faults = [
        f"cell {i}, output {j}, line {n}: {length} characters"
        for i, cell in _cells(path)
        if cell.cell_type == "code"
        for j, output in enumerate(cell.outputs)
        for n, length in _long_lines(_printed(output))
    ]
    assert faults == [], (
        f"{path.name}: printed lines over {MAX_LINE} characters (split the table or "
        "print fewer columns):\n  " + "\n  ".join(faults)
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_figures_are_sharp_narrow_enough_and_captioned(path) -> None:
    faults = []
    figures = 0
    for i, cell in _cells(path):
        if cell.cell_type != "code":
            continue
        pngs = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        for output in pngs:
            figures += 1
            width, _ = _png_size(output.data["image/png"])
            shown = output.get("metadata", {}).get("image/png", {}).get("width")
            if shown is None or width < 2 * int(shown):
                faults.append(
                    f"cell {i}: a {width} px PNG shown at {shown or width} px, not a "
                    "retina figure (use_book_style(), then make refresh)"
                )
            elif int(shown) > 100 * MAX_FIGURE_WIDTH:
                faults.append(
                    f"cell {i}: figure {int(shown) / 100:.1f} in wide, over "
                    f"{MAX_FIGURE_WIDTH} in: its text is under 8 CSS px on a phone "
                    "(narrow it or stack its panels)"
                )
        if pngs:
            mystnb = cell.metadata.get("mystnb", {})
            caption = mystnb.get("figure", {}).get("caption", "")
            if len(caption.split()) < 3:
                faults.append(f"cell {i}: no caption in metadata.mystnb.figure.caption")
            if len(mystnb.get("image", {}).get("alt", "").split()) < 3:
                faults.append(f"cell {i}: no alt text in metadata.mystnb.image.alt")
    assert figures, f"{path.name} has no figure"
    assert faults == [], f"{path.name}:\n  " + "\n  ".join(faults)


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_website_hides_the_unanswered_stub_output(path) -> None:
    stubs = [
        (i, set(cell.metadata.get("tags", [])))
        for i, cell in _cells(path)
        if cell.cell_type == "code" and any("Not answered yet" in _printed(o) for o in cell.outputs)
    ]
    assert stubs, f"{path.name}: no exercise stub found (the check must not pass vacuously)"
    shown = [i for i, tags in stubs if not tags & HIDDEN_OUTPUT_TAGS]
    assert shown == [], (
        f"{path.name}: cells {shown} show 'Not answered yet' on the website "
        "(tag them remove-output)"
    )
