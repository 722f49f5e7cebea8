"""Stage 1: the staff's YAML, read, checked and held as frozen records."""
