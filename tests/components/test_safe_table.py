"""components.safe_table: the table toolbar's export never carries a formula out."""

from __future__ import annotations

import pandas as pd
from streamlit.testing.v1 import AppTest

from components.safe_table import table_for_display


def test_neutralised_only_when_the_toolbar_can_export():
    frame = pd.DataFrame({"touchpoint": ["=cmd|' /C calc'!A0", "Demo"], "journeys": [-3, 4]})
    shown = table_for_display(frame, export_enabled=True)
    assert shown["touchpoint"].tolist() == ["'=cmd|' /C calc'!A0", "Demo"]
    assert shown["journeys"].tolist() == [-3, 4]
    assert table_for_display(frame, export_enabled=False) is frame
    assert table_for_display([{"a": "@x"}], export_enabled=True)["a"].tolist() == ["'@x"]


def _page() -> None:
    import pandas as pd

    from components.safe_table import csv_download_button, safe_dataframe

    frame = pd.DataFrame({"activity": ['=HYPERLINK("http://x")', "Trial"], "n": [1, -2]})
    safe_dataframe(frame, hide_index=True)
    csv_download_button(frame, file_name="activities.csv")


def test_page_helpers_render():
    at = AppTest.from_function(_page)
    at.run()
    assert not at.exception
    assert len(at.dataframe) == 1
    from streamlit import config

    shown = at.dataframe[0].value["activity"].iloc[0]
    # Cells as they are while the toolbar cannot export them; neutralised once it can.
    expected = '=HYPERLINK("http://x")' if config.get_option("client.disableDataExport") else '\'=HYPERLINK("http://x")'
    assert shown == expected
