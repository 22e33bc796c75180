"""Evaluation: WER, CER, and Vietnamese tone and diacritic error rates."""
