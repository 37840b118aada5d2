"""Read event-log CSV files: detect the dialect, parse in a stream, validate, and write the stored layout.

Two passes, neither of which holds the file in memory:

1. :func:`scan_csv` (:mod:`analytics.ingest.read`, Python, streaming): decompresses gzip, decodes
   the bytes (UTF-8 with or without BOM, UTF-16, cp1252, cp1258, cp874 ...; see
   :mod:`analytics.ingest.sniff`), normalises text to NFC, splits records (RFC 4180 quoting),
   checks every record has as many values as the header, applies the row filter, and writes the
   kept columns of good records, with their ``file_row`` and ``file_line``, to a staging Parquet
   file.
2. :func:`build_event_store` (:mod:`analytics.ingest.store`, DuckDB): parses timestamps and
   numbers (:mod:`analytics.ingest.parse`), rejects bad values, counts rows identical in every
   column of the file (dropped only when asked), computes the integer codes and the order
   (timestamp, then file row) once, and writes the stored layout of :mod:`analytics.schema` as
   Parquet.

Every problem is a :class:`analytics.ingest.rejects.Reject` naming the row, the line, the column,
the value and what was expected; without ``allow_bad_rows`` the first one is raised as
:class:`core.errors.BadInputError`.

What an import then says about how it read the file (encoding, day order, the zone of times
without an offset and its clock changes, ties) is worded once, in :mod:`analytics.ingest.notes`.

The package exposes its two entry points; every other name is imported from the module it lives in.
"""

from analytics.ingest.read import scan_csv
from analytics.ingest.store import build_event_store

__all__ = ["build_event_store", "scan_csv"]
