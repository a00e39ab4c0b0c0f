"""Change sets for people (text, markdown) and the checks of a live database."""
