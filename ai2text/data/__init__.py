"""Datasets: NeMo manifests, speaker splits and shards built from what the platform collected."""
