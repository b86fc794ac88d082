"""The student release installs from its zip alone and runs every notebook, as handed out.

How the fresh environment is made, honestly but fast: a new virtual environment (``venv``,
no pip of its own) sees, through one ``.pth`` file, a *view* of the book's environment:
links to every installed package and its metadata *except klbook's* (and except the
editable install's finder and ``.pth`` files, which would lead back to the checkout).
The zip's own instructions then run in it, ``python -m pip install -r requirements.txt
<wheel>``, with ``--no-index``: pip must find every pin already satisfied at exactly the
pinned version, and can only install klbook from the wheel. That is what a student's
``pip install`` ends with, without downloading 150 MB of packages the book's environment
already holds. Each student notebook from the zip then runs top to bottom in a kernel of
that environment.

Apart from tests/test_coursework.py (which checks the release's content and the
grading) so that pytest-xdist, which hands out whole files, can run these kernels on one
worker while the grading kernels run on another.
"""

from __future__ import annotations

import json
import os
import subprocess
import sysconfig
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from coursework import release as rel
from coursework.notebooks import KERNEL_ENV

from .coursework_helpers import CHAPTER_IDS, CHAPTERS, labels, stub_cells
from .test_coursework import _texts

#: The student notebooks run as in `make refresh`, except that figures are built but not
#: rasterised: nbval already checks every figure of the same code, pixel for pixel, and
#: drawing PNGs is a third of a chapter's run. Agg's plt.show() warns that it cannot open
#: a window (only where $DISPLAY is set); that one warning is silenced, no other.
STUDENT_KERNEL_ENV = {
    **KERNEL_ENV,
    "MPLBACKEND": "agg",
    "PYTHONWARNINGS": "ignore:FigureCanvasAgg is non-interactive:UserWarning",
    "PYTHONNOUSERSITE": "1",
}


def _view_of_the_books_packages(view: Path) -> None:
    """Link every entry of the book's site-packages into ``view``, klbook's left out."""
    site = Path(sysconfig.get_path("purelib"))
    view.mkdir()
    for entry in site.iterdir():
        name = entry.name.lower()
        if (
            name.startswith(("klbook", "__editable__", "_virtualenv"))
            or name.endswith(".pth")
            or name == "__pycache__"
        ):
            continue
        (view / entry.name).symlink_to(entry)


@pytest.fixture(scope="module")
def student_env(
    student_release: rel.Release, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Path]]:
    base = tmp_path_factory.mktemp("student-env")
    with zipfile.ZipFile(student_release.zip_path) as zf:
        zf.extractall(base / "unzipped")
    folder = base / "unzipped" / student_release.out.name
    env_dir = base / ".venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(sysconfig.get_path("purelib", vars={"base": str(env_dir)}, scheme="venv"))
    _view_of_the_books_packages(base / "view")
    (site / "book-packages-view.pth").write_text(str(base / "view") + "\n")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_"))}
    wheel = next(folder.glob("klbook-*.whl")).name
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--no-index",
            "--disable-pip-version-check",
            "-r",
            "requirements.txt",
            wheel,
        ],
        cwd=folder,
        env=clean,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    kernels = base / "kernels" / "student"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "student",
                "language": "python",
            }
        )
    )
    yield {"folder": folder, "python": python, "site": site, "kernels": base / "kernels"}


def test_klbook_comes_from_the_wheel_with_sealed_checks(student_env: dict[str, Path]) -> None:
    code = (
        "import inspect, json, klbook, klbook.checks.ch01 as c, klbook.exercises as ex\n"
        "print(json.dumps([klbook.__file__, 'unseal(' in inspect.getsource(c),\n"
        "    sorted({type(ex.registered(x)).__name__ for x in ex.labels()})]))"
    )
    proc = subprocess.run(
        [str(student_env["python"]), "-c", code],
        cwd=student_env["folder"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    where, sealed, kinds = json.loads(proc.stdout)
    assert Path(where).is_relative_to(student_env["site"])
    assert sealed and all(kind.startswith("Sealed") for kind in kinds), kinds


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_student_notebook_runs_top_to_bottom(
    student_env: dict[str, Path], chapter: Path, tmp_path: Path
) -> None:
    nb = nbformat.read(student_env["folder"] / "chapters" / chapter.name, as_version=4)
    km = KernelManager(
        kernel_name="student",
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(student_env["kernels"])]),
    )
    client = NotebookClient(
        nb,
        km=km,
        timeout=300,
        record_timing=False,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    client.execute(env={**env, **STUDENT_KERNEL_ENV})  # raises on any error
    stubs = stub_cells(nb)
    for label in labels(nb):
        shown = "\n".join(_texts(stubs[label])[1:])
        assert shown.startswith("Not answered yet"), f"{label}: {shown!r}"
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.get("name") != "stderr", f"stderr in cell {cell.id}: {output['text']}"
