"""Moved to :mod:`coursework.notebooks` (regenerating the chapters is an instructors' tool).

This alias keeps ``from klbook.notebooks import ...`` working inside the
book's repository while callers move to ``coursework.notebooks``. The
student wheel leaves it out, and outside the repository it raises
ImportError: ``coursework`` is not installed there.
"""

from coursework.notebooks import (
    KERNEL_ENV,
    coalesce_streams,
    execute_notebook,
    main,
    strip_execution_metadata,
    write_executed,
)

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
