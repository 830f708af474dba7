"""Markdown rendering does work linear in the text: brackets that never close cannot make it quadratic.

Found by a drill: ``"![" * 25000`` (50 KB) took 10 s in /preview, ``"[" * 50000`` 6.3 s, because every ``[``
scanned the rest of the text for its ``]``. Counted in parser steps, not seconds (the speed is measured by
bench/markdown_worst.py).
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from forum import markdown

PATHOLOGICAL = {
    "image openers": lambda n: "![" * (n // 2),
    "link openers": lambda n: "[" * n,
    "openers then one closer": lambda n: "[" * (n - 1) + "]",
    "nested runs": lambda n: ("[" * 99 + "]") * (n // 100),
    "openers with links": lambda n: ("[" * 40 + "[a](b)") * (n // 46),
}


def _steps(text: str) -> int:
    """How many times the inline parser skipped a token while rendering ``text``."""
    inline = markdown._md.inline
    real, count = inline.skipToken, [0]

    def counting(state):
        count[0] += 1
        return real(state)

    inline.skipToken = counting
    try:
        markdown.render_markdown(text)
    finally:
        del inline.skipToken
    return count[0]


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_bracket_work_grows_linearly(name):
    make = PATHOLOGICAL[name]
    small, large = _steps(make(2_000)), _steps(make(8_000))
    assert large <= 4 * small * 1.5 + 1_000, (small, large)  # 4x the text: about 4x the work, never 16x
    assert large <= markdown.LINK_SCAN_BUDGET + 20 * 8_000


def test_links_still_render():
    html = markdown.render_markdown("See [the guide](https://example.com/guide) and ![logo](https://example.com/l.png)"
                                    " and [nested [brackets] text](https://example.com/n).")
    assert '<a href="https://example.com/guide"' in html and '<img src="https://example.com/l.png"' in html
    assert '<a href="https://example.com/n"' in html


def test_a_link_text_beyond_the_bound_stays_text():
    long_text = "x" * (markdown.LINK_LABEL_MAX + 10)
    html = markdown.render_markdown(f"[{long_text}](https://example.com)")
    assert "<a " not in html and long_text in html


# --- the worst linear cases: bounded emphasis, and faster steps that keep the library's output ---------------

def _library(text: str) -> str:
    """markdown-it itself, with the options forum.markdown uses and none of its bounds or faster steps."""
    return MarkdownIt("js-default", {"linkify": False, "typographer": False}).enable("table") \
        .enable("strikethrough").render(text)


def test_the_worst_cases_render_right():
    underscores, unclosed = "a_" * 25_000, "[a](" * 12_500
    # Nothing to emphasise or link: the text as it is, exactly what markdown-it renders.
    assert markdown._md.render(underscores) == _library(underscores) == f"<p>{underscores}</p>\n"
    assert markdown._md.render(unclosed) == _library(unclosed) == f"<p>{unclosed}</p>\n"
    assert markdown.render_markdown(underscores) == f"<p>{underscores}</p>\n"

    # Emphasis runs: the first EMPHASIS_DELIMITER_BUDGET delimiters pair as markdown-it pairs them; the rest of
    # the text is kept as it was typed.
    budget = markdown.EMPHASIS_DELIMITER_BUDGET  # one "*" each: budget // 2 pairs
    emphasis = "*a" * 25_000
    expected = "<p>" + "<em>a</em>a" * (budget // 2) + "*a" * (25_000 - budget) + "</p>\n"
    assert markdown.render_markdown(emphasis) == expected
    assert _library("*a" * budget) == "<p>" + "<em>a</em>a" * (budget // 2) + "</p>\n"  # what the pairs come from


def test_emphasis_within_the_budget_is_markdown_its():
    text = " ".join(f"**bold {i}** and _it {i}_ and *one {i}*" for i in range(400))  # 2,400 delimiters
    assert markdown._md.render(text) == _library(text)
    assert markdown.render_markdown(text).count("<strong>") == 400


ALPHABET = "*_a b[]()!<>`~\\\n:/.-#\"'x1"


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=ALPHABET, max_size=120))
def test_same_tokens_as_markdown_it_below_the_bounds(text):
    """The faster emphasis and link-destination steps change speed only, never the output."""
    assert markdown._md.render(text) == _library(text)


@pytest.mark.parametrize("text", [
    "[a](b(c)d) [e](f\\ g) [h](<i j>) [k](l\\(m) [n]((((((o)))))) [p](q) ![r](s \"t\")",
    "[a](" + "(" * 32 + "b" + ")" * 32 + ") [c](" + "(" * 33 + "d" + ")" * 33 + ")",
    "*a _b_ c* __d__ ***e*** a_b_c a*b*c _ * ** __ *_*_ _*_* ~~s~~",
    "[ref]\n\n[ref]: /url(with(parens)) \"title\"",
])
def test_links_and_emphasis_as_markdown_it(text):
    assert markdown._md.render(text) == _library(text)


def test_every_link_of_a_long_document_renders_within_the_scan_budget():
    """The budget stops runaway scans only: a 50 KB post made of links (nested brackets too) keeps them all."""
    link = "[see the [upgrade] guide, step {i}](https://example.com/g/{i}) "
    text = "".join(link.format(i=i) for i in range(50_000 // len(link.format(i=1000))))
    assert len(text) <= 50_000
    html = markdown.render_markdown(text)
    assert html.count("<a href=") == text.count("](") and markdown._md.render(text) == _library(text)
