"""Change sets: the difference between two states of reference data, and their files."""
