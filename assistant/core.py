"""The public API: :class:`Assistant` answers a question with cited passages."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from dataclasses import replace

from assistant.answering.abstention import person_named
from assistant.answering.answerers import build_answerers
from assistant.errors import QuestionError, StoreError, UnknownDocumentError
from assistant.retrieval.followup import Focus, is_followup
from assistant.questions import clean_question, usable_history
from assistant.reader_view import ReaderView
from assistant.retrieval.retriever import PassageRetriever
from assistant.settings import Settings
from assistant.types import Answer
from index.embedder import Embedder
from index.errors import IndexBusyError, ReadOnlyStoreError
from assistant.indexing import index_documents
from index.pipeline import IndexReport, fingerprint, incompatibility
from index.records import BuildInfo, DocumentRecord
from index.store import ChromaStore
from index.types import Document
from assistant.tuning import FOCUS_DEPTH

log = logging.getLogger(__name__)


class Assistant:
    """Answers questions from the indexed documents, citing exact spans.

    Build one with :meth:`from_settings`; then call :meth:`ask`. Thread-safe for concurrent
    ``ask`` calls (the model and store are only read).

    It serves one build of the index at a time. Every ``settings.index.check_seconds`` it
    looks for a newer complete build (one written by ``assistant index`` in another process)
    and switches to it between questions, without a restart; a build made with another model
    or chunking is not switched to (a warning is logged), since its vectors would not match.
    """

    def __init__(self, settings: Settings, store: ChromaStore, embedder: Embedder, chat_model=None) -> None:
        """``chat_model``: a LangChain chat model that writes answers (the answerer is then
        :class:`~assistant.answering.generative.GenerativeAnswerer`, see :mod:`assistant.answering.generative`);
        None for quoted answers (:class:`~assistant.answering.answerer.ExtractiveAnswerer`, also
        :attr:`quotes`, the generative answerer's fallback). :meth:`from_settings` builds it
        from ``settings.llm.model``."""
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.chunking = settings.chunking()
        self.retriever = self._make_retriever(store)
        self.quotes, self.answerer = build_answerers(settings, embedder, chat_model)
        self.last_index_report: IndexReport | None = None
        self.index_notice: str | None = None
        self._build: BuildInfo | None = None
        self._checked_at = float("-inf")
        self._switch_lock = threading.Lock()
        self._warned_build: str | None = None

    def _make_retriever(self, store: ChromaStore) -> PassageRetriever:
        s = self.settings
        return PassageRetriever(
            store=store,
            embedder=self.embedder,
            mode=s.ablation.retrieval_mode,
            k=max(s.retrieval.top_k, s.answer.reader_passages) if s.answer.model == "reader" else s.retrieval.top_k,
            candidates=s.retrieval.candidate_sentences,
            bm25_weight=s.retrieval.bm25_weight,
        )

    @classmethod
    def from_settings(cls, settings: Settings | None = None, ensure_index: bool = True, progress: bool = True) -> Assistant:
        """Open the store; with ``ensure_index`` and no index in the store yet (the first start),
        index ``settings.index.documents`` (the seeds by default) first. An existing index is never
        written here: ``assistant index`` updates it, and the running assistant switches to the
        new build (see :meth:`refresh_index`).

        When another ``assistant index`` is building the first index meanwhile and completes
        it, or the store is read-only, that build is served and :attr:`index_notice` says why.

        Without ``ensure_index`` nothing is read until the first question, which raises
        :class:`~index.errors.StoreError` if there is no index, or if it was built with
        another model or chunking (run ``assistant index --rebuild``).

        Raises:
            DocumentsError, ModelError, StoreError: see :func:`index.build_index`.
            LLMConfigError: ``settings.llm.model`` is set and the model cannot be built.
        """
        settings = settings or Settings()
        chat_model = None
        if settings.llm.model:
            from assistant.answering.generative import build_chat_model

            key = settings.llm.api_key.get_secret_value() if settings.llm.api_key else None
            chat_model = build_chat_model(settings.llm.model, settings.llm.base_url, settings.llm.timeout, key)
        store = settings.open_store()
        embedder = settings.make_embedder()
        if hasattr(embedder, "load_query_in_background"):  # the question model loads while the store opens
            embedder.load_query_in_background()
        assistant = cls(settings, store, embedder, chat_model)
        if ensure_index and store.active_build() is None:  # the first start: index the seeds (or settings.index.documents)
            try:
                assistant.last_index_report = assistant.index(settings.index.documents, progress=progress)
            except (IndexBusyError, ReadOnlyStoreError) as err:
                if store.active_build() is None:
                    raise
                assistant.index_notice = f"{err} Answering from the last complete build meanwhile."
                log.info("%s", assistant.index_notice)
        return assistant

    def warm_up(self) -> None:
        """Load the index's build (passages, BM25 indexes, vectors) and the model that embeds
        questions (exporting it on the very first start), so that the first
        question is answered as fast as the next ones.

        Raises:
            ModelError: the model cannot be loaded or exported.
            StoreError: no index, or one built with other settings (run ``assistant index --rebuild``).
        """
        self._current()
        self.embedder.embed_query(["warm up"])
        if self.quotes.reader is not None:
            self.quotes.reader.warm_up()

    @property
    def build(self) -> BuildInfo | None:
        """The build being served (None before the first question or :meth:`index`)."""
        return self._build

    def fingerprint(self) -> str:
        """Fingerprint a build must have for this assistant to query it (see :func:`index.pipeline.fingerprint`)."""
        chunking = replace(self.chunking, max_tokens=min(self.chunking.max_tokens, self.embedder.max_tokens))
        return fingerprint(self.embedder.name, self.embedder.dimension, chunking, self.settings.index.embed_passages)

    def index(self, paths: Sequence | None = None, rebuild: bool = False, prune: bool = False, progress: bool = True) -> IndexReport:
        """Add or update ``paths`` in the index; a no-op when nothing changed. Other documents
        indexed earlier are kept; with ``prune``, those whose file is gone are removed. The new
        build is served from the next question on.

        Without ``paths``: ``settings.index.documents`` if it was set explicitly or the store has no
        index yet (the seeds by default); otherwise only the documents already indexed are
        checked (re-embedded if the model or chunking changed, pruned with ``prune``).

        Raises:
            DocumentsError, ModelError, StoreError: see :func:`index.build_index`.
        """
        report = index_documents(
            self.settings, self.store, self.embedder, paths, chunking=self.chunking, rebuild=rebuild, prune=prune, progress=progress
        )
        self.refresh_index(wait=True)
        return report

    def refresh_index(self, wait: bool = False) -> bool:
        """Switch to the store's newest complete build if it is not the one being served.

        The new build's passages and BM25 index are loaded before the switch, so questions
        asked meanwhile (on other threads) are answered from the previous build.

        Args:
            wait: Wait if another thread is switching already (otherwise return False at once).

        Returns:
            True if it switched.

        Raises:
            StoreError: nothing is served yet and the store has no usable build.
        """
        if not self._switch_lock.acquire(blocking=wait or self._build is None):
            return False
        try:
            serving = self._build is not None
            try:
                info = self.store.active_build()
            except StoreError as err:
                if not serving:
                    raise
                log.warning("cannot check the index for a newer build: %s", err)
                return False
            if info is None:
                if not serving:
                    raise StoreError(f"No index in {self.store.where}; run `assistant index` to build one.")
                return False
            if serving and info.build_id == self._build.build_id:
                return False
            problem = self._incompatibility(info)
            if problem:
                if not serving:
                    raise StoreError(problem)
                if self._warned_build != info.build_id:
                    log.warning("%s; still serving build %s", problem, self._build.build_id)
                    self._warned_build = info.build_id
                return False
            store = self.store.sibling() if serving else self.store
            store.open(info)
            retriever = self._make_retriever(store)
            retriever.refresh()
            self.store, self.retriever, self._build = store, retriever, info
            return True
        finally:
            self._switch_lock.release()

    def _incompatibility(self, info: BuildInfo) -> str | None:
        expected = self.fingerprint()
        if info.fingerprint == expected:
            return None
        reason = incompatibility(info, expected, self.embedder.name, self.chunking) or "its fingerprint differs"
        return (
            f"The index at {self.store.where} cannot be queried with these settings: {reason}. "
            "Run `assistant index --rebuild` with the settings you serve with."
        )

    def _current(self) -> PassageRetriever:
        """The retriever to answer with, after the rate-limited check for a newer build."""
        now = time.monotonic()
        if self._build is None or now - self._checked_at >= self.settings.index.check_seconds:
            self._checked_at = now
            self.refresh_index()
        return self.retriever

    def visible_documents(self, groups: Collection[str] | None) -> frozenset[str] | None:
        """Ids of the documents a reader in ``groups`` may read in the build being served (see
        :mod:`index.access`); None for ``groups=None``, a reader who may read everything
        (``auth_mode`` none, the command line)."""
        retriever = self._current()
        return None if groups is None else frozenset(retriever.visible(frozenset(groups)))

    def documents(self, groups: Collection[str] | None = None) -> list[Document]:
        """The indexed documents of the build being served, with their text, sorted by id; with
        ``groups``, only those a reader in them may read."""
        visible = self.visible_documents(groups)
        docs = self.store.documents()
        return docs if visible is None else [d for d in docs if d.doc_id in visible]

    def catalog(self, groups: Collection[str] | None = None) -> list[DocumentRecord]:
        """The indexed documents of the build being served, without text (id, title, source,
        passages, indexed-at time, groups), sorted by id; with ``groups``, only those a reader in
        them may read."""
        visible = self.visible_documents(groups)
        records = self.store.catalog(self._build)
        return records if visible is None else [r for r in records if r.doc_id in visible]

    def as_reader(self, groups: Collection[str]) -> ReaderView:
        """This assistant as a reader in ``groups`` sees it (``assistant eval --as-group``): its
        ``ask``, ``ask_stream``, ``documents`` and ``catalog`` take those groups; the rest is this
        assistant's."""
        return ReaderView(self, frozenset(groups))

    def counts(self, groups: Collection[str] | None = None) -> tuple[int, int]:
        """``(documents, passages)`` of the build being served (:attr:`build`, which must be set)
        that a reader in ``groups`` may read (None: all); no store call, no switch to a newer build."""
        retriever = self.retriever
        if groups is None:
            return len(self._build.documents), self._build.n_passages
        visible = retriever.visible(frozenset(groups))
        return len(visible), sum(retriever.document_passages(d) for d in visible)

    def _scope(
        self, retriever: PassageRetriever, documents: Sequence[str] | None, groups: Collection[str] | None = None
    ) -> list[str] | None:
        """The document ids a question is limited to (``None``: all), checked against the build
        and, with ``groups``, against what a reader in them may read: a document they may not
        read is treated exactly as one that is not indexed (named as unknown, never listed).

        Raises:
            UnknownDocumentError: an id is not indexed, or not readable by ``groups`` (the message names it).
        """
        visible = None if groups is None else retriever.visible(frozenset(groups))
        readable = retriever.doc_ids if visible is None else frozenset(visible)
        if isinstance(documents, str):
            documents = [documents]
        wanted = list(dict.fromkeys(str(d).strip() for d in documents or () if str(d).strip()))
        if not wanted:
            return None if visible is None else list(visible)
        unknown = [d for d in wanted if d not in readable]
        if unknown:
            raise UnknownDocumentError(unknown, sorted(readable))
        return wanted

    def _focus(
        self, retriever: PassageRetriever, history: Sequence[str], depth: int = FOCUS_DEPTH, scope: list[str] | None = None
    ) -> Focus | None:
        """Where the answer to the last turn of ``history`` was: that turn is retrieved again
        (an embedding and a search, only for follow-ups; the history holds user turns
        only), itself in the focus of the turn before when it was a follow-up too."""
        if not history or depth <= 0:
            return None
        previous, earlier = history[-1], history[:-1]
        focus = self._focus(retriever, earlier, depth - 1, scope) if is_followup(previous, earlier) else None
        retrieved = retriever.search(previous, focus=focus, documents=scope)
        if not retrieved:
            return None
        top = max(retrieved, key=lambda r: r.best.fused)
        person = next((name for turn in reversed(history) if (name := person_named(turn))), ())
        return Focus(top.passage.passage_id, top.best.span, person)

    def ask(
        self, question: str, history: Sequence[str] = (), documents: Sequence[str] | None = None, groups: Collection[str] | None = None
    ) -> Answer:
        """Answer ``question`` from the documents.

        Args:
            question: The user's question (at most ``settings.answer.max_question_chars`` characters).
            history: Earlier user turns of the conversation, oldest first; used to resolve
                follow-ups such as "What did she say?".
            documents: Answer only from these documents (ids as in ``Citation.passage.doc_id``
                and ``assistant docs``); None or empty: from all of them.
            groups: The asker's groups: only documents readable by one of them are searched, for
                the question and its history, and the others are treated as if they did not exist
                (:mod:`index.access`); None: every document (no access control).

        Returns:
            An :class:`Answer`; ``abstained`` is True when the documents do not answer.

        Raises:
            QuestionError: empty or over-long question (the message is a user-facing hint).
            UnknownDocumentError: ``documents`` names an id that is not indexed (a QuestionError).
            StoreError: the store failed, has no index, or one built with other settings.
        """
        answer = None
        for item in self.ask_stream(question, history, documents, groups):
            answer = item
        return answer

    def ask_stream(
        self, question: str, history: Sequence[str] = (), documents: Sequence[str] | None = None, groups: Collection[str] | None = None
    ) -> Iterator[str | Answer]:
        """Like :meth:`ask`, but yields the generated answer's text chunks (``str``) as the model
        writes them, then the verified :class:`Answer` last. Extractive answers yield only the
        Answer. The final Answer's text replaces the streamed text (it has renumbered markers,
        or is the extractive fallback when the model failed).

        Raises:
            QuestionError, UnknownDocumentError, StoreError: as :meth:`ask`, before anything is yielded.
        """
        t0 = time.perf_counter()
        question = clean_question(question, self.settings.answer.max_question_chars)
        history = usable_history(history, self.settings.answer.max_history_turn_chars, self.settings.answer.max_history_chars)
        retriever = self._current()
        scope = self._scope(retriever, documents, groups)
        query, focus, notice = question, None, None
        if self.settings.ablation.followups and is_followup(question, history):
            rewritten, notice = self.answerer.rewrite(question, history)
            try:
                query = clean_question(rewritten, self.settings.answer.max_question_chars) if rewritten else question
            except QuestionError as err:
                rewritten, notice = None, f"{err}; the follow-up was read without the language model."
            if not rewritten:
                focus = self._focus(retriever, history, scope=scope)
        t1 = time.perf_counter()
        q = self.embedder.embed_query([query])[0]
        t2 = time.perf_counter()
        retrieved = retriever.search(query, q, focus=focus, documents=scope)
        t3 = time.perf_counter()
        reply = None
        for item in self.answerer.reply(query, retrieved, retriever.scoped(scope), history):
            if isinstance(item, str):
                yield item
            else:
                reply = item
        draft, notice = reply.draft, reply.notice or notice
        if draft.abstained and not draft.citations:
            from assistant.answering.language import english_only  # the detector loads only for such questions

            if other := english_only(question):  # "do not answer" would mislead: say it reads English
                draft = replace(draft, text=other[1], abstain_reason=other[0], abstain_detail=None, related=())
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
            abstain_detail=draft.abstain_detail,
            answerable_probability=draft.answerable_probability,
            generator=reply.generator,
            flags=reply.flags,
            notice=notice,
            timings_ms=timings,
        )
