"""Stage 2: Japanese text made comparable — normalised, tokenised, read in kana."""
