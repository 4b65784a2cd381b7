"""Papers into an index: parsing page dumps, JSONL, CSV and reference-manager files, uploads,
chunking, dates, and the atomic ingest that writes a new generation."""
