"""The project's one exception hierarchy.

Every error the assistant raises on purpose derives from :class:`AssistantError`; its
message says what went wrong *and what to do next*, so the CLI can print it as one line and
the UI can show it as a friendly notice. ``assistant.errors`` re-exports these and adds the
errors of the question-answering side; this module lives in ``index`` because data flows
``index -> assistant`` and never back.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class of all expected errors. ``str(err)`` is a one-line, user-facing message."""


class DocumentsError(AssistantError):
    """The documents to index are missing, empty, unreadable or of an unsupported type."""


class ModelError(AssistantError):
    """The embedding model cannot be found, or its weights fail the integrity check."""


class StoreError(AssistantError):
    """The vector store is missing, locked, corrupt or was built with other settings."""


class IndexBusyError(StoreError):
    """Another ``assistant index`` holds the store's writer lock (embedded store) or lease (Chroma
    server). Only writing waits for it: readers answer from the last complete build."""


class ReadOnlyStoreError(StoreError):
    """The store is on a read-only file system: it can answer questions, not be indexed."""


class DiskFullError(StoreError):
    """The disk holding the store is full; the index itself is intact (nothing needs deleting)."""
