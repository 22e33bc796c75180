-- Search: every pair of adjacent folded syllables becomes a lexeme of its own ("xin_chao"), so a
-- phrase query is an AND of rare pairs instead of an AND of common syllables whose every shared
-- document had to be rechecked for positions. Documents indexed before get their pairs from the
-- positions already in their lexical vector (new ones from the indexer).
UPDATE search_documents d
SET lexemes = d.lexemes || coalesce((
    SELECT array_to_tsvector(array_agg(DISTINCT a.lexeme || '_' || b.lexeme))
    FROM (SELECT u.lexeme, unnest(u.positions) AS pos FROM unnest(d.lexemes) u) a
    JOIN (SELECT u.lexeme, unnest(u.positions) AS pos FROM unnest(d.lexemes) u) b
      ON b.pos = a.pos + 1
), ''::tsvector);
