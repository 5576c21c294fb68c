"""Documents -> passages -> embeddings -> vector store, rebuilding only when needed."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from index.chunking import ChunkingConfig, chunk_document
from index.embedder import Embedder
from index.loader import load_documents
from index.store import BuildInfo, ChromaStore
from index.types import Document, Passage


def fingerprint(model: str, dimension: int, chunking: ChunkingConfig) -> str:
    """Hex SHA-256 of what makes vectors comparable: model name, dimension, chunking parameters.

    Two builds with the same fingerprint hold interchangeable vectors; any change to these
    (after paper-qa's index naming) means the index must be rebuilt, never mixed.
    """
    payload = json.dumps({"model": model, "dimension": dimension, "chunking": chunking.fingerprint_fields()}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class IndexReport:
    """Outcome of :func:`build_index`.

    Attributes:
        build: The build now active. rebuilt: Whether a new build was written.
        reason: One line on why it was (or was not) rebuilt.
        seconds: Wall time of the call, in seconds.
    """

    build: BuildInfo
    rebuilt: bool
    reason: str
    seconds: float

    def describe(self) -> str:
        """One line for people, e.g. ``index up to date: 1 document, 39 passages in 0.0 s``."""
        n = len(self.build.documents)
        state = f"built ({self.reason})" if self.rebuilt else "up to date"
        return f"index {state}: {n} document{'' if n == 1 else 's'}, {self.build.n_passages} passages in {self.seconds:.1f} s"


def why_rebuild(active: BuildInfo | None, fp: str, model: str, chunking: ChunkingConfig, documents: list[Document]) -> str | None:
    """Why the active build cannot serve ``documents`` with this model and chunking; None if it can."""
    if active is None:
        return "no index yet"
    if active.model != model:
        return f"the index was built with model {active.model}, now {model}"
    if active.fingerprint != fp:
        changed = {k: v for k, v in chunking.fingerprint_fields().items() if active.chunking.get(k) != v}
        return f"the index was built with other chunking or model dimension ({', '.join(changed) or 'dimension'} changed)"
    wanted = {d.doc_id: d.sha256 for d in documents}
    if active.documents != wanted:
        added = wanted.keys() - active.documents.keys()
        removed = active.documents.keys() - wanted.keys()
        changed = {k for k in wanted.keys() & active.documents.keys() if wanted[k] != active.documents[k]}
        parts = [f"{len(s)} {label}" for s, label in ((added, "added"), (changed, "changed"), (removed, "removed")) if s]
        return "documents changed: " + ", ".join(parts)
    return None


def build_index(
    paths: Iterable[Path],
    store: ChromaStore,
    embedder: Embedder,
    chunking: ChunkingConfig = ChunkingConfig(),
    rebuild: bool = False,
    progress: bool = True,
) -> IndexReport:
    """Make the store's active build match the documents under ``paths``.

    Loads and cleans the documents, and if the active build was made from the same documents
    (by SHA-256), model and chunking, does nothing else. Otherwise it chunks, embeds passages
    and their sentences, and writes a new build that becomes active only once complete.

    Args:
        paths: Files or folders of ``.txt``/``.md`` documents.
        store: Where to write. embedder: Model for passages and sentences.
        chunking: Chunking parameters. rebuild: Build even if nothing changed.
        progress: Show tqdm progress bars (on stderr) for each stage.

    Raises:
        DocumentsError: no documents. ModelError: model missing or corrupt. StoreError: store failure.
    """
    t0 = time.perf_counter()
    documents = load_documents(paths)
    fp = fingerprint(embedder.name, embedder.dimension, chunking)
    active = store.active_build()
    reason = "--rebuild requested" if rebuild else why_rebuild(active, fp, embedder.name, chunking, documents)
    if reason is None:
        return IndexReport(active, False, "up to date", time.perf_counter() - t0)

    passages: list[Passage] = []
    for doc in tqdm(documents, desc="passages", unit="doc", disable=not progress):
        passages.extend(chunk_document(doc, chunking))
    sentences = [s for p in passages for s in p.sentence_texts()]
    with tqdm(total=len(passages) + len(sentences), desc="embeddings", unit="text", disable=not progress) as bar:
        passage_emb = _embed(embedder, [p.text for p in passages], bar)
        sentence_emb = _embed(embedder, sentences, bar)
    doc_emb = _document_embeddings(documents, passages, passage_emb)

    content = hashlib.sha256(json.dumps({d.doc_id: d.sha256 for d in documents}, sort_keys=True).encode()).hexdigest()
    info = BuildInfo(
        build_id=f"b{fp[:10]}-{content[:10]}-{time.time_ns():x}",
        fingerprint=fp,
        model=embedder.name,
        dimension=embedder.dimension,
        chunking=chunking.fingerprint_fields(),
        documents={d.doc_id: d.sha256 for d in documents},
        built_at=time.time(),
        n_passages=len(passages),
    )
    total = len(passages) + len(sentences) + len(documents)
    with tqdm(total=total, desc="vector store", unit="rec", disable=not progress) as bar:
        store.write_build(info, documents, passages, passage_emb, sentence_emb, doc_emb, progress=bar.update)
    return IndexReport(info, True, reason, time.perf_counter() - t0)


def _embed(embedder: Embedder, texts: list[str], bar, batch: int = 64) -> np.ndarray:
    parts = []
    for i in range(0, len(texts), batch):
        parts.append(embedder.embed(texts[i : i + batch]))
        bar.update(len(texts[i : i + batch]))
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dimension), dtype=np.float32)


def _document_embeddings(documents: list[Document], passages: list[Passage], passage_emb: np.ndarray) -> np.ndarray:
    """One vector per document: the normalised mean of its passages' embeddings."""
    rows_of: dict[str, list[int]] = {}
    for i, p in enumerate(passages):
        rows_of.setdefault(p.doc_id, []).append(i)
    rows = []
    for doc in documents:
        idx = rows_of.get(doc.doc_id, [])
        v = passage_emb[idx].mean(axis=0) if idx else np.zeros(passage_emb.shape[1], dtype=np.float32)
        n = np.linalg.norm(v)
        rows.append(v / n if n else v)
    return np.stack(rows).astype(np.float32)
