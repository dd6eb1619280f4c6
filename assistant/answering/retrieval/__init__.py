"""Retrieval step: hybrid search, sentence ranking, and what the reader is shown."""
