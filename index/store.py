"""The vector store: passages, their sentences and documents in Chroma, one *build* at a time.

A build is three collections named ``{build_id}-passages``, ``{build_id}-sentences`` and
``{build_id}-documents``, all created with cosine space. The passages collection's metadata
records what the build was made with (model, dimension, chunking, document hashes) and a
``complete`` flag that is set only after every record is written. Readers use the newest
complete build, so a crashed or running build never serves half an index; the two newest
complete builds are kept so a process still reading the previous one is not cut off.

Chroma's own embedding function is never used (it would download a model): every call passes
embeddings computed by :mod:`index.embedder`. Telemetry is off.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.errors import StoreError
from index.types import Document, Passage

_KINDS = ("passages", "sentences", "documents")
KEEP_BUILDS = 2
"""Complete builds kept on disk: the active one and the one before (for readers mid-switch)."""


@dataclass(frozen=True)
class BuildInfo:
    """What one build of the index was made from.

    Attributes:
        build_id: Prefix of its collections, ``b<fingerprint[:10]>-<content[:10]>-<time>``.
        fingerprint: Hash of model name, dimension and chunking parameters (see
            :func:`index.pipeline.fingerprint`); a different one means incompatible vectors.
        model: Embedding model name. dimension: Embedding size.
        chunking: Chunking parameters as a dict.
        documents: ``{doc_id: sha256 of the stored text}``.
        built_at: Unix time (seconds) the build completed.
        n_passages: Number of passages.
    """

    build_id: str
    fingerprint: str
    model: str
    dimension: int
    chunking: dict
    documents: dict[str, str]
    built_at: float
    n_passages: int

    def to_metadata(self, complete: bool) -> dict:
        return {
            "fingerprint": self.fingerprint,
            "model": self.model,
            "dimension": self.dimension,
            "chunking": json.dumps(self.chunking, sort_keys=True),
            "documents": json.dumps(self.documents, sort_keys=True),
            "built_at": self.built_at,
            "n_passages": self.n_passages,
            "complete": complete,
        }

    @classmethod
    def from_metadata(cls, build_id: str, meta: dict) -> BuildInfo:
        return cls(
            build_id=build_id,
            fingerprint=meta["fingerprint"],
            model=meta["model"],
            dimension=int(meta["dimension"]),
            chunking=json.loads(meta["chunking"]),
            documents=json.loads(meta["documents"]),
            built_at=float(meta["built_at"]),
            n_passages=int(meta["n_passages"]),
        )


@dataclass
class _Handles:
    passages: object
    sentences: object
    documents: object
    info: BuildInfo
    _cache: dict = field(default_factory=dict)


class ChromaStore:
    """Chroma-backed store of builds (see module docstring).

    Args:
        path: Folder of the embedded ``PersistentClient`` store (created if missing).
        url: ``http://host:port`` of a ``chroma run`` server instead of ``path``.

    Raises:
        StoreError: on any Chroma failure, with a message that says what to do.
    """

    def __init__(self, path: Path | None = None, url: str | None = None) -> None:
        if (path is None) == (url is None):
            raise ValueError("give exactly one of path or url")
        self.path = Path(path) if path else None
        self.url = url
        self._client = None
        self._handles: _Handles | None = None

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
                    self.path.mkdir(parents=True, exist_ok=True)
                    self._client = chromadb.PersistentClient(path=str(self.path), settings=chroma_settings)
            except Exception as err:  # chromadb raises many types; all mean "cannot open"
                raise StoreError(f"Cannot open the vector store at {self.where}: {_short(err)}. {_STORE_HINT}") from None
        return self._client

    @property
    def where(self) -> str:
        return self.url or str(self.path)

    def _call(self, what: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except StoreError:
            raise
        except Exception as err:
            raise StoreError(f"The vector store at {self.where} failed to {what}: {_short(err)}. {_STORE_HINT}") from None

    # -- builds -------------------------------------------------------------------------
    def builds(self) -> list[tuple[BuildInfo, bool]]:
        """All builds found, oldest first, each with its ``complete`` flag."""
        found = []
        for col in self._call("list collections", self.client.list_collections):
            name = col.name if hasattr(col, "name") else str(col)
            if not name.endswith("-passages"):
                continue
            meta = col.metadata if hasattr(col, "metadata") else None
            if meta is None:
                meta = self._call("read a collection", self.client.get_collection, name, embedding_function=None).metadata
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

    def write_build(
        self,
        info: BuildInfo,
        documents: Sequence[Document],
        passages: Sequence[Passage],
        passage_embeddings: np.ndarray,
        sentence_embeddings: np.ndarray,
        document_embeddings: np.ndarray,
        progress=None,
    ) -> BuildInfo:
        """Write a whole build, then mark it complete and prune old builds.

        Args:
            info: Its description (``info.build_id`` must be new).
            documents: The documents; ``document_embeddings`` has one row each.
            passages: The passages; ``passage_embeddings`` has one row each (``[n, dim]``).
            sentence_embeddings: One row per sentence, in passage order then sentence order
                (``[sum(len(p.sentences)), dim]``).
            progress: Optional callable ``progress(n_records_written)``.

        Returns:
            ``info`` (now the active build).
        """
        cfg = {"hnsw": {"space": "cosine"}}
        cols = {
            kind: self._call(
                "create a collection",
                self.client.create_collection,
                f"{info.build_id}-{kind}",
                configuration=cfg,
                metadata=info.to_metadata(complete=False) if kind == "passages" else {"build_id": info.build_id},
                embedding_function=None,
            )
            for kind in _KINDS
        }
        batch = max(1, min(5000, self._call("read the batch size", self.client.get_max_batch_size)))

        def add(col, ids, embs, docs, metas):
            for i in range(0, len(ids), batch):
                self._call(
                    "add records",
                    col.add,
                    ids=ids[i : i + batch],
                    embeddings=embs[i : i + batch],
                    documents=docs[i : i + batch],
                    metadatas=metas[i : i + batch],
                )
                if progress:
                    progress(len(ids[i : i + batch]))

        add(
            cols["passages"],
            [p.passage_id for p in passages],
            passage_embeddings,
            [p.text for p in passages],
            [_passage_meta(p, i) for i, p in enumerate(passages)],
        )
        s_ids, s_docs, s_metas = [], [], []
        for p in passages:
            for j, (s, e) in enumerate(p.sentences):
                s_ids.append(f"{p.passage_id}:{j}")
                s_docs.append(p.text[s - p.start : e - p.start])
                s_metas.append({"passage_id": p.passage_id, "doc_id": p.doc_id, "start": s, "end": e})
        add(cols["sentences"], s_ids, sentence_embeddings, s_docs, s_metas)
        add(
            cols["documents"],
            [d.doc_id for d in documents],
            document_embeddings,
            [d.text for d in documents],
            [{"title": d.title, "source": d.source, "sha256": d.sha256} for d in documents],
        )
        self._call("mark the build complete", cols["passages"].modify, metadata=info.to_metadata(complete=True))
        self.prune()
        return info

    def prune(self, keep: int = KEEP_BUILDS) -> None:
        """Delete incomplete builds older than the newest complete one, and all but ``keep`` complete builds."""
        builds = self.builds()
        complete = [info for info, done in builds if done]
        keep_ids = {info.build_id for info in complete[-keep:]}
        newest_done = complete[-1].built_at if complete else float("inf")
        for info, done in builds:
            stale_partial = not done and info.built_at < newest_done
            if (done and info.build_id not in keep_ids) or stale_partial:
                self.delete_build(info.build_id)

    def delete_build(self, build_id: str) -> None:
        """Delete the three collections of one build (missing ones are ignored)."""
        for kind in _KINDS:
            try:
                self.client.delete_collection(f"{build_id}-{kind}")
            except Exception:
                pass

    # -- reading ------------------------------------------------------------------------
    def open(self, info: BuildInfo | None = None) -> BuildInfo:
        """Open ``info`` (default: the active build) for reading and return it.

        Raises:
            StoreError: there is no complete build.
        """
        info = info or self.active_build()
        if info is None:
            raise StoreError(f"No index in {self.where}; run `assistant index` to build one.")
        if self._handles is None or self._handles.info.build_id != info.build_id:
            get = self.client.get_collection
            cols = [self._call("open a collection", get, f"{info.build_id}-{k}", embedding_function=None) for k in _KINDS]
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

    def query_sentences(self, embedding: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Top-``k`` sentences by cosine similarity: ``[(sentence_id, similarity), ...]``, best first.

        A sentence id is ``"{passage_id}:{index of the sentence in the passage}"``.
        """
        h = self.handles
        res = self._call(
            "query", h.sentences.query, query_embeddings=[np.asarray(embedding, dtype=np.float32)], n_results=k, include=["distances"]
        )
        return [(sid, 1.0 - float(d)) for sid, d in zip(res["ids"][0], res["distances"][0])]

    def passages(self) -> list[Passage]:
        """Every passage of the open build, in document order."""
        h = self.handles
        if "passages" not in h._cache:
            res = self._call("read passages", h.passages.get, include=["documents", "metadatas"])
            items = [_passage_from(pid, text, meta) for pid, text, meta in zip(res["ids"], res["documents"], res["metadatas"])]
            h._cache["passages"] = sorted(items, key=lambda p: (p.doc_id, p.start))
        return h._cache["passages"]

    def documents(self) -> list[Document]:
        """Every document of the open build, sorted by ``doc_id``."""
        h = self.handles
        if "documents" not in h._cache:
            res = self._call("read documents", h.documents.get, include=["documents", "metadatas"])
            docs = [
                Document(doc_id=i, title=m["title"], text=t, source=m["source"], sha256=m["sha256"])
                for i, t, m in zip(res["ids"], res["documents"], res["metadatas"])
            ]
            h._cache["documents"] = sorted(docs, key=lambda d: d.doc_id)
        return h._cache["documents"]

    def sentence_embeddings(self, passages: Sequence[Passage]) -> dict[str, np.ndarray]:
        """Embeddings of the sentences of ``passages``: ``{passage_id: array [n_sentences, dim]}``."""
        ids = [f"{p.passage_id}:{j}" for p in passages for j in range(len(p.sentences))]
        if not ids:
            return {}
        res = self._call("read sentence embeddings", self.handles.sentences.get, ids=ids, include=["embeddings"])
        by_id = dict(zip(res["ids"], np.asarray(res["embeddings"], dtype=np.float32)))
        return {p.passage_id: np.stack([by_id[f"{p.passage_id}:{j}"] for j in range(len(p.sentences))]) for p in passages if p.sentences}

    def query_passages(self, embedding: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Top-``k`` passages by cosine similarity: ``[(passage_id, similarity), ...]``, best first."""
        h = self.handles
        res = self._call(
            "query", h.passages.query, query_embeddings=[np.asarray(embedding, dtype=np.float32)], n_results=k, include=["distances"]
        )
        return [(pid, 1.0 - float(d)) for pid, d in zip(res["ids"][0], res["distances"][0])]

    def passage_embeddings(self, passages: Sequence[Passage]) -> dict[str, np.ndarray]:
        """Embeddings of ``passages``: ``{passage_id: array [dim]}``."""
        ids = [p.passage_id for p in passages]
        if not ids:
            return {}
        res = self._call("read passage embeddings", self.handles.passages.get, ids=ids, include=["embeddings"])
        return dict(zip(res["ids"], np.asarray(res["embeddings"], dtype=np.float32)))


_STORE_HINT = "If another process is writing it, wait and retry; if it is corrupt, delete that folder and run `assistant index`"


def _short(err: Exception) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text[:200]


def _passage_meta(p: Passage, position: int) -> dict:
    return {**p.location(), "sentences": json.dumps([list(s) for s in p.sentences]), "position": position}


def _passage_from(pid: str, text: str, meta: dict) -> Passage:
    return Passage(
        passage_id=pid,
        doc_id=meta["doc_id"],
        text=text,
        start=int(meta["start"]),
        end=int(meta["end"]),
        line_start=int(meta["line_start"]),
        line_end=int(meta["line_end"]),
        sentences=tuple(tuple(s) for s in json.loads(meta["sentences"])),
        title=meta.get("title", ""),
    )
