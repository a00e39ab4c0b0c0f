"""Executing change sets on a database connection."""
