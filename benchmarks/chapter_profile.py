"""Where one chapter's time goes beyond the floor, measured in one process.

Run as a script (``python benchmarks/chapter_profile.py NOTEBOOK``); it prints
one JSON object. ``bench_notebooks`` runs it once per chapter in a fresh
process and reports the split. The chapter's code cells run in an IPython
shell with the inline backend and the book's style, as in a kernel, but
without one, so that the timings have no messaging in them:

* the floor's imports (numpy, matplotlib, klbook), timed first and left out;
* every further ``import`` of the first cell, timed one statement at a time
  (the modules a chapter needs beyond the floor, such as ``scipy.stats``);
* the rest of the first cell (the style set-up);
* each figure the chapter shows, split into matplotlib's constrained layout
  (``ConstrainedLayoutEngine.execute``), the drawing (``Figure.draw`` without
  the layout) and the PNG encoding (``PIL.Image.Image.save``); and, across the
  layout and the drawing, the typesetting of ``$...$`` labels
  (``MathTextParser.parse``; log axes' ``10^k`` tick labels included);
* the rest of the cells that show a figure (computing and building it);
* the cells that show none (computation, printing, exercise checks).
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: The floor notebook's one cell: the imports every chapter makes, nothing else.
FLOOR_SOURCE = "import numpy as np\nimport matplotlib.pyplot as plt\nimport klbook"


def _timed(owner: Any, name: str, totals: dict[str, float], key: str) -> None:
    """Wrap ``owner.name`` so that each call adds its wall time to ``totals[key]``."""
    original: Callable[..., Any] = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[key] = totals.get(key, 0.0) + time.perf_counter() - start

    setattr(owner, name, wrapper)


def _import_statements(source: str) -> list[str]:
    """The first cell's top-level import statements, as source lines."""
    tree = ast.parse(source)
    return [
        ast.get_source_segment(source, node) or ""
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]


def profile(notebook: Path) -> dict[str, Any]:
    """Run ``notebook``'s code cells in this process and say where the time went.

    The caller sets the kernels' environment (``coursework.notebooks.KERNEL_ENV``):
    it is not imported here, because klbook's import belongs to the floor.
    """
    import nbformat
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    cells = [c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    os.chdir(notebook.parent)

    start = time.perf_counter()
    shell.run_cell(FLOOR_SOURCE)
    floor_s = time.perf_counter() - start

    import matplotlib.mathtext
    import matplotlib.text
    from matplotlib.backend_bases import FigureCanvasBase
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine
    from PIL import Image

    totals: dict[str, float] = {}
    _timed(ConstrainedLayoutEngine, "execute", totals, "layout")
    _timed(Figure, "draw", totals, "draw")  # includes the layout, taken off below
    _timed(Image.Image, "save", totals, "png")
    _timed(FigureCanvasBase, "print_figure", totals, "display")
    _timed(matplotlib.mathtext.MathTextParser, "parse", totals, "mathtext")
    texts: list[int] = []
    original_print = FigureCanvasBase.print_figure

    def counting_print(self: FigureCanvasBase, *args: Any, **kwargs: Any) -> Any:
        # Labels can be typeset while a figure is built too (a legend measures its
        # entries); only the typesetting done while it is shown is kept here.
        texts.append(len(self.figure.findobj(matplotlib.text.Text)))
        before = totals.get("mathtext", 0.0)
        try:
            return original_print(self, *args, **kwargs)
        finally:
            shown = totals.get("mathtext", 0.0) - before
            totals["shown mathtext"] = totals.get("shown mathtext", 0.0) + shown

    FigureCanvasBase.print_figure = counting_print  # type: ignore[method-assign]

    imports: list[tuple[str, float]] = []
    for statement in _import_statements(cells[0]):
        start = time.perf_counter()
        shell.run_cell(statement)
        imports.append((statement, time.perf_counter() - start))
    start = time.perf_counter()
    shell.run_cell(cells[0])
    setup_s = time.perf_counter() - start
    figures_before = dict(totals)

    building_s = other_s = 0.0  # the figure cells' own code; the cells without a figure
    for source in cells[1:]:
        shown, displayed = len(texts), totals.get("display", 0.0)
        start = time.perf_counter()
        shell.run_cell(source)
        cell_s = time.perf_counter() - start - (totals.get("display", 0.0) - displayed)
        if len(texts) > shown:
            building_s += cell_s
        else:
            other_s += cell_s
    spent = {k: totals.get(k, 0.0) - figures_before.get(k, 0.0) for k in totals}
    layout = spent.get("layout", 0.0)
    return {
        "floor_imports_s": floor_s,
        "imports": imports,
        "setup_s": setup_s,
        "figures": len(texts),
        "texts": texts,
        "display_s": spent.get("display", 0.0),
        "layout_s": layout,
        "draw_s": spent.get("draw", 0.0) - layout,
        "png_s": spent.get("png", 0.0),
        "mathtext_s": spent.get("shown mathtext", 0.0),
        "building_s": building_s,
        "other_cells_s": other_s,
    }


if __name__ == "__main__":
    if "inline" not in os.environ.get("MPLBACKEND", ""):
        sys.exit(
            "chapter_profile.py: run it with the kernels' environment "
            "(coursework.notebooks.KERNEL_ENV, "
            "MPLBACKEND=module://matplotlib_inline.backend_inline); "
            "under another backend the figures are never drawn"
        )
    with contextlib.redirect_stdout(io.StringIO()):  # the cells' own printing
        result = profile(Path(sys.argv[1]).resolve())
    json.dump(result, sys.stdout)
