-- Model registry: statuses candidate, production, retired, rejected; the vocabulary and size of a
-- version; and its lineage (the training run, the dataset manifest hash, the parent version).

ALTER TABLE model_versions DROP CONSTRAINT model_versions_status_check;
UPDATE model_versions SET status = 'retired' WHERE status = 'archived';
ALTER TABLE model_versions ADD CONSTRAINT model_versions_status_check
    CHECK (status IN ('candidate', 'production', 'retired', 'rejected'));

ALTER TABLE model_versions
    ADD COLUMN vocabulary      text CHECK (vocabulary IN ('char', 'bpe')),
    ADD COLUMN kind            text CHECK (kind IN ('ctc', 'hybrid', 'rnnt')),
    ADD COLUMN parameters      bigint CHECK (parameters > 0),
    ADD COLUMN parent_version  text REFERENCES model_versions (version),
    ADD COLUMN training_run_id uuid REFERENCES training_runs (id),
    ADD COLUMN dataset_hash    text;
