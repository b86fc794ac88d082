"""pytest settings for the chapters: how nbval runs and what it compares.

* nbval's kernels get the environment of ``make refresh``. nbval starts each
  kernel with this process's environment. A caller's ``MPLBACKEND=Agg``
  (common on headless machines and CI) would make every ``plt.show()`` print
  nothing, so the stored figures would not be reproduced; an unset
  ``PYTHONHASHSEED`` would let set ordering vary. The kernels that stored the
  outputs ran with :data:`coursework.notebooks.KERNEL_ENV`, so the kernels that
  check them do too.
* nbval compares the figures too. By default it skips ``image/png``; here the
  PNG bytes of every figure must equal the stored ones, so that nbval's one
  execution of a chapter also proves that ``make refresh`` would store the
  same figures (the rest of the refreshed file is checked without a kernel by
  ``tests/test_notebooks.py::test_stored_chapter_is_what_refresh_writes``).
"""

import os

import pytest
from coursework.notebooks import KERNEL_ENV

os.environ.update(KERNEL_ENV)

#: Output fields nbval skips by default that the chapters' checks compare.
COMPARED = frozenset({"image/png"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Make every notebook nbval collects compare the figures' PNG bytes."""
    for item in items:
        notebook = item.parent
        skip = getattr(notebook, "skip_compare", None)
        if skip is not None and COMPARED & set(skip):
            kept = tuple(key for key in skip if key not in COMPARED)
            notebook.skip_compare = kept
