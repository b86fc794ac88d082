"""`make book-student`: the website without solutions, built from a copy of the sources.

The public website folds every worked solution behind a toggle (the HTML holds it); this
one must not hold them at all. One build per session, in a temporary folder; the
repository's _config.yml and chapters are only read.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from .coursework_helpers import CHAPTER_IDS, CHAPTERS, ROOT, labels, read, site, tags


class _Code(HTMLParser):
    """The text of every <pre> block of a page (code cells and their outputs)."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.blocks: list[str] = []
        self.classes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.classes.extend((dict(attrs).get("class") or "").split())
        if tag == "pre":
            self.depth += 1
            self.blocks.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre" and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.blocks[-1] += data


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


@pytest.fixture(scope="module")
def student_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return site.build_student_site(tmp_path_factory.mktemp("student-site"), ROOT)


def _solution_code_lines(chapter: Path) -> list[str]:
    nb = read(chapter)
    public = "\n".join(c.source for c in nb.cells if "solution" not in tags(c))
    lines = []
    for cell in nb.cells:
        if cell.cell_type == "code" and "solution" in tags(cell):
            for line in cell.source.splitlines():
                squashed = _squash(line)
                if sum(ch.isalnum() for ch in squashed) >= 8 and squashed not in _squash(public):
                    lines.append(squashed)
    return lines


def test_the_chapters_have_solution_code_to_hide() -> None:
    assert sum(len(_solution_code_lines(c)) for c in CHAPTERS) > 20


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_solutions_are_gone_not_folded(student_site: Path, chapter: Path) -> None:
    page = student_site / "chapters" / f"{chapter.stem}.html"
    parser = _Code()
    parser.feed(page.read_text(encoding="utf-8"))
    code = "\n".join(_squash(block) for block in parser.blocks)
    assert "answer = ..." in code, "the exercise stubs are on the page"
    assert not {c for c in parser.classes if "solution" in c}, "a solution block is on the page"
    shown = [line for line in _solution_code_lines(chapter) if line in code]
    assert not shown, f"solution code on the page: {shown[:3]}"
    text = _squash(page.read_text(encoding="utf-8"))
    for label in labels(read(chapter)):
        assert label in text, f"{label}: the exercise is missing"


def test_the_repository_is_untouched_by_the_build(student_site: Path) -> None:
    config = (ROOT / "_config.yml").read_text(encoding="utf-8")
    assert "hide_solutions" not in config or "hide_solutions: false" in config
    copy = (student_site.parent / "src" / "_config.yml").read_text(encoding="utf-8")
    assert "hide_solutions: true" in copy
