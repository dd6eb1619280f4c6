"""The `assistant` command and the terminal chat: thin adapters over `assistant.Assistant`."""

from assistant.cli.main import main

__all__ = ["main"]
