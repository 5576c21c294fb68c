"""Answer models, chosen by name: ``Settings.answer.model`` picks the one that selects the
quoted sentences, from a registry (after simonw/llm's ``register_models`` hook).

An answer model is a factory ``(settings) -> ExtractiveAnswerer``; adding one is a function
decorated with :func:`register_answer_model` (and its name in ``AnswerSettings.model``).
Shipped: ``rules`` (the fused retrieval score, the support head and the abstention checks),
``reader`` (the cross-encoder of ``assistant/models/reader/`` reads the candidates) and ``llm``
(a language model writes; it needs ``settings.llm.model``). A language model
(``settings.llm.model``, ``ASSISTANT_LLM``) writes on top of any of them: its
:class:`~assistant.answering.generative.GenerativeAnswerer` quotes with the chosen one when it
fails or abstains.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.answering.answerer import Answerer, ExtractiveAnswerer
    from assistant.settings import Settings
    from index.embedder import Embedder

AnswerModel = Callable[["Settings"], "ExtractiveAnswerer"]

ANSWER_MODELS: dict[str, AnswerModel] = {}
"""Name -> factory of every registered answer model (see :func:`register_answer_model`)."""


def register_answer_model(name: str) -> Callable[[AnswerModel], AnswerModel]:
    """Register the decorated factory ``(settings) -> ExtractiveAnswerer`` as answer model ``name``."""

    def register(factory: AnswerModel) -> AnswerModel:
        ANSWER_MODELS[name] = factory
        return factory

    return register


def quoting_answerer(settings: Settings, reader=None) -> ExtractiveAnswerer:
    """The quoting answerer with ``settings.answer`` and ``settings.ablation``'s values, choosing
    sentences with ``reader`` (:class:`~assistant.answering.reader.Reader`) or, None, the rules."""
    from assistant.answering.answerer import ExtractiveAnswerer

    a = settings.answer
    return ExtractiveAnswerer(
        abstain_below=a.abstain_below, answerable_below=a.answerable_below, max_sentences=a.max_answer_sentences,
        second_ratio=a.second_sentence_ratio, further=settings.ablation.further_sentences,
        abstention=settings.ablation.abstention, unit=settings.ablation.answer_unit, reader=reader,
        reader_threshold=a.reader_threshold, reader_candidates=a.reader_candidates, reader_second=a.reader_second,
    )


@register_answer_model("rules")
def rules(settings: Settings) -> ExtractiveAnswerer:
    """Sentences chosen by the fused score and the support head (the default)."""
    return quoting_answerer(settings)


@register_answer_model("reader")
def reader(settings: Settings) -> ExtractiveAnswerer:
    """Sentences chosen by the shipped cross-encoder (one per process, loaded at first use)."""
    from assistant.answering.reader import make_reader

    return quoting_answerer(settings, make_reader())


@register_answer_model("llm")
def llm(settings: Settings) -> ExtractiveAnswerer:
    """The rules' quotes, which the language model's answerer falls back to (see :func:`build_answerers`)."""
    return quoting_answerer(settings)


def build_answerers(settings: Settings, embedder: Embedder, chat_model=None) -> tuple[ExtractiveAnswerer, Answerer]:
    """``(quotes, answerer)``: the quoting answerer of ``settings.answer.model`` and what answers,
    the same one, or with ``chat_model`` (a LangChain chat model) a
    :class:`~assistant.answering.generative.GenerativeAnswerer` that falls back to the quotes.

    Raises:
        LLMConfigError: ``settings.answer.model`` is ``llm`` and there is no ``chat_model``
            (``settings.llm.model`` is not set).
        KeyError: ``settings.answer.model`` names no registered answer model (the settings'
            ``Literal`` refuses such a name first, with one line naming the setting).
    """
    if settings.answer.model == "llm" and chat_model is None:
        from assistant.errors import LLMConfigError

        raise LLMConfigError("answer.model is llm but no language model is set: set llm.model (ASSISTANT_LLM), e.g. ollama:llama3.2.")
    quotes = ANSWER_MODELS[settings.answer.model](settings)
    if chat_model is None:
        return quotes, quotes
    from assistant.answering.generative import GenerativeAnswerer, LanguageModel, SupportScorer

    model = LanguageModel(chat_model, settings.llm.timeout, settings.llm.model or type(chat_model).__name__)
    return quotes, GenerativeAnswerer(model, quotes, SupportScorer(embedder))
