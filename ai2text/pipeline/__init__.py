"""The pipeline's stages: ingestion first; each stage commits its rows and its event together."""
