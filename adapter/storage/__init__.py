"""Storage: SQLAlchemy tables, the engine, repositories and migrations."""
