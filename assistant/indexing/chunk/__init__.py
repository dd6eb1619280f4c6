"""chunk stage of indexing: overlapping windows of sentences, and each file of a run split and chunked within its
work limit."""
