r"""Site-wide fixes for the book's web pages (a local Sphinx extension).

Registered in ``_config.yml`` (``sphinx: local_extensions:`` puts this folder
on the path, ``sphinx: config: extensions:`` loads it). What it does, each
for a fault a reader saw (issue 16):

* **Punctuation stays with its math.** A full stop or comma right after
  inline math (and an opening bracket right before it) is wrapped with the
  math in ``<span class="klbook-nowrap">``, which ``_static/klbook.css``
  keeps on one line: MathJax's output is an atomic box, and browsers break
  the line between it and the punctuation.
* **Link text never shows LaTeX.** A ``{ref}`` to a heading takes the
  heading's plain text, so the math in it showed as its TeX source
  (``1/\sqrt{N}``). The link now holds the heading's own math nodes, which
  MathJax typesets; the search index's section titles get a plain-text form
  (:func:`tex_to_text`, ``1/√N``).
* **Search snippets come from the article.** Sphinx's ``searchtools.js``
  cuts each result's snippet from the page's ``[role=main]``, which in this
  theme starts with the toolbar (the download button's ".ipynb", ".md") and
  holds the page's contents list, and it looks for the *stemmed* word
  ("entropi"), misses it and falls back to the page start. The search page
  (only it) loads ``static/klbook-search.js``, which reads the article only,
  finds the word the reader typed, and shows math through the plain text
  that this extension writes into each math element's ``data-text``.
* **Bibliography labels are author–year** (``Cover and Thomas, 2006``), as
  the citations in the text are: the pybtex style ``klbook`` is ``plain``
  with the label style ``klbook_author_year``; the citation style
  ``klbook_author_year`` is sphinxcontrib-bibtex's ``author_year`` with the
  labels' a, b, ... for two works of one author and year.
* **Valid HTML:** sphinx-exercise gives every exercise's and solution's body
  the same ``id`` (``exercise-content``, ``solution-content``); each gets
  its own. "Solution to Exercise 1.1" no longer underlines a leading space.
* **A page description:** every page gets ``<meta name="description">``
  from its first paragraph.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docutils import nodes
from pybtex.plugin import find_plugin, register_plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.template import join
from pybtex.style.template import node as template_node
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinxcontrib.bibtex.plugin import register_plugin as register_bibtex_plugin
from sphinxcontrib.bibtex.style.referencing.author_year import (
    AuthorYearReferenceStyle as _AuthorYearReferenceStyle,
)
from sphinxcontrib.bibtex.style.referencing.basic_author_year import (
    BasicAuthorYearParentheticalReferenceStyle,
    BasicAuthorYearTextualReferenceStyle,
)
from sphinxcontrib.bibtex.style.template import join2, post_text, pre_text
from sphinxcontrib.bibtex.style.template import reference as cite_reference
from sphinxcontrib.bibtex.style.template import year as _year

__all__ = ["tex_to_text"]

STATIC = Path(__file__).resolve().parent / "static"
SEARCH_JS = "klbook-search.js"

# --------------------------------------------------------------------------- TeX as text

_GREEK = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho "
    "sigma tau upsilon phi chi psi omega"
).split()
_SYMBOLS: dict[str, str] = {
    **dict(zip(_GREEK, "αβγδεζηθικλμνξπρστυφχψω", strict=True)),
    "varepsilon": "ε",
    "vartheta": "ϑ",
    "varphi": "φ",
    "varsigma": "ς",
    "Gamma": "Γ",
    "Delta": "Δ",
    "Theta": "Θ",
    "Lambda": "Λ",
    "Xi": "Ξ",
    "Pi": "Π",
    "Sigma": "Σ",
    "Phi": "Φ",
    "Psi": "Ψ",
    "Omega": "Ω",
    "|": "‖",
    "Vert": "‖",
    "lVert": "‖",
    "rVert": "‖",
    "vert": "|",
    "lvert": "|",
    "rvert": "|",
    "mid": "|",
    "le": "≤",
    "leq": "≤",
    "ge": "≥",
    "geq": "≥",
    "ne": "≠",
    "neq": "≠",
    "approx": "≈",
    "sim": "∼",
    "simeq": "≃",
    "equiv": "≡",
    "propto": "∝",
    "ll": "≪",
    "gg": "≫",
    "to": "→",
    "rightarrow": "→",
    "longrightarrow": "→",
    "leftarrow": "←",
    "Rightarrow": "⇒",
    "implies": "⇒",
    "iff": "⇔",
    "mapsto": "↦",
    "infty": "∞",
    "sum": "Σ",
    "prod": "∏",
    "int": "∫",
    "partial": "∂",
    "nabla": "∇",
    "cdot": "·",
    "times": "×",
    "pm": "±",
    "mp": "∓",
    "dots": "…",
    "ldots": "…",
    "cdots": "⋯",
    "in": "∈",
    "notin": "∉",
    "subset": "⊂",
    "subseteq": "⊆",
    "cup": "∪",
    "cap": "∩",
    "forall": "∀",
    "exists": "∃",
    "emptyset": "∅",
    "ell": "ℓ",
    "langle": "⟨",
    "rangle": "⟩",
    "lbrace": "{",
    "rbrace": "}",
    "{": "{",
    "}": "}",
    "%": "%",
    "_": "_",
    "#": "#",
    "&": "&",
    "$": "$",
    ",": " ",
    ";": " ",
    ":": " ",
    ">": " ",
    " ": " ",
    "quad": " ",
    "qquad": " ",
    "!": "",
}
#: Commands shown by their name (operators), and commands that only size or space.
_NAMED = set(
    "log ln exp min max arg argmin argmax sin cos tan lim sup inf det Pr var Var Cov".split()
)
_DROPPED = set(
    "left right big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr middle displaystyle "
    "textstyle scriptstyle limits nolimits nonumber notag label tag".split()
)
#: Commands whose one argument is shown as it is (fonts, text).
_FONTS = set(
    "text textrm textit textbf mathrm mathit mathbf mathsf mathtt mathcal mathbb mathfrak "
    "boldsymbol bm operatorname mbox emph".split()
)
#: Accents, as the combining character put after their argument.
_ACCENTS = {
    "hat": "\u0302",
    "widehat": "\u0302",
    "bar": "\u0304",
    "overline": "\u0305",
    "tilde": "\u0303",
    "widetilde": "\u0303",
    "dot": "\u0307",
    "ddot": "\u0308",
    "vec": "\u20d7",
}
_SUPERSCRIPTS = dict(zip("0123456789+-=()ni", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱ", strict=True))
_SUBSCRIPTS = dict(zip("0123456789+-=()aeijknmoprstx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑᵢⱼₖₙₘₒₚᵣₛₜₓ", strict=True))

_TOKEN = re.compile(r"\\([A-Za-z]+|.)|([{}^_])|(\s+)|(.)", re.DOTALL)


def _parse(tex: str) -> list:
    """Parse TeX into a list of ``("cmd", name)``, ``("group", [...])`` and strings."""
    stack: list[list] = [[]]
    for command, special, space, char in _TOKEN.findall(tex):
        if command:
            stack[-1].append(("cmd", command))
        elif special == "{":
            stack.append([])
        elif special == "}":
            if len(stack) > 1:
                group = stack.pop()
                stack[-1].append(("group", group))
        elif special:
            stack[-1].append(special)
        elif space:
            stack[-1].append(" ")
        else:
            stack[-1].append(char)
    while len(stack) > 1:  # unbalanced braces: keep what was inside
        group = stack.pop()
        stack[-1].append(("group", group))
    return stack[0]


def _is_simple(text: str) -> bool:
    """Tell whether ``text`` needs no brackets round it (no space, no operator)."""
    return re.search(r"[\s+\-−=/·×<>≤≥]", text) is None


def _script(text: str, table: dict[str, str], mark: str) -> str:
    if text and all(c in table for c in text):
        return "".join(table[c] for c in text)
    return mark + (text if _is_simple(text) else f"({text})")


def _render(items: list) -> str:
    out: list[str] = []
    i = 0

    def argument() -> str:
        nonlocal i
        while i < len(items) and items[i] == " ":
            i += 1
        if i >= len(items):
            return ""
        item = items[i]
        i += 1
        return _render([item]).strip()

    while i < len(items):
        item = items[i]
        i += 1
        if isinstance(item, str):
            if item == "^":
                out.append(_script(argument(), _SUPERSCRIPTS, "^"))
            elif item == "_":
                out.append(_script(argument(), _SUBSCRIPTS, "_"))
            elif item == "~":
                out.append(" ")
            elif item == "&":  # an alignment point
                continue
            elif item == " ":
                if out and not out[-1].endswith(" "):
                    out.append(" ")
            else:
                out.append(item)
        elif item[0] == "group":
            out.append(_render(item[1]))
        else:
            name = item[1]
            if name in ("frac", "dfrac", "tfrac"):
                top, bottom = argument(), argument()
                top = top if _is_simple(top) else f"({top})"
                bottom = bottom if _is_simple(bottom) else f"({bottom})"
                out.append(f"{top}/{bottom} ")
            elif name == "sqrt":
                body = argument()
                alone = len(body) <= 1 or body.isdigit()
                out.append("√" + (body if alone else f"({body})"))
            elif name in _FONTS:
                out.append(argument())
            elif name in _ACCENTS:
                body = argument()
                out.append(body + _ACCENTS[name] if len(body) == 1 else body)
            elif name in _SYMBOLS:
                out.append(_SYMBOLS[name])
            elif name in _NAMED:
                out.append(f" {name} ")
            elif name in _DROPPED or name in ("begin", "end"):
                if name in ("begin", "end"):
                    argument()
            elif name == "\\":
                out.append(" ")
            else:  # a command this reading does not know: its name, then what follows
                out.append(f"{name} ")
    return "".join(out)


def tex_to_text(tex: str) -> str:
    r"""Read a TeX formula as plain text, without any backslash.

    For places where math cannot be typeset: the search index, search
    snippets, page descriptions. Greek letters and common symbols become
    their Unicode characters, ``\frac{a}{b}`` becomes ``a/b``, fonts and
    sizes are dropped, simple super- and subscripts become Unicode ones.

    Examples
    --------
    >>> tex_to_text(r"1/\sqrt{N}")
    '1/√N'
    >>> tex_to_text(r"\mathrm{KL}(P\,\|\,Q) = \sum_x P(x) \log \frac{P(x)}{Q(x)}")
    'KL(P ‖ Q) = Σₓ P(x) log P(x)/Q(x)'
    >>> tex_to_text(r"e^{-N\,\mathrm{KL}}")
    'e^(-N KL)'
    >>> tex_to_text(r"\hat{\sigma}^2_{n}")
    'σ̂²ₙ'
    >>> tex_to_text(r"L_N = \frac{1}{N}\sum_j \lambda(x_j), \mathrm{Var}_P\!\left[\log X\right]")
    'L_N = 1/N Σⱼ λ(xⱼ), Var_P[log X]'
    """
    text = _render(_parse(tex))
    text = text.replace("\\", "")
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([)\]},.;:!?])", r"\1", text)  # no space before closing marks
    text = re.sub(r"([(\[{])\s+", r"\1", text)  # nor after opening ones
    return text.strip()


def plain_text(node: nodes.Node) -> str:
    """Return the text of ``node``, its math read by :func:`tex_to_text`."""
    if isinstance(node, nodes.math | nodes.math_block):
        return tex_to_text(node.astext())
    if isinstance(node, nodes.Text):
        return node.astext()
    return "".join(plain_text(child) for child in node.children)


# --------------------------------------------------------------------------- doctree fixes

#: Closing punctuation that must not start a line, and opening brackets that must not end one.
_AFTER = re.compile(r"^[.,;:!?)\]’”'»]+")
_BEFORE = re.compile(r"[(\[‘“«]+$")


class KeepPunctuationWithMath(SphinxPostTransform):
    """Wrap inline math with the punctuation that touches it in ``klbook-nowrap``."""

    default_priority = 900
    formats = ("html",)

    def run(self, **kwargs: Any) -> None:
        for math in list(self.document.findall(nodes.math)):
            parent = math.parent
            if parent is None or "klbook-nowrap" in parent.get("classes", []):
                continue
            index = parent.index(math)
            after = parent[index + 1] if index + 1 < len(parent) else None
            before = parent[index - 1] if index > 0 else None
            tail = _AFTER.match(after.astext()) if isinstance(after, nodes.Text) else None
            head = _BEFORE.search(before.astext()) if isinstance(before, nodes.Text) else None
            if not tail and not head:
                continue
            wrapper = nodes.inline("", classes=["klbook-nowrap"])
            if head:
                text = before.astext()
                parent.replace(before, nodes.Text(text[: head.start()]))
                wrapper += nodes.Text(head.group())
            parent.replace(math, wrapper)
            wrapper += math
            if tail:
                text = after.astext()
                wrapper += nodes.Text(tail.group())
                parent.replace(after, nodes.Text(text[tail.end() :]))


class UniqueExerciseIds(SphinxPostTransform):
    """Give each exercise's and solution's body its own id (sphinx-exercise repeats one)."""

    default_priority = 900
    formats = ("html",)
    REPEATED = ("exercise-content", "solution-content")

    def run(self, **kwargs: Any) -> None:
        taken = set(self.document.ids)
        for section in self.document.findall(nodes.section):
            ids = section["ids"]
            if len(ids) != 1 or ids[0] not in self.REPEATED:
                continue
            owner = section.parent
            # A solution is named after its exercise; an exercise by its own label.
            label = owner.get("target_label") or owner.get("label") if owner is not None else None
            base = f"{ids[0]}-{nodes.make_id(label)}" if label else ids[0]
            new, n = base, 1
            while new in taken:
                n += 1
                new = f"{base}-{n}"
            taken.add(new)
            section["ids"] = [new]


class NoLeadingSpaceInLinks(SphinxPostTransform):
    """Move a link's leading space out of the link ("Solution to Exercise 1.1")."""

    default_priority = 900
    formats = ("html",)

    def run(self, **kwargs: Any) -> None:
        for reference in list(self.document.findall(nodes.reference)):
            first = reference[0] if len(reference) else None
            if not isinstance(first, nodes.Text) or not first.astext()[:1].isspace():
                continue
            text = first.astext()
            stripped = text.lstrip()
            reference.replace(first, nodes.Text(stripped))
            parent = reference.parent
            parent.insert(parent.index(reference), nodes.Text(text[: len(text) - len(stripped)]))


# --------------------------------------------------------------------------- math in link text


def _math_titles(doctree: nodes.document) -> Iterator[tuple[str, nodes.title]]:
    """(section id, title) of every section whose title holds math."""
    for section in doctree.findall(nodes.section):
        if section.children and isinstance(section[0], nodes.title) and section["ids"]:
            title = section[0]
            if any(True for _ in title.findall(nodes.math)):
                for section_id in section["ids"]:
                    yield section_id, title


def collect_math_titles(app: Sphinx, doctree: nodes.document) -> None:
    """Remember each heading with math, by its ids and by the plain text a {ref} shows."""
    store = app.env.__dict__.setdefault("klbook_math_titles", {})
    docname = app.env.docname
    for key in [k for k, v in store.items() if v[0] == docname]:
        del store[key]
    for section_id, title in _math_titles(doctree):
        children = [child.deepcopy() for child in title.children]
        # A label before the heading is one of the section's ids by now, so a {ref}
        # to the label finds it too.
        store[(section_id, title.astext())] = (docname, children)


def purge_math_titles(app: Sphinx, env: Any, docname: str) -> None:
    store = getattr(env, "klbook_math_titles", {})
    for key in [k for k, v in store.items() if v[0] == docname]:
        del store[key]


def merge_math_titles(app: Sphinx, env: Any, docnames: set[str], other: Any) -> None:
    env.__dict__.setdefault("klbook_math_titles", {}).update(
        getattr(other, "klbook_math_titles", {})
    )


def math_in_link_text(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Show a heading's math, typeset, in a {ref} to it, not the math's TeX."""
    store = getattr(app.env, "klbook_math_titles", {})
    if not store:
        return
    found = False
    for reference in doctree.findall(nodes.reference):
        if not reference.get("internal") or len(reference) != 1:
            continue
        inline = reference[0]
        if not isinstance(inline, nodes.inline) or "std-ref" not in inline["classes"]:
            continue
        anchor = reference.get("refid") or reference.get("refuri", "").partition("#")[2]
        entry = store.get((anchor, inline.astext()))
        if entry is None:
            continue
        del inline.children[:]
        for child in entry[1]:
            inline += child.deepcopy()
        found = True
    if found:  # the page now has math even if it had none: load MathJax on it
        app.env.get_domain("math").data["has_equations"][docname] = True


def _patch_search_index() -> None:
    """Section titles in the search index in plain text (the results list shows them)."""
    from sphinx.search import IndexBuilder

    if getattr(IndexBuilder.feed, "_klbook", False):
        return
    original = IndexBuilder.feed

    def feed(self: IndexBuilder, docname: str, filename: str, title: str, doctree: Any) -> None:
        original(self, docname, filename, title, doctree)
        plain = {section_id: plain_text(t) for section_id, t in _math_titles(doctree)}
        if plain:
            self._all_titles[docname] = [
                (plain.get(section_id, text), section_id)
                for text, section_id in self._all_titles[docname]
            ]
        if "\\" in self._titles[docname]:
            first = doctree.next_node(nodes.title)
            if first is not None:
                self._titles[docname] = plain_text(first)

    feed._klbook = True  # type: ignore[attr-defined]
    IndexBuilder.feed = feed  # type: ignore[method-assign]


# --------------------------------------------------------------------------- pages

_INLINE_MATH = re.compile(
    r'<span class="math notranslate nohighlight">\\\((.*?)\\\)</span>', re.DOTALL
)
_DISPLAY_MATH = re.compile(
    r'<div class="math notranslate nohighlight"((?: id="[^"]*")?)>((?:(?!<div).)*?)\\\[(.*?)\\\]',
    re.DOTALL,
)


def _data_text(tex_html: str) -> str:
    return html.escape(tex_to_text(html.unescape(tex_html)), quote=True)


def add_math_text(body: str) -> str:
    """Give every math element of a page body a ``data-text`` with its plain reading."""
    body = _INLINE_MATH.sub(
        lambda m: (
            f'<span class="math notranslate nohighlight" data-text="{_data_text(m[1])}">'
            f"\\({m[1]}\\)</span>"
        ),
        body,
    )
    return _DISPLAY_MATH.sub(
        lambda m: (
            f'<div class="math notranslate nohighlight"{m[1]} data-text="{_data_text(m[3])}">'
            f"{m[2]}\\[{m[3]}\\]"
        ),
        body,
    )


def _description(doctree: nodes.document | None, fallback: str, limit: int = 160) -> str:
    text = ""
    if doctree is not None:
        for paragraph in doctree.findall(nodes.paragraph):
            if any(
                isinstance(a, nodes.Admonition | nodes.topic | nodes.sidebar | nodes.footer)
                for a in _ancestors(paragraph)
            ):
                continue
            text = re.sub(r"\s+", " ", plain_text(paragraph)).strip()
            if len(text.split()) >= 6:
                break
    if not text:
        text = fallback
    if len(text) > limit:
        cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
        text = cut + "…"
    return text


def _ancestors(node: nodes.Node) -> Iterator[nodes.Node]:
    while node.parent is not None:
        node = node.parent
        yield node


def page_context(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Per page: its description, math with plain text, and the search page's script."""
    project = context.get("docstitle") or app.config.html_title or app.config.project
    title = re.sub(r"<[^>]+>", "", context.get("title") or "")
    fallback = f"{html.unescape(title)}: {project}" if title else project
    description = html.escape(_description(doctree, fallback), quote=True)
    context["metatags"] = (
        context.get("metatags", "") + f'\n    <meta name="description" content="{description}" />'
    )
    if "body" in context:
        context["body"] = add_math_text(context["body"])
    if pagename == "search":
        # Deferred: the search template loads searchtools.js after every added script,
        # and this one replaces two of its functions (it runs before DOMContentLoaded,
        # when searchtools starts the search).
        app.builder.add_js_file(SEARCH_JS, defer="defer")


def add_static_path(app: Sphinx) -> None:
    """Ship static/ (the search page's script) without jupyter-book adding it to every page.

    jupyter-book puts every file of ``_static`` on every page; this folder is
    not ``_static``, and its script is added to the search page only.
    """
    if app.builder.format == "html":
        app.config.html_static_path.append(str(STATIC))


# --------------------------------------------------------------------------- bibliography


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels as the author–year citations read: ``Cover and Thomas, 2006``.

    One author: the last name; two: both, joined by "and"; three or more: the
    first, then "et al.", as sphinxcontrib-bibtex's ``author_year`` citations
    write them. Works of the same label get a, b, ... after the year.
    """

    def format_labels(self, sorted_entries: Any) -> Iterator[str]:
        labels = [self.format_label(entry) for entry in sorted_entries]
        counts = {label: labels.count(label) for label in labels}
        seen: dict[str, int] = {}
        for label in labels:
            if counts[label] > 1:
                seen[label] = seen.get(label, 0) + 1
                yield f"{label}{chr(ord('a') + seen[label] - 1)}"
            else:
                yield label

    @staticmethod
    def format_label(entry: Any) -> str:
        names = find_plugin("pybtex.style.names", "last")()
        persons = entry.persons.get("author") or entry.persons.get("editor") or []
        last = [names.format(p, True).format().render_as("text") for p in persons]
        if not last:
            who = re.sub(r"[{}]", "", entry.fields.get("title", entry.key))
        elif len(last) == 1:
            who = last[0]
        elif len(last) == 2:
            who = f"{last[0]} and {last[1]}"
        else:
            who = f"{last[0]} et al."
        year = entry.fields.get("year", "n.d.")
        return f"{who}, {year}"


class AuthorYearStyle(PlainStyle):
    """pybtex's ``plain`` (sorted by author, year, title) with author–year labels."""

    default_label_style = "klbook_author_year"


@template_node
def _year_as_labelled(children: list, data: dict[str, Any]) -> Any:
    """Format the year as the entry's label has it: with a, b, ... where labels tie."""
    assert not children
    label = data["formatted_entry"].label
    suffix = re.search(r"\d([a-z]?)$", label)
    return join[_year, suffix.group(1) if suffix else ""].format_data(data)


@dataclass
class _Parenthetical(BasicAuthorYearParentheticalReferenceStyle):
    def inner(self, role_name: str) -> Any:
        return join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[
            pre_text,
            cite_reference[
                join(sep=self.author_year_sep)[
                    self.person.author_or_editor_or_title(full="s" in role_name),
                    _year_as_labelled,
                ]
            ],
            post_text,
        ]


@dataclass
class _Textual(BasicAuthorYearTextualReferenceStyle):
    def inner(self, role_name: str) -> Any:
        return join(sep=self.text_reference_sep)[
            self.person.author_or_editor_or_title(full="s" in role_name),
            join[
                self.bracket.left,
                join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[
                    pre_text, cite_reference[_year_as_labelled], post_text
                ],
                self.bracket.right,
            ],
        ]


@dataclass
class AuthorYearReferenceStyle(_AuthorYearReferenceStyle):
    """sphinxcontrib-bibtex's ``author_year`` citations, with the labels' a, b, ...

    Two works of one author and year ("PyTorch Contributors, 2026a" and
    "...2026b" in the bibliography) are cited with the same letters.
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        parenthetical = _Parenthetical(
            bracket=self.bracket_parenthetical,
            person=self.person,
            author_year_sep=self.author_year_sep,
            pre_text_sep=self.pre_text_sep,
            post_text_sep=self.post_text_sep,
        )
        textual = _Textual(
            bracket=self.bracket_textual,
            person=self.person,
            text_reference_sep=self.text_reference_sep,
            pre_text_sep=self.pre_text_sep,
            post_text_sep=self.post_text_sep,
        )
        for style in (parenthetical, textual):
            self.role_style.update((role, style) for role in style.role_names())


register_plugin("pybtex.style.labels", "klbook_author_year", AuthorYearLabelStyle)
register_plugin("pybtex.style.formatting", "klbook", AuthorYearStyle)
register_bibtex_plugin(
    "sphinxcontrib.bibtex.style.referencing", "klbook_author_year", AuthorYearReferenceStyle
)


# --------------------------------------------------------------------------- setup


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_post_transform(KeepPunctuationWithMath)
    app.add_post_transform(UniqueExerciseIds)
    app.add_post_transform(NoLeadingSpaceInLinks)
    app.connect("doctree-read", collect_math_titles)
    app.connect("env-purge-doc", purge_math_titles)
    app.connect("env-merge-info", merge_math_titles)
    app.connect("doctree-resolved", math_in_link_text)
    app.connect("builder-inited", add_static_path)
    app.connect("html-page-context", page_context)
    _patch_search_index()
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
