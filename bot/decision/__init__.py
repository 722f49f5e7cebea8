"""Stage 4: from a ranking to one answer — answer, choices, fallback or emergency."""
