"""The student release: the chapters without solutions, a klbook wheel, pins, a README, a zip.

``python -m coursework release --out _build/student chapters/*.ipynb`` (``make student``).

Each chapter becomes a student notebook at the same relative path under
``--out``: every cell tagged ``solution`` is removed (source and outputs),
the exercises and their answer stubs stay, and the stored outputs stay too,
except where they would reveal an answer:

1. a code cell tagged ``reveals-answer`` loses its outputs (an author's
   explicit mark), and
2. a defensive scan clears the outputs of any other cell whose text output
   contains a line of solution text (a *secret line*, see
   :func:`secret_lines`); the release reports every such cell.

The release then checks that no student notebook shows the answer of a
marked exercise (:mod:`coursework.answer_scan`: every numeric marking answer,
at three and four significant figures and in its obvious formats, against
every line of every student notebook: prose, code, outputs, captions, alt
text) and writes nothing if one does (:class:`AnswerInHandout` names the
notebook, cell and line).

Beside the notebooks the release holds everything a student needs and
nothing more: the klbook wheel (:mod:`coursework.wheel`: the library and the
sealed practice self-checks, no chapters, no marking checks), a
``requirements.txt`` with the book's pins of what running the notebooks in
JupyterLab needs (:func:`student_requirements`), and a README whose commands
work on Linux, macOS and Windows. ``<out>.zip`` holds the lot, with fixed
timestamps: the same input always gives the same bytes.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import nbformat
from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor

from coursework.answer_scan import Leak, answer_leaks
from coursework.notebooks import strip_execution_metadata
from coursework.wheel import wheel_members, wheel_name, zip_bytes

__all__ = [
    "BOOK_ROOT",
    "REVEALS_TAG",
    "SOLUTION_TAG",
    "STUDENT_PACKAGES",
    "AnswerInHandout",
    "Release",
    "StudentVersionPreprocessor",
    "checked_labels",
    "exercise_labels",
    "release",
    "secret_lines",
    "student_notebook",
    "student_requirements",
]

#: The book's repository: the folder this package is in.
BOOK_ROOT: Final[Path] = Path(__file__).resolve().parent.parent
#: Tag of every cell that belongs to a worked solution (markers included).
SOLUTION_TAG: Final[str] = "solution"
#: Tag of a kept cell whose stored outputs would give an answer away.
REVEALS_TAG: Final[str] = "reveals-answer"
#: What a student installs beside the klbook wheel to run the notebooks in JupyterLab.
STUDENT_PACKAGES: Final[tuple[str, ...]] = ("jupyterlab", "ipykernel")

#: Where :func:`release` records that a folder is a release it may overwrite.
_RELEASE_MARKER: Final[str] = ".klbook-student-release"
#: Cell metadata that describes a cell's outputs (MyST-NB's figure caption and alt text).
_FIGURE_METADATA: Final[str] = "mystnb"
#: Output MIME types whose text is scanned for solution text.
_TEXT_MIME: Final[tuple[str, ...]] = (
    "text/plain",
    "text/markdown",
    "text/html",
    "text/latex",
    "application/json",
)

_DIRECTIVE_START = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})\{(?P<name>[\w-]+)\}(?P<arg>[^\n]*)$")
_OPTION = re.compile(r"^\s*:(?P<key>[\w-]+):\s*(?P<value>.*?)\s*$")
_CHECK_CALL = re.compile(r"\bcheck\(\s*(?P<q>['\"])(?P<label>[^'\"\n]+)(?P=q)")
_CORRECT_LINE = re.compile(r"^Correct( \(in [^)]*\))?\.$")
_STRUCTURE_LINE = re.compile(r"^(`{3,}|~{3,}|:{3,}|:[\w-]+:)")


# ---------------------------------------------------------------------------
# Reading the exercise structure of a notebook
# ---------------------------------------------------------------------------


def _tags(cell: Mapping[str, Any]) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _directive_labels(source: str, directive: str) -> list[str]:
    """Labels of the ``directive`` blocks in a markdown source, in order."""
    found: list[str] = []
    lines = source.splitlines()
    for i, line in enumerate(lines):
        match = _DIRECTIVE_START.match(line)
        if match is None or match["name"] != directive:
            continue
        label = match["arg"].strip()
        for option in lines[i + 1 :]:
            opt = _OPTION.match(option)
            if opt is None:
                break
            if opt["key"] == "label":
                label = opt["value"]
        found.append(label)
    return found


def exercise_labels(nb: nbformat.NotebookNode) -> list[str]:
    r"""Return the labels of a notebook's exercises, in reading order.

    An exercise is a gated ``{exercise-start}`` directive in a markdown cell;
    its label is its ``:label:`` option.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook (version 4).

    Returns
    -------
    list of str
        The labels, in the order the exercises appear.

    Raises
    ------
    ValueError
        If an exercise has no label, or two exercises share one.

    Examples
    --------
    >>> from nbformat.v4 import new_markdown_cell, new_notebook
    >>> cell = new_markdown_cell("```{exercise-start}\n:label: ex-a\n```\nWhy?")
    >>> exercise_labels(new_notebook(cells=[cell]))
    ['ex-a']
    """
    labels: list[str] = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for label in _directive_labels(cell.source, "exercise-start"):
            if not label:
                raise ValueError(f"nb: the exercise in cell {index + 1} has no :label:")
            if label in labels:
                raise ValueError(f"nb: two exercises are labelled {label!r}")
            labels.append(label)
    return labels


def checked_labels(source: str) -> list[str]:
    r"""Return the labels that a code cell passes to ``check(...)``, in order.

    Examples
    --------
    >>> checked_labels('answer = 0.5\ncheck("ex-a", answer)')
    ['ex-a']
    >>> checked_labels("x = 1")
    []
    """
    return [m["label"] for m in _CHECK_CALL.finditer(source)]


def _output_texts(cell: Mapping[str, Any]) -> list[str]:
    """Every text a code cell's outputs show (streams, text data, errors)."""
    texts: list[str] = []
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            texts.append(str(output.get("text", "")))
        elif kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            for mime in _TEXT_MIME:
                if mime in data:
                    value = data[mime]
                    texts.append(value if isinstance(value, str) else json.dumps(value))
        elif kind == "error":
            texts.append(f"{output.get('ename', '')}: {output.get('evalue', '')}")
    return texts


def _cell_texts(cell: Mapping[str, Any]) -> list[str]:
    return [str(cell.get("source", "")), *_output_texts(cell)]


def _contains(text: str, secret: str) -> bool:
    """Whether ``secret`` occurs in ``text`` as a whole token run, not inside a word."""
    pattern = r"(?<![\w.])" + re.escape(secret) + r"(?![\w])"
    return re.search(pattern, text) is not None


def _is_trivial(line: str) -> bool:
    return (
        sum(ch.isalnum() for ch in line) < 3
        or _STRUCTURE_LINE.match(line) is not None
        or _CORRECT_LINE.match(line) is not None
    )


def secret_lines(nb: nbformat.NotebookNode) -> list[str]:
    r"""Return the lines of solution text that must not reach a student.

    A *secret line* is a line, stripped of surrounding space, of the source
    or of a text output of a cell tagged ``solution``, unless it is trivial
    (fewer than three letters or digits, a MyST fence or option line such as
    ``:class: dropdown``, or a bare "Correct." from a self-check) or it
    already occurs in the source of a cell that is not a solution (the
    exercise stub's ``check("label", answer)``, say), which every student sees
    anyway.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The source chapter, with its solutions.

    Returns
    -------
    list of str
        The secret lines, sorted and without duplicates.

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell, new_notebook
    >>> stub = new_code_cell('answer = ...\ncheck("ex-a", answer)')
    >>> sol = new_code_cell('answer = 0.25 * 2\ncheck("ex-a", answer)')
    >>> sol.metadata["tags"] = ["solution"]
    >>> secret_lines(new_notebook(cells=[stub, sol]))
    ['answer = 0.25 * 2']
    """
    public = [str(cell.source) for cell in nb.cells if SOLUTION_TAG not in _tags(cell)]
    found: set[str] = set()
    for cell in nb.cells:
        if SOLUTION_TAG not in _tags(cell):
            continue
        for text in _cell_texts(cell):
            for raw in text.splitlines():
                line = raw.strip()
                if _is_trivial(line) or any(_contains(src, line) for src in public):
                    continue
                found.add(line)
    return sorted(found)


# ---------------------------------------------------------------------------
# Release
# ---------------------------------------------------------------------------


class StudentVersionPreprocessor(Preprocessor):
    """Turn a chapter into its student version (an nbconvert preprocessor).

    Removes every cell tagged ``solution`` and clears the outputs of cells
    tagged ``reveals-answer`` (both through nbconvert's
    :class:`~nbconvert.preprocessors.TagRemovePreprocessor`), then clears the
    outputs of any remaining cell whose text outputs contain a secret line
    (:func:`secret_lines`). A cleared cell also loses what describes its
    outputs: the figure caption and alt text of its ``mystnb`` metadata. The
    ids of the cells cleared by that scan are kept in :attr:`scan_cleared`;
    per-cell execution timestamps are dropped.
    """

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.scan_cleared: list[str] = []

    def preprocess(
        self, nb: nbformat.NotebookNode, resources: dict[str, Any]
    ) -> tuple[nbformat.NotebookNode, dict[str, Any]]:
        """Return the student version of ``nb`` (which is modified in place)."""
        secrets_ = secret_lines(nb)
        remover = TagRemovePreprocessor(
            remove_cell_tags={SOLUTION_TAG}, remove_all_outputs_tags={REVEALS_TAG}
        )
        nb, resources = remover.preprocess(nb, resources)
        self.scan_cleared = []
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            if REVEALS_TAG in _tags(cell):
                _forget_outputs(cell)
            if not cell.outputs:
                continue
            if any(_contains(text, s) for text in _output_texts(cell) for s in secrets_):
                _forget_outputs(cell)
                self.scan_cleared.append(str(cell.get("id", f"#{index + 1}")))
        strip_execution_metadata(nb)
        return nb, resources


def _forget_outputs(cell: nbformat.NotebookNode) -> None:
    """Clear a code cell's outputs and what describes them (a figure's caption and alt text)."""
    cell.outputs = []
    cell.execution_count = None
    cell.get("metadata", {}).pop(_FIGURE_METADATA, None)


def student_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return the student version of a chapter; ``nb`` itself is not changed.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The source chapter, with solutions.

    Returns
    -------
    nbformat.NotebookNode
        A copy without solution cells and without revealing outputs.

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell, new_notebook
    >>> sol = new_code_cell("answer = 2")
    >>> sol.metadata["tags"] = ["solution"]
    >>> nb = new_notebook(cells=[new_code_cell("x = 1"), sol])
    >>> [c.source for c in student_notebook(nb).cells]
    ['x = 1']
    >>> len(nb.cells)
    2
    """
    student, _ = StudentVersionPreprocessor().preprocess(copy.deepcopy(nb), {})
    return student


class AnswerInHandout(ValueError):
    """A student notebook would show the answer of a marked exercise."""

    def __init__(self, leaks: Sequence[Leak]) -> None:
        self.leaks = tuple(leaks)
        shown = "\n".join(f"  {leak}" for leak in self.leaks[:20])
        more = f"\n  ... and {len(self.leaks) - 20} more" if len(self.leaks) > 20 else ""
        super().__init__(
            f"the student notebooks would show {len(self.leaks)} marking answer(s); reword "
            f"each line, tag its cell {REVEALS_TAG!r} (its outputs, caption and alt text "
            "are then left out of the release) or change the exercise's numbers:\n"
            f"{shown}{more}"
        )


@dataclass(frozen=True)
class Release:
    """What :func:`release` wrote."""

    out: Path
    notebooks: tuple[Path, ...]
    readme: Path
    zip_path: Path
    #: Cells (``notebook: cell id``) whose outputs the defensive scan cleared.
    scan_cleared: tuple[str, ...] = ()
    #: The klbook wheel (sealed self-checks) and the pinned requirements.
    wheel: Path | None = None
    requirements: Path | None = None


def _notebook_bytes(nb: nbformat.NotebookNode) -> bytes:
    text = nbformat.writes(nb)
    if not text.endswith("\n"):
        text += "\n"
    return text.encode("utf-8")


_README = """\
# Student notebooks: KL divergence and cross-entropy

These are the chapters of the course book as Jupyter notebooks, with the
worked solutions taken out. Each chapter ends with exercises; you answer them
in the notebook and the notebook tells you at once whether you are right.

This folder holds everything you need: the notebooks, `{wheel}` (the
course's helper package `klbook`, which the notebooks import and which holds
the self-checks) and `requirements.txt` (the exact versions of NumPy, SciPy,
Matplotlib and JupyterLab the course was tested with).

## Setting up (once)

You need Python 3.11 or newer (from python.org or your system's package
manager). Open a terminal in this folder (the one with this README) and run
these three commands, one after the other.

On Linux and macOS:

```console
python3 -m venv .venv
.venv/bin/python -m pip install -r requirements.txt {wheel}
.venv/bin/python -m jupyter lab
```

On Windows (in a Command Prompt or PowerShell window):

```console
py -m venv .venv
.venv\\Scripts\\python -m pip install -r requirements.txt {wheel}
.venv\\Scripts\\python -m jupyter lab
```

JupyterLab opens in your browser; open the notebooks in `chapters/`. Next
time, only the last command is needed. (If your instructor set up a Jupyter
server with `klbook` installed, just use that.)

## Answering and self-checking

Inside each exercise there is a cell like

```python
answer = ...  # replace ... with your answer
check("ex-...", answer)
```

Replace `...` with your answer (a number, an array, a short text or a
function, as the exercise asks) and run the cell. It answers

- "Correct." when you are right,
- "Not quite: ..." with a hint when you are not (try again as often as you
  like), and
- "Not answered yet ..." while the `...` is still there.

Run the notebook from the top (Kernel, then Restart Kernel and Run All
Cells) before you check, so that every variable the exercise needs exists.

The self-checks are for practice. Grading does not ask them: it re-runs your
notebook and marks each answer with its own checks (a function you write is
tried on other inputs than the self-check's), so an answer is marked right
because your code computes it, not because a check said so.

## Handing in

Hand in the notebook files themselves, **keeping their names** (for example
`{example}`), the way your instructor tells you. Before
you do:

- Restart the kernel and run all cells: the notebook must run from top to
  bottom without errors. Grading re-runs it that way in a fresh kernel, so
  the outputs saved in the file do not count; only what the code computes.
- Keep every `check("ex-...", answer)` cell, with your answer in the
  variable it passes. An exercise whose check cell is missing counts as
  not answered.
- Do not leave code that waits for input, reads or writes files outside the
  notebook's folder, uses the network or runs for minutes: grading runs the
  notebook on its own, offline, and stops one that runs too long.

## What is here

| Notebook | Exercises |
| --- | --- |
{table}
"""


def _readme(rows: Sequence[tuple[str, Sequence[str]]], wheel: str) -> str:
    table = "\n".join(
        f"| `{path}` | {', '.join(f'`{label}`' for label in labels) or '(none)'} |"
        for path, labels in rows
    )
    example = Path(rows[0][0]).name if rows else "01_chapter.ipynb"
    return _README.format(table=table, example=example, wheel=wheel)


def _prepare_out(out: Path) -> None:
    """Make ``out`` an empty folder, removing only an earlier release."""
    if out.exists():
        if not out.is_dir():
            raise ValueError(f"out: {out} exists and is not a folder")
        if any(out.iterdir()):
            if not (out / _RELEASE_MARKER).is_file():
                raise ValueError(
                    f"out: {out} is not empty and is not an earlier student release; "
                    "choose a new or empty folder"
                )
            shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def release(
    notebooks: Iterable[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    root: str | os.PathLike[str] | None = None,
    book: str | os.PathLike[str] | None = None,
    marking: Mapping[str, Any] | None = None,
) -> Release:
    """Write the student release of ``notebooks`` to ``out`` and ``<out>.zip``.

    Nothing is written when a student notebook would show a marking answer
    (:func:`coursework.answer_scan.answer_leaks`: any line of a cell's
    source, outputs, caption or alt text that holds an answer's value to
    three significant figures, in the exercise's own chapter, or to four in
    the others): :class:`AnswerInHandout` names each place.

    Parameters
    ----------
    notebooks : iterable of path-like
        The source chapters, with solutions.
    out : path-like
        The release folder. It must be new, empty, or an earlier release
        (which is replaced as a whole).
    root : path-like, optional
        The folder the notebooks' relative paths are taken from (the current
        directory when omitted): ``<root>/chapters/01_x.ipynb`` is written to
        ``<out>/chapters/01_x.ipynb``.
    book : path-like, optional
        The book's repository, whose ``klbook/`` makes the wheel and whose
        ``requirements.txt`` gives the pins; by default the one this package
        is in.
    marking : mapping, optional
        The marking checks whose answers must not show, by label (default:
        :func:`coursework.marking.load`).

    Returns
    -------
    Release
        The paths written and any cells the defensive scan cleared.

    Raises
    ------
    ValueError
        If no notebook is given, a notebook is not under ``root``, two
        notebooks map to the same path, a notebook has an exercise without
        a label, or ``out`` holds something other than a release.
    AnswerInHandout
        If a student notebook shows a marking answer (a ValueError).

    Examples
    --------
    >>> import tempfile, pathlib, nbformat
    >>> from nbformat.v4 import new_code_cell, new_notebook
    >>> folder = tempfile.TemporaryDirectory()
    >>> tmp = pathlib.Path(folder.name)
    >>> sol = new_code_cell("answer = 2")
    >>> sol.metadata["tags"] = ["solution"]
    >>> nbformat.write(new_notebook(cells=[new_code_cell("x = 1"), sol]), tmp / "ch.ipynb")
    >>> result = release([tmp / "ch.ipynb"], tmp / "student", root=tmp)
    >>> [c.source for c in nbformat.read(result.notebooks[0], as_version=4).cells]
    ['x = 1']
    >>> result.zip_path.name, result.wheel.name, result.requirements.name
    ('student.zip', 'klbook-0.1.0-py3-none-any.whl', 'requirements.txt')
    >>> folder.cleanup()
    """
    base = Path(root if root is not None else Path.cwd()).resolve()
    sources = [Path(p) for p in notebooks]
    if not sources:
        raise ValueError("notebooks: give at least one chapter notebook")
    out_dir = Path(out)
    planned: dict[Path, Path] = {}
    for src in sources:
        try:
            rel = src.resolve().relative_to(base)
        except ValueError:
            raise ValueError(f"notebooks: {src} is not under the root folder {base}") from None
        if rel in planned:
            raise ValueError(f"notebooks: {src} is given twice")
        planned[rel] = src
    cleared: list[str] = []
    built: list[tuple[Path, bytes]] = []
    students: dict[str, nbformat.NotebookNode] = {}
    own: dict[str, list[str]] = {}
    for rel, src in sorted(planned.items()):
        nb = nbformat.read(src, as_version=4)
        labels = exercise_labels(nb)
        processor = StudentVersionPreprocessor()
        student, _ = processor.preprocess(nb, {})
        nbformat.validate(student)
        data = _notebook_bytes(student)
        built.append((rel, data))
        cleared.extend(f"{rel.as_posix()}: cell {cid}" for cid in processor.scan_cleared)
        students[rel.as_posix()] = student
        own[rel.as_posix()] = labels
    if marking is None:
        from coursework.marking import load

        marking = load()
    leaks = answer_leaks(students, marking, own)
    if leaks:
        raise AnswerInHandout(leaks)
    book_root = Path(book) if book is not None else BOOK_ROOT
    wheel = wheel_name(book_root)
    extras: list[tuple[str, bytes]] = [
        (wheel, zip_bytes(wheel_members(book_root))),
        ("requirements.txt", student_requirements(book_root).encode("utf-8")),
        ("README.md", _readme(list(own.items()), wheel).encode("utf-8")),
    ]
    _prepare_out(out_dir)
    written: list[Path] = []
    members: list[tuple[str, bytes]] = []
    for rel, data in built:
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append(target)
        members.append((f"{out_dir.name}/{rel.as_posix()}", data))
    for name, data in extras:
        (out_dir / name).write_bytes(data)
        members.append((f"{out_dir.name}/{name}", data))
    (out_dir / _RELEASE_MARKER).write_text(
        "Written by `python -m coursework release`; the folder is replaced on the next release.\n",
        encoding="utf-8",
    )
    zip_path = out_dir.with_name(out_dir.name + ".zip")
    zip_path.write_bytes(zip_bytes(members, sort=True))
    return Release(
        out_dir,
        tuple(written),
        out_dir / "README.md",
        zip_path,
        tuple(cleared),
        wheel=out_dir / wheel,
        requirements=out_dir / "requirements.txt",
    )


def _pins(requirements: Path) -> dict[str, str]:
    """Return the ``name==version`` lines of a requirements file, by normalised name."""
    pins: dict[str, str] = {}
    for raw in requirements.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if "==" in line and not line.startswith("-"):
            name, version = (part.strip() for part in line.split("==", 1))
            pins[_normalise(name)] = f"{name}=={version}"
    return pins


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def student_requirements(book: str | os.PathLike[str] | None = None) -> str:
    """Return the release's ``requirements.txt``: the book's pins of what students need.

    What students need is klbook's dependencies and :data:`STUDENT_PACKAGES`,
    with everything those require on this platform, as installed in the
    book's environment. Each is pinned exactly as the book's
    ``requirements.txt`` pins it. Packages another platform needs on top
    (Windows-only ones, say) are left to pip.

    Raises
    ------
    ValueError
        If a needed package is installed but not pinned by the book.
    """
    from importlib import metadata

    from packaging.requirements import Requirement

    root = Path(book) if book is not None else BOOK_ROOT
    pins = _pins(root / "requirements.txt")
    with (root / "pyproject.toml").open("rb") as fh:
        project = tomllib.load(fh)["project"]
    todo = [Requirement(dep).name for dep in project.get("dependencies", [])]
    todo += list(STUDENT_PACKAGES)
    needed: dict[str, str] = {}
    # Markers of packages reached only through conditional requirements (pexpect:
    # sys_platform != "win32"), so that another platform's pip skips them too.
    markers: dict[str, set[str]] = {}
    queue: list[tuple[str, str | None]] = [(name, None) for name in todo]
    while queue:
        raw, marker = queue.pop()
        name = _normalise(raw)
        if marker is None:
            markers.pop(name, None)
        elif name in markers or name not in needed:
            markers.setdefault(name, set()).add(marker)
        if name in needed:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # not needed on this platform (its marker was false) or not installed
        if name not in pins:
            raise ValueError(f"requirements: {name} is needed by the notebooks but not pinned")
        needed[name] = pins[name]
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None:
                queue.append((req.name, marker))
            elif req.marker.evaluate({"extra": ""}):
                queue.append((req.name, str(req.marker) if marker is None else marker))
    for name, found in markers.items():
        if name in needed and found:
            needed[name] += "; " + " or ".join(f"({m})" for m in sorted(found))
    lines = [
        "# What the course's notebooks need, pinned as the course book pins it.",
        "# Install with the klbook wheel beside this file (see README.md):",
        "#     python -m pip install -r requirements.txt klbook-<version>-py3-none-any.whl",
        *sorted(needed.values(), key=str.lower),
    ]
    return "\n".join(lines) + "\n"
