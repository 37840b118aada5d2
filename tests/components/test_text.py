"""escape_markdown: user text shows as typed, never as markup, links or images."""

from __future__ import annotations

import re

import pytest

from components.text import WORD_JOINER, escape_markdown

CASES = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "![pixel](https://evil.example/p.png)",
    "https://evil.example/phish",
    "see www.evil.example now",
    "mail ceo@evil.example",
    "mailto:ceo@evil.example",
    ":red[alarm] :material/warning:",
    "**bold** _it_ `code` $x$ ~~del~~ # head",
    "Hành trình · เส้นทาง · رحلة",
]


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text).replace(WORD_JOINER, "")


@pytest.mark.parametrize("text", CASES)
def test_reads_the_same_once_rendered(text):
    assert _unescape(escape_markdown(text)) == text


@pytest.mark.parametrize("text", CASES)
def test_no_markup_or_link_survives(text):
    out = escape_markdown(text)
    resolved = re.sub(r"\\(.)", r"\1", out)  # what a Markdown parser hands to GFM's autolinker
    assert "://" not in resolved and not re.search(r"(?i)www\.", resolved) and not re.search(r"\w@\w", resolved)
    for char in "<>[]()!*_`:$~#|":
        assert all(out[i - 1] == "\\" for i, c in enumerate(out) if c == char), (char, out)


def test_line_breaks_become_spaces():
    assert escape_markdown("one\ntwo") == "one two"


@pytest.mark.parametrize("text", CASES)
def test_messages_lose_links_images_and_html_but_read_the_same(text):
    from components.text import escape_markup

    out = escape_markup(text)
    assert _unescape(out) == text
    resolved = re.sub(r"\\(.)", r"\1", out)
    assert "://" not in resolved and not re.search(r"(?i)www\.", resolved)
    for char in "<>[]$":
        assert all(out[i - 1] == "\\" for i, c in enumerate(out) if c == char), (char, out)


def test_messages_keep_ordinary_punctuation():
    from components.text import escape_markup

    message = "map name: 'x' is not valid; expected at most 200 characters (got 10000) for 2026-03."
    assert escape_markup(message) == message
