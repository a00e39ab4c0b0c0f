"""A small geography, the engine's fixture for hierarchies, association tables and a spec
derived from the metadata: countries, their subdivisions (within subdivisions), tags of
subdivisions, cities and airports."""
