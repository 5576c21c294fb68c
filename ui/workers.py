"""Answering ``POST /api/ask`` in worker processes (``ASSISTANT_WORKERS`` > 1).

One Python process answers one question at a time on one core (retrieval holds the GIL for
part of each question), so the server hands ``/api/ask`` questions to a pool of ``workers``
processes, each with its own :class:`assistant.Assistant` over the same index (the store is only
read; each process loads the model and the index, about 400 MB). The chat, the widget and the
Gradio ``/ask`` endpoint keep answering in the server's own process.

Errors travel back as ``(kind, message)`` and are raised again in the server as
:class:`assistant.QuestionError` (``field`` names the request field at fault) or
:class:`assistant.AssistantError`, since not every error class can be pickled.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import process as _process
from concurrent.futures.process import BrokenProcessPool

from assistant import AssistantError, QuestionError, UnknownDocumentError

_assistant = None
"""The worker process's assistant (set by :func:`_start`)."""


def _start(settings) -> None:
    global _assistant
    from assistant import Assistant

    _assistant = Assistant.from_settings(settings, ensure_index=False, progress=False)


def _ready() -> bool:
    return _assistant is not None


def _ask(question: str, history: list[str], documents: list[str] | None, groups: frozenset[str] | None = None):
    """In a worker: the :class:`assistant.Answer`, or ``("error", kind, message)``; ``groups``: the reader's."""
    try:
        return _assistant.ask(question, history, documents, groups)
    except UnknownDocumentError as err:
        return ("error", "documents", str(err))
    except QuestionError as err:
        return ("error", "question", str(err))
    except AssistantError as err:
        return ("error", "assistant", str(err))


class AnswerPool:
    """``workers`` processes (started with ``spawn``) that answer questions.

    Args:
        settings: The server's :class:`assistant.Settings` (each worker opens the same index).
        workers: Processes (count, at least 2; 1 means no pool).
    """

    def __init__(self, settings, workers: int) -> None:
        self.workers = workers
        # concurrent.futures queues only one call beyond the workers (EXTRA_QUEUED_CALLS, a module
        # constant with no parameter); the rest wait in the server until the executor's manager
        # thread moves them, which needs the GIL the event loop holds, so a worker that finished
        # could sit idle. Every question the server admits (max_concurrent_questions) is queued
        # for the workers at once instead (setting it is harmless should the constant go away).
        saved = getattr(_process, "EXTRA_QUEUED_CALLS", 1)
        _process.EXTRA_QUEUED_CALLS = max(saved, settings.server.max_concurrent_questions)
        try:
            self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start, initargs=(settings,))
        finally:
            _process.EXTRA_QUEUED_CALLS = saved
        self.warm = [self.pool.submit(_ready) for _ in range(workers)]  # start them now, not at the first question

    async def ask(self, question: str, history: Sequence[str], documents: Sequence[str] | None, groups=None):
        """The :class:`assistant.Answer` of ``question``, answered in a worker (``groups``: the
        reader's, None for every document).

        Raises:
            QuestionError: the question is refused (``err.field``: ``"question"`` or ``"documents"``).
            AssistantError: the store failed, or a worker could not start (its reason).
        """
        try:
            got = await asyncio.wrap_future(self.pool.submit(_ask, question, list(history), list(documents) if documents else None, groups))
        except BrokenProcessPool as err:
            raise AssistantError(f"The answering processes stopped ({err}); restart the server.") from None
        if isinstance(got, tuple):
            _, kind, message = got
            if kind == "assistant":
                raise AssistantError(message)
            err = QuestionError(message)
            err.field = kind
            raise err
        return got

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
