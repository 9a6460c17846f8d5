"""wingman-run: run an AI coding assistant in a session that vetoes destructive commands."""

__version__ = "0.1.0"
