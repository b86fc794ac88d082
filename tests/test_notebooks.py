"""The chapters as stored: hygiene, table of contents, and deterministic regeneration.

nbval (run on chapters/ by the same pytest session) checks that each notebook
reproduces its stored outputs. These tests check what nbval cannot: that the
outputs are stored at all, that nothing unwanted is stored with them, and that
the file is exactly what ``make refresh`` writes (nbval itself compares the
figures' bytes: see chapters/conftest.py).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml

from coursework.notebooks import execute_notebook, strip_execution_metadata, write_executed

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


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_stored_chapter_is_what_refresh_writes(path, tmp_path):
    # `make refresh` runs a chapter and stores it with write_executed. nbval (whose
    # comparison includes the figures' PNG bytes, see chapters/conftest.py) proves the
    # kernel gives the stored outputs; this proves the rest of the file is what
    # write_executed makes of them. Together: a refresh of an unchanged chapter
    # changes no byte, and the chapter runs once in `make test`, not twice.
    copy = tmp_path / path.name
    write_executed(nbformat.read(path, as_version=4), copy)
    assert copy.read_bytes() == path.read_bytes(), (
        f"{path.name} is not stored as `make refresh` writes it: run `make refresh`"
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


def test_nbval_compares_the_figures_make_refresh_stores(tmp_path):
    # Two cells draw the same figure. As `make refresh` stores them both pass nbval;
    # with one byte of the second PNG changed, that cell fails: nbval compares PNG
    # bytes (chapters/conftest.py). nbval runs under MPLBACKEND=Agg, which make and
    # CI machines often export: the kernels that check the stored figures must still
    # use the inline backend that stored them, or they would draw nothing.
    import os
    import subprocess
    import sys

    folder = tmp_path / "chapters"
    folder.mkdir()
    shutil.copy(ROOT / "chapters" / "conftest.py", folder / "conftest.py")
    draw = "import matplotlib.pyplot as plt\nplt.plot([0, 1])\nplt.show()"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(draw) for _ in range(2)])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = _write(nb, folder / "figures.ipynb")
    executed = execute_notebook(path, timeout=120)
    first, second = (cell.outputs[0]["data"]["image/png"] for cell in executed.cells)
    assert first == second, "one figure drawn twice gave different PNG bytes"
    middle = len(second) // 2
    changed = "A" if second[middle] != "A" else "B"
    executed.cells[1].outputs[0]["data"]["image/png"] = (
        second[:middle] + changed + second[middle + 1 :]
    )
    _write(executed, path)
    # Only nbval is needed: skip the other plugins' imports (seconds on a slow machine).
    # The copied conftest imports coursework, which is imported from the repository's root.
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "nbval", "--nbval", "-q", path.name],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    log = proc.stdout + proc.stderr
    assert "1 failed, 1 passed" in log, log
    assert "FAILED figures.ipynb::Cell 1" in log, log
    assert "mismatch 'image/png'" in log, log


def _write(nb: nbformat.NotebookNode, path: Path) -> Path:
    nbformat.write(nb, path)
    return path
