"""Ray Serve applications: thin adapters over :mod:`ai2text` (ingress, batch and streaming ASR,
NLP, embeddings, search). They arrive with the Serving issue; no ASR logic lives here."""
