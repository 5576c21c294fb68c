"""Retrieval: question -> ranked passages with per-sentence evidence scores.

:mod:`~assistant.retrieval.retriever` (the :class:`PassageRetriever`, a LangChain retriever),
:mod:`~assistant.retrieval.lexical` (BM25 and the share of a question's terms a sentence holds),
:mod:`~assistant.retrieval.vectors` (exact search over vectors in memory) and
:mod:`~assistant.retrieval.followup` (the conversation's focus, for follow-up questions).
"""
