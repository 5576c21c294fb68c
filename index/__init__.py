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

from typing import TYPE_CHECKING

from index.privacy import keep_offline

keep_offline()

_WHERE = {
    "AssistantError": "index.errors",
    "build_index": "index.pipeline",
    "BuildInfo": "index.records",
    "BuildWriter": "index.store_writer",
    "ChromaStore": "index.store",
    "chunk_document": "index.chunking",
    "ChunkingConfig": "index.chunking",
    "Document": "index.types",
    "DocumentRecord": "index.records",
    "DocumentsError": "index.errors",
    "IndexReport": "index.pipeline",
    "load_all": "index.loader",
    "load_documents": "index.loader",
    "make_embedder": "index.embedder",
    "MODEL_NAME": "index.embedder",
    "ModelError": "index.errors",
    "OnnxEmbedder": "index.embedder",
    "Passage": "index.types",
    "SENTENCE_KINDS": "index.types",
    "SentenceTransformerEmbedder": "index.embedder",
    "Skip": "index.loader",
    "Span": "index.types",
    "split_sentences": "index.chunking",
    "StoreError": "index.errors",
    "StoreReader": "index.store",
    "StoreWriter": "index.store_writer",
    "TableRow": "index.types",
    "TorchBackend": "index.embedder",
    "writer_for": "index.store_writer",
}
"""Public name -> the module defining it, imported on first use: the answer path, which needs
the store and the embedder but no reader, OCR or progress bar, does not pay for them."""

_RENAMED = {
    "NOT_CACHED": ("index.readers.ocr", "NOT_CACHED"),
    "OcrOptions": ("index.readers.ocr", "OcrOptions"),
    "PDFIUM_LOCK": ("index.readers.pdf", "PDFIUM_LOCK"),
    "extract_pdf": ("index.readers.pdf", "extract"),
    "extract_image": ("index.readers.image", "extract_image"),
    "image_frame": ("index.readers.image", "frame"),
}
"""Public name -> (module, name there), also imported on first use: the PDF, image and OCR
readers that :mod:`ui.pdf_view` shows a document's pages with."""

__all__ = sorted([*_WHERE, *_RENAMED])

if TYPE_CHECKING:
    from index.chunking import ChunkingConfig, chunk_document, split_sentences
    from index.embedder import MODEL_NAME, OnnxEmbedder, SentenceTransformerEmbedder, TorchBackend, make_embedder
    from index.errors import AssistantError, DocumentsError, ModelError, StoreError
    from index.loader import Skip, load_all, load_documents
    from index.pipeline import IndexReport, build_index
    from index.records import BuildInfo, DocumentRecord
    from index.store import ChromaStore, StoreReader
    from index.store_writer import BuildWriter, StoreWriter, writer_for
    from index.types import SENTENCE_KINDS, Document, Passage, Span, TableRow


def __getattr__(name: str):
    if name in _WHERE or name in _RENAMED:
        import importlib

        module, attr = _RENAMED.get(name, (_WHERE.get(name), name))
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'index' has no attribute {name!r}")
