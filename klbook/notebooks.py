"""Moved to :mod:`coursework.notebooks` (regenerating the chapters is an instructors' tool).

This alias keeps ``from klbook.notebooks import ...`` working inside the
book's repository while callers move to ``coursework.notebooks``. The
student wheel leaves it out, and outside the repository it raises
ImportError: ``coursework`` is not installed there.
"""

import sys
from pathlib import Path

try:
    import coursework.notebooks as _moved
except ModuleNotFoundError as exc:  # a script run from elsewhere in the repository
    _root = Path(__file__).resolve().parent.parent
    if exc.name != "coursework" or not (_root / "coursework" / "notebooks.py").is_file():
        raise
    sys.path.append(str(_root))
    import coursework.notebooks as _moved

KERNEL_ENV = _moved.KERNEL_ENV
coalesce_streams = _moved.coalesce_streams
execute_notebook = _moved.execute_notebook
main = _moved.main
strip_execution_metadata = _moved.strip_execution_metadata
write_executed = _moved.write_executed

__all__ = [
    "KERNEL_ENV",
    "coalesce_streams",
    "execute_notebook",
    "main",
    "strip_execution_metadata",
    "write_executed",
]

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
