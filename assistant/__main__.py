"""``python -m assistant`` runs the CLI (same as the ``assistant`` command).

The CLI lives in :mod:`ui.cli`, on top of both packages; this launcher is the one module of
``assistant/`` that names ``ui``, and nothing imports it.
"""

from ui.cli import app

app(prog_name="assistant")
