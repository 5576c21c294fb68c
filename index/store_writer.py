"""The writing side of the store: one writer at a time builds a new build, then switches to it.

Only ``assistant index`` (:func:`index.pipeline.build_index`) writes; answering reads through
:class:`~index.store.ChromaStore` and never takes a lock. The writer lock differs by backend,
so there is one :class:`StoreWriter` per backend:

* :class:`EmbeddedWriter`: an exclusive ``flock`` on ``index.lock`` in the store folder,
  released by the OS if the process dies; a read-only folder refuses at once.
* :class:`ServerWriter`: a lease record in the Chroma server (:class:`~index.locks.ServerLease`),
  renewed while held; :meth:`BuildWriter.commit` checks it is still held, so a writer frozen
  past its lease never flips a build over another's.

:func:`writer_for` picks the one for a store. A build is written by a :class:`BuildWriter`
(see the module docstring of :mod:`index.store` for the records).
"""

from __future__ import annotations

import json

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Protocol

import numpy as np

from index.errors import ReadOnlyStoreError, StoreError
from index.locks import ServerLease, file_lock, writable
from index.records import BuildInfo, DocumentRecord, document_meta, passage_meta
from index.store import _KINDS, KEEP_BUILDS, ChromaStore
from index.types import Document, Passage


class StoreWriter(Protocol):
    """What :func:`index.pipeline.build_index` needs to write a store."""

    store: ChromaStore

    def lock(self):
        """Context manager holding the store's writer lock (raises IndexBusyError, ReadOnlyStoreError)."""
        ...

    def lease_problem(self) -> StoreError | None:
        """The error to raise if the lock was lost while held (a server lease that expired), else None."""
        ...

    def begin_build(self, info: BuildInfo) -> BuildWriter:
        """Create the collections of a new build; readers ignore it until :meth:`BuildWriter.commit`."""
        ...

    def delete_build(self, build_id: str) -> None:
        """Delete the collections of one build (missing ones are ignored)."""
        ...

    def prune(self, keep: int = KEEP_BUILDS) -> None:
        """Delete stale incomplete builds and all but ``keep`` complete ones."""
        ...


class _ChromaWriter:
    """Build lifecycle shared by both backends; subclasses provide :meth:`lock`."""

    def __init__(self, store: ChromaStore) -> None:
        self.store = store

    def lease_problem(self) -> StoreError | None:
        return None

    def check_lease(self) -> None:
        """Raise if the writer lock was lost (only a server lease can be)."""

    def begin_build(self, info: BuildInfo) -> BuildWriter:
        return BuildWriter(self, info)

    def delete_build(self, build_id: str) -> None:
        for kind in _KINDS:
            try:
                self.store.client.delete_collection(f"{build_id}-{kind}")
            except Exception:
                pass

    def prune(self, keep: int = KEEP_BUILDS) -> None:
        """Delete every incomplete build (called under the writer lock, after this writer's build
        is complete, so an incomplete one is a dead writer's) and all but ``keep`` complete builds."""
        builds = self.store.builds()
        complete = [info for info, done in builds if done]
        keep_ids = {info.build_id for info in complete[-keep:]}
        for info, done in builds:
            if not done or info.build_id not in keep_ids:
                self.delete_build(info.build_id)


class EmbeddedWriter(_ChromaWriter):
    """Writes the embedded store at ``store.path`` under a file lock.

    Deleting a collection leaves its HNSW segment folder on disk in Chroma's embedded store
    (benchmarks/RESULTS.md: what ten rebuilds left), so
    :meth:`delete_build` removes the build's segment folders itself, first (which also frees
    the space a full disk needs to record the deletion), and :meth:`prune` sweeps any segment
    folder no collection owns."""

    def _segment_ids(self, names: Sequence[str] | None = None) -> set[str]:
        """Ids of the segments of the collections ``names`` (None: of every collection), read
        from ``chroma.sqlite3`` (a read-only connection; empty if it cannot be read)."""
        import sqlite3

        db = self.store.path / "chroma.sqlite3"
        try:
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
            try:
                if names is None:
                    rows = con.execute("SELECT id FROM segments").fetchall()
                else:
                    marks = ",".join("?" * len(names))
                    rows = con.execute(
                        f"SELECT s.id FROM segments s JOIN collections c ON s.collection = c.id WHERE c.name IN ({marks})", list(names)
                    ).fetchall()
            finally:
                con.close()
        except sqlite3.Error:
            return set()
        return {str(r[0]) for r in rows}

    def delete_build(self, build_id: str) -> None:
        import shutil

        for segment in self._segment_ids([f"{build_id}-{kind}" for kind in _KINDS]):
            shutil.rmtree(self.store.path / segment, ignore_errors=True)
        super().delete_build(build_id)

    def prune(self, keep: int = KEEP_BUILDS) -> None:
        import re
        import shutil

        super().prune(keep)
        owned = self._segment_ids()
        if not owned:
            return  # unreadable: never guess
        uuid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
        for folder in self.store.path.iterdir():
            if folder.is_dir() and uuid.match(folder.name) and folder.name not in owned:
                shutil.rmtree(folder, ignore_errors=True)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold ``index.lock`` in the store folder (an exclusive ``flock``) while building.

        Raises:
            IndexBusyError: another process holds it.
            ReadOnlyStoreError: the store is on a read-only file system.
        """
        path = self.store.path
        if self.store.read_only or (path.is_dir() and not writable(path)):
            raise ReadOnlyStoreError(
                f"The vector store at {path} is on a read-only file system: `assistant index` needs a writable "
                "ASSISTANT_DATA_DIR (questions can still be answered from it)."
            )
        with file_lock(path / "index.lock", path):
            yield


class ServerWriter(_ChromaWriter):
    """Writes a Chroma server's store under the server's writer lease."""

    def __init__(self, store: ChromaStore) -> None:
        super().__init__(store)
        self._lease: ServerLease | None = None

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the server's writer lease (``store.lease_seconds``, renewed while held).

        Raises:
            IndexBusyError: another process holds the lease.
        """
        with ServerLease(self.store.client, self.store.where, self.store.lease_seconds) as lease:
            self._lease = lease
            try:
                yield
            finally:
                self._lease = None

    def lease_problem(self) -> StoreError | None:
        if self._lease is None:
            return None
        try:
            self._lease.check()
        except StoreError as err:
            return err
        return None

    def check_lease(self) -> None:
        if self._lease is not None:
            self._lease.check()


def writer_for(store: ChromaStore) -> StoreWriter:
    """The writer of ``store``'s backend: :class:`ServerWriter` for a Chroma server, else :class:`EmbeddedWriter`."""
    return ServerWriter(store) if store.url else EmbeddedWriter(store)


class BuildWriter:
    """Writes one build of the index; see :meth:`StoreWriter.begin_build`.

    Call :meth:`copy_documents`, :meth:`add_passages` and :meth:`add_documents` in any order,
    then :meth:`commit`. If the process dies before ``commit``, the partial build is never
    read and the next successful build deletes it.
    """

    def __init__(self, writer: _ChromaWriter, info: BuildInfo) -> None:
        self.writer = writer
        self.store = store = writer.store
        self.info = info
        self.cols = {
            kind: store.call(
                "create a collection",
                store.client.create_collection,
                f"{info.build_id}-{kind}",
                configuration={"hnsw": {"space": "cosine"}},
                metadata=info.to_metadata(complete=False) if kind == "passages" else {"build_id": info.build_id},
                embedding_function=None,
            )
            for kind in _KINDS
        }
        self.batch = max(1, min(5000, store.call("read the batch size", store.client.get_max_batch_size)))

    def _add(self, kind: str, ids: list, embeddings, documents, metadatas) -> None:
        col = self.cols[kind]
        for i in range(0, len(ids), self.batch):
            part = slice(i, i + self.batch)
            self.store.call(
                "add records",
                col.add,
                ids=ids[part],
                embeddings=embeddings[part],
                documents=documents[part] if documents is not None else None,
                metadatas=metadatas[part],
            )

    def add_passages(self, passages: Sequence[Passage], passage_embeddings: np.ndarray, sentence_embeddings: np.ndarray) -> None:
        """Write passages and their sentences.

        Args:
            passages: The passages (of any documents, any order).
            passage_embeddings: ``[len(passages), dim]``, one row per passage.
            sentence_embeddings: ``[sum(len(p.sentences)), dim]``, in passage order then sentence order.
        """
        self._add(
            "passages",
            [p.passage_id for p in passages],
            passage_embeddings,
            [p.text for p in passages],
            [passage_meta(p, i) for i, p in enumerate(passages)],
        )
        s_ids, s_metas = [], []
        for p in passages:
            for j, (s, e) in enumerate(p.sentences):
                s_ids.append(f"{p.passage_id}:{j}")
                s_metas.append({"passage_id": p.passage_id, "doc_id": p.doc_id, "start": s, "end": e})
        self._add("sentences", s_ids, sentence_embeddings, None, s_metas)

    def add_documents(
        self, documents: Sequence[Document], embeddings: np.ndarray, n_passages: dict[str, int], indexed_at: float,
        groups: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        """Write document records (``embeddings``: ``[len(documents), dim]``); ``indexed_at`` in Unix
        seconds; ``groups``: doc id -> the groups that may read it (:mod:`index.access`; missing: nobody)."""
        metas = [document_meta(d, n_passages.get(d.doc_id, 0), indexed_at) for d in documents]
        if groups is not None:
            for d, meta in zip(documents, metas):
                meta["groups"] = json.dumps(list(groups.get(d.doc_id, ())))
        self._add("documents", [d.doc_id for d in documents], embeddings, [d.text for d in documents], metas)

    def copy_documents(
        self, source: BuildInfo, records: Sequence[DocumentRecord], progress=None, chunk_passages: int = 2000,
        groups: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        """Copy documents, with their passages, sentences and embeddings, from build ``source``.

        Args:
            source: A complete build with the same fingerprint.
            records: The documents to copy (from :meth:`ChromaStore.catalog` of ``source``).
            progress: Optional ``progress(n_passages_copied)`` callback.
            chunk_passages: Read about this many passages per round trip.
            groups: doc id -> the groups that may read it, written over the copied label (a
                re-labelling copies the vectors and changes only this); None keeps the labels.
        """
        cols = {kind: self.store.collection(source.build_id, kind) for kind in _KINDS}
        chunk: list[DocumentRecord] = []
        for i, rec in enumerate(records):
            chunk.append(rec)
            if sum(max(r.n_passages, 1) for r in chunk) >= chunk_passages or i == len(records) - 1:
                self._copy_chunk(cols, [r.doc_id for r in chunk], groups)
                if progress:
                    progress(sum(r.n_passages for r in chunk))
                chunk = []

    def _copy_chunk(self, cols: dict, ids: list[str], groups: dict[str, tuple[str, ...]] | None = None) -> None:
        where = {"doc_id": {"$in": ids}} if len(ids) > 1 else {"doc_id": ids[0]}
        for kind in ("passages", "sentences"):
            include = ["embeddings", "metadatas"] + (["documents"] if kind == "passages" else [])
            res = self.store.call("read records to copy", cols[kind].get, where=where, include=include)
            if res["ids"]:
                docs = res.get("documents") if kind == "passages" else None
                self._add(kind, res["ids"], res["embeddings"], docs, res["metadatas"])
        res = self.store.call("read records to copy", cols["documents"].get, ids=ids, include=["embeddings", "documents", "metadatas"])
        metas = res["metadatas"]
        if groups is not None:
            metas = [{**m, "groups": json.dumps(list(groups.get(i, ())))} for i, m in zip(res["ids"], metas)]
        self._add("documents", res["ids"], res["embeddings"], res["documents"], metas)

    def commit(self) -> BuildInfo:
        """Mark the build complete (it becomes the active build), prune old builds, return its info."""
        self.writer.check_lease()  # a writer frozen past its lease must not flip a build over another's
        self.info = replace(self.info, built_at=time.time())
        self.store.call("mark the build complete", self.cols["passages"].modify, metadata=self.info.to_metadata(complete=True))
        self.writer.prune()
        return self.info
