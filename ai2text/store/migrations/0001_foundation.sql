-- Foundation schema: recordings, speakers and their splits, transcripts, models, training, audit,
-- and the tables of the PostgreSQL event bus.

CREATE EXTENSION IF NOT EXISTS vector;

-- The installation's split ratios, written once; speakers are assigned from them, never again.
CREATE TABLE split_policy (
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    train_percent integer NOT NULL CHECK (train_percent BETWEEN 1 AND 98),
    val_percent   integer NOT NULL CHECK (val_percent BETWEEN 1 AND 98),
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (train_percent + val_percent < 100)
);

-- Stable bucket 0..99 of a speaker id: the first 32 bits of its SHA-256, mod 100.
-- ai2text.store.splits.speaker_bucket computes the same number in Python.
CREATE FUNCTION ai2text_speaker_bucket(speaker text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT (('x' || substr(encode(sha256(convert_to(speaker, 'UTF8')), 'hex'), 1, 8))::bit(32)::bigint % 100)::integer
$$;

CREATE FUNCTION ai2text_split_for(speaker text) RETURNS text
LANGUAGE sql STABLE STRICT AS $$
    SELECT CASE
        WHEN ai2text_speaker_bucket(speaker) < p.train_percent THEN 'train'
        WHEN ai2text_speaker_bucket(speaker) < p.train_percent + p.val_percent THEN 'val'
        ELSE 'test'
    END
    FROM split_policy p
$$;

CREATE TABLE speakers (
    speaker_id text PRIMARY KEY CHECK (length(speaker_id) BETWEEN 1 AND 200),
    split      text NOT NULL CHECK (split IN ('train', 'val', 'test')),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (speaker_id, split)
);

CREATE FUNCTION ai2text_speakers_split_is_final() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.split IS DISTINCT FROM OLD.split THEN
        RAISE EXCEPTION 'speaker % is assigned to split % for good', OLD.speaker_id, OLD.split
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER speakers_split_is_final BEFORE UPDATE ON speakers
    FOR EACH ROW EXECUTE FUNCTION ai2text_speakers_split_is_final();

CREATE TABLE audio (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    sha256            text NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    speaker_id        text,
    split             text CHECK (split IN ('train', 'val', 'test')),
    source            text NOT NULL CHECK (source IN ('upload', 'hot_folder', 's3_inbox', 'synthetic', 'import')),
    original_filename text,
    duration_s        double precision NOT NULL CHECK (duration_s >= 0),
    sample_rate       integer NOT NULL CHECK (sample_rate > 0),
    snr_db            double precision,
    device_type       text,
    environment       text,
    blob_key          text,
    reference_text    text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (speaker_id, split) REFERENCES speakers (speaker_id, split),
    CHECK ((speaker_id IS NULL) = (split IS NULL))
);
CREATE INDEX audio_speaker_idx ON audio (speaker_id);
CREATE INDEX audio_split_idx ON audio (split);

-- A recording's split is its speaker's: assigned from the hash on the speaker's first recording,
-- and a recording that names another split is refused. ON CONFLICT DO NOTHING on the speaker row
-- makes two concurrent first recordings wait for each other, so the check is race-free.
CREATE FUNCTION ai2text_audio_assign_split() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    assigned text;
BEGIN
    IF NEW.speaker_id IS NULL THEN
        IF NEW.split IS NOT NULL THEN
            RAISE EXCEPTION 'a recording without a speaker cannot name a split'
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END IF;
    INSERT INTO speakers (speaker_id, split)
        VALUES (NEW.speaker_id, coalesce(NEW.split, ai2text_split_for(NEW.speaker_id)))
        ON CONFLICT (speaker_id) DO NOTHING;
    SELECT split INTO STRICT assigned FROM speakers WHERE speaker_id = NEW.speaker_id;
    IF NEW.split IS NOT NULL AND NEW.split <> assigned THEN
        RAISE EXCEPTION 'speaker % already has recordings in split %, refusing split %',
            NEW.speaker_id, assigned, NEW.split
            USING ERRCODE = 'check_violation';
    END IF;
    NEW.split := assigned;
    RETURN NEW;
END
$$;

CREATE TRIGGER audio_assign_split BEFORE INSERT OR UPDATE OF speaker_id, split ON audio
    FOR EACH ROW EXECUTE FUNCTION ai2text_audio_assign_split();

CREATE TABLE model_versions (
    version     text PRIMARY KEY CHECK (version ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'),
    preset      text,
    uri         text NOT NULL,
    sha256      text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    status      text NOT NULL DEFAULT 'candidate'
                CHECK (status IN ('candidate', 'production', 'archived', 'rejected')),
    metrics     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    promoted_at timestamptz
);
CREATE UNIQUE INDEX model_versions_one_production ON model_versions (status) WHERE status = 'production';

CREATE TABLE transcripts (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    audio_id      uuid NOT NULL REFERENCES audio (id) ON DELETE CASCADE,
    model_version text NOT NULL,
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
    text          text,
    text_clean    text,
    words         jsonb NOT NULL DEFAULT '[]'::jsonb,
    segments      jsonb NOT NULL DEFAULT '[]'::jsonb,
    confidence    double precision CHECK (confidence BETWEEN 0 AND 1),
    verified      boolean NOT NULL DEFAULT false,
    verified_by   text,
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (audio_id, model_version)
);

CREATE TABLE training_runs (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name          text NOT NULL UNIQUE,
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
    preset        text,
    base_version  text REFERENCES model_versions (version),
    dataset_uri   text,
    config        jsonb NOT NULL DEFAULT '{}'::jsonb,
    metrics       jsonb NOT NULL DEFAULT '{}'::jsonb,
    model_version text REFERENCES model_versions (version),
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz
);

CREATE TABLE epoch_metrics (
    run_id     uuid NOT NULL REFERENCES training_runs (id) ON DELETE CASCADE,
    epoch      integer NOT NULL CHECK (epoch >= 0),
    step       integer NOT NULL CHECK (step >= 0),
    train_loss double precision,
    val_loss   double precision,
    val_wer    double precision,
    val_cer    double precision,
    lr         double precision,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, epoch)
);

CREATE TABLE predictions (
    id            bigserial PRIMARY KEY,
    audio_id      uuid NOT NULL REFERENCES audio (id) ON DELETE CASCADE,
    model_version text NOT NULL,
    run_id        uuid REFERENCES training_runs (id) ON DELETE CASCADE,
    hypothesis    text NOT NULL,
    reference     text,
    wer           double precision,
    cer           double precision,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX predictions_once ON predictions (audio_id, model_version, coalesce(run_id, '00000000-0000-0000-0000-000000000000'::uuid));

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    action      text NOT NULL,
    entity_type text NOT NULL,
    entity_id   text,
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id);

-- Event bus. bus_events is the transactional outbox: a stage inserts its outgoing events in the
-- transaction that commits its results. The PostgreSQL transport fans each event out to one
-- bus_deliveries row per subscribed consumer in that same statement; the NATS transport relays
-- unrelayed rows to JetStream.
CREATE TABLE bus_events (
    id              uuid PRIMARY KEY,
    type            text NOT NULL,
    source          text NOT NULL,
    subject         text,
    time            timestamptz NOT NULL,
    datacontenttype text NOT NULL DEFAULT 'application/json',
    idempotency_key text NOT NULL,
    data            jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    relayed_at      timestamptz
);
CREATE INDEX bus_events_unrelayed_idx ON bus_events (created_at) WHERE relayed_at IS NULL;

CREATE TABLE bus_subscriptions (
    consumer   text NOT NULL CHECK (consumer ~ '^[A-Za-z0-9_-]{1,64}$'),
    event_type text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_type)
);
CREATE INDEX bus_subscriptions_type_idx ON bus_subscriptions (event_type);

-- available_at is when the delivery may be claimed next: after a retry's backoff for a pending
-- row, at the end of the lease for a leased one (a killed consumer's work comes back then).
CREATE TABLE bus_deliveries (
    consumer     text NOT NULL,
    event_id     uuid NOT NULL REFERENCES bus_events (id) ON DELETE CASCADE,
    state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'leased', 'dead')),
    attempts     integer NOT NULL DEFAULT 0,
    available_at timestamptz NOT NULL DEFAULT now(),
    lease_owner  text,
    last_error   text,
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX bus_deliveries_ready_idx ON bus_deliveries (consumer, available_at) WHERE state <> 'dead';

-- What each consumer has handled, by idempotency key: inserted in the handler's own transaction,
-- so a redelivered event never repeats its effect.
CREATE TABLE bus_processed (
    consumer        text NOT NULL,
    idempotency_key text NOT NULL,
    event_id        uuid NOT NULL,
    processed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, idempotency_key)
);

-- Dead letters of transports that keep no delivery rows here (NATS).
CREATE TABLE bus_dead_letters (
    consumer   text NOT NULL,
    event_id   uuid NOT NULL,
    attempts   integer NOT NULL,
    last_error text NOT NULL,
    event      jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
