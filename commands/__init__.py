"""The commands of ``python cli.py``: one module per group, each a thin layer on the services.

Every module adds its parsers with ``add(sub)`` and imports nothing heavy at the top (no Ibis,
pandas, DuckDB or database layer): a command imports the services it runs when it runs, so
``python cli.py --help`` starts at once. What a report prints is shaped by ``services.reports``.
"""
