"""How the store keeps each record: the build and document records, and the conversion of
passages and documents to Chroma metadata and back (Chroma metadata values are scalars,
never None: absent locators are left out, lists are JSON strings).

The record layout is described in :mod:`index.store`; :mod:`index.store` reads these records
and :mod:`index.store_writer` writes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from index.types import SENTENCE_KINDS, Document, Passage, TableRow


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


@dataclass(frozen=True)
class DocumentRecord:
    """One indexed document as ``assistant docs`` lists it (no text).

    Attributes:
        doc_id, title, source: See :class:`~index.types.Document`.
        sha256: Hex SHA-256 of the stored text.
        n_passages: Its passages in the build.
        indexed_at: Unix time (seconds) its passages were embedded; unchanged documents keep
            it across re-indexing.
        groups: Who may read it (group names, see :mod:`index.access`); ``()``: nobody
            (no access rule matched, or a build written before access labels existed).
    """

    doc_id: str
    title: str
    source: str
    sha256: str
    n_passages: int
    indexed_at: float
    groups: tuple[str, ...] = ()


def passage_meta(p: Passage, position: int) -> dict:
    # Chroma metadata values are scalars and never None: absent locators are left out.
    location = {k: v for k, v in p.location().items() if v is not None}
    return {
        **location,
        "sentences": json.dumps([list(s) for s in p.sentences]),
        "kinds": json.dumps(list(p.kinds)),
        "cells": json.dumps([[list(c) for c in row] for row in p.cells]),
        "position": position,
    }


def document_meta(d: Document, n_passages: int, indexed_at: float) -> dict:
    """A document record's metadata; its locators (pages, headings, blocks) as one JSON string."""
    return {
        "title": d.title,
        "source": d.source,
        "sha256": d.sha256,
        "n_passages": n_passages,
        "indexed_at": indexed_at,
        "format": d.format,
        "locators": json.dumps(d.locators()),
    }


def groups_from(meta: dict) -> tuple[str, ...]:
    """The ``groups`` label of a document record's metadata (a JSON list; absent: ``()``, nobody)."""
    try:
        groups = json.loads(meta.get("groups") or "[]")
    except ValueError:
        return ()
    return tuple(str(g) for g in groups) if isinstance(groups, list) else ()


def document_from(doc_id: str, text: str, meta: dict) -> Document:
    """The :class:`Document` of a record (records written before locators existed have none)."""
    loc = json.loads(meta.get("locators") or "{}")
    return Document(
        doc_id=doc_id,
        title=meta["title"],
        text=text,
        source=meta["source"],
        sha256=meta["sha256"],
        format=meta.get("format", "text"),
        pages=tuple(tuple(p) for p in loc.get("pages", ())),
        headings=tuple((int(o), str(h)) for o, h in loc.get("headings", ())),
        blocks=tuple(tuple(b) for b in loc.get("blocks", ())),
        rows=tuple(TableRow.from_json(r) for r in loc.get("rows", ())),
        marks=tuple((int(s), int(e), str(k)) for s, e, k in loc.get("marks", ())),
        title_span=tuple(loc["title_span"]) if loc.get("title_span") else None,
    )


def passage_from(pid: str, text: str, meta: dict) -> Passage:
    """The :class:`Passage` of a record; records written before sentence kinds existed (no
    ``kinds``/``cells``, or ones that do not match the sentences) read as all ``"text"``
    without cells."""
    sentences = tuple(tuple(s) for s in json.loads(meta["sentences"]))
    kinds = tuple(json.loads(meta.get("kinds") or "[]"))
    cells = tuple(tuple((str(h), str(t)) for h, t in row) for row in json.loads(meta.get("cells") or "[]"))
    if len(kinds) != len(sentences) or not set(kinds) <= set(SENTENCE_KINDS):
        kinds = ()
    if len(cells) != len(sentences):
        cells = ()
    return Passage(
        passage_id=pid,
        doc_id=meta["doc_id"],
        text=text,
        start=int(meta["start"]),
        end=int(meta["end"]),
        line_start=int(meta["line_start"]),
        line_end=int(meta["line_end"]),
        sentences=sentences,
        title=meta.get("title", ""),
        page_start=_int_or_none(meta.get("page_start")),
        page_end=_int_or_none(meta.get("page_end")),
        section=meta.get("section"),
        kinds=kinds,
        cells=cells,
    )


def _int_or_none(value) -> int | None:
    return None if value is None else int(value)
