"""Markdown rendering does work linear in the text: brackets that never close cannot make it quadratic.

Found by a drill: ``"![" * 25000`` (50 KB) took 10 s in /preview, ``"[" * 50000`` 6.3 s, because every ``[``
scanned the rest of the text for its ``]``. Counted in parser steps, not seconds (the speed is measured by
bench/markdown_worst.py).
"""
from __future__ import annotations

import pytest

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
