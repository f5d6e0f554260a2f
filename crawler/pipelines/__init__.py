"""Item pipelines, in the order they run: clean (100), write (800)."""
