"""reading step of answering."""
