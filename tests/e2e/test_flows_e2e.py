"""Browser: the step Sankey and the transition graph draw on the demo data, vis-network stays quiet,
a click on a graph node filters the views to journeys through it, and labels follow the dark theme."""

from __future__ import annotations

import io

import pytest

from tests.conftest import copy_data_dir
from tests.e2e.conftest import start_server, wait_for_app
from tests.factories import b2b_log, create_dataset

pytestmark = pytest.mark.e2e

VIS_NOISE = ("Invalid type", "vis-network", "Unknown option", "groups")


GRAPH = "iframe[title='streamlit_agraph.agraph']"

# True once the graph's canvas shows a drawing (not blank) that has not changed over the last three
# polls: vis-network's physics has settled, so a node stays where a screenshot found it.
GRAPH_STILL_JS = """
() => {
  const c = document.querySelector('.vis-network canvas');
  if (!c || !c.width || !c.height) return false;
  const blank = document.createElement('canvas');
  blank.width = c.width; blank.height = c.height;
  const now = c.toDataURL();
  if (now === blank.toDataURL()) return false;
  window.__jlSame = window.__jlLast === now ? (window.__jlSame || 0) + 1 : 0;
  window.__jlLast = now;
  return window.__jlSame >= 3;
}
"""


def _drawn(page, timeout_ms: int = 60_000) -> None:
    """Wait until the script has stopped and no element is a loading skeleton (the page may rerun
    once the theme is known), then until the transition graph is drawn and still."""
    page.wait_for_function(
        """() => !document.querySelector("[data-testid='stSkeleton']")
                 && !document.querySelector("[data-testid='stStatusWidget']")""",
        timeout=timeout_ms,
    )
    page.wait_for_selector(GRAPH, timeout=timeout_ms)
    frame = page.locator(GRAPH).element_handle().content_frame()
    frame.wait_for_selector(".vis-network canvas", timeout=timeout_ms)
    frame.wait_for_function(GRAPH_STILL_JS, polling=250, timeout=timeout_ms)


def test_sankey_and_graph_draw_without_vis_errors_and_a_click_filters(server, page):
    # The demo's first dataset (the page's default), linked to its map.
    page.goto(f"{server.url}/Flows")
    wait_for_app(page, "Step by step")
    # The step Sankey and the stage flow are Plotly Sankeys with nodes.
    page.wait_for_selector(".js-plotly-plot .sankey .sankey-node", timeout=60_000)
    # The transition graph is drawn on a canvas inside the agraph component.
    _drawn(page)
    assert page.locator(".js-plotly-plot .sankey").count() == 2
    assert not page.locator("[data-testid='stException']").count()
    noisy = [e for e in page.console_errors if any(n in e for n in VIS_NOISE)]
    assert not noisy, noisy

    # Click a node: find a pixel of a node's fill colour in the graph and click it.
    from PIL import Image

    iframe = page.locator(GRAPH)
    iframe.scroll_into_view_if_needed()
    box = iframe.bounding_box()
    image = Image.open(io.BytesIO(iframe.screenshot())).convert("RGB")
    target = _node_pixel(image)
    assert target is not None, "no node colour found in the graph"
    page.mouse.click(box["x"] + target[0], box["y"] + target[1])
    page.wait_for_function("() => window.location.search.includes('through=')", timeout=30_000)
    wait_for_app(page, "Showing only journeys through")
    assert not page.locator("[data-testid='stException']").count()


def _node_pixel(image):
    """The centre of the largest blob of a node colour (palette colours are never used for edges)."""
    from charts.palette import CATEGORICAL

    wanted = {tuple(int(c.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)) for c in CATEGORICAL}
    width, height = image.size
    pixels = image.load()
    best = None
    for y in range(5, height - 5, 3):
        for x in range(5, width - 5, 3):
            if pixels[x, y] in wanted and all(
                pixels[x + dx, y + dy] == pixels[x, y] for dx, dy in ((4, 0), (-4, 0), (0, 4), (0, -4))
            ):
                best = (x, y)
                return best
    return best


def test_graph_labels_follow_the_dark_theme(tmp_path, monkeypatch, page, demo_data):
    data_dir = copy_data_dir(demo_data, tmp_path / "dark")  # as after a first start: the demo is there
    monkeypatch.setenv("JOURNEYLENS_DATA_DIR", str(data_dir))
    from db.engine import dispose_engines, get_engine

    get_engine()
    dataset_id = create_dataset(b2b_log(30), name="Dark")
    dispose_engines()
    srv = start_server(data_dir, env={"STREAMLIT_THEME_BASE": "dark"})
    try:
        page.goto(f"{srv.url}/Flows?dataset={dataset_id}&by=stage")
        wait_for_app(page, "Transition graph")
        _drawn(page)
        iframe = page.locator(GRAPH)
        iframe.scroll_into_view_if_needed()
        from PIL import Image

        image = Image.open(io.BytesIO(iframe.screenshot())).convert("L")
        values = sorted(image.getdata())
        # The graph sits on the dark background, and its labels are light (the theme's text colour).
        assert values[len(values) // 2] < 60
        assert sum(1 for v in values if v > 230) > 50
    finally:
        srv.stop()
