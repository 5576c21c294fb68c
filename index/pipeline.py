"""Documents -> passages -> embeddings -> vector store, re-embedding only what changed.

:func:`build_index` adds documents to the index (or updates them), always by writing a new
build that becomes active only once complete (see ``index.store``):

* a document whose stored text has the SHA-256 recorded in the active build is *unchanged*:
  its records and embeddings are copied into the new build, the model is not run;
* a changed document (same ``doc_id``, other hash) gets new passages, replacing the old;
* documents indexed earlier from other paths are kept (copied); those whose source file no
  longer exists are removed only with ``prune=True`` (``assistant index --prune``), and
  reported otherwise;
* when the active build was made with another model, dimension or chunking (its
  fingerprint differs), or ``rebuild=True``, nothing is copied: every document is chunked
  and embedded again (documents whose file is gone are rebuilt from their stored text).

Vectors: every sentence and every passage is embedded (the retriever scores both); with
``embed_passages=False`` a passage's vector is instead the normalised mean of its sentences'
vectors, which halves the model time but loses retrieval quality. A document's vector is the
normalised mean of its passages'.

Access: every document of the build is labelled with the groups that may read it, from the
access file's rules (:mod:`index.access`; without a file, ``everyone``). A build whose only
change is labels copies every document with the new labels (``relabelled``), embedding nothing;
a document that no rule matches is labelled with no group (readable by nobody) and named in
``unreadable``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm.auto import tqdm

from index.chunking import ChunkingConfig, chunk_document
from index.embedder import Embedder
from index.errors import DocumentsError, ModelError, StoreError
from index.records import BuildInfo, DocumentRecord
from index.report import IndexReport, _plural
from index.store import ChromaStore
from index.store_writer import StoreWriter, writer_for
from index.types import Document, Passage

if TYPE_CHECKING:  # imported where a build needs them: answering only reads fingerprint() here
    from index.access import AccessRules
    from index.loader import Skip
    from index.readers import ReadOptions

EMBED_CHUNK_PASSAGES = 256
"""Passages embedded and written per step: bounds memory and makes progress visible."""


def fingerprint(model: str, dimension: int, chunking: ChunkingConfig, embed_passages: bool = True) -> str:
    """Hex SHA-256 of what makes vectors comparable: model (and how it runs), dimension, chunking
    parameters, and how passage vectors are made.

    Two builds with the same fingerprint hold interchangeable vectors; any change to these
    (after paper-qa's index naming) means the index must be rebuilt, never mixed.
    """
    fields = {"model": model, "dimension": dimension, "chunking": chunking.fingerprint_fields()}
    if not embed_passages:
        fields["passage_vectors"] = "mean of sentences"
    payload = json.dumps(fields, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def why_rebuild(active: BuildInfo | None, fp: str, model: str, chunking: ChunkingConfig, documents: list[Document]) -> str | None:
    """Why the active build cannot serve ``documents`` with this model and chunking; None if it can.

    ``documents`` is the full set the build should hold.
    """
    reason = incompatibility(active, fp, model, chunking)
    if reason:
        return reason
    wanted = {d.doc_id: d.sha256 for d in documents}
    if active.documents != wanted:
        return _change_summary(active.documents, wanted)
    return None


def incompatibility(active: BuildInfo | None, fp: str, model: str, chunking: ChunkingConfig) -> str | None:
    """Why vectors of ``active`` cannot be reused with this model and chunking (None if they can)."""
    if active is None:
        return "no index yet"
    if active.model != model:
        return f"the index was built with model {active.model}, now {model}"
    if active.fingerprint != fp:
        changed = {k: v for k, v in chunking.fingerprint_fields().items() if active.chunking.get(k) != v}
        return f"the index was built with other chunking or model dimension ({', '.join(changed) or 'dimension'} changed)"
    return None


def _change_summary(old: dict[str, str], new: dict[str, str]) -> str:
    added = new.keys() - old.keys()
    removed = old.keys() - new.keys()
    changed = {k for k in new.keys() & old.keys() if new[k] != old[k]}
    parts = [f"{len(s)} {label}" for s, label in ((added, "added"), (changed, "changed"), (removed, "removed")) if s]
    return "documents changed: " + ", ".join(parts)


def _check_conflicts(given: Sequence[Document], catalog: dict[str, DocumentRecord]) -> None:
    for doc in given:
        rec = catalog.get(doc.doc_id)
        if rec and rec.source and rec.source != doc.source and Path(rec.source).exists():
            raise DocumentsError(
                f"{doc.source} and the already indexed {rec.source} would both be document '{doc.doc_id}'; "
                "index their common parent folder instead so their ids differ."
            )


def paths_to_index(store: ChromaStore, documents: Sequence[Path], explicit: bool) -> list[Path]:
    """What ``assistant index`` without paths indexes: ``documents`` (the configured files and
    folders) if they were set explicitly or the store has no index yet (the first start, the
    seeds by default); otherwise nothing new, so that :func:`build_index` only re-checks the
    documents already indexed (the seeds are never added to an index a user built with
    ``assistant index PATH``)."""
    if explicit or store.active_build() is None:
        return list(documents)
    return []


def build_index(
    paths: Iterable[Path], store: ChromaStore, embedder: Embedder, chunking: ChunkingConfig = ChunkingConfig(), rebuild: bool = False,
    prune: bool = False, progress: bool = True, embed_passages: bool = True, reading: ReadOptions | None = None,
    follow_links: bool = False, access: AccessRules | None = None,
) -> IndexReport:
    """Add or update the documents under ``paths`` in the store (see the module docstring).

    Args:
        paths: Files or folders of documents (any suffix of :data:`index.readers.READERS`;
            other files are reported in ``skipped``); empty to only re-check
            the documents already indexed (re-embedded if incompatible, pruned with ``prune``).
        store: Where to write. embedder: Model for sentences (and passages). chunking: Chunking
            parameters; ``max_tokens`` is lowered to the embedder's limit.
        rebuild: Re-embed everything even if nothing changed. prune: Remove documents whose file is gone.
        progress: Show tqdm progress bars (rate and ETA) on stderr.
        embed_passages: Run the model on whole passages too (default), instead of averaging sentence vectors.
        reading: How files are read (OCR of scanned pages: on/off, languages, cache); default
            :class:`~index.readers.ReadOptions` (OCR on, English, no cache). With ``progress``,
            OCR shows a bar per file (pages).
        follow_links: Index files that symbolic links in a folder point to outside it (default:
            skipped, each named in ``skipped``).
        access: Who may read each document (:class:`~index.access.AccessRules`; default: everyone).
            Labels that differ from the active build's make a new build that copies the vectors.

    Returns:
        An :class:`IndexReport`; ``rebuilt`` is False when the index already matched.

    Raises:
        DocumentsError: no documents, or two files would get the same id.
        ModelError: model missing or corrupt, or its vectors do not have its dimension.
        StoreError: store failure or locked; IndexBusyError: another indexer is writing;
        ReadOnlyStoreError, DiskFullError: the store cannot be written. The up-to-date check
        takes no lock, so it works on a read-only store and while another indexer runs.
        A build that fails is deleted (nothing incomplete is left behind).
    """
    from index.access import AccessRules

    t0 = time.perf_counter()
    if chunking.max_tokens > embedder.max_tokens:
        chunking = replace(chunking, max_tokens=embedder.max_tokens)
    documents, skipped = _read(list(paths), reading, progress, follow_links)
    read_seconds = time.perf_counter() - t0
    fp = fingerprint(embedder.name, embedder.dimension, chunking, embed_passages)
    access = access or AccessRules()
    if not rebuild:  # decided without the writer lock: a reader, or a read-only store, stops here
        plan = _plan(store, documents, fp, embedder.name, chunking, prune, rebuild, access)
        if plan.reason is None:
            return _up_to_date(plan, t0, skipped, read_seconds)
    writer = writer_for(store)
    with writer.lock():
        plan = _plan(store, documents, fp, embedder.name, chunking, prune, rebuild, access)
        if plan.reason is None:
            return _up_to_date(plan, t0, skipped, read_seconds)
        passages_of = {d.doc_id: chunk_document(d, chunking, embedder.count_tokens) for d in plan.to_embed}
        info = _write_build(writer, _build_info(plan, passages_of, fp, embedder, chunking), plan, embedder, passages_of, embed_passages, progress)
    return IndexReport(
        info, True, plan.reason, time.perf_counter() - t0, added=plan.added, changed=plan.changed, removed=plan.removed,
        unchanged=plan.unchanged, missing=() if prune else plan.missing, embedded_passages=sum(len(ps) for ps in passages_of.values()),
        skipped=tuple(skipped), read_seconds=read_seconds, relabelled=plan.relabelled, unreadable=plan.unreadable,
    )


def _read(paths: list[Path], reading: ReadOptions | None, progress: bool, follow_links: bool) -> tuple[list[Document], list[Skip]]:
    """The documents under ``paths`` and the files skipped with their reasons (none without
    ``paths``: only what is indexed is re-checked); ``reading`` None: the default
    :class:`~index.readers.ReadOptions`; OCR shows its bars with ``progress``. The readers and
    their libraries are imported here, when a build reads files, not by the answer path."""
    if not paths:
        return [], []
    from index.loader import load_all
    from index.readers import ReadOptions

    reading = reading or ReadOptions()
    return load_all(paths, replace(reading, ocr=replace(reading.ocr, progress=progress)), follow_links)


def _build_info(plan: _Plan, passages_of: dict[str, list[Passage]], fp: str, embedder: Embedder, chunking: ChunkingConfig) -> BuildInfo:
    """The record of the build ``plan`` makes: id ``b<fingerprint>-<content hash>-<time>``, documents and counts."""
    n_new = sum(len(ps) for ps in passages_of.values())
    n_copied = sum(max(r.n_passages, 0) for r in plan.to_copy)
    all_docs = {**{r.doc_id: r.sha256 for r in plan.to_copy}, **{d.doc_id: d.sha256 for d in plan.to_embed}}
    content = hashlib.sha256(json.dumps(all_docs, sort_keys=True).encode()).hexdigest()
    return BuildInfo(
        build_id=f"b{fp[:10]}-{content[:10]}-{time.time_ns():x}",
        fingerprint=fp,
        model=embedder.name,
        dimension=embedder.dimension,
        chunking=chunking.fingerprint_fields(),
        documents=all_docs,
        built_at=time.time(),
        n_passages=n_new + n_copied,
    )


def _write_build(
    writer: StoreWriter, info: BuildInfo, plan: _Plan, embedder: Embedder, passages_of: dict[str, list[Passage]], embed_passages: bool, progress: bool
) -> BuildInfo:
    """Write the new build (unchanged documents copied, the rest embedded) and commit it; a
    build that fails is deleted at once (a killed one by the next build)."""
    try:
        build = writer.begin_build(info)  # inside: a failure between its collections leaves none behind
        n_copied = sum(max(r.n_passages, 0) for r in plan.to_copy)
        if plan.to_copy:
            with tqdm(total=n_copied, desc="copy unchanged", unit="passage", disable=not progress or n_copied == 0) as bar:
                build.copy_documents(plan.active, plan.to_copy, progress=bar.update, groups=plan.labels)
        _embed_and_write(build, embedder, plan.to_embed, passages_of, embed_passages, progress, plan.labels)
        return build.commit()
    except BaseException as err:
        writer.delete_build(info.build_id)
        lost = writer.lease_problem() if isinstance(err, StoreError) else None
        if lost is not None:  # another writer took over while this one was stopped: say that
            raise lost from None
        raise


@dataclass(frozen=True)
class _Plan:
    """What a build must do. ``reason`` None: nothing (the active build is up to date)."""

    active: BuildInfo | None
    reason: str | None
    to_embed: list[Document] = field(default_factory=list)
    to_copy: list[DocumentRecord] = field(default_factory=list)
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    labels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    relabelled: tuple[str, ...] = ()
    unreadable: tuple[str, ...] = ()


def _plan(
    store: ChromaStore, documents: list[Document], fp: str, model: str, chunking: ChunkingConfig, prune: bool, rebuild: bool,
    access: AccessRules | None = None,
) -> _Plan:
    """Compare ``documents`` (the ones given) with the active build: what to embed, copy, remove,
    re-label (``access``: the rules labelling every document of the new build; reads only)."""
    from index.access import AccessRules

    access = access or AccessRules()
    active = store.active_build()
    catalog = {r.doc_id: r for r in store.catalog(active)} if active else {}
    _check_conflicts(documents, catalog)
    given = {d.doc_id: d for d in documents}
    others = {i: r for i, r in catalog.items() if i not in given}
    missing = tuple(sorted(i for i, r in others.items() if not Path(r.source).is_file()))
    removed = missing if prune else ()
    kept = [r for i, r in others.items() if i not in removed]
    added = tuple(sorted(i for i in given if i not in catalog))
    changed = tuple(sorted(i for i in given if i in catalog and catalog[i].sha256 != given[i].sha256))
    reason = "--rebuild requested" if rebuild else incompatibility(active, fp, model, chunking)
    if reason:  # nothing can be reused
        to_copy: list[DocumentRecord] = []
        to_embed = documents + store.read_documents(active, [r.doc_id for r in kept]) if active else documents
        relabelled: tuple[str, ...] = ()
    else:
        to_embed = [given[i] for i in sorted(set(added) | set(changed))]
        to_copy = [catalog[i] for i in sorted(given) if i not in added and i not in changed] + kept
        relabelled = tuple(sorted(r.doc_id for r in to_copy if r.groups != access.groups_for(r.doc_id)))
        if not to_embed and not removed and not relabelled:
            nobody = tuple(sorted(i for i, r in catalog.items() if not r.groups))
            return _Plan(active, None, unchanged=tuple(sorted(catalog)), missing=missing, unreadable=nobody)
        final = {**{r.doc_id: r.sha256 for r in to_copy}, **{d.doc_id: d.sha256 for d in to_embed}}
        reason = _change_summary(active.documents, final) if final != active.documents else f"access labels changed for {_plural(len(relabelled), 'document')}"
    labels = {i: access.groups_for(i) for i in [*(r.doc_id for r in to_copy), *(d.doc_id for d in to_embed)]}
    unreadable = tuple(sorted(i for i, g in labels.items() if not g))
    unchanged = tuple(sorted(r.doc_id for r in to_copy))
    return _Plan(active, reason, to_embed, to_copy, added, changed, tuple(removed), unchanged, missing, labels, relabelled, unreadable)


def _up_to_date(plan: _Plan, t0: float, skipped: list[Skip], read_seconds: float) -> IndexReport:
    return IndexReport(
        plan.active, False, "up to date", time.perf_counter() - t0, unchanged=plan.unchanged, missing=plan.missing,
        skipped=tuple(skipped), read_seconds=read_seconds, unreadable=plan.unreadable,
    )


def _embed_and_write(
    writer, embedder: Embedder, documents: list[Document], passages_of: dict[str, list[Passage]], embed_passages: bool, progress: bool,
    groups: dict[str, tuple[str, ...]] | None = None,
) -> None:
    """Embed the documents' passages in steps of :data:`EMBED_CHUNK_PASSAGES`, writing each step."""
    queue = [p for d in documents for p in passages_of[d.doc_id]]
    sums = {d.doc_id: np.zeros(embedder.dimension, dtype=np.float64) for d in documents}
    prepare, load = getattr(embedder, "prepare_documents", None), getattr(embedder, "load", None)
    if queue and prepare is not None:  # before the bar starts: its rate and ETA count embedding, not loading the model
        prepare(sum(len(p.sentences) + embed_passages for p in queue))
    elif queue and load is not None:
        load()
    with tqdm(total=len(queue), desc="embedding", unit="passage", disable=not progress or not queue, smoothing=0.1) as bar:
        for i in range(0, len(queue), EMBED_CHUNK_PASSAGES):
            batch = queue[i : i + EMBED_CHUNK_PASSAGES]
            sentences = [t for p in batch for t in p.unit_texts()]  # a table row with its headers
            texts = sentences + ([p.text for p in batch] if embed_passages else [])
            vectors = embedder.embed_documents(texts)
            if vectors.ndim != 2 or vectors.shape[1] != embedder.dimension:
                raise ModelError(
                    f"The embedding model gave {vectors.shape[-1]}-dimension vectors, not the {embedder.dimension} its "
                    "configuration declares; check the model folder (ASSISTANT_MODEL_PATH)."
                )
            sentence_emb = vectors[: len(sentences)]
            if embed_passages:
                passage_emb = vectors[len(sentences) :]
            else:
                passage_emb = _mean_rows(sentence_emb, [len(p.sentences) for p in batch])
            writer.add_passages(batch, passage_emb, sentence_emb)
            for p, v in zip(batch, passage_emb):
                sums[p.doc_id] += v
            bar.update(len(batch))
    indexed_at = time.time()
    doc_emb = np.stack([_normalise(sums[d.doc_id]) for d in documents]).astype(np.float32) if documents else None
    if documents:
        writer.add_documents(documents, doc_emb, {d.doc_id: len(passages_of[d.doc_id]) for d in documents}, indexed_at, groups)


def _mean_rows(rows: np.ndarray, counts: list[int]) -> np.ndarray:
    """Normalised mean of consecutive groups of ``rows`` (``counts[i]`` rows for group ``i``)."""
    out = np.zeros((len(counts), rows.shape[1]), dtype=np.float32)
    pos = 0
    for i, n in enumerate(counts):
        out[i] = _normalise(rows[pos : pos + n].mean(axis=0)) if n else 0.0
        pos += n
    return out


def _normalise(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v)
    return v / n if n else v
