"""Indexing: documents -> cleaned text -> passages -> embeddings -> Chroma vector store.

Files are read by :mod:`index.readers` (one module per format: text, Markdown, HTML, PDF,
DOCX; :func:`load_all` returns the documents and the skipped files with their reasons).

Public API: :func:`build_index` (the ingest path: documents -> passages -> embeddings -> a new
build -> switch), :class:`ChromaStore` (reading; :func:`writer_for` its writer), :func:`make_embedder` (:class:`TorchBackend`,
:class:`SentenceTransformerEmbedder`, :class:`OnnxEmbedder`),
:class:`ChunkingConfig`, the types :class:`Document`, :class:`Passage` (with its sentences'
kinds, :data:`SENTENCE_KINDS`, decided at ingest by :mod:`index.structure`) and
:class:`TableRow`, and the errors.
Nothing here imports ``assistant`` or ``ui``. Importing it turns every library's telemetry off
(:mod:`index.privacy`), before any of them is imported.
"""

from index.privacy import keep_offline

keep_offline()

from index.chunking import ChunkingConfig, chunk_document, split_sentences
from index.embedder import MODEL_NAME, OnnxEmbedder, SentenceTransformerEmbedder, TorchBackend, make_embedder
from index.errors import AssistantError, DocumentsError, ModelError, StoreError
from index.loader import Skip, load_all, load_documents
from index.pipeline import IndexReport, build_index
from index.records import BuildInfo, DocumentRecord
from index.store import ChromaStore, StoreReader
from index.store_writer import BuildWriter, StoreWriter, writer_for
from index.types import SENTENCE_KINDS, Document, Passage, Span, TableRow

__all__ = [
    "AssistantError",
    "BuildInfo",
    "BuildWriter",
    "ChromaStore",
    "ChunkingConfig",
    "Document",
    "DocumentRecord",
    "DocumentsError",
    "IndexReport",
    "MODEL_NAME",
    "ModelError",
    "OnnxEmbedder",
    "Passage",
    "SENTENCE_KINDS",
    "SentenceTransformerEmbedder",
    "Skip",
    "Span",
    "StoreError",
    "StoreReader",
    "StoreWriter",
    "TableRow",
    "TorchBackend",
    "build_index",
    "chunk_document",
    "load_all",
    "load_documents",
    "make_embedder",
    "split_sentences",
    "writer_for",
]

_LAZY = {
    "NOT_CACHED": ("index.readers.ocr", "NOT_CACHED"),
    "OcrOptions": ("index.readers.ocr", "OcrOptions"),
    "PDFIUM_LOCK": ("index.readers.pdf", "PDFIUM_LOCK"),
    "extract_pdf": ("index.readers.pdf", "extract"),
    "extract_image": ("index.readers.image", "extract_image"),
    "image_frame": ("index.readers.image", "frame"),
}
"""Public name -> (module, name there), imported on first use (the PDF, image and OCR readers'
libraries load only when needed; :mod:`ui.pdf_view` shows a document's pages with them)."""

__all__ += sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'index' has no attribute {name!r}")
