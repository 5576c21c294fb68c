"""``python -m assistant`` runs the CLI (same as the ``assistant`` command)."""

from assistant.cli import app

app(prog_name="assistant")
