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
    #: What _LAYOUT found with every solution open, by state ("desktop-light",
    #: "phone-light", "phone-dark").
    layout: dict = field(default_factory=dict)


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
    // Any other TeX command left in the text (\texttt in a bibliography entry, say).
    const command = /\\[A-Za-z]+/.exec(visible);
    if (command && !raw.length) {
        raw.push(visible.slice(Math.max(0, command.index - 40), command.index + 40));
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


#: Opens every folded solution (sphinx-togglebutton hides them) so they are measured too.
_OPEN_SOLUTIONS = """() => {
    document.querySelectorAll(".toggle-hidden").forEach(el => el.classList.remove("toggle-hidden"));
}"""

#: Everything the layout tests look at, in the page's current width and theme. Each fault is
#: reported with where it is (the section and exercise or solution) and by how many px.
_LAYOUT = r"""({contrast}) => {
    const vw = document.documentElement.clientWidth;
    const article = document.querySelector("article") || document.body;
    const clean = text => (text || "").replace(/[#¶]/g, "").replace(/\s+/g, " ").trim();
    const where = el => {
        const parts = [];
        const box = el.closest(".admonition");
        if (box) {
            const title = box.querySelector(".admonition-title");
            if (title) parts.push(clean(title.textContent).slice(0, 50));
        }
        const section = el.closest("section");
        if (section) {
            const heading = section.querySelector(":scope > :is(h1, h2, h3, h4, h5)");
            if (heading) parts.push("section '" + clean(heading.textContent).slice(0, 60) + "'");
        }
        return parts.reverse().join(", ") || el.tagName.toLowerCase();
    };
    const mathText = el => {
        const span = el.closest(".math");
        return clean(span && span.dataset.text ? span.dataset.text : el.textContent).slice(0, 60);
    };
    const visible = el => el.checkVisibility({visibilityProperty: true, opacityProperty: true});

    // Display equations: the typeset box, its own width and the width of what it holds.
    const equations = [];
    let displayCount = 0;
    for (const box of document.querySelectorAll("mjx-container[display='true']")) {
        if (!visible(box)) continue;
        displayCount += 1;
        // What the formula needs, even where a box clips it instead of scrolling.
        const formula = box.querySelector(":scope > mjx-math");
        const needs = Math.max(
            box.scrollWidth, formula ? Math.round(formula.getBoundingClientRect().width) : 0);
        const over = needs - box.clientWidth;
        if (over <= 0) continue;
        const div = box.closest("div.math");
        const eqno = div && div.querySelector(".eqno");
        const style = getComputedStyle(box);
        const mask = style.maskImage || style.webkitMaskImage || "none";
        equations.push({
            where: where(box),
            what: (eqno ? clean(eqno.textContent) + " " : "") + mathText(div || box),
            over,
            // It scrolls (not clipped), and shows that it does: a fade or a drawn scrollbar.
            cue: ["auto", "scroll"].includes(style.overflowX) && (
                (mask !== "none" && style.animationName === "klbook-scroll-fade")
                || box.offsetHeight - box.clientHeight > 0),
        });
    }

    // Elements that stick out of the viewport, other than inside a box that scrolls.
    const tooWide = [];
    const walk = el => {
        for (const child of el.children) {
            const tag = child.tagName.toLowerCase();
            if (["script", "style", "svg"].includes(tag)) continue;
            const style = getComputedStyle(child);
            // A fixed box (the phone's off-screen sidebar) never widens the page; a hidden
            // one does (a caption's permalink, say), so it is measured too.
            if (style.display === "none" || style.position === "fixed") continue;
            {
                const r = child.getBoundingClientRect();
                if (r.width > 0 && (r.right > vw + 1 || r.left < -1)) {
                    tooWide.push({
                        where: where(child),
                        what: tag + (typeof child.className === "string" && child.className
                            ? "." + child.className.trim().split(/\s+/).join(".") : "")
                            + (tag.startsWith("mjx") ? " " + mathText(child) : ""),
                        over: Math.round(Math.max(r.right - vw, -r.left)),
                    });
                    continue;  // what it holds sticks out with it: report it once
                }
            }
            // A box that scrolls holds what is wider than itself; a formula is one box.
            if (tag === "mjx-container" || ["auto", "scroll"].includes(style.overflowX)) continue;
            walk(child);
        }
    };
    walk(document.body);
    const root = document.documentElement;
    const pageOverflow = root.scrollWidth - root.clientWidth;
    if (pageOverflow > 1 && !tooWide.length) {
        // Something the walk passes over (hidden, or placed outside the box that holds it)
        // widens the page: name the outermost such elements.
        const out = Array.from(document.querySelectorAll("body *")).filter(el => {
            const r = el.getBoundingClientRect();
            return r.width > 0 && (r.right > vw + 1 || r.left < -1);
        });
        for (const el of out.filter(el => !out.includes(el.parentElement)).slice(0, 5)) {
            const r = el.getBoundingClientRect();
            tooWide.push({
                where: where(el),
                what: `${el.tagName.toLowerCase()} "${clean(el.textContent).slice(0, 50)}"`,
                over: Math.round(Math.max(r.right - vw, -r.left)),
            });
        }
    }

    // Inline math that sticks out of its line's block.
    const inlineMath = [];
    for (const span of document.querySelectorAll("span.math")) {
        if (span.closest("div.math") || !visible(span)) continue;
        const block = span.parentElement.closest(
            "p, li, dd, dt, td, th, figcaption, h1, h2, h3, h4, h5, div");
        if (!block) continue;
        const r = span.getBoundingClientRect();
        const b = block.getBoundingClientRect();
        const over = Math.round(Math.max(r.right - b.right, b.left - r.left));
        if (over > 1) inlineMath.push({where: where(span), what: mathText(span), over});
    }

    // Code, printed output and rendered outputs wider than their box.
    const boxes = [];
    for (const el of article.querySelectorAll("pre, div.cell_output > .output")) {
        if (!visible(el)) continue;
        const over = el.scrollWidth - el.clientWidth;
        if (over > 1) {
            const kind = el.closest(".cell_input") ? "code"
                : el.closest(".cell_output") ? "output" : "code block";
            const line = clean(el.textContent).slice(0, 50);
            boxes.push({where: where(el), what: `${kind} "${line}…"`, over});
        }
    }

    // Figures: sharpness, caption, centring.
    const images = [];
    for (const img of article.querySelectorAll("img")) {
        if (!visible(img)) continue;
        const r = img.getBoundingClientRect();
        const column = (img.closest(".cell") || img.closest("figure") || img.parentElement)
            .getBoundingClientRect();
        const figure = img.closest("figure");
        const caption = figure && figure.querySelector("figcaption");
        images.push({
            where: where(img),
            src: (img.currentSrc || img.src).split("/").pop().slice(0, 16),
            natural: img.naturalWidth,
            shown: r.width,
            column: column.width,
            caption: caption ? clean(caption.textContent) : "",
            off_centre: Math.round(
                Math.abs((r.left + r.right) / 2 - (column.left + column.right) / 2)),
        });
    }

    // Link text that shows TeX (MathJax has typeset every formula by now).
    const texLinks = Array.from(document.querySelectorAll("a"))
        .filter(a => a.textContent.includes("\\"))
        .map(a => ({where: where(a), what: clean(a.textContent).slice(0, 80)}));

    // Ids used more than once.
    const seen = new Map();
    document.querySelectorAll("[id]").forEach(el => seen.set(el.id, (seen.get(el.id) || 0) + 1));
    const duplicateIds = Array.from(seen).filter(([, n]) => n > 1).map(([id, n]) => `${id} x${n}`);

    // The exercise stub's output, which reads like an error on the website.
    const stubs = Array.from(article.querySelectorAll(".cell_output"))
        .filter(el => el.textContent.includes("Not answered yet"))
        .map(el => where(el));

    // Text contrast (WCAG): text colour against the colours beneath it.
    const rgba = c => {
        const m = c.match(/^rgba?\(([^)]+)\)$/);
        if (!m) return null;
        const v = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
        return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1];
    };
    const over_ = (top, bottom) => {
        const a = top[3];
        return [0, 1, 2].map(i => top[i] * a + bottom[i] * (1 - a)).concat([1]);
    };
    const luminance = c => {
        const [r, g, b] = c.slice(0, 3).map(v => {
            v /= 255;
            return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const backgrounds = new Map();
    const background = el => {  // the opaque colour beneath el, or null if an image
        if (!el) return [255, 255, 255, 1];
        if (backgrounds.has(el)) return backgrounds.get(el);
        const s = getComputedStyle(el);
        const c = rgba(s.backgroundColor);
        let bg;
        if (s.backgroundImage !== "none" || c === null) bg = null;
        else if (c[3] >= 1) bg = c;
        else {
            const below = background(el.parentElement);
            bg = below === null ? null : c[3] > 0 ? over_(c, below) : below;
        }
        backgrounds.set(el, bg);
        return bg;
    };
    const lowContrast = [];
    let textChecked = 0;
    const withText = new Set();
    if (contrast) {
        const roots = document.querySelectorAll("article, footer, .bd-sidebar-primary");
        for (const root of roots) {
            const texts = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
            for (let n = texts.nextNode(); n; n = texts.nextNode()) {
                if (n.textContent.trim()) withText.add(n.parentElement);
            }
        }
    }
    const codeSeen = new Set();
    for (const el of withText) {
        if (el.closest("mjx-container, svg, button, .headerlink") || !visible(el)) continue;
        const pre = el.closest("pre");
        if (pre) {  // highlighted code: one token of each kind in each kind of box is enough
            const box = pre.closest(".cell_output") ? "output" : "code";
            const key = `${box} ${!!pre.closest(".admonition")} ${el.className}`;
            if (codeSeen.has(key)) continue;
            codeSeen.add(key);
        }
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        const s = getComputedStyle(el);
        const fg = rgba(s.color);
        const bg = background(el);
        if (fg === null || bg === null) continue;
        textChecked += 1;
        const text = over_(fg, bg);
        const [hi, lo] = [luminance(text), luminance(bg)].sort((a, b) => b - a);
        const ratio = (hi + 0.05) / (lo + 0.05);
        const size = parseFloat(s.fontSize);
        const large = size >= 24 || (size >= 18.66 && Number(s.fontWeight) >= 700);
        if (ratio < (large ? 3 : 4.5)) {
            const what = `${el.tagName.toLowerCase()} "${clean(el.textContent).slice(0, 40)}"`;
            lowContrast.push({where: where(el), what, ratio: Math.round(ratio * 100) / 100});
        }
    }

    return {
        theme: document.documentElement.dataset.theme,
        width: vw,
        page_overflow: pageOverflow,
        display_count: displayCount,
        equations, too_wide: tooWide.slice(0, 30), inline_math: inlineMath, boxes, images,
        tex_links: texLinks, duplicate_ids: duplicateIds, stubs,
        low_contrast: lowContrast.slice(0, 30), text_checked: textChecked,
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


def _set_scheme(page, scheme: str) -> None:
    """Switch the reader's colour scheme; the theme (default_mode auto) follows it."""
    page.emulate_media(color_scheme=scheme)
    page.wait_for_function(f"document.documentElement.dataset.theme === '{scheme}'")


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
    # The page's layout with every solution open, on a desktop and a phone, light and dark:
    # the typeset page is only re-laid out (the theme follows the reader's colour scheme).
    # Each switch of width or theme re-styles a chapter's tens of thousands of elements
    # (about a second each here), so there are two: colours are the same at any width,
    # the layout the same in either theme. No transitions: an opened solution would still
    # be fading in, and on the phone the sidebar still sliding away, when measured.
    page.add_style_tag(content="*, ::before, ::after { transition: none !important; }")
    page.evaluate(_OPEN_SOLUTIONS)
    visit.layout["desktop-light"] = page.evaluate(_LAYOUT, {"contrast": True})
    # The same page on a phone: nothing may make the whole page scroll sideways.
    page.set_viewport_size(PHONE)
    visit.phone_overflow = page.evaluate(_OVERFLOW)
    visit.layout["phone-light"] = page.evaluate(_LAYOUT, {"contrast": False})
    if path in SCREENSHOT_PAGES:
        visit.screenshots += _take_screenshots(page, SCREENSHOT_PAGES[path], "phone")
    # Dark: colours, and the layout of all but the typeset math (measured above; colours do
    # not move it), which is hidden first so that the switch does not re-style it.
    page.add_style_tag(content="mjx-container { display: none !important; }")
    _set_scheme(page, "dark")
    visit.layout["phone-dark"] = page.evaluate(_LAYOUT, {"contrast": True})
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


def _faults(path: str, state: str, items: list[dict], what: str) -> str:
    """One line per fault: the page, the width and theme, where, what and by how much."""
    lines = [f"{path} at {state.replace('-', ' px, ')}: {len(items)} {what}"]
    for item in items:
        extra = f" by {item['over']}px" if "over" in item else ""
        lines.append(f"  - {item['what']} in {item['where']}{extra}")
    return "\n".join(lines).replace("desktop px", "1280 px").replace("phone px", "390 px")


@pytest.mark.parametrize("path", PAGES)
def test_display_equations_fit_the_column_on_a_desktop(visits, path: str) -> None:
    """MathJax 3 does not break lines: a long equation is split by hand (aligned, split)."""
    found = visits[path].layout["desktop-light"]
    assert found["equations"] == [], _faults(
        path, "desktop-light", found["equations"], "display equations wider than the column"
    )


@pytest.mark.parametrize("path", PAGES)
def test_wide_equations_scroll_in_their_box_with_a_cue_on_a_phone(visits, path: str) -> None:
    without = [e for e in visits[path].layout["phone-light"]["equations"] if not e["cue"]]
    assert without == [], _faults(
        path, "phone-light", without, "equations that scroll without a visible cue"
    )


def test_equation_checks_see_equations(visits) -> None:
    """The two tests above must not pass vacuously: every chapter shows display math."""
    for path in CHAPTER_PAGES:
        assert visits[path].layout["phone-light"]["display_count"] >= 5, path


@pytest.mark.parametrize("path", [*PAGES, "search.html", "genindex.html"])
def test_nothing_is_wider_than_a_phone(visits, path: str) -> None:
    """What does not fit scrolls inside its own box (code, equations); nothing else sticks out."""
    for state in ("phone-light", "phone-dark"):
        found = visits[path].layout[state]
        assert found["too_wide"] == [], _faults(
            path, state, found["too_wide"], "elements wider than the screen"
        )
        assert found["page_overflow"] <= 1, f"{path} at {state}: the page scrolls sideways"


@pytest.mark.parametrize("path", PAGES)
def test_inline_math_stays_inside_its_paragraph(visits, path: str) -> None:
    for state in ("desktop-light", "phone-light"):
        found = visits[path].layout[state]["inline_math"]
        assert found == [], _faults(path, state, found, "inline formulas sticking out")


@pytest.mark.parametrize("path", PAGES)
def test_code_and_outputs_fit_their_boxes_on_a_desktop(visits, path: str) -> None:
    """At most 79 characters a line fit the column; nothing scrolls inside its box."""
    found = visits[path].layout["desktop-light"]["boxes"]
    assert found == [], _faults(path, "desktop-light", found, "code or output boxes too narrow")


@pytest.mark.parametrize("path", PAGES)
def test_figures_are_sharp_captioned_and_centred(visits, path: str) -> None:
    problems = []
    for image in visits[path].layout["desktop-light"]["images"]:
        name = f"figure {image['src']}… in {image['where']}"
        if image["natural"] < 2 * image["shown"] - 1:
            problems.append(
                f"{name}: {image['natural']} px wide shown at {image['shown']:.0f} CSS px "
                "(needs twice the pixels: klbook.plotting's retina PNG, then make refresh)"
            )
        if len(image["caption"].split()) < 4:
            problems.append(f"{name}: no caption (metadata.mystnb.figure.caption)")
        elif not re.match(r"Fig\. \d+\.\d+ ", image["caption"]):
            problems.append(f"{name}: caption without its number: {image['caption'][:40]!r}")
        if image["off_centre"] > 2:
            problems.append(f"{name}: {image['off_centre']} px off the column's centre")
    assert problems == [], f"{path} at 1280 px:\n  - " + "\n  - ".join(problems)


@pytest.mark.parametrize("path", CHAPTER_PAGES)
def test_figures_fill_a_phones_column(visits, path: str) -> None:
    """klbook.plotting's widest figure keeps 8 CSS px text only at the column's full width."""
    narrow = [
        f"figure {i['src']}… in {i['where']}: {i['shown']:.0f} px of a {i['column']:.0f} px column"
        for i in visits[path].layout["phone-light"]["images"]
        if i["shown"] < min(i["natural"] / 2, i["column"]) - 1
    ]
    assert narrow == [], f"{path} at 390 px:\n  - " + "\n  - ".join(narrow)


def test_figure_checks_see_figures(visits) -> None:
    shown = [i for p in CHAPTER_PAGES for i in visits[p].layout["desktop-light"]["images"]]
    assert len(shown) >= 10


@pytest.mark.parametrize("path", [*PAGES, "search.html", "genindex.html"])
def test_no_id_is_used_twice(visits, path: str) -> None:
    duplicates = visits[path].layout["desktop-light"]["duplicate_ids"]
    assert duplicates == [], f"{path}: ids used more than once (invalid HTML): {duplicates}"


@pytest.mark.parametrize("path", [*PAGES, "search.html", "genindex.html"])
def test_link_text_shows_no_tex(visits, path: str) -> None:
    found = visits[path].layout["desktop-light"]["tex_links"]
    assert found == [], _faults(path, "desktop-light", found, "links whose text shows TeX")


@pytest.mark.parametrize("path", CHAPTER_PAGES)
def test_website_hides_the_unanswered_stub_output(visits, path: str) -> None:
    found = visits[path].layout["desktop-light"]["stubs"]
    assert found == [], (
        f"{path}: 'Not answered yet' shows on the website in {found} "
        "(tag the stub cell remove-output; the student notebook keeps the output)"
    )


@pytest.mark.parametrize("path", [*PAGES, "search.html"])
def test_text_is_legible_in_light_and_dark(visits, path: str) -> None:
    """WCAG contrast of every piece of text against what is beneath it: 4.5, or 3 if large."""
    for state in ("desktop-light", "phone-dark"):
        found = visits[path].layout[state]
        assert found["theme"] == state.split("-")[1]
        least = 100 if path in CHAPTER_PAGES else 3
        assert found["text_checked"] >= least, f"{path} at {state}: contrast test saw no text"
        assert found["low_contrast"] == [], f"{path} at {state}: low contrast " + "; ".join(
            f"{c['what']} in {c['where']} ({c['ratio']}:1)" for c in found["low_contrast"]
        )


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


#: Queries, what each result's snippet must show, and a page that must be among the
#: results. "entropy" stems to "entropi", which Sphinx's own snippet code looked for,
#: missed, and showed the toolbar's text instead; "spread" is in a heading with math;
#: "Gibbs" is in text full of math.
SEARCHES = {
    "entropy": ("entrop", "chapters/04_cross_entropy.html"),
    "spread": ("spread", "chapters/03_coin_sequence_limit.html"),
    "Gibbs": ("gibbs", "chapters/02_expected_value.html"),
}
_SNIPPETS_READY = """() => {
    const items = document.querySelectorAll("#search-results ul.search li");
    return items.length > 0 && Array.from(items).every(li => li.querySelector("p.context"));
}"""


@pytest.mark.parametrize("query", SEARCHES)
def test_search_snippets_show_the_matched_word(page, query: str) -> None:
    """Each result shows the word in its sentence: not the toolbar, contents list or TeX."""
    page.goto(f"search.html?q={query}")
    page.wait_for_function(_SNIPPETS_READY, timeout=20000)
    results = page.eval_on_selector_all(
        "#search-results ul.search li",
        """items => items.map(li => [li.querySelector("a").textContent,
            li.querySelector("p.context").textContent, li.querySelector("a").href])""",
    )
    word, expected_page = SEARCHES[query]
    found = [_site_path(href).partition("#")[0] for _, _, href in results]
    assert expected_page in found, f"{query!r} does not find {expected_page}: {found}"
    problems = []
    for title, snippet, _ in results:
        if word not in snippet.lower():
            problems.append(f"{title!r}: snippet without {query!r}: {snippet[:120]!r}")
        if "\\" in snippet or "\\" in title:
            problems.append(f"{title!r}: TeX in the result: {snippet[:160]!r}")
        if re.match(r"\W*(\.(ipynb|md|pdf)|Contents)\b", snippet):
            problems.append(f"{title!r}: the toolbar's or contents' text: {snippet[:160]!r}")
    assert problems == [], f"search for {query!r}:\n  - " + "\n  - ".join(problems)


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
