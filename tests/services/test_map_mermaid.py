"""The Mermaid export states everyone's emotion on the app's scale (−2..+2), by the emotion curve's rule."""

from __future__ import annotations

import re

import pytest

from services import map_mermaid
from tests.analytics.test_map_tables_emotion import _tiny_map


def _label(lines: list[str], node: str) -> str:
    """A node's label as Mermaid shows it: entity codes back to characters, ``<br>`` back to a line break."""
    line = next(line.strip() for line in lines if line.strip().startswith(node + "["))
    text = re.search(r'"([^"]*)"', line).group(1).replace("<br>", "\n")
    return re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), text)


@pytest.mark.parametrize(
    ("emotion", "text"),
    [
        (-2, "emotion −2 (−2..+2)"),
        (-1, "emotion −1 (−2..+2)"),
        (0, "emotion 0 (−2..+2)"),
        (2, "emotion +2 (−2..+2)"),
        (None, "no emotion"),
    ],
)
def test_mermaid_emotion_is_on_the_apps_scale(emotion, text):
    assert map_mermaid.mermaid_emotion(emotion) == text


def test_mermaid_touchpoints_show_everyones_emotion_the_stages_where_they_have_none_of_their_own():
    lines = map_mermaid.compute_mermaid(_tiny_map()).splitlines()
    assert _label(lines, "T11") == "Welcome mail\nCustomer · emotion −1 (−2..+2)"  # Dana's −2 is hers only
    assert _label(lines, "T12") == "Kick-off\nCustomer · emotion −1 (−2..+2)"  # not Dana's and Sam's mean, 0
    assert _label(lines, "T13") == "Training\nCustomer · emotion +2 (−2..+2)"
    assert _label(lines, "T21") == "Invoice\nCustomer · no emotion"  # only Sam's +1: nobody speaks for everyone
    assert lines[:4] == ["---", 'title: "Tiny"', "---", "flowchart LR"]
