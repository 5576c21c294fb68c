"""Errors of the question-answering side, on the one base class :class:`AssistantError`."""

from __future__ import annotations

from index.errors import AssistantError, DocumentsError, ModelError, StoreError


class QuestionError(AssistantError):
    """The question is empty, too long, or otherwise cannot be asked. The message is a hint for the user."""


class EvalError(AssistantError):
    """The evaluation's question file is malformed or does not match the documents (exit code 2)."""


__all__ = ["AssistantError", "DocumentsError", "EvalError", "ModelError", "QuestionError", "StoreError"]
