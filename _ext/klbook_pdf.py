"""The book's PDF and the website that offers it (a local Sphinx extension).

`make pdf` writes ``_build/pdf/klbook.pdf``. When that file exists as the website is
built, this extension copies it to the site's root (``klbook.pdf``) and sets the
Sphinx tag ``pdf_available``, which shows the download link that ``intro.md`` keeps in
an ``{only} html and pdf_available`` block. Without a PDF the link is left out, so
the website never links to a file it does not have.

It also numbers the PDF's exercises as the website does (Exercise 1.1, not 1.8.1).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.environment import BuildEnvironment

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


def number_exercises_as_on_the_website(app: Sphinx, env: BuildEnvironment) -> None:
    """Renumber the PDF's exercises per chapter (Exercise 1.1), as the website does.

    For a book in parts, Jupyter Book's LaTeX writer sets ``numfig_secnum_depth``
    to 2 so that LaTeX numbers figures and equations per chapter; sphinx-exercise
    takes its numbers from Sphinx's own count at that depth, which gives every
    exercise its section's number too (Exercise 1.8.1). Counted again per
    chapter, in reading order, they match the website's. (Run at
    ``env-check-consistency``: Sphinx assigns the numbers after ``env-updated``.)
    """
    if app.builder.format != "latex":
        return
    for numbers in env.toc_fignumbers.values():
        exercises = numbers.get("exercise", {})
        in_order = sorted(exercises.items(), key=lambda item: item[1])
        for count, (ident, number) in enumerate(in_order, start=1):
            exercises[ident] = (number[0], count)


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the hooks."""
    app.connect("config-inited", offer_pdf)
    app.connect("env-check-consistency", number_exercises_as_on_the_website)
    app.connect("build-finished", copy_pdf)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
