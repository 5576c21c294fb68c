"""The vector store: passages, their sentences and documents in Chroma, one *build* at a time.

A build is three collections named ``{build_id}-passages``, ``{build_id}-sentences`` and
``{build_id}-documents``, all created with cosine space. The passages collection's metadata
records what the build was made with (model, dimension, chunking, document hashes) and a
``complete`` flag that is set only after every record is written. Readers use the newest
complete build, so a crashed or running build never serves half an index; the two newest
complete builds are kept so a process still reading the previous one is not cut off.

This module is the *reading* side (:class:`ChromaStore`, the :class:`StoreReader` that
answering uses). Writing is :mod:`index.store_writer`: a build is written by a ``BuildWriter``
(documents that did not change are *copied* from the previous build with their embeddings,
no model call; changed and new ones are added; ``commit`` flips the flag), and only one
writer works on a store at a time (a file lock for the embedded store, a lease record in the
server for a Chroma server). Readers never take it.

An embedded store on a read-only file system (a mounted volume, a read-only replica) is
copied to the temporary folder once per index version (shared by the processes reading it,
see :func:`index.locks.read_only_copy`) and read from there (Chroma cannot open a store it may
not write); it answers questions, and writing it fails with one line.

Records:

* ``-passages``: id = passage id, document = passage text, metadata = location (with
  ``page_start``/``page_end``/``section`` when it has them), sentence spans, position; embedding = the passage's vector (see ``index.pipeline``).
* ``-sentences``: id = ``"{passage_id}:{j}"``, no document (the text is the passage's
  ``[start:end]``), metadata ``passage_id``, ``doc_id``, ``start``, ``end``; embedding = the
  sentence's vector (what dense retrieval queries).
* ``-documents``: id = doc id, document = stored text, metadata ``title``, ``source``,
  ``sha256``, ``n_passages``, ``indexed_at`` (Unix seconds when its passages were embedded;
  kept when copied), ``groups`` (JSON list of the groups that may read it, :mod:`index.access`;
  rewritten when a build re-labels it), ``format`` (its reader) and ``locators`` (JSON: pages, headings, blocks); embedding = mean of its passages' vectors.

Chroma's own embedding function is never used (it would download a model): every call passes
embeddings computed by :mod:`index.embedder`. Telemetry is off.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from index.errors import StoreError
from index.locks import explain, read_only_copy, writable
from index.records import BuildInfo, DocumentRecord, document_from, groups_from, passage_from
from index.types import Document, Passage

_KINDS = ("passages", "sentences", "documents")
KEEP_BUILDS = 2
"""Complete builds kept on disk: the active one and the one before (for readers mid-switch)."""


@dataclass
class _Handles:
    passages: object
    sentences: object
    documents: object
    info: BuildInfo
    _cache: dict = field(default_factory=dict)


VECTOR_PAGE = 5000
"""Embeddings per request when a replica reads a build's vectors (count; 5,000 x 384 floats is
about 20 MB of JSON from a Chroma server)."""


@runtime_checkable
class StoreReader(Protocol):
    """What answering reads from a store: one build at a time (see :class:`ChromaStore`)."""

    @property
    def where(self) -> str:
        """The store's folder or server URL, for messages."""
        ...

    def active_build(self) -> BuildInfo | None:
        """The newest complete build, or None."""
        ...

    def open(self, info: BuildInfo | None = None) -> BuildInfo:
        """Open ``info`` (default: the active build) for reading."""
        ...

    def sibling(self) -> StoreReader:
        """A new reader on the same connection, with nothing opened."""
        ...

    def passages(self) -> list[Passage]:
        """Every passage of the open build, in document order."""
        ...

    def documents(self) -> list[Document]:
        """Every document of the open build, sorted by id."""
        ...

    def catalog(self, info: BuildInfo | None = None) -> list[DocumentRecord]:
        """The documents of a build without their text, sorted by id."""
        ...

    def vectors(self, kind: str) -> Iterator[tuple[list[str], np.ndarray]]:
        """Every embedding of the open build's sentences or passages, in pages of ``(ids, [n, dim])``."""
        ...

    def nearest_sentences(self, embedding: np.ndarray, k: int, doc_ids: Sequence[str] | None = None) -> list[str]:
        """Ids of the ``k`` sentences nearest to ``embedding`` (``[dim]``), best first; one round trip."""
        ...


class ChromaStore:
    """Chroma-backed store of builds (see module docstring); the reading side, and the
    connection :mod:`index.store_writer` writes through.

    Args:
        path: Folder of the embedded ``PersistentClient`` store (created if missing).
        url: ``http://host:port`` of a ``chroma run`` server instead of ``path``.
        lock_timeout: Embedded store only: how long to wait for another process's lock on
            the store's SQLite file before giving up (seconds).
        lease_seconds: Server store only: how long the writer lease lasts without renewal
            (seconds; see :class:`~index.locks.ServerLease`).

    Attributes:
        read_only: The embedded store's folder is read-only; it is read from a temporary copy.

    Raises:
        StoreError: on any Chroma failure, with a message that says what to do
        (:class:`~index.errors.DiskFullError` and :class:`~index.errors.ReadOnlyStoreError` say so).
    """

    def __init__(self, path: Path | None = None, url: str | None = None, lock_timeout: float = 10.0, lease_seconds: float = 60.0) -> None:
        if (path is None) == (url is None):
            raise ValueError("give exactly one of path or url")
        self.path = Path(path) if path else None
        self.url = url
        self.lock_timeout = lock_timeout
        self.lease_seconds = lease_seconds
        self.read_only = False
        self._client = None
        self._handles: _Handles | None = None

    def sibling(self) -> ChromaStore:
        """A new store object on the same client, with nothing opened (to read another build
        while this one keeps serving)."""
        other = ChromaStore(path=self.path, url=self.url, lock_timeout=self.lock_timeout, lease_seconds=self.lease_seconds)
        other._client, other.read_only = self._client, self.read_only
        return other

    # -- connection ---------------------------------------------------------------------
    @property
    def client(self):
        if self._client is None:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            chroma_settings = ChromaSettings(anonymized_telemetry=False)
            try:
                if self.url:
                    from urllib.parse import urlparse

                    u = urlparse(self.url)
                    self._client = chromadb.HttpClient(
                        host=u.hostname or "localhost", port=u.port or 8000, ssl=u.scheme == "https", settings=chroma_settings
                    )
                else:
                    folder = self._local_folder()
                    self._probe_sqlite(folder)
                    self._client = chromadb.PersistentClient(path=str(folder), settings=chroma_settings)
            except StoreError:
                raise
            except Exception as err:  # chromadb raises many types; all mean "cannot open"
                raise explain(err, self.where, self.path, "open") from None
        return self._client

    def _local_folder(self) -> Path:
        """The folder to open: the store folder (created if missing), or a temporary copy of it
        when it is on a read-only file system."""
        if self.path.is_dir() and (self.path / "chroma.sqlite3").is_file() and not writable(self.path):
            self.read_only = True
            return read_only_copy(self.path)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreError(
                f"Cannot create the store folder {self.path} ({err.strerror or err}); "
                "set ASSISTANT_DATA_DIR to a folder you can write to."
            ) from None
        return self.path

    def _probe_sqlite(self, folder: Path) -> None:
        """Fail fast, with a clear message, on a locked or corrupt embedded store.

        Chroma waits without end for a SQLite lock held by another process, and reports a
        corrupt file deep inside; this takes (and drops) a write lock with ``lock_timeout``.
        """
        db = folder / "chroma.sqlite3"
        if not db.exists():
            return
        if db.stat().st_size == 0:  # Chroma would silently start a new, empty store over it
            raise StoreError(
                f"The vector store at {self.path} is damaged ({db.name} is empty); "
                "delete that folder and run `assistant index`, or restore it from a backup."
            )
        try:
            con = sqlite3.connect(f"file:{db}?mode=rw", uri=True, timeout=self.lock_timeout)
            try:
                con.execute("BEGIN IMMEDIATE")
                con.execute("SELECT count(*) FROM sqlite_master").fetchone()
                con.rollback()
            finally:
                con.close()
        except sqlite3.OperationalError as err:
            if "locked" in str(err) or "busy" in str(err):
                raise StoreError(
                    f"The vector store at {self.path} is locked by another process (waited {self.lock_timeout:g} s); "
                    "wait for it to finish or stop it, then retry."
                ) from None
            raise explain(err, str(self.path), self.path, "open") from None
        except sqlite3.DatabaseError as err:
            raise StoreError(
                f"The vector store at {self.path} is corrupt ({err}); delete that folder and run `assistant index`."
            ) from None

    @property
    def where(self) -> str:
        return self.url or str(self.path)

    def call(self, what: str, fn, *args, **kwargs):
        """``fn(*args, **kwargs)`` (a Chroma call), any failure raised as a :class:`StoreError`
        that says what was being done (``what``) and what to do next."""
        try:
            return fn(*args, **kwargs)
        except StoreError:
            raise
        except Exception as err:
            raise explain(err, self.where, self.path, what) from None

    # -- builds -------------------------------------------------------------------------
    def builds(self) -> list[tuple[BuildInfo, bool]]:
        """All builds found, oldest first, each with its ``complete`` flag."""
        found = []
        for col in self.call("list collections", self.client.list_collections):
            name = col.name if hasattr(col, "name") else str(col)
            if not name.endswith("-passages"):
                continue
            meta = col.metadata if hasattr(col, "metadata") else None
            if meta is None:
                meta = self.call("read a collection", self.client.get_collection, name, embedding_function=None).metadata
            try:
                info = BuildInfo.from_metadata(name.removesuffix("-passages"), meta or {})
            except (KeyError, ValueError, TypeError):
                continue  # not one of ours
            found.append((info, bool(meta.get("complete"))))
        return sorted(found, key=lambda pair: pair[0].built_at)

    def active_build(self) -> BuildInfo | None:
        """The newest complete build, or None if there is none."""
        complete = [info for info, done in self.builds() if done]
        return complete[-1] if complete else None

    def collection(self, build_id: str, kind: str):
        """The Chroma collection ``{build_id}-{kind}`` (kind: passages, sentences, documents)."""
        return self.call("open a collection", self.client.get_collection, f"{build_id}-{kind}", embedding_function=None)

    def catalog(self, info: BuildInfo | None = None) -> list[DocumentRecord]:
        """The documents of ``info`` (default: the active build) without their text, sorted by id.

        Raises:
            StoreError: there is no complete build.
        """
        if info is None and self.path is not None and not (self.path / "chroma.sqlite3").exists():
            raise StoreError(f"No index in {self.where}; run `assistant index` to build one.")  # and create no folder
        info = info or self.active_build()
        if info is None:
            raise StoreError(f"No index in {self.where}; run `assistant index` to build one.")
        res = self.call("read documents", self.collection(info.build_id, "documents").get, include=["metadatas"])
        records = [
            DocumentRecord(
                doc_id=i,
                title=m.get("title", ""),
                source=m.get("source", ""),
                sha256=m.get("sha256", ""),
                n_passages=int(m.get("n_passages", -1)),
                indexed_at=float(m.get("indexed_at", info.built_at)),
                groups=groups_from(m),
            )
            for i, m in zip(res["ids"], res["metadatas"])
        ]
        return sorted(records, key=lambda r: r.doc_id)

    def read_documents(self, info: BuildInfo, doc_ids: Sequence[str]) -> list[Document]:
        """Documents ``doc_ids`` of build ``info``, with their stored text, in the order given."""
        if not doc_ids:
            return []
        res = self.call("read documents", self.collection(info.build_id, "documents").get, ids=list(doc_ids), include=["documents", "metadatas"])
        found = {i: document_from(i, t, m) for i, t, m in zip(res["ids"], res["documents"], res["metadatas"])}
        return [found[i] for i in doc_ids if i in found]

    # -- reading ------------------------------------------------------------------------
    def open(self, info: BuildInfo | None = None) -> BuildInfo:
        """Open ``info`` for reading and return it; without ``info``, the build already open, or
        else the active build. A store object reads one build until it is opened with another,
        so a newer build appearing mid-conversation never mixes with the one being read
        (``Assistant`` switches by opening a :meth:`sibling`).

        Raises:
            StoreError: there is no complete build.
        """
        if info is None and self._handles is not None:
            return self._handles.info
        info = info or self.active_build()
        if info is None:
            raise StoreError(f"No index in {self.where}; run `assistant index` to build one.")
        if self._handles is None or self._handles.info.build_id != info.build_id:
            get = self.client.get_collection
            cols = [self.call("open a collection", get, f"{info.build_id}-{k}", embedding_function=None) for k in _KINDS]
            space = (cols[0].configuration or {}).get("hnsw", {}) or {}
            if space.get("space") != "cosine":
                raise StoreError(
                    f"Collection {info.build_id}-passages uses {space.get('space')!r} distance, not cosine; "
                    "rebuild with `assistant index --rebuild`."
                )
            self._handles = _Handles(*cols, info=info)
        return info

    @property
    def handles(self) -> _Handles:
        if self._handles is None:
            self.open()
        return self._handles

    def passages(self) -> list[Passage]:
        """Every passage of the open build, in document order."""
        h = self.handles
        if "passages" not in h._cache:
            res = self.call("read passages", h.passages.get, include=["documents", "metadatas"])
            items = [passage_from(pid, text, meta) for pid, text, meta in zip(res["ids"], res["documents"], res["metadatas"])]
            h._cache["passages"] = sorted(items, key=lambda p: (p.doc_id, p.start))
        return h._cache["passages"]

    def documents(self) -> list[Document]:
        """Every document of the open build, sorted by ``doc_id``."""
        h = self.handles
        if "documents" not in h._cache:
            res = self.call("read documents", h.documents.get, include=["documents", "metadatas"])
            docs = [document_from(i, t, m) for i, t, m in zip(res["ids"], res["documents"], res["metadatas"])]
            h._cache["documents"] = sorted(docs, key=lambda d: d.doc_id)
        return h._cache["documents"]

    def nearest_sentences(self, embedding: np.ndarray, k: int, doc_ids: Sequence[str] | None = None) -> list[str]:
        """Ids of the ``k`` sentences of the open build nearest to ``embedding`` (``[dim]``, unit
        norm) by cosine, best first: Chroma's HNSW search, one query (the only store round trip
        of a warm question, see :class:`assistant.retrieval.retriever.PassageRetriever`).

        A sentence id is ``"{passage_id}:{index of the sentence in the passage}"``. ``doc_ids``:
        search only these documents (a filter inside Chroma's search, so up to ``k`` of theirs
        come back, not fewer); None searches all.
        """
        where = None
        if doc_ids is not None:
            ids = list(doc_ids)
            where = {"doc_id": {"$in": ids}} if len(ids) > 1 else {"doc_id": ids[0]}
        res = self.call(
            "search sentences", self.handles.sentences.query,
            query_embeddings=[np.asarray(embedding, dtype=np.float32)], n_results=k, where=where, include=[],
        )
        return list(res["ids"][0])

    def vectors(self, kind: str, page: int = VECTOR_PAGE) -> Iterator[tuple[list[str], np.ndarray]]:
        """Every embedding of the open build's ``kind`` (``"sentences"`` or ``"passages"``), page
        by page: ``(ids, float32 array [len(ids), dim])`` per request of ``page`` vectors (a
        Chroma server sends them as JSON), so a reader can copy each into place and hold one
        page at a time. A replica reads them once per build (see
        :class:`assistant.retrieval.retriever.PassageRetriever`)."""
        collection = {"sentences": self.handles.sentences, "passages": self.handles.passages}[kind]
        offset = 0
        while True:
            res = self.call(f"read {kind} embeddings", collection.get, include=["embeddings"], limit=page, offset=offset)
            if not res["ids"]:
                return
            offset += len(res["ids"])
            yield list(res["ids"]), np.asarray(res["embeddings"], dtype=np.float32)
            if len(res["ids"]) < page:
                return
