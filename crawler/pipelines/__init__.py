"""Item pipelines, in the order they run: clean (100), thumbnails (300), write (800)."""
