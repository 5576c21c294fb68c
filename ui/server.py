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
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import anyio  # noqa: E402
import gradio as gr  # noqa: E402
from fastapi import FastAPI, Query, Request  # noqa: E402
from fastapi.exceptions import RequestValidationError  # noqa: E402
from starlette.exceptions import HTTPException as StarletteHTTPException  # noqa: E402
from fastapi.middleware.cors import CORSMiddleware  # noqa: E402
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse  # noqa: E402
from fastapi_offline import FastAPIOffline  # noqa: E402
from pydantic import BaseModel, ConfigDict, Field  # noqa: E402
from starlette.datastructures import MutableHeaders  # noqa: E402
from starlette.types import ASGIApp, Message, Receive, Scope, Send  # noqa: E402

from assistant import Assistant, AssistantError, clean_question, history_problem  # noqa: E402
from assistant import QuestionError, UnknownDocumentError  # noqa: E402
from assistant import FeedbackStore, TokenStore, open_feedback_store  # noqa: E402
from assistant import AnswerOut  # noqa: E402
from assistant import Settings  # noqa: E402
from ui.app import CHAT_JS, THEME, WIDGET_CSS, WIDGET_JS, WIDGET_THEME, build_app, build_widget  # noqa: E402
from ui.auth import AuthMiddleware, reader_of  # noqa: E402
from ui.feedback_api import add_feedback_route  # noqa: E402
from ui.feedback_ui import FEEDBACK_CSS  # noqa: E402
from ui.limits import ErrorShapeMiddleware, RequestLimitsMiddleware, served_hosts  # noqa: E402
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


class ErrorOut(BaseModel):
    """An error: ``error`` is one readable line; ``detail`` lists the invalid fields of a 422."""

    error: str
    detail: list[dict[str, Any]] = []


class Health(BaseModel):
    """Body of ``GET /healthz``."""

    status: str = Field(description='"ok", or "error" (with HTTP 503) when no index is loaded.')
    index_loaded: bool
    documents: int = Field(description="Documents in the loaded index (count).")
    passages: int = Field(description="Passages in the loaded index (count).")
    build_id: str | None = None
    error: str | None = None


def frame_ancestors(origins: list[str]) -> str:
    """The CSP directive that lets the server itself and ``origins`` frame its pages."""
    return "frame-ancestors " + " ".join(["'self'", *origins])


CSP_SOURCES = (
    "default-src 'self'",
    "img-src 'self' data: blob:",
    # Gradio's pages start with inline scripts and run the apps' js= hooks with new Function
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "font-src 'self' data:",
    "media-src 'self' data: blob:",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
)
"""Content-Security-Policy directives of every response: images, scripts, styles, fonts and
connections from the server itself only (plus inline ``data:``/``blob:``), so a remote image
or script that slipped into a page is never fetched."""


def content_security_policy(origins: list[str]) -> str:
    """The whole ``Content-Security-Policy`` header value: :data:`CSP_SOURCES` and
    :func:`frame_ancestors` of ``origins``."""
    return "; ".join([*CSP_SOURCES, frame_ancestors(origins)])


class SecurityHeadersMiddleware:
    """Adds ``Content-Security-Policy`` (:func:`content_security_policy`) and
    ``X-Content-Type-Options: nosniff`` to every HTTP response (pure ASGI, so Gradio's streamed
    responses pass through untouched)."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.value = content_security_policy(origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_csp(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = self.value
                headers["X-Content-Type-Options"] = "nosniff"
            await send(message)

        await self.app(scope, receive, send_with_csp)


class RootPathMiddleware:
    """Serves the app under ``root_path`` (e.g. ``/assistant``) behind a reverse proxy.

    ASGI puts the prefix in both ``root_path`` and ``path``. When the server was not told the
    prefix (``scope["root_path"]`` empty), this adds it, whether or not the proxy stripped it
    from the path, so routing, Gradio's asset URLs and the docs all see one consistent prefix.
    It also keeps Gradio's pages from reaching outside the prefix: Gradio 6 links its web
    manifest as the absolute ``/manifest.json`` and declares no icon (so browsers ask for
    ``/favicon.ico``); both would 404 on the proxy. The HTML gets both links under the prefix.
    """

    def __init__(self, app: ASGIApp, root_path: str) -> None:
        self.app = app
        self.root_path = root_path
        self.links = (
            b'<link rel="manifest" href="/manifest.json" />',
            f'<link rel="manifest" href="{root_path}/manifest.json" /><link rel="icon" href="{root_path}/favicon.ico" />'.encode(),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        root = self.root_path
        if not scope.get("root_path"):
            path = scope["path"]
            if path != root and not path.startswith(root + "/"):
                scope = {**scope, "path": root + path, "raw_path": root.encode() + scope.get("raw_path", path.encode())}
            scope = {**scope, "root_path": root}
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        start: Message | None = None
        chunks: list[bytes] = []

        async def send_fixing_html(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if MutableHeaders(scope=message).get("content-type", "").startswith("text/html"):
                    start = message  # hold it until the body is complete
                    return
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = b"".join(chunks).replace(*self.links)
                MutableHeaders(scope=start)["content-length"] = str(len(body))
                await send(start)
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, send_fixing_html)


def index_status(assistant: Assistant, groups=None) -> Health:
    """Health of the build being served (``Assistant.build``; no store call): its document
    and passage counts (with ``groups``, of the documents a reader in them may read), or
    ``index_loaded: false`` before one is loaded."""
    info = assistant.build
    if info is None:
        return Health(status="error", index_loaded=False, documents=0, passages=0, error="no index loaded")
    documents, passages = assistant.counts(groups)
    return Health(status="ok", index_loaded=True, documents=documents, passages=passages, build_id=info.build_id)


ASK_USAGE = 'send POST /api/ask with a JSON body such as {"question": "What does the policy say about refunds?"}'
"""How to call the API, repeated in the errors of requests that get it wrong."""

FEEDBACK_USAGE = 'send POST /api/feedback with a JSON body such as {"verdict": "up", "answer": <what POST /api/ask returned>}'
"""How to rate an answer, in the errors of ``/api/feedback`` requests that get it wrong."""

API_METHODS = {"/api/ask": "POST", "/api/feedback": "POST", "/healthz": "GET", "/embed.js": "GET"}
"""The API's own paths and the method each takes; any other method is a 405 saying which."""


def _usage(path: str) -> str:
    return FEEDBACK_USAGE if path.endswith("/api/feedback") else ASK_USAGE


def _readable(errors: list[dict], usage: str = ASK_USAGE) -> str:
    """One line for a 422's validation ``errors``; ``usage`` says how to call the route at fault."""
    parts = []
    for e in errors:
        if e.get("type") == "json_invalid":
            parts.append(f"the body is not valid JSON ({e.get('msg', 'JSON decode error')}): {usage}")
            continue
        if tuple(e.get("loc", ())) == ("body",) and e.get("type") in ("model_attributes_type", "dict_type"):
            # a form post, or JSON sent without "Content-Type: application/json" (FastAPI then reads a string)
            parts.append(f"the body must be a JSON object sent with Content-Type: application/json: {usage}")
            continue
        loc = [str(x) for x in e.get("loc", ()) if x != "body"]
        parts.append(f"{'.'.join(loc) or 'body'}: {e.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _question_error(err: QuestionError, loc: list[str] | None = None) -> JSONResponse:
    """The 422 for a question the assistant refuses (empty, too long, unknown document ids), in
    the validation-error shape; ``loc`` points at the field at fault."""
    if loc is None:
        documents = isinstance(err, UnknownDocumentError) or getattr(err, "field", None) == "documents"
        loc = ["body", "documents"] if documents else ["body", "question"]
    detail = [{"loc": loc, "msg": str(err), "type": "documents" if loc[-1] == "documents" else "question"}]
    return JSONResponse({"error": str(err), "detail": detail}, status_code=422)


def _history_error(history: list[str], settings: Settings, loc: tuple[str, ...] = ("body", "history")) -> JSONResponse | None:
    """The 422 for a history over ``max_history_turn_chars`` per turn or ``max_history_chars`` in all, else None."""
    problem = history_problem(history, settings.answer.max_history_turn_chars, settings.answer.max_history_chars)
    if problem is None:
        return None
    index, message = problem
    where = [*loc, *([index] if index is not None else [])]
    return JSONResponse({"error": message, "detail": [{"loc": where, "msg": message, "type": "history"}]}, status_code=422)


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
    given, see :mod:`ui.workers`), ``GET /api/ask`` (how to ask), readable 422s."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return JSONResponse({"error": _readable(errors, _usage(request.url.path)), "detail": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        """FastAPI's own 4xx (a body it cannot parse, ...) in the API's shape, never ``{"detail"}``."""
        message = exc.detail if isinstance(exc.detail, str) else "invalid request"
        if exc.status_code == 400 and "parsing the body" in message:
            message = f"the body could not be read ({message}): {_usage(request.url.path)}"
        return JSONResponse({"error": message, "detail": []}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    async def _wrong_method(request: Request) -> JSONResponse:
        path = request.url.path[len(request.scope.get("root_path", "")) :] or request.url.path
        allowed = next((m for p, m in API_METHODS.items() if request.url.path.endswith(p)), "GET")
        return JSONResponse(
            {"error": f"{request.method} is not allowed on {path}; use {allowed}.", "detail": []},
            status_code=405,
            headers={"Allow": allowed},
        )

    for path, method in API_METHODS.items():
        others = [m for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE") if m != method and not (method == "GET" and m == "HEAD")]
        if path == "/api/ask":
            others = [m for m in others if m not in ("GET", "HEAD")]  # GET /api/ask says how to ask (below)
        app.add_api_route(path, _wrong_method, methods=others, include_in_schema=False)

    @app.post(
        "/api/ask",
        response_model=AnswerOut,
        responses={
            422: {"model": ErrorOut, "description": "Invalid body, empty or over-long question"},
            503: {"model": ErrorOut},
        },
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
