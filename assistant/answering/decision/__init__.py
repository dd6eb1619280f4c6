"""decision step of answering."""
