"""The public API: :class:`Assistant` answers a question with cited passages."""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import replace

from assistant.answerer import Draft, ExtractiveAnswerer
from assistant.errors import QuestionError
from assistant.retriever import Focus, PassageRetriever, is_followup
from assistant.settings import Settings
from assistant.types import Answer
from index.chunking import ChunkingConfig
from index.embedder import SentenceTransformerEmbedder
from index.pipeline import IndexReport, build_index
from index.store import ChromaStore
from index.types import Document


FOCUS_DEPTH = 3
"""How many earlier turns a chain of follow-ups is traced back (each costs one search)."""


def clean_question(question: str, max_chars: int) -> str:
    """Normalise a question (Unicode NFC, control characters removed, whitespace folded).

    Raises:
        QuestionError: it is empty after cleaning, or longer than ``max_chars`` characters.
    """
    if not isinstance(question, str):
        raise QuestionError("The question must be text.")
    text = unicodedata.normalize("NFC", question)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = " ".join(text.split())
    if not text:
        raise QuestionError("Please type a question, for example: Who is Japan's chief negotiator?")
    if len(text) > max_chars:
        raise QuestionError(f"The question is {len(text):,} characters long; please keep it under {max_chars:,}.")
    return text


def usable_history(history: Sequence[str], max_chars: int) -> list[str]:
    """The earlier user turns that can serve as context, cleaned like questions; turns that are
    not text, empty or over ``max_chars`` characters are skipped (they never fail the question)."""
    usable = []
    for turn in history:
        try:
            usable.append(clean_question(turn, max_chars))
        except QuestionError:
            continue
    return usable


class Assistant:
    """Answers questions from the indexed documents, citing exact spans.

    Build one with :meth:`from_settings`; then call :meth:`ask`. Thread-safe for concurrent
    ``ask`` calls (the model and store are only read).
    """

    def __init__(
        self, settings: Settings, store: ChromaStore, embedder: SentenceTransformerEmbedder, chat_model=None
    ) -> None:
        """``chat_model``: a LangChain chat model that writes answers (see :mod:`assistant.generative`);
        None for extractive answers. :meth:`from_settings` builds it from ``settings.llm``."""
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.retriever = PassageRetriever(
            store=store,
            embedder=embedder,
            mode=settings.retrieval_mode,
            k=settings.top_k,
            candidates=settings.candidate_sentences,
            fusion=settings.fusion,
            bm25_weight=settings.bm25_weight,
        )
        self.answerer = ExtractiveAnswerer(
            abstain_below=settings.abstain_below,
            max_sentences=settings.max_answer_sentences,
            second_ratio=settings.second_sentence_ratio,
            abstention=settings.abstention,
            unit=settings.answer_unit,
        )
        self.last_index_report: IndexReport | None = None
        self.generator = None
        if chat_model is not None:
            from assistant.generative import GenerativeAnswerer, SupportScorer

            self.generator = GenerativeAnswerer(chat_model, settings.llm_timeout, settings.llm or type(chat_model).__name__)
            self._support = SupportScorer(embedder)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, ensure_index: bool = True, progress: bool = True) -> Assistant:
        """Open the store; with ``ensure_index``, build or refresh the index first.

        Without ``ensure_index`` nothing is read until the first question, which raises
        :class:`~index.errors.StoreError` if there is no index.

        Raises:
            DocumentsError, ModelError, StoreError: see :func:`index.build_index`.
            LLMConfigError: ``settings.llm`` is set and the model cannot be built.
        """
        settings = settings or Settings()
        chat_model = None
        if settings.llm:
            from assistant.generative import build_chat_model

            key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
            chat_model = build_chat_model(settings.llm, settings.llm_base_url, settings.llm_timeout, key)
        store = open_store(settings)
        embedder = SentenceTransformerEmbedder(settings.model_path)
        assistant = cls(settings, store, embedder, chat_model)
        if ensure_index:
            assistant.last_index_report = assistant.index(progress=progress)
        return assistant

    def index(self, paths: Sequence | None = None, rebuild: bool = False, progress: bool = True) -> IndexReport:
        """Index ``paths`` (default ``settings.documents``); a no-op when nothing changed."""
        report = build_index(
            paths or self.settings.documents,
            self.store,
            self.embedder,
            ChunkingConfig(max_chars=self.settings.chunk_max_chars),
            rebuild=rebuild,
            progress=progress,
        )
        self.retriever.refresh()
        return report

    def documents(self) -> list[Document]:
        """The indexed documents, sorted by id."""
        return self.store.documents()

    def _focus(self, history: Sequence[str], depth: int = FOCUS_DEPTH) -> Focus | None:
        """Where the answer to the last turn of ``history`` was: that turn is retrieved again
        (an embedding and a search, ~10 ms, only for follow-ups; the history holds user turns
        only), itself in the focus of the turn before when it was a follow-up too."""
        if not history or depth <= 0:
            return None
        previous, earlier = history[-1], history[:-1]
        focus = self._focus(earlier, depth - 1) if is_followup(previous, earlier) else None
        retrieved = self.retriever.search(previous, focus=focus)
        if not retrieved:
            return None
        top = max(retrieved, key=lambda r: r.best.fused)
        return Focus(top.passage.passage_id, top.best.span)

    def ask(self, question: str, history: Sequence[str] = ()) -> Answer:
        """Answer ``question`` from the documents.

        Args:
            question: The user's question (at most ``settings.max_question_chars`` characters).
            history: Earlier user turns of the conversation, oldest first; used to resolve
                follow-ups such as "What did she say?".

        Returns:
            An :class:`Answer`; ``abstained`` is True when the documents do not answer.

        Raises:
            QuestionError: empty or over-long question (the message is a user-facing hint).
            StoreError: the store failed.
        """
        answer = None
        for item in self.ask_stream(question, history):
            answer = item
        return answer

    def ask_stream(self, question: str, history: Sequence[str] = ()) -> Iterator[str | Answer]:
        """Like :meth:`ask`, but yields the generated answer's text chunks (``str``) as the model
        writes them, then the verified :class:`Answer` last. Extractive answers yield only the
        Answer. The final Answer's text replaces the streamed text (it has renumbered markers,
        or is the extractive fallback when the model failed).

        Raises:
            QuestionError, StoreError: as :meth:`ask`, before anything is yielded.
        """
        t0 = time.perf_counter()
        question = clean_question(question, self.settings.max_question_chars)
        history = usable_history(history, self.settings.max_question_chars)
        query, focus, notice = question, None, None
        if self.settings.followups and is_followup(question, history):
            if self.generator is not None:
                from assistant.generative import GenerationFailed

                try:
                    query = clean_question(self.generator.rewrite(question, history), self.settings.max_question_chars)
                except (GenerationFailed, QuestionError) as err:
                    notice = f"{err}; the follow-up was read without the language model."
                    focus = self._focus(history)
            else:
                focus = self._focus(history)
        t1 = time.perf_counter()
        q = self.embedder.embed([query])[0]
        t2 = time.perf_counter()
        retrieved = self.retriever.search(query, q, focus=focus)
        t3 = time.perf_counter()
        selection = self.answerer.select(query, retrieved, self.retriever.vocabulary)
        generator = "extractive"
        flags: tuple = ()
        draft = None
        if self.generator is not None and not self.answerer.refuse_before_generation(selection):
            from assistant.generative import GenerationFailed, verify

            try:
                reply = []
                for chunk in self.generator.stream(self.generator.messages(question, retrieved)):
                    reply.append(chunk)
                    yield chunk
                verified = verify("".join(reply), retrieved, self._support)
                generator, flags = self.generator.name, verified.flags
                if verified.abstained:
                    draft = self.answerer.compose(replace(selection, quotes=(), abstain_reason="the language model found no answer in the passages"))
                else:
                    draft = Draft(verified.text, verified.citations, False, ())
            except GenerationFailed as err:
                notice = f"{err}; showing the quoted sentences instead."
        if draft is None:
            draft = self.answerer.compose(selection)
        t4 = time.perf_counter()
        ms = lambda a, b: (b - a) * 1000.0  # noqa: E731
        timings = {"context": ms(t0, t1), "embed": ms(t1, t2), "retrieve": ms(t2, t3), "answer": ms(t3, t4), "total": ms(t0, t4)}
        yield Answer(
            question=question,
            text=draft.text,
            citations=draft.citations,
            abstained=draft.abstained,
            related=draft.related,
            abstain_reason=draft.abstain_reason,
            generator=generator,
            flags=flags,
            notice=notice,
            timings_ms=timings,
        )


def open_store(settings: Settings) -> ChromaStore:
    """The store the settings point at: a Chroma server if ``chroma_url`` is set, else ``store_path``."""
    if settings.chroma_url:
        return ChromaStore(url=settings.chroma_url)
    return ChromaStore(path=settings.store_path)
