"""Script payloads in every kind of user data render as text on every page.

One server on a data directory seeded (without the demo) with payloads in map names, stage and
touchpoint names, persona text, lane cells, pain points, opportunities, actions, metrics, snapshots
and the cells of an event log (activities, channels, stages, outcomes, segments, ids). Every script
in pages/ (globbed: new pages are covered without editing this file) and app.py is opened by URL
with that map and dataset selected. On each: no dialog fired, no element the payloads would create
exists (in the page or any frame), and the app drew no exception.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests import ROOT
from tests.e2e.conftest import Server, start_server, wait_for_app

# One payload server for the module: its tests on the same xdist worker.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-xss")]


SCRIPT = "<script>alert('xss-script')</script>"
IMG = "<img src=x onerror=alert('xss-img')>"
MD_LINK = "[click](javascript:alert('xss-link'))"
MD_IMAGE = "![pixel](x)"
SVG = "<svg onload=alert('xss-svg')>"
ANCHOR = "<a href=\"javascript:alert('xss-a')\">a</a>"
EXTERNAL = '<a href="https://evil.example/phish">verify</a>'
FORMULA = '=HYPERLINK("https://evil.example","x")'
PAYLOADS = (SCRIPT, IMG, MD_LINK, MD_IMAGE, SVG, ANCHOR, EXTERNAL)

MAP_NAME = f"{SCRIPT} {IMG}"

# Elements any payload would create if it were rendered as markup instead of text.
INJECTED_JS = """
() => {
  const found = [];
  const q = (sel) => Array.from(document.querySelectorAll(sel));
  q("img").filter(i => /(^|\\/)x$/.test(i.getAttribute("src") || "")).forEach(() => found.push("img[src=x]"));
  q("a[href]").filter(a => /^\\s*javascript:/i.test(a.getAttribute("href"))).forEach(a => found.push("a[href=javascript:] " + a.outerHTML.slice(0, 80)));
  q("a").filter(a => (a.getAttribute("href") || a.getAttribute("xlink:href") || "").includes("evil.example")).forEach(a => found.push("link to evil.example: " + a.outerHTML.slice(0, 160) + " in " + ((a.closest("[data-testid]") || {getAttribute: () => "?"}).getAttribute("data-testid"))));
  q("[onerror], [onload], [onclick], [onmouseover]").forEach(e => found.push("event handler on <" + e.tagName.toLowerCase() + ">"));
  q("script").filter(s => (s.textContent || "").includes("xss-")).forEach(() => found.push("script with payload"));
  q("svg").filter(s => s.getAttribute("onload")).forEach(() => found.push("svg onload"));
  return found;
}
"""


def page_paths() -> list[tuple[str, str]]:
    """(label, URL path) for app.py and every script in pages/, as Streamlit derives the paths."""
    paths = [("app.py", "/")]
    for script in sorted((ROOT / "pages").glob("*.py")):
        stem = re.sub(r"^\d+_", "", script.stem)
        paths.append((f"pages/{script.name}", f"/{stem}"))
    return paths


def _payload_log():  # noqa: ANN202 - a pandas DataFrame
    """A small B2B log whose text cells carry the payloads."""
    from tests.factories import b2b_log

    frame = b2b_log(journeys=45, seed=11)
    activities = sorted(frame["activity"].unique())
    swap = {a: f"{PAYLOADS[i % len(PAYLOADS)]} {a}" for i, a in enumerate(activities)}
    frame["activity"] = frame["activity"].map(swap)
    frame["channel"] = frame["channel"].map({"web": IMG, "email": MD_LINK, "sales": SCRIPT})
    frame["segment:region"] = frame["segment:region"].map({"EMEA": SVG, "NA": MD_IMAGE})
    frame["outcome"] = frame["outcome"].map({"won": f"won {ANCHOR}", "lost": f"lost {EXTERNAL}", "open": FORMULA})
    frame["journey_id"] = frame["journey_id"] + " " + IMG
    return frame, swap


def import_payload_log(frame, map_id: int) -> int:  # noqa: ANN001 - a pandas DataFrame
    """Write the payload log as a CSV an analyst would upload and import it through the importer."""
    from services.importer import import_event_log
    from services.linking import link_dataset_to_map
    from tests.factories import B2B_MAPPING, b2b_csv

    result = import_event_log(b2b_csv(frame), name=f"{IMG} log", mapping=B2B_MAPPING, source_name=f"{SCRIPT}.csv")
    link_dataset_to_map(result.dataset_id, map_id)
    return result.dataset_id


def seed_payloads() -> dict[str, int]:
    """Fill the current data directory with payloads everywhere; return the ids to open pages with."""
    from services import map_edits, map_view, metrics, personas, snapshots
    from services import maps as map_service

    map_id = map_service.create_map_from_template(
        template_key="b2b-4-stage", name=MAP_NAME, owner=MD_LINK, description=f"{SVG} {MD_IMAGE}"
    )
    # Sorts first ("!"), so pages that show "the first map" show this one.
    map_service.create_map_from_template(template_key="b2b-5-stage", name=f"{MD_IMAGE} {MD_LINK}")
    map_service.create_map_from_template(template_key=None, name=f"{SVG} {ANCHOR} {EXTERNAL}"[:200])

    def version() -> int:
        return map_view.get_map_version(map_id)

    view = map_view.get_map_view(map_id)
    stage, touchpoint = view.stages[0], view.stages[0].touchpoints[0]
    frame, swap = _payload_log()
    map_edits.apply_stage_edits(
        map_id, map_edits.RowEdits(updated={stage.id: {"name": f"{SCRIPT} stage", "customer_goal": IMG}}),
        expected_version=version(),
    )  # fmt: skip
    map_edits.apply_touchpoint_edits(
        map_id,
        map_edits.RowEdits(
            updated={
                tp.id: {"name": f"{PAYLOADS[i % len(PAYLOADS)]} tp{i}"[:200], "activity_names": [a]}
                for i, (tp, a) in enumerate(zip([t for s in view.stages for t in s.touchpoints], swap.values()))
            }
        ),
        expected_version=version(),
    )
    persona_id = personas.create_persona(
        f"{IMG} persona",
        description=SCRIPT,
        goals=MD_LINK,
        pain_points=MD_IMAGE,
        job_title=SVG,
        channels=ANCHOR,
        buying_behaviour=EXTERNAL,
        committee_role="champion",
    )
    map_edits.set_map_personas(map_id, [persona_id], expected_version=version())
    for lane, text in (("thinking", SCRIPT), ("doing", f"{IMG} {MD_LINK}"), ("feeling", f"{MD_IMAGE} {SVG}")):
        map_edits.set_lane_cell(
            map_id, stage_id=stage.id, touchpoint_id=touchpoint.id, lane=lane, text=text,
            emotion=-2 if lane == "feeling" else None, set_emotion=lane == "feeling", expected_version=version(),
        )  # fmt: skip
    where = {"stage_id": stage.id, "touchpoint_id": touchpoint.id}
    map_edits.apply_pain_point_edits(
        map_id,
        map_edits.RowEdits(added=[{**where, "description": f"{IMG} pain", "severity": 5}]),
        expected_version=version(),
    )
    map_edits.apply_opportunity_edits(
        map_id, map_edits.RowEdits(added=[{**where, "description": f"{MD_LINK} idea"}]), expected_version=version()
    )
    map_edits.apply_action_edits(
        map_id,
        map_edits.RowEdits(added=[{**where, "action": f"{SCRIPT} act", "owner": IMG, "expected_effect": EXTERNAL}]),
        expected_version=version(),
    )
    dataset_id = import_payload_log(frame, map_id)
    metric_id = metrics.create_metric(map_id=map_id, kind="custom", name=f"{SCRIPT} metric", target=50)
    metrics.set_metric_value(metric_id, "2026-01", 40)
    snapshots.create_snapshot(map_id, f"{MD_IMAGE} snapshot")
    return {"map": map_id, "dataset": dataset_id, "persona": persona_id}


@pytest.fixture(scope="module")
def payload_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, int]]]:
    from db.engine import dispose_engines

    data_dir = tmp_path_factory.mktemp("xss") / "data"
    data_dir.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JOURNEYLENS_DATA_DIR", str(data_dir))
        ids = seed_payloads()
        dispose_engines()
    srv = start_server(data_dir, env={"JOURNEYLENS_NO_DEMO": "1"})
    yield srv, ids
    srv.stop()


# True once the page's DOM has not changed for 300 ms (a MutationObserver notes the last change)
# and every frame in it has loaded: what a payload could inject is in the DOM by then.
QUIET_JS = """
() => {
  const w = window;
  if (!w.__jlQuiet) {
    w.__jlQuiet = {last: performance.now()};
    new MutationObserver(() => { w.__jlQuiet.last = performance.now(); })
      .observe(document.documentElement, {subtree: true, childList: true, attributes: true, characterData: true});
    return false;
  }
  const framesLoaded = Array.from(document.querySelectorAll("iframe")).every(f => {
    try { return !f.contentDocument || f.contentDocument.readyState === "complete"; } catch (e) { return true; }
  });
  return framesLoaded && performance.now() - w.__jlQuiet.last > 300;
}
"""


def settle(page, text: str | None = None) -> None:  # noqa: ANN001 - a Playwright page
    """Wait for the script run, then for every chart to draw (charts render after the script ends),
    then for the DOM to stop changing."""
    wait_for_app(page, text)
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll("[data-testid='stPlotlyChart']"))
                 .every(c => c.querySelector('.main-svg'))""",
        timeout=60_000,
    )
    page.wait_for_function(QUIET_JS, polling=100, timeout=60_000)


def injected(page) -> list[str]:  # noqa: ANN001 - a Playwright page
    found: list[str] = []
    for frame in page.frames:
        try:
            found += frame.evaluate(INJECTED_JS)
        except Exception as exc:  # noqa: BLE001 - a frame navigating away: check it again below
            found.append(f"frame {frame.url} not checkable: {exc}")
    return found


# Pages with a known leak, each with the fix; strict: the test fails once the leak is fixed, so the
# entry is removed then.
KNOWN_LEAKS: dict[str, str] = {}


def _page_params() -> list:
    return [
        pytest.param(script, path, id=script, marks=pytest.mark.xfail(strict=True, reason=KNOWN_LEAKS[script]))
        if script in KNOWN_LEAKS
        else pytest.param(script, path, id=script)
        for script, path in page_paths()
    ]


@pytest.mark.parametrize(("script", "path"), _page_params())
def test_payloads_render_as_text(payload_server, page, script, path):
    srv, ids = payload_server
    query = f"?map={ids['map']}&dataset={ids['dataset']}&persona={ids['persona']}"
    page.goto(srv.url + path + query)
    settle(page)
    assert page.dialogs == [], f"{script}: a payload ran: {page.dialogs}"
    assert injected(page) == [], f"{script}: markup from user data reached the page"
    assert not page.locator("[data-testid='stException']").count(), f"{script}: the page failed"


def test_the_payloads_are_shown_as_text(payload_server, page):
    """The check above could pass on a page that shows nothing: the Overview shows the names verbatim."""
    srv, _ = payload_server
    page.goto(srv.url + "/")
    settle(page, "xss-script")
    text = page.inner_text("[data-testid='stMain']")
    assert SCRIPT in text and IMG in text
    assert page.dialogs == [] and injected(page) == []


def test_table_toolbar_offers_no_unneutralised_download(payload_server, page):
    """client.disableDataExport: the dataframe toolbar has no CSV download (it would bypass to_safe_csv)."""
    srv, _ = payload_server
    page.goto(srv.url + "/Maps")
    settle(page)
    frame = page.locator("[data-testid='stDataFrame']").first
    frame.hover()
    toolbar = page.locator("[data-testid='stElementToolbar']").first
    toolbar.locator("button").first.wait_for(timeout=30_000)
    assert toolbar.count() == 1  # the toolbar is there (search, fullscreen)...
    labels = [b.get_attribute("aria-label") or "" for b in toolbar.locator("button").all()]
    assert labels, "no toolbar buttons found"
    assert not [label for label in labels if "download" in label.lower()], labels
