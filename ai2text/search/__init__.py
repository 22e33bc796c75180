"""Search over transcripts: the index (lexical rows plus dense vectors) and hybrid queries."""
