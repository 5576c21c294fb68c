"""The one entry point of indexing that ``assistant index`` (:mod:`ui.cli`) and
:meth:`assistant.Assistant.index` share: which paths to read, and the build with the settings'
eight arguments (chunking, passage embedding, reading, symlinks, access rules, ...).

Importing it loads no retriever, reader or language model: indexing needs none.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.settings import Settings
    from index.chunking import ChunkingConfig
    from index.pipeline import IndexReport


def index_documents(
    settings: Settings, store, embedder, paths: Sequence | None = None, *, chunking: ChunkingConfig | None = None,
    rebuild: bool = False, prune: bool = False, progress: bool = True,
) -> IndexReport:
    """Add or update ``paths`` in ``store``'s index with ``embedder`` (see :func:`index.build_index`).

    Args:
        settings: Where the rest comes from: ``settings.index`` (documents, embed_passages,
            follow_symlinks), :meth:`~assistant.settings.Settings.reading` and
            :meth:`~assistant.settings.Settings.access_rules`.
        paths: Files or folders; None: ``settings.index.documents`` when it was set explicitly or
            the store has no index yet, else only the documents already indexed
            (:func:`index.pipeline.paths_to_index`).
        chunking: How to cut passages; None: :meth:`~assistant.settings.Settings.chunking`.
        rebuild: Embed every document again. prune: Remove documents whose file is gone.
        progress: Show progress bars.

    Returns:
        The :class:`index.pipeline.IndexReport` of the build (indexed, unchanged, skipped files).

    Raises:
        DocumentsError, ModelError, StoreError: see :func:`index.build_index`.
    """
    from index.pipeline import build_index, paths_to_index

    if paths is None:
        paths = paths_to_index(store, settings.index.documents, "documents" in settings.index.model_fields_set)
    return build_index(
        paths, store, embedder, chunking or settings.chunking(), rebuild=rebuild, prune=prune, progress=progress,
        embed_passages=settings.index.embed_passages, reading=settings.reading(),
        follow_links=settings.index.follow_symlinks, access=settings.access_rules(),
    )
