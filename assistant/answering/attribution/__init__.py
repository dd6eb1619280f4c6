"""attribution step of answering."""
