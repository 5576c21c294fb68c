"""The ``assistant`` command: thin wrappers over the public API (``index``, ``docs``, ``ask``, ``serve``, ``eval``, ``feedback export``).

Heavy libraries are imported inside the commands, so ``assistant --help`` answers fast.
Every :class:`~assistant.errors.AssistantError` is printed as one line with a non-zero exit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ui.cli_common import fail as _fail
from ui.cli_common import friendly
from ui.cli_common import settings as _settings

app = typer.Typer(
    help="Answer questions from your documents, citing the exact passages.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # docstrings are re-wrapped to the terminal (rich mode keeps their line breaks)
)


def _assistant(settings, progress: bool = True):
    from assistant import Assistant

    return Assistant.from_settings(settings, progress=progress)


@app.command()
@friendly
def index(
    paths: Annotated[
        Optional[list[Path]], typer.Argument(help="Files or folders of .txt/.md/.html/.pdf/.docx/.png/.jpg/.tif documents to add or update (default: settings).")
    ] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Embed every document again even if nothing changed.")] = False,
    prune: Annotated[bool, typer.Option("--prune", help="Remove indexed documents whose file no longer exists.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 if any file was skipped (or only partly indexed).")] = False,
):
    """Add or update documents: read -> passages -> embeddings -> Chroma (the index's own path:
    no retriever, reader or language model is loaded).

    Reads .txt, .md, .html, .pdf and .docx files, and scanned pages and .png/.jpg/.tif images by
    OCR (cached per page; ASSISTANT_INDEX__OCR=false turns it off); every other file, and every
    file that cannot be read (encrypted PDF, no text, not UTF-8, empty...), is listed with its
    reason and the rest is indexed. Unchanged files are skipped (by content hash), changed ones replaced;
    documents indexed earlier from other paths are kept. A new build is written and becomes
    active only when complete, so questions keep being answered meanwhile.
    """
    from assistant import index_documents

    settings = _settings(documents=paths or None)
    # paths=None: the settings' documents (``paths`` when given), or those indexed already
    report = index_documents(settings, settings.open_store(), settings.make_embedder(), rebuild=rebuild, prune=prune, progress=not quiet)
    typer.echo(report.describe())
    if strict and report.skipped:
        _fail(f"{len(report.skipped)} file(s) skipped or partly indexed (--strict)")


@app.command()
@friendly
def docs(as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list instead of a table.")] = False):
    """List the indexed documents: id, title, passages, indexed-at time, groups that may read it, source file."""
    from datetime import datetime


    records = _settings().open_store().catalog()
    if as_json:
        typer.echo(json.dumps([r.__dict__ for r in records], ensure_ascii=False))
        return
    from rich.table import Table

    from assistant import stdout_console

    table = Table(box=None, highlight=False)
    for name in ("document", "title", "passages", "indexed at", "groups", "source"):
        table.add_column(name, overflow="fold")
    for r in records:
        when = datetime.fromtimestamp(r.indexed_at).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(r.doc_id, r.title, str(r.n_passages), when, ", ".join(r.groups) or "(nobody)", r.source)
    console = stdout_console()
    console.print(table)
    total = sum(r.n_passages for r in records)
    console.print(f"{len(records)} document{'' if len(records) == 1 else 's'}, {total} passages", highlight=False)


def _print_answer(answer) -> None:
    from rich.markup import escape
    from rich.padding import Padding
    from rich.table import Table

    from assistant import stdout_console

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
        where = ", ".join(x for x in (p.doc_id, p.locator(), p.section) if x)  # "report.pdf, p. 6, 2 LRS"
        console.print(f"{escape(label)} {escape(p.title)} ({escape(where)}, score {c.score:.2f})", highlight=False)
        rows = None  # consecutive quoted table rows print as one small table under their column headers
        for s, e in c.highlights:
            i = p.sentences.index((s, e)) if (s, e) in p.sentences else None
            cells = p.cells[i] if i is not None and p.kinds[i] == "row" else ()
            if cells and rows is not None and rows.columns and tuple(col.header for col in rows.columns) == tuple(h for h, _ in cells):
                rows.add_row(*(v for _, v in cells))
                continue
            if rows is not None:
                console.print(Padding(rows, (0, 0, 0, 4), expand=False))
                rows = None
            if cells:
                rows = Table(*(h for h, _ in cells), box=None, highlight=False, show_header=any(h for h, _ in cells),
                             header_style="bold", style="yellow", pad_edge=False)
                rows.add_row(*(v for _, v in cells))
                continue
            console.print(f"    [yellow]{escape(' '.join(p.text[s - p.start : e - p.start].split()))}[/yellow]", highlight=False)
        if rows is not None:
            console.print(Padding(rows, (0, 0, 0, 4), expand=False))


@app.command()
@friendly
def ask(
    question: Annotated[str, typer.Argument(help="The question; '-' reads it from standard input.")],
    history: Annotated[Optional[list[str]], typer.Option("--history", help="An earlier user turn (repeatable, oldest first).")] = None,
    doc: Annotated[
        Optional[list[str]], typer.Option("--doc", help="Answer only from this document id (repeatable; see `assistant docs`).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")] = False,
):
    """Answer one question with cited passages."""
    if question == "-":
        question = sys.stdin.read()
    from assistant import clean_question

    from assistant import QuestionError

    settings = _settings()
    try:
        clean_question(question, settings.answer.max_question_chars)  # fail fast, before loading the model
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
    for item in assistant.ask_stream(question, history or (), doc or None):
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
    from ui.auth import binds_beyond_loopback

    if settings.server.auth_mode == "none" and binds_beyond_loopback(settings.server.host):
        typer.echo(
            f"warning: serving on {settings.server.host} with ASSISTANT_AUTH_MODE=none: anyone who reaches this address reads "
            "every document; set ASSISTANT_AUTH_MODE=proxy or token (docs/serving.md, \"Sign-in and access\").",
            err=True,
        )
    _check_port(settings.server.host, settings.server.port)  # a taken port fails at once, not after building the index
    assistant = _assistant(settings)
    if assistant.last_index_report is not None:
        typer.echo(assistant.last_index_report.describe())
    if assistant.index_notice:
        typer.echo(assistant.index_notice)
    assistant.warm_up()
    from ui.server import serve as run_server

    base = f"http://{settings.server.host}:{settings.server.port}"
    public = f" (public prefix {settings.server.root_path})" if settings.server.root_path else ""
    typer.echo(f"serving the chat at {base}/{public}; widget {base}/widget/, API {base}/api/ask, docs {base}/docs")
    run_server(assistant, settings)


def _check_port(host: str, port: int) -> None:
    """Raise :class:`~assistant.errors.ServerError` if ``host:port`` cannot be listened on (before saying "serving")."""
    import socket

    from assistant import ServerError

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            sock.bind((host, port))
    except OSError as err:
        raise ServerError(f"Cannot listen on {host}:{port} ({err.strerror or err}); choose another with --port (or ASSISTANT_PORT).") from None


@app.command("eval")
@friendly
def eval_(
    questions: Annotated[
        Optional[list[Path]],
        typer.Option(help="Question set, JSONL or SQuAD JSON (repeatable; default the seed set and the public gate sets)."),
    ] = None,
    scope: Annotated[
        Optional[str],
        typer.Option(help="SQuAD-layout sets: ask each question of its own document ('document') or of the whole set ('all'); "
                     "default the file's \"scope\" key, else 'all'."),
    ] = None,
    report: Annotated[Optional[Path], typer.Option(help="Write the JSON report here.")] = None,
    html: Annotated[Optional[Path], typer.Option("--html", help="Write a self-contained HTML report here.")] = None,
    fail_under: Annotated[
        Optional[list[str]],
        typer.Option("--fail-under", help="METRIC=VALUE limit for every set (repeatable); replaces the default for METRIC."),
    ] = None,
    baseline: Annotated[Optional[Path], typer.Option(help="An earlier JSON report to compare with.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the summaries.")] = False,
    as_group: Annotated[
        Optional[list[str]],
        typer.Option("--as-group", help="Ask as a signed-in reader in this group (repeatable; `everyone` is implied): only the "
                     "documents the group may read are searched. Applies to question sets asked of the index (JSONL)."),
    ] = None,
):
    """Run the question sets, print per-question results and a summary per set; exit 1 below the thresholds, 2 on a bad file."""
    from assistant import check_thresholds, parse_threshold
    from assistant import EvalError
    from assistant import print_overview, print_report
    from assistant import evaluate_file
    from ui.cli_eval import _baseline_summaries, _limits, finish, write_reports

    settings = _settings()
    if scope not in (None, "document", "all"):
        raise EvalError(f"--scope takes 'document' or 'all', got {scope!r}.")
    overrides = dict(parse_threshold(item) for item in fail_under or [])
    base = _baseline_summaries(baseline) if baseline else {}
    assistant = _assistant(settings, progress=False)
    if as_group:
        from assistant import parse_groups_header

        assistant = assistant.as_reader(parse_groups_header(",".join(as_group), settings.server.max_groups))
    paths = questions or [settings.eval.questions, *settings.eval.public_sets]
    reports, failures = [], []
    for path in paths:
        result = evaluate_file(path, assistant, scope)
        floors, ceilings = _limits(settings, path, result.name, overrides)
        result.limits = {**floors, **ceilings}
        print_report(result, floors, ceilings, base.get(result.name), per_question=not quiet)
        if not floors and not ceilings:
            typer.echo(f"{result.name}: no limits are set for this set, so it gates nothing (add --fail-under METRIC=VALUE).")
        failures += [f"{result.name}: {f}" for f in check_thresholds(result.summary, floors, ceilings)]
        reports.append(result)
    if len(reports) > 1:
        print_overview(reports)
    write_reports(reports, report, html)
    finish(reports, failures)


from ui.cli_admin import feedback_app, token_app  # noqa: E402 (the sub-commands, after the app)

app.add_typer(feedback_app, name="feedback")
app.add_typer(token_app, name="token")


if __name__ == "__main__":
    app()
