"""Errors of the question-answering side, on the one base class :class:`AssistantError`."""

from __future__ import annotations

from index.errors import AssistantError, DiskFullError, DocumentsError, IndexBusyError, ModelError, ReadOnlyStoreError, StoreError


class QuestionError(AssistantError):
    """The question is empty, too long, or otherwise cannot be asked. The message is a hint for the user."""


class EvalError(AssistantError):
    """The evaluation's question file is malformed or does not match the documents (exit code 2)."""


class LLMConfigError(AssistantError):
    """``ASSISTANT_LLM`` names a model that cannot be built (missing package, bad spec). Raised at start-up only;
    a model that fails while answering never raises (the extractive answer is shown instead)."""


class ConfigError(AssistantError):
    """A setting (an ``ASSISTANT_*`` variable or a command-line option) is invalid, unknown or removed;
    the message names the variable and what it takes."""


__all__ = [
    "AssistantError", "ConfigError", "DiskFullError", "DocumentsError", "IndexBusyError", "ReadOnlyStoreError", "EvalError", "LLMConfigError", "ModelError", "QuestionError", "ServerError", "StoreError"]


class ServerError(AssistantError):
    """The server cannot start (e.g. its port is taken)."""
