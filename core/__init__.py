"""The bottom floor: plain Python that every layer may import.

Nothing here imports Streamlit, SQLModel, SQLAlchemy, Ibis, DuckDB, Plotly or any other JourneyLens
package: the error root and the journey map's typed read model live here so that ``db/``,
``analytics/``, ``charts/`` and ``services/`` can all share them without pointing upwards.
"""
