"""Feedback on answers (a thumbs up or down with an optional comment), stored where the index
lives, and exported as a question set for ``assistant eval``.

A :class:`FeedbackRecord` keeps what was asked and what was answered: the question, the earlier
user turns, the answer text and its citations (document, character span, passage text and
highlighted spans, as in ``assistant ask --json``), the verdict and the comment.

Two stores implement :class:`FeedbackStore`:

* :class:`SqliteFeedbackStore`: one SQLite file in the data directory (``feedback.sqlite3``)
  beside the embedded Chroma store (Python's ``sqlite3``, one short transaction per write);
* :class:`ChromaFeedbackStore`: a collection on the Chroma server of ``ASSISTANT_CHROMA_URL``,
  so every replica serving that index writes its feedback to one place.

:func:`open_feedback_store` picks the one that matches the settings, like
:func:`assistant.core.open_store`. :func:`to_question` turns a record into a line of the
question-set format of :mod:`assistant.evaluation`.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from assistant.errors import FeedbackError
from assistant.settings import Settings
from assistant.types import Answer

Verdict = Literal["up", "down"]
VERDICTS: tuple[str, ...] = ("up", "down")

MAX_COMMENT_CHARS = 2000
"""Longest comment kept (characters); a longer one is refused with a message."""

FEEDBACK_FILE = "feedback.sqlite3"
"""Name of the SQLite file of :class:`SqliteFeedbackStore` inside ``Settings.data_dir``."""

FEEDBACK_COLLECTION = "cited-assistant-feedback"
"""Name of the collection of :class:`ChromaFeedbackStore` on a Chroma server (no build uses it)."""


@dataclass
class FeedbackRecord:
    """One rating of one answer.

    Attributes:
        feedback_id: Random id (32 hex characters). created_at: Unix time of the rating (seconds).
        verdict: ``"up"`` (the answer is right) or ``"down"`` (it is wrong or unhelpful).
        comment: What the user wrote, possibly empty (at most :data:`MAX_COMMENT_CHARS` characters).
        question: The question as answered. history: Earlier user turns, oldest first.
        answer: The answer text. abstained: Whether the assistant said the documents do not answer.
        abstain_reason: Why it abstained, if it did.
        citations: The cited passages as in ``assistant ask --json`` (``n``, ``doc_id``, ``start``,
            ``end``, ``text``, ``highlights``: character offsets into the document text).
        generator: ``"extractive"`` or the language model that wrote the answer.
        build_id: The index build that answered, when known. client: ``"chat"``, ``"widget"`` or ``"api"``.
        user: Who rated it (the proxy's user, or ``token:<name>``; None without sign-in).
    """

    verdict: str
    question: str
    answer: str = ""
    history: list[str] = field(default_factory=list)
    comment: str = ""
    abstained: bool = False
    abstain_reason: str | None = None
    citations: list[dict] = field(default_factory=list)
    generator: str = "extractive"
    build_id: str | None = None
    client: str = "api"
    user: str | None = None
    feedback_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created_at: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise FeedbackError(f"The verdict must be 'up' or 'down', not {self.verdict!r}.")
        if len(self.comment) > MAX_COMMENT_CHARS:
            raise FeedbackError(f"The comment is {len(self.comment):,} characters long; please keep it under {MAX_COMMENT_CHARS:,}.")

    @classmethod
    def of_answer(cls, answer: Answer | dict, verdict: str, history: Sequence[str] = (), comment: str = "", **extra) -> FeedbackRecord:
        """A record for ``answer`` rated ``verdict``: an :class:`assistant.Answer`, or its
        ``assistant ask --json`` dict (what ``POST /api/ask`` returns). ``extra``: ``build_id``, ``client``, ``user``.

        Raises:
            FeedbackError: unknown verdict, or a comment over :data:`MAX_COMMENT_CHARS`.
        """
        data = answer.to_dict() if isinstance(answer, Answer) else answer
        return cls(
            verdict=verdict,
            question=data["question"],
            answer=data.get("answer", ""),
            history=list(history),
            comment=comment,
            abstained=bool(data.get("abstained", False)),
            abstain_reason=data.get("abstain_reason"),
            citations=[dict(c) for c in data.get("citations", ())],
            generator=data.get("generator", "extractive"),
            **extra,
        )

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> FeedbackRecord:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


class FeedbackStore(Protocol):
    """Where ratings are kept. ``where`` names it for messages (a path or a URL)."""

    where: str

    def save(self, record: FeedbackRecord) -> None:
        """Store ``record``, replacing the one with the same ``feedback_id`` (a comment added later).

        Raises:
            FeedbackError: the store cannot be written (read-only, locked, unreachable).
        """
        ...

    def records(self) -> list[FeedbackRecord]:
        """Every record, oldest first.

        Raises:
            FeedbackError: the store cannot be read.
        """
        ...


class SqliteFeedbackStore:
    """Ratings in one SQLite file (table ``feedback``: id, created_at, verdict, record as JSON).

    Args:
        path: The database file; its folder is created on the first write.
        timeout: How long a write waits for another process's lock before failing (seconds).
    """

    def __init__(self, path: Path, timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.where = str(self.path)

    def _connect(self, write: bool) -> sqlite3.Connection:
        if write:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise FeedbackError(
                    f"Cannot store feedback in {self.path.parent} ({err.strerror or err}); "
                    "set ASSISTANT_DATA_DIR to a folder you can write to."
                ) from None
        mode = "rwc" if write else "ro"
        con = sqlite3.connect(f"file:{self.path}?mode={mode}", uri=True, timeout=self.timeout)
        if write:
            con.execute(
                "CREATE TABLE IF NOT EXISTS feedback (id TEXT PRIMARY KEY, created_at REAL NOT NULL, verdict TEXT NOT NULL, record TEXT NOT NULL)"
            )
        return con

    def _fail(self, err: sqlite3.Error, doing: str) -> FeedbackError:
        text = str(err)
        if "locked" in text or "busy" in text:
            return FeedbackError(
                f"The feedback database {self.path} is locked by another process (waited {self.timeout:g} s); try again in a moment."
            )
        if "readonly" in text or "unable to open" in text:
            return FeedbackError(
                f"Cannot {doing} feedback in {self.path} ({text}); set ASSISTANT_DATA_DIR to a folder you can write to."
            )
        return FeedbackError(f"Cannot {doing} feedback in {self.path}: {text}.")

    def save(self, record: FeedbackRecord) -> None:
        """See :meth:`FeedbackStore.save`."""
        try:
            con = self._connect(write=True)
            try:
                with con:
                    con.execute(
                        "INSERT OR REPLACE INTO feedback (id, created_at, verdict, record) VALUES (?, ?, ?, ?)",
                        (record.feedback_id, record.created_at, record.verdict, json.dumps(record.to_dict(), ensure_ascii=False)),
                    )
            finally:
                con.close()
        except sqlite3.Error as err:
            raise self._fail(err, "store") from None

    def records(self) -> list[FeedbackRecord]:
        """See :meth:`FeedbackStore.records`; no database file yet means no records."""
        if not self.path.exists():
            return []
        try:
            con = self._connect(write=False)
            try:
                rows = con.execute("SELECT record FROM feedback ORDER BY created_at, id").fetchall()
            finally:
                con.close()
        except sqlite3.Error as err:
            if "no such table" in str(err):
                return []
            raise self._fail(err, "read") from None
        return [FeedbackRecord.from_dict(json.loads(row[0])) for row in rows]


class ChromaFeedbackStore:
    """Ratings in the collection :data:`FEEDBACK_COLLECTION` of a Chroma server.

    Each record is one item: id = ``feedback_id``, document = the record as JSON, metadata
    ``verdict`` and ``created_at``. Chroma needs a vector per item; feedback is never searched,
    so every item gets the same one-dimensional vector ``[1.0]`` (no embedding function is used).

    Args:
        url: ``http://host:port`` of the ``chroma run`` server (``Settings.chroma_url``).
    """

    PAGE = 500
    """Records read per request (count)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.where = url
        self._collection = None

    def _open(self):
        if self._collection is None:
            from index.store import ChromaStore

            try:
                client = ChromaStore(url=self.url).client
                self._collection = client.get_or_create_collection(
                    FEEDBACK_COLLECTION, embedding_function=None, metadata={"kind": "cited-assistant feedback"}
                )
            except Exception as err:  # chromadb raises many types; all mean "cannot reach it"
                raise FeedbackError(f"Cannot reach the feedback collection on {self.url}: {_short(err)}; is the Chroma server running?") from None
        return self._collection

    def save(self, record: FeedbackRecord) -> None:
        """See :meth:`FeedbackStore.save`."""
        col = self._open()
        try:
            col.upsert(
                ids=[record.feedback_id],
                embeddings=[[1.0]],
                documents=[json.dumps(record.to_dict(), ensure_ascii=False)],
                metadatas=[{"verdict": record.verdict, "created_at": record.created_at}],
            )
        except Exception as err:
            raise FeedbackError(f"Cannot store feedback on {self.url}: {_short(err)}; is the Chroma server running?") from None

    def records(self) -> list[FeedbackRecord]:
        """See :meth:`FeedbackStore.records`."""
        col = self._open()
        out: list[FeedbackRecord] = []
        try:
            offset = 0
            while True:
                page = col.get(include=["documents"], limit=self.PAGE, offset=offset)
                out += [FeedbackRecord.from_dict(json.loads(doc)) for doc in page["documents"]]
                if len(page["ids"]) < self.PAGE:
                    break
                offset += self.PAGE
        except Exception as err:
            raise FeedbackError(f"Cannot read feedback from {self.url}: {_short(err)}; is the Chroma server running?") from None
        return sorted(out, key=lambda r: (r.created_at, r.feedback_id))


def open_feedback_store(settings: Settings) -> FeedbackStore:
    """The store that sits with the index: a collection on ``settings.index.chroma_url``'s server, or
    ``data_dir/feedback.sqlite3`` (writes wait up to ``settings.index.store_lock_timeout`` seconds for a lock).
    Nothing is opened until the first save or read."""
    if settings.index.chroma_url:
        return ChromaFeedbackStore(settings.index.chroma_url)
    return SqliteFeedbackStore(settings.index.data_dir / FEEDBACK_FILE, timeout=settings.index.store_lock_timeout)


def _short(err: Exception) -> str:
    return str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__


# -- export as a question set -------------------------------------------------------------
def cited_quotes(record: FeedbackRecord) -> list[str]:
    """The spans the answer cited, as quotes: each citation's highlighted sentences (what the
    answer quoted), or its whole passage when it has no highlights; duplicates dropped, in order."""
    quotes: list[str] = []
    for c in record.citations:
        text, start = c.get("text", ""), c.get("start", 0)
        spans = c.get("highlights") or [[start, start + len(text)]]
        for s, e in spans:
            quote = " ".join(text[s - start : e - start].split())
            if quote and quote not in quotes:
                quotes.append(quote)
    return quotes


def to_question(record: FeedbackRecord) -> dict:
    """One line of the question-set format (see :mod:`assistant.evaluation`) for ``record``.

    ``evidence`` holds the cited spans as candidate expected evidence (none for an abstention,
    which the loader reads as "the documents do not answer"); ``answer`` (the expected phrase)
    is left empty. A reviewer corrects the ``feedback-down`` lines (tagged ``needs-review``)
    before using them as regression tests. The extra fields (``verdict``, ``comment``,
    ``given_answer``, ``abstained``, ``feedback_id``, ``rated_at``) are ignored by the loader.
    """
    tags = ["feedback", f"feedback-{record.verdict}"] + (["needs-review"] if record.verdict == "down" else [])
    return {
        "id": f"fb-{record.feedback_id[:12]}",
        "question": record.question,
        "history": list(record.history),
        "evidence": cited_quotes(record),
        "answer": "",
        "tags": tags,
        "verdict": record.verdict,
        "comment": record.comment,
        "given_answer": record.answer,
        "abstained": record.abstained,
        "feedback_id": record.feedback_id,
        "rated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created_at)),
    }


def export_questions(records: Sequence[FeedbackRecord], verdict: str | None = None, documents: Sequence | None = None) -> list[dict]:
    """:func:`to_question` of each record (only those rated ``verdict`` if given), oldest first.

    With ``documents`` (the indexed :class:`index.types.Document` list), a record whose cited
    text is not found in them (rated before the documents changed, say) is left out, so every
    line is one ``assistant eval`` accepts."""
    from assistant.evaluation import locate

    lines = [to_question(r) for r in records if verdict is None or r.verdict == verdict]
    if documents is None:
        return lines
    return [q for q in lines if all(locate(quote, documents) is not None for quote in q["evidence"])]
