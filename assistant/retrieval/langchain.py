"""A :class:`~assistant.retrieval.retriever.PassageRetriever` as a LangChain ``BaseRetriever``
(:meth:`PassageRetriever.as_langchain`), in a module of its own so that only code plugging the
retriever into a LangChain chain imports ``langchain_core`` (about a second of CPU at start-up)."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict


class LangChainRetriever(BaseRetriever):
    """``invoke(query)`` -> the wrapped retriever's :meth:`~assistant.retrieval.retriever.PassageRetriever.search`
    results as LangChain ``Document`` objects whose metadata carries the exact span."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Any

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[LCDocument]:
        return [
            LCDocument(
                page_content=r.passage.text,
                id=r.passage.passage_id,
                metadata={
                    "doc_id": r.passage.doc_id,
                    "title": r.passage.title,
                    "start": r.passage.start,
                    "end": r.passage.end,
                    "line_start": r.passage.line_start,
                    "line_end": r.passage.line_end,
                    "score": r.score,
                    "best_sentence": list(r.best.span),
                },
            )
            for r in self.retriever.search(query)
        ]
