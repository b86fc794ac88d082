"""Execute the book's notebooks deterministically and store their outputs.

``python -m coursework.notebooks chapters/*.ipynb`` (``make refresh``) re-runs each
notebook top to bottom in a fresh kernel and writes it back with its outputs.
Two runs give byte-identical files: timing metadata is not recorded, stale
``metadata.execution`` entries are dropped, stream pieces are merged, hash seeds are fixed and the
kernel runs from the notebook's own folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbclient import NotebookClient

__all__ = [
    "coalesce_streams",
    "execute_notebook",
    "main",
    "strip_execution_metadata",
    "write_executed",
]

#: Environment every kernel gets, so that outputs do not depend on the caller.
KERNEL_ENV = {"PYTHONHASHSEED": "0", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}


def strip_execution_metadata(nb: nbformat.NotebookNode) -> None:
    """Remove per-cell execution timestamps, which change on every run."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                output.get("metadata", {}).pop("execution", None)


def coalesce_streams(nb: nbformat.NotebookNode) -> None:
    """Merge consecutive stdout (or stderr) pieces of a cell into one output.

    A busy kernel may flush one ``print`` in several messages; merged, the
    stored notebook does not depend on when the kernel happened to flush.

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell, new_notebook, new_output
    >>> cell = new_code_cell("print('ab')")
    >>> cell.outputs = [new_output("stream", name="stdout", text="a"),
    ...                 new_output("stream", name="stdout", text="b")]
    >>> nb = new_notebook(cells=[cell])
    >>> coalesce_streams(nb)
    >>> [o["text"] for o in nb.cells[0].outputs]
    ['ab']
    """
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        merged: list[nbformat.NotebookNode] = []
        for output in cell.get("outputs", []):
            previous = merged[-1] if merged else None
            if (
                output.output_type == "stream"
                and previous is not None
                and previous.output_type == "stream"
                and previous.name == output.name
            ):
                previous.text = "".join(previous.text) + "".join(output.text)
            else:
                merged.append(output)
        cell.outputs = merged


def execute_notebook(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    timeout: int = 600,
    kernel_name: str = "python3",
) -> nbformat.NotebookNode:
    """Run a notebook in a fresh kernel and write it, with outputs, to ``out``.

    Parameters
    ----------
    path : path-like
        The notebook to run.
    out : path-like, optional
        Where to write the result; ``path`` itself when omitted.
    timeout : int, default 600
        Seconds any one cell may take.
    kernel_name : str, default "python3"
        The Jupyter kernel to start.

    Returns
    -------
    nbformat.NotebookNode
        The executed notebook.
    """
    src = Path(path)
    nb = nbformat.read(src, as_version=4)
    strip_execution_metadata(nb)
    env = {**os.environ, **KERNEL_ENV}
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        record_timing=False,
        resources={"metadata": {"path": str(src.parent.resolve())}},
    )
    client.execute(env=env)
    write_executed(nb, Path(out) if out is not None else src)
    return nb


def write_executed(nb: nbformat.NotebookNode, path: str | os.PathLike[str]) -> None:
    """Write an executed notebook as ``make refresh`` stores it.

    Drops per-cell execution timestamps, merges stream pieces, then writes
    with nbformat. A stored chapter read and passed through this function
    must come out byte for byte the same; the tests check that, so that the
    only thing a refresh can change is what the kernel outputs (which nbval
    compares, figures included).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook, with its outputs; it is modified in place.
    path : path-like
        Where to write it.

    Examples
    --------
    >>> import tempfile
    >>> from nbformat.v4 import new_code_cell, new_notebook, new_output
    >>> cell = new_code_cell("print('ab')", execution_count=1)
    >>> cell.metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00Z"}
    >>> cell.outputs = [new_output("stream", name="stdout", text="a"),
    ...                 new_output("stream", name="stdout", text="b")]
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "nb.ipynb"
    ...     write_executed(new_notebook(cells=[cell]), path)
    ...     stored = nbformat.read(path, as_version=4).cells[0]
    >>> stored.metadata, [out.text for out in stored.outputs]
    ({}, ['ab'])
    """
    strip_execution_metadata(nb)
    coalesce_streams(nb)
    nbformat.write(nb, Path(path))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: re-execute the given notebooks in place."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=600)
    args = parser.parse_args(argv)
    for nb_path in args.notebooks:
        start = time.perf_counter()
        execute_notebook(nb_path, timeout=args.timeout)
        print(f"{nb_path}: {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
