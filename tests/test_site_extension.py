"""_ext/klbook_site.py, the book's local Sphinx extension, piece by piece.

The built site is checked by tests/test_build.py and tests/test_browser.py;
these tests pin the parts that can be tested alone: the plain-text reading of
TeX, the math elements' ``data-text``, the bibliography labels and the
doctree fixes.
"""

from __future__ import annotations

import doctest
import importlib.util
import sys
from pathlib import Path

import pytest
from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import new_document

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def site():
    spec = importlib.util.spec_from_file_location("klbook_site", ROOT / "_ext" / "klbook_site.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["klbook_site"] = module
    spec.loader.exec_module(module)
    return module


def test_docstring_examples(site) -> None:
    failed, tried = doctest.testmod(site)
    assert tried >= 5 and failed == 0


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        (r"1/\sqrt{N}", "1/√N"),
        (r"\sqrt{2\pi\sigma^2}", "√(2πσ²)"),
        (r"\mathrm{KL}(P\,\Vert\,Q)", "KL(P ‖ Q)"),
        (r"\frac{p}{q}", "p/q"),
        (r"\frac{1 - p}{1 - q}", "(1 - p)/(1 - q)"),
        (r"H(P, Q) \ge H(P)", "H(P, Q) ≥ H(P)"),
        (r"\mathbb{E}_{X \sim P}\!\left[\log\frac{P(X)}{Q(X)}\right]", "E_(X ∼ P)[log P(X)/Q(X)]"),
        (r"e^{-N\,\mathrm{KL}}", "e^(-N KL)"),
        (r"x_{12}^{2}", "x₁₂²"),
        (r"\begin{aligned} a &= b \\ &= c \end{aligned}", "a = b = c"),
        (r"\operatorname{softmax}(z)_y", "softmax(z)_y"),
        (r"\hat p", "p̂"),
        (r"\{0, 1\}", "{0, 1}"),
        (r"\unknowncommand{x}", "unknowncommand x"),
        (r"{unbalanced", "unbalanced"),
    ],
)
def test_tex_to_text(site, tex: str, text: str) -> None:
    assert site.tex_to_text(tex) == text
    assert "\\" not in site.tex_to_text(tex)


def test_math_elements_get_their_plain_text(site) -> None:
    body = (
        '<p>so <span class="math notranslate nohighlight">\\(a &lt; \\frac{1}{2}\\)</span>.</p>'
        '<div class="math notranslate nohighlight" id="equation-x">\n'
        '<span class="eqno">(1.1)</span>\\[\\sqrt{N}\\]</div>'
    )
    out = site.add_math_text(body)
    assert 'data-text="a &lt; 1/2"' in out
    assert '<div class="math notranslate nohighlight" id="equation-x" data-text="√N">' in out
    # The TeX itself is untouched: MathJax still typesets it.
    assert "\\(a &lt; \\frac{1}{2}\\)" in out and "\\[\\sqrt{N}\\]" in out


def _entry(author: str, year: str, title: str = "A title"):
    from pybtex.database import Entry, Person

    entry = Entry("book", fields={"title": title, "year": year})
    entry.persons["author"] = [Person(name) for name in author.split(" and ")]
    return entry


def test_bibliography_labels_read_as_author_year_citations(site) -> None:
    style = site.AuthorYearLabelStyle()
    entries = [
        _entry("Shannon, Claude E.", "1948"),
        _entry("Cover, Thomas M. and Thomas, Joy A.", "2006"),
        _entry("Goodfellow, Ian and Bengio, Yoshua and Courville, Aaron", "2016"),
        _entry("von Neumann, John", "1932"),
        _entry("Contributors, PyTorch", "2026", "One"),
        _entry("Contributors, PyTorch", "2026", "Two"),
    ]
    assert list(style.format_labels(entries)) == [
        "Shannon, 1948",
        "Cover and Thomas, 2006",
        "Goodfellow et al., 2016",
        "von Neumann, 1932",
        "Contributors, 2026a",
        "Contributors, 2026b",
    ]


def test_the_pybtex_and_citation_styles_are_registered(site) -> None:
    import pybtex.plugin
    from sphinxcontrib.bibtex.plugin import find_plugin

    style = pybtex.plugin.find_plugin("pybtex.style.formatting", "klbook")
    assert style.default_label_style == "klbook_author_year"
    referencing = find_plugin("sphinxcontrib.bibtex.style.referencing", "klbook_author_year")
    assert {"p", "t"} <= set(referencing().role_names())


def _doctree(rst: str) -> nodes.document:
    document = new_document("<test>", get_default_settings(Parser))
    Parser().parse(rst, document)
    return document


def _apply(site, transform, document: nodes.document) -> nodes.document:
    instance = transform.__new__(transform)
    instance.document = document
    instance.run()
    return document


def test_punctuation_and_brackets_stay_with_inline_math(site) -> None:
    document = _apply(
        site,
        site.KeepPunctuationWithMath,
        _doctree("Take :math:`x`, then (:math:`y`). Next :math:`z` and :math:`w`.\n"),
    )
    wrapped = [
        n.astext() for n in document.findall(nodes.inline) if "klbook-nowrap" in n["classes"]
    ]
    assert wrapped == ["x,", "(y).", "w."]
    paragraph = document.next_node(nodes.paragraph)
    assert paragraph.astext() == "Take x, then (y). Next z and w."


def test_links_start_with_their_first_letter(site) -> None:
    # As sphinx-exercise writes the title: "Solution to" and a link " Exercise 1.1".
    document = _doctree("Solution to `x <#a>`_\n")
    paragraph = document.next_node(nodes.paragraph)
    paragraph.replace(paragraph[0], nodes.Text("Solution to"))
    reference = document.next_node(nodes.reference)
    reference.replace(reference[0], nodes.Text(" Exercise 1.1"))
    _apply(site, site.NoLeadingSpaceInLinks, document)
    assert reference.astext() == "Exercise 1.1"
    assert paragraph.astext() == "Solution to Exercise 1.1"


def test_exercise_and_solution_bodies_get_their_own_ids(site) -> None:
    document = _doctree("text\n")
    for label in ("ex-a", "ex-b"):
        exercise = nodes.container(label=label)
        exercise += nodes.section(ids=["exercise-content"])
        solution = nodes.container(label="doc-solution-1", target_label=label)
        solution += nodes.section(ids=["solution-content"])
        document += [exercise, solution]
    _apply(site, site.UniqueExerciseIds, document)
    ids = [section["ids"][0] for section in document.findall(nodes.section)]
    assert ids == [
        "exercise-content-ex-a",
        "solution-content-ex-a",
        "exercise-content-ex-b",
        "solution-content-ex-b",
    ]
