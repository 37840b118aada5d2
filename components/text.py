"""Showing user text safely: Markdown-escaped so names and cells render as text, never as markup or links."""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$])")


def escape_markdown(text: object) -> str:
    """Escape every Markdown/HTML-significant character of user text for ``st.markdown``/captions."""
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")
