-- The S3 inbox: one row per object key taken from the inbox. A poller wins an object by inserting
-- its row (or by taking over a claim whose lease ran out); the row is kept once the object is
-- settled, so the same key (and ETag) is never ingested twice.

CREATE TABLE inbox_claims (
    object_key    text PRIMARY KEY,
    etag          text NOT NULL,
    owner         text NOT NULL,
    claimed_until timestamptz NOT NULL,
    settled       text CHECK (settled IN ('processed', 'failed')),
    audio_id      uuid REFERENCES audio (id) ON DELETE SET NULL,
    reason        text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
