"""``POST /api/feedback``: rate an answer from any client (the chat and the widget use the same store).

The body names the verdict, an optional comment, the history, and the answer exactly as
``POST /api/ask`` returned it (unknown fields of the answer, such as ``timings_ms``, are
ignored; unknown fields of the body are refused, so a typo is a 422)::

    {"verdict": "down", "comment": "It cites the wrong speaker.",
     "history": ["Who is Yuki Tatsumi?"], "answer": {"question": "...", "answer": "...", "citations": [...]}}
"""

from __future__ import annotations

import logging
from typing import Literal

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from assistant import clean_question
from assistant import AssistantError, FeedbackError, QuestionError
from assistant import MAX_COMMENT_CHARS, FeedbackRecord, FeedbackStore

log = logging.getLogger(__name__)

MAX_CITATIONS = 20
"""Citations accepted in a rated answer (count)."""


class CitedSpan(BaseModel):
    """One citation of the rated answer, as in ``assistant ask --json`` (offsets in characters)."""

    model_config = ConfigDict(extra="ignore")

    n: int | None = None
    doc_id: str = Field(min_length=1, max_length=1000)
    title: str = Field(default="", max_length=1000)
    start: int = Field(ge=0, description="Start offset in the document text (characters).")
    end: int = Field(ge=0, description="End offset, exclusive (characters).")
    text: str = Field(default="", max_length=20_000, description="document_text[start:end].")
    line_start: int | None = Field(default=None, ge=1)
    line_end: int | None = Field(default=None, ge=1)
    page_start: int | None = Field(default=None, ge=1, description="PDF: first page of the span (1-based).")
    page_end: int | None = Field(default=None, ge=1, description="PDF: last page of the span (1-based).")
    section: str | None = Field(default=None, max_length=1000, description='Heading path, e.g. "Leave > Sick leave".')
    highlights: list[tuple[int, int]] = Field(default_factory=list, max_length=20, description="[start, end] of quoted sentences.")
    score: float | None = None

    @model_validator(mode="after")
    def _spans(self) -> CitedSpan:
        if self.end <= self.start:
            raise ValueError("end must be greater than start")
        if any(not (self.start <= s < e <= self.end) for s, e in self.highlights):
            raise ValueError("each highlight must be a [start, end] span inside the citation")
        return self


class RatedAnswer(BaseModel):
    """The answer being rated: the JSON of ``POST /api/ask`` (other fields are ignored)."""

    model_config = ConfigDict(extra="ignore")

    question: str = Field(description="The question as answered.")
    answer: str = Field(default="", max_length=20_000, description="The answer text.")
    abstained: bool = False
    abstain_reason: str | None = Field(default=None, max_length=1000)
    citations: list[CitedSpan] = Field(default_factory=list, max_length=MAX_CITATIONS)
    generator: str = Field(default="extractive", max_length=200)


class FeedbackRequest(BaseModel):
    """Body of ``POST /api/feedback``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "verdict": "up",
                    "comment": "",
                    "history": [],
                    "answer": {"question": "Who is Japan's chief negotiator?", "answer": "... Ryosei Akazawa ... [1]", "citations": []},
                }
            ]
        },
    )

    verdict: Literal["up", "down"] = Field(description='"up": the answer is right; "down": it is wrong or unhelpful.')
    comment: str = Field(default="", max_length=MAX_COMMENT_CHARS, description="Optional free text (characters).")
    history: list[str] = Field(default_factory=list, max_length=50, description="Earlier user turns, oldest first.")
    answer: RatedAnswer


class FeedbackSaved(BaseModel):
    """Body of a stored rating's 201."""

    id: str = Field(description="The rating's id (32 hex characters).")
    verdict: str


def citation_problem(c: CitedSpan, doc) -> str | None:
    """Why citation ``c`` does not point into the index, or None: ``doc`` (the indexed
    :class:`index.types.Document` named by ``c.doc_id``, None if there is none) must hold the
    span, and ``c.text``, if sent, must be the document's text there."""
    if doc is None:
        return f"doc_id {c.doc_id[:200]!r} is not an indexed document"
    if c.end > len(doc.text):
        return f"the span {c.start}-{c.end} is outside {c.doc_id} ({len(doc.text):,} characters)"
    if c.text and c.text != doc.text[c.start : c.end]:
        return f"text is not the text of {c.doc_id} at {c.start}-{c.end}"
    return None


def add_feedback_route(app: FastAPI, store: FeedbackStore, settings, question_error, history_error, documents, reader_of=None) -> None:
    """Add ``POST /api/feedback`` to ``app``, writing to ``store``.

    Every citation of the rated answer is checked against the index (:func:`citation_problem`;
    a 422 names the first that fails) and its ``text`` is stored as the document's text at its
    span, recomputed here, never as the client sent it.

    Args:
        settings: The question's and the history's limits, as for ``/api/ask`` (characters).
        documents: ``documents(groups)`` returns the indexed documents a reader in ``groups`` may
            read (:meth:`assistant.Assistant.documents`; None: all): a citation of any other is
            refused as naming no indexed document.
        reader_of: The request's reader (:func:`ui.auth.reader_of`), whose user the rating records.
        question_error: Makes the 422 of a refused question (``ui.api_errors.question_error``).
        history_error: The 422 of a refused history or None (``ui.api_errors.history_error``).
    """
    max_question_chars = settings.answer.max_question_chars

    @app.post(
        "/api/feedback",
        status_code=201,
        response_model=FeedbackSaved,
        responses={422: {"description": "Invalid body"}, 503: {"description": "The feedback store cannot be written"}},
        summary="Rate an answer (thumbs up or down, optional comment)",
    )
    async def api_feedback(request: Request, body: FeedbackRequest) -> JSONResponse:
        """Store a rating of an answer of ``POST /api/ask``. ``assistant feedback export`` turns
        the ratings into a question set for ``assistant eval``. A malformed body is a 422 whose
        ``error`` is one line; a store that cannot be written (read-only, locked) is a 503."""
        if refused := history_error(body.history, settings):
            return refused
        try:
            clean_question(body.answer.question, max_question_chars)
        except QuestionError as err:
            return question_error(err, ["body", "answer", "question"])
        try:
            reader = reader_of(request) if reader_of is not None else None
            groups = reader.groups if reader is not None else None
            indexed = {d.doc_id: d for d in await anyio.to_thread.run_sync(documents, groups)} if body.answer.citations else {}
        except AssistantError as err:
            return JSONResponse({"error": str(err), "detail": []}, status_code=503)
        for i, c in enumerate(body.answer.citations):
            if problem := citation_problem(c, indexed.get(c.doc_id)):
                message = f"answer.citations.{i}: {problem}"
                loc = ["body", "answer", "citations", i]
                return JSONResponse({"error": message, "detail": [{"loc": loc, "msg": problem, "type": "citation"}]}, status_code=422)
            c.text = indexed[c.doc_id].text[c.start : c.end]  # recomputed, never the client's
        answer = body.answer.model_dump()
        user = reader.user if reader is not None else None
        record = FeedbackRecord.of_answer(answer, body.verdict, body.history, body.comment.strip(), client="api", user=user)
        try:
            await anyio.to_thread.run_sync(store.save, record)
        except FeedbackError as err:
            return JSONResponse({"error": str(err), "detail": []}, status_code=503)
        except Exception:
            log.exception("feedback failed")
            return JSONResponse({"error": "Something went wrong while saving the rating; please try again.", "detail": []}, status_code=500)
        return JSONResponse({"id": record.feedback_id, "verdict": record.verdict}, status_code=201)
