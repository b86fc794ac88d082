"""The book as a PDF: `make pdf`, built once in a temporary copy, read back with poppler.

The PDF is made from the same sources and stored outputs as the website, through
Jupyter Book's LaTeX writer and XeLaTeX. These tests need TeX Live (xelatex, latexmk)
and poppler (pdftotext, pdfimages, pdftohtml); where one is missing they skip with the
reason, unless ``KLBOOK_REQUIRE_TEX=1`` (set by ``.ci/run``): then they fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest

from coursework.site import NOT_SOURCES

from .conftest import CHAPTERS, ROOT, BuiltSite

pytestmark = pytest.mark.slow

#: Programs the PDF and these tests need, and the Debian package of each.
TOOLS = {
    "xelatex": "texlive-xetex",
    "latexmk": "latexmk",
    "pdftotext": "poppler-utils",
    "pdfimages": "poppler-utils",
    "pdftohtml": "poppler-utils",
}
#: Overfull boxes up to this width (pt) are invisible; wider ones are text past the margin.
OVERFULL_TOLERANCE_PT = 1.0


def _require_tools() -> None:
    missing = [f"{tool} ({package})" for tool, package in TOOLS.items() if not shutil.which(tool)]
    if not missing:
        return
    reason = "no " + ", ".join(missing) + ": the PDF cannot be built here"
    if os.environ.get("KLBOOK_REQUIRE_TEX") == "1":
        pytest.fail(f"KLBOOK_REQUIRE_TEX=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True)
class BuiltPdf:
    """One `make pdf` run: where, what it printed, and the files it left."""

    source: Path
    returncode: int
    output: str

    @property
    def pdf(self) -> Path:
        return self.source / "_build" / "pdf" / "klbook.pdf"

    @property
    def latex_log(self) -> str:
        log = self.source / "_build" / "latex" / "klbook.log"
        return log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""

    @property
    def tex(self) -> str:
        return (self.source / "_build" / "latex" / "klbook.tex").read_text(encoding="utf-8")


def _make(
    source: Path, target: str, *variables: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run `make target` in ``source`` with this interpreter's environment as .venv."""
    python = Path(sys.executable)
    return subprocess.run(
        [
            "make",
            "--no-print-directory",
            target,
            f"BIN={python.parent}",
            f"PY={python}",
            "STAMP=",
            *variables,
        ],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env=env,
    )


@pytest.fixture(scope="module")
def built_pdf(tmp_path_factory: pytest.TempPathFactory) -> BuiltPdf:
    """Copy the book's sources and run `make pdf` there."""
    _require_tools()
    source = tmp_path_factory.mktemp("pdf") / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCES))
    proc = _make(source, "pdf")
    return BuiltPdf(source, proc.returncode, proc.stdout + proc.stderr)


@pytest.fixture(scope="module")
def pdf(built_pdf: BuiltPdf) -> Path:
    """The PDF, once `make pdf` has succeeded."""
    assert built_pdf.returncode == 0, f"make pdf failed:\n{built_pdf.output[-4000:]}"
    assert built_pdf.pdf.exists()
    return built_pdf.pdf


@pytest.fixture(scope="module")
def text(pdf: Path) -> str:
    """The PDF's text, as pdftotext reads it."""
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture(scope="module")
def xml(pdf: Path) -> ElementTree.Element:
    """The PDF as pdftohtml's XML: pages, text, links and the outline (bookmarks)."""
    out = subprocess.run(
        ["pdftohtml", "-xml", "-i", "-q", "-stdout", "-enc", "UTF-8", str(pdf)],
        capture_output=True,
        check=True,
    ).stdout
    return ElementTree.fromstring(out)


# ---------------------------------------------------------------------------
# What the book's sources promise
# ---------------------------------------------------------------------------


def _markdown_of(path: Path) -> str:
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        return "\n".join(
            "".join(cell["source"]) for cell in nb["cells"] if cell["cell_type"] == "markdown"
        )
    return path.read_text(encoding="utf-8")


def _headings(path: Path) -> list[str]:
    """Headings of levels 1-3 of a page, outside code fences, with their math removed."""
    found, fence = [], None
    for line in _markdown_of(path).splitlines():
        marker = re.match(r"^\s*(`{3,}|~{3,})", line)
        if marker:
            fence = (
                None if fence and marker.group(1).startswith(fence) else fence or marker.group(1)
            )
            continue
        heading = re.match(r"^(#{1,3})\s+(.*?)\s*#*\s*$", line)
        if fence is None and heading:
            found.append(_plain(heading.group(2)))
    return found


def _plain(title: str) -> str:
    """A heading as a PDF bookmark shows it, up to its first piece of math."""
    title = title.split("$")[0]
    title = re.sub(r"\{[a-z]+\}`([^`<]*?)\s*(<[^>]*>)?`", r"\1", title)  # {ref}`text <x>`
    title = re.sub(r"[*_`]", "", title).replace("'", "’")
    return " ".join(title.split())


def _pages_in_toc() -> list[Path]:
    """Every page of the PDF's body, in _toc.yml order (the root page is front matter)."""
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    files = re.findall(r"^\s*-\s*file:\s*(\S+)", toc, flags=re.MULTILINE)
    pages = []
    for name in files:
        for suffix in (".ipynb", ".md"):
            if (ROOT / f"{name}{suffix}").exists():
                pages.append(ROOT / f"{name}{suffix}")
    return pages


def _figures(chapter: Path) -> int:
    """How many figures (PNG outputs) a chapter shows."""
    nb = json.loads(chapter.read_text(encoding="utf-8"))
    return sum(
        "image/png" in output.get("data", {})
        for cell in nb["cells"]
        if cell["cell_type"] == "code"
        and not {"remove-output", "remove-cell"} & set(cell["metadata"].get("tags", []))
        for output in cell.get("outputs", [])
    )


def _numbered_equations(chapter: Path) -> int:
    """How many display equations of a chapter carry a label, and so a number."""
    return len(re.findall(r"\$\$\s*\([\w-]+\)", _markdown_of(chapter)))


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------


def test_make_pdf_builds_without_latex_errors(built_pdf: BuiltPdf, pdf: Path) -> None:
    errors = [line for line in built_pdf.latex_log.splitlines() if line.startswith("!")]
    errors += re.findall(r"^\S+:\d+: .*$", built_pdf.latex_log, flags=re.MULTILINE)
    assert not errors, "LaTeX errors:\n" + "\n".join(errors[:20])
    assert pdf.stat().st_size > 100_000


def test_no_undefined_reference_or_citation(built_pdf: BuiltPdf, text: str) -> None:
    undefined = re.findall(
        r"(?:Reference|Citation|Hyper reference) [`'][^']*' on page \d+ undefined",
        built_pdf.latex_log,
    )
    assert not undefined, "\n".join(undefined[:20])
    assert "??" not in text, "an unresolved reference prints as ?? in the PDF"
    assert "There were undefined references" not in built_pdf.latex_log


def test_title_page_contents_and_bibliography(text: str) -> None:
    first_page = text.split("\f")[0]
    assert "KL Divergence and Cross-Entropy" in first_page
    assert "CONTENTS" in text.upper().split("THE LOG-LIKELIHOOD RATIO")[0]
    assert "Bibliography" in text
    # Every cited work is listed, with its year, as the author-year citations name it.
    for author, year in [("Kullback", "1951"), ("Shannon", "1948"), ("Cover", "2006")]:
        assert re.search(rf"{author}.*{year}", text), f"{author} {year} missing from the PDF"


def test_every_chapter_and_section_is_in_the_outline(xml: ElementTree.Element) -> None:
    outline = [" ".join("".join(item.itertext()).split()) for item in xml.iter("item")]
    missing = [
        f"{page.name}: {title!r}"
        for page in _pages_in_toc()
        for title in _headings(page)
        if title and not any(entry.startswith(title) for entry in outline)
    ]
    assert not missing, "headings missing from the PDF's outline:\n" + "\n".join(missing)
    chapter_titles = [_headings(chapter)[0] for chapter in CHAPTERS]
    numbered = re.findall(r"^\s*(\d+)\s*$", "\n".join(outline), flags=re.MULTILINE)
    assert not numbered  # the outline holds titles, not stray numbers
    first = [outline.index(title) for title in chapter_titles]
    assert first == sorted(first), "the chapters' bookmarks are out of reading order"


def test_chapters_are_numbered_as_on_the_website(pdf: Path) -> None:
    contents = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", "-l", "6", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for number, chapter in enumerate(CHAPTERS, start=1):
        title = _headings(chapter)[0]
        assert re.search(rf"^\s*{number}\s+{re.escape(title)}\s", contents, flags=re.MULTILINE), (
            f"chapter {number} ({title}) is not numbered {number} in the contents"
        )
        assert re.search(rf"^\s*{number}\.1\s+\S", contents, flags=re.MULTILINE)


def test_exercises_are_numbered_as_on_the_website(text: str) -> None:
    """Exercise 1.1 as on the website, not 1.8.1 (its section's number as well)."""
    assert not re.findall(r"Exercise \d+\.\d+\.\d+", text)
    for number, chapter in enumerate(CHAPTERS, start=1):
        count = len(re.findall(r"```\{exercise-start\}", _markdown_of(chapter)))
        for k in range(1, count + 1):
            assert f"Exercise {number}.{k}\n" in text, f"no Exercise {number}.{k} in the PDF"
        assert f"Exercise {number}.{count + 1}\n" not in text


def test_every_labelled_equation_is_numbered(built_pdf: BuiltPdf, text: str) -> None:
    tex = built_pdf.tex
    chapters = re.split(r"\\chapter\{", tex)
    for number, chapter in enumerate(CHAPTERS, start=1):
        want = _numbered_equations(chapter)
        body = chapters[number]
        got = len(re.findall(r"\\begin\{(?:equation|align|gather|multline)\}", body))
        assert got >= want, f"chapter {number}: {got} numbered equations, {want} labelled"
        for k in range(1, want + 1):
            assert f"({number}.{k})" in text, f"equation ({number}.{k}) has no number in the PDF"


def test_every_figure_is_embedded_sharp_and_captioned(pdf: Path, text: str) -> None:
    listing = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    images = [row.split() for row in listing if row.split()[2] == "image"]
    want = sum(_figures(chapter) for chapter in CHAPTERS)
    assert len(images) == want, f"{len(images)} images in the PDF, {want} figures in the chapters"
    soft = [f"page {row[0]}: {row[12]} ppi" for row in images if int(row[12]) < 200]
    assert not soft, "figures below 200 ppi:\n" + "\n".join(soft)
    captions = set(re.findall(r"Fig\. (\d+\.\d+):", text))
    assert len(captions) == want, f"{len(captions)} captioned figures of {want}"


def test_no_line_runs_past_the_right_margin(built_pdf: BuiltPdf, pdf: Path) -> None:
    overfull = [
        float(width)
        for width in re.findall(
            r"^Overfull \\hbox \(([\d.]+)pt too wide\)", built_pdf.latex_log, re.M
        )
    ]
    wide = [w for w in overfull if w > OVERFULL_TOLERANCE_PT]
    assert not wide, f"{len(wide)} lines run past the margin by up to {max(wide):.1f} pt"
    # And as printed: no word ends right of the text block's edge, which justified
    # paragraphs mark on every page (the most common right end of a line).
    layout = subprocess.run(
        ["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    root = ElementTree.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", layout).replace("xmlns=", "x="))
    ends: Counter[int] = Counter()
    words: list[tuple[int, float, str]] = []
    for number, page in enumerate(root.iter("page"), start=1):
        for line in page.iter("line"):
            ends[round(float(line.get("xMax", 0)))] += 1
        for word in page.iter("word"):
            words.append((number, float(word.get("xMax", 0)), word.text or ""))
    edge = ends.most_common(1)[0][0]
    past = [f"page {p}: {w!r} ends at {x:.0f} pt" for p, x, w in words if x > edge + 2]
    assert not past, f"text right of the margin ({edge} pt):\n" + "\n".join(past[:20])


def test_internal_links_point_into_the_pdf(xml: ElementTree.Element) -> None:
    pages = len(list(xml.iter("page")))
    targets = [
        int(link.get("href", "").rsplit("#", 1)[1])
        for link in xml.iter("a")
        if re.search(r"\.html#\d+$", link.get("href", ""))
    ]
    assert len(targets) > 100, "the contents, cross-references and citations should link"
    assert all(1 <= t <= pages for t in targets)


def test_make_pdf_without_tex_says_what_to_install(tmp_path: Path) -> None:
    """Where TeX Live is missing, `make pdf` stops at once and names the packages."""
    _require_tools()
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    env = {**os.environ, "PATH": str(tmp_path / "no-tools")}
    proc = subprocess.run(
        [
            "/usr/bin/make" if Path("/usr/bin/make").exists() else shutil.which("make"),
            "pdf",
            f"PY={sys.executable}",
            "STAMP=",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0
    assert "texlive-xetex" in proc.stderr and "latexmk" in proc.stderr
    assert not (tmp_path / "_build").exists()


def test_the_website_offers_the_pdf_once_built(built_pdf: BuiltPdf, pdf: Path) -> None:
    """`make book` after `make pdf` puts the PDF on the site and links it from the landing page."""
    proc = _make(built_pdf.source, "book")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    html = built_pdf.source / "_build" / "html"
    assert (html / "klbook.pdf").read_bytes() == pdf.read_bytes()
    landing = (html / "intro.html").read_text(encoding="utf-8")
    assert re.search(r'<a href="klbook.pdf"[^>]*>PDF</a>', landing)


def test_the_website_has_no_pdf_link_without_a_pdf(built_site: BuiltSite) -> None:
    """The strict build (no _build/pdf in its copy) neither links nor ships a PDF."""
    assert not (built_site.html / "klbook.pdf").exists()
    assert "klbook.pdf" not in (built_site.html / "intro.html").read_text(encoding="utf-8")


def test_the_student_edition_has_the_exercises_but_no_solutions(
    built_pdf: BuiltPdf, text: str
) -> None:
    """`make pdf EDITION=student` prints the student notebooks: every exercise, no solution."""
    proc = _make(built_pdf.source, "pdf", "EDITION=student")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    student = built_pdf.source / "_build" / "pdf" / "klbook-student.pdf"
    student_text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(student), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    exercises = set(re.findall(r"Exercise (\d+\.\d+)", text))
    assert len(exercises) >= 15
    assert set(re.findall(r"Exercise (\d+\.\d+)", student_text)) == exercises
    assert "Solution to Exercise" in text
    assert "Solution to Exercise" not in student_text
    assert built_pdf.pdf.exists()  # the full edition is still there beside it
