"""Console output of the CLI (rich)."""

from __future__ import annotations

import sys


def stdout_console():
    """A ``rich.console.Console`` on stdout: at the terminal's width in a terminal; when stdout
    is piped or redirected, without rich's default hard wrap at 80 columns (lines and table
    cells stay whole, for ``grep``, ``less`` or a file). Emoji codes are left as they are: a
    quoted ``root:x:0`` must not print as ``root❌0``."""
    from rich.console import Console

    if sys.stdout.isatty():
        return Console(emoji=False)
    return Console(width=100_000, soft_wrap=True, emoji=False)
