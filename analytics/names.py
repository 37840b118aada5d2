"""Defaults the CLI's parser shows, importable without Ibis, pandas or DuckDB.

``python cli.py --help`` builds every sub-command's flags; importing the analysis modules for a
default would cost a second before anything is done. The analysis modules keep their own
constants; ``tests/unit/test_cli_startup.py`` checks that these agree with them.
"""

from __future__ import annotations

# analytics.outlook.DEFAULT_ACTIVE_DAYS / DEFAULT_MIN_TRANSITIONS
OUTLOOK_ACTIVE_DAYS = 30
OUTLOOK_MIN_TRANSITIONS = 5
