"""A small catalogue of books whose schema changes under its seed data, for the engine's tests."""
