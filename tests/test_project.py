"""The project's front door: README commands, pinned environment, CI script, book config."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import nbformat
import pytest
import yaml

from coursework.notebooks import main as refresh_main

from .conftest import ROOT


def test_readme_gives_the_two_commands_exactly():
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"^make book\s+#", readme, re.M)
    assert re.search(r"^make test\s+#", readme, re.M)
    for topic in (
        "make refresh",
        "make lab",
        "make serve",
        "make student",
        "make book-student",
        "make grade",
        "make pdf",
        "make mutate",
        "bubblewrap",
        "texlive-xetex",
    ):
        assert topic in readme, f"the README does not explain {topic}"


def test_ci_runs_make_test_strictly():
    script = (ROOT / ".ci" / "run").read_text()
    assert "set -euo pipefail" in script
    assert re.search(r"^make test$", script, re.M)
    assert "chromium" in script and "KLBOOK_REQUIRE_BROWSER=1" in script
    # The grader's sandbox and the PDF are tested in CI too, never skipped there.
    assert "bubblewrap" in script and "KLBOOK_REQUIRE_SANDBOX=1" in script
    assert "texlive-xetex" in script and "latexmk" in script and "poppler-utils" in script
    assert "KLBOOK_REQUIRE_TEX=1" in script


def test_requirements_are_pinned_and_end_with_klbook_editable():
    lines = [
        ln.strip()
        for ln in (ROOT / "requirements.txt").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    assert lines[-1] == "-e ."
    unpinned = [ln for ln in lines[:-1] if "==" not in ln]
    assert not unpinned, f"unpinned requirements: {unpinned}"
    names = {ln.split("==")[0].lower() for ln in lines[:-1]}
    for needed in (
        "jupyter-book",
        "nbval",
        "sphinx-exercise",
        "sphinx-mathjax-offline",
        "sphinxcontrib-bibtex",
        "playwright",
        "hypothesis",
        "ruff",
        "numpy",
    ):
        assert needed in names, f"{needed} is not in requirements.txt"
    assert "jupyter-book==1.0.4.post1" in lines


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.skipif(
    not (ROOT / ".venv" / ".installed").exists(), reason="not running inside the make environment"
)
def test_environment_is_not_remade_when_nothing_changed():
    # `make -q` exits 0 when the target is up to date, i.e. nothing would be reinstalled.
    proc = subprocess.run(["make", "-q", ".venv/.installed"], cwd=ROOT, check=False)
    assert proc.returncode == 0


def test_book_config_has_what_the_site_needs():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "off"
    assert config["only_build_toc_files"] is True
    assert str(config["copyright"]) == "2026"
    # The config lists the complete extension list (see the comment in _config.yml).
    extensions = config["sphinx"]["config"]["extensions"]
    assert "sphinx-mathjax-offline" in extensions
    assert "sphinx_exercise" in extensions
    assert config["bibtex_bibfiles"] == ["references.bib"]


def test_every_citation_key_exists_in_the_bibliography():
    bib = (ROOT / "references.bib").read_text()
    keys = set(re.findall(r"@\w+\{([^,]+),", bib))
    pages = [p for p in ROOT.glob("*.md") if p.name != "README.md"]
    sources = [*pages, *(ROOT / "chapters").glob("*.ipynb")]
    cited = set()
    for path in sources:
        for group in re.findall(r"\{cite:[pt]\}`([^`]+)`", path.read_text()):
            cited.update(k.strip() for k in group.split(","))
    missing = cited - keys
    assert not missing, f"cited but not in references.bib: {sorted(missing)}"
    for key in (
        "kullback1951information",
        "shannon1948mathematical",
        "cover2006elements",
        "mackay2003information",
        "goodfellow2016deep",
        "kingma2014autoencoding",
        "murphy2022probabilistic",
    ):
        assert key in keys


def test_refresh_command_runs_a_notebook_deterministically(tmp_path):
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("import numpy as np\nrng = np.random.default_rng(1)"),
            nbformat.v4.new_code_cell("print(f'{rng.random():.6f}')\nsorted({'b', 'a'})"),
        ]
    )
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    assert refresh_main([str(path)]) == 0
    first = path.read_bytes()
    assert refresh_main([str(path)]) == 0
    assert path.read_bytes() == first
    done = nbformat.read(path, as_version=4)
    assert [c.execution_count for c in done.cells] == [1, 2]
    assert all("execution" not in c.metadata for c in done.cells)
    assert done.cells[1].outputs[0]["text"].strip() == f"{_first_uniform(1):.6f}"


def _first_uniform(seed: int) -> float:
    import numpy as np

    return float(np.random.default_rng(seed).random())


def test_klbook_imports_without_jupyter_tooling():
    # The package students install must import on its own.
    code = "import klbook, klbook.exercises, klbook.plotting; print(len(klbook.__all__))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(proc.stdout) >= 8


def test_no_two_klbook_modules_export_the_same_name():
    import importlib
    import pkgutil

    import klbook

    # The modules whose names klbook re-exports: every public submodule that shares at
    # least one name with klbook.__all__ (a new module is found without editing this test).
    modules = [
        importlib.import_module(f"klbook.{info.name}")
        for info in pkgutil.iter_modules(klbook.__path__)
        if not info.name.startswith("_") and not info.ispkg
    ]
    exported = [m for m in modules if set(getattr(m, "__all__", ())) & set(klbook.__all__)]
    assert {m.__name__ for m in exported} >= {"klbook.measures", "klbook.gaussian"}
    seen: dict[str, str] = {}
    for module in exported:
        for name in module.__all__:
            assert name not in seen, f"{name} is exported by {seen[name]} and {module.__name__}"
            seen[name] = module.__name__
    assert sorted(seen) == sorted(klbook.__all__)


def test_importing_klbook_stays_light():
    # Every chapter's first cell imports klbook: keep scipy.optimize/stats out of it.
    code = (
        "import sys, klbook\n"
        "heavy = [m for m in ('scipy.optimize', 'scipy.stats', 'nbclient', 'nbconvert')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "", f"import klbook pulls in {proc.stdout.strip()}"


def test_nbformat_imports_without_compiling_a_uri_grammar():
    # jsonschema >= 4.24 makes jupyter-events install rfc3987-syntax, whose import builds a
    # Lark parser: seconds in every process that reads a notebook (requirements.txt).
    import subprocess
    import sys

    probe = "import sys, nbformat; print('rfc3987_syntax' in sys.modules, 'lark' in sys.modules)"
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert proc.stdout.split() == ["False", "False"], proc.stdout
