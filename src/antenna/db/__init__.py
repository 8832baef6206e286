"""Database: engine, tables, repositories and Alembic migrations. The only place that builds SQL."""
