"""Item pipelines, in the order they run: clean (100), plan (200), thumbnails (300), write (800), validate (900)."""
