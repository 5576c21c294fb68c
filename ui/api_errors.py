"""The HTTP API's errors, all in one shape (``{"error": one readable line, "detail": [...]}``):
readable 422s for invalid bodies, questions and histories, FastAPI's own 4xx reshaped, and a
405 naming the method each API path takes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant import QuestionError, Settings, UnknownDocumentError, history_problem


class ErrorOut(BaseModel):
    """An error: ``error`` is one readable line; ``detail`` lists the invalid fields of a 422."""

    error: str
    detail: list[dict[str, Any]] = []


ASK_USAGE = 'send POST /api/ask with a JSON body such as {"question": "What does the policy say about refunds?"}'
"""How to call the API, repeated in the errors of requests that get it wrong."""

FEEDBACK_USAGE = 'send POST /api/feedback with a JSON body such as {"verdict": "up", "answer": <what POST /api/ask returned>}'
"""How to rate an answer, in the errors of ``/api/feedback`` requests that get it wrong."""

API_METHODS = {"/api/ask": "POST", "/api/feedback": "POST", "/healthz": "GET", "/embed.js": "GET"}
"""The API's own paths and the method each takes; any other method is a 405 saying which."""


def usage(path: str) -> str:
    return FEEDBACK_USAGE if path.endswith("/api/feedback") else ASK_USAGE


def readable(errors: list[dict], usage: str = ASK_USAGE) -> str:
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


def question_error(err: QuestionError, loc: list[str] | None = None) -> JSONResponse:
    """The 422 for a question the assistant refuses (empty, too long, unknown document ids), in
    the validation-error shape; ``loc`` points at the field at fault."""
    if loc is None:
        documents = isinstance(err, UnknownDocumentError) or getattr(err, "field", None) == "documents"
        loc = ["body", "documents"] if documents else ["body", "question"]
    detail = [{"loc": loc, "msg": str(err), "type": "documents" if loc[-1] == "documents" else "question"}]
    return JSONResponse({"error": str(err), "detail": detail}, status_code=422)


def history_error(history: list[str], settings: Settings, loc: tuple[str, ...] = ("body", "history")) -> JSONResponse | None:
    """The 422 for a history over ``max_history_turn_chars`` per turn or ``max_history_chars`` in all, else None."""
    problem = history_problem(history, settings.answer.max_history_turn_chars, settings.answer.max_history_chars)
    if problem is None:
        return None
    index, message = problem
    where = [*loc, *([index] if index is not None else [])]
    return JSONResponse({"error": message, "detail": [{"loc": where, "msg": message, "type": "history"}]}, status_code=422)


def add_error_handlers(app: FastAPI) -> None:
    """Readable 422s for invalid bodies, FastAPI's own 4xx in the API's shape, and a 405 naming
    the allowed method on every API path of :data:`API_METHODS`."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return JSONResponse({"error": readable(errors, usage(request.url.path)), "detail": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        """FastAPI's own 4xx (a body it cannot parse, ...) in the API's shape, never ``{"detail"}``."""
        message = exc.detail if isinstance(exc.detail, str) else "invalid request"
        if exc.status_code == 400 and "parsing the body" in message:
            message = f"the body could not be read ({message}): {usage(request.url.path)}"
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
