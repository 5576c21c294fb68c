"""An :class:`~assistant.core.Assistant` seen by one reader (:meth:`Assistant.as_reader`): its
questions and listings are limited to the documents the reader's groups may read."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from assistant.types import Answer
from index.records import DocumentRecord
from index.types import Document

if TYPE_CHECKING:
    from assistant.core import Assistant


class ReaderView:
    """:meth:`Assistant.as_reader`: an assistant whose questions and listings are a reader's."""

    def __init__(self, assistant: Assistant, groups: frozenset[str]) -> None:
        self._assistant = assistant
        self.groups = groups

    def ask(self, question: str, history: Sequence[str] = (), documents: Sequence[str] | None = None) -> Answer:
        return self._assistant.ask(question, history, documents, self.groups)

    def ask_stream(self, question: str, history: Sequence[str] = (), documents: Sequence[str] | None = None) -> Iterator[str | Answer]:
        return self._assistant.ask_stream(question, history, documents, self.groups)

    def documents(self) -> list[Document]:
        return self._assistant.documents(self.groups)

    def catalog(self) -> list[DocumentRecord]:
        return self._assistant.catalog(self.groups)

    def __getattr__(self, name: str):
        return getattr(self._assistant, name)
