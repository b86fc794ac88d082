"""The built site in a real browser: headless Chromium driven by Playwright.

One strict build (the ``built_site`` fixture of conftest.py), one local HTTP
server and one browser serve the whole module. Every page of ``_toc.yml`` is
visited once (``visits``) with every console message and request recorded;
most tests then only read those records.

Where Playwright or Chromium is missing the tests are skipped with the
reason, unless ``KLBOOK_REQUIRE_BROWSER=1`` (set by ``.ci/run``): then they
fail, so CI can never pass by skipping.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # No host name resolves except the local server's: nothing can leave the machine.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
DESKTOP = {"width": 1280, "height": 800}
#: Pages the ``visits`` fixture loads side by side (the machine has two cores).
VISITS_AT_ONCE = 2
PHONE = {"width": 390, "height": 844}


def toc_pages() -> list[str]:
    """Every page of ``_toc.yml`` in reading order, as HTML paths relative to the site."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    walk(toc.get("chapters", []))
    return [f"{Path(f).with_suffix('')}.html" for f in files]


PAGES = toc_pages()
CHAPTER_PAGES = [p for p in PAGES if p.startswith("chapters/")]
#: Pages that are not in the table of contents but that every reader meets.
EXTRA_PAGES = ["index.html", "search.html", "genindex.html"]
#: index.html only forwards the reader to the landing page.
REDIRECTS = {"index.html": PAGES[0]}


# --------------------------------------------------------------------------- fixtures


def _chromium_path() -> str | None:
    """The Chromium to drive: $KLBOOK_CHROMIUM if set, else Debian's, else one on PATH."""
    chosen = os.environ.get("KLBOOK_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).is_file() else None
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("KLBOOK_REQUIRE_BROWSER") == "1":
        pytest.fail(f"KLBOOK_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


class _LoggingHandler(SimpleHTTPRequestHandler):
    """Serve the site quietly, keeping (path, status) of every request in ``served``."""

    served: list[tuple[str, int]]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.served.append((self.path, int(code) if str(code).isdigit() else 0))

    def handle(self) -> None:
        # The browser may drop a connection it no longer needs; that is not an error.
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture(scope="session")
def site_html(built_site) -> Path:
    index = built_site.html / PAGES[0]
    if not index.is_file():
        pytest.fail(f"the book did not build (no {index}); log tail:\n{built_site.log[-3000:]}")
    return built_site.html


@pytest.fixture(scope="session")
def served() -> list[tuple[str, int]]:
    """Every request the site's server answered, as (path, HTTP status)."""
    return []


@pytest.fixture(scope="session")
def base_url(site_html: Path, served: list) -> Iterator[str]:
    """A threaded HTTP server for the built site on a free port of 127.0.0.1."""
    handler_class = type("Handler", (_LoggingHandler,), {"served": served})
    handler = functools.partial(handler_class, directory=str(site_html))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the session (skips, or fails under CI, if unavailable)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("Playwright for Python is not installed (pip install playwright)")
    executable = _chromium_path()
    if executable is None:
        _skip_or_fail(
            "Chromium is not installed (apt-get install chromium)"
            + (
                f"; KLBOOK_CHROMIUM={os.environ['KLBOOK_CHROMIUM']} is not a file"
                if os.environ.get("KLBOOK_CHROMIUM")
                else ""
            )
        )
    # Playwright gives each launch a fresh temporary profile, never the user's own.
    with sync_playwright() as pw:
        try:
            launched = pw.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS
            )
        except Exception as exc:  # the binary exists but cannot start here
            _skip_or_fail(f"Chromium at {executable} did not start: {exc}")
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Recorder:
    """Every request one browser context made, and those that went to another host."""

    host: str
    external: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def is_external(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in {"data", "blob", "about"}:
            return False
        return parts.netloc != self.host


@pytest.fixture(scope="session")
def new_context(browser, base_url: str):
    """Make fresh browser contexts (own storage) that record every request they make.

    Nothing is intercepted: with Playwright routing on, Chromium stops asking for
    /favicon.ico, and a missing icon is exactly the kind of fault these tests must
    see. Requests to other hosts are recorded here and cannot leave the machine
    anyway: the browser resolves no host name but 127.0.0.1 (see CHROMIUM_ARGS).
    """
    made = []
    host = urlsplit(base_url).netloc

    def make(*, without_math: bool = False, **options) -> tuple[object, Recorder]:
        recorder = Recorder(host)
        context = browser.new_context(base_url=base_url, **options)
        if without_math:
            # For tests of clicks and links only: typesetting a chapter's few hundred
            # formulas takes seconds of a 2-core machine and has nothing to do with them.
            # (Every page is checked with MathJax by the `visits` fixture.)
            context.route("**/mathjax/**", lambda route: route.abort())

        def record(request) -> None:
            recorder.requests.append(request.url)
            if recorder.is_external(request.url):
                recorder.external.append(request.url)

        context.on("request", record)
        made.append(context)
        return context, recorder

    yield make
    for context in made:
        context.close()


@dataclass
class Visit:
    """What one page load showed and asked for."""

    url: str
    final_url: str = ""
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    math_elements: int = 0
    untypeset_math: int = 0
    mjx_containers: int = 0
    raw_tex: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    #: How far the page scrolls sideways at desktop and at phone width (0: not at all).
    desktop_overflow: int = 0
    phone_overflow: int = 0
    #: Screenshots taken at desktop, then phone width during the visit (SCREENSHOT_PAGES).
    screenshots: list[Path] = field(default_factory=list)
    #: Links and anchors read from the page (see _INSPECT), as paths relative to the site.
    links: dict = field(default_factory=dict)


_WAIT_FOR_MATH = """async () => {
    if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
        await window.MathJax.startup.promise;
    }
}"""

_OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"

_INSPECT = r"""async () => {
    const hrefs = selector => Array.from(document.querySelectorAll(selector)).map(a => a.href);
    const imgs = Array.from(document.images);
    for (const img of imgs) { img.loading = "eager"; }
    await Promise.all(imgs.map(img => img.decode().catch(() => null)));
    const math = Array.from(document.querySelectorAll(".math"));
    const text = document.body.cloneNode(true);
    text.querySelectorAll("pre, code, script, style, mjx-container, .highlight, textarea")
        .forEach(el => el.remove());
    const visible = text.textContent;
    const raw = [];
    for (const token of ["$$", "\\[", "\\(", "\\begin{", "\\frac", "\\mathrm"]) {
        const at = visible.indexOf(token);
        if (at >= 0) { raw.push(visible.slice(Math.max(0, at - 40), at + 40)); }
    }
    return {
        math_elements: math.length,
        untypeset_math: math.filter(el => !el.querySelector("mjx-container")).length,
        mjx_containers: document.querySelectorAll("mjx-container").length,
        raw_tex: raw,
        images: imgs.map(img => ({
            src: img.currentSrc || img.src,
            alt: img.getAttribute("alt"),
            natural_width: img.naturalWidth,
            in_article: !!img.closest("article"),
        })),
        prev: hrefs(".prev-next-area a.left-prev")[0] || null,
        next: hrefs(".prev-next-area a.right-next")[0] || null,
        citations: hrefs("article a[href*='references.html#']"),
        bibliography: Array.from(document.querySelectorAll("[role='doc-biblioentry']"))
            .map(el => el.id),
        equation_refs: Array.from(
            document.querySelectorAll("article a.reference.internal[href*='#equation-']")
        ).map(a => [a.href, a.textContent.trim()]),
        equations: Object.fromEntries(
            Array.from(document.querySelectorAll("[id^='equation-']"))
                .map(el => [el.id, (el.querySelector(".eqno") || el).textContent.trim()])
        ),
        downloads: hrefs(".dropdown-download-buttons a"),
        dropdown_solutions: document.querySelectorAll(".solution.dropdown").length,
    };
}"""


def _screenshot_chapter() -> str:
    """The first chapter with a figure (the most telling page to look at)."""
    for path in CHAPTER_PAGES:
        notebook = (ROOT / path).with_suffix(".ipynb")
        if notebook.is_file() and '"image/png"' in notebook.read_text(encoding="utf-8"):
            return path
    return CHAPTER_PAGES[0]


#: Pages photographed for people to look at, by the name of their screenshots.
SCREENSHOT_PAGES = {PAGES[0]: "landing", _screenshot_chapter(): "chapter"}


def _take_screenshots(page, name: str, device: str) -> list[Path]:
    """The page as first seen, then its first figure with the text around it, or its
    whole length if it has no figure; written to _build/screenshots."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    first = SCREENSHOTS / f"{name}-{device}.png"
    page.screenshot(path=first)
    figure = page.locator("article .cell_output img").first
    if figure.count():
        figure.evaluate("img => img.scrollIntoView({block: 'center'})")
        second = SCREENSHOTS / f"{name}-figure-{device}.png"
        page.screenshot(path=second)
        page.evaluate("window.scrollTo(0, 0)")
    else:
        second = SCREENSHOTS / f"{name}-{device}-full.png"
        page.screenshot(path=second, full_page=True)
    return [first, second]


def _open(context, path: str) -> tuple[object, Visit]:
    """Start loading ``path`` in a new page, recording what goes wrong; do not wait."""
    visit = Visit(path)
    page = context.new_page()
    page.on(
        "console",
        lambda msg: visit.console_errors.append(msg.text) if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: visit.console_errors.append(f"uncaught: {exc}"))
    page.on(
        "requestfailed",
        lambda req: visit.failed_requests.append(f"{req.url}: {req.failure}"),
    )
    page.on(
        "response",
        lambda resp: (
            visit.failed_requests.append(f"{resp.url}: HTTP {resp.status}")
            if resp.status >= 400
            else None
        ),
    )
    page.goto(path, wait_until="commit")
    return page, visit


def _inspect(page, visit: Visit, recorder: Recorder) -> Visit:
    """Wait until the page opened by ``_open`` is loaded and typeset, then read it."""
    path = visit.url
    page.wait_for_load_state("load")
    if path in REDIRECTS:
        page.wait_for_url(f"**/{REDIRECTS[path]}", wait_until="load")
    page.evaluate(_WAIT_FOR_MATH)
    page.wait_for_load_state("networkidle")
    found = page.evaluate(_INSPECT)
    visit.desktop_overflow = page.evaluate(_OVERFLOW)
    if path in SCREENSHOT_PAGES:
        visit.screenshots = _take_screenshots(page, SCREENSHOT_PAGES[path], "desktop")
    # The same page on a phone: nothing may make the whole page scroll sideways.
    page.set_viewport_size(PHONE)
    visit.phone_overflow = page.evaluate(_OVERFLOW)
    if path in SCREENSHOT_PAGES:
        visit.screenshots += _take_screenshots(page, SCREENSHOT_PAGES[path], "phone")
    visit.final_url = page.url
    visit.math_elements = found["math_elements"]
    visit.untypeset_math = found["untypeset_math"]
    visit.mjx_containers = found["mjx_containers"]
    visit.raw_tex = found["raw_tex"]
    visit.images = found["images"]
    visit.links = {
        key: found[key]
        for key in [
            "prev",
            "next",
            "citations",
            "bibliography",
            "equation_refs",
            "equations",
            "downloads",
            "dropdown_solutions",
        ]
    }
    visit.external_requests = recorder.external
    page.close()
    return visit


@pytest.fixture(scope="session")
def visits(new_context) -> dict[str, Visit]:
    """Load every page once, at desktop width, and keep what happened.

    Pages load ``VISITS_AT_ONCE`` at a time: while one typesets its math the
    other core can lay out the next, and the waits for the network to fall
    quiet overlap.
    """
    found = {}
    paths = [*PAGES, *EXTRA_PAGES]
    for start in range(0, len(paths), VISITS_AT_ONCE):
        opened = []
        for path in paths[start : start + VISITS_AT_ONCE]:
            # A fresh context per page: a first-time reader, with nothing in localStorage.
            context, recorder = new_context(viewport=DESKTOP)
            opened.append((*_open(context, path), recorder))
        for page, visit, recorder in opened:
            found[visit.url] = _inspect(page, visit, recorder)
    return found


@pytest.fixture()
def page(new_context):
    """A fresh page at desktop width that skips typesetting (see ``new_context``)."""
    context, _ = new_context(viewport=DESKTOP, without_math=True)
    page = context.new_page()
    yield page
    context.close()


def test_missing_browser_skips_or_fails_under_ci(monkeypatch) -> None:
    monkeypatch.delenv("KLBOOK_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Chromium"):
        _skip_or_fail("no Chromium")
    monkeypatch.setenv("KLBOOK_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="KLBOOK_REQUIRE_BROWSER=1 but no Chromium"):
        _skip_or_fail("no Chromium")


# --------------------------------------------------------------------------- every page


@pytest.mark.parametrize("path", [*PAGES, *EXTRA_PAGES])
def test_page_loads_without_console_errors_or_failed_requests(visits, path: str) -> None:
    visit = visits[path]
    assert visit.console_errors == [], f"{path}: console errors {visit.console_errors}"
    assert visit.failed_requests == [], f"{path}: failed requests {visit.failed_requests}"


def test_no_request_leaves_localhost(visits) -> None:
    external = {path: v.external_requests for path, v in visits.items() if v.external_requests}
    assert external == {}, f"requests to other hosts: {external}"


def test_other_hosts_are_unreachable_and_recorded(new_context) -> None:
    """The guard behind the test above: a request elsewhere fails, and is on record."""
    context, recorder = new_context()
    page = context.new_page()
    with pytest.raises(Exception, match="ERR_NAME_NOT_RESOLVED"):
        page.goto("http://example.org/", timeout=10_000)
    assert recorder.external == ["http://example.org/"]
    context.close()


def test_server_answered_every_request(visits, served) -> None:
    """Also what the browser asks for on its own, such as /favicon.ico after the load event."""
    time.sleep(1)  # let a last late request arrive
    errors = sorted({(path, status) for path, status in served if status >= 400})
    assert errors == [], f"the site answered with errors: {errors}"
    assert len(served) > len(visits)


def test_index_redirects_to_the_landing_page(visits) -> None:
    assert visits["index.html"].final_url.endswith("/intro.html")


@pytest.mark.parametrize("path", PAGES)
def test_math_is_typeset(visits, path: str) -> None:
    visit = visits[path]
    assert visit.untypeset_math == 0, (
        f"{path}: {visit.untypeset_math} of {visit.math_elements} math elements not typeset"
    )
    if visit.math_elements:
        assert visit.mjx_containers >= visit.math_elements
    assert visit.raw_tex == [], f"{path}: raw TeX left in the visible text: {visit.raw_tex}"


@pytest.mark.parametrize("path", PAGES)
def test_page_fits_a_desktop_and_a_phone_screen(visits, path: str) -> None:
    """Wide equations, code and tables scroll in their own boxes, not the whole page."""
    for overflow, width in [
        (visits[path].desktop_overflow, DESKTOP["width"]),
        (visits[path].phone_overflow, PHONE["width"]),
    ]:
        assert overflow <= 1, f"{path} scrolls sideways by {overflow}px at {width}px"


def test_pages_with_math_exist(visits) -> None:
    """The math test above must not pass vacuously: the landing page has math."""
    assert visits[PAGES[0]].mjx_containers > 0
    assert sum(v.mjx_containers > 0 for v in visits.values()) >= 2


_FILE_NAME = re.compile(r"(^|/)[\w.-]+\.(png|jpe?g|gif|svg|webp)$", re.IGNORECASE)
_HASH = re.compile(r"[0-9a-f]{16,}", re.IGNORECASE)
_PLACEHOLDER = {"image", "figure", "plot", "png", "output", "graph", "chart", "img"}


def alt_text_problem(alt: str | None) -> str | None:
    """Why an image's alt text does not describe it, or None if it may."""
    if alt is None or not alt.strip():
        return "no alt text"
    text = alt.strip()
    if _FILE_NAME.search(text) or _HASH.search(text):
        return f"alt text is a file name or hash: {text!r}"
    if text.lower().strip(".") in _PLACEHOLDER or len(text.split()) < 3:
        return f"alt text says nothing: {text!r}"
    return None


@pytest.mark.parametrize(
    ("alt", "bad"),
    [
        (None, True),
        ("  ", True),
        ("../_images/24305c4ad30d0ddc6a944bbe88e3d9379d3923982e43727a3fc8f7e36149a36f.png", True),
        ("figure_1.png", True),
        ("Figure", True),
        ("A plot", True),
        ("Log-likelihood ratio against the number of flips, one line per sequence.", False),
    ],
)
def test_alt_text_rule(alt: str | None, bad: bool) -> None:
    assert (alt_text_problem(alt) is not None) is bad


@pytest.mark.parametrize("path", PAGES)
def test_images_load_and_have_alt_text(visits, path: str) -> None:
    problems = []
    for image in visits[path].images:
        if image["natural_width"] <= 0:
            problems.append(f"{image['src']} did not load")
        reason = alt_text_problem(image["alt"])
        if reason:
            problems.append(f"{image['src']}: {reason}")
    assert problems == [], f"{path}: {problems}"


def test_chapters_have_figures(visits) -> None:
    """The image test must not pass vacuously: the book shows figures."""
    assert any(img["in_article"] for p in CHAPTER_PAGES for img in visits[p].images)


# --------------------------------------------------------------------------- reader features


def _site_path(url: str | None) -> str | None:
    """``http://127.0.0.1:port/chapters/x.html#frag`` -> ``chapters/x.html#frag``."""
    if url is None:
        return None
    parts = urlsplit(url)
    return parts.path.lstrip("/") + (f"#{parts.fragment}" if parts.fragment else "")


def test_solution_is_hidden_until_clicked(visits, page) -> None:
    with_solutions = [p for p in CHAPTER_PAGES if visits[p].links["dropdown_solutions"]]
    assert with_solutions, "no chapter has a dropdown solution"
    path = with_solutions[0]
    page.goto(path)
    solution = page.locator(".solution.dropdown").first
    body = solution.locator(":scope > :not(.admonition-title)").first
    button = solution.locator(".admonition-title button.toggle-button")
    button.wait_for(state="attached")
    assert body.count() == 1
    assert not body.is_visible(), f"{path}: the solution shows before any click"
    assert button.get_attribute("aria-expanded") == "false"
    button.click()
    body.wait_for(state="visible", timeout=5000)
    assert button.get_attribute("aria-expanded") == "true"
    # And it folds away again.
    button.click()
    body.wait_for(state="hidden", timeout=5000)


@pytest.mark.parametrize("path", CHAPTER_PAGES)
def test_every_chapter_hides_its_solutions(visits, path: str) -> None:
    assert visits[path].links["dropdown_solutions"] >= 3, f"{path}: fewer than 3 solutions"


def test_search_finds_cross_entropy(page) -> None:
    page.goto("search.html?q=cross-entropy")
    results = page.locator("#search-results ul.search li")
    results.first.wait_for(state="attached", timeout=15000)
    hrefs = [a.get_attribute("href") for a in page.locator("#search-results ul.search li a").all()]
    assert results.count() >= 1
    assert any("04_cross_entropy" in (h or "") for h in hrefs), hrefs


@pytest.mark.parametrize("path", CHAPTER_PAGES)
def test_chapter_offers_its_notebook(visits, page, path: str) -> None:
    expected = Path(path).with_suffix(".ipynb").name
    links = [u for u in visits[path].links["downloads"] if u.endswith(".ipynb")]
    assert len(links) == 1, f"{path}: .ipynb download links {links}"
    assert Path(urlsplit(links[0]).path).name == expected
    response = page.request.get(links[0])
    assert response.status == 200, f"{links[0]}: HTTP {response.status}"
    notebook = json.loads(response.body())
    assert notebook["nbformat"] == 4 and notebook["cells"]


def test_download_menu_shows_the_notebook(page) -> None:
    """The reader's way to it: open the download menu, see the .ipynb entry."""
    path = CHAPTER_PAGES[0]
    page.goto(path)
    link = page.locator(".dropdown-download-buttons a[href$='.ipynb']")
    assert not link.is_visible()
    page.locator(".dropdown-download-buttons button.dropdown-toggle").click()
    link.wait_for(state="visible", timeout=5000)
    assert link.inner_text().strip() == ".ipynb"


def test_next_and_previous_follow_the_table_of_contents(visits, page) -> None:
    for before, after in pairwise(PAGES):
        assert _site_path(visits[before].links["next"]) == after, f"next of {before}"
        assert _site_path(visits[after].links["prev"]) == before, f"previous of {after}"
    assert visits[PAGES[0]].links["prev"] is None
    assert visits[PAGES[-1]].links["next"] is None
    # And a reader's click does follow it (between the two last, lightest pages).
    before, after = PAGES[-2:]
    page.goto(before)
    page.locator(".prev-next-area a.right-next").click()
    page.wait_for_url(f"**/{after}")
    page.locator(".prev-next-area a.left-prev").click()
    page.wait_for_url(f"**/{before}")


def test_citations_link_to_the_references_page(visits, page) -> None:
    """Citations on chapters point to references.html#<id>, and each entry exists there."""
    entries = set(visits["references.html"].links["bibliography"])
    assert entries, "the references page lists no entries"
    cited = {p: visits[p].links["citations"] for p in CHAPTER_PAGES if visits[p].links["citations"]}
    assert cited, "no chapter cites a reference"
    for path, urls in cited.items():
        for url in urls:
            target = _site_path(url)
            page_part, _, fragment = target.partition("#")
            assert page_part == "references.html", f"{path}: citation {url}"
            assert fragment in entries, f"{path}: citation {url} has no entry"
    # A reader clicks one and lands on the entry.
    path, urls = next(iter(cited.items()))
    page.goto(path)
    page.locator(f"article a[href*='references.html#{urlsplit(urls[0]).fragment}']").first.click()
    page.wait_for_url("**/references.html#*")
    entry = page.locator(f"[id='{urlsplit(page.url).fragment}']")
    assert entry.get_attribute("role") == "doc-biblioentry"
    assert entry.is_visible()


def test_equation_references_resolve(visits) -> None:
    """Chapters refer to numbered equations with {eq}; each link lands on that number."""
    checked = 0
    for path in CHAPTER_PAGES:
        for url, number in visits[path].links["equation_refs"]:
            target = _site_path(url)
            page_part, _, fragment = target.partition("#")
            assert page_part in visits, f"{path}: {url} leaves the book"
            equations = visits[page_part].links["equations"]
            assert fragment in equations, f"{path}: {url} has no equation"
            assert re.fullmatch(r"\(\d+(\.\d+)*\)", number), f"{path}: {number!r} for {url}"
            assert equations[fragment].startswith(number), (
                f"{path}: link says {number}, equation says {equations[fragment]}"
            )
            checked += 1
    assert checked >= 1, "no chapter refers to a numbered equation with {eq}"


def test_figures_are_opaque_in_dark_mode(new_context) -> None:
    """In the dark theme a figure keeps its white background, so its text stays readable."""
    context, _ = new_context(viewport=DESKTOP, color_scheme="dark", without_math=True)
    page = context.new_page()
    for path in CHAPTER_PAGES:
        page.goto(path)
        figure = page.locator("article .cell_output img").first
        if figure.count():
            break
    else:
        pytest.fail("no chapter shows a figure")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    figure.evaluate("img => img.scrollIntoView({block: 'center'})")
    corners = figure.evaluate(
        """img => {
            const c = document.createElement("canvas");
            c.width = img.naturalWidth; c.height = img.naturalHeight;
            const g = c.getContext("2d");
            g.drawImage(img, 0, 0);
            const w = c.width - 1, h = c.height - 1;
            const alpha = ([x, y]) => g.getImageData(x, y, 1, 1).data[3];
            return [[0, 0], [w, 0], [0, h], [w, h]].map(alpha);
        }"""
    )
    assert corners == [255, 255, 255, 255], f"{path}: figure corners are transparent"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "chapter-figure-dark.png")
    page.close()


# --------------------------------------------------------------------------- screenshots


def test_screenshots(visits) -> None:
    """Taken during the visits above at desktop and at phone width, for people to look at.

    The phone shots are of the same typeset page narrowed to a phone's width, which
    is what the phone layout test checks too; emulating a phone's pixel density
    would cost a second typesetting of every photographed page.
    """
    shots = [shot for path in SCREENSHOT_PAGES for shot in visits[path].screenshots]
    assert len(shots) == 4 * len(SCREENSHOT_PAGES)
    assert {shot.name.rsplit("-", 1)[-1] for shot in shots} >= {"desktop.png", "phone.png"}
    for shot in shots:
        assert shot.stat().st_size > 10_000, f"{shot.name} is nearly empty"
