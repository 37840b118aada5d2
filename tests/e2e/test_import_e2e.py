"""Browser test of the Data page: upload → preview → mapping → import, the bad-row report, the dataset list."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import download, wait_for_app

pytestmark = pytest.mark.e2e

CSV = (
    "Ticket ID;Event time;Activity;Channel\n"
    "T1;25/03/2024 09:00;Réunion découverte;web\n"
    "T1;26/03/2024 10:30;Pricing page;web\n"
    "T2;27/03/2024 11:00;Blog;email\n"
    "T2;not a date;Blog;email\n"
)


def test_upload_map_import_and_download_the_report(fresh_server, page, tmp_path):
    srv = fresh_server(env={"JOURNEYLENS_NO_DEMO": "1"})
    path = tmp_path / "tickets.csv"
    path.write_bytes(CSV.encode("cp1252"))

    page.goto(srv.url + "/Data")
    wait_for_app(page, "Upload a CSV export")
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(path))
    wait_for_app(page, "Preview")
    main = page.locator("[data-testid='stMain']")
    assert "Windows-1252 (Western European) (detected)" in main.inner_text()
    assert "semicolon (detected)" in main.inner_text()

    # The bad row stops the import, with the message naming row, column and value.
    page.get_by_role("button", name="Import", exact=True).click()
    page.get_by_text("Unreadable timestamp").first.wait_for(timeout=60_000)
    error = page.locator("[data-testid='stAlert']").filter(has_text="Unreadable timestamp").inner_text()
    assert "row 4" in error and "'Event time'" in error and "'not a date'" in error

    # The failed import leaves no progress bar and offers the next step where it is.
    assert page.locator("[data-testid='stProgress']").count() == 0
    assert "Import failed: nothing was stored" in main.inner_text()
    page.get_by_role("button", name="Import without the bad rows", exact=True).click()
    page.get_by_text("1 row left out").first.wait_for(timeout=60_000)
    wait_for_app(page)
    page.locator("[data-testid='stMetric']").first.wait_for(timeout=60_000)
    text = main.inner_text()
    assert "Imported: tickets" in text
    assert "4 rows read, 3 events stored" in text
    assert page.locator("[data-testid='stProgress']").count() == 0
    # The suggested mapping was used: two tickets, three activities.
    page.locator("[data-testid='stMetric']").first.wait_for(timeout=60_000)
    metrics = dict(t.split(None, 1) for t in page.locator("[data-testid='stMetric']").all_inner_texts()[:4])
    assert metrics == {"Events": "3", "Journeys": "2", "Accounts": "2", "Activities": "3"}
    report = download(page, "Download the rejected-rows report (CSV)").read_bytes().decode("utf-8-sig")
    assert report.splitlines()[0] == "row,line,column,value,reason"
    assert "4,5,Event time,not a date,Unreadable timestamp" in report

    # The dataset is listed on the other tab.
    page.get_by_role("tab", name="Datasets and links").click()
    page.get_by_role("heading", name="Link to a map").wait_for(timeout=60_000)
    assert "tickets" in main.inner_text()
    assert not page.locator("[data-testid='stException']").count()

    # "Explore this dataset" opens Flows with the new dataset chosen.
    page.get_by_role("tab", name="Import").click()
    page.get_by_role("link", name="Explore this dataset").click()
    page.wait_for_url("**/Flows?dataset=1*", timeout=60_000)
    wait_for_app(page)
    assert "dataset=1" in page.url
    assert not page.locator("[data-testid='stException']").count()


def test_a_second_sheet_gets_its_own_column_suggestion(server, page, tmp_path):
    # The browser keeps a picker's value unless the app sets it: each new sheet's roles must be set, not
    # only cleared (AppTest, which has no browser, did not see them stay at "—").
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.active.append(["note"])
    events = book.create_sheet("Events")
    for row in (["journey_id", "timestamp", "activity"], ["j1", "2024-03-01 09:00", "Visit"]):
        events.append(row)
    path = tmp_path / "two_sheets.xlsx"
    book.save(path)
    page.goto(server.url + "/Data?data_tab=Import")
    wait_for_app(page, "Upload a CSV export")
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(path))
    wait_for_app(page, "Preview")
    page.locator("[data-testid='stSelectbox']").filter(has_text="Sheet").first.click()
    page.get_by_role("option", name="Events").click()
    wait_for_app(page, "sheet Events")
    for label, column in (("Journey id", "journey_id"), ("Timestamp", "timestamp"), ("Activity", "activity")):
        picker = page.locator("[data-testid='stSelectbox']").filter(has_text=label).first
        shown = picker.evaluate(
            "e => e.textContent + ' ' + [...e.querySelectorAll('input')].map(i => i.value).join(' ')"
        )
        assert column in shown, (label, shown)
