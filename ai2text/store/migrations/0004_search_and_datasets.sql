-- Search and dataset accumulation.
--
-- search_documents: one row per indexed recording, its shown transcript (clean text, word times)
-- with a lexical vector over diacritic-folded syllables, so "xin chao" finds "xin chào"; the
-- dense vectors live in the vector store (pgvector's vectors_transcripts by default) under the
-- same audio id. Rows go with their recording (ON DELETE CASCADE).
CREATE TABLE search_documents (
    audio_id      uuid PRIMARY KEY REFERENCES audio (id) ON DELETE CASCADE,
    model_version text NOT NULL,
    speaker_id    text,
    split         text CHECK (split IN ('train', 'val', 'test')),
    verified      boolean NOT NULL DEFAULT false,
    recorded_at   timestamptz NOT NULL,
    text          text NOT NULL,
    words         jsonb NOT NULL DEFAULT '[]'::jsonb,
    lexemes       tsvector NOT NULL,
    indexed_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX search_documents_lexemes_idx ON search_documents USING gin (lexemes);
CREATE INDEX search_documents_speaker_idx ON search_documents (speaker_id);
CREATE INDEX search_documents_recorded_idx ON search_documents (recorded_at);

-- How many threshold crossings of collected hours have been announced as dataset.ready: one
-- row, raised (never lowered) in the transaction that publishes the event.
CREATE TABLE dataset_progress (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    crossings    integer NOT NULL DEFAULT 0 CHECK (crossings >= 0),
    hours        jsonb NOT NULL DEFAULT '{}'::jsonb,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO dataset_progress (singleton) VALUES (true);
