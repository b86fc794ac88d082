"""Offer the book's PDF on the website once `make pdf` has built it (a local Sphinx extension).

`make pdf` writes ``_build/pdf/klbook.pdf``. When that file exists as the website is
built, this extension copies it to the site's root (``klbook.pdf``) and sets the
Sphinx tag ``pdf_available``, which shows the download link that ``intro.md`` keeps in
an ``{only} html and pdf_available`` block. Without a PDF the link is left out, so
the website never links to a file it does not have.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config

#: Where `make pdf` leaves the PDF, relative to the book's source folder.
BUILT_PDF = Path("_build") / "pdf" / "klbook.pdf"
#: The tag that `{only}` blocks test, and the PDF's name on the site.
TAG = "pdf_available"
SITE_NAME = "klbook.pdf"


def _built_pdf(app: Sphinx) -> Path:
    return Path(app.srcdir) / BUILT_PDF


def offer_pdf(app: Sphinx, config: Config) -> None:
    """Set the ``pdf_available`` tag for an HTML build when the PDF has been built."""
    if _built_pdf(app).is_file():
        app.tags.add(TAG)


def copy_pdf(app: Sphinx, exception: Exception | None) -> None:
    """Put the PDF at the root of a successfully built website."""
    if exception is None and app.builder.format == "html" and app.tags.has(TAG):
        shutil.copyfile(_built_pdf(app), Path(app.outdir) / SITE_NAME)


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the hooks."""
    app.connect("config-inited", offer_pdf)
    app.connect("build-finished", copy_pdf)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
