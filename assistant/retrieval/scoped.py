"""What the answerer reads of a retriever when a question is asked of some documents only: their
vocabulary and term statistics (:meth:`assistant.retrieval.retriever.PassageRetriever.scoped`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from assistant.retrieval.lexical import SentenceLexicon

if TYPE_CHECKING:
    from assistant.retrieval.retriever import PassageRetriever


class ScopedView:
    """:meth:`PassageRetriever.scoped`: the retriever with the vocabulary and the term
    statistics (:class:`ScopedLexicon`) of some documents only."""

    def __init__(self, retriever: PassageRetriever, vocabulary: set[str], lexicon: ScopedLexicon | None) -> None:
        self._retriever = retriever
        self.vocabulary = vocabulary
        self.lexicon = lexicon

    def __getattr__(self, name: str):
        return getattr(self._retriever, name)


class ScopedCounts:
    """Sentence document frequencies counted over the rows of ``in_scope`` only, term by term on demand."""

    def __init__(self, postings: dict[str, np.ndarray], in_scope: np.ndarray) -> None:
        self._postings, self._in_scope, self._known = postings, in_scope, {}

    def get(self, term: str, default: int = 0) -> int:
        if (n := self._known.get(term)) is None:
            rows = self._postings.get(term)
            n = self._known[term] = int(np.count_nonzero(self._in_scope[rows])) if rows is not None else 0
        return n or default

    def __getitem__(self, term: str) -> int:
        return self.get(term)


class ScopedLexicon:
    """A :class:`~assistant.retrieval.lexical.SentenceLexicon` whose :attr:`document_frequencies` and
    :attr:`size` count only the sentences of some documents (``in_scope``, a ``[n_sentences]``
    mask), so what the answerer says is missing or present, and the answerability features,
    are those of these documents alone; the rest is the whole lexicon's."""

    def __init__(self, lexicon: SentenceLexicon, in_scope: np.ndarray) -> None:
        self._lexicon = lexicon
        self.size = int(np.count_nonzero(in_scope))
        self.document_frequencies = ScopedCounts(lexicon._postings, in_scope)

    def __getattr__(self, name: str):
        return getattr(self._lexicon, name)
