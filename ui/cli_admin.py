"""The ``assistant feedback`` and ``assistant token`` sub-commands (see :mod:`ui.cli`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ui.cli_common import friendly
from ui.cli_common import settings as _settings


feedback_app = typer.Typer(help="Ratings of answers given in the chat, the widget and POST /api/feedback.", no_args_is_help=True)


@feedback_app.command("export")
@friendly
def feedback_export(
    out: Annotated[Optional[Path], typer.Option("--out", help="Write the JSONL here (default: standard output).")] = None,
    verdict: Annotated[Optional[str], typer.Option(help="Only ratings with this verdict: up or down.")] = None,
):
    """Write the rated questions as a question set for `assistant eval --questions`.

    One JSON line per rating: the question, its history, the cited spans as candidate
    evidence, the verdict and the comment (tags feedback-up / feedback-down; review the
    feedback-down lines, tagged needs-review, before using them as regression tests).
    """
    from assistant import FeedbackError
    from assistant import VERDICTS, export_questions, open_feedback_store

    if verdict is not None and verdict not in VERDICTS:
        raise FeedbackError(f"--verdict takes up or down, not {verdict!r}.")
    settings = _settings()
    store = open_feedback_store(settings)
    records = store.records()
    rated = [r for r in records if verdict is None or r.verdict == verdict]
    questions = export_questions(records, verdict, settings.open_store().documents() if rated else None)
    text = "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions)
    if out is None:
        sys.stdout.write(text)
    else:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        except OSError as err:
            raise FeedbackError(f"Cannot write {out} ({err.strerror or err}); choose another --out.") from None
    ups, n = sum(q["verdict"] == "up" for q in questions), len(questions)
    where = f" to {out}" if out else ""
    typer.echo(f"exported {n} rated question{'' if n == 1 else 's'} ({ups} up, {n - ups} down) from {store.where}{where}", err=True)
    if left := len(rated) - n:
        typer.echo(f"left out {left} rating{'' if left == 1 else 's'} whose cited text is no longer in the index", err=True)


token_app = typer.Typer(
    help="Bearer tokens for scripts and CI (ASSISTANT_AUTH_MODE=token): only their SHA-256 is stored, in tokens.json in the data dir.",
    no_args_is_help=True,
)


def _tokens():
    from assistant import TokenStore

    return TokenStore(_settings().index.data_dir)


@token_app.command("add")
@friendly
def token_add(
    name: Annotated[str, typer.Argument(help="A name for the token (who or what uses it), unique.")],
    group: Annotated[Optional[list[str]], typer.Option("--group", "-g", help="A group the token's holder is in (repeatable).")] = None,
):
    """Make a token and print it once on standard output (it is stored only as its SHA-256)."""
    token = _tokens().add(name, group or [])
    typer.echo(token)
    typer.echo(f"token {name!r} made for groups: {', '.join(group or []) or '(none but everyone)'}; it is not shown again.", err=True)


@token_app.command("list")
@friendly
def token_list(as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False):
    """List the tokens: name, groups, when made, the first 8 hex digits of the hash (never the token)."""
    from datetime import datetime

    records = [r.public() for r in _tokens().records()]
    if as_json:
        typer.echo(json.dumps(records, ensure_ascii=False))
        return
    for r in records:
        when = datetime.fromtimestamp(r["created_at"]).strftime("%Y-%m-%d %H:%M:%S")
        typer.echo(f"{r['name']}\t{', '.join(r['groups']) or '-'}\t{when}\t{r['hash_prefix']}")
    typer.echo(f"{len(records)} token{'' if len(records) == 1 else 's'}", err=True)


@token_app.command("revoke")
@friendly
def token_revoke(name: Annotated[str, typer.Argument(help="The token's name (as `assistant token list` shows).")]):
    """Delete a token: from the next request on it gets 401."""
    _tokens().revoke(name)
    typer.echo(f"token {name!r} revoked")
