"""Persistence: records in SQLite or PostgreSQL (database.py, sqlite.py, postgres.py, migrations.py),
blob bytes on fsspec (blobs.py), the search index in LanceDB (vectors.py)."""
