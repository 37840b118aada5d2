"""Persistence of journey maps and dataset descriptions: SQLModel tables, engine, CRUD."""
