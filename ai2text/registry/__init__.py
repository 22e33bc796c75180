"""Model versions: files in blobs, rows in the metadata database, one production version."""
