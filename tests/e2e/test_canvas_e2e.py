"""The whole map on a 1440 × 900 screen, zoom with row names in view, and no request leaving the machine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.conftest import copy_data_dir
from tests.e2e.conftest import ACTION_TIMEOUT_MS, Server, start_server, wait_for_app

# Its two edit tests share a server of their own (edit_server): the module on one xdist worker.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-canvas")]

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
DEMO_MAP = "B2B SaaS buyer journey"
GRID_BOX = "[data-testid='jl-grid-box']"


@pytest.fixture
def screen(browser) -> Iterator[object]:
    """A 1440 × 900 page that records every request it makes (``screen.requests``)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    pg = context.new_page()
    pg.requests = []
    pg.on("request", lambda r: pg.requests.append(r.url))
    yield pg
    context.close()


def _grid_geometry(pg) -> dict:
    return pg.evaluate(
        """() => {
        const box = document.querySelector("[data-testid='jl-grid-box']");
        const names = [...box.querySelectorAll('.jl-tp')].map(e => {
            const r = e.getBoundingClientRect();
            return {name: e.querySelector('.jl-tp-name').textContent.replace(/\\u00ad/g, ''),
                    left: r.left, right: r.right, width: r.width};
        });
        return {scrollWidth: box.scrollWidth, clientWidth: box.clientWidth, windowWidth: window.innerWidth,
                touchpoints: names};
    }"""
    )


def _open_demo_map(url: str, screen) -> None:
    screen.goto(url + "/Map_studio?map=1")
    wait_for_app(screen, DEMO_MAP)
    screen.wait_for_selector(GRID_BOX)


def _save_and_see(screen, shown: str) -> None:
    """Save the open dialog, wait for it to close and for the JS condition ``shown`` to hold."""
    screen.locator("[role='dialog'] button", has_text="Save").click()
    screen.wait_for_function("() => !document.querySelector(\"[role='dialog']\")", timeout=60_000)
    screen.wait_for_function(shown, timeout=60_000)
    assert "edit=" not in screen.url


def test_the_whole_demo_map_fits_a_1440_screen(server, screen):
    _open_demo_map(server.url, screen)
    g = _grid_geometry(screen)
    assert g["windowWidth"] == 1440
    assert g["scrollWidth"] <= g["clientWidth"], g
    assert len(g["touchpoints"]) == 21
    assert len({t["name"] for t in g["touchpoints"]}) == 21
    for t in g["touchpoints"]:
        assert t["left"] >= 0 and t["right"] <= 1440, t
        assert t["width"] >= 30, t  # a column, not a sliver
    assert "Pricing page" in {t["name"] for t in g["touchpoints"]}

    # Zoomed in, the grid scrolls sideways and the row names stay in view.
    screen.locator("[data-testid='stButtonGroup'] button", has_text="Extra large").first.click()
    screen.wait_for_function(
        "() => { const b = document.querySelector(\"[data-testid='jl-grid-box']\"); "
        "return b && b.scrollWidth > b.clientWidth + 100; }"
    )
    box = screen.locator(GRID_BOX).first
    box.evaluate("b => { b.scrollLeft = 600; }")
    head_left, box_left = box.evaluate(
        "b => [b.querySelector('.jl-row-head').getBoundingClientRect().left, b.getBoundingClientRect().left]"
    )
    assert abs(head_left - box_left) < 2


def test_overlay_grid_fits_and_has_a_legend(server, screen):
    screen.goto(server.url + "/Overlay?map=1&measure=journeys")
    wait_for_app(screen, "Designed vs observed")
    screen.wait_for_selector(GRID_BOX)
    g = _grid_geometry(screen)
    assert g["scrollWidth"] <= g["clientWidth"], g
    assert len(g["touchpoints"]) == 21 and all(t["right"] <= 1440 for t in g["touchpoints"])
    legend = screen.locator("[data-testid='jl-legend']").first.inner_text()
    assert "Journeys" in legend


@pytest.mark.parametrize("path", ["/", "/Map_studio?map=1", "/Overlay?map=1", "/Paths", "/Flows"])
def test_no_request_leaves_the_machine(server, screen, path):
    screen.goto(server.url + path)
    wait_for_app(screen)
    # The tab icon is set once the page has run; then wait for the network to settle (late icon fetches).
    screen.wait_for_function("() => !!document.querySelector(\"link[rel*='icon']\")")
    screen.wait_for_load_state("networkidle")
    assert screen.requests, "no request recorded"
    web = [u for u in screen.requests if urlparse(u).scheme in ("http", "https", "ws", "wss")]
    outside = sorted({u for u in web if urlparse(u).hostname not in LOCAL_HOSTS})
    assert not outside, outside


@pytest.fixture(scope="module")
def edit_server(tmp_path_factory: pytest.TempPathFactory, demo_data: Path) -> Iterator[Server]:
    """A server of its own on a copy of the demo for the two edit tests below, not the run's shared
    one: they change the demo map. They edit different things (a touchpoint's name; a feeling cell,
    and an add dialog left unsaved), so one server serves both whichever runs first."""
    data_dir = copy_data_dir(demo_data, tmp_path_factory.mktemp("canvas-edits") / "data")
    srv = start_server(data_dir)
    yield srv
    srv.stop()


def test_a_touchpoint_is_edited_where_it_is_drawn(edit_server, screen):
    _open_demo_map(edit_server.url, screen)
    screen.locator("a.jl-edit", has_text="Blog").first.click()
    name = screen.locator("[role='dialog'] input[type='text']").first
    name.wait_for(timeout=60_000)
    assert name.input_value() == "Blog"
    name.fill("Blog & guides")
    _save_and_see(
        screen,
        "() => [...document.querySelectorAll('.jl-tp-name')]"
        ".some(e => e.textContent.replace(/\\u00ad/g, '') === 'Blog & guides')",
    )


def test_a_feeling_cell_and_an_opportunity_are_edited_where_they_are_drawn(edit_server, screen):
    _open_demo_map(edit_server.url, screen)
    # A feeling cell: its dialog names the lane, the place and whose view, and saves text and emotion.
    screen.locator("[data-kind='lane:feeling'] a.jl-edit").first.click()
    dialog = screen.locator("[role='dialog']")
    text = dialog.locator("textarea").first
    text.wait_for(timeout=60_000)
    assert "Feeling ·" in dialog.inner_text() and "for everyone" in dialog.inner_text()
    text.fill("Reassured by the case studies")
    _save_and_see(
        screen,
        "() => [...document.querySelectorAll(\"[data-kind='lane:feeling']\")]"
        ".some(e => e.textContent.replace(/\\u00ad/g, '').includes('Reassured by the case studies'))",
    )
    # "+ opportunity" under a stage opens the add dialog.
    screen.locator("a.jl-edit", has_text="+ opportunity").first.click()
    screen.locator("[role='dialog'] textarea").first.wait_for(timeout=60_000)
    assert "Add an opportunity" in screen.locator("[role='dialog']").inner_text()
