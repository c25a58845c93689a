"""Persistence: SQLite records (sqlite.py, migrations.py) and blob bytes on fsspec (blobs.py)."""
