"""Errors of the question-answering side, on the one base class :class:`AssistantError`."""

from __future__ import annotations

from index.errors import AssistantError, DiskFullError, DocumentsError, IndexBusyError, ModelError, ReadOnlyStoreError, StoreError


class QuestionError(AssistantError):
    """The question is empty, too long, or otherwise cannot be asked. The message is a hint for the user."""


class UnknownDocumentError(QuestionError):
    """A question was limited to document ids that are not indexed. ``unknown`` lists them."""

    def __init__(self, unknown: list[str], known: list[str]) -> None:
        self.unknown = list(unknown)
        names = ", ".join(repr(d) for d in unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        hint = f"indexed: {', '.join(known[:5])}" + (f" and {len(known) - 5} more" if len(known) > 5 else "") if known else "nothing is indexed"
        noun = "document" if len(unknown) == 1 else "documents"
        super().__init__(f"No indexed {noun} {names} ({hint}; `assistant docs` lists them all).")


class EvalError(AssistantError):
    """The evaluation's question file is malformed or does not match the documents (exit code 2)."""


class LLMConfigError(AssistantError):
    """``ASSISTANT_LLM`` names a model that cannot be built (missing package, bad spec). Raised at start-up only;
    a model that fails while answering never raises (the extractive answer is shown instead)."""


class ConfigError(AssistantError):
    """A setting (an ``ASSISTANT_*`` variable or a command-line option) is invalid, unknown or removed;
    the message names the variable and what it takes."""


__all__ = [
    "AssistantError",
    "ConfigError",
    "DiskFullError",
    "DocumentsError",
    "EvalError",
    "FeedbackError",
    "IndexBusyError",
    "LLMConfigError",
    "ModelError",
    "QuestionError",
    "ReadOnlyStoreError",
    "ServerError",
    "StoreError",
    "UnknownDocumentError",
]


class ServerError(AssistantError):
    """The server cannot start (e.g. its port is taken)."""


class FeedbackError(AssistantError):
    """A rating cannot be stored or read (read-only data folder, locked database, unreachable
    Chroma server), or is malformed. The message says what to do; answering is not affected."""
