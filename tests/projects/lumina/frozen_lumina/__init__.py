"""The Lumina knowledge base: the database schema that alembic-seeds fills with reference data."""
