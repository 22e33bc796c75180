"""Metadata (PostgreSQL), blobs and vectors."""
