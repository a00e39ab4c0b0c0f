"""A small workshop catalogue whose keys are integers: the engine's fixture for such keys."""
