"""Stage 3: candidate services for a message — lexical and dense rankings, fused."""
