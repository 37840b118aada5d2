"""The server settings a shared deployment relies on, read from .streamlit/config.toml."""

from __future__ import annotations

import tomllib

import pytest

from tests import ROOT

CONFIG = ROOT / ".streamlit" / "config.toml"


@pytest.fixture(scope="module")
def config() -> dict:
    return tomllib.loads(CONFIG.read_text(encoding="utf-8"))


def test_xsrf_and_cors_protection_stay_on(config):
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["enableCORS"] is True
    assert config["server"].get("xsrfCookieSameSite", "lax") in ("lax", "strict")


def test_upload_limit_fits_event_logs(config):
    assert config["server"]["maxUploadSize"] == 1024


def test_users_see_no_error_details_or_external_error_links(config):
    assert config["client"]["showErrorDetails"] == "none"
    assert config["client"]["showErrorLinks"] is False


def test_no_usage_statistics(config):
    assert config["browser"]["gatherUsageStats"] is False


def test_table_toolbar_export_is_disabled(config):
    # The toolbar's CSV download and clipboard copy bypass services.csv_safety.
    assert config["client"]["disableDataExport"] is True


def test_nothing_else_is_exposed(config):
    assert config["server"]["enableStaticServing"] is False
    assert config["server"]["enableAgentApi"] is False
    assert config["client"]["toolbarMode"] in ("minimal", "viewer")


def test_no_secret_in_config(config):
    assert "cookieSecret" not in config.get("server", {})
    assert "auth" not in config


def test_every_key_is_a_streamlit_option(config):
    """A misspelt key is silently ignored by Streamlit: refuse it here."""
    from streamlit import config as st_config

    known = set(st_config.get_config_options())
    keys = {f"{section}.{key}" for section, values in config.items() for key in values}
    assert keys - known == set()


def test_streamlit_reads_our_values(monkeypatch):
    """Streamlit itself, started in the project folder, reports the values we set."""
    import os

    from streamlit import config as st_config

    monkeypatch.chdir(ROOT)
    for name in [n for n in os.environ if n.startswith("STREAMLIT_")]:
        monkeypatch.delenv(name)  # e.g. the AppTest suite asks for full error details
    st_config.get_config_options(force_reparse=True, options_from_flags={})
    try:
        assert st_config.get_option("server.enableXsrfProtection") is True
        assert st_config.get_option("server.maxUploadSize") == 1024
        assert st_config.get_option("client.showErrorDetails") == "none"
        assert st_config.get_option("browser.gatherUsageStats") is False
        assert st_config.get_option("client.disableDataExport") is True
    finally:
        monkeypatch.undo()
        st_config.get_config_options(force_reparse=True)
