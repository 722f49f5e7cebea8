"""Measure answer quality on a labelled question set, against simple baselines."""
