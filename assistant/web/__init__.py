"""The Gradio web chat: a thin adapter over `assistant.Assistant`."""
