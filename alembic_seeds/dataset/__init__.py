"""Reading, validating and writing the ``seeddata/`` folder (the desired state)."""
