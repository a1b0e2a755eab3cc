"""All queries: Postgres (SQLAlchemy) and the Kubernetes API."""
