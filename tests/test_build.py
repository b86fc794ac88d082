"""The strict book build: ``jupyter-book build . -W -n`` on a clean copy, and what it made.

The build runs once per session (the ``built_site`` fixture of conftest.py).
These tests read the HTML it wrote; tests/test_browser.py looks at the same
site in a real browser.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from pybtex.database import parse_file

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
MATHJAX = "_static/mathjax/tex-chtml.js"


def toc_files() -> list[str]:
    """Every document of ``_toc.yml`` in reading order, without suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                files.append(str(Path(entry["file"]).with_suffix("")))
            walk(entry.get("sections", []))

    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    walk(toc.get("chapters", []))
    return files


DOCS = toc_files()
CHAPTERS = [d for d in DOCS if d.startswith("chapters/")]


class _Page(HTMLParser):
    """The parts of an HTML page these tests look at."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[str] = []
        self.links: list[tuple[str, str]] = []  # (rel, href)
        self.images: list[str] = []
        self.classes: list[str] = []
        self.ids: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "script" and "src" in a:
            self.scripts.append(a["src"])
        if tag == "link" and "href" in a:
            self.links.append((a.get("rel", ""), a["href"]))
        if tag == "img":
            self.images.append(a.get("src", ""))
        if "class" in a:
            self.classes.append(a["class"])
        if "id" in a:
            self.ids.add(a["id"])

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def has_class(self, *names: str) -> int:
        """How many elements carry all of ``names`` among their classes."""
        return sum(set(names) <= set(c.split()) for c in self.classes)


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _plain(text: str) -> str:
    """Lower-case letters and digits only, to compare a title with rendered text."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


# --------------------------------------------------------------------------- the build


def test_strict_build_succeeds_without_warnings(built_site) -> None:
    warnings = [line for line in built_site.log.splitlines() if "WARNING" in line]
    assert built_site.returncode == 0, f"build failed:\n{built_site.log[-4000:]}"
    assert warnings == [], "build warnings:\n" + "\n".join(warnings)
    assert "build succeeded" in built_site.log


@pytest.mark.parametrize("doc", [*DOCS, "index", "search", "genindex"])
def test_page_exists(built_site, doc: str) -> None:
    page = built_site.html / f"{doc}.html"
    assert page.is_file(), f"{page.name} was not built"
    if doc != "index":  # index.html only forwards to the landing page
        assert page.stat().st_size > 1000


def test_index_forwards_to_the_landing_page(built_site) -> None:
    html = (built_site.html / "index.html").read_text(encoding="utf-8")
    assert f"url={DOCS[0]}.html" in html


def test_only_pages_of_the_table_of_contents_are_built(built_site) -> None:
    built = {
        str(p.relative_to(built_site.html).with_suffix("")) for p in built_site.html.rglob("*.html")
    }
    # _static holds theme templates, not pages.
    built = {b for b in built if not b.startswith("_static")}
    assert built == {*DOCS, "index", "search", "genindex"}


# --------------------------------------------------------------------------- references


def _cited_keys(built_site) -> set[str]:
    """Every bibliography key cited with {cite...} in the book's sources."""
    role = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
    keys: set[str] = set()
    for doc in DOCS:
        for suffix in (".md", ".ipynb"):
            source = built_site.source / f"{doc}{suffix}"
            if not source.is_file():
                continue
            text = source.read_text(encoding="utf-8")
            if suffix == ".ipynb":
                cells = json.loads(text)["cells"]
                text = "\n".join(
                    "".join(c["source"]) for c in cells if c["cell_type"] == "markdown"
                )
            for match in role.finditer(text):
                keys.update(k.strip() for k in match.group(1).split(","))
    return keys


def test_references_page_lists_every_cited_work(built_site) -> None:
    bib = parse_file(str(built_site.source / "references.bib")).entries
    cited = _cited_keys(built_site)
    assert cited, "nothing in the book is cited"
    assert cited <= set(bib), f"cited but not in references.bib: {sorted(cited - set(bib))}"
    page = parse(built_site.html / "references.html")
    assert page.has_class("citation") >= len(cited)
    text = _plain(" ".join(page.text))
    missing = [
        key
        for key in sorted(cited)
        if _plain(re.sub(r"[{}]", "", bib[key].fields["title"])) not in text
    ]
    assert missing == [], f"cited works missing from references.html: {missing}"


@pytest.mark.parametrize("doc", CHAPTERS)
def test_chapter_citations_point_to_the_references_page(built_site, doc: str) -> None:
    html = (built_site.html / f"{doc}.html").read_text(encoding="utf-8")
    targets = re.findall(r'href="\.\./references\.html#([^"]+)"', html)
    ids = parse(built_site.html / "references.html").ids
    assert targets, f"{doc} cites nothing"
    assert set(targets) <= ids, f"{doc}: citations without an entry {set(targets) - ids}"


# --------------------------------------------------------------------------- chapters


@pytest.mark.parametrize("doc", CHAPTERS)
def test_chapter_has_exercises_and_hidden_solutions(built_site, doc: str) -> None:
    page = parse(built_site.html / f"{doc}.html")
    exercises = page.has_class("exercise", "admonition")
    solutions = page.has_class("solution", "admonition")
    assert exercises >= 3, f"{doc}: {exercises} exercise admonitions"
    assert solutions >= exercises, f"{doc}: {solutions} solutions for {exercises} exercises"
    assert page.has_class("solution", "dropdown") == solutions, f"{doc}: a solution is not folded"


@pytest.mark.parametrize("doc", CHAPTERS)
def test_chapter_offers_its_notebook(built_site, doc: str) -> None:
    html = (built_site.html / f"{doc}.html").read_text(encoding="utf-8")
    name = Path(doc).name
    assert f'href="../_sources/{doc}.ipynb"' in html
    notebook = json.loads((built_site.html / "_sources" / f"{doc}.ipynb").read_text("utf-8"))
    assert notebook["cells"], f"{name}.ipynb offered for download is empty"


@pytest.mark.parametrize("doc", CHAPTERS)
def test_chapter_numbers_its_equations(built_site, doc: str) -> None:
    page = parse(built_site.html / f"{doc}.html")
    numbered = [i for i in page.ids if i.startswith("equation-")]
    assert numbered, f"{doc} has no labelled (numbered) equation"
    assert page.has_class("eqno") >= len(numbered)


# --------------------------------------------------------------------------- math, offline


@pytest.mark.parametrize("doc", DOCS)
def test_math_uses_the_local_mathjax(built_site, doc: str) -> None:
    path = built_site.html / f"{doc}.html"
    page = parse(path)
    has_math = page.has_class("math") > 0
    mathjax = [s for s in page.scripts if "mathjax" in s.lower() or "tex-" in s]
    if has_math:
        assert mathjax, f"{doc} has math but loads no MathJax"
    for src in mathjax:
        assert "://" not in src and not src.startswith("//"), f"{doc}: MathJax from {src}"
        assert src.split("?")[0].endswith(MATHJAX)
        assert (path.parent / src.split("?")[0]).is_file(), f"{doc}: {src} is not in the site"


def test_mathjax_is_shipped(built_site) -> None:
    assert (built_site.html / MATHJAX).is_file()
    fonts = list((built_site.html / "_static" / "mathjax").rglob("*.woff"))
    assert fonts, "MathJax fonts are missing from _static/mathjax"


@pytest.mark.parametrize("doc", [*DOCS, "search"])
def test_page_loads_nothing_from_other_hosts(built_site, doc: str) -> None:
    page = parse(built_site.html / f"{doc}.html")
    external = [s for s in page.scripts if "://" in s or s.startswith("//")]
    external += [
        href
        for rel, href in page.links
        if rel.split()[0:1] != ["canonical"] and ("://" in href or href.startswith("//"))
    ]
    external += [s for s in page.images if "://" in s or s.startswith("//")]
    assert external == [], f"{doc} loads {external}"


def test_favicon_is_declared_and_shipped(built_site) -> None:
    page = parse(built_site.html / f"{DOCS[0]}.html")
    icons = [href for rel, href in page.links if "icon" in rel.split()]
    assert icons, "no <link rel=icon>: browsers then ask for /favicon.ico and get a 404"
    assert (built_site.html / icons[0].split("?")[0]).is_file()
    # For pages without that link (the forwarding index.html) and anything else.
    assert (built_site.html / "favicon.ico").is_file(), "no /favicon.ico at the site's root"


# --------------------------------------------------------------------------- figures


def test_figures_are_opaque(built_site) -> None:
    """A transparent figure shows black text on the dark theme's dark background."""
    from PIL import Image

    figures = list((built_site.html / "_images").glob("*.png"))
    assert figures, "the book has no figures"
    transparent = []
    for png in figures:
        with Image.open(png) as image:
            rgba = image.convert("RGBA")
            w, h = rgba.size
            corners = [
                rgba.getpixel(xy)[3] for xy in [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)]
            ]
        if min(corners) < 255:
            transparent.append(png.name)
    assert transparent == [], f"figures with a transparent background: {transparent}"


# --------------------------------------------------------------------------- as readers see it


def _search_index(built_site) -> dict:
    text = (built_site.html / "searchindex.js").read_text(encoding="utf-8")
    prefix = "Search.setIndex("
    assert text.startswith(prefix) and text.rstrip().endswith(")")
    return json.loads(text[len(prefix) : text.rstrip().rindex(")")])


def test_search_index_titles_show_no_tex(built_site) -> None:
    """Search results list page and section titles: math in them reads as text (1/√N)."""
    index = _search_index(built_site)
    titles = [*index["titles"], *index["alltitles"]]
    with_tex = [t for t in titles if "\\" in t]
    assert with_tex == [], f"search index titles with TeX: {with_tex}"
    plain = [t for t in index["alltitles"] if "√" in t]
    assert plain, "no section title with math in the index: the check above proves nothing"


@pytest.mark.parametrize("doc", [*DOCS, "search", "genindex"])
def test_page_has_a_description(built_site, doc: str) -> None:
    html = (built_site.html / f"{doc}.html").read_text(encoding="utf-8")
    found = re.findall(r'<meta name="description" content="([^"]*)"', html)
    assert len(found) == 1, f"{doc}: {len(found)} <meta name=description>"
    words = found[0].split()
    assert len(words) >= 6, f"{doc}: description {found[0]!r}"
    assert "\\" not in found[0], f"{doc}: TeX in the description {found[0]!r}"
    assert len(found[0]) <= 160, f"{doc}: description of {len(found[0])} characters"


@pytest.mark.parametrize("doc", [*DOCS, "search", "genindex"])
def test_no_id_is_used_twice(built_site, doc: str) -> None:
    ids = re.findall(r'\sid="([^"]+)"', (built_site.html / f"{doc}.html").read_text("utf-8"))
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    assert repeated == [], f"{doc}: ids used more than once (invalid HTML): {repeated}"


def _bibliography_labels(built_site) -> dict[str, str]:
    """Entry id -> its label as the references page shows it, brackets removed."""
    html = (built_site.html / "references.html").read_text(encoding="utf-8")
    entries = re.findall(
        r'<div class="citation" id="([^"]+)" role="doc-biblioentry">\s*'
        r'<span class="label"><span class="fn-bracket">\[</span>(.*?)<span class="fn-bracket">',
        html,
        flags=re.DOTALL,
    )
    return {entry: re.sub(r"<[^>]+>", "", label).strip() for entry, label in entries}


def test_bibliography_labels_are_the_citations_text(built_site) -> None:
    """A citation reads "Cover and Thomas, 2006"; the entry it links to is labelled so too."""
    labels = _bibliography_labels(built_site)
    assert labels, "no bibliography entries found on references.html"
    assert all(not label.isdigit() for label in labels.values()), labels
    checked, wrong = 0, []
    for doc in DOCS:
        html = (built_site.html / f"{doc}.html").read_text(encoding="utf-8")
        for entry, text in re.findall(
            r'<a class="reference internal" href="(?:\.\./)?references\.html#([^"]+)"[^>]*>'
            r"(.*?)</a>",
            html,
            flags=re.DOTALL,
        ):
            text = re.sub(r"<[^>]+>", "", text).strip()
            if re.search(r", \d{4}[a-z]?$", text):  # a parenthetical (author, year) citation
                checked += 1
                if labels.get(entry) != text:
                    wrong.append(f"{doc}: cites {text!r}, the entry says {labels.get(entry)!r}")
            elif re.fullmatch(r"\d{4}[a-z]?", text):  # the year of a textual citation
                checked += 1
                if not labels.get(entry, "").endswith(f", {text}"):
                    wrong.append(f"{doc}: cites year {text!r}, entry {labels.get(entry)!r}")
    assert checked >= 10, f"only {checked} citations found"
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize("doc", CHAPTERS)
def test_solution_titles_link_without_a_leading_space(built_site, doc: str) -> None:
    html = (built_site.html / f"{doc}.html").read_text(encoding="utf-8")
    titles = re.findall(r'Solution to\s*<a class="reference internal"[^>]*>(.*?)</a>', html)
    assert titles, f"{doc}: no 'Solution to Exercise ...' title"
    spaced = [t for t in titles if t[:1].isspace()]
    assert spaced == [], f"{doc}: solution links that begin with a space: {spaced}"


#: Inline math followed by punctuation outside the klbook-nowrap span that keeps them together.
_LOOSE_PUNCTUATION = re.compile(r"\\\)</span>([.,;:!?)\]’”]+)(?![.,;:!?)\]’”]|</span>)")


@pytest.mark.parametrize("doc", DOCS)
def test_punctuation_after_inline_math_stays_with_it(built_site, doc: str) -> None:
    html = (built_site.html / f"{doc}.html").read_text(encoding="utf-8")
    loose = [html[max(0, m.start() - 60) : m.end()] for m in _LOOSE_PUNCTUATION.finditer(html)]
    assert loose == [], f"{doc}: punctuation that can wrap alone after math: {loose[:5]}"
    if doc in CHAPTERS:
        assert 'class="klbook-nowrap"' in html, f"{doc}: no math with punctuation kept"


def test_footer_names_the_books_author(built_site) -> None:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    html = (built_site.html / f"{DOCS[0]}.html").read_text(encoding="utf-8")
    footer = html[html.index("<footer") :]
    assert config["author"] in footer
    assert config["author"] != "The KL book authors", "the old placeholder author line"
