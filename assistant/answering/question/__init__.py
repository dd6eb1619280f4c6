"""question step of answering."""
