"""Browser: the Overlay's event log follows the map picked (and the browser shows it), and a compare map
the link names that does not exist is refused with nothing chosen."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.e2e


def _select(page, label: str):  # noqa: ANN001, ANN202 - the select box labelled ``label``
    return page.locator("[data-testid='stSelectbox']").filter(
        has=page.locator("[data-testid='stWidgetLabel']", has_text=label)
    )


def test_overlay_opens_the_picked_maps_own_log(server, page):
    page.goto(server.url + "/Overlay")
    wait_for_app(page, "Designed vs observed")
    log = _select(page, "Event log").locator("input")
    assert log.input_value().startswith("Demo: advisory client log")  # the first map's own log
    _select(page, "Journey map").click()
    page.get_by_role("option", name="B2B SaaS buyer journey").click()
    page.wait_for_url("**map=1**")
    wait_for_app(page, "the event log is now")
    # The browser shows the log the page uses: the new map's own, not the old map's name left in the box.
    assert "dataset=1" in page.url
    assert log.input_value().startswith("Demo: B2B SaaS event log")
    assert not page.locator("[data-testid='stAlert']", has_text="not to “B2B SaaS buyer journey”").count()
    # A log picked afterwards is kept, also on a reload.
    _select(page, "Event log").click()
    page.get_by_role("option").filter(has_text="advisory client log").click()
    page.wait_for_url("**dataset=2**")
    wait_for_app(page)
    page.reload()
    wait_for_app(page, "Designed vs observed")
    assert "dataset=2" in page.url and "map=1" in page.url
    assert log.input_value().startswith("Demo: advisory client log")


def test_a_compare_map_that_does_not_exist_is_refused_in_the_browser(server, page):
    page.goto(server.url + "/Map_studio?map=1&tab=Versions&compare=999")
    wait_for_app(page, "There is no map 999")
    assert _select(page, "Compare with").locator("input").input_value() == ""  # nothing chosen
    page.reload()
    wait_for_app(page, "There is no map 999")  # the link is left as it was: a reload says it again
    assert "compare=999" in page.url
