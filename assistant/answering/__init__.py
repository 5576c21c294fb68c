"""Answering: retrieved passages -> an answer with citations, or an abstention.

The answerers (:mod:`~assistant.answering.answerer`: quotes; :mod:`~assistant.answering.generative`:
a language model's verified draft), the abstention checks (:mod:`~assistant.answering.abstention`),
the fitted models they read (:mod:`~assistant.answering.answerability`,
:mod:`~assistant.answering.support`, :mod:`~assistant.answering.reader`; their files are in
``assistant/models/``) and what a refusal says (:mod:`~assistant.answering.refusal`).
"""
