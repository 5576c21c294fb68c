"""The ``assistant`` command: thin wrappers over the public API (``index``, ``docs``, ``ask``, ``serve``, ``eval``).

Heavy libraries are imported inside the commands, so ``assistant --help`` answers fast.
Every :class:`~assistant.errors.AssistantError` is printed as one line with a non-zero exit.
"""

from __future__ import annotations

import json
import sys
from functools import wraps
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(
    help="Answer questions from your documents, citing the exact passages.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _fail(message: str, code: int = 1):
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def friendly(fn):
    """Turn expected errors into one line on stderr and exit code 1 (2 for a bad question file)."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        from assistant.errors import AssistantError, EvalError

        try:
            return fn(*args, **kwargs)
        except EvalError as err:
            _fail(str(err), 2)
        except AssistantError as err:
            _fail(str(err), 1)
        except KeyboardInterrupt:
            _fail("interrupted", 130)

    return wrapper


def _settings(**overrides):
    """The settings (environment + ``overrides``); a bad one exits 1 with one line naming it."""
    from assistant.errors import ConfigError
    from assistant.settings import load_settings

    try:
        return load_settings(**overrides)
    except ConfigError as err:
        _fail(str(err))


def _assistant(settings, progress: bool = True):
    from assistant.core import Assistant

    return Assistant.from_settings(settings, progress=progress)


@app.command()
@friendly
def index(
    paths: Annotated[
        Optional[list[Path]], typer.Argument(help="Files or folders of .txt/.md/.html documents to add or update (default: settings).")
    ] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Embed every document again even if nothing changed.")] = False,
    prune: Annotated[bool, typer.Option("--prune", help="Remove indexed documents whose file no longer exists.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
):
    """Add or update documents: clean -> passages -> embeddings -> Chroma.

    Unchanged files are skipped (by content hash), changed ones replaced; documents indexed
    earlier from other paths are kept. A new build is written and becomes active only when
    complete, so questions keep being answered meanwhile.
    """
    from assistant.core import Assistant

    settings = _settings(documents=paths or None)
    assistant = Assistant.from_settings(settings, ensure_index=False)
    typer.echo(assistant.index(rebuild=rebuild, prune=prune, progress=not quiet).describe())


@app.command()
@friendly
def docs(as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list instead of a table.")] = False):
    """List the indexed documents: id, title, passages, indexed-at time, source file."""
    from datetime import datetime

    from assistant.core import open_store

    records = open_store(_settings()).catalog()
    if as_json:
        typer.echo(json.dumps([r.__dict__ for r in records], ensure_ascii=False))
        return
    from rich.table import Table

    from assistant.terminal import stdout_console

    table = Table(box=None, highlight=False)
    for name in ("document", "title", "passages", "indexed at", "source"):
        table.add_column(name, overflow="fold")
    for r in records:
        when = datetime.fromtimestamp(r.indexed_at).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(r.doc_id, r.title, str(r.n_passages), when, r.source)
    console = stdout_console()
    console.print(table)
    total = sum(r.n_passages for r in records)
    console.print(f"{len(records)} document{'' if len(records) == 1 else 's'}, {total} passages", highlight=False)


def _print_answer(answer) -> None:
    from rich.markup import escape

    from assistant.terminal import stdout_console

    console = stdout_console()
    if answer.notice:
        console.print(f"[dim]{escape(answer.notice)}[/dim]", highlight=False)
    console.print(escape(answer.text), highlight=False)
    if answer.abstain_reason:
        console.print(f"[dim]({escape(answer.abstain_reason)})[/dim]", highlight=False)
    for flag in answer.flags:
        console.print(f"[red]Not verified:[/red] {escape(flag.text)} ({escape(flag.detail)})", highlight=False)
    cites = answer.citations or answer.related
    if cites:
        console.print("\n[bold]Sources[/bold]" if answer.citations else "\n[bold]Related passages (not an answer)[/bold]")
    for c in cites:
        p = c.passage
        label = f"[{c.n}]" if answer.citations else "-"
        lines = f"line {p.line_start}" if p.line_start == p.line_end else f"lines {p.line_start}-{p.line_end}"
        console.print(f"{escape(label)} {escape(p.title)} ({escape(p.doc_id)}, {lines}, score {c.score:.2f})", highlight=False)
        for s, e in c.highlights:
            console.print(f"    [yellow]{escape(' '.join(p.text[s - p.start : e - p.start].split()))}[/yellow]", highlight=False)


@app.command()
@friendly
def ask(
    question: Annotated[str, typer.Argument(help="The question; '-' reads it from standard input.")],
    history: Annotated[Optional[list[str]], typer.Option("--history", help="An earlier user turn (repeatable, oldest first).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")] = False,
):
    """Answer one question with cited passages."""
    if question == "-":
        question = sys.stdin.read()
    from assistant.core import clean_question

    from assistant.errors import QuestionError

    settings = _settings()
    try:
        clean_question(question, settings.max_question_chars)  # fail fast, before loading the model
    except QuestionError as err:
        if as_json:  # a script reading stdout gets JSON; the one line still goes to stderr
            typer.echo(json.dumps({"question": question, "error": str(err)}, ensure_ascii=False))
        raise
    assistant = _assistant(settings, progress=not as_json)
    report = assistant.last_index_report
    if report is not None and report.rebuilt:  # the first start builds the index: say so (stdout stays the answer)
        typer.echo(report.describe(), err=True)
    if assistant.index_notice:  # another indexer is writing, or the store is read-only
        typer.echo(assistant.index_notice, err=True)
    streamed = False
    for item in assistant.ask_stream(question, history or ()):
        if isinstance(item, str):
            if not as_json:  # a language model is writing: show its words as they come
                typer.echo(item, nl=False, err=True)
                streamed = True
            continue
        answer = item
    if streamed:
        typer.echo("", err=True)
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
    else:
        _print_answer(answer)


@app.command()
@friendly
def serve(
    host: Annotated[Optional[str], typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[Optional[int], typer.Option(help="TCP port (default 7860).")] = None,
    root_path: Annotated[
        Optional[str], typer.Option("--root-path", help="Path prefix a reverse proxy serves the app under, e.g. /assistant.")
    ] = None,
    allowed_origin: Annotated[
        Optional[list[str]],
        typer.Option("--allowed-origin", help="Origin (http://host:port) that may embed the widget and call /api (repeatable)."),
    ] = None,
):
    """Serve the chat, the embeddable widget and the HTTP API at http://HOST:PORT, building the index first if needed."""
    settings = _settings(host=host, port=port, root_path=root_path, allowed_origins=allowed_origin or None)
    _check_port(settings.host, settings.port)  # a taken port fails at once, not after building the index
    assistant = _assistant(settings)
    if assistant.last_index_report is not None:
        typer.echo(assistant.last_index_report.describe())
    if assistant.index_notice:
        typer.echo(assistant.index_notice)
    assistant.warm_up()
    from ui.server import serve as run_server

    base = f"http://{settings.host}:{settings.port}"
    public = f" (public prefix {settings.root_path})" if settings.root_path else ""
    typer.echo(f"serving the chat at {base}/{public}; widget {base}/widget/, API {base}/api/ask, docs {base}/docs")
    run_server(assistant, settings)


def _check_port(host: str, port: int) -> None:
    """Raise :class:`~assistant.errors.ServerError` if ``host:port`` cannot be listened on (before saying "serving")."""
    import socket

    from assistant.errors import ServerError

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            sock.bind((host, port))
    except OSError as err:
        raise ServerError(f"Cannot listen on {host}:{port} ({err.strerror or err}); choose another with --port (or ASSISTANT_PORT).") from None


@app.command("eval")
@friendly
def eval_(
    questions: Annotated[Optional[Path], typer.Option(help="JSONL question set (default seeds/questions.jsonl).")] = None,
    report: Annotated[Optional[Path], typer.Option(help="Write the JSON report here.")] = None,
    html: Annotated[Optional[Path], typer.Option("--html", help="Write a self-contained HTML report here.")] = None,
    fail_under: Annotated[
        Optional[list[str]], typer.Option("--fail-under", help="METRIC=VALUE floor (repeatable); replaces the default for METRIC.")
    ] = None,
    baseline: Annotated[Optional[Path], typer.Option(help="An earlier JSON report to compare with.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the summary.")] = False,
):
    """Run the question set, print per-question results and a summary; exit 1 below the thresholds, 2 on a bad file."""
    from assistant import evaluation as ev
    from assistant.errors import EvalError

    settings = _settings()
    floors = dict(settings.eval.fail_under)
    ceilings = dict(settings.eval.fail_over)
    for item in fail_under or []:
        name, value = ev.parse_threshold(item)
        (floors if ev.HIGHER_IS_BETTER[name] else ceilings)[name] = value
    base = None
    if baseline:
        try:
            base = json.loads(baseline.read_text(encoding="utf-8"))["summary"]
        except (OSError, ValueError, KeyError) as err:
            raise EvalError(f"Cannot read baseline report {baseline}: {err}") from None
    assistant = _assistant(settings, progress=False)
    qs = ev.load_questions(questions or settings.eval.questions, assistant.documents())
    result = ev.run_eval(assistant, qs)
    from assistant.eval_report import print_report, write_html

    print_report(result, floors, ceilings, base, per_question=not quiet)
    if report:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(result.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    if html:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(write_html(result, {d.doc_id: d for d in assistant.documents()}), encoding="utf-8")
    failures = ev.check_thresholds(result.summary, floors, ceilings)
    if failures:
        for f in failures:
            typer.secho(f"FAIL {f}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.secho("eval passed all thresholds", fg=typer.colors.GREEN)


if __name__ == "__main__":
    app()
