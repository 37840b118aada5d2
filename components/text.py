"""Showing user text safely: Markdown-escaped so names and cells render as text, never as markup or links."""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$])")
# GitHub-flavoured Markdown turns URL- and e-mail-looking text into links *after* escapes are
# resolved ("https\://evil\.example" still becomes a link). An invisible word joiner inside "://",
# "www." and after "@" keeps such text plain text; what the reader sees does not change.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)", re.IGNORECASE)
WORD_JOINER = "\u2060"


def escape_markdown(text: object) -> str:
    """Escape every Markdown/HTML-significant character of user text for ``st.markdown``/captions."""
    plain = _AUTOLINK.sub(WORD_JOINER, str(text))
    return _MD_SPECIAL.sub(r"\\\1", plain).replace("\n", " ")


_MARKUP = re.compile(r"([\\\[\]<>$])")


def escape_markup(text: object) -> str:
    """Lighter than :func:`escape_markdown`, for messages that quote user values (errors, notices):
    neutralises only what turns text into markup (links, images, HTML, colour directives, math,
    URL autolinks) and leaves other punctuation as it is, so the message reads unchanged in source."""
    return _MARKUP.sub(r"\\\1", _AUTOLINK.sub(WORD_JOINER, str(text)))
