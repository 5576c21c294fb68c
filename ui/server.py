"""The one-process server: a FastAPI app with the Gradio chat and widget mounted.

Routes (all under ``settings.root_path`` when a reverse proxy adds a prefix):

- ``/``            the chat (Gradio), with the named API endpoint ``/ask`` for ``gradio_client``;
- ``/widget/``     the compact chat for embedding (Gradio, no header or footer);
- ``/embed.js``    a script that inserts the widget's iframe where it is included;
- ``POST /api/ask`` ``{"question": str, "history": [str, ...]}`` -> :class:`assistant.schema.AnswerOut`, as ``assistant ask --json``;
- ``POST /api/feedback`` a thumbs up or down on an answer (see :mod:`ui.feedback_api`);
- ``GET /healthz`` whether the index is loaded, with its document and passage counts;
- ``GET /sources/{doc_id}?start=&end=`` the cited span in its document (a PDF's page
  rendered, the span's boxes drawn), see :mod:`ui.sources`;
- ``/docs``, ``/openapi.json``: API documentation (Swagger UI, its assets served locally).

``settings.allowed_origins`` (besides the server's own origin) may frame the pages (CSP
``frame-ancestors`` on every response) and call the API from a browser (CORS). The CSP also
allows images and scripts from the server itself only. Nothing is fetched from a CDN.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import AsyncIterator, Iterator

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import anyio  # noqa: E402
import gradio as gr  # noqa: E402
from fastapi import FastAPI, Query, Request  # noqa: E402
from fastapi.middleware.cors import CORSMiddleware  # noqa: E402
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse  # noqa: E402
from fastapi_offline import FastAPIOffline  # noqa: E402
from pydantic import BaseModel, ConfigDict, Field  # noqa: E402

from assistant import Assistant, AssistantError, clean_question  # noqa: E402
from assistant import QuestionError  # noqa: E402
from assistant import FeedbackStore, TokenStore, open_feedback_store  # noqa: E402
from assistant import AnswerOut  # noqa: E402
from assistant import Settings  # noqa: E402
from ui.api_errors import ASK_USAGE, ErrorOut, add_error_handlers  # noqa: E402
from ui.api_errors import history_error as _history_error  # noqa: E402
from ui.api_errors import question_error as _question_error  # noqa: E402
from ui.middleware import NoPreviewMetaMiddleware, RootPathMiddleware, SecurityHeadersMiddleware  # noqa: E402
from ui.app import THEME, WIDGET_THEME, build_app, build_widget  # noqa: E402
from ui.auth import AuthMiddleware, reader_of  # noqa: E402
from ui.feedback_api import add_feedback_route  # noqa: E402
from ui.feedback_ui import FEEDBACK_CSS  # noqa: E402
from ui.limits import ErrorShapeMiddleware, RequestLimitsMiddleware, served_hosts  # noqa: E402
from ui.page_scripts import CHAT_JS, WIDGET_CSS, WIDGET_JS  # noqa: E402
from ui.render import CSS  # noqa: E402
from ui.sources import add_source_routes  # noqa: E402

log = logging.getLogger(__name__)

MAX_HISTORY_TURNS = 50
"""Earlier user turns accepted by ``POST /api/ask`` (count); more is a 422. The retriever only
uses the latest ones, so this only bounds the request size."""
MAX_SCOPE_DOCUMENTS = 1000
"""Most document ids one question may be limited to (count); more is a 422."""

EMBED_JS = """\
/* Cited assistant widget: include this script where the widget should appear.
   Optional attributes: data-height (default 640px), data-width (max width, default 480px),
   data-title (the iframe's accessible title). Nothing is loaded from anywhere but this server. */
(function () {
  var s = document.currentScript;
  if (!s) return;
  var base = s.src.replace(/embed\\.js([?#].*)?$/, "");
  var f = document.createElement("iframe");
  var docs = s.getAttribute("data-documents");
  f.src = base + "widget/" + (docs ? "?documents=" + encodeURIComponent(docs) : "");
  f.title = s.getAttribute("data-title") || "Ask the documents";
  f.className = "cited-assistant-widget";
  f.style.cssText = "display:block;width:100%;max-width:" + (s.getAttribute("data-width") || "480px") +
    ";height:" + (s.getAttribute("data-height") || "640px") + ";border:1px solid #d0d7de;border-radius:8px;";
  s.parentNode.insertBefore(f, s.nextSibling);
})();
"""
"""Served at ``/embed.js``: inserts an iframe of ``/widget/`` after the script tag, taking the
server's address (root path included) from the script's own URL."""


class AskRequest(BaseModel):
    """Body of ``POST /api/ask``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"question": "What does the policy say about refunds?"}]})

    question: str = Field(description="The question (at most ASSISTANT_MAX_QUESTION_CHARS characters after trimming).")
    history: list[str] = Field(
        default_factory=list,
        max_length=MAX_HISTORY_TURNS,
        description="Earlier user turns of the conversation, oldest first; used to resolve follow-ups.",
    )
    documents: list[str] | None = Field(
        default=None,
        max_length=MAX_SCOPE_DOCUMENTS,
        description="Answer only from these document ids (as in citations' doc_id and `assistant docs`); "
        "omitted or empty: all documents. An id that is not indexed is a 422 naming it.",
    )


class Health(BaseModel):
    """Body of ``GET /healthz``."""

    status: str = Field(description='"ok", or "error" (with HTTP 503) when no index is loaded.')
    index_loaded: bool
    documents: int = Field(description="Documents in the loaded index (count).")
    passages: int = Field(description="Passages in the loaded index (count).")
    build_id: str | None = None
    error: str | None = None


def index_status(assistant: Assistant, groups=None) -> Health:
    """Health of the build being served (``Assistant.build``; no store call): its document
    and passage counts (with ``groups``, of the documents a reader in them may read), or
    ``index_loaded: false`` before one is loaded."""
    info = assistant.build
    if info is None:
        return Health(status="error", index_loaded=False, documents=0, passages=0, error="no index loaded")
    documents, passages = assistant.counts(groups)
    return Health(status="ok", index_loaded=True, documents=documents, passages=passages, build_id=info.build_id)


async def _bounded(lines: Iterator[str], limiter: anyio.CapacityLimiter) -> AsyncIterator[str]:
    """``lines`` (a blocking iterator) read in worker threads while holding one of ``limiter``'s
    tokens, so a streamed answer counts against ``max_concurrent_questions`` like a plain one."""
    async with limiter:
        while (line := await anyio.to_thread.run_sync(next, lines, None)) is not None:
            yield line


def _ndjson(assistant: Assistant, question: str, history: list[str], documents: list[str] | None, groups=None) -> Iterator[str]:
    """Lines of ``POST /api/ask?stream=true`` (read in worker threads by :func:`_bounded`);
    ``groups``: the reader's (None: every document)."""
    try:
        for item in assistant.ask_stream(question, history, documents, groups):
            if isinstance(item, str):
                yield json.dumps({"type": "token", "text": item}, ensure_ascii=False) + "\n"
            else:
                yield json.dumps({"type": "answer", **item.to_dict()}, ensure_ascii=False) + "\n"
    except AssistantError as err:
        yield json.dumps({"type": "error", "error": str(err)}, ensure_ascii=False) + "\n"
    except Exception:
        log.exception("ask failed")
        yield json.dumps({"type": "error", "error": "Something went wrong while answering; please try again."}) + "\n"


def create_app(assistant: Assistant, settings: Settings, feedback: FeedbackStore | None = None) -> FastAPI:
    """The whole server as one ASGI app (run it with uvicorn; see :func:`serve`).

    Args:
        assistant: A ready :class:`assistant.Assistant` (index built).
        settings: Uses ``root_path``, ``allowed_origins`` and ``max_concurrent_questions``.
        feedback: Where ratings go (default: :func:`assistant.feedback.open_feedback_store` of
            ``settings``: beside the embedded store, or on the Chroma server).

    Returns:
        A FastAPI app: the API routes, ``/embed.js``, the widget mounted at ``/widget`` and the
        chat at ``/``.
    """
    origins = list(settings.server.allowed_origins)
    app = FastAPIOffline(
        title="Cited assistant",
        version="0.1.0",
        description="Answers questions only from its documents and cites the exact passages.",
        redoc_url=None,  # ReDoc's page loads its logo from a CDN; Swagger UI at /docs is fully local
        swagger_ui_parameters={"validatorUrl": None},  # Swagger UI would otherwise call an online validator
    )
    app.add_middleware(
        CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"], allow_headers=["Content-Type"], max_age=600
    )
    app.add_middleware(SecurityHeadersMiddleware, origins=origins)
    app.add_middleware(NoPreviewMetaMiddleware)
    if settings.server.root_path:
        app.add_middleware(RootPathMiddleware, root_path=settings.server.root_path)
    app.add_middleware(ErrorShapeMiddleware)  # every 4xx as {"error", "detail"}, Gradio's too
    server = settings.server
    tokens = TokenStore(settings.index.data_dir) if server.auth_mode == "token" else None
    app.add_middleware(
        AuthMiddleware, mode=server.auth_mode, trusted_proxies=server.trusted_proxies, user_header=server.user_header,
        groups_header=server.groups_header, max_groups=server.max_groups, tokens=tokens,
    )  # who is asking (ui/auth.py), before anything is answered
    hosts = served_hosts(settings.server.host, settings.server.allowed_hosts)
    app.add_middleware(RequestLimitsMiddleware, max_body_bytes=settings.server.max_body_bytes, hosts=hosts)  # outermost
    limiter = anyio.CapacityLimiter(settings.server.max_concurrent_questions)
    pool = None
    if settings.server.workers > 1:
        from ui.workers import AnswerPool

        pool = AnswerPool(settings, settings.server.workers)
        app.state.answer_pool = pool
    _add_ask_routes(app, assistant, settings, limiter, pool)
    _add_status_routes(app, assistant)
    add_source_routes(app, assistant)  # /sources/{doc_id}: the cited span in its document (ui/sources.py)
    feedback = feedback if feedback is not None else open_feedback_store(settings)
    add_feedback_route(app, feedback, settings, _question_error, _history_error, assistant.documents, reader_of)

    _mount_chats(app, assistant, settings, feedback)
    return app


def _add_ask_routes(app: FastAPI, assistant: Assistant, settings: Settings, limiter: anyio.CapacityLimiter, pool=None) -> None:
    """``POST /api/ask`` (answers, at most ``limiter`` at once; in ``pool``'s processes when
    given, see :mod:`ui.workers`), ``GET /api/ask`` (how to ask), readable 422s
    (:func:`ui.api_errors.add_error_handlers`)."""

    add_error_handlers(app)

    @app.post(
        "/api/ask",
        response_model=AnswerOut,
        responses={422: {"model": ErrorOut, "description": "Invalid body, empty or over-long question"}, 503: {"model": ErrorOut}},
        summary="Answer a question with cited passages",
    )
    async def api_ask(
        request: Request,
        body: AskRequest,
        stream: bool = Query(
            False,
            description="Stream newline-delimited JSON: {type: token, text} while a language model writes "
            "(ASSISTANT_LLM), then {type: answer, ...the JSON of assistant ask --json}; or {type: error, error}.",
        ),
    ) -> Response:
        """Answer ``question`` from the documents. The body of the reply is the JSON of
        ``assistant ask --json`` (with ``?stream=true``, NDJSON lines ending with it). An empty
        or over-long question is a 422 whose ``error`` says what to change; a store failure is a 503."""
        if refused := _history_error(body.history, settings):
            return refused
        groups = reader_of(request).groups
        if stream:
            try:
                clean_question(body.question, settings.answer.max_question_chars)
            except QuestionError as err:
                return _question_error(err)
            lines = _bounded(_ndjson(assistant, body.question, body.history, body.documents, groups), limiter)
            return StreamingResponse(lines, media_type="application/x-ndjson")
        try:
            if pool is not None:
                async with limiter:
                    answer = await pool.ask(body.question, body.history, body.documents, groups)
            else:
                answer = await anyio.to_thread.run_sync(
                    functools.partial(assistant.ask, body.question, body.history, body.documents, groups), limiter=limiter
                )
        except QuestionError as err:
            return _question_error(err)
        except AssistantError as err:
            return JSONResponse({"error": str(err), "detail": []}, status_code=503)
        except Exception:
            log.exception("ask failed")
            return JSONResponse(
                {"error": "Something went wrong while answering; please try again.", "detail": []}, status_code=500
            )
        return AnswerOut.from_answer(answer)  # validated and serialised by FastAPI as the response_model

    @app.get("/api/ask", include_in_schema=False)
    async def api_ask_get() -> JSONResponse:
        """A browser or ``curl`` without ``-d`` lands here: say how to ask instead of a 404."""
        return JSONResponse({"error": f"Questions are POSTed: {ASK_USAGE}.", "detail": []}, status_code=405, headers={"Allow": "POST"})


def _add_status_routes(app: FastAPI, assistant: Assistant) -> None:
    """``/widget`` (redirect), ``/healthz`` and ``/embed.js``."""

    @app.get("/widget", include_in_schema=False)
    async def widget_without_slash() -> RedirectResponse:
        """``/widget`` -> ``widget/`` (relative, so it stays under a proxy's path prefix)."""
        return RedirectResponse("widget/", status_code=307)

    @app.get("/healthz", response_model=Health, responses={503: {"model": Health}}, summary="Is the index loaded?")
    async def healthz(request: Request) -> JSONResponse:
        """``index_loaded`` and the document and passage counts of the loaded index (those the
        caller may read); 503 without one."""
        health = await anyio.to_thread.run_sync(index_status, assistant, reader_of(request).groups)
        return JSONResponse(health.model_dump(), status_code=200 if health.index_loaded else 503)

    @app.get("/embed.js", include_in_schema=False)
    async def embed_js() -> Response:
        return Response(EMBED_JS, media_type="text/javascript", headers={"Cache-Control": "public, max-age=300"})


def _mount_chats(app: FastAPI, assistant: Assistant, settings: Settings, feedback: FeedbackStore) -> None:
    """The Gradio widget at ``/widget`` and the chat at ``/``, each queue bounded by ``max_concurrent_questions``."""
    concurrency = settings.server.max_concurrent_questions
    common = {"ssr_mode": False, "run_history": False, "mcp_server": False}
    widget = build_widget(assistant, concurrency, feedback, reader_of).queue(default_concurrency_limit=concurrency)
    gr.mount_gradio_app(
        app, widget, path="/widget", theme=WIDGET_THEME, css=CSS + FEEDBACK_CSS + WIDGET_CSS, js=WIDGET_JS, footer_links=[], **common
    )
    chat = build_app(assistant, concurrency, feedback, reader_of).queue(default_concurrency_limit=concurrency)
    gr.mount_gradio_app(app, chat, path="/", theme=THEME, css=CSS + FEEDBACK_CSS, js=CHAT_JS, footer_links=["api"], **common)


def serve(assistant: Assistant, settings: Settings) -> None:
    """Run :func:`create_app` with uvicorn on ``settings.host:settings.port`` (blocks until stopped)."""
    import uvicorn

    # Open event streams (a browser tab's Gradio heartbeat) would otherwise hold a Ctrl-C forever.
    uvicorn.run(
        create_app(assistant, settings), host=settings.server.host, port=settings.server.port, log_level="warning", timeout_graceful_shutdown=5
    )
