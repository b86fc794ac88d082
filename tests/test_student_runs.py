"""The student release of every chapter runs top to bottom, as handed out.

Apart from tests/test_coursework.py (which checks the release's content and the
grading) so that pytest-xdist, which hands out whole files, can run these
kernels on one worker while the grading kernels run on another.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from nbclient import NotebookClient

from klbook import coursework as cw
from klbook.notebooks import KERNEL_ENV

from .test_coursework import CHAPTER_IDS, CHAPTERS, _labels, _stub_cells, _student, _texts

#: The student notebooks run as in `make refresh`, except that figures are built but not
#: rasterised: nbval already checks every figure of the same code, pixel for pixel, and
#: drawing PNGs is a third of a chapter's run. Agg's plt.show() warns that it cannot open
#: a window (only where $DISPLAY is set); that one warning is silenced, no other.
STUDENT_KERNEL_ENV = {
    **KERNEL_ENV,
    "MPLBACKEND": "agg",
    "PYTHONWARNINGS": "ignore:FigureCanvasAgg is non-interactive:UserWarning",
}


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_student_notebook_runs_top_to_bottom(
    student_release: cw.Release, chapter: Path, tmp_path: Path
) -> None:
    nb = _student(student_release, chapter)
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute(env={**os.environ, **STUDENT_KERNEL_ENV})  # raises on any error
    stubs = _stub_cells(nb)
    for label in _labels(nb):
        shown = "\n".join(_texts(stubs[label])[1:])
        assert shown.startswith("Not answered yet"), f"{label}: {shown!r}"
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.get("name") != "stderr", f"stderr in cell {cell.id}: {output['text']}"
