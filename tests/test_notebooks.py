"""The chapters as stored: hygiene, table of contents, and deterministic regeneration.

nbval (run on chapters/ by the same pytest session) checks that each notebook
reproduces its stored outputs. These tests check what nbval cannot: that the
outputs are stored at all, that nothing unwanted is stored with them, and that
re-executing gives the same bytes, figures included.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml

from klbook.notebooks import execute_notebook, strip_execution_metadata

from .conftest import CHAPTERS, ROOT

ids = [p.stem for p in CHAPTERS]


def _code_cells(path: Path):
    nb = nbformat.read(path, as_version=4)
    return [c for c in nb.cells if c.cell_type == "code"]


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    walk(toc.get("chapters", []))
    return files


def test_there_are_chapters():
    assert len(CHAPTERS) >= 1


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_every_code_cell_is_stored_executed(path):
    cells = _code_cells(path)
    assert cells, "a chapter without code is not executable"
    unexecuted = [i for i, c in enumerate(cells) if c.execution_count is None]
    assert not unexecuted, f"code cells {unexecuted} have no stored execution (nbval skips them)"
    counts = [c.execution_count for c in cells]
    assert counts == list(range(1, len(cells) + 1)), "cells were not run once, top to bottom"


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_no_stderr_errors_or_timing_stored(path):
    for i, cell in enumerate(_code_cells(path)):
        assert "execution" not in cell.metadata, f"cell {i}: execution timestamps stored"
        for out in cell.outputs:
            assert out.output_type != "error", f"cell {i}: an error is stored"
            assert out.get("name") != "stderr", f"cell {i}: stderr is stored: {out.get('text')!r}"


_MACHINE_PATH = re.compile(r"(/work/|/home/|/root/|/tmp/|\.venv/|site-packages|[A-Z]:\\\\)")


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_outputs_are_clean_text(path):
    for i, cell in enumerate(_code_cells(path)):
        for out in cell.outputs:
            texts = [out.get("text", "")]
            texts += [v for k, v in out.get("data", {}).items() if k.startswith("text/")]
            for text in texts:
                text = "".join(text) if isinstance(text, list) else text
                assert not _MACHINE_PATH.search(text), f"cell {i}: a machine path in the output"
                assert "np.float64(" not in text, f"cell {i}: print numbers as plain floats"
                if "image/png" not in out.get("data", {}):
                    assert "<Figure size" not in text, f"cell {i}: a figure shown as text only"
                assert not re.search(r"<matplotlib\.\w+", text), (
                    f"cell {i}: a matplotlib object's repr leaked (end with plt.show())"
                )


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_every_figure_has_alt_text(path):
    for i, cell in enumerate(_code_cells(path)):
        if any("image/png" in out.get("data", {}) for out in cell.outputs):
            alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
            assert len(alt.split()) >= 4, f"cell {i}: a figure without meaningful alt text"
        for out in cell.outputs:
            assert "image/svg+xml" not in out.get("data", {}), f"cell {i}: use PNG figures"


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_notebook_metadata_is_portable(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert nb["nbformat"] == 4


def test_every_chapter_is_in_the_toc_and_every_toc_entry_exists():
    entries = _toc_files()
    for chapter in CHAPTERS:
        assert f"chapters/{chapter.stem}" in entries, f"{chapter.name} is not in _toc.yml"
    for entry in entries:
        candidates = [ROOT / f"{entry}{ext}" for ext in (".md", ".ipynb")]
        assert any(c.exists() for c in candidates), f"_toc.yml names {entry}, which is missing"


def test_strip_execution_metadata_removes_timestamps():
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "1",
                metadata={
                    "execution": {"iopub.status.idle": "2026-01-01T00:00:00Z"},
                    "tags": ["a"],
                },
            )
        ]
    )
    strip_execution_metadata(nb)
    assert nb.cells[0].metadata == {"tags": ["a"]}


@pytest.mark.slow
@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_regeneration_is_byte_identical(path, tmp_path):
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    execute_notebook(copy, timeout=300)
    assert copy.read_bytes() == path.read_bytes(), (
        f"re-executing {path.name} changed it: run `make refresh` and check for "
        "unseeded randomness or unstable output"
    )


_LIST_MARKER = re.compile(r"\s*([-+*>]|#+|\d+[.)])(\s|$)")
_DISPLAY_MATH_OR_FENCE = re.compile(r"\$\$.*?\$\$|```.*?```|~~~.*?~~~", re.S)


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_inline_math_does_not_span_a_list_marker(path):
    # A line that starts with "+ ", "- ", "> " or "# " inside $...$ begins a list, a quote
    # or a heading, which ends the paragraph and leaves the TeX raw on the page.
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        in_math = False
        for line in _DISPLAY_MATH_OR_FENCE.sub("", cell.source).split("\n"):
            assert not (in_math and _LIST_MARKER.match(line)), (
                f"cell {i}: a line inside inline math starts like a list item: {line!r}"
            )
            if len(re.findall(r"(?<!\\)\$", line)) % 2:
                in_math = not in_math


def test_nbval_kernels_draw_figures_even_under_a_headless_backend(tmp_path):
    # make and CI machines often export MPLBACKEND=Agg; the kernels that check the stored
    # figures must still use the inline backend that stored them (chapters/conftest.py).
    # The stored output is what the inline backend shows for this cell; nbval compares
    # its text/plain and skips the PNG bytes.
    import os
    import subprocess
    import sys

    cell = nbformat.v4.new_code_cell(
        "import matplotlib.pyplot as plt\nplt.plot([0, 1])\nplt.show()", execution_count=1
    )
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 640x480 with 1 Axes>"},
        )
    ]
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    folder = tmp_path / "chapters"
    folder.mkdir()
    shutil.copy(ROOT / "chapters" / "conftest.py", folder / "conftest.py")
    _write(nb, folder / "figure.ipynb")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "-q",
            "figure.ipynb",
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _write(nb: nbformat.NotebookNode, path: Path) -> Path:
    nbformat.write(nb, path)
    return path
