"""Defaults the CLI's parser shows, importable without Ibis, pandas or DuckDB.

``python cli.py --help`` builds every sub-command's flags; importing the analysis modules for a
default would cost a second before anything is done. This module is the one home of these
defaults: ``analytics.outlook`` reads them from here.
"""

from __future__ import annotations

OUTLOOK_ACTIVE_DAYS = 30
OUTLOOK_MIN_TRANSITIONS = 5
